import ArgumentParser
import EPBPlanner

extension PlacementPolicy: ExpressibleByArgument {}
extension PlacementAlgorithm: ExpressibleByArgument {}

/// The cluster shape flags of `plan` and `backtest`.
struct TopologyOptions: ParsableArguments {
  @Option(name: .long, help: "Physical expert slots per layer (logical experts + redundant ones).")
  var replicas: Int

  @Option(name: .long, help: "GPUs (expert-parallel ranks); each holds replicas / gpus slots.")
  var gpus: Int

  @Option(name: .long, help: "Nodes; GPUs are numbered node-major.")
  var nodes: Int

  @Option(name: .long, help: "Expert groups (DeepSeek-V3: 8); the hierarchical policy keeps a group on one node.")
  var groups: Int

  @Option(name: .long, help: "auto (hierarchical when groups % nodes == 0, else global), hierarchical or global.")
  var policy: PlacementPolicy = .auto

  var topology: Topology { Topology(replicas: replicas, gpus: gpus, nodes: nodes, groups: groups) }

  func validate() throws {
    do {
      try topology.validate(experts: nil, policy: policy)
    } catch {
      throw ValidationError(error.message)
    }
  }
}
