import EPBReport
import Foundation

/// Writes command output: results to stdout, diagnostics to stderr.
enum Output {
  static func json(_ value: JSONValue) {
    print(value.render(pretty: true))
  }

  /// Writes `text` to the file a flag named (atomically), and says so on stderr.
  ///
  /// - throws: `CommandError` naming the flag and the file when it cannot be written.
  static func write(_ text: String, to path: String, flag: String, note: String? = nil) throws {
    do {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw CommandError("cannot write \(flag) \(path): \(error.localizedDescription)")
    }
    diagnostic("wrote \(path)" + (note.map { " (\($0))" } ?? ""))
  }

  static func diagnostic(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// True when stderr is a terminal (progress bars and colour only then).
  static var stderrIsTerminal: Bool { isatty(2) == 1 }

  /// A load for people: integers without a fraction, others with up to 3 decimals.
  static func load(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return String(format: "%.3f", x)
  }

  /// The first `leftColumns` columns left-aligned (names, text), the others right-aligned
  /// (numbers); no trailing spaces.
  static func table(_ header: [String], _ rows: [[String]], leftColumns: Int = 1) -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var text = cells.enumerated().map { i, cell in
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        return i < leftColumns ? cell + pad : pad + cell
      }.joined(separator: "  ")
      while text.hasSuffix(" ") { text.removeLast() }
      return text
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
  }
}

/// A runtime problem found by a command itself (not a flag problem, which is a `ValidationError`).
struct CommandError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
