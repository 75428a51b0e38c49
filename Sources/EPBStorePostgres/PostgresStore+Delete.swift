#if Postgres
  import EPBStore
  import Foundation
  import PostgresNIO

  extension PostgresStore {
    /// See `EPBStore.delete`: the same rules as the SQLite store's, in one transaction.
    /// Sizes are the database's (`pg_database_size`); PostgreSQL keeps no free-page count, so
    /// `freeBytesAfter` is 0. `vacuum` runs a plain VACUUM after the commit (it takes no lock that
    /// stops recorders, and leaves the space to PostgreSQL for reuse rather than to the system).
    public func delete(_ target: DeletionTarget, dryRun: Bool, vacuum: Bool) throws(StoreError) -> DeletionReport {
      try deleting(dryRun: dryRun, vacuum: vacuum) { report in
        switch target {
        case .snapshot(let id):
          guard try query("SELECT 1 FROM snapshot WHERE id = $1", binds(id)).first != nil else {
            throw StoreError.unknownSnapshot(reference: String(id), detail: "no snapshot has id \(id)")
          }
          try deleteSnapshots([id], report: &report)
        case .series(let name):
          let series = try requireSeries(name)
          let ids = try query("SELECT id FROM snapshot WHERE series_id = $1 ORDER BY id", binds(series.id)).map {
            try decode($0, as: Int64.self)
          }
          try deleteSnapshots(ids, report: &report)
          report.loads += try changed("DELETE FROM load WHERE series_id = $1", binds(series.id))
          report.steps += try changed("DELETE FROM step WHERE series_id = $1", binds(series.id))
          report.ingests += try changed("DELETE FROM ingest WHERE series_id = $1", binds(series.id))
          try execute("DELETE FROM series WHERE id = $1", binds(series.id))
          report.series.append(name)
        case .ingestFile(let path, let seriesName):
          let seriesID = try seriesName.map { try requireSeries($0).id }
          var b = PostgresBindings()
          b.append(path)
          b.append(seriesID)
          let ids = try query(
            "SELECT id FROM ingest WHERE source = $1 AND ($2::int8 IS NULL OR series_id = $2) ORDER BY id", b
          ).map { try decode($0, as: Int64.self) }
          if ids.isEmpty {
            throw StoreError.nothingToDelete(
              "no ingest was recorded from '\(path)'\(seriesName.map { " in series '\($0)'" } ?? "")"
                + " (the path as it was given to `epbctl ingest`)")
          }
          try deleteIngests(ids, report: &report)
        case .ingestHash(let hex, let seriesName):
          let seriesID = try seriesName.map { try requireSeries($0).id }
          let prefix = hex.lowercased()
          var b = PostgresBindings()
          b.append(prefix)
          b.append(seriesID)
          let rows = try query(
            """
            SELECT id, content_sha256 FROM ingest
            WHERE left(content_sha256, length($1)) = $1 AND ($2::int8 IS NULL OR series_id = $2) ORDER BY id
            """, b
          ).map { try decode($0, as: (Int64, String).self) }
          if rows.isEmpty {
            throw StoreError.nothingToDelete("no ingest has a content SHA-256 starting with \(prefix)")
          }
          let hashes = Set(rows.map { $0.1 })
          if hashes.count > 1 {
            throw StoreError.nothingToDelete(
              "\(hashes.count) ingests have a content SHA-256 starting with \(prefix); give more digits")
          }
          try deleteIngests(rows.map { $0.0 }, report: &report)
        }
      }
    }

    /// See `EPBStore.prune` and the SQLite store's rules.
    public func prune(_ rule: PruneRule, dryRun: Bool, vacuum: Bool) throws(StoreError) -> DeletionReport {
      try deleting(dryRun: dryRun, vacuum: vacuum) { report in
        let chosen = try rule.series.map { [try requireSeries($0)] } ?? fetchSeries(name: nil)
        let cutoff = rule.olderThan.map { rule.now.addingTimeInterval(-$0).formatted(.iso8601) }
        for series in chosen {
          if rule.snapshots {
            var ids: [Int64] = []
            if let keep = rule.keepLast {
              ids = try query(
                "SELECT id FROM snapshot WHERE series_id = $1 ORDER BY id DESC OFFSET $2", binds(series.id, keep)
              ).map { try decode($0, as: Int64.self) }
            } else if let cutoff {
              var b = binds(series.id)
              b.append(cutoff)
              ids = try query(
                "SELECT id FROM snapshot WHERE series_id = $1 AND created_at < $2 ORDER BY id", b
              ).map { try decode($0, as: Int64.self) }
            }
            try deleteSnapshots(ids.sorted(), report: &report)
          }
          guard rule.steps else { continue }
          if let keep = rule.keepLast {
            guard
              let first = try decode(
                query(
                  "SELECT step FROM step WHERE series_id = $1 ORDER BY step DESC LIMIT 1 OFFSET $2",
                  binds(series.id, keep)
                ).first, as: Int.self)
            else { continue }
            report.loads += try changed("DELETE FROM load WHERE series_id = $1 AND step <= $2", binds(series.id, first))
            report.steps += try changed("DELETE FROM step WHERE series_id = $1 AND step <= $2", binds(series.id, first))
            report.ingests += try changed(
              "DELETE FROM ingest WHERE series_id = $1 AND (last_step IS NULL OR last_step <= $2)",
              binds(series.id, first))
          } else if let cutoff {
            var b = binds(series.id)
            b.append(cutoff)
            let ids = try query(
              "SELECT id FROM ingest WHERE series_id = $1 AND ingested_at < $2 ORDER BY id", b
            ).map { try decode($0, as: Int64.self) }
            try deleteIngests(ids, report: &report)
          }
        }
      }
    }

    /// Runs `body` in one transaction (rolled back for a dry run), measuring the database's
    /// size before and after, then VACUUMs when asked.
    private func deleting(dryRun: Bool, vacuum: Bool, _ body: (inout DeletionReport) throws -> Void)
      throws(StoreError) -> DeletionReport
    {
      var report = DeletionReport(dryRun: dryRun)
      report.bytesBefore = try databaseSize()
      report = try transaction {
        var inside = report
        try body(&inside)
        return (inside, commit: !dryRun)
      }
      if vacuum && !dryRun {
        try execute("VACUUM")
        report.vacuumed = true
      }
      report.bytesAfter = try databaseSize()
      return report
    }

    /// The database's bytes on disk (`pg_database_size`), tables, indexes and catalog.
    package func databaseSize() throws(StoreError) -> Int {
      try decode(query("SELECT pg_database_size(current_database())").first, as: Int.self) ?? 0
    }

    /// Runs a statement and returns how many rows it changed.
    private func changed(_ sql: String, _ binds: PostgresBindings) throws(StoreError) -> Int {
      try query(sql, binds).metadata.rows ?? 0
    }

    private func binds(_ values: Int64...) -> PostgresBindings {
      var b = PostgresBindings()
      for value in values { b.append(value) }
      return b
    }

    private func binds(_ id: Int64, _ value: Int) -> PostgresBindings {
      var b = PostgresBindings()
      b.append(id)
      b.append(value)
      return b
    }

    /// Deletes the snapshots `ids` (their layers by cascade); the snapshots based on them forget
    /// the base, and are counted.
    private func deleteSnapshots(_ ids: [Int64], report: inout DeletionReport) throws {
      guard !ids.isEmpty else { return }
      var b = PostgresBindings()
      b.append(ids)
      report.unbasedSnapshots += try changed(
        "UPDATE snapshot SET base_snapshot_id = NULL WHERE base_snapshot_id = ANY($1) AND NOT (id = ANY($1))", b)
      try execute("DELETE FROM snapshot WHERE id = ANY($1)", b)
      report.snapshots += ids
    }

    /// Deletes the ingests `ids` with their load rows, the steps left without a row, and clears
    /// the content hash of steps that lost only some rows.
    private func deleteIngests(_ ids: [Int64], report: inout DeletionReport) throws {
      for id in ids {
        let touched = try query(
          "DELETE FROM load WHERE ingest_id = $1 RETURNING series_id, step", binds(id)
        ).map { try decode($0, as: (Int64, Int).self) }
        report.loads += touched.count
        if let series = touched.first?.0 {
          var b = PostgresBindings()
          b.append(series)
          b.append(Array(Set(touched.map { $0.1 })).sorted())
          report.steps += try changed(
            """
            DELETE FROM step WHERE series_id = $1 AND step = ANY($2::int8[])
              AND NOT EXISTS (SELECT 1 FROM load WHERE load.series_id = step.series_id AND load.step = step.step)
            """, b)
          try execute("UPDATE step SET loads_hash = NULL WHERE series_id = $1 AND step = ANY($2::int8[])", b)
        }
        report.ingests += try changed("DELETE FROM ingest WHERE id = $1", binds(id))
      }
    }
  }
#endif
