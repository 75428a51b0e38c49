#if Postgres
  import EPBEngines
  import Foundation
  import Synchronization
  import Testing

  @testable import EPBStore
  @testable import EPBStorePostgres

  /// What the PostgreSQL store promises a fleet (issue 20), each against the real server of
  /// `$EPBCTL_TEST_POSTGRES`: several connections stand for several hosts.
  @Suite struct PostgresGuaranteeTests {
    /// Two hosts send the same file at the same moment into a series neither has created yet:
    /// the unique constraints make one store it and the other report `already-ingested`.
    @Test func theSameContentAtTheSameMomentIsStoredOnce() throws {
      let location = try PostgresTestServer.newDatabase()
      _ = try PostgresStore.open(location)  // migrated once, so both start at the ingest
      for round in 0..<5 {
        let batch = denseBatch(steps: 50, layers: 4, experts: 16) { t, l, e in Double(round * 1000 + t + l + e) }
        let stores = try (0..<2).map { _ in try PostgresStore.open(location) }
        let outcomes = Mutex<[IngestOutcome.Status]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { i in
          let outcome = try? stores[i].ingest(
            batch, series: "s\(round)", source: source("host\(i)", hash: "same-\(round)"), replace: false)
          outcomes.withLock { $0.append(outcome?.status ?? .ingested) }
        }
        #expect(outcomes.withLock { $0.sorted { $0.rawValue < $1.rawValue } } == [.alreadyIngested, .ingested])
        let series = try stores[0].series(named: "s\(round)")
        #expect(series.steps == 50)
        let ingests = try stores[0].query(
          "SELECT COUNT(*) FROM ingest WHERE series_id = \(series.id)"
        ).first.map { try $0.decode(Int.self) }
        #expect(ingests == 1)
      }
    }

    /// A plan reads one consistent history while ingests commit: every window it reads sums
    /// exactly to (its steps) × (each step's total), never a step counted without its rows.
    @Test func aWindowIsOneConsistentSnapshot() throws {
      let location = try PostgresTestServer.newDatabase()
      let writer = try PostgresStore.open(location)
      let reader = try PostgresStore.open(location)
      // Each step holds 2 layers × 8 experts of load 1: 16 per step.
      _ = try writer.ingest(
        denseBatch(steps: 1, layers: 2, experts: 8) { _, _, _ in 1 }, series: "s", source: source("first"),
        replace: false)
      let done = Atomic<Bool>(false)
      let reads = Mutex<[(steps: Int, total: Double)]>([])
      DispatchQueue.concurrentPerform(iterations: 2) { i in
        if i == 0 {
          for n in 0..<60 {
            _ = try? writer.ingest(
              denseBatch(steps: 3, layers: 2, experts: 8) { _, _, _ in 1 }, series: "s", source: source("b\(n)"),
              replace: false)
          }
          done.store(true, ordering: .releasing)
        } else {
          while !done.load(ordering: .acquiring) {
            if let window = try? reader.windowLoad(series: "s", window: WindowSpec()) {
              reads.withLock { $0.append((window.steps, window.loads.values.reduce(0, +))) }
            }
          }
        }
      }
      let seen = reads.withLock { $0 }
      #expect(!seen.isEmpty)
      for read in seen { #expect(read.total == Double(read.steps * 16)) }
    }

    /// The connection drops just before the commit (the backend terminated from another
    /// session): the ingest fails saying so, and nothing of it is stored.
    @Test func aConnectionDroppedMidIngestLeavesNothing() throws {
      let location = try PostgresTestServer.newDatabase()
      let admin = try PostgresTestServer.admin()
      let database = location.database
      let store = try PostgresStore.open(
        location,
        beforeCommit: {
          try? PostgresStore.runOnServer(
            admin,
            sql: """
              SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = '\(database)' AND pid <> pg_backend_pid()
              """)
        })
      let batch = denseBatch(steps: 20, layers: 3, experts: 8) { t, _, e in Double(t + e) }
      #expect {
        _ = try store.ingest(batch, series: "s", source: source("a"), replace: false)
      } throws: { error in
        guard case .connectionLost(_, let detail) = error as? StoreError else { return false }
        return !detail.isEmpty
      }
      let after = try PostgresStore.open(location)
      #expect(try after.series().isEmpty)
      #expect(try after.query("SELECT COUNT(*) FROM load").first.map { try $0.decode(Int.self) } == 0)
    }

    /// A statement that waits past `statement_timeout` (here: for a lock another session holds)
    /// fails as a timeout, and the ingest stores nothing.
    @Test func aStatementTimeoutStoresNothing() throws {
      let location = try PostgresTestServer.newDatabase()
      let holder = try PostgresStore.open(location)
      _ = try holder.ingest(
        denseBatch(steps: 1, layers: 1, experts: 4) { _, _, _ in 1 }, series: "s", source: source("a"),
        replace: false)
      try PostgresStore.runOnServer(
        try PostgresTestServer.admin(), sql: "ALTER DATABASE \(location.database) SET statement_timeout = 300")
      let store = try PostgresStore.open(location)
      try holder.execute("BEGIN")
      try holder.execute("LOCK TABLE load IN ACCESS EXCLUSIVE MODE")
      defer { try? holder.execute("ROLLBACK") }
      #expect {
        _ = try store.ingest(
          denseBatch(steps: 5, layers: 1, experts: 4) { _, _, _ in 2 }, series: "s", source: source("b"),
          replace: false)
      } throws: { error in
        guard case .timedOut = error as? StoreError else { return false }
        return true
      }
      try holder.execute("ROLLBACK")
      #expect(try store.series(named: "s").steps == 1)
    }

    @Test func aWrongPasswordSaysSo() throws {
      var location = try PostgresTestServer.admin()
      location.password = "not-the-password"
      #expect {
        _ = try PostgresStore.open(location)
      } throws: { error in
        guard case .authenticationFailed = error as? StoreError else { return false }
        return "\(error)".contains("refused the login") && !"\(error)".contains("not-the-password")
      }
    }

    @Test func anUnreachableServerSaysSo() throws {
      var location = try PostgresTestServer.admin()
      location.port = 1  // nothing listens on port 1 of the loopback
      #expect {
        _ = try PostgresStore.open(location)
      } throws: { error in
        guard case .unreachable = error as? StoreError else { return false }
        return "\(error)".contains("cannot reach")
      }
    }

    @Test func aMissingDatabaseSaysSo() throws {
      var location = try PostgresTestServer.admin()
      location.database = "no_such_database_\(UInt32.random(in: 0...UInt32.max))"
      #expect(throws: StoreError.missingDatabase(path: location.redacted)) {
        _ = try PostgresStore.open(location)
      }
      let message = "\(StoreError.missingDatabase(path: location.redacted))"
      #expect(message.contains("the server has no database '\(location.database)'; create it first"), "\(message)")
    }

    /// A user without the right to create tables in the schema cannot set a new database up.
    @Test func noRightOnTheSchemaSaysPermissionDenied() throws {
      let location = try PostgresTestServer.newDatabase()
      let admin = try PostgresTestServer.admin()
      let role = "reader_\(UInt32.random(in: 0...UInt32.max))"
      try PostgresStore.runOnServer(admin, sql: "CREATE ROLE \(role) LOGIN PASSWORD 'reader'")
      var asReader = location
      asReader.user = role
      asReader.password = "reader"
      // Since PostgreSQL 15 only the database owner may create in `public`; say it anyway.
      var inDatabase = admin
      inDatabase.database = location.database
      try PostgresStore.runOnServer(inDatabase, sql: "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
      #expect {
        _ = try PostgresStore.open(asReader)
      } throws: { error in
        guard case .permissionDenied = error as? StoreError else { return false }
        return true
      }
    }

    /// A database a newer epbctl migrated is refused and left as it is.
    @Test func aNewerSchemaIsRefused() throws {
      let location = try PostgresTestServer.newDatabase()
      let store = try PostgresStore.open(location)
      try store.execute("INSERT INTO epbctl_migrations (identifier) VALUES ('9999_from_the_future')")
      #expect(throws: StoreError.newerSchema(path: location.redacted, unknown: ["9999_from_the_future"])) {
        _ = try PostgresStore.open(location)
      }
    }

    /// The migrations split into the statements they hold.
    @Test func migrationsSplitIntoStatements() {
      let statements = PostgresStore.statements(
        """
        -- a comment; with a semicolon
        CREATE TABLE a (x INT); -- trailing
        CREATE TABLE b (
          y INT  -- inside
        );
        """)
      #expect(statements == ["CREATE TABLE a (x INT);", "CREATE TABLE b (\n  y INT\n);"])
    }
  }
#endif
