/// The `robust` algorithm: plans for the load to come, not only for the window's sum.
///
/// EPLB balances the window's summed load almost perfectly, but the steps that follow differ
/// from the window (noise, drift, phase changes). FlashLB showed what holds up: plan on samples
/// of the window (block sums), replicate by a hedged load (mean + 0.674 σ) and score a placement
/// by its per-sample peaks. `robust` takes FlashLB's in-node placement as its start and adds what
/// FlashLB leaves out. It looks at the window as `B` scenarios (`PlacementAlgorithm.robustBlocks`
/// block sums of its steps, each scaled to the window's total) and:
///
/// 1. computes a hedged load per expert, `max(window, mean_b + stdev_b)` over the scenarios
///    (used by step 4);
/// 2. under the hierarchical policy packs the groups onto the nodes for the scenarios' peaks
///    (`packGroups`: hedged greedy start, then group swaps lowering Σ_b max node load_b plus the
///    window's max node load weighed as all blocks together) instead of EPLB's window-only
///    greedy, then places each node's experts with FlashLB (`FlashLB.placeNode` on the node's
///    scaled scenarios; `hedgedPlacement`);
/// 3. swaps replicas between GPUs of a node to minimise Σ_b peak_b + B · peak_window (the
///    samples' peaks, SGLang's `deepseek_vec` objective, and the window's, weighed as all blocks
///    together), within a budget of swap evaluations per layer (`evaluationsPerLayer`), shared by
///    the nodes that hold the cluster's peak in some scenario or in the window;
/// 4. never ends above the no-replication peak on the window (`Planner.statistics`'
///    `noReplicationPeak`): when step 3's placement is above it, the first of these that is not:
///    step 3's placement with its window peak lowered by a few swaps and re-replications
///    (`lowerWindowPeak`; it keeps most slots, so what the search bought on the scenarios stays);
///    EPLB's placement of the hedged load improved by step 3's search; EPLB's placement of the
///    window improved by the search with the window's peak dominating (weight 1000); the
///    no-replication placement with its spare slots given to the hottest hedged experts under
///    that peak (`spreadSpares`); the no-replication placement itself (`noReplicationPlacement`).
///
/// Parameters (B = 64, the weights, the budget) were chosen on `epbctl simulate` seed 3 and
/// `Benchmarks/phase_trace.py` seed 1; `Benchmarks/heldout_backtest.sh` reports on other data.
///
/// Complexity per layer: FlashLB's in-node search (the bulk: up to 52 LPT placements and scores
/// per node), O(rounds · groups² · B · nodes) for the group packing, then at most
/// `evaluationsPerLayer` swap evaluations of O(B) each; an accepted swap updates the three
/// heaviest GPUs of each scenario in O(B), or O(B · GPUs per node) when a GPU leaves them.
public enum Robust {
  /// Swap evaluations per layer (step 3), of O(B) each: a small share of the layer's time next
  /// to FlashLB's in-node search (`EPBBench robust` times both; `Benchmarks/robust_backtest.sh`
  /// shows what the budget buys).
  public static let evaluationsPerLayer = 150

  /// Places one layer.
  ///
  /// - parameter window: `[experts]`, the window's summed load.
  /// - parameter scenarios: `[B][experts]`, block sums of the window's steps (any scale: each is
  ///   rescaled to the window's total); empty means `[window]`.
  /// - parameter policy: `.hierarchical` or `.global`.
  /// - parameter budget: swap evaluations for the layer (step 3).
  /// - parameter noReplicationGuard: step 4 (false: steps 0 to 3 only, for tests of the search).
  public static func placeLayer(
    window: ArraySlice<Double>, scenarios: [[Double]], topology: Topology, policy: PlacementPolicy,
    budget: Int = evaluationsPerLayer, noReplicationGuard: Bool = true
  ) -> LayerPlacement {
    let experts = window.count
    let matrices = scenarios.filter { $0.count == experts }.map {
      LoadMatrix(layers: 1, experts: experts, values: $0)
    }
    let scratch = Scratch<Float>(experts: experts, replicas: topology.replicas, gpus: topology.gpus)
    let work = RobustScratch(experts: experts, replicas: topology.replicas, gpus: topology.gpus, blocks: matrices.count)
    if !noReplicationGuard {
      return placeSearched(
        window: window, scenarios: matrices, row: 0, topology: topology, policy: topology.resolve(policy),
        budget: budget, work: work)
    }
    return place(
      window: window, scenarios: matrices, row: 0, topology: topology, policy: topology.resolve(policy),
      budget: budget, scratch: scratch, work: work)
  }

