import ArgumentParser
import EPBStore
import Foundation

#if Postgres
  import EPBStorePostgres
#endif

/// `--db`, shared by every command.
struct DatabaseOptions: ParsableArguments {
  @Option(
    name: .long,
    help:
      "The database: a SQLite file, or postgres://user@host[:port]/database (default: $EPBCTL_DB, else ./epb.sqlite).")
  var db: String?

  /// The database path the user asked for.
  var path: String {
    if let db { return db }
    if let env = ProcessInfo.processInfo.environment["EPBCTL_DB"], !env.isEmpty { return env }
    return "epb.sqlite"
  }

  /// Opens the database; commands that only read never create it.
  func open(create: Bool) throws -> any EPBStore {
    try Self.open(path, create: create)
  }

  /// Opens the store `location` names (a SQLite path or a `postgres://` URL).
  static func open(_ location: String, create: Bool) throws -> any EPBStore {
    switch try StoreLocation(location) {
    case .sqlite(let file):
      return try SQLiteStore.open(path: file, create: create, beforeCommit: pauseBeforeCommit)
    case .postgres(let location):
      #if Postgres
        return try PostgresStore.open(location, beforeCommit: pauseBeforeCommit)
      #else
        throw StoreError.unsupportedStore(
          location: location.redacted,
          detail: "this epbctl was built without PostgreSQL; build it with `swift build --traits Postgres`")
      #endif
    }
  }

  /// The crash tests' fault point (`EPBCTL_TEST_PAUSE_BEFORE_COMMIT=SECONDS`, used by
  /// `scripts/reliability/crash_loop.py` and `IngestCommandTests`): an ingest that has written
  /// every row says `paused before commit` on stderr and sleeps inside its open transaction, so
  /// that a test can SIGKILL it there. Read here, at the process's edge; the store only runs
  /// the hook it is given.
  static let pauseBeforeCommit: (@Sendable () -> Void)? = {
    guard let text = ProcessInfo.processInfo.environment["EPBCTL_TEST_PAUSE_BEFORE_COMMIT"],
      let seconds = Double(text), seconds > 0, seconds <= 3600
    else { return nil }
    return {
      FileHandle.standardError.write(Data("paused before commit\n".utf8))
      Thread.sleep(forTimeInterval: seconds)
    }
  }()
}
