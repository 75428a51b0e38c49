import ArgumentParser
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

extension Epbctl {
  struct Loads: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the windowed per-expert load of one layer, hottest first.",
      discussion: """
        The window is the same aggregate `plan` uses.

        Example:
          epbctl loads --series prod --layer 10 --window 1000 --top 16
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The series.")
    var series = "default"

    @Option(parsing: .unconditional, help: "The MoE layer id (0-based).")
    var layer: Int

    @OptionGroup var window: WindowOptions

    @Option(parsing: .unconditional, help: "Show only the K hottest experts in the table.")
    var top: Int?

    @Flag(help: "Print JSON for scripts (all experts, in expert order).")
    var json = false

    func validate() throws {
      try FlagLimits.checkSeries(series)
      try FlagLimits.check(layer, flag: "--layer", FlagLimits.layerIDs)
      if let top { try FlagLimits.check(top, flag: "--top", FlagLimits.slots) }
    }

    func run() throws {
      let store = try database.open(create: false)
      let result = try store.windowLoad(series: series, window: window.spec, layers: [layer])
      window.noteClipping(result)
      let loads = Array(result.loads.row(0))
      if json {
        Output.json(
          .object([
            ("series", .string(series)), ("layer", .int(layer)),
            ("window", .object([("from", .int(result.from)), ("to", .int(result.to))])),
            ("loads", .numbers(loads)), ("steps", .int(result.steps)),
            ("half_life", result.halfLife.map(JSONValue.number) ?? .null),
          ]))
        return
      }
      let total = loads.reduce(0, +)
      let mean = total / Double(max(1, loads.count))
      // Hottest first; equal loads by expert id.
      let order = loads.indices.sorted { loads[$0] != loads[$1] ? loads[$0] > loads[$1] : $0 < $1 }
      let shown = order.prefix(top ?? order.count)
      print(
        "series \(series), layer \(layer), steps \(result.from) to \(result.to) (\(plural(result.steps, "stored step")))"
          + (result.halfLife.map { ", half-life \(Output.load($0)) steps" } ?? ""))
      print(
        Output.table(
          ["rank", "expert", "load", "share", "x mean"],
          shown.enumerated().map { rank, e in
            [
              String(rank + 1), String(e), Output.load(loads[e]),
              total > 0 ? String(format: "%.2f%%", 100 * loads[e] / total) : "-",
              mean > 0 ? String(format: "%.2f", loads[e] / mean) : "-",
            ]
          }))
      if let max = loads.max(), mean > 0 {
        print("total \(Output.load(total)), mean \(Output.load(mean)), max/mean \(String(format: "%.2f", max / mean))")
      }
    }
  }
}
