import EPBPlanner
import Foundation
import GRDB

extension SQLiteStore {
  public func storedSeries(named name: String) throws(StoreError) -> StoredSeries {
    let info = try series(named: name)
    var history = try run { db in
      var out = StoredSeries(
        name: info.name, layerIDs: info.layerIDs, experts: info.experts,
        createdAt: try String.fetchOne(db, sql: "SELECT created_at FROM series WHERE id = ?", arguments: [info.id])
          ?? "")
      out.ingests = try Row.fetchAll(
        db,
        sql: """
          SELECT id, source, content_sha256, format, steps, rows, first_step, last_step, total_load, ingested_at
          FROM ingest WHERE series_id = ? ORDER BY id
          """, arguments: [info.id]
      ).map { r in
        StoredIngest(
          id: r["id"], source: r["source"], contentSHA256: r["content_sha256"], format: r["format"],
          steps: r["steps"], rows: r["rows"], firstStep: r["first_step"], lastStep: r["last_step"],
          totalLoad: r["total_load"], ingestedAt: r["ingested_at"])
      }
      out.steps = try Row.fetchAll(
        db, sql: "SELECT step, time, loads_hash FROM step WHERE series_id = ? ORDER BY step", arguments: [info.id]
      ).map { StoredStep(step: $0["step"], time: $0["time"], loadsHash: $0["loads_hash"]) }
      let cursor = try Row.fetchCursor(
        db,
        sql: "SELECT step, layer, total, ingest_id, encoding, loads FROM load WHERE series_id = ? ORDER BY step, layer",
        arguments: [info.id])
      while let r = try cursor.next() {
        let blob: Data = r[5]
        out.rows.append(
          StoredRow(step: r[0], layer: r[1], total: r[2], ingest: r[3], encoding: r[4], blob: [UInt8](blob)))
      }
      return out
    }
    history.snapshots = try snapshots(series: name).map { (s) throws(StoreError) in try snapshot(id: s.id) }
    return history
  }

  public func restore(_ series: [StoredSeries]) throws(StoreError) {
    try runWrite { db in
      for history in series {
        if try Int64.fetchOne(db, sql: "SELECT id FROM series WHERE name = ?", arguments: [history.name]) != nil {
          throw StoreError.seriesExists(name: history.name, location: path)
        }
        try db.execute(
          sql: "INSERT INTO series (name, layers, experts, created_at) VALUES (?, ?, ?, ?)",
          arguments: [history.name, history.layerIDs.count, history.experts, history.createdAt])
        let seriesID = db.lastInsertedRowID
        for layer in history.layerIDs {
          try db.execute(
            sql: "INSERT INTO series_layer (series_id, layer) VALUES (?, ?)", arguments: [seriesID, layer])
        }
        var ingestID: [Int64: Int64] = [:]
        for i in history.ingests {
          try db.execute(
            sql: SQLiteStore.insertIngest,
            arguments: [
              seriesID, i.source, i.contentSHA256, i.format, i.steps, i.rows, i.firstStep, i.lastStep, i.totalLoad,
              i.ingestedAt,
            ])
          ingestID[i.id] = db.lastInsertedRowID
        }
        let insertStep = try db.cachedStatement(
          sql: "INSERT INTO step (series_id, step, time, loads_hash) VALUES (?, ?, ?, ?)")
        for s in history.steps { try insertStep.execute(arguments: [seriesID, s.step, s.time, s.loadsHash]) }
        let insertRow = try db.cachedStatement(
          sql:
            "INSERT INTO load (series_id, step, layer, total, ingest_id, encoding, loads) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for r in history.rows {
          guard let ingest = ingestID[r.ingest] else {
            throw StoreError.database(path: path, detail: "row step \(r.step) layer \(r.layer) names no copied ingest")
          }
          try insertRow.execute(arguments: [seriesID, r.step, r.layer, r.total, ingest, r.encoding, Data(r.blob)])
        }
        var snapshotID: [Int64: Int64] = [:]
        for snapshot in history.snapshots {
          var copy = snapshot
          copy.baseSnapshotID = snapshot.baseSnapshotID.flatMap { snapshotID[$0] }
          snapshotID[snapshot.id ?? 0] = try Self.insertSnapshot(db, copy)
        }
      }
    }
  }
}
