import EPBStore
import Testing

@testable import EPBEngines
@testable import EPBIngest

/// The CSV parser's grid path (issue 21: ~8 bytes per load): the stride grows with the largest
/// expert id seen and is compacted at the end; the values must land where the records path put them.
@Suite struct CSVGridTests {
  /// 3 rows × 10 experts, load = 100·step + 10·layer + expert, lines in `order`.
  static func csv(_ cells: [(step: Int, layer: Int, expert: Int)]) -> String {
    "step,layer,expert,load\n"
      + cells.map { "\($0.step),\($0.layer),\($0.expert),\(100 * $0.step + 10 * $0.layer + $0.expert)\n" }.joined()
  }

  static let keys = [(0, 0), (0, 1), (1, 0)]

  @Test(arguments: ["ascending", "descending", "interleaved"]) func valuesLandInTheirCells(order: String) throws {
    var cells: [(step: Int, layer: Int, expert: Int)] = []
    switch order {
    case "ascending":  // stride 1, 2, 4, 8, 16, then compacted to 10
      for (s, l) in Self.keys { for e in 0..<10 { cells.append((s, l, e)) } }
    case "descending":  // stride 10 at once
      for (s, l) in Self.keys { for e in (0..<10).reversed() { cells.append((s, l, e)) } }
    default:  // experts first, rows inside: every row is open while the stride grows
      for e in 0..<10 { for (s, l) in Self.keys { cells.append((s, l, e)) } }
    }
    let text = Self.csv(cells)
    // The grid path itself takes it (it returns nil to hand an input to the records path).
    let grid = try Array(text.utf8).withUnsafeBytes { try LoadParser.parseCSVDense($0, source: "g.csv") }
    #expect(grid != nil)
    let batch = try #require(parse(text, .csv).value)
    #expect(grid == batch)
    #expect(batch.experts == 10)
    #expect(batch.rows == Self.keys.map { LoadRow(step: $0.0, layer: $0.1) })
    // Expected by the formula, row by row in order of first appearance.
    let expected = Self.keys.flatMap { s, l in (0..<10).map { Double(100 * s + 10 * l + $0) } }
    #expect(batch.values == expected)
  }

  @Test func errorsAreTheRecordsPathsOnes() {
    // A duplicate names both lines, a gap the missing expert, as before the grid path.
    let duplicate = parse("step,layer,expert,load\n0,0,0,1\n0,0,1,1\n0,0,0,2\n", .csv, source: "d.csv").error
    #expect(duplicate?.code == .duplicate)
    #expect(duplicate?.description.contains("d.csv:4: step 0, layer 0, expert 0 given again; first at line 2") == true)
    let missing = parse("step,layer,expert,load\n0,0,0,1\n0,0,2,1\n", .csv, source: "m.csv").error
    #expect(missing?.code == .missingExpert)
    #expect(missing?.description.contains("expert 1 is missing") == true)
    // A sparse grid (one huge expert id) is refused as missing experts without allocating it.
    let sparse = parse("step,layer,expert,load\n" + (0..<2000).map { "\($0),0,65535,1\n" }.joined(), .csv).error
    #expect(sparse?.code == .missingExpert)
  }
}
