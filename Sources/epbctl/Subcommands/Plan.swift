import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

extension Epbctl {
  struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Plan a replica placement over a window of the load history and store it as a snapshot.",
      discussion: """
        Sums the window (default: every stored step), plans each requested layer with the chosen \
        algorithm, prints the per-layer statistics and stores the result as a snapshot that \
        `show`, `diff` and `export` can read. Layers whose window load is all zero are skipped.

        Example:
          epbctl plan --series prod --layer all --window 1000 \\
            --replicas 288 --gpus 32 --nodes 4 --groups 8 --algorithm seed
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The series.")
    var series = "default"

    @Option(help: "A layer id, a list such as 3,5,10-12, or all.")
    var layer: LayerSelection

    @OptionGroup var topology: TopologyOptions

    @OptionGroup var window: WindowOptions

    @OptionGroup var threads: ThreadOptions

    @Option(help: "The algorithm (see `epbctl algorithms`).")
    var algorithm: PlacementAlgorithm = .planDefault

    @Flag(help: "Plan and print without storing a snapshot.")
    var dryRun = false

    @Option(
      help: ArgumentHelp(
        "Relabel against this snapshot to move fewer expert weights (default: the latest snapshot of the series with the same topology).",
        valueName: "id"))
    var base: String?

    @Flag(help: "Plan from scratch, ignoring earlier snapshots.")
    var noBase = false

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Start from the base and apply at most K replica moves per layer.", valueName: "k"))
    var maxMoves: Int?

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp("Keep the base for layers whose peak drops by less than P percent.", valueName: "p"))
    var minGain: Double?

    @Flag(
      name: .customLong("distinct-per-gpu"),
      help: ArgumentHelp(
        "No GPU holds two replicas of one expert (vLLM-Ascend refuses such a map): every algorithm's placement is repaired by swapping replicas between GPUs of a node; prints what it costs in peak."
      ))
    var distinctPerGPU = false

    @Flag(help: "Print the snapshot as JSON (the `show --json` form).")
    var json = false

    func validate() throws {
      if base != nil && noBase { throw ValidationError("--base and --no-base contradict each other; give one") }
      try FlagLimits.checkSeries(series)
      if let maxMoves { try FlagLimits.check(maxMoves, flag: "--max-moves", FlagLimits.moves) }
      if let minGain { try FlagLimits.check(minGain, flag: "--min-gain", FlagLimits.percent) }
      if noBase && (maxMoves != nil || minGain != nil) {
        throw ValidationError("--max-moves and --min-gain need a base; drop --no-base")
      }
    }

    func run() throws {
      let store = try database.open(create: false)
      let window = try store.windowLoad(
        series: series, window: self.window.spec, layers: layer.layers,
        blocks: algorithm.scenarioBlocks)
      self.window.noteClipping(window)
      let baseRecord =
        noBase
        ? nil
        : try store.planBase(
          reference: base, series: series, topology: topology.topology, experts: window.loads.experts)
      if baseRecord == nil && (maxMoves != nil || minGain != nil) {
        throw CommandError(
          "--max-moves and --min-gain need a base snapshot; give --base ID (none of this topology yet)")
      }
      let basePlacements = baseRecord.map { base in
        Dictionary(uniqueKeysWithValues: base.layers.map { ($0.layer, $0.placement) })
      }
      let clock = ContinuousClock()
      var planned: (plan: EPBPlanner.Plan, layers: [LayerMoves])!
      let elapsed = try clock.measure {
        planned = try Planner.plan(
          window.loads, layerIDs: window.layers, topology: topology.topology, policy: topology.policy,
          algorithm: algorithm, scenarios: window.blocks, base: basePlacements,
          options: MoveOptions(maxMoves: maxMoves, minGainPercent: minGain), distinctPerGPU: distinctPerGPU,
          threads: threads.count)
      }
      let plan = planned.plan
      if plan.layers.isEmpty {
        // Nothing planned: store nothing, so an empty snapshot never becomes the default base.
        throw CommandError(
          "nothing to plan: the load of every requested layer is zero on steps \(window.from) to \(window.to) "
            + "of series '\(series)'; no snapshot stored")
      }
      let parameters = PlanParameters(
        series: series, layer: layer.description, algorithm: algorithm, policy: topology.policy,
        topology: topology.topology, window: self.window.spec, base: baseRecord?.id, maxMoves: maxMoves,
        minGain: minGain, distinctPerGPU: distinctPerGPU
      ).json

      var snapshot = Snapshot(
        series: series, plan: plan, windowFrom: window.from, windowTo: window.to, windowSteps: window.steps,
        halfLife: window.halfLife, baseSnapshotID: baseRecord?.id, toolVersion: Epbctl.version,
        parameters: parameters.render())
      if !dryRun { snapshot.id = try store.saveSnapshot(snapshot) }
      var report = SnapshotReport(snapshot, parameters: parameters)
      report.addGroupBounds(loads: window.loads, layerIDs: window.layers)
      let moves = baseRecord.map { MoveSummary(base: $0.id ?? 0, layers: planned.layers) }
      if let note = report.aboveNoReplicationNote { Output.diagnostic(note) }
      if json {
        Output.json(report.planJSON(moves: moves))
      } else {
        let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3
        print(report.planText(moves: moves, steps: window.steps, milliseconds: ms))
      }
    }
  }
}
