import EPBBacktest
import EPBEngines
import EPBPlanner

extension BacktestReport {
  /// The contract's JSON: `{"configs": [{"algorithm", "window", "half_life", "points",
  /// "realized_balancedness_mean", "realized_balancedness_min", "slots_changed_mean", …extras}],
  /// "recommendation", "limits", "parameters"}`.
  ///
  /// Extras per configuration, after the contract's keys: `realized_balancedness_p10`,
  /// `step_balancedness_mean`, `peak_to_lower_bound_mean`, `planned_balancedness_mean`, `rank`,
  /// `oracle_balancedness_mean`, `oracle_gap_closed` (see `oracleGapClosed`),
  /// `slots_changed_before_relabel_mean`, `transfers_mean`, `bottleneck_receives_mean`, `replan`
  /// (with a `ReplanCost`: `ReplanEconomics` as an object, else `null`), and `timeline` (one object
  /// per plan) when `includeTimeline`. Statistics of a configuration without points, and the
  /// per-re-plan ones with fewer than two plans, are `null`; `slots_changed_mean` counts after
  /// relabelling.
  public func json(includeTimeline: Bool = true) -> JSONValue {
    let ranks = self.ranks
    func number(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }
    var configs: [JSONValue] = []
    for (c, s) in summaries.enumerated() {
      var members: [(String, JSONValue)] = [
        ("algorithm", .string(s.config.algorithm.rawValue)),
        ("window", s.config.window.map { .int($0) } ?? .null),
        ("half_life", number(s.config.halfLife)),
        ("points", .int(s.points.count)),
        ("realized_balancedness_mean", number(s.realizedMean)),
        ("realized_balancedness_min", number(s.realizedMin)),
        ("slots_changed_mean", number(s.slotsChangedMean)),
        ("realized_balancedness_p10", number(s.realizedP10)),
        ("step_balancedness_mean", number(s.stepBalancednessMean)),
        ("peak_to_lower_bound_mean", number(s.peakToLowerBoundMean)),
        ("planned_balancedness_mean", number(s.plannedMean)),
        ("rank", .int(ranks[c])),
        ("oracle_balancedness_mean", number(s.oracleMean)),
        ("oracle_gap_closed", number(oracleGapClosed(c))),
        ("slots_changed_before_relabel_mean", number(s.slotsChangedBeforeRelabelMean)),
        ("transfers_mean", number(s.transfersMean)),
        ("bottleneck_receives_mean", number(s.bottleneckReceivesMean)),
        ("replan", economics(c).map(Self.economicsJSON) ?? .null),
      ]
      if includeTimeline {
        members.append(("timeline", .array(s.points.map(Self.pointJSON))))
      }
      configs.append(.object(members))
    }
    var out: [(String, JSONValue)] = [("configs", .array(configs))]
    if let (config, text) = recommendation {
      out.append(
        (
          "recommendation",
          .object([
            ("algorithm", .string(config.algorithm.rawValue)), ("window", config.window.map { .int($0) } ?? .null),
            ("half_life", number(config.halfLife)), ("text", .string(text)),
          ])
        ))
    } else {
      out.append(("recommendation", .null))
    }
    let limits = limitsMean
    out.append(
      (
        "limits",
        .object([
          ("policy", .string(policy.rawValue)),
          ("lower_bound_balancedness_mean", number(lowerBoundBalancednessMean)),
          ("global_bound_mean", number(limits?.globalBound)),
          ("hierarchical_cap_mean", number(limits?.hierarchicalCap)),
          ("eplb_packing_cap_mean", number(limits?.eplbPackingCap)),
          ("group_packing", limits.map { .string($0.exact ? "exact" : "best-found") } ?? .null),
        ])
      ))
    let p = parameters
    var parameterMembers: [(String, JSONValue)] = []
    if let series { parameterMembers.append(("series", .string(series))) }
    parameterMembers += [
      ("every", .int(p.every)), ("horizon", .int(p.horizon)), ("warmup", .int(p.effectiveWarmup)),
      ("replicas", .int(p.topology.replicas)), ("gpus", .int(p.topology.gpus)), ("nodes", .int(p.topology.nodes)),
      ("groups", .int(p.topology.groups)), ("policy", .string(policy.rawValue)), ("layers", .int(layerIDs.count)),
      ("oracle", .bool(p.oracle)), ("distinct_per_gpu", .bool(p.distinctPerGPU)),
    ]
    if let cost = p.replanCost {
      parameterMembers += [
        ("expert_bytes", .int(cost.expertBytes)), ("link_gbps", .number(cost.linkGbps)),
        ("step_ms", .number(cost.stepMs)),
      ]
    }
    out.append(("parameters", .object(parameterMembers)))
    return .object(out)
  }

  /// `summaries[c].economics` under the parameters' cost; nil without one or without re-plans.
  public func economics(_ c: Int) -> ReplanEconomics? {
    parameters.replanCost.flatMap { summaries[c].economics($0, horizon: parameters.horizon) }
  }

