import ArgumentParser
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

    /// The snapshot to plan against: `--base`, else the latest one of the series with this
    /// topology (none with `--no-base`, or when there is none).
    func resolveBase(_ store: EPBStore, experts: Int) throws -> SnapshotRecord? {
      if noBase { return nil }
      let t = topology.topology
      if let base {
        let record = try store.snapshot(id: store.resolveSnapshot(base, series: series))
        let b = record.topology
        guard b.replicas == t.replicas && b.gpus == t.gpus && b.nodes == t.nodes else {
          throw CommandError(
            "--base \(base): snapshot \(record.id) has \(plural(b.replicas, "replica")) on \(plural(b.gpus, "GPU")) in \(plural(b.nodes, "node")), "
              + "this plan \(t.replicas) on \(t.gpus) in \(t.nodes); use a snapshot of the same topology or --no-base")
        }
        guard record.layers.allSatisfy({ $0.placement.logicalCount.count == experts }) else {
          throw CommandError("--base \(base): snapshot \(record.id) places a different number of experts")
        }
        return record
      }
      let candidates = try store.snapshots(series: series).filter {
        $0.topology.replicas == t.replicas && $0.topology.gpus == t.gpus && $0.topology.nodes == t.nodes
      }
      guard let latest = candidates.last else { return nil }
      return try store.snapshot(id: latest.id)
    }

    func run() throws {
      let store = try database.open(create: false)
      let window = try store.windowLoad(
        series: series, window: self.window.spec, layers: layer.layers,
        blocks: algorithm.scenarioBlocks)
      self.window.noteClipping(window)
      let baseRecord = try resolveBase(store, experts: window.loads.experts)
      if baseRecord == nil && (maxMoves != nil || minGain != nil) {
        throw CommandError(
          "--max-moves and --min-gain need a base snapshot; give --base ID (none of this topology yet)")
      }
      let clock = ContinuousClock()
      var plan: EPBPlanner.Plan!
      var migrations: [LayerMigration] = []
      var basePlacements: [Int: LayerPlacement] = [:]
      for l in baseRecord?.layers ?? [] { basePlacements[l.layer] = l.placement }
      let elapsed = try clock.measure {
        plan = try Planner.plan(
          window.loads, layerIDs: window.layers, topology: topology.topology, policy: topology.policy,
          algorithm: algorithm, scenarios: window.blocks, base: algorithm.usesBase ? basePlacements : [:],
          distinctPerGPU: distinctPerGPU)
        if baseRecord != nil {
          (plan, migrations) = try Planner.applyBase(
            plan, loads: window.loads, layerIDs: window.layers, base: basePlacements,
            options: MigrationOptions(maxMoves: maxMoves, minGainPercent: minGain))
          // Relabelling keeps each GPU's experts; a kept base or incremental moves may not.
          if distinctPerGPU {
            plan = try Planner.enforceDistinctPerGPU(plan, loads: window.loads, layerIDs: window.layers)
          }
        }
      }
      if plan.layers.isEmpty {
        // Nothing planned: store nothing, so an empty snapshot never becomes the default base.
        throw CommandError(
          "nothing to plan: the load of every requested layer is zero on steps \(window.from) to \(window.to) "
            + "of series '\(series)'; no snapshot stored")
      }
      var parameters: [(String, JSONValue)] = [
        ("series", .string(series)), ("layer", .string(layer.description)),
        ("algorithm", .string(algorithm.rawValue)), ("policy", .string(topology.policy.rawValue)),
        ("replicas", .int(topology.replicas)), ("gpus", .int(topology.gpus)), ("nodes", .int(topology.nodes)),
        ("groups", .int(topology.groups)),
      ]
      if let w = self.window.window { parameters.append(("window", .int(w))) }
      if let f = self.window.from { parameters.append(("from", .int(f))) }
      if let t = self.window.to { parameters.append(("to", .int(t))) }
      if let h = self.window.halfLife { parameters.append(("half_life", .number(h))) }
      if let baseRecord { parameters.append(("base", .int(Int(baseRecord.id)))) }
      if let maxMoves { parameters.append(("max_moves", .int(maxMoves))) }
      if let minGain { parameters.append(("min_gain", .number(minGain))) }
      if distinctPerGPU { parameters.append(("distinct_per_gpu", .bool(true))) }
      let parametersJSON = JSONValue.object(parameters)

      var report: SnapshotReport
      if dryRun {
        report = SnapshotReport(
          id: nil, series: series, plan: plan, window: StepWindow(from: window.from, to: window.to),
          halfLife: window.halfLife, createdAt: Date().formatted(.iso8601), toolVersion: Epbctl.version,
          parameters: parametersJSON)
      } else {
        let record = try store.saveSnapshot(
          NewSnapshot(
            series: series, algorithm: algorithm.rawValue, plan: plan, windowFrom: window.from, windowTo: window.to,
            windowSteps: window.steps, halfLife: window.halfLife, baseSnapshotID: baseRecord?.id,
            toolVersion: Epbctl.version,
            parameters: parametersJSON.render()))
        report = try SnapshotReport(record)
        report.parameters = parametersJSON
        report.distinctRepairs = plan.distinctRepairs
      }
      report.addGroupBounds(loads: window.loads, layerIDs: window.layers)
      let migration = baseRecord.map { MigrationSummary(base: $0.id, layers: migrations) }
      // Layers whose planned peak is above the no-replication peak on the same window (EPLB's
      // greedy packing can be; `robust` never is).
      let aboveNoReplication = report.layers.filter {
        $0.statistics.evaluation.peak > $0.statistics.noReplicationPeak * (1 + 1e-12)
      }.map(\.layer)
      if !aboveNoReplication.isEmpty {
        Output.diagnostic(
          "note: \(plural(aboveNoReplication.count, "layer")) (\(aboveNoReplication.map(String.init).joined(separator: ","))) "
            + "peak above the no-replication placement on this window with \(algorithm.rawValue); "
            + "--algorithm robust never does")
      }
      if json {
        var out = report.json()
        if case .object(var members) = out {
          if let migration { members.append(("migration", migration.json)) }
          members.append(("above_no_replication_layers", .ints(aboveNoReplication)))
          out = .object(members)
        }
        Output.json(out)
        return
      }
      print(report.table())
      if let migration { print(migration.text) }
      let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3
      let stored = report.id.map { "stored as snapshot \($0)" } ?? "not stored (--dry-run)"
      print(
        "planned \(plural(plan.layers.count, "layer")) on steps \(window.from) to \(window.to) (\(plural(window.steps, "step"))) "
          + "in \(String(format: "%.3f", ms)) ms; \(stored)")
    }
  }
}

