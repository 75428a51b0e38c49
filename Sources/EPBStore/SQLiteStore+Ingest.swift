import EPBEngines
import EPBPlanner
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteStore {
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
  /// The `ingest` record's insert; its arguments in column order (ingest and copy).
  static let insertIngest = """
    INSERT INTO ingest (series_id, source, content_sha256, format, steps, rows, first_step, last_step,
                        total_load, ingested_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    """

  public func ingest(_ batch: LoadBatch, series name: String, source: IngestSource, replace: Bool)
    throws(StoreError) -> IngestOutcome
  {
    try runTransaction { db in
      try Self.ingest(db, batch: batch, series: name, source: source, replace: replace, beforeCommit: beforeCommit)
    }
  }

  /// The outcome of an earlier ingest of the same content into `series`, if any.
  private static func previousIngest(_ db: Database, series: SeriesInfo, hash: String) throws -> IngestOutcome? {
    guard
      let previous = try Row.fetchOne(
        db,
        sql: "SELECT steps, first_step, last_step, total_load FROM ingest WHERE series_id = ? AND content_sha256 = ?",
        arguments: [series.id, hash])
    else { return nil }
    return IngestOutcome(
      status: .alreadyIngested, series: series.name, steps: previous["steps"], layers: series.layers,
      layerIDs: series.layerIDs, experts: series.experts, totalLoad: previous["total_load"],
      firstStep: previous["first_step"], lastStep: previous["last_step"], replacedRows: 0)
  }

  /// The transaction of `ingest`: its outcome, and whether to commit (false: the content's
  /// pending hash matched an ingest stored meanwhile, whose outcome is returned).
  private static func ingest(
    _ db: Database, batch: LoadBatch, series name: String, source: IngestSource, replace: Bool,
    beforeCommit: (@Sendable () -> Void)?
  ) throws -> (value: IngestOutcome, commit: Bool) {
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
      return (previous, commit: true)
    }

    // Step 3: the shape must match the series.
    try IngestRules.checkShape(batch, series: series, source: source)

    // Step 4: absolute steps; relative ones go after the last stored step.
    let offset = batch.stepsAreRelative ? (series.lastStep.map { $0 + 1 } ?? 0) : 0
    let steps = batch.rows.map { $0.step + offset }
    let firstStep = steps.min()!
    let lastStep = steps.max()!

    // Step 5: rows already stored: identical ones are skipped (a retry, or a stream re-sent
    // from an earlier line), conflicting ones refused, or replaced with `replace`.
    var replaced = 0
    var skip = [Bool](repeating: false, count: batch.rows.count)
    var hashChange: [Int: UInt64] = [:]  // step -> XOR of the row hashes added and removed
    let experts = batch.experts
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
      let clashes = batch.rows.indices.filter { stored.contains(key(step: steps[$0], layer: batch.rows[$0].layer)) }
      if !clashes.isEmpty {
        let fetch = try db.cachedStatement(
          sql: "SELECT encoding, loads FROM load WHERE series_id = ? AND step = ? AND layer = ?")
        let delete = try db.cachedStatement(sql: "DELETE FROM load WHERE series_id = ? AND step = ? AND layer = ?")
        var conflicts: [Int] = []
        for i in clashes {
          let layer = batch.rows[i].layer
          let row = try Row.fetchOne(fetch, arguments: [series.id, steps[i], layer])!
          let storedValues = LoadCodec.decode(row[1], encoding: row[0], experts: experts)
          let values = batch.values[(i * experts)..<((i + 1) * experts)]
          if let storedValues, storedValues.elementsEqual(values) {
            skip[i] = true
          } else if replace {
            if let storedValues {
              hashChange[steps[i], default: 0] ^= IngestRules.rowHash(layer: layer, storedValues[...])
            }
            try delete.execute(arguments: [series.id, steps[i], layer])
            replaced += 1
          } else {
            conflicts.append(i)
          }
        }
        if let first = conflicts.first {
          throw StoreError.duplicateRows(
            series: name, source: source.path, step: steps[first], layer: batch.rows[first].layer,
            count: conflicts.count)
        }
      }
    }
    let alreadyStored = skip.lazy.filter { $0 }.count
    if alreadyStored == batch.rows.count {
      // Every row is stored with these loads already: nothing to write.
      let outcome = IngestOutcome(
        status: .alreadyIngested, series: name, steps: Set(steps).count, layers: series.layers,
        layerIDs: series.layerIDs, experts: series.experts, totalLoad: batch.totalLoad, firstStep: firstStep,
        lastStep: lastStep,
        replacedRows: 0, alreadyStoredRows: alreadyStored)
      return (outcome, commit: true)
    }

    // Step 6: the ingest record, the steps, the rows.
    let kept = batch.rows.indices.filter { !skip[$0] }
    let keptSteps = kept.map { steps[$0] }
    let stepSet = Set(keptSteps)
    let total =
      alreadyStored == 0
      ? batch.totalLoad
      : kept.reduce(0) { sum, i in
        sum + batch.values[(i * experts)..<((i + 1) * experts)].reduce(0, +)
      }
    try db.execute(
      sql: Self.insertIngest,
      arguments: [
        series.id, source.path, IngestRules.placeholderHash(source), source.format, stepSet.count, kept.count,
        keptSteps.min(),
        keptSteps.max(), total, now(),
      ])
    let ingestID = db.lastInsertedRowID

    // Steps that were stored before this ingest (their hash is updated, not set).
    var storedSteps = Set<Int>()
    if let storedFirst = series.firstStep, let storedLast = series.lastStep, firstStep <= storedLast,
      lastStep >= storedFirst
    {
      storedSteps = Set(
        try Int.fetchAll(
          db, sql: "SELECT step FROM step WHERE series_id = ? AND step BETWEEN ? AND ?",
          arguments: [series.id, firstStep, lastStep]))
    }
    var stepTimes: [Int: Double?] = [:]
    for i in kept where stepTimes[steps[i]] == nil || batch.rows[i].time != nil {
      stepTimes[steps[i]] = batch.rows[i].time
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
    let encoded = IngestRules.EncodedRows(batch, rows: kept)
    var stepTotals: [Int: Double] = [:]
    for (k, i) in kept.enumerated() {
      let row = batch.rows[i]
      let (blob, rowTotal) = (encoded.blobs[k], encoded.totals[k])
      hashChange[steps[i], default: 0] ^= encoded.hashes[k]
      stepTotals[steps[i], default: 0] += rowTotal
      sqlite3_bind_int64(handle, 1, series.id)
      sqlite3_bind_int64(handle, 2, Int64(steps[i]))
      sqlite3_bind_int64(handle, 3, Int64(row.layer))
      sqlite3_bind_double(handle, 4, rowTotal)
      sqlite3_bind_int64(handle, 5, ingestID)
      sqlite3_bind_int64(handle, 6, Int64(encoded.encodings[k]))
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

    let repeats = try updateStepHashes(
      db, series: series.id, changes: hashChange, storedBefore: storedSteps, totals: stepTotals)

    // Step 7: a pending hash, now that the rows are written: content stored before rolls back.
    if case .pending = source.hash {
      let hash = source.contentSHA256
      if let previous = try previousIngest(db, series: series, hash: hash) {
        return (previous, commit: false)
      }
      try db.execute(sql: "UPDATE ingest SET content_sha256 = ? WHERE id = ?", arguments: [hash, ingestID])
    }
    beforeCommit?()
    let outcome = IngestOutcome(
      status: .ingested, series: name, steps: stepSet.count, layers: series.layers, layerIDs: series.layerIDs,
      experts: series.experts,
      totalLoad: total, firstStep: keptSteps.min(), lastStep: keptSteps.max(), replacedRows: replaced,
      alreadyStoredRows: alreadyStored, repeatsStoredSteps: repeats.count, firstRepeat: repeats.first)
    return (outcome, commit: true)
  }

  /// Applies `changes` (step → XOR of the hashes of the rows added to and removed from it) to
  /// `step.loads_hash`, and finds the changed steps that now repeat another stored step.
  ///
  /// A step in `storedBefore` whose hash is NULL (stored before migration 0003) stays NULL: its
  /// other rows were never hashed. Steps whose rows in this ingest sum to 0 (`totals`) are not
  /// reported as repeats (idle steps are alike by nature).
  ///
  /// Cost: one UPDATE and one indexed lookup per changed step; the row hashes about 6 ns per load
  /// (release, measured on the shared 2-core machine at load average 4: a serial multiply chain),
  /// against the ingest's parse and insert of every load.
  ///
  /// - returns: the repeating steps, in step order, each with the smallest other step of
  ///   equal hash that this ingest did not write.
  private static func updateStepHashes(
    _ db: Database, series: Int64, changes: [Int: UInt64], storedBefore: Set<Int>, totals: [Int: Double]
  ) throws -> [StepRepeat] {
    let set = try db.cachedStatement(sql: "UPDATE step SET loads_hash = ? WHERE series_id = ? AND step = ?")
    let update = try db.cachedStatement(
      sql: "UPDATE step SET loads_hash = ? WHERE series_id = ? AND step = ? AND loads_hash IS NOT NULL")
    let current = try db.cachedStatement(sql: "SELECT loads_hash FROM step WHERE series_id = ? AND step = ?")
    let equal = try db.cachedStatement(
      sql: "SELECT step FROM step WHERE series_id = ? AND loads_hash = ? ORDER BY step")
    var final: [Int: Int64] = [:]
    for (step, change) in changes {
      if storedBefore.contains(step) {
        guard let old = try Int64.fetchOne(current, arguments: [series, step]) else { continue }
        let hash = Int64(bitPattern: UInt64(bitPattern: old) ^ change)
        try update.execute(arguments: [hash, series, step])
        final[step] = hash
      } else {
        let hash = Int64(bitPattern: change)
        try set.execute(arguments: [hash, series, step])
        final[step] = hash
      }
    }
    var repeats: [StepRepeat] = []
    for step in final.keys.sorted() where (totals[step] ?? 0) > 0 {
      let matches = try Int.fetchAll(equal, arguments: [series, final[step]!])
      if let earlier = matches.first(where: { final[$0] == nil }) {
        repeats.append(StepRepeat(step: step, repeats: earlier))
      }
    }
    return repeats
  }

  private struct StepLayer: Hashable {
    var step: Int
    var layer: Int
  }

  private static func key(step: Int, layer: Int) -> StepLayer {
    StepLayer(step: step, layer: layer)
  }
}
