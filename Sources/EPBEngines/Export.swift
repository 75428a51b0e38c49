import EPBPlanner

/// The placement files `epbctl export --format F` writes, one per serving engine.
public enum ExportFormat: String, Sendable, CaseIterable, Codable {
  /// SGLang's `--init-expert-location FILE.json`: `{"physical_to_logical_map": [L][R]}`.
  case sglang
  /// vLLM Ascend's expert map (`expert_map_path`): `{"moe_layer_count", "layer_list": [...]}`.
  case vllmAscend = "vllm-ascend"
  /// TensorRT-LLM's MoE load balancer YAML: `initial_global_assignments`, `num_slots`, `layer_updates_per_iter`.
  case trtllm
  /// epbctl's own compact JSON: the planned layers with `phy2log` and `logcnt`.
  case json

  /// The usual file extension, without the dot.
  public var fileExtension: String { self == .trtllm ? "yaml" : "json" }
}

/// Why a snapshot cannot be exported.
public enum ExportError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A planned layer id is not one of the series' model layer ids (`layerIDs`, increasing).
  case layerNotInSeries(layer: Int, layerIDs: [Int])
  /// A dense layer id is past the largest layer id an engine file holds (4095).
  case denseLayerOutOfRange(layer: Int)
  /// A dense layer (no experts) is also a planned layer.
  case denseLayerPlanned(layer: Int)
  /// A placement does not fit the topology or the expert count.
  case malformedPlacement(layer: Int, reason: String)
  /// The topology cannot hold a placement (`replicas` not a positive multiple of `gpus`).
  case badTopology(replicas: Int, gpus: Int)
  /// A GPU holds two replicas of one expert, which the format's engine refuses (vLLM-Ascend:
  /// "Replicated experts are placed on the same NPU"); `slots` counts such slots over all layers.
  case replicasOnOneGPU(format: ExportFormat, layer: Int, gpu: Int, expert: Int, layers: Int, slots: Int)

  public var description: String {
    switch self {
    case .layerNotInSeries(let layer, let layerIDs):
      return "planned layer \(layer) is not a layer of the series (layers \(LayerIDs.describe(layerIDs)))"
    case .denseLayerOutOfRange(let layer):
      return "dense layer \(layer) is past the largest layer id, \(PlacementExport.maxLayerID)"
    case .denseLayerPlanned(let layer):
      return "layer \(layer) is listed as dense but the snapshot plans it"
    case .malformedPlacement(let layer, let reason):
      return "layer \(layer) has a malformed placement: \(reason)"
    case .badTopology(let r, let g):
      return "--replicas \(r) is not a positive multiple of --gpus \(g)"
    case .replicasOnOneGPU(let format, let layer, let gpu, let expert, let layers, let slots):
      return "\(format.rawValue) refuses two replicas of one expert on one device, and this snapshot has "
        + "\(slots) such \(slots == 1 ? "slot" : "slots") in \(layers) \(layers == 1 ? "layer" : "layers") "
        + "(first: layer \(layer), GPU \(gpu), expert \(expert)); plan with --distinct-per-gpu"
    }
  }
}

/// A snapshot's placement laid out for a whole model, ready to render for an engine.
///
/// The series holds the model layers `layerIDs` (the model's own ids, increasing); the snapshot
/// plans some of them. Layers it does not plan keep the trivial placement every engine starts
/// from, `phy2log[s] = s % experts` (SGLang's `ExpertLocationMetadata.init_trivial`, vLLM Ascend's
/// `generate_global_placement`, TensorRT-LLM's default assignment). Dense layers (without routed
/// experts, DeepSeek-V3's 0 to 2) are `denseLayers` and every id below the series' largest that
/// the series does not hold: SGLang still expects a row for them (its map is
/// `[num_hidden_layers][R]`, one row per model layer, and `init_trivial` fills dense rows with
/// the trivial map too), vLLM Ascend and TensorRT-LLM list MoE layers only.
///
/// Example:
///
///     // A MoE-only series of DeepSeek-V3: layers 3 to 60.
///     let export = try PlacementExport(side, layerIDs: Array(3...60), experts: 256)
///     print(try export.render(.sglang))  // 61 rows, 0 to 2 trivial
public struct PlacementExport: Sendable, Equatable {
  public var side: PlacementSide
  /// The series' model layer ids, increasing.
  public var layerIDs: [Int]
  /// Logical experts per layer.
  public var experts: Int
  /// Layers without routed experts, increasing: the ones given, and the ids below the series'
  /// largest that it does not hold.
  public var denseLayers: [Int]

  /// The largest layer id an export writes (`IngestLimits.maxLayers` − 1).
  public static let maxLayerID = 4095

