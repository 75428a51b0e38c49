import EPBEngines
import EPBPlanner
import Foundation
import GRDB
import Testing

@testable import EPBStore

#if Postgres
  import EPBStorePostgres
#endif

/// Each scenario runs on an in-memory database, on a file database, and, in a build with the
/// `Postgres` trait, on a new PostgreSQL database of the server `$EPBCTL_TEST_POSTGRES` names
/// (`scripts/postgres/start.sh` starts one; such a build fails these tests without it).
enum StoreKind: CaseIterable, CustomStringConvertible {
  case memory, file
  #if Postgres
    case postgres
  #endif

  var description: String {
    switch self {
    case .memory: return "memory"
    case .file: return "file"
    #if Postgres
      case .postgres: return "postgres"
    #endif
    }
  }

  func make() throws -> any EPBStore {
    switch self {
    case .memory: return try SQLiteStore.inMemory()
    case .file: return try SQLiteStore.open(path: TempDir().file("store.sqlite"), create: true)
    #if Postgres
      case .postgres: return try PostgresTestServer.newStore()
    #endif
    }
  }
}

/// A dense batch `[steps][layers][experts]` with relative steps, value = f(step, layer, expert).
func denseBatch(steps: Int, layers: Int, experts: Int, _ f: (Int, Int, Int) -> Double) -> LoadBatch {
  var rows: [LoadRow] = []
  var values: [Double] = []
  for t in 0..<steps {
    for l in 0..<layers {
      rows.append(LoadRow(step: t, layer: l))
      for e in 0..<experts { values.append(f(t, l, e)) }
    }
  }
  return LoadBatch(layers: layers, experts: experts, rows: rows, values: values, stepsAreRelative: true)
}

func source(_ name: String, hash: String? = nil) -> IngestSource {
  IngestSource(path: name, contentSHA256: hash ?? name, format: "test")
}

@Suite struct IngestStoreTests {
  @Test(arguments: StoreKind.allCases)
  func valuesRoundTripExactly(kind: StoreKind) throws {
    let store = try kind.make()
    // Integers up to 2^53 (float64 rows), fractions, and int32 rows.
    let big: [Double] = [9_007_199_254_740_992, 123_456_789_012, 0, 1]
    let frac: [Double] = [0.1, 1e-300, 2.5, 1.7976931348623157e308 / 4]
    let small: [Double] = [0, 1, 2_147_483_647, 42]
    let batch = LoadBatch(
      layers: 3, experts: 4,
      rows: [LoadRow(step: 0, layer: 0), LoadRow(step: 0, layer: 1), LoadRow(step: 0, layer: 2)],
      values: big + frac + small, stepsAreRelative: true)
    let outcome = try store.ingest(batch, series: "s", source: source("a"), replace: false)
    #expect(outcome.status == .ingested)
    #expect(outcome.steps == 1 && outcome.layers == 3 && outcome.experts == 4)
    let window = try store.windowLoad(series: "s", window: WindowSpec())
    #expect(window.loads.values == big + frac + small)
    #expect(window.layers == [0, 1, 2])
  }

  /// The smallest exact encoding per row, and an exact round trip through each.
  @Test(arguments: [
    ([0, 1, 255] as [Double], LoadCodec.uint8, 3),
    ([0, 256, 65_535], LoadCodec.uint16, 6),
    ([65_536, 2_147_483_647, 3], LoadCodec.int32, 12),
    ([1, 2_147_483_648, 0], LoadCodec.float64, 24),
    ([0.5, 1, 2], LoadCodec.float64, 24),
    ([9_007_199_254_740_992, 0.1, 1e-300], LoadCodec.float64, 24),
  ])
  func rowsTakeTheSmallestExactEncoding(values: [Double], encoding: Int, bytes: Int) {
    let (chosen, blob) = LoadCodec.encode(values[...])
    #expect(chosen == encoding)
    #expect(blob.count == bytes)
    #expect(LoadCodec.decode(blob, encoding: chosen, experts: values.count) == values)
    #expect(LoadCodec.decode(blob, encoding: chosen, experts: values.count + 1) == nil)
    #expect(LoadCodec.decode(blob, encoding: 9, experts: values.count) == nil)
  }

