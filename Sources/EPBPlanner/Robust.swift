/// The `robust` algorithm: plans for the load to come, not only for the window's sum.
///
/// EPLB balances the window's summed load almost perfectly, but the steps that follow differ
/// from the window (noise, drift, bursts), and among the many packings that balance the sum
/// equally well, EPLB picks one without looking at how stable it is. `robust` looks at the
/// window as several scenarios — the sums of `B` consecutive blocks of its steps, each scaled
/// to the window's total — and:
///
/// 1. replicates with D'Hondt on a hedged load `mean_b + stdev_b` of each expert over the
///    scenarios, so experts whose load swings get replicas before equally heavy steady ones;
/// 2. places groups on nodes (hierarchical policy) with EPLB's balanced packing on the
///    window's group sums;
/// 3. packs replicas onto GPUs (per node, or over the cluster for the global policy) by
///    EPLB's balanced packing on the hedged per-replica load, then improves the packing by
///    swapping replicas between GPUs of a node to minimise Σ_b peak_b, the sum over scenarios
///    of the peak GPU load (SGLang's `deepseek_vec` objective), ties broken by the window
///    sum's peak.
///
/// With a single scenario (a one-step window, or no per-step loads), step 3 minimises the
/// window's own peak, so `robust` is at least as balanced as EPLB on the window.
///
/// Complexity per layer: O(R log R) for the initial packing, then at most `evaluationBudget`
/// swap evaluations of O(B) per node, each swap taking a replica off a GPU that is a peak in
/// some scenario.
public enum Robust {
  /// Places one layer.
  ///
  /// - parameter window: `[experts]`, the window's summed load.
  /// - parameter scenarios: `[B][experts]`, block sums of the window's steps (any scale: each is
  ///   rescaled to the window's total); empty means `[window]`.
  /// - parameter policy: `.hierarchical` or `.global`.
  public static func placeLayer(
    window: ArraySlice<Double>, scenarios: [[Double]], topology: Topology, policy: PlacementPolicy
  ) -> LayerPlacement {
    let experts = window.count
    let w = Array(window)
    let total = w.reduce(0, +)
    // Step 0: scenarios scaled to the window's total, [B][experts].
    var blocks: [[Double]] = scenarios.filter { $0.count == experts && $0.reduce(0, +) > 0 }
    if blocks.isEmpty { blocks = [w] }
    if total > 0 {
      blocks = blocks.map { b in
        let s = b.reduce(0, +)
        return s > 0 ? b.map { $0 * total / s } : b
      }
    }
    // Step 1: hedged load per expert, [experts].
    let count = Double(blocks.count)
    var hedged = Array(repeating: 0.0, count: experts)
    for e in 0..<experts {
      var mean = 0.0
      for b in blocks { mean += b[e] }
      mean /= count
      var variance = 0.0
      for b in blocks { variance += (b[e] - mean) * (b[e] - mean) }
      hedged[e] = max(w[e], mean + (variance / count).squareRoot())
    }

    let resolved = topology.resolve(policy)
    let nodes = resolved == .hierarchical ? topology.nodes : 1
    let groups = resolved == .hierarchical ? topology.groups : 1
    let groupSize = experts / groups
    let groupsPerNode = groups / nodes
    let slotsPerNode = topology.replicas / nodes
    let gpusPerNode = topology.gpus / nodes
    let per = topology.slotsPerGPU

    // Step 2: groups onto nodes by balanced packing of the window's group sums.
    var groupSums = Array(repeating: 0.0, count: groups)
    for e in 0..<experts { groupSums[e / groupSize] += w[e] }
    let nodeOfGroup = nodes == 1 ? Array(repeating: 0, count: groups) : balancedPack(groupSums, packs: nodes)

    var phy2log = Array(repeating: 0, count: topology.replicas)
    var logcnt = Array(repeating: 0, count: experts)
    var nextGroupSlot = Array(repeating: 0, count: nodes)
    var nodeExperts = Array(repeating: [Int](), count: nodes)
    for g in 0..<groups {
      let n = nodeOfGroup[g]
      nextGroupSlot[n] += 1
      nodeExperts[n].append(contentsOf: (g * groupSize)..<((g + 1) * groupSize))
    }
    precondition(nextGroupSlot.allSatisfy { $0 == groupsPerNode }, "balanced packing gives each node its groups")

    for n in 0..<nodes {
      let local = nodeExperts[n]
      // Step 3: replicas of the node's experts by D'Hondt on the hedged load.
      var counts = Array(repeating: 1, count: local.count)
      for _ in 0..<(slotsPerNode - local.count) {
        var best = 0
        var bestValue = -1.0
        for (i, e) in local.enumerated() {
          let v = hedged[e] / Double(counts[i])
          if v > bestValue {
            bestValue = v
            best = i
          }
        }
        counts[best] += 1
      }
      // Replica items: (expert, per-replica hedged load).
      var items: [Int] = []
      items.reserveCapacity(slotsPerNode)
      for (i, e) in local.enumerated() {
        logcnt[e] = counts[i]
        for _ in 0..<counts[i] { items.append(e) }
      }
      // Step 4: initial packing onto the node's GPUs, then swap search on the scenarios.
      let itemLoad = items.map { hedged[$0] / Double(logcnt[$0]) }
      var gpuOfItem = balancedPack(itemLoad, packs: gpusPerNode)
      improve(
        items: items, gpuOfItem: &gpuOfItem, gpus: gpusPerNode, blocks: blocks, window: w, logcnt: logcnt)
      // Step 5: slots, GPU-major, items of a GPU in increasing expert order.
      var members = Array(repeating: [Int](), count: gpusPerNode)
      for (i, g) in gpuOfItem.enumerated() { members[g].append(items[i]) }
      for g in 0..<gpusPerNode {
        let firstSlot = (n * gpusPerNode + g) * per
        for (k, e) in members[g].sorted().enumerated() { phy2log[firstSlot + k] = e }
      }
    }
    return LayerPlacement(physicalToLogical: phy2log, logicalCount: logcnt)
  }

