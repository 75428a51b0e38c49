import Foundation
import GRDB

/// What `delete` removes.
public enum DeletionTarget: Sendable, Equatable {
  /// One snapshot (its layers with it). Snapshots planned on it keep their placement and forget
  /// their base (`base_snapshot_id` becomes NULL).
  case snapshot(Int64)
  /// A whole series: its steps, loads, ingests and snapshots.
  case series(String)
  /// Every ingest recorded from this path (as it was given to `ingest`), in `series` or in all.
  case ingestFile(String, series: String?)
  /// The ingest(s) whose content SHA-256 is, or starts with, this hex text (at least 8 digits),
  /// in `series` or in all.
  case ingestHash(String, series: String?)
}

/// What `prune` removes: old load steps, old snapshots, or both, in one series or in each.
public struct PruneRule: Sendable, Equatable {
  /// Keep the last N stored steps (by step number) and the last N snapshots (by id) of each series.
  public var keepLast: Int?
  /// Remove what is older than this many seconds before `now`: steps by the time of the ingest
  /// that recorded them (`ingest.ingested_at`, so every step has one), snapshots by `created_at`.
  public var olderThan: TimeInterval?
  public var steps: Bool
  public var snapshots: Bool
  /// One series, or every series when nil.
  public var series: String?
  public var now: Date

  public init(
    keepLast: Int? = nil, olderThan: TimeInterval? = nil, steps: Bool = true, snapshots: Bool = true,
    series: String? = nil, now: Date = Date()
  ) {
    self.keepLast = keepLast
    self.olderThan = olderThan
    self.steps = steps
    self.snapshots = snapshots
    self.series = series
    self.now = now
  }
}

/// What a `delete` or `prune` removed (or, in a dry run, would remove).
public struct DeletionReport: Sendable, Equatable {
  public var dryRun: Bool

  /// A report of nothing removed yet; the store fills in the counts and sizes.
  public init(dryRun: Bool) { self.dryRun = dryRun }
  /// Series removed, by name.
  public var series: [String] = []
  /// Snapshots removed, by id, increasing.
  public var snapshots: [Int64] = []
  /// Remaining snapshots whose base was removed (their `base_snapshot_id` is now NULL).
  public var unbasedSnapshots = 0
  /// Ingest records removed.
  public var ingests = 0
  /// Steps removed (a step goes with its last load row).
  public var steps = 0
  /// `load` rows removed, one per (series, step, layer).
  public var loads = 0
  /// The database's size (pages × page size) before and after, in bytes; `freeBytesAfter` of
  /// it are free pages that later writes reuse (VACUUM gives them back to the file system).
  public var bytesBefore = 0
  public var bytesAfter = 0
  public var freeBytesAfter = 0
  /// True when the file was vacuumed (never in a dry run).
  public var vacuumed = false

  /// True when nothing matched.
  public var isEmpty: Bool { series.isEmpty && snapshots.isEmpty && ingests == 0 && steps == 0 && loads == 0 }
}

extension SQLiteStore {
  /// Removes `target` in one transaction (all of it or nothing), then VACUUMs when asked.
  ///
  /// `dryRun` runs the same deletion and rolls it back, so the report is exact (it needs a
  /// writable database, like the deletion).
  ///
  /// - throws: `StoreError.unknownSnapshot`, `.unknownSeries`, `.nothingToDelete` (no ingest of
  ///   that file or hash), `.ambiguousHash`, and the database errors of `open`.
  public func delete(_ target: DeletionTarget, dryRun: Bool, vacuum: Bool) throws(StoreError) -> DeletionReport {
    try deleting(dryRun: dryRun, vacuum: vacuum) { db, report in
      switch target {
      case .snapshot(let id):
        guard try Bool.fetchOne(db, sql: "SELECT COUNT(*) > 0 FROM snapshot WHERE id = ?", arguments: [id]) == true
        else {
          throw StoreError.unknownSnapshot(reference: String(id), detail: "no snapshot has id \(id)")
        }
        try Self.deleteSnapshots(db, ids: [id], report: &report)
      case .series(let name):
        let series = try Self.requireSeries(db, name: name)
        let ids = try Int64.fetchAll(
          db, sql: "SELECT id FROM snapshot WHERE series_id = ? ORDER BY id", arguments: [series.id])
        try Self.deleteSnapshots(db, ids: ids, report: &report)
        try db.execute(sql: "DELETE FROM load WHERE series_id = ?", arguments: [series.id])
        report.loads += db.changesCount
        try db.execute(sql: "DELETE FROM step WHERE series_id = ?", arguments: [series.id])
        report.steps += db.changesCount
        try db.execute(sql: "DELETE FROM ingest WHERE series_id = ?", arguments: [series.id])
        report.ingests += db.changesCount
        // Explicit rather than by ON DELETE CASCADE: databases may be opened without foreign keys.
        try db.execute(sql: "DELETE FROM series_layer WHERE series_id = ?", arguments: [series.id])
        try db.execute(sql: "DELETE FROM series WHERE id = ?", arguments: [series.id])
        report.series.append(name)
      case .ingestFile(let path, let seriesName):
        let seriesID = try seriesName.map { try Self.requireSeries(db, name: $0).id }
        let ids = try Int64.fetchAll(
          db, sql: "SELECT id FROM ingest WHERE source = ? AND (? IS NULL OR series_id = ?) ORDER BY id",
          arguments: [path, seriesID, seriesID])
        if ids.isEmpty {
          throw StoreError.nothingToDelete(
            "no ingest was recorded from '\(path)'\(seriesName.map { " in series '\($0)'" } ?? "")"
              + " (the path as it was given to `epbctl ingest`)")
        }
        try Self.deleteIngests(db, ids: ids, report: &report)
      case .ingestHash(let hex, let seriesName):
        let seriesID = try seriesName.map { try Self.requireSeries(db, name: $0).id }
        let prefix = hex.lowercased()
        let rows = try Row.fetchAll(
          db,
          sql: """
            SELECT id, content_sha256 FROM ingest
            WHERE substr(content_sha256, 1, ?) = ? AND (? IS NULL OR series_id = ?) ORDER BY id
            """,
          arguments: [prefix.count, prefix, seriesID, seriesID])
        let hashes = Set(rows.map { $0["content_sha256"] as String })
        if rows.isEmpty {
          throw StoreError.nothingToDelete("no ingest has a content SHA-256 starting with \(prefix)")
        }
        if hashes.count > 1 {
          throw StoreError.nothingToDelete(
            "\(hashes.count) ingests have a content SHA-256 starting with \(prefix); give more digits")
        }
        try Self.deleteIngests(db, ids: rows.map { $0["id"] }, report: &report)
      }
    }
  }

