import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore

extension Epbctl {
  struct Series: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the stored series with their shape and step range.",
      discussion: """
        Example:
          epbctl series --json
        """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() throws {
      let all = try database.open(create: false).series()
      let listing = SeriesListing(all)
      if json { Output.json(listing.json) } else { print(listing.text) }
    }
  }
}
