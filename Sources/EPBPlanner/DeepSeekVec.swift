/// The `deepseek-vec` peer: SGLang's `deepseek_vec`.
///
/// Source: sgl-project/sglang, `python/sglang/srt/eplb/eplb_algorithms/deepseek_vec.py`
/// (`make_redundant_experts_chunkwise`, `prefill_rebalance_experts`,
/// `decode_rebalance_experts`). It keeps the per-step loads `[T][experts]` and, one added
/// replica at a time in every chunk (a node under the hierarchical policy, the cluster under
/// the global one), gives it to the expert that most lowers Σ_t max_j score[t][j], where
/// score = (load + 1e-4 · mlog index) / count (the 1e-4 term only breaks ties); the candidate
/// expert's score in a step becomes load / (count + 1). Then the chunk's slots are sorted by
/// window load per replica, heaviest first, and dealt to the chunk's GPUs in a zig-zag
/// (`Peers.dealSnake`); with one slot per GPU the slots keep their order (the identity, then
/// the added replicas in pick order), as there. The hierarchical form packs the groups onto the
/// nodes first (`pack_groups`, the same greedy as EPLB's).
///
/// Deviations: the steps are the window's block sums (`blocks`, at most 64; SGLang hands it
/// every forward pass of its buffer): exact when the window has at most 64 steps. The objective
/// is accumulated in `Double` (torch sums `float32`), scores and the zig-zag's sort keys are
/// `Float` as there; the zig-zag sort is stable (torch's `argsort` is not), which matters only
/// for replicas of different experts with equal load per replica. Ties in the objective go to
/// the lowest mlog index (torch's `argmin`). Like eplb.py it may put two copies of one expert on
/// a GPU.
///
/// Complexity per chunk: O(T · experts) for each step's first four experts by score, then per
/// added replica O(experts + T), plus O(experts) for a step whose list of known leaders fell
/// below two (see `placeNode`): at most once per two picks that fell out of its list.
public enum DeepSeekVec {
  /// Block sums of the window it plans on (see `PlacementAlgorithm.scenarioBlocks`).
  public static let blocks = 64

  /// One chunk: `x` `[samples][n]` (per-step loads, sample-major, `Float`), `slots` a multiple of
  /// `gpus`, at least `n`; `indexBase`: the mlog index of local expert 0 (for the tie term).
  /// - returns: local `phy2log` `[slots]`, slot `s` on GPU `s / (slots / gpus)`.
  static func placeNode(_ x: [Float], samples t: Int, slots: Int, gpus: Int, indexBase: Int) -> [Int] {
    let n = x.count / t
    var chunk = VecChunk(x, samples: t, slots: slots, indexBase: indexBase)
    if slots > n {
      for s in 0..<t { chunk.rebuild(s) }
    }
    var gain = [Double](repeating: 0, count: n)
    for _ in n..<slots { chunk.addReplica(gain: &gain) }
    let per = slots / gpus
    if per <= 1 { return chunk.phy }
    // Zig-zag: slots by window load per replica, heaviest first (stable), dealt in a snake.
    var total = [Double](repeating: 0, count: n)
    for s in 0..<t { for j in 0..<n { total[j] += Double(x[s * n + j]) } }
    let phy = chunk.phy, count = chunk.count
    let key = phy.map { Float(total[$0]) / Float(count[$0]) }
    let order = (0..<slots).sorted { key[$0] > key[$1] || (key[$0] == key[$1] && $0 < $1) }
    return Peers.dealSnake(order.map { phy[$0] }, gpus: gpus)
  }
}

/// `DeepSeekVec.placeNode`'s state for one chunk of `n` experts over `t` steps: the replica
/// counts, the slots so far, and per step its first experts by score.
///
/// Per step s, `list[s · width ..< s · width + known[s]]`: the step's first `known[s]` experts
/// by score, exactly (higher first, lower index on ties; `listScore` their scores). A pick only
/// lowers the picked expert's scores: if it is in the list it leaves it and comes back in its
/// new place when it still beats the list's last entry; otherwise the list is one shorter but
/// still exact (the others' scores did not change). When fewer than two are known, the step is
/// scanned again (`rebuild`). The step's top and runner-up are the first two entries.
private struct VecChunk {
  /// `[t][n]`, the per-step loads, sample-major.
  let x: [Float]
  let t: Int, n: Int
  /// `[n]`, the tie term: `1e-4 · mlog index`.
  let tie: [Float]
  /// `[n]`, replicas per expert.
  var count: [Int]
  /// The local `phy2log` so far: the identity, then the added replicas in pick order.
  var phy: [Int]
  /// Experts listed per step (`min(n, 4)`), and the fewest before a rescan (`min(n, 2)`).
  let width: Int, needed: Int
  /// `[t][width]`, `[t][width]` and `[t]`: see the type's discussion.
  var list: [Int]
  var listScore: [Float]
  var known: [Int]

