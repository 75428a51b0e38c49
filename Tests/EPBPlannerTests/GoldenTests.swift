import EPBPlanner
import EPBTestSupport
import Testing

/// Every case of `Tests/Fixtures/golden/` reproduced exactly (see its README).
@Suite struct GoldenTests {
  static let algorithms: [PlacementAlgorithm] = [.deepseek, .eplbDivisor]

  @Test func goldenFolderIsPresent() {
    #expect(Golden.caseNames().count >= 17, "golden cases not found at \(Golden.directory().path)")
  }

  /// Every algorithm meets an expectation independent of its code: eplb.py's or the seed's
  /// output (the golden files, here and in `ReferenceTests`), its original's output
  /// (`PeerGoldenTests`' fixtures), or, for the two without a runnable original, cases worked
  /// by hand (`snake`: `PeerTests.snakeByHand`) and the properties every plan must have
  /// (`robust`: `PropertyTests` over every algorithm, `RobustTests`). A new algorithm fails here
  /// until it is given one of these.
  @Test func everyAlgorithmHasAnIndependentExpectation() throws {
    var golden: Set<PlacementAlgorithm> = []
    for name in Golden.caseNames(kind: "rebalance_experts") {
      let c = try Golden.load(name)
      golden.formUnion(PlacementAlgorithm.allCases.filter { c.expected.result($0.rawValue) != nil })
    }
    #expect(golden == Set(Self.algorithms))
    let originals: [(fixture: String, algorithm: PlacementAlgorithm)] = [
      ("flashlb", .flashlb), ("deepseek_vec", .deepseekVec), ("swift_balancer", .swiftBalancer),
    ]
    let peers = Set(originals.filter { !PeerGoldenTests.cases($0.fixture).isEmpty }.map(\.algorithm))
    let byHandOrByProperty: Set<PlacementAlgorithm> = [.snake, .robust]
    #expect(golden.union(peers).union(byHandOrByProperty) == Set(PlacementAlgorithm.allCases))
  }

  @Test(arguments: Golden.caseNames(kind: "balanced_packing"))
  func balancedPacking(name: String) throws {
    let c = try Golden.load(name)
    let packs = try #require(c.input.numPacks)
    for (row, weight) in c.input.weight.enumerated() {
      let (packIndex, rankInPack) = EPLB.balancedPacking(weight, packs: packs)
      #expect(packIndex == c.expected.packIndex?[row], "\(name) row \(row)")
      #expect(rankInPack == c.expected.rankInPack?[row], "\(name) row \(row)")
    }
  }

  @Test(arguments: Golden.caseNames(kind: "replicate_experts"), algorithms)
  func replicateExperts(name: String, algorithm: PlacementAlgorithm) throws {
    let c = try Golden.load(name)
    let expected = try #require(c.expected.result(algorithm.rawValue))
    let replicas = try #require(c.input.numPhy)
    var mismatched: [Int] = []
    for (row, weight) in c.input.weight.enumerated() {
      let got: EPLB.Replication
      if c.input.dtype == "float32" {
        got = EPLB.replicateExperts(weight.map { Float($0) }, replicas: replicas, algorithm: algorithm)
      } else {
        got = EPLB.replicateExperts(weight, replicas: replicas, algorithm: algorithm)
      }
      if got.physicalToLogical != expected.phy2log[row] || got.rank != expected.rank?[row]
        || got.logicalCount != expected.logcnt[row]
      {
        mismatched.append(row)
      }
    }
    #expect(mismatched == [], "\(name) \(algorithm) rows differ")
  }

