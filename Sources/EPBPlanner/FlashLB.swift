/// The `flashlb` peer: vLLM-Ascend's FlashLB.
///
/// Source: vllm-project/vllm-ascend, `vllm_ascend/eplb/core/policy/policy_flashlb.py`
/// (`FlashTree.optimize_balanceness`, `min_max_replica`, `lpt_deployment`, `compute_score`,
/// `FlashLBConfig`). From `T` samples `X` `[T][n]` of the window (block sums), per expert the
/// mean `mu`, the variance `var` and the covariance `cov` `[n][n]` (divisor `T − 1`; zero for one
/// sample); the experts sorted by `mu + z · sqrt(var)` (z = 0.674, the 75% quantile) are cut into
/// `depth` = 4 intervals. For each of the first three, the number of added replicas the interval
/// gets is searched within ± `width` = 8 of what a joint min-max allocation gives it: each
/// candidate split allocates replicas inside the interval and inside the rest by min-max
/// (`minMaxHistory`: each added replica to the largest `(mu + z · sqrt(var)) / count`, first
/// index on ties), places all replicas by risk-aware LPT (`lpt`) and scores the placement on the
/// samples (`score`: mean over samples of `peak · devices / total`, +0.01 on both sides); the
/// best (lowest; the earlier candidate on ties, the starting one first) is kept. The last
/// interval takes what is left, and the final counts are placed by `lpt` once more.
///
/// `lpt`: replicas of experts in decreasing `mu / count` order, each onto the device with the
/// lowest risk `mu_d + z · sqrt(var_d)` after adding it (first device on ties), among devices
/// with a free slot that do not hold the expert yet; `var_d` adds the expert's variance over
/// count² and twice its covariances with the device's experts over the counts. Device means and
/// variances are kept in `Float` as there (numpy `float32` arrays), the rest in `Double`.
///
/// Deviations: the samples are the store's block sums (near-equal consecutive blocks of every
/// step of the window; FlashLB sums `length // 64` steps per sample and drops the oldest
/// `length mod 64`), without FlashLB's +1 per step and per expert, and per layer always (no
/// "need update" threshold, no layer budget, no relabelling: `plan --base` relabels). numba's
/// `fastmath` may reorder float arithmetic and numpy's `argsort` is not stable; here the
/// arithmetic is in program order and the expert order is stable, so results can differ from
/// the original in near-ties (the golden tests compare its score). Where every device with a free
/// slot already holds the expert (more replicas than devices), the original writes past its
/// arrays; here the replica goes to the lowest-risk device with a free slot. An empty interval
/// (fewer than four experts) ends the search and its neighbour takes the rest. No hierarchical
/// mode of its own: it runs per node after EPLB's group packing (see `Peers`).
///
/// Complexity per node: O(n² · T) for the covariances, then up to 3 · 17 + 1 LPT placements of
/// O(replicas · devices · slots per device) and scores of O(T · replicas).
public enum FlashLB {
  /// Samples of the window (`FlashLBConfig.sample_size`).
  public static let sampleSize = 64
  /// z of the risk `mu + z · sd` (`stats.norm.ppf(0.75)`).
  public static let zScore = 0.6744897501960817
  /// Intervals of the tree search (`FlashLBConfig.depth`).
  public static let depth = 4
  /// Neighbour search range (`FlashLBConfig.width`).
  public static let width = 8

  /// One node: `x` `[samples][n]` sample-major; `slots` a multiple of `gpus`, at least `n`.
  /// - returns: local `phy2log` `[slots]`, device-major (slot `s` on device `s / (slots / gpus)`).
  static func placeNode(_ x: [Double], samples t: Int, slots: Int, gpus: Int) -> [Int] {
    let stats = Statistics(x, samples: t)
    return search(stats, x: x, samples: t, slots: slots, gpus: gpus).deployment
  }

  /// Mean, variance and covariance of the samples (`FlashTree.compute_statistics`).
  struct Statistics {
    var n: Int
    /// `[n]`, `[n]`, `[n · n]` row-major.
    var mu: [Double]
    var variance: [Double]
    var cov: [Double]

