import ArgumentParser
import EPBEngines
import EPBReport
import EPBStore
import Foundation

extension Epbctl {
  struct Snapshots: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the stored placement snapshots, oldest first.",
      discussion: """
        Example:
          epbctl snapshots --series prod --json
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only the snapshots of this series.")
    var series: String?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func validate() throws {
      if let series { try FlagLimits.checkSeries(series) }
    }

    func run() throws {
      let all = try database.open(create: false).snapshots(series: series)
      let listing = SnapshotListing(all)
      if json { Output.json(listing.json) } else { print(listing.text) }
    }
  }
}
