import Dispatch

/// The public entry points of the planner. Pure: no I/O, no global state.
public enum Planner {
  /// Places one layer's logical experts onto `topology.replicas` slots.
  ///
  /// - parameter load: `[experts]`, the layer's load (tokens over a window).
  /// - parameter policy: `.hierarchical` or `.global` (`.auto` is resolved with `Topology.resolve`).
  /// - returns: `phy2log [replicas]` and `logcnt [experts]`.
  ///
  /// Decisions are made in `Float`, like eplb.py (which casts the loads to float32), so the
  /// result is eplb.py's placement exactly; see `EPLB`. The topology must have passed
  /// `Topology.validate(experts:policy:)`.
  public static func placeLayer(
    _ load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm
  ) -> LayerPlacement {
    if algorithm == .robust {
      return Robust.placeLayer(window: load, scenarios: [], topology: topology, policy: topology.resolve(policy))
    }
    let scratch = Scratch<Float>(experts: load.count, replicas: topology.replicas, gpus: topology.gpus)
    if algorithm.isPeer {
      return Peers.place(
        window: load, scenarios: [], row: 0, base: nil, topology: topology, policy: topology.resolve(policy),
        algorithm: algorithm, scratch: scratch)
    }
    return place(load, topology: topology, policy: topology.resolve(policy), algorithm: algorithm, scratch: scratch)
  }

  /// `placeLayer` for every row of `loads` (`[layers][experts]`), with one set of scratch
  /// buffers for all of them: the placements alone, without `plan`'s statistics.
  ///
  /// - returns: one placement per row, in row order (all-zero rows are placed too).
  public static func placeLayers(
    _ loads: LoadMatrix, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm
  ) throws(TopologyError) -> [LayerPlacement] {
    try topology.validate(experts: loads.experts, policy: policy)
    let resolved = topology.resolve(policy)
    let scratch = Scratch<Float>(experts: loads.experts, replicas: topology.replicas, gpus: topology.gpus)
    if algorithm == .robust {
      let work = RobustScratch(experts: loads.experts, replicas: topology.replicas, gpus: topology.gpus, blocks: 0)
      return (0..<loads.layers).map {
        Robust.place(
          window: loads.row($0), scenarios: [], row: $0, topology: topology, policy: resolved, scratch: scratch,
          work: work)
      }
    }
    if algorithm.isPeer {
      return (0..<loads.layers).map {
        Peers.place(
          window: loads.row($0), scenarios: [], row: $0, base: nil, topology: topology, policy: resolved,
          algorithm: algorithm, scratch: scratch)
      }
    }
    return (0..<loads.layers).map {
      place(loads.row($0), topology: topology, policy: resolved, algorithm: algorithm, scratch: scratch)
    }
  }

  /// `placeLayer` with caller-owned scratch buffers. `policy` is resolved (not `.auto`).
  static func place(
    _ load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm,
    scratch: Scratch<Float>
  ) -> LayerPlacement {
    let experts = load.count
    let replicas = topology.replicas
    let (groups, nodes) = policy == .hierarchical ? (topology.groups, topology.nodes) : (1, 1)
    let weight = scratch.layer.weight
    var i = 0
    for v in load {
      weight[i] = Float(v)
      i += 1
    }
    scratch.nodesSorted = false
    // Both arrays are written whole by the placement (no zero fill first).
    var logcnt: [Int] = []
    let phy2log = [Int](unsafeUninitializedCapacity: replicas) { p, written in
      logcnt = [Int](unsafeUninitializedCapacity: experts) { c, counted in
        if topology.slotsPerGPU > 1 {
          EPLB.placeHierarchicalFast(
            weight, experts: experts, replicas: replicas, groups: groups, nodes: nodes, gpus: topology.gpus,
            algorithm: algorithm, phy2log: p.baseAddress!, logcnt: c.baseAddress!, scratch: scratch)
        } else {
          EPLB.placeHierarchical(
            weight, experts: experts, replicas: replicas, groups: groups, nodes: nodes, gpus: topology.gpus,
            algorithm: algorithm, phy2log: p.baseAddress!, rank: nil, logcnt: c.baseAddress!, scratch: scratch)
        }
        counted = experts
      }
      written = replicas
    }
    return LayerPlacement(physicalToLogical: phy2log, logicalCount: logcnt)
  }