/// What planning against a base did, for people and scripts.
struct MigrationSummary {
  var base: Int64
  var layers: [LayerMigration]

  private func total(_ counts: (LayerMigration) -> MigrationCounts?) -> MigrationCounts {
    layers.compactMap(counts).reduce(MigrationCounts(), +)
  }

  private func layerIDs(_ decision: LayerMigration.Decision) -> [Int] {
    layers.filter { $0.decision == decision }.map(\.layer)
  }

  var json: JSONValue {
    func counts(_ c: MigrationCounts) -> JSONValue {
      .object([
        ("same_gpu", .int(c.sameGPU)), ("same_node", .int(c.sameNode)), ("cross_node", .int(c.crossNode)),
        ("total", .int(c.total)),
      ])
    }
    let fractions = layers.compactMap(\.fractionOfFullReduction)
    return .object([
      ("base", .int(Int(base))),
      ("moves", counts(total(\.moves))),
      ("moves_without_relabelling", counts(total(\.movesUnrelabelled))),
      ("replanned_layers", .ints(layerIDs(.replanned))),
      ("kept_base_layers", .ints(layerIDs(.keptBase))),
      ("incremental_layers", .ints(layerIDs(.incremental))),
      ("layers_without_base", .ints(layerIDs(.noBase))),
      ("replica_moves", .int(layers.compactMap(\.replicaMoves).reduce(0, +))),
      (
        "fraction_of_full_reduction_mean",
        fractions.isEmpty ? .null : .number(fractions.reduce(0, +) / Double(fractions.count))
      ),
    ])
  }

  var text: String {
    let moves = total(\.moves), raw = total(\.movesUnrelabelled)
    var lines = [
      "base: snapshot \(base); weights to move: \(moves.total) (\(moves.sameGPU) same GPU, \(moves.sameNode) same node, "
        + "\(moves.crossNode) cross node); without relabelling: \(raw.total) (\(raw.crossNode) cross node)"
    ]
    let kept = layerIDs(.keptBase)
    if !kept.isEmpty {
      lines.append("kept the base (gain below --min-gain) for layers: \(kept.map(String.init).joined(separator: ","))")
    }
    let incremental = layers.filter { $0.decision == .incremental }
    if !incremental.isEmpty {
      let fractions = incremental.compactMap(\.fractionOfFullReduction)
      let mean =
        fractions.isEmpty ? "n/a" : String(format: "%.1f%%", 100 * fractions.reduce(0, +) / Double(fractions.count))
      lines.append(
        "incremental: \(plural(incremental.compactMap(\.replicaMoves).reduce(0, +), "replica move")) over \(plural(incremental.count, "layer")) "
          + "reach on average \(mean) of the full plan's peak reduction")
    }
    return lines.joined(separator: "\n")
  }
}

extension SnapshotRecord {
  /// The algorithm for statistics (an imported placement uses deepseek's for its baseline) and
  /// the name to print.
  func plannerAlgorithm() throws -> (algorithm: PlacementAlgorithm, label: String) {
    if algorithm == Planner.importedAlgorithmName { return (.deepseek, algorithm) }
    guard let known = PlacementAlgorithm(rawValue: algorithm) else {
      throw CommandError("snapshot \(id) was planned with '\(algorithm)', unknown to this epbctl; use a newer one")
    }
    return (known, algorithm)
  }
}

extension SnapshotReport {
  /// The report of a stored snapshot.
  init(_ record: SnapshotRecord) throws {
    let (algorithm, label) = try record.plannerAlgorithm()
    self.init(
      id: record.id, series: record.series, algorithm: algorithm, policy: record.policy,
      window: StepWindow(from: record.windowFrom, to: record.windowTo), halfLife: record.halfLife,
      createdAt: record.createdAt, toolVersion: record.toolVersion, parameters: nil, topology: record.topology,
      layers: record.layers, skippedLayers: record.skippedLayers)
    algorithmLabel = label
  }
}
