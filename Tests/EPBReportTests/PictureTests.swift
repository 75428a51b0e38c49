import EPBBacktest
import EPBEngines
import EPBPlanner
import Foundation
import Testing

@testable import EPBReport

/// Issue 21, pictures: what the headless-Chromium screenshots of diff.html and backtest.html
/// showed wrong, kept as checks on the markup.
@Suite struct PictureTests {
  // MARK: diff.html

  @Test func aOneStepWindowIsCalledOneStep() throws {
    let a = Fixtures.side(id: 3, layers: [7], placements: [Fixtures.phy2logA])
    let b = Fixtures.side(id: 5, layers: [7], placements: [Fixtures.phy2logB])
    let one = try PlacementDiff(
      before: a, after: b, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: StepWindow(from: 1, to: 1))
    let text = try #require(ElementCollector.parse(try one.html())).text
    #expect(text.contains("Evaluated on step 1. "))
    #expect(!text.contains("steps 1–1"))
    let many = try #require(ElementCollector.parse(try Fixtures.diff().html())).text
    #expect(many.contains("Evaluated on steps 100–199. "))
  }

  @Test func whenEveryLayerGotWorseTheHeadingSaysSo() throws {
    // B → A: the reverse of HTMLTests.twoLayerDiff, where both layers improve, so both get worse.
    let a = Fixtures.side(id: 3, layers: [3, 7], placements: [Fixtures.phy2logA, Fixtures.phy2logA])
    let b = Fixtures.side(id: 5, layers: [3, 7], placements: [Fixtures.phy2logB, Fixtures.phy2logB])
    let worse = try PlacementDiff(
      before: b, after: a, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window)
    try #require(worse.layers.allSatisfy { $0.peakReduction < 0 })
    let text = try #require(ElementCollector.parse(try worse.html())).text
    #expect(text.contains("(smallest peak increase: every layer got worse)"))
    #expect(!text.contains("largest peak reduction"))
    // The layer that got least worse: layer 3, GPU loads under B [1, 1.5, 100, 1.5] → under A
    // [1, 1.5, 100.5, 1], peak 100 → 100.5, a 0.50% increase (layer 7: 10 → 14, 40%).
    #expect(text.contains("Per-GPU load, layer 3 (smallest peak increase"))
    #expect(text.contains("Peak 100.0 → 100.5 tokens (0.50% increase)"))
    // The improving direction keeps its wording.
    let better = try #require(ElementCollector.parse(try HTMLTests.twoLayerDiff().html())).text
    #expect(better.contains("(largest peak reduction)") && better.contains("28.57% reduction"))
  }

  @Test func theDifferencePanelDrawsAfterMinusBeforePerGPU() throws {
    // Layer 7: before [6, 5, 14, 5], after [8, 5, 10, 7] (by hand, see PlacementDiffTests).
    let doc = try #require(ElementCollector.parse(try HTMLTests.twoLayerDiff().html()))
    let bars = doc.rects(class: "diff-bar")
    #expect(bars.compactMap { $0["data-delta"].flatMap(Double.init) } == [2, 0, -4, 2])
    let heights = bars.compactMap { $0["height"].flatMap(Double.init) }
    // Heights proportional to |delta|: GPU 2's (4) twice GPU 0's (2).
    #expect(abs(heights[2] - 2 * heights[0]) < 0.02 && heights[1] == 0)
    // Rising bars end on the zero line where falling ones start.
    let y0 = try #require(bars[0]["y"].flatMap(Double.init)), y2 = try #require(bars[2]["y"].flatMap(Double.init))
    #expect(abs(y0 + heights[0] - y2) < 0.02)
  }

  // MARK: backtest.html

  /// `n` configurations: every algorithm × windows 1, 2 × half-lives none, 1.
  static func configs(_ n: Int) -> [BacktestConfig] {
    var out: [BacktestConfig] = []
    for algorithm in PlacementAlgorithm.allCases {
      for window in [1, 2] {
        for halfLife in [nil, 1.0] {
          out.append(BacktestConfig(algorithm: algorithm, window: window, halfLife: halfLife))
        }
      }
    }
    return Array(out.prefix(n))
  }

