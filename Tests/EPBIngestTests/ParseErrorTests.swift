import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct ParseErrorTests {
  @Test func descriptionsNameSourceLocationAndExpectation() {
    let element = ParseError(
      source: "trace.json", location: .element([3, 12, 200]), code: .invalidLoad,
      message: "load -4 is negative; expected a finite non-negative number")
    #expect(
      element.description
        == "trace.json: element [3][12][200]: load -4 is negative; expected a finite non-negative number")
    let line = ParseError(
      source: "loads.csv", location: .line(17), code: .malformed,
      message: "expected 4 fields step,layer,expert,load, got 3")
    #expect(line.description == "loads.csv:17: expected 4 fields step,layer,expert,load, got 3")
    #expect(
      ParseError(
        source: "a.json", location: .position(offset: 9, line: 2, column: 3), code: .malformed,
        message: "m"
      ).description == "a.json:2:3: m")
    #expect(
      ParseError(
        source: "a.csv", location: .stepLayer(step: 5, layer: 3), code: .missingExpert,
        message: "m"
      ).description == "a.csv: step 5, layer 3: m")
    #expect(
      ParseError(source: "a.npy", location: .byteOffset(6), code: .malformed, message: "m").description
        == "a.npy: byte 6: m")
    #expect(ParseError(source: "-", location: .file, code: .empty, message: "m").description == "-: m")
  }
}
