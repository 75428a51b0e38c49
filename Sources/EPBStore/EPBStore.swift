import EPBEngines
import EPBPlanner
import Foundation

/// The store interface: everything ingest, planner, report and the commands ask of an epbctl
/// history, whichever database holds it.
///
/// Two implementations: `SQLiteStore`, the embedded default (one file), and `PostgresStore`
/// (the `EPBStorePostgres` module, built with the package trait `Postgres`), the shared store
/// of a fleet. Callers hold an `any EPBStore` and never learn which one it is; each
/// implementation owns all of its SQL, its schema lives in `migrations/` (SQLite) and
/// `migrations/postgres/` (PostgreSQL), and both report failures as `StoreError`.
///
/// Every write is one transaction: a batch is stored whole or not at all, and a reader sees a
/// history either before or after it.
///
/// ```swift
/// let store: any EPBStore = try SQLiteStore.open(path: "epb.sqlite", create: true)
/// let outcome = try store.ingest(batch, series: "prod", source: source, replace: false)
/// let window = try store.windowLoad(series: "prod", window: WindowSpec(last: 1_000))
/// ```
public protocol EPBStore: AnyObject, Sendable {
  /// Where the history lives, for messages: a file path, `:memory:`, or a `postgres://` URL
  /// without its password.
  var path: String { get }

  /// The applied schema migrations' identifiers, in order.
  func appliedMigrations() throws(StoreError) -> [String]

  /// Stores `batch` into `series` in one transaction: all of it or nothing.
  ///
  /// Creates the series on first use, with the batch's shape and model layer ids
  /// (`LoadBatch.declaredLayerIDs`); later inputs must have the same ids (or, naming layers one
  /// row at a time, some of them). Relative steps (`batch.stepsAreRelative`) are appended after
  /// the series' last step. The same content (by `source.contentSHA256`) stored before into
  /// the same series is a no-op reported as `.alreadyIngested`, also when another process
  /// stores it at the same moment.
  ///
  /// - parameter replace: overwrite (step, layer) rows that are already stored instead of failing.
  /// - throws: `StoreError.shapeMismatch` when layer ids or experts differ from the series,
  ///   `.duplicateRows` when a row is stored already and `replace` is false, and the database's
  ///   errors.
  func ingest(_ batch: LoadBatch, series name: String, source: IngestSource, replace: Bool)
    throws(StoreError) -> IngestOutcome

  /// Every series, by name, with its total load.
  func series() throws(StoreError) -> [SeriesInfo]

  /// The series named `name`, without reading its loads (`totalLoad` is nil).
  ///
  /// - throws: `StoreError.unknownSeries` listing the known names.
  func series(named name: String) throws(StoreError) -> SeriesInfo

  /// The per-expert load of `layers` (nil: every layer of the series) summed over a window,
  /// read in one consistent snapshot of the history.
  ///
  /// This is the one aggregation that `loads`, `plan`, `diff` and `backtest` use. Rows missing
  /// from the store (a step without some layer) count as zero.
  ///
  /// - parameter blocks: when > 1, also sum the window's steps into this many consecutive blocks
  ///   of near-equal step counts (unweighted), in `WindowLoad.blocks`.
  /// - returns: a `WindowLoad` whose `loads` is `[layers.count][experts]`.
  /// - throws: `StoreError.unknownSeries`, `.unknownLayer`, `.invalidWindow` for contradictory
  ///   flags, `.emptyWindow` when no stored step falls in the window.
  func windowLoad(series name: String, window: WindowSpec, layers: [Int]?, blocks: Int)
    throws(StoreError) -> WindowLoad

  /// Calls `body` once per stored step in `from...to` (increasing), with that step's loads of
  /// `layers` as `[layers.count][experts]` (rows absent from the store are zero), all from one
  /// consistent snapshot of the history.
  ///
  /// - throws: `StoreError.unknownSeries`, `.unknownLayer`, or what `body` throws.
  func forEachStep(
    series name: String, from: Int, to: Int, layers: [Int]?,
    _ body: (_ step: Int, _ loads: LoadMatrix) throws -> Void
  ) throws(StoreError)

  /// Stores `snapshot` (its `id` is ignored) in one transaction and returns its id.
  ///
  /// - throws: `StoreError.unknownSeries`, or the database's errors.
  func saveSnapshot(_ snapshot: Snapshot) throws(StoreError) -> Int64

  /// Snapshots in increasing id order, of one series or all.
  func snapshots(series: String?) throws(StoreError) -> [SnapshotSummary]