  /// Evaluates `placement` on `load` (`[experts]`): per-GPU load, peak and mean, in `Double`.
  ///
  /// `gpuLoad[g]` = Σ over GPU g's slots of `load[e] / logcnt[e]`, slots in increasing order.
  /// Complexity O(replicas + gpus).
  public static func evaluate(_ placement: LayerPlacement, load: ArraySlice<Double>, topology: Topology)
    -> LayerEvaluation
  {
    var gpuLoad = [Double](repeating: 0, count: topology.gpus)
    let (peak, total) = load.withUnsafeBufferPointer { w in
      gpuLoad.withUnsafeMutableBufferPointer { g in
        gpuLoads(placement, load: w, slotsPerGPU: topology.slotsPerGPU, into: g)
      }
    }
    return LayerEvaluation(gpuLoad: gpuLoad, peak: peak, mean: total / Double(topology.gpus))
  }

  /// `evaluate`'s arithmetic into caller-owned memory, for loops that evaluate many placements.
  ///
  /// - parameter load: `[experts]`; `gpuLoad`: `[gpus]`, overwritten with each GPU's load.
  /// - returns: the peak GPU load and the total over GPUs (mean = total / gpus).
  public static func gpuLoads(
    _ placement: LayerPlacement, load w: UnsafeBufferPointer<Double>, slotsPerGPU per: Int,
    into g: UnsafeMutableBufferPointer<Double>
  ) -> (peak: Double, total: Double) {
    for k in 0..<g.count { g[k] = 0 }
    placement.physicalToLogical.withUnsafeBufferPointer { p2l in
      placement.logicalCount.withUnsafeBufferPointer { cnt in
        // GPU by GPU rather than `g[slot / per]`: the same additions in the same order,
        // without an integer division per slot.
        var slot = 0
        var gpu = 0
        while slot < p2l.count {
          var sum = g[gpu]
          let end = Swift.min(slot + per, p2l.count)
          while slot < end {
            let e = p2l[slot]
            sum += w[e] / Double(cnt[e])
            slot += 1
          }
          g[gpu] = sum
          gpu += 1
        }
      }
    }
    var peak = 0.0, total = 0.0
    for v in g {
      peak = max(peak, v)
      total += v
    }
    return (peak, total)
  }

  /// The statistics of `placement` on `load`, with the no-replication baseline and the lower bound.
  ///
  /// - parameter load: `[experts]`. `policy`: resolved like `placeLayer` does.
  ///
  /// `noReplicationPeak`: the peak GPU load when every expert has exactly one replica, placed
  /// by the same policy (replication is then a no-op for every algorithm) onto the same GPUs,
  /// i.e. EPLB with `replicas = experts`. When `experts` is not a multiple of `gpus` that
  /// placement does not exist; the fallback is greedy LPT packing: experts heaviest first (lower
  /// index on ties), each onto the currently lightest GPU (lowest index on ties), with no limit
  /// on experts per GPU and no node constraint.
  ///
  /// `lowerBound`: max(total / gpus, t*), where t* is the smallest achievable maximum load per
  /// replica with `replicas` replicas and at least one per expert. Any placement has a GPU with
  /// at least the mean and a slot holding at least t*. D'Hondt's greedy (one more replica to
  /// the largest `load / count`) attains t*; it runs on a heap in O(experts + added · log
  /// experts), in `Double`.
  public static func statistics(
    of placement: LayerPlacement, load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy,
    algorithm: PlacementAlgorithm
  ) -> LayerStatistics {
    let scratch = Scratch<Float>(experts: load.count, replicas: topology.replicas, gpus: topology.gpus)
    return statistics(
      of: placement, load: load, topology: topology, policy: topology.resolve(policy), algorithm: algorithm,
      scratch: scratch)
  }

