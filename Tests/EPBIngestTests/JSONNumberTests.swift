import Testing

@testable import EPBEngines
@testable import EPBIngest

/// Number handling shared by every JSON format and CSV loads.
@Suite struct JSONNumberTests {
  func loads(_ numbers: String) -> [Double]? {
    parse(#"{"logical_count": [[\#(numbers)]]}"#, .sglang).value?.values
  }

  func error(_ number: String) -> ParseError? {
    parse(#"{"logical_count": [[1, \#(number)]]}"#, .sglang, source: "n.json").error
  }

  @Test func integersAreExactUpTo2To53() {
    #expect(loads("9007199254740992, 123456789012, 0, 7") == [9_007_199_254_740_992, 123_456_789_012, 0, 7])
    #expect(loads("9007199254740992")?.first.map { UInt64($0) } == 9_007_199_254_740_992)
  }

  @Test func fractionsAreCorrectlyRounded() throws {
    let text = [
      "0.1", "0.2", "0.3", "1.5", "123.0", "2.5e-3", "1e3", "1E+2", "3.14159265358979",
      "0.000001", "1.7976931348623157e-300", "4.9e-324", "123456.789012345678901234", "0.0",
      "-0", "-0.0", "1e-400",
    ]
    let values = try #require(loads(text.joined(separator: ", ")))
    for (token, value) in zip(text, values) {
      let expected = Double(token)!
      #expect(value.bitPattern == (expected == 0 ? 0 : expected.bitPattern), "\(token)")
    }
  }

  @Test func negativeLoadsAreRefused() {
    let e = error("-4")
    #expect(e?.code == .invalidLoad)
    #expect(e?.location == .element([0, 1]))
    #expect(e?.description == "n.json: element [0][1]: load -4 is negative; expected a finite non-negative number")
    #expect(error("-0.5")?.message == "load -0.5 is negative; expected a finite non-negative number")
  }

  @Test func nonFiniteLoadsAreRefused() {
    for token in ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"] {
      let e = error(token)
      #expect(e?.code == .invalidLoad, "\(token)")
      #expect(e?.location == .element([0, 1]), "\(token)")
    }
    #expect(error("NaN")?.message == "load NaN is not finite; expected a finite non-negative number")
    #expect(error("1e999")?.message == "load 1e999 is not finite; expected a finite non-negative number")
  }

  @Test func nonNumericLoadsAreRefused() {
    #expect(error(#""12""#)?.message == "expected a finite non-negative number, got a string")
    #expect(error("null")?.message == "expected a finite non-negative number, got null")
    #expect(error("true")?.message == "expected a finite non-negative number, got true")
    #expect(error("false")?.code == .invalidLoad)
    #expect(error("{}")?.message == "expected a finite non-negative number, got an object")
  }

  @Test func loadsAbove2To53AreRefused() {
    for token in ["9007199254740993", "12345678901234567890123", "1e16", "9007199254740993.0", "1e300"] {
      let e = error(token)
      #expect(e?.code == .inexactLoad, "\(token)")
      #expect(e?.location == .element([0, 1]))
    }
    #expect(
      error("9007199254740993")?.message
        == "load 9007199254740993 is too large to be exact; expected at most 2^53 = 9007199254740992")
    #expect(loads("9007199254740992.0") == [9_007_199_254_740_992])
  }
}
