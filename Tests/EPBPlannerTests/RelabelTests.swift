import EPBPlanner
import EPBTestSupport
import Testing

/// Test-side helpers, written independently of `Relabel`.
enum RelabelCheck {
  /// Moves from `base` to `new` by source class, scanning `base` slot by slot (`diff`'s rule).
  static func moves(_ base: [Int], _ new: [Int], _ t: Topology) -> MoveCounts {
    var c = MoveCounts()
    for s in 0..<base.count where base[s] != new[s] {
      let g = t.gpu(ofSlot: s)
      let holders = base.indices.filter { base[$0] == new[s] }
      if holders.contains(where: { t.gpu(ofSlot: $0) == g }) {
        c.sameGPU += 1
      } else if holders.contains(where: { t.node(ofGPU: t.gpu(ofSlot: $0)) == t.node(ofGPU: g) }) {
        c.sameNode += 1
      } else {
        c.crossNode += 1
      }
    }
    return c
  }

  /// Each GPU's slot contents, sorted: `[gpus][slotsPerGPU]`.
  static func contents(_ p2l: [Int], _ t: Topology) -> [[Int]] {
    let per = t.slotsPerGPU
    return (0..<t.gpus).map { g in p2l[(g * per)..<((g + 1) * per)].sorted() }
  }

  /// A random `phy2log` in which every expert has at least one replica.
  static func randomPlacement(experts: Int, replicas: Int, using rng: inout SplitMix64) -> LayerPlacement {
    var p2l = Array(0..<experts)
    while p2l.count < replicas { p2l.append(Int.random(in: 0..<experts, using: &rng)) }
    p2l.shuffle(using: &rng)
    return LayerPlacement(physicalToLogical: p2l, experts: experts)
  }

  /// `p2l` with GPU g's contents moved to GPU `gpuPerm[g]` and each GPU's slots rotated by `shift`.
  static func permuted(_ p2l: [Int], gpuPerm: [Int], shift: Int, _ t: Topology) -> [Int] {
    let per = t.slotsPerGPU
    var out = p2l
    for g in 0..<t.gpus {
      for k in 0..<per { out[gpuPerm[g] * per + (k + shift) % per] = p2l[g * per + k] }
    }
    return out
  }

  /// Every slot permutation of a `per`-slot GPU, each as a list of offsets.
  static func slotOrders(_ per: Int) -> [[Int]] { allPermutations(per) }
}

@Suite struct RelabelTests {
  static let tiny = Topology(replicas: 8, gpus: 4, nodes: 2, groups: 2)
  static let small = Topology(replicas: 12, gpus: 6, nodes: 3, groups: 3)
  static let medium = Topology(replicas: 48, gpus: 8, nodes: 2, groups: 4)

  @Test(arguments: [PlacementPolicy.hierarchical, .global])
  func perGPULoadsAndLogcntAreIdentical(policy: PlacementPolicy) throws {
    var rng = SplitMix64(seed: 1)
    let t = Self.medium
    for _ in 0..<30 {
      let base = RelabelCheck.randomPlacement(experts: 16, replicas: 48, using: &rng)
      let new = RelabelCheck.randomPlacement(experts: 16, replicas: 48, using: &rng)
      let r = try Relabel.minimizeMoves(new, base: base, topology: t, policy: policy)
      #expect(r.placement.logicalCount == new.logicalCount)
      #expect(
        r.placement.logicalCount
          == LayerPlacement(physicalToLogical: r.placement.physicalToLogical, experts: 16)
          .logicalCount)
      // Same multiset of contents per GPU, up to the GPU permutation the result reports.
      let before = RelabelCheck.contents(new.physicalToLogical, t)
      let after = RelabelCheck.contents(r.placement.physicalToLogical, t)
      #expect(after == r.sourceGPU.map { before[$0] })
      // Exact loads: multiples of 720720 = lcm(1...16) make every load[e] / logcnt[e] an integer,
      // so GPU sums are exact in any order and must be bit-identical.
      let exact = (0..<16).map { _ in Double(Int.random(in: 0...1000, using: &rng) * 720_720) }
      let le = Planner.evaluate(new, load: exact[...], topology: t)
      let re = Planner.evaluate(r.placement, load: exact[...], topology: t)
      #expect(re.gpuLoad == r.permuteGPUValues(le.gpuLoad))
      #expect(re.peak == le.peak)
      // Arbitrary real loads: equal up to summation order.
      let real = (0..<16).map { _ in Double.random(in: 0..<1e6, using: &rng) }
      let lr = Planner.evaluate(new, load: real[...], topology: t).gpuLoad
      let rr = Planner.evaluate(r.placement, load: real[...], topology: t).gpuLoad
      for (a, b) in zip(rr, r.permuteGPUValues(lr)) { #expect(abs(a - b) <= 1e-9 * max(1, abs(a))) }
    }
  }