  /// `statistics` with caller-owned scratch. `groupsPacked`: `scratch.layer.mlog2log`
  /// already holds the group → node packing of this `load` under `policy` (as `place` leaves
  /// them), so the no-replication baseline reuses it.
  static func statistics(
    of placement: LayerPlacement, load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy,
    algorithm: PlacementAlgorithm, scratch: Scratch<Float>, groupsPacked: Bool = false
  ) -> LayerStatistics {
    let evaluation = evaluate(placement, load: load, topology: topology)
    let noRep = noReplicationPeak(
      load, topology: topology, policy: policy, algorithm: algorithm, scratch: scratch, groupsPacked: groupsPacked)
    let bound = max(
      evaluation.mean, maxLoadPerReplicaLowerBound(load, replicas: topology.replicas, scratch: scratch.statistics))
    return LayerStatistics(evaluation: evaluation, noReplicationPeak: noRep, lowerBound: bound)
  }

  /// See `statistics(of:load:topology:policy:algorithm:)`. `policy` is resolved.
  ///
  /// With one replica per expert, EPLB's replication is the identity and its step 3 packs each
  /// node's experts by load; the peak depends only on the per-GPU multisets of loads, so
  /// experts of equal load are interchangeable (tie class: the load's bits) and the packing
  /// rarely needs the exact sort. GPU loads are summed in slot order, as `evaluate` does.
  /// Complexity O(experts · log(GPUs per node)) plus the sorts.
  static func noReplicationPeak(
    _ load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm,
    scratch: Scratch<Float>, groupsPacked: Bool = false
  ) -> Double {
    let experts = load.count
    let gpus = topology.gpus
    let (groups, nodes) = policy == .hierarchical ? (topology.groups, topology.nodes) : (1, 1)
    let gpuLoad = scratch.statistics.gpuLoad
    for g in 0..<gpus { gpuLoad[g] = 0 }
    let feasible = experts % gpus == 0 && experts % groups == 0 && groups % nodes == 0 && gpus % nodes == 0
    return load.withUnsafeBufferPointer { w in
      if feasible {
        let weight = scratch.layer.weight
        for e in 0..<experts { weight[e] = Float(w[e]) }
        if !groupsPacked {
          EPLB.packGroups(weight, experts: experts, groups: groups, nodes: nodes, scratch: scratch)
        }
        let per = experts / gpus
        let packing = NoReplicationPacking(
          w: w, scratch: scratch, gpuLoad: gpuLoad, per: per, perNode: experts / nodes, gpusPerNode: gpus / nodes,
          reuse: groupsPacked && scratch.nodesSorted && per > 1)
        var nonNegative = true
        for e in 0..<experts { nonNegative = nonNegative && w[e] >= 0 }
        for node in 0..<nodes {
          if per > 1 && nonNegative && packing.packSorted(node) { continue }
          packing.packBalanced(node)
        }
      } else {
        // Greedy LPT fallback: heaviest expert first onto the lightest GPU.
        let order = (0..<experts).sorted { w[$0] > w[$1] || (w[$0] == w[$1] && $0 < $1) }
        for e in order {
          var best = 0
          for g in 1..<max(gpus, 1) where gpuLoad[g] < gpuLoad[best] { best = g }
          gpuLoad[best] += w[e]
        }
      }
      var peak = 0.0
      for g in 0..<gpus { peak = max(peak, gpuLoad[g]) }
      return peak
    }
  }

