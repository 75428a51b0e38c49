import EPBTestSupport
import Testing

@testable import EPBPlanner

/// `--distinct-per-gpu`: the post-pass that keeps each GPU's experts distinct, by hand on small
/// cases and over every algorithm on the bundled DeepSeek-V3 decode step.
@Suite struct DistinctPerGPUTests {
  /// GPU 0 = [0, 0, 1] (one repeat), GPU 1 = [2, 3, 2] (one), GPU 2 = [1, 1, 1] (two): 4 slots.
  @Test func countsRepeatedSlots() {
    #expect(DistinctPerGPU.duplicateSlots([0, 0, 1, 2, 3, 2, 1, 1, 1], slotsPerGPU: 3) == 4)
    #expect(DistinctPerGPU.duplicateSlots([0, 1, 2, 0, 1, 2], slotsPerGPU: 3) == 0)
    #expect(DistinctPerGPU.duplicateSlots([0, 0, 0], slotsPerGPU: 1) == 0)
  }

  /// 5 experts, 6 slots on 3 GPUs (2 each), global. phy2log [0, 0 | 1, 2 | 3, 4], logcnt
  /// [2, 1, 1, 1, 1], load [4, 3, 3, 1, 1], so a replica weighs [2, 3, 3, 1, 1] and the GPUs carry
  /// 4, 6, 2. Slot 0 (expert 0, repeated on GPU 0) may swap with a slot of GPU 1 or 2 (neither
  /// holds expert 0; GPU 0 holds none of 1…4). Resulting loads of the pair (GPU 0, other):
  /// slot 2 (e1): (4 − 2 + 3, 6 − 3 + 2) = (5, 5); slot 3 (e2): (5, 5); slot 4 (e3):
  /// (4 − 2 + 1, 2 − 1 + 2) = (3, 3); slot 5 (e4): (3, 3). The least pair maximum is 3, first at
  /// slot 4: phy2log [3, 0 | 1, 2 | 0, 4], one swap, GPU loads 3, 6, 3 (peak 6 as before).
  @Test func repairsByHand() {
    let t = Topology(replicas: 6, gpus: 3, nodes: 1, groups: 1)
    let before = LayerPlacement(physicalToLogical: [0, 0, 1, 2, 3, 4], experts: 5)
    let load: [Double] = [4, 3, 3, 1, 1]
    let (after, swaps) = DistinctPerGPU.repair(before, load: load[...], topology: t, policy: .global)
    #expect(after.physicalToLogical == [3, 0, 1, 2, 0, 4])
    #expect(after.logicalCount == before.logicalCount)
    #expect(swaps == 1)
    #expect(Planner.evaluate(after, load: load[...], topology: t).gpuLoad == [3, 6, 3])
  }

  /// Hierarchical: swaps stay inside the node. 2 nodes of 2 GPUs, 2 slots each. Node 0 holds
  /// [0, 0 | 1, 2], node 1 [3, 4 | 5, 6]. Under the global policy slot 0 would go to node 1's
  /// lighter GPU; under the hierarchical one only GPU 1 is allowed. Weights: load [2, 5, 1, 1, 1,
  /// 1, 1] / logcnt [2, 1, …] = [1, 5, 1, 1, 1, 1, 1]; GPU 1 carries 6. Slot 2 (e1): (1 + 5,
  /// 6 − 5 + 1) = (6, 2); slot 3 (e2): (1 + 1, 6 − 1 + 1) = (2, 6): tie at 6, the lower slot wins:
  /// [1, 0 | 0, 2 | 3, 4 | 5, 6].
  @Test func hierarchicalSwapsStayInTheNode() {
    let t = Topology(replicas: 8, gpus: 4, nodes: 2, groups: 2)
    let before = LayerPlacement(physicalToLogical: [0, 0, 1, 2, 3, 4, 5, 6], experts: 7)
    let load: [Double] = [2, 5, 1, 1, 1, 1, 1]
    let (after, _) = DistinctPerGPU.repair(before, load: load[...], topology: t, policy: .hierarchical)
    #expect(after.physicalToLogical == [1, 0, 0, 2, 3, 4, 5, 6])
    // Global: GPU 2 (slot 4, e3 of weight 1, GPU load 2) gives the pair (1 + 1, 2 − 1 + 1) = (2, 2).
    let (global, _) = DistinctPerGPU.repair(before, load: load[...], topology: t, policy: .global)
    #expect(global.physicalToLogical == [3, 0, 1, 2, 0, 4, 5, 6])
  }

  /// A state where the first repeat has no partner: GPU 3 (the only GPU without expert 0) holds
  /// only experts 1 and 2, which GPU 0 has. The pass moves on, fixes the other repeats, and the
  /// next pass finds a partner: the end has no repeat and the same counts.
  @Test func laterPassesFreePartners() {
    let t = Topology(replicas: 16, gpus: 4, nodes: 1, groups: 1)
    let before = LayerPlacement(physicalToLogical: [0, 0, 1, 2, 0, 1, 2, 3, 0, 3, 4, 4, 1, 1, 2, 2], experts: 5)
    let load: [Double] = [8, 4, 4, 2, 2]
    let (after, swaps) = DistinctPerGPU.repair(before, load: load[...], topology: t, policy: .global)
    #expect(DistinctPerGPU.duplicateSlots(after.physicalToLogical, slotsPerGPU: 4) == 0)
    #expect(LayerPlacement(physicalToLogical: after.physicalToLogical, experts: 5).logicalCount == before.logicalCount)
    #expect(swaps >= 3)  // 5 repeated slots; one swap removes one or two (one on each GPU)
    // Solved by swaps, not by the last resort (`dealsAScopeRoundRobin` deals this very state).
    #expect(after.physicalToLogical != [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 4, 0, 1, 2, 4])
  }

