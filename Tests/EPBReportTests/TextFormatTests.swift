import Testing

@testable import EPBReport

@Suite struct TextFormatTests {
  @Test func fixedRoundsHalfAwayFromZero() {
    #expect(TextFormat.fixed(2.5, 0) == "3")
    #expect(TextFormat.fixed(0.125, 2) == "0.13")
    #expect(TextFormat.fixed(-1.05, 1) == "-1.1")
    #expect(TextFormat.fixed(-0.0004, 2) == "0.00")
    #expect(TextFormat.fixed(12, 3) == "12.000")
    #expect(TextFormat.fixed(.nan, 2) == "nan")
  }

  @Test func percentAndBytes() {
    #expect(TextFormat.percent(0.28571) == "28.6%")
    #expect(TextFormat.bytes(512) == "512 B")
    #expect(TextFormat.bytes(3 * 1024 * 1024) == "3.00 MiB")
  }

  @Test func tableAlignsColumns() {
    let t = TextFormat.table(header: ["a", "bb"], rows: [["xyz", "1"], ["q", "100"]])
    #expect(t == "a     bb\nxyz    1\nq    100\n")
  }
}
