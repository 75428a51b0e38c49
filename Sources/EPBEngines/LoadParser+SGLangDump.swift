import EPBPlanner
import Foundation

/// SGLang's expert distribution recorder dumps (`python/sglang/srt/eplb/expert_distribution.py`),
/// `torch.save` files read through `TorchArchive`.
///
/// - `stat` / `stat_approx` mode: rank 0 writes `expert_distribution_recorder_{unix time}.pt`,
///   `{rank, logical_count, average_utilization_rate_over_window}` with `logical_count` int32
///   `[buffer_rows][num_hidden_layers][num_logical_experts]` (dense layers are zero rows). The
///   buffer is circular and its write index is not saved, so the rows are in ring order, not time
///   order, and unfilled rows are zero. By default a dump is **one step**, the sum of its rows (what
///   SGLang's own rebalancer plans on); `rowsAsSteps` takes the non-zero rows as steps in file
///   order, right only for a recorder run with an unbounded buffer
///   (`--expert-distribution-recorder-buffer-size -1`), whose rows are in time order.
/// - `per_pass` / `per_token` mode: each rank writes `expert_distribution_recorder_{time}_{rank}.pt`,
///   `{records: [{forward_pass_id, rank, gatherer_key, global_physical_count [L][R], …}],
///   last_physical_to_logical_map [L][R]}`. Physical slots fold to logical experts with the map
///   (the last one of the run: if the placement changed while recording, earlier passes are
///   folded with the later map), the ranks' records of one forward pass are summed, one step per
///   `forward_pass_id` (step number = the id).
///
/// Layers are SGLang's rows, which are the model's layer ids `0..<num_hidden_layers`.
public enum SGLangDump {
  /// What a `.pt` file holds.
  public enum Kind: Equatable, Sendable {
    case stat
    case perPass
    /// `{"physical_to_logical_map": [L][R]}`: a placement, for `ingest --placement`.
    case placement
  }

  /// The step time a stat dump's name carries: `{t}` of `expert_distribution_recorder_{t}.pt`.
  public static func time(fromName path: String) -> Double? {
    let name = (path as NSString).lastPathComponent
    let prefix = "expert_distribution_recorder_"
    guard name.hasPrefix(prefix), name.hasSuffix(".pt") else { return nil }
    let middle = name.dropFirst(prefix.count).dropLast(3)
    guard let t = Double(middle), t.isFinite, t > 0 else { return nil }
    return t
  }

  /// True for the name a per-pass rank file has: `expert_distribution_recorder_{t}_{rank}.pt`.
  public static func isPerPassName(_ path: String) -> Bool {
    let name = (path as NSString).lastPathComponent
    let prefix = "expert_distribution_recorder_"
    guard name.hasPrefix(prefix), name.hasSuffix(".pt") else { return false }
    let parts = name.dropFirst(prefix.count).dropLast(3).split(separator: "_")
    return parts.count == 2 && Double(parts[0]) != nil && Int(parts[1]) != nil
  }

  /// The kind of the dump `archive` holds.
  static func kind(of archive: TorchArchive) throws(ParseError) -> Kind {
    if archive.root["logical_count"] != nil { return .stat }
    if archive.root["records"] != nil { return .perPass }
    if archive.root["physical_to_logical_map"] != nil { return .placement }
    throw ParseError(
      source: archive.source, location: .file, code: .missingKey,
      message: "a torch.save file without logical_count (stat dump), records (per-pass dump) or "
        + "physical_to_logical_map; expected an SGLang expert distribution recorder dump")
  }

  /// A tensor at `key` of the archive's root dict, read.
  static func tensor(_ archive: TorchArchive, _ value: PickleValue?, name: String) throws(ParseError) -> (
    shape: [Int], values: [Double]
  ) {
    guard case .tensor(let t)? = value else {
      throw ParseError(
        source: archive.source, location: .file, code: .wrongShape,
        message: "\(name) is \(value?.kind ?? "missing"); expected a tensor")
    }
    return try archive.values(of: t, name: name)
  }

