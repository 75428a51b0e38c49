import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBReport

extension Epbctl {
  struct Algorithms: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the placement algorithms `plan --algorithm` accepts.",
      discussion: """
        Example:
          epbctl algorithms --json
        """)

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() {
      if json { Output.json(AlgorithmListing.json) } else { print(AlgorithmListing.text) }
    }
  }
}