  @Test(arguments: [PlacementPolicy.hierarchical, .global])
  func neverWorseAndCountsMatchTheDiffRule(policy: PlacementPolicy) throws {
    var rng = SplitMix64(seed: 2)
    let t = Self.medium
    for _ in 0..<30 {
      let base = RelabelCheck.randomPlacement(experts: 16, replicas: 48, using: &rng)
      let new = RelabelCheck.randomPlacement(experts: 16, replicas: 48, using: &rng)
      let r = try Relabel.minimizeMoves(new, base: base, topology: t, policy: policy)
      #expect(r.movesBefore == RelabelCheck.moves(base.physicalToLogical, new.physicalToLogical, t))
      #expect(r.movesAfter == RelabelCheck.moves(base.physicalToLogical, r.placement.physicalToLogical, t))
      #expect(r.costAfter <= r.costBefore)
      // With every move priced 1 the objective is the changed-slot count, which then cannot grow.
      let u = try Relabel.minimizeMoves(new, base: base, topology: t, policy: policy, weights: .uniform)
      #expect(u.movesAfter.total <= u.movesBefore.total)
      #expect(u.movesAfter.total <= r.movesAfter.total)
    }
  }

  @Test(arguments: [PlacementPolicy.hierarchical, .global])
  func againstItselfIsZeroMovesAndIdentity(policy: PlacementPolicy) throws {
    var rng = SplitMix64(seed: 3)
    let base = RelabelCheck.randomPlacement(experts: 16, replicas: 48, using: &rng)
    let r = try Relabel.minimizeMoves(base, base: base, topology: Self.medium, policy: policy)
    #expect(r.movesAfter == MoveCounts())
    #expect(r.placement == base)
    #expect(r.sourceGPU == Array(0..<8))
  }

  @Test(arguments: [PlacementPolicy.hierarchical, .global])
  func permutedCopyRelabelsBackToBase(policy: PlacementPolicy) throws {
    var rng = SplitMix64(seed: 4)
    let t = Self.medium  // 2 nodes of 4 GPUs, 6 slots each
    for trial in 0..<20 {
      let base = RelabelCheck.randomPlacement(experts: 16, replicas: 48, using: &rng)
      // Swap the two nodes, shuffle GPUs inside each node (allowed by both policies), rotate slots.
      let inNode0 = Array(0..<4).shuffled(using: &rng), inNode1 = Array(0..<4).shuffled(using: &rng)
      let gpuPerm = inNode0.map { 4 + $0 } + inNode1
      let copy = LayerPlacement(
        physicalToLogical: RelabelCheck.permuted(base.physicalToLogical, gpuPerm: gpuPerm, shift: trial % 6, t),
        logicalCount: base.logicalCount)
      let r = try Relabel.minimizeMoves(copy, base: base, topology: t, policy: policy)
      #expect(r.movesAfter == MoveCounts(), "trial \(trial)")
      #expect(r.placement == base)
      #expect(r.movesBefore.total > 0 || copy == base)
    }
  }

