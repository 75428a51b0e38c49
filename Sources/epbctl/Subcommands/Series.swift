import ArgumentParser
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
      if json {
        Output.json(
          .object([
            (
              "series",
              .array(
                all.map { s in
                  .object([
                    ("name", .string(s.name)), ("layers", .int(s.layers)), ("layer_ids", .ints(s.layerIDs)),
                    ("experts", .int(s.experts)),
                    ("steps", .int(s.steps)), ("first_step", s.firstStep.map(JSONValue.int) ?? .null),
                    ("last_step", s.lastStep.map(JSONValue.int) ?? .null), ("total_load", .number(s.totalLoad ?? 0)),
                  ])
                })
            )
          ]))
        return
      }
      if all.isEmpty {
        print("no series yet; add one with `epbctl ingest FILE --series NAME`")
        return
      }
      print(
        Output.table(
          ["series", "layers", "layer ids", "experts", "steps", "first", "last", "total load"],
          all.map {
            [
              $0.name, String($0.layers), LayerIDs.list($0.layerIDs), String($0.experts), String($0.steps),
              $0.firstStep.map(String.init) ?? "-",
              $0.lastStep.map(String.init) ?? "-", Output.load($0.totalLoad ?? 0),
            ]
          }))
    }
  }
}