  /// Checks the snapshot against the series.
  ///
  /// - parameter layerIDs: the series' model layer ids, increasing.
  /// - parameter denseLayers: layers without routed experts (model ids, 0 to `maxLayerID`); ids
  ///   the series does not hold are dense anyway.
  /// - throws: `ExportError.layerNotInSeries`, `.denseLayerPlanned`, `.denseLayerOutOfRange`,
  ///   `.malformedPlacement` (slot count not `replicas`, an expert id out of range, `logcnt` not
  ///   counting `phy2log`, or an expert without a replica), `.badTopology`.
  public init(_ side: PlacementSide, layerIDs: [Int], experts: Int, denseLayers: [Int] = []) throws(ExportError) {
    let t = side.topology
    guard t.gpus > 0, t.replicas > 0, t.replicas % t.gpus == 0 else {
      throw .badTopology(replicas: t.replicas, gpus: t.gpus)
    }
    let held = Set(layerIDs)
    for layer in denseLayers where layer < 0 || layer > Self.maxLayerID { throw .denseLayerOutOfRange(layer: layer) }
    var dense = Set(denseLayers)
    for layer in 0..<((layerIDs.last ?? -1) + 1) where !held.contains(layer) { dense.insert(layer) }
    for (layer, placement) in zip(side.layers, side.placements) {
      guard held.contains(layer) else { throw .layerNotInSeries(layer: layer, layerIDs: layerIDs) }
      if dense.contains(layer) { throw .denseLayerPlanned(layer: layer) }
      let p2l = placement.physicalToLogical
      if p2l.count != t.replicas {
        throw .malformedPlacement(layer: layer, reason: "\(p2l.count) slots for \(t.replicas) replicas")
      }
      var counts = [Int](repeating: 0, count: experts)
      for e in p2l {
        guard e >= 0 && e < experts else {
          throw .malformedPlacement(layer: layer, reason: "expert \(e) is out of range 0 to \(experts - 1)")
        }
        counts[e] += 1
      }
      if let missing = counts.firstIndex(of: 0) {
        throw .malformedPlacement(layer: layer, reason: "expert \(missing) has no replica")
      }
      if counts != placement.logicalCount {
        throw .malformedPlacement(layer: layer, reason: "logcnt does not count phy2log")
      }
    }
    self.side = side
    self.layerIDs = layerIDs
    self.experts = experts
    self.denseLayers = dense.sorted()
  }

  /// `phy2log` of model layer `layer`: the snapshot's, or the trivial `slot % experts`. `[replicas]`.
  public func physicalToLogical(layer: Int) -> [Int] {
    if let p = side.placement(ofLayer: layer) { return p.physicalToLogical }
    return (0..<side.topology.replicas).map { $0 % experts }
  }

  /// The model's layer count as SGLang counts it (`num_hidden_layers`): every id up to the
  /// largest of the series and the dense layers, plus one.
  public var hiddenLayers: Int { max(layerIDs.last ?? -1, denseLayers.last ?? -1) + 1 }

  /// `[hiddenLayers][replicas]`, every model layer `0..<hiddenLayers` in order, dense ones
  /// trivial (SGLang's `physical_to_logical_map`).
  public var physicalToLogicalMap: [[Int]] { (0..<hiddenLayers).map { physicalToLogical(layer: $0) } }

  /// The series' layers with routed experts, increasing model ids (all but `denseLayers`).
  public var moeLayers: [Int] {
    let dense = Set(denseLayers)
    return layerIDs.filter { !dense.contains($0) }
  }

  /// Slots that hold a second (or later) replica of an expert already on the same GPU, over the
  /// planned layers in layer order, GPUs and slots in order: `(layer, gpu, expert)` each.
  public var replicasOnOneGPU: [(layer: Int, gpu: Int, expert: Int)] {
    let per = side.topology.slotsPerGPU
    var found: [(layer: Int, gpu: Int, expert: Int)] = []
    for (layer, placement) in zip(side.layers, side.placements).sorted(by: { $0.0 < $1.0 }) {
      let p2l = placement.physicalToLogical
      for g in 0..<side.topology.gpus {
        var seen = Set<Int>()
        for e in p2l[(g * per)..<((g + 1) * per)] where !seen.insert(e).inserted { found.append((layer, g, e)) }
      }
    }
    return found
  }

  /// The file text for `format`, ending with a newline.
  ///
  /// - throws: `ExportError.replicasOnOneGPU` for `vllmAscend` when a device holds two
  ///   replicas of one expert: vLLM-Ascend maps each expert to one local slot per device
  ///   (`expert_map[local_placement] = arange(...)` in `init_eplb_config`), so the second copy
  ///   would never be used, and its placement check refuses such a map.
  public func render(_ format: ExportFormat) throws(ExportError) -> String {
    switch format {
    case .sglang: return sglang()
    case .vllmAscend:
      let duplicates = replicasOnOneGPU
      if let first = duplicates.first {
        throw .replicasOnOneGPU(
          format: format, layer: first.layer, gpu: first.gpu, expert: first.expert,
          layers: Set(duplicates.map(\.layer)).count, slots: duplicates.count)
      }
      return vllmAscend()
    case .trtllm: return trtllm()
    case .json: return ours()
    }
  }

