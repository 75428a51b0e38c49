import EPBPlanner
import EPBTestSupport
import Testing

@Suite struct IncrementalTests {
  /// 4 slots on 2 GPUs, one node. Base GPU0 [0, 0], GPU1 [1, 2]; load [2, 6, 4]; logcnt [2, 1, 1]:
  /// GPU0 = 2/2 + 2/2 = 2, GPU1 = 6 + 4 = 10, peak 10.
  static let small = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)
  static let smallBase = LayerPlacement(physicalToLogical: [0, 0, 1, 2], experts: 3)
  static let smallLoad: [Double] = [2, 6, 4]

  @Test func firstMoveIsTheBestAndThenItStops() {
    // Only expert 0 can donate (count 2), from slot 0 or 1. By hand:
    //   slot 0 -> 1: logcnt [1, 2, 1]; GPU0 = 3 + 2 = 5, GPU1 = 3 + 4 = 7  -> peak 7
    //   slot 0 -> 2: logcnt [1, 1, 2]; GPU0 = 2 + 2 = 4, GPU1 = 6 + 2 = 8  -> peak 8
    //   slot 1 -> 1 ties slot 0 -> 1 at 7; the lower slot wins.
    // Then from [1, 0, 1, 2] only expert 1 can donate (slots 0, 2):
    //   slot 0 -> 0: back to 10; slot 0 -> 2: GPU0 = 2 + 2, GPU1 = 6 + 2 -> 8;
    //   slot 2 -> 0: GPU0 = 6 + 1 = 7, GPU1 = 1 + 4 = 5 -> 7 (not lower); slot 2 -> 2: GPU0 = 8 -> 8.
    // No move lowers 7, so a budget of 2 stops after one move.
    let r = Incremental.plan(
      base: Self.smallBase, load: Self.smallLoad[...], topology: Self.small, policy: .global, maxMoves: 2)
    #expect(r.moves == [ReplicaMove(slot: 0, gpu: 0, from: 0, to: 1, peakAfter: 7)])
    #expect(r.placement == LayerPlacement(physicalToLogical: [1, 0, 1, 2], logicalCount: [1, 2, 1]))
    #expect(r.before.peak == 10)
    #expect(r.peak == 7)
    #expect(r.after.gpuLoad == [5, 7])
    #expect(abs(r.peakReduction - 0.3) < 1e-15)
    // A full plan reaching the mean, 6, cuts 4; this one cuts 3 of them.
    #expect(r.fractionOfFullReduction(fullPlanPeak: 6) == 0.75)
    #expect(r.fractionOfFullReduction(fullPlanPeak: 10) == nil)
    #expect(r.fractionOfFullReduction(fullPlanPeak: 8) == 1.5)
  }

  @Test func zeroBudgetKeepsTheBase() {
    let r = Incremental.plan(
      base: Self.smallBase, load: Self.smallLoad[...], topology: Self.small, policy: .global, maxMoves: 0)
    #expect(r.moves.isEmpty)
    #expect(r.placement == Self.smallBase)
    #expect(r.peak == 10)
  }

  /// 8 slots, 4 GPUs, 2 nodes, 2 groups of 3 experts: node 0 holds {0, 1, 2}, node 1 {3, 4, 5}.
  /// Base GPU0 [0, 0], GPU1 [1, 2], GPU2 [3, 4], GPU3 [5, 4]; load [2, 1, 1, 20, 8, 1];
  /// logcnt [2, 1, 1, 1, 2, 1]: GPU loads 2, 2, 20 + 4 = 24, 1 + 4 = 5; peak 24 on GPU2.
  static let twoNodes = Topology(replicas: 8, gpus: 4, nodes: 2, groups: 2)
  static let nodeBase = LayerPlacement(physicalToLogical: [0, 0, 1, 2, 3, 4, 5, 4], experts: 6)
  static let nodeLoad: [Double] = [2, 1, 1, 20, 8, 1]

  @Test func globalPolicyMayCrossNodes() {
    // By hand, the donors are expert 0 (slots 0, 1) and expert 4 (slots 5, 7):
    //   slot 0 -> 3: logcnt 0:1, 3:2; GPU0 = 10 + 2 = 12, GPU2 = 10 + 4 = 14, GPU3 = 5 -> 14
    //   slot 7 -> 3: logcnt 4:1, 3:2; GPU2 = 10 + 8 = 18, GPU3 = 1 + 10 = 11     -> 18
    //   slot 5 -> 3: GPU2 = 10 + 10 = 20                                          -> 20
    //   slot 0 -> 4: logcnt 4:3; GPU2 = 20 + 8/3                                   -> 22.67
    // so the best single move puts a second replica of expert 3 on node 0.
    let r = Incremental.plan(
      base: Self.nodeBase, load: Self.nodeLoad[...], topology: Self.twoNodes, policy: .global, maxMoves: 1)
    #expect(r.moves == [ReplicaMove(slot: 0, gpu: 0, from: 0, to: 3, peakAfter: 14)])
  }

  @Test func hierarchicalPolicyStaysInsideTheNode() {
    // Expert 3 may only be added on node 1, from the donor there (expert 4, slots 5 and 7):
    // slot 7 -> 3 gives 18 (see above), slot 5 -> 3 gives 20, slot 5 -> 5 gives 20.5.
    let r = Incremental.plan(
      base: Self.nodeBase, load: Self.nodeLoad[...], topology: Self.twoNodes, policy: .hierarchical, maxMoves: 1)
    #expect(r.moves == [ReplicaMove(slot: 7, gpu: 3, from: 4, to: 3, peakAfter: 18)])
    #expect(r.placement.physicalToLogical == [0, 0, 1, 2, 3, 4, 5, 3])
  }

  @Test func propertiesOnRandomLayers() {
    // Every expert keeps a replica, logcnt counts phy2log, the peak never rises, moves <= K,
    // and each recorded peak is the placement's true peak after that move.
    var rng = SplitMix64(seed: 21)
    let t = Topology(replicas: 48, gpus: 8, nodes: 2, groups: 4)
    for policy in [PlacementPolicy.global, .hierarchical] {
      for k in [1, 3, 10] {
        let load = (0..<16).map { _ in Double(Int.random(in: 0...1000, using: &rng)) }
        let base = Planner.placeLayer(
          load.map { $0 * Double.random(in: 0.5...1.5, using: &rng) }[...],
          topology: t, policy: policy, algorithm: .deepseek)
        let r = Incremental.plan(base: base, load: load[...], topology: t, policy: policy, maxMoves: k)
        #expect(r.moves.count <= k)
        #expect(!r.placement.logicalCount.contains(0))
        #expect(r.placement == LayerPlacement(physicalToLogical: r.placement.physicalToLogical, experts: 16))
        #expect(r.peak <= r.before.peak)
        var p = base.physicalToLogical
        var last = r.before.peak
        for m in r.moves {
          #expect(p[m.slot] == m.from)
          p[m.slot] = m.to
          let peak = Planner.evaluate(LayerPlacement(physicalToLogical: p, experts: 16), load: load[...], topology: t)
            .peak
          #expect(peak == m.peakAfter)
          #expect(peak < last)
          last = peak
        }
        #expect(p == r.placement.physicalToLogical)
      }
    }
  }

  @Test func minGainKeepsBaseBelowTheThreshold() {
    // Base peak 10, new [1, 0, 1, 2] peak 7 (see above): a 30 % reduction.
    let new = LayerPlacement(physicalToLogical: [1, 0, 1, 2], logicalCount: [1, 2, 1])
    let go = Incremental.minGain(
      base: Self.smallBase, new: new, load: Self.smallLoad[...], topology: Self.small, minGainPercent: 29.5)
    #expect(!go.keepBase)
    #expect(go.placement == new)
    #expect(go.basePeak == 10 && go.newPeak == 7)
    #expect(abs(go.reduction - 0.3) < 1e-15)
    let stay = Incremental.minGain(
      base: Self.smallBase, new: new, load: Self.smallLoad[...], topology: Self.small, minGainPercent: 30.5)
    #expect(stay.keepBase)
    #expect(stay.placement == Self.smallBase)
    // A worse plan is kept out even with P = 0; an all-zero load keeps the base for P > 0.
    let worse = Incremental.minGain(
      base: new, new: Self.smallBase, load: Self.smallLoad[...], topology: Self.small, minGainPercent: 0)
    #expect(worse.keepBase)
    let zero = Incremental.minGain(
      base: Self.smallBase, new: new, load: [0, 0, 0][...], topology: Self.small, minGainPercent: 1)
    #expect(zero.keepBase && zero.reduction == 0)
  }
}
