import EPBPlanner
import Foundation
import GRDB
import GRDBSQLite

extension EPBStore {
  /// Stores `batch` into `series` in one transaction: all of it or nothing.
  ///
  /// Creates the series on first use, with the batch's shape and model layer ids
  /// (`LoadBatch.declaredLayerIDs`); later inputs must have the same ids (or, naming layers one
  /// row at a time, some of them). Relative steps (`batch.stepsAreRelative`) are appended after
  /// the series' last step. The same content (by `source.contentSHA256`) stored before into
  /// the same series is a no-op reported as `.alreadyIngested`.
  ///
  /// - parameter replace: overwrite (step, layer) rows that are already stored instead of failing.
  /// - throws: `StoreError.shapeMismatch` when layer ids or experts differ from the series,
  ///   `.duplicateRows` when a row is stored already and `replace` is false, and the database
  ///   errors of `open`.
  public func ingest(_ batch: LoadBatch, series name: String, source: IngestSource, replace: Bool)
    throws(StoreError) -> IngestOutcome
  {
    do {
      return try runWrite { db in try Self.ingest(db, batch: batch, series: name, source: source, replace: replace) }
    } catch .database(_, let detail) where detail == Self.alreadyStoredMarker {
      // A pending hash matched stored content: the rows were rolled back; report the first ingest.
      return try run { db in
        let series = try Self.requireSeries(db, name: name)
        guard let previous = try Self.previousIngest(db, series: series, hash: source.contentSHA256) else {
          throw StoreError.database(path: "", detail: "the matching ingest vanished")
        }
        return previous
      }
    }
  }

  /// The detail of the internal error that rolls back an ingest whose content was stored before.
  private static let alreadyStoredMarker = "content already stored"

  /// The outcome of an earlier ingest of the same content into `series`, if any.
  private static func previousIngest(_ db: Database, series: SeriesInfo, hash: String) throws -> IngestOutcome? {
    guard
      let previous = try Row.fetchOne(
        db,
        sql: "SELECT steps, first_step, last_step, total_load FROM ingest WHERE series_id = ? AND content_sha256 = ?",
        arguments: [series.id, hash])
    else { return nil }
    return IngestOutcome(
      status: .alreadyIngested, series: series.name, steps: previous[0], layers: series.layers,
      layerIDs: series.layerIDs, experts: series.experts, totalLoad: previous[3], firstStep: previous[1], lastStep: previous[2], replacedRows: 0)
  }

