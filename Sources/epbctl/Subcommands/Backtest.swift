import ArgumentParser
import EPBBacktest
import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

/// `--half-life H` or `--half-life none` (no decay), so one run can compare both.
enum HalfLifeArgument: ExpressibleByArgument, Equatable {
  case none
  case steps(Double)

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
    if text == "none" || text == "off" {
      self = .none
    } else if let value = Double(text) {
      self = .steps(value)
    } else {
      return nil
    }
  }

  var value: Double? {
    if case .steps(let h) = self { return h }
    return nil
  }
}

extension Epbctl {
  struct Backtest: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Replay a series: plan every K steps on the window before, and score each plan on the steps after.",
      discussion: """
        Every --every K steps, each configuration plans on the window that ends at that step and \
        the plan is evaluated on the next --horizon H stored steps: the realized balancedness \
        (Σ mean / Σ peak over layers) of the horizon's summed load, the mean of each step's \
        balancedness, the peak over the lower bound any placement has, the oracle (the same \
        algorithm planned on the horizon itself; --no-oracle skips it) and the slots that \
        changed since the previous plan of the same configuration, after relabelling the plan \
        against it as plan --base does. With --expert-bytes, --link-gbps and --step-ms each \
        re-plan's saved MoE time (proportional to the peak) is weighed against the time its \
        weights take to reach the GPU that receives the most, and --every and --min-gain are \
        recommended from the net gain. Configurations are the cross product \
        of every --window, --half-life and --algorithm given. A --half-life without --window \
        decays over every stored step so far; --half-life none adds the undecayed window. The \
        first plan comes after --warmup steps (default: the largest window, else --every), so \
        all configurations plan at the same steps. The summary ranks configurations by mean \
        realized balancedness (then p10, then fewer slots changed), recommends one, and shows \
        what the policy costs: the best balancedness any placement reaches on the horizons, the \
        global policy's bound and the cap whole expert groups on nodes put on the hierarchical one.

        Example:
          epbctl backtest --series prod --window 200 --window 1000 \\
            --half-life none --half-life 100 \\
            --every 100 --horizon 100 --algorithm deepseek --algorithm seed \\
            --replicas 288 --gpus 32 --nodes 4 --groups 8 --html backtest.html
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The series.")
    var series = "default"

    @Option(
      name: .long, parsing: .unconditionalSingleValue,
      help: ArgumentHelp("A planning window of STEPS stored steps; repeat for several.", valueName: "steps"))
    var window: [Int] = []

    @Option(
      name: .customLong("half-life"), parsing: .unconditionalSingleValue,
      help: ArgumentHelp(
        "Weight step s of the window by 0.5^((t - s) / STEPS), or none; repeat for several.", valueName: "steps"))
    var halfLife: [HalfLifeArgument] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Plan every STEPS stored steps.", valueName: "steps"))
    var every: Int

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Evaluate each plan on the next STEPS stored steps.", valueName: "steps"))
    var horizon: Int

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "Stored steps before the first plan (default: the largest --window, else --every).", valueName: "steps"))
    var warmup: Int?

    @Option(
      name: .long, parsing: .singleValue,
      help: "An algorithm (see `epbctl algorithms`); repeat for several (default: robust).")
    var algorithm: [PlacementAlgorithm] = []

    @OptionGroup var topology: TopologyOptions

    @OptionGroup var threads: ThreadOptions

    @Option(help: "A layer id, a list such as 3,5,10-12, or all.")
    var layer: LayerSelection = .all

    @Option(help: ArgumentHelp("Write a self-contained HTML report with a line chart to this file.", valueName: "file"))
    var html: String?

    @Flag(help: "Skip the oracle (each algorithm planned on each horizon itself; as many plans again).")
    var noOracle = false

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "Bytes of one expert's weights: price each re-plan (with --link-gbps and --step-ms).", valueName: "bytes"))
    var expertBytes: Int?

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Gigabits per second each GPU receives expert weights at.", valueName: "gbps"))
    var linkGbps: Double?

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Milliseconds of MoE time per step under the serving placement.", valueName: "ms"))
    var stepMs: Double?

    @Flag(
      name: .customLong("distinct-per-gpu"),
      help: ArgumentHelp(
        "Every plan keeps replicas of one expert on distinct GPUs (as `plan --distinct-per-gpu`; vLLM-Ascend's rule)."))
    var distinctPerGPU = false

    @Flag(help: "Print JSON for scripts.")
    var json = false

    @Flag(help: "Leave the per-plan timeline out of --json.")
    var noTimeline = false

    func validate() throws {
      if window.isEmpty && halfLife.isEmpty {
        throw ValidationError("give at least one --window (and/or --half-life) to plan on")
      }
      try FlagLimits.checkSeries(series)
      for w in window { try FlagLimits.check(w, flag: "--window", FlagLimits.steps) }
      if Set(window).count != window.count { throw ValidationError("--window values must differ") }
      for h in halfLife {
        if let v = h.value { try FlagLimits.check(v, flag: "--half-life", FlagLimits.halfLife, positive: true) }
      }
      if Set(halfLife.map { $0.value ?? -1 }).count != halfLife.count {
        throw ValidationError("--half-life values must differ")
      }
      if Set(algorithm).count != algorithm.count { throw ValidationError("--algorithm values must differ") }
      if let expertBytes { try FlagLimits.check(expertBytes, flag: "--expert-bytes", FlagLimits.expertBytes) }
      if let linkGbps { try FlagLimits.check(linkGbps, flag: "--link-gbps", FlagLimits.linkGbps, positive: true) }
      if let stepMs { try FlagLimits.check(stepMs, flag: "--step-ms", FlagLimits.stepMs, positive: true) }
      let priced = [expertBytes != nil, linkGbps != nil, stepMs != nil]
      if priced.contains(true) && priced.contains(false) {
        throw ValidationError("--expert-bytes, --link-gbps and --step-ms price a re-plan together; give all three")
      }
      try FlagLimits.check(every, flag: "--every", FlagLimits.steps)
      try FlagLimits.check(horizon, flag: "--horizon", FlagLimits.steps)
      if let warmup {
        try FlagLimits.check(warmup, flag: "--warmup", FlagLimits.steps)
        if let w = window.max(), w > warmup {
          throw ValidationError("--warmup \(warmup) is shorter than --window \(w); the first plan needs a full window")
        }
      }
    }

    /// The cross product windows × half-lives × algorithms, in that nesting order.
    var configs: [BacktestConfig] {
      let windows: [Int?] = window.isEmpty ? [nil] : window.map { $0 }
      let lives: [Double?] = halfLife.isEmpty ? [nil] : halfLife.map(\.value)
      let algorithms = algorithm.isEmpty ? [PlacementAlgorithm.planDefault] : algorithm
      var out: [BacktestConfig] = []
      for w in windows {
        for h in lives {
          for a in algorithms { out.append(BacktestConfig(algorithm: a, window: w, halfLife: h)) }
        }
      }
      return out
    }

    /// The price of a re-plan, when all three flags are given.
    var replanCost: ReplanCost? {
      guard let expertBytes, let linkGbps, let stepMs else { return nil }
      return ReplanCost(expertBytes: expertBytes, linkGbps: linkGbps, stepMs: stepMs)
    }

    func run() throws {
      if let html { try Output.checkWritable(html, flag: "--html") }
      let store = try database.open(create: false)
      let info = try store.series(named: series)
      let layers = layer.layers ?? info.layerIDs
      for l in layers where !info.layerIDs.contains(l) {
        throw CommandError("--layer \(l): series '\(series)' has layers \(LayerIDs.describe(info.layerIDs))")
      }
      guard let first = info.firstStep, let last = info.lastStep else {
        throw CommandError("series '\(series)' holds no step yet; ingest some first")
      }
      let parameters = EPBBacktest.Backtest.Parameters(
        configs: configs, every: every, horizon: horizon, warmup: warmup, topology: topology.topology,
        policy: topology.policy, oracle: !noOracle, replanCost: replanCost,
        distinctPerGPU: distinctPerGPU, threads: threads.count)
      var backtest = try EPBBacktest.Backtest(
        parameters: parameters, layerIDs: layers, experts: info.experts, stepCount: info.steps)
      try store.forEachStep(series: series, from: first, to: last, layers: layers) { step, loads in
        try backtest.add(step: step, loads: loads)
      }
      var report = backtest.finish()
      report.series = series
      if let html { try Output.write(report.html(), to: html, flag: "--html") }
      if json {
        Output.json(report.json(includeTimeline: !noTimeline))
        return
      }
      print(report.heading(steps: info.steps, from: first, to: last, layers: layers.count) + "\n")
      print(report.table(), terminator: "")
    }
  }
}