  /// Heaviest first into the lightest pack with room (first lightest on ties), equal item counts.
  ///
  /// - returns: the pack of each item, `[weights.count]`.
  static func balancedPack(_ weights: [Double], packs: Int) -> [Int] {
    let capacity = weights.count / packs
    let order = weights.indices.sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
    var load = Array(repeating: 0.0, count: packs)
    var filled = Array(repeating: 0, count: packs)
    var pack = Array(repeating: 0, count: weights.count)
    for i in order {
      var best = -1
      for p in 0..<packs where filled[p] < capacity && (best < 0 || load[p] < load[best]) { best = p }
      pack[i] = best
      load[best] += weights[i]
      filled[best] += 1
    }
    return pack
  }

  /// Swap evaluations allowed per node and layer (keeps 58 layers within a few milliseconds).
  static let evaluationBudget = 1_500

  /// Swaps replicas between GPUs to lower Σ over scenarios of the peak GPU load (window peak
  /// as the tie-break), taking the first improving swap found from a peak GPU, until none
  /// improves or the evaluation budget is spent.
  ///
  /// Each swap is priced in O(scenarios) from the three heaviest GPUs of each scenario, since
  /// a swap changes two GPUs only.
  static func improve(
    items: [Int], gpuOfItem: inout [Int], gpus: Int, blocks: [[Double]], window: [Double], logcnt: [Int]
  ) {
    guard gpus > 1 else { return }
    let scenarios = blocks.count + 1  // the blocks, then the window itself (tie-break weight)
    let n = items.count
    // One allocation for every working array; plain pointers keep the hot loop free of bounds
    // and exclusivity checks (nested functions capturing Swift arrays cost ~4x here).
    let doubles = UnsafeMutablePointer<Double>.allocate(capacity: scenarios * (n + gpus + 4))
    let ints = UnsafeMutablePointer<Int>.allocate(capacity: scenarios * 3 + 2 * n + gpus)
    defer {
      doubles.deallocate()
      ints.deallocate()
    }
    let value = doubles  // [n][scenarios]: item i's load in scenario s
    let load = doubles + scenarios * n  // [gpus][scenarios]
    let topLoad = load + scenarios * gpus  // [scenarios][3]
    let weight = topLoad + scenarios * 3  // [scenarios]
    let topGPU = ints  // [scenarios][3]
    let gpuOf = ints + scenarios * 3  // [n]
    let expertOf = gpuOf + n  // [n]
    let critical = expertOf + n  // [gpus], 0 or 1
    for s in 0..<scenarios { weight[s] = s == scenarios - 1 ? 1e-6 : 1.0 }
    for (i, e) in items.enumerated() {
      for (s, b) in blocks.enumerated() { value[i * scenarios + s] = b[e] / Double(logcnt[e]) }
      value[i * scenarios + blocks.count] = window[e] / Double(logcnt[e])
      gpuOf[i] = gpuOfItem[i]
      expertOf[i] = e
    }
    for k in 0..<(scenarios * gpus) { load[k] = 0 }
    for i in 0..<n {
      for s in 0..<scenarios { load[gpuOf[i] * scenarios + s] += value[i * scenarios + s] }
    }
    // The three heaviest GPUs of each scenario; returns Σ weight · peak.
    func rankScenarios() -> Double {
      var f = 0.0
      for s in 0..<scenarios {
        var l0 = -Double.infinity, l1 = -Double.infinity, l2 = -Double.infinity
        var g0 = -1, g1 = -1, g2 = -1
        for g in 0..<gpus {
          let x = load[g * scenarios + s]
          if x > l0 {
            (l2, g2, l1, g1, l0, g0) = (l1, g1, l0, g0, x, g)
          } else if x > l1 {
            (l2, g2, l1, g1) = (l1, g1, x, g)
          } else if x > l2 {
            (l2, g2) = (x, g)
          }
        }
        topLoad[s * 3] = l0
        topLoad[s * 3 + 1] = l1
        topLoad[s * 3 + 2] = l2
        topGPU[s * 3] = g0
        topGPU[s * 3 + 1] = g1
        topGPU[s * 3 + 2] = g2
        f += weight[s] * l0
      }
      return f
    }
    var current = rankScenarios()
    var evaluations = 0
    search: while evaluations < evaluationBudget {
      for g in 0..<gpus { critical[g] = 0 }
      for s in 0..<max(1, scenarios - 1) { critical[topGPU[s * 3]] = 1 }
      for i in 0..<n where critical[gpuOf[i]] != 0 {
        let gi = gpuOf[i]
        let vi = value + i * scenarios
        let li = load + gi * scenarios
        for j in 0..<n {
          let gj = gpuOf[j]
          if gj == gi || expertOf[j] == expertOf[i] { continue }
          evaluations += 1
          if evaluations > evaluationBudget { break search }
          let vj = value + j * scenarios
          let lj = load + gj * scenarios
          var f = 0.0
          for s in 0..<scenarios {
            let d = vj[s] - vi[s]
            let t0 = topGPU[s * 3], t1 = topGPU[s * 3 + 1]
            let others =
              t0 != gi && t0 != gj ? topLoad[s * 3] : (t1 != gi && t1 != gj ? topLoad[s * 3 + 1] : topLoad[s * 3 + 2])
            f += weight[s] * max(others, li[s] + d, lj[s] - d)
            if f >= current { break }  // already no better: the terms are non-negative
          }
          if current - f > 1e-12 * current {
            for s in 0..<scenarios {
              let d = vj[s] - vi[s]
              li[s] += d
              lj[s] -= d
            }
            gpuOf[i] = gj
            gpuOf[j] = gi
            current = rankScenarios()
            continue search
          }
        }
      }
      break
    }
    for i in 0..<n { gpuOfItem[i] = gpuOf[i] }
  }

  /// Splits `steps` (`[T]` of `[layers][experts]`, oldest first) into `blocks` consecutive
  /// blocks of near-equal length and sums each, `[min(blocks, T)]` of `[layers][experts]`.
  public static func blockSums(_ steps: [LoadMatrix], blocks: Int) -> [LoadMatrix] {
    guard let first = steps.first else { return [] }
    let b = max(1, min(blocks, steps.count))
    var out = Array(repeating: LoadMatrix(layers: first.layers, experts: first.experts), count: b)
    for (t, step) in steps.enumerated() {
      let k = t * b / steps.count
      for i in 0..<step.values.count { out[k].values[i] += step.values[i] }
    }
    return out
  }
}
