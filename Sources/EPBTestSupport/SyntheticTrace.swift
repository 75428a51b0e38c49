/// A deterministic synthetic MoE load trace `[steps][layers][experts]` of int32 token counts,
/// with the byte encodings of every ingest format, for tests and benchmarks.
///
/// Each layer has its own skewed expert popularity (a few hot experts, a long tail), and each
/// step varies around it, so the numbers look like real routing counts (mostly 1-4 digits).
///
/// Example:
/// ```swift
/// let trace = SyntheticTrace(steps: 2000, layers: 58, experts: 256)
/// let npy = trace.npyBytes()      // .npy v1, <i4, C order, shape (2000, 58, 256)
/// let json = trace.vllmJSON()     // {"load_history": [{"step": 0, "logical_expert_load": [[…]]}, …]}
/// ```
public struct SyntheticTrace: Sendable {
  public var steps: Int
  public var layers: Int
  public var experts: Int
  /// The PRNG seed; the same seed gives the same trace.
  public var seed: UInt64
  /// The mean tokens routed to one expert in one step and layer.
  public var meanLoad: Double

  public init(steps: Int, layers: Int, experts: Int, seed: UInt64 = 1, meanLoad: Double = 128) {
    self.steps = steps
    self.layers = layers
    self.experts = experts
    self.seed = seed
    self.meanLoad = meanLoad
  }

  /// The loads, `[steps * layers * experts]` row-major, tokens per step.
  public func loads() -> [Int32] {
    var rng = SplitMix64(seed: seed)
    var popularity = [Double](repeating: 0, count: layers * experts)
    for layer in 0..<layers {
      var weights = (0..<experts).map { 1 / Double($0 + 1).squareRoot() }
      for i in stride(from: experts - 1, to: 0, by: -1) { weights.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
      let total = weights.reduce(0, +)
      for e in 0..<experts { popularity[layer * experts + e] = meanLoad * Double(experts) * weights[e] / total }
    }
    var out = [Int32](repeating: 0, count: steps * layers * experts)
    for step in 0..<steps {
      for i in 0..<(layers * experts) {
        let noise = 0.5 + Double(rng.next() >> 11) * 0x1p-53
        out[step * layers * experts + i] = Int32(popularity[i] * noise)
      }
    }
    return out
  }

  /// The trace as a NumPy `.npy` v1 file, dtype `<i4`, C order, shape `(steps, layers, experts)`.
  public func npyBytes() -> [UInt8] {
    let values = loads()
    var data = [UInt8](repeating: 0, count: values.count * 4)
    data.withUnsafeMutableBytes { raw in
      for (i, v) in values.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: i * 4, as: Int32.self) }
    }
    return Self.npy(descr: "<i4", shape: [steps, layers, experts], data: data)
  }

  /// The trace as vLLM-style JSON: `{"load_history": [{"step": s, "logical_expert_load": [L][E]}, …]}`
  /// (without `"step"` when `includeSteps` is false), numbers separated by `", "` as Python writes them.
  public func vllmJSON(includeSteps: Bool = true) -> [UInt8] {
    let values = loads()
    var out: [UInt8] = []
    out.reserveCapacity(values.count * 6 + 64)
    out.append(contentsOf: #"{"load_history": ["#.utf8)
    for step in 0..<steps {
      if step > 0 { out.append(contentsOf: ", ".utf8) }
      out.append(contentsOf: "{".utf8)
      if includeSteps {
        out.append(contentsOf: #""step": "#.utf8)
        Self.appendInteger(Int64(step), to: &out)
        out.append(contentsOf: ", ".utf8)
      }
      out.append(contentsOf: #""logical_expert_load": "#.utf8)
      appendMatrix(values, step: step, to: &out)
      out.append(contentsOf: "}".utf8)
    }
    out.append(contentsOf: "]}\n".utf8)
    return out
  }

  /// The trace as SGLang's dump: `{"logical_count": [T][L][E]}`.
  public func sglangJSON() -> [UInt8] {
    let values = loads()
    var out: [UInt8] = Array(#"{"logical_count": ["#.utf8)
    for step in 0..<steps {
      if step > 0 { out.append(contentsOf: ", ".utf8) }
      appendMatrix(values, step: step, to: &out)
    }
    out.append(contentsOf: "]}".utf8)
    return out
  }

  /// The trace as JSON lines, one `{"step": s, "loads": [L][E]}` per line.
  public func jsonLines() -> [UInt8] {
    let values = loads()
    var out: [UInt8] = []
    for step in 0..<steps {
      out.append(contentsOf: #"{"step": "#.utf8)
      Self.appendInteger(Int64(step), to: &out)
      out.append(contentsOf: #", "loads": "#.utf8)
      appendMatrix(values, step: step, to: &out)
      out.append(contentsOf: "}\n".utf8)
    }
    return out
  }

  /// The trace as long-form CSV with header `step,layer,expert,load`.
  public func csv() -> [UInt8] {
    let values = loads()
    var out: [UInt8] = Array("step,layer,expert,load\n".utf8)
    for step in 0..<steps {
      for layer in 0..<layers {
        for expert in 0..<experts {
          for (i, field) in [step, layer, expert].enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendInteger(Int64(field), to: &out)
          }
          out.append(UInt8(ascii: ","))
          Self.appendInteger(Int64(values[(step * layers + layer) * experts + expert]), to: &out)
          out.append(UInt8(ascii: "\n"))
        }
      }
    }
    return out
  }

  /// A `.npy` file: magic, `version` (1, 2 or 3), the header dict for `descr`, `fortranOrder` and
  /// `shape`, padded to 64 bytes, then `data` as given (already in the dtype's byte order).
  public static func npy(
    descr: String, shape: [Int], fortranOrder: Bool = false, version: UInt8 = 1, data: [UInt8]
  ) -> [UInt8] {
    let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
    let prefix = version == 1 ? 10 : 12
    while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let length = header.utf8.count
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    out += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
    if version != 1 { out += [UInt8(length >> 16 & 0xFF), UInt8(length >> 24 & 0xFF)] }
    return out + Array(header.utf8) + data
  }

  private func appendMatrix(_ values: [Int32], step: Int, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "["))
    for layer in 0..<layers {
      out.append(contentsOf: layer > 0 ? ", [".utf8 : "[".utf8)
      let base = (step * layers + layer) * experts
      for e in 0..<experts {
        if e > 0 { out.append(contentsOf: ", ".utf8) }
        Self.appendInteger(Int64(values[base + e]), to: &out)
      }
      out.append(UInt8(ascii: "]"))
    }
    out.append(UInt8(ascii: "]"))
  }

  /// Appends the decimal digits of `value`.
  static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
    if value < 0 { out.append(UInt8(ascii: "-")) }
    var magnitude = value.magnitude
    var digits:
      (
        UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
        UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
      ) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    withUnsafeMutableBytes(of: &digits) { buffer in
      repeat {
        buffer[19 - count] = UInt8(48 + magnitude % 10)
        magnitude /= 10
        count += 1
      } while magnitude > 0
      out.append(contentsOf: buffer[(20 - count)...])
    }
  }
}