  /// Removes what `rule` selects in one transaction, then VACUUMs when asked (see `delete`).
  ///
  /// Steps: with `keepLast` N, every step of a series before its Nth-last stored step; with
  /// `olderThan`, the rows of every ingest recorded before `now − olderThan` (a step goes with its
  /// last row). Ingest records left without rows go too, so the same file can be ingested again.
  /// Snapshots: all but the last N of each series, or those created before the cutoff.
  ///
  /// - throws: `StoreError.unknownSeries`, and the database errors of `open`.
  public func prune(_ rule: PruneRule, dryRun: Bool, vacuum: Bool) throws(StoreError) -> DeletionReport {
    try deleting(dryRun: dryRun, vacuum: vacuum) { db, report in
      let all = try Self.fetchSeries(db, name: nil)
      let chosen = try rule.series.map { [try Self.requireSeries(db, name: $0)] } ?? all
      let cutoff = rule.olderThan.map { rule.now.addingTimeInterval(-$0).formatted(.iso8601) }
      for series in chosen {
        if rule.snapshots {
          var ids: [Int64] = []
          if let keep = rule.keepLast {
            ids = try Int64.fetchAll(
              db, sql: "SELECT id FROM snapshot WHERE series_id = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
              arguments: [series.id, keep])
          } else if let cutoff {
            ids = try Int64.fetchAll(
              db, sql: "SELECT id FROM snapshot WHERE series_id = ? AND created_at < ? ORDER BY id",
              arguments: [series.id, cutoff])
          }
          try Self.deleteSnapshots(db, ids: ids.sorted(), report: &report)
        }
        guard rule.steps else { continue }
        if let keep = rule.keepLast {
          guard
            let first = try Int.fetchOne(
              db, sql: "SELECT step FROM step WHERE series_id = ? ORDER BY step DESC LIMIT 1 OFFSET ?",
              arguments: [series.id, keep])
          else { continue }
          // Steps up to `first` go; an ingest whose last step is among them has no row left.
          try db.execute(sql: "DELETE FROM load WHERE series_id = ? AND step <= ?", arguments: [series.id, first])
          report.loads += db.changesCount
          try db.execute(sql: "DELETE FROM step WHERE series_id = ? AND step <= ?", arguments: [series.id, first])
          report.steps += db.changesCount
          try db.execute(
            sql: "DELETE FROM ingest WHERE series_id = ? AND (last_step IS NULL OR last_step <= ?)",
            arguments: [series.id, first])
          report.ingests += db.changesCount
        } else if let cutoff {
          let ids = try Int64.fetchAll(
            db, sql: "SELECT id FROM ingest WHERE series_id = ? AND ingested_at < ? ORDER BY id",
            arguments: [series.id, cutoff])
          try Self.deleteIngests(db, ids: ids, report: &report)
        }
      }
    }
  }

