import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

extension Epbctl {
  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Compare two snapshots: what placement B buys over A, and what moving to it costs.",
      discussion: """
        Both placements are evaluated on the same load: B's own window and half-life, unless a \
        window flag is given (then that window of B's series, or of --load-series). The cost \
        counts the slots whose expert changes and where each new expert's weights come from \
        in A: the same GPU (a local copy), another GPU of the same node, or another node. \
        B is first relabelled against A (GPUs of a node, whole nodes and slots of a GPU \
        permuted without changing any GPU's load), so the moves are the fewest an engine must \
        make to serve B's balance; a plan made with `--base A` is already relabelled, and \
        --no-relabel counts B as stored.

        Example:
          epbctl diff latest~1 latest --expert-bytes 44040192 --html diff.html
        """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The snapshot before (an id, latest, or latest~N).")
    var a: String

    @Argument(help: "The snapshot after.")
    var b: String

    @Option(help: "Resolve latest / latest~N within this series.")
    var series: String?

    @Option(help: "Compare one layer, a list such as 3,5,10-12, or all.")
    var layer: LayerSelection = .all

    @OptionGroup var window: WindowOptions

    @Option(help: "Evaluate on a window of this series instead of B's.")
    var loadSeries: String?

    @Option(parsing: .unconditional, help: "Bytes of one expert's weights, to report the bytes to transfer.")
    var expertBytes: Int?

    @Flag(help: "List every move: layer, target GPU/slot, expert, source GPU/slot.")
    var moves = false

    @Flag(help: "Count B's moves as stored, without relabelling B against A first.")
    var noRelabel = false

    @Option(help: "Write a self-contained HTML report with inline SVG to this file.")
    var html: String?

    @Option(
      parsing: .unconditional,
      help: "The layer whose per-GPU bars the HTML report draws (default: largest peak reduction).")
    var htmlLayer: Int?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func validate() throws {
      if let expertBytes { try FlagLimits.check(expertBytes, flag: "--expert-bytes", FlagLimits.expertBytes) }
      if let htmlLayer { try FlagLimits.check(htmlLayer, flag: "--html-layer", FlagLimits.layerIDs) }
      if let series { try FlagLimits.checkSeries(series) }
      if let loadSeries { try FlagLimits.checkSeries(loadSeries, flag: "--load-series") }
    }

    func run() throws {
      if let html { try Output.checkWritable(html, flag: "--html") }
      let store = try database.open(create: false)
      let recordA = try store.snapshot(id: store.resolveSnapshot(a, series: series))
      let recordB = try store.snapshot(id: store.resolveSnapshot(b, series: series))
      let sideA = PlacementSide(recordA)
      let sideB = PlacementSide(recordB)

      // The evaluation load: B's window unless told otherwise.
      let loadSeriesName = loadSeries ?? recordB.series
      let spec =
        window.isSet || loadSeries != nil
        ? window.spec : WindowSpec(from: recordB.windowFrom, to: recordB.windowTo, halfLife: recordB.halfLife)
      let wanted = layer.layers ?? sideB.layers
      let load = try store.windowLoad(series: loadSeriesName, window: spec, layers: wanted.sorted())
      if window.isSet { window.noteClipping(load) }
      let diff = try PlacementDiff(
        before: sideA, after: sideB, load: load.loads, loadLayers: load.layers,
        window: StepWindow(from: load.from, to: load.to), layers: layer.layers, expertBytes: expertBytes,
        relabel: !noRelabel)

      if let html {
        try Output.write(diff.html(layer: htmlLayer), to: html, flag: "--html")
      }
      if json {
        Output.json(diff.json(includeMoves: moves))
        return
      }
      print(diff.table())
      if moves { print(diff.movesTable()) }
    }
  }
}
