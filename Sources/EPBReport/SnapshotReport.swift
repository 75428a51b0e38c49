import EPBEngines
import EPBPlanner
import EPBStore

/// How `epbctl show` and `epbctl plan` print a `Snapshot` (stored, or a dry run): its table,
/// JSON and HTML, with what the rendering adds (the request to print, the hierarchical cap).
public struct SnapshotReport: Sendable, Equatable {
  /// What is rendered.
  public var snapshot: Snapshot
  /// The planning parameters to print under `parameters` (`plan` prints its request); nil
  /// prints none (`show`).
  public var parameters: JSONValue?
  /// Under the hierarchical policy, layer id → `M* / gpusPerNode`: the peak any placement that
  /// keeps whole expert groups on nodes must reach (`PolicyLimits`); empty when unknown (global
  /// policy, or the window's loads are no longer stored). See `addGroupBounds(loads:layerIDs:)`.
  public var groupBounds: [Int: Double] = [:]

  /// The report of `snapshot`, printing `parameters` when given.
  public init(_ snapshot: Snapshot, parameters: JSONValue? = nil) {
    self.snapshot = snapshot
    self.parameters = parameters
  }

  /// A report of a snapshot made of these parts (the tests' and the samples' way to build one).
  public init(
    id: Int64?, series: String, algorithm: PlacementAlgorithm, policy: PlacementPolicy, window: StepWindow,
    halfLife: Double? = nil, createdAt: String, toolVersion: String, parameters: JSONValue? = nil, topology: Topology,
    layers: [PlannedLayer], skippedLayers: [Int]
  ) {
    self.init(
      Snapshot(
        id: id, series: series, createdAt: createdAt,
        plan: Plan(
          topology: topology, policy: policy, algorithm: algorithm, layers: layers, skippedLayers: skippedLayers),
        windowFrom: window.from, windowTo: window.to, windowSteps: window.to - window.from + 1, halfLife: halfLife,
        toolVersion: toolVersion),
      parameters: parameters)
  }

  /// The snapshot id; nil for a `plan --dry-run` that was not stored (printed as `null`).
  public var id: Int64? { snapshot.id }
  public var series: String { snapshot.series }
  /// The algorithm whose statistics the layers carry.
  public var algorithm: PlacementAlgorithm { snapshot.plan.algorithm }
  /// The name printed for the algorithm: as stored (`imported` for a placement recorded from a
  /// running engine, `seed` for a snapshot stored under that name).
  public var algorithmLabel: String { snapshot.algorithmName }
  /// The resolved policy (hierarchical or global).
  public var policy: PlacementPolicy { snapshot.policy }
  /// The steps whose load the plan was made on.
  public var window: StepWindow { StepWindow(from: snapshot.windowFrom, to: snapshot.windowTo) }
  /// The `--half-life` in steps, nil when steps were not decayed.
  public var halfLife: Double? { snapshot.halfLife }
  /// When the snapshot was made (ISO 8601 UTC).
  public var createdAt: String { snapshot.createdAt }
  /// The epbctl version that planned it.
  public var toolVersion: String { snapshot.toolVersion }
  public var topology: Topology { snapshot.topology }
  /// Planned layers, printed in this order (the planner gives increasing layer ids).
  public var layers: [PlannedLayer] { snapshot.layers }
  /// Layers whose window load was all zero.
  public var skippedLayers: [Int] { snapshot.skippedLayers }
  /// What `plan --distinct-per-gpu` changed (`Plan.distinctRepairs`); nil for a plan without the
  /// flag and for a stored snapshot read back (the store keeps the placement, not the repairs).
  public var distinctRepairs: [DistinctPerGPU.Repair]? { snapshot.plan.distinctRepairs }

  /// Slots of layer `l` that repeat an expert already on their GPU (`DistinctPerGPU.duplicateSlots`).
  public func duplicateSlots(_ l: PlannedLayer) -> Int {
    DistinctPerGPU.duplicateSlots(l.placement.physicalToLogical, slotsPerGPU: topology.slotsPerGPU)
  }

  /// Σ `duplicateSlots` over the planned layers.
  public var duplicateSlots: Int { layers.reduce(0) { $0 + duplicateSlots($1) } }

