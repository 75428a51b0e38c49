/// The file formats `epbctl simulate` writes: every format `epbctl ingest` reads.
public enum TraceFormat: String, Sendable, CaseIterable {
  /// `{"model": …, "load_history": [{"step": s, "time": t, "logical_expert_load": [L][E]}, …]}`,
  /// the load-history JSON `epbctl ingest` reads (`vllm` is kept as an alias of the name).
  case loadHistory = "load-history"
  /// SGLang's dump, `{"logical_count": [T][L][E]}` (no step numbers: appended on ingest).
  case sglang
  /// Long form with header `step,layer,expert,load`, one row per (step, layer, expert).
  case csv
  /// NumPy `.npy` v1, dtype `<i4`, C order, shape `(T, L, E)` (no step numbers).
  case npy
  /// JSON lines, one `{"step": s, "loads": [L][E]}` per step.
  case jsonl

  /// The usual file extension.
  public var fileExtension: String {
    switch self {
    case .loadHistory, .sglang: return "json"
    default: return rawValue
    }
  }
}

/// Encodes a simulated trace step by step, so a large trace streams to a file without being
/// held in memory: `header()`, then `step(_:counts:)` for steps 0, 1, … in order, then `footer()`.
///
/// ```swift
/// var encoder = TraceEncoder(format: .npy, model: model)
/// var bytes = encoder.header()
/// var generator = model.makeGenerator()
/// while let counts = generator.next() { bytes += encoder.step(generator.step - 1, counts: counts) }
/// bytes += encoder.footer()
/// ```
public struct TraceEncoder: Sendable {
  public let format: TraceFormat
  public let steps: Int
  public let layers: Int
  public let experts: Int
  /// The vLLM `time` of step 0, seconds since 1970-01-01 UTC; step `s` is at `startTime + s · stepSeconds`.
  public var startTime: Double
  public var stepSeconds: Double
  /// The vLLM `model` name.
  public var modelName: String

  public init(
    format: TraceFormat, model: RoutingModel, startTime: Double = 1_790_000_000, stepSeconds: Double = 1,
    modelName: String? = nil
  ) {
    self.format = format
    steps = model.steps
    layers = model.layers
    experts = model.experts
    self.startTime = startTime
    self.stepSeconds = stepSeconds
    self.modelName = modelName ?? "synthetic-moe-\(model.experts)e"
  }

  /// The bytes before the first step.
  public func header() -> [UInt8] {
    switch format {
    case .loadHistory: return Array("{\"model\":\"\(modelName)\",\"load_history\":[".utf8)
    case .sglang: return Array("{\"logical_count\":[".utf8)
    case .csv: return Array("step,layer,expert,load\n".utf8)
    case .jsonl: return []
    case .npy: return Self.npyHeader(shape: [steps, layers, experts])
    }
  }

  /// The bytes of step `step` (0-based, in order), `counts` being `[layers * experts]`.
  public func step(_ step: Int, counts: [Int32]) -> [UInt8] {
    precondition(counts.count == layers * experts, "one count per (layer, expert)")
    var out: [UInt8] = []
    out.reserveCapacity(counts.count * (format == .csv ? 16 : 5) + 64)
    switch format {
    case .loadHistory:
      if step > 0 { out.append(UInt8(ascii: ",")) }
      out += Array("{\"step\":".utf8)
      Self.appendInteger(step, to: &out)
      out += Array(",\"time\":\(startTime + Double(step) * stepSeconds),\"logical_expert_load\":".utf8)
      appendMatrix(counts, to: &out)
      out.append(UInt8(ascii: "}"))
    case .sglang:
      if step > 0 { out.append(UInt8(ascii: ",")) }
      appendMatrix(counts, to: &out)
    case .jsonl:
      out += Array("{\"step\":".utf8)
      Self.appendInteger(step, to: &out)
      out += Array(",\"loads\":".utf8)
      appendMatrix(counts, to: &out)
      out += Array("}\n".utf8)
    case .csv:
      for layer in 0..<layers {
        for expert in 0..<experts {
          Self.appendInteger(step, to: &out)
          out.append(UInt8(ascii: ","))
          Self.appendInteger(layer, to: &out)
          out.append(UInt8(ascii: ","))
          Self.appendInteger(expert, to: &out)
          out.append(UInt8(ascii: ","))
          Self.appendInteger(Int(counts[layer * experts + expert]), to: &out)
          out.append(UInt8(ascii: "\n"))
        }
      }
    case .npy:
      for v in counts {
        let u = UInt32(bitPattern: v.littleEndian)
        out += [UInt8(u & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u >> 16 & 0xFF), UInt8(u >> 24)]
      }
    }
    return out
  }

  /// The bytes after the last step.
  public func footer() -> [UInt8] {
    switch format {
    case .loadHistory, .sglang: return Array("]}\n".utf8)
    default: return []
    }
  }

  /// The whole trace of `model` in `format`, in memory.
  public static func encode(_ model: RoutingModel, format: TraceFormat) -> [UInt8] {
    let encoder = TraceEncoder(format: format, model: model)
    var out = encoder.header()
    var generator = model.makeGenerator()
    var step = 0
    while let counts = generator.next() {
      out += encoder.step(step, counts: counts)
      step += 1
    }
    return out + encoder.footer()
  }

  /// A `.npy` v1 header for little-endian int32 in C order, padded to a multiple of 64 bytes.
  static func npyHeader(shape: [Int]) -> [UInt8] {
    let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    var header = "{'descr': '<i4', 'fortran_order': False, 'shape': \(shapeText), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let length = header.utf8.count
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)] + Array(header.utf8)
  }

  private func appendMatrix(_ counts: [Int32], to out: inout [UInt8]) {
    out.append(UInt8(ascii: "["))
    for layer in 0..<layers {
      if layer > 0 { out.append(UInt8(ascii: ",")) }
      out.append(UInt8(ascii: "["))
      for e in 0..<experts {
        if e > 0 { out.append(UInt8(ascii: ",")) }
        Self.appendInteger(Int(counts[layer * experts + e]), to: &out)
      }
      out.append(UInt8(ascii: "]"))
    }
    out.append(UInt8(ascii: "]"))
  }

  /// Appends the decimal digits of `value`.
  static func appendInteger(_ value: Int, to out: inout [UInt8]) {
    if value < 0 { out.append(UInt8(ascii: "-")) }
    var magnitude = value.magnitude
    var width = 0
    repeat {
      width += 1
      magnitude /= 10
    } while magnitude > 0
    out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
    magnitude = value.magnitude
    var i = out.count - 1
    repeat {
      out[i] = UInt8(48 + magnitude % 10)
      magnitude /= 10
      i -= 1
    } while magnitude > 0
  }
}
