import Testing

@testable import EPBPlanner

/// `Robust.lowerWindowPeak`, step 4's repair, on cases worked by hand.
@Suite struct RobustRepairTests {
  /// Loads [60, 30, 10], 4 slots on 2 GPUs, the global policy; start GPU0 = [e0, e1],
  /// GPU1 = [e2, e1] (counts 1, 2, 1): GPU0 60 + 15 = 75, GPU1 10 + 15 = 25.
  ///
  /// Round 1 (GPU0 holds the peak, 75). Swaps: e0↔e2 gives 25 / 75 (no lower), e0↔e1 (slot 3)
  /// 30 / 70, e1↔e2 70 / 30. Re-replications: slot 1 (e1, count 2) becomes e0: counts 2, 1, 1,
  /// GPU0 30 + 30 = 60, GPU1 10 + 30 = 40; slot 3 becomes e0: GPU0 30 + 30, GPU1 10 + 30, the
  /// same 60, found later. The best is 60, slot 1: [e0, e0, e2, e1].
  /// Round 2 (60): the swaps give 40 / 60 and 60 / 40, never lower; no expert but e0 has two
  /// replicas, so no re-replication either. 60 is also the best any placement reaches (counts
  /// 2, 1, 1 are the only ones that fit: replicas of 30, 30, 30, 10 split 60 / 40).
  @Test func reReplicatesWhenSwapsCannotLowerThePeak() throws {
    let t = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)
    let start = LayerPlacement(physicalToLogical: [0, 1, 2, 1], experts: 3)
    let window: [Double] = [60, 30, 10]
    let repaired = try #require(
      Robust.lowerWindowPeak(start, window: window[...], limit: 60, topology: t, policy: .global))
    #expect(repaired.physicalToLogical == [0, 0, 2, 1])
    #expect(repaired.logicalCount == [2, 1, 1])
    #expect(Planner.evaluate(repaired, load: window[...], topology: t).gpuLoad == [60, 40])
    // Below 60 nothing fits: nil, not a placement above the limit.
    #expect(Robust.lowerWindowPeak(start, window: window[...], limit: 50, topology: t, policy: .global) == nil)
    // At or above the start's peak the start comes back unchanged.
    #expect(Robust.lowerWindowPeak(start, window: window[...], limit: 75, topology: t, policy: .global) == start)
  }

  /// Hierarchical: 2 nodes of 1 GPU (2 slots each), 2 groups of 2 experts, loads
  /// [40, 40, 1, 1]; node 0 holds e0, e1 (80), node 1 e2, e3 (2). No change may cross nodes,
  /// and inside node 0 one GPU holds both experts with one replica each: no swap partner and
  /// no expert with two replicas, so the peak of 80 cannot be lowered to 50 (the global policy
  /// could move e1 to node 1).
  @Test func staysInsideTheNodes() {
    let t = Topology(replicas: 4, gpus: 2, nodes: 2, groups: 2)
    let start = LayerPlacement(physicalToLogical: [0, 1, 2, 3], experts: 4)
    let window: [Double] = [40, 40, 1, 1]
    #expect(Robust.lowerWindowPeak(start, window: window[...], limit: 50, topology: t, policy: .hierarchical) == nil)
    let global = Robust.lowerWindowPeak(start, window: window[...], limit: 50, topology: t, policy: .global)
    #expect(global.map { Planner.evaluate($0, load: window[...], topology: t).peak } == 41)
  }
}
