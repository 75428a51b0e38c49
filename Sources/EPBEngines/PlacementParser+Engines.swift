import EPBPlanner
import Foundation
import Yams

/// The placement files serving engines read, each of which `ingest --placement` records.
public enum PlacementFormat: String, Sendable, CaseIterable {
  /// SGLang's `--init-expert-location` JSON, `{"physical_to_logical_map": [L][R]}`, one row per
  /// hidden layer (dense layers included).
  case sglang
  /// vLLM-Ascend's expert map JSON (`expert_map_path`, and what `expert_map_record_path`
  /// records): `{"moe_layer_count": M, "layer_list": [{"layer_id", "device_count",
  /// "device_list": [{"device_id", "device_expert": [slots per device]}]}]}`, MoE layers only,
  /// counted from 0.
  case vllmAscend = "vllm-ascend"
  /// TensorRT-LLM's MoE load balancer YAML (`moe_config.load_balancer`): `num_slots`,
  /// `initial_global_assignments` keyed by model layer id, `layer_updates_per_iter`.
  case trtllm
  /// A `torch.save` `.pt` holding SGLang's `physical_to_logical_map` `[L][R]`, or an SGLang
  /// per-pass recorder dump, whose `last_physical_to_logical_map` is the placement at the end
  /// of the run.
  case sglangPT = "sglang-pt"

  /// The format of `bytes`, by content: a zip archive is a `torch.save` file, a JSON object
  /// with a `layer_list` key is vLLM-Ascend's expert map, any other JSON object SGLang's map
  /// (whose parser says what is missing), and anything else TensorRT-LLM's YAML.
  public static func detect(_ bytes: [UInt8]) -> PlacementFormat {
    if bytes.withUnsafeBytes(TorchArchive.looksLikeZip) { return .sglangPT }
    guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
      first == UInt8(ascii: "{")
    else { return .trtllm }
    return bytes.contains(subsequence: Array("\"layer_list\"".utf8)) ? .vllmAscend : .sglang
  }
}

/// Where the layers of a placement file belong in the series.
public enum PlacementLayerKeys: Sendable, Equatable {
  /// `placements[l]` is series layer `l` (SGLang: one row per hidden layer).
  case rows
  /// `placements[k]` is the series' `k`-th MoE layer (vLLM-Ascend numbers MoE layers by their
  /// counter: DeepSeek-V3's layer 3 is its layer 0).
  case moeCounter
  /// `placements[i]` is model layer `ids[i]` (TensorRT-LLM keys assignments by layer id);
  /// increasing.
  case layerIDs([Int])
}

/// A running placement read from one engine's file.
public struct EnginePlacement: Sendable, Equatable {
  public var format: PlacementFormat
  /// The placements, `phy2log [R]` and `logcnt [E]` each.
  public var batch: PlacementBatch
  /// Which series layer each placement is.
  public var keys: PlacementLayerKeys
  /// The device count the file states (vLLM-Ascend's `device_count`), nil when it states none.
  public var gpus: Int?
}

extension PlacementParser {
  /// Reads a placement in any engine's format (`PlacementFormat.detect` unless `format` is
  /// given).
  ///
  /// - parameter experts: the series' logical expert count (ids must be below it and each
  ///   expert needs a replica in every layer).
  /// - throws: `ParseError` naming the file and the element or line.
  public static func parse(
    _ bytes: [UInt8], source: String, experts: Int, format: PlacementFormat? = nil
  ) throws(ParseError) -> EnginePlacement {
    switch format ?? PlacementFormat.detect(bytes) {
    case .sglang:
      return EnginePlacement(
        format: .sglang, batch: try parseSGLang(bytes, source: source, experts: experts), keys: .rows, gpus: nil)
    case .vllmAscend: return try parseVLLMAscend(bytes, source: source, experts: experts)
    case .trtllm: return try parseTRTLLM(bytes, source: source, experts: experts)
    case .sglangPT:
      let rows = try SGLangDump.placementMap(try TorchArchive(bytes, source: source))
      return EnginePlacement(
        format: .sglangPT, batch: try batch(rows: rows, source: source, experts: experts), keys: .rows, gpus: nil)
    }
  }

