import Foundation

/// The plain-text tables and numbers of the listing commands (`series`, `snapshots`, `loads`,
/// `ingest`, `algorithms`).
public enum TextTable {
  /// `header` and `rows` in columns padded to their widest cell, two spaces apart: the first
  /// `leftColumns` columns left-aligned (names, text), the others right-aligned (numbers). Lines
  /// are joined by newlines, with no trailing spaces and no final newline.
  public static func render(_ header: [String], _ rows: [[String]], leftColumns: Int = 1) -> String {
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

  /// A load for people: an integer without a fraction (below 10^15), else 3 decimals.
  public static func load(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return String(format: "%.3f", x)
  }
}