  /// Rows longer than one SIMD block (8 lanes) plus a tail decode and weight exactly, per encoding.
  @Test(arguments: [255.0, 65_535, 2_147_483_647, 0.5])
  func longRowsAccumulateExactly(largest: Double) {
    let values = (0..<19).map { i -> Double in i == 7 ? largest : Double(i * 3 % 11) }
    let (encoding, blob) = LoadCodec.encode(values[...])
    var sum = Array(repeating: 1.0, count: values.count)
    let ok = blob.withUnsafeBytes { raw in
      sum.withUnsafeMutableBufferPointer { LoadCodec.accumulate(raw, encoding: encoding, weight: 0.25, into: $0) }
    }
    #expect(ok)
    #expect(sum == values.map { 1 + 0.25 * $0 })
  }

  @Test(arguments: StoreKind.allCases)
  func relativeStepsAppendAfterTheLastStep(kind: StoreKind) throws {
    let store = try kind.make()
    let a = denseBatch(steps: 3, layers: 2, experts: 4) { t, l, e in Double(t * 100 + l * 10 + e) }
    let b = denseBatch(steps: 2, layers: 2, experts: 4) { t, l, e in Double(1000 + t) }
    _ = try store.ingest(a, series: "s", source: source("a"), replace: false)
    let outcome = try store.ingest(b, series: "s", source: source("b"), replace: false)
    #expect(outcome.firstStep == 3 && outcome.lastStep == 4)
    let info = try store.series(named: "s")
    #expect(info.steps == 5 && info.firstStep == 0 && info.lastStep == 4)
    // Total: a sums Σ_t Σ_l Σ_e (100t + 10l + e) = 4·2·(0+100+200) + 3·4·(0+10) + 3·2·(0+1+2+3), b = 2·4·(1000+1001).
    let expectedTotal = Double(8 * 300 + 12 * 10 + 6 * 6 + 8 * 2001)
    #expect(try store.series().first { $0.name == "s" }?.totalLoad == expectedTotal)
    #expect(info.totalLoad == nil)  // a name lookup reads no load row
  }

  @Test(arguments: StoreKind.allCases)
  func sameContentIsAlreadyIngested(kind: StoreKind) throws {
    let store = try kind.make()
    let a = denseBatch(steps: 2, layers: 1, experts: 2) { _, _, e in Double(e) }
    _ = try store.ingest(a, series: "s", source: source("a", hash: "h1"), replace: false)
    let again = try store.ingest(a, series: "s", source: source("renamed", hash: "h1"), replace: false)
    #expect(again.status == .alreadyIngested)
    #expect(again.steps == 2)
    #expect(try store.series(named: "s").steps == 2)
  }