  /// `placeLayer` with caller-owned buffers, scenarios given as row `row` of each matrix in
  /// `scenarios` (`[B]` of `[layers][experts]`). `policy` is resolved. Never worse than the
  /// no-replication placement on the window (step 4).
  static func place(
    window: ArraySlice<Double>, scenarios: [LoadMatrix], row: Int, topology: Topology, policy: PlacementPolicy,
    budget: Int = evaluationsPerLayer, scratch: Scratch<Float>, work: RobustScratch
  ) -> LayerPlacement {
    let single = noReplicationPlacement(window, topology: topology, policy: policy)
    let limit = single.map { Planner.evaluate($0, load: window, topology: topology).peak }
    let searched = placeSearched(
      window: window, scenarios: scenarios, row: row, topology: topology, policy: policy,
      budget: budget, work: work)
    // Step 4: above the no-replication peak on the window, the first candidate that is not
    // (see the type's discussion).
    guard let single, let limit else { return searched }
    if Planner.evaluate(searched, load: window, topology: topology).peak <= limit { return searched }
    let hedged = Array(work.hedged[0..<window.count])
    if let repaired = lowerWindowPeak(searched, window: window, limit: limit, topology: topology, policy: policy) {
      return sortedWithinGPUs(repaired, topology: topology)
    }
    // EPLB's placement of the hedged load, then of the window, each improved by the swap search
    // (the window's peak weighing as all blocks, then dominating).
    for (start, weight) in [(hedged[...], 1.0), (window, 1000.0)] {
      let eplb = Planner.place(start, topology: topology, policy: policy, algorithm: .deepseek, scratch: scratch)
      var phy2log = eplb.physicalToLogical
      phy2log.withUnsafeMutableBufferPointer { p2l in
        eplb.logicalCount.withUnsafeBufferPointer { cnt in
          improve(
            slots: p2l.baseAddress!, replicas: topology.replicas, gpus: topology.gpus,
            nodes: policy == .hierarchical ? topology.nodes : 1, table: work.table, experts: window.count,
            blockCount: work.blockCount, logcnt: cnt.baseAddress!, budget: budget, windowWeight: weight, work: work)
        }
      }
      let candidate = LayerPlacement(physicalToLogical: phy2log, logicalCount: eplb.logicalCount)
      if Planner.evaluate(candidate, load: window, topology: topology).peak <= limit {
        return sortedWithinGPUs(candidate, topology: topology)
      }
    }
    let spread = spreadSpares(single, window: window, hedged: hedged, limit: limit, topology: topology, policy: policy)
    let chosen = Planner.evaluate(spread, load: window, topology: topology).peak <= limit ? spread : single
    return sortedWithinGPUs(chosen, topology: topology)
  }

  /// `placement` with each GPU's slots in increasing expert order, as steps 0 to 3 leave them.
  static func sortedWithinGPUs(_ placement: LayerPlacement, topology: Topology) -> LayerPlacement {
    var phy2log = placement.physicalToLogical
    let per = topology.slotsPerGPU
    for first in stride(from: 0, to: phy2log.count, by: per) { phy2log[first..<(first + per)].sort() }
    return LayerPlacement(physicalToLogical: phy2log, logicalCount: placement.logicalCount)
  }

  /// Steps 0 to 3 of `place`.
  static func placeSearched(
    window: ArraySlice<Double>, scenarios: [LoadMatrix], row: Int, topology: Topology, policy: PlacementPolicy,
    budget: Int = evaluationsPerLayer, work: RobustScratch
  ) -> LayerPlacement {
    let experts = window.count
    let table = work.table
    let count = fillTable(window: window, scenarios: scenarios, row: row, work: work)
    work.blockCount = count
    // Step 2: groups onto nodes for the samples' peaks, then FlashLB inside each node on the
    // scaled samples (counts and LPT chosen together on mean + 0.674 σ, per-sample score).
    let initial = hedgedPlacement(
      table: table, samples: count, experts: experts, topology: topology, policy: policy)
    // Step 3: swap search within the nodes, then each GPU's slots in increasing expert order.
    let nodes = policy == .hierarchical ? topology.nodes : 1
    var phy2log = initial.physicalToLogical
    phy2log.withUnsafeMutableBufferPointer { p2l in
      initial.logicalCount.withUnsafeBufferPointer { cnt in
        improve(
          slots: p2l.baseAddress!, replicas: topology.replicas, gpus: topology.gpus, nodes: nodes, table: table,
          experts: experts, blockCount: count, logcnt: cnt.baseAddress!, budget: budget,
          windowWeight: 1, work: work)
      }
      sortEachGPU(p2l, per: topology.slotsPerGPU)
    }
    return LayerPlacement(physicalToLogical: phy2log, logicalCount: initial.logicalCount)
  }

