import EPBStore
import Foundation
import Testing

@testable import EPBIngest

/// Inputs that crashed a parser under libFuzzer (scripts/reliability/fuzz.sh), kept with their
/// bytes inline (base64 when binary). Each must now end in a `ParseError`, never a trap.
@Suite struct FuzzRegressionTests {
  /// fuzz-placement: an expert id of 2^53 sized every layer's `logcnt` to 2^53 + 1 counters and
  /// trapped on the allocation. Now refused as `tooLarge` at the id.
  @Test func placementWithAHugeExpertIdIsRefused() throws {
    let bytes = Array(#"{"physical_to_logical_map": [[0, 9007199254740992]]}"#.utf8)
    #expect(throws: ParseError.self) { try PlacementParser.parseSGLang(bytes, source: "p.json") }
    do {
      _ = try PlacementParser.parseSGLang(bytes, source: "p.json")
    } catch {
      #expect(error.code == .tooLarge)
      #expect(error.description == "p.json: element [0][1]: expert 9007199254740992 is too large; "
        + "epbctl accepts expert ids below 65536")
    }
  }
}
