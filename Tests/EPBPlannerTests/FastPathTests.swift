import EPBPlanner
import EPBTestSupport
import Testing

/// The planner's fast paths against the exact, step-by-step ones: `Planner.placeLayer` (one
/// sort per node, top-k replication, packing by expert) against `EPLB.rebalance` (eplb.py's
/// steps with torch's tie order), and `Planner.plan`'s statistics (sorted order and group
/// packing shared with the placement, top-k lower bound) against `Planner.statistics`.
@Suite struct FastPathTests {
  static let algorithms: [PlacementAlgorithm] = [.deepseek, .seed]

  /// Loads with many exact ties, near-ties in `Float`, zeros and heavy tails.
  static func loads(_ experts: Int, kind: Int, rng: inout SplitMix64) -> [Double] {
    switch kind {
    case 0: return (0..<experts).map { _ in Double(Int.random(in: 0...3, using: &rng)) }
    case 1: return (0..<experts).map { _ in Double(Int.random(in: 0...40, using: &rng)) * 1000 }
    case 2:
      // Distinct doubles that round to the same Float.
      return (0..<experts).map { _ in 16_777_216 + Double(Int.random(in: 0...6, using: &rng)) * 0.75 }
    case 3: return (0..<experts).map { _ in Double.random(in: 0..<1, using: &rng) }
    default: return (0..<experts).map { _ in (1000 / Double.random(in: 0.02..<1, using: &rng)).rounded() }
    }
  }

  @Test(arguments: PropertyTests.shapes, algorithms)
  func placementMatchesExactPath(shape: PropertyTests.Shape, algorithm: PlacementAlgorithm) {
    var rng = SplitMix64(seed: UInt64(shape.experts * 31 + shape.topology.replicas))
    let t = shape.topology
    let (groups, nodes) = shape.policy == .hierarchical ? (t.groups, t.nodes) : (1, 1)
    for kind in 0..<10 {
      let load = Self.loads(shape.experts, kind: kind % 5, rng: &rng)
      let fast = Planner.placeLayer(load[...], topology: t, policy: shape.policy, algorithm: algorithm)
      let exact = EPLB.rebalanceHierarchical(
        load.map { Float($0) }, replicas: t.replicas, groups: groups, nodes: nodes, gpus: t.gpus,
        algorithm: algorithm)
      #expect(fast.physicalToLogical == exact.physicalToLogical, "\(shape) kind \(kind)")
      #expect(fast.logicalCount == exact.logicalCount, "\(shape) kind \(kind)")
    }
  }

  @Test(arguments: PropertyTests.shapes, algorithms)
  func planStatisticsMatchStandalone(shape: PropertyTests.Shape, algorithm: PlacementAlgorithm) throws {
    var rng = SplitMix64(seed: UInt64(shape.experts * 17 + shape.topology.replicas))
    let t = shape.topology
    let rows = (0..<10).map { Self.loads(shape.experts, kind: $0 % 5, rng: &rng) }
    let loads = LoadMatrix(layers: rows.count, experts: shape.experts, values: rows.flatMap { $0 })
    let plan = try Planner.plan(
      loads, layerIDs: Array(rows.indices), topology: t, policy: shape.policy, algorithm: algorithm)
    for layer in plan.layers {
      let load = rows[layer.layer][...]
      #expect(layer.placement == Planner.placeLayer(load, topology: t, policy: shape.policy, algorithm: algorithm))
      let s = Planner.statistics(
        of: layer.placement, load: load, topology: t, policy: shape.policy, algorithm: algorithm)
      #expect(layer.statistics == s, "\(shape) layer \(layer.layer)")
    }
  }
}
