import EPBEngines
import EPBPlanner
import Foundation

/// `EPBBench planner`: times `Planner.plan` (placement and statistics) and the placement alone
/// on a whole model (all MoE layers of one load file), per configuration and algorithm, and
/// prints medians over many repetitions in µs per plan.
///
/// Options: `--input FILE` (SGLang JSON with `logical_count [layers][experts]`; default: the
/// repository's `Examples/sglang/prefill_in1024.json`, else a
/// synthetic 58 × 256 heavy-tailed load), `--reps N` (default 300), `--json` (one JSON object).
/// For profiling one case: `--config I` (0, 1, 2: the rows' configurations in order),
/// `--algorithm NAME`, `--only plan|placement` (the other one is skipped and reported as 0).
func runPlannerBench(_ args: [String]) {
  var inputPath: String?
  var reps = 300
  var json = false
  var configFilter: Int?
  var algorithmFilter: PlacementAlgorithm?
  var only: String?
  var i = 0
  while i < args.count {
    switch args[i] {
    case "--input" where i + 1 < args.count:
      inputPath = args[i + 1]
      i += 1
    case "--reps" where i + 1 < args.count:
      reps = max(1, Int(args[i + 1]) ?? reps)
      i += 1
    case "--json":
      json = true
    case "--config" where i + 1 < args.count:
      configFilter = Int(args[i + 1])
      i += 1
    case "--algorithm" where i + 1 < args.count:
      algorithmFilter = PlacementAlgorithm(name: args[i + 1])
      i += 1
    case "--only" where i + 1 < args.count && ["plan", "placement"].contains(args[i + 1]):
      only = args[i + 1]
      i += 1
    default:
      FileHandle.standardError.write(Data("EPBBench planner: unknown option \(args[i])\n".utf8))
      exit(64)
    }
    i += 1
  }
  let (loads, source) = benchLoads(inputPath)
  let configs: [(name: String, topology: Topology, policy: PlacementPolicy)] = [
    ("hierarchical R288 32 GPUs 4 nodes", Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), .hierarchical),
    ("hierarchical R320 64 GPUs 8 nodes", Topology(replicas: 320, gpus: 64, nodes: 8, groups: 8), .hierarchical),
    ("global R288 32 GPUs", Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), .global),
  ]
  var rows: [[String: Any]] = []
  if !json {
    print("EPBBench planner — \(machineDescription())")
    print("input: \(source), \(loads.layers) layers × \(loads.experts) experts; \(reps) repetitions, medians")
    let header = "configuration".padding(toLength: 36, withPad: " ", startingAt: 0)
    print("\(header) algorithm   plan µs (min)          placement µs (min)     balancedness")
  }
  let ids = Array(0..<loads.layers)
  for (index, config) in configs.enumerated() where configFilter == nil || configFilter == index {
    for algorithm in PlacementAlgorithm.allCases where algorithmFilter == nil || algorithmFilter == algorithm {
      var plan: Plan?
      let planTimes = measure(only == "placement" ? 0 : reps) {
        plan = try? Planner.plan(
          loads, layerIDs: ids, topology: config.topology, policy: config.policy, algorithm: algorithm)
      }
      let placeTimes = measure(only == "plan" ? 0 : reps) {
        _ = try? Planner.placeLayers(loads, topology: config.topology, policy: config.policy, algorithm: algorithm)
      }
      let balancedness = plan?.summary.balancednessMean ?? .nan
      let row: [String: Any] = [
        "configuration": config.name, "algorithm": algorithm.rawValue, "layers": plan?.layers.count ?? 0,
        "plan_median_us": median(planTimes), "plan_min_us": planTimes.min() ?? 0,
        "placement_median_us": median(placeTimes), "placement_min_us": placeTimes.min() ?? 0,
        "balancedness_mean": balancedness,
      ]
      rows.append(row)
      if !json {
        let name = config.name.padding(toLength: 36, withPad: " ", startingAt: 0)
        let alg = algorithm.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
        print(
          "\(name) \(alg) \(fmt(median(planTimes))) (\(fmt(planTimes.min() ?? 0)))"
            + "   \(fmt(median(placeTimes))) (\(fmt(placeTimes.min() ?? 0)))   \(String(format: "%.4f", balancedness))")
      }
    }
  }
  if json {
    let object: [String: Any] = [
      "machine": machineDescription(), "input": source, "layers": loads.layers, "experts": loads.experts,
      "repetitions": reps, "results": rows,
    ]
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
      print(String(decoding: data, as: UTF8.self))
    }
  }
}

/// Runs `body` `reps` times after one warm-up (none when `reps` is 0); returns each run's
/// duration in µs.
private func measure(_ reps: Int, _ body: () -> Void) -> [Double] {
  if reps == 0 { return [] }
  body()
  let clock = ContinuousClock()
  var times: [Double] = []
  times.reserveCapacity(reps)
  for _ in 0..<reps {
    let elapsed = clock.measure(body)
    let (s, atto) = elapsed.components
    times.append(Double(s) * 1e6 + Double(atto) / 1e12)
  }
  return times
}

private func fmt(_ us: Double) -> String { String(format: "%10.1f", us) }

/// The MoE layers (non-zero rows) of an SGLang `logical_count` file, or a synthetic load.
private func benchLoads(_ path: String?) -> (LoadMatrix, String) {
  var candidates: [String] = []
  if let path { candidates.append(path) }
  let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  candidates.append(
    repo.appendingPathComponent("Examples/sglang/prefill_in1024.json").path)
  for candidate in candidates {
    guard let data = FileManager.default.contents(atPath: candidate),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let rows = object["logical_count"] as? [[Double]], let experts = rows.first?.count
    else {
      if candidate == path {
        FileHandle.standardError.write(Data("EPBBench planner: cannot read logical_count from \(candidate)\n".utf8))
        exit(66)
      }
      continue
    }
    let moe = rows.filter { $0.count == experts && $0.contains { $0 != 0 } }
    return (LoadMatrix(layers: moe.count, experts: experts, values: moe.flatMap { $0 }), candidate)
  }
  // Synthetic: 58 layers × 256 experts, Pareto-like heavy tail from a fixed LCG.
  var state: UInt64 = 0x2545_F491_4F6C_DD1D
  var values: [Double] = []
  for _ in 0..<(58 * 256) {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    let u = Double(state >> 11) / Double(1 << 53)
    values.append((200_000 * pow(1 - u, -0.7)).rounded())
  }
  return (LoadMatrix(layers: 58, experts: 256, values: values), "synthetic 58 × 256 heavy-tailed")
}
