import ArgumentParser
import EPBEngines
import EPBReport
import EPBStore
import Foundation

extension ExportFormat: ExpressibleByArgument {}

extension Epbctl {
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a snapshot's placement in the file format a serving engine reads.",
      discussion: """
        Formats: sglang (`{"physical_to_logical_map": [L][R]}` for --init-expert-location, \
        one row per model layer 0 to the series' largest layer id; layers the snapshot did not \
        plan and dense layers keep the trivial map slot % experts), vllm-ascend (expert map \
        JSON, MoE layers counted from 0), trtllm (MoE load balancer YAML keyed by model layer \
        id) and json (epbctl's own). Dense layers are the ids the series does not hold (a \
        MoE-only series of layers 3-60: 0-2) and, by default, the layers the snapshot skipped \
        because their load was all zero.

        Example:
          epbctl export latest --format sglang --output expert_location.json
        """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "A snapshot id, latest, or latest~N.")
    var id: String

    @Option(help: "Resolve latest / latest~N within this series.")
    var series: String?

    @Option(help: "sglang, vllm-ascend, trtllm or json.")
    var format: ExportFormat

    @Option(help: "Write to this file instead of stdout.")
    var output: String?

    @Option(
      help:
        "Layers without routed experts, model ids such as 0-2, or none (default: the snapshot's skipped layers; ids the series does not hold are dense anyway)."
    )
    var denseLayers: String?

    func validate() throws {
      if let series { try FlagLimits.checkSeries(series) }
      if let denseLayers, denseLayers.lowercased() != "none", LayerSelection(argument: denseLayers)?.layers == nil {
        throw ValidationError(
          "--dense-layers takes a list of layer ids 0 to \(FlagLimits.layerIDs.upperBound) such as 0-2, or none; got '\(denseLayers)'"
        )
      }
    }

    func run() throws {
      if let output { try Output.checkWritable(output, flag: "--output") }
      let store = try database.open(create: false)
      let record = try store.snapshot(id: store.resolveSnapshot(id, series: series))
      let info = try store.series(named: record.series)
      var dense = record.skippedLayers
      if let denseLayers {
        if denseLayers.lowercased() == "none" {
          dense = []
        } else if let selection = LayerSelection(argument: denseLayers), let layers = selection.layers {
          dense = layers
        } else {
          throw ValidationError("--dense-layers takes a list such as 0-2, or none; got '\(denseLayers)'")
        }
      }
      let export = try PlacementExport(
        PlacementSide(record), layerIDs: info.layerIDs, experts: info.experts, denseLayers: dense)
      let text = try export.render(format)
      if let output {
        try Output.write(text, to: output, flag: "--output", note: "\(format.rawValue), snapshot \(record.id ?? 0)")
      } else {
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
      }
    }
  }
}