  /// Resolves a snapshot reference: an id, `latest`, or `latest~N` (the Nth before the latest),
  /// counted over the whole history or within `series` when given.
  ///
  /// - throws: `StoreError.unknownSnapshot` saying why nothing matches.
  func resolveSnapshot(_ reference: String, series: String?) throws(StoreError) -> Int64

  /// The snapshot with `id`, with all its layers.
  ///
  /// - throws: `StoreError.unknownSnapshot`, `StoreError.unknownAlgorithm` for a snapshot an
  ///   epbctl with more algorithms stored, or the database's errors.
  func snapshot(id: Int64) throws(StoreError) -> Snapshot

  /// The whole stored history of the series `name` (see `StoredSeries`), read in one
  /// consistent snapshot: what `epbctl copy` moves.
  ///
  /// - throws: `StoreError.unknownSeries`, or the database's errors.
  func storedSeries(named name: String) throws(StoreError) -> StoredSeries

  /// Writes `series` (none of them stored here yet) in one transaction: all of them or nothing.
  /// Ingest and snapshot ids are this store's own; references among them are mapped.
  ///
  /// - throws: `StoreError.seriesExists` when this store has a series of one of those names.
  func restore(_ series: [StoredSeries]) throws(StoreError)

  /// Removes `target` in one transaction (all of it or nothing), then reclaims the space when
  /// `vacuum`; `dryRun` reports the same deletion and rolls it back.
  ///
  /// - throws: `StoreError.unknownSnapshot`, `.unknownSeries`, `.nothingToDelete`,
  ///   `.ambiguousHash`, and the database's errors.
  func delete(_ target: DeletionTarget, dryRun: Bool, vacuum: Bool) throws(StoreError) -> DeletionReport

  /// Removes what `rule` selects in one transaction (see `delete`).
  ///
  /// - throws: `StoreError.unknownSeries`, and the database's errors.
  func prune(_ rule: PruneRule, dryRun: Bool, vacuum: Bool) throws(StoreError) -> DeletionReport
}

extension EPBStore {
  /// `windowLoad` of every layer, or without blocks.
  public func windowLoad(series name: String, window: WindowSpec, layers: [Int]? = nil) throws(StoreError)
    -> WindowLoad
  {
    try windowLoad(series: name, window: window, layers: layers, blocks: 1)
  }

  /// `forEachStep` over every layer.
  public func forEachStep(
    series name: String, from: Int, to: Int, _ body: (_ step: Int, _ loads: LoadMatrix) throws -> Void
  ) throws(StoreError) {
    try forEachStep(series: name, from: from, to: to, layers: nil, body)
  }

  /// Every snapshot, in increasing id order.
  public func snapshots() throws(StoreError) -> [SnapshotSummary] { try snapshots(series: nil) }

  /// `resolveSnapshot` over the whole history.
  public func resolveSnapshot(_ reference: String) throws(StoreError) -> Int64 {
    try resolveSnapshot(reference, series: nil)
  }
}

extension EPBStore {
  /// The snapshot a plan of `series` relabels against: `reference` (`--base`: an id, `latest`,
  /// `latest~N`) when given, else the latest snapshot of `series` with the same replicas, GPUs
  /// and nodes as `topology`; nil when the series has none such.
  ///
  /// - parameter experts: the logical experts of the plan's layers; a base must place as many.
  /// - throws: `StoreError.unknownSnapshot` for a reference that matches nothing,
  ///   `StoreError.incompatibleBase` when its snapshot has another topology or expert count.
  public func planBase(reference: String?, series: String, topology t: Topology, experts: Int) throws(StoreError)
    -> Snapshot?
  {
    func sameShape(_ b: Topology) -> Bool { b.replicas == t.replicas && b.gpus == t.gpus && b.nodes == t.nodes }
    if let reference {
      let record = try snapshot(id: resolveSnapshot(reference, series: series))
      let b = record.topology
      guard sameShape(b) else {
        throw .incompatibleBase(
          reference: reference, id: record.id ?? 0,
          detail:
            "has \(plural(b.replicas, "replica")) on \(plural(b.gpus, "GPU")) in \(plural(b.nodes, "node")), "
            + "this plan \(t.replicas) on \(t.gpus) in \(t.nodes)")
      }
      guard record.layers.allSatisfy({ $0.placement.logicalCount.count == experts }) else {
        throw .incompatibleBase(
          reference: reference, id: record.id ?? 0, detail: "places a different number of experts")
      }
      return record
    }
    guard let latest = try snapshots(series: series).last(where: { sameShape($0.topology) }) else { return nil }
    return try snapshot(id: latest.id)
  }
}
