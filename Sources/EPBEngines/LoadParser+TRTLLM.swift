import EPBPlanner
import Foundation

/// TensorRT-LLM's expert statistics (`tensorrt_llm/_torch/expert_statistic.py`): the folder named
/// by `EXPERT_STATISTIC_PATH`, holding `meta_info.json` (`{"num_experts", "num_experts_per_token"}`)
/// and one `rank{r}.safetensors` per rank, each with one int64 `[num_experts]` tensor per key
/// `"{iter}_{layer_idx}"`: the tokens routed to each expert in that iteration and model layer.
///
/// The ranks' counts are summed; steps are the iteration ids, layers the model's layer ids (MoE
/// layers only: DeepSeek-V3's are 3…60). Other files in the folder (TensorRT-LLM variants also
/// write `rank{r}_raw.safetensors`, co-occurrence matrices, token counts) are not read.
public enum TRTLLMStatistics {
  /// Largest safetensors header accepted, in bytes (the format's own readers cap it at 100 MB).
  static let maxHeaderBytes = 100_000_000

  /// One batch from a statistics folder's files, read by the caller: `meta` is
  /// `meta_info.json` (at `metaPath`), `ranks` each `rank{r}.safetensors` in rank order.
  ///
  /// - throws: `ParseError` naming the file: meta_info.json not an object with a positive int
  ///   `num_experts`; a safetensors header of a bad length, not JSON, a key not
  ///   `{iter}_{layer}`, a dtype other than I64/I32, a shape other than `[num_experts]`, data
  ///   offsets outside the file or overlapping; a negative count; no statistics at all.
  public static func parse(
    meta metaBytes: [UInt8], metaPath: String, ranks files: [(path: String, bytes: [UInt8])], folder: String
  ) throws(ParseError) -> LoadBatch {
    guard let meta = try? JSONSerialization.jsonObject(with: Data(metaBytes)) as? [String: Any],
      let experts = (meta["num_experts"] as? NSNumber).map({ $0.intValue }), experts > 0,
      experts <= IngestLimits.maxExperts
    else {
      throw ParseError(
        source: metaPath, location: .file, code: .missingKey,
        message: "expected a JSON object with \"num_experts\" (a positive integer up to \(IngestLimits.maxExperts))")
    }
    // (iter, layer) → summed counts
    var sums: [Int: [Int: [Double]]] = [:]
    var total = 0
    for (path, bytes) in files {
      for (key, values) in try tensors(bytes, source: path, experts: experts) {
        var row =
          sums[key.iter, default: [:]][key.layer]
          ?? {
            total += experts
            return [Double](repeating: 0, count: experts)
          }()
        for e in 0..<experts { row[e] += values[e] }
        sums[key.iter, default: [:]][key.layer] = row
      }
      guard total <= IngestLimits.maxLoads else {
        throw ParseError(
          source: path, location: .file, code: .tooLarge, message: "more than \(IngestLimits.maxLoads) loads")
      }
    }
    guard !sums.isEmpty else {
      throw ParseError(source: folder, location: .file, code: .empty, message: "the rank files hold no statistics")
    }
    let layerIDs = Set(sums.values.flatMap(\.keys)).sorted()
    guard let last = layerIDs.last, last < IngestLimits.maxLayers else {
      throw ParseError(
        source: folder, location: .file, code: .tooLarge, message: "layer id past \(IngestLimits.maxLayers - 1)")
    }
    var rows: [LoadRow] = []
    var values: [Double] = []
    for iter in sums.keys.sorted() {
      let layers = sums[iter]!
      for layer in layerIDs {
        // A layer without a record in some iteration read zero tokens there.
        rows.append(LoadRow(step: iter, layer: layer))
        values.append(contentsOf: layers[layer] ?? [Double](repeating: 0, count: experts))
      }
    }
    return LoadBatch(
      layers: nil, layerIDs: layerIDs, experts: experts, rows: rows, values: values, stepsAreRelative: false)
  }

  /// The tensors of one safetensors file, validated: key `{iter}_{layer}`, I64 or I32, shape
  /// `[experts]`, offsets inside the data section and not overlapping.
  static func tensors(_ bytes: [UInt8], source: String, experts: Int) throws(ParseError) -> [(
    key: (iter: Int, layer: Int), values: [Double]
  )] {
    func fail(_ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: .file, code: code, message: message)
    }
    guard bytes.count >= 8 else {
      throw fail(.truncated, "\(bytes.count) bytes; a safetensors file starts with an 8-byte header length")
    }
    let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard length >= 2, length <= UInt64(maxHeaderBytes), length <= UInt64(bytes.count - 8) else {
      throw fail(
        .malformed, "header length \(length) does not fit the file's \(bytes.count) bytes (at most \(maxHeaderBytes))")
    }
    let dataStart = 8 + Int(length)
    let dataSize = bytes.count - dataStart
    guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
      throw fail(.malformed, "the header is not a JSON object")
    }
    var out: [(key: (iter: Int, layer: Int), values: [Double])] = []
    var spans: [(Int, Int, String)] = []
    for (key, entry) in header where key != "__metadata__" {
      let parts = key.split(separator: "_", omittingEmptySubsequences: false)
      guard parts.count == 2, let iter = Int(parts[0]), let layer = Int(parts[1]), iter >= 0, layer >= 0 else {
        throw fail(.invalidIndex, "tensor '\(key)': expected a key {iteration}_{layer id}")
      }
      guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
        let shape = (info["shape"] as? [NSNumber])?.map(\.intValue),
        let offsets = (info["data_offsets"] as? [NSNumber])?.map(\.int64Value), offsets.count == 2
      else {
        throw fail(.missingKey, "tensor '\(key)': expected dtype, shape and data_offsets")
      }
      let width: Int
      switch dtype {
      case "I64": width = 8
      case "I32": width = 4
      default: throw fail(.unsupportedDType, "tensor '\(key)' has dtype \(dtype); expected I64 (token counts)")
      }
      guard shape == [experts] else {
        throw fail(.wrongShape, "tensor '\(key)' has shape \(shape); meta_info.json says [\(experts)] experts")
      }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin >= 0, end >= begin, end <= Int64(dataSize), end - begin == Int64(experts * width) else {
        throw fail(
          .truncated,
          "tensor '\(key)' has data_offsets [\(begin), \(end)], outside the \(dataSize) data bytes or not \(experts * width) bytes long"
        )
      }
      spans.append((Int(begin), Int(end), key))
      var values = [Double](repeating: 0, count: experts)
      var bad: Int64?
      bytes.withUnsafeBytes { raw in
        for e in 0..<experts {
          let at = dataStart + Int(begin) + e * width
          let v: Int64 =
            width == 8
            ? Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self))
            : Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
          if v < 0 || v > 1 << 53 { bad = v }
          values[e] = Double(v)
        }
      }
      if let bad { throw fail(.invalidLoad, "tensor '\(key)' holds \(bad); expected a token count (0 to 2^53)") }
      out.append(((iter, layer), values))
    }
    spans.sort { $0.0 < $1.0 }
    for (a, b) in zip(spans, spans.dropFirst()) where b.0 < a.1 {
      throw fail(.malformed, "tensors '\(a.2)' and '\(b.2)' overlap in the data section")
    }
    return out
  }
}
