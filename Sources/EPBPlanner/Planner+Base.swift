/// How a new plan should take the placement that is serving now (the base) into account.
public struct MoveOptions: Sendable, Equatable {
  /// `--max-moves K`: start from the base and apply at most K replica moves per layer.
  public var maxMoves: Int?
  /// `--min-gain P`: keep the base for layers whose peak drops by less than P percent.
  public var minGainPercent: Double?
  /// Relabel each new layer against the base (GPU and slot permutations that keep every GPU's
  /// load) so that it moves as few expert weights as possible.
  public var relabel: Bool
  /// Prices of a move by source class, for relabelling.
  public var weights: MoveCost

  public init(maxMoves: Int? = nil, minGainPercent: Double? = nil, relabel: Bool = true, weights: MoveCost = .bandwidth)
  {
    self.maxMoves = maxMoves
    self.minGainPercent = minGainPercent
    self.relabel = relabel
    self.weights = weights
  }
}

/// What migration-aware planning did to one layer.
public struct LayerMoves: Sendable, Equatable {
  public enum Decision: String, Sendable {
    /// The full plan, relabelled against the base.
    case replanned
    /// `--min-gain`: the full plan's gain was too small, the base stays.
    case keptBase = "kept-base"
    /// `--max-moves`: the base with at most K replica moves.
    case incremental
    /// No base for this layer: the full plan as is.
    case noBase = "no-base"
  }

  public var layer: Int
  public var decision: Decision
  /// Weight moves versus the base of the full plan as the planner produced it (nil without base).
  public var movesUnrelabelled: MoveCounts?
  /// Weight moves versus the base of the placement kept in the snapshot (nil without base).
  public var moves: MoveCounts?
  /// Peak of the base placement and of the full plan on the window's load (nil without base).
  public var basePeak: Double?
  public var fullPlanPeak: Double?
  /// The peak of the placement kept in the snapshot, on the window's load.
  public var peak: Double
  /// With `--max-moves`: the replica moves applied, and the share of the full plan's peak
  /// reduction they reach (nil when the full plan does not lower the peak).
  public var replicaMoves: Int?
  public var fractionOfFullReduction: Double?
}

extension Planner {
  /// Plans `loads` as `plan(_:layerIDs:topology:policy:algorithm:scenarios:base:distinctPerGPU:)`
  /// does and, against a base, moves from it with `applyBase` (relabelled, kept or incremental as
  /// `options` say). With `distinctPerGPU` the repair runs again after the base is applied: a
  /// kept base or incremental moves can repeat an expert on a GPU (relabelling cannot: it keeps
  /// each GPU's experts).
  ///
  /// - parameter base: layer id → serving placement (same topology); nil plans from scratch and
  ///   returns no moves. Algorithms that start from a placement (`usesBase`) also plan from it.
  /// - throws: `TopologyError` for a topology that does not fit, `RelabelError` when a base
  ///   placement does not fit the topology.
  public static func plan(
    _ loads: LoadMatrix, layerIDs: [Int], topology: Topology, policy: PlacementPolicy,
    algorithm: PlacementAlgorithm, scenarios: [LoadMatrix] = [], base: [Int: LayerPlacement]?,
    options: MoveOptions, distinctPerGPU: Bool = false, threads: Int = 1
  ) throws -> (plan: Plan, layers: [LayerMoves]) {
    var plan = try plan(
      loads, layerIDs: layerIDs, topology: topology, policy: policy, algorithm: algorithm, scenarios: scenarios,
      base: algorithm.usesBase ? (base ?? [:]) : [:], distinctPerGPU: distinctPerGPU, threads: threads)
    guard let base else { return (plan, []) }
    let layers: [LayerMoves]
    (plan, layers) = try applyBase(plan, loads: loads, layerIDs: layerIDs, base: base, options: options)
    if distinctPerGPU { plan = try enforceDistinctPerGPU(plan, loads: loads, layerIDs: layerIDs) }
    return (plan, layers)
  }

