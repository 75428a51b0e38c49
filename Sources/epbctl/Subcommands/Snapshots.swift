import ArgumentParser
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
      if json {
        Output.json(
          .object([
            (
              "snapshots",
              .array(
                all.map { s in
                  .object([
                    ("id", .int(Int(s.id))), ("series", .string(s.series)), ("created_at", .string(s.createdAt)),
                    ("algorithm", .string(s.algorithm)),
                    ("window", .object([("from", .int(s.windowFrom)), ("to", .int(s.windowTo))])),
                    ("replicas", .int(s.topology.replicas)), ("gpus", .int(s.topology.gpus)),
                    ("nodes", .int(s.topology.nodes)), ("groups", .int(s.topology.groups)), ("layers", .int(s.layers)),
                    ("policy", .string(s.policy.rawValue)), ("half_life", s.halfLife.map(JSONValue.number) ?? .null),
                    ("balancedness_weighted", .number(s.balancednessWeighted)),
                  ])
                })
            )
          ]))
        return
      }
      if all.isEmpty {
        print("no snapshots yet; create one with `epbctl plan`")
        return
      }
      print(
        Output.table(
          ["id", "series", "created", "algorithm", "policy", "window", "R/GPUs/nodes/groups", "layers", "balanced"],
          all.map { s in
            [
              String(s.id), s.series, s.createdAt, s.algorithm, s.policy.rawValue,
              "\(s.windowFrom)–\(s.windowTo)" + (s.halfLife.map { " h=\(Output.load($0))" } ?? ""),
              "\(s.topology.replicas)/\(s.topology.gpus)/\(s.topology.nodes)/\(s.topology.groups)", String(s.layers),
              String(format: "%.4f", s.balancednessWeighted),
            ]
          }))
    }
  }
}
