import EPBPlanner
import Foundation

/// One placement of several layers with its provenance: what `plan` computes and stores, what
/// `ingest --placement` records from a running engine, and what `show`, `diff`, `export` and
/// `plan --base` read back. The one snapshot type of the library: the store saves and reads it,
/// the reports render it (`SnapshotReport`, `PlacementSide`).
public struct Snapshot: Sendable, Equatable {
  /// nil until the snapshot is saved (`EPBStore.saveSnapshot` returns the id), and for a
  /// `plan --dry-run`.
  public var id: Int64?
  public var series: String
  /// When it was planned, ISO 8601 UTC; the store keeps it as given.
  public var createdAt: String
  /// The algorithm's name as stored and printed: a `PlacementAlgorithm` name (or an alias such
  /// as `seed`, for snapshots stored under it), or `imported` (`Planner.importedAlgorithmName`)
  /// for a placement recorded from an engine. `plan.algorithm` is the algorithm whose
  /// statistics the layers carry (deepseek's no-replication baseline for an imported one).
  public var algorithmName: String
  /// The placement: topology, resolved policy, planned layers in increasing layer id with their
  /// statistics on the snapshot's window, the skipped (all-zero) layers, and, for a plan made
  /// with `--distinct-per-gpu`, its repairs (not stored: nil when read back).
  public var plan: Plan
  /// The window the plan was made on: first and last step (inclusive), stored steps inside.
  public var windowFrom: Int
  public var windowTo: Int
  public var windowSteps: Int
  /// The `--half-life` in steps, nil when steps were not decayed.
  public var halfLife: Double?
  /// The snapshot the plan was relabelled against (`plan --base`), if any.
  public var baseSnapshotID: Int64?
  /// The epbctl version that made it.
  public var toolVersion: String
  /// JSON object text: the request that produced it (`PlanParameters`, or the engine file's
  /// provenance for an imported placement).
  public var parameters: String

  /// A snapshot of `plan`, not saved yet (`id` nil), named after `plan.algorithm` unless
  /// `algorithmName` is given, created now unless `createdAt` is.
  public init(
    id: Int64? = nil, series: String, createdAt: String? = nil, algorithmName: String? = nil, plan: Plan,
    windowFrom: Int, windowTo: Int, windowSteps: Int, halfLife: Double? = nil, baseSnapshotID: Int64? = nil,
    toolVersion: String, parameters: String = "{}"
  ) {
    self.id = id
    self.series = series
    self.createdAt = createdAt ?? Date().formatted(.iso8601)
    self.algorithmName = algorithmName ?? plan.algorithm.rawValue
    self.plan = plan
    self.windowFrom = windowFrom
    self.windowTo = windowTo
    self.windowSteps = windowSteps
    self.halfLife = halfLife
    self.baseSnapshotID = baseSnapshotID
    self.toolVersion = toolVersion
    self.parameters = parameters
  }

  public var topology: Topology { plan.topology }
  /// The resolved policy, `hierarchical` or `global`.
  public var policy: PlacementPolicy { plan.policy }
  /// Planned layers, in increasing layer order.
  public var layers: [PlannedLayer] { plan.layers }
  public var skippedLayers: [Int] { plan.skippedLayers }

  /// The algorithm whose statistics a stored name stands for: its `PlacementAlgorithm` (aliases
  /// accepted), deepseek's for `imported`; nil for a name this epbctl does not know.
  public static func algorithm(named name: String) -> PlacementAlgorithm? {
    name == Planner.importedAlgorithmName ? .deepseek : PlacementAlgorithm(name: name)
  }
}
