#if Postgres
  import EPBPlanner
  import EPBStore
  import PostgresNIO

  extension PostgresStore {
    public func series() throws(StoreError) -> [SeriesInfo] {
      try read { () throws(StoreError) in try fetchSeries(name: nil, withTotals: true) }
    }

    public func series(named name: String) throws(StoreError) -> SeriesInfo {
      try read { () throws(StoreError) in try requireSeries(name) }
    }

    func requireSeries(_ name: String) throws(StoreError) -> SeriesInfo {
      if let info = try fetchSeries(name: name).first { return info }
      let known = try query("SELECT name FROM series ORDER BY name").map { (row) throws(StoreError) in
        try decode(row, as: String.self)
      }
      throw .unknownSeries(name: name, known: known)
    }

    /// - parameter withTotals: also sum every stored load (reads every row of the series).
    func fetchSeries(name: String?, withTotals: Bool = false) throws(StoreError) -> [SeriesInfo] {
      var binds = PostgresBindings()
      binds.append(withTotals)
      binds.append(name)
      let rows = try query(
        """
        SELECT s.id, s.name, s.layers, s.experts,
               (SELECT COUNT(*) FROM step WHERE series_id = s.id),
               (SELECT MIN(step) FROM step WHERE series_id = s.id),
               (SELECT MAX(step) FROM step WHERE series_id = s.id),
               CASE WHEN $1 THEN (SELECT COALESCE(SUM(total), 0) FROM load WHERE series_id = s.id) END,
               ARRAY(SELECT layer FROM series_layer WHERE series_id = s.id ORDER BY layer)
        FROM series s
        WHERE ($2::text IS NULL OR s.name = $2)
        ORDER BY s.name
        """, binds)
      return try rows.map { (row) throws(StoreError) in
        let (id, name, layers, experts, steps, first, last, total, layerIDs) = try decode(
          row, as: (Int64, String, Int, Int, Int, Int?, Int?, Double?, [Int]).self)
        return SeriesInfo(
          id: id, name: name, layers: layers, layerIDs: layerIDs, experts: experts, steps: steps, firstStep: first,
          lastStep: last, totalLoad: total)
      }
    }

    public func windowLoad(series name: String, window: WindowSpec, layers: [Int]?, blocks: Int)
      throws(StoreError) -> WindowLoad
    {
      try read {
        let series = try requireSeries(name)
        let (wanted, rowOfLayer) = try series.layerRows(layers)
        let (from, to, steps) = try resolve(window, series: series)
        var sum = WindowSum(
          series: series, layers: wanted, rowOfLayer: rowOfLayer, from: from, to: to, steps: steps,
          halfLife: window.halfLife, blocks: blocks)
        try readLoadRows(series: series, from: from, to: to, oneLayer: wanted.count == 1 ? wanted[0] : nil) {
          step, layer, encoding, blob in
          try sum.add(step: step, layer: layer, encoding: encoding, blob: blob)
        }
        return sum.result()
      }
    }

    public func forEachStep(
      series name: String, from: Int, to: Int, layers: [Int]?,
      _ body: (_ step: Int, _ loads: LoadMatrix) throws -> Void
    ) throws(StoreError) {
      try read {
        let series = try requireSeries(name)
        let (wanted, rowOfLayer) = try series.layerRows(layers)
        var split = StepSplitter(series: series, layers: wanted.count, rowOfLayer: rowOfLayer)
        try readLoadRows(series: series, from: from, to: to, oneLayer: nil) { step, layer, encoding, blob in
          try split.add(step: step, layer: layer, encoding: encoding, blob: blob, body)
        }
        try split.finish(body)
      }
    }

    /// `WindowSpec.resolve` against this database's steps.
    func resolve(_ window: WindowSpec, series: SeriesInfo) throws -> (from: Int, to: Int, steps: Int) {
      try window.resolve(
        series: series,
        stepBeforeLast: { back in
          var binds = PostgresBindings()
          binds.append(series.id)
          binds.append(back)
          let rows = try query(
            "SELECT step FROM step WHERE series_id = $1 ORDER BY step DESC LIMIT 1 OFFSET $2", binds)
          return try decode(rows.first, as: Int.self)
        },
        stepCount: { from, to in
          var binds = PostgresBindings()
          binds.append(series.id)
          binds.append(from)
          binds.append(to)
          let rows = try query(
            "SELECT COUNT(*) FROM step WHERE series_id = $1 AND step BETWEEN $2 AND $3", binds)
          return try decode(rows.first, as: Int.self) ?? 0
        })
    }

    /// One page of `readLoadRows`, filled on the event loop while the caller waits.
    private final class StepPage: @unchecked Sendable {
      var steps: [(step: Int, rows: [UInt8])] = []
    }

    /// The stored load rows of `series` in `from...to` (step order; a step's layers in the
    /// order the server sends them), each row's blob handed to `body` without a copy.
    ///
    /// The server sends one row per step: its layers' rows concatenated, each as a 4-byte
    /// big-endian `layer · 8 + encoding`, a 4-byte big-endian length, then the blob. Decoding a
    /// result row costs the client far more than its bytes, and a step holds up to a model's
    /// whole set of layers (58 for DeepSeek-V3), so this is 58 times fewer rows than one per
    /// layer, and each row is one value (with arrays of layers and lengths beside the blobs, a
    /// 1,000-step window of 58 layers took 209 ms; docs/postgres.md). The aggregate has no
    /// ORDER BY: each blob names its layer, and sorting every step's rows cost the server twice
    /// the scan. Each step's rows come from a subquery on the `step` table's keys: an equality
    /// on `(series_id, step)` is an index scan with or without statistics, where a GROUP BY over
    /// the range, right after a large ingest and before autovacuum's ANALYZE, was planned as a
    /// bitmap scan and an external sort of the whole window (92 ms a page instead of 25). A step
    /// with no rows (in `oneLayer`) comes as an empty value and calls nothing. Pages go by key,
    /// `stepsPerPage` steps at a time, so a long backtest never holds its whole history, however
    /// sparse its step numbers.
    func readLoadRows(
      series: SeriesInfo, from: Int, to: Int, oneLayer: Int?,
      _ body: (_ step: Int, _ layer: Int, _ encoding: Int, _ blob: UnsafeRawBufferPointer) throws -> Void
    ) throws {
      let stepsPerPage = max(1, 32_768 / max(1, oneLayer == nil ? series.layers : 1))
      var after = from - 1
      while true {
        var binds = PostgresBindings()
        binds.append(series.id)
        binds.append(after)
        binds.append(to)
        binds.append(stepsPerPage)
        var filter = ""
        if let oneLayer {
          binds.append(oneLayer)
          filter = " AND l.layer = $5"
        }
        let sql = """
          SELECT s.step, COALESCE((
            SELECT string_agg(int4send(l.layer * 8 + l.encoding) || int4send(length(l.loads)) || l.loads, ''::bytea)
            FROM load l WHERE l.series_id = s.series_id AND l.step = s.step\(filter)), ''::bytea)
          FROM step s WHERE s.series_id = $1 AND s.step > $2 AND s.step <= $3 ORDER BY s.step LIMIT $4
          """
        // Each row is copied out as it arrives, so the driver's receive buffer is never shared
        // with a row we hold (holding rows made every buffer compaction a fresh allocation).
        let page = StepPage()
        try forEachRow(sql, binds) { row in
          let (step, rows) = try row.decode((Int, ByteBuffer).self)
          page.steps.append((step, rows.getBytes(at: rows.readerIndex, length: rows.readableBytes) ?? []))
        }
        var count = 0
        for (step, rows) in page.steps {
          try rows.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
              guard offset + 8 <= bytes.count else { throw Self.mismatchedStep(step, path: path) }
              let layerEncoding = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
              let length = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
              let end = offset + 8 + length
              guard end <= bytes.count else { throw Self.mismatchedStep(step, path: path) }
              try body(
                step, layerEncoding >> 3, layerEncoding & 7, UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<end])
              )
              offset = end
            }
          }
          after = step
          count += 1
        }
        if count < stepsPerPage { return }
      }
    }

    private static func mismatchedStep(_ step: Int, path: String) -> StoreError {
      .database(path: path, detail: "step \(step): the server sent a row shorter than its lengths say")
    }
  }
#endif