  /// t*: the smallest possible maximum of `load[e] / count[e]` over integer counts ≥ 1 summing
  /// to `replicas`, by D'Hondt's greedy on a heap, in `Double`. `load`: `[experts]`.
  ///
  /// Only experts heavier than `total / replicas` enter the heap. Why the others never gain a
  /// replica and never hold the maximum: while picks remain (Σ count < replicas), suppose the
  /// largest `load / count` were some `v ≤ total / replicas`; then every
  /// `load[e] ≤ count[e] · v`, so `total ≤ v · Σ count < v · replicas ≤ total` (for `v > 0`), a
  /// contradiction. So each pick takes a value above `total / replicas`, which only those
  /// experts have, and t* ≥ total / replicas ≥ every load left out. The experts left out keep
  /// one replica each, so the same holds for the others with the replicas left to them: up to
  /// three rounds of this filter. Each threshold is lowered by 1e-9 of itself so that the
  /// rounding of the sums cannot raise it above the exact quotient. With a negative or NaN load
  /// or a total of 0 or less every expert enters the heap. O(experts + picks · log(candidates)),
  /// the candidates gathered without data-dependent branches.
  static func maxLoadPerReplicaLowerBound(
    _ load: ArraySlice<Double>, replicas: Int, scratch: Scratch<Float>.Statistics
  )
    -> Double
  {
    let n = load.count
    if n == 0 { return 0 }
    let value = scratch.value
    let count = scratch.count
    let heap = scratch.heap
    return load.withUnsafeBufferPointer { w in
      let total = Summation.sum(w.baseAddress!, n)
      var unusual = false
      for e in 0..<n where !(w[e] >= 0) { unusual = true }
      for e in 0..<n { heap[e] = e }
      var m = n
      if replicas > n && !unusual && total > 0 {
        // The same argument holds again for the candidates alone, with the replicas left to
        // them (one each went to the experts left out): a few rounds shrink the heap further.
        var left = Double(replicas)
        var sum = total
        for _ in 0..<3 {
          let floor = sum / left * (1 - 1e-9)
          var kept = 0
          var keptSum = 0.0
          for i in 0..<m {
            let e = heap[i]
            heap[kept] = e
            // `w[e] > floor` as the sign bit of `floor - w[e]` (neither is NaN; equal gives
            // +0): as a comparison, LLVM branched on it, mispredicted about every other expert.
            let bit = Int(truncatingIfNeeded: (floor - w[e]).bitPattern >> 63)
            kept &+= bit
            keptSum += w[e] * Double(bit)
          }
          if kept == m { break }
          if kept == 0 {  // only by rounding (some candidate is above their mean): all experts
            for e in 0..<n { heap[e] = e }
            m = n
            break
          }
          left -= Double(m - kept)
          sum = keptSum
          m = kept
        }
      }
      for i in 0..<m {
        let e = heap[i]
        value[e] = w[e]
        count[e] = 1
      }
      // Larger value first; ties in any order (only the values matter here).
      @inline(__always) func before(_ a: Int, _ b: Int) -> Bool { value[a] > value[b] }
      IndexHeap.heapify(heap, count: m, by: before)
      for _ in 0..<max(0, replicas - n) {
        let top = heap[0]
        count[top] += 1
        value[top] = w[top] / Double(count[top])
        IndexHeap.siftDown(heap, count: m, from: 0, by: before)
      }
      return value[heap[0]]
    }
  }