    init(_ x: [Double], samples t: Int) {
      n = x.count / t
      mu = [Double](repeating: 0, count: n)
      for s in 0..<t { for j in 0..<n { mu[j] += x[s * n + j] } }
      for j in 0..<n { mu[j] /= Double(t) }
      variance = [Double](repeating: 0, count: n)
      cov = [Double](repeating: 0, count: n * n)
      guard t > 1 else { return }
      var centered = x
      for s in 0..<t { for j in 0..<n { centered[s * n + j] -= mu[j] } }
      let n = self.n
      cov.withUnsafeMutableBufferPointer { c in
        centered.withUnsafeBufferPointer { xc in
          for s in 0..<t {
            let row = xc.baseAddress! + s * n
            for i in 0..<n {
              let v = row[i]
              if v == 0 { continue }
              let out = c.baseAddress! + i * n
              for j in i..<n { out[j] += v * row[j] }
            }
          }
          let d = Double(t - 1)
          for i in 0..<n {
            for j in i..<n {
              let v = c[i * n + j] / d
              c[i * n + j] = v
              c[j * n + i] = v
            }
          }
        }
      }
      for j in 0..<n {
        var s = 0.0
        for k in 0..<t { s += centered[k * n + j] * centered[k * n + j] }
        variance[j] = s / Double(t - 1)
      }
    }
  }

  /// `min_max_replica` from one replica each: the counts after 0, 1, …, `picks` added replicas,
  /// `[picks + 1][indices.count]` flattened, for the experts `indices`.
  static func minMaxHistory(_ stats: Statistics, indices: [Int], picks: Int) -> [Int] {
    let m = indices.count
    var history = [Int](repeating: 1, count: (picks + 1) * m)
    if m == 0 { return history }
    let weight = indices.map { stats.mu[$0] + zScore * stats.variance[$0].squareRoot() }
    var count = [Int](repeating: 1, count: m)
    var unit = weight
    for r in 0..<picks {
      var best = -1
      var bestValue = -1.0
      for i in 0..<m where unit[i] > bestValue {
        bestValue = unit[i]
        best = i
      }
      if best < 0 { best = 0 }  // (only with NaN values; numba would index −1)
      count[best] += 1
      unit[best] = weight[best] / Double(count[best])
      for i in 0..<m { history[(r + 1) * m + i] = count[i] }
    }
    return history
  }

