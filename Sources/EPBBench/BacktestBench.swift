import EPBBacktest
import EPBEngines
import EPBIngest
import EPBPlanner
import EPBReport
import EPBSimulate
import EPBStore
import Foundation

/// `EPBBench backtest`: the speed target, a backtest over a 2,000-step 58 × 256 series,
/// plan every 100 steps, three configurations, in ≤ 5 s wall (release build).
///
/// Simulates the series with `RoutingModel` (seed 7), ingests it as `.npy` into a temporary
/// database (not timed), then times the backtest end to end as `epbctl backtest` runs it (open
/// the store, stream every step with `forEachStep`, plan, evaluate, render the JSON), and, when the
/// `epbctl` binary sits next to this one, the command itself as a child process. Prints the median
/// of `--runs` runs (default 3).
///
/// Configurations: deepseek window 100; deepseek window 200 half-life 50; seed window 200;
/// horizon 100; 288 slots on 32 GPUs, 4 nodes, 8 groups (hierarchical policy).
///
/// Options: `--steps 2000 --layers 58 --experts 256 --runs 3 --keep DIR` (keep the database there).
/// Example: `swift run -c release EPBBench backtest --runs 5`.
func runBacktestBench(arguments: [String]) {
  func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else {
      return fallback
    }
    return v
  }
  let steps = option("--steps", 2000), layers = option("--layers", 58), experts = option("--experts", 256)
  let runs = max(1, option("--runs", 3))
  let keep = arguments.firstIndex(of: "--keep").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
  let directory = keep ?? NSTemporaryDirectory() + "epbctl-backtest-bench-\(getpid())"
  try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  let dbPath = directory + "/bench.sqlite"
  let tracePath = directory + "/trace.npy"
  defer { if keep == nil { try? FileManager.default.removeItem(atPath: directory) } }
  let clock = ContinuousClock()

  print("EPBBench backtest — \(machineDescription())")
  let model = RoutingModel(steps: steps, layers: layers, experts: experts, seed: 7)
  do {
    let setup = try clock.measure {
      let bytes = TraceEncoder.encode(model, format: .npy)
      _ = FileManager.default.createFile(atPath: tracePath, contents: Data(bytes))
      try? FileManager.default.removeItem(atPath: dbPath)
      let store = try SQLiteStore.open(path: dbPath, create: true)
      _ = try Ingestor(store: store).ingest(path: tracePath, series: "bench", format: .npy, replace: false)
    }
    print("setup (simulate \(steps) × \(layers) × \(experts), ingest .npy): \(fmt(seconds(setup))) s, not timed")

    let configs = [
      BacktestConfig(algorithm: .deepseek, window: 100, halfLife: nil),
      BacktestConfig(algorithm: .deepseek, window: 200, halfLife: 50),
      BacktestConfig(algorithm: .eplbDivisor, window: 200, halfLife: nil),
    ]
    let topology = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    let parameters = Backtest.Parameters(configs: configs, every: 100, horizon: 100, topology: topology, policy: .auto)
    var inProcess: [Double] = []
    var summary = ""
    for _ in 0..<runs {
      let elapsed = try clock.measure {
        let store = try SQLiteStore.open(path: dbPath, create: false)
        let info = try store.series(named: "bench")
        var backtest = try Backtest(
          parameters: parameters, layerIDs: Array(0..<info.layers), experts: info.experts, stepCount: info.steps)
        try store.forEachStep(series: "bench", from: info.firstStep!, to: info.lastStep!) { step, loads in
          try backtest.add(step: step, loads: loads)
        }
        let report = backtest.finish()
        _ = report.json().render(pretty: true)
        summary = report.summaries.map {
          "\($0.config.shortLabel): \($0.points.count) plans, realized \(fmt($0.realizedMean ?? 0, 4))"
        }.joined(separator: "; ")
      }
      inProcess.append(seconds(elapsed))
    }
    print(
      "in-process backtest (3 configurations, plan every 100, horizon 100): median \(fmt(median(inProcess))) s "
        + "of \(inProcess.map { fmt($0) })")
    print("  \(summary)")

    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
      .appendingPathComponent("epbctl")
    if FileManager.default.isExecutableFile(atPath: binary.path) {
      var cli: [Double] = []
      for _ in 0..<runs {
        let process = Process()
        process.executableURL = binary
        process.arguments = [
          "backtest", "--db", dbPath, "--series", "bench", "--window", "100", "--window", "200", "--half-life", "none",
          "--half-life", "50", "--every", "100", "--horizon", "100", "--algorithm", "deepseek", "--replicas", "288",
          "--gpus", "32", "--nodes", "4", "--groups", "8", "--json",
        ]
        process.standardOutput = FileHandle.nullDevice
        let start = clock.now
        try process.run()
        process.waitUntilExit()
        cli.append(seconds(clock.now - start))
      }
      print(
        "epbctl backtest --json, 4 configurations (2 windows × 2 half-lives): median \(fmt(median(cli))) s "
          + "of \(cli.map { fmt($0) })")
    }
  } catch {
    print("backtest bench failed: \(error)")
    exit(1)
  }
}

private func fmt(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
