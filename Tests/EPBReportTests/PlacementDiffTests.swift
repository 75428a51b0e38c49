import EPBPlanner
import Testing

@testable import EPBReport

@Suite struct PlacementDiffTests {
  // Hand computation for Fixtures (slot: A → B, target GPU/node, where B's expert sits in A):
  //   slot 0: 0 → 0 unchanged
  //   slot 1: 1 → 0, GPU0/node0; A has e0 at slots 0 (GPU0), 5 (GPU2)      → same_gpu from 0
  //   slot 2: 2 → 3, GPU1/node0; A has e3 at slot 3 (GPU1)                 → same_gpu from 3
  //   slot 3: 3 → 1, GPU1/node0; A has e1 at slots 1 (GPU0), 6 (GPU3)      → same_node from 1
  //   slot 4: 4 → 4 unchanged
  //   slot 5: 0 → 4, GPU2/node1; A has e4 at slot 4 (GPU2)                 → same_gpu from 4
  //   slot 6: 1 → 3, GPU3/node1; A has e3 at slot 3 (GPU1, node 0) only    → cross_node from 3
  //   slot 7: 2 → 2 unchanged
  // 5 slots changed: 3 same_gpu, 1 same_node, 1 cross_node.
  // logcnt A [2,2,2,1,1], B [2,1,1,2,2]: e3 +1, e4 +1 (added 2); e1 −1, e2 −1 (removed 2).

  @Test func slotsChangedAndMoveClasses() throws {
    let d = try Fixtures.diff()
    #expect(d.layers.count == 1)
    let l = d.layers[0]
    #expect(l.layer == 7)
    #expect(l.slotsChanged == 5)
    #expect(l.moveCounts == MoveCounts(sameGPU: 3, sameNode: 1, crossNode: 1))
    #expect(l.moveCounts.total == 5)
    #expect(l.moveCounts.transfers == 2)
  }

  @Test func moveListWithSources() throws {
    let moves = try Fixtures.diff().layers[0].moves
    let expected = [
      ExpertMove(
        layer: 7, slot: 1, gpu: 0, expert: 0, replacedExpert: 1, source: .sameGPU, sourceSlot: 0, sourceGPU: 0),
      ExpertMove(
        layer: 7, slot: 2, gpu: 1, expert: 3, replacedExpert: 2, source: .sameGPU, sourceSlot: 3, sourceGPU: 1),
      ExpertMove(
        layer: 7, slot: 3, gpu: 1, expert: 1, replacedExpert: 3, source: .sameNode, sourceSlot: 1, sourceGPU: 0),
      ExpertMove(
        layer: 7, slot: 5, gpu: 2, expert: 4, replacedExpert: 0, source: .sameGPU, sourceSlot: 4, sourceGPU: 2),
      ExpertMove(
        layer: 7, slot: 6, gpu: 3, expert: 3, replacedExpert: 1, source: .crossNode, sourceSlot: 3, sourceGPU: 1),
    ]
    #expect(moves == expected)
  }

