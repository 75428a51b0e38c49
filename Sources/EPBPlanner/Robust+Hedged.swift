extension Robust {
  /// z of the hedge `mean + z · sd` over the samples (FlashLB's 0.674, the 75th percentile of a
  /// normal load).
  static let hedgeZ = FlashLB.zScore

  /// Step 2 of `robust`: the placement its swap search starts from.
  ///
  /// 1. Hierarchical policy: the groups onto the nodes (`groups / nodes` each) by `packGroups`,
  ///    which minimises the samples' summed peak node load rather than the window's (EPLB).
  /// 2. Inside each node (the cluster under the global policy), FlashLB's placement of the node's
  ///    experts on its slots and GPUs from the samples (`FlashLB.placeNode`: replica counts on
  ///    mean + 0.674 σ, counts and LPT chosen together by a per-sample score).
  ///
  /// - parameter table: `[samples + 1][experts]`, the scaled samples then the window, sample-major;
  ///   with `samples == 0` the window is the only sample.
  /// - returns: `phy2log [replicas]` (node-major) with its `logcnt`.
  static func hedgedPlacement(
    table: UnsafePointer<Double>, samples count: Int, experts: Int, topology: Topology, policy: PlacementPolicy
  ) -> LayerPlacement {
    let samples = max(count, 1)  // with none, column 0 is the window
    let (groups, nodes) = policy == .hierarchical ? (topology.groups, topology.nodes) : (1, 1)
    let groupSize = experts / groups
    // Group loads per sample, [samples][groups], and per node, the groups it holds.
    // [samples + 1][groups]: the samples, then the window.
    var groupLoad = [Double](repeating: 0, count: (samples + 1) * groups)
    for k in 0...samples {
      let column = k == samples ? count : k
      for e in 0..<experts { groupLoad[k * groups + e / groupSize] += table[column * experts + e] }
    }
    let nodeGroups = packGroups(groupLoad, samples: samples, groups: groups, nodes: nodes, windowWeight: 1)
    let perNode = experts / nodes
    let slotsPerNode = topology.replicas / nodes
    let gpusPerNode = topology.gpus / nodes
    var phy2log = [Int](repeating: 0, count: topology.replicas)
    for node in 0..<nodes {
      // The node's experts, group by group in increasing group order, [perNode].
      var members: [Int] = []
      members.reserveCapacity(perNode)
      for q in nodeGroups[node] { members.append(contentsOf: (q * groupSize)..<((q + 1) * groupSize)) }
      var x = [Double](repeating: 0, count: samples * perNode)
      for k in 0..<samples {
        for (j, e) in members.enumerated() { x[k * perNode + j] = table[k * experts + e] }
      }
      let local = FlashLB.placeNode(x, samples: samples, slots: slotsPerNode, gpus: gpusPerNode)
      for s in 0..<slotsPerNode { phy2log[node * slotsPerNode + s] = members[local[s]] }
    }
    return LayerPlacement(physicalToLogical: phy2log, experts: experts)
  }

  /// Packs `groups` groups onto `nodes` nodes, `groups / nodes` each, to minimise Σ over samples
  /// of the heaviest node's load.
  ///
  /// Start: groups by hedged load (mean + z · sd over the samples) heaviest first (lower index
  /// on ties), each onto the node with the lowest hedged load that has room (lower index on
  /// ties). Then the best swap of two groups on different nodes, while it lowers the objective
  /// by more than 10⁻¹² of it (at most 64 rounds).
  ///
  /// - parameter groupLoad: `[samples][groups]`.
  /// - returns: `[nodes]` lists of group ids, each in increasing order.
  /// Complexity O(rounds · groups² · samples · nodes).
  static func packGroups(
    _ groupLoad: [Double], samples: Int, groups: Int, nodes: Int, windowWeight: Double
  ) -> [[Int]] {
    if nodes == 1 { return [Array(0..<groups)] }
    let capacity = groups / nodes
    var hedged = [Double](repeating: 0, count: groups)
    for q in 0..<groups {
      var mean = 0.0
      for k in 0..<samples { mean += groupLoad[k * groups + q] }
      mean /= Double(samples)
      var variance = 0.0
      for k in 0..<samples {
        let d = groupLoad[k * groups + q] - mean
        variance += d * d
      }
      hedged[q] = mean + hedgeZ * (variance / Double(samples)).squareRoot()
    }
    let order = (0..<groups).sorted { hedged[$0] > hedged[$1] || (hedged[$0] == hedged[$1] && $0 < $1) }
    var nodeOf = [Int](repeating: 0, count: groups)
    var nodeHedged = [Double](repeating: 0, count: nodes)
    var filled = [Int](repeating: 0, count: nodes)
    for q in order {
      var best = -1
      for n in 0..<nodes where filled[n] < capacity && (best < 0 || nodeHedged[n] < nodeHedged[best]) { best = n }
      nodeOf[q] = best
      nodeHedged[best] += hedged[q]
      filled[best] += 1
    }
    // Node loads per sample, [samples][nodes].
    let rows = samples + 1
    var load = [Double](repeating: 0, count: rows * nodes)
    for k in 0..<rows { for q in 0..<groups { load[k * nodes + nodeOf[q]] += groupLoad[k * groups + q] } }
    // The window's total and the samples' total, to weigh the window's peak as `windowWeight`
    // times the samples' summed peaks.
    var sampleTotal = 0.0, windowTotal = 0.0
    for q in 0..<groups {
      for k in 0..<samples { sampleTotal += groupLoad[k * groups + q] }
      windowTotal += groupLoad[samples * groups + q]
    }
    let w = windowTotal > 0 ? windowWeight * sampleTotal / windowTotal : 0
    func objective(_ load: [Double]) -> Double {
      var f = 0.0
      for k in 0..<rows {
        var m = -Double.infinity
        for n in 0..<nodes { m = max(m, load[k * nodes + n]) }
        f += k == samples ? w * m : m
      }
      return f
    }
    var current = objective(load)
    for _ in 0..<64 {
      var best: (a: Int, b: Int, value: Double)?
      for a in 0..<groups {
        for b in (a + 1)..<groups where nodeOf[a] != nodeOf[b] {
          var trial = load
          for k in 0..<rows {
            let d = groupLoad[k * groups + b] - groupLoad[k * groups + a]
            trial[k * nodes + nodeOf[a]] += d
            trial[k * nodes + nodeOf[b]] -= d
          }
          let v = objective(trial)
          if v < current - 1e-12 * current && (best == nil || v < best!.value) { best = (a, b, v) }
        }
      }
      guard let (a, b, v) = best else { break }
      for k in 0..<rows {
        let d = groupLoad[k * groups + b] - groupLoad[k * groups + a]
        load[k * nodes + nodeOf[a]] += d
        load[k * nodes + nodeOf[b]] -= d
      }
      (nodeOf[a], nodeOf[b]) = (nodeOf[b], nodeOf[a])
      current = v
    }
    var out = Array(repeating: [Int](), count: nodes)
    for q in 0..<groups { out[nodeOf[q]].append(q) }
    return out
  }

  /// The no-replication placement as a placement of all `topology.replicas` slots: EPLB's
  /// placement with one replica per expert (`Planner.statistics`' `noReplicationPeak` baseline),
  /// each GPU's extra slots holding further copies of its own experts (its heaviest first, in
  /// turn), which leaves every GPU's load as it was. nil when that baseline does not exist
  /// (`experts` not a multiple of `gpus`, or the topology cannot place one replica per expert).
  ///
  /// - parameter window: `[experts]`.
  static func noReplicationPlacement(
    _ window: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy
  ) -> LayerPlacement? {
    let experts = window.count, gpus = topology.gpus
    guard experts % gpus == 0, topology.replicas % gpus == 0 else { return nil }
    let single = Topology(replicas: experts, gpus: gpus, nodes: topology.nodes, groups: topology.groups)
    guard (try? single.validate(experts: experts, policy: policy)) != nil else { return nil }
    let scratch = Scratch<Float>(experts: experts, replicas: experts, gpus: gpus)
    let base = Planner.place(window, topology: single, policy: policy, algorithm: .deepseek, scratch: scratch)
    let have = experts / gpus, per = topology.slotsPerGPU
    var phy2log: [Int] = []
    phy2log.reserveCapacity(topology.replicas)
    for g in 0..<gpus {
      let own = Array(base.physicalToLogical[(g * have)..<((g + 1) * have)])
      let heaviest = own.sorted {
        window[window.startIndex + $0] > window[window.startIndex + $1]
          || ($0 < $1 && window[window.startIndex + $0] == window[window.startIndex + $1])
      }
      phy2log.append(contentsOf: own)
      for k in 0..<(per - have) { phy2log.append(heaviest[k % have]) }
    }
    return LayerPlacement(physicalToLogical: phy2log, experts: experts)
  }

  /// Fills the spare slots of `single` (`noReplicationPlacement`: each GPU's own experts first,
  /// then copies of them in its spare slots) with replicas of the hottest experts, never letting
  /// a GPU's window load exceed `limit` (the no-replication peak), so the result is at most that
  /// peak on the window.
  ///
  /// Spare slots in rounds (GPU order within a round, lightest hedged load first, lower index on
  /// ties): each takes a replica of the expert of its node (the cluster under the global policy)
  /// not on that GPU with the largest hedged load per replica whose new share keeps the GPU's
  /// window load at most `limit` (lower index on ties); a spare slot with no such expert keeps
  /// its copy. Adding a replica of `e` only lowers the other GPUs holding `e`.
  ///
  /// - parameter hedged: `[experts]`, `max(window, mean + sd)` over the samples (step 1 of `place`).
  /// Complexity O(spares · experts / nodes · slots per GPU).
  static func spreadSpares(
    _ single: LayerPlacement, window: ArraySlice<Double>, hedged: [Double], limit: Double, topology: Topology,
    policy: PlacementPolicy
  ) -> LayerPlacement {
    let experts = window.count, gpus = topology.gpus, per = topology.slotsPerGPU
    let have = experts / gpus, spares = per - have
    guard spares > 0 else { return single }
    let w = Array(window)
    let nodes = policy == .hierarchical ? topology.nodes : 1
    let gpusPerNode = gpus / nodes
    var phy2log = single.physicalToLogical
    var count = [Int](repeating: 0, count: experts)
    var holders = Array(repeating: [Int](), count: experts)  // GPUs holding e, with repeats
    for (slot, e) in phy2log.enumerated() where slot % per < have {
      count[e] += 1
      holders[e].append(slot / per)
    }
    // Window and hedged GPU loads with the spare slots empty, [gpus] each.
    var loadW = [Double](repeating: 0, count: gpus), loadH = [Double](repeating: 0, count: gpus)
    for e in 0..<experts {
      for g in holders[e] {
        loadW[g] += w[e] / Double(count[e])
        loadH[g] += hedged[e] / Double(count[e])
      }
    }
    var filled = [Bool](repeating: false, count: gpus * spares)
    for r in 0..<spares {
      let order = (0..<gpus).sorted { loadH[$0] < loadH[$1] || (loadH[$0] == loadH[$1] && $0 < $1) }
      for g in order {
        let node = g / gpusPerNode
        var best = -1, bestValue = -Double.infinity
        for s in (node * gpusPerNode * per)..<((node + 1) * gpusPerNode * per) where s % per < have {
          let e = phy2log[s]
          if holders[e].contains(g) { continue }
          let share = w[e] / Double(count[e] + 1)
          if loadW[g] + share > limit { continue }
          let value = hedged[e] / Double(count[e])
          if value > bestValue || (value == bestValue && e < best) { (best, bestValue) = (e, value) }
        }
        guard best >= 0 else { continue }
        let e = best
        for h in holders[e] {
          loadW[h] -= w[e] / Double(count[e]) - w[e] / Double(count[e] + 1)
          loadH[h] -= hedged[e] / Double(count[e]) - hedged[e] / Double(count[e] + 1)
        }
        count[e] += 1
        holders[e].append(g)
        loadW[g] += w[e] / Double(count[e])
        loadH[g] += hedged[e] / Double(count[e])
        phy2log[g * per + have + r] = e
        filled[g * spares + r] = true
      }
    }
    // Unfilled spare slots: a copy of the GPU's own heaviest expert (its load stays on the GPU).
    for g in 0..<gpus {
      for r in 0..<spares where !filled[g * spares + r] {
        var best = phy2log[g * per]
        for k in 0..<have where w[phy2log[g * per + k]] > w[best] { best = phy2log[g * per + k] }
        phy2log[g * per + have + r] = best
      }
    }
    return LayerPlacement(physicalToLogical: phy2log, experts: experts)
  }
}

