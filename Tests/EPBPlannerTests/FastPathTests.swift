import EPBPlanner
import EPBTestSupport
import Testing

/// The planner's fast paths against the exact, step-by-step ones: `Planner.placeLayer` (one
/// sort per node, top-k replication, packing by expert) against `EPLB.rebalance` (eplb.py's
/// steps with torch's tie order), and `Planner.plan`'s statistics (sorted order and group
/// packing shared with the placement, top-k lower bound) against `Planner.statistics`.
@Suite struct FastPathTests {
  static let algorithms: [PlacementAlgorithm] = [.deepseek, .eplbDivisor]

  /// Loads with many exact ties, near-ties in `Float`, zeros and heavy tails.
  static func loads(_ experts: Int, kind: Int, rng: inout SplitMix64) -> [Double] {
    switch kind {
    case 0: return (0..<experts).map { _ in Double(Int.random(in: 0...3, using: &rng)) }
    case 1: return (0..<experts).map { _ in Double(Int.random(in: 0...40, using: &rng)) * 1000 }
    case 2:
      // Distinct doubles that round to the same Float.
      return (0..<experts).map { _ in 16_777_216 + Double(Int.random(in: 0...6, using: &rng)) * 0.75 }
    case 3: return (0..<experts).map { _ in Double.random(in: 0..<1, using: &rng) }
    case 5:
      // Heavy tail with idle experts: a strict top, ties at the bottom (the seed's fix-up
      // receivers, in torch's tie order).
      return (0..<experts).map { _ in
        Int.random(in: 0..<8, using: &rng) == 0 ? 0 : (1000 / Double.random(in: 0.02..<1, using: &rng)).rounded()
      }
    case 6:
      // Heavy tail whose two lightest experts tie: the fix-up's two receivers are equal, and a
      // move to one of them breaks the tie (torch's order decides which).
      var row = (0..<experts).map { _ in (1000 / Double.random(in: 0.02..<1, using: &rng)).rounded() }
      let a = Int.random(in: 0..<experts, using: &rng)
      let b = (a + 1 + Int.random(in: 0..<(experts - 1), using: &rng)) % experts
      row[a] = 1
      row[b] = 1
      return row
    default: return (0..<experts).map { _ in (1000 / Double.random(in: 0.02..<1, using: &rng)).rounded() }
    }
  }

