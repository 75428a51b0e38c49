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
/// Complexity per chunk and added replica: O(T) plus O(experts) for each step where the picked
/// expert was the runner-up or fell from the top (the top two of each step are kept up to date).
public enum DeepSeekVec {
  /// Block sums of the window it plans on (see `PlacementAlgorithm.scenarioBlocks`).
  public static let blocks = 64

  /// One chunk: `x` `[samples][n]` (per-step loads, sample-major, `Float`), `slots` a multiple of
  /// `gpus`, at least `n`; `indexBase`: the mlog index of local expert 0 (for the tie term).
  /// - returns: local `phy2log` `[slots]`, slot `s` on GPU `s / (slots / gpus)`.
  static func placeNode(_ x: [Float], samples t: Int, slots: Int, gpus: Int, indexBase: Int) -> [Int] {
    let n = x.count / t
    var count = [Int](repeating: 1, count: n)
    var phy = Array(0..<n)
    phy.reserveCapacity(slots)
    let tie = (0..<n).map { Float(indexBase + $0) * Float(1e-4) }
    // Per step: the highest score (value, first index) and the highest among the others.
    var top = [Int](repeating: 0, count: t)
    var second = [Int](repeating: -1, count: t)
    @inline(__always) func score(_ s: Int, _ j: Int) -> Float { (x[s * n + j] + tie[j]) / Float(count[j]) }
    func rescan(_ s: Int) {
      var a = 0
      var best = score(s, 0)
      for j in 1..<n {
        let v = score(s, j)
        if v > best {
          best = v
          a = j
        }
      }
      top[s] = a
      rescanSecond(s)
    }
    func rescanSecond(_ s: Int) {
      var b = -1
      var best = -Float.infinity
      for j in 0..<n where j != top[s] {
        let v = score(s, j)
        if v > best {
          best = v
          b = j
        }
      }
      second[s] = b
    }
    if slots > n {
      for s in 0..<t { rescan(s) }
    }
    var gain = [Double](repeating: 0, count: n)
    for _ in n..<slots {
      // Σ_t values[t][j] = Σ_t m1[t] − gain[j], gain[j] = Σ over steps whose top is j of
      // (m1 − max(load / (count + 1), the best other score)).
      for j in 0..<n { gain[j] = 0 }
      for s in 0..<t {
        let a = top[s]
        let m1 = score(s, a)
        let lowered = x[s * n + a] / Float(count[a] + 1)
        let other = second[s] >= 0 ? score(s, second[s]) : -Float.infinity
        gain[a] += Double(m1) - Double(max(lowered, other))
      }
      var pick = 0
      for j in 1..<n where gain[j] > gain[pick] { pick = j }
      phy.append(pick)
      count[pick] += 1
      for s in 0..<t {
        if top[s] == pick {
          // Still the first maximum (its score only fell)? Then the runner-up is unchanged.
          let b = second[s]
          if b >= 0 {
            let v = score(s, pick), w = score(s, b)
            if v > w || (v == w && pick < b) { continue }
          }
          rescan(s)
        } else if second[s] == pick {
          rescanSecond(s)
        }
      }
    }
    let per = slots / gpus
    if per <= 1 { return phy }
    // Zig-zag: slots by window load per replica, heaviest first (stable), dealt in a snake.
    var total = [Double](repeating: 0, count: n)
    for s in 0..<t { for j in 0..<n { total[j] += Double(x[s * n + j]) } }
    let key = phy.map { Float(total[$0]) / Float(count[$0]) }
    let order = (0..<slots).sorted { key[$0] > key[$1] || (key[$0] == key[$1] && $0 < $1) }
    return Peers.dealSnake(order.map { phy[$0] }, gpus: gpus)
  }
}