extension Robust {
  /// Step 4's first repair: lowers `placement`'s peak on `window` to at most `limit` by a few
  /// changes, so that a placement planned for the scenarios keeps most of its slots.
  ///
  /// Each round takes the GPU with the highest window load (`w[e] / count[e]` summed over its
  /// slots; the lower index on ties) and tries, among the slots of its node (of the cluster
  /// under the global policy), every change of one slot that involves it:
  /// - a swap of a slot of that GPU with a slot of another GPU holding another expert;
  /// - a re-replication: a slot of an expert with at least two replicas becomes one more replica
  ///   of an expert of that GPU (its count + 1, the other's − 1), which lowers that expert's load
  ///   per replica everywhere.
  /// The change giving the lowest peak over all GPUs is applied (the first found on ties: swaps
  /// before re-replications, in slot order) if it lowers the peak; rounds stop when the peak is
  /// at most `limit` (returns the placement), when no change lowers it, or after `4 · gpus`
  /// rounds (returns nil).
  ///
  /// Complexity per round: O(per · slotsPerNode · replicas) for the re-replications, O(per ·
  /// slotsPerNode) for the swaps.
  static func lowerWindowPeak(
    _ placement: LayerPlacement, window: ArraySlice<Double>, limit: Double, topology: Topology,
    policy: PlacementPolicy
  ) -> LayerPlacement? {
    let w = Array(window)
    var p2l = placement.physicalToLogical
    var count = placement.logicalCount
    let per = topology.slotsPerGPU, gpus = topology.gpus
    let nodes = policy == .hierarchical ? topology.nodes : 1
    let slotsPerNode = topology.replicas / nodes
    // `Planner.evaluate`'s arithmetic, so the limit is checked as step 4 checks it.
    func loads(_ p2l: [Int], _ count: [Int]) -> [Double] {
      Planner.evaluate(LayerPlacement(physicalToLogical: p2l, logicalCount: count), load: window, topology: topology)
        .gpuLoad
    }
    var load = loads(p2l, count)
    for _ in 0..<(4 * gpus) {
      var g = 0
      for h in 1..<gpus where load[h] > load[g] { g = h }
      let peak = load[g]
      if peak <= limit { return LayerPlacement(physicalToLogical: p2l, logicalCount: count) }
      let node = g * per / slotsPerNode
      let nodeSlots = (node * slotsPerNode)..<((node + 1) * slotsPerNode)
      var best: (value: Double, p2l: [Int], count: [Int])?
      // Swaps: only the two GPUs' loads change.
      var othersPeak = [Double](repeating: 0, count: gpus)  // the peak over GPUs other than g and h
      for h in 0..<gpus {
        var m = 0.0
        for k in 0..<gpus where k != g && k != h { m = max(m, load[k]) }
        othersPeak[h] = m
      }
      for a in (g * per)..<((g + 1) * per) {
        let e = p2l[a], se = w[e] / Double(count[e])
        for b in nodeSlots where b / per != g && p2l[b] != e {
          let h = b / per, f = p2l[b], sf = w[f] / Double(count[f])
          let value = max(othersPeak[h], load[g] - se + sf, load[h] - sf + se)
          if value < peak && (best == nil || value < best!.value) {
            var q = p2l
            q.swapAt(a, b)
            best = (value, q, count)
          }
        }
      }
      // Re-replications: every GPU holding either expert changes.
      for a in (g * per)..<((g + 1) * per) {
        let e = p2l[a]
        for b in nodeSlots where p2l[b] != e && count[p2l[b]] >= 2 {
          var q = p2l, c = count
          c[q[b]] -= 1
          q[b] = e
          c[e] += 1
          let value = loads(q, c).max() ?? 0
          if value < peak && (best == nil || value < best!.value) { best = (value, q, c) }
        }
      }
      guard let best else { return nil }
      (p2l, count) = (best.p2l, best.count)
      load = loads(p2l, count)
    }
    return (load.max() ?? 0) <= limit ? LayerPlacement(physicalToLogical: p2l, logicalCount: count) : nil
  }
}
