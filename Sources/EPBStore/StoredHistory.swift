import Foundation

/// One series' whole stored history, as `epbctl copy` moves it between stores: the series, its
/// ingest log, its steps, its load rows in the store's own encoding (copied, never re-encoded),
/// and its snapshots.
///
/// Ids (`ingest.id`, snapshot ids) are the source store's; the destination assigns its own and
/// maps the references (`StoredRow.ingest`, `Snapshot.baseSnapshotID`) onto them.
public struct StoredSeries: Sendable, Equatable {
  public var name: String
  public var layerIDs: [Int]
  public var experts: Int
  public var createdAt: String
  /// By id, increasing.
  public var ingests: [StoredIngest]
  /// By step, increasing.
  public var steps: [StoredStep]
  /// By (step, layer), increasing.
  public var rows: [StoredRow]
  /// By id, increasing.
  public var snapshots: [Snapshot]

  package init(
    name: String, layerIDs: [Int], experts: Int, createdAt: String, ingests: [StoredIngest] = [],
    steps: [StoredStep] = [], rows: [StoredRow] = [], snapshots: [Snapshot] = []
  ) {
    (self.name, self.layerIDs, self.experts, self.createdAt) = (name, layerIDs, experts, createdAt)
    (self.ingests, self.steps, self.rows, self.snapshots) = (ingests, steps, rows, snapshots)
  }
}

/// One `ingest` record.
public struct StoredIngest: Sendable, Equatable {
  public var id: Int64
  public var source: String
  public var contentSHA256: String
  public var format: String
  public var steps: Int
  public var rows: Int
  public var firstStep: Int?
  public var lastStep: Int?
  public var totalLoad: Double
  public var ingestedAt: String

  package init(
    id: Int64, source: String, contentSHA256: String, format: String, steps: Int, rows: Int, firstStep: Int?,
    lastStep: Int?, totalLoad: Double, ingestedAt: String
  ) {
    (self.id, self.source, self.contentSHA256, self.format) = (id, source, contentSHA256, format)
    (self.steps, self.rows, self.firstStep, self.lastStep) = (steps, rows, firstStep, lastStep)
    (self.totalLoad, self.ingestedAt) = (totalLoad, ingestedAt)
  }
}

/// One `step`: its wall-clock time (seconds since 1970, UTC) and its rows' XOR hash.
public struct StoredStep: Sendable, Equatable {
  public var step: Int
  public var time: Double?
  public var loadsHash: Int64?

  package init(step: Int, time: Double?, loadsHash: Int64?) {
    (self.step, self.time, self.loadsHash) = (step, time, loadsHash)
  }
}

/// One load row: `blob` in `LoadCodec`'s `encoding`, written by the ingest `ingest`.
public struct StoredRow: Sendable, Equatable {
  public var step: Int
  public var layer: Int
  public var total: Double
  public var ingest: Int64
  public var encoding: Int
  public var blob: [UInt8]

  package init(step: Int, layer: Int, total: Double, ingest: Int64, encoding: Int, blob: [UInt8]) {
    (self.step, self.layer, self.total, self.ingest, self.encoding, self.blob) =
      (step, layer, total, ingest, encoding, blob)
  }
}

extension StoredSeries {
  /// What must be equal on both sides of a copy, ids aside: counts and an order-sensitive
  /// 64-bit FNV-1a digest of every ingest record, step, row (its bytes) and snapshot (its
  /// placements and provenance).
  public var fingerprint: HistoryFingerprint {
    var h = FNV64()
    h.add(name)
    h.add(layerIDs.map(Int64.init))
    h.add([Int64(experts)])
    h.add(createdAt)
    var ingestIndex: [Int64: Int64] = [:]  // source id → position
    for (k, i) in ingests.enumerated() {
      ingestIndex[i.id] = Int64(k)
      h.add(i.source)
      h.add(i.contentSHA256)
      h.add(i.format)
      h.add([Int64(i.steps), Int64(i.rows), Int64(i.firstStep ?? -1), Int64(i.lastStep ?? -1)])
      h.add(i.totalLoad.bitPattern)
      h.add(i.ingestedAt)
    }
    for s in steps {
      h.add([Int64(s.step), s.loadsHash ?? 0, s.loadsHash == nil ? 0 : 1])
      h.add(s.time?.bitPattern ?? 0x7FF8_DEAD)
    }
    for r in rows {
      h.add([Int64(r.step), Int64(r.layer), Int64(r.encoding), ingestIndex[r.ingest] ?? -1])
      h.add(r.total.bitPattern)
      h.add(r.blob)
    }
    var snapshotIndex: [Int64: Int64] = [:]
    for (k, s) in snapshots.enumerated() {
      snapshotIndex[s.id ?? -1] = Int64(k)
      h.add([s.baseSnapshotID.flatMap { snapshotIndex[$0] } ?? -1])
      h.add(
        [s.createdAt, s.algorithmName, s.plan.policy.rawValue, s.toolVersion, s.parameters].joined(separator: "\u{1}"))
      let t = s.plan.topology
      h.add([t.replicas, t.gpus, t.nodes, t.groups, s.windowFrom, s.windowTo, s.windowSteps].map(Int64.init))
      h.add(s.halfLife?.bitPattern ?? 0)
      for layer in s.plan.layers {
        h.add([Int64(layer.layer)])
        h.add(layer.placement.physicalToLogical.map(Int64.init))
        h.add(layer.placement.logicalCount.map(Int64.init))
        h.add(layer.statistics.evaluation.gpuLoad.map { Int64(bitPattern: $0.bitPattern) })
        h.add(layer.statistics.evaluation.peak.bitPattern)
      }
      h.add(s.plan.skippedLayers.map(Int64.init))
    }
    return HistoryFingerprint(
      series: name, ingests: ingests.count, steps: steps.count, rows: rows.count, snapshots: snapshots.count,
      digest: h.value)
  }
}

/// Counts and content digest of one series' history (see `StoredSeries.fingerprint`).
public struct HistoryFingerprint: Sendable, Equatable, CustomStringConvertible {
  public var series: String
  public var ingests: Int
  public var steps: Int
  public var rows: Int
  public var snapshots: Int
  public var digest: UInt64

  public var description: String {
    "series '\(series)': \(ingests) ingests, \(steps) steps, \(rows) load rows, \(snapshots) snapshots, digest "
      + String(digest, radix: 16)
  }
}

/// 64-bit FNV-1a over bytes, with lengths, so that concatenations do not collide by shifting.
struct FNV64 {
  private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

  mutating func add<C: Collection>(bytes: C) where C.Element == UInt8 {
    for b in bytes {
      value ^= UInt64(b)
      value &*= 0x0000_0100_0000_01B3
    }
  }

  mutating func add(_ bytes: [UInt8]) {
    add(UInt64(bytes.count))
    add(bytes: bytes)
  }

  mutating func add(_ text: String) { add(Array(text.utf8)) }

  mutating func add(_ x: UInt64) {
    withUnsafeBytes(of: x.littleEndian) { add(bytes: $0) }
  }

  mutating func add(_ xs: [Int64]) {
    add(UInt64(xs.count))
    for x in xs { add(UInt64(bitPattern: x)) }
  }
}
