import EPBPlanner
import EPBTestSupport
import Testing

/// The peers beyond the golden cases: the snake by hand, and every algorithm's invariants when
/// it gets block scenarios and a base, as `plan` and `backtest` hand them over.
@Suite struct PeerTests {
  /// 4 experts, 8 slots, 2 GPUs (4 slots each), loads [100, 60, 30, 10].
  /// EPLB's counts (D'Hondt: 4 picks, each to the largest load / count): 100 (→ 50), then
  /// 60 vs 50 → 60 (→ 30), then 50 → 100 (→ 33.3), then 33.3 → 100 (→ 25): counts [4, 2, 1, 1].
  /// Replicas by load per replica, heaviest first, ties to the lower expert: 30 (e1), 30 (e1),
  /// 30 (e2), 25 ×4 (e0), 10 (e3) → 1, 1, 2, 0, 0, 0, 0, 3. Dealt in a snake over 2 GPUs:
  /// round 0 → GPU0: 1, GPU1: 1; round 1 (backwards) → GPU1: 2, GPU0: 0; round 2 → GPU0: 0,
  /// GPU1: 0; round 3 (backwards) → GPU1: 0, GPU0: 3. GPU0 = [1, 0, 0, 3] (load 30+25+25+10 = 90),
  /// GPU1 = [1, 2, 0, 0] (30+30+25+25 = 110).
  @Test func snakeByHand() {
    let t = Topology(replicas: 8, gpus: 2, nodes: 1, groups: 1)
    let p = Planner.placeLayer([100, 60, 30, 10][...], topology: t, policy: .global, algorithm: .snake)
    #expect(p.logicalCount == [4, 2, 1, 1])
    #expect(p.physicalToLogical == [1, 0, 0, 3, 1, 2, 0, 0])
    #expect(Planner.evaluate(p, load: [100, 60, 30, 10][...], topology: t).gpuLoad == [90, 110])
  }

  /// Hierarchical snake: groups packed onto nodes as EPLB does, then the snake in each node.
  /// 8 experts in 4 groups of 2, 2 nodes of 2 GPUs, 12 slots (6 per node, 3 per GPU). Group
  /// loads: g0 = 10+1 = 11, g1 = 50+40 = 90, g2 = 5+5 = 10, g3 = 30+20 = 50. Packing heaviest
  /// first onto the lighter node with room: g1 → node 0, g3 → node 1, g0 → node 1 (50 < 90),
  /// g2 → node 0 (full? node 1 has 2 groups, so node 0). Node 0 = experts 2, 3, 4, 5 (mlog
  /// order: g1 then g2), node 1 = experts 6, 7, 0, 1. Node 0, loads [50, 40, 5, 5], 2 picks:
  /// 50 → 2 (25), 40 → 2 (20); replicas 25, 25, 20, 20, 5, 5 → experts 2, 2, 3, 3, 4, 5;
  /// snake over 2 GPUs: GPU0 = [2, 3, 4], GPU1 = [2, 3, 5]. Node 1, loads [30, 20, 10, 1]:
  /// 30 → 2 (15), 20 → 2 (10); replicas 15, 15, 10 (e7), 10 (e7), 10 (e0), 1 → 6, 6, 7, 7, 0, 1
  /// (ties by lower local index: e7 is local 1, e0 local 2); GPU2 = [6, 7, 0], GPU3 = [6, 7, 1].
  @Test func snakeHierarchicalByHand() {
    let t = Topology(replicas: 12, gpus: 4, nodes: 2, groups: 4)
    let load: [Double] = [10, 1, 50, 40, 5, 5, 30, 20]
    let p = Planner.placeLayer(load[...], topology: t, policy: .hierarchical, algorithm: .snake)
    #expect(p.physicalToLogical == [2, 3, 4, 2, 3, 5, 6, 7, 0, 6, 7, 1])
  }

