import Foundation
import GRDB

/// The one type that owns an epbctl database: it opens and migrates it, and is the only place
/// that speaks SQL (with `migrations/`).
///
/// A file database runs in WAL mode with a busy timeout, so that processes reading it (plans)
/// and writing it (ingests) can share it; each write is one IMMEDIATE transaction, so an input is
/// stored whole or not at all.
///
/// ```swift
/// let store = try SQLiteStore.open(path: "epb.sqlite", create: true)
/// let outcome = try store.ingest(batch, series: "prod", source: source, replace: false)
/// ```
public final class SQLiteStore: EPBStore {
  /// The database path, or `:memory:`.
  public let path: String
  let writer: any DatabaseWriter

  /// How long a write waits for another writer before failing, in seconds.
  public static let busyTimeout: TimeInterval = 60

  /// Called inside an ingest's transaction after every row is written, just before it commits:
  /// the fault-injection point of the crash tests (a hook that sleeps, so that a test can
  /// SIGKILL the process there). nil in normal use.
  let beforeCommit: (@Sendable () -> Void)?

  private init(path: String, writer: any DatabaseWriter, beforeCommit: (@Sendable () -> Void)? = nil) {
    self.path = path
    self.writer = writer
    self.beforeCommit = beforeCommit
  }

  /// Opens the database at `path`, creating and migrating it when `create` is true.
  ///
  /// - throws: `StoreError.missingDatabase` when the file is absent and `create` is false;
  ///   `.newerSchema` when a newer epbctl wrote it (the file is left untouched);
  ///   `.notADatabase`, `.readOnly` or `.database` when SQLite refuses it.
  /// - parameter beforeCommit: run inside each ingest's transaction just before it commits (the
  ///   crash tests' pause; see `beforeCommit`).
  public static func open(
    path: String, create: Bool, beforeCommit: (@Sendable () -> Void)? = nil
  ) throws(StoreError) -> SQLiteStore {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if exists && isDirectory.boolValue {
      throw .notADatabase(path: path, detail: "it is a directory")
    }
    if !exists && !create { throw .missingDatabase(path: path) }
    var config = Configuration()
    config.busyMode = .timeout(busyTimeout)
    config.foreignKeysEnabled = true
    // A file this process cannot write (another user's, or mode 0444), that no process has
    // open (no -wal, no -shm): read it immutable, so that SQLite creates no -shm and -wal owned
    // by this user, which would later make every write by the owner fail.
    if exists && access(path, W_OK) != 0 && !FileManager.default.fileExists(atPath: path + "-wal")
      && !FileManager.default.fileExists(atPath: path + "-shm"),
      let store = try openImmutable(path: path, configuration: config, checkFolder: false)
    {
      return store
    }
    do {
      // Check the schema first: a database from a newer epbctl must stay untouched.
      if exists { try checkNotSuperseded(path: path, configuration: config) }
      // One connection per process (a CLI command does one thing at a time); other processes
      // share the file through WAL. Not a DatabasePool: opening a pool commits a CREATE/DROP
      // TABLE whenever the -wal file is absent, which writes to every database it opens, read
      // commands and corrupt files included. WAL mode is persistent in the file, so it is set
      // once, on a database that is not in it yet (a new one).
      let queue = try DatabaseQueue(path: path, configuration: config)
      try queue.writeWithoutTransaction { db in
        if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
          // 16 KiB pages hold ~15 rows of 256 int32 loads at ~96% fill (4 KiB pages hold 3 at
          // 77%); page_size only takes effect on a database without pages yet, i.e. a new one.
          try db.execute(sql: "PRAGMA page_size = 16384")
          try switchToWAL(db, path: path)
        }
        // FULL makes a reported ingest survive power loss (SQLite's WAL default is NORMAL).
        try db.execute(sql: "PRAGMA synchronous = FULL")
      }
      let store = SQLiteStore(path: path, writer: queue, beforeCommit: beforeCommit)
      try store.migrate()
      return store
    } catch {
      let storeError = error as? StoreError ?? classify(error, path: path)
      // A database in a folder this process cannot write: readers can still open it immutable.
      if case .readOnly = storeError, !create, let store = try openImmutable(path: path, configuration: config) {
        return store
      }
      throw storeError
    }
  }

  /// `PRAGMA journal_mode = WAL`, retried while another process holds the database: the mode
  /// change takes an exclusive lock and SQLite answers SQLITE_BUSY at once, without the busy
  /// handler (seen as "database is locked" in 1 of ~100 pairs of ingests started together on a
  /// new file). Retries with a growing sleep (1 to 50 ms) for up to `busyTimeout`, and stops as
  /// soon as the file is in WAL mode, whoever switched it.
  private static func switchToWAL(_ db: Database, path: String) throws {
    let deadline = Date().addingTimeInterval(busyTimeout)
    var pause: UInt32 = 1_000
    while true {
      do {
        if try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" { return }
        throw StoreError.database(path: path, detail: "could not switch the database to WAL mode")
      } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
        usleep(pause)
        pause = min(pause * 2, 50_000)
        if try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal" { return }
      }
    }
  }

  /// A read-only connection to a WAL database whose folder this process cannot write (a
  /// read-only mount, or a folder of another user), so SQLite cannot create the `-shm` file that
  /// WAL readers share, or (`checkFolder` false) whose file it cannot write: opened as
  /// immutable, which needs no `-shm`. Only when there is no
  /// `-wal` file with content (every commit is then in the main file, and no writer can be
  /// adding one, since the folder takes no new files); else nil, and the caller reports the
  /// database as unwritable. Writes through the returned store fail as `.readOnly`.
  ///
  /// - throws: `.newerSchema` for a database from a newer epbctl; `.readOnly` when it lacks a
  ///   migration (which cannot be applied here).
  private static func openImmutable(path: String, configuration: Configuration, checkFolder: Bool = true)
    throws(StoreError) -> SQLiteStore?
  {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    guard !checkFolder || access(folder, W_OK) != 0 else { return nil }
    let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int ?? 0
    guard wal == 0 else { return nil }
    var config = configuration
    config.readonly = true
    let uri = URL(fileURLWithPath: path).absoluteString + "?immutable=1"
    let queue: DatabaseQueue
    do {
      queue = try DatabaseQueue(path: uri, configuration: config)
    } catch {
      return nil
    }
    let store = SQLiteStore(path: path, writer: queue)
    if try !pendingMigrations(store.run(recordedMigrations), path: path).isEmpty {
      throw .readOnly(path: path, detail: "it needs a schema upgrade and this process cannot write it or its folder")
    }
    return store
  }

  /// Throws `StoreError.newerSchema` when the database holds migrations this binary does not know.
  private static func checkNotSuperseded(path: String, configuration: Configuration) throws {
    let probe = try DatabaseQueue(path: path, configuration: configuration)
    defer { try? probe.close() }
    _ = try pendingMigrations(probe.read(recordedMigrations), path: path)
  }

  /// The migration identifiers recorded in `db` (none for a new file). Asked of SQLite each
  /// time: GRDB's schema cache would not see another process's migration.
  private static func recordedMigrations(_ db: Database) throws -> [String] {
    let exists = try Bool.fetchOne(
      db, sql: "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'")
    guard exists == true else { return [] }
    return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
  }

  /// The embedded migrations not in `applied`, in order.
  ///
  /// - throws: `.newerSchema` when `applied` holds migrations this binary does not know.
  private static func pendingMigrations(_ applied: [String], path: String) throws(StoreError)
    -> [(identifier: String, sql: String)]
  {
    let unknown = Set(applied).subtracting(knownMigrations).sorted()
    if !unknown.isEmpty { throw .newerSchema(path: path, unknown: unknown) }
    return migrations.filter { !applied.contains($0.identifier) }
  }

  /// An empty in-memory database, migrated (for tests and dry runs).
  public static func inMemory() throws(StoreError) -> SQLiteStore {
    do {
      var config = Configuration()
      config.foreignKeysEnabled = true
      let store = SQLiteStore(path: ":memory:", writer: try DatabaseQueue(configuration: config))
      try store.migrate()
      return store
    } catch let error as StoreError {
      throw error
    } catch {
      throw classify(error, path: ":memory:")
    }
  }

  /// Identifiers of the migrations this binary knows, in order.
  public static var knownMigrations: [String] { migrations.map(\.identifier) }

  /// Applies the embedded migrations (`migrations/*.sql`, see `Migrations+Generated.swift`)
  /// that the database lacks, in order, recording each in `grdb_migrations` (the table GRDB's
  /// `DatabaseMigrator` uses, so either can read the other's databases).
  ///
  /// Several processes may open a new database at once (two ingests started together), so the
  /// pending migrations are applied in one IMMEDIATE transaction that checks again what is
  /// applied once it holds the write lock: the first process migrates, the others wait (busy
  /// timeout) and find nothing left to do. An up-to-date database is only read, so read
  /// commands work on read-only files and never write.
  ///
  /// - throws: `StoreError.newerSchema` when the database has migrations this binary lacks.
  private func migrate() throws {
    if try Self.pendingMigrations(writer.read(Self.recordedMigrations), path: path).isEmpty { return }
    try writer.writeWithoutTransaction { db in
      try db.inTransaction(.immediate) {
        for migration in try Self.pendingMigrations(Self.recordedMigrations(db), path: path) {
          try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
          try db.execute(sql: migration.sql)
          try db.execute(
            sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [migration.identifier])
        }
        return .commit
      }
    }
  }

  /// The applied migration identifiers, in order.
  public func appliedMigrations() throws(StoreError) -> [String] {
    try run { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
  }

  /// Runs `body` in a read transaction, mapping SQLite errors to `StoreError`.
  func run<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
    do {
      return try writer.read(body)
    } catch let error as StoreError {
      throw error
    } catch {
      throw Self.classify(error, path: path)
    }
  }

  /// Runs `body` in one IMMEDIATE write transaction, mapping SQLite errors to `StoreError`.
  func runWrite<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
    try runTransaction { db in (try body(db), commit: true) }
  }

  /// Runs `body` in an immediate transaction that commits or rolls back as `body` says: a write
  /// that finds, after doing its work, that it must leave nothing behind without it being an
  /// error (an ingest of content another writer stored meanwhile).
  func runTransaction<T>(_ body: (Database) throws -> (value: T, commit: Bool)) throws(StoreError) -> T {
    do {
      return try writer.writeWithoutTransaction { db in
        var result: T?
        try db.inTransaction(.immediate) {
          let (value, commit) = try body(db)
          result = value
          return commit ? .commit : .rollback
        }
        return result!
      }
    } catch let error as StoreError {
      throw error
    } catch {
      throw Self.classify(error, path: path)
    }
  }

  static func classify(_ error: any Error, path: String) -> StoreError {
    guard let dbError = error as? DatabaseError else {
      return .database(path: path, detail: "\(error)")
    }
    let detail = dbError.message ?? "\(dbError.resultCode)"
    switch dbError.resultCode.primaryResultCode {
    case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .notADatabase(path: path, detail: detail)
    case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
      // A -shm this process cannot write (left by a reader running as another user) makes every
      // write fail although the database file itself is writable: name it.
      for suffix in ["-shm", "-wal"] where access(path, W_OK) == 0 {
        let side = path + suffix
        if FileManager.default.fileExists(atPath: side) && access(side, W_OK) != 0 {
          return .readOnly(
            path: side,
            detail: "\(detail); it was left by a process of another user. Remove \(path)-shm and \(path)-wal "
              + "(when no epbctl is using the database), or make them writable")
        }
      }
      return .readOnly(path: path, detail: detail)
    case .SQLITE_FULL: return .diskFull(path: path)
    case .SQLITE_IOERR:
      // A write that fails on a full disk can surface as an I/O error on the journal.
      if dbError.extendedResultCode == .SQLITE_IOERR_WRITE || detail.localizedCaseInsensitiveContains("disk") {
        return .diskFull(path: path)
      }
      return .database(path: path, detail: detail)
    default: return .database(path: path, detail: detail)
    }
  }

  /// The current time as ISO 8601 UTC, for `created_at` columns.
  static func now() -> String {
    Date().formatted(.iso8601)
  }
}
