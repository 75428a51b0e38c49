import EPBEngines
import EPBPlanner
import Foundation
import Testing

@testable import EPBReport

/// A structural fingerprint of parsed JSON: objects by their keys (in order of the sorted keys) and
/// the fingerprints of their values, arrays by the fingerprint of their first element.
func jsonShape(_ value: Any) -> String {
  if let object = value as? [String: Any] {
    return "{" + object.keys.sorted().map { "\($0): \(jsonShape(object[$0]!))" }.joined(separator: ", ") + "}"
  }
  if let array = value as? [Any] { return "[" + (array.first.map(jsonShape) ?? "") + "]" }
  if value is NSNumber { return "number" }
  return "\(type(of: value))"
}

func parseJSON(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

/// Five series layers, layer 0 dense; layers 2 and 4 planned with the fixture placements A and B.
@Suite struct ExportTests {
  static func export() throws -> PlacementExport {
    let side = Fixtures.side(id: 9, layers: [2, 4], placements: [Fixtures.phy2logA, Fixtures.phy2logB])
    return try PlacementExport(side, layerIDs: Array(0..<5), experts: 5, denseLayers: [0])
  }

  static let trivial = [0, 1, 2, 3, 4, 0, 1, 2]  // slot % 5 over 8 slots

  @Test func sglangMatchesTheEngineSample() throws {
    // SGLang, python/sglang/srt/eplb/expert_location.py, compute_initial_expert_location_metadata:
    // a `--init-expert-location` path ending in .json is json-loaded and, when it has
    // "physical_to_logical_map", splatted into ExpertLocationMetadata.init_by_mapping(**data_dict)
    // as a (layers, num_physical_experts) tensor, so the object must hold that one key.
    let sample = #"{"physical_to_logical_map": [[0, 1, 2, 3], [3, 2, 1, 0]]}"#
    let text = try Self.export().render(.sglang)
    let ours = try parseJSON(text)
    #expect(jsonShape(ours) == jsonShape(try parseJSON(sample)))
    let map = try #require((ours as? [String: Any])?["physical_to_logical_map"] as? [[Int]])
    // Every series layer; dense layer 0 and unplanned 1, 3 keep the trivial map.
    #expect(map == [Self.trivial, Self.trivial, Fixtures.phy2logA, Self.trivial, Fixtures.phy2logB])
    #expect(text.hasSuffix("]\n}\n"))
  }

  @Test func vllmAscendMatchesTheEngineSample() throws {
    // vLLM Ascend: vllm_ascend/eplb/core/eplb_utils.py export_tensor_to_file writes, and
    // vllm_ascend/ops/expert_load_balancer.py _expert_file_to_tensor reads ("moe_layer_count",
    // layer_list[*].device_count, device_list[*].device_expert):
    let sample = """
      {"moe_layer_count": 2, "layer_list": [
        {"layer_id": 0, "device_count": 2, "device_list": [
          {"device_id": 0, "device_expert": [0, 1]}, {"device_id": 1, "device_expert": [2, 3]}]},
        {"layer_id": 1, "device_count": 2, "device_list": [
          {"device_id": 0, "device_expert": [4, 5]}, {"device_id": 1, "device_expert": [6, 7]}]}]}
      """
    // Placement B holds expert 0 twice on GPU 0 (and 4 twice on GPU 2), which vLLM-Ascend
    // refuses: layer 4 gets a placement with distinct experts per device instead.
    let side = Fixtures.side(id: 9, layers: [2, 4], placements: [Fixtures.phy2logA, Self.distinctB])
    let export = try PlacementExport(side, layerIDs: Array(0..<5), experts: 5, denseLayers: [0])
    let ours = try parseJSON(try export.render(.vllmAscend))
    #expect(jsonShape(ours) == jsonShape(try parseJSON(sample)))
    let root = try #require(ours as? [String: Any])
    // MoE layers only (dense layer 0 dropped), counted from 0: series layers 1, 2, 3, 4.
    #expect(root["moe_layer_count"] as? Int == 4)
    let layers = try #require(root["layer_list"] as? [[String: Any]])
    #expect(layers.map { $0["layer_id"] as? Int } == [0, 1, 2, 3])
    #expect(layers.allSatisfy { $0["device_count"] as? Int == 4 })
    let devices = try #require(layers[1]["device_list"] as? [[String: Any]])  // series layer 2 = A
    #expect(devices.map { $0["device_id"] as? Int } == [0, 1, 2, 3])
    #expect(devices.map { $0["device_expert"] as? [Int] } == [[0, 1], [2, 3], [4, 0], [1, 2]])
    let trivialDevices = try #require(layers[0]["device_list"] as? [[String: Any]])
    #expect(trivialDevices.map { $0["device_expert"] as? [Int] } == [[0, 1], [2, 3], [4, 0], [1, 2]])
    let last = try #require(layers[3]["device_list"] as? [[String: Any]])  // series layer 4 = B
    #expect(last.map { $0["device_expert"] as? [Int] } == [[0, 3], [1, 4], [2, 3], [0, 4]])
  }

  /// Placement B with no expert twice on one GPU (2 slots per GPU): devices [0, 3], [1, 4],
  /// [2, 3], [0, 4]; experts 0, 3, 4 have two replicas, 1 and 2 one.
  static let distinctB = [0, 3, 1, 4, 2, 3, 0, 4]

  @Test func vllmAscendRefusesTwoReplicasOnOneDevice() throws {
    // vllm_ascend/eplb/core/eplb_utils.py init_eplb_config maps each expert to one local slot
    // per device (`expert_map[local_placement] = arange(...)`), and the EPLB worker's
    // check_expert_placement refuses "Replicated experts are placed on the same NPU".
    // B = [0, 0 | 3, 1 | 4, 4 | 3, 2]: expert 0 twice on GPU 0, expert 4 twice on GPU 2.
    #expect(throws: ExportError.replicasOnOneGPU(format: .vllmAscend, layer: 4, gpu: 0, expert: 0, layers: 1, slots: 2))
    {
      try Self.export().render(.vllmAscend)
    }
    let message =
      "vllm-ascend refuses two replicas of one expert on one device, and this snapshot has 2 such slots "
      + "in 1 layer (first: layer 4, GPU 0, expert 0); plan with --distinct-per-gpu"
    #expect(
      ExportError.replicasOnOneGPU(format: .vllmAscend, layer: 4, gpu: 0, expert: 0, layers: 1, slots: 2).description
        == message)
    // SGLang and TensorRT-LLM accept them.
    #expect(try Self.export().render(.sglang).contains("physical_to_logical_map"))
    #expect(try Self.export().render(.trtllm).contains("num_slots: 8"))
  }

  /// Top-level keys in order, and `initial_global_assignments` as (layer, [ids]) pairs, from our
  /// restricted YAML: `key: value` lines and two-space-indented `layer: [ids]` lines.
  static func readYAML(_ text: String) -> (keys: [String], scalars: [String: Int], assignments: [(Int, [Int])]) {
    var keys: [String] = [], scalars: [String: Int] = [:], assignments: [(Int, [Int])] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      if line.hasPrefix("  ") {
        let parts = line.dropFirst(2).split(separator: ":", maxSplits: 1)
        let list = parts[1].trimmingCharacters(in: .whitespaces)
        let inner = list.dropFirst().dropLast()  // strip [ ]
        let ids = inner.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) ?? -1 }
        assignments.append((Int(parts[0]) ?? -1, ids))
      } else {
        let parts = line.split(separator: ":", maxSplits: 1)
        keys.append(String(parts[0]))
        if parts.count == 2, let v = Int(parts[1].trimmingCharacters(in: .whitespaces)) {
          scalars[String(parts[0])] = v
        }
      }
    }
    return (keys, scalars, assignments)
  }

  @Test func trtllmMatchesTheDocumentedYAML() throws {
    // TensorRT-LLM, examples/wide_ep/ep_load_balancer/README.md ("The ./moe_load_balancer.yaml file
    // would look like"), with the elisions filled in; `initial_global_assignments` maps the model's
    // MoE layer index to num_slots expert ids (MoeLoadBalancerConfig in tensorrt_llm/llmapi/llm_args.py).
    let sample = """
      initial_global_assignments:
        3: [138, 81, 60, 69, 250, 77]
        4: [24, 243, 72, 90, 251, 52]
      num_slots: 6
      layer_updates_per_iter: 0
      """
    let reference = Self.readYAML(sample)
    let text = try Self.export().render(.trtllm)
    let ours = Self.readYAML(text)
    #expect(ours.keys == reference.keys)
    #expect(ours.scalars == ["num_slots": 8, "layer_updates_per_iter": 0])
    #expect(reference.assignments.allSatisfy { $0.1.count == reference.scalars["num_slots"] })
    // MoE layers by their model layer id (dense layer 0 omitted), num_slots ids each.
    #expect(ours.assignments.map(\.0) == [1, 2, 3, 4])
    #expect(ours.assignments.map(\.1) == [Self.trivial, Fixtures.phy2logA, Self.trivial, Fixtures.phy2logB])
    #expect(text.contains("\n  2: [0, 1, 2, 3, 4, 0, 1, 2]\n"))
  }

  @Test func oursIsLosslessForPlannedLayers() throws {
    let ours = try #require(try parseJSON(try Self.export().render(.json)) as? [String: Any])
    #expect(ours["format"] as? String == "epbctl-placement")
    #expect(ours["snapshot"] as? Int == 9)
    #expect(ours["layers"] as? Int == 5)
    #expect(ours["dense_layers"] as? [Int] == [0])
    let placements = try #require(ours["placements"] as? [[String: Any]])
    #expect(placements.map { $0["layer"] as? Int } == [2, 4])
    #expect(placements.map { $0["phy2log"] as? [Int] } == [Fixtures.phy2logA, Fixtures.phy2logB])
    #expect(placements[1]["logcnt"] as? [Int] == [2, 1, 1, 2, 2])
  }

  @Test func rejectsInconsistentSnapshots() {
    let side = Fixtures.side(id: 9, layers: [2, 4], placements: [Fixtures.phy2logA, Fixtures.phy2logB])
    #expect(throws: ExportError.layerNotInSeries(layer: 4, layerIDs: [0, 1, 2, 3])) {
      try PlacementExport(side, layerIDs: Array(0..<4), experts: 5)
    }
    #expect(throws: ExportError.layerNotInSeries(layer: 2, layerIDs: [3, 4])) {
      try PlacementExport(side, layerIDs: [3, 4], experts: 5)
    }
    #expect(throws: ExportError.denseLayerOutOfRange(layer: 4096)) {
      try PlacementExport(side, layerIDs: Array(0..<5), experts: 5, denseLayers: [4096])
    }
    #expect(throws: ExportError.denseLayerPlanned(layer: 2)) {
      try PlacementExport(side, layerIDs: Array(0..<5), experts: 5, denseLayers: [2])
    }
    let missing = Fixtures.side(id: 9, layers: [1], placements: [[0, 1, 2, 3, 0, 1, 2, 3]])
    #expect(throws: ExportError.malformedPlacement(layer: 1, reason: "expert 4 has no replica")) {
      try PlacementExport(missing, layerIDs: Array(0..<5), experts: 5)
    }
    #expect(ExportFormat(rawValue: "vllm-ascend") == .vllmAscend)
    #expect(ExportFormat.allCases.map(\.rawValue) == ["sglang", "vllm-ascend", "trtllm", "json"])
  }
}
