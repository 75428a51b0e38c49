import GRDB

extension SQLiteStore {
  /// Every series, by name.
  public func series() throws(StoreError) -> [SeriesInfo] {
    try run { db in try Self.fetchSeries(db, name: nil, withTotals: true) }
  }

  /// The series named `name`: a lookup by name and its steps' index, which reads no load row
  /// (`totalLoad` is nil; `series()` sums it).
  ///
  /// - throws: `StoreError.unknownSeries` listing the known names.
  public func series(named name: String) throws(StoreError) -> SeriesInfo {
    try run { db in try Self.requireSeries(db, name: name) }
  }

  static func requireSeries(_ db: Database, name: String, withTotals: Bool = false) throws -> SeriesInfo {
    if let info = try fetchSeries(db, name: name, withTotals: withTotals).first { return info }
    let known = try String.fetchAll(db, sql: "SELECT name FROM series ORDER BY name")
    throw StoreError.unknownSeries(name: name, known: known)
  }

  /// - parameter withTotals: also sum every stored load (reads every row of the series).
  static func fetchSeries(_ db: Database, name: String?, withTotals: Bool = false) throws -> [SeriesInfo] {
    let sql = """
      SELECT s.id, s.name, s.layers, s.experts,
             (SELECT COUNT(*) FROM step WHERE series_id = s.id) AS steps,
             (SELECT MIN(step) FROM step WHERE series_id = s.id) AS first_step,
             (SELECT MAX(step) FROM step WHERE series_id = s.id) AS last_step,
             CASE WHEN ? THEN (SELECT COALESCE(SUM(total), 0) FROM load WHERE series_id = s.id) END AS total_load
      FROM series s
      WHERE (? IS NULL OR s.name = ?)
      ORDER BY s.name
      """
    return try SeriesRow.fetchAll(db, sql: sql, arguments: [withTotals, name, name]).map { row in
      row.info(layerIDs: try layerIDs(db, seriesID: row.id))
    }
  }

  /// The model layer ids of a series, increasing (`series_layer`).
  static func layerIDs(_ db: Database, seriesID: Int64) throws -> [Int] {
    try Int.fetchAll(
      db, sql: "SELECT layer FROM series_layer WHERE series_id = ? ORDER BY layer", arguments: [seriesID])
  }
}
