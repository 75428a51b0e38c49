import ArgumentParser
import EPBStore
import Foundation

/// `--db`, shared by every command.
struct DatabaseOptions: ParsableArguments {
  @Option(name: .long, help: "The database file (default: $EPBCTL_DB, else ./epb.sqlite).")
  var db: String?

  /// The database path the user asked for.
  var path: String {
    if let db { return db }
    if let env = ProcessInfo.processInfo.environment["EPBCTL_DB"], !env.isEmpty { return env }
    return "epb.sqlite"
  }

  /// Opens the database; commands that only read never create it.
  func open(create: Bool) throws -> EPBStore {
    try EPBStore.open(path: path, create: create)
  }
}
