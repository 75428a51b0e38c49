import ArgumentParser
import EPBEngines
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
      let report = LoadsReport(series: series, layer: layer, load: result, top: top)
      if json { Output.json(report.json) } else { print(report.text) }
    }
  }
}