  /// vLLM-Ascend's expert map, read by the rules of its loader (`expert_file_to_tensor` and
  /// `init_eplb_config` in `vllm_ascend/eplb/core/eplb_utils.py`): layer `k` is
  /// `layer_list[k]` (by position, as the loader indexes it; a `layer_id` that disagrees is
  /// refused), devices in `device_list` order (a `device_id` that disagrees is refused), every
  /// device with the same slot count (the loader stacks them into one tensor), slot `s` of
  /// device `g` is physical slot `g × slots + s`.
  ///
  /// - throws: `ParseError`: `malformed` (not JSON), `missingKey`, `wrongShape`, `ragged`,
  ///   `invalidIndex`, `missingExpert`, `tooLarge`, with the element `[k]`, `[k][g]` or
  ///   `[k][g][s]` (layer, device, slot) where it applies.
  public static func parseVLLMAscend(_ bytes: [UInt8], source: String, experts: Int) throws(ParseError)
    -> EnginePlacement
  {
    func fail(_ at: [Int], _ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: at.isEmpty ? .file : .element(at), code: code, message: message)
    }
    let map: VLLMAscendExpertMap
    do {
      map = try JSONDecoder().decode(VLLMAscendExpertMap.self, from: Data(bytes))
    } catch let error as DecodingError {
      throw fail([], Self.code(of: error), Self.describe(error))
    } catch {
      throw fail([], .malformed, "not valid JSON; expected vLLM-Ascend's expert map")
    }
    let count = map.moeLayerCount
    if map.layerList.isEmpty { throw fail([], .empty, "layer_list is empty; expected one entry per MoE layer") }
    guard count == map.layerList.count else {
      throw fail([], .ragged, "moe_layer_count is \(count) but layer_list has \(map.layerList.count) layers")
    }
    if count > IngestLimits.maxLayers {
      throw fail([], .tooLarge, "\(count) layers; epbctl accepts at most \(IngestLimits.maxLayers)")
    }
    let devices = map.layerList[0].deviceList.count
    let slots = map.layerList[0].deviceList.first?.deviceExpert.count ?? 0
    if devices == 0 { throw fail([0], .empty, "layer_list[0] has no devices") }
    if slots == 0 { throw fail([0, 0], .empty, "device 0 of layer_list[0] has no slots") }
    var placements: [LayerPlacement] = []
    for (k, layer) in map.layerList.enumerated() {
      if let id = layer.layerID, id != k {
        throw fail(
          [k], .invalidIndex, "layer_list[\(k)] has layer_id \(id); vLLM-Ascend reads layers by position, expected \(k)"
        )
      }
      if let stated = layer.deviceCount, stated != layer.deviceList.count {
        throw fail([k], .ragged, "layer_list[\(k)] has device_count \(stated) but \(layer.deviceList.count) devices")
      }
      guard layer.deviceList.count == devices else {
        throw fail([k], .ragged, "layer_list[\(k)] has \(layer.deviceList.count) devices; layer_list[0] has \(devices)")
      }
      var phy2log: [Int] = []
      phy2log.reserveCapacity(devices * slots)
      for (g, device) in layer.deviceList.enumerated() {
        if let id = device.deviceID, id != g {
          throw fail(
            [k, g], .invalidIndex,
            "device_list[\(g)] has device_id \(id); devices are read in list order, expected \(g)")
        }
        guard device.deviceExpert.count == slots else {
          throw fail(
            [k, g], .ragged,
            "device \(g) has \(device.deviceExpert.count) slots; every device needs \(slots) (the loader stacks them)")
        }
        for (s, value) in device.deviceExpert.enumerated() {
          guard value >= 0, value.rounded() == value, value < Double(IngestLimits.maxExperts) else {
            throw fail(
              [k, g, s], .invalidIndex,
              "layer_list[\(k)].device_list[\(g)].device_expert[\(s)] holds \(value.formatted); "
                + "expected a logical expert id (a whole number, 0 or more)")
          }
          let e = Int(value)
          guard e < experts else {
            throw fail([k, g, s], .invalidIndex, "expert \(e) is not below the series' \(experts) logical experts")
          }
          phy2log.append(e)
        }
      }
      placements.append(try layerPlacement(phy2log, experts: experts, source: source, at: [k]))
    }
    return EnginePlacement(
      format: .vllmAscend,
      batch: PlacementBatch(layers: count, experts: experts, replicas: devices * slots, placements: placements),
      keys: .moeCounter, gpus: devices)
  }

  /// The parse error code for a JSON decoding failure.
  private static func code(of error: DecodingError) -> ParseError.Code {
    switch error {
    case .dataCorrupted(let context) where context.codingPath.isEmpty: return .malformed
    case .keyNotFound: return .missingKey
    default: return .wrongShape
    }
  }

  /// A decoding failure in plain words, with the JSON path of the element
  /// (`layer_list[3].device_list[5].device_expert[2]: expected a whole number`).
  private static func describe(_ error: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
      var text = ""
      for key in keys {
        if let index = key.intValue {
          text += "[\(index)]"
        } else {
          text += (text.isEmpty ? "" : ".") + key.stringValue
        }
      }
      return text
    }
    switch error {
    case .keyNotFound(let key, let context):
      let at = path(context.codingPath)
      return (at.isEmpty ? "" : at + ": ") + "no key \(key.stringValue); expected vLLM-Ascend's expert map "
        + "{\"moe_layer_count\", \"layer_list\": [{\"device_list\": [{\"device_expert\": [...]}]}]}"
    case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
      let what =
        type == Int.self ? "a whole number" : type == [Int].self ? "an array of expert ids" : "an array or object"
      return "\(path(context.codingPath)): expected \(what)"
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty { return "not valid JSON; expected vLLM-Ascend's expert map" }
      return "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default:
      return "not vLLM-Ascend's expert map"
    }
  }

  /// TensorRT-LLM's `MoeLoadBalancerConfig` YAML, by the rules of its config model (a strict
  /// pydantic model: only `num_slots`, `initial_global_assignments` and
  /// `layer_updates_per_iter`; assignments `Dict[int, List[int]]`, each list `num_slots` long).
  /// The file may also be an LLM API options file that holds the config under
  /// `moe_config: load_balancer:`.
  ///
  /// - throws: `ParseError` with the YAML line: `malformed` (not YAML), `missingKey`,
  ///   `wrongShape`, `ragged`, `invalidIndex`, `duplicate`, `missingExpert`, `tooLarge`.
  public static func parseTRTLLM(_ bytes: [UInt8], source: String, experts: Int) throws(ParseError)
    -> EnginePlacement
  {
    func fail(_ node: Node?, _ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: node?.mark.map { .line($0.line) } ?? .file, code: code, message: message)
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw fail(nil, .malformed, "not UTF-8 text; expected TensorRT-LLM's load balancer YAML")
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw ParseError(source: source, location: .file, code: .malformed, message: "not valid YAML (\(error))")
    } catch {
      throw fail(nil, .malformed, "not valid YAML")
    }
    let expected = "expected TensorRT-LLM's load balancer YAML with num_slots and initial_global_assignments"
    guard var config = root?.mapping else {
      throw fail(root, .wrongShape, "\(expected) (a placement in JSON is SGLang's or vLLM-Ascend's)")
    }
    if let moe = config["moe_config"] {
      guard let balancer = moe.mapping?["load_balancer"] else {
        throw fail(moe, .missingKey, "moe_config has no load_balancer")
      }
      guard let inner = balancer.mapping else {
        throw fail(
          balancer, .wrongShape,
          "moe_config.load_balancer names another file (\(balancer.string ?? "?")); record that file instead")
      }
      config = inner
    }
    let allowed: Set<String> = ["num_slots", "initial_global_assignments", "layer_updates_per_iter"]
    for key in config.keys {
      guard let name = key.string, allowed.contains(name) else {
        throw fail(
          key, .wrongShape,
          "unknown key '\(key.string ?? "?")'; MoeLoadBalancerConfig accepts only \(allowed.sorted().joined(separator: ", "))"
        )
      }
    }
    guard let slotsNode = config["num_slots"] else { throw fail(nil, .missingKey, "no num_slots; \(expected)") }
    guard let slots = slotsNode.int, slots > 0 else {
      throw fail(slotsNode, .invalidIndex, "num_slots must be a positive whole number, got \(slotsNode.string ?? "?")")
    }
    guard let assignmentsNode = config["initial_global_assignments"] else {
      throw fail(nil, .missingKey, "no initial_global_assignments; \(expected)")
    }
    guard let assignments = assignmentsNode.mapping else {
      throw fail(assignmentsNode, .wrongShape, "initial_global_assignments must map layer ids to lists of expert ids")
    }
    if assignments.count == 0 { throw fail(assignmentsNode, .empty, "initial_global_assignments is empty") }
    var rows: [(id: Int, placement: LayerPlacement)] = []
    for (key, value) in assignments {
      guard let id = key.int, id >= 0, id < IngestLimits.maxLayers else {
        throw fail(
          key, .invalidIndex,
          "layer id '\(key.string ?? "?")' must be a whole number from 0 to \(IngestLimits.maxLayers - 1)")
      }
      if rows.contains(where: { $0.id == id }) { throw fail(key, .duplicate, "layer \(id) is given twice") }
      guard let list = value.sequence else {
        throw fail(value, .wrongShape, "layer \(id) must be a list of \(slots) expert ids")
      }
      guard list.count == slots else {
        throw fail(value, .ragged, "layer \(id) has \(list.count) expert ids; num_slots is \(slots)")
      }
      var phy2log: [Int] = []
      phy2log.reserveCapacity(slots)
      for item in list {
        guard let e = item.int, e >= 0 else {
          throw fail(item, .invalidIndex, "layer \(id): '\(item.string ?? "?")' is not an expert id (0 or more)")
        }
        guard e < experts else {
          throw fail(
            item, .invalidIndex, "layer \(id): expert \(e) is not below the series' \(experts) logical experts")
        }
        phy2log.append(e)
      }
      rows.append((id, try layerPlacement(phy2log, experts: experts, source: source, at: [], layerName: "layer \(id)")))
    }
    rows.sort { $0.id < $1.id }
    return EnginePlacement(
      format: .trtllm,
      batch: PlacementBatch(layers: rows.count, experts: experts, replicas: slots, placements: rows.map(\.placement)),
      keys: .layerIDs(rows.map(\.id)), gpus: nil)
  }

  /// `phy2log` with its `logcnt`; refuses a layer without a replica of some expert.
  private static func layerPlacement(
    _ phy2log: [Int], experts: Int, source: String, at: [Int], layerName: String? = nil
  ) throws(ParseError) -> LayerPlacement {
    var logcnt = [Int](repeating: 0, count: experts)
    for e in phy2log { logcnt[e] += 1 }
    if let missing = logcnt.firstIndex(of: 0) {
      let which = layerName.map { "\($0): " } ?? ""
      throw ParseError(
        source: source, location: at.isEmpty ? .file : .element(at), code: .missingExpert,
        message: "\(which)expert \(missing) has no replica; every expert 0 to \(experts - 1) needs at least one slot")
    }
    return LayerPlacement(physicalToLogical: phy2log, logicalCount: logcnt)
  }
}

