#if Postgres
  import EPBPlanner
  import EPBStore
  import Foundation
  import PostgresNIO

  extension PostgresStore {
    public func storedSeries(named name: String) throws(StoreError) -> StoredSeries {
      var history = try read {
        let info = try requireSeries(name)
        var b = PostgresBindings()
        b.append(info.id)
        let createdAt = try decode(query("SELECT created_at FROM series WHERE id = $1", b).first, as: String.self)
        var out = StoredSeries(
          name: info.name, layerIDs: info.layerIDs, experts: info.experts, createdAt: createdAt ?? "")
        out.ingests = try query(
          """
          SELECT id, source, content_sha256, format, steps, rows, first_step, last_step, total_load, ingested_at
          FROM ingest WHERE series_id = $1 ORDER BY id
          """, b
        ).map { row in
          let (id, source, hash, format, steps, rows, first, last, total, at) = try decode(
            row, as: (Int64, String, String, String, Int, Int, Int?, Int?, Double, String).self)
          return StoredIngest(
            id: id, source: source, contentSHA256: hash, format: format, steps: steps, rows: rows, firstStep: first,
            lastStep: last, totalLoad: total, ingestedAt: at)
        }
        out.steps = try query("SELECT step, time, loads_hash FROM step WHERE series_id = $1 ORDER BY step", b).map {
          let (step, time, hash) = try decode($0, as: (Int, Double?, Int64?).self)
          return StoredStep(step: step, time: time, loadsHash: hash)
        }
        out.rows = try query(
          "SELECT step, layer, total, ingest_id, encoding, loads FROM load WHERE series_id = $1 ORDER BY step, layer",
          b
        ).map {
          let (step, layer, total, ingest, encoding, blob) = try decode(
            $0, as: (Int, Int, Double, Int64, Int, ByteBuffer).self)
          return StoredRow(
            step: step, layer: layer, total: total, ingest: ingest, encoding: encoding,
            blob: Array(blob.readableBytesView))
        }
        return out
      }
      history.snapshots = try snapshots(series: name).map { (s) throws(StoreError) in try snapshot(id: s.id) }
      return history
    }

    public func restore(_ series: [StoredSeries]) throws(StoreError) {
      try transaction {
        for history in series {
          var name = PostgresBindings()
          name.append(history.name)
          if try query("SELECT 1 FROM series WHERE name = $1", name).first != nil {
            throw StoreError.seriesExists(name: history.name, location: path)
          }
          let seriesID = try insertSeries(
            history.name, layerIDs: history.layerIDs, experts: history.experts, createdAt: history.createdAt)
          let ingestID = try restoreIngests(history.ingests, series: seriesID)
          try restoreSteps(history.steps, series: seriesID)
          try restoreRows(history.rows, series: seriesID, ingestID: ingestID)
          var snapshotID: [Int64: Int64] = [:]
          for snapshot in history.snapshots {
            var copy = snapshot
            copy.baseSnapshotID = snapshot.baseSnapshotID.flatMap { snapshotID[$0] }
            snapshotID[snapshot.id ?? 0] = try insertSnapshot(copy, series: seriesID)
          }
        }
        return ((), commit: true)
      }
    }

    private func restoreIngests(_ ingests: [StoredIngest], series: Int64) throws -> [Int64: Int64] {
      var ids: [Int64: Int64] = [:]
      for i in ingests {
        var b = PostgresBindings()
        b.append(series)
        b.append(i.source)
        b.append(i.contentSHA256)
        b.append(i.format)
        b.append(i.steps)
        b.append(i.rows)
        b.append(i.firstStep)
        b.append(i.lastStep)
        b.append(i.totalLoad)
        b.append(i.ingestedAt)
        ids[i.id] = try decode(
          query(
            """
            INSERT INTO ingest (series_id, source, content_sha256, format, steps, rows, first_step, last_step,
                                total_load, ingested_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
            """, b
          ).first, as: Int64.self)
      }
      return ids
    }

    private func restoreSteps(_ steps: [StoredStep], series: Int64) throws {
      for start in stride(from: 0, to: steps.count, by: 10_000) {
        let part = steps[start..<min(start + 10_000, steps.count)]
        var b = PostgresBindings()
        b.append(series)
        b.append(part.map(\.step))
        b.append(part.map { $0.time ?? .nan })
        b.append(part.map { $0.loadsHash ?? 0 })
        b.append(part.map { $0.loadsHash != nil })
        try execute(
          """
          INSERT INTO step (series_id, step, time, loads_hash)
          SELECT $1, s, CASE WHEN t = 'NaN'::float8 THEN NULL ELSE t END, CASE WHEN k THEN h END
          FROM unnest($2::int8[], $3::float8[], $4::int8[], $5::bool[]) AS u(s, t, h, k)
          """, b)
      }
    }

    private func restoreRows(_ rows: [StoredRow], series: Int64, ingestID: [Int64: Int64]) throws {
      for start in stride(from: 0, to: rows.count, by: 4_096) {
        let part = rows[start..<min(start + 4_096, rows.count)]
        var b = PostgresBindings()
        b.append(series)
        b.append(part.map(\.step))
        b.append(part.map(\.layer))
        b.append(part.map(\.total))
        b.append(
          try part.map { r in
            guard let id = ingestID[r.ingest] else {
              throw StoreError.database(
                path: path, detail: "row step \(r.step) layer \(r.layer) names no copied ingest")
            }
            return id
          })
        b.append(part.map(\.encoding))
        b.append(
          part.map { r in
            var buffer = ByteBuffer()
            buffer.writeBytes(r.blob)
            return buffer
          })
        try execute(
          """
          INSERT INTO load (series_id, step, layer, total, ingest_id, encoding, loads)
          SELECT $1, s, l, t, i, e, d FROM unnest($2::int8[], $3::int8[], $4::float8[], $5::int8[], $6::int8[],
                                                  $7::bytea[]) AS u(s, l, t, i, e, d)
          """, b)
      }
    }
  }
#endif
