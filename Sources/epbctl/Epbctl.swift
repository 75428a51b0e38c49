import ArgumentParser
import EPBEngines
import Foundation

/// The epbctl command: keeps the history of MoE expert loads and placements.
@main
struct Epbctl: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "epbctl",
    abstract: "Record MoE expert loads, plan replica placements and compare them.",
    discussion: """
      epbctl keeps the history of per-expert loads of an expert-parallel inference cluster in \
      SQLite, plans replica placements with DeepSeek's EPLB (or the seed's variant) over windows \
      of that history, and diffs successive placements: what a new one buys and what it costs.

      Example:
        epbctl ingest Examples/sglang/*.json --series prod
        epbctl plan --series prod --layer all \\
          --replicas 288 --gpus 32 --nodes 4 --groups 8
      """,
    version: version,
    subcommands: [
      Ingest.self, Series.self, Loads.self, Plan.self, Algorithms.self, Snapshots.self, Show.self, Diff.self,
      Export.self,
      Simulate.self, Backtest.self, Delete.self, Prune.self, Copy.self,
    ])

  /// The subcommand names, from the configuration (so a new command is known here too).
  static var commandNames: [String] { configuration.subcommands.map { $0._commandName } }

  /// Parses `CommandLine.arguments` after `rewrite(_:)`, or exits 64 with its message.
  static func main() {
    switch rewrite(Array(CommandLine.arguments.dropFirst())) {
    case .success(let arguments): main(arguments)
    case .failure(let error):
      Output.diagnostic("error: \(error.description)")
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
  }

  /// The arguments ArgumentParser sees: `--db FILE` (or `--db=FILE`) given before the
  /// subcommand moves right after it, so `epbctl --db x.sqlite series` means `epbctl series
  /// --db x.sqlite`; an unknown command name fails with the closest known one (`plna` → `plan`),
  /// and so does `help NAME` of an unknown NAME.
  static func rewrite(_ arguments: [String]) -> Result<[String], CommandError> {
    var rest = arguments
    var db: [String] = []
    while let first = rest.first, first == "--db" || first.hasPrefix("--db=") {
      if first == "--db" {
        guard rest.count >= 2 else { return .failure(CommandError("missing value for '--db <db>'")) }
        db = ["--db", rest[1]]
        rest.removeFirst(2)
      } else {
        db = [first]
        rest.removeFirst()
      }
    }
    // No subcommand (`epbctl --db x --help`): nothing reads the database, so --db is dropped.
    guard let name = rest.first, !name.hasPrefix("-") else { return .success(rest) }
    let names = commandNames
    if name == "help" {
      if rest.count >= 2, !rest[1].hasPrefix("-"), !names.contains(rest[1]) {
        return .failure(unknownCommand(rest[1], names))
      }
      return .success(rest)
    }
    guard names.contains(name) else { return .failure(unknownCommand(name, names)) }
    return .success([name] + db + rest.dropFirst())
  }

  /// `unknown command 'plna'; did you mean 'plan'?` (the closest name within 2 edits), else the list.
  static func unknownCommand(_ name: String, _ names: [String]) -> CommandError {
    let scored = names.map { (name: $0, distance: editDistance(Array(name.lowercased()), Array($0))) }
    if let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= 2 {
      return CommandError("unknown command '\(name)'; did you mean '\(best.name)'?")
    }
    return CommandError("unknown command '\(name)'; the commands are \(names.joined(separator: ", "))")
  }

  /// Levenshtein distance between `a` and `b` (insertions, deletions, substitutions).
  static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
      var current = [i + 1]
      for (j, y) in b.enumerated() {
        current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
      }
      previous = current
    }
    return previous[b.count]
  }
}
