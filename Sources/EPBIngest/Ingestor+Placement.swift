import EPBEngines
import EPBPlanner
import EPBStore

extension Ingestor {
  /// Records the placement an engine is running as a snapshot of `series`, so it can be diffed
  /// against and planned from: SGLang's `physical_to_logical_map` JSON (rows are model layers),
  /// vLLM-Ascend's expert map (its `k`-th layer is the series' `k`-th MoE layer, a layer with
  /// load in the window, in increasing id) or TensorRT-LLM's load balancer YAML (keys are model
  /// layer ids);
  /// the same files `epbctl export` writes. `PlacementFormat.detect` tells them apart.
  ///
  /// Statistics are computed on `window` of the series; layers whose window load is all zero
  /// (dense layers) are recorded as skipped. The snapshot's algorithm is `imported`.
  ///
  /// - parameter gpus, nodes, groups, policy: the cluster the placement runs on (the file gives
  ///   the replicas per layer).
  /// - throws: `InputError`, `ParseError` (bad file, expert ids outside the series),
  ///   `TopologyError` (replicas not a multiple of `gpus`, …), `InputError` when the file's
  ///   layers do not match the series' (count, MoE layers, ids) or its device count is not
  ///   `gpus`, and `StoreError`. Nothing is stored on error.
  public func recordPlacement(
    path: String, series: String, gpus: Int, nodes: Int, groups: Int, policy: PlacementPolicy, window: WindowSpec,
    toolVersion: String
  ) throws -> Snapshot {
    let info = try store.series(named: series)
    let bytes = try Self.read(path: path)
    let file = try PlacementParser.parse(bytes, source: path, experts: info.experts)
    if let stated = file.gpus, stated != gpus {
      throw InputError(path: path, message: "the expert map lists \(stated) devices but --gpus is \(gpus)")
    }
    // The slot count comes from the map, not from a --replicas flag (this command has none).
    if file.batch.replicas % gpus != 0 {
      throw InputError(
        path: path,
        message: "the map has \(file.batch.replicas) slots per layer, which --gpus \(gpus) does not divide; "
          + "give the GPUs the placement runs on")
    }
    let topology = Topology(replicas: file.batch.replicas, gpus: gpus, nodes: nodes, groups: groups)
    let load = try store.windowLoad(series: series, window: window)
    let placements = try Self.seriesLayers(of: file, path: path, series: series, layerIDs: info.layerIDs, load: load)
    let plan = try Planner.describe(
      placements, loads: load.loads, layerIDs: load.layers, topology: topology, policy: policy)
    let parameters =
      "{\"source\":\"\(path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\","
      + "\"format\":\"\(file.format.rawValue)\",\"sha256\":\"\(SHA256.hex(of: bytes))\",\"gpus\":\(gpus),\"nodes\":\(nodes),\"groups\":\(groups)}"
    var snapshot = Snapshot(
      series: series, algorithmName: Planner.importedAlgorithmName, plan: plan, windowFrom: load.from,
      windowTo: load.to, windowSteps: load.steps, halfLife: load.halfLife, toolVersion: toolVersion,
      parameters: parameters)
    snapshot.id = try store.saveSnapshot(snapshot)
    return snapshot
  }

  /// The model layer of each placement in `file`: SGLang's rows are model layers `0..<rows`
  /// (row k is layer k; rows of layers the series does not hold are dense and ignored),
  /// TensorRT-LLM's keys are model layer ids, vLLM-Ascend's `layer_id` counts the series' MoE
  /// layers (those with load in the window) in increasing id.
  ///
  /// - parameter layerIDs: the series' model layer ids, increasing.
  /// - throws: `InputError` when the file's layers cannot be the series' layers.
  static func seriesLayers(
    of file: EnginePlacement, path: String, series: String, layerIDs: [Int], load: WindowLoad
  ) throws -> [Int: LayerPlacement] {
    let placements = file.batch.placements
    switch file.keys {
    case .rows:
      let needed = (layerIDs.last ?? -1) + 1
      guard placements.count >= needed else {
        throw InputError(
          path: path,
          message: "the placement has \(plural(placements.count, "layer")) (rows are model layers 0 to "
            + "\(placements.count - 1)), series '\(series)' has layers \(LayerIDs.describe(layerIDs)), so it needs "
            + "at least \(needed) rows")
      }
      return Dictionary(uniqueKeysWithValues: layerIDs.map { ($0, placements[$0]) })
    case .moeCounter:
      // MoE layers are the layers with load in the window (the ones `plan` plans and `export`
      // writes to vLLM-Ascend's map), in layer order.
      let moe = load.layers.enumerated().filter { row, _ in load.loads.row(row).contains { $0 != 0 } }.map(\.element)
      guard placements.count == moe.count else {
        throw InputError(
          path: path,
          message: "the expert map has \(plural(placements.count, "MoE layer")), "
            + "series '\(series)' has \(moe.count) with load in the window (its dense layers have none)")
      }
      return Dictionary(uniqueKeysWithValues: zip(moe, placements).map { ($0, $1) })
    case .layerIDs(let ids):
      let held = Set(layerIDs)
      if let bad = ids.first(where: { !held.contains($0) }) {
        throw InputError(
          path: path,
          message: "layer \(bad) is not a layer of series '\(series)' (layers \(LayerIDs.describe(layerIDs)))")
      }
      return Dictionary(uniqueKeysWithValues: zip(ids, placements).map { ($0, $1) })
    }
  }
}
