import EPBEngines
import Foundation

extension Ingestor {
  /// What `watch` did with one input.
  public enum WatchEvent: Sendable {
    case ingested(FileIngestResult)
    case failed(path: String, error: String)
  }

  /// Watches `folder` and ingests each new complete dump once, until the process is stopped.
  ///
  /// Every `interval` seconds it lists the folder. A file counts as complete when its size and
  /// modification time are the same as at the previous look and, for a `.pt`, the zip's
  /// end-of-central-directory record is in place (`torch.save` writes it last), so a file still
  /// being written is never read half. Then:
  /// - SGLang stat dumps (`*.pt` that are not per-pass rank files) are ingested one by one, in
  ///   name order (their names carry the dump time);
  /// - SGLang per-pass rank files (`expert_distribution_recorder_{t}_{rank}.pt`) that became
  ///   complete are ingested together, as the ranks of one dump;
  /// - a TensorRT-LLM statistics folder (`meta_info.json` + `rank*.safetensors`) is ingested
  ///   whole once all its rank files are complete, and again whenever they change.
  /// A file that fails is reported and not retried until it changes. Restarting is safe: inputs
  /// stored before are `already-ingested` (the store keys them by content).
  ///
  /// - parameter maxRounds: stop after this many looks (tests); nil: run until stopped.
  public func watch(
    folder: String, series: String, interval: Double, rowsAsSteps: Bool, maxRounds: Int? = nil,
    report: (WatchEvent) -> Void
  ) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw InputError(path: folder, message: "--watch needs a folder that exists")
    }
    struct Stamp: Equatable {
      var size: Int
      var modified: Date
    }
    var previous: [String: Stamp] = [:]
    var done: [String: Stamp] = [:]
    var round = 0
    while maxRounds.map({ round < $0 }) ?? true {
      round += 1
      var now: [String: Stamp] = [:]
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      for name in names where name.hasSuffix(".pt") || name.hasSuffix(".safetensors") || name == "meta_info.json" {
        let path = (folder as NSString).appendingPathComponent(name)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
          attributes[.type] as? FileAttributeType == .typeRegular,
          let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date
        else { continue }
        now[name] = Stamp(size: size, modified: modified)
      }
      let stable = now.filter { name, stamp in
        previous[name] == stamp && done[name] != stamp
          && (!name.hasSuffix(".pt") || Self.hasZipEnd((folder as NSString).appendingPathComponent(name)))
      }
      previous = now
      let path = { (name: String) in (folder as NSString).appendingPathComponent(name) }
      // SGLang stat dumps, one by one in name (= time) order.
      let dumps = stable.keys.filter { $0.hasSuffix(".pt") }.sorted()
      for name in dumps where !SGLangDump.isPerPassName(name) {
        done[name] = stable[name]
        do {
          report(
            .ingested(
              try ingest(path: path(name), series: series, format: .auto, replace: false, rowsAsSteps: rowsAsSteps)))
        } catch {
          report(.failed(path: path(name), error: "\(error)"))
        }
      }
      // SGLang per-pass rank files: those complete now, together, once none is still growing.
      let ranks = dumps.filter(SGLangDump.isPerPassName)
      let growing = now.keys.contains { SGLangDump.isPerPassName($0) && stable[$0] == nil && done[$0] != now[$0] }
      if !ranks.isEmpty && !growing {
        for name in ranks { done[name] = stable[name] }
        let label = ranks.count == 1 ? path(ranks[0]) : "\(path(ranks[0])) and \(ranks.count - 1) more rank files"
        do {
          report(.ingested(try ingestPerPass(paths: ranks.map(path), label: label, series: series, replace: false)))
        } catch {
          report(.failed(path: label, error: "\(error)"))
        }
      }
      // A TensorRT-LLM statistics folder: when every rank file and meta_info.json is complete.
      let trt = now.keys.filter { $0 == "meta_info.json" || ($0.hasPrefix("rank") && $0.hasSuffix(".safetensors")) }
      if trt.contains("meta_info.json"), trt.count > 1, trt.allSatisfy({ stable[$0] != nil }) {
        for name in trt { done[name] = stable[name] }
        do {
          report(.ingested(try ingestFolder(path: folder, series: series, replace: false)))
        } catch {
          report(.failed(path: folder, error: "\(error)"))
        }
      }
      if maxRounds.map({ round < $0 }) ?? true { Thread.sleep(forTimeInterval: interval) }
    }
  }

  /// True when the last 64 KiB + 22 bytes of the file hold a zip end-of-central-directory
  /// signature, which a zip writer writes last.
  static func hasZipEnd(_ path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    guard let size = try? handle.seekToEnd(), size >= 22 else { return false }
    let tail = min(size, 65_557)
    try? handle.seek(toOffset: size - tail)
    guard let data = try? handle.read(upToCount: Int(tail)) else { return false }
    let bytes = [UInt8](data)
    var i = bytes.count - 22
    while i >= 0 {
      if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 0x05 && bytes[i + 3] == 0x06 { return true }
      i -= 1
    }
    return false
  }
}