  @Test(arguments: StoreKind.allCases)
  func storedRowsAreRefusedUnlessReplace(kind: StoreKind) throws {
    let store = try kind.make()
    func explicit(_ value: Double, hash: String) -> LoadBatch {
      LoadBatch(
        layers: nil, experts: 2, rows: [LoadRow(step: 7, layer: 0), LoadRow(step: 8, layer: 0)],
        values: [value, value, value, value], stepsAreRelative: false)
    }
    _ = try store.ingest(explicit(1, hash: "x"), series: "s", source: source("x"), replace: false)
    #expect(
      throws: StoreError.duplicateRows(series: "s", source: "y", step: 7, layer: 0, count: 2)
    ) {
      try store.ingest(explicit(5, hash: "y"), series: "s", source: source("y"), replace: false)
    }
    // Nothing of the refused file was written.
    #expect(try store.windowLoad(series: "s", window: WindowSpec()).loads.values == [2, 2])
    let replaced = try store.ingest(explicit(5, hash: "y"), series: "s", source: source("y"), replace: true)
    #expect(replaced.replacedRows == 2)
    #expect(try store.windowLoad(series: "s", window: WindowSpec()).loads.values == [10, 10])
  }

  @Test(arguments: StoreKind.allCases)
  func shapeMismatchIsRefused(kind: StoreKind) throws {
    let store = try kind.make()
    _ = try store.ingest(
      denseBatch(steps: 1, layers: 2, experts: 4) { _, _, _ in 1 }, series: "s", source: source("a"), replace: false)
    #expect(throws: StoreError.self) {
      try store.ingest(
        denseBatch(steps: 1, layers: 2, experts: 5) { _, _, _ in 1 }, series: "s", source: source("b"), replace: false)
    }
    do {
      _ = try store.ingest(
        denseBatch(steps: 1, layers: 3, experts: 4) { _, _, _ in 1 }, series: "s", source: source("c"), replace: false)
      Issue.record("a 3-layer input went into a 2-layer series")
    } catch {
      #expect("\(error)".contains("c: the input has 3 layers, the series has 2"))
    }
    #expect(try store.series(named: "s").steps == 1)
  }

  @Test(arguments: StoreKind.allCases)
  func unknownSeriesListsTheKnownOnes(kind: StoreKind) throws {
    let store = try kind.make()
    _ = try store.ingest(
      denseBatch(steps: 1, layers: 1, experts: 1) { _, _, _ in 1 }, series: "prod", source: source("a"),
      replace: false)
    #expect(throws: StoreError.unknownSeries(name: "nope", known: ["prod"])) { try store.series(named: "nope") }
  }
}

@Suite struct WindowTests {
  /// 10 steps × 2 layers × 3 experts; load(t, l, e) = (t + 1) · (l + 1) · (e + 1).
  func store() throws -> any EPBStore {
    let store = try SQLiteStore.inMemory()
    _ = try store.ingest(
      denseBatch(steps: 10, layers: 2, experts: 3) { t, l, e in Double((t + 1) * (l + 1) * (e + 1)) },
      series: "s", source: source("a"), replace: false)
    return store
  }

  @Test func lastStepsWindow() throws {
    let w = try store().windowLoad(series: "s", window: WindowSpec(last: 3), layers: [1])
    // Steps 7, 8, 9: Σ (t+1) = 8 + 9 + 10 = 27; layer 1 doubles, expert e multiplies by e+1.
    #expect(w.from == 7 && w.to == 9 && w.steps == 3)
    #expect(w.loads.values == [54, 108, 162])
  }

  @Test func rangeWindowIsInclusive() throws {
    let w = try store().windowLoad(series: "s", window: WindowSpec(from: 2, to: 4))
    // Σ (t+1) for t = 2...4 is 3 + 4 + 5 = 12.
    #expect(w.loads.values == [12, 24, 36, 24, 48, 72])
    #expect(w.steps == 3)
  }

  @Test func halfLifeWeightsOlderSteps() throws {
    let w = try store().windowLoad(series: "s", window: WindowSpec(last: 2, halfLife: 1), layers: [0])
    // Steps 8 (weight 0.5) and 9 (weight 1): 0.5·9 + 10 = 14.5 for expert 0.
    #expect(w.loads.values == [14.5, 29, 43.5])
  }

  @Test func windowLongerThanTheSeriesTakesAllSteps() throws {
    let w = try store().windowLoad(series: "s", window: WindowSpec(last: 1000), layers: [0])
    #expect(w.from == 0 && w.to == 9 && w.steps == 10)
  }

  @Test func windowOutsideTheSeriesIsAnError() throws {
    do {
      _ = try store().windowLoad(series: "s", window: WindowSpec(from: 50, to: 60))
      Issue.record("expected an error")
    } catch {
      #expect("\(error)" == "series 's': no stored step in 50 to 60 (stored steps: 0 to 9); adjust --from/--to")
    }
  }

  @Test func layerOutsideTheSeriesIsAnError() throws {
    #expect(throws: StoreError.unknownLayer(series: "s", layer: 2, layerIDs: [0, 1])) {
      try store().windowLoad(series: "s", window: WindowSpec(), layers: [2])
    }
  }
}

