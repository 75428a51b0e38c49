import EPBPlanner
import EPBStore

extension Ingestor {
  /// Records the placement an engine is running (SGLang's `physical_to_logical_map` JSON, as
  /// `epbctl export --format sglang` writes it) as a snapshot of `series`, so it can be diffed
  /// against and planned from.
  ///
  /// Statistics are computed on `window` of the series; layers whose window load is all zero
  /// (dense layers) are recorded as skipped. The snapshot's algorithm is `imported`.
  ///
  /// - parameter gpus, nodes, groups, policy: the cluster the placement runs on (the file gives
  ///   the replicas per layer).
  /// - throws: `InputError`, `ParseError` (bad file, expert ids outside the series),
  ///   `TopologyError` (replicas not a multiple of `gpus`, …), `InputError` when the file's
  ///   layer count differs from the series', and `StoreError`. Nothing is stored on error.
  public func recordPlacement(
    path: String, series: String, gpus: Int, nodes: Int, groups: Int, policy: PlacementPolicy, window: WindowSpec,
    toolVersion: String
  ) throws -> SnapshotRecord {
    let info = try store.series(named: series)
    let bytes = try Self.read(path: path)
    let batch = try PlacementParser.parseSGLang(bytes, source: path, experts: info.experts)
    guard batch.layers == info.layers else {
      throw InputError(
        path: path, message: "the placement has \(plural(batch.layers, "layer")), series '\(series)' has \(info.layers)")
    }
    // The slot count comes from the map, not from a --replicas flag (this command has none).
    if batch.replicas % gpus != 0 {
      throw InputError(
        path: path,
        message: "the map has \(batch.replicas) slots per layer, which --gpus \(gpus) does not divide; "
          + "give the GPUs the placement runs on")
    }
    let topology = Topology(replicas: batch.replicas, gpus: gpus, nodes: nodes, groups: groups)
    let load = try store.windowLoad(series: series, window: window)
    var placements: [Int: LayerPlacement] = [:]
    for (layer, placement) in batch.placements.enumerated() { placements[layer] = placement }
    let plan = try Planner.describe(
      placements, loads: load.loads, layerIDs: load.layers, topology: topology, policy: policy)
    let parameters =
      "{\"source\":\"\(path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\","
      + "\"sha256\":\"\(SHA256.hex(of: bytes))\",\"gpus\":\(gpus),\"nodes\":\(nodes),\"groups\":\(groups)}"
    return try store.saveSnapshot(
      NewSnapshot(
        series: series, algorithm: Planner.importedAlgorithmName, plan: plan, windowFrom: load.from,
        windowTo: load.to, windowSteps: load.steps, halfLife: load.halfLife, baseSnapshotID: nil,
        toolVersion: toolVersion, parameters: parameters))
  }
}
