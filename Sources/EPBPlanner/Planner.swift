/// The public entry points of the planner. Pure: no I/O, no global state.
public enum Planner {
  /// Places one layer's logical experts onto `topology.replicas` slots.
  ///
  /// - parameter load: `[experts]`, the layer's load (tokens over a window).
  /// - parameter policy: `.hierarchical` or `.global` (resolve `.auto` with `Topology.resolve` first).
  /// - returns: `phy2log [replicas]` and `logcnt [experts]`.
  public static func placeLayer(
    _ load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm
  ) -> LayerPlacement {
    // Placeholder until the EPLB port lands: the trivial map slot % experts.
    let experts = load.count
    return LayerPlacement(physicalToLogical: (0..<topology.replicas).map { $0 % experts }, experts: experts)
  }

  /// Evaluates `placement` on `load` (`[experts]`): per-GPU load, peak and mean.
  public static func evaluate(_ placement: LayerPlacement, load: ArraySlice<Double>, topology: Topology)
    -> LayerEvaluation
  {
    let per = topology.slotsPerGPU
    var gpuLoad = Array(repeating: 0.0, count: topology.gpus)
    let base = load.startIndex
    for (slot, e) in placement.physicalToLogical.enumerated() {
      gpuLoad[slot / per] += load[base + e] / Double(placement.logicalCount[e])
    }
    let peak = gpuLoad.max() ?? 0
    let total = gpuLoad.reduce(0, +)
    return LayerEvaluation(gpuLoad: gpuLoad, peak: peak, mean: total / Double(topology.gpus))
  }

  /// The statistics of `placement` on `load`, with the no-replication baseline and the lower bound.
  public static func statistics(
    of placement: LayerPlacement, load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy,
    algorithm: PlacementAlgorithm
  ) -> LayerStatistics {
    let evaluation = evaluate(placement, load: load, topology: topology)
    return LayerStatistics(evaluation: evaluation, noReplicationPeak: evaluation.peak, lowerBound: evaluation.mean)
  }

  /// Plans every row of `loads`; rows whose load is all zero are skipped.
  ///
  /// - parameter loads: `[layerIDs.count][experts]`.
  /// - parameter layerIDs: the series layer id of each row.
  /// - throws: `TopologyError` when the topology cannot place `loads.experts` experts.
  public static func plan(
    _ loads: LoadMatrix, layerIDs: [Int], topology: Topology, policy: PlacementPolicy,
    algorithm: PlacementAlgorithm
  ) throws(TopologyError) -> Plan {
    precondition(layerIDs.count == loads.layers, "one layer id per row")
    try topology.validate(experts: loads.experts, policy: policy)
    let resolved = topology.resolve(policy)
    var planned: [PlannedLayer] = []
    var skipped: [Int] = []
    for (row, layer) in layerIDs.enumerated() {
      let load = loads.row(row)
      if load.allSatisfy({ $0 == 0 }) {
        skipped.append(layer)
        continue
      }
      let placement = placeLayer(load, topology: topology, policy: resolved, algorithm: algorithm)
      let stats = statistics(of: placement, load: load, topology: topology, policy: resolved, algorithm: algorithm)
      planned.append(PlannedLayer(layer: layer, placement: placement, statistics: stats))
    }
    return Plan(topology: topology, policy: resolved, algorithm: algorithm, layers: planned, skippedLayers: skipped)
  }
}
