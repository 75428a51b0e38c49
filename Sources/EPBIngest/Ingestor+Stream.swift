import EPBStore
import Foundation

extension Ingestor {
  /// Stores JSON lines read from `handle` as they arrive, one transaction per batch, so that a
  /// live process can pipe into `epbctl ingest - --format jsonl`.
  ///
  /// A batch is committed after `batchLines` lines, after `batchSeconds` since the last commit
  /// (checked as lines arrive), once it holds `IngestLimits.maxJSONLineBytes` bytes, and at end
  /// of input. A line longer than `IngestLimits.maxJSONLineBytes` stops the stream with
  /// `ParseError.Code.tooLarge` before it is buffered whole. Each batch is stored whole or not at all;
  /// an error stops the stream, names its line (counted from the start of the stream) and
  /// leaves the batches before it stored. Streams are not deduplicated by content: each batch
  /// is keyed by a stream id and its index.
  ///
  /// - returns: one result per committed batch.
  /// - parameter layerIDs: the model layer ids of every batch's layers (`--first-layer`,
  ///   `--layer-ids`), nil for the lines' own.
  public func ingestJSONLinesStream(
    _ handle: FileHandle, series: String, replace: Bool, batchLines: Int, batchSeconds: Double = 1,
    layerIDs: LayerIDOption? = nil
  ) throws -> [FileIngestResult] {
    let streamID = UUID().uuidString
    var results: [FileIngestResult] = []
    var pending: [UInt8] = []
    var pendingLines = 0
    var linesBefore = 0
    var lastCommit = Date()
    var reader = LineReader(handle: handle)

    func commit() throws {
      defer {
        linesBefore += pendingLines
        pending.removeAll(keepingCapacity: true)
        pendingLines = 0
        lastCommit = Date()
      }
      guard pending.contains(where: { $0 != 0x0A && $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { return }
      var batch: LoadBatch
      do {
        batch = try LoadParser.parse(pending, format: .jsonl, source: "-")
      } catch {
        var shifted = error
        if case .line(let n) = error.location { shifted.location = .line(n + linesBefore) }
        throw shifted
      }
      if let layerIDs { batch = try layerIDs.apply(to: batch, path: "-") }
      var hasher = SHA256()
      hasher.update(Array("stream \(streamID) batch \(results.count)\n".utf8))
      hasher.update(pending)
      let outcome = try store.ingest(
        batch, series: series, source: IngestSource(path: "-", contentSHA256: hasher.finalize(), format: "jsonl"),
        replace: replace)
      results.append(FileIngestResult(path: "-", format: .jsonl, outcome: outcome))
    }

    while let line = try reader.next() {
      pending += line
      pending.append(0x0A)
      pendingLines += 1
      if pendingLines >= batchLines || Date().timeIntervalSince(lastCommit) >= batchSeconds
        || pending.count >= IngestLimits.maxJSONLineBytes
      {
        try commit()
      }
    }
    try commit()
    return results
  }
}

/// Splits a file handle into lines (without the newline) as data arrives.
struct LineReader {
  let handle: FileHandle
  var buffer: [UInt8] = []
  var start = 0
  var eof = false

  init(handle: FileHandle) {
    self.handle = handle
  }

  /// Lines returned so far.
  var lineNumber = 0
  /// The longest line accepted, in bytes.
  var maxLineBytes = IngestLimits.maxJSONLineBytes

  /// The next line, or nil at the end of input.
  /// - throws: `ParseError.Code.tooLarge` for a line longer than `maxLineBytes`.
  mutating func next() throws(ParseError) -> [UInt8]? {
    var searched = start
    while true {
      if let newline = buffer[searched...].firstIndex(of: 0x0A) {
        let line = Array(buffer[start..<newline])
        start = newline + 1
        lineNumber += 1
        if line.count > maxLineBytes { throw JSONLinesDecoder.lineTooLong(line.count, "-", lineNumber) }
        return line
      }
      if buffer.count - start > maxLineBytes {
        throw JSONLinesDecoder.lineTooLong(Int.max, "-", lineNumber + 1)
      }
      if eof {
        guard start < buffer.count else { return nil }
        let line = Array(buffer[start...])
        start = buffer.count
        lineNumber += 1
        return line
      }
      buffer.removeFirst(start)
      start = 0
      searched = buffer.count
      let chunk = handle.availableData
      if chunk.isEmpty { eof = true } else { buffer += chunk }
    }
  }
}
