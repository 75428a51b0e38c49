import EPBPlanner
import GRDB

// The rows the store's cold paths read (listings, snapshots), decoded by column name with
// GRDB's `FetchableRecord`. The hot loops (ingest, windows) read columns by position with
// prepared statements, where decoding by name would cost per row.

/// A `series` row with its step index (`SELECT … AS steps, first_step, last_step`) and, when
/// asked for, `total_load`.
struct SeriesRow: FetchableRecord, Decodable {
  var id: Int64
  var name: String
  var layers: Int
  var experts: Int
  var steps: Int
  var firstStep: Int?
  var lastStep: Int?
  var totalLoad: Double?

  enum CodingKeys: String, CodingKey {
    case id, name, layers, experts, steps
    case firstStep = "first_step"
    case lastStep = "last_step"
    case totalLoad = "total_load"
  }

  func info(layerIDs: [Int]) -> SeriesInfo {
    SeriesInfo(
      id: id, name: name, layers: layers, layerIDs: layerIDs, experts: experts, steps: steps, firstStep: firstStep,
      lastStep: lastStep, totalLoad: totalLoad)
  }
}

/// A `snapshot` row with its series' name (`s.name AS series_name`).
struct SnapshotRow: FetchableRecord, Decodable {
  var id: Int64
  var seriesName: String
  var createdAt: String
  var algorithm: String
  var policy: String
  var replicas: Int
  var gpus: Int
  var nodes: Int
  var groups: Int
  var windowFrom: Int
  var windowTo: Int
  var windowSteps: Int
  var halfLife: Double?
  var baseSnapshotID: Int64?
  var toolVersion: String
  var parameters: String

  enum CodingKeys: String, CodingKey {
    case id, algorithm, policy, replicas, gpus, nodes, groups, parameters
    case seriesName = "series_name"
    case createdAt = "created_at"
    case windowFrom = "window_from"
    case windowTo = "window_to"
    case windowSteps = "window_steps"
    case halfLife = "half_life"
    case baseSnapshotID = "base_snapshot_id"
    case toolVersion = "tool_version"
  }

  /// The columns, for `SELECT \(SnapshotRow.columns) FROM snapshot p JOIN series s …`.
  static let columns = """
    p.id, s.name AS series_name, p.created_at, p.algorithm, p.policy, p.replicas, p.gpus, p.nodes, p.groups,
    p.window_from, p.window_to, p.window_steps, p.half_life, p.base_snapshot_id, p.tool_version, p.parameters
    """

  var topology: Topology { Topology(replicas: replicas, gpus: gpus, nodes: nodes, groups: groups) }
  /// The stored policy; a value this epbctl does not write reads as global.
  var resolvedPolicy: PlacementPolicy { PlacementPolicy(rawValue: policy) ?? .global }
}

/// A `snapshot_layer` row; the vectors are the JSON array text the store writes.
struct SnapshotLayerRow: FetchableRecord, Decodable {
  var layer: Int
  var phy2log: String
  var logcnt: String
  var gpuLoad: String
  var peak: Double
  var mean: Double
  var noReplicationPeak: Double
  var lowerBound: Double

  enum CodingKeys: String, CodingKey {
    case layer, phy2log, logcnt, peak, mean
    case gpuLoad = "gpu_load"
    case noReplicationPeak = "no_replication_peak"
    case lowerBound = "lower_bound"
  }
}

/// A line of `snapshots`: a `SnapshotRow` with `planned_layers` and `balancedness_weighted`.
struct SnapshotSummaryRow: FetchableRecord, Decodable {
  var snapshot: SnapshotRow
  var plannedLayers: Int
  var balancednessWeighted: Double?

  enum CodingKeys: String, CodingKey {
    case plannedLayers = "planned_layers"
    case balancednessWeighted = "balancedness_weighted"
  }

  init(from decoder: any Decoder) throws {
    snapshot = try SnapshotRow(from: decoder)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    plannedLayers = try c.decode(Int.self, forKey: .plannedLayers)
    balancednessWeighted = try c.decodeIfPresent(Double.self, forKey: .balancednessWeighted)
  }
}
