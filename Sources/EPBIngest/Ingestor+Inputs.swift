import EPBEngines
import EPBPlanner
import EPBStore
import Foundation

/// What became of one input of `Ingestor.ingestEach`.
public enum InputResult: Sendable, Equatable {
  /// Stored, or found already stored (see the outcome's status).
  case stored(FileIngestResult)
  /// Refused: nothing of this input is stored (a stream's committed batches come as `.stored`
  /// results before it). `error` is the message, naming the file and the element.
  case failed(path: String, error: String)
}

extension Ingestor {
  /// The inputs of `paths` as `ingestEach` takes them: SGLang per-pass rank files
  /// (`…_{time}_{rank}.pt`) given together are the ranks of one dump and count as one input, the
  /// first of them; the other paths are kept, in order.
  public static func inputs(of paths: [String]) -> [String] {
    let ranks = paths.filter(SGLangDump.isPerPassName)
    return paths.filter { !SGLangDump.isPerPassName($0) || $0 == ranks.first }
  }

  /// Ingests every input of `paths` into `series`, each whole or not at all, trying every one
  /// even after a failure.
  ///
  /// `-` reads standard input (a JSON-lines stream with `format == .jsonl`, committed every
  /// `batchLines` lines). SGLang per-pass rank files are grouped into one input (`inputs(of:)`).
  ///
  /// - parameter progress: called with the bytes of the inputs done so far (of
  ///   `inputSizes(paths)`'s total) and a label (the file name and phase) as work goes.
  /// - returns: one result per input in order (a stream: one per committed batch, then its
  ///   failure if any).
  public func ingestEach(
    _ paths: [String], series: String, format: InputFormat, replace: Bool, layerIDs: LayerIDOption? = nil,
    rowsAsSteps: Bool = false, batchLines: Int, standardInput: FileHandle = .standardInput,
    progress: @escaping @Sendable (_ done: Int, _ label: String) -> Void = { _, _ in }
  ) -> [InputResult] {
    let ranks = paths.filter(SGLangDump.isPerPassName)
    let inputs = Self.inputs(of: paths)
    var done = 0
    var results: [InputResult] = []
    for (path, size) in zip(inputs, Self.inputSizes(inputs)) {
      let doneSoFar = done
      let name = (path as NSString).lastPathComponent
      progress(done, "\(name): reading")
      do {
        if path == "-" && format == .jsonl {
          results += try ingestJSONLinesStream(
            standardInput, series: series, replace: replace, batchLines: batchLines, layerIDs: layerIDs
          ).map(InputResult.stored)
        } else if path == ranks.first {
          let label = ranks.count == 1 ? path : "\(path) and \(plural(ranks.count - 1, "more rank file"))"
          results.append(
            .stored(try ingestPerPass(paths: ranks, label: label, series: series, replace: replace, layerIDs: layerIDs))
          )
        } else {
          results.append(
            .stored(
              try ingest(
                path: path, series: series, format: format, replace: replace, layerIDs: layerIDs,
                rowsAsSteps: rowsAsSteps, progress: { phase in progress(doneSoFar, "\(name): \(phase)") })))
        }
      } catch let error as StreamError {
        results += error.committed.map(InputResult.stored)
        results.append(.failed(path: path, error: "\(error)"))
      } catch {
        results.append(.failed(path: path, error: "\(error)"))
      }
      done += size
      progress(done, name)
    }
    return results
  }

  /// The size in bytes of each path (0 for `-` and for what cannot be read), for progress.
  public static func inputSizes(_ paths: [String]) -> [Int] {
    paths.map { path in
      path == "-" ? 0 : ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    }
  }
}
