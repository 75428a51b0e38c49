import EPBEngines
import EPBIngest
import EPBStore
import EPBTestSupport
import Foundation

/// End-to-end ingest benchmark (issue: load history). Generates a synthetic `[2000, 58, 256]`
/// int32 trace, writes it as `.npy` and as vLLM-style JSON, and times `Ingestor.ingest` of each
/// file into a fresh database (read + parse + hash + store, one transaction), the database
/// size per value, the window aggregate of the last 1,000 steps for all layers, and Python's
/// `json.load` of the same JSON file when `python3` is on the PATH.
///
/// Usage: `swift run -c release EPBBench ingest [--steps 2000] [--layers 58] [--experts 256] [--reps 3]`
func runIngestBench(_ arguments: [String]) {
  func value(_ flag: String, _ fallback: Int) -> Int { intFlag(arguments, flag, fallback) }
  let steps = value("--steps", 2000), layers = value("--layers", 58), experts = value("--experts", 256)
  let reps = value("--reps", 3)
  let values = steps * layers * experts
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("epbctl-bench-\(UUID().uuidString)")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }

  print("machine: \(machineDescription())")
  print("trace: [\(steps), \(layers), \(experts)] int32 = \(values) values")
  let trace = SyntheticTrace(steps: steps, layers: layers, experts: experts)
  let npyPath = dir.appendingPathComponent("trace.npy").path
  let jsonPath = dir.appendingPathComponent("trace.json").path
  _ = FileManager.default.createFile(atPath: npyPath, contents: Data(trace.npyBytes()))
  _ = FileManager.default.createFile(atPath: jsonPath, contents: Data(trace.vllmJSON()))
  let jsonBytes = (try? FileManager.default.attributesOfItem(atPath: jsonPath)[.size] as? Int) ?? 0
  print("files: npy \(values * 4 / 1_000_000) MB, json \(jsonBytes / 1_000_000) MB")

  let clock = ContinuousClock()

  var lastDB = ""
  for (name, path) in [("npy", npyPath), ("vllm json", jsonPath)] {
    var times: [Double] = []
    for rep in 0..<reps {
      let db = dir.appendingPathComponent("\(name.prefix(3))-\(rep).sqlite").path
      let store = try! SQLiteStore.open(path: db, create: true)
      let t = clock.measure {
        _ = try! Ingestor(store: store).ingest(path: path, series: "bench", format: .auto, replace: false)
      }
      times.append(seconds(t))
      lastDB = db
    }
    let m = median(times)
    print(
      "ingest \(name): median "
        + String(format: "%.3f s over %d runs = %.1f M values/s", m, reps, Double(values) / m / 1e6))
  }

  // Database size per value (after a checkpoint so the WAL is folded in).
  let store = try! SQLiteStore.open(path: lastDB, create: false)
  _ = try? store.series()
  let size = (try? FileManager.default.attributesOfItem(atPath: lastDB)[.size] as? Int) ?? 0
  let wal = (try? FileManager.default.attributesOfItem(atPath: lastDB + "-wal")[.size] as? Int) ?? 0
  print(
    String(
      format: "database: %.2f bytes per value (file %d B + wal %d B)", Double(size + wal) / Double(values), size, wal))

  var aggregate: [Double] = []
  for _ in 0..<max(5, reps) {
    let t = clock.measure { _ = try! store.windowLoad(series: "bench", window: WindowSpec(last: min(1000, steps))) }
    aggregate.append(seconds(t))
  }
  print(
    String(
      format: "window aggregate, last %d steps x %d layers: median %.1f ms", min(1000, steps), layers,
      median(aggregate) * 1000))

  // Python's json.load of the same file, for comparison.
  let python = Process()
  python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  python.arguments = [
    "python3", "-c",
    "import json,sys,time\nt=time.perf_counter()\njson.load(open(sys.argv[1]))\nprint(time.perf_counter()-t)",
    jsonPath,
  ]
  let pipe = Pipe()
  python.standardOutput = pipe
  if (try? python.run()) != nil {
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    python.waitUntilExit()
    if python.terminationStatus == 0,
      let t = Double(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    {
      print(
        String(
          format: "python3 json.load of the same file: %.3f s = %.1f M values/s (parse only)", t,
          Double(values) / t / 1e6))
    }
  }
}
