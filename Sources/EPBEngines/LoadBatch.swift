import EPBPlanner

/// One (step, layer) observation inside a `LoadBatch`.
public struct LoadRow: Sendable, Equatable {
  /// The step number; when the batch's `stepsAreRelative` is true, a 0-based offset after the
  /// series' last stored step.
  public var step: Int
  /// The model layer id (0-based): the input's own (`layer` column, SGLang's row), or the
  /// position in the input's `[L][E]` block relabelled by `LoadBatch.relabelLayers`.
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
  /// The model layer ids of the input's layers, increasing, when the input or the user states
  /// them (`--first-layer`, `--layer-ids`, a reader of an engine's file that carries them).
  /// nil: `0..<layers` for dense inputs; for inputs naming layers one row at a time, the ids
  /// from the smallest to the largest they name (see `declaredLayerIDs`).
  public var layerIDs: [Int]?
  /// Logical experts per layer.
  public var experts: Int
  /// One entry per (step, layer), in input order; no (step, layer) appears twice.
  public var rows: [LoadRow]
  /// `[rows.count * experts]`, row-major.
  public var values: [Double]
  /// True when the input carries no step numbers: `rows[i].step` is then an offset to append
  /// after the series' last step.
  public var stepsAreRelative: Bool

  public init(
    layers: Int?, layerIDs: [Int]? = nil, experts: Int, rows: [LoadRow], values: [Double], stepsAreRelative: Bool
  ) {
    precondition(values.count == rows.count * experts, "LoadBatch shape mismatch")
    precondition(layerIDs.map(LayerIDs.isValid) ?? true, "LoadBatch layer ids not increasing")
    self.layers = layers
    self.layerIDs = layerIDs
    self.experts = experts
    self.rows = rows
    self.values = values
    self.stepsAreRelative = stepsAreRelative
  }

  /// Distinct step numbers in the batch.
  public var stepCount: Int { Set(rows.lazy.map(\.step)).count }

  /// Σ of all values.
  public var totalLoad: Double { values.reduce(0, +) }

  /// True when the input states all of its layers (a dense `[L][E]` block, or `layerIDs`): a
  /// series it goes into must have exactly these layer ids. Inputs naming layers one row at a
  /// time may hold some of the series' layers.
  public var statesAllLayers: Bool { layers != nil || layerIDs != nil }

  /// The model layer ids of the input, increasing: `layerIDs`, else `0..<layers`, else the ids
  /// from the smallest to the largest the rows name (a layer without rows reads as zero).
  public var declaredLayerIDs: [Int] {
    if let layerIDs { return layerIDs }
    if let layers { return Array(0..<layers) }
    guard let low = rows.lazy.map(\.layer).min(), let high = rows.lazy.map(\.layer).max() else { return [] }
    return Array(low...high)
  }

  /// Gives the input's layers the model layer ids `ids` (`--first-layer`, `--layer-ids`).
  ///
  /// A dense input's layer at position `i` (`0..<layers`) becomes model layer `ids[i]`. An input
  /// naming layers one row at a time keeps its ids, which must be among `ids`: then `ids` only
  /// states the series' layers (some may have no row).
  ///
  /// - parameter ids: increasing, non-negative.
  /// - returns: the relabelled batch, or why it cannot apply: a count other than `layers`, or a
  ///   row naming a layer outside `ids`.
  public func relabelLayers(_ ids: [Int]) -> Result<LoadBatch, RelabelError> {
    precondition(LayerIDs.isValid(ids), "layer ids not increasing")
    var out = self
    out.layerIDs = ids
    if let layers {
      guard ids.count == layers else { return .failure(.count(input: layers, given: ids.count)) }
      for i in out.rows.indices { out.rows[i].layer = ids[out.rows[i].layer] }
      return .success(out)
    }
    let known = Set(ids)
    if let outside = rows.first(where: { !known.contains($0.layer) }) {
      return .failure(.outside(layer: outside.layer))
    }
    return .success(out)
  }

  /// Why `relabelLayers` cannot apply.
  public enum RelabelError: Error, Equatable, Sendable {
    /// The input has `input` layers, the ids given number `given`.
    case count(input: Int, given: Int)
    /// A row names `layer`, which is not among the ids given.
    case outside(layer: Int)
  }
}
