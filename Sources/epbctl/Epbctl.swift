import ArgumentParser

/// The epbctl command: keeps the history of MoE expert loads and placements.
@main
struct Epbctl: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "epbctl",
    abstract: "Record MoE expert loads, plan replica placements and compare them.",
    discussion: """
      epbctl keeps the history of per-expert loads of an expert-parallel inference cluster in
      SQLite, plans replica placements with DeepSeek's EPLB (or the seed's variant) over windows
      of that history, and diffs successive placements: what a new one buys and what it costs.

      Example:
        epbctl ingest Examples/data/*.json --series prod
        epbctl plan --series prod --layer all --replicas 288 --gpus 32 --nodes 4 --groups 8
      """,
    version: version,
    subcommands: [
      Ingest.self, Series.self, Loads.self, Plan.self, Algorithms.self, Snapshots.self, Show.self, Diff.self, Export.self,
      Simulate.self, Backtest.self,
    ])
}
