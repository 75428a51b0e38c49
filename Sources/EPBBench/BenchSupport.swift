import Foundation

/// "N cores (nproc), <CPU model>" from /proc/cpuinfo, so every report names the machine.
func machineDescription() -> String {
  let cores = ProcessInfo.processInfo.activeProcessorCount
  var model = "unknown CPU"
  if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
    let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
    let colon = line.firstIndex(of: ":")
  {
    model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
  }
  return "\(cores) cores (nproc), \(model)"
}

/// The median of `xs` (the mean of the two middle values for an even count); 0 for none (a
/// measurement skipped with `--only`).
func median(_ xs: [Double]) -> Double {
  if xs.isEmpty { return 0 }
  let s = xs.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The integer after `flag` in `arguments`, else `fallback`.
func intFlag(_ arguments: [String], _ flag: String, _ fallback: Int) -> Int {
  guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else {
    return fallback
  }
  return v
}

/// `d` in seconds.
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