/// Reads of windows and steps on every store kind: steps that lack a layer, and histories
/// longer than one page of PostgreSQL's read (32,768 rows).
@Suite struct WindowReadTests {
  @Test(arguments: StoreKind.allCases)
  func aStepWithoutALayerReadsAsZerosInIt(kind: StoreKind) throws {
    let store = try kind.make()
    // Steps 0 and 1 with layers 0, 1, 2; step 2 with layer 0 only. load = 100·step + 10·layer + expert.
    func row(_ t: Int, _ l: Int) -> [Double] { (0..<2).map { Double(100 * t + 10 * l + $0) } }
    let full = LoadBatch(
      layers: 3, experts: 2, rows: (0..<2).flatMap { t in (0..<3).map { LoadRow(step: t, layer: $0) } },
      values: (0..<2).flatMap { t in (0..<3).flatMap { row(t, $0) } }, stepsAreRelative: false)
    let partial = LoadBatch(
      layers: 3, experts: 2, rows: [LoadRow(step: 2, layer: 0)], values: row(2, 0), stepsAreRelative: false)
    _ = try store.ingest(full, series: "s", source: source("full"), replace: false)
    _ = try store.ingest(partial, series: "s", source: source("partial"), replace: false)

    // Layer 1 over steps 0...2: (10 + 110, 11 + 111); layer 0: (0 + 100 + 200, 1 + 101 + 201).
    #expect(try store.windowLoad(series: "s", window: WindowSpec(), layers: [1]).loads.values == [120, 122])
    #expect(
      try store.windowLoad(series: "s", window: WindowSpec()).loads.values == [300, 303, 120, 122, 140, 142])
    // A stored step is a step of every layer: step 2 reads as zeros in layer 1.
    var seen: [Int] = []
    try store.forEachStep(series: "s", from: 0, to: 2, layers: [1]) { step, loads in
      seen.append(step)
      #expect(loads.values == (step < 2 ? row(step, 1) : [0, 0]))
    }
    #expect(seen == [0, 1, 2])
    var last: LoadMatrix?
    seen = []
    try store.forEachStep(series: "s", from: 0, to: 2, layers: nil) { step, loads in
      seen.append(step)
      last = loads
    }
    #expect(seen == [0, 1, 2])
    #expect(last?.values == row(2, 0) + [0, 0, 0, 0])
  }

  @Test(arguments: StoreKind.allCases)
  func aHistoryLongerThanAReadPageIsReadWhole(kind: StoreKind) throws {
    let store = try kind.make()
    // 12,000 steps × 3 layers = 36,000 rows; load = step mod 5 + layer + expert.
    let steps = 12_000
    _ = try store.ingest(
      denseBatch(steps: steps, layers: 3, experts: 2) { t, l, e in Double(t % 5 + l + e) },
      series: "s", source: source("long"), replace: false)
    // Σ_t (t mod 5) = 2,400 · (0 + 1 + 2 + 3 + 4) = 24,000, plus 12,000 · (layer + expert).
    let expected = (0..<3).flatMap { l in (0..<2).map { e in Double(24_000 + steps * (l + e)) } }
    let window = try store.windowLoad(series: "s", window: WindowSpec())
    #expect(window.loads.values == expected && window.steps == steps)
    var next = 0
    try store.forEachStep(series: "s", from: 0, to: steps - 1, layers: [2]) { step, loads in
      #expect(step == next)
      #expect(loads.values == [Double(step % 5 + 2), Double(step % 5 + 3)])
      next += 1
    }
    #expect(next == steps)
  }
}

