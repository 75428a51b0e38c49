import EPBEngines
import EPBPlanner
import EPBStore
import Foundation

/// The request behind a plan, stored with its snapshot as `parameters` (`show --json`).
///
/// Keys in this order, optional ones only when given: `series`, `layer`, `algorithm`, `policy`,
/// `replicas`, `gpus`, `nodes`, `groups`, `window`, `from`, `to`, `half_life`, `base`,
/// `max_moves`, `min_gain`, `distinct_per_gpu`.
public struct PlanParameters: Sendable, Equatable {
  public var series: String
  /// The `--layer` selection as given (`all`, `3,5,10-12`).
  public var layer: String
  public var algorithm: PlacementAlgorithm
  /// The policy asked for (`auto` stays `auto` here; the snapshot keeps the resolved one).
  public var policy: PlacementPolicy
  public var topology: Topology
  public var window: WindowSpec
  public var base: Int64?
  public var maxMoves: Int?
  public var minGain: Double?
  public var distinctPerGPU: Bool

  public init(
    series: String, layer: String, algorithm: PlacementAlgorithm, policy: PlacementPolicy, topology: Topology,
    window: WindowSpec, base: Int64? = nil, maxMoves: Int? = nil, minGain: Double? = nil,
    distinctPerGPU: Bool = false
  ) {
    self.series = series
    self.layer = layer
    self.algorithm = algorithm
    self.policy = policy
    self.topology = topology
    self.window = window
    self.base = base
    self.maxMoves = maxMoves
    self.minGain = minGain
    self.distinctPerGPU = distinctPerGPU
  }

  public var json: JSONValue {
    var members: [(String, JSONValue)] = [
      ("series", .string(series)), ("layer", .string(layer)),
      ("algorithm", .string(algorithm.rawValue)), ("policy", .string(policy.rawValue)),
      ("replicas", .int(topology.replicas)), ("gpus", .int(topology.gpus)), ("nodes", .int(topology.nodes)),
      ("groups", .int(topology.groups)),
    ]
    if let w = window.last { members.append(("window", .int(w))) }
    if let f = window.from { members.append(("from", .int(f))) }
    if let t = window.to { members.append(("to", .int(t))) }
    if let h = window.halfLife { members.append(("half_life", .number(h))) }
    if let base { members.append(("base", .int(Int(base)))) }
    if let maxMoves { members.append(("max_moves", .int(maxMoves))) }
    if let minGain { members.append(("min_gain", .number(minGain))) }
    if distinctPerGPU { members.append(("distinct_per_gpu", .bool(true))) }
    return .object(members)
  }
}

/// What planning against a base moves, for people and scripts (`plan --json`'s `migration`).
public struct MoveSummary: Sendable {
  /// The base snapshot's id.
  public var base: Int64
  /// One per planned layer, in the plan's layer order.
  public var layers: [LayerMoves]

  public init(base: Int64, layers: [LayerMoves]) {
    self.base = base
    self.layers = layers
  }

  private func total(_ counts: (LayerMoves) -> MoveCounts?) -> MoveCounts {
    layers.compactMap(counts).reduce(MoveCounts(), +)
  }

  private func layerIDs(_ decision: LayerMoves.Decision) -> [Int] {
    layers.filter { $0.decision == decision }.map(\.layer)
  }

  /// `{"base", "moves": {"same_gpu", "same_node", "cross_node", "total"},
  /// "moves_without_relabelling": {…}, "replanned_layers", "kept_base_layers",
  /// "incremental_layers", "layers_without_base", "replica_moves",
  /// "fraction_of_full_reduction_mean"}`.
  public var json: JSONValue {
    func counts(_ c: MoveCounts) -> JSONValue {
      .object([
        ("same_gpu", .int(c.sameGPU)), ("same_node", .int(c.sameNode)), ("cross_node", .int(c.crossNode)),
        ("total", .int(c.total)),
      ])
    }
    let fractions = layers.compactMap(\.fractionOfFullReduction)
    return .object([
      ("base", .int(Int(base))),
      ("moves", counts(total(\.moves))),
      ("moves_without_relabelling", counts(total(\.movesUnrelabelled))),
      ("replanned_layers", .ints(layerIDs(.replanned))),
      ("kept_base_layers", .ints(layerIDs(.keptBase))),
      ("incremental_layers", .ints(layerIDs(.incremental))),
      ("layers_without_base", .ints(layerIDs(.noBase))),
      ("replica_moves", .int(layers.compactMap(\.replicaMoves).reduce(0, +))),
      (
        "fraction_of_full_reduction_mean",
        fractions.isEmpty ? .null : .number(fractions.reduce(0, +) / Double(fractions.count))
      ),
    ])
  }

