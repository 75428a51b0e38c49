import EPBStore
import EPBTestSupport
import Foundation
import Testing

@testable import EPBEngines
@testable import EPBIngest

/// Hostile inputs are refused early, with `tooLarge` and a message naming the limit.
@Suite struct IngestLimitsTests {
  @Test func npyHeaderClaimingABillionLoadsIsRefusedBeforeAllocating() throws {
    let bytes = SyntheticTrace.npy(
      descr: "<i4", shape: [1_000, 1_000, 1_000], fortranOrder: false, version: 1, data: [])
    let error = try #require(parse(bytes, .npy, source: "huge.npy").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.contains("huge.npy: shape (1000, 1000, 1000) holds 1000000000 loads"), "\(error)")
    #expect(error.description.contains("split it"))
  }

  @Test func npyShapeWhoseProductOverflowsIsRefused() throws {
    let bytes = SyntheticTrace.npy(
      descr: "<i4", shape: [1 << 40, 1 << 40, 1 << 40], fortranOrder: false, version: 1, data: [])
    #expect(try #require(parse(bytes, .npy).error).code == .tooLarge)
  }

  @Test func npyWithTooManyLayersIsRefused() throws {
    let bytes = SyntheticTrace.npy(
      descr: "|u1", shape: [1, 5_000, 1], fortranOrder: false, version: 1, data: [UInt8](repeating: 1, count: 5_000))
    let error = try #require(parse(bytes, .npy, source: "l.npy").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.contains("4096 layers"), "\(error)")
  }

  @Test func csvLayerOrExpertIdBeyondTheLimitsIsRefusedAtItsLine() throws {
    var error = try #require(
      parse("step,layer,expert,load\n0,0,0,1\n0,1099511627776,0,1\n", .csv, source: "l.csv").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.hasPrefix("l.csv:3: layer 1099511627776 is too large"), "\(error)")
    error = try #require(parse("step,layer,expert,load\n0,0,70000,1\n", .csv, source: "e.csv").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.hasPrefix("e.csv:2: expert 70000 is too large"), "\(error)")
  }

  @Test func csvLineLongerThan64KiBIsRefused() throws {
    let text = "step,layer,expert,load\n0,0,0," + String(repeating: "1", count: 70_000) + "\n"
    let error = try #require(parse(text, .csv, source: "long.csv").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.hasPrefix("long.csv:2: line is 68.4 KiB long"), "\(error)")
  }

  @Test func jsonLineLayerBeyondTheLimitIsRefused() throws {
    let error = try #require(parse("{\"step\":0,\"layer\":9999999,\"loads\":[1]}\n", .jsonl, source: "x.jsonl").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.hasPrefix("x.jsonl:1: layer 9999999 is too large"), "\(error)")
  }

  @Test func deeplyNestedJSONIsRefusedWithoutRecursingDeeply() throws {
    let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
    for (text, format) in [
      ("{\"other\": \(deep), \"logical_count\": [[1]]}", InputFormat.sglang),
      ("{\"logical_count\": \(deep)}", .sglang),
      ("{\"load_history\": [{\"x\": \(deep)}]}", .loadHistory),
      ("{\"step\": 0, \"x\": \(deep), \"loads\": [[1]]}\n", .jsonl),
    ] {
      let error = try #require(parse(text, format, source: "deep.json").error)
      #expect([.tooLarge, .wrongShape].contains(error.code), "\(error)")
      #expect(error.description.hasPrefix("deep.json"))
    }
  }

  @Test func rowWithMoreExpertsThanTheLimitIsRefused() throws {
    let row = Array(repeating: "1", count: IngestLimits.maxExperts + 1).joined(separator: ",")
    let error = try #require(parse("{\"logical_count\": [[\(row)]]}", .sglang, source: "w.json").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.contains("more than 65536 experts"), "\(error)")
  }

  @Test func stepWithMoreLayersThanTheLimitIsRefused() throws {
    let layers = Array(repeating: "[1]", count: IngestLimits.maxLayers + 1).joined(separator: ",")
    let error = try #require(parse("{\"logical_count\": [\(layers)]}", .sglang, source: "t.json").error)
    #expect(error.code == .tooLarge)
    #expect(error.description.contains("more than 4096 layers"), "\(error)")
  }

  @Test func fileLargerThanTheCapIsRefusedFromItsSize() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("epbctl-limits-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("big.json").path
    try Data(repeating: 0x20, count: 5_000).write(to: URL(fileURLWithPath: path))
    #expect(throws: InputError.self) { try Ingestor.read(path: path, maxBytes: 4_096) }
    do {
      _ = try Ingestor.read(path: path, maxBytes: 4_096)
    } catch {
      #expect(error.description.contains("big.json: is 4.9 KiB; epbctl reads inputs of at most 4.0 KiB"), "\(error)")
      #expect(error.description.contains("EPBCTL_MAX_INPUT_BYTES"))
    }
    #expect(try Ingestor.read(path: path, maxBytes: 5_000).count == 5_000)
  }

  @Test func streamedLineLongerThanTheLimitStopsBeforeItIsBufferedWhole() throws {
    let pipe = Pipe()
    let writer = pipe.fileHandleForWriting
    let chunk = Data(repeating: UInt8(ascii: "1"), count: 1 << 16)
    // A writer thread: the reader must stop after about 64 KiB + one chunk, not read all 4 MiB.
    let thread = Thread {
      for _ in 0..<64 {
        do { try writer.write(contentsOf: chunk) } catch { break }
      }
      try? writer.close()
    }
    signal(SIGPIPE, SIG_IGN)
    thread.start()
    var reader = LineReader(handle: pipe.fileHandleForReading)
    reader.maxLineBytes = 1 << 16
    #expect(throws: ParseError.self) { _ = try reader.next() }
    try? pipe.fileHandleForReading.close()
  }

  @Test func limitsMessageUnits() {
    #expect(IngestLimits.describe(bytes: 512) == "512 B")
    #expect(IngestLimits.describe(bytes: 1 << 16) == "64.0 KiB")
    #expect(IngestLimits.describe(bytes: 2_000_000_000) == "1.9 GiB")
  }
}
