import EPBTestSupport
import Foundation
import Testing

@Suite struct IngestCommandTests {
  @Test func ingestsEveryFormatAndReportsTheContractKeys() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    // sglang: one step [61][256]
    var r = try epbctl(["ingest", decodeFile, "--series", "dsv3", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(keysInOrder(r.stdout, ["series", "files", "path", "status", "steps", "layers", "experts", "total_load"]))
    let file = (r.jsonObject?["files"] as? [[String: Any]])?.first
    #expect(file?["status"] as? String == "ingested")
    #expect(file?["steps"] as? Int == 1)
    #expect(file?["layers"] as? Int == 61)
    #expect(file?["experts"] as? Int == 256)
    // The file's total, summed independently here from the JSON.
    let raw =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: decodeFile))) as! [String: Any]
    let total = (raw["logical_count"] as! [[Double]]).joined().reduce(0, +)
    #expect(file?["total_load"] as? Double == total)

    // vllm: 200 steps of [6][64] with explicit steps
    r = try epbctl(["ingest", vllmFile, "--series", "demo", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(((r.jsonObject?["files"] as? [[String: Any]])?.first?["steps"] as? Int) == 200)

    // csv, long form, any row order: 2 steps × 1 layer × 2 experts
    let csv = try dir.write("loads.csv", "step,layer,expert,load\n1,0,1,7\n0,0,0,1\n1,0,0,5\n0,0,1,2\n")
    r = try epbctl(["ingest", csv, "--series", "small", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["loads", "--series", "small", "--layer", "0", "--json"], db: db)
    #expect((r.jsonObject?["loads"] as? [Double]) == [6, 9])

    // npy [T=2, L=1, E=2] appended after step 1
    let npy = try dir.write("t.npy", npyInt32(shape: [2, 1, 2], values: [10, 20, 30, 40]))
    r = try epbctl(["ingest", npy, "--series", "small", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["loads", "--series", "small", "--layer", "0", "--from", "2", "--to", "3", "--json"], db: db)
    #expect((r.jsonObject?["loads"] as? [Double]) == [40, 60])

    // jsonl from a file and from stdin
    let jsonl = try dir.write(
      "l.jsonl", "{\"step\":10,\"layer\":0,\"loads\":[1,1]}\n{\"step\":11,\"layer\":0,\"loads\":[2,2]}\n")
    r = try epbctl(["ingest", jsonl, "--series", "small"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(
      ["ingest", "-", "--format", "jsonl", "--series", "small", "--json"], db: db,
      stdin: Data("{\"step\":12,\"loads\":[[3,4]]}\n".utf8))
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["series", "--json"], db: db)
    let small = (r.jsonObject?["series"] as? [[String: Any]])?.first { $0["name"] as? String == "small" }
    #expect(small?["steps"] as? Int == 7)
    #expect(small?["last_step"] as? Int == 12)
    #expect((small?["total_load"] as? NSNumber)?.doubleValue == Double(6 + 9 + 100 + 2 + 4 + 7))
    #expect(
      keysInOrder(r.stdout, ["series", "name", "layers", "experts", "steps", "first_step", "last_step", "total_load"]))
  }

  /// A CSV line past the 64 KiB limit on stdin is refused while reading (stdin has no size to
  /// check up front), by number, and the line before it is not stored; short lines still work.
  @Test func overlongCSVLineOnStdinIsRefusedWhileReading() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let long = "step,layer,expert,load\n0,0,0,1\n0,0,1," + String(repeating: "1", count: 70_000) + "\n"
    var r = try epbctl(["ingest", "-", "--format", "csv"], db: db, stdin: Data(long.utf8))
    #expect(r.status == 1)
    #expect(r.stderr.contains("-: line 3 is longer than 64.0 KiB"), "\(r.stderr)")
    r = try epbctl(
      ["ingest", "-", "--format", "csv", "--json"], db: db, stdin: Data("step,layer,expert,load\n0,0,0,1\n".utf8))
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM step") == "1")
  }

  @Test func sameContentAgainIsAlreadyIngested() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", prefillFile], db: db)
    let copy = try dir.write("copy.json", Data(contentsOf: URL(fileURLWithPath: prefillFile)))
    let r = try epbctl(["ingest", copy, "--json"], db: db)
    #expect(r.status == 0)
    #expect(((r.jsonObject?["files"] as? [[String: Any]])?.first?["status"] as? String) == "already-ingested")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM step") == "1")
  }

  /// Each bad input: non-zero exit, a message naming the file and the place, and nothing written.
  @Test(arguments: [
    ("bad.json", "{\"logical_count\": [[1, 2], [3", "bad.json:1:"),
    ("neg.json", "{\"logical_count\": [[1, 2], [3, -4]]}", "neg.json: element [1][1]"),
    ("ragged.json", "{\"logical_count\": [[1, 2], [3]]}", "ragged.json"),
    ("nan.jsonl", "{\"step\":0,\"layer\":0,\"loads\":[1,NaN]}\n", "nan.jsonl:1"),
    ("str.csv", "step,layer,expert,load\n0,0,0,abc\n", "str.csv:2"),
    ("hdr.csv", "step,layer,load\n0,0,1\n", "hdr.csv:1"),
    ("dup.csv", "step,layer,expert,load\n0,0,0,1\n0,0,0,2\n", "dup.csv:3"),
    ("empty.json", "", "empty.json"),
    ("big.json", "{\"logical_count\": [[9007199254740993, 1]]}", "big.json: element [0][0]"),
  ])
  func badInputIsRefusedWithItsPlace(name: String, content: String, mention: String) throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", "-", "--format", "sglang"], db: db, stdin: Data("{\"logical_count\":[[5,5]]}".utf8))
    let path = try dir.write(name, content)
    let r = try epbctl(["ingest", path], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains(mention), "\(r.stderr)")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == "1")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM ingest") == "1")
  }

  @Test func shapeMismatchAndStoredRowsAreRefused() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let a = try dir.write("a.csv", "step,layer,expert,load\n0,0,0,1\n0,0,1,1\n")
    try epbctl(["ingest", a], db: db)
    let wide = try dir.write("wide.csv", "step,layer,expert,load\n5,0,0,1\n5,0,1,1\n5,0,2,1\n")
    var r = try epbctl(["ingest", wide], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("wide.csv: the input has 3 experts per layer, the series has 2"), "\(r.stderr)")
    let again = try dir.write("again.csv", "step,layer,expert,load\n0,0,0,9\n0,0,1,9\n")
    r = try epbctl(["ingest", again], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("again.csv: step 0 layer 0 is already stored"), "\(r.stderr)")
    #expect(r.stderr.contains("--replace"))
    r = try epbctl(["ingest", again, "--replace"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["loads", "--layer", "0", "--json"], db: db)
    #expect((r.jsonObject?["loads"] as? [Double]) == [9, 9])
  }

  @Test func unreadableInputsNameTheFile() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    var r = try epbctl(["ingest", dir.path("missing.json")], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("missing.json: no such file"), "\(r.stderr)")
    r = try epbctl(["ingest", dir.url.path], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("a folder without meta_info.json (TensorRT-LLM statistics) or .pt files"), "\(r.stderr)")
    r = try epbctl(["ingest", "-"], db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--format"))
  }

  /// root reads any file, so the permission check runs epbctl as `nobody` via setpriv.
  @Test func unreadablePermissionIsReported() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.url.path)
    let secret = try dir.write("secret.json", "{\"logical_count\": [[1, 2]]}")
    try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: secret)
    let db = dir.path("epb.sqlite")
    let prefix: [String] =
      getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
    let r = try CommandRunner.run(["ingest", secret, "--db", db], prefix: prefix)
    #expect(r.status != 0)
    #expect(r.stderr.contains("secret.json: permission denied"), "\(r.stderr)")
  }

  /// A file behind a folder that cannot be searched is there, but out of reach: said so, not
  /// "no such file". As root, run as `nobody` (root searches any folder).
  @Test func unsearchableFolderIsReported() throws {
    let dir = try TemporaryDirectory()
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.url.path)
    try FileManager.default.createDirectory(atPath: dir.path("closed"), withIntermediateDirectories: false)
    let input = try dir.write("closed/loads.json", "{\"logical_count\": [[1, 2]]}")
    try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: dir.path("closed"))
    defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path("closed")) }
    let prefix: [String] =
      getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
    let r = try CommandRunner.run(["ingest", input, "--db", dir.path("epb.sqlite")], prefix: prefix)
    #expect(r.status != 0)
    #expect(r.stderr.contains("loads.json: permission denied; a folder on its path cannot be searched"), "\(r.stderr)")
  }

  @Test(.enabled(if: CLIBackend.isSQLite, "writes the SQLite schema table")) func newerDatabaseIsRefused() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", prefillFile], db: db)
    _ = try sqlite(db, "INSERT INTO grdb_migrations VALUES ('9999_future')")
    let before = try Data(contentsOf: URL(fileURLWithPath: db))
    let r = try epbctl(["series"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("written by a newer epbctl"), "\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
  }

  /// An ingest killed with SIGKILL inside its transaction leaves a sound database without any
  /// of its rows; the same file then ingests normally.
  @Test func killedIngestLeavesNothing() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", decodeFile, "--series", "s"], db: db)
    let process = try CommandRunner.start(
      ["ingest", vllmFile, "--series", "t", "--db", db], environment: ["EPBCTL_TEST_PAUSE_BEFORE_COMMIT": "30"])
    try (process.standardInput as! Pipe).fileHandleForWriting.close()
    let err = (process.standardError as! Pipe).fileHandleForReading
    var seen = Data()
    while !String(decoding: seen, as: UTF8.self).contains("paused before commit") {
      let chunk = err.availableData
      if chunk.isEmpty { break }
      seen += chunk
    }
    #expect(String(decoding: seen, as: UTF8.self).contains("paused before commit"))
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    #expect(try sqlite(db, "PRAGMA integrity_check") == "ok")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM series WHERE name = 't'") == "0")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == "61")
    let r = try epbctl(["ingest", vllmFile, "--series", "t"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(
      try sqlite(db, "SELECT COUNT(*) FROM load WHERE series_id = (SELECT id FROM series WHERE name = 't')") == "1200")
  }

  /// Two ingests started together on a new file: both create, migrate and switch it to WAL.
  /// Ten rounds, since the races are rare (the WAL switch answered "database is locked" in
  /// about 1 round of 100 before it was retried).
  @Test func twoIngestsAtOnceBothSucceed() throws {
    for round in 0..<10 {
      let dir = try TemporaryDirectory()
      let db = dir.path("epb.sqlite")
      let a = try CommandRunner.start(["ingest", vllmFile, "--series", "a", "--db", db])
      let b = try CommandRunner.start(["ingest", decodeFile, prefillFile, "--series", "b", "--db", db])
      for p in [a, b] { try (p.standardInput as! Pipe).fileHandleForWriting.close() }
      a.waitUntilExit()
      b.waitUntilExit()
      let errors = [a, b].map { p in
        String(decoding: (p.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      }
      #expect(a.terminationStatus == 0, "round \(round): \(errors[0])")
      #expect(b.terminationStatus == 0, "round \(round): \(errors[1])")
      #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == String(1200 + 122))
    }
  }
}

@Suite struct LargeIngestTests {
  /// Files of 4 MiB and more are hashed while they are stored; the same content again is still
  /// reported as already-ingested, with nothing stored twice.
  @Test func largeFileAgainIsAlreadyIngested() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let trace = dir.path("big.npy")
    var r = try CommandRunner.run([
      "simulate", "--output", trace, "--format", "npy", "--steps", "80", "--layers", "58", "--experts", "256",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let size = try FileManager.default.attributesOfItem(atPath: trace)[.size] as? Int ?? 0
    #expect(size >= 4 << 20)
    r = try epbctl(["ingest", trace, "--json"], db: db)
    #expect(((r.jsonObject?["files"] as? [[String: Any]])?.first?["status"] as? String) == "ingested", "\(r.stderr)")
    let copy = try dir.write("copy.npy", Data(contentsOf: URL(fileURLWithPath: trace)))
    r = try epbctl(["ingest", copy, "--json"], db: db)
    #expect(((r.jsonObject?["files"] as? [[String: Any]])?.first?["status"] as? String) == "already-ingested")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM step") == "80")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM ingest") == "1")
    #expect(try sqlite(db, "SELECT length(content_sha256) FROM ingest") == "64")
  }
}
