/// Building blocks for the self-contained HTML reports: escaping, a tiny XML writer, SVG bar charts
/// and heat maps with a sequential palette.
///
/// The markup is well-formed XML (every tag closed, `&<>"'` escaped, no named entities besides the
/// five XML ones), uses no JavaScript and references nothing outside the file: the only URL is the
/// SVG namespace.
enum HTML {
  /// `s` with `&`, `<`, `>`, `"` and `'` replaced by entities, safe in text and attribute values.
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(c)
      }
    }
    return out
  }

  /// A coordinate or size in SVG attributes: two decimals.
  static func coord(_ x: Double) -> String { TextFormat.fixed(x, 2) }

  /// A minimal XML writer: elements with attributes, escaped text, raw fragments.
  struct Writer {
    var out = ""

    /// Opens an inline `<svg>` of `width` × `height` pixels labelled `title` for screen readers;
    /// with `heading`, also its `<title>` and a bold heading at (`headingX`, `headingY`).
    mutating func openSVG(
      width: Double, height: Double, title: String, heading: Bool = true, headingX: Double = 16,
      headingY: Double = 18, headingSize: Int = 14, attributes: [(String, String)] = []
    ) {
      open(
        "svg",
        [
          ("xmlns", "http://www.w3.org/2000/svg"), ("width", coord(width)), ("height", coord(height)),
          ("viewBox", "0 0 \(coord(width)) \(coord(height))"), ("role", "img"), ("aria-label", title),
        ] + attributes)
      guard heading else { return }
      element("title", text: title)
      element(
        "text",
        [("x", coord(headingX)), ("y", coord(headingY)), ("font-size", String(headingSize)), ("font-weight", "600")],
        text: title)
    }

    /// A horizontal grid line across the plot, from `x` over `width` pixels at height `y`, with
    /// its tick `label` right-aligned just left of the plot.
    mutating func gridLine(y: Double, x: Double, width: Double, label: String) {
      element(
        "line",
        [("x1", coord(x)), ("x2", coord(x + width)), ("y1", coord(y)), ("y2", coord(y)), ("stroke", "#eaeef2")])
      element(
        "text", [("x", coord(x - 6)), ("y", coord(y + 4)), ("font-size", "11"), ("text-anchor", "end")], text: label)
    }

    mutating func open(_ tag: String, _ attributes: [(String, String)] = []) {
      out += "<" + tag + Self.attributes(attributes) + ">"
    }

    mutating func close(_ tag: String) { out += "</" + tag + ">" }

    /// `<tag attrs>text</tag>`, or `<tag attrs/>` when `text` is nil.
    mutating func element(_ tag: String, _ attributes: [(String, String)] = [], text: String? = nil) {
      if let text {
        out += "<" + tag + Self.attributes(attributes) + ">" + HTML.escape(text) + "</" + tag + ">"
      } else {
        out += "<" + tag + Self.attributes(attributes) + "/>"
      }
    }

    mutating func text(_ s: String) { out += HTML.escape(s) }

    mutating func raw(_ s: String) { out += s }

    mutating func newline() { out += "\n" }

    static func attributes(_ attributes: [(String, String)]) -> String {
      attributes.map { " \($0.0)=\"\(HTML.escape($0.1))\"" }.joined()
    }
  }

  // MARK: Page

  /// A whole page: doctype, inline stylesheet, `title`, and `body` as given (already markup).
  static func page(title: String, body: String) -> String {
    var w = Writer()
    w.raw("<!DOCTYPE html>\n")
    w.open("html", [("lang", "en")])
    w.newline()
    w.open("head")
    w.element("meta", [("charset", "utf-8")])
    w.element("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
    w.element("title", text: title)
    w.open("style")
    w.raw(stylesheet)
    w.close("style")
    w.close("head")
    w.newline()
    w.open("body")
    w.newline()
    w.raw(body)
    w.close("body")
    w.newline()
    w.close("html")
    w.newline()
    return w.out
  }

  static let stylesheet = """

    body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto;
      max-width: 1120px; padding: 0 16px; color: #1f2328; background: #ffffff; }
    h1 { font-size: 1.5em; margin-bottom: 0.2em; }
    h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
    p.meta { color: #57606a; margin-top: 0; }
    p.note { color: #57606a; font-size: 0.9em; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.9em; }
    th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: right; }
    th { background: #f6f8fa; }
    th:first-child, td:first-child { text-align: left; }
    table.kv td:last-child { text-align: left; }
    td.good { color: #1a7f37; }
    td.bad { color: #cf222e; }
    td.name { white-space: nowrap; }
    svg { display: block; margin: 8px 0; }
    svg text { font-family: system-ui, sans-serif; fill: #1f2328; }
    .heatmaps { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }

    """

  /// A two-column table of `(label, value)` pairs.
  static func keyValueTable(_ pairs: [(String, String)]) -> String {
    var w = Writer()
    w.open("table", [("class", "kv")])
    for (key, value) in pairs {
      w.open("tr")
      w.element("th", [("scope", "row")], text: key)
      w.element("td", text: value)
      w.close("tr")
      w.newline()
    }
    w.close("table")
    w.newline()
    return w.out
  }

  /// A table with a header row; `classes[r][c]` (optional) sets a cell's class.
  static func table(header: [String], rows: [[String]], classes: [[String?]]? = nil) -> String {
    var w = Writer()
    w.open("table")
    w.open("thead")
    w.open("tr")
    for h in header { w.element("th", [("scope", "col")], text: h) }
    w.close("tr")
    w.close("thead")
    w.newline()
    w.open("tbody")
    for (r, row) in rows.enumerated() {
      w.open("tr")
      for (c, cell) in row.enumerated() {
        let cls = classes?[r][c]
        w.element("td", cls.map { [("class", $0)] } ?? [], text: cell)
      }
      w.close("tr")
      w.newline()
    }
    w.close("tbody")
    w.close("table")
    w.newline()
    return w.out
  }

  // MARK: Palette

  /// ColorBrewer YlOrRd, 9 classes: light yellow (low) to dark red (high); sequential and
  /// readable in grey scale.
  static let palette: [(Double, Double, Double)] = [
    (255, 255, 204), (255, 237, 160), (254, 217, 118), (254, 178, 76), (253, 141, 60), (252, 78, 42),
    (227, 26, 28), (189, 0, 38), (128, 0, 38),
  ]

  /// The palette colour at `t` in [0, 1] (clamped), linearly interpolated, as `#rrggbb`.
  static func color(at t: Double) -> String {
    let x = min(1, max(0, t.isFinite ? t : 0)) * Double(palette.count - 1)
    let i = min(palette.count - 2, Int(x))
    let f = x - Double(i)
    let a = palette[i], b = palette[i + 1]
    func hex(_ v: Double) -> String {
      let n = Int((v).rounded())
      let digits = Array("0123456789abcdef")
      return String(digits[n / 16]) + String(digits[n % 16])
    }
    return "#" + hex(a.0 + (b.0 - a.0) * f) + hex(a.1 + (b.1 - a.1) * f) + hex(a.2 + (b.2 - a.2) * f)
  }

  /// A "nice" axis maximum ≥ `x` and its tick step: 1, 2, 2.5 or 5 × 10^k, about 5 ticks.
  static func niceAxis(_ x: Double) -> (max: Double, step: Double) {
    guard x > 0, x.isFinite else { return (1, 0.2) }
    let raw = x / 5
    var magnitude = 1.0
    while magnitude * 10 <= raw { magnitude *= 10 }
    while magnitude > raw { magnitude /= 10 }
    var step = magnitude * 10
    for m in [1.0, 2.0, 2.5, 5.0] where magnitude * m >= raw {
      step = magnitude * m
      break
    }
    var top = step
    while top < x * (1 - 1e-12) { top += step }
    return (top, step)
  }

  /// A tick label: integers without decimals, else up to two decimals, large values with k/M suffixes.
  static func tickLabel(_ v: Double) -> String {
    let a = abs(v)
    if a >= 1e6 { return TextFormat.fixed(v / 1e6, a >= 1e7 ? 0 : 1) + "M" }
    if a >= 1e4 { return TextFormat.fixed(v / 1e3, 0) + "k" }
    if v == v.rounded() { return TextFormat.fixed(v, 0) }
    return TextFormat.fixed(v, 2)
  }

  /// Bars of a signed value per GPU around a zero line (`values` `[gpus]`, tokens): each
  /// `<rect class="diff-bar" data-gpu data-delta …>` rises above the line for a positive value
  /// (red: more load) and hangs below it for a negative one (green), scaled to the largest |value|.
  static func differenceChart(title: String, values: [Double], width: Double = 1040) -> String {
    let left = 64.0, right = 44.0, top = 34.0, half = 70.0, bottom = 20.0
    let plotWidth = width - left - right
    let height = top + 2 * half + bottom
    let largest = values.map(abs).max() ?? 0
    let axis = niceAxis(largest)
    let zero = top + half
    let slot = plotWidth / Double(max(values.count, 1))
    let barWidth = max(1, slot * 0.8)
    var w = Writer()
    w.openSVG(width: width, height: height, title: title, headingX: left, headingY: 18, headingSize: 13)
    for tick in [-axis.max, 0, axis.max] {
      w.gridLine(y: zero - tick / axis.max * half, x: left, width: plotWidth, label: tickLabel(tick))
    }
    for (g, v) in values.enumerated() {
      let h = abs(v) / axis.max * half
      w.open(
        "rect",
        [
          ("class", "diff-bar"), ("data-gpu", String(g)), ("data-delta", "\(v)"),
          ("x", coord(left + Double(g) * slot + (slot - barWidth) / 2)), ("y", coord(v >= 0 ? zero - h : zero)),
          ("width", coord(barWidth)), ("height", coord(h)), ("fill", v > 0 ? "#cf222e" : "#1a7f37"),
        ])
      w.element("title", text: "GPU \(g): \(v >= 0 ? "+" : "")\(TextFormat.load(v)) tokens")
      w.close("rect")
    }
    w.element(
      "line",
      [
        ("x1", coord(left)), ("x2", coord(left + plotWidth)), ("y1", coord(zero)), ("y2", coord(zero)),
        ("stroke", "#57606a"),
      ])
    w.close("svg")
    w.newline()
    return w.out
  }

  // MARK: Bar chart

  /// One panel of a bar chart: a name and one value per GPU.
  struct BarSeries {
    var name: String
    /// `[gpus]`, tokens.
    var values: [Double]
    var color: String
  }

  /// Per-GPU load bars, one panel per series stacked vertically on a shared y scale, with the
  /// mean as a dashed line. Each bar is `<rect class="bar" data-series data-gpu data-load …>` whose
  /// height is `load / yMax × plot height`, with a `<title>` tooltip.
  ///
  /// - parameter zoomed: start the y axis at a multiple of its tick step below the smallest
  ///   value (`data-y-from` on the `<svg>`), so that small differences show; bars then measure
  ///   `(load − from) / (yMax − from)`.
  static func barChart(title: String, series: [BarSeries], width: Double = 1040, zoomed: Bool = false) -> String {
    let gpus = series.map(\.values.count).max() ?? 0
    let maxLoad = series.flatMap(\.values).max() ?? 0
    let minLoad = series.flatMap(\.values).min() ?? 0
    var axis = niceAxis(maxLoad)
    var from = 0.0
    if zoomed, maxLoad > minLoad {
      // A nice axis over the spread, starting a tick or so below the smallest load.
      let spread = niceAxis(maxLoad - minLoad)
      from = max(0, ((minLoad - spread.step / 2) / spread.step).rounded(.down) * spread.step)
      axis = (max: (maxLoad / spread.step).rounded(.up) * spread.step, step: spread.step)
    }
    let left = 64.0, right = 44.0, top = 54.0, panelHeight = 180.0, gap = 48.0, bottom = 44.0
    let plotWidth = width - left - right
    let height = top + Double(series.count) * panelHeight + Double(max(0, series.count - 1)) * gap + bottom
    let slot = plotWidth / Double(max(gpus, 1))
    let barWidth = max(1, slot * 0.8)
    var w = Writer()
    w.openSVG(
      width: width, height: height, title: title, headingX: left, headingY: 18, headingSize: 15,
      attributes: zoomed ? [("data-y-from", "\(from)"), ("data-y-to", "\(axis.max)")] : [])
    let range = axis.max - from
    for (p, s) in series.enumerated() {
      let y0 = top + Double(p) * (panelHeight + gap)
      let base = y0 + panelHeight
      // Grid lines and y ticks.
      var tick = from
      while tick <= axis.max * (1 + 1e-12) {
        w.gridLine(y: base - (tick - from) / range * panelHeight, x: left, width: plotWidth, label: tickLabel(tick))
        tick += axis.step
      }
      let peak = s.values.max() ?? 0
      let mean = s.values.isEmpty ? 0 : s.values.reduce(0, +) / Double(s.values.count)
      w.element(
        "text", [("x", coord(left)), ("y", coord(y0 - 10)), ("font-size", "12"), ("font-weight", "600")],
        text: "\(s.name): peak \(TextFormat.load(peak)), mean \(TextFormat.load(mean)), balancedness "
          + TextFormat.fixed(peak > 0 ? mean / peak : 1, 4))
      for (g, v) in s.values.enumerated() {
        let h = range > 0 ? max(0, v - from) / range * panelHeight : 0
        w.open(
          "rect",
          [
            ("class", "bar"), ("data-series", s.name), ("data-gpu", String(g)), ("data-load", "\(v)"),
            ("x", coord(left + Double(g) * slot + (slot - barWidth) / 2)), ("y", coord(base - h)),
            ("width", coord(barWidth)), ("height", coord(h)), ("fill", v == peak && peak > 0 ? "#cf222e" : s.color),
          ])
        w.element("title", text: "\(s.name), GPU \(g): \(TextFormat.load(v)) tokens")
        w.close("rect")
      }
      let meanY = base - (range > 0 ? (mean - from) / range * panelHeight : 0)
      w.element(
        "line",
        [
          ("class", "mean"), ("x1", coord(left)), ("x2", coord(left + plotWidth)), ("y1", coord(meanY)),
          ("y2", coord(meanY)), ("stroke", "#1f2328"), ("stroke-dasharray", "5 4"), ("stroke-width", "1.2"),
        ])
      w.element(
        "text",
        [("x", coord(left + plotWidth + 4)), ("y", coord(meanY + 4)), ("font-size", "11")],
        text: "mean")
      // Axes.
      w.element(
        "line",
        [
          ("x1", coord(left)), ("x2", coord(left + plotWidth)), ("y1", coord(base)), ("y2", coord(base)),
          ("stroke", "#57606a"),
        ])
      w.element(
        "line",
        [("x1", coord(left)), ("x2", coord(left)), ("y1", coord(y0)), ("y2", coord(base)), ("stroke", "#57606a")])
      let labelEvery = max(1, Int((Double(gpus) / 32).rounded(.up)))
      for g in stride(from: 0, to: gpus, by: labelEvery) {
        w.element(
          "text",
          [
            ("x", coord(left + (Double(g) + 0.5) * slot)), ("y", coord(base + 14)), ("font-size", "10"),
            ("text-anchor", "middle"),
          ],
          text: String(g))
      }
      w.element(
        "text",
        [
          ("x", "14"), ("y", coord(y0 + panelHeight / 2)), ("font-size", "12"), ("text-anchor", "middle"),
          ("transform", "rotate(-90 14 \(coord(y0 + panelHeight / 2)))"),
        ],
        text: "load (tokens)")
    }
    w.element(
      "text",
      [("x", coord(left + plotWidth / 2)), ("y", coord(height - 8)), ("font-size", "12"), ("text-anchor", "middle")],
      text: "GPU")
    w.close("svg")
    w.newline()
    return w.out
  }

  // MARK: Heat map

  /// One row of a heat map: a layer id and its per-GPU load.
  struct HeatRow {
    var layer: Int
    /// `[gpus]`, tokens.
    var gpuLoad: [Double]

    /// `gpuLoad[g] / mean`, or nil for a layer without load.
    var ratios: [Double?] {
      let mean = gpuLoad.isEmpty ? 0 : gpuLoad.reduce(0, +) / Double(gpuLoad.count)
      return gpuLoad.map { mean > 0 ? $0 / mean : nil }
    }
  }

  /// The colour scale's range for `rows`: the largest load/mean ratio rounded up and the smallest
  /// rounded down to a quarter, so that 1 (perfect balance) always lies inside and well-balanced
  /// layers still show contrast; at least 0.5 wide.
  static func heatScale(_ rows: [HeatRow]) -> ClosedRange<Double> {
    let ratios = rows.flatMap { $0.ratios.compactMap { $0 } }
    let lo = min(1, ((ratios.min() ?? 1) * 4).rounded(.down) / 4)
    let hi = max(1.25, ((ratios.max() ?? 1) * 4).rounded(.up) / 4, lo + 0.5)
    return max(0, lo)...hi
  }

  /// A layers × GPUs heat map of load relative to the layer mean: `<rect class="cell" data-layer
  /// data-gpu data-ratio fill>` per cell, colour `color(at: (ratio − lo) / (hi − lo))` for `scale`
  /// `lo...hi`; grey for layers without load.
  static func heatMap(title: String, rows: [HeatRow], scale: ClosedRange<Double>) -> String {
    let gpus = rows.map(\.gpuLoad.count).max() ?? 0
    let cellWidth = max(3, min(22, 470 / Double(max(gpus, 1))))
    let cellHeight = max(3, min(16, 560 / Double(max(rows.count, 1))))
    let left = 56.0, top = 34.0, bottom = 40.0, right = 12.0
    let width = left + Double(gpus) * cellWidth + right
    let height = top + Double(rows.count) * cellHeight + bottom
    var w = Writer()
    w.openSVG(width: width, height: height, title: title, headingX: left, headingY: 18, headingSize: 14)
    let rowLabelEvery = max(1, Int((12 / cellHeight).rounded(.up)))
    for (r, row) in rows.enumerated() {
      let y = top + Double(r) * cellHeight
      for (g, ratio) in row.ratios.enumerated() {
        let span = scale.upperBound - scale.lowerBound
        let fill = ratio.map { color(at: ($0 - scale.lowerBound) / span) } ?? "#d0d7de"
        let value = ratio.map { TextFormat.fixed($0, 3) } ?? "no load"
        w.open(
          "rect",
          [
            ("class", "cell"), ("data-layer", String(row.layer)), ("data-gpu", String(g)),
            ("data-ratio", ratio.map { "\($0)" } ?? ""), ("x", coord(left + Double(g) * cellWidth)), ("y", coord(y)),
            ("width", coord(cellWidth)), ("height", coord(cellHeight)), ("fill", fill),
          ])
        w.element("title", text: "layer \(row.layer), GPU \(g): \(value) × mean (\(TextFormat.load(row.gpuLoad[g])))")
        w.close("rect")
      }
      if r % rowLabelEvery == 0 {
        w.element(
          "text",
          [("x", coord(left - 5)), ("y", coord(y + cellHeight / 2 + 4)), ("font-size", "10"), ("text-anchor", "end")],
          text: String(row.layer))
      }
    }
    let colLabelEvery = max(1, Int((18 / cellWidth).rounded(.up)))
    let base = top + Double(rows.count) * cellHeight
    for g in stride(from: 0, to: gpus, by: colLabelEvery) {
      w.element(
        "text",
        [
          ("x", coord(left + (Double(g) + 0.5) * cellWidth)), ("y", coord(base + 13)), ("font-size", "10"),
          ("text-anchor", "middle"),
        ],
        text: String(g))
    }
    w.element(
      "text",
      [
        ("x", coord(left + Double(gpus) * cellWidth / 2)), ("y", coord(height - 8)), ("font-size", "12"),
        ("text-anchor", "middle"),
      ],
      text: "GPU")
    w.element(
      "text",
      [
        ("x", "14"), ("y", coord(top + Double(rows.count) * cellHeight / 2)), ("font-size", "12"),
        ("text-anchor", "middle"), ("transform", "rotate(-90 14 \(coord(top + Double(rows.count) * cellHeight / 2)))"),
      ],
      text: "layer")
    w.close("svg")
    w.newline()
    return w.out
  }

  /// The heat-map legend: 40 colour steps over `scale` with ticks every 0.25, 0.5 or 1 × mean (about
  /// 4 to 8 ticks), and a grey swatch for layers without load.
  static func heatLegend(scale: ClosedRange<Double>) -> String {
    let width = 460.0, left = 16.0, barWidth = 360.0, barHeight = 14.0, top = 22.0
    var w = Writer()
    w.openSVG(width: width, height: 64, title: "heat map legend", heading: false)
    w.element("text", [("x", coord(left)), ("y", "14"), ("font-size", "12")], text: "GPU load / layer mean")
    let steps = 40
    for i in 0..<steps {
      let t = (Double(i) + 0.5) / Double(steps)
      w.element(
        "rect",
        [
          ("class", "legend"), ("x", coord(left + Double(i) * barWidth / Double(steps))), ("y", coord(top)),
          ("width", coord(barWidth / Double(steps) + 0.3)), ("height", coord(barHeight)), ("fill", color(at: t)),
        ])
    }
    let span = scale.upperBound - scale.lowerBound
    let tickStep = span > 4 ? 1.0 : span > 2 ? 0.5 : 0.25
    var tick = (scale.lowerBound / tickStep).rounded(.up) * tickStep
    while tick <= scale.upperBound + 1e-9 {
      let x = left + (tick - scale.lowerBound) / span * barWidth
      w.element(
        "line",
        [
          ("x1", coord(x)), ("x2", coord(x)), ("y1", coord(top + barHeight)), ("y2", coord(top + barHeight + 4)),
          ("stroke", "#57606a"),
        ])
      w.element(
        "text", [("x", coord(x)), ("y", coord(top + barHeight + 16)), ("font-size", "10"), ("text-anchor", "middle")],
        text: TextFormat.fixed(tick, 2))
      tick += tickStep
    }
    w.element(
      "rect",
      [
        ("x", coord(left + barWidth + 20)), ("y", coord(top)), ("width", "14"), ("height", coord(barHeight)),
        ("fill", "#d0d7de"),
      ])
    w.element(
      "text", [("x", coord(left + barWidth + 38)), ("y", coord(top + 11)), ("font-size", "10")], text: "no load")
    w.close("svg")
    w.newline()
    return w.out
  }
}
