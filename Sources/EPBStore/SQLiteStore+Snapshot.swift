import EPBPlanner
import Foundation
import GRDB

extension SQLiteStore {
  /// Stores `snapshot` (its `id` is ignored) in one transaction and returns its id.
  ///
  /// - throws: `StoreError.unknownSeries`, or the database errors of `open`.
  public func saveSnapshot(_ new: Snapshot) throws(StoreError) -> Int64 {
    try runWrite { db in try Self.insertSnapshot(db, new) }
  }

  /// Inserts `new` (its `id` ignored, its `createdAt` and base kept) with its layers; returns its id.
  static func insertSnapshot(_ db: Database, _ new: Snapshot) throws -> Int64 {
    let series = try requireSeries(db, name: new.series)
    let plan = new.plan
    try db.execute(
      sql: """
        INSERT INTO snapshot (id, series_id, created_at, algorithm, policy, replicas, gpus, nodes, groups,
                              window_from, window_to, window_steps, half_life, base_snapshot_id, tool_version,
                              parameters)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        try nextSnapshotID(db), series.id, new.createdAt, new.algorithmName, plan.policy.rawValue,
        plan.topology.replicas, plan.topology.gpus,
        plan.topology.nodes, plan.topology.groups, new.windowFrom, new.windowTo, new.windowSteps,
        new.halfLife, new.baseSnapshotID, new.toolVersion, new.parameters,
      ])
    let id = db.lastInsertedRowID
    let insertLayer = try db.cachedStatement(
      sql: """
        INSERT INTO snapshot_layer (snapshot_id, layer, phy2log, logcnt, gpu_load, peak, mean, no_replication_peak,
                                    lower_bound)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    for layer in plan.layers {
      let stats = layer.statistics
      try insertLayer.execute(arguments: [
        id, layer.layer, jsonArray(layer.placement.physicalToLogical),
        jsonArray(layer.placement.logicalCount), jsonArray(stats.evaluation.gpuLoad),
        stats.evaluation.peak, stats.evaluation.mean, stats.noReplicationPeak, stats.lowerBound,
      ])
    }
    let insertSkipped = try db.cachedStatement(
      sql: "INSERT INTO snapshot_skipped_layer (snapshot_id, layer) VALUES (?, ?)")
    for layer in plan.skippedLayers {
      try insertSkipped.execute(arguments: [id, layer])
    }
    return id
  }

  /// Snapshots in increasing id order, of one series or all.
  public func snapshots(series: String?) throws(StoreError) -> [SnapshotSummary] {
    try run { db in
      if let series { _ = try Self.requireSeries(db, name: series) }
      let sql = """
        SELECT \(SnapshotRow.columns),
               (SELECT COUNT(*) FROM snapshot_layer WHERE snapshot_id = p.id) AS planned_layers,
               (SELECT SUM(mean) / SUM(peak) FROM snapshot_layer WHERE snapshot_id = p.id) AS balancedness_weighted
        FROM snapshot p JOIN series s ON s.id = p.series_id
        WHERE (? IS NULL OR s.name = ?)
        ORDER BY p.id
        """
      return try SnapshotSummaryRow.fetchAll(db, sql: sql, arguments: [series, series]).map { row in
        let p = row.snapshot
        return SnapshotSummary(
          id: p.id, series: p.seriesName, createdAt: p.createdAt, algorithm: p.algorithm, policy: p.resolvedPolicy,
          topology: p.topology, windowFrom: p.windowFrom, windowTo: p.windowTo, halfLife: p.halfLife,
          layers: row.plannedLayers, balancednessWeighted: row.balancednessWeighted ?? 1)
      }
    }
  }

  /// Resolves a snapshot reference: an id, `latest`, or `latest~N` (the Nth before the latest),
  /// counted over the whole database or within `series` when given.
  ///
  /// - throws: `StoreError.unknownSnapshot` saying why nothing matches.
  public func resolveSnapshot(_ reference: String, series: String?) throws(StoreError) -> Int64 {
    let parsed = try SnapshotReference(reference)
    return try run { db in
      let seriesID: Int64? = try series.map { try Self.requireSeries(db, name: $0).id }
      switch parsed {
      case .latest(let back):
        let ids = try Int64.fetchAll(
          db, sql: "SELECT id FROM snapshot WHERE (? IS NULL OR series_id = ?) ORDER BY id DESC LIMIT ?",
          arguments: [seriesID, seriesID, back + 1])
        return try parsed.pick(ids, reference: reference, series: series)
      case .id(let id):
        let found =
          try Bool.fetchOne(
            db, sql: "SELECT COUNT(*) > 0 FROM snapshot WHERE id = ? AND (? IS NULL OR series_id = ?)",
            arguments: [id, seriesID, seriesID]) ?? false
        return try parsed.pick(found ? [id] : [], reference: reference, series: series)
      }
    }
  }

  /// The snapshot with `id`, with all its layers.
  ///
  /// - throws: `StoreError.unknownSnapshot`, `StoreError.unknownAlgorithm` for a snapshot an
  ///   epbctl with more algorithms stored, or the database errors of `open`.
  public func snapshot(id: Int64) throws(StoreError) -> Snapshot {
    try run { db in
      guard
        let row = try SnapshotRow.fetchOne(
          db, sql: "SELECT \(SnapshotRow.columns) FROM snapshot p JOIN series s ON s.id = p.series_id WHERE p.id = ?",
          arguments: [id])
      else {
        throw StoreError.unknownSnapshot(reference: String(id), detail: "no snapshot has id \(id)")
      }
      let layers = try SnapshotLayerRow.fetchAll(
        db,
        sql: """
          SELECT layer, phy2log, logcnt, gpu_load, peak, mean, no_replication_peak, lower_bound
          FROM snapshot_layer WHERE snapshot_id = ? ORDER BY layer
          """, arguments: [id]
      ).map { r -> PlannedLayer in
        let phy2log: [Int] = try Self.decodeArray(r.phy2log, what: "phy2log", snapshot: id)
        let logcnt: [Int] = try Self.decodeArray(r.logcnt, what: "logcnt", snapshot: id)
        let gpuLoad: [Double] = try Self.decodeArray(r.gpuLoad, what: "gpu_load", snapshot: id)
        return PlannedLayer(
          layer: r.layer, placement: LayerPlacement(physicalToLogical: phy2log, logicalCount: logcnt),
          statistics: LayerStatistics(
            evaluation: LayerEvaluation(gpuLoad: gpuLoad, peak: r.peak, mean: r.mean),
            noReplicationPeak: r.noReplicationPeak, lowerBound: r.lowerBound))
      }
      let skipped = try Int.fetchAll(
        db, sql: "SELECT layer FROM snapshot_skipped_layer WHERE snapshot_id = ? ORDER BY layer", arguments: [id])
      guard let algorithm = Snapshot.algorithm(named: row.algorithm) else {
        throw StoreError.unknownAlgorithm(snapshot: id, name: row.algorithm)
      }
      return Snapshot(
        id: row.id, series: row.seriesName, createdAt: row.createdAt, algorithmName: row.algorithm,
        plan: Plan(
          topology: row.topology, policy: row.resolvedPolicy, algorithm: algorithm, layers: layers,
          skippedLayers: skipped),
        windowFrom: row.windowFrom, windowTo: row.windowTo, windowSteps: row.windowSteps, halfLife: row.halfLife,
        baseSnapshotID: row.baseSnapshotID, toolVersion: row.toolVersion, parameters: row.parameters)
    }
  }

  package static func jsonArray(_ xs: [Int]) -> String {
    "[" + xs.map(String.init).joined(separator: ",") + "]"
  }

  package static func jsonArray(_ xs: [Double]) -> String {
    "[" + xs.map { "\($0)" }.joined(separator: ",") + "]"
  }

  /// Parses a JSON array of numbers as the store writes them (`[1,2,3]`, `[0.5,1e-07]`).
  ///
  /// Hand-rolled because Foundation's JSONDecoder cost 2,500 instructions per number: reading
  /// two 58-layer snapshots for a diff spent 250 M instructions there. Each number is read from
  /// the bytes between commas, without a String per number.
  /// - throws: `StoreError.database` when the text is not such an array.
  package static func decodeArray<T: StoreNumber>(_ text: String, what: String, snapshot: Int64) throws -> [T] {
    var text = text
    let parsed: [T]? = text.withUTF8 { bytes in
      guard bytes.count >= 2, bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return nil }
      var out: [T] = []
      out.reserveCapacity(bytes.count / 2)
      var start = 1
      let end = bytes.count - 1
      if start == end { return out }
      while start <= end {
        var stop = start
        while stop < end && bytes[stop] != UInt8(ascii: ",") { stop += 1 }
        guard let value = T(UnsafeBufferPointer(rebasing: bytes[start..<stop])) else { return nil }
        out.append(value)
        start = stop + 1
      }
      return out
    }
    guard let parsed else {
      throw StoreError.database(path: "", detail: "snapshot \(snapshot): column \(what) is not a JSON array")
    }
    return parsed
  }
}

