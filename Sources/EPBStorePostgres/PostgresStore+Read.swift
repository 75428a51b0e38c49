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

    /// The stored load rows of `series` in `from...to` (step order, then layer), fetched in
    /// pages of `rowsPerPage` rows by key (so a long backtest never holds its whole history,
    /// however sparse its step numbers), each row's blob handed to `body` without a copy.
    func readLoadRows(
      series: SeriesInfo, from: Int, to: Int, oneLayer: Int?,
      _ body: (_ step: Int, _ layer: Int, _ encoding: Int, _ blob: UnsafeRawBufferPointer) throws -> Void
    ) throws {
      let rowsPerPage = 16_384
      var after = (step: from, layer: -1)
      while true {
        var binds = PostgresBindings()
        binds.append(series.id)
        binds.append(after.step)
        binds.append(after.layer)
        binds.append(to)
        binds.append(rowsPerPage)
        var sql = """
          SELECT step, layer, encoding, loads FROM load
          WHERE series_id = $1 AND (step, layer) > ($2, $3) AND step <= $4
          """
        if let oneLayer {
          binds.append(oneLayer)
          sql += " AND layer = $6"
        }
        let rows = try query(sql + " ORDER BY step, layer LIMIT $5", binds)
        for row in rows {
          let (step, layer, encoding, blob) = try decode(row, as: (Int, Int, Int, ByteBuffer).self)
          try blob.withUnsafeReadableBytes { bytes in try body(step, layer, encoding, bytes) }
          after = (step, layer)
        }
        if rows.count < rowsPerPage { return }
      }
    }
  }
#endif
