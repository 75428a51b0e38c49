import Foundation

/// The CLI suite's second backend. When `EPBCTL_TEST_CLI_POSTGRES` holds a PostgreSQL
/// superuser's URL (`.ci/run` sets it for the suite's second pass), every database path a test
/// hands to epbctl (`--db PATH`, `--from PATH`, `--to PATH`, `EPBCTL_DB=PATH`) becomes a
/// PostgreSQL database of its own, one per absolute path, created on first use; so the same
/// tests check the same output against PostgreSQL. Tests that look inside the SQLite file
/// itself (its tables through `sqlite3`, its size, its permissions) carry
/// `.enabled(if: CLIBackend.isSQLite)` and are reported as skipped in that pass.
public enum CLIBackend {
  /// The superuser URL of the second pass, or nil (the ordinary SQLite pass).
  public static let postgres: String? = {
    let url = ProcessInfo.processInfo.environment["EPBCTL_TEST_CLI_POSTGRES"] ?? ""
    return url.isEmpty ? nil : url
  }()

  /// True in the ordinary pass, where `--db PATH` is the SQLite file at PATH.
  public static var isSQLite: Bool { postgres == nil }

  /// The flags whose value names a database (`--from` and `--to` only for `copy`: elsewhere
  /// they are steps).
  static func databaseFlags(_ arguments: [String]) -> Set<String> {
    arguments.first == "copy" ? ["--db", "--from", "--to"] : ["--db"]
  }

  /// `arguments` and `environment` with every database path replaced by its PostgreSQL URL
  /// (unchanged in the SQLite pass, and for values that are already `postgres://` URLs).
  static func redirect(_ arguments: [String], environment: [String: String], directory: URL?) throws
    -> ([String], [String: String])
  {
    guard let admin = postgres else { return (arguments, environment) }
    var args = arguments
    let databaseFlags = databaseFlags(arguments)
    for i in args.indices.dropLast() where databaseFlags.contains(args[i]) {
      args[i + 1] = try url(for: args[i + 1], admin: admin, directory: directory)
    }
    for i in args.indices {
      for flag in databaseFlags where args[i].hasPrefix(flag + "=") {
        args[i] =
          flag + "=" + (try url(for: String(args[i].dropFirst(flag.count + 1)), admin: admin, directory: directory))
      }
    }
    var env = environment
    if let db = env["EPBCTL_DB"] { env["EPBCTL_DB"] = try url(for: db, admin: admin, directory: directory) }
    return (args, env)
  }

  private final class Created: @unchecked Sendable {
    let lock = NSLock()
    var names: Set<String> = []
  }
  private static let created = Created()

  /// The URL of the database standing for `path` (created when new).
  public static func url(for path: String, admin: String, directory: URL?) throws -> String {
    if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") || path == "-" { return path }
    let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    let absolute = path.hasPrefix("/") ? path : base.appendingPathComponent(path).path
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in absolute.utf8 {
      hash ^= UInt64(b)
      hash &*= 0x0000_0100_0000_01B3
    }
    let name = "cli_" + String(hash, radix: 16)
    created.lock.lock()
    defer { created.lock.unlock() }
    if !created.names.contains(name) {
      try createDatabase(name, admin: admin)
      created.names.insert(name)
    }
    guard let slash = admin.range(of: "/", options: .backwards) else { return admin }
    let query = admin[slash.upperBound...].firstIndex(of: "?").map { String(admin[$0...]) } ?? ""
    return String(admin[..<slash.upperBound]) + name + query
  }

  struct PsqlFailed: Error, CustomStringConvertible {
    var description: String
  }

  /// Runs `sql` on the database at `url` through `psql` and returns what it printed
  /// (unaligned, tuples only, trimmed), as `sqlite3` would print the same query.
  public static func psql(_ url: String, _ sql: String) throws -> String {
    let out = try runPsql([url, "-qtA", "-v", "ON_ERROR_STOP=1", "-c", sql])
    return out == "t" ? "1" : out == "f" ? "0" : out
  }

  /// Every row of the database at `url` as `pg_dump --data-only` prints it (for "nothing
  /// changed" checks; the order of each table's rows is the server's, stable for an unchanged
  /// database).
  public static func dump(_ url: String) throws -> String {
    // Without the `\restrict KEY` lines, whose key is new on every run.
    try runPsql([url, "--data-only", "--no-owner"], tool: "pg_dump").split(separator: "\n")
      .filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }.joined(separator: "\n")
  }

  private static func createDatabase(_ name: String, admin: String) throws {
    _ = try runPsql([
      admin, "-q", "-v", "ON_ERROR_STOP=1", "-c", "DROP DATABASE IF EXISTS \(name)", "-c", "CREATE DATABASE \(name)",
    ])
  }

  private static func runPsql(_ arguments: [String], tool: String = "psql") throws -> String {
    let bin = ProcessInfo.processInfo.environment["EPBCTL_TEST_POSTGRES_BIN"] ?? "/usr/bin"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: bin + "/" + tool)
    process.arguments = arguments
    let (out, err) = (Pipe(), Pipe())
    (process.standardOutput, process.standardError) = (out, err)
    try process.run()
    let (outData, errData) = CommandRunner.readToEnd(process)
    guard process.terminationStatus == 0 else {
      throw PsqlFailed(
        description: "\(tool) \(arguments.dropFirst()) failed: " + String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
