/// The input formats `epbctl ingest` reads (see CONTRACT.md, `ingest`).
public enum InputFormat: String, CaseIterable, Sendable {
  /// Detect from the file name and content.
  case auto
  /// `{"logical_count": [L][E] or [T][L][E]}`.
  case sglang
  /// `{"load_history": [{"logical_expert_load": [L][E], "step"?, "time"?}]}`: the JSON of the
  /// public EPLB evaluation dataset of the ADRS / OpenEvolve work (UC Berkeley, 2025), recorded
  /// from vLLM. vLLM itself writes no load file (it keeps its load window in GPU memory), so
  /// this format is named after its key, not after an engine; `vllm` is kept as an alias.
  case loadHistory = "load-history"
  /// Long form with header `step,layer,expert,load`.
  case csv
  /// NumPy `.npy`, shape `[T,L,E]` or `[L,E]`.
  case npy
  /// One JSON object per line: `{"step", "layer", "loads": [E]}` or `{"step", "loads": [L][E]}`.
  case jsonl
  /// SGLang's expert distribution recorder dump, a `torch.save` `.pt` (stat or per-pass mode;
  /// see `SGLangDump`).
  case sglangDump = "sglang-pt"
  /// TensorRT-LLM's expert statistics folder, `meta_info.json` + `rank{r}.safetensors` (see
  /// `TRTLLMStatistics`); a folder, never detected from bytes.
  case trtllmStatistics = "trtllm-statistics"

  /// The format called `name`: a raw value, or an older name kept working (`vllm` for
  /// `load-history`).
  public init?(name: String) {
    if let format = InputFormat(rawValue: name) {
      self = format
    } else if let format = Self.aliases[name] {
      self = format
    } else {
      return nil
    }
  }

  /// Older names that still select a format.
  public static let aliases: [String: InputFormat] = ["vllm": .loadHistory]

  /// Detects the format of `bytes`, read from `path` (nil or `-` for stdin).
  ///
  /// The content decides first: a zip archive (`PK\x03\x04`, what `torch.save` writes) →
  /// `sglangDump`; the NumPy magic `\x93NUMPY` → `npy`; a first line
  /// `step,layer,expert,load` → `csv`; a JSON object with key `logical_count` → `sglang`, with key
  /// `load_history` → `loadHistory`; a first-line object with key `loads`, or several lines each starting
  /// an object → `jsonl`. Otherwise the extension decides (`.npy`, `.csv`, `.jsonl`, `.ndjson`), so
  /// that the parser can say what is wrong with the content. A `.json` file whose content matched
  /// nothing, and anything else, gives nil.
  /// - complexity: stops at the first decisive key; at worst one pass over the first JSON object.
  public static func detect(path: String?, bytes: UnsafeRawBufferPointer) -> InputFormat? {
    if let format = detectContent(bytes) { return format }
    guard let path, let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
    switch path[path.index(after: dot)...].lowercased() {
    case "npy": return .npy
    case "csv": return .csv
    case "jsonl", "ndjson": return .jsonl
    default: return nil
    }
  }

  /// Detects the format of `bytes`; see `detect(path:bytes:)` on a buffer.
  public static func detect(path: String?, bytes: [UInt8]) -> InputFormat? {
    bytes.withUnsafeBytes { detect(path: path, bytes: $0) }
  }

  private static func detectContent(_ bytes: UnsafeRawBufferPointer) -> InputFormat? {
    guard !bytes.isEmpty else { return nil }
    if TorchArchive.looksLikeZip(bytes) { return .sglangDump }
    if bytes.count >= 6 && bytes[0] == 0x93 && Array(bytes[1..<6]) == Array("NUMPY".utf8) { return .npy }
    var cursor = JSONCursor(bytes, source: "")
    let head = bytes[cursor.pos..<min(bytes.count, cursor.pos + 256)]
    let firstLineEnd = head.firstIndex(of: 0x0A) ?? head.endIndex
    let firstLine = String(decoding: bytes[cursor.pos..<firstLineEnd], as: UTF8.self)
    let fields = firstLine.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmed(of: " \t\r").lowercased()
    }
    if fields == ["step", "layer", "expert", "load"] { return .csv }
    guard cursor.peek() == UInt8(ascii: "{") else { return nil }
    cursor.pos += 1
    var first = true
    var hasLoads = false
    do {
      while let key = try cursor.nextKey(first: &first) {
        if key == "logical_count" { return .sglang }
        if key == "load_history" { return .loadHistory }
        if key == "loads" { hasLoads = true }
        try cursor.skipValue()
      }
    } catch {
      return nil
    }
    if hasLoads { return .jsonl }
    // Several objects, one per line: the next non-blank line starts another object.
    while cursor.pos < cursor.end,
      cursor.base[cursor.pos] == 0x20 || cursor.base[cursor.pos] == 0x09
        || cursor.base[cursor.pos] == 0x0D
    {
      cursor.pos += 1
    }
    guard cursor.pos < cursor.end, cursor.base[cursor.pos] == 0x0A else { return nil }
    return cursor.peek() == UInt8(ascii: "{") ? .jsonl : nil
  }
}

extension StringProtocol {
  /// The string without leading and trailing characters from `set`.
  fileprivate func trimmed(of set: String) -> String {
    var slice = Substring(self)
    while let c = slice.first, set.contains(c) { slice.removeFirst() }
    while let c = slice.last, set.contains(c) { slice.removeLast() }
    return String(slice)
  }
}
