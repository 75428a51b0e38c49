import EPBIngest
import EPBPlanner
import Testing

@testable import EPBEngines

/// Parses `text` as an engine placement of `experts` experts.
func parseEngine(_ text: String, experts: Int, source: String = "p") -> Result<EnginePlacement, ParseError> {
  Result { () throws(ParseError) in try PlacementParser.parse(Array(text.utf8), source: source, experts: experts) }
}

/// vLLM-Ascend's expert map and TensorRT-LLM's load balancer YAML, read by the engines' rules.
@Suite struct EnginePlacementParserTests {
  /// The shape vLLM-Ascend's `_export_tensor_to_file` (vllm_ascend/eplb/adaptor/vllm_adaptor.py)
  /// records and `expert_file_to_tensor` (eplb_utils.py) reads: layer k is layer_list[k],
  /// device g's `device_expert` its slots. Two MoE layers, 2 devices × 3 slots, 4 experts:
  /// layer 0 = [0 1 2 | 3 0 1], layer 1 = [3 2 1 | 0 3 2].
  static let ascend = """
    {
        "moe_layer_count": 2,
        "layer_list": [
            {"layer_id": 0, "device_count": 2, "device_list": [
                {"device_id": 0, "device_expert": [0, 1, 2]}, {"device_id": 1, "device_expert": [3, 0, 1]}]},
            {"layer_id": 1, "device_count": 2, "device_list": [
                {"device_id": 0, "device_expert": [3, 2, 1]}, {"device_id": 1, "device_expert": [0, 3, 2]}]}
        ]
    }
    """

  @Test func readsVLLMAscendExpertMap() throws {
    let file = try #require(parseEngine(Self.ascend, experts: 4).value)
    #expect(file.format == .vllmAscend)
    #expect(file.keys == .moeCounter)
    #expect(file.gpus == 2)
    #expect(file.batch.replicas == 6)
    #expect(file.batch.placements.map(\.physicalToLogical) == [[0, 1, 2, 3, 0, 1], [3, 2, 1, 0, 3, 2]])
    #expect(file.batch.placements.map(\.logicalCount) == [[2, 2, 1, 1], [1, 1, 2, 2]])
  }