@Suite struct SnapshotStoreTests {
  func plan(_ seed: Int) -> Plan {
    let topology = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)
    let placement = LayerPlacement(physicalToLogical: [0, 1, 2, seed % 3], experts: 3)
    let stats = LayerStatistics(
      evaluation: LayerEvaluation(gpuLoad: [3, 4.5], peak: 4.5, mean: 3.75), noReplicationPeak: 6, lowerBound: 3.75)
    return Plan(
      topology: topology, policy: .global, algorithm: .eplbDivisor,
      layers: [PlannedLayer(layer: 1, placement: placement, statistics: stats)], skippedLayers: [0])
  }

  /// Saves a snapshot of `plan(seed)` under the name `name` and reads it back from the store.
  func save(_ store: any EPBStore, _ seed: Int, name: String = "eplb-divisor") throws -> Snapshot {
    let id = try store.saveSnapshot(
      Snapshot(
        series: "s", createdAt: "2026-01-02T03:04:05Z", algorithmName: name, plan: plan(seed), windowFrom: 0,
        windowTo: 9, windowSteps: 10, toolVersion: "test"))
    return try store.snapshot(id: id)
  }

  /// What is saved is what is read: the whole value, id aside; a snapshot stored under the old
  /// name `seed` reads as eplb-divisor's statistics and keeps its name; an algorithm this epbctl
  /// does not know is refused by name.
  @Test func aSavedSnapshotReadsBackWhole() throws {
    let store = try SQLiteStore.inMemory()
    _ = try store.ingest(
      denseBatch(steps: 1, layers: 2, experts: 3) { _, _, _ in 1 }, series: "s", source: source("a"), replace: false)
    var saved = try save(store, 1)
    #expect(saved.id != nil)
    saved.id = nil
    let expected = Snapshot(
      series: "s", createdAt: "2026-01-02T03:04:05Z", algorithmName: "eplb-divisor", plan: plan(1), windowFrom: 0,
      windowTo: 9, windowSteps: 10, toolVersion: "test")
    #expect(saved == expected)
    let old = try save(store, 2, name: "seed")
    #expect(old.algorithmName == "seed" && old.plan.algorithm == .eplbDivisor)
    let newer = try store.saveSnapshot(
      Snapshot(
        series: "s", algorithmName: "quantum-annealer", plan: plan(0), windowFrom: 0, windowTo: 9, windowSteps: 10,
        toolVersion: "test"))
    do {
      _ = try store.snapshot(id: newer)
      Issue.record("a snapshot of an unknown algorithm was read")
    } catch {
      #expect("\(error)".contains("'quantum-annealer', unknown to this epbctl"), "\(error)")
    }
  }

  @Test(arguments: StoreKind.allCases)
  func snapshotsRoundTrip(kind: StoreKind) throws {
    let store = try kind.make()
    _ = try store.ingest(
      denseBatch(steps: 1, layers: 2, experts: 3) { _, _, _ in 1 }, series: "s", source: source("a"), replace: false)
    let saved = try save(store, 2)
    #expect(saved.layers == plan(2).layers)
    #expect(saved.skippedLayers == [0])
    #expect(saved.topology == plan(2).topology)
    let listed = try store.snapshots()
    #expect(listed.count == 1 && listed[0].layers == 1)
    #expect(listed[0].balancednessWeighted == 3.75 / 4.5)
  }

  @Test func latestReferencesCountBack() throws {
    let store = try SQLiteStore.inMemory()
    _ = try store.ingest(
      denseBatch(steps: 1, layers: 2, experts: 3) { _, _, _ in 1 }, series: "s", source: source("a"), replace: false)
    let ids = try (0..<3).map { try #require(try save(store, $0).id) }
    #expect(try store.resolveSnapshot("latest") == ids[2])
    #expect(try store.resolveSnapshot("latest~2") == ids[0])
    #expect(try store.resolveSnapshot(String(ids[1])) == ids[1])
    do {
      _ = try store.resolveSnapshot("latest~3")
      Issue.record("latest~3 resolved")
    } catch {
      #expect("\(error)".contains("only 3 snapshot(s), so `latest~2` is the oldest"))
    }
    #expect(throws: StoreError.self) { try store.resolveSnapshot("99") }
    #expect(throws: StoreError.self) { try store.resolveSnapshot("newest") }
  }
}

