import EPBEngines
import EPBPlanner
import EPBStore
import Foundation

/// `epbctl series`: the stored series, as a table or as JSON.
public struct SeriesListing: Sendable {
  public var series: [SeriesInfo]

  public init(_ series: [SeriesInfo]) { self.series = series }

  /// `{"series": [{"name", "layers", "layer_ids", "experts", "steps", "first_step",
  /// "last_step", "total_load"}]}`.
  public var json: JSONValue {
    .object([
      (
        "series",
        .array(
          series.map { s in
            .object([
              ("name", .string(s.name)), ("layers", .int(s.layers)), ("layer_ids", .ints(s.layerIDs)),
              ("experts", .int(s.experts)),
              ("steps", .int(s.steps)), ("first_step", s.firstStep.map(JSONValue.int) ?? .null),
              ("last_step", s.lastStep.map(JSONValue.int) ?? .null), ("total_load", .number(s.totalLoad ?? 0)),
            ])
          })
      )
    ])
  }

  /// One line per series, or how to add one when there is none.
  public var text: String {
    if series.isEmpty { return "no series yet; add one with `epbctl ingest FILE --series NAME`" }
    return TextTable.render(
      ["series", "layers", "layer ids", "experts", "steps", "first", "last", "total load"],
      series.map {
        [
          $0.name, String($0.layers), LayerIDs.list($0.layerIDs), String($0.experts), String($0.steps),
          $0.firstStep.map(String.init) ?? "-",
          $0.lastStep.map(String.init) ?? "-", TextTable.load($0.totalLoad ?? 0),
        ]
      })
  }
}

/// `epbctl snapshots`: the stored snapshots, oldest first, as a table or as JSON.
public struct SnapshotListing: Sendable {
  public var snapshots: [SnapshotSummary]

  public init(_ snapshots: [SnapshotSummary]) { self.snapshots = snapshots }

  /// `{"snapshots": [{"id", "series", "created_at", "algorithm", "window": {"from", "to"},
  /// "replicas", "gpus", "nodes", "groups", "layers", "policy", "half_life",
  /// "balancedness_weighted"}]}`.
  public var json: JSONValue {
    .object([
      (
        "snapshots",
        .array(
          snapshots.map { s in
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
    ])
  }

  /// One line per snapshot, or how to create one when there is none.
  public var text: String {
    if snapshots.isEmpty { return "no snapshots yet; create one with `epbctl plan`" }
    return TextTable.render(
      ["id", "series", "created", "algorithm", "policy", "window", "R/GPUs/nodes/groups", "layers", "balanced"],
      snapshots.map { s in
        [
          String(s.id), s.series, s.createdAt, s.algorithm, s.policy.rawValue,
          "\(s.windowFrom)–\(s.windowTo)" + (s.halfLife.map { " h=\(TextTable.load($0))" } ?? ""),
          "\(s.topology.replicas)/\(s.topology.gpus)/\(s.topology.nodes)/\(s.topology.groups)", String(s.layers),
          String(format: "%.4f", s.balancednessWeighted),
        ]
      })
  }
}

extension DeletionReport {
  /// `{"dry_run", "deleted": {"series", "snapshots", "ingests", "steps", "loads"},
  /// "unbased_snapshots", "database": {"bytes_before", "bytes_after", "free_bytes_after"},
  /// "vacuumed"}`; `series` and `snapshots` list names and ids, the others are counts.
  public var json: JSONValue {
    .object([
      ("dry_run", .bool(dryRun)),
      (
        "deleted",
        .object([
          ("series", .array(series.map(JSONValue.string))),
          ("snapshots", .array(snapshots.map { .int(Int($0)) })),
          ("ingests", .int(ingests)), ("steps", .int(steps)), ("loads", .int(loads)),
        ])
      ),
      ("unbased_snapshots", .int(unbasedSnapshots)),
      (
        "database",
        .object([
          ("bytes_before", .int(bytesBefore)), ("bytes_after", .int(bytesAfter)),
          ("free_bytes_after", .int(freeBytesAfter)),
        ])
      ),
      ("vacuumed", .bool(vacuumed)),
    ])
  }

  /// `deleted 2 snapshots (3, 4), 1 ingest, 6 steps, 366 load rows`, then the database's sizes
  /// (MiB) and, for a dry run, that nothing changed.
  public var text: String {
    var parts: [String] = []
    if !series.isEmpty { parts.append("series " + series.map { "'\($0)'" }.joined(separator: ", ")) }
    if !snapshots.isEmpty {
      let ids = snapshots.prefix(10).map(String.init).joined(separator: ", ") + (snapshots.count > 10 ? ", …" : "")
      parts.append(plural(snapshots.count, "snapshot") + " (\(ids))")
    }
    parts.append(plural(ingests, "ingest"))
    parts.append(plural(steps, "step"))
    parts.append(plural(loads, "load row"))
    var lines = [(dryRun ? "would delete " : "deleted ") + parts.joined(separator: ", ")]
    if unbasedSnapshots > 0 {
      lines.append(
        "\(plural(unbasedSnapshots, "remaining snapshot")) planned on a deleted one keep their placement, without a base"
      )
    }
    func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
    let size = "database \(mib(bytesBefore)) before, \(mib(bytesAfter)) after"
    if vacuumed {
      lines.append(size + " (vacuumed)")
    } else {
      lines.append(
        size + ", \(mib(freeBytesAfter)) of it free pages that later ingests reuse"
          + (dryRun ? "" : "; --vacuum gives them back to the file system"))
    }
    if dryRun { lines.append("dry run: nothing was changed") }
    return lines.joined(separator: "\n")
  }
}

/// What `epbctl copy` prints: one line per copied series, its counts and digest (equal on both
/// sides, or the copy failed).
public struct CopyReportText: Sendable {
  public var report: HistoryCopy.Report
  public var from: String
  public var to: String

  public init(_ report: HistoryCopy.Report, from: String, to: String) {
    (self.report, self.from, self.to) = (report, from, to)
  }

  /// `{"from", "to", "series": [{"name", "ingests", "steps", "rows", "snapshots", "digest"}]}`
  /// (`digest`: 16 hex digits, the same read back from `to` as read from `from`).
  public var json: JSONValue {
    .object([
      ("from", .string(from)), ("to", .string(to)),
      (
        "series",
        .array(
          report.series.map { f in
            .object([
              ("name", .string(f.series)), ("ingests", .int(f.ingests)), ("steps", .int(f.steps)),
              ("rows", .int(f.rows)), ("snapshots", .int(f.snapshots)), ("digest", .string(Self.hex(f.digest))),
            ])
          })
      ),
    ])
  }

  public var text: String {
    if report.series.isEmpty { return "\(from) has no series; nothing was copied" }
    let table = TextTable.render(
      ["series", "ingests", "steps", "load rows", "snapshots", "digest"],
      report.series.map { f in
        [f.series, "\(f.ingests)", "\(f.steps)", "\(f.rows)", "\(f.snapshots)", Self.hex(f.digest)]
      })
    return table + "\ncopied \(plural(report.series.count, "series", "series")) from \(from) to \(to); "
      + "read back and verified (counts and content digest)"
  }

  static func hex(_ x: UInt64) -> String {
    let digits = String(x, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