  /// SGLang: `{"physical_to_logical_map": [[R ints] per layer]}` over model layers
  /// `0..<hiddenLayers` (row k is model layer k; dense and unplanned layers trivial), which
  /// `--init-expert-location` reads into `ExpertLocationMetadata.init_by_mapping` (a
  /// `[num_layers, num_physical_experts]` tensor, `num_layers` = the model's
  /// `num_hidden_layers`). One layer per line.
  public func sglang() -> String {
    JSONValue.object([("physical_to_logical_map", .array(physicalToLogicalMap.map(JSONValue.ints)))])
      .render(pretty: true) + "\n"
  }

  /// vLLM Ascend's expert map: `{"moe_layer_count": M, "layer_list": [{"layer_id": k,
  /// "device_count": G, "device_list": [{"device_id": g, "device_expert": [slotsPerGPU ints]}]}]}`
  /// over the `M` MoE layers in increasing model id; `layer_id` counts MoE layers from 0 (vLLM
  /// Ascend indexes its expert map by MoE layer, `num_hidden_layers − first_k_dense_replace` of
  /// them: model layer 3 of DeepSeek-V3 is `layer_id` 0), and
  /// `device_expert` lists the logical experts of device g's slots in slot order.
  public func vllmAscend() -> String {
    let t = side.topology
    let per = t.slotsPerGPU
    let moe = moeLayers
    let layerList: [JSONValue] = moe.enumerated().map { index, layer in
      let p2l = physicalToLogical(layer: layer)
      let devices: [JSONValue] = (0..<t.gpus).map { g in
        .object([("device_id", .int(g)), ("device_expert", .ints(Array(p2l[(g * per)..<((g + 1) * per)])))])
      }
      return .object([("layer_id", .int(index)), ("device_count", .int(t.gpus)), ("device_list", .array(devices))])
    }
    return JSONValue.object([("moe_layer_count", .int(moe.count)), ("layer_list", .array(layerList))])
      .render(pretty: true) + "\n"
  }

  /// TensorRT-LLM's MoE load balancer config (`MoeLoadBalancerConfig`, given to
  /// `moe_config.load_balancer` as a YAML path), in the key order of its documentation:
  ///
  ///     initial_global_assignments:
  ///       3: [138, 81, 60, ...]
  ///     num_slots: 288
  ///     layer_updates_per_iter: 0
  ///
  /// Keys of `initial_global_assignments` are the model's layer ids of the MoE layers (dense layers
  /// omitted), each a list of `num_slots` expert ids; `layer_updates_per_iter: 0` asks for a static
  /// placement. Written by hand: flow sequences of integers need no quoting. No other keys: the
  /// config model rejects unknown ones.
  public func trtllm() -> String {
    var out = "initial_global_assignments:\n"
    for layer in moeLayers {
      out += "  \(layer): [" + physicalToLogical(layer: layer).map(String.init).joined(separator: ", ") + "]\n"
    }
    out += "num_slots: \(side.topology.replicas)\n"
    out += "layer_updates_per_iter: 0\n"
    return out
  }

  /// epbctl's own form, compact and lossless for the planned layers only (unplanned layers are not
  /// invented): `{"format": "epbctl-placement", "version": 1, "snapshot", "algorithm", "policy",
  /// "topology": {"replicas", "gpus", "nodes", "groups"}, "layers", "layer_ids", "experts",
  /// "dense_layers", "placements": [{"layer", "phy2log": [R ints], "logcnt": [E ints]}]}` with
  /// `layers` the series' layer count and `layer_ids` its model layer ids.
  public func ours() -> String {
    let t = side.topology
    let placements: [JSONValue] = zip(side.layers, side.placements).sorted { $0.0 < $1.0 }.map { layer, p in
      .object([("layer", .int(layer)), ("phy2log", .ints(p.physicalToLogical)), ("logcnt", .ints(p.logicalCount))])
    }
    return JSONValue.object([
      ("format", .string("epbctl-placement")),
      ("version", .int(1)),
      ("snapshot", .int(Int(side.id))),
      ("algorithm", .string(side.algorithmLabel)),
      ("policy", .string(t.resolve(side.policy).rawValue)),
      (
        "topology",
        .object([
          ("replicas", .int(t.replicas)), ("gpus", .int(t.gpus)), ("nodes", .int(t.nodes)), ("groups", .int(t.groups)),
        ])
      ),
      ("layers", .int(layerIDs.count)),
      ("layer_ids", .ints(layerIDs)),
      ("experts", .int(experts)),
      ("dense_layers", .ints(denseLayers)),
      ("placements", .array(placements)),
    ]).render(pretty: true) + "\n"
  }
}
