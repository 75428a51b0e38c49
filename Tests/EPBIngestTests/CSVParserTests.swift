import EPBStore
import EPBTestSupport
import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct CSVParserTests {
  @Test func readsLongFormInAnyOrder() throws {
    let text = "step,layer,expert,load\r\n5,1,1,4\r\n5,0,0,1\r\n 5 , 0 , 1 , 2.5 \r\n\r\n5,1,0,3\r\n"
    let batch = try #require(parse(text, .csv).value)
    #expect(batch.layers == nil)
    #expect(batch.experts == 2)
    #expect(!batch.stepsAreRelative)
    #expect(batch.rows == [LoadRow(step: 5, layer: 1), LoadRow(step: 5, layer: 0)])
    #expect(batch.values == [3, 4, 1, 2.5])
  }

  @Test func toleratesBOMAndMissingFinalNewline() throws {
    let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("Step,Layer,Expert,Load\n0,0,0,9007199254740992".utf8)
    let batch = try #require(parse(bytes, .csv).value)
    #expect(batch.values == [9_007_199_254_740_992])
  }

  @Test func wrongHeaderAndFieldCount() {
    let header = parse("step,layer,load\n0,0,1\n", .csv, source: "h.csv").error
    #expect(header?.code == .wrongHeader)
    #expect(header?.description == "h.csv:1: expected header step,layer,expert,load, got 'step,layer,load'")
    let fields = parse("step,layer,expert,load\n0,0,0,1\n0,0,1\n", .csv, source: "loads.csv").error
    #expect(fields?.code == .malformed)
    #expect(fields?.description == "loads.csv:3: expected 4 fields step,layer,expert,load, got 3")
    #expect(parse("step,layer,expert,load\n", .csv).error?.code == .empty)
    #expect(parse("step,layer,expert,load\n\n  \n", .csv).error?.code == .empty)
  }

  @Test func badValuesNameTheLine() {
    func error(_ line: String) -> ParseError? {
      parse("step,layer,expert,load\n0,0,0,1\n\(line)\n", .csv, source: "c.csv").error
    }
    #expect(error("0,0,1,-4")?.description == "c.csv:3: load -4 is negative; expected a finite non-negative number")
    #expect(error("0,0,1,nan")?.code == .invalidLoad)
    #expect(error("0,0,1,inf")?.message == "load inf is not finite; expected a finite non-negative number")
    #expect(error("0,0,1,1e999")?.code == .invalidLoad)
    #expect(error("0,0,1,abc")?.message == "expected a finite non-negative number, got 'abc'")
    #expect(error("0,0,1,")?.message == "load is empty; expected a finite non-negative number")
    #expect(error("0,0,1,9007199254740993")?.code == .inexactLoad)
    #expect(error("-1,0,1,1")?.message == "step -1 is negative; expected a non-negative integer")
    #expect(error("0,x,1,1")?.code == .invalidIndex)
    #expect(error("0,0,1.5,1")?.location == .line(3))
    #expect(parse("step,layer,expert,load\n0,0,0,.5\n", .csv).value?.values == [0.5])
  }

  @Test func duplicateNamesBothLines() {
    let error = parse("step,layer,expert,load\n0,0,0,1\n0,0,1,2\n0,0,0,3\n", .csv, source: "d.csv").error
    #expect(error?.code == .duplicate)
    #expect(error?.location == .line(4))
    #expect(error?.description == "d.csv:4: step 0, layer 0, expert 0 given again; first at line 2")
  }

  @Test func duplicateIsFoundEvenWhenExpertsAreAlsoMissing() {
    let error = parse("step,layer,expert,load\n0,0,0,1\n0,0,0,2\n0,0,3,2\n", .csv).error
    #expect(error?.code == .duplicate)
    #expect(error?.location == .line(3))
  }

  @Test func missingExpertNamesStepLayerAndExpert() {
    let error = parse(
      "step,layer,expert,load\n0,0,0,1\n0,0,1,1\n0,0,2,1\n1,3,0,1\n1,3,2,1\n", .csv,
      source: "m.csv"
    ).error
    #expect(error?.code == .missingExpert)
    #expect(error?.location == .stepLayer(step: 1, layer: 3))
    #expect(error?.message.hasPrefix("expert 1 is missing (this step and layer first appear at line 5)") == true)
    let sparse = parse("step,layer,expert,load\n0,0,0,1\n0,1,7,1\n", .csv).error
    #expect(sparse?.code == .missingExpert)
    #expect(sparse?.location == .stepLayer(step: 0, layer: 0))
  }

  @Test func syntheticTraceRoundTrips() throws {
    let trace = SyntheticTrace(steps: 2, layers: 3, experts: 4)
    let batch = try #require(parse(trace.csv(), .auto, source: "x.csv").value)
    #expect(batch.values == trace.loads().map(Double.init))
    #expect(batch.rows.map(\.layer) == [0, 1, 2, 0, 1, 2])
  }
}