  /// `lpt_deployment` from an empty deployment: `[gpus · per]` device-major, −1 never left.
  ///
  /// The arithmetic is the original's, in its order: a covariance term is `2 · cov / r / q`,
  /// and a division by a count of 1 (most experts) is skipped, which is exact (x / 1 = x).
  /// Devices are tried in index order and the first wins ties, as there; a device is passed
  /// over once it provably cannot beat the best so far: when its mean alone reaches that risk
  /// (risk = mean + z · sqrt(var) is never below its mean), or when z² · var exceeds the squared
  /// gap by far more than rounding (`cannotBeat`), which skips most square roots.
  static func lpt(_ stats: Statistics, counts: [Int], slots: Int, gpus: Int) -> [Int] {
    let n = stats.n
    let per = slots / gpus
    let key = (0..<n).map { stats.mu[$0] / Double(counts[$0]) }
    let order = (0..<n).sorted { key[$0] > key[$1] || (key[$0] == key[$1] && $0 < $1) }
    var deployment = [Int](repeating: -1, count: slots)
    // The count of the expert in each filled slot, as the divisor of its covariance terms.
    var slotCount = [Double](repeating: 1, count: slots)
    var filled = [Int](repeating: 0, count: gpus)
    var deviceMu = [Float](repeating: 0, count: gpus)
    var deviceVar = [Float](repeating: 0, count: gpus)
    // holds[d · n + e]: device d holds expert e.
    var holds = [Bool](repeating: false, count: gpus * n)
    stats.cov.withUnsafeBufferPointer { cov in
      for e in order {
        let r = Double(counts[e])
        let single = counts[e] == 1
        let muShare = stats.mu[e] / r
        let varShare = stats.variance[e] / Double(counts[e] * counts[e])
        let row = cov.baseAddress! + e * n
        for _ in 0..<counts[e] {
          var best = -1, bestRisk = 1e30, bestMu = -1.0, bestVar = -1.0
          var fallback = -1, fallbackRisk = Double.infinity, fallbackMu = 0.0, fallbackVar = 0.0
          for d in 0..<gpus where filled[d] < per {
            let held = holds[d * n + e]
            let toBeat = held ? fallbackRisk : bestRisk
            let tempMu = Double(deviceMu[d]) + muShare
            if tempMu >= toBeat { continue }
            var tempVar = Double(deviceVar[d]) + varShare
            for slot in (d * per)..<(d * per + filled[d]) {
              var term = 2 * row[deployment[slot]]
              if !single { term /= r }
              let q = slotCount[slot]
              if q != 1 { term /= q }
              tempVar += term
            }
            if cannotBeat(toBeat, mean: tempMu, variance: tempVar) { continue }
            let risk = tempMu + zScore * tempVar.squareRoot()
            if held {
              if risk < fallbackRisk {
                (fallback, fallbackRisk, fallbackMu, fallbackVar) = (d, risk, tempMu, tempVar)
              }
            } else if risk < bestRisk {
              (best, bestRisk, bestMu, bestVar) = (d, risk, tempMu, tempVar)
            }
          }
          if best < 0 {
            // Every device with room holds e already (or the risks are NaN): take the
            // lowest-risk device with room, else the first one with room.
            if fallback < 0 { fallback = filled.firstIndex { $0 < per } ?? 0 }
            (best, bestMu, bestVar) = (fallback, fallbackMu, fallbackVar)
          }
          deviceMu[best] = Float(bestMu)
          deviceVar[best] = Float(bestVar)
          deployment[best * per + filled[best]] = e
          slotCount[best * per + filled[best]] = r
          filled[best] += 1
          holds[best * n + e] = true
        }
      }
    }
    return deployment
  }

  /// True when a device of mean `mean` and variance `variance` provably has a risk
  /// `mean + z · sqrt(variance)`, as rounded, no lower than `rival` (> `mean`): z² · variance
  /// exceeds (rival − mean)² by 1e-9 relative, far more than the few 1e-16 of rounding on either
  /// side, so z · sqrt(variance) rounded reaches the gap and the rounded sum reaches `rival`
  /// (rounding is monotonic). Gaps outside 1e-100…1e100 are not judged (squares lose precision
  /// or overflow). A later device that ties is not taken anyway (the first wins ties).
  @inline(__always)
  static func cannotBeat(_ rival: Double, mean: Double, variance: Double) -> Bool {
    let gap = rival - mean
    guard gap > 1e-100 && gap < 1e100 else { return false }
    return zScore * zScore * variance > gap * gap * (1 + 1e-9)
  }

  /// `compute_score`: the mean over samples of `(peak · devices + 0.01) / (total + 0.01)`, each
  /// sample's value rounded to `Float` and the mean taken in `Float` as there. `columns`: the
  /// samples expert-major, `[n][t]` (`columns[e · t + s]` is sample `s` of expert `e`), so that a
  /// device's loads over all samples add up one slot at a time, in the original's order (its
  /// slots in turn; a slot's load `x / count`, the division skipped for a count of 1, exactly).
  static func score(columns: [Double], samples t: Int, counts: [Int], deployment: [Int], gpus: Int) -> Float {
    let per = deployment.count / gpus
    var load = [Double](repeating: 0, count: t)
    var peak = [Double](repeating: 0, count: t)
    var total = [Double](repeating: 0, count: t)
    columns.withUnsafeBufferPointer { x in
      for d in 0..<gpus {
        for s in 0..<t { load[s] = 0 }
        for k in 0..<per {
          let e = deployment[d * per + k]
          let column = x.baseAddress! + e * t
          if counts[e] == 1 {
            for s in 0..<t { load[s] += column[s] }
          } else {
            let c = Double(counts[e])
            for s in 0..<t { load[s] += column[s] / c }
          }
        }
        for s in 0..<t {
          total[s] += load[s]
          peak[s] = max(peak[s], load[s])
        }
      }
    }
    var sum: Float = 0
    for s in 0..<t { sum += Float((peak[s] * Double(gpus) + 1e-2) / (total[s] + 1e-2)) }
    return sum / Float(t)
  }

