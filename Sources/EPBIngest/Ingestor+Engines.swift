import EPBEngines
import EPBPlanner
import EPBStore
import Foundation

extension Ingestor {
  /// Ingests the folder `path`: TensorRT-LLM's statistics (`meta_info.json` + `rank*.safetensors`,
  /// one step per iteration id, the model's layer ids) or the per-pass rank files of one SGLang
  /// dump (every `*.pt` in it, summed per forward pass). One ingest, stored whole or not at all;
  /// the same content again is `already-ingested`.
  ///
  /// - throws: `InputError` when the folder holds neither, `ParseError` naming the bad file.
  public func ingestFolder(
    path: String, series: String, replace: Bool, layerIDs: LayerIDOption? = nil
  ) throws -> FileIngestResult {
    if TRTLLMStatistics.isStatisticsFolder(path) {
      let (batch, hash, _) = try TRTLLMStatistics.read(folder: path)
      return try store(
        batch: batch, path: path, format: .trtllmStatistics, sha256: hash, series: series, replace: replace,
        layerIDs: layerIDs)
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    let dumps = names.filter { $0.hasSuffix(".pt") }.sorted().map { (path as NSString).appendingPathComponent($0) }
    guard !dumps.isEmpty else {
      throw InputError(
        path: path,
        message: "a folder without meta_info.json (TensorRT-LLM statistics) or .pt files (SGLang per-pass rank "
          + "files of one dump); give files, or the folder that holds them")
    }
    return try ingestPerPass(paths: dumps, label: path, series: series, replace: replace, layerIDs: layerIDs)
  }

  /// Ingests the per-pass rank files of one SGLang dump as one input: each rank's
  /// `global_physical_count` folded to logical experts with the dump's
  /// `last_physical_to_logical_map` (the map at the end of the run), summed over ranks per
  /// `forward_pass_id`, one step per pass (step number = the id).
  ///
  /// - parameter label: the name the ingest is recorded under (the folder, or the files joined).
  public func ingestPerPass(
    paths: [String], label: String, series: String, replace: Bool, layerIDs: LayerIDOption? = nil
  ) throws -> FileIngestResult {
    var archives: [TorchArchive] = []
    var digests = ""
    for p in paths {
      let bytes = try Self.read(path: p)
      digests += SHA256.hex(of: bytes)
      archives.append(try TorchArchive(bytes, source: p))
    }
    let (batch, _) = try SGLangDump.parsePerPass(archives)
    try IngestLimits.check(batch, source: label)
    var result = try store(
      batch: batch, path: label, format: .sglangDump, sha256: SHA256.hex(of: Array(digests.utf8)), series: series,
      replace: replace, layerIDs: layerIDs)
    result.note =
      "physical slots folded to logical experts with the dump's last_physical_to_logical_map (the placement at "
      + "the end of the run: passes recorded before a rebalance are folded with the later map)"
    return result
  }

  /// The step time of a stat dump at `path`: the `{unix time}` its name carries, else the file's
  /// modification time.
  static func dumpTime(path: String) -> Double? {
    if let t = SGLangDump.time(fromName: path) { return t }
    let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    return date?.timeIntervalSince1970
  }

  /// Stores a batch read from several files (hashed together as `sha256`).
  func store(
    batch: LoadBatch, path: String, format: InputFormat, sha256: String, series: String, replace: Bool,
    layerIDs: LayerIDOption?
  ) throws -> FileIngestResult {
    var batch = batch
    if let layerIDs { batch = try layerIDs.apply(to: batch, path: path) }
    let source = IngestSource(path: path, contentSHA256: sha256, format: format.rawValue)
    let outcome = try store.ingest(batch, series: series, source: source, replace: replace)
    return FileIngestResult(path: path, format: format, outcome: outcome)
  }
}