  static func lines(_ html: String) throws -> [[String: String]] {
    try #require(ElementCollector.parse(html)).elements.filter {
      $0.name == "polyline" && $0.attributes["class"] == "line"
    }.map(\.attributes)
  }

  @Test(arguments: [12, 20]) func everyConfigurationHasALookOfItsOwn(count: Int) throws {
    let configs = Self.configs(count)
    try #require(configs.count == count)
    let (report, _) = try BacktestTests.replay(configs: configs, placements: [[0, 1, 2, 3], [0, 2, 1, 3]])
    let lines = try Self.lines(report.html()).filter { $0["data-series"] != "best possible" }
    #expect(lines.count == count)
    // 12 lines: 12 colours (the old palette had 8, so four pairs looked the same).
    let looks = Set(lines.map { "\($0["stroke"] ?? "") \($0["stroke-dasharray"] ?? "solid")" })
    #expect(looks.count == count)
    if count <= 16 { #expect(Set(lines.compactMap { $0["stroke"] }).count == count) }
  }

  @Test func theReferenceIsTheHierarchicalCapWhereItApplies() throws {
    // The configuration and plans of BacktestTests.handComputedPoints: 2 GPUs, so no
    // balancedness is below 1/2 and the axis spans 0.5 to 1 (lowest value rounded down to 0.05).
    let config = BacktestConfig(algorithm: .deepseek, window: 2, halfLife: nil)
    var (report, _) = try BacktestTests.replay(configs: [config], placements: [[0, 1, 2, 3], [0, 2, 1, 3]])
    let global = try Self.lines(report.html()).first { $0["stroke-dasharray"] == "5 4" }
    #expect(global?["data-series"] == "best possible")
    report.policy = .hierarchical
    report.limits = report.summaries[0].points.map { _ in
      PolicyLimits(globalBound: 1, hierarchicalCap: 0.967, eplbPackingCap: 0.96, exact: true)
    }
    let html = report.html()
    let reference = try #require(try Self.lines(html).first { $0["stroke-dasharray"] == "5 4" })
    #expect(reference["data-series"] == "hierarchical cap")
    // y = top + (1 − 0.967) / (1 − 0.5) × plot height = 40 + 0.066 × 320 = 61.12 for every point,
    // where the global bound 1.0 would sit at the top, y = 40.
    let ys = (reference["points"] ?? "").split(separator: " ").compactMap {
      $0.split(separator: ",").last.flatMap { Double($0) }
    }
    #expect(!ys.isEmpty && ys.allSatisfy { abs($0 - 61.12) < 0.01 }, "\(ys)")
    #expect(try #require(ElementCollector.parse(html)).text.contains("(the hierarchical cap)"))
  }

  @Test func configurationNamesDoNotBreakMidWord() throws {
    let (report, _) = try BacktestTests.replay(configs: Self.configs(12), placements: [[0, 1, 2, 3]])
    let html = report.html()
    let doc = try #require(ElementCollector.parse(html))
    // The table's configuration cells do not wrap.
    #expect(html.contains("td.name { white-space: nowrap; }"))
    let names = doc.elements.filter { $0.name == "td" && $0.attributes["class"] == "name" }
    #expect(names.count == 12)
    // Legend entries sit far enough apart for the longest name (about 7 px per character at 12 px).
    let legend = doc.elements.filter { $0.name == "text" && $0.attributes["class"] == "legend-name" }
    let xs = Set(legend.compactMap { $0.attributes["x"].flatMap(Double.init) }).sorted()
    let longest = report.summaries.map(\.config.shortLabel.count).max()!
    for (a, b) in zip(xs, xs.dropFirst()) { #expect(b - a >= Double(longest) * 7, "\(xs)") }
    // Each entry carries its full name as a tooltip.
    #expect(doc.elements.filter { $0.name == "title" }.count >= legend.count)
  }
}