  /// Runs `body` in one IMMEDIATE transaction with foreign-key checks off (rolled back for a
  /// dry run), measuring the size before and after, then VACUUMs when asked.
  ///
  /// Foreign keys are off because `load.ingest_id` has no index: with checks on, deleting each
  /// ingest row would scan the whole `load` table. The bodies delete children before parents
  /// (loads, then steps and ingests; snapshot layers, then snapshots), so the keys hold; the
  /// tests run `PRAGMA foreign_key_check` after every kind of deletion.
  private func deleting(
    dryRun: Bool, vacuum: Bool, _ body: @escaping (Database, inout DeletionReport) throws -> Void
  ) throws(StoreError) -> DeletionReport {
    do {
      var report = DeletionReport(dryRun: dryRun)
      try writer.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA foreign_keys = OFF")
        defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
        report.bytesBefore = try Self.size(db).bytes
        try db.inTransaction(.immediate) {
          try body(db, &report)
          (report.bytesAfter, report.freeBytesAfter) = try Self.size(db)
          return dryRun ? .rollback : .commit
        }
        if vacuum && !dryRun {
          try db.execute(sql: "VACUUM")
          // In WAL mode VACUUM writes the new pages to the -wal; checkpoint them into the file
          // and truncate the -wal, so the file itself shrinks.
          try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
          (report.bytesAfter, report.freeBytesAfter) = try Self.size(db)
          report.vacuumed = true
        }
      }
      return report
    } catch let error as StoreError {
      throw error
    } catch {
      throw Self.classify(error, path: path)
    }
  }

  /// Pages × page size and free pages × page size, in bytes.
  private static func size(_ db: Database) throws -> (bytes: Int, free: Int) {
    let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
    let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
    let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
    return (pages * pageSize, free * pageSize)
  }

  /// Deletes the snapshots `ids` with their layers; the snapshots based on them forget the base.
  private static func deleteSnapshots(_ db: Database, ids: [Int64], report: inout DeletionReport) throws {
    guard !ids.isEmpty else { return }
    let gone = Set(ids)
    let unbase = try db.cachedStatement(sql: "UPDATE snapshot SET base_snapshot_id = NULL WHERE base_snapshot_id = ?")
    for id in ids {
      try db.execute(sql: "DELETE FROM snapshot_layer WHERE snapshot_id = ?", arguments: [id])
      try db.execute(sql: "DELETE FROM snapshot_skipped_layer WHERE snapshot_id = ?", arguments: [id])
    }
    for id in ids {
      let based = try Int64.fetchAll(db, sql: "SELECT id FROM snapshot WHERE base_snapshot_id = ?", arguments: [id])
      report.unbasedSnapshots += based.filter { !gone.contains($0) }.count
      try unbase.execute(arguments: [id])
    }
    for id in ids {
      try db.execute(sql: "DELETE FROM snapshot WHERE id = ?", arguments: [id])
    }
    try retire(db, table: "snapshot", id: ids.max()!)
    report.snapshots += ids
  }

  /// Records that ids up to `id` of `table` were used, so `nextID` never hands them out again.
  private static func retire(_ db: Database, table: String, id: Int64) throws {
    try db.execute(
      sql: """
        INSERT INTO retired_id (table_name, max_id) VALUES (?, ?)
        ON CONFLICT (table_name) DO UPDATE SET max_id = MAX(max_id, excluded.max_id)
        """,
      arguments: [table, id])
  }

  /// The id for a new snapshot: above every stored and every deleted snapshot's id.
  static func nextSnapshotID(_ db: Database) throws -> Int64 {
    let stored = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM snapshot") ?? 0
    let retired = try Int64.fetchOne(db, sql: "SELECT max_id FROM retired_id WHERE table_name = 'snapshot'") ?? 0
    return max(stored, retired) + 1
  }

  /// Deletes the ingests `ids` with their load rows, the steps left without a row, and clears
  /// the content hash of steps that lost only some rows (they no longer hold what was hashed).
  private static func deleteIngests(_ db: Database, ids: [Int64], report: inout DeletionReport) throws {
    for id in ids {
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT series_id, first_step, last_step FROM ingest WHERE id = ?", arguments: [id])
      else { continue }
      let series: Int64 = row["series_id"]
      if let first: Int = row["first_step"], let last: Int = row["last_step"] {
        // An ingest's rows all lie within its step range, so this is a range scan of the key.
        let touched = try Int.fetchAll(
          db, sql: "SELECT DISTINCT step FROM load WHERE series_id = ? AND step BETWEEN ? AND ? AND ingest_id = ?",
          arguments: [series, first, last, id])
        try db.execute(
          sql: "DELETE FROM load WHERE series_id = ? AND step BETWEEN ? AND ? AND ingest_id = ?",
          arguments: [series, first, last, id])
        report.loads += db.changesCount
        let emptyStep = try db.cachedStatement(
          sql: """
            DELETE FROM step WHERE series_id = ? AND step = ?
              AND NOT EXISTS (SELECT 1 FROM load WHERE load.series_id = step.series_id AND load.step = step.step)
            """)
        let unhash = try db.cachedStatement(sql: "UPDATE step SET loads_hash = NULL WHERE series_id = ? AND step = ?")
        for step in touched {
          try emptyStep.execute(arguments: [series, step])
          if db.changesCount > 0 {
            report.steps += 1
          } else {
            try unhash.execute(arguments: [series, step])
          }
        }
      }
      try db.execute(sql: "DELETE FROM ingest WHERE id = ?", arguments: [id])
      report.ingests += db.changesCount
    }
  }
}
