import EPBTestSupport
import Foundation
import Testing

/// `n` JSON lines, one per step (1 layer of 3 experts): step s holds [s, s + 1, 7].
private func jsonLines(steps: Range<Int>, bump: Int? = nil) -> String {
  steps.map { s in
    let first = s == bump ? s + 1_000 : s
    return "{\"step\":\(s),\"layer\":0,\"loads\":[\(first),\(s + 1),7]}\n"
  }.joined()
}

/// Issue 21, streams and partial failures: what a recorder sees when a stream or one file of
/// several fails, and what it may retry.
@Suite struct StreamAndPartialFailureTests {
  /// Lines 1–1,500 are good, line 1,501 is not: with batches of 1,000 lines the first batch
  /// (steps 0–999) is committed, the second (lines 1,001–1,501) is not, and the message says so.
  /// Sending the good lines again is a retry: identical rows are accepted, the rest is stored.
  @Test func failedStreamSaysWhatWasCommittedAndIdenticalRowsCanBeResent() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let good = jsonLines(steps: 0..<1_500)
    var r = try epbctl(
      ["ingest", "-", "--format", "jsonl", "--batch-lines", "1000"], db: db, stdin: Data((good + "{bad\n").utf8))
    #expect(r.status == 1)
    #expect(r.stderr.contains("-:1501:"), "\(r.stderr)")
    #expect(
      r.stderr.contains("steps 0–999 (lines 1–1000, 1 batch) were committed before line 1501 failed"), "\(r.stderr)")
    #expect(r.stderr.contains("nothing from line 1001 on was stored"), "\(r.stderr)")
    #expect(try sqlite(db, "SELECT COUNT(*) || ' ' || MIN(step) || ' ' || MAX(step) FROM load") == "1000 0 999")

    // The recorder sends the whole stream again: no --replace needed, nothing stored twice.
    r = try epbctl(
      ["ingest", "-", "--format", "jsonl", "--batch-lines", "1000", "--json"], db: db, stdin: Data(good.utf8))
    #expect(r.status == 0, "\(r.stderr)")
    let files = try #require(r.jsonObject?["files"] as? [[String: Any]])
    #expect(files.map { $0["status"] as? String } == ["already-ingested", "ingested"])
    #expect(files.map { $0["already_stored_rows"] as? Int } == [1_000, 0])
    #expect(try sqlite(db, "SELECT COUNT(*) || ' ' || MAX(step) FROM load") == "1500 1499")
    // Σ over steps 0…1499 of (s + s + 1 + 7) = 2·(1499·1500/2) + 8·1500, each step once.
    #expect(try sqlite(db, "SELECT CAST(SUM(total) AS INTEGER) FROM load") == String(1499 * 1500 + 8 * 1500))

    // A conflicting value is still refused, naming the row; nothing of that batch is stored.
    r = try epbctl(
      ["ingest", "-", "--format", "jsonl"], db: db, stdin: Data(jsonLines(steps: 10..<20, bump: 12).utf8))
    #expect(r.status == 1)
    #expect(r.stderr.contains("step 12 layer 0 is already stored in series 'default' with other loads"), "\(r.stderr)")
    #expect(r.stderr.contains("nothing from this stream was committed"), "\(r.stderr)")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == "1500")
  }

  /// An empty stream is an error (a recorder whose pipe broke is not told all went well), with
  /// no table header on stdout.
  @Test func emptyStdinIsAnErrorWithoutATable() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    for input in ["", "\n  \n"] {
      let r = try epbctl(["ingest", "-", "--format", "jsonl"], db: db, stdin: Data(input.utf8))
      #expect(r.status == 1)
      #expect(r.stdout.isEmpty, "\(r.stdout)")
      #expect(r.stderr.contains("stdin held no JSON lines, so nothing was stored"), "\(r.stderr)")
    }
  }

  /// `ingest good.npy bad.npy other.npy --json`: every file is reported, the good ones stored,
  /// the bad one `failed` with its error; the exit status is 1.
  @Test func jsonReportsStoredAndFailedFiles() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let good = try dir.write("good.npy", npyInt32(shape: [1, 2, 2], values: [1, 2, 3, 4]))
    let bad = try dir.write("bad.npy", Data([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF]))
    let other = try dir.write("other.npy", npyInt32(shape: [2, 2, 2], values: [5, 6, 7, 8, 9, 10, 11, 12]))
    let r = try epbctl(["ingest", good, bad, other, "--json"], db: db)
    #expect(r.status == 1)
    let files = try #require(r.jsonObject?["files"] as? [[String: Any]], "\(r.stdout)")
    #expect(files.map { $0["path"] as? String } == [good, bad, other])
    #expect(files.map { $0["status"] as? String } == ["ingested", "failed", "ingested"])
    #expect(files[0]["total_load"] as? Double == 10)
    #expect(files[2]["steps"] as? Int == 2)
    let error = try #require(files[1]["error"] as? String)
    #expect(error.hasPrefix("\(bad): "), "\(error)")
    #expect(r.stderr.contains("error: \(bad): "), "\(r.stderr)")
    // The contract's keys, in order, on the stored entries.
    #expect(keysInOrder(r.stdout, ["series", "files", "path", "status", "steps", "layers", "experts", "total_load"]))
    // 1 + 2 steps of 2 layers: 6 rows, Σ 1…12 = 78.
    #expect(try sqlite(db, "SELECT COUNT(*) || ' ' || CAST(SUM(total) AS INTEGER) FROM load") == "6 78")
  }

  /// The same loads as `.npy` and then as SGLang JSON (other bytes, so not `already-ingested`)
  /// are appended, and the second ingest says that its steps repeat stored ones.
  @Test func sameLoadsInAnotherFormatAreReportedAsRepeats() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let values: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]  // [3 steps][2 layers][2 experts]
    let npy = try dir.write("trace.npy", npyInt32(shape: [3, 2, 2], values: values))
    var matrix: [[[Int32]]] = []
    for s in 0..<3 {
      var layers: [[Int32]] = []
      for l in 0..<2 { layers.append([values[s * 4 + l * 2], values[s * 4 + l * 2 + 1]]) }
      matrix.append(layers)
    }
    let sglang = try dir.write(
      "trace.json", "{\"logical_count\": \(String(decoding: try JSONEncoder().encode(matrix), as: UTF8.self))}")
    var r = try epbctl(["ingest", npy, "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect((r.jsonObject?["files"] as? [[String: Any]])?.first?["repeats_stored_steps"] as? Int == 0)
    #expect(!r.stderr.contains("repeat"), "\(r.stderr)")
    r = try epbctl(["ingest", sglang, "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let file = try #require((r.jsonObject?["files"] as? [[String: Any]])?.first)
    #expect(file["status"] as? String == "ingested")
    #expect(file["first_step"] as? Int == 3)
    #expect(file["repeats_stored_steps"] as? Int == 3)
    #expect(
      r.stderr.contains("3 of 3 new steps (3–5) repeat the loads of stored steps (step 3 has the loads of step 0)"),
      "\(r.stderr)")
    // Other loads are no repeat: one changed value in the last step.
    var changed = values
    changed[11] = 80
    let other = try dir.write("other.npy", npyInt32(shape: [3, 2, 2], values: changed))
    r = try epbctl(["ingest", other, "--json"], db: db)
    #expect((r.jsonObject?["files"] as? [[String: Any]])?.first?["repeats_stored_steps"] as? Int == 2)
  }
}
