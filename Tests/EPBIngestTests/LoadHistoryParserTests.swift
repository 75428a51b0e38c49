import EPBStore
import EPBTestSupport
import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct LoadHistoryParserTests {
  @Test func readsExplicitStepsAndTimes() throws {
    let text = #"""
      {"model": "x", "load_history": [
        {"step": 10, "time": 1718000000.5, "logical_expert_load": [[1, 2], [3, 4]], "extra": [1, {"a": []}]},
        {"logical_expert_load": [[5, 6], [7, 8]], "timestamp": 1718000001, "step": 12}
      ]}
      """#
    let batch = try #require(parse(text, .loadHistory).value)
    #expect(batch.layers == 2)
    #expect(batch.experts == 2)
    #expect(!batch.stepsAreRelative)
    #expect(
      batch.rows == [
        LoadRow(step: 10, layer: 0, time: 1_718_000_000.5), LoadRow(step: 10, layer: 1, time: 1_718_000_000.5),
        LoadRow(step: 12, layer: 0, time: 1_718_000_001), LoadRow(step: 12, layer: 1, time: 1_718_000_001),
      ])
    #expect(batch.values == [1, 2, 3, 4, 5, 6, 7, 8])
  }

  func entries(_ text: String) -> Result<LoadBatch, ParseError> {
    parse(#"{"load_history": ["# + text + "]}", .loadHistory, source: "v.json")
  }

  @Test func withoutStepsStepsAreRelative() throws {
    let text = #"{"logical_expert_load": [[1]]}, {"logical_expert_load": [[2]], "step": null}"#
    let batch = try #require(entries(text).value)
    #expect(batch.stepsAreRelative)
    #expect(batch.rows.map(\.step) == [0, 1])
  }

  @Test func mixedStepsAreRefused() {
    let error = parse(
      #"{"load_history": [{"step": 0, "logical_expert_load": [[1]]}, {"logical_expert_load": [[2]]}]}"#,
      .loadHistory, source: "v.json"
    ).error
    #expect(error?.code == .mixedSteps)
    #expect(error?.location == .element([1]))
    #expect(
      error?.description
        == "v.json: element [1]: entry has no step but entry 0 has one; give step on every entry or on none")
  }

  @Test func duplicateAndNegativeStepsAreRefused() {
    let twice = #"{"step": 3, "logical_expert_load": [[1]]}, {"step": 3, "logical_expert_load": [[2]]}"#
    let duplicate = entries(twice).error
    #expect(duplicate?.code == .duplicate)
    #expect(duplicate?.message == "step 3 appears again; first in entry 0")
    let negative = parse(#"{"load_history": [{"step": -1, "logical_expert_load": [[1]]}]}"#, .loadHistory).error
    #expect(negative?.code == .invalidIndex)
    #expect(negative?.location == .element([0]))
    #expect(negative?.message == "step -1 is negative; expected a non-negative integer")
    #expect(entries(#"{"step": 1.5, "logical_expert_load": [[1]]}"#).error?.code == .invalidIndex)
    #expect(entries(#"{"step": "1", "logical_expert_load": [[1]]}"#).error?.code == .invalidIndex)
    #expect(entries(#"{"time": "now", "logical_expert_load": [[1]]}"#).error?.code == .invalidIndex)
  }

  @Test func shapeErrorsNameTheEntry() {
    let ragged = entries(#"{"logical_expert_load": [[1, 2]]}, {"logical_expert_load": [[1, 2], [3, 4]]}"#).error
    #expect(ragged?.code == .ragged)
    #expect(ragged?.location == .element([1]))
    let badLoad = parse(
      #"{"load_history": [{"logical_expert_load": [[1, 2]]}, {"logical_expert_load": [[1, -2]]}]}"#,
      .loadHistory
    ).error
    #expect(badLoad?.location == .element([1, 0, 1]))
    #expect(badLoad?.code == .invalidLoad)
    #expect(parse(#"{"load_history": [{"step": 1}]}"#, .loadHistory).error?.code == .missingKey)
    #expect(parse(#"{"load_history": [3]}"#, .loadHistory).error?.code == .wrongShape)
    #expect(parse(#"{"load_history": {}}"#, .loadHistory).error?.code == .wrongShape)
    #expect(parse(#"{"history": []}"#, .loadHistory).error?.code == .missingKey)
    #expect(parse(#"{"load_history": []}"#, .loadHistory).error?.code == .empty)
    #expect(parse(#"{"load_history": [{"logical_expert_load": []}]}"#, .loadHistory).error?.code == .empty)
    #expect(parse(#"{"load_history": [{"logical_expert_load": [1, 2]}]}"#, .loadHistory).error?.code == .wrongShape)
  }

  @Test func syntheticTraceRoundTrips() throws {
    let trace = SyntheticTrace(steps: 3, layers: 4, experts: 5, seed: 7)
    let batch = try #require(parse(trace.vllmJSON(), .loadHistory).value)
    #expect(batch.values == trace.loads().map(Double.init))
    #expect(batch.rows.count == 12)
    let relative = try #require(parse(trace.vllmJSON(includeSteps: false), .auto, source: "x.json").value)
    #expect(relative.stepsAreRelative)
    #expect(relative.values == batch.values)
  }
}
