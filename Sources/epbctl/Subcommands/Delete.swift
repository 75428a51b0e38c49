import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

/// What `delete` and `prune` print: the report as text or JSON.
enum DeletionOutput {
  static func print(_ r: DeletionReport, json: Bool) {
    if json { Output.json(r.json) } else { Swift.print(r.text) }
  }
}

extension Epbctl {
  struct Delete: ParsableCommand {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
      case snapshot, series, ingest
    }

    static let configuration = CommandConfiguration(
      abstract: "Remove a snapshot, a whole series, or what one ingest stored.",
      discussion: """
        `delete snapshot ID` removes one snapshot (ID as in `show`: a number, latest or \
        latest~N); snapshots planned on it keep their placement and forget their base. `delete \
        series NAME` removes the series with its steps, loads, ingests and snapshots. `delete \
        ingest --file PATH` removes what every ingest of PATH (the path as it was given to \
        `ingest`) stored, `--hash SHA` the ingest of that content SHA-256 (8 or more leading hex \
        digits); steps left without loads go with them. Each deletion is one transaction: all of \
        it or nothing. --dry-run says what would go and changes nothing. The database's size \
        before and after is reported; the freed pages are reused by later ingests, --vacuum \
        gives them back to the file system (it rewrites the whole file).

        Example:
          epbctl delete snapshot latest --dry-run
          epbctl delete ingest --file dump-0042.json --series prod
          epbctl delete series scratch --vacuum
        """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "What to delete: snapshot, series or ingest.")
    var kind: Kind

    @Argument(help: "The snapshot ID or series NAME (not with ingest).")
    var name: String?

    @Option(help: "With ingest: the input path as it was given to `epbctl ingest`.")
    var file: String?

    @Option(help: "With ingest: the input's content SHA-256 (8 or more leading hex digits).")
    var hash: String?

    @Option(help: "Only in this series (snapshot IDs latest~N count within it).")
    var series: String?

    @Flag(help: "Say what would be deleted, change nothing.")
    var dryRun = false

    @Flag(help: "VACUUM afterwards, so the file shrinks (rewrites the whole database).")
    var vacuum = false

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func validate() throws {
      if let series { try FlagLimits.checkSeries(series) }
      switch kind {
      case .snapshot, .series:
        guard name != nil else {
          throw ValidationError(
            "delete \(kind.rawValue) needs the \(kind == .snapshot ? "snapshot ID" : "series NAME")")
        }
        if file != nil || hash != nil { throw ValidationError("--file and --hash go with `delete ingest`") }
        if kind == .series && series != nil { throw ValidationError("delete series NAME takes no --series") }
      case .ingest:
        if name != nil { throw ValidationError("delete ingest takes --file PATH or --hash SHA, not a name") }
        if (file == nil) == (hash == nil) {
          throw ValidationError("delete ingest needs one of --file PATH or --hash SHA")
        }
        if let hash, hash.count < 8 || hash.count > 64 || !hash.allSatisfy(\.isHexDigit) {
          throw ValidationError("--hash must be 8 to 64 hex digits of a content SHA-256, got '\(hash)'")
        }
      }
    }

    func run() throws {
      let store = try database.open(create: false)
      let target: DeletionTarget
      switch kind {
      case .snapshot: target = .snapshot(try store.resolveSnapshot(name!, series: series))
      case .series: target = .series(name!)
      case .ingest: target = file.map { .ingestFile($0, series: series) } ?? .ingestHash(hash!, series: series)
      }
      DeletionOutput.print(try store.delete(target, dryRun: dryRun, vacuum: vacuum), json: json)
    }
  }

  struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove old load steps and snapshots, keeping the last N or the recent ones.",
      discussion: """
        --keep-last N keeps the last N stored steps (by step number) and the last N snapshots of \
        each series; --older-than D removes the steps recorded (by ingest time) and the \
        snapshots created more than D ago (D such as 90s, 30m, 12h, 7d, 2w). --steps or \
        --snapshots limits it to one kind (default both); --series to one series. Ingest records \
        left without loads go too, so their files can be ingested again. One transaction: all \
        of it or nothing; --dry-run says what would go. `plan` keeps finding its default base \
        (the latest remaining snapshot of the topology) and `latest~N` counts the remaining \
        snapshots. The freed pages are reused by later ingests; --vacuum shrinks the file.

        Example:
          epbctl prune --keep-last 10000 --steps --series prod --dry-run
          epbctl prune --older-than 7d --vacuum
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(parsing: .unconditional, help: "Keep the last N steps and snapshots of each series.")
    var keepLast: Int?

    @Option(help: ArgumentHelp("Remove what is older than D (90s, 30m, 12h, 7d, 2w).", valueName: "duration"))
    var olderThan: String?

    @Flag(help: "Only load steps.")
    var steps = false

    @Flag(help: "Only snapshots.")
    var snapshots = false

    @Option(help: "Only this series (default: each series).")
    var series: String?

    @Flag(help: "Say what would be deleted, change nothing.")
    var dryRun = false

    @Flag(help: "VACUUM afterwards, so the file shrinks (rewrites the whole database).")
    var vacuum = false

    @Flag(help: "Print JSON for scripts.")
    var json = false

    /// Seconds in `text` (`90s`, `30m`, `12h`, `7d`, `2w`), nil when it is not such a duration.
    static func seconds(_ text: String) -> TimeInterval? {
      let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
      guard let unit = text.last, let scale = units[unit], let n = Double(text.dropLast()), n.isFinite, n >= 0,
        n * scale <= 1e11
      else { return nil }
      return n * scale
    }

    func validate() throws {
      if let series { try FlagLimits.checkSeries(series) }
      if (keepLast == nil) == (olderThan == nil) {
        throw ValidationError("prune needs one of --keep-last N or --older-than D")
      }
      if let keepLast { try FlagLimits.check(keepLast, flag: "--keep-last", FlagLimits.stepIDs) }
      if let olderThan, Self.seconds(olderThan) == nil {
        throw ValidationError("--older-than expects a duration such as 90s, 30m, 12h, 7d or 2w, got '\(olderThan)'")
      }
    }

    func run() throws {
      let store = try database.open(create: false)
      let both = !steps && !snapshots
      let rule = PruneRule(
        keepLast: keepLast, olderThan: olderThan.flatMap(Self.seconds), steps: steps || both,
        snapshots: snapshots || both, series: series)
      DeletionOutput.print(try store.prune(rule, dryRun: dryRun, vacuum: vacuum), json: json)
    }
  }
}
