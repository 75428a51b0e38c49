/// The bounds one input must stay within, so that a broken or hostile file is refused early,
/// with a message naming the file and the limit, before it can take unbounded memory or time.
///
/// Each limit is far above what serving engines write (DeepSeek-V3: 61 layers × 256 experts,
/// about 16,000 loads and 100 KB of JSON per step); see docs/reliability.md for the peak memory
/// measured on hostile inputs.
///
/// ```swift
/// let cap = IngestLimits.maxInputBytes()  // 1 GiB, or $EPBCTL_MAX_INPUT_BYTES
/// ```
public enum IngestLimits {
  /// The default largest input file (or stdin input), in bytes: 1 GiB.
  public static let defaultMaxInputBytes = 1 << 30
  /// Largest number of loads in one input (steps × layers × experts): 2^27, 1 GiB as `Double`.
  public static let maxLoads = 1 << 27
  /// Largest layer count of a series, and the bound on layer ids (`0..<maxLayers`).
  public static let maxLayers = 1 << 12
  /// Largest expert count of a series, and the bound on expert ids (`0..<maxExperts`).
  public static let maxExperts = 1 << 16
  /// Largest number of loads in one step (layers × experts).
  public static let maxLoadsPerStep = 1 << 24
  /// Largest JSON-lines line, in bytes: 64 MiB.
  public static let maxJSONLineBytes = 1 << 26
  /// Largest CSV line, in bytes: 64 KiB (a line holds four numbers).
  public static let maxCSVLineBytes = 1 << 16
  /// Deepest JSON nesting accepted in values that are skipped (load arrays have a fixed depth).
  public static let maxJSONDepth = 512

  /// The environment variable that overrides `defaultMaxInputBytes` (a number of bytes).
  public static let maxInputBytesVariable = "EPBCTL_MAX_INPUT_BYTES"

  /// The largest input accepted: `$EPBCTL_MAX_INPUT_BYTES` when it is a positive integer, else
  /// `defaultMaxInputBytes`.
  public static func maxInputBytes(environment: [String: String]) -> Int {
    if let text = environment[maxInputBytesVariable], let value = Int(text), value > 0 { return value }
    return defaultMaxInputBytes
  }

  /// `count` bytes for messages: `512 B`, `64.0 KiB`, `2.0 GiB`.
  package static func describe(bytes count: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    if unit == 0 { return "\(count) B" }
    return String(Int((value * 10).rounded())).withDecimal + " " + units[unit]
  }

  /// Checks the shape of a parsed batch against the limits.
  /// - throws: `ParseError` with code `.tooLarge` naming the limit.
  package static func check(_ batch: LoadBatch, source: String) throws(ParseError) {
    func fail(_ message: String) -> ParseError {
      ParseError(source: source, location: .file, code: .tooLarge, message: message)
    }
    let maxLayer = batch.rows.lazy.map(\.layer).max() ?? -1
    let layers = max(batch.layers ?? 0, maxLayer + 1)
    if layers > maxLayers {
      throw fail(
        "the input has \(layers) layers (largest layer id \(maxLayer)); epbctl accepts at most "
          + "\(maxLayers) layers per series")
    }
    if batch.experts > maxExperts {
      throw fail("the input has \(batch.experts) experts per layer; epbctl accepts at most \(maxExperts)")
    }
    if layers * batch.experts > maxLoadsPerStep {
      throw fail(
        "a step of \(layers) layers × \(batch.experts) experts holds \(layers * batch.experts) loads; "
          + "epbctl accepts at most \(maxLoadsPerStep) per step")
    }
    if batch.values.count > maxLoads {
      throw tooManyLoads(batch.values.count, source: source)
    }
  }

  /// The error for an input holding more than `maxLoads` loads.
  static func tooManyLoads(_ count: Int, source: String) -> ParseError {
    ParseError(
      source: source, location: .file, code: .tooLarge,
      message: "the input holds \(count == Int.max ? "more than \(maxLoads)" : String(count)) loads; "
        + "epbctl accepts at most \(maxLoads) per file: split it into several files")
  }
}

extension String {
  /// "123" → "12.3": a number of tenths written with one decimal.
  fileprivate var withDecimal: String {
    let digits = count < 2 ? String(repeating: "0", count: 2 - count) + self : self
    return digits.dropLast() + "." + digits.suffix(1)
  }
}
