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
        Sums the window (default: every stored step), plans each requested layer with the chosen
        algorithm, prints the per-layer statistics and stores the result as a snapshot that
        `show`, `diff` and `export` can read. Layers whose window load is all zero are skipped.

        Example:
          epbctl plan --series prod --layer all --window 1000 \\
            --replicas 288 --gpus 32 --nodes 4 --groups 8 --algorithm seed
        """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The series (default: default).")
    var series = "default"

    @Option(help: "A layer id, a list such as 3,5,10-12, or all.")
    var layer: LayerSelection

    @OptionGroup var topology: TopologyOptions

    @OptionGroup var window: WindowOptions

    @Option(help: "deepseek or seed (see `epbctl algorithms`).")
    var algorithm: PlacementAlgorithm = .seed

    @Flag(help: "Plan and print without storing a snapshot.")
    var dryRun = false

    @Flag(help: "Print the snapshot as JSON (the `show --json` form).")
    var json = false

    func run() throws {
      let store = try database.open(create: false)
      let window = try store.windowLoad(series: series, window: self.window.spec, layers: layer.layers)
      let clock = ContinuousClock()
      var plan: EPBPlanner.Plan!
      let elapsed = try clock.measure {
        plan = try Planner.plan(
          window.loads, layerIDs: window.layers, topology: topology.topology, policy: topology.policy,
          algorithm: algorithm)
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
            windowSteps: window.steps, halfLife: window.halfLife, baseSnapshotID: nil, toolVersion: Epbctl.version,
            parameters: parametersJSON.render()))
        report = try SnapshotReport(record)
        report.parameters = parametersJSON
      }
      if json {
        Output.json(report.json())
        return
      }
      print(report.table())
      let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3
      let stored = report.id.map { "stored as snapshot \($0)" } ?? "not stored (--dry-run)"
      print(
        "planned \(plan.layers.count) layer(s) on steps \(window.from)...\(window.to) (\(window.steps) steps) "
          + "in \(String(format: "%.3f", ms)) ms; \(stored)")
    }
  }
}

extension SnapshotReport {
  /// The report of a stored snapshot.
  init(_ record: SnapshotRecord) throws {
    guard let algorithm = PlacementAlgorithm(rawValue: record.algorithm) else {
      throw CommandError("snapshot \(record.id) was planned with '\(record.algorithm)', unknown to this epbctl")
    }
    self.init(
      id: record.id, series: record.series, algorithm: algorithm, policy: record.policy,
      window: StepWindow(from: record.windowFrom, to: record.windowTo), halfLife: record.halfLife,
      createdAt: record.createdAt, toolVersion: record.toolVersion, parameters: nil, topology: record.topology,
      layers: record.layers, skippedLayers: record.skippedLayers)
  }
}
