import EPBPlanner

/// A stored series: one named stream of observations with a fixed shape.
public struct SeriesInfo: Sendable, Equatable {
  public var id: Int64
  public var name: String
  /// MoE layers per step (`layerIDs.count`).
  public var layers: Int
  /// The model layer id of each stored layer, increasing (DeepSeek-V3's MoE layers: 3 to 60).
  /// Every layer argument of the store (`windowLoad(layers:)`, snapshot layers) is one of these.
  public var layerIDs: [Int]
  /// Logical experts per layer.
  public var experts: Int
  /// Distinct stored steps.
  public var steps: Int
  /// Smallest and largest stored step, nil when the series holds no step.
  public var firstStep: Int?
  public var lastStep: Int?
  /// Σ of every stored load (tokens). Summing reads every stored row, so only `series()`
  /// computes it; `series(named:)` and the series inside other results carry nil.
  public var totalLoad: Double?

  package init(
    id: Int64, name: String, layers: Int, layerIDs: [Int], experts: Int, steps: Int, firstStep: Int?, lastStep: Int?,
    totalLoad: Double?
  ) {
    (self.id, self.name, self.layers, self.layerIDs, self.experts) = (id, name, layers, layerIDs, experts)
    (self.steps, self.firstStep, self.lastStep, self.totalLoad) = (steps, firstStep, lastStep, totalLoad)
  }
}

/// Where an ingested batch came from, for provenance and idempotency.
public struct IngestSource: Sendable {
  /// The path as the user gave it, or `-` for stdin.
  public var path: String
  /// The format name (`sglang`, `load-history`, `csv`, `npy`, `jsonl`; `vllm` in databases
  /// written before `load-history` was named so).
  public var format: String
  /// Hex SHA-256 of the input bytes, known now or computed elsewhere while the rows are stored.
  package let hash: Hash

  package enum Hash: Sendable {
    case known(String)
    case pending(@Sendable () -> String)
  }

  public init(path: String, contentSHA256: String, format: String) {
    self.path = path
    self.format = format
    self.hash = .known(contentSHA256)
  }

  /// A source whose hash is still being computed (e.g. on another thread): the store writes the
  /// rows first and asks for the hash just before it commits, so hashing a large file overlaps
  /// with storing it. When the content turns out to be stored already, the transaction is
  /// rolled back and the ingest reported as `already-ingested`.
  public init(path: String, format: String, contentSHA256 pending: @escaping @Sendable () -> String) {
    self.path = path
    self.format = format
    self.hash = .pending(pending)
  }

  /// Hex SHA-256 of the input bytes (waits for a pending hash).
  public var contentSHA256: String {
    switch hash {
    case .known(let hex): return hex
    case .pending(let compute): return compute()
    }
  }
}

/// What one ingest did.
public struct IngestOutcome: Sendable, Equatable {
  public enum Status: String, Sendable {
    case ingested
    case alreadyIngested = "already-ingested"
  }
  public var status: Status
  public var series: String
  public var steps: Int
  public var layers: Int
  /// The series' model layer ids, increasing (`layers` of them).
  public var layerIDs: [Int]
  public var experts: Int
  /// Σ of the input's loads (tokens).
  public var totalLoad: Double
  /// The stored step range of this input, nil when it held no row.
  public var firstStep: Int?
  public var lastStep: Int?
  /// Rows overwritten because of `replace`.
  public var replacedRows: Int
  /// Rows of the input stored before with the same loads, so not written again (a retry).
  public var alreadyStoredRows: Int = 0
  /// Newly stored steps whose loads equal those of a step stored before (the same loads
  /// recorded again, e.g. in another format): by `step.loads_hash`.
  public var repeatsStoredSteps: Int = 0
  /// The first such step and the stored step it repeats.
  public var firstRepeat: StepRepeat? = nil

