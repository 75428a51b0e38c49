import EPBPlanner

/// Errors the store reports to its callers. Each message says what failed, where, and which
/// flag or action fixes it.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The database file does not exist and the command only reads.
  case missingDatabase(path: String)
  /// The file exists but is not an SQLite database, or is damaged.
  case notADatabase(path: String, detail: String)
  /// The database was written by a newer epbctl: it holds migrations this binary does not know.
  case newerSchema(path: String, unknown: [String])
  /// The database or its folder cannot be written.
  case readOnly(path: String, detail: String)
  /// The disk is full.
  case diskFull(path: String)
  /// No series of that name.
  case unknownSeries(name: String, known: [String])
  /// The input's shape differs from the series'.
  case shapeMismatch(series: String, source: String, detail: String)
  /// The input holds (step, layer) rows that are already stored with other loads (rows stored
  /// with the same loads are accepted as already stored).
  case duplicateRows(series: String, source: String, step: Int, layer: Int, count: Int)
  /// The requested window holds no stored step.
  case emptyWindow(series: String, detail: String)
  /// The window flags contradict each other.
  case invalidWindow(String)
  /// A layer id that is not one of the series' model layer ids (`layerIDs`, increasing).
  case unknownLayer(series: String, layer: Int, layerIDs: [Int])
  /// A snapshot reference that matches nothing.
  case unknownSnapshot(reference: String, detail: String)
  /// The snapshot given as a plan's base (`--base`) cannot be one: another topology or another
  /// number of experts (the detail says which).
  case incompatibleBase(reference: String, id: Int64, detail: String)
  /// A stored snapshot names an algorithm this epbctl does not know (a newer one stored it).
  case unknownAlgorithm(snapshot: Int64, name: String)
  /// `delete` found nothing of what it was asked to remove (the detail says what and why).
  case nothingToDelete(String)
  /// `copy` into a store that already has a series of that name (nothing was written).
  case seriesExists(name: String, location: String)
  /// A `--db` that is neither a usable path nor a well-formed `postgres://` URL.
  case badLocation(location: String, detail: String)
  /// This epbctl cannot open that kind of store (built without the `Postgres` trait).
  case unsupportedStore(location: String, detail: String)
  /// The database server cannot be reached (refused, no such host, no answer in time).
  case unreachable(location: String, detail: String)
  /// The server refused the user or password.
  case authenticationFailed(location: String, detail: String)
  /// The user may not read or change the schema or a table.
  case permissionDenied(location: String, detail: String)
  /// The connection broke during a command (server stopped, backend terminated): the open
  /// transaction rolled back, so nothing of it was stored.
  case connectionLost(location: String, detail: String)
  /// The server cancelled a statement that ran longer than its `statement_timeout`.
  case timedOut(location: String, detail: String)
  /// Anything else the database reported.
  case database(path: String, detail: String)

  public var description: String {
    switch self {
    case .missingDatabase(let path) where path.hasPrefix("postgres://"):
      let name = path.split(separator: "/").last.map { String($0.prefix { $0 != "?" }) } ?? ""
      return "\(path): the server has no database '\(name)'; create it first (`createdb \(name)`, or "
        + "CREATE DATABASE \(name) as a user who may), or point --db / $EPBCTL_DB at an existing one"
    case .missingDatabase(let path):
      return "no database at \(path); run `epbctl ingest` first, or point --db / $EPBCTL_DB at an existing one"
    case .notADatabase(let path, let detail):
      return "\(path) is not a usable epbctl database (\(detail)); restore it from a backup or use another --db"
    case .newerSchema(let path, let unknown):
      return "\(path) was written by a newer epbctl (unknown migrations: \(unknown.joined(separator: ", "))); "
        + "use that version, this one will not alter it"
    case .readOnly(let path, let detail):
      return "cannot write \(path) (\(detail)); check the permissions of the file and its folder, or use another --db"
    case .diskFull(let path):
      return "the disk holding \(path) is full; nothing was written. Free some space and run the command again"
    case .unknownSeries(let name, let known):
      let list = known.isEmpty ? "the database has no series yet" : "known series: \(known.joined(separator: ", "))"
      return "no series named '\(name)' (\(list)); choose one with --series"
    case .shapeMismatch(let series, let source, let detail):
      return "\(source): \(detail) (series '\(series)'); use another --series for a different model shape"
    case .duplicateRows(let series, let source, let step, let layer, let count):
      return "\(source): step \(step) layer \(layer) is already stored in series '\(series)' with other loads"
        + (count > 1 ? " (and \(count - 1) more such rows)" : "") + "; pass --replace to overwrite"
    case .emptyWindow(let series, let detail):
      return "series '\(series)': \(detail)"
    case .invalidWindow(let detail):
      return detail
    case .unknownLayer(let series, let layer, let layerIDs):
      return "series '\(series)' has layers \(LayerIDs.describe(layerIDs)); --layer \(layer) is not one of them"
    case .unknownSnapshot(let reference, let detail):
      return "no snapshot '\(reference)': \(detail); list them with `epbctl snapshots`"
    case .incompatibleBase(let reference, let id, let detail):
      return "--base \(reference): snapshot \(id) \(detail); use a snapshot of the same topology or --no-base"
    case .unknownAlgorithm(let snapshot, let name):
      return "snapshot \(snapshot) was planned with '\(name)', unknown to this epbctl; use a newer one"
    case .nothingToDelete(let detail):
      return "nothing to delete: \(detail); nothing was changed"
    case .seriesExists(let name, let location):
      return "\(location) already has a series named '\(name)'; nothing was copied. Copy into another database, "
        + "or delete that series there first (`epbctl delete series \(name)`)"
    case .badLocation(let location, let detail):
      return "--db \(location): \(detail)"
    case .unsupportedStore(let location, let detail):
      return "--db \(location): \(detail)"
    case .unreachable(let location, let detail):
      return "cannot reach \(location) (\(detail)); check that the server runs and the host and port are right"
    case .authenticationFailed(let location, let detail):
      return
        "\(location) refused the login (\(detail)); check the user and the password (URL, $PGPASSWORD or ~/.pgpass)"
    case .permissionDenied(let location, let detail):
      return "\(location): permission denied (\(detail)); grant the user the rights on the schema, or use another --db"
    case .connectionLost(let location, let detail):
      return "the connection to \(location) was lost (\(detail)); the unfinished command stored nothing. Run it again"
    case .timedOut(let location, let detail):
      return "\(location): a statement ran past the server's statement_timeout (\(detail)); nothing was stored"
    case .database(let path, let detail):
      return "\(path): \(detail)"
    }
  }
}
