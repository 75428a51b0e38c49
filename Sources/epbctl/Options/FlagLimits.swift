import ArgumentParser
import EPBEngines
import EPBIngest

/// The bounds of every numeric flag, in one place, checked in each command's `validate()` before
/// any work, so that a typo such as `--replicas 9223372036854775807` exits 64 with a message
/// naming the flag and the bound instead of overflowing or allocating without limit.
///
/// Each bound is far above any real cluster (DeepSeek-V3 serves 61 layers × 256 experts with
/// 288 slots on 32 GPUs) and follows the input limits of `IngestLimits`: a layer never holds more
/// slots than a series can hold experts. docs/cli.md lists the same table.
///
/// ```swift
/// try FlagLimits.check(replicas, flag: "--replicas", FlagLimits.slots)  // 1 to 65536
/// ```
enum FlagLimits {
  /// `--replicas`, `--gpus`, `--groups`, `--top`: at most 2^16 (the most experts a series holds).
  static let slots: ClosedRange<Int> = 1...IngestLimits.maxExperts
  /// `--nodes`: at most 4096.
  static let nodes: ClosedRange<Int> = 1...(1 << 12)
  /// Layer ids (`--layer`): 0 to 4095, the ids a series can hold.
  static let layerIDs: ClosedRange<Int> = 0...(IngestLimits.maxLayers - 1)
  /// Step counts (`--window`, `--every`, `--horizon`, `--warmup`): 1 to 2^40.
  static let steps: ClosedRange<Int> = 1...(1 << 40)
  /// Step ids (`--from`, `--to`): 0 to 2^40.
  static let stepIDs: ClosedRange<Int> = 0...(1 << 40)
  /// `--half-life`, in steps: above 0, at most 2^40.
  static let halfLife: ClosedRange<Double> = 0...Double(1 << 40)
  /// `--expert-bytes`: 1 B to 16 GiB, so bytes × moves (at most 2^28 per diff) fits in 64 bits.
  static let expertBytes: ClosedRange<Int> = 1...(1 << 34)
  /// `backtest --link-gbps`, gigabits per second a GPU receives: above 0, at most 10⁶ (1 Pb/s).
  static let linkGbps: ClosedRange<Double> = 0...1e6
  /// `backtest --step-ms`, milliseconds of MoE time per step: above 0, at most 3,600,000 (an hour).
  static let stepMs: ClosedRange<Double> = 0...3_600_000
  /// `--max-moves`, replica moves per layer: 0 to 2^16 (a layer's slots).
  static let moves: ClosedRange<Int> = 0...IngestLimits.maxExperts
  /// `--min-gain`, in percent: 0 to 100.
  static let percent: ClosedRange<Double> = 0...100
  /// `ingest --batch-lines`: 1 to 2^24.
  static let batchLines: ClosedRange<Int> = 1...(1 << 24)
  /// `simulate`: steps × layers × experts at most 2^27 (`IngestLimits.maxLoads`, what one
  /// `ingest` input may hold), and each of them bounded as the input limits bound a series.
  static let simulateLoads = IngestLimits.maxLoads
  /// `simulate --burst-length`, in steps: 1 to 2^40.
  static let burstLength: ClosedRange<Int> = 1...(1 << 40)
  /// `plan --threads`, `backtest --threads`: 1 to 1024.
  static let threads: ClosedRange<Int> = 1...1024
  /// `--series` names: at most 128 characters, no control characters.
  static let seriesNameLength = 128

  /// Throws unless `value` lies in `range`; the message names `flag` and the bound.
  static func check(_ value: Int, flag: String, _ range: ClosedRange<Int>) throws {
    if range.contains(value) { return }
    if value < range.lowerBound && range.lowerBound == 1 {
      throw ValidationError("\(flag) must be positive (1 to \(range.upperBound)), got \(value)")
    }
    throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
  }

  /// Throws unless `value` is finite and lies in `range`; with `positive`, 0 itself is refused.
  static func check(_ value: Double, flag: String, _ range: ClosedRange<Double>, positive: Bool = false) throws {
    if value.isFinite && range.contains(value) && !(positive && value == 0) { return }
    let upper = range.upperBound.formatted
    if positive {
      throw ValidationError("\(flag) must be positive (above 0, at most \(upper)), got \(value)")
    }
    throw ValidationError("\(flag) must be between \(range.lowerBound.formatted) and \(upper), got \(value)")
  }

  /// Throws unless `name` is a usable series name: not empty, at most `seriesNameLength`
  /// characters, no control characters (a newline would break every table).
  static func checkSeries(_ name: String, flag: String = "--series") throws {
    if name.isEmpty { throw ValidationError("\(flag) must not be empty") }
    if name.count > seriesNameLength {
      throw ValidationError("\(flag) must be at most \(seriesNameLength) characters, got \(name.count)")
    }
    if let bad = name.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
      throw ValidationError(
        "\(flag) must not contain control characters, got U+\(String(bad.value, radix: 16, uppercase: true)) in \(name.debugDescription)"
      )
    }
  }
}

extension Double {
  /// `100`, `1099511627776`, `0.5`: integral values without a trailing `.0`.
  fileprivate var formatted: String {
    if self == rounded() && abs(self) < 1e15 { return String(Int(self)) }
    return String(self)
  }
}
