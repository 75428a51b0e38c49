import EPBEngines
import EPBPlanner
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
  /// is keyed by a stream id and its index. A recorder may re-send lines that were committed:
  /// rows stored with the same loads are accepted as already stored (a batch of only such rows
  /// is `already-ingested`), rows stored with other loads are refused (`StoreError.duplicateRows`).
  ///
  /// - returns: one result per committed batch.
  /// - parameter layerIDs: the model layer ids of every batch's layers (`--first-layer`,
  ///   `--layer-ids`), nil for the lines' own.
  /// - throws: `StreamError` wrapping the first error, with the batches committed before it;
  ///   `InputError` when the stream holds no JSON line at all (nothing is stored).
  public func ingestJSONLinesStream(
    _ handle: FileHandle, series: String, replace: Bool, batchLines: Int, batchSeconds: Double = 1,
    layerIDs: LayerIDOption? = nil
  ) throws(StreamError) -> [FileIngestResult] {
    let streamID = UUID().uuidString
    var results: [FileIngestResult] = []
    var pending: [UInt8] = []
    var pendingLines = 0
    var linesBefore = 0
    var lastCommit = Date()
    var reader = LineReader(handle: handle)

    func commit() throws {
      let lines = (linesBefore + 1)...(linesBefore + max(pendingLines, 1))
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
        var line: Int? = nil
        if case .line(let n) = error.location {
          shifted.location = .line(n + linesBefore)
          line = n + linesBefore
        }
        throw StreamError(committed: results, batchLines: lines, failedLine: line, underlying: shifted)
      }
      if let layerIDs {
        do {
          batch = try layerIDs.apply(to: batch, path: "-")
        } catch {
          throw StreamError(committed: results, batchLines: lines, failedLine: nil, underlying: error)
        }
      }
      var hasher = SHA256()
      hasher.update(Array("stream \(streamID) batch \(results.count)\n".utf8))
      hasher.update(pending)
      do {
        let outcome = try store.ingest(
          batch, series: series, source: IngestSource(path: "-", contentSHA256: hasher.finalize(), format: "jsonl"),
          replace: replace)
        results.append(FileIngestResult(path: "-", format: .jsonl, outcome: outcome))
      } catch {
        throw StreamError(committed: results, batchLines: lines, failedLine: nil, underlying: error)
      }
    }

    do {
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
    } catch let error as StreamError {
      throw error
    } catch {
      // The reader's own errors (a line past the limit) name their line already.
      var line: Int? = nil
      if let parse = error as? ParseError, case .line(let n) = parse.location { line = n }
      throw StreamError(
        committed: results, batchLines: (linesBefore + 1)...max(linesBefore + 1, reader.lineNumber + 1),
        failedLine: line, underlying: error)
    }
    if results.isEmpty {
      // An empty stream is an error, not an empty report: a recorder whose pipe broke before
      // its first line must not be told that all went well.
      throw StreamError(
        committed: [], batchLines: 1...1, failedLine: nil,
        underlying: InputError(
          path: "-",
          message: "stdin held no JSON lines, so nothing was stored; expected one object per line, "
            + "{\"step\":S,\"layer\":L,\"loads\":[…]} or {\"step\":S,\"loads\":[[…]…]}"))
    }
    return results
  }
}

/// A JSON-lines stream stopped by an error after committing some batches (or none).
///
/// The message is the error's, then what the stream had stored:
/// `-:1501: … ; steps 0–999 were committed (1,000 lines in 1 batch) before line 1501 failed;
/// nothing from line 1001 on was stored. Re-sending lines is safe: rows already stored with the
/// same loads are accepted.`
public struct StreamError: Error, CustomStringConvertible {
  /// The batches committed before the error, in order.
  public var committed: [FileIngestResult]
  /// The lines of the batch that failed (1-based, from the start of the stream).
  public var batchLines: ClosedRange<Int>
  /// The line the error names, when it names one.
  public var failedLine: Int?
  /// The error itself (`ParseError`, `StoreError` or `InputError`).
  public var underlying: any Error

  public init(committed: [FileIngestResult], batchLines: ClosedRange<Int>, failedLine: Int?, underlying: any Error) {
    self.committed = committed
    self.batchLines = batchLines
    self.failedLine = failedLine
    self.underlying = underlying
  }

  /// The first and last step the committed batches stored (or found stored), nil when none.
  public var committedSteps: ClosedRange<Int>? {
    let firsts = committed.compactMap(\.outcome.firstStep)
    let lasts = committed.compactMap(\.outcome.lastStep)
    guard let first = firsts.min(), let last = lasts.max() else { return nil }
    return first...last
  }

  public var description: String {
    let text = "\(underlying)"
    if committed.isEmpty {
      if underlying is InputError { return text }
      return text + "; nothing from this stream was committed"
    }
    let at = failedLine.map { "line \($0)" } ?? "the batch of lines \(batchLines.lowerBound)–\(batchLines.upperBound)"
    let lines = batchLines.lowerBound - 1
    var what = "lines 1–\(lines) (\(plural(committed.count, "batch", "batches"))) were"
    if let steps = committedSteps {
      what =
        (steps.count == 1 ? "step \(steps.lowerBound)" : "steps \(steps.lowerBound)–\(steps.upperBound)")
        + " (lines 1–\(lines), \(plural(committed.count, "batch", "batches"))) "
        + (steps.count == 1 ? "was" : "were")
    }
    return text + "; \(what) committed before \(at) failed, nothing from line \(batchLines.lowerBound) on was "
      + "stored. Re-sending lines is safe: rows already stored with the same loads are accepted"
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