  /// Steps 0 and 1 of `place`: fills `work.table` with the scenarios of row `row` that fit
  /// (`experts` wide, a positive sum, at most `work.blockCapacity`), each scaled to the window's
  /// total, then the window, scenario-major: `table[k · experts + e]`; and `work.hedged`
  /// (`[experts]`) with the hedged load. Returns the scenarios taken (`blockCount`).
  private static func fillTable(
    window: ArraySlice<Double>, scenarios: [LoadMatrix], row: Int, work: RobustScratch
  ) -> Int {
    let experts = window.count
    var count = 0
    let table = work.table
    let total = window.withUnsafeBufferPointer { Summation.sum($0.baseAddress!, experts) }
    window.withUnsafeBufferPointer { w in
      for m in scenarios where m.experts == experts && m.layers > row && count < work.blockCapacity {
        m.values.withUnsafeBufferPointer { v in
          let src = v.baseAddress! + row * experts
          let s = Summation.sum(src, experts)
          guard s > 0 else { return }
          let scale = total > 0 ? total / s : 1
          let column = table + count * experts
          for e in 0..<experts { column[e] = src[e] * scale }
          count += 1
        }
      }
      let windowColumn = table + count * experts
      for e in 0..<experts { windowColumn[e] = w[e] }
      hedge(window: w.baseAddress!, blocks: max(count, 1), experts: experts, work: work)
    }
    return count
  }

  /// Step 1: `work.hedged[e] = max(window[e], mean + σ)` over the first `blocks` columns of
  /// `work.table` (`[blocks][experts]`; with no scenarios, column 0 is the window itself).
  /// Scenario by scenario over all experts, so the loops run across experts (each expert's sums
  /// still add its scenarios in order). `work.doubles` holds the mean and variance, `[experts]`
  /// each, free until `improve`.
  private static func hedge(window w: UnsafePointer<Double>, blocks: Int, experts: Int, work: RobustScratch) {
    let table = work.table
    let inverse = 1 / Double(blocks)
    let mean = work.doubles, variance = work.doubles + experts
    for e in 0..<experts {
      mean[e] = 0
      variance[e] = 0
    }
    for k in 0..<blocks {
      let column = table + k * experts
      for e in 0..<experts { mean[e] += column[e] }
    }
    for e in 0..<experts { mean[e] *= inverse }
    for k in 0..<blocks {
      let column = table + k * experts
      for e in 0..<experts {
        let d = column[e] - mean[e]
        variance[e] += d * d
      }
    }
    work.hedged.withUnsafeMutableBufferPointer { hedged in
      for e in 0..<experts { hedged[e] = max(w[e], mean[e] + (variance[e] * inverse).squareRoot()) }
    }
  }

  /// The end of step 3: each GPU's `per` slots of `p2l` (`[replicas]`, GPU-major) in increasing
  /// expert order.
  private static func sortEachGPU(_ p2l: UnsafeMutableBufferPointer<Int>, per: Int) {
    // A GPU holds a handful of slots. Up to 16: each slot goes to the rank of its
    // (expert, slot) key among the GPU's, counted from the sign bit of a difference. (An
    // insertion sort mispredicted about once per slot; so did the count written as a
    // comparison, which LLVM compiled to a branch.)
    if per <= 16 {
      withUnsafeTemporaryAllocation(of: Int.self, capacity: per) { keys in
        for first in stride(from: 0, to: p2l.count, by: per) {
          let slots = p2l.baseAddress! + first
          for k in 0..<per { keys[k] = slots[k] << 4 | k }  // expert indices are < 2^59
          for i in 0..<per {
            let x = keys[i]
            var rank = 0
            for j in 0..<per { rank &+= Int(bitPattern: UInt(bitPattern: keys[j] &- x) >> 63) }
            slots[rank] = x >> 4
          }
        }
      }
      return
    }
    // More: insertion sort.
    for first in stride(from: 0, to: p2l.count, by: per) {
      let slots = p2l.baseAddress! + first
      for k in 1..<max(per, 1) {
        let e = slots[k]
        var j = k
        while j > 0 && slots[j - 1] > e {
          slots[j] = slots[j - 1]
          j -= 1
        }
        slots[j] = e
      }
    }
  }