  /// The last resort, dealt by hand: weights [2, 1, 1, 1, 1] (load [8, 4, 4, 2, 2] over counts
  /// [4, 4, 4, 2, 2]); replicas heaviest first, lower expert on ties: 0 0 0 0 1 1 1 1 2 2 2 2 3 3
  /// 4 4; item i to GPU i mod 4, slot i / 4: GPU 0 = items 0, 4, 8, 12 = [0, 1, 2, 3], GPU 1 =
  /// [0, 1, 2, 3], GPU 2 = items 2, 6, 10, 14 = [0, 1, 2, 4], GPU 3 = [0, 1, 2, 4].
  @Test func dealsAScopeRoundRobin() {
    var p2l = [0, 0, 1, 2, 0, 1, 2, 3, 0, 3, 4, 4, 1, 1, 2, 2]
    DistinctPerGPU.dealScope(&p2l, scope: 0, scopeGPUs: 4, slotsPerGPU: 4, weight: [2, 1, 1, 1, 1])
    #expect(p2l == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 4, 0, 1, 2, 4])
  }

  /// An expert with more replicas than GPUs cannot be kept apart: load [100, 1, 1, 1] on 8 slots
  /// of 2 GPUs gives expert 0 five replicas (EPLB: 100 → 50 → 33 → 25 → 20 stays above 1).
  @Test func refusesMoreReplicasThanGPUs() {
    let t = Topology(replicas: 8, gpus: 2, nodes: 1, groups: 1)
    let loads = LoadMatrix(layers: 1, experts: 4, values: [100, 1, 1, 1])
    #expect(
      throws: TopologyError(
        "layer 7: expert 0 has 5 replicas on 2 GPUs; --distinct-per-gpu needs at most one replica per GPU "
          + "(give more --gpus or fewer --replicas)")
    ) {
      try Planner.plan(loads, layerIDs: [7], topology: t, policy: .global, algorithm: .deepseek, distinctPerGPU: true)
    }
  }

  /// Every algorithm on the bundled DeepSeek-V3 decode step (58 MoE layers, 288 slots, 32 GPUs,
  /// 4 nodes, 8 groups; the golden case's input): with the flag no GPU repeats an expert; the
  /// replica counts are the algorithm's own; under the hierarchical policy each node keeps the
  /// experts it had (so whole groups stay on their node); layers the algorithm already placed
  /// apart are unchanged bit for bit;
  /// each repair's `peakBefore` is the peak of the plan made without the flag.
  @Test(arguments: PlacementAlgorithm.allCases, [PlacementPolicy.hierarchical, .global])
  func everyAlgorithmOnTheDecodeStep(algorithm: PlacementAlgorithm, policy: PlacementPolicy) throws {
    let golden = try Golden.load("sglang_decode_in1000out1000_r288_g8_n4_gpu32")
    let weight = golden.input.weight
    let loads = LoadMatrix(layers: weight.count, experts: weight[0].count, values: weight.flatMap { $0 })
    let ids = Array(0..<loads.layers)
    let t = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    let plain = try Planner.plan(loads, layerIDs: ids, topology: t, policy: policy, algorithm: algorithm)
    let distinct = try Planner.plan(
      loads, layerIDs: ids, topology: t, policy: policy, algorithm: algorithm, distinctPerGPU: true)
    #expect(plain.distinctRepairs == nil)
    let repairs = try #require(distinct.distinctRepairs)
    let slotsPerNode = t.replicas / t.nodes
    for (a, b) in zip(plain.layers, distinct.layers) {
      let before = a.placement.physicalToLogical, after = b.placement.physicalToLogical
      #expect(DistinctPerGPU.duplicateSlots(after, slotsPerGPU: t.slotsPerGPU) == 0, "\(algorithm) layer \(a.layer)")
      #expect(b.placement.logicalCount == a.placement.logicalCount)
      for n in 0..<t.nodes where policy == .hierarchical {
        let slots = (n * slotsPerNode)..<((n + 1) * slotsPerNode)
        #expect(before[slots].sorted() == after[slots].sorted(), "\(algorithm) layer \(a.layer) node \(n)")
      }
      let repeats = DistinctPerGPU.duplicateSlots(before, slotsPerGPU: t.slotsPerGPU)
      if repeats == 0 {
        #expect(after == before)
        #expect(!repairs.contains { $0.layer == a.layer })
      } else {
        let r = try #require(repairs.first { $0.layer == a.layer })
        #expect(r.duplicateSlots == repeats)
        #expect(r.peakBefore == a.statistics.evaluation.peak)
        #expect(r.peakAfter == b.statistics.evaluation.peak)
      }
    }
  }
}