  init(_ x: [Float], samples t: Int, slots: Int, indexBase: Int) {
    let n = x.count / t
    (self.x, self.t, self.n) = (x, t, n)
    count = [Int](repeating: 1, count: n)
    phy = Array(0..<n)
    phy.reserveCapacity(slots)
    tie = (0..<n).map { Float(indexBase + $0) * Float(1e-4) }
    width = min(n, 4)
    needed = min(n, 2)
    list = [Int](repeating: 0, count: t * width)
    listScore = [Float](repeating: 0, count: t * width)
    known = [Int](repeating: 0, count: t)
  }

  /// The first `width` experts of step `s` by their current scores (a division only for
  /// experts with more than one replica: dividing by 1 is exact), kept in four registers.
  mutating func rebuild(_ s: Int) {
    let n = n
    var e0 = -1, e1 = -1, e2 = -1, e3 = -1
    var v0 = -Float.infinity, v1 = -Float.infinity, v2 = -Float.infinity, v3 = -Float.infinity
    x.withUnsafeBufferPointer { xs in
      tie.withUnsafeBufferPointer { ts in
        count.withUnsafeBufferPointer { cs in
          let row = xs.baseAddress! + s * n
          for j in 0..<n {
            let c = cs[j]
            let v = c == 1 ? row[j] + ts[j] : (row[j] + ts[j]) / Float(c)
            // Strictly greater: j comes after listed experts of equal score (lower indices).
            if !(v > v3) { continue }
            if v > v1 {
              (e3, v3) = (e2, v2)
              (e2, v2) = (e1, v1)
              if v > v0 {
                (e1, v1) = (e0, v0)
                (e0, v0) = (j, v)
              } else {
                (e1, v1) = (j, v)
              }
            } else if v > v2 {
              (e3, v3) = (e2, v2)
              (e2, v2) = (j, v)
            } else {
              (e3, v3) = (j, v)
            }
          }
        }
      }
    }
    let base = s * width
    list[base] = e0
    listScore[base] = v0
    if width > 1 { (list[base + 1], listScore[base + 1]) = (e1, v1) }
    if width > 2 { (list[base + 2], listScore[base + 2]) = (e2, v2) }
    if width > 3 { (list[base + 3], listScore[base + 3]) = (e3, v3) }
    known[s] = width
  }

  /// Step `s` after expert `p`'s count rose: see the list's invariant in the type's discussion.
  mutating func update(_ s: Int, _ p: Int) {
    let base = s * width
    var i = 0
    while i < known[s] && list[base + i] != p { i += 1 }
    if i == known[s] { return }
    let v = (x[s * n + p] + tie[p]) / Float(count[p])
    // Remove p, then walk it down to its place among the rest.
    var len = known[s] - 1
    while i < len {
      list[base + i] = list[base + i + 1]
      listScore[base + i] = listScore[base + i + 1]
      i += 1
    }
    if len > 0 && (v > listScore[base + len - 1] || (v == listScore[base + len - 1] && p < list[base + len - 1])) {
      var k = len
      while k > 0 && (v > listScore[base + k - 1] || (v == listScore[base + k - 1] && p < list[base + k - 1])) {
        list[base + k] = list[base + k - 1]
        listScore[base + k] = listScore[base + k - 1]
        k -= 1
      }
      list[base + k] = p
      listScore[base + k] = v
      len += 1
    }
    known[s] = len
    if len < needed { rebuild(s) }
  }

  /// Adds one replica, to the expert that most lowers Σ_t max_j score[t][j] (the lowest index on
  /// ties). `gain`: `[n]` of working memory.
  mutating func addReplica(gain: inout [Double]) {
    // Σ_t values[t][j] = Σ_t m1[t] − gain[j], gain[j] = Σ over steps whose top is j of
    // (m1 − max(load / (count + 1), the best other score)).
    for j in 0..<n { gain[j] = 0 }
    for s in 0..<t {
      let a = list[s * width]
      let lowered = x[s * n + a] / Float(count[a] + 1)
      let other = needed > 1 ? listScore[s * width + 1] : -Float.infinity
      gain[a] += Double(listScore[s * width]) - Double(max(lowered, other))
    }
    var pick = 0
    for j in 1..<n where gain[j] > gain[pick] { pick = j }
    phy.append(pick)
    count[pick] += 1
    for s in 0..<t { update(s, pick) }
  }
}
