import EPBTestSupport
import Foundation
import Testing

/// Runs as user `uid` (root only, via setpriv): the tests run as root, who can write anything.
private func asUser(_ uid: Int) -> [String] {
  ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"]
}

/// Runs `arguments` (a system command) as user `uid` and returns its stdout.
private func shell(_ arguments: [String], uid: Int) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
  process.arguments = Array(asUser(uid).dropFirst()) + arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  try process.run()
  let out = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: out, as: UTF8.self)
}

/// A database owned by `nobody` (65534) in a folder anyone may write, mode `mode`.
private func nobodysDatabase(mode: Int) throws -> (TemporaryDirectory, String) {
  let dir = try TemporaryDirectory()
  // The input the owner ingests later, where every user can read it (the checkout may not be).
  _ = try dir.write("prefill.json", Data(contentsOf: URL(fileURLWithPath: prefillFile)))
  let db = dir.path("ro.sqlite")
  try #require(try epbctl(["ingest", decodeFile], db: db).status == 0)
  try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: dir.url.path)
  try FileManager.default.setAttributes([.posixPermissions: mode, .ownerAccountID: 65534], ofItemAtPath: db)
  return (dir, db)
}

/// Issue 21: a read by another user on a 0444 database left a 0444 `-shm` (and an empty `-wal`)
/// owned by that user, after which every write by the owner failed naming the database file.
@Suite(.serialized, .enabled(if: CLIBackend.isSQLite, "file permissions of a SQLite database"))
struct ReadOnlyDatabaseTests {
  @Test(.enabled(if: getuid() == 0, "runs epbctl as two other users")) func readsByAnotherUserLeaveNothingBehind()
    throws
  {
    let (dir, db) = try nobodysDatabase(mode: 0o444)
    let before = try Data(contentsOf: URL(fileURLWithPath: db))
    // User 1000 (not the owner) reads: every read command works...
    for args in [
      ["series"], ["loads", "--layer", "3"], ["snapshots"],
      ["plan", "--layer", "all", "--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8", "--dry-run"],
    ] {
      let r = try CommandRunner.run(args + ["--db", db], prefix: asUser(1000))
      #expect(r.status == 0, "\(args): \(r.stderr)")
    }
    // ...and leaves no -shm or -wal behind, and the file as it was.
    #expect(!FileManager.default.fileExists(atPath: db + "-shm"))
    #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    // Writable again, the owner ingests.
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db)
    let r = try CommandRunner.run(["ingest", dir.path("prefill.json"), "--db", db], prefix: asUser(65534))
    #expect(r.status == 0, "\(r.stderr)")
  }

  /// A `-shm` left by another user (here by the sqlite3 shell, or an older epbctl) is named, with
  /// what to do, instead of the database file, which is writable.
  @Test(.enabled(if: getuid() == 0, "runs commands as two other users")) func aForeignShmFileIsNamed() throws {
    let (dir, db) = try nobodysDatabase(mode: 0o644)
    try #require(try shell(["/usr/bin/sqlite3", db, "SELECT COUNT(*) FROM load"], uid: 1000).contains("61"))
    try #require(FileManager.default.fileExists(atPath: db + "-shm"))
    let r = try CommandRunner.run(["ingest", dir.path("prefill.json"), "--db", db], prefix: asUser(65534))
    #expect(r.status == 1)
    #expect(r.stderr.contains("cannot write \(db)-shm"), "\(r.stderr)")
    #expect(
      r.stderr.contains("it was left by a process of another user. Remove \(db)-shm and \(db)-wal"), "\(r.stderr)")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == "61")
  }
}
