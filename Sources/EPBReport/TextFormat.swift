/// Number formatting and column layout for plain-text tables, without Foundation.
enum TextFormat {
  /// `x` with exactly `digits` decimals (`fixed(2.345, 2)` is `2.35`, rounding half away from zero);
  /// `nan`/`inf` for non-finite values, and Swift's shortest form beyond ±9e15 after scaling.
  static func fixed(_ x: Double, _ digits: Int) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(x) * Double(scale)).rounded()
    if scaled > 9e15 { return "\(x)" }
    let n = Int(scaled)
    let sign = x < 0 && n != 0 ? "-" : ""
    let whole = String(n / scale)
    if digits == 0 { return sign + whole }
    let frac = String(n % scale)
    return sign + whole + "." + String(repeating: "0", count: digits - frac.count) + frac
  }

  /// `x` as a percentage with `digits` decimals: `percent(0.1234)` is `12.3%`.
  static func percent(_ x: Double, _ digits: Int = 1) -> String { fixed(x * 100, digits) + "%" }

  /// A load in tokens: one decimal below 1000, none above (loads are token counts, often split by replicas).
  static func load(_ x: Double) -> String { abs(x) < 1000 ? fixed(x, 1) : fixed(x, 0) }

  /// A byte count in binary units: `1.50 GiB`.
  static func bytes(_ b: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var value = Double(b)
    var unit = 0
    while abs(value) >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(b) B" : fixed(value, 2) + " " + units[unit]
  }

  /// Columns padded to their widest cell, two spaces apart; the first column left-aligned, the
  /// others right-aligned (numbers). Each line ends with a newline; no trailing spaces
  /// (`TextTable.render` with a final newline).
  static func table(header: [String], rows: [[String]]) -> String {
    TextTable.render(header, rows) + "\n"
  }

  /// `key: value` lines with the keys padded to the same width.
  static func keyValues(_ pairs: [(String, String)]) -> String {
    let width = pairs.map(\.0.count).max() ?? 0
    return pairs.map { key, value in
      key + ":" + String(repeating: " ", count: width - key.count + 1) + value + "\n"
    }.joined()
  }
}