  @Test func refusesWhatVLLMAscendCannotLoad() {
    func error(_ text: String, experts: Int = 4) -> ParseError? {
      parseEngine(text, experts: experts, source: "m.json").error
    }
    let layer = #"{"layer_id": 0, "device_count": 1, "device_list": [{"device_id": 0, "device_expert": [0, 1, 2, 3]}]}"#
    // moe_layer_count disagrees with layer_list.
    #expect(error(#"{"moe_layer_count": 2, "layer_list": [\#(layer)]}"#)?.code == .ragged)
    // A layer_id out of position (the loader reads by position).
    let moved = layer.replacingOccurrences(of: #""layer_id": 0"#, with: #""layer_id": 5"#)
    #expect(error(#"{"moe_layer_count": 1, "layer_list": [\#(moved)]}"#)?.location == .element([0]))
    // Devices with different slot counts cannot be stacked into one tensor.
    let ragged =
      #"{"moe_layer_count": 1, "layer_list": [{"device_list": [{"device_expert": [0, 1]}, {"device_expert": [2, 3, 0]}]}]}"#
    let e = error(ragged)
    #expect(e?.code == .ragged)
    #expect(e?.location == .element([0, 1]))
    // An expert id beyond the series, an empty slot (-1), a missing expert, a fraction.
    #expect(
      error(#"{"moe_layer_count": 1, "layer_list": [{"device_list": [{"device_expert": [0, 1, 2, 4]}]}]}"#)?.location
        == .element([0, 0, 3]))
    #expect(
      error(#"{"moe_layer_count": 1, "layer_list": [{"device_list": [{"device_expert": [0, 1, 2, -1]}]}]}"#)?.code
        == .invalidIndex)
    #expect(
      error(#"{"moe_layer_count": 1, "layer_list": [{"device_list": [{"device_expert": [0, 1, 2, 2]}]}]}"#)?.code
        == .missingExpert)
    let fraction = error(
      #"{"moe_layer_count": 1, "layer_list": [{"device_list": [{"device_expert": [0, 1.5, 2, 3]}]}]}"#)
    #expect(fraction?.code == .invalidIndex)
    #expect(fraction?.location == .element([0, 0, 1]))
    #expect(fraction?.description.contains("layer_list[0].device_list[0].device_expert[1]") == true)
    // No layer_list key: a JSON object that is neither map is read as SGLang's and says what it lacks.
    #expect(error(#"{"moe_layer_count": 1}"#)?.code == .missingKey)
    #expect(error(#"{"moe_layer_count": 1, "layer_list": [}"#)?.code == .malformed)
  }

  /// TensorRT-LLM's `MoeLoadBalancerConfig` (tensorrt_llm/llmapi/llm_args.py): a strict model
  /// with `num_slots`, `initial_global_assignments: Dict[int, List[int]]` and
  /// `layer_updates_per_iter`. Layers 3 and 4 of 4 experts on 6 slots, in the block style
  /// PyYAML's `yaml.dump` writes, keys out of order.
  static let trtllm = """
    initial_global_assignments:
      4:
      - 3
      - 2
      - 1
      - 0
      - 3
      - 2
      3: [0, 1, 2, 3, 0, 1]
    layer_updates_per_iter: 0
    num_slots: 6
    """

  @Test func readsTensorRTLLMLoadBalancerYAML() throws {
    let file = try #require(parseEngine(Self.trtllm, experts: 4).value)
    #expect(file.format == .trtllm)
    #expect(file.keys == .layerIDs([3, 4]))
    #expect(file.gpus == nil)
    #expect(file.batch.replicas == 6)
    #expect(file.batch.placements.map(\.physicalToLogical) == [[0, 1, 2, 3, 0, 1], [3, 2, 1, 0, 3, 2]])
    // The same config inside an LLM API options file, under moe_config.load_balancer.
    let nested =
      "moe_config:\n  load_balancer:\n" + Self.trtllm.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
    #expect(try #require(parseEngine(nested, experts: 4).value).keys == .layerIDs([3, 4]))
  }

  @Test func refusesWhatTensorRTLLMRefuses() {
    func error(_ text: String) -> ParseError? { parseEngine(text, experts: 4, source: "lb.yaml").error }
    // The strict model forbids unknown keys; the line is named.
    let unknown = error("num_slots: 4\ninitial_global_assignments: {3: [0, 1, 2, 3]}\nslots_per_gpu: 2\n")
    #expect(unknown?.code == .wrongShape)
    #expect(unknown?.location == .line(3))
    // A list shorter than num_slots.
    let short = error("num_slots: 5\ninitial_global_assignments:\n  3: [0, 1, 2, 3]\n")
    #expect(short?.code == .ragged)
    #expect(short?.location == .line(3))
    #expect(short?.description == "lb.yaml:3: layer 3 has 4 expert ids; num_slots is 5")
    // A layer key given twice, an expert missing, not a number, no assignments, not YAML.
    #expect(error("num_slots: 4\ninitial_global_assignments:\n  3: [0, 1, 2, 3]\n  3: [0, 1, 2, 3]\n") != nil)
    #expect(error("num_slots: 4\ninitial_global_assignments: {3: [0, 1, 2, 2]}\n")?.code == .missingExpert)
    #expect(error("num_slots: 4\ninitial_global_assignments: {3: [0, one, 2, 3]}\n")?.code == .invalidIndex)
    #expect(error("num_slots: 4\n")?.code == .missingKey)
    #expect(error("num_slots: [4\n")?.code == .malformed)
    // A load balancer given as a path in an options file names what to do.
    #expect(error("moe_config:\n  load_balancer: lb.yaml\n")?.description.contains("record that file instead") == true)
  }
}