  /// `x` `[t][n]` as `[n][t]` (see `score`).
  static func columns(_ x: [Double], samples t: Int) -> [Double] {
    let n = x.count / t
    var out = [Double](repeating: 0, count: x.count)
    for s in 0..<t { for e in 0..<n { out[e * t + s] = x[s * n + e] } }
    return out
  }

  /// `FlashTree.optimize_balanceness` (depth > 1): the counts, the deployment and its score.
  ///
  /// Counts met before are not placed again: the next interval's starting split is the split
  /// just chosen (min-max over a set, restricted to a subset, is min-max over the subset), and
  /// the final placement is the last interval's best, so each is looked up (`placed`, keyed by
  /// the whole counts vector: equal counts give the same LPT placement and score).
  static func search(_ stats: Statistics, x: [Double], samples t: Int, slots: Int, gpus: Int)
    -> (counts: [Int], deployment: [Int], score: Float)
  {
    let n = stats.n
    let columns = columns(x, samples: t)
    var placed: [[Int]: (deployment: [Int], score: Float)] = [:]
    func place(_ counts: [Int]) -> (deployment: [Int], score: Float) {
      if let known = placed[counts] { return known }
      let deployment = lpt(stats, counts: counts, slots: slots, gpus: gpus)
      let result = (deployment, score(columns: columns, samples: t, counts: counts, deployment: deployment, gpus: gpus))
      placed[counts] = result
      return result
    }
    var available = slots - n
    let interval = (n + depth - 1) / depth
    let weight = (0..<n).map { stats.mu[$0] + zScore * stats.variance[$0].squareRoot() }
    let idx = (0..<n).sorted { weight[$0] > weight[$1] || (weight[$0] == weight[$1] && $0 < $1) }
    var deployed = [Int](repeating: 0, count: n)
    for node in 0..<(depth - 1) {
      let start = node * interval
      if start >= n { break }
      let high = available
      let simulation = Array(idx[start...])
      let current = Array(idx[start..<min(n, start + interval)])
      let rest = Array(idx[min(n, start + interval)...])
      let simulated = minMaxHistory(stats, indices: simulation, picks: high)
      var initial = 0
      for i in 0..<current.count { initial += simulated[high * simulation.count + i] - 1 }
      let currentHistory = minMaxHistory(stats, indices: current, picks: high)
      let restHistory = minMaxHistory(stats, indices: rest, picks: high)
      let remaining = available
      func evaluate(_ mid: Int) -> Float {
        var counts = deployed
        for (i, e) in current.enumerated() { counts[e] = currentHistory[mid * current.count + i] }
        for (i, e) in rest.enumerated() { counts[e] = restHistory[(remaining - mid) * rest.count + i] }
        return place(counts).score
      }
      var best = initial
      if rest.isEmpty {
        best = remaining  // nothing else can take replicas
      } else {
        // neighbor_search(low 0, high, initial, width)
        let range = min(max(initial, high - initial), width)
        var bestScore = evaluate(initial)
        if range > 0 {
          for r in 1...range {
            let left = initial - r
            if left >= 0 {
              let s = evaluate(left)
              if s < bestScore { (best, bestScore) = (left, s) }
            }
            let right = initial + r
            if right <= high {
              let s = evaluate(right)
              if s < bestScore { (best, bestScore) = (right, s) }
            }
          }
        }
      }
      for (i, e) in current.enumerated() { deployed[e] = currentHistory[best * current.count + i] }
      available -= best
      if available == 0 || node == depth - 2 || rest.isEmpty {
        for (i, e) in rest.enumerated() { deployed[e] = restHistory[available * rest.count + i] }
        break
      }
    }
    let final = place(deployed)
    return (deployed, final.deployment, final.score)
  }
}
