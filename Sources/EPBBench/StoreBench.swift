import EPBIngest
import EPBStore
import EPBTestSupport
import Foundation

#if Postgres
  import EPBStorePostgres
#endif

/// The store on each backend (issue 20): a synthetic `[steps, layers, experts]` int32 trace
/// written as `.npy`, ingested end to end (`Ingestor`: read, parse, hash, one transaction) into
/// a fresh SQLite file and, with `--postgres URL` (a role that may create databases; a build
/// with the trait `Postgres`), into a fresh PostgreSQL database; then the window aggregate of the
/// last `--window` steps for every layer (`windowLoad`), and the size on disk of each (SQLite:
/// file + WAL; PostgreSQL: `pg_database_size`, and the same of the empty migrated database,
/// which is PostgreSQL's catalog).
///
/// Usage: `swift run -c release --traits Postgres EPBBench store --postgres URL [--steps 2000]
/// [--layers 58] [--experts 256] [--window 1000] [--reps 5]`
func runStoreBench(_ arguments: [String]) {
  func value(_ flag: String, _ fallback: Int) -> Int { intFlag(arguments, flag, fallback) }
  let steps = value("--steps", 2000), layers = value("--layers", 58), experts = value("--experts", 256)
  let window = value("--window", 1000), reps = value("--reps", 5)
  let postgres = arguments.firstIndex(of: "--postgres").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
  let values = steps * layers * experts
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("epbctl-bench-\(UUID().uuidString)")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }

  print("machine: \(machineDescription())")
  print("trace: [\(steps), \(layers), \(experts)] int32 = \(values) values, .npy")
  let npyPath = dir.appendingPathComponent("trace.npy").path
  let trace = SyntheticTrace(steps: steps, layers: layers, experts: experts)
  _ = FileManager.default.createFile(atPath: npyPath, contents: Data(trace.npyBytes()))

  let clock = ContinuousClock()

  /// Ingest `reps` times into a fresh store each; then time the window on the last one.
  func measure(_ backend: String, fresh: (Int) throws -> any EPBStore, size: (any EPBStore) throws -> String) throws {
    var times: [Double] = []
    var last: (any EPBStore)?
    for rep in 0..<reps {
      let store = try fresh(rep)
      let t = try clock.measure {
        _ = try Ingestor(store: store).ingest(path: npyPath, series: "bench", format: .auto, replace: false)
      }
      times.append(seconds(t))
      last = store
    }
    let m = median(times)
    print(
      "\(backend) ingest: median "
        + String(
          format: "%.3f s (min %.3f, max %.3f) over %d runs = %.1f M values/s", m, times.min()!, times.max()!, reps,
          Double(values) / m / 1e6))
    guard let store = last else { return }
    var aggregate: [Double] = []
    for _ in 0..<20 {
      let t = try clock.measure {
        _ = try store.windowLoad(series: "bench", window: WindowSpec(last: min(window, steps)))
      }
      aggregate.append(seconds(t))
    }
    print(
      "\(backend) window aggregate, last \(min(window, steps)) steps x \(layers) layers: median "
        + String(format: "%.1f ms (min %.1f) over 20", median(aggregate) * 1000, aggregate.min()! * 1000))
    print("\(backend) size: " + (try size(store)))
  }

  do {
    try measure(
      "sqlite",
      fresh: { rep in try SQLiteStore.open(path: dir.appendingPathComponent("\(rep).sqlite").path, create: true) },
      size: { store in
        _ = try store.series()
        let file = (try? FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int) ?? 0
        let wal = (try? FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int) ?? 0
        return String(format: "%.1f MB (file %d B + WAL %d B)", Double(file + wal) / 1e6, file, wal)
      })
  } catch {
    print("sqlite: \(error)")
  }

  guard let postgres else {
    print("postgres: not measured (give --postgres URL)")
    return
  }
  #if Postgres
    do {
      let admin = try PostgresLocation(url: postgres, environment: ProcessInfo.processInfo.environment)
      var created: [String] = []
      defer { for name in created { try? PostgresStore.runOnServer(admin, sql: "DROP DATABASE IF EXISTS \(name)") } }
      var emptyBytes = 0
      try measure(
        "postgres",
        fresh: { _ in
          let name = "epbbench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
          try PostgresStore.runOnServer(admin, sql: "CREATE DATABASE \(name)")
          created.append(String(name))
          var location = admin
          location.database = String(name)
          let store = try PostgresStore.open(location)
          emptyBytes = try store.databaseSize()
          return store
        },
        size: { store in
          guard let store = store as? PostgresStore else { return "?" }
          _ = try PostgresStore.runOnServer(admin, sql: "CHECKPOINT")
          let bytes = try store.databaseSize()
          return String(
            format: "%.1f MB (pg_database_size; %.1f MB of it the empty migrated database, %.1f MB the history)",
            Double(bytes) / 1e6, Double(emptyBytes) / 1e6, Double(bytes - emptyBytes) / 1e6)
        })
    } catch {
      print("postgres: \(error)")
    }
  #else
    print("postgres: this EPBBench was built without the trait Postgres (swift build --traits Postgres)")
  #endif
}
