import EPBEngines
import EPBPlanner
import EPBStore
import Foundation

/// `epbctl loads`: one layer's windowed per-expert load, hottest first.
public struct LoadsReport: Sendable {
  public var series: String
  /// The model layer id.
  public var layer: Int
  /// Tokens per expert over the window, in expert order (`[E]`).
  public var loads: [Double]
  /// The window's first and last step (inclusive) and how many stored steps it holds.
  public var window: StepWindow
  public var steps: Int
  /// The `--half-life` in steps, nil when steps were not decayed.
  public var halfLife: Double?
  /// Rows shown in the table (the K hottest); nil shows every expert. JSON always has all.
  public var top: Int?

  public init(
    series: String, layer: Int, loads: [Double], window: StepWindow, steps: Int, halfLife: Double? = nil,
    top: Int? = nil
  ) {
    self.series = series
    self.layer = layer
    self.loads = loads
    self.window = window
    self.steps = steps
    self.halfLife = halfLife
    self.top = top
  }

  /// The report of `load`'s first layer (`load` must hold the one layer `layer`).
  public init(series: String, layer: Int, load: WindowLoad, top: Int? = nil) {
    self.init(
      series: series, layer: layer, loads: Array(load.loads.row(0)), window: StepWindow(from: load.from, to: load.to),
      steps: load.steps, halfLife: load.halfLife, top: top)
  }

  /// `{"series", "layer", "window": {"from", "to"}, "loads": [E], "steps", "half_life"}`.
  public var json: JSONValue {
    .object([
      ("series", .string(series)), ("layer", .int(layer)),
      ("window", .object([("from", .int(window.from)), ("to", .int(window.to))])),
      ("loads", .numbers(loads)), ("steps", .int(steps)),
      ("half_life", halfLife.map(JSONValue.number) ?? .null),
    ])
  }

  /// A heading line, a table of rank, expert, load, share and multiple of the mean (hottest
  /// first, equal loads by expert id), and the totals.
  public var text: String {
    let total = loads.reduce(0, +)
    let mean = total / Double(max(1, loads.count))
    let order = loads.indices.sorted { loads[$0] != loads[$1] ? loads[$0] > loads[$1] : $0 < $1 }
    let shown = order.prefix(top ?? order.count)
    var lines = [
      "series \(series), layer \(layer), steps \(window.from) to \(window.to) (\(plural(steps, "stored step")))"
        + (halfLife.map { ", half-life \(TextTable.load($0)) steps" } ?? ""),
      TextTable.render(
        ["rank", "expert", "load", "share", "x mean"],
        shown.enumerated().map { rank, e in
          [
            String(rank + 1), String(e), TextTable.load(loads[e]),
            total > 0 ? String(format: "%.2f%%", 100 * loads[e] / total) : "-",
            mean > 0 ? String(format: "%.2f", loads[e] / mean) : "-",
          ]
        }),
    ]
    if let max = loads.max(), mean > 0 {
      lines.append(
        "total \(TextTable.load(total)), mean \(TextTable.load(mean)), max/mean \(String(format: "%.2f", max / mean))")
    }
    return lines.joined(separator: "\n")
  }
}

/// `epbctl algorithms`: every `PlacementAlgorithm` with its one-line summary, and the default.
public enum AlgorithmListing {
  /// `{"algorithms": [{"name", "description"}], "default"}`.
  public static var json: JSONValue {
    .object([
      (
        "algorithms",
        .array(
          PlacementAlgorithm.allCases.map {
            .object([("name", .string($0.rawValue)), ("description", .string($0.summary))])
          })
      ),
      ("default", .string(PlacementAlgorithm.planDefault.rawValue)),
    ])
  }

  /// A two-column table and the default.
  public static var text: String {
    TextTable.render(
      ["algorithm", "description"], PlacementAlgorithm.allCases.map { [$0.rawValue, $0.summary] }, leftColumns: 2)
      + "\n\ndefault: \(PlacementAlgorithm.planDefault.rawValue) (what `plan` uses without --algorithm)"
  }
}