  /// Parses a stat dump.
  ///
  /// - parameter time: the step time (from the name or the file's mtime); with `rowsAsSteps`
  ///   every step gets it.
  static func parseStat(_ archive: TorchArchive, rowsAsSteps: Bool, time: Double?) throws(ParseError) -> LoadBatch {
    var (shape, values) = try tensor(archive, archive.root["logical_count"], name: "logical_count")
    if shape.count == 2 { shape.insert(1, at: 0) }
    guard shape.count == 3, shape[1] > 0, shape[2] > 0 else {
      throw ParseError(
        source: archive.source, location: .file, code: .wrongShape,
        message: "logical_count has shape \(shape); expected [rows][layers][experts]")
    }
    let (rowCount, layers, experts) = (shape[0], shape[1], shape[2])
    let perRow = layers * experts
    if rowsAsSteps {
      // The non-zero rows, moved up in place over the zero ones (no second copy of the values).
      var step = 0
      values.withUnsafeMutableBufferPointer { v in
        for r in 0..<rowCount {
          let row = UnsafeMutableBufferPointer(rebasing: v[(r * perRow)..<((r + 1) * perRow)])
          guard row.contains(where: { $0 != 0 }) else { continue }
          if step != r {
            (v.baseAddress! + step * perRow).update(from: row.baseAddress!, count: perRow)
          }
          step += 1
        }
      }
      guard step > 0 else { throw allZero(archive, rowCount) }
      values.removeLast((rowCount - step) * perRow)
      var rows: [LoadRow] = []
      rows.reserveCapacity(step * layers)
      for s in 0..<step {
        for l in 0..<layers { rows.append(LoadRow(step: s, layer: l, time: time)) }
      }
      return LoadBatch(layers: layers, experts: experts, rows: rows, values: values, stepsAreRelative: true)
    }
    var sum = [Double](repeating: 0, count: perRow)
    sum.withUnsafeMutableBufferPointer { s in
      values.withUnsafeBufferPointer { v in
        for r in 0..<rowCount {
          let base = r * perRow
          for i in 0..<perRow { s[i] += v[base + i] }
        }
      }
    }
    guard sum.contains(where: { $0 != 0 }) else { throw allZero(archive, rowCount) }
    let rows = (0..<layers).map { LoadRow(step: 0, layer: $0, time: time) }
    return LoadBatch(layers: layers, experts: experts, rows: rows, values: sum, stepsAreRelative: true)
  }

  private static func allZero(_ archive: TorchArchive, _ rows: Int) -> ParseError {
    ParseError(
      source: archive.source, location: .file, code: .empty,
      message: "logical_count's \(plural(rows, "row")) are all zero: the recorder saw no tokens")
  }

