import EPBTestSupport
import Foundation
import Testing

/// Every command's `--help`, so none is missing, stale or ragged (issue 21).
@Suite struct CommandHelpTests {
  /// The help width: ArgumentParser wraps at `$COLUMNS`, here 80.
  static let width = 80

  static func help(_ command: [String]) throws -> String {
    let r = try CommandRunner.run(command + ["--help"], environment: ["COLUMNS": "\(width)"])
    #expect(r.status == 0, "\(command): \(r.stderr)")
    return r.stdout
  }

  /// The subcommands the top-level help lists (ArgumentParser renders them from the command
  /// configuration, so a new command is covered without touching this test).
  static func subcommands() throws -> [String] {
    let text = try help([])
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let start = lines.firstIndex(of: "SUBCOMMANDS:") else { return [] }
    var names: [String] = []
    for line in lines[(start + 1)...] {
      if line.isEmpty { break }
      // "  plan                    Plan a replica …": two spaces, then the name.
      if line.hasPrefix("  ") && !line.hasPrefix("   "), let name = line.split(separator: " ").first {
        names.append(String(name))
      }
    }
    return names
  }

  static func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }

  /// The problems of one rendered help text: ragged prose (a line broken although the next
  /// word fitted, as a paragraph hard-wrapped at 90 columns and re-wrapped at 80 is), example
  /// lines that wrapped to column 0, and a default printed twice in one option's text.
  static func problems(_ text: String) -> [String] {
    var out: [String] = []
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let usage = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
    for i in 0..<(lines.count - 1) {
      let a = lines[i], b = lines[i + 1]
      if a.hasPrefix("USAGE:") || b.hasPrefix("USAGE:") || a.isEmpty || b.isEmpty { continue }
      if a.hasSuffix(":") || b.hasPrefix("  -") || b.trimmingCharacters(in: .whitespaces).hasPrefix("- ") { continue }
      if indent(a) == indent(b) && !a.hasSuffix("\\") && !a.trimmingCharacters(in: .whitespaces).hasPrefix("epbctl") {
        let word = b.drop { $0 == " " }.prefix { $0 != " " }
        // Greedy wrapping at `width` would have put `word` on line a (2 columns of slack).
        if a.count + 1 + word.count <= width - 2 { out.append("ragged: '\(a)' / '\(b)'") }
      }
      if i < usage && indent(a) > 0 && indent(b) == 0 { out.append("wrapped example: '\(a)' / '\(b)'") }
    }
    // Each option's text: from a line starting "  -" to the next one.
    var entries: [String] = []
    for line in lines[usage...] {
      if line.hasPrefix("  -") || line.hasPrefix("  <") {
        entries.append(String(line))
      } else if line.hasPrefix("   "), !entries.isEmpty {
        entries[entries.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
      }
    }
    for entry in entries where entry.components(separatedBy: "(default").count > 2 {
      out.append("default twice: \(entry)")
    }
    return out
  }

  @Test func everyCommandHasHelpThatIsNotRaggedAndPrintsNoDefaultTwice() throws {
    let names = try Self.subcommands()
    // The commands of docs/cli.md at least (the list may grow).
    for name in ["ingest", "series", "loads", "plan", "algorithms", "snapshots", "show", "diff", "export", "backtest"] {
      #expect(names.contains(name), "\(names)")
    }
    for command in [[]] + names.map({ [$0] }) {
      let text = try Self.help(command)
      #expect(!text.isEmpty)
      #expect(Self.problems(text).isEmpty, "\(command): \(Self.problems(text))")
    }
  }

  /// The checker itself: a paragraph hard-wrapped at 90 and re-wrapped at 80 is found ragged,
  /// a properly wrapped one is not, and "(default: x). (default: x)" is found.
  @Test func theCheckerFindsWhatItLooksFor() {
    let ragged = """
      OVERVIEW: x

      Every --every K steps, each configuration plans on the window that ends at that
      step and
      the plan is evaluated on the next --horizon H stored steps.

      USAGE: x
      """
    #expect(Self.problems(ragged).count == 1)
    let fine = """
      Every --every K steps, each configuration plans on the window that ends at that
      step and the plan is evaluated on the next --horizon H stored steps.
      """
    #expect(Self.problems(fine).isEmpty)
    let twice = """
      USAGE: x

      OPTIONS:
        --series <series>       The series (default: default).
                                (default: default)
      """
    #expect(Self.problems(twice).count == 1)
  }

  /// Files named in help examples (`Examples/…`, globs too) exist in the repository.
  @Test func examplesNameFilesThatExist() throws {
    let root = CommandRunner.repositoryRoot
    var seen = 0
    for command in [[]] + (try Self.subcommands()).map({ [$0] }) {
      let text = try Self.help(command)
      for token in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where token.hasPrefix("Examples/") {
        seen += 1
        let path = String(token)
        if let star = path.firstIndex(of: "*") {
          let folder = root.appendingPathComponent(String(path[..<star]))
          let suffix = String(path[path.index(after: star)...])
          let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
          #expect(files.contains { $0.hasSuffix(suffix) }, "\(command): \(path) matches nothing")
        } else {
          #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "\(command): \(path)")
        }
      }
    }
    #expect(seen >= 2, "the top-level and ingest examples name Examples/ files")
  }

  /// `backtest --help` and `plan --help` name every algorithm `epbctl algorithms --json` lists.
  @Test func algorithmOptionsListEveryAlgorithm() throws {
    let r = try CommandRunner.run(["algorithms", "--json"])
    let all = try #require(r.jsonObject?["algorithms"] as? [[String: Any]]).compactMap { $0["name"] as? String }
    #expect(all.count >= 3)
    for command in ["backtest", "plan"] {
      let text = try Self.help([command])
      let entry =
        try #require(text.components(separatedBy: "--algorithm <algorithm>").dropFirst().first)
        .components(separatedBy: "\n  --").first ?? ""
      for name in all { #expect(entry.contains(name), "\(command) --algorithm: \(entry)") }
      #expect(!entry.contains("deepseek or seed"), "\(entry)")
    }
  }

  /// `algorithms` left-aligns its description column: every description starts in one column.
  @Test func algorithmsTableLeftAlignsDescriptions() throws {
    let r = try CommandRunner.run(["algorithms"])
    // The table is the block before the first blank line; the default is named after it.
    let table = r.stdout.components(separatedBy: "\n\n")[0]
    let lines = table.split(separator: "\n")
    let starts = Set(
      lines.map { line in
        let name = line.prefix { $0 != " " }
        return name.count + line.dropFirst(name.count).prefix { $0 == " " }.count
      })
    #expect(lines.count >= 8 && starts.count == 1, "\(r.stdout)")
    #expect(r.stdout.contains("\n\ndefault: "), "\(r.stdout)")
  }
}
