import EPBEngines
import EPBIngest
import EPBTestSupport

/// Times parsing a synthetic `[steps, layers, experts]` int32 trace as `.npy` and as vLLM JSON
/// (the ingest issue's formats), and SHA-256 of the same bytes, printing medians to stdout.
///
/// Options: `--steps 2000 --layers 58 --experts 256 --runs 5`, and `--write-json PATH` /
/// `--write-npy PATH` to keep the generated files (to compare with
/// `python3 -c "import json; json.load(open(PATH))"`).
/// Example: `swift run -c release EPBBench ingest-parse --runs 7 --write-json /tmp/trace.json`.
func runIngestParseBench(arguments: [String]) {
  func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let value = Int(arguments[i + 1]) else {
      return fallback
    }
    return value
  }
  func path(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
  }
  let steps = option("--steps", 2000)
  let layers = option("--layers", 58)
  let experts = option("--experts", 256)
  let runs = max(option("--runs", 5), 1)
  let trace = SyntheticTrace(steps: steps, layers: layers, experts: experts)
  let count = steps * layers * experts
  print("ingest-parse: [\(steps), \(layers), \(experts)] int32 = \(count) values, \(runs) runs, medians")

  let npy = trace.npyBytes()
  let json = trace.vllmJSON()
  if let file = path("--write-json") { writeBenchFile(file, json) }
  if let file = path("--write-npy") { writeBenchFile(file, npy) }

  func median(_ label: String, bytes: Int, values: Int, _ body: () -> Void) {
    let clock = ContinuousClock()
    var seconds: [Double] = []
    for _ in 0..<runs {
      let elapsed = clock.measure(body)
      seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    let m = seconds.sorted()[seconds.count / 2]
    let mb = Double(bytes) / 1e6
    print(
      label.padding(28) + "\(format(m * 1000)) ms  \(format(Double(values) / m / 1e6)) M values/s  "
        + "\(format(mb / m)) MB/s  (\(format(mb)) MB)")
  }
  median("npy <i4 parse", bytes: npy.count, values: count) {
    do { _ = try LoadParser.parse(npy, format: .npy, source: "bench.npy") } catch { fatalError("\(error)") }
  }
  median("vLLM JSON parse", bytes: json.count, values: count) {
    do { _ = try LoadParser.parse(json, format: .loadHistory, source: "bench.json") } catch { fatalError("\(error)") }
  }
  median("vLLM JSON detect+parse", bytes: json.count, values: count) {
    do { _ = try LoadParser.parse(json, format: .auto, source: "bench.json") } catch { fatalError("\(error)") }
  }
  median("SHA-256 of the .npy", bytes: npy.count, values: count) { _ = SHA256.hex(of: npy) }
  median("SHA-256 of the JSON", bytes: json.count, values: count) { _ = SHA256.hex(of: json) }
}

private func format(_ value: Double) -> String {
  let scaled = (value * 10).rounded() / 10
  return String(scaled)
}

extension String {
  fileprivate func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

private func writeBenchFile(_ path: String, _ bytes: [UInt8]) {
  guard let file = fopen(path, "wb") else {
    print("cannot write \(path)")
    return
  }
  _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
  fclose(file)
  print("wrote \(path) (\(bytes.count) bytes)")
}
