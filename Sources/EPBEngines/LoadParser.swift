/// Turns the bytes of one input file into a `LoadBatch`.
///
/// Example:
/// ```swift
/// let bytes = try Array(Data(contentsOf: url))
/// let batch = try LoadParser.parse(bytes, format: .auto, source: "trace.json")
/// ```
/// Every load is checked: finite, non-negative, at most 2^53 (so integer token counts stay
/// exact). Errors are `ParseError` values naming `source`, the place and what was expected.
public enum LoadParser {
  /// Parses `bytes` as `format` (`.auto` detects it from `source`'s extension and the content).
  ///
  /// - parameter bytes: the whole input.
  /// - parameter format: the input format, or `.auto`.
  /// - parameter source: the file name for messages and for format detection (`-` for stdin).
  /// - returns: the loads, `[rows.count * experts]`, in input order.
  /// - throws: `ParseError` with `code == .unknownFormat` when `.auto` cannot tell the format,
  ///   `.empty` for an input without loads, `.tooLarge` beyond `IngestLimits`, and the codes each
  ///   format documents.
  public static func parse(
    _ bytes: UnsafeRawBufferPointer, format: InputFormat, source: String
  ) throws(ParseError) -> LoadBatch {
    var format = format
    if format == .auto {
      guard let detected = InputFormat.detect(path: source, bytes: bytes) else {
        throw ParseError(
          source: source, location: .file, code: bytes.isEmpty ? .empty : .unknownFormat,
          message: bytes.isEmpty
            ? "file is empty; expected loads"
            : "cannot tell the input format; use --format sglang|load-history|csv|npy|jsonl")
      }
      format = detected
    }
    if bytes.isEmpty
      || (format != .npy && format != .sglangDump
        && bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
    {
      throw ParseError(source: source, location: .file, code: .empty, message: "file is empty; expected loads")
    }
    let batch: LoadBatch
    switch format {
    case .auto: preconditionFailure("format resolved above")
    case .sglang: batch = try parseSGLang(bytes, source: source)
    case .loadHistory: batch = try parseLoadHistory(bytes, source: source)
    case .csv: batch = try parseCSV(bytes, source: source)
    case .npy: batch = try parseNPY(bytes, source: source)
    case .jsonl: batch = try parseJSONLines(bytes, source: source)
    case .sglangDump: batch = try parseSGLangDump(Array(bytes), source: source, rowsAsSteps: false, time: nil)
    case .trtllmStatistics:
      throw ParseError(
        source: source, location: .file, code: .unknownFormat,
        message: "TensorRT-LLM statistics are a folder (meta_info.json + rank*.safetensors); give the folder's path")
    }
    try IngestLimits.check(batch, source: source)
    return batch
  }

  /// Parses `bytes` as `format`; see `parse(_:format:source:)` on a buffer.
  public static func parse(_ bytes: [UInt8], format: InputFormat, source: String) throws(ParseError) -> LoadBatch {
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(ParseError) -> LoadBatch in try parse(raw, format: format, source: source) }
    }
    return try result.get()
  }
}

extension LoadParser {
  /// Parses an SGLang recorder dump (`.pt`): a stat dump (one step, or its non-zero rows as steps
  /// with `rowsAsSteps`) or one per-pass rank file (one step per forward pass).
  ///
  /// - parameter time: the step time of a stat dump (its name's `{unix time}` or the file's mtime).
  public static func parseSGLangDump(
    _ bytes: [UInt8], source: String, rowsAsSteps: Bool, time: Double?
  ) throws(ParseError) -> LoadBatch {
    let archive = try TorchArchive(bytes, source: source)
    let batch: LoadBatch
    switch try SGLangDump.kind(of: archive) {
    case .stat: batch = try SGLangDump.parseStat(archive, rowsAsSteps: rowsAsSteps, time: time)
    case .perPass: batch = try SGLangDump.parsePerPass([archive]).batch
    case .placement:
      throw ParseError(
        source: source, location: .file, code: .wrongShape,
        message: "this .pt holds a placement (physical_to_logical_map), not loads; record it with --placement")
    }
    try IngestLimits.check(batch, source: source)
    return batch
  }
}
