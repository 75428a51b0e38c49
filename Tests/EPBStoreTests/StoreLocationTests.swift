import Foundation
import Testing

@testable import EPBStore

/// `--db` as a path or a `postgres://` URL, read as libpq reads a connection URI
/// (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS) and its
/// password file (…/libpq-pgpass.html).
@Suite struct StoreLocationTests {
  @Test func aPlainPathIsSQLite() throws {
    #expect(try StoreLocation("epb.sqlite", environment: [:]) == .sqlite(path: "epb.sqlite"))
    #expect(
      try StoreLocation("/var/lib/epb/postgres.sqlite", environment: [:])
        == .sqlite(path: "/var/lib/epb/postgres.sqlite"))
    #expect(try StoreLocation(":memory:", environment: [:]) == .sqlite(path: ":memory:"))
  }

  @Test func aFullURL() throws {
    let location = try StoreLocation(
      "postgres://epb:s%40cret@db.example:6543/history?sslmode=require", environment: [:])
    #expect(
      location
        == .postgres(
          PostgresLocation(
            user: "epb", password: "s@cret", host: "db.example", port: 6543, database: "history", sslMode: .require)))
  }

  @Test func defaultsAreLibpqs() throws {
    guard case .postgres(let p) = try StoreLocation("postgresql://epb@/history", environment: [:]) else {
      Issue.record("not PostgreSQL")
      return
    }
    #expect(p.host == "localhost")
    #expect(p.port == 5432)
    #expect(p.sslMode == .prefer)
    #expect(p.password == nil)
    #expect(p.redacted == "postgres://epb@localhost:5432/history")
  }

  @Test func aSocketFolderInTheQueryOrTheHost() throws {
    let a = try PostgresLocation(url: "postgres://epb@/history?host=/tmp/pg&port=5433", environment: [:])
    #expect(a.socketFolder == "/tmp/pg")
    #expect(a.host == nil)
    #expect(a.port == 5433)
    let b = try PostgresLocation(url: "postgres://epb@%2Ftmp%2Fpg/history", environment: [:])
    #expect(b.socketFolder == "/tmp/pg")
  }

  @Test func thePasswordFromPGPASSWORDWhenTheURLHasNone() throws {
    let p = try PostgresLocation(url: "postgres://epb@db/history", environment: ["PGPASSWORD": "from-env"])
    #expect(p.password == "from-env")
    let q = try PostgresLocation(url: "postgres://epb:in-url@db/history", environment: ["PGPASSWORD": "from-env"])
    #expect(q.password == "in-url")
  }

  @Test func thePasswordFileFirstMatchWins() {
    let text = """
      # comment
      other:5432:history:epb:wrong-host
      db:*:history:epb:first
      *:*:*:*:fallback
      """
    #expect(
      PostgresLocation.password(inPassFile: text, host: "db", port: 5432, database: "history", user: "epb") == "first")
    #expect(PostgresLocation.password(inPassFile: text, host: "x", port: 1, database: "y", user: "z") == "fallback")
    // `\:` and `\\` are escapes; a socket connection matches the host `localhost`.
    #expect(
      PostgresLocation.password(
        inPassFile: #"localhost:5432:h\:d:epb:pa\:ss\\"#, host: "/tmp/pg", port: 5432, database: "h:d", user: "epb")
        == #"pa:ss\"#)
  }

  @Test func thePasswordFileIsIgnoredUnlessPrivate() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("pgpass").path
    try "db:5432:history:epb:secret\n".write(toFile: file, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
    let env = ["PGPASSFILE": file]
    #expect(try PostgresLocation(url: "postgres://epb@db/history", environment: env).password == "secret")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
    #expect(try PostgresLocation(url: "postgres://epb@db/history", environment: env).password == nil)
  }

  @Test(arguments: [
    ("postgres://db/history", "names no user"),
    ("postgres://epb@db", "names no database"),
    ("postgres://epb@db:99999/history", "port '99999' is not in 1…65535"),
    ("postgres://epb@db/history?sslmode=sometimes", "sslmode 'sometimes' is not one of"),
  ])
  func badURLsSayWhatIsWrong(url: String, expected: String) {
    #expect {
      _ = try StoreLocation(url, environment: [:])
    } throws: { error in
      guard case .badLocation(_, let detail) = error as? StoreError else { return false }
      return detail.contains(expected)
    }
  }

  @Test func messagesNeverShowThePassword() {
    #expect(PostgresLocation.redact("postgres://epb:hunter2@db/history") == "postgres://epb:***@db/history")
    #expect {
      _ = try StoreLocation("postgres://epb:hunter2@db:0/history", environment: [:])
    } throws: { error in
      !"\(error)".contains("hunter2")
    }
  }
}
