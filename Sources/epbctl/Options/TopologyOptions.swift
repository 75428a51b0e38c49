import ArgumentParser
import EPBPlanner

extension PlacementPolicy: ExpressibleByArgument {}
extension PlacementAlgorithm: ExpressibleByArgument {
  /// A name or an alias (`seed` for `eplb-divisor`).
  public init?(argument: String) { self.init(name: argument) }
}

/// The cluster shape flags of `plan` and `backtest`.
struct TopologyOptions: ParsableArguments {
  @Option(
    name: .long, parsing: .unconditional, help: "Physical expert slots per layer (logical experts + redundant ones).")
  var replicas: Int

  @Option(name: .long, parsing: .unconditional, help: "GPUs (expert-parallel ranks); each holds replicas / gpus slots.")
  var gpus: Int

  @Option(name: .long, parsing: .unconditional, help: "Nodes; GPUs are numbered node-major.")
  var nodes: Int

  @Option(
    name: .long, parsing: .unconditional,
    help: "Expert groups (DeepSeek-V3: 8); the hierarchical policy keeps a group on one node.")
  var groups: Int

  @Option(name: .long, help: "auto (hierarchical when groups % nodes == 0, else global), hierarchical or global.")
  var policy: PlacementPolicy = .auto

  var topology: Topology { Topology(replicas: replicas, gpus: gpus, nodes: nodes, groups: groups) }

  func validate() throws {
    try FlagLimits.check(replicas, flag: "--replicas", FlagLimits.slots)
    try FlagLimits.check(gpus, flag: "--gpus", FlagLimits.slots)
    try FlagLimits.check(nodes, flag: "--nodes", FlagLimits.nodes)
    try FlagLimits.check(groups, flag: "--groups", FlagLimits.slots)
    // The command line asks more than the planner (which, like DeepSeek's reference, accepts any
    // --nodes under the global policy): a snapshot "on 5 nodes" of 32 GPUs would class moves by
    // nodes that do not exist, so every policy needs whole nodes.
    if gpus % nodes != 0 {
      throw ValidationError(
        "--gpus \(gpus) is not a multiple of --nodes \(nodes); every node holds the same number of GPUs")
    }
    do {
      try topology.validate(experts: nil, policy: policy)
    } catch {
      throw ValidationError(error.message)
    }
  }
}
