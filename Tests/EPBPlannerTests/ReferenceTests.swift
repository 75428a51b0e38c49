import EPBPlanner
import EPBTestSupport
import Testing

/// `EPLBReference`, the readable port of eplb.py and the seed, is the specification: it
/// reproduces every golden case (eplb.py's own output), and the fast planner gives the same
/// placements as it on every shape and load kind the fast path's tests use.
@Suite struct ReferenceTests {
  /// The algorithms whose placement is eplb.py's steps (the golden files hold their outputs).
  static let eplbAlgorithms = PlacementAlgorithm.allCases.filter { $0 == .deepseek || $0 == .eplbDivisor }

  @Test(arguments: Golden.caseNames(kind: "balanced_packing"))
  func balancedPackingIsEPLBs(name: String) throws {
    let c = try Golden.load(name)
    let packs = try #require(c.input.numPacks)
    for (row, weight) in c.input.weight.enumerated() {
      let (packIndex, rankInPack) = EPLBReference.balancedPacking(weight, packs: packs)
      #expect(packIndex == c.expected.packIndex?[row], "\(name) row \(row)")
      #expect(rankInPack == c.expected.rankInPack?[row], "\(name) row \(row)")
    }
  }

  @Test(arguments: Golden.caseNames(kind: "replicate_experts"), eplbAlgorithms)
  func replicationIsEPLBsAndTheSeeds(name: String, algorithm: PlacementAlgorithm) throws {
    let c = try Golden.load(name)
    let expected = try #require(c.expected.result(algorithm.rawValue))
    let replicas = try #require(c.input.numPhy)
    for (row, weight) in c.input.weight.enumerated() {
      let got =
        c.input.dtype == "float32"
        ? EPLBReference.replicateExperts(weight.map { Float($0) }, replicas: replicas, algorithm: algorithm)
        : EPLBReference.replicateExperts(weight, replicas: replicas, algorithm: algorithm)
      #expect(got.phy2log == expected.phy2log[row], "\(name) \(algorithm) row \(row) phy2log")
      #expect(got.phyrank == expected.rank?[row], "\(name) \(algorithm) row \(row) rank")
      #expect(got.logcnt == expected.logcnt[row], "\(name) \(algorithm) row \(row) logcnt")
    }
  }

  @Test(arguments: Golden.caseNames(kind: "rebalance_experts"), eplbAlgorithms)
  func rebalanceIsEPLBsAndTheSeeds(name: String, algorithm: PlacementAlgorithm) throws {
    let c = try Golden.load(name)
    let expected = try #require(c.expected.result(algorithm.rawValue))
    let (replicas, groups, nodes, gpus) = try (
      #require(c.input.replicas), #require(c.input.groups), #require(c.input.nodes), #require(c.input.gpus)
    )
    var mismatched: [Int] = []
    for (row, weight) in c.input.weight.enumerated() {
      // eplb.py: weight.float(); the global policy when groups % nodes != 0 (or asked for).
      let (g, n) = c.input.policy == "global" ? (1, 1) : (groups, nodes)
      let got = EPLBReference.rebalanceExperts(
        weight.map { Float($0) }, replicas: replicas, groups: g, nodes: n, gpus: gpus, algorithm: algorithm)
      if got.phy2log != expected.phy2log[row] || got.logcnt != expected.logcnt[row] { mismatched.append(row) }
    }
    #expect(mismatched == [], "\(name) \(algorithm) layers differ from eplb.py")
  }

  /// The fast planner (`Planner.placeLayer`, what `plan` runs) against the reference on the
  /// property shapes (hierarchical and global, 12 to 512 experts) and ten load kinds (ties,
  /// near-ties in Float, zeros, heavy tails): the same `phy2log` and `logcnt` every time.
  @Test(arguments: PropertyTests.shapes, eplbAlgorithms)
  func fastPathIsTheReference(shape: PropertyTests.Shape, algorithm: PlacementAlgorithm) {
    var rng = SplitMix64(seed: UInt64(shape.experts * 131 + shape.topology.replicas))
    let t = shape.topology
    let (groups, nodes) = shape.policy == .hierarchical ? (t.groups, t.nodes) : (1, 1)
    for kind in 0..<10 {
      let load = FastPathTests.loads(shape.experts, kind: kind % 5, rng: &rng)
      let fast = Planner.placeLayer(load[...], topology: t, policy: shape.policy, algorithm: algorithm)
      let reference = EPLBReference.rebalanceExperts(
        load.map { Float($0) }, replicas: t.replicas, groups: groups, nodes: nodes, gpus: t.gpus, algorithm: algorithm)
      #expect(fast.physicalToLogical == reference.phy2log, "\(shape) kind \(kind)")
      #expect(fast.logicalCount == reference.logcnt, "\(shape) kind \(kind)")
    }
  }

  /// A hand-worked case of the seed's three phases, read off the Python: loads [9, 3] to 4
  /// slots (2 added). tail = max(1, (2 + 9) // 10) = 1, bulk = 1: D'Hondt gives expert 0 (9/1 > 3/1).
  /// Tail, r = [2, 1], averages [4.5, 3], second = 3: Sainte-Laguë's benefits 9/3 and 3/1 tie at
  /// 3 and the tie goes to the smaller average, expert 1 (new average 1.5, peak max(3, 1.5) = 3);
  /// Huntington–Hill's 9/√6 ≈ 3.67 beats 3/√2 ≈ 2.12, expert 0 (new average 3, peak 3). The
  /// peaks tie and S's new average is the smaller, so expert 1 gets slot 3: logcnt [2, 2].
  /// Fix-up: averages [4.5, 1.5], donors (0, 1), receivers (1, 0), second = 1.5. Donor 0 to 1:
  /// {1.5, 9/1, 3/3} peaks at 9, no better than 4.5. Donor 1 to 0: {1.5, 3/1, 9/3} peaks at
  /// 3 < 4.5: applied, on expert 1's highest-ranked slot (3), which becomes expert 0's rank 2.
  @Test func seedPhasesOnAHandCase() {
    let got = EPLBReference.replicateExperts([9.0, 3.0], replicas: 4, algorithm: .eplbDivisor)
    #expect(got.phy2log == [0, 1, 0, 0])
    #expect(got.phyrank == [0, 0, 1, 2])
    #expect(got.logcnt == [3, 1])
    // The same through the fast path.
    let fast = EPLB.replicateExperts([9.0, 3.0], replicas: 4, algorithm: .eplbDivisor)
    #expect(fast.physicalToLogical == got.phy2log && fast.rank == got.phyrank && fast.logicalCount == got.logcnt)
    // eplb.py's greedy: 9/1, then 9/2 = 4.5 > 3, both to expert 0.
    #expect(EPLBReference.replicateExperts([9.0, 3.0], replicas: 4, algorithm: .deepseek).phy2log == [0, 1, 0, 0])
  }
}
