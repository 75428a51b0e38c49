/// `plan --distinct-per-gpu`: no GPU holds two replicas of one logical expert.
///
/// vLLM-Ascend refuses such a map ("Replicated experts are placed on the same NPU": it maps an
/// expert to one local slot per device, so a second copy on the device is never used) and
/// FlashLB forbids it by construction; EPLB and `deepseek_vec` do not check it. Rather than
/// teaching every algorithm the rule, one post-pass repairs any algorithm's placement: each slot
/// that repeats an expert on its GPU swaps its replica with a replica on another GPU of the same
/// scope (the GPU's node under the hierarchical policy, so the group-to-node packing is kept; the
/// whole cluster under the global policy), the swap chosen to raise the peak least.
///
/// A swap never changes `logcnt` nor any GPU's slot count, so the replica counts every algorithm
/// chose stay as they were; only which GPU holds a replica changes. A placement that already has
/// distinct experts on every GPU is returned as it is (bit-exact).
public enum DistinctPerGPU {
  /// One layer the pass changed.
  public struct Repair: Sendable, Equatable, Codable {
    /// The layer id.
    public var layer: Int
    /// Slots that repeated an expert on their GPU before the pass.
    public var duplicateSlots: Int
    /// Replica swaps between two GPUs that the pass made (each moves two slots).
    public var swaps: Int
    /// The peak GPU load before the pass and after it, in the load's units.
    public var peakBefore: Double
    public var peakAfter: Double

    public init(layer: Int, duplicateSlots: Int, swaps: Int, peakBefore: Double, peakAfter: Double) {
      self.layer = layer
      self.duplicateSlots = duplicateSlots
      self.swaps = swaps
      self.peakBefore = peakBefore
      self.peakAfter = peakAfter
    }
  }

  /// Slots that hold an expert already held by an earlier slot of the same GPU.
  ///
  /// - parameter physicalToLogical: `phy2log [replicas]`; GPU `g` holds slots
  ///   `g · slotsPerGPU ..< (g + 1) · slotsPerGPU`.
  /// Complexity O(replicas · slotsPerGPU) (slots per GPU are few).
  public static func duplicateSlots(_ physicalToLogical: [Int], slotsPerGPU per: Int) -> Int {
    guard per > 1 else { return 0 }
    var count = 0
    var start = 0
    while start < physicalToLogical.count {
      let end = min(start + per, physicalToLogical.count)
      for s in (start + 1)..<max(start + 1, end) where physicalToLogical[start..<s].contains(physicalToLogical[s]) {
        count += 1
      }
      start = end
    }
    return count
  }

  /// GPUs per swap scope: a node's under the hierarchical policy, all of them under the global one.
  static func scopeGPUs(_ topology: Topology, policy: PlacementPolicy) -> Int {
    topology.resolve(policy) == .hierarchical ? topology.gpus / topology.nodes : topology.gpus
  }

  /// Checks that `placement` can be made distinct by swaps inside each scope: no expert has more
  /// replicas in a scope than the scope has GPUs (the only obstacle; see `repair`).
  ///
  /// - throws: `TopologyError` naming the layer, the expert, its replicas, the scope and the flag.
  public static func checkFeasible(
    _ placement: LayerPlacement, layer: Int, topology: Topology, policy: PlacementPolicy
  ) throws(TopologyError) {
    let scope = scopeGPUs(topology, policy: policy)
    let slotsPerScope = scope * topology.slotsPerGPU
    let experts = placement.logicalCount.count
    let hierarchical = scope < topology.gpus
    var count = [Int](repeating: 0, count: experts)
    var start = 0
    while start < placement.physicalToLogical.count {
      for i in 0..<experts { count[i] = 0 }
      let end = min(start + slotsPerScope, placement.physicalToLogical.count)
      for s in start..<end { count[placement.physicalToLogical[s]] += 1 }
      if let e = count.indices.first(where: { count[$0] > scope }) {
        let node = start / slotsPerScope
        let whereText = hierarchical ? "on node \(node), which has \(scope) GPUs" : "on \(scope) GPUs"
        throw TopologyError(
          "layer \(layer): expert \(e) has \(count[e]) replicas \(whereText); --distinct-per-gpu needs at most one "
            + "replica per GPU (give more --gpus or fewer --replicas\(hierarchical ? ", or --policy global" : ""))")
      }
      start = end
    }
  }

