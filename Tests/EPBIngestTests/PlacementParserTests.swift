import EPBIngest
import EPBPlanner
import Testing

@testable import EPBEngines

/// Parses `text` as an SGLang placement, returning the batch or the error.
func parsePlacement(_ text: String, experts: Int? = nil) -> Result<PlacementBatch, ParseError> {
  Result { () throws(ParseError) in
    try PlacementParser.parseSGLang(Array(text.utf8), source: "p.json", experts: experts)
  }
}

@Suite struct PlacementParserTests {
  @Test func readsLayersAndCountsReplicas() throws {
    // 2 layers × 6 slots of 4 experts; layer 0 replicates 0 and 1, layer 1 replicates 3 twice.
    let text = #"{"physical_to_logical_map": [[0, 1, 2, 3, 0, 1], [3, 2, 1, 0, 3, 3]], "other": {"x": [1]}}"#
    let batch = try #require(parsePlacement(text).value)
    #expect(batch.layers == 2)
    #expect(batch.replicas == 6)
    #expect(batch.experts == 4)  // inferred: largest id 3 + 1
    #expect(batch.placements[0] == LayerPlacement(physicalToLogical: [0, 1, 2, 3, 0, 1], logicalCount: [2, 2, 1, 1]))
    #expect(batch.placements[1].logicalCount == [1, 1, 1, 3])
  }

  @Test func givenExpertCountIsUsed() throws {
    let batch = try #require(parsePlacement(#"{"physical_to_logical_map": [[0, 1, 0, 1]]}"#, experts: 2).value)
    #expect(batch.experts == 2)
    // With 3 experts declared, expert 2 has no replica.
    let e = try #require(parsePlacement(#"{"physical_to_logical_map": [[0, 1, 0, 1]]}"#, experts: 3).error)
    #expect(e.code == .missingExpert)
    #expect(e.location == .element([0]))
    #expect(
      e.description == "p.json: element [0]: expert 2 has no replica; every expert 0 to 2 needs at least one slot")
  }

  @Test func roundTripsTheSGLangExportShape() throws {
    // The pretty form `epbctl export --format sglang` writes (one layer per line).
    let text = """
      {
        "physical_to_logical_map": [
          [0,1,2,3,4,0,1,2],
          [0,0,3,1,4,4,3,2]
        ]
      }

      """
    let batch = try #require(parsePlacement(text, experts: 5).value)
    #expect(batch.placements.map(\.physicalToLogical) == [[0, 1, 2, 3, 4, 0, 1, 2], [0, 0, 3, 1, 4, 4, 3, 2]])
  }

  @Test func errors() throws {
    let cases: [(String, Int?, ParseError.Code, ParseError.Location?)] = [
      ("", nil, .empty, .file),
      ("[[0, 1]]", nil, .wrongShape, nil),
      (#"{"logical_count": [[1, 2]]}"#, nil, .missingKey, .file),
      (#"{"physical_to_logical_map": [[0]], "physical_to_logical_map": [[0]]}"#, nil, .missingKey, nil),
      (#"{"physical_to_logical_map": 3}"#, nil, .wrongShape, .file),
      (#"{"physical_to_logical_map": [0, 1]}"#, nil, .wrongShape, .element([0])),
      (#"{"physical_to_logical_map": [[[0]]]}"#, nil, .wrongShape, .element([0, 0])),
      (#"{"physical_to_logical_map": []}"#, nil, .empty, .file),
      (#"{"physical_to_logical_map": [[]]}"#, nil, .empty, .element([0])),
      (#"{"physical_to_logical_map": [[0, 1], [1, 0, 1]]}"#, nil, .ragged, .element([1])),
      (#"{"physical_to_logical_map": [[0, 1, 1], [1, 0]]}"#, nil, .ragged, .element([1])),
      (#"{"physical_to_logical_map": [[0, -1]]}"#, nil, .invalidIndex, .element([0, 1])),
      (#"{"physical_to_logical_map": [[0, 1.5]]}"#, nil, .invalidIndex, .element([0, 1])),
      (#"{"physical_to_logical_map": [[0, "1"]]}"#, nil, .invalidIndex, .element([0, 1])),
      (#"{"physical_to_logical_map": [[0, 1], [0, 2]]}"#, nil, .missingExpert, .element([0])),
      (#"{"physical_to_logical_map": [[0, 1], [1, 5]]}"#, 2, .invalidIndex, .element([1, 1])),
      (#"{"physical_to_logical_map": [[0, 1]"#, nil, .malformed, nil),
    ]
    for (text, experts, code, location) in cases {
      let e = try #require(parsePlacement(text, experts: experts).error, "\(text)")
      #expect(e.code == code, "\(text): \(e)")
      if let location { #expect(e.location == location, "\(text): \(e)") }
      #expect(e.source == "p.json")
    }
  }

  @Test func messagesNameTheElement() throws {
    let e = try #require(parsePlacement(#"{"physical_to_logical_map": [[0, 1], [1, -3]]}"#).error)
    #expect(e.description == "p.json: element [1][1]: expert id -3 is negative; expected a non-negative integer")
    let r = try #require(parsePlacement(#"{"physical_to_logical_map": [[0, 1], [1]]}"#).error)
    #expect(r.description == "p.json: element [1]: layer has 1 slot; expected 2 like the first layer")
  }
}