  @Test func replicasAddedAndRemoved() throws {
    let l = try Fixtures.diff().layers[0]
    #expect(l.replicasAdded == 2)
    #expect(l.replicasRemoved == 2)
    #expect(
      l.replicaChanges == [
        ReplicaChange(expert: 1, before: 2, after: 1), ReplicaChange(expert: 2, before: 2, after: 1),
        ReplicaChange(expert: 3, before: 1, after: 2), ReplicaChange(expert: 4, before: 1, after: 2),
      ])
  }

  @Test func bytesCountTransfersAndLocalCopiesSeparately() throws {
    // Transfers: 1 same_node + 1 cross_node = 2 × 1000 bytes; local copies: 3 same_gpu × 1000.
    let d = try Fixtures.diff(expertBytes: 1000)
    #expect(d.layers[0].bytes == 2000)
    #expect(d.layers[0].localCopyBytes == 3000)
    #expect(d.summary.bytes == 2000)
    #expect(d.summary.localCopyBytes == 3000)
    let none = try Fixtures.diff(expertBytes: nil)
    #expect(none.layers[0].bytes == nil)
    #expect(none.summary.bytes == nil)
  }

  @Test func peaksReductionAndBalancedness() throws {
    // Per-slot loads in A: e0 8/2=4, e1 4/2=2, e2 6/2=3, e3 2, e4 10 → GPUs [4+2, 3+2, 10+4, 2+3] = [6, 5, 14, 5].
    // In B: e0 4, e1 4, e2 6, e3 2/2=1, e4 10/2=5 → GPUs [4+4, 1+4, 5+5, 1+6] = [8, 5, 10, 7].
    // Mean 30/4 = 7.5; peaks 14 → 10; reduction 4/14; balancedness 7.5/14 → 0.75.
    let l = try Fixtures.diff().layers[0]
    #expect(l.before.gpuLoad == [6, 5, 14, 5])
    #expect(l.after.gpuLoad == [8, 5, 10, 7])
    #expect(l.before.gpuLoad == Fixtures.gpuLoads(Fixtures.phy2logA, Fixtures.load7, gpus: 4))
    #expect(l.after.gpuLoad == Fixtures.gpuLoads(Fixtures.phy2logB, Fixtures.load7, gpus: 4))
    #expect(l.before.peak == 14)
    #expect(l.after.peak == 10)
    #expect(l.peakReductionAbsolute == 4)
    #expect(abs(l.peakReduction - 4.0 / 14.0) < 1e-15)
    #expect(abs(l.before.balancedness - 7.5 / 14) < 1e-15)
    #expect(l.after.balancedness == 0.75)
    #expect(l.trend == .improved)
  }

  @Test func noReplicationPeakComesFromThePlannerWithBsPolicy() throws {
    let l = try Fixtures.diff().layers[0]
    let b = LayerPlacement(physicalToLogical: Fixtures.phy2logB, experts: 5)
    let stats = Planner.statistics(
      of: b, load: Fixtures.load7[...], topology: Fixtures.topology, policy: .global, algorithm: .deepseek)
    #expect(l.noReplicationPeak == stats.noReplicationPeak)
    #expect(l.lowerBound == stats.lowerBound)
  }

  @Test func zeroPeakBeforeGivesZeroReduction() throws {
    let zero = LoadMatrix(layers: 1, experts: 5)
    let d = try PlacementDiff(
      before: Fixtures.side(id: 1, layers: [0], placements: [Fixtures.phy2logA]),
      after: Fixtures.side(id: 2, layers: [0], placements: [Fixtures.phy2logB]),
      load: zero, loadLayers: [0], window: Fixtures.window)
    #expect(d.layers[0].peakReduction == 0)
    #expect(d.layers[0].trend == .unchanged)
  }

  @Test func sourcePrefersTheBestClassThenTheLowestSlot() throws {
    // 8 slots, 4 GPUs, 2 nodes (slots 0-3 node 0, 4-7 node 1).
    // A = [0,1, 2,3, 3,0, 1,2]; B changes slot 6 (GPU3, node1) to expert 0 and slot 2 (GPU1, node0) to expert 3.
    //  slot 6 ← e0: A has e0 at slot 1 (node 0) and slot 5 (GPU2, node 1) → same_node from 5, not the lower 1.
    //  slot 2 ← e3: A has e3 at slot 3 (GPU1) and slot 4 (node 1) → same_gpu from 3.
    // C (cross-node ties): 6 slots, 3 GPUs, 3 nodes; A = [0,1, 2,2, 2,1], B changes slot 0 to e2:
    //  A has e2 at slots 2, 3 (GPU1) and 4 (GPU2), all other nodes → cross_node from 2, the lowest.
    let a = [0, 1, 2, 3, 3, 0, 1, 2]
    let b = [0, 1, 3, 3, 3, 0, 0, 2]
    let d = try PlacementDiff(
      before: Fixtures.side(id: 1, layers: [0], placements: [a], experts: 4),
      after: Fixtures.side(id: 2, layers: [0], placements: [b], experts: 4),
      load: LoadMatrix(layers: 1, experts: 4, values: [1, 1, 1, 1]), loadLayers: [0], window: Fixtures.window)
    let moves = d.layers[0].moves
    #expect(moves.map(\.slot) == [2, 6])
    #expect(moves.map(\.source) == [.sameGPU, .sameNode])
    #expect(moves.map(\.sourceSlot) == [3, 5])

    let t3 = Topology(replicas: 6, gpus: 3, nodes: 3, groups: 1)
    let c = try PlacementDiff(
      before: Fixtures.side(id: 1, layers: [0], placements: [[0, 1, 2, 2, 2, 1]], topology: t3, experts: 3),
      after: Fixtures.side(id: 2, layers: [0], placements: [[2, 1, 2, 2, 2, 1]], topology: t3, experts: 3),
      load: LoadMatrix(layers: 1, experts: 3, values: [1, 1, 1]), loadLayers: [0], window: Fixtures.window)
    #expect(c.layers[0].moves.map(\.source) == [.crossNode])
    #expect(c.layers[0].moves.map(\.sourceSlot) == [2])
    #expect(c.layers[0].moves.map(\.sourceGPU) == [1])
  }

  @Test func expertAbsentFromBeforeIsCrossNodeWithoutSource() throws {
    // A never holds expert 2; B puts it in slot 1.
    let t = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)
    let d = try PlacementDiff(
      before: Fixtures.side(id: 1, layers: [0], placements: [[0, 1, 0, 1]], topology: t, experts: 3),
      after: Fixtures.side(id: 2, layers: [0], placements: [[0, 2, 0, 1]], topology: t, experts: 3),
      load: LoadMatrix(layers: 1, experts: 3, values: [1, 1, 1]), loadLayers: [0], window: Fixtures.window)
    let m = d.layers[0].moves
    #expect(m.count == 1)
    #expect(m.first?.source == .crossNode)
    #expect(m.first?.sourceSlot == nil)
    #expect(m.first?.sourceGPU == nil)
  }

  @Test func globalTopologyWhoseNodesDoNotDivideGPUsCountsEachGPUAsANode() throws {
    // 3 nodes do not divide 4 GPUs: every GPU is its own node, so a copy from GPU0 to GPU1 is cross_node.
    let t = Topology(replicas: 4, gpus: 4, nodes: 3, groups: 1)
    let d = try PlacementDiff(
      before: Fixtures.side(id: 1, layers: [0], placements: [[0, 1, 2, 3]], topology: t, experts: 4),
      after: Fixtures.side(id: 2, layers: [0], placements: [[0, 0, 2, 3]], topology: t, experts: 4),
      load: LoadMatrix(layers: 1, experts: 4, values: [1, 1, 1, 1]), loadLayers: [0], window: Fixtures.window)
    #expect(d.layers[0].moveCounts == MoveCounts(sameGPU: 0, sameNode: 0, crossNode: 1))
  }

  @Test func layerFilterSelectsAndSortsLayers() throws {
    let a = Fixtures.side(id: 3, layers: [7, 3], placements: [Fixtures.phy2logA, Fixtures.phy2logA])
    let b = Fixtures.side(id: 5, layers: [3, 7], placements: [Fixtures.phy2logB, Fixtures.phy2logB])
    let all = try PlacementDiff(
      before: a, after: b, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window)
    #expect(all.layers.map(\.layer) == [3, 7])
    // Layer 3's row is load3, not load7: GPUs after = independent evaluation on load3.
    #expect(all.layers[0].after.gpuLoad == Fixtures.gpuLoads(Fixtures.phy2logB, Fixtures.load3, gpus: 4))
    let only7 = try PlacementDiff(
      before: a, after: b, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window,
      layers: [7, 7])
    #expect(only7.layers.map(\.layer) == [7])
  }

  @Test func identicalPlacementsHaveNoMoves() throws {
    let a = Fixtures.side(id: 1, layers: [7], placements: [Fixtures.phy2logA])
    let d = try PlacementDiff(
      before: a, after: a, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window)
    #expect(d.layers[0].slotsChanged == 0)
    #expect(d.layers[0].moves.isEmpty)
    #expect(d.layers[0].replicasAdded == 0 && d.layers[0].replicasRemoved == 0)
    #expect(d.summary.layersUnchanged == 1)
  }

  @Test func largestReductionLayerIsTheDefaultFocus() throws {
    // Layer 3 on load3 [1,1,1,1,100]: A per slot e0..e2 0.5, e3 1, e4 100 → GPUs [1, 1.5, 100.5, 1];
    // B per slot e0 0.5, e1 1, e2 1, e3 0.5, e4 50 → GPUs [1, 1.5, 100, 1.5]; reduction 0.5/100.5 ≈ 0.5%.
    // Layer 7 reduces by 4/14 ≈ 28.6%, so layer 7 is the default focus.
    let a = Fixtures.side(id: 3, layers: [3, 7], placements: [Fixtures.phy2logA, Fixtures.phy2logA])
    let b = Fixtures.side(id: 5, layers: [3, 7], placements: [Fixtures.phy2logB, Fixtures.phy2logB])
    let d = try PlacementDiff(
      before: a, after: b, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window)
    #expect(d.layers[0].before.gpuLoad == [1, 1.5, 100.5, 1])
    #expect(d.layers[0].after.gpuLoad == [1, 1.5, 100, 1.5])
    #expect(d.layerWithLargestReduction == 7)
  }
}