  /// Plans every row of `loads`; rows whose load is all zero are skipped.
  ///
  /// - parameter loads: `[layerIDs.count][experts]`.
  /// - parameter layerIDs: the series layer id of each row.
  /// - throws: `TopologyError` when the topology cannot place `loads.experts` experts.
  ///
  /// One set of scratch buffers per thread serves its layers. Complexity per layer: see `EPLB`.
  ///
  /// - parameter scenarios: for the algorithms that `usesScenarios` (`robust`, `flashlb`,
  ///   `deepseek-vec`), block sums of the window's steps, each `[layerIDs.count][experts]` (see
  ///   `Robust.blockSums`); ignored by the other algorithms.
  /// - parameter base: for `swift-balancer` (`usesBase`), the current placement of each layer id
  ///   (same topology); layers without one start as `SwiftBalancer` says. Ignored by the others.
  /// - parameter distinctPerGPU: no GPU may hold two replicas of one expert: every algorithm's
  ///   placement goes through `enforceDistinctPerGPU` (layers that already comply are unchanged);
  ///   it then also throws `TopologyError` for a layer where that cannot be done.
  /// - parameter threads: layers planned at once (at least 1); any number gives the same plan.
  public static func plan(
    _ loads: LoadMatrix, layerIDs: [Int], topology: Topology, policy: PlacementPolicy,
    algorithm: PlacementAlgorithm, scenarios: [LoadMatrix] = [], base: [Int: LayerPlacement] = [:],
    distinctPerGPU: Bool = false, threads: Int = 1
  ) throws(TopologyError) -> Plan {
    precondition(layerIDs.count == loads.layers, "one layer id per row")
    precondition(threads >= 1, "at least one thread")
    try topology.validate(experts: loads.experts, policy: policy)
    let resolved = topology.resolve(policy)
    var nonZero: [Int] = [], skipped: [Int] = []
    for (row, layer) in layerIDs.enumerated() {
      if loads.row(row).allSatisfy({ $0 == 0 }) { skipped.append(layer) } else { nonZero.append(row) }
    }
    let rows = nonZero
    var planned = [PlannedLayer?](repeating: nil, count: rows.count)
    // Layers are independent: each worker plans every `workers`-th of them with its own scratch
    // buffers, so the plan is the same for any number of threads.
    let workers = min(threads, rows.count)
    planned.withUnsafeMutableBufferPointer { out in
      // Each worker writes only its own elements of `out`.
      nonisolated(unsafe) let out = out
      let planRows = { @Sendable (worker: Int) in
        let planner = LayerPlanner(
          experts: loads.experts, topology: topology, policy: resolved, algorithm: algorithm,
          blocks: scenarios.count)
        for k in stride(from: worker, to: rows.count, by: max(workers, 1)) {
          let row = rows[k]
          out[k] = planner.plan(
            row: row, layer: layerIDs[row], loads: loads, scenarios: scenarios, base: base[layerIDs[row]])
        }
      }
      if workers > 1 {
        DispatchQueue.concurrentPerform(iterations: workers, execute: planRows)
      } else if workers == 1 {
        planRows(0)
      }
    }
    let result = Plan(
      topology: topology, policy: resolved, algorithm: algorithm, layers: planned.map { $0! },
      skippedLayers: skipped)
    return distinctPerGPU ? try enforceDistinctPerGPU(result, loads: loads, layerIDs: layerIDs) : result
  }
}

/// One thread's share of `Planner.plan`: its scratch buffers and the choice of algorithm.
private struct LayerPlanner {
  let topology: Topology
  /// Resolved.
  let policy: PlacementPolicy
  let algorithm: PlacementAlgorithm
  let scratch: Scratch<Float>
  let work: RobustScratch?

  init(experts: Int, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm, blocks: Int) {
    self.topology = topology
    self.policy = policy
    self.algorithm = algorithm
    scratch = Scratch<Float>(experts: experts, replicas: topology.replicas, gpus: topology.gpus)
    work =
      algorithm == .robust
      ? RobustScratch(experts: experts, replicas: topology.replicas, gpus: topology.gpus, blocks: blocks) : nil
  }

  /// Row `row` of `loads` (layer id `layer`, not all zero), placed and evaluated.
  func plan(row: Int, layer: Int, loads: LoadMatrix, scenarios: [LoadMatrix], base: LayerPlacement?)
    -> PlannedLayer
  {
    let load = loads.row(row)
    let placement =
      if let work {
        Robust.place(
          window: load, scenarios: scenarios, row: row, topology: topology, policy: policy, scratch: scratch,
          work: work)
      } else if algorithm.isPeer {
        Peers.place(
          window: load, scenarios: scenarios, row: row, base: base, topology: topology, policy: policy,
          algorithm: algorithm, scratch: scratch)
      } else {
        Planner.place(load, topology: topology, policy: policy, algorithm: algorithm, scratch: scratch)
      }
    let stats = Planner.statistics(
      of: placement, load: load, topology: topology, policy: policy, algorithm: algorithm, scratch: scratch,
      groupsPacked: work == nil && !algorithm.isPeer)
    return PlannedLayer(layer: layer, placement: placement, statistics: stats)
  }
}

