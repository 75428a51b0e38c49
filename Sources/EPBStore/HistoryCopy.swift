/// `epbctl copy`: moves whole series histories from one store to another, either kind to
/// either kind, in one transaction on the destination, then verifies them.
///
/// Verified by reading every copied series back from the destination and comparing its
/// `HistoryFingerprint` (counts of ingests, steps, rows and snapshots, and a digest of their
/// content, ids aside) with the source's. Atomic: the destination receives every series or none
/// (a series it already has refuses the whole copy); a copy that fails verification is removed
/// again. Run it when no ingest writes to the source, or copy again: the source is read series
/// by series.
public enum HistoryCopy {
  /// What a copy did: one fingerprint per series, equal on both sides.
  public struct Report: Sendable, Equatable {
    public var series: [HistoryFingerprint]
  }

  /// Copies `names` (nil: every series of `source`) into `destination`.
  ///
  /// - throws: `StoreError.unknownSeries`, `.seriesExists` (nothing copied), `.database` when
  ///   the copy read back differs from the source (the copied series are deleted again).
  public static func run(from source: any EPBStore, to destination: any EPBStore, series names: [String]?)
    throws(StoreError) -> Report
  {
    let chosen: [String]
    if let names { chosen = names } else { chosen = try source.series().map(\.name) }
    let histories = try chosen.map { (name) throws(StoreError) in try source.storedSeries(named: name) }
    try destination.restore(histories)
    var report = Report(series: [])
    for history in histories {
      let expected = history.fingerprint
      let copied = try destination.storedSeries(named: history.name).fingerprint
      guard copied == expected else {
        for h in histories { _ = try? destination.delete(.series(h.name), dryRun: false, vacuum: false) }
        throw .database(
          path: destination.path,
          detail: "the copy of series '\(history.name)' reads back as \(copied), the source has \(expected); "
            + "the copied series were removed again")
      }
      report.series.append(expected)
    }
    return report
  }
}