  /// Makes every GPU's experts distinct by swapping replicas between GPUs of one scope.
  ///
  /// - parameter load: `[experts]`, the load the placement was planned on; a replica weighs
  ///   `load[e] / logcnt[e]`, as in `Planner.evaluate`.
  /// - returns: the repaired placement (same `logcnt`) and the number of swaps (a fresh deal of a
  ///   scope counts as one).
  ///
  /// Slots are visited in increasing order; a slot whose expert `e` its GPU `g` holds more than
  /// once swaps with the slot `t` (on GPU `h ≠ g` of the same scope, holding `f`) that minimises
  /// `max(L_g − w_e + w_f, L_h − w_f + w_e)` (so the peak rises least), among the pairs where `h`
  /// holds no `e` and `g` holds no `f`; ties go to the lower `h`, then the lower slot. Such a swap
  /// removes a duplicate and creates none. A slot with no such pair (every GPU without `e` holds
  /// only experts `g` has) waits for the next pass, after other swaps may have freed one; passes
  /// repeat while a swap was made. When a pass makes none and duplicates are left (not met on
  /// the bundled or simulated data, but not ruled out), each scope that still has one is dealt
  /// afresh (`dealScope`), which keeps each expert's at most `scope` copies apart.
  /// The caller checks feasibility first (`checkFeasible`). Complexity O(duplicates · scope
  /// slots) after an O(gpus · experts) setup.
  public static func repair(
    _ placement: LayerPlacement, load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy
  )
    -> (placement: LayerPlacement, swaps: Int)
  {
    let per = topology.slotsPerGPU
    let gpus = topology.gpus
    let experts = placement.logicalCount.count
    var phy2log = placement.physicalToLogical
    guard per > 1, duplicateSlots(phy2log, slotsPerGPU: per) > 0 else { return (placement, 0) }
    let scope = scopeGPUs(topology, policy: policy)
    let base = load.startIndex
    let w = (0..<experts).map { e in
      placement.logicalCount[e] > 0 ? load[base + e] / Double(placement.logicalCount[e]) : 0
    }
    // held[g · experts + e]: replicas of e on GPU g. gpuLoad[g]: Σ w over g's slots.
    var held = [Int](repeating: 0, count: gpus * experts)
    var gpuLoad = [Double](repeating: 0, count: gpus)
    for (s, e) in phy2log.enumerated() {
      held[(s / per) * experts + e] += 1
      gpuLoad[s / per] += w[e]
    }
    var swaps = 0
    var stuck = true
    while stuck {
      stuck = false
      var progress = false
      for slot in 0..<phy2log.count {
        let g = slot / per
        let e = phy2log[slot]
        if held[g * experts + e] < 2 { continue }
        let first = (g / scope) * scope
        var best = -1
        var bestScore = Double.infinity
        for h in first..<(first + scope) where h != g && held[h * experts + e] == 0 {
          for t in (h * per)..<((h + 1) * per) {
            let f = phy2log[t]
            if held[g * experts + f] != 0 { continue }
            let score = max(gpuLoad[g] - w[e] + w[f], gpuLoad[h] - w[f] + w[e])
            if score < bestScore {
              bestScore = score
              best = t
            }
          }
        }
        if best < 0 {
          stuck = true
          continue
        }
        let h = best / per
        let f = phy2log[best]
        phy2log[slot] = f
        phy2log[best] = e
        held[g * experts + e] -= 1
        held[g * experts + f] += 1
        held[h * experts + f] -= 1
        held[h * experts + e] += 1
        gpuLoad[g] += w[f] - w[e]
        gpuLoad[h] += w[e] - w[f]
        swaps += 1
        progress = true
      }
      if stuck && !progress {
        // No swap helps any duplicate left: deal the scopes that still have one afresh.
        for index in 0..<(gpus / scope) {
          let slots = (index * scope * per)..<((index + 1) * scope * per)
          if duplicateSlots(Array(phy2log[slots]), slotsPerGPU: per) > 0 {
            dealScope(&phy2log, scope: index, scopeGPUs: scope, slotsPerGPU: per, weight: w)
            swaps += 1
          }
        }
        break
      }
    }
    return (LayerPlacement(physicalToLogical: phy2log, logicalCount: placement.logicalCount), swaps)
  }