  /// `Planner.placeLayer` (fast path) against `EPLB.rebalanceHierarchical` (eplb.py's steps,
  /// torch's tie order) on one row; returns the exact placement.
  @discardableResult
  static func expectFastMatchesExact(
    _ load: [Double], _ t: Topology, _ policy: PlacementPolicy, _ algorithm: PlacementAlgorithm,
    _ comment: Comment? = nil
  ) -> EPLB.Rebalance {
    let (groups, nodes) = policy == .hierarchical ? (t.groups, t.nodes) : (1, 1)
    let fast = Planner.placeLayer(load[...], topology: t, policy: policy, algorithm: algorithm)
    let exact = EPLB.rebalanceHierarchical(
      load.map { Float($0) }, replicas: t.replicas, groups: groups, nodes: nodes, gpus: t.gpus, algorithm: algorithm)
    #expect(fast.physicalToLogical == exact.physicalToLogical, comment)
    #expect(fast.logicalCount == exact.logicalCount, comment)
    return exact
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

  /// `Planner.placeLayers` (one scratch for every row) against the exact path row by row:
  /// nothing of one row's placement may leak into the next. The rows mix the load kinds, an
  /// all-zero row, and a row with negative loads (outside `LoadMatrix`'s contract, but the
  /// fast path must then hand the node to the exact path, not pack it with keys that assume
  /// non-negative weights).
  @Test(arguments: PropertyTests.shapes, algorithms)
  func placeLayersMatchesExactPathRowByRow(shape: PropertyTests.Shape, algorithm: PlacementAlgorithm) throws {
    var rng = SplitMix64(seed: UInt64(shape.experts * 13 + shape.topology.replicas))
    let t = shape.topology
    let (groups, nodes) = shape.policy == .hierarchical ? (t.groups, t.nodes) : (1, 1)
    var rows = (0..<12).map { Self.loads(shape.experts, kind: $0 % 7, rng: &rng) }
    rows.append([Double](repeating: 0, count: shape.experts))
    rows.append((0..<shape.experts).map { _ in Double(Int.random(in: -5...5, using: &rng)) })
    let loads = LoadMatrix(layers: rows.count, experts: shape.experts, values: rows.flatMap { $0 })
    let placed = try Planner.placeLayers(loads, topology: t, policy: shape.policy, algorithm: algorithm)
    #expect(placed.count == rows.count)
    for (row, load) in rows.enumerated() {
      let exact = EPLB.rebalanceHierarchical(
        load.map { Float($0) }, replicas: t.replicas, groups: groups, nodes: nodes, gpus: t.gpus,
        algorithm: algorithm)
      #expect(placed[row].physicalToLogical == exact.physicalToLogical, "\(shape) row \(row)")
      #expect(placed[row].logicalCount == exact.logicalCount, "\(shape) row \(row)")
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

  /// Global layers with a few ties between different experts' loads per replica, the case
  /// `EPLB.placeTiedNode` handles (torch's order emulated only in the ranges where a tie can
  /// fall, the rest read from the merged order): distinct heavy-tailed loads where one to four
  /// experts take another's load (a lighter one's, so the pair stays on one replica each,
  /// or a heavier one's halved or thirded, so it ties with a replica of a multi-replica
  /// expert), three-way ties, and many ties (more than the 32 it tracks), on 9 to 32 GPUs.
  @Test(arguments: [9, 12, 16, 24, 32], algorithms)
  func tiedGlobalLayersMatchExactPath(gpus: Int, algorithm: PlacementAlgorithm) {
    var rng = SplitMix64(seed: UInt64(gpus * 7 + (algorithm == .eplbDivisor ? 1 : 0)))
    for trial in 0..<40 {
      let experts = [64, 128, 256][trial % 3]
      let perGPU = (experts + gpus - 1) / gpus + Int.random(in: 1...2, using: &rng)
      let t = Topology(replicas: perGPU * gpus, gpus: gpus, nodes: 1, groups: 1)
      var load = (0..<experts).map { _ in (1000 / Double.random(in: 0.02..<1, using: &rng)).rounded() }
      let ties = trial % 10 == 9 ? experts / 2 : 1 + trial % 4
      for _ in 0..<ties {
        let a = Int.random(in: 0..<experts, using: &rng), b = Int.random(in: 0..<experts, using: &rng)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: load[a] = load[b]
        case 1: load[a] = (load[b] / 2).rounded(.down) * 2 == load[b] ? load[b] / 2 : load[a]
        case 2: load[a] = (load[b] / 3).rounded(.down) * 3 == load[b] ? load[b] / 3 : load[a]
        default:
          load[a] = load[b]
          load[Int.random(in: 0..<experts, using: &rng)] = load[b]
        }
      }
      Self.expectFastMatchesExact(load, t, .global, algorithm, "\(gpus) GPUs, trial \(trial)")
    }
  }

  /// The seed's Huntington–Hill pick when `w / √2` rounds two different loads to one `Float`:
  /// the seed's `_argmax_tiebreak` then takes the smaller current average, i.e. the lighter
  /// expert, not the first in load order. Hand-built: `x⁺ > x` with `x⁺/√2 == x/√2` (x ≈ 1),
  /// B = 1.6 and five light experts; 10 slots on 5 GPUs, so 2 redundant replicas: a bulk of one
  /// (D'Hondt: B, the heaviest) and a tail of one. In the tail the second-highest average is
  /// x; Sainte-Laguë proposes x⁺ (x⁺ / 1 beats B's 1.6 / 3), Huntington–Hill the run {x⁺, x}
  /// of equal w/√2 (above B's 1.6/√6 ≈ 0.65) and takes the lighter, x. Both predict the peak
  /// x, so the smaller new average wins: x. The fix-up's only donor with two replicas is B
  /// (1.6 → 1.6 > x⁺), so nothing moves: counts B 2, x 2.
  @Test func seedHuntingtonHillTieOnRoundedValuesGoesToTheLighterExpert() throws {
    let root2 = Float(2).squareRoot()
    var x: Float = 1.0
    while x / root2 != x.nextUp / root2 { x = x.nextUp }
    let load: [Double] = [0.03, Double(x.nextUp), 0.05, Double(x), 0.07, 0.11, 1.6, 0.17]
    let exact = Self.expectFastMatchesExact(
      load, Topology(replicas: 10, gpus: 5, nodes: 1, groups: 1), .global, .eplbDivisor)
    #expect(exact.logicalCount == [1, 1, 1, 2, 1, 1, 2, 1])
  }

  /// The seed's counts-only shortcut (`EPLB.seedCounts`) against the exact path on DeepSeek-V3
  /// shapes, many rows: heavy-tailed and uniform loads (the shortcut runs), heavy-tailed with
  /// idle experts or two tied lightest ones (ties among the fix-up's receivers) and tie-heavy
  /// ones (it must hand over to `replicate`), several tail lengths (R288 / 4 nodes: 8 redundant per
  /// node; global R320: 64 redundant, a tail of 7).
  @Test(arguments: [
    (Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), PlacementPolicy.hierarchical),
    (Topology(replicas: 320, gpus: 64, nodes: 8, groups: 8), .hierarchical),
    (Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), .global),
    (Topology(replicas: 320, gpus: 32, nodes: 4, groups: 8), .global),
  ])
  func seedShortcutMatchesExactPath(topology t: Topology, policy: PlacementPolicy) {
    var rng = SplitMix64(seed: UInt64(t.replicas * 7 + t.gpus))
    for trial in 0..<150 {
      let load = Self.loads(256, kind: [3, 4, 5, 6, 0, 6][trial % 6], rng: &rng)
      Self.expectFastMatchesExact(load, t, policy, .eplbDivisor, "trial \(trial)")
    }
  }

