import EPBStore
import Foundation
import Testing

@testable import EPBEngines
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
      #expect(
        error.description == "p.json: element [0][1]: expert 9007199254740992 is too large; "
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

  /// The stat-mode fixture (`Tests/Fixtures/engines`, written by torch.save).
  static func statDump() throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/engines/expert_distribution_recorder_1764000000.5.pt")
    return Array(try Data(contentsOf: url))
  }

  /// fuzz-pt (ZIPFoundation 0.9.20, "Not enough bits to represent the passed value" in
  /// `Data.readStruct`): a zip64 offset of 2^63 or more trapped converting to `off_t`. The zip is
  /// now read by `StoredZip`, which refuses it. Here the zip64 locator's record offset (8 bytes at
  /// +8 of `PK\6\7`, APPNOTE 4.3.15) is set to 2^63.
  @Test func zip64OffsetOfTwoToThe63IsRefused() throws {
    var bytes = try Self.statDump()
    let locator = try #require(Self.find([0x50, 0x4B, 0x06, 0x07], in: bytes))
    for k in 0..<8 { bytes[locator + 8 + k] = k == 7 ? 0x80 : 0 }
    #expect(
      Self.refusal(of: bytes)
        == "d.pt: not a readable zip archive (torch.save writes one): a zip64 size or offset of 2^63 or more")
  }

  /// A byte of the pickle changed in place: the entry no longer matches the CRC-32 torch.save
  /// stored for it (the check ZIPFoundation made; CRC-32 of "123456789" is 0xCBF43926, the
  /// standard check value).
  @Test func aDamagedEntryFailsItsChecksum() throws {
    #expect(StoredZip.crc32(ArraySlice(Array("123456789".utf8))) == 0xCBF4_3926)
    var bytes = try Self.statDump()
    let zip = try StoredZip(bytes, maxEntries: 100)
    let pickle = try #require(zip.entries.first { $0.name.hasSuffix("/data.pkl") })
    #expect(bytes[pickle.data.lowerBound] == 0x80)  // PROTO, as every pickle of protocol 2+ starts
    bytes[pickle.data.lowerBound + 2] ^= 0xFF
    #expect(Self.refusal(of: bytes) == "d.pt: zip entry '\(pickle.name)' does not match its CRC-32 (a damaged file?)")
  }

  /// A byte of the tensor storage changed: refused by its CRC-32 when the values are read (the
  /// storages' checks run beside the conversion), with the entry named.
  @Test func aDamagedStorageFailsItsChecksum() throws {
    var bytes = try Self.statDump()
    let zip = try StoredZip(bytes, maxEntries: 100)
    let storage = try #require(zip.entries.first { $0.name.hasSuffix("/data/0") })
    bytes[storage.data.lowerBound] ^= 0x01
    #expect(
      Self.refusal(of: bytes)
        == "d.pt: logical_count: zip entry '\(storage.name)' does not match its CRC-32 (a damaged file?)")
  }

  /// Every prefix of a real dump is refused with a `ParseError` (none traps), and the whole file
  /// lists torch.save's entries: data.pkl, byteorder, data/0, version and the rest.
  @Test func everyCutOfARealDumpIsRefused() throws {
    let bytes = try Self.statDump()
    let names = try StoredZip(bytes, maxEntries: 100).entries.map {
      $0.name.split(separator: "/").dropFirst().joined(separator: "/")
    }
    #expect(Set(["data.pkl", "byteorder", "data/0", "version"]).isSubset(of: Set(names)), "\(names)")
    for cut in stride(from: 0, to: bytes.count, by: 7) {
      #expect(throws: ParseError.self) {
        try LoadParser.parseSGLangDump(Array(bytes[..<cut]), source: "d.pt", rowsAsSteps: false, time: nil)
      }
    }
  }

  /// The message `bytes`, as the dump `d.pt`, is refused with; nil when it parses.
  static func refusal(of bytes: [UInt8]) -> String? {
    do {
      _ = try LoadParser.parseSGLangDump(bytes, source: "d.pt", rowsAsSteps: false, time: nil)
      return nil
    } catch {
      return error.description
    }
  }

  static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
    guard bytes.count >= needle.count else { return nil }
    return (0...(bytes.count - needle.count)).last { Array(bytes[$0..<($0 + needle.count)]) == needle }
  }
}
