import EPBStore
import Foundation

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

/// The result of ingesting one input.
public struct FileIngestResult: Sendable, Equatable {
  /// The path as given, or `-`.
  public var path: String
  public var format: InputFormat
  public var outcome: IngestOutcome
}

/// Reads inputs, parses them and stores each one whole (or not at all) in a series.
///
/// ```swift
/// let ingestor = Ingestor(store: store)
/// let result = try ingestor.ingest(path: "trace.npy", series: "prod", format: .auto, replace: false)
/// ```
public struct Ingestor: Sendable {
  public let store: EPBStore

  public init(store: EPBStore) {
    self.store = store
  }

  /// Reads `path` whole (`-` is stdin), parses it as `format` and stores it in `series`.
  ///
  /// - parameter progress: called with a phase name (`reading`, `parsing`, `storing`) as work goes.
  /// - throws: `InputError` when the file cannot be read, `ParseError` for bad content,
  ///   `StoreError` when the store refuses it. Nothing is stored on any error.
  public func ingest(
    path: String, series: String, format: InputFormat, replace: Bool, progress: (@Sendable (String) -> Void)? = nil
  ) throws -> FileIngestResult {
    if path == "-" && format == .auto {
      throw InputError(path: "-", message: "reading stdin needs --format sglang|vllm|csv|npy|jsonl")
    }
    progress?("reading")
    let bytes = try Self.read(path: path)
    return try ingest(bytes: bytes, path: path, series: series, format: format, replace: replace, progress: progress)
  }

  /// Parses `bytes` (the content of `path`) and stores them in `series`.
  public func ingest(
    bytes: [UInt8], path: String, series: String, format: InputFormat, replace: Bool,
    progress: (@Sendable (String) -> Void)? = nil
  ) throws -> FileIngestResult {
    var resolved = format
    if resolved == .auto {
      resolved = InputFormat.detect(path: path, bytes: bytes) ?? .auto
    }
    progress?("parsing")
    let batch = try LoadParser.parse(bytes, format: resolved, source: path)
    let hash = SHA256.hex(of: bytes)
    progress?("storing")
    let outcome = try store.ingest(
      batch, series: series, source: IngestSource(path: path, contentSHA256: hash, format: resolved.rawValue),
      replace: replace)
    return FileIngestResult(path: path, format: resolved, outcome: outcome)
  }

  /// The whole content of `path`, or of stdin for `-`.
  ///
  /// - throws: `InputError` naming the path: missing, a directory, unreadable.
  public static func read(path: String) throws(InputError) -> [UInt8] {
    if path == "-" {
      return Array(FileHandle.standardInput.readDataToEndOfFile())
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw InputError(path: path, message: "no such file")
    }
    if isDirectory.boolValue {
      throw InputError(path: path, message: "is a directory; expected a file of loads")
    }
    guard FileManager.default.isReadableFile(atPath: path), let handle = FileHandle(forReadingAtPath: path) else {
      throw InputError(path: path, message: "permission denied; cannot read it")
    }
    defer { try? handle.close() }
    do {
      return Array(try handle.readToEnd() ?? Data())
    } catch {
      throw InputError(path: path, message: "cannot read it (\(error.localizedDescription))")
    }
  }
}
