import EPBTestSupport
import Foundation
import Testing

/// Runs a system command and returns its exit status and stdout.
@discardableResult
private func system(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: arguments[0])
  process.arguments = Array(arguments.dropFirst())
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  try process.run()
  let out = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: out, as: UTF8.self))
}

/// A small tmpfs mounted for the body and always unmounted (root only).
private func withTmpfs(size: String, _ body: (URL) throws -> Void) throws {
  let dir = try TemporaryDirectory()
  let mountPoint = dir.url.appendingPathComponent("mnt")
  try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
  let mounted = try system(["/usr/bin/mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint.path])
  try #require(mounted.status == 0, "mount -t tmpfs failed")
  defer { _ = try? system(["/usr/bin/umount", mountPoint.path]) }
  try body(mountPoint)
}

/// The logical content of a database (`sqlite3 .dump`): equal before and after means unchanged.
private func dump(_ db: String) throws -> String {
  try system(["/usr/bin/sqlite3", db, ".dump"]).stdout
}

/// An SGLang dump of `steps` × 61 × 256 loads, a few MB.
private func bigSGLang(steps: Int) -> String {
  var rng = SplitMix64(seed: 7)
  let matrices = (0..<steps).map { _ in
    "["
      + (0..<61).map { _ in
        "[" + (0..<256).map { _ in String(rng.next() % 100_000) }.joined(separator: ",") + "]"
      }.joined(separator: ",") + "]"
  }
  return "{\"logical_count\": [" + matrices.joined(separator: ",") + "]}"
}

/// The command ran to an exit (not a signal) with a failure status.
private func failedCleanly(_ r: CommandResult) -> Bool { r.status == 1 }

private let planArguments = [
  "plan", "--layer", "all", "--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8", "--dry-run",
]
private let isRoot = getuid() == 0
private let nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

/// Disk and file faults: each a clear error naming the file and what to do, never a crash,
/// never a changed database.
@Suite(.serialized) struct ReliabilityFaultTests {
  @Test(.enabled(if: isRoot, "mounts a tmpfs"), .enabled(if: CLIBackend.isSQLite, "the SQLite file itself"))
  func diskFullDuringIngestChangesNothing() throws {
    let inputs = try TemporaryDirectory()
    let big = try inputs.write("big.json", bigSGLang(steps: 30))
    try withTmpfs(size: "1m") { mnt in
      let db = mnt.appendingPathComponent("epb.sqlite").path
      var r = try epbctl(["ingest", prefillFile], db: db)
      #expect(r.status == 0, "\(r.stderr)")
      let before = try dump(db)
      r = try epbctl(["ingest", big], db: db)
      #expect(failedCleanly(r), "exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains("the disk holding \(db) is full; nothing was written. Free some space"), "\(r.stderr)")
      #expect(try sqlite(db, "PRAGMA integrity_check") == "ok")
      #expect(try dump(db) == before)
      // Once space is back (the failed transaction's WAL pages are reused), ingests work again.
      r = try epbctl(["ingest", decodeFile], db: db)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == "122")
    }
  }

  @Test(.enabled(if: isRoot, "mounts a tmpfs"), .enabled(if: CLIBackend.isSQLite, "the SQLite file itself"))
  func fullDiskRefusesANewDatabaseAndReads() throws {
    try withTmpfs(size: "1m") { mnt in
      let db = mnt.appendingPathComponent("epb.sqlite").path
      try #require(try epbctl(["ingest", prefillFile], db: db).status == 0)
      let before = try dump(db)
      _ = try system(["/usr/bin/dd", "if=/dev/zero", "of=\(mnt.path)/fill", "bs=4k"])
      for (args, path) in [
        (["ingest", decodeFile], db), (["ingest", decodeFile], mnt.appendingPathComponent("new.sqlite").path),
        (["series"], db),
      ] {
        let r = try epbctl(args, db: path)
        #expect(failedCleanly(r), "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("the disk holding \(path) is full"), "\(r.stderr)")
      }
      try FileManager.default.removeItem(atPath: "\(mnt.path)/fill")
      #expect(try dump(db) == before)
    }
  }

  @Test(.enabled(if: isRoot, "runs epbctl as nobody"), .enabled(if: CLIBackend.isSQLite, "the SQLite file itself"))
  func readOnlyFileOrFolderIsReportedAndUntouched() throws {
    for readOnlyFolder in [false, true] {
      let dir = try TemporaryDirectory()
      let db = dir.path("epb.sqlite")
      try #require(try epbctl(["ingest", prefillFile], db: db).status == 0)
      // The input nobody ingests, in a folder nobody can search (the checkout may not be:
      // CI clones into a `mktemp -d` folder, mode 700).
      let input = try dir.write("decode.json", Data(contentsOf: URL(fileURLWithPath: decodeFile)))
      // nobody may write the file but not the folder, or the folder but not the file.
      try FileManager.default.setAttributes(
        [.posixPermissions: readOnlyFolder ? 0o755 : 0o777], ofItemAtPath: dir.url.path)
      try FileManager.default.setAttributes(
        [.posixPermissions: readOnlyFolder ? 0o666 : 0o644], ofItemAtPath: db)
      let before = try Data(contentsOf: URL(fileURLWithPath: db))
      var r = try CommandRunner.run(["ingest", input, "--db", db], prefix: nobody)
      #expect(failedCleanly(r), "exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains("cannot write \(db)"), "\(r.stderr)")
      #expect(r.stderr.contains("check the permissions of the file and its folder"), "\(r.stderr)")
      // Reads work on a read-only file (SQLite opens it read-only, the folder takes the -shm)
      // and in a read-only folder, where no -shm can be created (opened immutable: there is no
      // -wal content, so the file holds every commit).
      for args in [["series"], planArguments] {
        r = try CommandRunner.run(args + ["--db", db], prefix: nobody)
        #expect(r.status == 0, "read-only folder \(readOnlyFolder): \(args): \(r.stderr)")
      }
      #expect(try CommandRunner.run(["series", "--db", db], prefix: nobody).stdout.contains("default"))
      // A plan to store is a write: refused the same way as the ingest.
      r = try CommandRunner.run(planArguments.filter { $0 != "--dry-run" } + ["--db", db], prefix: nobody)
      #expect(failedCleanly(r), "exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains("cannot write \(db)"), "\(r.stderr)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }
  }

  @Test(.enabled(if: isRoot, "mounts a tmpfs"), .enabled(if: CLIBackend.isSQLite, "the SQLite file itself"))
  func readOnlyMountIsReported() throws {
    try withTmpfs(size: "4m") { mnt in
      let db = mnt.appendingPathComponent("epb.sqlite").path
      try #require(try epbctl(["ingest", prefillFile], db: db).status == 0)
      let before = try Data(contentsOf: URL(fileURLWithPath: db))
      try #require(try system(["/usr/bin/mount", "-o", "remount,ro", mnt.path]).status == 0)
      let r = try epbctl(["ingest", decodeFile], db: db)
      #expect(failedCleanly(r), "exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains("cannot write \(db)"), "\(r.stderr)")
      // Reading still works: a snapshot of a fleet's store on a read-only volume.
      let series = try epbctl(["series"], db: db)
      #expect(series.status == 0 && series.stdout.contains("default"), "\(series.stderr)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }
  }

  /// Random bytes, a text file, a truncated database, a damaged page and a damaged header.
  @Test(
    .enabled(if: CLIBackend.isSQLite, "the SQLite file itself"),
    arguments: ["garbage", "text", "truncated", "page", "header"])
  func corruptDatabaseIsReportedAndUntouched(kind: String) throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try #require(try epbctl(["ingest", prefillFile], db: db).status == 0)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: db))
    var rng = SplitMix64(seed: 3)
    switch kind {
    case "garbage": bytes = Data((0..<50_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    case "text": bytes = Data("not a database\n".utf8)
    case "truncated": bytes = bytes.prefix(20_000)
    case "page":  // page 4 is the `series` table's root
      for i in (4_096 * 3)..<(4_096 * 4) { bytes[i] = UInt8(truncatingIfNeeded: i) }
    default:  // the page size field
      bytes[16] = 0xFF
      bytes[17] = 0x7F
    }
    try bytes.write(to: URL(fileURLWithPath: db))
    for args in [["ingest", decodeFile], ["series"], planArguments, ["loads", "--layer", "0"]] {
      let r = try epbctl(args, db: db)
      #expect(failedCleanly(r), "\(args[0]): exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains("\(db) is not a usable epbctl database"), "\(args[0]): \(r.stderr)")
      #expect(r.stderr.contains("restore it from a backup"), "\(r.stderr)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == bytes)
  }

  @Test(.enabled(if: CLIBackend.isSQLite, "the SQLite file itself"))
  func newerSchemaIsRefusedByEveryCommandAndUntouched() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", prefillFile], db: db)
    _ = try sqlite(db, "INSERT INTO grdb_migrations VALUES ('9999_future')")
    let before = try Data(contentsOf: URL(fileURLWithPath: db))
    for args in [["ingest", decodeFile], ["series"], planArguments, ["loads", "--layer", "0"]] {
      let r = try epbctl(args, db: db)
      #expect(failedCleanly(r), "\(args[0]): exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains("\(db) was written by a newer epbctl (unknown migrations: 9999_future)"), "\(r.stderr)")
      #expect(r.stderr.contains("use that version"))
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
  }

  /// Opening a sound database for reading writes nothing to it.
  @Test(.enabled(if: CLIBackend.isSQLite, "the SQLite file itself")) func readCommandsLeaveTheFileAsItWas() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", prefillFile], db: db)
    let before = try Data(contentsOf: URL(fileURLWithPath: db))
    for args in [["series"], planArguments, ["loads", "--layer", "0"]] {
      #expect(try epbctl(args, db: db).status == 0)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
  }

  /// Hostile inputs through the CLI: refused with the file and the limit, nothing stored.
  @Test func hostileInputsAreRefusedWithTheLimit() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    try epbctl(["ingest", prefillFile], db: db)
    let npy = try dir.write("claims.npy", npyInt32(shape: [1_000, 1_000, 1_000], values: [1, 2, 3]))
    let csv = try dir.write("layers.csv", "step,layer,expert,load\n0,9007199254740992,0,1\n")
    let deep = try dir.write(
      "deep.json", "{\"x\": " + String(repeating: "[", count: 100_000) + "], \"logical_count\": [[1]]}")
    let big = try dir.write("big.json", String(repeating: " ", count: 3_000) + "{\"logical_count\": [[1]]}")
    for (path, format, mention, environment) in [
      (npy, "npy", "claims.npy: shape (1000, 1000, 1000) holds 1000000000 loads", [String: String]()),
      (csv, "csv", "layers.csv:2: layer 9007199254740992 is too large", [:]),
      (deep, "sglang", "deep.json:1:519: JSON nested more than 512 levels deep", [:]),
      (big, "auto", "big.json: is 3.0 KiB; epbctl reads inputs of at most 2.0 KiB", ["EPBCTL_MAX_INPUT_BYTES": "2048"]),
    ] {
      let r = try epbctl(["ingest", path, "--format", format], db: db, environment: environment)
      #expect(failedCleanly(r), "exit \(r.status): \(r.stderr)")
      #expect(r.stderr.contains(mention), "\(r.stderr)")
    }
    #expect(try sqlite(db, "SELECT COUNT(*) FROM ingest") == "1")
  }
}
