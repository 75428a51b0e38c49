import EPBPlanner

/// A stored (or dry-run) plan with its provenance, as `epbctl show` and `epbctl plan` print it.
public struct SnapshotReport: Sendable, Equatable {
  /// The snapshot id; nil for a `plan --dry-run` that was not stored (printed as `null`).
  public var id: Int64?
  public var series: String
  public var algorithm: PlacementAlgorithm
  /// The name printed for the algorithm: `algorithm`'s, or `imported` for a placement recorded
  /// from a running engine (whose statistics use `algorithm` only for the no-replication baseline).
  public var algorithmLabel: String
  /// The resolved policy (hierarchical or global).
  public var policy: PlacementPolicy
  /// The steps whose load the plan was made on.
  public var window: StepWindow
  /// The `--half-life` in steps, nil when steps were not decayed.
  public var halfLife: Double?
  /// When the snapshot was stored, as the store keeps it (ISO 8601 UTC).
  public var createdAt: String
  /// The epbctl version that planned it.
  public var toolVersion: String
  /// Any further planning parameters (e.g. `{"base": 3}`), printed under `parameters` when not nil.
  public var parameters: JSONValue?
  public var topology: Topology
  /// Planned layers, printed in this order (the planner gives increasing layer ids).
  public var layers: [PlannedLayer]
  /// Layers whose window load was all zero.
  public var skippedLayers: [Int]
  /// Under the hierarchical policy, layer id → `M* / gpusPerNode`: the peak any placement that
  /// keeps whole expert groups on nodes must reach (`PolicyLimits`); empty when unknown (global
  /// policy, or the window's loads are no longer stored). See `addGroupBounds(loads:layerIDs:)`.
  public var groupBounds: [Int: Double] = [:]

  public init(
    id: Int64?, series: String, algorithm: PlacementAlgorithm, policy: PlacementPolicy, window: StepWindow,
    halfLife: Double? = nil, createdAt: String, toolVersion: String, parameters: JSONValue? = nil, topology: Topology,
    layers: [PlannedLayer], skippedLayers: [Int]
  ) {
    self.id = id
    self.series = series
    self.algorithm = algorithm
    self.algorithmLabel = algorithm.rawValue
    self.policy = policy
    self.window = window
    self.halfLife = halfLife
    self.createdAt = createdAt
    self.toolVersion = toolVersion
    self.parameters = parameters
    self.topology = topology
    self.layers = layers
    self.skippedLayers = skippedLayers
  }

  /// A report of a freshly computed `Plan`.
  public init(
    id: Int64?, series: String, plan: Plan, window: StepWindow, halfLife: Double? = nil, createdAt: String,
    toolVersion: String, parameters: JSONValue? = nil
  ) {
    self.init(
      id: id, series: series, algorithm: plan.algorithm, policy: plan.policy, window: window, halfLife: halfLife,
      createdAt: createdAt, toolVersion: toolVersion, parameters: parameters, topology: plan.topology,
      layers: plan.layers, skippedLayers: plan.skippedLayers)
  }

  /// Fills `groupBounds` from the window's loads (`[layerIDs.count][experts]`, row i = layer
  /// `layerIDs[i]`) when the policy is hierarchical and whole groups fit on nodes; otherwise
  /// leaves it empty.
  public mutating func addGroupBounds(loads: LoadMatrix, layerIDs: [Int]) {
    guard policy == .hierarchical, PolicyLimits.hierarchicalFeasible(experts: loads.experts, topology: topology) else {
      return
    }
    let planned = Set(layers.map(\.layer))
    let gpusPerNode = Double(topology.gpus / topology.nodes)
    for (row, layer) in layerIDs.enumerated() where planned.contains(layer) {
      let groupLoad = PolicyLimits.groupLoads(loads.row(row), groups: topology.groups)
      groupBounds[layer] = PolicyLimits.minMaxNodeLoad(groupLoad, nodes: topology.nodes).optimal / gpusPerNode
    }
  }