  static func economicsJSON(_ e: ReplanEconomics) -> JSONValue {
    .object([
      ("replans", .int(e.replans)), ("peak_reduction_mean", .number(e.peakReductionMean)),
      ("saved_ms_mean", .number(e.savedMsMean)), ("transfer_ms_mean", .number(e.transferMsMean)),
      ("net_ms_mean", .number(e.netMsMean)), ("paying_share", .number(e.payingShare)),
      ("recommended_min_gain", .number(e.breakEvenGainPercent)),
      ("recommended_every", e.recommendedEvery.map { .int($0) } ?? .null),
    ])
  }

  static func pointJSON(_ p: BacktestPoint) -> JSONValue {
    .object([
      ("plan", .int(p.plan)), ("step", .int(p.step)),
      ("window", .object([("from", .int(p.windowFrom)), ("to", .int(p.windowTo)), ("steps", .int(p.windowSteps))])),
      ("horizon", .object([("from", .int(p.horizonFrom)), ("to", .int(p.horizonTo))])),
      ("planned_balancedness", .number(p.plannedBalancedness)),
      ("realized_balancedness", .number(p.realizedBalancedness)),
      ("step_balancedness_mean", .number(p.stepBalancednessMean)),
      ("peak_to_lower_bound", .number(p.peakToLowerBound)),
      ("lower_bound_balancedness", .number(p.lowerBoundBalancedness)),
      ("slots_changed", p.slotsChanged.map { .int($0) } ?? .null),
      ("slots_changed_before_relabel", p.slotsChangedBeforeRelabel.map { .int($0) } ?? .null),
      ("transfers", p.transfers.map { .int($0) } ?? .null),
      ("bottleneck_receives", p.bottleneckReceives.map { .int($0) } ?? .null),
      ("replan_peak_ratio", p.replanPeakRatio.map(JSONValue.number) ?? .null),
      ("oracle_balancedness", p.oracleBalancedness.map(JSONValue.number) ?? .null),
    ])
  }

  /// `backtest of series 'S': N steps (A to B), L layers, C configurations × P plans`: what
  /// the replay covered (`steps` stored steps from `from` to `to`).
  public func heading(steps: Int, from: Int, to: Int, layers: Int) -> String {
    let plans = summaries.first?.points.count ?? 0
    return
      "backtest of series '\(series ?? "")': \(plural(steps, "step")) (\(from) to \(to)), \(plural(layers, "layer")), "
      + "\(plural(summaries.count, "configuration")) × \(plural(plans, "plan"))"
  }

  /// A plain-text table, best configuration first, then the limits and the recommendation.
  public func table() -> String {
    let ranks = self.ranks
    func f(_ x: Double?, _ digits: Int = 4) -> String { x.map { TextFormat.fixed($0, digits) } ?? "-" }
    let header =
      [
        "rank", "algorithm", "window", "half-life", "plans", "realized", "p10", "worst", "per-step", "peak/LB",
        "in-sample", "oracle", "gap closed", "slots changed",
      ] + (parameters.replanCost == nil ? [] : ["net ms", "pays"])
    let rows = ranking.map { c -> [String] in
      let s = summaries[c]
      var row = [
        String(ranks[c]), s.config.algorithm.rawValue, s.config.window.map(String.init) ?? "all",
        s.config.halfLife.map(BacktestConfig.number) ?? "-", String(s.points.count), f(s.realizedMean),
        f(s.realizedP10), f(s.realizedMin), f(s.stepBalancednessMean), f(s.peakToLowerBoundMean), f(s.plannedMean),
        f(s.oracleMean), f(oracleGapClosed(c), 3), f(s.slotsChangedMean, 1),
      ]
      if parameters.replanCost != nil {
        let e = economics(c)
        row += [f(e?.netMsMean, 1), e.map { TextFormat.fixed(100 * $0.payingShare, 0) + "%" } ?? "-"]
      }
      return row
    }
    var out = TextFormat.table(header: header, rows: rows)
    out += "\n"
    var pairs: [(String, String)] = [
      (
        "plans",
        "every \(plural(parameters.every, "step")) after \(parameters.effectiveWarmup), each evaluated on the next "
          + "\(parameters.horizon)"
      ),
      ("best possible", f(lowerBoundBalancednessMean) + " (Σ mean / Σ lower bound on the horizons)"),
    ]
    if let limits = limitsMean {
      pairs.append(("global policy bound", f(limits.globalBound)))
      if let cap = limits.hierarchicalCap {
        let how = limits.exact ? "optimal group packing" : "best group packing found"
        pairs.append(("hierarchical cap", f(cap) + " (whole groups on nodes, \(how))"))
      }
      if let cap = limits.eplbPackingCap {
        pairs.append(("EPLB packing cap", f(cap) + " (EPLB's greedy group packing)"))
      }
    }
    if let cost = parameters.replanCost {
      pairs.append(
        (
          "re-plan cost",
          "\(cost.expertBytes) B per expert at \(BacktestConfig.number(cost.linkGbps)) Gb/s per GPU, "
            + "\(BacktestConfig.number(cost.stepMs)) ms per step (the GPU receiving most bounds each transfer)"
        ))
    }
    out += TextFormat.keyValues(pairs)
    if let (_, text) = recommendation { out += "\n" + text + "\n" }
    if let text = replanAdvice { out += text + "\n" }
    return out
  }
}