  @Test func globalMayCrossNodesHierarchicalMayNot() throws {
    // Base: GPU0 {0,1}, GPU1 {2,3} (node 0), GPU2 {4,5}, GPU3 {6,7} (node 1).
    // New: node 0 = {0,1},{4,5}; node 1 = {2,3},{6,7}: GPU contents exist in base but on another node.
    let t = Self.tiny
    let base = LayerPlacement(physicalToLogical: [0, 1, 2, 3, 4, 5, 6, 7], experts: 8)
    let new = LayerPlacement(physicalToLogical: [0, 1, 4, 5, 2, 3, 6, 7], experts: 8)
    let g = try Relabel.minimizeMoves(new, base: base, topology: t, policy: .global)
    #expect(g.movesAfter == MoveCounts())
    #expect(g.placement == base)
    // Hierarchical keeps node 0's GPUs together: node 0 {0,1},{4,5} lands on a base node as a unit.
    // On base node 0 it keeps {0,1} and loads 4, 5 across nodes; node 1's {2,3},{6,7} keeps {6,7} and
    // loads 2, 3 across nodes: 4 cross-node moves (any other node mapping costs the same or more).
    let h = try Relabel.minimizeMoves(new, base: base, topology: t, policy: .hierarchical)
    #expect(h.movesAfter == MoveCounts(crossNode: 4))
    #expect(h.placement == new)
  }

  @Test func slotsInsideAGPUKeepTheirExperts() throws {
    // One GPU of 4 slots: base [5, 1, 2, 3], new [1, 2, 3, 0] (same multiset except 5 -> 0).
    // Experts 1, 2, 3 stay in slots 1, 2, 3; expert 0 takes slot 0 (one cross-node move: nowhere in base).
    let t = Topology(replicas: 4, gpus: 1, nodes: 1, groups: 1)
    let base = LayerPlacement(physicalToLogical: [5, 1, 2, 3], experts: 6)
    let new = LayerPlacement(physicalToLogical: [1, 2, 3, 0], experts: 6)
    let r = try Relabel.minimizeMoves(new, base: base, topology: t, policy: .global)
    #expect(r.placement.physicalToLogical == [0, 1, 2, 3])
    #expect(r.movesBefore.total == 4)
    #expect(r.movesAfter == MoveCounts(crossNode: 1))
  }

  /// The best weighted cost over every relabelling the policy allows, by brute force: GPU
  /// permutations (all, or node permutations × permutations inside each node) × slot orders.
  static func bruteForce(
    _ new: [Int], base: [Int], t: Topology, hierarchical: Bool, weights: MoveCost
  ) -> Int {
    let per = t.slotsPerGPU, gpus = t.gpus, perNode = t.gpusPerNode, nodes = gpus / perNode
    var gpuPerms: [[Int]] = []  // target of each new GPU
    if hierarchical {
      let inner = allPermutations(perNode)
      for nodePerm in allPermutations(nodes) {
        var combos: [[Int]] = [[]]
        for _ in 0..<nodes { combos = combos.flatMap { c in inner.indices.map { c + [$0] } } }
        for combo in combos {
          var target = [Int](repeating: 0, count: gpus)
          for n in 0..<nodes {
            for a in 0..<perNode { target[n * perNode + a] = nodePerm[n] * perNode + inner[combo[n]][a] }
          }
          gpuPerms.append(target)
        }
      }
    } else {
      gpuPerms = allPermutations(gpus)
    }
    let orders = RelabelCheck.slotOrders(per)
    var best = Int.max
    for target in gpuPerms {
      // Slot orders are independent per GPU given the GPU mapping only through the cost of each GPU,
      // but moves are counted on the whole placement: enumerate every combination.
      var choice = [Int](repeating: 0, count: gpus)
      while true {
        var out = [Int](repeating: 0, count: new.count)
        for g in 0..<gpus {
          for k in 0..<per { out[target[g] * per + orders[choice[g]][k]] = new[g * per + k] }
        }
        best = min(best, RelabelCheck.moves(base, out, t).cost(weights))
        var i = 0
        while i < gpus && choice[i] == orders.count - 1 {
          choice[i] = 0
          i += 1
        }
        if i == gpus { break }
        choice[i] += 1
      }
    }
    return best
  }