  /// The cost of `--distinct-per-gpu` over all planned layers: Σ peak without the constraint
  /// (each repaired layer's `peakBefore`, the others' peak) and with it (the layers' peaks);
  /// nil without the flag.
  public var distinctCost: (peakWithout: Double, peakWith: Double, meanSum: Double)? {
    guard let repairs = distinctRepairs else { return nil }
    var before: [Int: Double] = [:]
    for r in repairs { before[r.layer] = r.peakBefore }
    var without = 0.0, with = 0.0, mean = 0.0
    for l in layers {
      let peak = l.statistics.evaluation.peak
      with += peak
      without += before[l.layer] ?? peak
      mean += l.statistics.evaluation.mean
    }
    return (without, with, mean)
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
  /// `tool_version` and `parameters` (only when set). Loads are tokens over the window. Each layer
  /// and the summary also have `duplicate_slots` (slots repeating an expert on their GPU); a plan
  /// made with `--distinct-per-gpu` adds `distinct_per_gpu`: `{"layers_repaired", "swaps",
  /// "peak_sum_without", "peak_sum_with", "peak_cost", "balancedness_weighted_without",
  /// "layers": [{"layer", "duplicate_slots", "swaps", "peak_without", "peak_with"}]}` where
  /// `peak_cost` = (Σ peak with − Σ peak without) / Σ peak without.
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
          ("duplicate_slots", .int(duplicateSlots)),
        ])
      ),
      ("policy", .string(policy.rawValue)),
      ("half_life", halfLife.map(JSONValue.number) ?? .null),
      ("created_at", .string(createdAt)),
      ("tool_version", .string(toolVersion)),
    ]
    if let parameters { members.append(("parameters", parameters)) }
    if let repairs = distinctRepairs, let cost = distinctCost {
      members.append(
        (
          "distinct_per_gpu",
          .object([
            ("layers_repaired", .int(repairs.count)),
            ("swaps", .int(repairs.reduce(0) { $0 + $1.swaps })),
            ("peak_sum_without", .number(cost.peakWithout)),
            ("peak_sum_with", .number(cost.peakWith)),
            ("peak_cost", .number(cost.peakWithout > 0 ? (cost.peakWith - cost.peakWithout) / cost.peakWithout : 0)),
            ("balancedness_weighted_without", .number(cost.peakWithout > 0 ? cost.meanSum / cost.peakWithout : 1)),
            (
              "layers",
              .array(
                repairs.map { r in
                  .object([
                    ("layer", .int(r.layer)), ("duplicate_slots", .int(r.duplicateSlots)), ("swaps", .int(r.swaps)),
                    ("peak_without", .number(r.peakBefore)), ("peak_with", .number(r.peakAfter)),
                  ])
                })
            ),
          ])
        ))
    }
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
      ("duplicate_slots", .int(duplicateSlots(l))),
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
      (
        "topology",
        "\(plural(t.replicas, "replica")) on \(plural(t.gpus, "GPU")), \(plural(t.nodes, "node")), \(plural(t.groups, "group"))"
      ),
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
    ] + policyBoundLine() + distinctLines()
  }

  /// `N slots repeat an expert on its GPU` (with the layers and the flag when N > 0), and with
  /// `--distinct-per-gpu` what the constraint cost in peak.
  func distinctLines() -> [(String, String)] {
    let n = duplicateSlots
    var text = "\(plural(n, "slot")) \(n == 1 ? "repeats" : "repeat") an expert on its GPU"
    if n > 0 {
      let count = layers.filter { duplicateSlots($0) > 0 }.count
      text += " in \(plural(count, "layer")) (vLLM-Ascend refuses this; plan with --distinct-per-gpu)"
    }
    var lines = [("repeats on one GPU", text)]
    if let repairs = distinctRepairs, let cost = distinctCost {
      let pct = cost.peakWithout > 0 ? (cost.peakWith - cost.peakWithout) / cost.peakWithout : 0
      let swaps = repairs.reduce(0) { $0 + $1.swaps }
      let sign = pct >= 0 ? "+" : ""
      let balancedness = cost.peakWithout > 0 ? cost.meanSum / cost.peakWithout : 1
      lines.append(
        (
          "distinct per GPU",
          "\(plural(repairs.count, "layer")) repaired by \(plural(swaps, "swap")); Σ peak "
            + "\(TextFormat.load(cost.peakWith)) against \(TextFormat.load(cost.peakWithout)) without "
            + "(\(sign)\(TextFormat.percent(pct, 2))), weighted balancedness \(TextFormat.fixed(balancedness, 4)) without"
        ))
    }
    return lines
  }

  /// Σ mean / Σ binding bound (`binding(_:)`) when the hierarchical cap is known, as one line.
  func policyBoundLine() -> [(String, String)] {
    if groupBounds.isEmpty { return [] }
    let mean = layers.reduce(0.0) { $0 + $1.statistics.evaluation.mean }
    let bound = layers.reduce(0.0) { $0 + binding($1).bound }
    return [("groups-on-nodes weighted", TextFormat.fixed(bound > 0 ? mean / bound : 1, 4))]
  }
}
