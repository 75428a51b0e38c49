/// The frame shared by the open peers (`flashlb`, `deepseek-vec`, `snake`, `swift-balancer`):
/// the policy, the per-node sub-problems and the scenarios.
///
/// Under the hierarchical policy every peer first packs the expert groups onto the nodes as
/// EPLB does (`EPLB.packGroups`: groups by window load, heaviest first onto the lightest node
/// with room, in `Float` like eplb.py), then places each node's experts on the node's
/// `replicas / nodes` slots and `gpus / nodes` GPUs with its own method; under the global policy
/// the whole cluster is one node. SGLang's `deepseek_vec` does exactly this itself
/// (`prefill_rebalance_experts`); FlashLB and the snake have no hierarchical mode of their own
/// and are adapted this way; SwiftBalancer's node mode (`is_node_redundant`) keeps each node's
/// experts where the current placement has them (see `SwiftBalancer`).
///
/// Scenarios are block sums of the window's steps (`Robust.blockSums`, the store's `blocks`),
/// `[B]` of `[layers][experts]`; a peer that plans on samples uses row `row` of each, and the
/// window sum as its only sample when there are none.
enum Peers {
  /// Places one layer with `algorithm` (a peer). `policy` is resolved.
  ///
  /// - parameter window: `[experts]`, the window's summed load.
  /// - parameter base: the current placement (`swift-balancer` only; nil: see `SwiftBalancer`).
  static func place(
    window: ArraySlice<Double>, scenarios: [LoadMatrix], row: Int, base: LayerPlacement?, topology: Topology,
    policy: PlacementPolicy, algorithm: PlacementAlgorithm, scratch: Scratch<Float>
  ) -> LayerPlacement {
    precondition(algorithm.isPeer, "Peers.place places the peers only")
    let experts = window.count
    let replicas = topology.replicas
    let (groups, nodes) = policy == .hierarchical ? (topology.groups, topology.nodes) : (1, 1)
    let load = Array(window)
    let weight = scratch.layer.weight
    for e in 0..<experts { weight[e] = Float(load[e]) }
    scratch.nodesSorted = false
    EPLB.packGroups(weight, experts: experts, groups: groups, nodes: nodes, scratch: scratch)
    let mlog2log = Array(UnsafeBufferPointer(start: scratch.layer.mlog2log, count: experts))
    if algorithm == .swiftBalancer {
      let phy2log = SwiftBalancer.place(
        load: load, base: base?.physicalToLogical, mlog2log: mlog2log, topology: topology,
        nodeMode: policy == .hierarchical, groups: groups)
      return LayerPlacement(physicalToLogical: phy2log, experts: experts)
    }
    // Samples, sample-major `[T][experts]`: row `row` of each usable scenario, else the window.
    var samples: [Double] = []
    samples.reserveCapacity(scenarios.count * experts)
    var sampleCount = 0
    for m in scenarios where m.experts == experts && m.layers > row {
      samples.append(contentsOf: m.row(row))
      sampleCount += 1
    }
    if sampleCount == 0 {
      samples = load
      sampleCount = 1
    }
    let perNode = experts / nodes
    let slotsPerNode = replicas / nodes
    let gpusPerNode = topology.gpus / nodes
    var phy2log = [Int](repeating: 0, count: replicas)
    for node in 0..<nodes {
      let members = Array(mlog2log[(node * perNode)..<((node + 1) * perNode)])
      let local: [Int]
      switch algorithm {
      case .snake:
        local = Snake.placeNode(members.map { load[$0] }, slots: slotsPerNode, gpus: gpusPerNode)
      case .deepseekVec:
        var x = [Float](repeating: 0, count: sampleCount * perNode)
        for t in 0..<sampleCount {
          for (j, e) in members.enumerated() { x[t * perNode + j] = Float(samples[t * experts + e]) }
        }
        local = DeepSeekVec.placeNode(
          x, samples: sampleCount, slots: slotsPerNode, gpus: gpusPerNode, indexBase: node * perNode)
      case .flashlb:
        var x = [Double](repeating: 0, count: sampleCount * perNode)
        for t in 0..<sampleCount {
          for (j, e) in members.enumerated() { x[t * perNode + j] = samples[t * experts + e] }
        }
        local = FlashLB.placeNode(x, samples: sampleCount, slots: slotsPerNode, gpus: gpusPerNode)
      case .deepseek, .eplbDivisor, .robust, .swiftBalancer:
        preconditionFailure("not placed here")
      }
      for s in 0..<slotsPerNode { phy2log[node * slotsPerNode + s] = members[local[s]] }
    }
    return LayerPlacement(physicalToLogical: phy2log, experts: experts)
  }

  /// Deals `items` (already in dealing order) over `gpus` GPUs in a snake: round `r` gives one
  /// item to each GPU, in GPU order `0, 1, …, gpus − 1` when `r` is even and backwards when it is
  /// odd; GPU `g`'s `r`-th slot (slot `g · slotsPerGPU + r`) gets item `r · gpus + g` or
  /// `r · gpus + gpus − 1 − g`. `items.count` must be `gpus · slotsPerGPU`. Returns `[items.count]`.
  static func dealSnake(_ items: [Int], gpus: Int) -> [Int] {
    let per = items.count / gpus
    var out = [Int](repeating: 0, count: items.count)
    for r in 0..<per {
      for g in 0..<gpus {
        out[g * per + r] = items[r * gpus + (r % 2 == 0 ? g : gpus - 1 - g)]
      }
    }
    return out
  }
}
