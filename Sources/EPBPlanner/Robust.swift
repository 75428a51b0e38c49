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
    // Step 0: scenarios scaled to the window's total, flat [B][experts].
    var usable = scenarios.filter { $0.count == experts && $0.reduce(0, +) > 0 }
    if usable.isEmpty { usable = [w] }
    let count = usable.count
    var blocks = [Double](repeating: 0, count: count * experts)
    for (k, b) in usable.enumerated() {
      let s = b.reduce(0, +)
      let scale = total > 0 && s > 0
      b.withUnsafeBufferPointer { src in
        for e in 0..<experts { blocks[k * experts + e] = scale ? src[e] * total / s : src[e] }
      }
    }
    // Step 1: hedged load per expert, [experts].
    var hedged = [Double](repeating: 0, count: experts)
    blocks.withUnsafeBufferPointer { b in
      for e in 0..<experts {
        var mean = 0.0
        for k in 0..<count { mean += b[k * experts + e] }
        mean /= Double(count)
        var variance = 0.0
        for k in 0..<count { variance += (b[k * experts + e] - mean) * (b[k * experts + e] - mean) }
        hedged[e] = max(w[e], mean + (variance / Double(count)).squareRoot())
      }
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

    var items: [Int] = []
    items.reserveCapacity(slotsPerNode)
    for n in 0..<nodes {
      let local = nodeExperts[n]
      // Step 3: replicas of the node's experts by D'Hondt on the hedged load: each pick to the
      // largest hedged / count, the first local expert on ties (EPLB's greedy, in `Double`).
      let counts = EPLB.replicateExperts(local.map { hedged[$0] }, replicas: slotsPerNode, algorithm: .deepseek)
        .logicalCount
      // Replica items: the expert of each, experts in local order.
      items.removeAll(keepingCapacity: true)
      for (i, e) in local.enumerated() {
        logcnt[e] = counts[i]
        for _ in 0..<counts[i] { items.append(e) }
      }
      // Step 4: initial packing onto the node's GPUs, then swap search on the scenarios.
      let itemLoad = items.map { hedged[$0] / Double(logcnt[$0]) }
      var gpuOfItem = balancedPack(itemLoad, packs: gpusPerNode)
      blocks.withUnsafeBufferPointer { b in
        w.withUnsafeBufferPointer { wp in
          improve(
            items: items, gpuOfItem: &gpuOfItem, gpus: gpusPerNode, blocks: b.baseAddress!, blockCount: count,
            experts: experts, window: wp.baseAddress!, logcnt: logcnt)
        }
      }
      // Step 5: slots, GPU-major, items of a GPU in increasing expert order.
      phy2log.withUnsafeMutableBufferPointer { out in
        var filled = [Int](repeating: 0, count: gpusPerNode)
        let nodeBase = n * gpusPerNode * per
        for (i, g) in gpuOfItem.enumerated() {
          out[nodeBase + g * per + filled[g]] = items[i]
          filled[g] += 1
        }
        for g in 0..<gpusPerNode {
          let first = nodeBase + g * per
          var slice = UnsafeMutableBufferPointer(rebasing: out[first..<(first + per)])
          slice.sort()
        }
      }
    }
    return LayerPlacement(physicalToLogical: phy2log, logicalCount: logcnt)
  }

  /// Heaviest first into the lightest pack with room (first lightest on ties), equal item counts.
  ///
  /// - returns: the pack of each item, `[weights.count]`.
  package static func balancedPack(_ weights: [Double], packs: Int) -> [Int] {
    let n = weights.count
    let capacity = n / packs
    var order = [KeyedIndex](repeating: KeyedIndex(value: 0, index: 0), count: n)
    var pack = Array(repeating: 0, count: n)
    var load = Array(repeating: 0.0, count: packs)
    var filled = Array(repeating: 0, count: packs)
    var heap = Array(0..<packs)  // packs with room, a min-heap on (load, pack)
    order.withUnsafeMutableBufferPointer { order in
      for i in 0..<n { order[i] = KeyedIndex(value: weights[i], index: i) }
      order.sort { $0.value != $1.value ? $0.value > $1.value : $0.index < $1.index }
      load.withUnsafeMutableBufferPointer { load in
        filled.withUnsafeMutableBufferPointer { filled in
          heap.withUnsafeMutableBufferPointer { heap in
            var size = packs
            @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
              load[a] < load[b] || (load[a] == load[b] && a < b)
            }
            let h = heap.baseAddress!
            // All loads are 0: the identity order is a heap on (load, pack).
            for k in 0..<n where size > 0 {
              let best = heap[0]
              pack[order[k].index] = best
              load[best] += order[k].value
              filled[best] += 1
              if filled[best] == capacity {
                size -= 1
                h[0] = h[size]
              }
              IndexHeap.siftDown(h, count: size, from: 0, by: before)
            }
          }
        }
      }
    }
    return pack
  }

  /// Swap evaluations allowed per node and layer (keeps 58 layers within a few milliseconds).
  static let evaluationBudget = 1_500

  /// Swaps replicas between GPUs to lower Σ over scenarios of the peak GPU load (window peak
  /// as the tie-break), taking the first improving swap found from a peak GPU, until none
  /// improves or the evaluation budget is spent.
  ///
  /// The scan over items on a peak GPU resumes after the item of the last accepted swap
  /// (wrapping around) rather than restarting at item 0, so pairs that just failed are not
  /// priced again first; it stops when a whole round finds no improving swap. Candidates are
  /// visited GPU by GPU: the load of the heaviest GPU other than the pair, per scenario, is
  /// the same for every item of a GPU pair and is computed once per pair. A swap changes two
  /// GPUs only, so it is priced in O(scenarios) from the three heaviest GPUs of each scenario.
  ///
  /// - parameter blocks: `[blockCount][experts]`, the scaled scenarios; `window`: `[experts]`.
  static func improve(
    items: [Int], gpuOfItem: inout [Int], gpus: Int, blocks: UnsafePointer<Double>, blockCount: Int,
    experts: Int, window: UnsafePointer<Double>, logcnt: [Int]
  ) {
    guard gpus > 1 else { return }
    let scenarios = blockCount + 1  // the blocks, then the window itself (tie-break weight)
    let n = items.count
    let per = n / gpus  // items per GPU (balanced packing gives every GPU the same count)
    // One allocation for every working array; plain pointers keep the hot loop free of bounds
    // and exclusivity checks (nested functions capturing Swift arrays cost ~4x here).
    let doubles = UnsafeMutablePointer<Double>.allocate(capacity: scenarios * (n + gpus + 5))
    let ints = UnsafeMutablePointer<Int>.allocate(capacity: scenarios * 3 + 4 * n + gpus)
    defer {
      doubles.deallocate()
      ints.deallocate()
    }
    let value = doubles  // [n][scenarios]: item i's load in scenario s
    let load = doubles + scenarios * n  // [gpus][scenarios]
    let topLoad = load + scenarios * gpus  // [scenarios][3]
    let weight = topLoad + scenarios * 3  // [scenarios]
    let others = weight + scenarios  // [scenarios]: heaviest GPU outside the pair being priced
    let topGPU = ints  // [scenarios][3]
    let gpuOf = ints + scenarios * 3  // [n]
    let expertOf = gpuOf + n  // [n]
    let member = expertOf + n  // [gpus][per]: the items on each GPU
    let slotOf = member + n  // [n]: item i is member[gpuOf[i] · per + slotOf[i]]
    let critical = slotOf + n  // [gpus], 0 or 1
    for s in 0..<scenarios { weight[s] = s == scenarios - 1 ? 1e-6 : 1.0 }
    var filled = Array(repeating: 0, count: gpus)
    for (i, e) in items.enumerated() {
      let c = Double(logcnt[e])
      for s in 0..<blockCount { value[i * scenarios + s] = blocks[s * experts + e] / c }
      value[i * scenarios + blockCount] = window[e] / c
      let g = gpuOfItem[i]
      gpuOf[i] = g
      expertOf[i] = e
      precondition(filled[g] < per, "every GPU holds the same number of items")
      member[g * per + filled[g]] = i
      slotOf[i] = filled[g]
      filled[g] += 1
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
    var start = 0  // where the scan over items resumes
    search: while evaluations < evaluationBudget {
      for g in 0..<gpus { critical[g] = 0 }
      for s in 0..<max(1, scenarios - 1) { critical[topGPU[s * 3]] = 1 }
      for step in 0..<n {
        let i = (start + step) % n
        let gi = gpuOf[i]
        if critical[gi] == 0 { continue }
        let vi = value + i * scenarios
        let li = load + gi * scenarios
        for gj in 0..<gpus where gj != gi {
          for s in 0..<scenarios {
            let t0 = topGPU[s * 3], t1 = topGPU[s * 3 + 1]
            others[s] =
              t0 != gi && t0 != gj ? topLoad[s * 3] : (t1 != gi && t1 != gj ? topLoad[s * 3 + 1] : topLoad[s * 3 + 2])
          }
          let lj = load + gj * scenarios
          for k in 0..<per {
            let j = member[gj * per + k]
            if expertOf[j] == expertOf[i] { continue }
            evaluations += 1
            if evaluations > evaluationBudget { break search }
            let vj = value + j * scenarios
            var f = 0.0
            for s in 0..<scenarios {
              let d = vj[s] - vi[s]
              f += weight[s] * max(others[s], li[s] + d, lj[s] - d)
              if f >= current { break }  // already no better: the terms are non-negative
            }
            if current - f > 1e-12 * current {
              for s in 0..<scenarios {
                let d = vj[s] - vi[s]
                li[s] += d
                lj[s] -= d
              }
              let si = slotOf[i], sj = slotOf[j]
              member[gi * per + si] = j
              member[gj * per + sj] = i
              slotOf[i] = sj
              slotOf[j] = si
              gpuOf[i] = gj
              gpuOf[j] = gi
              current = rankScenarios()
              start = (i + 1) % n
              continue search
            }
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
