/// One (step, layer) observation inside a `LoadBatch`.
public struct LoadRow: Sendable, Equatable {
  /// The step number; when the batch's `stepsAreRelative` is true, a 0-based offset after the
  /// series' last stored step.
  public var step: Int
  /// The layer id (0-based, as in the input).
  public var layer: Int
  /// Optional wall-clock time of the step, seconds since 1970-01-01 UTC.
  public var time: Double?

  public init(step: Int, layer: Int, time: Double? = nil) {
    self.step = step
    self.layer = layer
    self.time = time
  }
}

/// The loads parsed from one input file (or one stdin batch), ready to be stored whole.
///
/// `values[i * experts + e]` is the load of expert `e` in `rows[i]`: finite, non-negative,
/// exact (integers up to 2^53 stay exact; fractional loads are allowed).
public struct LoadBatch: Sendable, Equatable {
  /// The layer count the input declares (dense `[T][L][E]` inputs), or nil when the input
  /// names layers one row at a time (CSV, JSON lines with `layer`).
  public var layers: Int?
  /// Logical experts per layer.
  public var experts: Int
  /// One entry per (step, layer), in input order; no (step, layer) appears twice.
  public var rows: [LoadRow]
  /// `[rows.count * experts]`, row-major.
  public var values: [Double]
  /// True when the input carries no step numbers: `rows[i].step` is then an offset to append
  /// after the series' last step.
  public var stepsAreRelative: Bool

  public init(layers: Int?, experts: Int, rows: [LoadRow], values: [Double], stepsAreRelative: Bool) {
    precondition(values.count == rows.count * experts, "LoadBatch shape mismatch")
    self.layers = layers
    self.experts = experts
    self.rows = rows
    self.values = values
    self.stepsAreRelative = stepsAreRelative
  }

  /// Distinct step numbers in the batch.
  public var stepCount: Int { Set(rows.lazy.map(\.step)).count }

  /// Σ of all values.
  public var totalLoad: Double { values.reduce(0, +) }
}
