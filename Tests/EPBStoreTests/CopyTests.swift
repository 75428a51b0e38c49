import EPBEngines
import EPBPlanner
import EPBStore
import Foundation
import Testing

/// `HistoryCopy` between every pair of store kinds (SQLite in memory, SQLite file, and
/// PostgreSQL when built with the trait). What the destination must show is read through the
/// store's ordinary public reads (windows, series listings, snapshots, re-ingest), not through the
/// copy's own fingerprint.
@Suite struct CopyTests {
  static let pairs: [(StoreKind, StoreKind)] = StoreKind.allCases.flatMap { a in StoreKind.allCases.map { (a, $0) } }

  /// A history with what a copy could lose: two series, two ingests in one of them (a gap
  /// between their steps, wall-clock times on some steps), float and integer rows, and three
  /// snapshots, the last based on the first.
  static func history() throws -> any EPBStore {
    let store = try SQLiteStore.inMemory()
    var first = denseBatch(steps: 3, layers: 2, experts: 4) { t, l, e in Double(t * 100 + l * 10 + e) }
    let times: [Double?] = [1_700_000_000.25, nil, 1_700_000_002.5]
    first.rows = first.rows.map { LoadRow(step: $0.step, layer: $0.layer, time: times[$0.step]) }
    _ = try store.ingest(first, series: "decode", source: source("a.npy"), replace: false)
    var second = denseBatch(steps: 2, layers: 2, experts: 4) { t, l, e in Double(e) * 0.5 + Double(t + l) / 3 }
    second.rows = second.rows.map { LoadRow(step: $0.step + 7, layer: $0.layer) }
    second.stepsAreRelative = false
    _ = try store.ingest(second, series: "decode", source: source("b.npy"), replace: false)
    _ = try store.ingest(
      denseBatch(steps: 1, layers: 1, experts: 3) { _, _, e in Double(e + 1) }, series: "prefill",
      source: source("c.npy"), replace: false)
    let base = try store.saveSnapshot(snapshot(series: "decode", seed: 1, base: nil))
    _ = try store.saveSnapshot(snapshot(series: "prefill", seed: 2, base: nil))
    _ = try store.saveSnapshot(snapshot(series: "decode", seed: 0, base: base))
    return store
  }

