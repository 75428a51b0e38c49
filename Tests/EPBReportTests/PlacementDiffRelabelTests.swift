import EPBEngines
import EPBPlanner
import Testing

@testable import EPBReport

/// `PlacementDiff(relabel: true)` on the hand-checked fixture (A → B, 8 slots, 4 GPUs, 2 nodes).
@Suite struct PlacementDiffRelabelTests {
  static func diff(relabel: Bool) throws -> PlacementDiff {
    try PlacementDiff(
      before: Fixtures.side(id: 3, layers: [7], placements: [Fixtures.phy2logA]),
      after: Fixtures.side(id: 5, layers: [7], placements: [Fixtures.phy2logB]),
      load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window, relabel: relabel)
  }

  @Test func relabelledMovesByHand() throws {
    // A: GPU0 {0,1}, GPU1 {2,3} (node 0), GPU2 {4,0}, GPU3 {1,2} (node 1).
    // B: GPU0 {0,0}, GPU1 {3,1}, GPU2 {4,4}, GPU3 {3,2}.
    // Raw B: slot 1 (0, same GPU), 2 (3, same GPU), 3 (1, same node), 5 (4, same GPU),
    // 6 (3, cross node): 5 moves, cost 3·1 + 8 + 64 = 75.
    // Prices (1 / 8 / 64) of B's GPU i on A's GPU j, rows B0..B3, columns A0..A3:
    //   B0 {0,0}: 1, 16, 1, 16     B1 {3,1}: 8, 8, 72, 64
    //   B2 {4,4}: 128, 128, 1, 16  B3 {3,2}: 16, 0, 72, 64
    // Optimum 25 two ways (B1→A0, B3→A1, B2→A2, B0→A3, or B0→A2, B2→A3); the first keeps B2 in place.
    // Slots: A0 [0,1] keeps 1, takes 3 in slot 0; A1 [2,3] keeps both; A2 [4,0] keeps 4, copies 4;
    // A3 [1,2] takes 0, 0. B' = [3,1,2,3,4,4,0,0]: slot 0 (3 from GPU1, same node), slot 5 (same GPU),
    // slots 6, 7 (0 from GPU2, same node): 4 moves, 1 same GPU + 3 same node = 25.
    let d = try Self.diff(relabel: true)
    let l = d.layers[0]
    #expect(l.slotsChanged == 4)
    #expect(l.moveCounts == MoveCounts(sameGPU: 1, sameNode: 3, crossNode: 0))
    #expect(l.rawSlotsChanged == 5)
    #expect(l.rawMoveCounts == MoveCounts(sameGPU: 3, sameNode: 1, crossNode: 1))
    #expect(l.moves.map(\.slot) == [0, 5, 6, 7])
    #expect(l.moves.map(\.expert) == [3, 4, 0, 0])
    // Replica counts and peaks do not depend on labels.
    let raw = try Self.diff(relabel: false)
    #expect(l.replicasAdded == raw.layers[0].replicasAdded)
    #expect(l.replicasRemoved == raw.layers[0].replicasRemoved)
    #expect(l.after.peak == raw.layers[0].after.peak)
    #expect(l.after.gpuLoad.sorted() == raw.layers[0].after.gpuLoad.sorted())
    #expect(d.summary.rawSlotsChanged == 5)
    #expect(d.summary.rawMoves == MoveCounts(sameGPU: 3, sameNode: 1, crossNode: 1))
    #expect(d.summary.crossNodeMoves == 0)
  }

  @Test func jsonAddsRawCountsAfterTheContractKeys() throws {
    let json = try Self.diff(relabel: true).json()
    guard case .object(let top) = json, case .array(let layers)? = top.first(where: { $0.0 == "layers" })?.1,
      case .object(let layer)? = layers.first,
      case .object(let summary)? = top.first(where: { $0.0 == "summary" })?.1
    else {
      Issue.record("unexpected JSON shape")
      return
    }
    #expect(top.map(\.0).suffix(2) == ["topology", "relabeled"])
    #expect(layer.map(\.0).suffix(2) == ["raw_slots_changed", "raw_moves"])
    #expect(layer.first(where: { $0.0 == "slots_changed" })?.1 == .int(4))
    #expect(layer.first(where: { $0.0 == "raw_slots_changed" })?.1 == .int(5))
    #expect(summary.map(\.0).suffix(3) == ["raw_slots_changed", "raw_moves", "moves_saved"])
    #expect(summary.first(where: { $0.0 == "moves_saved" })?.1 == .int(1))
    #expect(try Self.diff(relabel: true).table().contains("before relabelling"))
  }

  @Test func withoutRelabelTheOutputIsUnchanged() throws {
    let json = try Self.diff(relabel: false).json()
    let text = json.render()
    #expect(!text.contains("raw_"))
    #expect(!text.contains("relabeled"))
  }
}
