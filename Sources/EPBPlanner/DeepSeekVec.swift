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
/// Complexity per chunk: O(T · experts) for each step's first eight experts by score (four steps
/// at a time in SIMD lanes), then per added replica O(experts + T), plus O(experts) for a step
/// whose list of known leaders fell below two (see `VecChunk`): at most once per seven picks
/// that fell out of its list.
public enum DeepSeekVec {
  /// Block sums of the window it plans on (see `PlacementAlgorithm.scenarioBlocks`).
  public static let blocks = 64

  /// One chunk: `x` `[samples][n]` (per-step loads, sample-major, `Float`), `slots` a multiple of
  /// `gpus`, at least `n`; `indexBase`: the mlog index of local expert 0 (for the tie term).
  /// - returns: local `phy2log` `[slots]`, slot `s` on GPU `s / (slots / gpus)`.
  static func placeNode(_ x: [Float], samples t: Int, slots: Int, gpus: Int, indexBase: Int) -> [Int] {
    let n = x.count / t
    var chunk = VecChunk(x, samples: t, slots: slots, indexBase: indexBase)
    if slots > n { chunk.buildAll() }
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
/// lowers the picked expert's scores: if it is in the list it moves down to its new place, or
/// leaves the list when every other listed expert now comes before it; the list is then one
/// shorter but still exact (the others' scores did not change). When fewer than two are known,
/// the step is scanned again (`rebuild`). The step's top and runner-up are the first two
/// entries.
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
  /// Experts listed per step (`min(n, 8)`), and the fewest before a rescan (`min(n, 2)`).
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
    width = min(n, 8)
    needed = min(n, 2)
    list = [Int](repeating: 0, count: t * width)
    listScore = [Float](repeating: 0, count: t * width)
    known = [Int](repeating: 0, count: t)
  }

  /// Every step's list before the first pick, while every count is 1 (score = load + tie, as
  /// `rebuild` computes it). With eight entries, four steps at a time in SIMD lanes, one step
  /// each, by the same insertion as `rebuild` without branches; the steps past a multiple of
  /// four, and narrower lists, by `rebuild`. The eight entries are written out, not looped over:
  /// as a loop over a stack buffer they leave the registers, and `EPBBench peers` took 10.1 /
  /// 14.6 / 10.7 ms instead of 7.4 / 10.7 / 9.6 (2026-12-07).
  mutating func buildAll() {
    var s0 = 0
    if width == 8 {
      let n = n, t = t
      x.withUnsafeBufferPointer { xs in
        tie.withUnsafeBufferPointer { ts in
          list.withUnsafeMutableBufferPointer { ls in
            listScore.withUnsafeMutableBufferPointer { vs in
              while s0 + 4 <= t {
                let rows = xs.baseAddress! + s0 * n
                var v0 = SIMD4<Float>(repeating: -.infinity), v1 = v0, v2 = v0, v3 = v0
                var v4 = v0, v5 = v0, v6 = v0, v7 = v0
                var e0 = SIMD4<Int32>(repeating: -1), e1 = e0, e2 = e0, e3 = e0
                var e4 = e0, e5 = e0, e6 = e0, e7 = e0
                for j in 0..<n {
                  let v = SIMD4(rows[j], rows[n + j], rows[2 * n + j], rows[3 * n + j]) + SIMD4(repeating: ts[j])
                  let e = SIMD4<Int32>(repeating: Int32(j))
                  // Strictly greater: j goes after listed experts of equal score (lower indices).
                  let c7 = v .> v7
                  if !any(c7) { continue }
                  let c0 = v .> v0, c1 = v .> v1, c2 = v .> v2, c3 = v .> v3
                  let c4 = v .> v4, c5 = v .> v5, c6 = v .> v6
                  // c0 implies c1 … implies c7 (v0 ≥ … ≥ v7): v goes in at the first true
                  // one and those below it move down one; bottom up, so each reads the entry
                  // above it before that one changes.
                  v7.replace(with: v, where: c7)
                  v7.replace(with: v6, where: c6)
                  e7.replace(with: e, where: c7)
                  e7.replace(with: e6, where: c6)
                  v6.replace(with: v, where: c6)
                  v6.replace(with: v5, where: c5)
                  e6.replace(with: e, where: c6)
                  e6.replace(with: e5, where: c5)
                  v5.replace(with: v, where: c5)
                  v5.replace(with: v4, where: c4)
                  e5.replace(with: e, where: c5)
                  e5.replace(with: e4, where: c4)
                  v4.replace(with: v, where: c4)
                  v4.replace(with: v3, where: c3)
                  e4.replace(with: e, where: c4)
                  e4.replace(with: e3, where: c3)
                  v3.replace(with: v, where: c3)
                  v3.replace(with: v2, where: c2)
                  e3.replace(with: e, where: c3)
                  e3.replace(with: e2, where: c2)
                  v2.replace(with: v, where: c2)
                  v2.replace(with: v1, where: c1)
                  e2.replace(with: e, where: c2)
                  e2.replace(with: e1, where: c1)
                  v1.replace(with: v, where: c1)
                  v1.replace(with: v0, where: c0)
                  e1.replace(with: e, where: c1)
                  e1.replace(with: e0, where: c0)
                  v0.replace(with: v, where: c0)
                  e0.replace(with: e, where: c0)
                }
                for l in 0..<4 {
                  let entries = ls.baseAddress! + (s0 + l) * 8, scores = vs.baseAddress! + (s0 + l) * 8
                  (entries[0], entries[1], entries[2], entries[3]) = (Int(e0[l]), Int(e1[l]), Int(e2[l]), Int(e3[l]))
                  (entries[4], entries[5], entries[6], entries[7]) = (Int(e4[l]), Int(e5[l]), Int(e6[l]), Int(e7[l]))
                  (scores[0], scores[1], scores[2], scores[3]) = (v0[l], v1[l], v2[l], v3[l])
                  (scores[4], scores[5], scores[6], scores[7]) = (v4[l], v5[l], v6[l], v7[l])
                }
                s0 += 4
              }
            }
          }
        }
      }
      for s in 0..<s0 { known[s] = 8 }
    }
    for s in s0..<t { rebuild(s) }
  }

