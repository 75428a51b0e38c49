import EPBEngines
import EPBPlanner
import Foundation
import GRDB
import GRDBSQLite

extension EPBStore {
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
  public func windowLoad(series name: String, window: WindowSpec, layers: [Int]? = nil, blocks: Int = 1)
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
    series name: String, from: Int, to: Int, layers: [Int]? = nil,
    _ body: (_ step: Int, _ loads: LoadMatrix) throws -> Void
  ) throws(StoreError) {
    try run { db in
      let series = try Self.requireSeries(db, name: name)
      let (wanted, rowOfLayer) = try Self.layerRows(layers, series: series)
      var current: Int?
      var matrix = LoadMatrixBuilder(layers: wanted.count, experts: series.experts)
      try Self.readLoadRows(db, series: series, from: from, to: to, oneLayer: nil) { step, layer, encoding, blob in
        if let c = current, c != step {
          try body(c, matrix.build())
          matrix = LoadMatrixBuilder(layers: wanted.count, experts: series.experts)
        }
        current = step
        let target = rowOfLayer[layer]
        if target >= 0 && !matrix.accumulate(row: target, blob: blob, encoding: encoding, weight: 1) {
          throw StoreError.database(
            path: "", detail: "load row step \(step) layer \(layer) of series '\(name)' is damaged")
        }
      }
      if let c = current { try body(c, matrix.build()) }
    }
  }

  /// Resolves `window` against the stored steps of `series`: (first step, last step, step count).
  static func resolve(_ db: Database, window: WindowSpec, series: SeriesInfo) throws -> (from: Int, to: Int, steps: Int)
  {
    if let problem = window.problem { throw StoreError.invalidWindow(problem) }
    guard let first = series.firstStep, let lastStored = series.lastStep else {
      throw StoreError.emptyWindow(series: series.name, detail: "the series holds no step yet; ingest some first")
    }
    var from = window.from ?? first
    var to = window.to ?? lastStored
    if let last = window.last {
      to = lastStored
      from =
        try Int.fetchOne(
          db, sql: "SELECT step FROM step WHERE series_id = ? ORDER BY step DESC LIMIT 1 OFFSET ?",
          arguments: [series.id, last - 1]) ?? first
    }
    let count =
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM step WHERE series_id = ? AND step BETWEEN ? AND ?",
        arguments: [series.id, from, to]) ?? 0
    if count == 0 {
      throw StoreError.emptyWindow(
        series: series.name,
        detail: "no stored step in \(from) to \(to) (stored steps: \(first) to \(lastStored)); adjust --from/--to")
    }
    // Report the window as the stored steps it really covers.
    from = max(from, first)
    to = min(to, lastStored)
    return (from, to, count)
  }

  static func windowLoad(_ db: Database, series name: String, window: WindowSpec, layers: [Int]?, blocks: Int = 1)
    throws -> WindowLoad
  {
    let series = try requireSeries(db, name: name)
    let (wanted, rowOfLayer) = try layerRows(layers, series: series)
    let (from, to, steps) = try resolve(db, window: window, series: series)
    var matrix = LoadMatrixBuilder(layers: wanted.count, experts: series.experts)
    let blockCount = blocks > 1 ? min(blocks, steps) : 0
    var blockSums = Array(
      repeating: LoadMatrixBuilder(layers: wanted.count, experts: series.experts), count: blockCount)
    var position = -1
    var lastStep = Int.min
    let halfLife = window.halfLife
    try readLoadRows(db, series: series, from: from, to: to, oneLayer: wanted.count == 1 ? wanted[0] : nil) {
      step, layer, encoding, blob in
      if step != lastStep {
        position += 1
        lastStep = step
      }
      let target = rowOfLayer[layer]
      if target < 0 { return }
      let weight = halfLife.map { pow(0.5, Double(to - step) / $0) } ?? 1
      var ok = matrix.accumulate(row: target, blob: blob, encoding: encoding, weight: weight)
      if blockCount > 0 {
        ok =
          ok
          && blockSums[min(position * blockCount / steps, blockCount - 1)].accumulate(
            row: target, blob: blob, encoding: encoding, weight: 1)
      }
      if !ok {
        throw StoreError.database(
          path: "", detail: "load row step \(step) layer \(layer) of series '\(name)' is damaged")
      }
    }
    return WindowLoad(
      series: series, from: from, to: to, steps: steps, halfLife: halfLife, layers: wanted, loads: matrix.build(),
      blocks: blockSums.map { $0.build() })
  }

  /// The requested model layer ids (nil: all of the series') and, indexed by model layer id
  /// (`0...` the series' largest), its row in the result or −1.
  private static func layerRows(_ layers: [Int]?, series: SeriesInfo) throws -> ([Int], [Int]) {
    let wanted = layers ?? series.layerIDs
    var rowOfLayer = Array(repeating: -1, count: (series.layerIDs.last ?? -1) + 1)
    let known = Set(series.layerIDs)
    for (row, layer) in wanted.enumerated() {
      guard known.contains(layer) else {
        throw StoreError.unknownLayer(series: series.name, layer: layer, layerIDs: series.layerIDs)
      }
      rowOfLayer[layer] = row
    }
    return (wanted, rowOfLayer)
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

/// Accumulates decoded rows into a flat `[layers][experts]` buffer.
struct LoadMatrixBuilder {
  let layers: Int
  let experts: Int
  var values: [Double]

  init(layers: Int, experts: Int) {
    self.layers = layers
    self.experts = experts
    self.values = Array(repeating: 0, count: layers * experts)
  }

  mutating func accumulate(row: Int, blob: UnsafeRawBufferPointer, encoding: Int, weight: Double) -> Bool {
    let experts = self.experts
    return values.withUnsafeMutableBufferPointer { buffer in
      let slice = UnsafeMutableBufferPointer(rebasing: buffer[(row * experts)..<((row + 1) * experts)])
      return LoadCodec.accumulate(blob, encoding: encoding, weight: weight, into: slice)
    }
  }

  func build() -> LoadMatrix { LoadMatrix(layers: layers, experts: experts, values: values) }
}
