import ArgumentParser
import EPBEngines
import EPBReport
import EPBStore

extension Epbctl {
  struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Copy whole series histories from one database to another (SQLite or PostgreSQL).",
      discussion: """
        Copies each series with its ingest log, steps, loads and snapshots in one transaction on \
        the destination (all of it or nothing), then reads it back and compares counts and a \
        content digest with the source. A destination that already has one of the series is \
        left unchanged.

        Example:
          epbctl copy --from epb.sqlite --to postgres://epb@db.example/epb
        """)

    @Option(help: "The database to copy from: a SQLite file or a postgres:// URL.")
    var from: String

    @Option(help: "The database to copy into (created or migrated as needed).")
    var to: String

    @Option(name: .customLong("series"), help: "A series to copy (repeatable; default: every series).")
    var series: [String] = []

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func validate() throws {
      if from == to { throw ValidationError("--from and --to name the same database") }
    }

    func run() throws {
      let source = try DatabaseOptions.open(from, create: false)
      let destination = try DatabaseOptions.open(to, create: true)
      let report = try HistoryCopy.run(from: source, to: destination, series: series.isEmpty ? nil : series)
      let text = CopyReportText(report, from: source.path, to: destination.path)
      if json { Output.json(text.json) } else { print(text.text) }
    }
  }
}
