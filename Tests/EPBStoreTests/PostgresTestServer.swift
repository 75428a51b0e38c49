#if Postgres
  import EPBStore
  import EPBStorePostgres
  import Foundation

  /// The PostgreSQL server the tests use: `$EPBCTL_TEST_POSTGRES`, a superuser's URL
  /// (`scripts/postgres/start.sh` starts one and prints it). Each test gets a database of its own.
  enum PostgresTestServer {
    struct Missing: Error, CustomStringConvertible {
      var description: String {
        "EPBCTL_TEST_POSTGRES is not set: this build has the Postgres trait, so its store tests need a server; "
          + "run `eval \"$(bash scripts/postgres/start.sh)\"` first"
      }
    }

    /// The server's URL, parsed.
    static func admin() throws -> PostgresLocation {
      guard let url = ProcessInfo.processInfo.environment["EPBCTL_TEST_POSTGRES"], !url.isEmpty else {
        throw Missing()
      }
      return try PostgresLocation(url: url, environment: [:])
    }

    /// A new, empty database on the server: its location.
    static func newDatabase() throws -> PostgresLocation {
      var location = try admin()
      let name = "epb_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
      try PostgresStore.runOnServer(location, sql: "CREATE DATABASE \(name)")
      location.database = String(name)
      return location
    }

    /// A store on a new, empty database.
    static func newStore() throws -> PostgresStore {
      try PostgresStore.open(newDatabase())
    }
  }
#endif
