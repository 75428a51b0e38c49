import EPBPlanner
import Foundation

// The window rules every store shares: which stored steps a window covers and how their rows
// sum. A store only supplies the rows (SQL); these decide what they add up to.

extension WindowSpec {
  /// The stored steps this window covers in `series`: (first step, last step, step count).
  ///
  /// - parameter stepBeforeLast: the stored step `n` places before the last one (0: the last),
  ///   nil when the series has fewer steps.
  /// - parameter stepCount: how many steps are stored in `from...to`.
  /// - throws: `StoreError.invalidWindow` for contradictory flags, `.emptyWindow` when no stored
  ///   step falls in the window.
  package func resolve(
    series: SeriesInfo, stepBeforeLast: (_ n: Int) throws -> Int?, stepCount: (_ from: Int, _ to: Int) throws -> Int
  ) throws -> (from: Int, to: Int, steps: Int) {
    if let problem { throw StoreError.invalidWindow(problem) }
    guard let first = series.firstStep, let lastStored = series.lastStep else {
      throw StoreError.emptyWindow(series: series.name, detail: "the series holds no step yet; ingest some first")
    }
    var from = self.from ?? first
    var to = self.to ?? lastStored
    if let last {
      to = lastStored
      from = try stepBeforeLast(last - 1) ?? first
    }
    let count = try stepCount(from, to)
    if count == 0 {
      throw StoreError.emptyWindow(
        series: series.name,
        detail: "no stored step in \(from) to \(to) (stored steps: \(first) to \(lastStored)); adjust --from/--to")
    }
    // Report the window as the stored steps it really covers.
    return (max(from, first), min(to, lastStored), count)
  }
}

extension SeriesInfo {
  /// The requested model layer ids (nil: all of the series') and, indexed by model layer id
  /// (`0...` the series' largest), its row in the result or −1.
  ///
  /// - throws: `StoreError.unknownLayer` for an id the series does not have.
  package func layerRows(_ layers: [Int]?) throws(StoreError) -> (layers: [Int], rowOfLayer: [Int]) {
    let wanted = layers ?? layerIDs
    var rowOfLayer = Array(repeating: -1, count: (layerIDs.last ?? -1) + 1)
    let known = Set(layerIDs)
    for (row, layer) in wanted.enumerated() {
      guard known.contains(layer) else {
        throw .unknownLayer(series: name, layer: layer, layerIDs: layerIDs)
      }
      rowOfLayer[layer] = row
    }
    return (wanted, rowOfLayer)
  }
}

/// The sum of a window's load rows, fed in step order (then any layer order): the window's
/// `[layers][experts]` total, each row weighted `0.5^((to − step) / halfLife)` with a half-life,
/// and, when `blocks` > 1, the unweighted sums of that many consecutive blocks of near-equal
/// step counts.
package struct WindowSum {
  let series: SeriesInfo
  let layers: [Int]
  let rowOfLayer: [Int]
  let from: Int
  let to: Int
  let steps: Int
  let halfLife: Double?
  private var total: LoadMatrixBuilder
  private var blockSums: [LoadMatrixBuilder]
  private var position = -1
  private var lastStep = Int.min

  package init(
    series: SeriesInfo, layers: [Int], rowOfLayer: [Int], from: Int, to: Int, steps: Int, halfLife: Double?,
    blocks: Int
  ) {
    (self.series, self.layers, self.rowOfLayer) = (series, layers, rowOfLayer)
    (self.from, self.to, self.steps, self.halfLife) = (from, to, steps, halfLife)
    total = LoadMatrixBuilder(layers: layers.count, experts: series.experts)
    let blockCount = blocks > 1 ? min(blocks, steps) : 0
    blockSums = Array(repeating: LoadMatrixBuilder(layers: layers.count, experts: series.experts), count: blockCount)
  }

  /// Adds one stored row (`blob` in `LoadCodec`'s `encoding`).
  ///
  /// - throws: `StoreError.database` for a layer outside the series or a damaged blob.
  package mutating func add(step: Int, layer: Int, encoding: Int, blob: UnsafeRawBufferPointer) throws(StoreError) {
    guard layer >= 0 && layer < rowOfLayer.count else {
      throw .database(path: "", detail: "load row step \(step) has layer \(layer) outside series '\(series.name)'")
    }
    if step != lastStep {
      position += 1
      lastStep = step
    }
    let target = rowOfLayer[layer]
    if target < 0 { return }
    let weight = halfLife.map { pow(0.5, Double(to - step) / $0) } ?? 1
    var ok = total.accumulate(row: target, blob: blob, encoding: encoding, weight: weight)
    if !blockSums.isEmpty {
      let block = min(position * blockSums.count / steps, blockSums.count - 1)
      ok = ok && blockSums[block].accumulate(row: target, blob: blob, encoding: encoding, weight: 1)
    }
    if !ok {
      throw .database(path: "", detail: "load row step \(step) layer \(layer) of series '\(series.name)' is damaged")
    }
  }

  package func result() -> WindowLoad {
    WindowLoad(
      series: series, from: from, to: to, steps: steps, halfLife: halfLife, layers: layers, loads: total.build(),
      blocks: blockSums.map { $0.build() })
  }
}

/// The loads of one step at a time, fed in step order, handed to `body` when the step changes
/// (rows absent from the store are zero): `forEachStep`'s rule.
package struct StepSplitter {
  let series: SeriesInfo
  let rowOfLayer: [Int]
  let width: Int
  private var current: Int?
  private var matrix: LoadMatrixBuilder

  package init(series: SeriesInfo, layers: Int, rowOfLayer: [Int]) {
    (self.series, self.rowOfLayer, self.width) = (series, rowOfLayer, layers)
    matrix = LoadMatrixBuilder(layers: layers, experts: series.experts)
  }

  /// Adds one stored row; calls `body` with the previous step first when this one starts a new step.
  package mutating func add(
    step: Int, layer: Int, encoding: Int, blob: UnsafeRawBufferPointer, _ body: (Int, LoadMatrix) throws -> Void
  ) throws {
    if let c = current, c != step {
      try body(c, matrix.build())
      matrix = LoadMatrixBuilder(layers: width, experts: series.experts)
    }
    current = step
    let target = layer >= 0 && layer < rowOfLayer.count ? rowOfLayer[layer] : -1
    if target >= 0 && !matrix.accumulate(row: target, blob: blob, encoding: encoding, weight: 1) {
      throw StoreError.database(
        path: "", detail: "load row step \(step) layer \(layer) of series '\(series.name)' is damaged")
    }
  }

  /// Hands the last step to `body`.
  package func finish(_ body: (Int, LoadMatrix) throws -> Void) rethrows {
    if let c = current { try body(c, matrix.build()) }
  }
}

/// Accumulates decoded rows into a flat `[layers][experts]` buffer.
struct LoadMatrixBuilder {
  let layers: Int
  let experts: Int
  var values: [Double]

  init(layers: Int, experts: Int) {
    self.layers = layers
    self.experts = experts
    self.values = Array(repeating: 0, count: layers * experts)
  }

  mutating func accumulate(row: Int, blob: UnsafeRawBufferPointer, encoding: Int, weight: Double) -> Bool {
    let experts = self.experts
    return values.withUnsafeMutableBufferPointer { buffer in
      let slice = UnsafeMutableBufferPointer(rebasing: buffer[(row * experts)..<((row + 1) * experts)])
      return LoadCodec.accumulate(blob, encoding: encoding, weight: weight, into: slice)
    }
  }

  func build() -> LoadMatrix { LoadMatrix(layers: layers, experts: experts, values: values) }
}