  @Test(arguments: Golden.caseNames(kind: "rebalance_experts"), algorithms)
  func rebalanceExperts(name: String, algorithm: PlacementAlgorithm) throws {
    let c = try Golden.load(name)
    let expected = try #require(c.expected.result(algorithm.rawValue))
    let topology = try Self.topology(c)
    let policy: PlacementPolicy = c.input.policy == "global" ? .global : .hierarchical
    var mismatched: [Int] = []
    for (row, weight) in c.input.weight.enumerated() {
      let placement = Planner.placeLayer(weight[...], topology: topology, policy: policy, algorithm: algorithm)
      if placement.physicalToLogical != expected.phy2log[row] || placement.logicalCount != expected.logcnt[row] {
        mismatched.append(row)
      }
      let evaluation = Planner.evaluate(placement, load: weight[...], topology: topology)
      if let layer = expected.layers?[row] {
        #expect(close(evaluation.peak, layer.peak), "\(name) row \(row) peak")
        #expect(close(evaluation.mean, layer.mean), "\(name) row \(row) mean")
        #expect(close(evaluation.balancedness, layer.balancedness), "\(name) row \(row) balancedness")
        #expect(evaluation.gpuLoad.count == layer.gpuLoad.count)
        #expect(zip(evaluation.gpuLoad, layer.gpuLoad).allSatisfy { close($0, $1) }, "\(name) row \(row) gpu_load")
      }
    }
    #expect(mismatched == [], "\(name) \(algorithm) layers differ")
  }

  /// The whole-matrix entry point gives the same placements as the per-layer one.
  @Test(arguments: Golden.caseNames(kind: "rebalance_experts"), algorithms)
  func planMatchesGolden(name: String, algorithm: PlacementAlgorithm) throws {
    let c = try Golden.load(name)
    let expected = try #require(c.expected.result(algorithm.rawValue))
    let topology = try Self.topology(c)
    let rows = c.input.weight
    let loads = LoadMatrix(layers: rows.count, experts: rows[0].count, values: rows.flatMap { $0 })
    let ids = c.input.layerIDs ?? Array(0..<rows.count)
    let policy: PlacementPolicy = c.input.policy == "global" ? .global : .auto
    let plan = try Planner.plan(loads, layerIDs: ids, topology: topology, policy: policy, algorithm: algorithm)
    #expect(plan.skippedLayers == [])
    #expect(plan.layers.map(\.layer) == ids)
    let mismatched = plan.layers.indices.filter {
      plan.layers[$0].placement.physicalToLogical != expected.phy2log[$0]
        || plan.layers[$0].placement.logicalCount != expected.logcnt[$0]
    }
    #expect(plan.layers.count == expected.phy2log.count)
    #expect(mismatched == [], "\(name) \(algorithm) layers differ")
    for layer in plan.layers {
      #expect(layer.statistics.lowerBound <= layer.statistics.evaluation.peak * (1 + 1e-12))
    }
  }

  /// The README example of DeepSeek EPLB, written out.
  @Test func readmeExample() throws {
    let weight: [[Double]] = [
      [90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
      [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27],
    ]
    let topology = Topology(replicas: 16, gpus: 8, nodes: 2, groups: 4)
    let plan = try Planner.plan(
      LoadMatrix(layers: 2, experts: 12, values: weight.flatMap { $0 }), layerIDs: [0, 1], topology: topology,
      policy: .auto, algorithm: .deepseek)
    #expect(plan.policy == .hierarchical)
    #expect(
      plan.layers.map(\.placement.physicalToLogical) == [
        [5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1],
        [7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1],
      ])
    #expect(
      plan.layers.map(\.placement.logicalCount) == [
        [1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1],
        [1, 2, 1, 1, 1, 2, 2, 1, 2, 1, 1, 1],
      ])
  }

  static func topology(_ c: GoldenCase) throws -> Topology {
    Topology(
      replicas: try #require(c.input.replicas), gpus: try #require(c.input.gpus),
      nodes: try #require(c.input.nodes), groups: try #require(c.input.groups))
  }
}

/// Equal within 1e-6 relative (absolute near zero).
func close(_ a: Double, _ b: Double, relative: Double = 1e-6) -> Bool {
  (a - b).magnitude <= relative * max(a.magnitude, b.magnitude, 1e-300)
}