/// `Planner.noReplicationPeak`'s packing when the shapes divide: one replica per expert, `per`
/// per GPU, each node's `perNode` experts (`scratch.layer.mlog2log`, node-major, groups packed) onto
/// its `gpusPerNode` GPUs, adding their loads (`w`, `[experts]`, in tokens) to `gpuLoad`
/// (`[gpus]`) in slot order. `scratch.layer.weight` holds `w` as `Float`; the packing's working
/// memory is `scratch.statistics` and `scratch.packing`.
private struct NoReplicationPacking {
  let w: UnsafeBufferPointer<Double>
  let scratch: Scratch<Float>
  let gpuLoad: UnsafeMutablePointer<Double>
  let weight: UnsafeMutablePointer<Float>
  let mlog2log: UnsafeMutablePointer<Int>
  let per: Int, perNode: Int, gpusPerNode: Int
  /// `scratch.layer.nodeKeys` holds each node's sorted keys (`scratch.nodesSorted`, from the
  /// placement just made of this load).
  let reuse: Bool

  init(
    w: UnsafeBufferPointer<Double>, scratch: Scratch<Float>, gpuLoad: UnsafeMutablePointer<Double>, per: Int,
    perNode: Int, gpusPerNode: Int, reuse: Bool
  ) {
    (self.w, self.scratch, self.gpuLoad) = (w, scratch, gpuLoad)
    (weight, mlog2log) = (scratch.layer.weight, scratch.layer.mlog2log)
    (self.per, self.perNode, self.gpusPerNode, self.reuse) = (per, perNode, gpusPerNode, reuse)
  }

  /// Fast path: the node's experts as sorted keys of their `Float` loads, from the placement
  /// just made (`EPLB.placeHierarchicalFast`, keys of the same loads) or sorted here, packed
  /// in that order (`PackTree`). Exact when every run of equal `Float` values holds equal loads
  /// (interchangeable): returns false, with nothing added, when one does not. Needs `per > 1`
  /// and no negative or NaN load.
  @inline(__always)
  func packSorted(_ node: Int) -> Bool {
    var keys = scratch.layer.nodeKeys + node * perNode
    if !reuse {
      let fresh = scratch.statistics.keys  // [perNode], then the sorted keys [perNode]
      for j in 0..<perNode { fresh[j] = FastOrder.key(weight[mlog2log[node * perNode + j]], j) }
      keys = fresh + perNode
      FastOrder.sortIndexed(fresh, into: keys, count: perNode)
    }
    for s in 1..<perNode where FastOrder.sameValue(keys[s - 1], keys[s]) {
      let a = mlog2log[node * perNode + FastOrder.index(keys[s - 1])]
      let b = mlog2log[node * perNode + FastOrder.index(keys[s])]
      if w[a].bitPattern != w[b].bitPattern { return false }
    }
    var tree = PackTree(packs: gpusPerNode, perPack: per, nonNegative: true, scratch: scratch.packing)
    for s in 0..<perNode {
      let e = mlog2log[node * perNode + FastOrder.index(keys[s])]
      let (gpu, _) = tree.add(weight[e])
      gpuLoad[node * gpusPerNode + gpu] += w[e]
    }
    return true
  }

  /// The node packed as EPLB's step 3 does (`EPLB.packBalanced`, experts of equal load bits
  /// in one tie class).
  func packBalanced(_ node: Int) {
    let tokens = scratch.statistics.tokens
    let tieClass = scratch.statistics.tieClass
    let slots = scratch.statistics.slots
    let packIndex = scratch.statistics.packIndex
    let rankInPack = scratch.statistics.rankInPack
    let base = node * perNode
    for j in 0..<perNode {
      let e = mlog2log[base + j]
      tokens[j] = weight[e]
      tieClass[j] = Int(bitPattern: UInt(w[e].bitPattern))
    }
    EPLB.packBalanced(
      tokens, count: perNode, packs: gpusPerNode, packIndex: packIndex, rankInPack: rankInPack,
      tieClass: tieClass, scratch: scratch.packing)
    for j in 0..<perNode { slots[packIndex[j] * per + rankInPack[j]] = j }
    for s in 0..<perNode { gpuLoad[node * gpusPerNode + s / per] += w[mlog2log[base + slots[s]]] }
  }
}
