import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

extension Epbctl {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show one stored snapshot: its placement, statistics and provenance.",
      discussion: """
        ID is a snapshot id, `latest`, or `latest~N` (the Nth before the latest), counted over \
        the whole database or within --series.

        Example:
          epbctl show latest --json
        """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "A snapshot id, latest, or latest~N.")
    var id: String

    @Option(help: "Resolve latest / latest~N within this series.")
    var series: String?

    @Option(help: "Write a self-contained HTML report with inline SVG to this file.")
    var html: String?

    @Option(
      parsing: .unconditional, help: "The layer whose per-GPU bars the HTML report draws (default: the least balanced)."
    )
    var htmlLayer: Int?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func validate() throws {
      if let htmlLayer { try FlagLimits.check(htmlLayer, flag: "--html-layer", FlagLimits.layerIDs) }
      if let series { try FlagLimits.checkSeries(series) }
    }

    func run() throws {
      if let html { try Output.checkWritable(html, flag: "--html") }
      let store = try database.open(create: false)
      let record = try store.snapshot(id: store.resolveSnapshot(id, series: series))
      var report = SnapshotReport(record)
      if record.policy == .hierarchical {
        // The hierarchical cap needs the window's loads; without them (pruned) it is left out.
        let spec = WindowSpec(from: record.windowFrom, to: record.windowTo, halfLife: record.halfLife)
        if let load = try? store.windowLoad(series: record.series, window: spec, layers: record.layers.map(\.layer)) {
          report.addGroupBounds(loads: load.loads, layerIDs: load.layers)
        }
      }
      if let html {
        try Output.write(report.html(layer: htmlLayer), to: html, flag: "--html")
      }
      if json {
        Output.json(report.json())
      } else {
        print(report.table())
      }
    }
  }
}
