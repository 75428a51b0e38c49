import Foundation
import GRDB

extension EPBStore {
  /// The per-expert load of `layers` (nil: every layer of the series) summed over a window.
  ///
  /// This is the one aggregation that `loads`, `plan`, `diff` and `backtest` use.
  /// Rows missing from the store (a step without some layer) count as zero.
  ///
  /// - returns: a `WindowLoad` whose `loads` is `[layers.count][experts]`.
  /// - throws: `StoreError.unknownSeries`, `.unknownLayer`, `.invalidWindow` for contradictory
  ///   flags, `.emptyWindow` when no stored step falls in the window.
  public func windowLoad(series name: String, window: WindowSpec, layers: [Int]? = nil) throws(StoreError)
    -> WindowLoad
  {
    try run { db in try Self.windowLoad(db, series: name, window: window, layers: layers) }
  }

  /// Resolves `window` against the stored steps of `series`: (first step, last step, step count).
  static func resolve(_ db: Database, window: WindowSpec, series: SeriesInfo) throws -> (from: Int, to: Int, steps: Int)
  {
    if let last = window.last, last <= 0 {
      throw StoreError.invalidWindow("--window must be a positive number of steps, got \(last)")
    }
    if window.last != nil && (window.from != nil || window.to != nil) {
      throw StoreError.invalidWindow("--window cannot be combined with --from/--to; give one or the other")
    }
    if let from = window.from, let to = window.to, from > to {
      throw StoreError.invalidWindow("--from \(from) is after --to \(to)")
    }
    if let h = window.halfLife, !(h > 0 && h.isFinite) {
      throw StoreError.invalidWindow("--half-life must be a positive number of steps, got \(h)")
    }
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
        detail: "no stored step in \(from)...\(to) (stored steps: \(first)...\(lastStored)); adjust --from/--to")
    }
    // Report the window as the stored steps it really covers.
    from = max(from, first)
    to = min(to, lastStored)
    return (from, to, count)
  }

  static func windowLoad(_ db: Database, series name: String, window: WindowSpec, layers: [Int]?) throws -> WindowLoad {
    let series = try requireSeries(db, name: name)
    let wanted = layers ?? Array(0..<series.layers)
    for layer in wanted where layer < 0 || layer >= series.layers {
      throw StoreError.unknownLayer(series: name, layer: layer, layers: series.layers)
    }
    let (from, to, steps) = try resolve(db, window: window, series: series)
    var rowOfLayer = Array(repeating: -1, count: series.layers)
    for (row, layer) in wanted.enumerated() { rowOfLayer[layer] = row }
    var matrix = LoadMatrixBuilder(layers: wanted.count, experts: series.experts)
    let oneLayer = wanted.count == 1
    let sql =
      oneLayer
      ? "SELECT step, layer, encoding, loads FROM load WHERE series_id = ? AND layer = ? AND step BETWEEN ? AND ?"
      : "SELECT step, layer, encoding, loads FROM load WHERE series_id = ? AND step BETWEEN ? AND ?"
    let arguments: StatementArguments =
      oneLayer ? [series.id, wanted[0], from, to] : [series.id, from, to]
    let statement = try db.cachedStatement(sql: sql)
    let cursor = try Row.fetchCursor(statement, arguments: arguments)
    let halfLife = window.halfLife
    while let row = try cursor.next() {
      let layer: Int = row[1]
      let target = rowOfLayer[layer]
      if target < 0 { continue }
      let step: Int = row[0]
      let encoding: Int = row[2]
      let weight = halfLife.map { pow(0.5, Double(to - step) / $0) } ?? 1
      let ok = try row.withUnsafeData(atIndex: 3) { data -> Bool in
        guard let data else { return false }
        return data.withUnsafeBytes { raw in matrix.accumulate(row: target, blob: raw, encoding: encoding, weight: weight) }
      }
      if !ok {
        throw StoreError.database(path: "", detail: "load row step \(step) layer \(layer) of series '\(name)' is damaged")
      }
    }
    return WindowLoad(
      series: series, from: from, to: to, steps: steps, halfLife: halfLife, layers: wanted, loads: matrix.build())
  }
}

import EPBPlanner

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

extension EPBStore {
  /// Calls `body` once per stored step in `from...to` (increasing), with that step's loads of
  /// `layers` as `[layers.count][experts]` (rows absent from the store are zero).
  ///
  /// Streams from one read transaction, so a backtest sees one consistent history without
  /// holding every step in memory at once.
  ///
  /// - throws: `StoreError.unknownSeries`, `.unknownLayer`, or what `body` throws (wrapped).
  public func forEachStep(
    series name: String, from: Int, to: Int, layers: [Int]? = nil,
    _ body: (_ step: Int, _ loads: LoadMatrix) throws -> Void
  ) throws(StoreError) {
    try run { db in
      let series = try Self.requireSeries(db, name: name)
      let wanted = layers ?? Array(0..<series.layers)
      for layer in wanted where layer < 0 || layer >= series.layers {
        throw StoreError.unknownLayer(series: name, layer: layer, layers: series.layers)
      }
      var rowOfLayer = Array(repeating: -1, count: series.layers)
      for (row, layer) in wanted.enumerated() { rowOfLayer[layer] = row }
      let cursor = try Row.fetchCursor(
        db,
        sql: "SELECT step, layer, encoding, loads FROM load WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step",
        arguments: [series.id, from, to])
      var current: Int?
      var matrix = LoadMatrixBuilder(layers: wanted.count, experts: series.experts)
      while let row = try cursor.next() {
        let step: Int = row[0]
        if let c = current, c != step {
          try body(c, matrix.build())
          matrix = LoadMatrixBuilder(layers: wanted.count, experts: series.experts)
        }
        current = step
        let target = rowOfLayer[row[1] as Int]
        if target < 0 { continue }
        let encoding: Int = row[2]
        let ok = try row.withUnsafeData(atIndex: 3) { data -> Bool in
          guard let data else { return false }
          return data.withUnsafeBytes { matrix.accumulate(row: target, blob: $0, encoding: encoding, weight: 1) }
        }
        if !ok { throw StoreError.database(path: "", detail: "load row step \(step) of series '\(name)' is damaged") }
      }
      if let c = current { try body(c, matrix.build()) }
    }
  }
}
