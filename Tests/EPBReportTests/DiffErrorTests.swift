import EPBEngines
import EPBPlanner
import Testing

@testable import EPBReport

@Suite struct DiffErrorTests {
  let a7 = Fixtures.side(id: 3, layers: [7], placements: [Fixtures.phy2logA])

  func diff(_ before: PlacementSide, _ after: PlacementSide, layers: [Int]? = nil, loadLayers: [Int] = [3, 7])
    throws(DiffError) -> PlacementDiff
  {
    try PlacementDiff(
      before: before, after: after, load: Fixtures.load, loadLayers: loadLayers, window: Fixtures.window,
      layers: layers)
  }

  @Test func differentTopology() {
    let t1 = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    let t2 = Topology(replicas: 320, gpus: 64, nodes: 4, groups: 8)
    let a = PlacementSide(id: 3, topology: t1, policy: .auto, algorithm: .deepseek, layers: [], placements: [])
    let b = PlacementSide(id: 5, topology: t2, policy: .auto, algorithm: .deepseek, layers: [], placements: [])
    #expect(
      throws: DiffError.differentTopology(
        before: "snapshot 3", beforeTopology: t1, after: "snapshot 5",
        afterTopology: t2)
    ) { try diff(a, b) }
    let message = DiffError.differentTopology(
      before: "snapshot 3", beforeTopology: t1, after: "snapshot 5", afterTopology: t2
    ).message
    #expect(message == "snapshot 3 has 288 replicas on 32 GPUs, snapshot 5 has 320 on 64; diff needs the same topology")
  }

  @Test func differentNodesIsADifferentTopology() {
    let t2 = Topology(replicas: 8, gpus: 4, nodes: 4, groups: 2)
    let b = Fixtures.side(id: 5, layers: [7], placements: [Fixtures.phy2logB], topology: t2)
    #expect(throws: DiffError.self) { try diff(a7, b) }
    let e = DiffError.differentTopology(
      before: "snapshot 3", beforeTopology: Fixtures.topology, after: "snapshot 5", afterTopology: t2)
    #expect(
      e.message == "snapshot 3 has 8 replicas on 4 GPUs, snapshot 5 has 8 on 4 (2 vs 4 nodes); "
        + "diff needs the same topology")
  }

  @Test func differentGroupsOnlyIsAccepted() throws {
    // Groups do not change which slot sits on which GPU and node, so the diff is well defined.
    let t2 = Topology(replicas: 8, gpus: 4, nodes: 2, groups: 4)
    let b = Fixtures.side(id: 5, layers: [7], placements: [Fixtures.phy2logB], topology: t2)
    #expect(try diff(a7, b).layers.count == 1)
  }

  @Test func differentLayerSets() {
    let p = Fixtures.phy2logA
    let a = Fixtures.side(id: 3, layers: [0, 1, 2], placements: [p, p, p])
    let b = Fixtures.side(id: 5, layers: [1, 2, 3], placements: [p, p, p])
    let expected = DiffError.differentLayers(before: "snapshot 3", onlyBefore: [0], after: "snapshot 5", onlyAfter: [3])
    #expect(throws: expected) { try diff(a, b) }
    #expect(
      expected.message == "layer 0 only in snapshot 3, layer 3 only in snapshot 5; pick common layers with --layer N")
  }

  @Test func requestedLayerInOnlyOneSide() {
    let p = Fixtures.phy2logA
    let a = Fixtures.side(id: 3, layers: [3, 7], placements: [p, p])
    let b = Fixtures.side(id: 5, layers: [7], placements: [p])
    #expect(
      throws: DiffError.differentLayers(before: "snapshot 3", onlyBefore: [3], after: "snapshot 5", onlyAfter: [])
    ) {
      try diff(a, b, layers: [3])
    }
    // The common layer alone is fine.
    #expect((try? diff(a, b, layers: [7]))?.layers.count == 1)
  }

  @Test func requestedLayerInNeither() {
    let b = Fixtures.side(id: 5, layers: [7], placements: [Fixtures.phy2logB])
    let expected = DiffError.layerInNeither(layer: 9, before: "snapshot 3", after: "snapshot 5")
    #expect(throws: expected) { try diff(a7, b, layers: [7, 9]) }
    #expect(expected.message == "layer 9 is planned in neither snapshot 3 nor snapshot 5")
  }

  @Test func missingLoadRows() {
    let b = Fixtures.side(id: 5, layers: [7], placements: [Fixtures.phy2logB])
    #expect(throws: DiffError.missingLoad(layers: [7])) {
      try PlacementDiff(
        before: a7, after: b, load: LoadMatrix(layers: 1, experts: 5), loadLayers: [3], window: Fixtures.window)
    }
    #expect(
      DiffError.missingLoad(layers: [1, 2]).message.hasPrefix("the evaluation window has no load for layers 1, 2"))
  }

  @Test func differentExpertCounts() {
    let b = Fixtures.side(id: 5, layers: [7], placements: [[0, 0, 3, 1, 4, 4, 3, 2]], experts: 6)
    #expect(throws: DiffError.differentExperts(layer: 7, before: 5, after: 6, load: 5)) { try diff(a7, b) }
  }

  @Test func malformedPlacements() {
    let short = PlacementSide(
      id: 5, topology: Fixtures.topology, policy: .global, algorithm: .deepseek, layers: [7],
      placements: [LayerPlacement(physicalToLogical: [0, 1, 2, 3, 4], experts: 5)])
    #expect(throws: DiffError.malformedPlacement(side: "snapshot 5", layer: 7, reason: "5 slots for 8 replicas")) {
      try diff(a7, short)
    }
    let badCount = PlacementSide(
      id: 5, topology: Fixtures.topology, policy: .global, algorithm: .deepseek, layers: [7],
      placements: [LayerPlacement(physicalToLogical: Fixtures.phy2logB, logicalCount: [1, 1, 1, 1, 4])])
    #expect(throws: DiffError.malformedPlacement(side: "snapshot 5", layer: 7, reason: "logcnt does not count phy2log"))
    {
      try diff(a7, badCount)
    }
    let unaligned = PlacementSide(
      id: 5, topology: Fixtures.topology, policy: .global, algorithm: .deepseek, layers: [7, 8], placements: [])
    #expect(throws: DiffError.self) { try diff(a7, unaligned) }
  }
}