  /// Which bound binds a layer's peak from below, and its value: `groups on nodes` (the
  /// hierarchical cap, when known and above the others), `replica load` (t*, the largest load
  /// per replica no placement avoids) or `mean`; ties go to the earlier in that order.
  public func binding(_ l: PlannedLayer) -> (bound: Double, name: String) {
    let st = l.statistics
    if let cap = groupBounds[l.layer], cap > st.lowerBound { return (cap, "groups on nodes") }
    return (st.lowerBound, st.lowerBound > st.evaluation.mean ? "replica load" : "mean")
  }

  /// Model-level balancedness over `layers` (`PlanSummary`).
  public var summary: PlanSummary { PlanSummary(layers: layers) }

  /// The planned layer with the lowest balancedness (lowest layer id on ties), nil without layers.
  public var worstBalancedLayer: Int? {
    layers.min { a, b in
      let x = a.statistics.evaluation.balancedness, y = b.statistics.evaluation.balancedness
      return x < y || (x == y && a.layer < b.layer)
    }?.layer
  }

  /// The `show --json` document. Contract keys first:
  /// `{"id", "series", "algorithm", "window": {"from", "to"}, "replicas", "gpus", "nodes", "groups",
  /// "layers": [{"layer", "phy2log" [R], "logcnt" [E], "gpu_load" [G], "peak", "mean", "balancedness",
  /// "no_replication_peak", "lower_bound", "imbalance", "gap_to_lower_bound"}], "skipped_layers",
  /// "summary": {"balancedness_mean", "balancedness_weighted", "no_replication_balancedness_weighted",
  /// "lower_bound_balancedness_weighted"}}`, then `policy`, `half_life` (null when none), `created_at`,
  /// `tool_version` and `parameters` (only when set). Loads are tokens over the window.
  public func json() -> JSONValue {
    let s = summary
    var members: [(String, JSONValue)] = [
      ("id", id.map { .int(Int($0)) } ?? .null),
      ("series", .string(series)),
      ("algorithm", .string(algorithmLabel)),
      ("window", window.json),
      ("replicas", .int(topology.replicas)),
      ("gpus", .int(topology.gpus)),
      ("nodes", .int(topology.nodes)),
      ("groups", .int(topology.groups)),
      ("layers", .array(layers.map(layerJSON))),
      ("skipped_layers", .ints(skippedLayers)),
      (
        "summary",
        .object([
          ("balancedness_mean", .number(s.balancednessMean)),
          ("balancedness_weighted", .number(s.balancednessWeighted)),
          ("no_replication_balancedness_weighted", .number(s.noReplicationBalancednessWeighted)),
          ("lower_bound_balancedness_weighted", .number(s.lowerBoundBalancednessWeighted)),
        ])
      ),
      ("policy", .string(policy.rawValue)),
      ("half_life", halfLife.map(JSONValue.number) ?? .null),
      ("created_at", .string(createdAt)),
      ("tool_version", .string(toolVersion)),
    ]
    if let parameters { members.append(("parameters", parameters)) }
    return .object(members)
  }

  /// One layer; `lower_bound` stays max(mean, t*) as stored, `policy_lower_bound` adds the
  /// hierarchical cap (null when unknown) and `binding_bound` names the bound that binds.
  func layerJSON(_ l: PlannedLayer) -> JSONValue {
    let st = l.statistics
    let ev = st.evaluation
    let binding = binding(l)
    return .object([
      ("layer", .int(l.layer)),
      ("phy2log", .ints(l.placement.physicalToLogical)),
      ("logcnt", .ints(l.placement.logicalCount)),
      ("gpu_load", .numbers(ev.gpuLoad)),
      ("peak", .number(ev.peak)),
      ("mean", .number(ev.mean)),
      ("balancedness", .number(ev.balancedness)),
      ("no_replication_peak", .number(st.noReplicationPeak)),
      ("lower_bound", .number(st.lowerBound)),
      ("imbalance", .number(ev.imbalance)),
      ("gap_to_lower_bound", .number(st.gapToLowerBound)),
      ("policy_lower_bound", groupBounds[l.layer] == nil ? .null : .number(binding.bound)),
      ("binding_bound", .string(binding.name)),
    ])
  }