  package init(
    status: Status, series: String, steps: Int, layers: Int, layerIDs: [Int], experts: Int, totalLoad: Double,
    firstStep: Int?, lastStep: Int?, replacedRows: Int, alreadyStoredRows: Int = 0, repeatsStoredSteps: Int = 0,
    firstRepeat: StepRepeat? = nil
  ) {
    (self.status, self.series, self.steps, self.layers, self.layerIDs) = (status, series, steps, layers, layerIDs)
    (self.experts, self.totalLoad, self.firstStep, self.lastStep) = (experts, totalLoad, firstStep, lastStep)
    (self.replacedRows, self.alreadyStoredRows) = (replacedRows, alreadyStoredRows)
    (self.repeatsStoredSteps, self.firstRepeat) = (repeatsStoredSteps, firstRepeat)
  }
}

/// A newly stored step whose loads equal an earlier stored step's.
public struct StepRepeat: Sendable, Equatable {
  /// The new step.
  public var step: Int
  /// The stored step with the same loads (the smallest such).
  public var repeats: Int

  package init(step: Int, repeats: Int) {
    self.step = step
    self.repeats = repeats
  }
}

/// Which stored steps a window covers, and how they are weighted.
///
/// Without `last`, `from` and `to`: every stored step. `last` = the last W stored steps.
/// `from`/`to` = step numbers, inclusive (either may be open). `halfLife` weights step s by
/// 0.5^((t − s) / H), t being the window's last step.
public struct WindowSpec: Sendable, Equatable {
  public var last: Int?
  public var from: Int?
  public var to: Int?
  public var halfLife: Double?

  public init(last: Int? = nil, from: Int? = nil, to: Int? = nil, halfLife: Double? = nil) {
    self.last = last
    self.from = from
    self.to = to
    self.halfLife = halfLife
  }
}

extension WindowSpec {
  /// What is wrong with the window, naming its flags (`--window`, `--from`, `--to`,
  /// `--half-life`); nil when it is valid: a positive `last`, not with `from`/`to`, `from` ≤ `to`,
  /// a positive finite `halfLife`.
  public var problem: String? {
    if let last, last <= 0 { return "--window must be a positive number of steps, got \(last)" }
    if last != nil && (from != nil || to != nil) {
      return "--window cannot be combined with --from/--to; give one or the other"
    }
    if let from, let to, from > to { return "--from \(from) is after --to \(to)" }
    if let halfLife, !(halfLife > 0 && halfLife.isFinite) {
      return "--half-life must be a positive number of steps, got \(halfLife)"
    }
    return nil
  }
}

/// A window's per-expert load, summed (and optionally decayed) over its steps.
public struct WindowLoad: Sendable, Equatable {
  public var series: SeriesInfo
  /// First and last step of the window (inclusive, resolved against stored steps).
  public var from: Int
  public var to: Int
  /// Stored steps inside the window.
  public var steps: Int
  public var halfLife: Double?
  /// The model layer id of each row of `loads` (one of `series.layerIDs`).
  public var layers: [Int]
  /// `[layers.count][experts]`, tokens over the window (weighted when `halfLife` is set).
  public var loads: LoadMatrix
  /// When asked for: the window's steps summed into consecutive blocks (unweighted), oldest
  /// first, each `[layers.count][experts]`; empty otherwise.
  public var blocks: [LoadMatrix] = []
}

/// One line of `epbctl snapshots`: a stored `Snapshot`'s provenance and summary, without its
/// layers (listing reads no placement).
public struct SnapshotSummary: Sendable, Equatable {
  public var id: Int64
  public var series: String
  public var createdAt: String
  public var algorithm: String
  public var policy: PlacementPolicy
  public var topology: Topology
  public var windowFrom: Int
  public var windowTo: Int
  public var halfLife: Double?
  /// Planned layers.
  public var layers: Int
  /// Σ mean / Σ peak over the planned layers, on the snapshot's own window.
  public var balancednessWeighted: Double

  package init(
    id: Int64, series: String, createdAt: String, algorithm: String, policy: PlacementPolicy, topology: Topology,
    windowFrom: Int, windowTo: Int, halfLife: Double?, layers: Int, balancednessWeighted: Double
  ) {
    (self.id, self.series, self.createdAt, self.algorithm, self.policy) = (id, series, createdAt, algorithm, policy)
    (self.topology, self.windowFrom, self.windowTo, self.halfLife) = (topology, windowFrom, windowTo, halfLife)
    (self.layers, self.balancednessWeighted) = (layers, balancednessWeighted)
  }
}
