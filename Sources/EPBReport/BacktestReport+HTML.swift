import EPBBacktest
import EPBPlanner

extension BacktestReport {
  /// A self-contained HTML page (inline SVG and CSS, no scripts, no external references): the
  /// recommendation, a line chart of realized balancedness over time per configuration (with the
  /// best possible value as a dashed line), the summary table, the policy limits and the settings.
  public func html() -> String {
    let title = "Backtest" + (series.map { ": \($0)" } ?? "")
    var w = HTML.Writer()
    w.element("h1", text: title)
    if let (_, text) = recommendation { w.element("p", text: text) }

    w.element("h2", text: "Realized balancedness over time")
    var lines: [HTML.LineSeries] = []
    for (c, s) in summaries.enumerated() {
      let style = HTML.categoricalStyle(c)
      lines.append(
        HTML.LineSeries(
          name: s.config.shortLabel, color: style.color,
          points: s.points.map { (Double($0.step), $0.realizedBalancedness) }, dashed: false, pattern: style.dash))
    }
    // The reference: under the hierarchical policy whole groups on nodes cap what any plan can
    // reach, so the line is that cap on each horizon; else the global bound.
    var reference = "best possible"
    if let first = summaries.first, !first.points.isEmpty {
      var values = first.points.map(\.lowerBoundBalancedness)
      let caps = limits.compactMap(\.hierarchicalCap)
      if policy == .hierarchical, caps.count == values.count {
        values = caps
        reference = "hierarchical cap"
      }
      lines.append(
        HTML.LineSeries(
          name: reference, color: "#8c959f",
          points: zip(first.points, values).map { (Double($0.step), $1) }, dashed: true))
    }
    w.raw(
      HTML.lineChart(
        title: "Realized balancedness (Σ mean / Σ peak) of each plan on its next \(parameters.horizon) steps",
        xLabel: "plan step (end of window)", yLabel: "balancedness", series: lines))
    w.element(
      "p", [("class", "note")],
      text: "Each point is one plan: made on the window ending at that step and evaluated on the sum of the "
        + "following \(parameters.horizon) steps. The dashed line is the best any placement could reach there"
        + (reference == "hierarchical cap" ? " with whole expert groups on nodes (the hierarchical cap)." : "."))

    w.element("h2", text: "Configurations, best first")
    let ranks = self.ranks
    func f(_ x: Double?, _ digits: Int = 4) -> String { x.map { TextFormat.fixed($0, digits) } ?? "-" }
    let rows = ranking.map { c -> [String] in
      let s = summaries[c]
      return [
        String(ranks[c]), s.config.label, String(s.points.count), f(s.realizedMean), f(s.realizedP10),
        f(s.realizedMin), f(s.stepBalancednessMean), f(s.peakToLowerBoundMean), f(s.plannedMean),
        f(s.slotsChangedMean, 1),
      ]
    }
    w.raw(
      HTML.table(
        header: [
          "rank", "configuration", "plans", "realized mean", "p10", "worst", "per-step mean", "peak / lower bound",
          "in-sample", "slots changed",
        ], rows: rows, classes: rows.map { row in row.indices.map { $0 == 1 ? "name" : nil } }))

    w.element("h2", text: "What the policy costs")
    var pairs: [(String, String)] = [("policy", policy.rawValue), ("best possible", f(lowerBoundBalancednessMean))]
    if let limits = limitsMean {
      pairs.append(("global policy bound", f(limits.globalBound)))
      if let cap = limits.hierarchicalCap {
        pairs.append(("hierarchical cap", f(cap) + (limits.exact ? " (optimal group packing)" : " (best found)")))
      }
      if let cap = limits.eplbPackingCap { pairs.append(("EPLB packing cap", f(cap))) }
    }
    w.raw(HTML.keyValueTable(pairs))

    w.element("h2", text: "Settings")
    let t = parameters.topology
    var settings: [(String, String)] = []
    if let series { settings.append(("series", series)) }
    settings += [
      ("plans", "every \(parameters.every) steps from step position \(parameters.effectiveWarmup - 1)"),
      ("horizon", "\(parameters.horizon) steps"), ("layers", String(layerIDs.count)),
      ("topology", "\(t.replicas) slots on \(t.gpus) GPUs, \(t.nodes) nodes, \(t.groups) groups"),
    ]
    w.raw(HTML.keyValueTable(settings))
    return HTML.page(title: title, body: w.out)
  }
}

