import EPBPlanner

extension PlacementDiff {
  /// A self-contained HTML page (inline SVG and CSS, no scripts, no external references): the model
  /// summary, per-GPU load bars before and after for one layer, layers × GPUs heat maps of load
  /// relative to the layer mean before and after (shared colour scale and legend), and the per-layer
  /// move summary.
  ///
  /// - parameter layer: the layer whose bars to draw; nil picks `layerWithLargestReduction`.
  /// - throws: `ReportError.unknownLayer` when `layer` is not a compared layer.
  public func html(layer focus: Int? = nil) throws(ReportError) -> String {
    if let focus, !layers.contains(where: { $0.layer == focus }) {
      throw .unknownLayer(focus, available: layers.map(\.layer))
    }
    let title = "Placement diff: \(before.label) → \(after.label)"
    var w = HTML.Writer()
    w.element("h1", text: title)
    let t = after.topology
    w.element(
      "p", [("class", "meta")],
      text:
        "Evaluated on \(window.from == window.to ? "step \(window.from)" : "steps \(window.from)–\(window.to)"). \(t.replicas) replicas on \(t.gpus) GPUs in "
        + "\(t.nodes) nodes. Before: \(before.algorithmLabel); after: \(after.algorithmLabel).")
    w.newline()

    w.element("h2", text: "Model summary")
    w.raw(HTML.keyValueTable(summaryLines()))

    if let chosen = focus ?? layerWithLargestReduction, let d = layers.first(where: { $0.layer == chosen }) {
      // When every layer got worse, the chosen layer is the one that got least worse.
      let allWorse = layers.allSatisfy { $0.peakReduction < 0 }
      let why =
        focus != nil ? "" : allWorse ? " (smallest peak increase: every layer got worse)" : " (largest peak reduction)"
      w.element("h2", text: "Per-GPU load, layer \(d.layer)\(why)")
      // The y axis starts near the smallest load, not at 0, so that a change of a few percent
      // shows; the difference panel draws after − before per GPU.
      w.raw(
        HTML.barChart(
          title: "Layer \(d.layer): load per GPU, \(before.label) vs \(after.label)",
          series: [
            HTML.BarSeries(name: "before (\(before.label))", values: d.before.gpuLoad, color: "#8c959f"),
            HTML.BarSeries(name: "after (\(after.label))", values: d.after.gpuLoad, color: "#0969da"),
          ], zoomed: true))
      w.raw(
        HTML.differenceChart(
          title: "Layer \(d.layer): after − before, tokens per GPU",
          values: zip(d.after.gpuLoad, d.before.gpuLoad).map { $0 - $1 }))
      let change =
        d.peakReduction >= 0
        ? "\(TextFormat.percent(d.peakReduction, 2)) reduction" : "\(TextFormat.percent(-d.peakReduction, 2)) increase"
      w.element(
        "p", [("class", "note")],
        text: "Peak \(TextFormat.load(d.before.peak)) → \(TextFormat.load(d.after.peak)) tokens "
          + "(\(change)); no-replication peak "
          + "\(TextFormat.load(d.noReplicationPeak)). GPUs at the peak are drawn in red; "
          + "the dashed line is the mean. The load axis starts at the value it is labelled with, not at 0; "
          + "the second chart is the change per GPU (red: more load after).")
    }

    w.element("h2", text: "Load relative to the layer mean")
    let rowsBefore = layers.map { HTML.HeatRow(layer: $0.layer, gpuLoad: $0.before.gpuLoad) }
    let rowsAfter = layers.map { HTML.HeatRow(layer: $0.layer, gpuLoad: $0.after.gpuLoad) }
    let scale = HTML.heatScale(rowsBefore + rowsAfter)
    w.raw(HTML.heatLegend(scale: scale))
    w.open("div", [("class", "heatmaps")])
    w.raw(HTML.heatMap(title: "Before: \(before.label)", rows: rowsBefore, scale: scale))
    w.raw(HTML.heatMap(title: "After: \(after.label)", rows: rowsAfter, scale: scale))
    w.close("div")
    w.newline()

    w.element("h2", text: "Moves per layer")
    w.element(
      "p", [("class", "note")],
      text: "Each changed slot loads the new expert from the before placement: same GPU (local copy), "
        + "another GPU of the same node, or another node.")
    let header = [
      "layer", "slots changed", "same GPU", "same node", "cross node", "+replicas", "−replicas", "peak before",
      "peak after", "reduction",
    ]
    var rows: [[String]] = []
    var classes: [[String?]] = []
    for d in layers {
      rows.append([
        String(d.layer), String(d.slotsChanged), String(d.moveCounts.sameGPU), String(d.moveCounts.sameNode),
        String(d.moveCounts.crossNode), String(d.replicasAdded), String(d.replicasRemoved),
        TextFormat.load(d.before.peak), TextFormat.load(d.after.peak), TextFormat.percent(d.peakReduction, 2),
      ])
      let cls: String? = d.trend == .improved ? "good" : d.trend == .worsened ? "bad" : nil
      classes.append(Array(repeating: nil, count: 9) + [cls])
    }
    let s = summary
    rows.append([
      "total", String(s.slotsChanged), String(s.moves.sameGPU), String(s.moves.sameNode), String(s.moves.crossNode),
      String(s.replicasAdded), String(s.replicasRemoved), "", "", TextFormat.percent(s.peakReductionMean, 2) + " mean",
    ])
    classes.append(Array(repeating: nil, count: 10))
    w.raw(HTML.table(header: header, rows: rows, classes: classes))
    return HTML.page(title: title, body: w.out)
  }
}