  /// The fallback of `repair`: scope `index`'s replicas sorted by weight (heaviest first, lower
  /// expert on ties, so an expert's copies are consecutive), item `i` to the scope's GPU `i mod
  /// scopeGPUs`, slot `i / scopeGPUs` of it. Distinct when no expert has more copies than GPUs.
  static func dealScope(
    _ phy2log: inout [Int], scope index: Int, scopeGPUs: Int, slotsPerGPU per: Int, weight w: [Double]
  ) {
    let start = index * scopeGPUs * per
    let items = phy2log[start..<(start + scopeGPUs * per)].sorted { a, b in w[a] > w[b] || (w[a] == w[b] && a < b) }
    for (i, e) in items.enumerated() { phy2log[start + (i % scopeGPUs) * per + i / scopeGPUs] = e }
  }
}

extension Planner {
  /// Repairs every layer of `plan` that puts two replicas of one expert on a GPU
  /// (`DistinctPerGPU.repair`), re-evaluating those layers on their load; other layers are kept
  /// bit-exact. The repairs are added to `plan.distinctRepairs` (a layer repaired again keeps its
  /// first `peakBefore`).
  ///
  /// - parameter loads: `[layerIDs.count][experts]`, the load the plan was made on.
  /// - throws: `TopologyError` when a layer has an expert with more replicas than the GPUs it
  ///   may spread over (`DistinctPerGPU.checkFeasible`).
  public static func enforceDistinctPerGPU(_ plan: Plan, loads: LoadMatrix, layerIDs: [Int]) throws(TopologyError)
    -> Plan
  {
    var rowOf: [Int: Int] = [:]
    for (row, layer) in layerIDs.enumerated() { rowOf[layer] = row }
    var result = plan
    var repairs = plan.distinctRepairs ?? []
    for (i, planned) in plan.layers.enumerated() {
      let duplicates = DistinctPerGPU.duplicateSlots(
        planned.placement.physicalToLogical, slotsPerGPU: plan.topology.slotsPerGPU)
      if duplicates == 0 { continue }
      guard let row = rowOf[planned.layer] else {
        preconditionFailure("no load row for planned layer \(planned.layer)")
      }
      try DistinctPerGPU.checkFeasible(
        planned.placement, layer: planned.layer, topology: plan.topology, policy: plan.policy)
      let load = loads.row(row)
      let (placement, swaps) = DistinctPerGPU.repair(
        planned.placement, load: load, topology: plan.topology, policy: plan.policy)
      let after = evaluate(placement, load: load, topology: plan.topology)
      result.layers[i].placement = placement
      result.layers[i].statistics.evaluation = after
      if let k = repairs.firstIndex(where: { $0.layer == planned.layer }) {
        repairs[k].duplicateSlots += duplicates
        repairs[k].swaps += swaps
        repairs[k].peakAfter = after.peak
      } else {
        repairs.append(
          DistinctPerGPU.Repair(
            layer: planned.layer, duplicateSlots: duplicates, swaps: swaps,
            peakBefore: planned.statistics.evaluation.peak, peakAfter: after.peak))
      }
    }
    result.distinctRepairs = repairs.sorted { $0.layer < $1.layer }
    return result
  }
}