  /// Every algorithm through `Planner.plan` with 8 block scenarios and (for swift-balancer) a
  /// random base: every expert placed, counts sum to the slots, `logcnt` matches `phy2log`,
  /// each GPU `replicas / gpus` slots (by the slot layout), groups on one node under the
  /// hierarchical policy, and the same result again with the layers planned on three threads.
  @Test(arguments: PlacementAlgorithm.allCases, [PlacementPolicy.hierarchical, .global])
  func invariantsWithScenariosAndBase(algorithm: PlacementAlgorithm, policy: PlacementPolicy) throws {
    let t = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    let layers = 3, experts = 256
    var rng = SplitMix64(seed: 18)
    let heat = (0..<(layers * experts)).map { _ in 1000 / Double.random(in: 0.03..<1, using: &rng) }
    let steps = (0..<40).map { _ in
      LoadMatrix(
        layers: layers, experts: experts,
        values: heat.map { ($0 * Double.random(in: 0.2..<1.8, using: &rng)).rounded() })
    }
    var window = LoadMatrix(layers: layers, experts: experts)
    for s in steps { for i in 0..<s.values.count { window.values[i] += s.values[i] } }
    var base: [Int: LayerPlacement] = [:]
    for l in 0..<layers {
      var p2l = Array(0..<experts) + (0..<(t.replicas - experts)).map { _ in Int.random(in: 0..<experts, using: &rng) }
      p2l.shuffle(using: &rng)
      base[l] = LayerPlacement(physicalToLogical: p2l, experts: experts)
    }
    let scenarios = Robust.blockSums(steps, blocks: algorithm.scenarioBlocks)
    let plan = try Planner.plan(
      window, layerIDs: [0, 1, 2], topology: t, policy: policy, algorithm: algorithm, scenarios: scenarios, base: base)
    #expect(plan.layers.count == layers)
    for layer in plan.layers {
      let p = layer.placement
      #expect(p.physicalToLogical.count == t.replicas)
      #expect(p.logicalCount.allSatisfy { $0 >= 1 }, "\(algorithm) layer \(layer.layer): an expert unplaced")
      #expect(p.logicalCount.reduce(0, +) == t.replicas)
      #expect(LayerPlacement(physicalToLogical: p.physicalToLogical, experts: experts).logicalCount == p.logicalCount)
      #expect(layer.statistics.evaluation.gpuLoad.count == t.gpus)
      if policy == .hierarchical {
        let groupSize = experts / t.groups, slotsPerNode = t.replicas / t.nodes
        var nodeOfGroup = [Int: Int]()
        var consistent = true
        for (slot, e) in p.physicalToLogical.enumerated() {
          if let n = nodeOfGroup[e / groupSize], n != slot / slotsPerNode { consistent = false }
          nodeOfGroup[e / groupSize] = slot / slotsPerNode
        }
        #expect(consistent, "\(algorithm) layer \(layer.layer): a group spans nodes")
      }
    }
    let again = try Planner.plan(
      window, layerIDs: [0, 1, 2], topology: t, policy: policy, algorithm: algorithm, scenarios: scenarios, base: base,
      threads: 3)
    #expect(again.layers.map(\.placement) == plan.layers.map(\.placement))
    #expect(again.layers.map(\.statistics) == plan.layers.map(\.statistics))
  }

  /// Threads share the layers, not the result: a zero layer between two others stays skipped,
  /// the planned layers keep their order, and one thread per layer or more threads than layers
  /// give what one thread gives.
  @Test(arguments: [PlacementAlgorithm.robust, .flashlb, .deepseek])
  func threadsGiveTheSamePlan(algorithm: PlacementAlgorithm) throws {
    let t = Topology(replicas: 40, gpus: 8, nodes: 2, groups: 4)
    var rng = SplitMix64(seed: 5)
    var window = LoadMatrix(
      layers: 5, experts: 32, values: (0..<160).map { _ in (100 / Double.random(in: 0.05..<1, using: &rng)).rounded() })
    for e in 0..<32 { window.values[2 * 32 + e] = 0 }
    let one = try Planner.plan(window, layerIDs: [3, 4, 7, 8, 9], topology: t, policy: .auto, algorithm: algorithm)
    #expect(one.layers.map(\.layer) == [3, 4, 8, 9])
    #expect(one.skippedLayers == [7])
    for threads in [2, 4, 16] {
      let many = try Planner.plan(
        window, layerIDs: [3, 4, 7, 8, 9], topology: t, policy: .auto, algorithm: algorithm, threads: threads)
      #expect(many.layers.map(\.layer) == [3, 4, 8, 9])
      #expect(many.skippedLayers == [7])
      #expect(many.layers.map(\.placement) == one.layers.map(\.placement), "\(threads) threads")
    }
  }

  /// SwiftBalancer is incremental: from EPLB's plan only the 32 redundant slots are re-chosen
  /// and each swap changes 2 slots, at most one swap per GPU pair on the hottest GPU's turn, so
  /// at most 32 + 2 · 32 slots change per swap round chain (the bound checked: far below the
  /// ~280 of 288 a re-plan changes before relabelling); a balanced base (peak / mean < 1.01)
  /// is kept as it is.
  @Test func swiftBalancerIsIncremental() throws {
    let t = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    var rng = SplitMix64(seed: 7)
    let load = (0..<256).map { _ in (1000 / Double.random(in: 0.03..<1, using: &rng)).rounded() }
    let eplb = Planner.placeLayer(load[...], topology: t, policy: .global, algorithm: .deepseek)
    let plan = try Planner.plan(
      LoadMatrix(layers: 1, experts: 256, values: load), layerIDs: [0], topology: t, policy: .global,
      algorithm: .swiftBalancer, base: [0: eplb])
    let p = try #require(plan.layers.first?.placement)
    let changed = zip(p.physicalToLogical, eplb.physicalToLogical).filter { $0 != $1 }.count
    #expect(changed <= 288 - 256 + 2 * 32, "\(changed) slots changed")
    // Equal loads on the trivial layout are balanced (peak / mean < 1.01): kept as they are.
    let flat = [Double](repeating: 5, count: 256)
    let kept = try Planner.plan(
      LoadMatrix(layers: 1, experts: 256, values: flat), layerIDs: [0],
      topology: Topology(replicas: 256, gpus: 32, nodes: 4, groups: 8),
      policy: .global, algorithm: .swiftBalancer,
      base: [0: LayerPlacement(physicalToLogical: Array(0..<256), experts: 256)])
    #expect(kept.layers.first?.placement.physicalToLogical == Array(0..<256))
  }
}
