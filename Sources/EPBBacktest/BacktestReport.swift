import EPBPlanner

/// The points of one configuration and their statistics.
public struct BacktestSummary: Sendable, Equatable {
  public var config: BacktestConfig
  /// One per plan whose horizon completed, in step order.
  public var points: [BacktestPoint]

  public init(config: BacktestConfig, points: [BacktestPoint]) {
    self.config = config
    self.points = points
  }

  var realized: [Double] { points.map(\.realizedBalancedness) }

  /// Mean realized balancedness over the points (nil without points).
  public var realizedMean: Double? { BacktestStatistics.mean(realized) }
  /// The 10th percentile of realized balancedness (linear interpolation between order statistics,
  /// NumPy's default: position 0.1 · (n − 1) of the sorted values).
  public var realizedP10: Double? { BacktestStatistics.percentile(realized, 0.1) }
  /// The worst realized balancedness.
  public var realizedMin: Double? { realized.min() }
  /// Mean over points of the per-step mean balancedness.
  public var stepBalancednessMean: Double? { BacktestStatistics.mean(points.map(\.stepBalancednessMean)) }
  /// Mean over points of Σ peak / Σ lower bound.
  public var peakToLowerBoundMean: Double? { BacktestStatistics.mean(points.map(\.peakToLowerBound)) }
  /// Mean in-sample balancedness (on each plan's own window).
  public var plannedMean: Double? { BacktestStatistics.mean(points.map(\.plannedBalancedness)) }
  /// Mean slots changed per re-plan (points after the first); nil with fewer than two points.
  public var slotsChangedMean: Double? {
    {
      let changes: [Double] = points.compactMap { $0.slotsChanged.map(Double.init) }
      return BacktestStatistics.mean(changes)
    }()
  }
  /// Mean slots changed per re-plan before relabelling (the plans as returned).
  public var slotsChangedBeforeRelabelMean: Double? {
    BacktestStatistics.mean(points.compactMap { $0.slotsChangedBeforeRelabel.map(Double.init) })
  }
  /// Mean copies between GPUs per re-plan, after relabelling.
  public var transfersMean: Double? { BacktestStatistics.mean(points.compactMap { $0.transfers.map(Double.init) }) }
  /// Mean over re-plans of the most expert weights one GPU receives.
  public var bottleneckReceivesMean: Double? {
    BacktestStatistics.mean(points.compactMap { $0.bottleneckReceives.map(Double.init) })
  }
  /// Mean oracle balancedness (the algorithm planned on each horizon itself); nil without oracle.
  public var oracleMean: Double? { BacktestStatistics.mean(points.compactMap(\.oracleBalancedness)) }

  /// What the re-plans (points after the first) bought and cost under `cost`, see `ReplanEconomics`.
  public func economics(_ cost: ReplanCost, horizon: Int) -> ReplanEconomics? {
    var saved: [Double] = [], transfer: [Double] = [], reduction: [Double] = []
    for p in points {
      guard let ratio = p.replanPeakRatio, let receives = p.bottleneckReceives else { continue }
      saved.append(cost.savedMs(steps: horizon, peakRatio: ratio))
      transfer.append(cost.transferMs(copies: receives))
      reduction.append(1 - ratio)
    }
    guard let s = BacktestStatistics.mean(saved), let t = BacktestStatistics.mean(transfer),
      let g = BacktestStatistics.mean(reduction)
    else { return nil }
    let paying = zip(saved, transfer).filter { $0 > $1 }.count
    // Break-even: a reduction g held for K steps saves stepMs · K · g.
    let breakEvenPercent = 100 * t / (cost.stepMs * Double(horizon))
    let every: Int? = g > 0 ? max(1, Int((t / (cost.stepMs * g)).rounded(.up))) : nil
    return ReplanEconomics(
      replans: saved.count, peakReductionMean: g, savedMsMean: s, transferMsMean: t, netMsMean: s - t,
      payingShare: Double(paying) / Double(saved.count), breakEvenGainPercent: breakEvenPercent,
      recommendedEvery: every)
  }
}

/// What one configuration's re-plans bought and cost (`BacktestSummary.economics`), per re-plan.
///
/// `peakReductionMean` = mean of 1 − Σ new peak / Σ old peak on each horizon; `savedMsMean`,
/// `transferMsMean` and `netMsMean` = saved − transfer, as `ReplanCost` prices them.
/// `breakEvenGainPercent` is the peak reduction (percent) at which a re-plan's saving over one
/// horizon equals the mean transfer time: the `--min-gain` to plan with. `recommendedEvery` is
/// the fewest steps a re-plan must serve for the mean reduction to repay the mean transfer,
/// ⌈transfer / (stepMs · reduction)⌉, nil when re-plans do not lower the peak on average.
public struct ReplanEconomics: Sendable, Equatable {
  public var replans: Int
  public var peakReductionMean: Double
  public var savedMsMean: Double
  public var transferMsMean: Double
  public var netMsMean: Double
  /// Share of re-plans whose saving exceeds their transfer time.
  public var payingShare: Double
  public var breakEvenGainPercent: Double
  public var recommendedEvery: Int?
}

