/// The names of the PostgreSQL schema's migrations (`migrations/postgres/*.sql`), in order.
public enum PostgresSchema {
  /// Identifiers of the migrations this binary knows, in order.
  public static var knownMigrations: [String] { migrations.map(\.identifier) }
}

#if Postgres
  import EPBEngines
  import EPBPlanner
  import EPBStore
  import Foundation
  import PostgresNIO

  /// The PostgreSQL implementation of the store interface: a fleet's shared history.
  ///
  /// One connection per process (a command does one thing at a time), driven synchronously:
  /// each statement is sent on PostgresNIO's event loop and waited for on the caller's thread.
  /// Every write is one transaction (READ COMMITTED, retried when a concurrent writer wins a
  /// unique constraint, so that two hosts ingesting the same file at once store it once); every
  /// read is one REPEATABLE READ, READ ONLY transaction, so a plan sees one consistent history
  /// while ingests commit. A client that dies mid-ingest (`kill -9`) leaves nothing: the server
  /// rolls its open transaction back when the connection drops.
  ///
  /// ```swift
  /// let store = try PostgresStore.open(PostgresLocation(url: "postgres://epb@db/epb", environment: [:]))
  /// ```
  public final class PostgresStore: EPBStore {
    public var path: String { location.redacted }
    let location: PostgresLocation
    let connection: PostgresConnection
    let logger = Logger(label: "epbctl.postgres")
    /// Called inside an ingest's transaction just before it commits (the crash tests' pause).
    let beforeCommit: (@Sendable () -> Void)?
    /// The statement running now, failed when the connection closes under it.
    private let running = RunningStatement()

    private init(location: PostgresLocation, connection: PostgresConnection, beforeCommit: (@Sendable () -> Void)?) {
      self.location = location
      self.connection = connection
      self.beforeCommit = beforeCommit
      connection.closeFuture.whenComplete { [running] _ in running.connectionClosed() }
    }

    /// The failure of the statement that runs now, for the one callback on the connection's
    /// `closeFuture` (registered once per store, not once per statement, which would grow for
    /// as long as a watching ingest runs).
    private final class RunningStatement: @unchecked Sendable {
      private let lock = NSLock()
      private var fail: ((any Error) -> Void)?
      private var closed = false

      /// Starts a statement that `fail` fails; false when the connection has closed already.
      func begin(_ fail: @escaping (any Error) -> Void) -> Bool {
        lock.withLock {
          if closed { return false }
          self.fail = fail
          return true
        }
      }

      func end() { lock.withLock { fail = nil } }

      func connectionClosed() {
        let fail = lock.withLock {
          closed = true
          defer { self.fail = nil }
          return self.fail
        }
        fail?(ConnectionClosed())
      }
    }

    /// Closes the connection and waits for it (PostgresNIO requires a connection to be closed
    /// before it goes).
    deinit {
      let closing: EventLoopFuture<Void> = connection.close()
      try? closing.wait()
    }

    /// How long `open` waits for the server to accept the connection, in seconds.
    public static let connectTimeout: Int64 = 10

    /// Connects to `location`, creating and migrating the schema on first use.
    ///
    /// - throws: `StoreError.unreachable`, `.authenticationFailed`, `.missingDatabase` (the
    ///   server has no such database), `.permissionDenied` (the user may not create the schema),
    ///   `.newerSchema` when a newer epbctl wrote it (left untouched).
    public static func open(_ location: PostgresLocation, beforeCommit: (@Sendable () -> Void)? = nil)
      throws(StoreError) -> PostgresStore
    {
      let connection = try connect(location)
      let store = PostgresStore(location: location, connection: connection, beforeCommit: beforeCommit)
      try store.migrate()
      return store
    }

    /// Connects to `location` without touching its schema, runs `sql` (no rows), disconnects:
    /// for administration a store does not do (`CREATE DATABASE` in the tests, a terminated
    /// backend in the failure tests).
    package static func runOnServer(_ location: PostgresLocation, sql: String) throws(StoreError) {
      let connection = try connect(location)
      defer { _ = try? connection.close().wait() }
      do {
        _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "epbctl.postgres")).wait()
      } catch {
        throw classify(error, location: location)
      }
    }

    private static func connect(_ location: PostgresLocation) throws(StoreError) -> PostgresConnection {
      var configuration: PostgresConnection.Configuration
      if let folder = location.socketFolder {
        configuration = .init(
          unixSocketPath: folder + "/.s.PGSQL.\(location.port)", username: location.user,
          password: location.password, database: location.database)
      } else {
        configuration = .init(
          host: location.host ?? "localhost", port: location.port, username: location.user,
          password: location.password, database: location.database, tls: try tls(location))
      }
      configuration.options.connectTimeout = .seconds(connectTimeout)
      do {
        return try PostgresConnection.connect(
          on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1,
          logger: Logger(label: "epbctl.postgres")
        ).wait()
      } catch {
        throw classify(error, location: location, connecting: true)
      }
    }

    /// TLS as `sslmode` asks (libpq's meanings: `require` encrypts without checking the
    /// certificate, `verify-ca` checks it against the system's roots, `verify-full` also the name).
    private static func tls(_ location: PostgresLocation) throws(StoreError) -> PostgresConnection.Configuration.TLS {
      var tls = TLSConfiguration.makeClientConfiguration()
      switch location.sslMode {
      case .disable: return .disable
      case .prefer, .require: tls.certificateVerification = .none
      case .verifyCA: tls.certificateVerification = .noHostnameVerification
      case .verifyFull: tls.certificateVerification = .fullVerification
      }
      do {
        let context = try NIOSSLContext(configuration: tls)
        return location.sslMode == .prefer ? .prefer(context) : .require(context)
      } catch {
        throw .badLocation(location: location.redacted, detail: "cannot set up TLS: \(error)")
      }
    }

    // MARK: Migrations

    /// Applies the embedded migrations (`migrations/postgres/*.sql`) the database lacks, in
    /// order, in one transaction that holds an advisory lock, so that processes opening a new
    /// database at once migrate it once. Recorded in `epbctl_migrations`.
    ///
    /// - throws: `StoreError.newerSchema` when the database has migrations this binary lacks.
    private func migrate() throws(StoreError) {
      if try pendingMigrations(recordedMigrations()).isEmpty { return }
      try transaction {
        try execute("SELECT pg_advisory_xact_lock(7302654071)")
        try execute("CREATE TABLE IF NOT EXISTS epbctl_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        for migration in try pendingMigrations(recordedMigrations()) {
          try executeScript(migration.sql)
          var binds = PostgresBindings()
          binds.append(migration.identifier)
          try execute("INSERT INTO epbctl_migrations (identifier) VALUES ($1)", binds)
        }
        return ((), commit: true)
      }
    }

    private func recordedMigrations() throws(StoreError) -> [String] {
      let exists = try query("SELECT to_regclass('epbctl_migrations') IS NOT NULL")
      guard try decode(exists.first, as: Bool.self) == true else { return [] }
      return try query("SELECT identifier FROM epbctl_migrations ORDER BY identifier").map {
        (row) throws(StoreError) in try decode(row, as: String.self)
      }
    }

    private func pendingMigrations(_ applied: [String]) throws(StoreError) -> [(identifier: String, sql: String)] {
      let known = Set(PostgresSchema.knownMigrations)
      let unknown = applied.filter { !known.contains($0) }
      if !unknown.isEmpty { throw .newerSchema(path: path, unknown: unknown) }
      let done = Set(applied)
      return PostgresSchema.migrations.filter { !done.contains($0.identifier) }
    }

    public func appliedMigrations() throws(StoreError) -> [String] {
      try recordedMigrations()
    }

    // MARK: Statements and transactions

    /// Runs one statement and collects its rows.
    ///
    /// Fails as `.connectionLost` as soon as the connection closes: a statement sent just as the
    /// server terminated the backend can otherwise stay pending for ever (seen with the backend
    /// terminated between the last insert of an ingest and its COMMIT).
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws(StoreError) -> PostgresQueryResult
    {
      if connection.isClosed {
        throw .connectionLost(location: path, detail: "the server closed the connection")
      }
      let result = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
      guard running.begin({ result.fail($0) }) else {
        throw .connectionLost(location: path, detail: "the server closed the connection")
      }
      defer { running.end() }
      connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).cascade(to: result)
      do {
        return try result.futureResult.wait()
      } catch is ConnectionClosed {
        throw .connectionLost(location: path, detail: "the server closed the connection")
      } catch {
        throw Self.classify(error, location: location)
      }
    }

    fileprivate struct ConnectionClosed: Error {}

    /// Runs a query and hands each row to `onRow` as it arrives, on the connection's event loop,
    /// while this thread waits: for results too large to hold as rows (`readLoadRows`).
    /// `onRow` may throw: the query then fails with that error.
    func forEachRow(
      _ sql: String, _ binds: PostgresBindings, _ onRow: @escaping @Sendable (PostgresRow) throws -> Void
    ) throws(StoreError) {
      if connection.isClosed {
        throw .connectionLost(location: path, detail: "the server closed the connection")
      }
      let done = connection.eventLoop.makePromise(of: Void.self)
      guard running.begin({ done.fail($0) }) else {
        throw .connectionLost(location: path, detail: "the server closed the connection")
      }
      defer { running.end() }
      connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger, onRow).map { _ in () }
        .cascade(to: done)
      do {
        try done.futureResult.wait()
      } catch is ConnectionClosed {
        throw .connectionLost(location: path, detail: "the server closed the connection")
      } catch let error as StoreError {
        throw error
      } catch {
        throw Self.classify(error, location: location)
      }
    }

    func execute(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws(StoreError) {
      try query(sql, binds)
    }

    /// Runs a script of several statements (a migration), one statement at a time: the
    /// statements of `migrations/postgres/*.sql` end with `;` at the end of a line, and their
    /// comments are whole `--` lines or follow the code on a line.
    func executeScript(_ sql: String) throws(StoreError) {
      for statement in Self.statements(sql) { try execute(statement) }
    }

    static func statements(_ sql: String) -> [String] {
      let code = sql.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        var code = line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? String(line)
        while code.last == " " { code.removeLast() }
        return code
      }
      var statements: [String] = []
      var current = ""
      for line in code {
        current += line + "\n"
        if line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
          statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
          current = ""
        }
      }
      let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
      if !rest.isEmpty { statements.append(rest) }
      return statements
    }

    /// Runs `body` in one read-only REPEATABLE READ transaction: every statement sees the same
    /// committed history.
    func read<T>(_ body: () throws -> T) throws(StoreError) -> T {
      try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { (try body(), commit: true) }
    }

    /// Runs `body` in one transaction that commits or rolls back as `body` says; a failure rolls
    /// everything back. Errors other than `StoreError` (thrown by a caller's closure inside)
    /// become `.database`.
    func transaction<T>(begin: String = "BEGIN", _ body: () throws -> (value: T, commit: Bool)) throws(StoreError)
      -> T
    {
      try execute(begin)
      do {
        let (value, commit) = try body()
        try execute(commit ? "COMMIT" : "ROLLBACK")
        return value
      } catch {
        try? execute("ROLLBACK")
        if let error = error as? StoreError { throw error }
        throw .database(path: path, detail: "\(error)")
      }
    }

    /// Runs the write `body` in a transaction (see `transaction`), again (up to 5 times) when it
    /// failed because a concurrent transaction committed a row it also inserted (a unique
    /// violation), or on a serialization failure or deadlock: the next attempt sees that row.
    func writeRetrying<T>(_ body: () throws -> (value: T, commit: Bool)) throws(StoreError) -> T {
      var attempt = 0
      while true {
        do {
          return try transaction(body)
        } catch .database(_, let detail) where attempt < 5 && Self.isRetryable(detail) {
          attempt += 1
        }
      }
    }

    static func isRetryable(_ detail: String) -> Bool {
      detail.hasPrefix("[23505]") || detail.hasPrefix("[40001]") || detail.hasPrefix("[40P01]")
    }

    /// The first column of `row`, nil without a row.
    func decode<T: PostgresDecodable>(_ row: PostgresRow?, as: T.Type) throws(StoreError) -> T? {
      guard let row else { return nil }
      do {
        return try row.decode(T.self)
      } catch {
        throw .database(path: path, detail: "unexpected column: \(String(reflecting: error))")
      }
    }

    /// The columns of `row` as `types` (a single type, or a tuple of one per column).
    func decode<each C: PostgresDecodable>(_ row: PostgresRow, as types: (repeat each C).Type) throws(StoreError)
      -> (repeat each C)
    {
      do {
        return try row.decode(types)
      } catch {
        throw .database(path: path, detail: "unexpected column: \(String(reflecting: error))")
      }
    }

    /// Maps a PostgresNIO error to a `StoreError` that says what happened and what to do.
    /// Server errors keep their SQLSTATE in front of the message (`[23505] duplicate key …`).
    static func classify(_ error: any Error, location: PostgresLocation, connecting: Bool = false) -> StoreError {
      let shown = location.redacted
      guard let error = error as? PSQLError else {
        return connecting
          ? .unreachable(location: shown, detail: "\(error)") : .connectionLost(location: shown, detail: "\(error)")
      }
      let state = error.serverInfo?[.sqlState] ?? ""
      let message = error.serverInfo?[.message] ?? "\(error.code)"
      switch error.code {
      case .server:
        switch state {
        case "28P01", "28000": return .authenticationFailed(location: shown, detail: message)
        case "3D000": return .missingDatabase(path: shown)
        case "42501": return .permissionDenied(location: shown, detail: message)
        case "57014": return .timedOut(location: shown, detail: message)
        case "57P01", "57P02", "57P03":
          return connecting
            ? .unreachable(location: shown, detail: message) : .connectionLost(location: shown, detail: message)
        case "25006": return .readOnly(path: shown, detail: message)
        case "53100": return .diskFull(path: shown)
        default: return .database(path: shown, detail: "[\(state)] \(message)")
        }
      case .authMechanismRequiresPassword:
        return .authenticationFailed(
          location: shown, detail: "the server asks for a password and none was given")
      case .connectionError:
        let detail = error.underlying.map { "\($0)" } ?? "connection error"
        return connecting
          ? .unreachable(location: shown, detail: detail) : .connectionLost(location: shown, detail: detail)
      case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
        return connecting
          ? .unreachable(location: shown, detail: "the server closed the connection")
          : .connectionLost(location: shown, detail: "the server closed the connection")
      case .queryCancelled: return .timedOut(location: shown, detail: "the statement was cancelled")
      default: return .database(path: shown, detail: "\(error.code)")
      }
    }

    /// The current time as ISO 8601 UTC, for `created_at` columns (as the SQLite store writes it).
    static func now() -> String {
      Date().formatted(.iso8601)
    }
  }
#endif
