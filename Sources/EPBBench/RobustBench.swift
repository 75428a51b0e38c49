import EPBPlanner
import EPBSimulate
import Foundation

/// `EPBBench robust`: the speed of the `robust` algorithm, all 58 layers of a DeepSeek-V3 shape
/// planned from a window with its block scenarios, as `epbctl plan` does it
/// (`PlacementAlgorithm.robustBlocks` blocks), on one thread (release build; figures in
/// docs/peers.md, Speed).
///
/// The window is the last `--steps` steps (default 1000) of a `RoutingModel` trace (58 × 256,
/// seed 3, the model's default skew, drift, bursts and noise), summed, with `Robust.blockSums`
/// of its steps as the scenarios. Times `Planner.plan` (placement and statistics) for the
/// hierarchical R288 / 32 GPUs / 4 nodes, R320 / 64 GPUs / 8 nodes and global R288 shapes, and
/// the deepseek algorithm on the same window for comparison; prints medians over `--reps`
/// (default 30) in ms. For profiling one case: `--config I` (0, 1, 2: the rows in order) and
/// `--only deepseek|robust`. `--peers` times the peers instead (`EPBBench peers` does the same):
/// flashlb and deepseek-vec with their `scenarioBlocks` block sums of the window, swift-balancer
/// without a base (its start layout, see `SwiftBalancer`), snake on the window sum.
func runRobustBench(_ args: [String]) {
  func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
  }
  let steps = option("--steps", 1000), reps = max(1, option("--reps", 30))
  let configFilter = option("--config", -1)
  let only = args.firstIndex(of: "--only").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
  let layers = 58, experts = 256
  let model = RoutingModel(steps: steps, layers: layers, experts: experts, seed: 3)
  var generator = model.makeGenerator()
  var stepLoads: [LoadMatrix] = []
  var window = LoadMatrix(layers: layers, experts: experts)
  while let counts = generator.next() {
    let step = LoadMatrix(layers: layers, experts: experts, values: counts.map { Double($0) })
    for i in 0..<step.values.count { window.values[i] += step.values[i] }
    stepLoads.append(step)
  }
  let peers = args.contains("--peers")
  let algorithms: [PlacementAlgorithm] =
    peers ? [.deepseek, .flashlb, .deepseekVec, .snake, .swiftBalancer] : [.deepseek, .robust]
  var blocksOf: [PlacementAlgorithm: [LoadMatrix]] = [:]
  for a in algorithms { blocksOf[a] = a.usesScenarios ? Robust.blockSums(stepLoads, blocks: a.scenarioBlocks) : [] }
  let blocks = blocksOf[.robust] ?? blocksOf[.flashlb] ?? []
  let ids = Array(0..<layers)
  print("EPBBench \(peers ? "peers" : "robust") — \(machineDescription())")
  print(
    "window: \(steps) simulated steps × \(layers) layers × \(experts) experts (seed 3), "
      + "\(blocks.count) block scenarios; \(reps) repetitions, medians")
  let configs: [(String, Topology, PlacementPolicy)] = [
    ("hierarchical R288 32 GPUs 4 nodes", Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), .hierarchical),
    ("hierarchical R320 64 GPUs 8 nodes", Topology(replicas: 320, gpus: 64, nodes: 8, groups: 8), .hierarchical),
    ("global R288 32 GPUs", Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), .global),
  ]
  let clock = ContinuousClock()
  for (index, (name, topology, policy)) in configs.enumerated() where configFilter < 0 || configFilter == index {
    var line = name.padding(toLength: 36, withPad: " ", startingAt: 0)
    for algorithm in algorithms where only == nil || only == algorithm.rawValue {
      var times: [Double] = []
      var plan: Plan?
      for rep in 0...reps {
        let elapsed = clock.measure {
          plan = try? Planner.plan(
            window, layerIDs: ids, topology: topology, policy: policy, algorithm: algorithm,
            scenarios: blocksOf[algorithm] ?? [])
        }
        if rep > 0 {
          times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
      }
      let planned = plan?.summary.balancednessMean ?? .nan
      line += String(format: "  %@ %7.2f ms (planned balancedness %.4f)", algorithm.rawValue, median(times), planned)
    }
    print(line)
  }
}