  /// The first `width` experts of step `s` by their current scores (a division only for
  /// experts with more than one replica: dividing by 1 is exact): an expert goes in at the first
  /// entry it beats, strictly (after listed ones of equal score, which have lower indices), and
  /// those below move down one. Unfilled entries are (−1, −∞).
  mutating func rebuild(_ s: Int) {
    let n = n, width = width
    x.withUnsafeBufferPointer { xs in
      tie.withUnsafeBufferPointer { ts in
        count.withUnsafeBufferPointer { cs in
          list.withUnsafeMutableBufferPointer { ls in
            listScore.withUnsafeMutableBufferPointer { vs in
              let row = xs.baseAddress! + s * n
              let entries = ls.baseAddress! + s * width, scores = vs.baseAddress! + s * width
              for k in 0..<width { (entries[k], scores[k]) = (-1, -.infinity) }
              var last = -Float.infinity
              for j in 0..<n {
                let c = cs[j]
                let v = c == 1 ? row[j] + ts[j] : (row[j] + ts[j]) / Float(c)
                if !(v > last) { continue }
                var k = width - 1
                while k > 0 && v > scores[k - 1] {
                  (entries[k], scores[k]) = (entries[k - 1], scores[k - 1])
                  k -= 1
                }
                (entries[k], scores[k]) = (j, v)
                last = scores[width - 1]
              }
            }
          }
        }
      }
    }
    known[s] = width
  }

  /// Every step's list after expert `p`'s count rose (see the list's invariant in the type's
  /// discussion); the steps left with fewer than `needed` are scanned again at the end.
  mutating func update(_ p: Int) {
    let t = t, n = n, width = width
    let after = Float(count[p]), beforeCount = count[p] - 1
    let tieP = tie[p]
    var stale: [Int] = []
    x.withUnsafeBufferPointer { xs in
      list.withUnsafeMutableBufferPointer { ls in
        listScore.withUnsafeMutableBufferPointer { vs in
          known.withUnsafeMutableBufferPointer { ks in
            for s in 0..<t {
              let entries = ls.baseAddress! + s * width, scores = vs.baseAddress! + s * width
              let len = ks[s]
              // p's score before the pick, as the list holds it: below the last listed score
              // it is not listed (the list is the exact top), so there is nothing to do.
              let load = xs[s * n + p] + tieP
              let before = beforeCount == 1 ? load : load / Float(beforeCount)
              if before < scores[len - 1] { continue }
              var i = 0
              while i < len && entries[i] != p { i += 1 }
              if i == len { continue }
              let v = load / after
              // Walk p down past the entries that now come before it (a higher score, or an
              // equal one and a lower index). Past the last one it leaves the list: an
              // unlisted expert may beat it now.
              while i + 1 < len && (scores[i + 1] > v || (scores[i + 1] == v && entries[i + 1] < p)) {
                entries[i] = entries[i + 1]
                scores[i] = scores[i + 1]
                i += 1
              }
              if i + 1 < len {
                entries[i] = p
                scores[i] = v
              } else {
                ks[s] = len - 1
                if len - 1 < needed { stale.append(s) }
              }
            }
          }
        }
      }
    }
    for s in stale { rebuild(s) }
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
    update(pick)
  }
}
