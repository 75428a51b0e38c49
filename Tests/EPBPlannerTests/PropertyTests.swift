import EPBPlanner
import EPBTestSupport
import Testing

/// Invariants of every plan over random shapes and loads (seeded, so failures reproduce).
@Suite struct PropertyTests {
  struct Shape: CustomStringConvertible, Sendable {
    var experts: Int
    var topology: Topology
    var policy: PlacementPolicy
    var description: String {
      "E\(experts) R\(topology.replicas) G\(topology.gpus) N\(topology.nodes) K\(topology.groups) \(policy)"
    }
  }

  /// Random valid shapes: hierarchical and global, small and DeepSeek-V3 sized.
  static let shapes: [Shape] = {
    var rng = SplitMix64(seed: 42)
    var out: [Shape] = [
      Shape(experts: 256, topology: Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8), policy: .hierarchical),
      Shape(experts: 256, topology: Topology(replicas: 320, gpus: 64, nodes: 8, groups: 8), policy: .hierarchical),
      Shape(experts: 256, topology: Topology(replicas: 288, gpus: 32, nodes: 3, groups: 8), policy: .global),
      Shape(experts: 12, topology: Topology(replicas: 12, gpus: 4, nodes: 2, groups: 4), policy: .hierarchical),
    ]
    while out.count < 24 {
      let nodes = Int.random(in: 1...4, using: &rng)
      let groups = nodes * Int.random(in: 1...4, using: &rng)
      let experts = groups * Int.random(in: 1...8, using: &rng)
      let gpusPerNode = Int.random(in: 1...4, using: &rng)
      let gpus = nodes * gpusPerNode
      // replicas: a multiple of gpus, at least experts; hierarchical also needs logPerNode slots per node.
      let minimum = (experts + gpus - 1) / gpus
      let perGPU = minimum + Int.random(in: 0...3, using: &rng)
      let topology = Topology(replicas: perGPU * gpus, gpus: gpus, nodes: nodes, groups: groups)
      let policy: PlacementPolicy = Bool.random(using: &rng) ? .hierarchical : .global
      if (try? topology.validate(experts: experts, policy: policy)) != nil {
        out.append(Shape(experts: experts, topology: topology, policy: policy))
      }
    }
    return out
  }()

  static func loads(_ experts: Int, kind: Int, rng: inout SplitMix64) -> [Double] {
    switch kind {
    case 0: return Array(repeating: 0, count: experts)
    case 1: return Array(repeating: 1234, count: experts)
    case 2: return (0..<experts).map { _ in Double(Int.random(in: 0...5, using: &rng)) }  // many ties
    default:
      return (0..<experts).map { _ in
        (1000 / Double.random(in: 0.02..<1, using: &rng)).rounded()  // heavy tail
      }
    }
  }

  @Test(arguments: shapes, PlacementAlgorithm.allCases)
  func invariants(shape: Shape, algorithm: PlacementAlgorithm) throws {
    var rng = SplitMix64(seed: UInt64(shape.experts * 7919 + shape.topology.replicas))
    let t = shape.topology
    let e = shape.experts
    for kind in 0..<6 {
      let load = Self.loads(e, kind: kind, rng: &rng)
      let p = Planner.placeLayer(load[...], topology: t, policy: shape.policy, algorithm: algorithm)
      // Every logical expert has a replica, counts sum to R, and logcnt matches phy2log.
      #expect(p.physicalToLogical.count == t.replicas)
      #expect(p.logicalCount.count == e)
      #expect(p.logicalCount.allSatisfy { $0 >= 1 }, "\(shape) kind \(kind)")
      #expect(p.logicalCount.reduce(0, +) == t.replicas)
      #expect(LayerPlacement(physicalToLogical: p.physicalToLogical, experts: e).logicalCount == p.logicalCount)
      // phy2log and log2phy are inverse.
      let l2p = p.logicalToPhysical
      for (expert, slots) in l2p.enumerated() {
        let used = slots.filter { $0 >= 0 }
        #expect(used.count == p.logicalCount[expert])
        #expect(used.allSatisfy { p.physicalToLogical[$0] == expert })
      }
      // Hierarchical: every replica sits on the node that hosts its expert's group.
      if shape.policy == .hierarchical {
        let groupSize = e / t.groups
        let slotsPerNode = t.replicas / t.nodes
        var nodeOfGroup = [Int: Int]()
        var consistent = true
        for (slot, expert) in p.physicalToLogical.enumerated() {
          let node = slot / slotsPerNode
          if let known = nodeOfGroup[expert / groupSize], known != node { consistent = false }
          nodeOfGroup[expert / groupSize] = node
        }
        #expect(consistent, "\(shape) kind \(kind): a group spans nodes")
      }
      // Deterministic.
      #expect(Planner.placeLayer(load[...], topology: t, policy: shape.policy, algorithm: algorithm) == p)
      // Statistics: lower bound ≤ peak; each GPU holds exactly R/G slots by construction.
      let s = Planner.statistics(of: p, load: load[...], topology: t, policy: shape.policy, algorithm: algorithm)
      #expect(s.evaluation.gpuLoad.count == t.gpus)
      #expect(s.lowerBound <= s.evaluation.peak * (1 + 1e-9) + 1e-9, "\(shape) kind \(kind)")
      #expect(s.lowerBound >= s.evaluation.mean * (1 - 1e-12))
      #expect(s.noReplicationPeak >= s.lowerBound * (1 - 1e-9) - 1e-9)
      if kind == 0 {
        #expect(s.evaluation.peak == 0 && s.lowerBound == 0 && s.noReplicationPeak == 0)
        #expect(s.evaluation.balancedness == 1)
      }
      if kind == 1 {
        #expect(s.evaluation.peak >= s.evaluation.mean * (1 - 1e-12))
      }
    }
  }

  /// The no-replication baseline is, by definition, EPLB's placement with replicas = experts:
  /// for every shape where that placement exists and every kind of load (zeros, all equal,
  /// many ties, heavy tail), the baseline equals the peak of that placement, computed apart
  /// by `placeLayer` and `evaluate`. Checked standalone (the baseline sorts each node itself)
  /// and inside `plan` (it reuses the sorted keys of the placement just made).
  @Test(arguments: shapes)
  func noReplicationPeakIsEPLBWithoutRedundancy(shape: Shape) throws {
    let t = shape.topology
    let e = shape.experts
    guard e % t.gpus == 0 else { return }
    let bare = Topology(replicas: e, gpus: t.gpus, nodes: t.nodes, groups: t.groups)
    guard (try? bare.validate(experts: e, policy: shape.policy)) != nil else { return }
    var rng = SplitMix64(seed: UInt64(e * 31 + t.gpus))
    for kind in 0..<6 {
      let load = Self.loads(e, kind: min(kind, 3), rng: &rng)
      let expected = Planner.evaluate(
        Planner.placeLayer(load[...], topology: bare, policy: shape.policy, algorithm: .deepseek), load: load[...],
        topology: bare
      ).peak
      let p = Planner.placeLayer(load[...], topology: t, policy: shape.policy, algorithm: .deepseek)
      let standalone = Planner.statistics(
        of: p, load: load[...], topology: t, policy: shape.policy, algorithm: .deepseek)
      #expect(standalone.noReplicationPeak == expected, "\(shape), kind \(kind)")
      if kind == 0 { continue }  // (`plan` skips all-zero layers)
      let plan = try Planner.plan(
        LoadMatrix(layers: 1, experts: e, values: load), layerIDs: [0], topology: t, policy: shape.policy,
        algorithm: .deepseek)
      #expect(plan.layers.first?.statistics.noReplicationPeak == expected, "\(shape), kind \(kind), plan")
    }
  }

  /// Replication helps on skewed real-like loads: the no-replication peak is not below the peak
  /// for the DeepSeek-V3 shape (typical, checked on fixed seeds only).
  @Test func replicationTypicallyLowersThePeak() throws {
    var rng = SplitMix64(seed: 11)
    let t = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    let rows = (0..<8).map { _ in Self.loads(256, kind: 3, rng: &rng) }
    let plan = try Planner.plan(
      LoadMatrix(layers: 8, experts: 256, values: rows.flatMap { $0 }), layerIDs: Array(0..<8), topology: t,
      policy: .auto, algorithm: .deepseek)
    #expect(plan.summary.noReplicationBalancednessWeighted <= plan.summary.balancednessWeighted)
    #expect(plan.summary.balancednessWeighted <= plan.summary.lowerBoundBalancednessWeighted)
  }

  /// The lower bound is D'Hondt's optimum: it equals the max load per replica of the global
  /// DeepSeek replication (same greedy) and is attained by no fewer replicas.
  @Test func lowerBoundIsTheGreedyOptimum() {
    let weight: [Double] = [90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86]
    let t = Topology(replicas: 16, gpus: 16, nodes: 1, groups: 1)
    let p = Planner.placeLayer(weight[...], topology: t, policy: .global, algorithm: .deepseek)
    let s = Planner.statistics(of: p, load: weight[...], topology: t, policy: .global, algorithm: .deepseek)
    let perReplica = zip(weight, p.logicalCount).map { $0 / Double($1) }.max()!
    #expect(perReplica == 91.5)
    #expect(s.lowerBound == max(weight.reduce(0, +) / 16, perReplica))
  }

  /// A row of `n` loads for the greedy checks, by `trial % 3`: few distinct integers (many
  /// ties, zeros), uniform reals, or a heavy tail of integers.
  static func greedyRow(_ n: Int, trial: Int, rng: inout SplitMix64) -> [Double] {
    switch trial % 3 {
    case 0: (0..<n).map { _ in Double(Int.random(in: 0...3, using: &rng)) }
    case 1: (0..<n).map { _ in Double.random(in: 0..<100, using: &rng) }
    default: (0..<n).map { _ in (1000 / Double.random(in: 0.05..<1, using: &rng)).rounded() }
    }
  }

  /// D'Hondt's definition as a plain scan: one replica each, then each further one to the
  /// first maximum of weight / count. Returns the counts, `[weights.count]`.
  static func plainDHondt(_ weights: [Double], replicas: Int) -> [Int] {
    var counts = Array(repeating: 1, count: weights.count)
    for _ in 0..<max(0, replicas - weights.count) {
      var best = 0
      for i in 1..<weights.count where weights[i] / Double(counts[i]) > weights[best] / Double(counts[best]) {
        best = i
      }
      counts[best] += 1
    }
    return counts
  }

  /// EPLB's greedy replication in `Double` (D'Hondt on a heap) against `plainDHondt`.
  @Test(arguments: [8, 64, 72, 256, 288])
  func doubleReplicationMatchesItsDefinition(n: Int) {
    var rng = SplitMix64(seed: UInt64(n * 100))
    for trial in 0..<60 {
      let weights = Self.greedyRow(n, trial: trial, rng: &rng)
      let picks = Int.random(in: 0...(2 * n), using: &rng)
      #expect(
        EPLB.replicateExperts(weights, replicas: n + picks, algorithm: .deepseek).logicalCount
          == Self.plainDHondt(weights, replicas: n + picks),
        "trial \(trial)")
    }
  }

  /// The lower bound's t* (D'Hondt on a heap) against its definition, the largest
  /// weight / count after `plainDHondt`. One slot per GPU makes the bound t* itself (the mean
  /// never exceeds it).
  @Test(arguments: [8, 64, 256])
  func lowerBoundMatchesThePlainGreedy(experts n: Int) {
    var rng = SplitMix64(seed: UInt64(n))
    // 30 random rows, then an all-zero and an all-equal one (no expert above the mean).
    for trial in 0..<32 {
      let weight =
        trial < 30 ? Self.greedyRow(n, trial: trial, rng: &rng) : Array(repeating: trial == 30 ? 0 : 7, count: n)
      for replicas in [n, n + 1, n + 7, 2 * n, 3 * n + 5] {
        let counts = Self.plainDHondt(weight, replicas: replicas)
        let expected = (0..<n).map { weight[$0] / Double(counts[$0]) }.max()!
        let t = Topology(replicas: replicas, gpus: replicas, nodes: 1, groups: 1)
        let p = Planner.placeLayer(weight[...], topology: t, policy: .global, algorithm: .deepseek)
        let s = Planner.statistics(of: p, load: weight[...], topology: t, policy: .global, algorithm: .deepseek)
        #expect(s.lowerBound == expected, "trial \(trial), \(replicas) replicas")
      }
    }
  }

  /// Skipped layers: all-zero rows are listed, not planned.
  @Test func zeroLayersAreSkipped() throws {
    var values = Array(repeating: 0.0, count: 3 * 16)
    for e in 0..<16 { values[16 + e] = Double(e + 1) }
    let plan = try Planner.plan(
      LoadMatrix(layers: 3, experts: 16, values: values), layerIDs: [5, 6, 7],
      topology: Topology(replicas: 24, gpus: 4, nodes: 2, groups: 4), policy: .auto, algorithm: .eplbDivisor)
    #expect(plan.skippedLayers == [5, 7])
    #expect(plan.layers.map(\.layer) == [6])
  }
}