/// A number type the snapshot vectors hold, parsed from its ASCII bytes.
package protocol StoreNumber {
  init?(_ ascii: UnsafeBufferPointer<UInt8>)
}

extension Int: StoreNumber {
  package init?(_ ascii: UnsafeBufferPointer<UInt8>) {
    guard !ascii.isEmpty, ascii.count <= 18 else { return nil }
    var negative = false
    var value = 0
    for (i, byte) in ascii.enumerated() {
      if i == 0 && byte == UInt8(ascii: "-") {
        negative = true
        continue
      }
      guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
      value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    self = negative ? -value : value
  }
}

extension Double: StoreNumber {
  package init?(_ ascii: UnsafeBufferPointer<UInt8>) {
    guard !ascii.isEmpty, ascii.count < 64 else { return nil }
    // strtod on a NUL-terminated copy: correctly rounded, so values written with Swift's
    // shortest round-trip description come back bit for bit.
    let value: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: ascii.count + 1) { buffer in
      for (i, byte) in ascii.enumerated() { buffer[i] = CChar(bitPattern: byte) }
      buffer[ascii.count] = 0
      var endPointer: UnsafeMutablePointer<CChar>?
      let parsed = strtod(buffer.baseAddress!, &endPointer)
      return endPointer == buffer.baseAddress! + ascii.count ? parsed : nil
    }
    guard let value else { return nil }
    self = value
  }
}