/// Small statistics helpers with documented definitions.
public enum BacktestStatistics {
  /// The arithmetic mean; nil for no values.
  public static func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }

  /// The `q` quantile (0...1) by linear interpolation between order statistics (NumPy's default);
  /// nil for no values.
  public static func percentile(_ xs: [Double], _ q: Double) -> Double? {
    if xs.isEmpty { return nil }
    let sorted = xs.sorted()
    let position = q * Double(sorted.count - 1)
    let lo = Int(position.rounded(.down))
    let hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
  }
}

/// The outcome of a backtest: per configuration summaries, a ranking, a recommendation, and the
/// limits the policy itself sets on the same horizons.
public struct BacktestReport: Sendable, Equatable {
  public var parameters: Backtest.Parameters
  /// The resolved policy (hierarchical or global).
  public var policy: PlacementPolicy
  public var layerIDs: [Int]
  /// One per configuration, in the order given.
  public var summaries: [BacktestSummary]
  /// `PolicyLimits` of each plan step's horizon sum, in step order.
  public var limits: [PolicyLimits]
  /// The series name, for headers (set by the caller).
  public var series: String?

  public init(
    parameters: Backtest.Parameters, policy: PlacementPolicy, layerIDs: [Int], summaries: [BacktestSummary],
    limits: [PolicyLimits], series: String? = nil
  ) {
    self.parameters = parameters
    self.policy = policy
    self.layerIDs = layerIDs
    self.summaries = summaries
    self.limits = limits
    self.series = series
  }

  /// Configuration indices, best first: by mean realized balancedness (higher first), then p10
  /// (higher first), then mean slots changed (fewer first), then the order given.
  public var ranking: [Int] {
    summaries.indices.sorted { a, b in
      let x = summaries[a], y = summaries[b]
      let mx = x.realizedMean ?? -1, my = y.realizedMean ?? -1
      if mx != my { return mx > my }
      let px = x.realizedP10 ?? -1, py = y.realizedP10 ?? -1
      if px != py { return px > py }
      let sx = x.slotsChangedMean ?? 0, sy = y.slotsChangedMean ?? 0
      if sx != sy { return sx < sy }
      return a < b
    }
  }

  /// The 1-based rank of each configuration, in the order given.
  public var ranks: [Int] {
    var out = [Int](repeating: 0, count: summaries.count)
    for (r, c) in ranking.enumerated() { out[c] = r + 1 }
    return out
  }

  /// Mean over plan steps of the best weighted balancedness any placement reaches on the horizon.
  public var lowerBoundBalancednessMean: Double? {
    BacktestStatistics.mean(summaries.first?.points.map(\.lowerBoundBalancedness) ?? [])
  }

  /// Means over plan steps of the policy limits (see `PolicyLimits`).
  public var limitsMean: PolicyLimits? {
    if limits.isEmpty { return nil }
    let hier = limits.compactMap(\.hierarchicalCap)
    let eplb = limits.compactMap(\.eplbPackingCap)
    return PolicyLimits(
      globalBound: BacktestStatistics.mean(limits.map(\.globalBound))!,
      hierarchicalCap: BacktestStatistics.mean(hier), eplbPackingCap: BacktestStatistics.mean(eplb),
      exact: limits.allSatisfy(\.exact))
  }

  /// The share of the gap between `deepseek` and `deepseek`'s oracle that configuration `c`
  /// closes: (realized_c − realized_deepseek) / (oracle_deepseek − realized_deepseek), the
  /// `deepseek` configuration being the one with `c`'s window and half-life. 1 = as good as
  /// planning on the horizon itself, 0 = no better than `deepseek`, negative = worse. nil without
  /// oracle, without such a `deepseek` configuration, or when its gap is below 10⁻⁹.
  public func oracleGapClosed(_ c: Int) -> Double? {
    let s = summaries[c]
    guard
      let d = summaries.first(where: {
        $0.config.algorithm == .deepseek && $0.config.window == s.config.window
          && $0.config.halfLife == s.config.halfLife
      }), let r = s.realizedMean, let rd = d.realizedMean, let od = d.oracleMean, od - rd > 1e-9
    else { return nil }
    return (r - rd) / (od - rd)
  }
}
