import EPBBacktest
import EPBPlanner

extension BacktestReport {
  /// With a `ReplanCost`: one sentence on whether the recommended configuration's re-plans pay,
  /// with the `--min-gain` and `--every` that follow from them (`ReplanEconomics`).
  public var replanAdvice: String? {
    guard let (config, _) = recommendation, let c = summaries.firstIndex(where: { $0.config == config }),
      let cost = parameters.replanCost, let e = summaries[c].economics(cost, horizon: parameters.horizon)
    else { return nil }
    let f = { (x: Double) in TextFormat.fixed(x, 1) }
    var text =
      "Re-plans of \(config.label) "
      + (e.netMsMean > 0 ? "pay" : "do not pay") + ": \(f(e.savedMsMean)) ms saved over each horizon against "
      + "\(f(e.transferMsMean)) ms of transfers, net \(f(e.netMsMean)) ms (\(TextFormat.fixed(100 * e.payingShare, 0))% "
      + "of \(e.replans) re-plans pay). Plan with --min-gain \(TextFormat.fixed(e.breakEvenGainPercent, 2))"
    if let every = e.recommendedEvery {
      text +=
        " and --every \(max(every, 1)) or more (the mean peak reduction, \(TextFormat.fixed(100 * e.peakReductionMean, 2))%, "
        + "repays the transfers after \(plural(every, "step")))."
    } else {
      text += "; re-plans do not lower the peak on average: keep the placement (do not re-plan on this schedule)."
    }
    return text
  }

  /// Differences in mean realized balancedness below this are called a tie in the recommendation.
  public static var tieMargin: Double { 0.002 }

  /// The best configuration and one sentence on why; when the runner-up is within `tieMargin`
  /// and changes fewer slots per re-plan, the sentence says so.
  public var recommendation: (config: BacktestConfig, text: String)? {
    let order = ranking
    guard let first = order.first, let bestMean = summaries[first].realizedMean else { return nil }
    let best = summaries[first]
    var text =
      "Plan with \(best.config.label): realized balancedness \(TextFormat.fixed(bestMean, 4)) on average "
      + "(p10 \(TextFormat.fixed(best.realizedP10 ?? 0, 4)), worst \(TextFormat.fixed(best.realizedMin ?? 0, 4))) "
      + "over \(best.points.count) plan(s)"
    if let slots = best.slotsChangedMean { text += ", \(TextFormat.fixed(slots, 1)) slots changed per re-plan" }
    text += "."
    if order.count > 1, let secondMean = summaries[order[1]].realizedMean {
      let second = summaries[order[1]]
      let gap = bestMean - secondMean
      if gap < Self.tieMargin, let s1 = best.slotsChangedMean, let s2 = second.slotsChangedMean, s2 < s1 {
        text +=
          " \(second.config.label) is within \(TextFormat.fixed(gap, 4)) and changes fewer slots "
          + "(\(TextFormat.fixed(s2, 1)) per re-plan); prefer it if moving experts is costly."
      } else {
        text += " Next best: \(second.config.label), \(TextFormat.fixed(gap, 4)) lower."
      }
    }
    if let limits = limitsMean, policy == .hierarchical, let cap = limits.hierarchicalCap {
      text +=
        " Whole groups on nodes cap balancedness at \(TextFormat.fixed(cap, 4)) on these horizons "
        + "(global policy bound \(TextFormat.fixed(limits.globalBound, 4)))."
    }
    return (best.config, text)
  }
}