  @Test(arguments: [(PlacementPolicy.hierarchical, 0), (.global, 0), (.hierarchical, 1), (.global, 1)])
  func exactAgainstBruteForce(policy: PlacementPolicy, weightsIndex: Int) throws {
    let weights = [MoveCost.bandwidth, MoveCost(sameGPU: 0, sameNode: 3, crossNode: 5)][weightsIndex]
    var rng = SplitMix64(seed: 5 + UInt64(weightsIndex))
    for (t, experts, trials) in [(Self.tiny, 5, 25), (Self.small, 7, 4)] {
      for _ in 0..<trials {
        let base = RelabelCheck.randomPlacement(experts: experts, replicas: t.replicas, using: &rng)
        let new = RelabelCheck.randomPlacement(experts: experts, replicas: t.replicas, using: &rng)
        let r = try Relabel.minimizeMoves(new, base: base, topology: t, policy: policy, weights: weights)
        let best = Self.bruteForce(
          new.physicalToLogical, base: base.physicalToLogical, t: t, hierarchical: policy == .hierarchical,
          weights: weights)
        #expect(r.costAfter == best, "\(t) \(policy) base \(base.physicalToLogical) new \(new.physicalToLogical)")
      }
    }
  }

  @Test func rejectsMismatchedInputs() {
    let t = Self.tiny
    let a = LayerPlacement(physicalToLogical: [0, 1, 2, 3, 4, 0, 1, 2], experts: 5)
    let short = LayerPlacement(physicalToLogical: [0, 1, 2, 3, 4, 0], experts: 5)
    let six = LayerPlacement(physicalToLogical: [0, 1, 2, 3, 4, 5, 1, 2], experts: 6)
    #expect(throws: RelabelError.differentSlots(base: 8, new: 6, replicas: 8)) {
      try Relabel.minimizeMoves(short, base: a, topology: t, policy: .global)
    }
    #expect(throws: RelabelError.differentExperts(base: 5, new: 6)) {
      try Relabel.minimizeMoves(six, base: a, topology: t, policy: .global)
    }
    let bad = LayerPlacement(physicalToLogical: [0, 1, 2, 3, 4, 9, 1, 2], logicalCount: [1, 2, 2, 1, 1])
    #expect(throws: RelabelError.expertOutOfRange(slot: 5, expert: 9, experts: 5, inBase: false)) {
      try Relabel.minimizeMoves(bad, base: a, topology: t, policy: .global)
    }
  }

  /// Two consecutive EPLB plans on drifting loads, DeepSeek-V3's shape (256 experts, 288 slots,
  /// 32 GPUs in 4 nodes, 8 groups): relabelling the second against the first must move fewer experts.
  @Test(arguments: [PlacementPolicy.hierarchical, .global])
  func consecutivePlansMoveFewerExperts(policy: PlacementPolicy) throws {
    let t = Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)
    var rng = SplitMix64(seed: 11)
    var raw = MoveCounts(), relabelled = MoveCounts()
    for _ in 0..<4 {
      // A skewed load, then the same load with ±20 % noise per expert.
      let first = (0..<256).map { _ in
        Double(Int.random(in: 1...100, using: &rng)) * (Bool.random(using: &rng) ? 10 : 1)
      }
      let second = first.map { $0 * Double.random(in: 0.8...1.2, using: &rng) }
      let a = Planner.placeLayer(first[...], topology: t, policy: policy, algorithm: .deepseek)
      let b = Planner.placeLayer(second[...], topology: t, policy: policy, algorithm: .deepseek)
      let r = try Relabel.minimizeMoves(b, base: a, topology: t, policy: policy)
      raw = MoveCounts(
        sameGPU: raw.sameGPU + r.movesBefore.sameGPU, sameNode: raw.sameNode + r.movesBefore.sameNode,
        crossNode: raw.crossNode + r.movesBefore.crossNode)
      relabelled = MoveCounts(
        sameGPU: relabelled.sameGPU + r.movesAfter.sameGPU, sameNode: relabelled.sameNode + r.movesAfter.sameNode,
        crossNode: relabelled.crossNode + r.movesAfter.crossNode)
      // Same GPU contents, so the same peak up to the order of the per-GPU sums.
      let peakA = Planner.evaluate(r.placement, load: second[...], topology: t).peak
      let peakB = Planner.evaluate(b, load: second[...], topology: t).peak
      #expect(abs(peakA - peakB) <= 1e-12 * peakB)
    }
    print("relabel \(policy): raw \(raw) -> relabelled \(relabelled)")
    #expect(relabelled.cost(.bandwidth) < raw.cost(.bandwidth))
    #expect(relabelled.transfers < raw.transfers)
  }
}
