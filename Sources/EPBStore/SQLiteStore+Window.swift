import EPBEngines
import EPBPlanner
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteStore {
  /// The per-expert load of `layers` (nil: every layer of the series) summed over a window.
  ///
  /// This is the one aggregation that `loads`, `plan`, `diff` and `backtest` use.
  /// Rows missing from the store (a step without some layer) count as zero.
  ///
  /// - returns: a `WindowLoad` whose `loads` is `[layers.count][experts]`.
  /// - throws: `StoreError.unknownSeries`, `.unknownLayer`, `.invalidWindow` for contradictory
  ///   flags, `.emptyWindow` when no stored step falls in the window.
  ///
  /// - parameter blocks: when > 1, also sum the window's steps into this many consecutive blocks
  ///   of near-equal step counts (unweighted), in `WindowLoad.blocks`, for planners that look at
  ///   how the load varies inside the window.
  public func windowLoad(series name: String, window: WindowSpec, layers: [Int]?, blocks: Int)
    throws(StoreError) -> WindowLoad
  {
    try run { db in try Self.windowLoad(db, series: name, window: window, layers: layers, blocks: blocks) }
  }

  /// Calls `body` once per stored step in `from...to` (increasing), with that step's loads of
  /// `layers` as `[layers.count][experts]` (rows absent from the store are zero).
  ///
  /// Streams from one read transaction, so a backtest sees one consistent history without
  /// holding every step in memory at once.
  ///
  /// - throws: `StoreError.unknownSeries`, `.unknownLayer`, or what `body` throws.
  public func forEachStep(
    series name: String, from: Int, to: Int, layers: [Int]?,
    _ body: (_ step: Int, _ loads: LoadMatrix) throws -> Void
  ) throws(StoreError) {
    try run { db in
      let series = try Self.requireSeries(db, name: name)
      let (wanted, rowOfLayer) = try series.layerRows(layers)
      var split = StepSplitter(series: series, layers: wanted.count, rowOfLayer: rowOfLayer)
      try Self.readLoadRows(db, series: series, from: from, to: to, oneLayer: nil) { step, layer, encoding, blob in
        try split.add(step: step, layer: layer, encoding: encoding, blob: blob, body)
      }
      try split.finish(body)
    }
  }

  /// Resolves `window` against the stored steps of `series` (see `WindowSpec.resolve`).
  static func resolve(_ db: Database, window: WindowSpec, series: SeriesInfo) throws -> (from: Int, to: Int, steps: Int)
  {
    try window.resolve(
      series: series,
      stepBeforeLast: { back in
        try Int.fetchOne(
          db, sql: "SELECT step FROM step WHERE series_id = ? ORDER BY step DESC LIMIT 1 OFFSET ?",
          arguments: [series.id, back])
      },
      stepCount: { from, to in
        try Int.fetchOne(
          db, sql: "SELECT COUNT(*) FROM step WHERE series_id = ? AND step BETWEEN ? AND ?",
          arguments: [series.id, from, to]) ?? 0
      })
  }

  static func windowLoad(_ db: Database, series name: String, window: WindowSpec, layers: [Int]?, blocks: Int = 1)
    throws -> WindowLoad
  {
    let series = try requireSeries(db, name: name)
    let (wanted, rowOfLayer) = try series.layerRows(layers)
    let (from, to, steps) = try resolve(db, window: window, series: series)
    var sum = WindowSum(
      series: series, layers: wanted, rowOfLayer: rowOfLayer, from: from, to: to, steps: steps,
      halfLife: window.halfLife, blocks: blocks)
    try readLoadRows(db, series: series, from: from, to: to, oneLayer: wanted.count == 1 ? wanted[0] : nil) {
      step, layer, encoding, blob in
      try sum.add(step: step, layer: layer, encoding: encoding, blob: blob)
    }
    return sum.result()
  }

  /// Steps through the stored load rows of `series` in `from...to` (step order, then layer),
  /// handing `body` each row's blob without copying it.
  ///
  /// This is the hot path of every window (58,000 rows for 1,000 steps of DeepSeek-V3), so it
  /// drives the SQLite statement directly instead of materialising GRDB rows.
  private static func readLoadRows(
    _ db: Database, series: SeriesInfo, from: Int, to: Int, oneLayer: Int?,
    _ body: (_ step: Int, _ layer: Int, _ encoding: Int, _ blob: UnsafeRawBufferPointer) throws -> Void
  ) throws {
    let statement =
      oneLayer == nil
      ? try db.cachedStatement(
        sql:
          "SELECT step, layer, encoding, loads FROM load WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step, layer"
      )
      : try db.cachedStatement(
        sql: """
          SELECT step, layer, encoding, loads FROM load
          WHERE series_id = ? AND step BETWEEN ? AND ? AND layer = ? ORDER BY step
          """)
    var arguments: StatementArguments = [series.id, from, to]
    if let oneLayer { arguments += [oneLayer] }
    statement.arguments = arguments
    let handle = statement.sqliteStatement
    defer { sqlite3_reset(handle) }
    while true {
      let code = sqlite3_step(handle)
      if code == SQLITE_DONE { break }
      guard code == SQLITE_ROW else {
        throw DatabaseError(
          resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
      }
      let step = Int(sqlite3_column_int64(handle, 0))
      let layer = Int(sqlite3_column_int64(handle, 1))
      let encoding = Int(sqlite3_column_int64(handle, 2))
      let count = Int(sqlite3_column_bytes(handle, 3))
      let blob = UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, 3), count: count)
      guard layer >= 0 && layer <= series.layerIDs.last ?? -1 else {
        throw StoreError.database(
          path: "", detail: "load row step \(step) has layer \(layer) outside series '\(series.name)'")
      }
      try body(step, layer, encoding, blob)
    }
  }
}