  /// Applies a base placement to a fresh plan, layer by layer: `--max-moves` (incremental from the
  /// base), else `--min-gain` (keep the base when the gain is small), then relabelling of every
  /// new placement against the base. Layers without a base placement are left as planned.
  ///
  /// Per-GPU loads of a relabelled layer are the planned ones permuted (the peak is unchanged);
  /// the statistics of a kept or incremental layer are re-evaluated on the same load.
  ///
  /// - parameter plan: the fresh plan of `loads` (rows aligned with `layerIDs`).
  /// - parameter base: the serving placement of each layer id, same topology.
  /// - throws: `RelabelError` when a base placement does not fit the topology.
  public static func applyBase(
    _ plan: Plan, loads: LoadMatrix, layerIDs: [Int], base: [Int: LayerPlacement], options: MoveOptions
  ) throws(RelabelError) -> (plan: Plan, layers: [LayerMoves]) {
    var rowOf: [Int: Int] = [:]
    for (row, layer) in layerIDs.enumerated() { rowOf[layer] = row }
    let topology = plan.topology
    var result = plan
    var layers: [LayerMoves] = []
    for (i, planned) in plan.layers.enumerated() {
      guard let basePlacement = base[planned.layer], let row = rowOf[planned.layer] else {
        layers.append(
          LayerMoves(
            layer: planned.layer, decision: .noBase, peak: planned.statistics.evaluation.peak))
        continue
      }
      let load = loads.row(row)
      let full = planned.placement
      let fullPeak = planned.statistics.evaluation.peak
      let basePeak = Planner.evaluate(basePlacement, load: load, topology: topology).peak
      let unrelabelled = Relabel.moves(from: basePlacement, to: full, topology: topology)
      var kept = planned
      var decision = LayerMoves.Decision.replanned
      var replicaMoves: Int?
      var fraction: Double?
      if let k = options.maxMoves {
        let step = Incremental.plan(
          base: basePlacement, load: load, topology: topology, policy: plan.policy, maxMoves: k)
        kept.placement = step.placement
        kept.statistics.evaluation = step.after
        decision = .incremental
        replicaMoves = step.moves.count
        fraction = step.fractionOfFullReduction(fullPlanPeak: fullPeak)
      } else if let p = options.minGainPercent,
        Incremental.minGain(base: basePlacement, new: full, load: load, topology: topology, minGainPercent: p).keepBase
      {
        kept.placement = basePlacement
        kept.statistics.evaluation = Planner.evaluate(basePlacement, load: load, topology: topology)
        decision = .keptBase
      } else if options.relabel {
        let relabelled = try Relabel.minimizeMoves(
          full, base: basePlacement, topology: topology, policy: plan.policy, weights: options.weights)
        kept.placement = relabelled.placement
        kept.statistics = relabelled.apply(to: planned.statistics)
      }
      result.layers[i] = kept
      layers.append(
        LayerMoves(
          layer: planned.layer, decision: decision, movesUnrelabelled: unrelabelled,
          moves: Relabel.moves(from: basePlacement, to: kept.placement, topology: topology), basePeak: basePeak,
          fullPlanPeak: fullPeak, peak: kept.statistics.evaluation.peak, replicaMoves: replicaMoves,
          fractionOfFullReduction: fraction))
    }
    return (result, layers)
  }
}

extension Planner {
  /// The name stored for a placement that was recorded from a running engine, not planned.
  public static let importedAlgorithmName = "imported"

  /// A `Plan` for given placements (e.g. the one an engine is running), with the statistics of
  /// each on its row of `loads`; rows whose load is all zero are skipped, as `plan` does.
  ///
  /// - parameter placements: the placement of each layer id; layers of `layerIDs` without one are skipped.
  /// - parameter baseline: the algorithm whose packing gives the no-replication baseline.
  /// - throws: `TopologyError` when the topology cannot hold `loads.experts` experts.
  public static func describe(
    _ placements: [Int: LayerPlacement], loads: LoadMatrix, layerIDs: [Int], topology: Topology,
    policy: PlacementPolicy, baseline: PlacementAlgorithm = .deepseek
  ) throws(TopologyError) -> Plan {
    try topology.validate(experts: loads.experts, policy: policy)
    let resolved = topology.resolve(policy)
    var planned: [PlannedLayer] = []
    var skipped: [Int] = []
    for (row, layer) in layerIDs.enumerated() {
      let load = loads.row(row)
      guard let placement = placements[layer], !load.allSatisfy({ $0 == 0 }) else {
        skipped.append(layer)
        continue
      }
      let stats = statistics(of: placement, load: load, topology: topology, policy: resolved, algorithm: baseline)
      planned.append(PlannedLayer(layer: layer, placement: placement, statistics: stats))
    }
    return Plan(topology: topology, policy: resolved, algorithm: baseline, layers: planned, skippedLayers: skipped)
  }
}