  /// Parses the per-pass rank files of one dump into one batch: one step per forward pass.
  ///
  /// - throws: `ParseError` naming the file: not a per-pass dump, maps of different shapes, a
  ///   record without an int `forward_pass_id` or a `global_physical_count` of the map's shape,
  ///   a map entry outside `0..<experts`, the same (pass, rank) twice.
  package static func parsePerPass(_ archives: [TorchArchive]) throws(ParseError) -> (batch: LoadBatch, passes: Int) {
    var layers = 0
    var slots = 0
    var phy2log: [Int] = []
    var experts = 0
    // forward_pass_id → summed logical counts [L][E]
    var steps: [Int: [Double]] = [:]
    var seen = Set<[Int]>()
    for archive in archives {
      func fail(_ code: ParseError.Code, _ message: String) -> ParseError {
        ParseError(source: archive.source, location: .file, code: code, message: message)
      }
      guard try kind(of: archive) == .perPass else {
        throw fail(.wrongShape, "not a per-pass dump (no records); give stat dumps one file at a time")
      }
      let (mapShape, mapValues) = try tensor(
        archive, archive.root["last_physical_to_logical_map"], name: "last_physical_to_logical_map")
      guard mapShape.count == 2, mapShape[0] > 0, mapShape[1] > 0 else {
        throw fail(.wrongShape, "last_physical_to_logical_map has shape \(mapShape); expected [layers][slots]")
      }
      let map = mapValues.map { Int($0) }
      if phy2log.isEmpty {
        (layers, slots, phy2log) = (mapShape[0], mapShape[1], map)
        experts = (map.max() ?? 0) + 1
        guard experts <= IngestLimits.maxExperts else { throw fail(.tooLarge, "the map names expert \(experts - 1)") }
      } else if mapShape != [layers, slots] {
        throw fail(
          .ragged, "last_physical_to_logical_map has shape \(mapShape), the first file's has [\(layers), \(slots)]")
      }
      guard case .list(let records)? = archive.root["records"] else {
        throw fail(.wrongShape, "records is \(archive.root["records"]?.kind ?? "missing"); expected a list")
      }
      for (i, record) in records.items.enumerated() {
        guard case .int(let pass)? = record["forward_pass_id"], pass >= 0 else {
          throw fail(.invalidIndex, "records[\(i)] has no non-negative int forward_pass_id")
        }
        var rank = -1
        if case .int(let r)? = record["rank"] { rank = r }
        guard seen.insert([pass, rank]).inserted else {
          throw fail(.duplicate, "records[\(i)]: forward pass \(pass) of rank \(rank) appears twice")
        }
        let (shape, counts) = try tensor(
          archive, record["global_physical_count"], name: "records[\(i)].global_physical_count")
        guard shape == [layers, slots] else {
          throw fail(
            .ragged, "records[\(i)].global_physical_count has shape \(shape); the map's is [\(layers), \(slots)]")
        }
        var sum = steps[pass] ?? [Double](repeating: 0, count: layers * experts)
        for l in 0..<layers {
          for s in 0..<slots {
            let e = phy2log[l * slots + s]
            guard e >= 0, e < experts else {
              throw fail(.invalidIndex, "last_physical_to_logical_map[\(l)][\(s)] = \(e); expected 0 to \(experts - 1)")
            }
            sum[l * experts + e] += counts[l * slots + s]
          }
        }
        steps[pass] = sum
        guard steps.count * layers * experts <= IngestLimits.maxLoads else {
          throw fail(.tooLarge, "more than \(IngestLimits.maxLoads) loads")
        }
      }
    }
    guard !steps.isEmpty else {
      throw ParseError(source: archives.first?.source ?? "-", location: .file, code: .empty, message: "no records")
    }
    var rows: [LoadRow] = []
    var values: [Double] = []
    for pass in steps.keys.sorted() {
      for l in 0..<layers { rows.append(LoadRow(step: pass, layer: l)) }
      values.append(contentsOf: steps[pass]!)
    }
    return (
      LoadBatch(layers: layers, experts: experts, rows: rows, values: values, stepsAreRelative: false), steps.count
    )
  }

  /// The placement a `.pt` holds: `physical_to_logical_map` `[L][R]`, or a per-pass dump's
  /// `last_physical_to_logical_map`, as rows of logical expert ids.
  static func placementMap(_ archive: TorchArchive) throws(ParseError) -> [[Int]] {
    let key = try kind(of: archive) == .perPass ? "last_physical_to_logical_map" : "physical_to_logical_map"
    let (shape, values) = try tensor(archive, archive.root[key], name: key)
    guard shape.count == 2, shape[0] > 0, shape[1] > 0 else {
      throw ParseError(
        source: archive.source, location: .file, code: .wrongShape,
        message: "\(key) has shape \(shape); expected [layers][slots]")
    }
    return (0..<shape[0]).map { l in values[(l * shape[1])..<((l + 1) * shape[1])].map { Int($0) } }
  }
}