  /// Swaps replicas between GPUs of a node to lower Σ over scenarios of the cluster's peak
  /// GPU load plus the window's peak times `windowWeight · blockCount` (at least 10⁻⁶: a
  /// tie-break); with `windowWeight ≥ 1` the window's peak also makes a node or GPU worth
  /// searching.
  ///
  /// Only a node that holds the cluster's peak in some scenario can lower that sum, so the
  /// budget goes to those nodes, in rounds (a node searched again only after another node
  /// changed); each is searched with the heaviest GPU of the other nodes, per scenario, as a
  /// floor under its peak (`searchNode`). A node's search costs its evaluations plus a quarter
  /// of its slots (its setup: without that charge, rounds of short searches on several nodes
  /// took 1.5 ms more for 58 layers than the budget suggests). With budget to spare, the result
  /// is a local optimum.
  ///
  /// - parameter slots: `[replicas]`, the expert in each slot, GPU-major, nodes in order;
  ///   rewritten with the improved packing.
  /// - parameter table: `[blockCount + 1][experts]`, the experts' loads in each of the
  ///   `blockCount` scaled scenarios, then in the window; `logcnt`: `[experts]`, replicas per
  ///   expert.
  static func improve(
    slots: UnsafeMutablePointer<Int>, replicas: Int, gpus: Int, nodes: Int, table: UnsafePointer<Double>,
    experts: Int, blockCount: Int, logcnt: UnsafePointer<Int>, budget: Int, windowWeight: Double, work: RobustScratch
  ) {
    let gpusPerNode = gpus / nodes
    guard gpusPerNode > 1, budget > 0 else { return }
    let scenarios = blockCount + 1  // the blocks, then the window itself
    let per = replicas / gpus
    let value = work.doubles  // [replicas][scenarios]: slot i's load in scenario s
    let load = value + scenarios * replicas  // [gpus][scenarios]
    let nodePeak = load + scenarios * gpus  // [nodes][scenarios]
    let floor = nodePeak + scenarios * nodes  // [scenarios]
    for k in 0..<(scenarios * gpus) { load[k] = 0 }
    // GPU by GPU, not `load + (i / per) · scenarios`: no integer division per slot.
    for g in 0..<gpus {
      let l = load + g * scenarios
      for i in (g * per)..<((g + 1) * per) {
        let e = slots[i]
        let share = 1 / Double(logcnt[e])
        let v = value + i * scenarios
        let t = table + e
        for s in 0..<scenarios {
          v[s] = t[s * experts] * share
          l[s] += v[s]
        }
      }
    }
    func measurePeaks(_ n: Int) {
      for s in 0..<scenarios {
        var m = -Double.infinity
        for g in (n * gpusPerNode)..<((n + 1) * gpusPerNode) { m = max(m, load[g * scenarios + s]) }
        nodePeak[n * scenarios + s] = m
      }
    }
    for n in 0..<nodes { measurePeaks(n) }
    // Rounds over the nodes that hold the cluster's peak (first on ties) in some block
    // scenario and were not searched since another node changed; each gets an equal share
    // of the budget left. Ends when no such node is left or the budget is spent.
    let holds = work.ints  // [nodes], 0 or 1
    let searched = holds + nodes  // [nodes], 0 or 1
    for n in 0..<nodes { searched[n] = 0 }
    var left = budget
    while left > 0 {
      for n in 0..<nodes { holds[n] = 0 }
      // The window counts too once it weighs as much as a block.
      for s in 0..<(windowWeight >= 1 ? blockCount + 1 : max(1, blockCount)) {
        var best = 0
        for n in 1..<nodes where nodePeak[n * scenarios + s] > nodePeak[best * scenarios + s] { best = n }
        if searched[best] == 0 { holds[best] = 1 }
      }
      var pending = 0
      for n in 0..<nodes { pending += holds[n] }
      if pending == 0 { break }
      let share = max(1, left / pending)
      for n in 0..<nodes where holds[n] == 1 && left > 0 {
        for s in 0..<scenarios {
          var m = -Double.infinity
          for o in 0..<nodes where o != n { m = max(m, nodePeak[o * scenarios + s]) }
          floor[s] = m
        }
        let (spent, swaps) = searchNode(
          slots: slots + n * gpusPerNode * per, value: value + n * gpusPerNode * per * scenarios,
          load: load + n * gpusPerNode * scenarios, floor: floor, count: gpusPerNode * per, gpus: gpusPerNode,
          scenarios: scenarios, budget: min(share, left), windowWeight: windowWeight, doubles: floor + scenarios,
          ints: searched + nodes)
        left -= spent + gpusPerNode * per / 4
        searched[n] = 1
        if swaps > 0 {
          measurePeaks(n)
          for o in 0..<nodes where o != n { searched[o] = 0 }
        }
      }
    }
  }

