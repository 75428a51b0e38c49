import ArgumentParser
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
      let all = PlacementAlgorithm.allCases
      if json {
        Output.json(
          .object([
            (
              "algorithms",
              .array(all.map { .object([("name", .string($0.rawValue)), ("description", .string($0.summary))]) })
            ),
            ("default", .string(PlacementAlgorithm.planDefault.rawValue)),
          ]))
      } else {
        print(Output.table(["algorithm", "description"], all.map { [$0.rawValue, $0.summary] }, leftColumns: 2))
        print("\ndefault: \(PlacementAlgorithm.planDefault.rawValue) (what `plan` uses without --algorithm)")
      }
    }
  }
}