  static func snapshot(series: String, seed: Int, base: Int64?) -> Snapshot {
    let topology = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)
    let placement = LayerPlacement(physicalToLogical: [0, 1, 2, seed % 3], experts: 3)
    let stats = LayerStatistics(
      evaluation: LayerEvaluation(gpuLoad: [3, 4.5], peak: 4.5, mean: 3.75), noReplicationPeak: 6, lowerBound: 3.75)
    let plan = Plan(
      topology: topology, policy: .global, algorithm: .eplbDivisor,
      layers: [PlannedLayer(layer: 0, placement: placement, statistics: stats)], skippedLayers: [])
    return Snapshot(
      series: series, createdAt: "2026-01-02T03:04:0\(seed)Z", algorithmName: "eplb-divisor", plan: plan,
      windowFrom: 0, windowTo: 2, windowSteps: 3, halfLife: seed == 0 ? 12.5 : nil, baseSnapshotID: base,
      toolVersion: "test", parameters: "{\"seed\":\(seed)}")
  }

  /// Everything a user can read about one series, ids replaced by their order.
  struct View: Equatable {
    var info: SeriesInfo
    var loads: [Double]
    var layers: [Int]
    var steps: [Int]
    var stepSums: [Double]
    /// Read through `storedSeries`: no other read returns a step's wall-clock time.
    var times: [Double?]
    var snapshots: [Snapshot]

    init(_ store: any EPBStore, series name: String) throws {
      info = try store.series(named: name)
      info.id = 0  // the destination's own
      let window = try store.windowLoad(series: name, window: WindowSpec())
      (loads, layers) = (window.loads.values, window.layers)
      var steps: [Int] = []
      var sums: [Double] = []
      try store.forEachStep(series: name, from: info.firstStep ?? 0, to: info.lastStep ?? 0) { step, loads in
        steps.append(step)
        sums.append(loads.values.reduce(0, +))
      }
      (self.steps, stepSums) = (steps, sums)
      times = try store.storedSeries(named: name).steps.map(\.time)
      let summaries = try store.snapshots(series: name)
      let order = Dictionary(uniqueKeysWithValues: summaries.enumerated().map { ($1.id, Int64($0)) })
      snapshots = try summaries.map { summary in
        var s = try store.snapshot(id: summary.id)
        s.id = order[summary.id]
        s.baseSnapshotID = s.baseSnapshotID.map { order[$0] ?? -1 }
        return s
      }
    }
  }

  @Test(arguments: pairs)
  func aWholeHistoryCopiesBetweenAnyTwoStores(from: StoreKind, to: StoreKind) throws {
    let original = try Self.history()
    let middle = try from.make()
    _ = try HistoryCopy.run(from: original, to: middle, series: nil)
    let destination = try to.make()
    let report = try HistoryCopy.run(from: middle, to: destination, series: nil)
    #expect(report.series.map(\.series).sorted() == ["decode", "prefill"])
    let decode = report.series.first { $0.series == "decode" }
    #expect(decode?.ingests == 2 && decode?.steps == 5 && decode?.rows == 10 && decode?.snapshots == 2)
    for name in ["decode", "prefill"] {
      let want = try View(original, series: name)
      let got = try View(destination, series: name)
      #expect(got == want, "series \(name)")
    }
    let decodeView = try View(destination, series: "decode")
    #expect(decodeView.steps == [0, 1, 2, 7, 8])
    #expect(decodeView.times == [1_700_000_000.25, nil, 1_700_000_002.5, nil, nil])
    #expect(decodeView.snapshots.map(\.baseSnapshotID) == [nil, 0])
    // The ingest log came along: the same file is recognised as already ingested.
    let again = try destination.ingest(
      denseBatch(steps: 1, layers: 2, experts: 4) { _, _, _ in 9 }, series: "decode", source: source("a.npy"),
      replace: false)
    #expect(again.status == .alreadyIngested)
  }

  /// One named series; the other stays behind.
  @Test(arguments: StoreKind.allCases)
  func oneSeriesCopiesAlone(kind: StoreKind) throws {
    let original = try Self.history()
    let destination = try kind.make()
    let report = try HistoryCopy.run(from: original, to: destination, series: ["prefill"])
    #expect(report.series.map(\.series) == ["prefill"])
    #expect(try destination.series().map(\.name) == ["prefill"])
    #expect(try View(destination, series: "prefill") == View(original, series: "prefill"))
  }

  /// A destination that has one of the series already is left as it was, and nothing of the
  /// other series arrives either.
  @Test(arguments: StoreKind.allCases)
  func anExistingSeriesRefusesTheWholeCopy(kind: StoreKind) throws {
    let original = try Self.history()
    let destination = try kind.make()
    _ = try destination.ingest(
      denseBatch(steps: 2, layers: 1, experts: 2) { _, _, e in Double(e) }, series: "prefill", source: source("x"),
      replace: false)
    let before = try View(destination, series: "prefill")
    #expect {
      _ = try HistoryCopy.run(from: original, to: destination, series: nil)
    } throws: { error in
      guard case StoreError.seriesExists(let name, _) = error else { return false }
      return name == "prefill" && "\(error)".contains("nothing was copied")
    }
    #expect(try destination.series().map(\.name) == ["prefill"])
    #expect(try View(destination, series: "prefill") == before)
    #expect(try destination.snapshots(series: nil).isEmpty)
  }

  @Test func anUnknownSeriesIsNamed() throws {
    let original = try Self.history()
    let destination = try SQLiteStore.inMemory()
    #expect {
      _ = try HistoryCopy.run(from: original, to: destination, series: ["verify"])
    } throws: { error in
      "\(error)".contains("verify")
    }
    #expect(try destination.series().isEmpty)
  }

  /// The fingerprint sees a change in any one value of the content, and not the ids.
  @Test func theFingerprintSeesContentNotIds() throws {
    let original = try Self.history()
    let stored = try original.storedSeries(named: "decode")
    var renumbered = stored
    renumbered.ingests = stored.ingests.map {
      var i = $0; i.id += 100; return i
    }
    renumbered.rows = stored.rows.map {
      var r = $0; r.ingest += 100; return r
    }
    renumbered.snapshots = stored.snapshots.map { s in
      var s = s
      s.id = s.id.map { $0 + 50 }
      s.baseSnapshotID = s.baseSnapshotID.map { $0 + 50 }
      return s
    }
    #expect(renumbered.fingerprint == stored.fingerprint)
    var changed = stored
    changed.rows[3].blob[changed.rows[3].blob.count - 1] ^= 1
    #expect(changed.fingerprint.digest != stored.fingerprint.digest)
    changed = stored
    changed.steps[1].time = 5
    #expect(changed.fingerprint.digest != stored.fingerprint.digest)
    changed = stored
    changed.snapshots[1].baseSnapshotID = nil
    #expect(changed.fingerprint.digest != stored.fingerprint.digest)
  }
}
