import EPBEngines
import EPBIngest
import EPBPlanner
import EPBStore

/// `epbctl ingest`: what became of each input, as a table, notes and JSON.
public struct IngestReport: Sendable {
  public var series: String
  /// One entry per input (a stream: one per committed batch), in order.
  public var results: [InputResult]
  /// How many inputs were given (after grouping rank files), for the failure note.
  public var inputs: Int

  public init(series: String, results: [InputResult], inputs: Int) {
    self.series = series
    self.results = results
    self.inputs = inputs
  }

  public var stored: [FileIngestResult] {
    results.compactMap {
      if case .stored(let r) = $0 { return r }
      return nil
    }
  }

  /// The messages of the inputs that failed, in order.
  public var failures: [String] {
    results.compactMap {
      if case .failed(_, let error) = $0 { return error }
      return nil
    }
  }

  /// The lines for stderr, in order: each failure (`error: …`), how each stored input was read
  /// (`note: …`), stored inputs whose new steps repeat stored content, and, when some of several
  /// inputs failed, how many (left out under `--json`, whose `files` list says it).
  public func diagnostics(json: Bool = false) -> [String] {
    var lines = failures.map { "error: \($0)" }
    lines += stored.compactMap { r in r.note.map { "note: \(r.path): \($0)" } }
    lines += stored.filter { $0.outcome.repeatsStoredSteps > 0 }.map { "note: \(Self.repeatNote($0))" }
    let failed = failures.count
    if failed > 0 && inputs > 1 && !json {
      lines.append(
        "note: \(failed) of \(plural(inputs, "input")) failed and stored nothing"
          + (results.count > failed ? "; the others are stored (listed on stdout)" : ""))
    }
    return lines
  }

  /// `6 of 6 new steps (6–11) repeat stored ones (step 6 has the loads of step 0): …`
  public static func repeatNote(_ r: FileIngestResult) -> String {
    let o = r.outcome
    let range =
      o.firstStep.map { first in o.lastStep.map { $0 == first ? " (\(first))" : " (\(first)–\($0))" } ?? "" } ?? ""
    let example = o.firstRepeat.map { " (step \($0.step) has the loads of step \($0.repeats))" } ?? ""
    return
      "\(r.path): \(o.repeatsStoredSteps) of \(plural(o.steps, "new step"))\(range) repeat the loads of stored steps"
      + "\(example); the same loads ingested twice (another format, or appended again)? "
      + "`epbctl delete ingest --file \(r.path)` removes them"
  }

  /// The table of stored inputs (file, format, status, steps, first, last, layers, experts, total
  /// load); nil when every input failed (stdout stays empty then).
  public var table: String? {
    guard !stored.isEmpty || failures.isEmpty else { return nil }
    return TextTable.render(
      ["file", "format", "status", "steps", "first", "last", "layers", "experts", "total load"],
      stored.map { r in
        [
          r.path, r.format.rawValue, r.outcome.status.rawValue, String(r.outcome.steps),
          r.outcome.firstStep.map(String.init) ?? "-", r.outcome.lastStep.map(String.init) ?? "-",
          String(r.outcome.layers), String(r.outcome.experts), TextTable.load(r.outcome.totalLoad),
        ]
      })
  }

  /// `{"series", "files": [...]}`: every input, stored or failed (`InputResult.json`).
  public var json: JSONValue {
    .object([("series", .string(series)), ("files", .array(results.map(\.json)))])
  }

  /// `{path}: {status}, N steps (steps A to B), format F`: one line per dump `ingest --watch` stores.
  public static func watchLine(_ r: FileIngestResult) -> String {
    let range = r.outcome.firstStep.map { "steps \($0) to \(r.outcome.lastStep ?? $0)" } ?? "no steps"
    return
      "\(r.path): \(r.outcome.status.rawValue), \(plural(r.outcome.steps, "step")) (\(range)), format \(r.format.rawValue)"
  }
}

extension InputResult {
  /// The contract's keys first (`path`, `status`, `steps`, `layers`, `experts`, `total_load`),
  /// then `layer_ids`, `format`, `first_step`, `last_step`, `replaced_rows`,
  /// `already_stored_rows`, `repeats_stored_steps` and `note` when there is one; a failure is
  /// `{"path", "status": "failed", "error"}`.
  public var json: JSONValue {
    switch self {
    case .stored(let r):
      return .object(
        [
          ("path", .string(r.path)), ("status", .string(r.outcome.status.rawValue)),
          ("steps", .int(r.outcome.steps)), ("layers", .int(r.outcome.layers)),
          ("layer_ids", .ints(r.outcome.layerIDs)),
          ("experts", .int(r.outcome.experts)), ("total_load", .number(r.outcome.totalLoad)),
          ("format", .string(r.format.rawValue)),
          ("first_step", r.outcome.firstStep.map(JSONValue.int) ?? .null),
          ("last_step", r.outcome.lastStep.map(JSONValue.int) ?? .null),
          ("replaced_rows", .int(r.outcome.replacedRows)),
          ("already_stored_rows", .int(r.outcome.alreadyStoredRows)),
          ("repeats_stored_steps", .int(r.outcome.repeatsStoredSteps)),
        ] + (r.note.map { [("note", JSONValue.string($0))] } ?? []))
    case .failed(let path, let error):
      return .object([("path", .string(path)), ("status", .string("failed")), ("error", .string(error))])
    }
  }
}
