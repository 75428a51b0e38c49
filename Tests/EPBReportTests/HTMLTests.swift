import EPBEngines
import EPBPlanner
import Foundation
import Testing

@testable import EPBReport

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Collects every element's name and attributes while `XMLParser` checks well-formedness.
final class ElementCollector: NSObject, XMLParserDelegate {
  var elements: [(name: String, attributes: [String: String])] = []
  var text = ""
  var error: (any Error)?

  func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    elements.append((elementName, attributes))
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

  func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) { error = parseError }

  /// Parses `markup`; returns nil when it is not well-formed XML.
  static func parse(_ markup: String) -> ElementCollector? {
    let collector = ElementCollector()
    let parser = XMLParser(data: Data(markup.utf8))
    parser.delegate = collector
    return parser.parse() && collector.error == nil ? collector : nil
  }

  func rects(class cls: String) -> [[String: String]] {
    elements.filter { $0.name == "rect" && $0.attributes["class"] == cls }.map(\.attributes)
  }
}

@Suite struct HTMLTests {
  static func twoLayerDiff(labelB: String? = nil) throws -> PlacementDiff {
    let a = Fixtures.side(id: 3, layers: [3, 7], placements: [Fixtures.phy2logA, Fixtures.phy2logA])
    let b = Fixtures.side(id: 5, layers: [3, 7], placements: [Fixtures.phy2logB, Fixtures.phy2logB], label: labelB)
    return try PlacementDiff(
      before: a, after: b, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window,
      expertBytes: 1 << 20)
  }

  @Test func diffPageIsWellFormedXML() throws {
    let html = try Self.twoLayerDiff().html()
    let doc = try #require(ElementCollector.parse(html))
    #expect(doc.elements.first?.name == "html")
    #expect(doc.elements.contains { $0.name == "svg" })
    #expect(doc.text.contains("Placement diff: snapshot 3 → snapshot 5"))
  }

  @Test func showPageIsWellFormedXML() throws {
    let html = try SnapshotReportTests.report().html()
    let doc = try #require(ElementCollector.parse(html))
    #expect(doc.text.contains("Snapshot 12: prod-a"))
  }

