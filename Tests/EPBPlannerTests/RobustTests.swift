import EPBPlanner
import EPBTestSupport
import Testing

@Suite struct RobustTests {
  /// Σ over scenarios of the peak GPU load of `placement` (`scenarios`: `[B][experts]`),
  /// computed here from phy2log/logcnt directly.
  func scenarioPeaks(_ p: LayerPlacement, _ scenarios: [[Double]], gpus: Int) -> Double {
    let per = p.physicalToLogical.count / gpus
    return scenarios.map { s in
      var load = Array(repeating: 0.0, count: gpus)
      for (slot, e) in p.physicalToLogical.enumerated() { load[slot / per] += s[e] / Double(p.logicalCount[e]) }
      return load.max()!
    }.reduce(0, +)
  }

  /// Four equal experts on two GPUs, two slots each. The window cannot tell the packings apart,
  /// the two halves of the window can: A and C are hot together in the first half, B and D in the
  /// second. EPLB packs by index (A, C on GPU 0; B, D on GPU 1), whose peaks are 40 + 40 = 80;
  /// any packing that splits A from C has peaks 20 + 20 = 40.
  @Test func packsAgainstTheScenariosNotOnlyTheSum() {
    let window: [Double] = [20, 20, 20, 20]
    let scenarios: [[Double]] = [[20, 0, 20, 0], [0, 20, 0, 20]]
    let t = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)
    let eplb = Planner.placeLayer(window[...], topology: t, policy: .global, algorithm: .deepseek)
    #expect(scenarioPeaks(eplb, scenarios, gpus: 2) == 80)
    let robust = Robust.placeLayer(window: window[...], scenarios: scenarios, topology: t, policy: .global)
    #expect(scenarioPeaks(robust, scenarios, gpus: 2) == 40)
    // Same window balance: both put 40 on each GPU.
    #expect(Planner.evaluate(robust, load: window[...], topology: t).peak == 40)
  }

  /// An expert whose load swings gets the spare replica before an equally heavy steady one:
  /// hedged loads are mean + stdev over the scenarios, (10 + 10) for A versus (10 + 0) for B.
  @Test func volatileExpertsAreReplicatedFirst() {
    let window: [Double] = [20, 20, 2, 2]  // A volatile, B steady, C and D light
    let scenarios: [[Double]] = [[20, 10, 1, 1], [0, 10, 1, 1]]
    let t = Topology(replicas: 6, gpus: 2, nodes: 1, groups: 1)
    let robust = Robust.placeLayer(window: window[...], scenarios: scenarios, topology: t, policy: .global)
    #expect(robust.logicalCount[0] >= robust.logicalCount[1])
    #expect(robust.logicalCount.reduce(0, +) == 6)
  }

  /// The invariants of every placement, with random scenarios, on DeepSeek-V3 shapes.
  @Test(arguments: [
    (Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), PlacementPolicy.hierarchical),
    (Topology(replicas: 320, gpus: 64, nodes: 8, groups: 8), .hierarchical),
    (Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), .global),
  ])
  func invariantsWithScenarios(topology t: Topology, policy: PlacementPolicy) {
    var rng = SplitMix64(seed: 7)
    let experts = 256
    let scenarios = (0..<8).map { _ in (0..<experts).map { _ in (100 / Double.random(in: 0.05..<1, using: &rng)).rounded() } }
    var window = Array(repeating: 0.0, count: experts)
    for s in scenarios { for e in 0..<experts { window[e] += s[e] } }
    let p = Robust.placeLayer(window: window[...], scenarios: scenarios, topology: t, policy: policy)
    #expect(p.physicalToLogical.count == t.replicas)
    #expect(p.logicalCount.allSatisfy { $0 >= 1 })
    #expect(p.logicalCount.reduce(0, +) == t.replicas)
    var counted = Array(repeating: 0, count: experts)
    for e in p.physicalToLogical { counted[e] += 1 }
    #expect(counted == p.logicalCount)
    if policy == .hierarchical {
      // Every replica sits on one node, the node that hosts its expert's whole group.
      let groupSize = experts / t.groups, slotsPerNode = t.replicas / t.nodes
      var nodeOfGroup = [Int: Int]()
      for (slot, e) in p.physicalToLogical.enumerated() {
        let node = slot / slotsPerNode
        #expect(nodeOfGroup[e / groupSize, default: node] == node)
        nodeOfGroup[e / groupSize] = node
      }
    }
    // Deterministic.
    #expect(Robust.placeLayer(window: window[...], scenarios: scenarios, topology: t, policy: policy) == p)
    // Planned through the planner, with the same scenarios, it is the same placement.
    let matrix = LoadMatrix(layers: 1, experts: experts, values: window)
    let plan = try? Planner.plan(
      matrix, layerIDs: [0], topology: t, policy: policy, algorithm: .robust,
      scenarios: scenarios.map { LoadMatrix(layers: 1, experts: experts, values: $0) })
    #expect(plan?.layers.first?.placement == p)
  }

  @Test func blockSumsSplitTheStepsInOrder() {
    let steps = (1...5).map { LoadMatrix(layers: 1, experts: 2, values: [Double($0), 10 * Double($0)]) }
    let blocks = Robust.blockSums(steps, blocks: 2)
    // Step t goes to block t·2/5: steps 1, 2, 3 → block 0 (t = 0, 1, 2), steps 4, 5 → block 1.
    #expect(blocks.map(\.values) == [[6, 60], [9, 90]])
    #expect(Robust.blockSums(steps, blocks: 9).count == 5)
    #expect(Robust.blockSums([], blocks: 3).isEmpty)
  }

  /// The D'Hondt replication robust uses (EPLB's greedy in `Double`) and its heap-based balanced
  /// packing against their definitions, written as plain scans (the first maximum of
  /// weight / count; the first lightest pack with room), on rows with many ties, zeros and
  /// distinct values.
  @Test(arguments: [(8, 1), (64, 8), (72, 8), (256, 32), (288, 32)])
  func heapsMatchTheirDefinitions(n: Int, packs: Int) {
    var rng = SplitMix64(seed: UInt64(n * 100 + packs))
    for trial in 0..<60 {
      let weights: [Double] =
        switch trial % 3 {
        case 0: (0..<n).map { _ in Double(Int.random(in: 0...3, using: &rng)) }
        case 1: (0..<n).map { _ in Double.random(in: 0..<100, using: &rng) }
        default: (0..<n).map { _ in (1000 / Double.random(in: 0.05..<1, using: &rng)).rounded() }
        }
      let picks = Int.random(in: 0...(2 * n), using: &rng)
      var counts = Array(repeating: 1, count: n)
      for _ in 0..<picks {
        var best = 0
        for i in 1..<n where weights[i] / Double(counts[i]) > weights[best] / Double(counts[best]) { best = i }
        counts[best] += 1
      }
      #expect(
        EPLB.replicateExperts(weights, replicas: n + picks, algorithm: .deepseek).logicalCount == counts,
        "trial \(trial)")

      let order = weights.indices.sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
      var load = Array(repeating: 0.0, count: packs)
      var filled = Array(repeating: 0, count: packs)
      var pack = Array(repeating: -1, count: n)
      for i in order {
        var best = -1
        for p in 0..<packs where filled[p] < n / packs && (best < 0 || load[p] < load[best]) { best = p }
        pack[i] = best
        load[best] += weights[i]
        filled[best] += 1
      }
      #expect(Robust.balancedPack(weights, packs: packs) == pack, "trial \(trial)")
    }
  }
}