  /// The columns of the per-layer table, shared by `table()` and `html()`.
  /// `lower bound` is the largest known bound (the hierarchical cap when known), `binds` names it
  /// (see `binding(_:)`), `gap` is the peak over it.
  static let layerHeader = [
    "layer", "peak", "mean", "balancedness", "imbalance", "no-rep peak", "lower bound", "binds", "gap",
  ]

  /// One row of `layerHeader` cells per planned layer.
  func layerRows() -> [[String]] {
    layers.map { l in
      let st = l.statistics
      let ev = st.evaluation
      let (bound, binds) = binding(l)
      return [
        String(l.layer), TextFormat.load(ev.peak), TextFormat.load(ev.mean), TextFormat.fixed(ev.balancedness, 4),
        TextFormat.percent(ev.imbalance), TextFormat.load(st.noReplicationPeak), TextFormat.load(bound), binds,
        TextFormat.percent(bound > 0 ? (ev.peak - bound) / bound : 0),
      ]
    }
  }

  /// A table for people: a header block, one line per layer, then the model summary.
  ///
  ///     layer  peak  mean  balancedness  imbalance  no-rep peak  lower bound  binds  gap
  public func table() -> String {
    var out = TextFormat.keyValues(headerLines())
    out += "\n"
    out += TextFormat.table(header: Self.layerHeader, rows: layerRows())
    out += "\n"
    out += TextFormat.keyValues(summaryLines())
    return out
  }

  /// Provenance as `(label, value)` pairs, shared by the table and the HTML page.
  func headerLines() -> [(String, String)] {
    let t = topology
    var pairs: [(String, String)] = [
      ("snapshot", id.map { String($0) } ?? "(not stored)"),
      ("series", series),
      ("algorithm", "\(algorithmLabel), \(policy.rawValue) policy"),
      (
        "window",
        "steps \(window.from) to \(window.to)" + (halfLife.map { ", half-life \(TextFormat.fixed($0, 1))" } ?? "")
      ),
      ("topology", "\(plural(t.replicas, "replica")) on \(plural(t.gpus, "GPU")), \(plural(t.nodes, "node")), \(plural(t.groups, "group"))"),
      ("created", "\(createdAt) by epbctl \(toolVersion)"),
    ]
    if !skippedLayers.isEmpty {
      pairs.append(("skipped (no load)", skippedLayers.map(String.init).joined(separator: ", ")))
    }
    return pairs
  }

  /// The model summary as `(label, value)` pairs.
  func summaryLines() -> [(String, String)] {
    let s = summary
    return [
      ("layers planned", String(layers.count)),
      ("mean balancedness", TextFormat.fixed(s.balancednessMean, 4)),
      ("weighted balancedness", TextFormat.fixed(s.balancednessWeighted, 4)),
      ("no-replication weighted", TextFormat.fixed(s.noReplicationBalancednessWeighted, 4)),
      ("lower-bound weighted", TextFormat.fixed(s.lowerBoundBalancednessWeighted, 4)),
    ] + policyBoundLine()
  }

  /// Σ mean / Σ binding bound (`binding(_:)`) when the hierarchical cap is known, as one line.
  func policyBoundLine() -> [(String, String)] {
    if groupBounds.isEmpty { return [] }
    let mean = layers.reduce(0.0) { $0 + $1.statistics.evaluation.mean }
    let bound = layers.reduce(0.0) { $0 + binding($1).bound }
    return [("groups-on-nodes weighted", TextFormat.fixed(bound > 0 ? mean / bound : 1, 4))]
  }
}
