import EPBEngines
import EPBPlanner
import EPBStore
import Foundation

#if canImport(Glibc)
  import Glibc
  private let systemRead = Glibc.read
#else
  import Darwin
  private let systemRead = Darwin.read
#endif

/// Why an input could not be read (before parsing).
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
  public var path: String
  public var message: String

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }

  public var description: String { "\(path): \(message)" }
}

/// The model layer ids the user gives an input on the command line.
public enum LayerIDOption: Sendable, Equatable {
  /// `--first-layer K`: the input's `[L][E]` block is model layers `K..<K+L`.
  case first(Int)
  /// `--layer-ids LIST`: the input's layers are these model layers, increasing.
  case list([Int])

  /// The flag, for messages.
  public var flag: String {
    switch self {
    case .first: return "--first-layer"
    case .list: return "--layer-ids"
    }
  }

  /// Applies the option to a parsed batch from `path`.
  ///
  /// - throws: `InputError` naming the file and the flag: `--first-layer` on an input that names
  ///   its layers row by row (CSV, JSON lines with `layer`), a `--layer-ids` count other than the
  ///   input's layers, a row naming a layer outside `--layer-ids`, an id past the largest
  ///   (`IngestLimits.maxLayers` − 1).
  public func apply(to batch: LoadBatch, path: String) throws(InputError) -> LoadBatch {
    let ids: [Int]
    switch self {
    case .first(let k):
      guard let layers = batch.layers else {
        throw InputError(
          path: path,
          message: "--first-layer numbers the layers of an input that holds an [L][E] block per step "
            + "(npy, sglang, load-history, JSON lines without \"layer\"); this input names its layers "
            + "in its layer column, so drop --first-layer (or give the series' ids with --layer-ids)")
      }
      ids = Array(k..<(k + layers))
    case .list(let list):
      guard LayerIDs.isValid(list) else {
        throw InputError(path: path, message: "--layer-ids must be increasing and non-negative, got \(list)")
      }
      ids = list
    }
    if let last = ids.last, last >= IngestLimits.maxLayers {
      throw InputError(
        path: path,
        message: "\(flag) gives layer id \(last); epbctl accepts layer ids 0 to \(IngestLimits.maxLayers - 1)")
    }
    switch batch.relabelLayers(ids) {
    case .success(let relabelled): return relabelled
    case .failure(.count(let input, let given)):
      throw InputError(
        path: path,
        message: "the input has \(plural(input, "layer")) per step and \(flag) gives \(plural(given, "layer id")); "
          + "give one id per layer")
    case .failure(.outside(let layer)):
      throw InputError(
        path: path, message: "the input names layer \(layer), which --layer-ids \(LayerIDs.list(ids)) does not list")
    }
  }
}

/// The result of ingesting one input.
public struct FileIngestResult: Sendable, Equatable {
  /// The path as given, or `-`.
  public var path: String
  public var format: InputFormat
  public var outcome: IngestOutcome
  /// What the user should know about how the input was read, or nil (a per-pass dump: its
  /// slots were folded with the map at the end of the run).
  public var note: String? = nil
}

/// Reads inputs, parses them and stores each one whole (or not at all) in a series.
///
/// ```swift
/// let ingestor = Ingestor(store: store)
/// let result = try ingestor.ingest(path: "trace.npy", series: "prod", format: .auto, replace: false)
/// ```
public struct Ingestor: Sendable {
  public let store: any EPBStore

  /// Inputs of at least this many bytes are hashed on another thread while they are stored.
  public static let concurrentHashThreshold = 4 << 20

  public init(store: any EPBStore) {
    self.store = store
  }