extension HTML {
  /// 16 distinct colours: Okabe-Ito's colour-blind-safe palette, then Paul Tol's muted one.
  static let categorical = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442",
    "#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77", "#882255", "#aa4499",
  ]

  /// The colour and dash pattern of configuration `i`: a colour of its own for the first 16,
  /// then the colours again with a dash pattern per round, so no two lines look alike.
  static func categoricalStyle(_ i: Int) -> (color: String, dash: String?) {
    let patterns: [String?] = [nil, "6 3", "2 3", "8 3 2 3"]
    let round = i / categorical.count
    return (categorical[i % categorical.count], patterns[round % patterns.count])
  }

  /// One line of a line chart.
  struct LineSeries {
    var name: String
    var color: String
    /// `(x, y)` in data units, in increasing x.
    var points: [(Double, Double)]
    var dashed: Bool
    /// A dash pattern for a solid-meaning line whose colour repeats (see `categoricalStyle`).
    var pattern: String? = nil
  }

  /// A line chart with axes, ticks, grid and a legend: `<polyline class="line" data-series …>` per
  /// series and a `<circle class="point" data-series data-x data-y>` with a `<title>` per point.
  /// The y axis spans from the lowest value rounded down to 0.05 (at most 0.95) to 1.
  static func lineChart(title: String, xLabel: String, yLabel: String, series: [LineSeries], width: Double = 1040)
    -> String
  {
    let all = series.flatMap(\.points)
    let xs = all.map(\.0), ys = all.map(\.1)
    let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, (xs.min() ?? 0) + 1)
    let yLow = min(0.95, ((ys.min() ?? 0.9) * 20).rounded(.down) / 20)
    let yHigh = max(1, ys.max() ?? 1)
    let left = 64.0, right = 24.0, top = 40.0, plotHeight = 320.0, bottom = 48.0
    let legendColumns = max(1, min(3, Int((width - 88) / (Double(series.map(\.name.count).max() ?? 0) * 7 + 40))))
    let legendRows = Double((series.count + legendColumns - 1) / legendColumns)
    let height = top + plotHeight + bottom + legendRows * 18 + 8
    let plotWidth = width - left - right
    func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
    func py(_ y: Double) -> Double { top + (yHigh - y) / (yHigh - yLow) * plotHeight }
    var w = Writer()
    w.openSVG(width: width, height: height, title: title, headingX: left, headingY: 20, headingSize: 14)
    // Y grid and ticks every 0.05 (0.1 when the range is wide).
    let yStep = yHigh - yLow > 0.5 ? 0.1 : 0.05
    var tick = yLow
    while tick <= yHigh + 1e-9 {
      w.gridLine(y: py(tick), x: left, width: plotWidth, label: TextFormat.fixed(tick, 2))
      tick += yStep
    }
    // X ticks: about 8, at "nice" steps.
    let xStep = niceAxis((xMax - xMin) / 8 * 5).step
    var xt = (xMin / xStep).rounded(.up) * xStep
    while xt <= xMax + 1e-9 {
      let x = px(xt)
      w.element(
        "line",
        [
          ("x1", coord(x)), ("x2", coord(x)), ("y1", coord(top + plotHeight)), ("y2", coord(top + plotHeight + 4)),
          ("stroke", "#57606a"),
        ])
      w.element(
        "text",
        [("x", coord(x)), ("y", coord(top + plotHeight + 16)), ("font-size", "11"), ("text-anchor", "middle")],
        text: tickLabel(xt))
      xt += xStep
    }
    // Axes.
    w.element(
      "line",
      [
        ("x1", coord(left)), ("x2", coord(left + plotWidth)), ("y1", coord(top + plotHeight)),
        ("y2", coord(top + plotHeight)), ("stroke", "#57606a"),
      ])
    w.element(
      "line",
      [
        ("x1", coord(left)), ("x2", coord(left)), ("y1", coord(top)), ("y2", coord(top + plotHeight)),
        ("stroke", "#57606a"),
      ])
    w.element(
      "text",
      [
        ("x", coord(left + plotWidth / 2)), ("y", coord(top + plotHeight + 34)), ("font-size", "12"),
        ("text-anchor", "middle"),
      ],
      text: xLabel)
    let mid = top + plotHeight / 2
    w.element(
      "text",
      [
        ("x", "14"), ("y", coord(mid)), ("font-size", "12"), ("text-anchor", "middle"),
        ("transform", "rotate(-90 14 \(coord(mid)))"),
      ],
      text: yLabel)
    // Lines and points.
    for s in series {
      var attributes: [(String, String)] = [
        ("class", "line"), ("data-series", s.name), ("fill", "none"), ("stroke", s.color), ("stroke-width", "1.8"),
        ("points", s.points.map { "\(coord(px($0.0))),\(coord(py($0.1)))" }.joined(separator: " ")),
      ]
      if s.dashed {
        attributes.append(("stroke-dasharray", "5 4"))
      } else if let p = s.pattern {
        attributes.append(("stroke-dasharray", p))
      }
      w.element("polyline", attributes)
      if s.dashed { continue }
      for (x, y) in s.points {
        w.open(
          "circle",
          [
            ("class", "point"), ("data-series", s.name), ("data-x", "\(x)"), ("data-y", "\(y)"),
            ("cx", coord(px(x))), ("cy", coord(py(y))), ("r", "2.6"), ("fill", s.color),
          ])
        w.element("title", text: "\(s.name), step \(tickLabel(x)): \(TextFormat.fixed(y, 4))")
        w.close("circle")
      }
    }
    // Legend: as many columns as the longest name allows (about 7 px per character at 12 px),
    // so names never run into the next entry; a name longer than a row is cut with "…" and
    // kept whole in its <title>.
    let legendTop = top + plotHeight + bottom
    let longest = series.map(\.name.count).max() ?? 0
    let columns = max(1, min(3, Int(plotWidth / (Double(longest) * 7 + 40))))
    let maxChars = Int((plotWidth - 40) / 7)
    for (i, s) in series.enumerated() {
      let x = left + Double(i % columns) * (plotWidth / Double(columns))
      let y = legendTop + Double(i / columns) * 18
      var attributes: [(String, String)] = [
        ("class", "legend"), ("x1", coord(x)), ("x2", coord(x + 22)), ("y1", coord(y)), ("y2", coord(y)),
        ("stroke", s.color), ("stroke-width", "2.5"),
      ]
      if s.dashed {
        attributes.append(("stroke-dasharray", "5 4"))
      } else if let p = s.pattern {
        attributes.append(("stroke-dasharray", p))
      }
      w.element("line", attributes)
      let shown = s.name.count > maxChars ? String(s.name.prefix(maxChars - 1)) + "…" : s.name
      w.open("text", [("class", "legend-name"), ("x", coord(x + 28)), ("y", coord(y + 4)), ("font-size", "12")])
      w.element("title", text: s.name)
      w.text(shown)
      w.close("text")
    }
    w.close("svg")
    w.newline()
    return w.out
  }
}
