import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore
import Testing

/// The tables and summaries the commands print, now that they are rendered by the library:
/// each expectation is written out by hand from the inputs.
@Suite struct CommandReportTests {
  @Test func tableAlignsNamesLeftAndNumbersRight() {
    let text = TextTable.render(["name", "n"], [["a", "10"], ["long", "7"]])
    // Widths 4 and 2: names padded on the right, numbers on the left, two spaces between, no
    // trailing spaces (the header's "n" is right-aligned too).
    #expect(text == "name   n\na     10\nlong   7")
    #expect(TextTable.render(["a", "b"], [["x", "y"]], leftColumns: 2) == "a  b\nx  y")
  }

  @Test func loadsAreIntegersWhenWhole() {
    #expect(TextTable.load(1200) == "1200")
    #expect(TextTable.load(0.5) == "0.500")
    #expect(TextTable.load(2.0 / 3) == "0.667")
  }

  @Test func loadsReportRanksHottestFirstWithShares() {
    // Loads 1, 5, 2, 2 (total 10, mean 2.5): expert 1 first (50%, 2.00 × mean), then the tie
    // 2 / 3 in expert order (20%, 0.80 ×); --top 3 leaves expert 0 out.
    let report = LoadsReport(
      series: "prod", layer: 7, loads: [1, 5, 2, 2], window: StepWindow(from: 10, to: 19), steps: 10, top: 3)
    let expected = """
      series prod, layer 7, steps 10 to 19 (10 stored steps)
      rank  expert  load   share  x mean
      1          1     5  50.00%    2.00
      2          2     2  20.00%    0.80
      3          3     2  20.00%    0.80
      total 10, mean 2.500, max/mean 2.00
      """
    #expect(report.text == expected)
    guard case .object(let members) = report.json else {
      Issue.record("loads --json is not an object")
      return
    }
    #expect(members.map(\.0) == ["series", "layer", "window", "loads", "steps", "half_life"])
  }

  @Test func deletionSaysWhatWentAndTheSizes() {
    var r = DeletionReport(dryRun: true)
    r.snapshots = [3, 4]
    r.ingests = 1
    r.steps = 6
    r.loads = 366
    r.bytesBefore = 3 * 1_048_576
    r.bytesAfter = 3 * 1_048_576
    r.freeBytesAfter = 1_048_576 / 2
    #expect(
      r.text == """
        would delete 2 snapshots (3, 4), 1 ingest, 6 steps, 366 load rows
        database 3.0 MiB before, 3.0 MiB after, 0.5 MiB of it free pages that later ingests reuse
        dry run: nothing was changed
        """)
  }

  @Test func planParametersKeepTheContractOrder() {
    let p = PlanParameters(
      series: "s", layer: "all", algorithm: .deepseek, policy: .auto,
      topology: Topology(replicas: 16, gpus: 4, nodes: 1, groups: 1),
      window: WindowSpec(last: 100, halfLife: 50), base: 2, minGain: 1.5)
    guard case .object(let members) = p.json else {
      Issue.record("parameters are not an object")
      return
    }
    #expect(
      members.map(\.0) == [
        "series", "layer", "algorithm", "policy", "replicas", "gpus", "nodes", "groups", "window", "half_life", "base",
        "min_gain",
      ])
  }
}