  /// Reads `path` whole (`-` is stdin), parses it as `format` and stores it in `series`.
  ///
  /// - parameter layerIDs: the model layer ids of the input's layers (`--first-layer`,
  ///   `--layer-ids`); nil: the input's own (see `LoadBatch.declaredLayerIDs`).
  /// - parameter progress: called with a phase name (`reading`, `parsing`, `storing`) as work goes.
  /// - throws: `InputError` when the file cannot be read, `ParseError` for bad content,
  ///   `InputError` when `layerIDs` does not fit the input, `StoreError` when the store refuses
  ///   it. Nothing is stored on any error.
  /// - parameter rowsAsSteps: an SGLang stat dump's non-zero rows become steps (see `SGLangDump`).
  public func ingest(
    path: String, series: String, format: InputFormat, replace: Bool, layerIDs: LayerIDOption? = nil,
    rowsAsSteps: Bool = false, progress: (@Sendable (String) -> Void)? = nil
  ) throws -> FileIngestResult {
    var isDirectory: ObjCBool = false
    if path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      return try ingestFolder(path: path, series: series, replace: replace, layerIDs: layerIDs)
    }
    if path == "-" && format == .auto {
      throw InputError(path: "-", message: "reading stdin needs --format sglang|load-history|csv|npy|jsonl")
    }
    progress?("reading")
    // CSV lines are short: on stdin, whose size is unknown up front, a line past the limit is
    // refused as it arrives rather than after buffering up to the whole input cap.
    let bytes = try Self.read(path: path, lineLimit: path == "-" && format == .csv ? IngestLimits.maxCSVLineBytes : nil)
    return try ingest(
      bytes: bytes, path: path, series: series, format: format, replace: replace, layerIDs: layerIDs,
      rowsAsSteps: rowsAsSteps, progress: progress)
  }

  /// Parses `bytes` (the content of `path`) and stores them in `series`.
  public func ingest(
    bytes: [UInt8], path: String, series: String, format: InputFormat, replace: Bool,
    layerIDs: LayerIDOption? = nil, rowsAsSteps: Bool = false, progress: (@Sendable (String) -> Void)? = nil
  ) throws -> FileIngestResult {
    var resolved = format
    if resolved == .auto {
      resolved = InputFormat.detect(path: path, bytes: bytes) ?? .auto
    }
    // Hash on the other core while this one parses and stores: for a large file SHA-256 costs
    // as much as the rest together. Small inputs are hashed first, so re-sending a file costs
    // no write.
    let source: IngestSource
    if bytes.count >= Self.concurrentHashThreshold {
      let hash = Background { SHA256.hex(of: bytes) }
      source = IngestSource(path: path, format: resolved.rawValue, contentSHA256: { hash.value() })
    } else {
      source = IngestSource(path: path, contentSHA256: SHA256.hex(of: bytes), format: resolved.rawValue)
    }
    progress?("parsing")
    var batch =
      resolved == .sglangDump
      ? try LoadParser.parseSGLangDump(
        bytes, source: path, rowsAsSteps: rowsAsSteps, time: path == "-" ? nil : Self.dumpTime(path: path))
      : try LoadParser.parse(bytes, format: resolved, source: path)
    if let layerIDs { batch = try layerIDs.apply(to: batch, path: path) }
    progress?("storing")
    let outcome = try store.ingest(batch, series: series, source: source, replace: replace)
    return FileIngestResult(path: path, format: resolved, outcome: outcome)
  }

  /// The whole content of `path`, or of stdin for `-`, read with one allocation.
  ///
  /// - parameter maxBytes: the largest input accepted (`IngestLimits.maxInputBytes`); a larger
  ///   file is refused from its size before anything is read, and stdin after `maxBytes + 1` bytes.
  /// - parameter lineLimit: for stdin, the longest line accepted (bytes between newlines): a
  ///   longer one is refused as soon as it has been read that far.
  /// - throws: `InputError` naming the path: missing, behind a folder that cannot be searched,
  ///   a directory, unreadable, too large, or (stdin) a line past `lineLimit`, naming its number.
  public static func read(path: String, maxBytes: Int? = nil, lineLimit: Int? = nil) throws(InputError) -> [UInt8] {
    let cap = maxBytes ?? IngestLimits.maxInputBytes(environment: ProcessInfo.processInfo.environment)
    if path == "-" {
      return try readBounded(fd: 0, path: "-", cap: cap, sizeHint: 1 << 16, lineLimit: lineLimit)
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      // `fileExists` is false too when a folder on the path cannot be searched.
      if access(path, F_OK) != 0 && errno == EACCES {
        throw InputError(path: path, message: "permission denied; a folder on its path cannot be searched")
      }
      throw InputError(path: path, message: "no such file")
    }
    if isDirectory.boolValue {
      throw InputError(path: path, message: "is a directory; expected a file of loads")
    }
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw InputError(path: path, message: "permission denied; cannot read it")
    }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw InputError(path: path, message: "cannot open it (\(String(cString: strerror(errno))))")
    }
    defer { close(fd) }
    var info = stat()
    let size = fstat(fd, &info) == 0 && (info.st_mode & mode_t(S_IFMT)) == mode_t(S_IFREG) ? Int(info.st_size) : 1 << 16
    if size > cap { throw tooLarge(path: path, size: size, cap: cap) }
    return try readBounded(fd: fd, path: path, cap: cap, sizeHint: size)
  }

  /// Reads `fd` to its end into one buffer; refuses more than `cap` bytes, and a line longer
  /// than `lineLimit` bytes (when given) as soon as it is seen.
  private static func readBounded(
    fd: Int32, path: String, cap: Int, sizeHint: Int, lineLimit: Int? = nil
  ) throws(InputError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: min(max(sizeHint, 4096), cap) + 1)
    var count = 0
    var line = 1, lineLength = 0  // the line being read, and its bytes so far
    while true {
      if count == buffer.count {
        if count > cap { throw tooLarge(path: path, size: nil, cap: cap) }
        buffer += [UInt8](repeating: 0, count: min(buffer.count, cap + 1 - buffer.count))
      }
      let n = buffer.withUnsafeMutableBytes { raw in
        systemRead(fd, raw.baseAddress! + count, raw.count - count)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw InputError(path: path, message: "cannot read it (\(String(cString: strerror(errno))))")
      }
      if n == 0 { break }
      if let lineLimit {
        var tooLong = false
        buffer.withUnsafeBufferPointer { b in
          for i in count..<(count + n) {
            if b[i] == 0x0A {
              if lineLength > lineLimit {
                tooLong = true
                return
              }
              line += 1
              lineLength = 0
            } else {
              lineLength += 1
            }
          }
        }
        if tooLong || lineLength > lineLimit {
          throw InputError(
            path: path,
            message: "line \(line) is longer than \(IngestLimits.describe(bytes: lineLimit)), the most epbctl "
              + "accepts for a CSV line (step,layer,expert,load); nothing was stored")
        }
      }
      count += n
    }
    if count > cap { throw tooLarge(path: path, size: nil, cap: cap) }
    buffer.removeLast(buffer.count - count)
    return buffer
  }

  private static func tooLarge(path: String, size: Int?, cap: Int) -> InputError {
    let what = size.map { "is \(IngestLimits.describe(bytes: $0))" } ?? "is larger than that"
    return InputError(
      path: path,
      message: "\(what); epbctl reads inputs of at most \(IngestLimits.describe(bytes: cap)) "
        + "(set $\(IngestLimits.maxInputBytesVariable) to raise it), so split the file, "
        + "or stream JSON lines with `epbctl ingest - --format jsonl`")
  }
}
