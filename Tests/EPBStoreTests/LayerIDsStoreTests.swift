import EPBEngines
import EPBPlanner
import Foundation
import GRDB
import Testing

@testable import EPBStore

/// A series records the model layer id of each stored layer (issue 17): windows, errors and
/// later ingests speak those ids.
@Suite struct LayerIDsStoreTests {
  /// Two steps of a MoE-only block of three layers, relabelled as model layers 3, 4, 5;
  /// value = 100 × position + 10 × step + expert, so each window sum is known by hand.
  static func moeBatch() throws -> LoadBatch {
    let dense = denseBatch(steps: 2, layers: 3, experts: 2) { t, l, e in Double(100 * l + 10 * t + e) }
    return try dense.relabelLayers([3, 4, 5]).get()
  }

  @Test(arguments: StoreKind.allCases)
  func windowsSpeakModelLayerIDs(kind: StoreKind) throws {
    let store = try kind.make()
    _ = try store.ingest(Self.moeBatch(), series: "moe", source: source("a"), replace: false)
    let info = try store.series(named: "moe")
    #expect(info.layers == 3)
    #expect(info.layerIDs == [3, 4, 5])
    // Layer 5 is position 2: steps 0 and 1 give (200 + 0 + e) + (200 + 10 + e) = 410 + 2e.
    let window = try store.windowLoad(series: "moe", window: WindowSpec(), layers: [5, 3])
    #expect(window.layers == [5, 3])
    #expect(window.loads.values == [410, 412, 10, 12])
    #expect(try store.windowLoad(series: "moe", window: WindowSpec()).layers == [3, 4, 5])
    #expect(throws: StoreError.unknownLayer(series: "moe", layer: 0, layerIDs: [3, 4, 5])) {
      try store.windowLoad(series: "moe", window: WindowSpec(), layers: [0])
    }
    let message = StoreError.unknownLayer(series: "moe", layer: 0, layerIDs: [3, 4, 5]).description
    #expect(message == "series 'moe' has layers 3 to 5; --layer 0 is not one of them")
  }

  @Test func aLaterInputMustHaveTheSameLayerIDs() throws {
    let store = try SQLiteStore.inMemory()
    _ = try store.ingest(Self.moeBatch(), series: "moe", source: source("a"), replace: false)
    // The same block without its ids is model layers 0 to 2: refused, nothing stored.
    let unlabelled = denseBatch(steps: 1, layers: 3, experts: 2) { _, _, _ in 1 }
    #expect(
      throws: StoreError.shapeMismatch(
        series: "moe", source: "b",
        detail: "the input's layers are model layers 0 to 2, the series' are 3 to 5; give the input's ids with "
          + "--first-layer or --layer-ids")
    ) { try store.ingest(unlabelled, series: "moe", source: source("b"), replace: false) }
    #expect(try store.series(named: "moe").steps == 2)
    // A CSV-like input naming some of the series' layers is fine; one naming layer 6 is not.
    let some = LoadBatch(
      layers: nil, experts: 2, rows: [LoadRow(step: 7, layer: 4)], values: [1, 1], stepsAreRelative: false)
    #expect(try store.ingest(some, series: "moe", source: source("c"), replace: false).status == .ingested)
    let outside = LoadBatch(
      layers: nil, experts: 2, rows: [LoadRow(step: 8, layer: 6)], values: [1, 1], stepsAreRelative: false)
    #expect(
      throws: StoreError.shapeMismatch(
        series: "moe", source: "d", detail: "the input names layer 6, the series has layers 3 to 5")
    ) { try store.ingest(outside, series: "moe", source: source("d"), replace: false) }
  }

  @Test func rowsNamingLayersGiveTheRangeTheyName() throws {
    let store = try SQLiteStore.inMemory()
    // Rows of model layers 3 and 5 only: the series holds 3 to 5, layer 4 reads as zero.
    let rows = LoadBatch(
      layers: nil, experts: 1, rows: [LoadRow(step: 0, layer: 5), LoadRow(step: 0, layer: 3)], values: [2, 1],
      stepsAreRelative: false)
    _ = try store.ingest(rows, series: "csv", source: source("a"), replace: false)
    #expect(try store.series(named: "csv").layerIDs == [3, 4, 5])
    #expect(try store.windowLoad(series: "csv", window: WindowSpec()).loads.values == [1, 0, 2])
  }

  @Test func relabellingRefusesACountOtherThanTheInputs() throws {
    let dense = denseBatch(steps: 1, layers: 3, experts: 1) { _, _, _ in 1 }
    #expect(throws: LoadBatch.RelabelError.count(input: 3, given: 2)) { try dense.relabelLayers([3, 4]).get() }
    let rows = LoadBatch(
      layers: nil, experts: 1, rows: [LoadRow(step: 0, layer: 9)], values: [1], stepsAreRelative: false)
    #expect(throws: LoadBatch.RelabelError.outside(layer: 9)) { try rows.relabelLayers([3, 4]).get() }
    #expect(try rows.relabelLayers([8, 9]).get().declaredLayerIDs == [8, 9])
  }

  /// A database written before the layer-id migration: its series read ids = row numbers, and
  /// later ingests of the same unlabelled shape still go in.
  @Test func aDatabaseFromBeforeTheMigrationReadsIDsEqualToRows() throws {
    let path = try TempDir().file("v2.sqlite")
    var migrator = DatabaseMigrator()
    for migration in SQLiteStore.migrations where migration.identifier < "0003" {
      migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
    }
    let queue = try DatabaseQueue(path: path)
    try migrator.migrate(queue)
    try queue.write { db in
      try db.execute(
        sql: "INSERT INTO series (name, layers, experts, created_at) VALUES ('old', 3, 1, 'x'), ('one', 1, 1, 'x')")
    }
    try queue.close()
    let store = try SQLiteStore.open(path: path, create: false)
    #expect(try store.appliedMigrations() == SQLiteStore.knownMigrations)
    #expect(try store.series(named: "old").layerIDs == [0, 1, 2])
    #expect(try store.series(named: "one").layerIDs == [0])
    let batch = denseBatch(steps: 1, layers: 3, experts: 1) { _, l, _ in Double(l + 1) }
    #expect(try store.ingest(batch, series: "old", source: source("a"), replace: false).status == .ingested)
    #expect(try store.windowLoad(series: "old", window: WindowSpec(), layers: [2]).loads.values == [3])
  }

  @Test func describeJoinsRuns() {
    #expect(LayerIDs.describe([3, 4, 5, 60]) == "3 to 5, 60")
    #expect(LayerIDs.describe([]) == "none")
    #expect(LayerIDs.list([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8")
    #expect(
      LayerIDs.isValid([3, 4]) && !LayerIDs.isValid([4, 3]) && !LayerIDs.isValid([-1]) && !LayerIDs.isValid([2, 2]))
  }
}

@Suite struct LayerIDsReaderContractTests {
  /// A reader that states its layers (3, 4) but names layer 0 on a row is refused, not stored
  /// under a layer the series does not have.
  @Test func aRowOutsideTheStatedLayersIsRefused() throws {
    let store = try SQLiteStore.inMemory()
    let batch = LoadBatch(
      layers: 2, layerIDs: [3, 4], experts: 1, rows: [LoadRow(step: 0, layer: 3), LoadRow(step: 0, layer: 0)],
      values: [1, 2], stepsAreRelative: true)
    #expect(
      throws: StoreError.shapeMismatch(
        series: "s", source: "a", detail: "the input names layer 0, outside its own layers 3 to 4")
    ) { try store.ingest(batch, series: "s", source: source("a"), replace: false) }
    #expect(try store.series().isEmpty, "nothing stored, not even the series")
  }
}