  @Test func specialCharactersAreEscaped() throws {
    let html = try Self.twoLayerDiff(labelB: #"<b>"x" & 'y'</b>"#).html()
    let doc = try #require(ElementCollector.parse(html))
    #expect(doc.text.contains(#"<b>"x" & 'y'</b>"#))
    #expect(!html.contains("<b>"))
  }

  @Test func diffBarsAreProportionalToTheLoads() throws {
    // Default focus: layer 7 (reduction 4/14 beats layer 3's 0.5/100.5). Expected loads by hand
    // (see PlacementDiffTests): before [6, 5, 14, 5], after [8, 5, 10, 7].
    let doc = try #require(ElementCollector.parse(try Self.twoLayerDiff().html()))
    let bars = doc.rects(class: "bar")
    #expect(bars.count == 8)
    let loads = bars.compactMap { $0["data-load"].flatMap(Double.init) }
    #expect(loads == [6, 5, 14, 5, 8, 5, 10, 7])
    let heights = bars.compactMap { $0["height"].flatMap(Double.init) }
    // One scale for both panels, on an axis that starts at `from` (zoomed, so a small change
    // shows): height / (load − from) is the same for every bar (heights carry 2 decimals).
    let svg = try #require(doc.elements.first { $0.name == "svg" && $0.attributes["data-y-from"] != nil })
    let from = try #require(svg.attributes["data-y-from"].flatMap(Double.init))
    #expect(from > 0 && from < 5, "below the smallest load, 5")
    let k = heights[2] / (14 - from)
    for (h, load) in zip(heights, loads) { #expect(abs(h - (load - from) * k) < 0.01) }
    // Bars stand on a common baseline within each panel: y + height is constant per series.
    for series in Set(bars.compactMap { $0["data-series"] }) {
      let bottoms = bars.filter { $0["data-series"] == series }.compactMap { bar -> Double? in
        guard let y = bar["y"].flatMap(Double.init), let h = bar["height"].flatMap(Double.init) else { return nil }
        return y + h
      }
      #expect(bottoms.allSatisfy { abs($0 - bottoms[0]) < 0.01 })
    }
  }

  @Test func showBarsAreProportionalForTheChosenLayer() throws {
    // Asked for layer 4: loads [8, 5, 10, 7].
    let doc = try #require(ElementCollector.parse(try SnapshotReportTests.report().html(layer: 4)))
    let bars = doc.rects(class: "bar")
    let loads = bars.compactMap { $0["data-load"].flatMap(Double.init) }
    #expect(loads == [8, 5, 10, 7])
    let heights = bars.compactMap { $0["height"].flatMap(Double.init) }
    let k = heights[2] / 10
    for (h, load) in zip(heights, loads) { #expect(abs(h - load * k) < 0.01) }
  }

  @Test func showDefaultsToTheWorstBalancedLayer() throws {
    let doc = try #require(ElementCollector.parse(try SnapshotReportTests.report().html()))
    let loads = doc.rects(class: "bar").compactMap { $0["data-load"].flatMap(Double.init) }
    #expect(loads == [6, 5, 14, 5])
  }

  @Test func heatMapCellsAreLoadOverLayerMean() throws {
    let doc = try #require(ElementCollector.parse(try SnapshotReportTests.report().html()))
    let cells = doc.rects(class: "cell")
    #expect(cells.count == 2 * 4)
    // Layer 2: [6, 5, 14, 5] / 7.5; layer 4: [8, 5, 10, 7] / 7.5.
    let expected = [6, 5, 14, 5, 8, 5, 10, 7].map { Double($0) / 7.5 }
    let ratios = cells.compactMap { $0["data-ratio"].flatMap(Double.init) }
    #expect(zip(ratios, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    #expect(cells.map { $0["data-layer"] ?? "" } == ["2", "2", "2", "2", "4", "4", "4", "4"])
    // Hotter cells are darker: the 14/7.5 cell is darker (lower sum of RGB) than the 5/7.5 cell.
    func brightness(_ hex: String?) -> Int {
      guard let hex, hex.count == 7 else { return -1 }
      let v = Int(hex.dropFirst(), radix: 16) ?? 0
      return (v >> 16) + ((v >> 8) & 255) + (v & 255)
    }
    #expect(brightness(cells[2]["fill"]) < brightness(cells[1]["fill"]))
    #expect(!doc.rects(class: "legend").isEmpty)
  }

  @Test func diffHasBeforeAndAfterHeatMapsAndMoveTable() throws {
    let html = try Self.twoLayerDiff().html()
    let doc = try #require(ElementCollector.parse(html))
    #expect(doc.rects(class: "cell").count == 2 * 2 * 4)
    #expect(doc.text.contains("Moves per layer"))
    #expect(doc.text.contains("Model summary"))
  }

  @Test func noExternalReferences() throws {
    for html in [try Self.twoLayerDiff().html(), try SnapshotReportTests.report().html()] {
      let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
      #expect(!withoutNamespace.contains("http"))
      #expect(!withoutNamespace.contains("//"))
      for marker in ["<script", "<link", "<img", "src=", "href=", "url(", "@import", "<iframe", "<object"] {
        #expect(!html.lowercased().contains(marker), "found \(marker)")
      }
    }
  }

  @Test func unknownFocusLayerThrows() throws {
    #expect(throws: ReportError.unknownLayer(9, available: [3, 7])) { try Self.twoLayerDiff().html(layer: 9) }
    #expect(throws: ReportError.unknownLayer(9, available: [2, 4])) { try SnapshotReportTests.report().html(layer: 9) }
  }

  @Test func paletteEndsAndNiceAxis() {
    #expect(HTML.color(at: 0) == "#ffffcc")
    #expect(HTML.color(at: 1) == "#800026")
    // 14: raw step 14/5 = 2.8; the first of 1, 2, 2.5, 5 (× 10^0) ≥ 2.8 is 5; top = 3 × 5 = 15.
    #expect(HTML.niceAxis(14) == (max: 15, step: 5))
    // 100: raw step 20 = 2 × 10^1; top 100.
    #expect(HTML.niceAxis(100) == (max: 100, step: 20))
    // Ratios 5/7.5 ≈ 0.67 .. 14/7.5 ≈ 1.87 → quarters 0.5 ... 2.0.
    let rows = [HTML.HeatRow(layer: 0, gpuLoad: [6, 5, 14, 5])]
    #expect(HTML.heatScale(rows) == 0.5...2.0)
    // All balanced (ratio 1 everywhere): lo = 1; hi = max(1.25, 1, lo + 0.5) = 1.5.
    #expect(HTML.heatScale([HTML.HeatRow(layer: 0, gpuLoad: [3, 3])]) == 1.0...1.5)
  }

  /// Writes the sample pages and checks that each is well-formed markup with its charts.
  ///
  /// The pages go to `$EPB_REPORT_HTML_DIR` when it is set (to open them in a browser for a
  /// visual check), else to a fresh temporary folder; the checks run either way.
  @Test func writeSamplePages() throws {
    let dir: String
    if let chosen = ProcessInfo.processInfo.environment["EPB_REPORT_HTML_DIR"], !chosen.isEmpty {
      dir = chosen
    } else {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent("epb-sample-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    let (diff, show) = try SamplePages.make()
    let pages = ["diff.html": try diff.html(), "show.html": try show.html()]
    for (name, markup) in pages {
      try markup.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
      let written = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
      let page = try #require(ElementCollector.parse(written), "\(name) is not well-formed")
      #expect(page.elements.contains { $0.name == "svg" }, "\(name) has no chart")
    }
    try (diff.table() + "\n" + show.table()).write(toFile: dir + "/tables.txt", atomically: true, encoding: .utf8)
  }
}

/// A realistic-looking sample: 12 layers, 64 experts with skewed loads, 96 slots on 16 GPUs in 2 nodes.
enum SamplePages {
  static func make() throws -> (PlacementDiff, SnapshotReport) {
    let topology = Topology(replicas: 96, gpus: 16, nodes: 2, groups: 8)
    let experts = 64, layerCount = 12
    var seed: UInt64 = 42
    func next() -> Double {
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(seed >> 11) / Double(1 << 53)
    }
    var values: [Double] = []
    for _ in 0..<(layerCount * experts) { values.append((1000 * pow(next(), 3)).rounded()) }
    let load = LoadMatrix(layers: layerCount, experts: experts, values: values)
    let layers = Array(0..<layerCount)
    // Before: the trivial map. After: greedy replication to the largest load per replica, then
    // longest-processing-time packing onto GPUs with free slots.
    var before: [LayerPlacement] = []
    var after: [LayerPlacement] = []
    var planned: [PlannedLayer] = []
    for l in layers {
      let row = Array(load.row(l))
      before.append(LayerPlacement(physicalToLogical: (0..<96).map { $0 % experts }, experts: experts))
      var count = Array(repeating: 1, count: experts)
      for _ in experts..<96 {
        let e = (0..<experts).max { row[$0] / Double(count[$0]) < row[$1] / Double(count[$1]) }!
        count[e] += 1
      }
      var items: [(Double, Int)] = []
      for e in 0..<experts { for _ in 0..<count[e] { items.append((row[e] / Double(count[e]), e)) } }
      items.sort { $0.0 > $1.0 }
      var gpuLoad = Array(repeating: 0.0, count: 16), free = Array(repeating: 6, count: 16)
      var phy2log = Array(repeating: 0, count: 96)
      for (w, e) in items {
        let g = (0..<16).filter { free[$0] > 0 }.min { gpuLoad[$0] < gpuLoad[$1] }!
        phy2log[g * 6 + 6 - free[g]] = e
        free[g] -= 1
        gpuLoad[g] += w
      }
      let p = LayerPlacement(physicalToLogical: phy2log, experts: experts)
      after.append(p)
      planned.append(
        PlannedLayer(
          layer: l, placement: p,
          statistics: Planner.statistics(
            of: p, load: load.row(l), topology: topology, policy: .global, algorithm: .deepseek)))
    }
    let a = PlacementSide(
      id: 1, topology: topology, policy: .global, algorithm: .deepseek, layers: layers, placements: before)
    let b = PlacementSide(
      id: 2, topology: topology, policy: .global, algorithm: .eplbDivisor, layers: layers, placements: after)
    let diff = try PlacementDiff(
      before: a, after: b, load: load, loadLayers: layers, window: StepWindow(from: 0, to: 999),
      expertBytes: 44_040_192)
    let show = SnapshotReport(
      id: 2, series: "sample", algorithm: .eplbDivisor, policy: .global, window: StepWindow(from: 0, to: 999),
      halfLife: 200, createdAt: "2025-01-02T03:04:05Z", toolVersion: "0.1.0", topology: topology, layers: planned,
      skippedLayers: [])
    return (diff, show)
  }
}