extension Double {
  /// `3` for a whole number, else the usual decimal form.
  fileprivate var formatted: String { rounded() == self && abs(self) < 1e15 ? String(Int(self)) : "\(self)" }
}

extension Array where Element == UInt8 {
  /// Whether `subsequence` occurs in the array.
  fileprivate func contains(subsequence: [UInt8]) -> Bool {
    guard !subsequence.isEmpty, count >= subsequence.count else { return false }
    return firstRange(of: subsequence) != nil
  }
}

/// vLLM-Ascend's expert map as its loader reads it (`expert_file_to_tensor`).
private struct VLLMAscendExpertMap: Decodable {
  struct Layer: Decodable {
    var layerID: Int?
    var deviceCount: Int?
    var deviceList: [Device]
    enum CodingKeys: String, CodingKey {
      case layerID = "layer_id"
      case deviceCount = "device_count"
      case deviceList = "device_list"
    }
  }
  struct Device: Decodable {
    var deviceID: Int?
    /// Read as numbers and checked to be whole by the parser, so that the message names the slot.
    var deviceExpert: [Double]
    enum CodingKeys: String, CodingKey {
      case deviceID = "device_id"
      case deviceExpert = "device_expert"
    }
  }
  var moeLayerCount: Int
  var layerList: [Layer]
  enum CodingKeys: String, CodingKey {
    case moeLayerCount = "moe_layer_count"
    case layerList = "layer_list"
  }
}
