import EPBStore
import EPBTestSupport
import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct SGLangParserTests {
  @Test func readsOneStepOfLayersByExperts() throws {
    let batch = try #require(
      parse(
        #"{"logical_count": [[1, 2, 3], [4.0, 5.5, 0]], "other": {"x": [1, "y"]}}"#,
        .sglang
      ).value)
    #expect(batch.layers == 2)
    #expect(batch.experts == 3)
    #expect(batch.rows == [LoadRow(step: 0, layer: 0), LoadRow(step: 0, layer: 1)])
    #expect(batch.values == [1, 2, 3, 4, 5.5, 0])
    #expect(batch.stepsAreRelative)
  }

  @Test func readsStepsOfLayersByExperts() throws {
    let batch = try #require(
      parse(
        " \n{\"x\": null, \"logical_count\" : [ [[1,2],[3,4]] , [[5,6],[7,8]] ] }\n",
        .sglang
      ).value)
    #expect(batch.layers == 2)
    #expect(batch.experts == 2)
    #expect(batch.rows.map(\.step) == [0, 0, 1, 1])
    #expect(batch.rows.map(\.layer) == [0, 1, 0, 1])
    #expect(batch.values == [1, 2, 3, 4, 5, 6, 7, 8])
  }

  /// The bundled DeepSeek-V3 prefill statistics (Examples/sglang/PROVENANCE.md): 61 decoder
  /// layers of 256 experts, layers 0–2 dense (all zero). The figures were read off the file
  /// with Python's `json` module: every MoE layer of this dump routes 67,108,864 tokens × top-8
  /// slots in all (the rows sum to 2^26), and layer 3 starts 391534, 266707, 219476.
  @Test func readsTheRealSGLangDump() throws {
    let path = "Examples/sglang/prefill_in1024.json"
    let batch = try #require(parse(try TestFiles.bytes(path), .auto, source: path).value)
    #expect(batch.layers == 61)
    #expect(batch.experts == 256)
    #expect(batch.rows.count == 61)
    let rowSums = (0..<61).map { l in batch.values[(l * 256)..<((l + 1) * 256)].reduce(0, +) }
    #expect(rowSums[0..<3] == [0, 0, 0])
    #expect(rowSums[3...].allSatisfy { $0 == 67_108_864 })
    #expect(Array(batch.values[(3 * 256)..<(3 * 256 + 3)]) == [391534, 266707, 219476])
  }

  @Test func missingKeyWrongShapeAndEmpty() {
    #expect(parse(#"{"logical": [[1]]}"#, .sglang).error?.code == .missingKey)
    #expect(parse(#"{"logical_count": [[1]], "logical_count": [[1]]}"#, .sglang).error?.code == .missingKey)
    #expect(parse(#"{"logical_count": [1, 2]}"#, .sglang).error?.code == .wrongShape)
    #expect(parse(#"{"logical_count": [[[[1]]]]}"#, .sglang).error?.code == .wrongShape)
    #expect(parse(#"{"logical_count": 3}"#, .sglang).error?.code == .wrongShape)
    #expect(parse(#"[[1]]"#, .sglang).error?.code == .wrongShape)
    let empty = parse(#"{"logical_count": []}"#, .sglang, source: "e.json").error
    #expect(empty?.code == .empty)
    #expect(empty?.description == "e.json: logical_count is empty; expected [L][E] or [T][L][E] loads")
    #expect(parse(#"{"logical_count": [[]]}"#, .sglang).error?.code == .empty)
    #expect(parse("", .sglang).error?.code == .empty)
    #expect(parse(" \n", .sglang).error?.code == .empty)
  }

  @Test func raggedRowsAndSteps() {
    let shortRow = parse(#"{"logical_count": [[[1, 2], [3, 4]], [[1, 2], [3]]]}"#, .sglang, source: "r.json").error
    #expect(shortRow?.code == .ragged)
    #expect(shortRow?.location == .element([1, 1]))
    #expect(shortRow?.description == "r.json: element [1][1]: row has 1 expert; expected 2 like the first row")
    let longRow = parse(#"{"logical_count": [[1, 2], [3, 4, 5]]}"#, .sglang).error
    #expect(longRow?.code == .ragged)
    #expect(longRow?.location == .element([1]))
    let fewerLayers = parse(#"{"logical_count": [[[1], [2]], [[3]]]}"#, .sglang).error
    #expect(fewerLayers?.code == .ragged)
    #expect(fewerLayers?.location == .element([1]))
    #expect(fewerLayers?.message == "step has 1 layer; expected 2 like the first step")
    let moreLayers = parse(#"{"logical_count": [[[1]], [[2], [3]]]}"#, .sglang).error
    #expect(moreLayers?.code == .ragged)
    let mixedDepth = parse(#"{"logical_count": [[[1]], [2]]}"#, .sglang).error
    #expect(mixedDepth?.code == .wrongShape)
    #expect(mixedDepth?.location == .element([1, 0]))
    let arrayForNumber = parse(#"{"logical_count": [[1, [2]]]}"#, .sglang).error
    #expect(arrayForNumber?.code == .invalidLoad)
    #expect(arrayForNumber?.location == .element([0, 1]))
  }

  @Test func malformedJSONReportsLineAndColumn() {
    let error = parse("{\"logical_count\": [[1, 2]\n  [3, 4]]}", .sglang, source: "m.json").error
    #expect(error?.code == .malformed)
    #expect(error?.location == .position(offset: 28, line: 2, column: 3))
    #expect(error?.description == "m.json:2:3: expected ',' or ']' in array, got '['")
    #expect(parse(#"{"logical_count": [[1, 2]]"#, .sglang).error?.code == .malformed)
    #expect(parse(#"{"logical_count": [[1, 2]]} x"#, .sglang).error?.code == .malformed)
    #expect(parse(#"{"logical_count": [[1, 2,]]}"#, .sglang).error?.code == .invalidLoad)
    #expect(parse(#"{"a": tru, "logical_count": [[1]]}"#, .sglang).error?.code == .malformed)
    #expect(parse(#"{"a": "x\q", "logical_count": [[1]]}"#, .sglang).error?.code == .malformed)
    #expect(parse(#"{"a": "unterminated"#, .sglang).error?.code == .malformed)
    #expect(parse(#"{"logical_count": [[01]]}"#, .sglang).error?.code == .malformed)
    #expect(parse(#"{"logical_count": [[1.]]}"#, .sglang).error?.code == .malformed)
  }

  @Test func keysWithEscapesAreDecoded() throws {
    let batch = try #require(
      parse(
        #"{"a\"b": [{"c": "\u00e9\ud83d\ude00"}], "logical\u005fcount": [[7]]}"#,
        .sglang
      ).value)
    #expect(batch.values == [7])
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