  /// The weights to move (by distance, with and without relabelling), the layers that kept
  /// the base, and what incremental moves reached.
  public var text: String {
    let moves = total(\.moves), raw = total(\.movesUnrelabelled)
    var lines = [
      "base: snapshot \(base); weights to move: \(moves.total) (\(moves.sameGPU) same GPU, \(moves.sameNode) same node, "
        + "\(moves.crossNode) cross node); without relabelling: \(raw.total) (\(raw.crossNode) cross node)"
    ]
    let kept = layerIDs(.keptBase)
    if !kept.isEmpty {
      lines.append("kept the base (gain below --min-gain) for layers: \(kept.map(String.init).joined(separator: ","))")
    }
    let incremental = layers.filter { $0.decision == .incremental }
    if !incremental.isEmpty {
      let fractions = incremental.compactMap(\.fractionOfFullReduction)
      let mean =
        fractions.isEmpty ? "n/a" : String(format: "%.1f%%", 100 * fractions.reduce(0, +) / Double(fractions.count))
      lines.append(
        "incremental: \(plural(incremental.compactMap(\.replicaMoves).reduce(0, +), "replica move")) over \(plural(incremental.count, "layer")) "
          + "reach on average \(mean) of the full plan's peak reduction")
    }
    return lines.joined(separator: "\n")
  }
}

extension SnapshotReport {
  /// Planned layers whose peak on the snapshot's window is above the no-replication placement's
  /// (EPLB's greedy packing can be; `robust` never is), in the report's layer order.
  public var aboveNoReplicationLayers: [Int] {
    layers.filter { $0.statistics.evaluation.peak > $0.statistics.noReplicationPeak * (1 + 1e-12) }.map(\.layer)
  }

  /// The stderr note naming `aboveNoReplicationLayers`, nil when there is none.
  public var aboveNoReplicationNote: String? {
    let above = aboveNoReplicationLayers
    if above.isEmpty { return nil }
    return
      "note: \(plural(above.count, "layer")) (\(above.map(String.init).joined(separator: ","))) "
      + "peak above the no-replication placement on this window with \(algorithm.rawValue); "
      + "--algorithm robust never does"
  }

  /// `plan --json`: the snapshot's JSON (`json()`), then `migration` (the moves from the base,
  /// when there was one), then `above_no_replication_layers`.
  public func planJSON(moves: MoveSummary?) -> JSONValue {
    var out = json()
    if case .object(var members) = out {
      if let moves { members.append(("migration", moves.json)) }
      members.append(("above_no_replication_layers", .ints(aboveNoReplicationLayers)))
      out = .object(members)
    }
    return out
  }

  /// `plan`'s text: the snapshot's table, the moves from the base, and
  /// `planned N layers on steps A to B (S steps) in T ms; stored as snapshot ID` (or not stored).
  public func planText(moves: MoveSummary?, steps: Int, milliseconds: Double) -> String {
    var parts = [table()]
    if let moves { parts.append(moves.text) }
    let stored = id.map { "stored as snapshot \($0)" } ?? "not stored (--dry-run)"
    parts.append(
      "planned \(plural(layers.count, "layer")) on steps \(window.from) to \(window.to) (\(plural(steps, "step"))) "
        + "in \(String(format: "%.3f", milliseconds)) ms; \(stored)")
    return parts.joined(separator: "\n")
  }
}

extension PlacementSide {
  /// The side of a stored snapshot (`id` 0 for one not saved).
  public init(_ snapshot: Snapshot) {
    self.init(
      id: snapshot.id ?? 0, topology: snapshot.topology, policy: snapshot.policy, algorithm: snapshot.plan.algorithm,
      layers: snapshot.layers.map(\.layer), placements: snapshot.layers.map(\.placement))
    algorithmLabel = snapshot.algorithmName
  }
}
