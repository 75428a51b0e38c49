import EPBStore
import EPBTestSupport
import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct JSONLinesDecoderTests {
  @Test func readsPerLayerLines() throws {
    let text = """
      {"step": 4, "layer": 1, "loads": [1, 2], "time": 12.5}

      {"layer": 0, "step": 4, "loads": [3, 4]}\r
      {"step": 5, "layer": 0, "loads": [5, 6], "note": "x"}
      """
    let batch = try #require(parse(text, .jsonl).value)
    #expect(batch.layers == nil)
    #expect(batch.experts == 2)
    #expect(!batch.stepsAreRelative)
    #expect(
      batch.rows == [
        LoadRow(step: 4, layer: 1, time: 12.5), LoadRow(step: 4, layer: 0), LoadRow(step: 5, layer: 0),
      ])
    #expect(batch.values == [1, 2, 3, 4, 5, 6])
  }

  @Test func readsPerStepLinesWithAndWithoutSteps() throws {
    let twoSteps = "{\"step\": 7, \"loads\": [[1, 2], [3, 4]]}\n{\"step\": 9, \"loads\": [[5, 6], [7, 8]]}\n"
    let explicit = try #require(
      parse(
        twoSteps,
        .jsonl
      ).value)
    #expect(explicit.layers == 2)
    #expect(explicit.rows.map(\.step) == [7, 7, 9, 9])
    #expect(explicit.rows.map(\.layer) == [0, 1, 0, 1])
    let relative = try #require(parse("{\"loads\": [[1]]}\n{\"loads\": [[2]]}\n", .jsonl).value)
    #expect(relative.stepsAreRelative)
    #expect(relative.rows.map(\.step) == [0, 1])
  }

  @Test func errorsNameTheLine() {
    func error(_ text: String) -> ParseError? { parse(text, .jsonl, source: "l.jsonl").error }
    let negative = error(
      "{\"step\": 0, \"layer\": 0, \"loads\": [1, 2]}\n\n{\"step\": 0, \"layer\": 1, \"loads\": [1, -4]}")
    #expect(negative?.location == .line(3))
    #expect(negative?.description == "l.jsonl:3: loads[1]: load -4 is negative; expected a finite non-negative number")
    let ragged = error("{\"step\": 0, \"loads\": [[1, 2]]}\n{\"step\": 1, \"loads\": [[1, 2], [3, 4]]}")
    #expect(ragged?.code == .ragged)
    #expect(ragged?.location == .line(2))
    let duplicate = error("{\"step\": 0, \"layer\": 2, \"loads\": [1]}\n{\"step\": 0, \"layer\": 2, \"loads\": [1]}")
    #expect(duplicate?.code == .duplicate)
    #expect(duplicate?.description == "l.jsonl:2: step 0, layer 2 appears again; first at line 1")
    let mixed = error("{\"step\": 0, \"loads\": [[1]]}\n{\"loads\": [[1]]}")
    #expect(mixed?.code == .mixedSteps)
    #expect(mixed?.location == .line(2))
    #expect(error("{\"step\": 0, \"layer\": 0, \"loads\": [1]}\n{\"step\": 1, \"loads\": [[1]]}")?.code == .wrongShape)
    #expect(error("{\"layer\": 0, \"loads\": [1]}")?.code == .mixedSteps)
    #expect(error("{\"step\": 0, \"loads\": [1]}")?.code == .wrongShape)
    #expect(error("{\"step\": 0}")?.code == .missingKey)
    #expect(
      error("{\"step\": -2, \"loads\": [[1]]}")?.message
        == "step -2 is negative; expected a non-negative integer")
    let syntax = error("{\"step\": 0, \"loads\": [[1]]}\n{\"step\": 1 \"loads\": [[1]]}")
    #expect(syntax?.code == .malformed)
    #expect(syntax?.description == "l.jsonl:2: column 12: expected ',' or '}' in object, got '\"'")
    #expect(error("[1, 2]")?.code == .wrongShape)
    #expect(error("{\"step\": 0, \"loads\": [[1]]} {}")?.code == .malformed)
    #expect(error("\n\n")?.code == .empty)
  }

  @Test func decodesIncrementallyInBatches() throws {
    var decoder = JSONLinesDecoder(source: "-")
    try decoder.append(line: Array(#"{"loads": [[1, 2], [3, 4]]}"#.utf8), lineNumber: 1)
    try decoder.append(line: Array(#"{"loads": [[5, 6], [7, 8]]}"#.utf8), lineNumber: 2)
    #expect(decoder.pendingRowCount == 4)
    #expect(decoder.experts == 2)
    let first = decoder.takeBatch()
    #expect(first.rows.map(\.step) == [0, 0, 1, 1])
    #expect(first.values == [1, 2, 3, 4, 5, 6, 7, 8])
    #expect(first.stepsAreRelative)
    #expect(decoder.pendingRowCount == 0)
    // A bad line is not applied; the decoder keeps going.
    #expect(throws: ParseError.self) {
      try decoder.append(line: Array(#"{"loads": [[9, 9], [9, -1]]}"#.utf8), lineNumber: 3)
    }
    try decoder.append(line: Array(#"{"loads": [[9, 10], [11, 12]]}"#.utf8), lineNumber: 4)
    let second = decoder.takeBatch()
    #expect(second.rows.map(\.step) == [0, 0])
    #expect(second.values == [9, 10, 11, 12])
    #expect(second.layers == 2)
  }

  @Test func feedsChunksSplitAnywhere() throws {
    let text = Array(
      ("{\"step\": 0, \"layer\": 0, \"loads\": [1, 2]}\n{\"step\": 0, \"layer\": 1, \"loads\": [3, 4]}\n"
        + "{\"step\": 1, \"layer\": 0, \"loads\": [5, 6]}").utf8)
    for split in [1, 7, 40, 41, 100] {
      var decoder = JSONLinesDecoder(source: "-")
      var start = 0
      while start < text.count {
        try decoder.feed(Array(text[start..<min(start + split, text.count)]))
        start += split
      }
      try decoder.finish()
      let batch = decoder.takeBatch()
      #expect(batch.values == [1, 2, 3, 4, 5, 6], "split \(split)")
      #expect(batch.rows == [LoadRow(step: 0, layer: 0), LoadRow(step: 0, layer: 1), LoadRow(step: 1, layer: 0)])
    }
    var decoder = JSONLinesDecoder(source: "-")
    try decoder.feed(Array("{\"step\": 0, \"layer\": 0, \"loads\": [1]}\n\n{\"step\": 0, \"layer\": 0, ".utf8))
    let error = #expect(throws: ParseError.self) {
      try decoder.feed(Array("\"loads\": [2]}\n".utf8))
    }
    #expect(error?.location == .line(3))
  }

  @Test func syntheticTraceRoundTrips() throws {
    let trace = SyntheticTrace(steps: 3, layers: 2, experts: 4)
    let batch = try #require(parse(trace.jsonLines(), .auto, source: "x.jsonl").value)
    #expect(batch.values == trace.loads().map(Double.init))
    #expect(batch.layers == 2)
  }
}
