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

  /// fuzz-auto (CI, AddressSanitizer heap-buffer-overflow in readVLLMEntry): an array cut off
  /// right after `, ` let the cursor stop at the end of the input, and the entry reader read the
  /// byte past it. `nextElement` now refuses a comma with nothing after it.
  @Test(arguments: [
    #"{"load_history": [{"logical_expert_load": [[1], [2]]}, "#,
    #"{"logical_count": [[1, 2], "#,
  ])
  func arrayCutAfterACommaIsRefused(text: String) throws {
    do {
      _ = try LoadParser.parse(Array(text.utf8), format: .auto, source: "cut.json")
      Issue.record("a truncated input parsed")
    } catch {
      #expect(error.code == .malformed)
      #expect(error.description.hasPrefix("cut.json:1:"))
      #expect(error.message == "expected a value after ',' in array, got end of input")
    }
  }
}