@Suite struct PendingHashTests {
  /// With the hash computed while the rows are stored, the same content a second time is rolled
  /// back and reported as already ingested, and the first ingest keeps its real hash.
  @Test(arguments: StoreKind.allCases)
  func pendingHashDetectsStoredContentBeforeCommit(kind: StoreKind) throws {
    let store = try kind.make()
    let batch = denseBatch(steps: 3, layers: 2, experts: 4) { t, l, e in Double(t + l + e) }
    let first = try store.ingest(
      batch, series: "s", source: IngestSource(path: "a", format: "test", contentSHA256: { "h1" }), replace: false)
    #expect(first.status == .ingested)
    let again = try store.ingest(
      batch, series: "s", source: IngestSource(path: "b", format: "test", contentSHA256: { "h1" }), replace: false)
    #expect(again.status == .alreadyIngested)
    #expect(again.steps == 3 && again.firstStep == 0 && again.lastStep == 2)
    #expect(try store.series(named: "s").steps == 3)
    // The eager path sees the real hash the pending one left behind.
    let eager = try store.ingest(batch, series: "s", source: source("c", hash: "h1"), replace: false)
    #expect(eager.status == .alreadyIngested)
    let other = try store.ingest(
      batch, series: "s", source: IngestSource(path: "d", format: "test", contentSHA256: { "h2" }), replace: false)
    #expect(other.status == .ingested && other.firstStep == 3)
  }
}

/// The crash tests' fault point is a hook given to `open`, not an environment variable read in
/// the commit path: it runs once per ingest that writes, inside the transaction (another
/// connection does not see the rows yet), and not for content already stored.
@Suite struct BeforeCommitHookTests {
  final class Seen: @unchecked Sendable {
    let lock = NSLock()
    var steps: [Int?] = []
    func append(_ s: Int?) { lock.withLock { steps.append(s) } }
  }

  @Test func runsInsideTheTransactionOncePerWrite() throws {
    let path = try TempDir().file("hook.sqlite")
    _ = try SQLiteStore.open(path: path, create: true)
    let seen = Seen()
    let store = try SQLiteStore.open(path: path, create: false) {
      // A second, read-only connection sees the committed state (WAL): the steps of the series
      // before this ingest, nil while the series it creates does not exist yet.
      var config = Configuration()
      config.readonly = true
      let other = try? DatabaseQueue(path: path, configuration: config)
      seen.append(
        try? other?.read { db in
          try Int.fetchOne(
            db, sql: "SELECT (SELECT count(*) FROM step WHERE series_id = s.id) FROM series s WHERE s.name = 's'")
        })
    }
    let batch = denseBatch(steps: 2, layers: 1, experts: 2) { t, _, e in Double(t + e + 1) }
    #expect(try store.ingest(batch, series: "s", source: source("a"), replace: false).status == .ingested)
    #expect(try store.ingest(batch, series: "s", source: source("a"), replace: false).status == .alreadyIngested)
    #expect(try store.ingest(batch, series: "s", source: source("b"), replace: false).status == .ingested)
    // Two writes, two calls: before the first commit the series does not exist, before the second it has its 2 steps.
    #expect(seen.steps == [nil, 2])
    #expect(try store.series(named: "s").steps == 4)
  }
}

@Suite struct SnapshotArrayTests {
  @Test func numberArraysParseAsStored() throws {
    let ints: [Int] = try SQLiteStore.decodeArray(SQLiteStore.jsonArray([0, 17, 255]), what: "phy2log", snapshot: 1)
    #expect(ints == [0, 17, 255])
    let doubles = [0.1, 156.0, 1.5e-07, 123_456_789_012.25]
    let back: [Double] = try SQLiteStore.decodeArray(SQLiteStore.jsonArray(doubles), what: "gpu_load", snapshot: 1)
    #expect(back == doubles)
    #expect(try (SQLiteStore.decodeArray("[]", what: "x", snapshot: 1) as [Int]).isEmpty)
    #expect(throws: StoreError.self) { try SQLiteStore.decodeArray("[1,,2]", what: "x", snapshot: 1) as [Int] }
    #expect(throws: StoreError.self) { try SQLiteStore.decodeArray("1,2", what: "x", snapshot: 1) as [Int] }
  }
}
