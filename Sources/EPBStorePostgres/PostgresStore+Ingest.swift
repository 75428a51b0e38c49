#if Postgres
  import EPBEngines
  import EPBPlanner
  import EPBStore
  import Foundation
  import PostgresNIO

  extension PostgresStore {
    /// See `EPBStore.ingest`. One READ COMMITTED transaction; when a concurrent ingest commits
    /// the same content, series or rows first (a unique violation), the transaction rolls back
    /// and runs again, and then finds them stored (`already-ingested`, or the rows' rules).
    /// Ingests that append (inputs without step numbers) to one series take turns on a
    /// transaction-scoped advisory lock, so that each reads the last step the previous one wrote
    /// instead of racing it to the same steps; ingests with step numbers still commit in parallel.
    public func ingest(_ batch: LoadBatch, series name: String, source: IngestSource, replace: Bool)
      throws(StoreError) -> IngestOutcome
    {
      try writeRetrying { try ingestOnce(batch, series: name, source: source, replace: replace) }
    }

    /// The transaction of `ingest`: its outcome, and whether to commit (false: the content's
    /// pending hash matched an ingest stored meanwhile, whose outcome is returned).
    private func ingestOnce(_ batch: LoadBatch, series name: String, source: IngestSource, replace: Bool) throws
      -> (value: IngestOutcome, commit: Bool)
    {
      // The series, created on first use with the input's layer ids; an append reads it only
      // after its turn.
      if batch.stepsAreRelative { try takeAppendTurn(series: name) }
      let series = try fetchSeries(name: name).first ?? createSeries(name, batch: batch, source: source)
      if case .known(let hash) = source.hash, let previous = try previousIngest(series, hash: hash) {
        return (previous, commit: true)
      }
      try IngestRules.checkShape(batch, series: series, source: source)

      // Absolute steps; relative ones go after the last stored step.
      let offset = batch.stepsAreRelative ? (series.lastStep.map { $0 + 1 } ?? 0) : 0
      let steps = batch.rows.map { $0.step + offset }
      let firstStep = steps.min()!
      let lastStep = steps.max()!

      // Rows stored already: identical ones are skipped, conflicting ones refused or replaced.
      let clash = try resolveStoredRows(batch, series: series, steps: steps, replace: replace, source: source)
      let kept = batch.rows.indices.filter { !clash.skip[$0] }
      let alreadyStored = batch.rows.count - kept.count
      if kept.isEmpty {
        let outcome = IngestOutcome(
          status: .alreadyIngested, series: name, steps: Set(steps).count, layers: series.layers,
          layerIDs: series.layerIDs, experts: series.experts, totalLoad: batch.totalLoad, firstStep: firstStep,
          lastStep: lastStep, replacedRows: 0, alreadyStoredRows: alreadyStored)
        return (outcome, commit: true)
      }

      let keptSteps = kept.map { steps[$0] }
      let encoded = IngestRules.EncodedRows(batch, rows: kept)
      let total = alreadyStored == 0 ? batch.totalLoad : encoded.totals.reduce(0, +)
      var binds = PostgresBindings()
      binds.append(series.id)
      binds.append(source.path)
      binds.append(IngestRules.placeholderHash(source))
      binds.append(source.format)
      binds.append(Set(keptSteps).count)
      binds.append(kept.count)
      binds.append(keptSteps.min())
      binds.append(keptSteps.max())
      binds.append(total)
      binds.append(Self.now())
      let ingestID = try decode(
        query(
          """
          INSERT INTO ingest (series_id, source, content_sha256, format, steps, rows, first_step, last_step,
                              total_load, ingested_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
          """, binds
        ).first, as: Int64.self)!

      var hashChange = clash.hashChange
      var stepTotals: [Int: Double] = [:]
      for (k, i) in kept.enumerated() {
        hashChange[steps[i], default: 0] ^= encoded.hashes[k]
        stepTotals[steps[i], default: 0] += encoded.totals[k]
      }
      let stepHashes = try upsertSteps(batch, series: series, steps: steps, kept: kept, hashChange: hashChange)
      try insertLoads(batch, series: series, steps: steps, kept: kept, encoded: encoded, ingestID: ingestID)
      let repeats = try storedRepeats(series, hashes: stepHashes, totals: stepTotals)

      // A pending hash, now that the rows are written: content stored before rolls back (the
      // unique constraint makes a concurrent twin wait for this transaction, then roll back).
      if case .pending = source.hash {
        let hash = source.contentSHA256
        if let previous = try previousIngest(series, hash: hash) {
          return (previous, commit: false)
        }
        var binds = PostgresBindings()
        binds.append(hash)
        binds.append(ingestID)
        try execute("UPDATE ingest SET content_sha256 = $1 WHERE id = $2", binds)
      }
      beforeCommit?()
      let outcome = IngestOutcome(
        status: .ingested, series: name, steps: Set(keptSteps).count, layers: series.layers,
        layerIDs: series.layerIDs, experts: series.experts, totalLoad: total, firstStep: keptSteps.min(),
        lastStep: keptSteps.max(), replacedRows: clash.replaced, alreadyStoredRows: alreadyStored,
        repeatsStoredSteps: repeats.count, firstRepeat: repeats.first)
      return (outcome, commit: true)
    }

    /// Inserts a series row and its layer ids; returns its id.
    func insertSeries(_ name: String, layerIDs: [Int], experts: Int, createdAt: String) throws -> Int64 {
      var binds = PostgresBindings()
      binds.append(name)
      binds.append(layerIDs.count)
      binds.append(experts)
      binds.append(createdAt)
      let id = try decode(
        query(
          "INSERT INTO series (name, layers, experts, created_at) VALUES ($1, $2, $3, $4) RETURNING id", binds
        ).first, as: Int64.self)!
      var layers = PostgresBindings()
      layers.append(id)
      layers.append(layerIDs)
      try execute("INSERT INTO series_layer (series_id, layer) SELECT $1, unnest($2::int8[])", layers)
      return id
    }

    private func createSeries(_ name: String, batch: LoadBatch, source: IngestSource) throws -> SeriesInfo {
      let ids = batch.declaredLayerIDs
      guard !ids.isEmpty, batch.experts > 0 else {
        throw StoreError.shapeMismatch(series: name, source: source.path, detail: "the input holds no load")
      }
      let id = try insertSeries(name, layerIDs: ids, experts: batch.experts, createdAt: Self.now())
      return SeriesInfo(
        id: id, name: name, layers: ids.count, layerIDs: ids, experts: batch.experts, steps: 0, firstStep: nil,
        lastStep: nil, totalLoad: 0)
    }

    /// The outcome of an earlier ingest of the same content into `series`, if any.
    private func previousIngest(_ series: SeriesInfo, hash: String) throws -> IngestOutcome? {
      var binds = PostgresBindings()
      binds.append(series.id)
      binds.append(hash)
      let rows = try query(
        "SELECT steps, first_step, last_step, total_load FROM ingest WHERE series_id = $1 AND content_sha256 = $2",
        binds)
      guard let row = rows.first else { return nil }
      let (steps, first, last, total) = try decode(row, as: (Int, Int?, Int?, Double).self)
      return IngestOutcome(
        status: .alreadyIngested, series: series.name, steps: steps, layers: series.layers,
        layerIDs: series.layerIDs, experts: series.experts, totalLoad: total, firstStep: first, lastStep: last,
        replacedRows: 0)
    }

    /// What the stored rows in the batch's step range mean for it: rows stored with the same
    /// loads are skipped; others are deleted and counted (`replace`), else refused.
    private func resolveStoredRows(
      _ batch: LoadBatch, series: SeriesInfo, steps: [Int], replace: Bool, source: IngestSource
    ) throws -> (skip: [Bool], replaced: Int, hashChange: [Int: UInt64]) {
      var skip = [Bool](repeating: false, count: batch.rows.count)
      var hashChange: [Int: UInt64] = [:]
      guard !batch.stepsAreRelative, let storedFirst = series.firstStep, let storedLast = series.lastStep,
        let firstStep = steps.min(), let lastStep = steps.max(), firstStep <= storedLast, lastStep >= storedFirst
      else { return (skip, 0, hashChange) }
      var binds = PostgresBindings()
      binds.append(series.id)
      binds.append(firstStep)
      binds.append(lastStep)
      var stored: [Int: (encoding: Int, blob: ByteBuffer)] = [:]  // step · 2^20 + layer
      for row in try query(
        "SELECT step, layer, encoding, loads FROM load WHERE series_id = $1 AND step BETWEEN $2 AND $3", binds)
      {
        let (step, layer, encoding, blob) = try decode(row, as: (Int, Int, Int, ByteBuffer).self)
        stored[step << 20 | layer] = (encoding, blob)
      }
      let experts = batch.experts
      var conflicts: [Int] = []
      var replaced = 0
      for i in batch.rows.indices {
        let layer = batch.rows[i].layer
        guard let row = stored[steps[i] << 20 | layer] else { continue }
        let storedValues = LoadCodec.decode(Data(row.blob.readableBytesView), encoding: row.encoding, experts: experts)
        let values = batch.values[(i * experts)..<((i + 1) * experts)]
        if let storedValues, storedValues.elementsEqual(values) {
          skip[i] = true
        } else if replace {
          if let storedValues {
            hashChange[steps[i], default: 0] ^= IngestRules.rowHash(layer: layer, storedValues[...])
          }
          var key = PostgresBindings()
          key.append(series.id)
          key.append(steps[i])
          key.append(layer)
          try execute("DELETE FROM load WHERE series_id = $1 AND step = $2 AND layer = $3", key)
          replaced += 1
        } else {
          conflicts.append(i)
        }
      }
      if let first = conflicts.first {
        throw StoreError.duplicateRows(
          series: series.name, source: source.path, step: steps[first], layer: batch.rows[first].layer,
          count: conflicts.count)
      }
      return (skip, replaced, hashChange)
    }

    /// Waits, until this transaction ends, for any other ingest appending to the series `name`
    /// (`pg_advisory_xact_lock` on the pair (EPB1, `hashtext(name)`), a key no other epbctl lock
    /// uses; two names with the same hash only take turns needlessly).
    private func takeAppendTurn(series name: String) throws {
      var binds = PostgresBindings()
      binds.append(name)
      _ = try query("SELECT pg_advisory_xact_lock(\(Self.appendLockClass), hashtext($1))", binds)
    }

    /// The first key of the append lock: "EPB1" read as a big-endian 32-bit integer.
    static let appendLockClass: Int32 = 0x4550_4231

    /// Stores the kept rows' steps, with the time a row gives (a later row's time wins over
    /// none), and applies `hashChange` (step → XOR of the hashes of the rows added and removed)
    /// to `step.loads_hash` in the same statement: a new step gets the change, a stored one its
    /// hash XOR the change (NULL, unknown, stays NULL). The statement waits for a concurrent
    /// ingest that holds the same step row and then reads its committed hash, so two hosts adding
    /// layers of one step never lose each other's part. Returns each step's hash after it.
    private func upsertSteps(
      _ batch: LoadBatch, series: SeriesInfo, steps: [Int], kept: [Int], hashChange: [Int: UInt64]
    ) throws -> [Int: Int64?] {
      var times: [Int: Double?] = [:]
      for i in kept where times[steps[i]] == nil || batch.rows[i].time != nil {
        times[steps[i]] = batch.rows[i].time
      }
      let ordered = times.keys.sorted()
      var hashes: [Int: Int64?] = [:]
      for chunk in stride(from: 0, to: ordered.count, by: 10_000) {
        let part = ordered[chunk..<min(chunk + 10_000, ordered.count)]
        var binds = PostgresBindings()
        binds.append(series.id)
        binds.append(Array(part))
        binds.append(part.map { times[$0]! ?? .nan })
        binds.append(part.map { Int64(bitPattern: hashChange[$0] ?? 0) })
        for row in try query(
          """
          INSERT INTO step (series_id, step, time, loads_hash)
          SELECT $1, s, CASE WHEN t = 'NaN'::float8 THEN NULL ELSE t END, h
          FROM unnest($2::int8[], $3::float8[], $4::int8[]) AS u(s, t, h)
          ON CONFLICT (series_id, step) DO UPDATE
            SET time = COALESCE(excluded.time, step.time), loads_hash = step.loads_hash # excluded.loads_hash
          RETURNING step, loads_hash
          """, binds)
        {
          let (step, hash) = try decode(row, as: (Int, Int64?).self)
          hashes[step] = hash
        }
      }
      return hashes
    }

    /// The kept rows in batches of 4,096 (one statement each, columns as arrays).
    private func insertLoads(
      _ batch: LoadBatch, series: SeriesInfo, steps: [Int], kept: [Int], encoded: IngestRules.EncodedRows,
      ingestID: Int64
    ) throws {
      let size = 4_096
      for start in stride(from: 0, to: kept.count, by: size) {
        let range = start..<min(start + size, kept.count)
        var blobs = ByteBuffer()
        var binds = PostgresBindings()
        binds.append(series.id)
        binds.append(range.map { steps[kept[$0]] })
        binds.append(range.map { batch.rows[kept[$0]].layer })
        binds.append(range.map { encoded.totals[$0] })
        binds.append(ingestID)
        binds.append(range.map { encoded.encodings[$0] })
        binds.append(
          range.map { k in
            blobs.clear()
            blobs.writeBytes(encoded.blobs[k])
            return blobs
          })
        try execute(
          """
          INSERT INTO load (series_id, step, layer, total, ingest_id, encoding, loads)
          SELECT $1, s, l, t, $5, e, b FROM unnest($2::int8[], $3::int8[], $4::float8[], $6::int8[], $7::bytea[])
            AS u(s, l, t, e, b)
          """, binds)
      }
    }

    /// The steps among `hashes` (this ingest's, with their hashes after it) that now repeat
    /// another stored step, each with the first such step (see the SQLite store's rule: idle
    /// steps, of total 0, are not reported).
    private func storedRepeats(_ series: SeriesInfo, hashes: [Int: Int64?], totals: [Int: Double]) throws
      -> [StepRepeat]
    {
      let known = hashes.compactMapValues { $0 }  // NULL: unknown, never compared
      let candidates = known.keys.sorted().filter { (totals[$0] ?? 0) > 0 }
      guard !candidates.isEmpty else { return [] }
      var probe = PostgresBindings()
      probe.append(series.id)
      probe.append(candidates.map { known[$0]! })
      var stepsOfHash: [Int64: [Int]] = [:]
      for row in try query(
        "SELECT loads_hash, step FROM step WHERE series_id = $1 AND loads_hash = ANY($2::int8[]) ORDER BY step",
        probe)
      {
        let (hash, step) = try decode(row, as: (Int64, Int).self)
        stepsOfHash[hash, default: []].append(step)
      }
      return candidates.compactMap { step in
        stepsOfHash[known[step]!]?.first(where: { hashes[$0] == nil }).map { StepRepeat(step: step, repeats: $0) }
      }
    }
  }

#endif