  /// The swap search of one node: takes the first improving swap found from a GPU that is the
  /// peak of some scenario, until none improves or `budget` evaluations are spent. Returns the
  /// evaluations spent and the swaps made.
  ///
  /// The scan over items on a peak GPU resumes after the item of the last accepted swap
  /// (wrapping around) rather than restarting at item 0, so pairs that just failed are not
  /// priced again first; it stops when a whole round finds no improving swap. Candidates are
  /// visited GPU by GPU: the load of the heaviest GPU other than the pair, per scenario, is
  /// the same for every item of a GPU pair and is computed once per pair. A swap changes two
  /// GPUs only, so it is priced in O(scenarios) from the three heaviest GPUs of each scenario,
  /// the floor counting as one more GPU that never moves.
  ///
  /// - parameter slots: `[count]`, the node's slots, GPU-major with `count / gpus` per GPU;
  ///   `value`: `[count][scenarios]`, each slot's load, rewritten with the slots; `load`: `[gpus][scenarios]`, each
  ///   GPU's, kept up to date; `floor`: `[scenarios]`, the heaviest GPU outside the node.
  /// - parameter doubles: working memory, `[(4 + count + gpus) · scenarios]`; `ints`:
  ///   `[(3 + 2 · gpus) · scenarios + 4 · count + 4 · gpus]`.
  static func searchNode(
    slots: UnsafeMutablePointer<Int>, value: UnsafeMutablePointer<Double>, load: UnsafeMutablePointer<Double>,
    floor: UnsafePointer<Double>, count n: Int, gpus: Int, scenarios: Int, budget: Int, windowWeight: Double,
    doubles: UnsafeMutablePointer<Double>, ints: UnsafeMutablePointer<Int>
  ) -> (evaluations: Int, swaps: Int) {
    guard budget > 0 else { return (0, 0) }
    var search = NodeSearch(
      slots: slots, value: value, load: load, floor: floor, count: n, gpus: gpus, scenarios: scenarios,
      budget: budget, windowWeight: windowWeight, doubles: doubles, ints: ints)
    for s in 0..<scenarios { search.rank(s) }
    search.tolerance = 1e-12 * search.objective()
    // Rounds: each makes the first improving swap found, or ends the search.
    while search.evaluations < budget && search.markCritical() > 0 && search.scanRound() {}
    if search.swaps > 0 { search.writeBack() }
    return (min(search.evaluations, budget), search.swaps)
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

/// `Robust`'s buffers for layers of one shape, reused from layer to layer.
/// Not thread-safe: one per thread.
final class RobustScratch {
  /// How many scenarios fit (`max(1, blocks)`).
  let blockCapacity: Int
  /// The scenarios of the layer being placed (`table`'s columns before the window's).
  var blockCount = 0
  /// `[experts]`, the hedged load of the layer being placed.
  var hedged: [Double]
  /// `[blockCapacity + 1][experts]`, the experts' scaled loads in each scenario, then in the
  /// window.
  let table: UnsafeMutablePointer<Double>
  /// `Robust.improve`'s working memory: `scenarios · (2 · replicas + 3 · gpus + 6)` values and
  /// `scenarios · (5 + 2 · gpus) + 4 · replicas + 6 · gpus` indices, with
  /// `scenarios = blockCapacity + 1`.
  let doubles: UnsafeMutablePointer<Double>
  let ints: UnsafeMutablePointer<Int>

  init(experts: Int, replicas: Int, gpus: Int, blocks: Int) {
    blockCapacity = max(1, blocks)
    let scenarios = blockCapacity + 1
    hedged = Array(repeating: 0, count: experts)
    table = .allocate(capacity: experts * scenarios + scenarios * (2 * replicas + 3 * gpus + 6))
    doubles = table + experts * scenarios
    ints = .allocate(capacity: scenarios * (5 + 2 * gpus) + 4 * replicas + 6 * gpus)
  }

  deinit {
    table.deallocate()
    ints.deallocate()
  }
}

/// `Robust.searchNode`'s state for one node: views into the caller's working memory and the
/// search's counters. Item i is the node's slot i at the start; swaps move items between GPUs
/// (`gpuOf`, `member`, `slotOf`) and the slots are rewritten once at the end (`writeBack`).
private struct NodeSearch {
  /// `[n]`, the node's slots, GPU-major with `per` per GPU.
  let slots: UnsafeMutablePointer<Int>
  /// `[n][scenarios]`, each item's load (rows follow the slots after `writeBack`).
  let value: UnsafeMutablePointer<Double>
  /// `[gpus][scenarios]`, each GPU's load, kept up to date.
  let load: UnsafeMutablePointer<Double>
  /// `[scenarios]`, the heaviest GPU outside the node.
  let floor: UnsafePointer<Double>
  let n: Int, gpus: Int, per: Int, scenarios: Int, budget: Int
  /// The scenarios whose peak makes a GPU worth searching: all, or the blocks only when the
  /// window weighs less than one block.
  let marked: Int
  /// `[scenarios][3]`, the three heaviest GPUs' loads, the floor counting as GPU −2.
  let topLoad: UnsafeMutablePointer<Double>
  /// `[scenarios]`: 1 per block, `max(10⁻⁶, windowWeight · blocks)` for the window.
  let weight: UnsafeMutablePointer<Double>
  /// `[gpus][scenarios]`, per partner GPU: the heaviest GPU outside the pair.
  let othersOf: UnsafeMutablePointer<Double>
  /// `[scenarios][3]`, the three heaviest GPUs; −1 marks an empty place.
  let topGPU: UnsafeMutablePointer<Int>
  /// `[n]` each: item i's GPU and expert; item i is `member[gpuOf[i] · per + slotOf[i]]`.
  let gpuOf: UnsafeMutablePointer<Int>
  let expertOf: UnsafeMutablePointer<Int>
  let slotOf: UnsafeMutablePointer<Int>
  /// `[gpus][per]`, the items on each GPU.
  let member: UnsafeMutablePointer<Int>
  /// `[gpus]`, 0 or 1: the GPU holds the peak of a marked scenario.
  let critical: UnsafeMutablePointer<Int>
  /// Per partner GPU gj, for the current gi and top three (`pairStamp[gj] == stamp`): the
  /// heaviest GPU outside the pair (`othersOf`) and the active and passive scenarios, `[gpus]`
  /// counts and `[gpus][scenarios]` lists (see `setUpPair`).
  let pairStamp: UnsafeMutablePointer<Int>
  let activeCount: UnsafeMutablePointer<Int>
  let passiveCount: UnsafeMutablePointer<Int>
  let activeOf: UnsafeMutablePointer<Int>
  let passiveOf: UnsafeMutablePointer<Int>
  var stamp = 0
  /// The gi that `stamp` was set for.
  var stampGPU = -1
  var evaluations = 0, swaps = 0
  /// Where the scan over items resumes.
  var start = 0
  /// Smallest gain accepted (rounding): 10⁻¹² of the objective.
  var tolerance = 0.0

  /// Lays out `searchNode`'s working memory (`doubles`, `ints`; sizes there) and the items.
  init(
    slots: UnsafeMutablePointer<Int>, value: UnsafeMutablePointer<Double>, load: UnsafeMutablePointer<Double>,
    floor: UnsafePointer<Double>, count n: Int, gpus: Int, scenarios: Int, budget: Int, windowWeight: Double,
    doubles: UnsafeMutablePointer<Double>, ints: UnsafeMutablePointer<Int>
  ) {
    (self.slots, self.value, self.load, self.floor) = (slots, value, load, floor)
    (self.n, self.gpus, self.per, self.scenarios, self.budget) = (n, gpus, n / gpus, scenarios, budget)
    marked = windowWeight >= 1 ? scenarios : max(1, scenarios - 1)
    topLoad = doubles
    weight = topLoad + scenarios * 3
    othersOf = weight + scenarios
    topGPU = ints
    gpuOf = topGPU + scenarios * 3
    expertOf = gpuOf + n
    member = expertOf + n
    slotOf = member + n
    critical = slotOf + n
    pairStamp = critical + gpus
    activeCount = pairStamp + gpus
    passiveCount = activeCount + gpus
    activeOf = passiveCount + gpus
    passiveOf = activeOf + gpus * scenarios
    for g in 0..<gpus { pairStamp[g] = -1 }
    for s in 0..<scenarios { weight[s] = s == scenarios - 1 ? max(1e-6, windowWeight * Double(scenarios - 1)) : 1.0 }
    var g = 0, slot = 0  // item i is slot `slot` of GPU g
    for i in 0..<n {
      gpuOf[i] = g
      expertOf[i] = slots[i]
      member[i] = i
      slotOf[i] = slot
      slot += 1
      if slot == per { (g, slot) = (g + 1, 0) }
    }
  }

  /// The three heaviest GPUs of scenario s, the floor first (GPU −2), then the node's GPUs in
  /// order (the first on ties); −1 marks an empty place.
  func rank(_ s: Int) {
    var l0 = floor[s], l1 = -Double.infinity, l2 = -Double.infinity
    var g0 = -2, g1 = -1, g2 = -1
    // Branch-free insertion into the top three (selects, no jumps: the loads are random).
    for g in 0..<gpus {
      let x = load[g * scenarios + s]
      let above0 = x > l0, above1 = x > l1, above2 = x > l2
      l2 = above1 ? l1 : (above2 ? x : l2)
      g2 = above1 ? g1 : (above2 ? g : g2)
      l1 = above0 ? l0 : (above1 ? x : l1)
      g1 = above0 ? g0 : (above1 ? g : g1)
      l0 = above0 ? x : l0
      g0 = above0 ? g : g0
    }
    topLoad[s * 3] = l0
    topLoad[s * 3 + 1] = l1
    topLoad[s * 3 + 2] = l2
    topGPU[s * 3] = g0
    topGPU[s * 3 + 1] = g1
    topGPU[s * 3 + 2] = g2
  }

  /// The top three of scenario s after GPUs a and b changed: the best three of the old top
  /// three outside the pair and the pair itself, when the third of them still ranks at or
  /// above the old third (every other GPU ranks below it); else a full scan.
  func rerank(_ s: Int, _ a: Int, _ b: Int) {
    let t = topGPU + s * 3, l = topLoad + s * 3
    guard gpus > 3 else { return rank(s) }
    let oldLoad = l[2], oldGPU = t[2]
    var c0 = (load[a * scenarios + s], a), c1 = (-Double.infinity, -1), c2 = (-Double.infinity, -1)
    @inline(__always) func before(_ x: (Double, Int), _ y: (Double, Int)) -> Bool {
      x.0 > y.0 || (x.0 == y.0 && x.1 < y.1)
    }
    @inline(__always) func insert(_ x: (Double, Int)) {
      if before(x, c0) {
        (c2, c1, c0) = (c1, c0, x)
      } else if before(x, c1) {
        (c2, c1) = (c1, x)
      } else if before(x, c2) {
        c2 = x
      }
    }
    insert((load[b * scenarios + s], b))
    for k in 0..<3 where t[k] != a && t[k] != b { insert((l[k], t[k])) }
    guard c2.1 != -1, !before((oldLoad, oldGPU), c2) else { return rank(s) }
    (l[0], t[0]) = c0
    (l[1], t[1]) = c1
    (l[2], t[2]) = c2
  }

  /// Σ weight · peak.
  func objective() -> Double {
    var f = 0.0
    for s in 0..<scenarios { f += weight[s] * topLoad[s * 3] }
    return f
  }

  /// Marks the GPUs holding the peak of a marked scenario (`critical`); returns how many marked
  /// scenarios have their peak on this node.
  func markCritical() -> Int {
    for g in 0..<gpus { critical[g] = 0 }
    var peaks = 0
    for s in 0..<marked where topGPU[s * 3] >= 0 {
      critical[topGPU[s * 3]] = 1
      peaks += 1
    }
    return peaks
  }

  /// One round of the scan over the items on critical GPUs, from `start` (wrapping around):
  /// makes the first improving swap and returns true; false when none improves or the budget
  /// is spent.
  mutating func scanRound() -> Bool {
    stamp += 1  // the top three may have changed: no pair setup carries over
    stampGPU = -1
    var i = start &- 1
    for _ in 0..<n {
      i = i == n &- 1 ? 0 : i &+ 1  // (start + step) mod n, without a division
      let gi = gpuOf[i]
      if critical[gi] == 0 { continue }
      if gi != stampGPU {
        stamp += 1
        stampGPU = gi
      }
      for gj in 0..<gpus where gj != gi {
        if pairStamp[gj] != stamp { setUpPair(gi, gj) }
        for k in 0..<per {
          let j = member[gj * per + k]
          if expertOf[j] == expertOf[i] { continue }
          evaluations += 1
          if evaluations > budget { return false }
          if improves(i, on: gi, with: j, on: gj) {
            swapItems(i, on: gi, with: j, on: gj)
            return true
          }
        }
      }
    }
    return false
  }

  /// The setup of GPU pair (gi, gj), the same for every item of gi until a swap. Per scenario:
  /// the heaviest GPU outside the pair; active scenarios: the pair holds their peak, so the swap
  /// may lower it, and their peak after the swap is at least the heaviest GPU outside the pair;
  /// passive ones: their peak stays or grows.
  @inline(__always)
  func setUpPair(_ gi: Int, _ gj: Int) {
    let others = othersOf + gj * scenarios
    let active = activeOf + gj * scenarios
    let passive = passiveOf + gj * scenarios
    pairStamp[gj] = stamp
    var na = 0, np = 0
    for s in 0..<scenarios {
      let t0 = topGPU[s * 3], t1 = topGPU[s * 3 + 1]
      others[s] = t1 != gi && t1 != gj ? topLoad[s * 3 + 1] : topLoad[s * 3 + 2]
      let isActive = t0 == gi || t0 == gj
      active[na] = s
      passive[np] = s
      na &+= isActive ? 1 : 0
      np &+= isActive ? 0 : 1
    }
    activeCount[gj] = na
    passiveCount[gj] = np
  }

  /// Whether swapping item i (on gi) with item j (on gj) lowers Σ weight · peak by more than
  /// `tolerance`. Δ = Σ weight · (peak after − peak before): the active terms first, then the
  /// passive ones (each ≥ 0) until Δ is no longer an improvement. Needs the pair's setup.
  @inline(__always)
  func improves(_ i: Int, on gi: Int, with j: Int, on gj: Int) -> Bool {
    let vi = value + i * scenarios, vj = value + j * scenarios
    let li = load + gi * scenarios, lj = load + gj * scenarios
    let others = othersOf + gj * scenarios
    let active = activeOf + gj * scenarios
    let passive = passiveOf + gj * scenarios
    let na = activeCount[gj], np = passiveCount[gj]
    var delta = 0.0
    for a in 0..<na {
      let s = active[a]
      let d = vj[s] - vi[s]
      delta += weight[s] * (max(others[s], li[s] + d, lj[s] - d) - topLoad[s * 3])
    }
    if delta >= -tolerance { return false }
    for p in 0..<np {
      let s = passive[p]
      let d = vj[s] - vi[s]
      let rise = max(li[s] + d, lj[s] - d) - topLoad[s * 3]
      if rise > 0 {
        delta += weight[s] * rise
        if delta >= -tolerance { return false }
      }
    }
    return delta < -tolerance
  }

  /// Swaps item i (on gi) with item j (on gj): the GPUs' loads and top threes, the items'
  /// places, the tolerance, and `start` just after i.
  mutating func swapItems(_ i: Int, on gi: Int, with j: Int, on gj: Int) {
    let vi = value + i * scenarios, vj = value + j * scenarios
    let li = load + gi * scenarios, lj = load + gj * scenarios
    for s in 0..<scenarios {
      let d = vj[s] - vi[s]
      li[s] += d
      lj[s] -= d
      rerank(s, gi, gj)
    }
    let si = slotOf[i], sj = slotOf[j]
    member[gi * per + si] = j
    member[gj * per + sj] = i
    slotOf[i] = sj
    slotOf[j] = si
    gpuOf[i] = gj
    gpuOf[j] = gi
    swaps += 1
    tolerance = 1e-12 * objective()
    start = i == n - 1 ? 0 : i + 1
  }

  /// Slot k now holds item member[k]: its expert, and its values (for a later search). Only
  /// slots whose item moved change; their rows are gathered first (`gpuOf` is free now).
  func writeBack() {
    let moved = othersOf + gpus * scenarios  // [≤ n][scenarios]
    let changed = gpuOf  // [≤ n]
    var c = 0
    for k in 0..<n where member[k] != k {
      let i = member[k]
      for s in 0..<scenarios { moved[c * scenarios + s] = value[i * scenarios + s] }
      changed[c] = k
      c += 1
    }
    for q in 0..<c {
      let k = changed[q]
      slots[k] = expertOf[member[k]]
      for s in 0..<scenarios { value[k * scenarios + s] = moved[q * scenarios + s] }
    }
  }
}
