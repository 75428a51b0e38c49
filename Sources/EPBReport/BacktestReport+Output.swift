import EPBPlanner

extension BacktestReport {
  /// The contract's JSON: `{"configs": [{"algorithm", "window", "half_life", "points",
  /// "realized_balancedness_mean", "realized_balancedness_min", "slots_changed_mean", …extras}],
  /// "recommendation", "limits", "parameters"}`.
  ///
  /// Extras per configuration, after the contract's keys: `realized_balancedness_p10`,
  /// `step_balancedness_mean`, `peak_to_lower_bound_mean`, `planned_balancedness_mean`, `rank`,
  /// and `timeline` (one object per plan) when `includeTimeline`. Statistics of a configuration
  /// without points, and `slots_changed_mean` with fewer than two plans, are `null`.
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
    ]
    out.append(("parameters", .object(parameterMembers)))
    return .object(out)
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
    ])
  }

  /// A plain-text table, best configuration first, then the limits and the recommendation.
  public func table() -> String {
    let ranks = self.ranks
    func f(_ x: Double?, _ digits: Int = 4) -> String { x.map { TextFormat.fixed($0, digits) } ?? "-" }
    let header = [
      "rank", "algorithm", "window", "half-life", "plans", "realized", "p10", "worst", "per-step", "peak/LB",
      "in-sample", "slots changed",
    ]
    let rows = ranking.map { c -> [String] in
      let s = summaries[c]
      return [
        String(ranks[c]), s.config.algorithm.rawValue, s.config.window.map(String.init) ?? "all",
        s.config.halfLife.map(BacktestConfig.number) ?? "-", String(s.points.count), f(s.realizedMean),
        f(s.realizedP10), f(s.realizedMin), f(s.stepBalancednessMean), f(s.peakToLowerBoundMean), f(s.plannedMean),
        f(s.slotsChangedMean, 1),
      ]
    }
    var out = TextFormat.table(header: header, rows: rows)
    out += "\n"
    var pairs: [(String, String)] = [
      ("plans", "every \(plural(parameters.every, "step")) after \(parameters.effectiveWarmup), each evaluated on the next "
        + "\(parameters.horizon)"),
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
    out += TextFormat.keyValues(pairs)
    if let (_, text) = recommendation { out += "\n" + text + "\n" }
    return out
  }
}
