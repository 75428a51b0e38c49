import EPBEngines
import EPBPlanner
import Foundation

/// The file side of TensorRT-LLM's expert statistics (`TRTLLMStatistics` parses them): the
/// folder, its rank files, their bytes and the content hash.
extension TRTLLMStatistics {
  /// True when `path` is a folder holding `meta_info.json`.
  public static func isStatisticsFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
      && FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("meta_info.json"))
  }

  /// The rank files of a statistics folder, in rank order: `rank{r}.safetensors`.
  public static func rankFiles(in folder: String) throws(InputError) -> [(rank: Int, path: String)] {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: folder)
    } catch {
      throw InputError(path: folder, message: "cannot list the folder")
    }
    let ranks = names.compactMap { name -> (Int, String)? in
      guard name.hasPrefix("rank"), name.hasSuffix(".safetensors") else { return nil }
      guard let r = Int(name.dropFirst(4).dropLast(".safetensors".count)), r >= 0 else { return nil }
      return (r, (folder as NSString).appendingPathComponent(name))
    }
    return ranks.sorted { $0.0 < $1.0 }.map { (rank: $0.0, path: $0.1) }
  }

  /// Reads a statistics folder into one batch, and the SHA-256 of its content (meta_info.json
  /// then each rank file in rank order, each hashed and the digests hashed together).
  ///
  /// - throws: `InputError` (a file cannot be read, no rank files) or `ParseError` naming the
  ///   file (see `parse(meta:metaPath:ranks:folder:)`).
  public static func read(folder: String) throws -> (batch: LoadBatch, sha256: String, ranks: Int) {
    let metaPath = (folder as NSString).appendingPathComponent("meta_info.json")
    let metaBytes = try Ingestor.read(path: metaPath)
    let files = try rankFiles(in: folder)
    guard !files.isEmpty else {
      throw InputError(path: folder, message: "no rank{r}.safetensors files next to meta_info.json")
    }
    var digests = SHA256.hex(of: metaBytes)
    var ranks: [(path: String, bytes: [UInt8])] = []
    for (_, path) in files {
      let bytes = try Ingestor.read(path: path)
      digests += SHA256.hex(of: bytes)
      ranks.append((path, bytes))
    }
    let batch = try parse(meta: metaBytes, metaPath: metaPath, ranks: ranks, folder: folder)
    return (batch, SHA256.hex(of: Array(digests.utf8)), files.count)
  }
}