  private static func ingest(_ db: Database, batch: LoadBatch, series name: String, source: IngestSource, replace: Bool)
    throws -> IngestOutcome
  {
    // Step 1: the series, created on first use with the input's layer ids.
    var series: SeriesInfo
    let inputIDs = batch.declaredLayerIDs
    if let existing = try fetchSeries(db, name: name).first {
      series = existing
    } else {
      guard !inputIDs.isEmpty, batch.experts > 0 else {
        throw StoreError.shapeMismatch(series: name, source: source.path, detail: "the input holds no load")
      }
      try db.execute(
        sql: "INSERT INTO series (name, layers, experts, created_at) VALUES (?, ?, ?, ?)",
        arguments: [name, inputIDs.count, batch.experts, now()])
      let id = db.lastInsertedRowID
      let insertLayer = try db.cachedStatement(sql: "INSERT INTO series_layer (series_id, layer) VALUES (?, ?)")
      for layer in inputIDs { try insertLayer.execute(arguments: [id, layer]) }
      series = SeriesInfo(
        id: id, name: name, layers: inputIDs.count, layerIDs: inputIDs, experts: batch.experts, steps: 0,
        firstStep: nil, lastStep: nil, totalLoad: 0)
    }

    // Step 2: idempotency by content (a pending hash is checked just before commit, step 7).
    if case .known(let hash) = source.hash, let previous = try previousIngest(db, series: series, hash: hash) {
      return previous
    }

    // Step 3: the shape must match the series: the same experts, the same model layer ids (an
    // input naming layers one row at a time may hold some of them).
    if batch.experts != series.experts {
      throw StoreError.shapeMismatch(
        series: name, source: source.path,
        detail: "the input has \(plural(batch.experts, "expert")) per layer, the series has \(series.experts)")
    }
    if batch.statesAllLayers && inputIDs != series.layerIDs {
      let detail =
        inputIDs.count != series.layers
        ? "the input has \(plural(inputIDs.count, "layer")), the series has \(series.layers)"
        : "the input's layers are model layers \(LayerIDs.describe(inputIDs)), the series' are "
          + "\(LayerIDs.describe(series.layerIDs)); give the input's ids with --first-layer or --layer-ids"
      throw StoreError.shapeMismatch(series: name, source: source.path, detail: detail)
    }
    if batch.statesAllLayers {
      // A reader that states its layers but names another on a row (a bug of the reader).
      let stated = Set(inputIDs)
      if let stray = batch.rows.first(where: { !stated.contains($0.layer) }) {
        throw StoreError.shapeMismatch(
          series: name, source: source.path,
          detail: "the input names layer \(stray.layer), outside its own layers \(LayerIDs.describe(inputIDs))")
      }
    } else {
      let known = Set(series.layerIDs)
      if let outside = batch.rows.first(where: { !known.contains($0.layer) }) {
        throw StoreError.shapeMismatch(
          series: name, source: source.path,
          detail: "the input names layer \(outside.layer), the series has layers \(LayerIDs.describe(series.layerIDs))")
      }
    }
    if batch.rows.isEmpty {
      throw StoreError.shapeMismatch(series: name, source: source.path, detail: "the input holds no load")
    }

    // Step 4: absolute steps; relative ones go after the last stored step.
    let offset = batch.stepsAreRelative ? (series.lastStep.map { $0 + 1 } ?? 0) : 0
    let steps = batch.rows.map { $0.step + offset }
    let firstStep = steps.min()!
    let lastStep = steps.max()!

    // Step 5: rows already stored are refused, or replaced.
    var replaced = 0
    if !batch.stepsAreRelative, let storedFirst = series.firstStep, let storedLast = series.lastStep,
      firstStep <= storedLast, lastStep >= storedFirst
    {
      var stored = Set<StepLayer>()
      let cursor = try Row.fetchCursor(
        db, sql: "SELECT step, layer FROM load WHERE series_id = ? AND step BETWEEN ? AND ?",
        arguments: [series.id, firstStep, lastStep])
      while let row = try cursor.next() {
        stored.insert(key(step: row[0], layer: row[1]))
      }
      let clashes = zip(steps, batch.rows).filter { stored.contains(key(step: $0.0, layer: $0.1.layer)) }
      if let first = clashes.first {
        if !replace {
          throw StoreError.duplicateRows(
            series: name, source: source.path, step: first.0, layer: first.1.layer, count: clashes.count)
        }
        let delete = try db.cachedStatement(sql: "DELETE FROM load WHERE series_id = ? AND step = ? AND layer = ?")
        for (step, row) in clashes {
          try delete.execute(arguments: [series.id, step, row.layer])
        }
        replaced = clashes.count
      }
    }

    // Step 6: the ingest record, the steps, the rows.
    let total = batch.totalLoad
    let stepSet = Set(steps)
    try db.execute(
      sql: """
        INSERT INTO ingest (series_id, source, content_sha256, format, steps, rows, first_step, last_step,
                            total_load, ingested_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        series.id, source.path, placeholderHash(source), source.format, stepSet.count, batch.rows.count, firstStep,
        lastStep, total, now(),
      ])
    let ingestID = db.lastInsertedRowID

    var stepTimes: [Int: Double?] = [:]
    for (step, row) in zip(steps, batch.rows) where stepTimes[step] == nil || row.time != nil {
      stepTimes[step] = row.time
    }
    let insertStep = try db.cachedStatement(
      sql: """
        INSERT INTO step (series_id, step, time) VALUES (?, ?, ?)
        ON CONFLICT (series_id, step) DO UPDATE SET time = COALESCE(excluded.time, step.time)
        """)
    for step in stepTimes.keys.sorted() {
      try insertStep.execute(arguments: [series.id, step, stepTimes[step]!])
    }

    // The hot loop (one row per step and layer): the statement is bound and stepped directly,
    // each row encoded into one reused buffer.
    let insertLoad = try db.cachedStatement(
      sql: "INSERT INTO load (series_id, step, layer, total, ingest_id, encoding, loads) VALUES (?, ?, ?, ?, ?, ?, ?)")
    let handle = insertLoad.sqliteStatement
    let experts = batch.experts
    var blob: [UInt8] = []
    blob.reserveCapacity(experts * 8)
    for (i, row) in batch.rows.enumerated() {
      let values = batch.values[(i * experts)..<((i + 1) * experts)]
      let encoding = LoadCodec.encode(values, into: &blob)
      let rowTotal = values.reduce(0, +)
      sqlite3_bind_int64(handle, 1, series.id)
      sqlite3_bind_int64(handle, 2, Int64(steps[i]))
      sqlite3_bind_int64(handle, 3, Int64(row.layer))
      sqlite3_bind_double(handle, 4, rowTotal)
      sqlite3_bind_int64(handle, 5, ingestID)
      sqlite3_bind_int64(handle, 6, Int64(encoding))
      let code = blob.withUnsafeBytes { bytes in
        sqlite3_bind_blob(handle, 7, bytes.baseAddress, Int32(bytes.count), nil)  // nil: SQLITE_STATIC
        return sqlite3_step(handle)
      }
      sqlite3_reset(handle)
      guard code == SQLITE_DONE else {
        throw DatabaseError(
          resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
      }
    }
    sqlite3_clear_bindings(handle)

    // Step 7: a pending hash, now that the rows are written: content stored before rolls back.
    if case .pending = source.hash {
      let hash = source.contentSHA256
      if try previousIngest(db, series: series, hash: hash) != nil {
        throw StoreError.database(path: "", detail: alreadyStoredMarker)
      }
      try db.execute(sql: "UPDATE ingest SET content_sha256 = ? WHERE id = ?", arguments: [hash, ingestID])
    }
    pauseBeforeCommitIfAsked()
    return IngestOutcome(
      status: .ingested, series: name, steps: stepSet.count, layers: series.layers, layerIDs: series.layerIDs,
      experts: series.experts,
      totalLoad: total, firstStep: firstStep, lastStep: lastStep, replacedRows: replaced)
  }

  /// Fault-injection point for the crash tests: with `EPBCTL_TEST_PAUSE_BEFORE_COMMIT=SECONDS` in
  /// the environment, an ingest that has written every row says `paused before commit` on stderr
  /// and sleeps inside its open transaction, so a test can SIGKILL it there.
  private static func pauseBeforeCommitIfAsked() {
    guard let text = ProcessInfo.processInfo.environment["EPBCTL_TEST_PAUSE_BEFORE_COMMIT"],
      let seconds = Double(text), seconds > 0
    else { return }
    FileHandle.standardError.write(Data("paused before commit\n".utf8))
    Thread.sleep(forTimeInterval: seconds)
  }

  /// The hash column's value until a pending hash is known (unique, never a hex digest).
  private static func placeholderHash(_ source: IngestSource) -> String {
    if case .known(let hash) = source.hash { return hash }
    return "pending-" + UUID().uuidString
  }

  private struct StepLayer: Hashable {
    var step: Int
    var layer: Int
  }

  private static func key(step: Int, layer: Int) -> StepLayer {
    StepLayer(step: step, layer: layer)
  }
}
