import EPBEngines
import EPBPlanner
import Testing

@testable import EPBReport

@Suite struct PlacementDiffOutputTests {
  @Test func jsonKeysInContractOrder() throws {
    let json = try Fixtures.diff().json()
    // The contract's `diff --json` keys, in its order; extras may only follow them.
    let top = ["from", "to", "window", "layers", "summary"]
    let layer = [
      "layer", "slots_changed", "moves", "replicas_added", "replicas_removed", "peak_before", "peak_after",
      "peak_reduction", "balancedness_before", "balancedness_after",
    ]
    let summary = [
      "peak_reduction_mean", "peak_reduction_max", "layers_improved", "layers_worsened", "slots_changed",
      "cross_node_moves",
    ]
    #expect(Array(Fixtures.keys(json).prefix(top.count)) == top)
    #expect(Fixtures.keys(Fixtures.member(json, "window")) == ["from", "to"])
    let layers = Fixtures.items(Fixtures.member(json, "layers"))
    #expect(layers.count == 1)
    #expect(Array(Fixtures.keys(layers[0]).prefix(layer.count)) == layer)
    #expect(Fixtures.keys(Fixtures.member(layers[0], "moves")) == ["same_gpu", "same_node", "cross_node"])
    #expect(Array(Fixtures.keys(Fixtures.member(json, "summary")).prefix(summary.count)) == summary)
    // Keys are unique at each level.
    #expect(Set(Fixtures.keys(json)).count == Fixtures.keys(json).count)
    #expect(Set(Fixtures.keys(layers[0])).count == Fixtures.keys(layers[0]).count)
  }

  @Test func jsonValues() throws {
    let json = try Fixtures.diff().json()
    #expect(Fixtures.member(json, "from") == .int(3))
    #expect(Fixtures.member(json, "to") == .int(5))
    #expect(Fixtures.member(json, "window") == .object([("from", .int(100)), ("to", .int(199))]))
    let l = Fixtures.items(Fixtures.member(json, "layers"))[0]
    #expect(Fixtures.member(l, "slots_changed") == .int(5))
    #expect(
      Fixtures.member(l, "moves") == .object([("same_gpu", .int(3)), ("same_node", .int(1)), ("cross_node", .int(1))]))
    #expect(Fixtures.member(l, "replicas_added") == .int(2))
    #expect(Fixtures.member(l, "peak_before") == .int(14))
    #expect(Fixtures.member(l, "peak_after") == .int(10))
    #expect(Fixtures.number(Fixtures.member(l, "peak_reduction")).map { abs($0 - 4.0 / 14) < 1e-15 } == true)
    #expect(Fixtures.member(l, "balancedness_after") == .double(0.75))
    let s = Fixtures.member(json, "summary")
    #expect(Fixtures.member(s, "layers_improved") == .int(1))
    #expect(Fixtures.member(s, "cross_node_moves") == .int(1))
    #expect(Fixtures.member(s, "bytes") == .int(2000))
  }

  @Test func moveListOnlyWhenAsked() throws {
    let d = try Fixtures.diff()
    #expect(Fixtures.member(d.json(), "moves") == nil)
    let moves = Fixtures.items(Fixtures.member(d.json(includeMoves: true), "moves"))
    #expect(moves.count == 5)
    #expect(
      Fixtures.keys(moves.first)
        == ["layer", "slot", "gpu", "expert", "replaced_expert", "source", "source_slot", "source_gpu"])
    // The cross-node move of slot 6 (expert 3 from slot 3 on GPU 1).
    #expect(Fixtures.member(moves[4], "source") == .string("cross_node"))
    #expect(Fixtures.member(moves[4], "source_slot") == .int(3))
    #expect(Fixtures.member(moves[4], "source_gpu") == .int(1))
  }

  @Test func renderedJSONStartsWithTheContractKeys() throws {
    let text = try Fixtures.diff().json().render()
    #expect(text.hasPrefix(#"{"from":3,"to":5,"window":{"from":100,"to":199},"layers":[{"layer":7,"slots_changed":5,"#))
  }

  @Test func tableHasOneLinePerLayerAndASummary() throws {
    let text = try Fixtures.diff().table()
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0] == "snapshot 3 -> snapshot 5, window 100 to 199")
    #expect(lines[2].hasPrefix("layer  slots  same_gpu  same_node  cross_node  +rep  -rep"))
    // Layer 7: 5 slots; 3/1/1; +2/−2; peaks 14.0 → 10.0; 4/14 = 28.6%; 7.5/14 = 0.5357 → 0.7500.
    let row = lines[3].split(separator: " ").map(String.init)
    #expect(row == ["7", "5", "3", "1", "1", "2", "2", "14.0", "10.0", "28.6%", "0.5357", "0.7500"])
    // Summary keys are padded to the longest, "weighted balancedness" (21 characters).
    #expect(text.contains("\nslots changed:         5\n"))
    #expect(text.contains("1 improved, 0 unchanged, 0 worsened"))
    #expect(text.contains("1.95 KiB between GPUs, 2.93 KiB local copies"))
    #expect(!lines.contains { $0.hasSuffix(" ") })
  }

  @Test func movesTableListsEveryMove() throws {
    let text = try Fixtures.diff().movesTable()
    let lines = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(lines.count == 6)
    #expect(lines[0] == ["layer", "slot", "gpu", "expert", "replaces", "source", "from", "slot", "from", "gpu"])
    #expect(lines[3] == ["7", "3", "1", "1", "3", "same_node", "1", "0"])
    #expect(lines[5] == ["7", "6", "3", "3", "1", "cross_node", "3", "1"])
  }
}
