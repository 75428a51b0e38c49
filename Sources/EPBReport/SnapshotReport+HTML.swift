import EPBPlanner

extension SnapshotReport {
  /// A self-contained HTML page (inline SVG and CSS, no scripts, no external references): provenance,
  /// model summary, per-GPU load bars for one layer, the layers × GPUs heat map of load relative to
  /// the layer mean, and the per-layer statistics table.
  ///
  /// - parameter layer: the layer whose bars to draw; nil picks `worstBalancedLayer`.
  /// - throws: `ReportError.unknownLayer` when `layer` is not a planned layer.
  public func html(layer focus: Int? = nil) throws(ReportError) -> String {
    if let focus, !layers.contains(where: { $0.layer == focus }) {
      throw .unknownLayer(focus, available: layers.map(\.layer))
    }
    let name = id.map { "Snapshot \($0)" } ?? "Plan (not stored)"
    let title = "\(name): \(series)"
    var w = HTML.Writer()
    w.element("h1", text: title)
    w.raw(HTML.keyValueTable(headerLines()))

    w.element("h2", text: "Model summary")
    w.raw(HTML.keyValueTable(summaryLines()))

    if let chosen = focus ?? worstBalancedLayer, let l = layers.first(where: { $0.layer == chosen }) {
      let why = focus == nil ? " (worst balancedness)" : ""
      let st = l.statistics
      w.element("h2", text: "Per-GPU load, layer \(l.layer)\(why)")
      w.raw(
        HTML.barChart(
          title: "Layer \(l.layer): load per GPU",
          series: [HTML.BarSeries(name: "layer \(l.layer)", values: st.evaluation.gpuLoad, color: "#0969da")]))
      w.element(
        "p", [("class", "note")],
        text: "Peak \(TextFormat.load(st.evaluation.peak)) tokens, no-replication peak "
          + "\(TextFormat.load(st.noReplicationPeak)), lower bound \(TextFormat.load(st.lowerBound)) "
          + "(gap \(TextFormat.percent(st.gapToLowerBound, 2))). GPUs at the peak are drawn in red; "
          + "the dashed line is the mean.")
    }

    w.element("h2", text: "Load relative to the layer mean")
    let rows = layers.map { HTML.HeatRow(layer: $0.layer, gpuLoad: $0.statistics.evaluation.gpuLoad) }
    let scale = HTML.heatScale(rows)
    w.raw(HTML.heatLegend(scale: scale))
    w.raw(HTML.heatMap(title: "Layers × GPUs", rows: rows, scale: scale))

    w.element("h2", text: "Layers")
    w.raw(HTML.table(header: Self.layerHeader, rows: layerRows()))
    return HTML.page(title: title, body: w.out)
  }
}