  /// The seed's fix-up with two equal receivers: torch's top-k order decides which one gets the
  /// moved replica, and the shortcut must defer to it. Loads [9, 4, 20, 4] to 6 slots on 3
  /// GPUs: the bulk gives 20 a second replica, the tail gives 9 one (Sainte-Laguë; both
  /// predict the peak 9, its new average 4.5 is the smaller), so the averages are
  /// (4.5, 4, 10, 4). The fix-up moves a replica of expert 0 (9 < 10) to one of the two
  /// experts at 4, both equally good, so the first of torch's bottom two takes it (here
  /// expert 1: for 4 values torch's `nth_element` is an insertion sort, index order).
  @Test func seedFixUpReceiverTieFollowsTorch() {
    let exact = Self.expectFastMatchesExact(
      [9, 4, 20, 4], Topology(replicas: 6, gpus: 3, nodes: 1, groups: 1), .global, .eplbDivisor)
    #expect(exact.logicalCount == [1, 2, 2, 1], "the fix-up moved a replica of expert 0 to expert 1")
  }

  /// A tie in a node sends the fast path to torch's sort of the replicas in column order, which
  /// it rebuilds from the picks it recorded (for the seed: the bulk's, then the tail's).
  /// Distinct loads, one of them half the largest, tie often on small shapes (thousands of
  /// tied nodes over 1,500 rows per shape), against the exact path, both algorithms.
  @Test(arguments: [
    (8, Topology(replicas: 12, gpus: 2, nodes: 1, groups: 1), PlacementPolicy.global),
    (16, Topology(replicas: 24, gpus: 4, nodes: 2, groups: 4), .hierarchical),
    (12, Topology(replicas: 30, gpus: 3, nodes: 1, groups: 1), .global),
  ])
  func tiedNodesFollowTheRecordedColumns(experts: Int, topology t: Topology, policy: PlacementPolicy) {
    var rng = SplitMix64(seed: UInt64(experts * 1000 + t.replicas))
    for trial in 0..<1500 {
      // Distinct loads (so the seed's shortcut holds), one of them half the largest (so a
      // tie of load per replica is likely once the largest has two replicas).
      var load = Array(Set((0..<(4 * experts)).map { _ in Int.random(in: 10...400, using: &rng) })).sorted()
        .shuffled(using: &rng).prefix(experts).map { Double($0 * 2) }
      let top = load.indices.max { load[$0] < load[$1] }!
      load[(top + 1 + trial % (experts - 1)) % experts] = load[top] / 2
      for algorithm in Self.algorithms {
        Self.expectFastMatchesExact(load, t, policy, algorithm, "trial \(trial) \(algorithm) \(load)")
      }
    }
  }

  /// The one row in 200,000 random small ones (found by instrumenting the shortcut) where the
  /// seed's shortcut holds, its fix-up moves a replica, and the node has a tie of load per
  /// replica between two experts: torch's column order then has the fix-up's receiver in
  /// place of the donor's last column, and the tied replicas' order depends on it.
  @Test func seedFixUpColumnUnderATie() {
    let load: [Double] = [4, 22, 22, 8, 8, 5, 7, 5, 1, 16]
    Self.expectFastMatchesExact(load, Topology(replicas: 20, gpus: 4, nodes: 1, groups: 1), .global, .eplbDivisor)
  }
}
