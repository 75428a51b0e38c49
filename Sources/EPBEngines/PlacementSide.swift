import EPBPlanner

/// An inclusive range of step numbers, `from...to`, as stored with a snapshot or given by `--from/--to`.
public struct StepWindow: Sendable, Hashable, Codable {
  /// The first step, inclusive.
  public var from: Int
  /// The last step, inclusive.
  public var to: Int

  public init(from: Int, to: Int) {
    self.from = from
    self.to = to
  }

  /// `{"from": F, "to": T}`.
  public var json: JSONValue { .object([("from", .int(from)), ("to", .int(to))]) }
}

/// One side of a diff: the placement of several layers stored in one snapshot.
///
/// `placements[i]` is the placement of series layer `layers[i]`; each has `phy2log [topology.replicas]`
/// and `logcnt [experts]`.
public struct PlacementSide: Sendable, Equatable {
  /// The snapshot id.
  public var id: Int64
  /// How messages name this side, e.g. `snapshot 3`.
  public var label: String
  public var topology: Topology
  /// The policy the snapshot was planned with (`.auto` is resolved with `topology.resolve`).
  public var policy: PlacementPolicy
  public var algorithm: PlacementAlgorithm
  /// The name printed for the algorithm (`imported` for a placement recorded from an engine).
  public var algorithmLabel: String
  /// Series layer ids of the planned layers, `[n]`, in any order, without repeats.
  public var layers: [Int]
  /// `[n]`, aligned with `layers`.
  public var placements: [LayerPlacement]

  /// Creates a side; `label` defaults to `snapshot <id>`.
  public init(
    id: Int64, label: String? = nil, topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm,
    layers: [Int], placements: [LayerPlacement]
  ) {
    self.id = id
    self.label = label ?? "snapshot \(id)"
    self.topology = topology
    self.policy = policy
    self.algorithm = algorithm
    self.algorithmLabel = algorithm.rawValue
    self.layers = layers
    self.placements = placements
  }

  /// The placement of series layer `layer`, or nil when this side did not plan it.
  public func placement(ofLayer layer: Int) -> LayerPlacement? {
    layers.firstIndex(of: layer).map { placements[$0] }
  }
}
