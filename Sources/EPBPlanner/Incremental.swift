/// One replica move of an incremental plan: slot `slot` stops holding `from` and holds `to`.
public struct ReplicaMove: Sendable, Equatable, Codable {
  /// Physical slot, in `0..<replicas`.
  public var slot: Int
  /// `topology.gpu(ofSlot: slot)`.
  public var gpu: Int
  /// The logical expert the slot held (it keeps at least one other replica).
  public var from: Int
  /// The logical expert the slot holds after the move.
  public var to: Int
  /// The peak GPU load right after this move, in the load's units.
  public var peakAfter: Double

  public init(slot: Int, gpu: Int, from: Int, to: Int, peakAfter: Double) {
    self.slot = slot
    self.gpu = gpu
    self.from = from
    self.to = to
    self.peakAfter = peakAfter
  }
}

/// The outcome of `Incremental.plan`.
public struct IncrementalResult: Sendable, Equatable {
  /// The base placement after `moves` (`logcnt` updated).
  public var placement: LayerPlacement
  /// The moves applied, in order; at most the `maxMoves` asked for. A slot may appear twice.
  public var moves: [ReplicaMove]
  /// The base placement on the load.
  public var before: LayerEvaluation
  /// `placement` on the load.
  public var after: LayerEvaluation

  public init(placement: LayerPlacement, moves: [ReplicaMove], before: LayerEvaluation, after: LayerEvaluation) {
    self.placement = placement
    self.moves = moves
    self.before = before
    self.after = after
  }

  /// The peak reached, `after.peak`.
  public var peak: Double { after.peak }

  /// `(peak_base − peak_reached) / peak_base`; 0 when the base peak is 0.
  public var peakReduction: Double { before.peak > 0 ? (before.peak - after.peak) / before.peak : 0 }

  /// The share of the full plan's peak reduction this incremental plan achieves:
  /// `(peak_base − peak_reached) / (peak_base − fullPlanPeak)`, with `fullPlanPeak` the full plan's
  /// peak on the same load. Nil when the full plan does not lower the peak (nothing to achieve);
  /// above 1 when the incremental plan beats the full plan.
  public func fractionOfFullReduction(fullPlanPeak: Double) -> Double? {
    let full = before.peak - fullPlanPeak
    return full > 0 ? (before.peak - after.peak) / full : nil
  }
}

/// Whether a layer keeps its base placement under `--min-gain`.
public struct HysteresisDecision: Sendable, Equatable {
  /// True when the predicted peak reduction is below the threshold, so the base placement stays.
  public var keepBase: Bool
  /// Peak GPU load of the base placement on the load.
  public var basePeak: Double
  /// Peak GPU load of the new placement on the same load.
  public var newPeak: Double
  /// `(basePeak − newPeak) / basePeak`, a fraction (0 when `basePeak` is 0; negative when worse).
  public var reduction: Double
  /// The placement to use: the base one when `keepBase`, else the new one.
  public var placement: LayerPlacement

  public init(keepBase: Bool, basePeak: Double, newPeak: Double, reduction: Double, placement: LayerPlacement) {
    self.keepBase = keepBase
    self.basePeak = basePeak
    self.newPeak = newPeak
    self.reduction = reduction
    self.placement = placement
  }
}

/// Migration-bounded planning: few replica moves from the placement that is serving.
public enum Incremental {
  /// Relative margin a move must beat the current peak by to count as cutting it:
  /// `newPeak < peak − peakTolerance · peak`. Guards against rounding noise passing for progress.
  public static let peakTolerance = 1e-12

  /// Applies at most `maxMoves` replica moves to `base`, greedily, each cutting the peak GPU load
  /// on `load` the most.
  ///
  /// A move re-points one slot from its expert `e` to another expert `e'`: `logcnt[e]` drops by one
  /// (only allowed while it is at least 2, so every expert keeps a replica) and `logcnt[e']` grows by
  /// one; every GPU load is re-evaluated as `Planner.evaluate` does (`load[e] / logcnt[e]` per slot).
  /// Under the hierarchical policy `e'` must already have a replica on the slot's node, so no node
  /// gains an expert from another node's groups (group-limited routing stays valid); the global
  /// policy allows any `e'`.
  ///
  /// Each step takes the move with the smallest resulting peak; ties go to the lowest slot, then the
  /// lowest `e'`. It stops early when no move lowers the peak by more than `peakTolerance`
  /// (relative) — in particular when two GPUs share the peak and no single move lowers both.
  /// Only moves that lower the first peak GPU's load can lower the peak, so a step examines the
  /// slots of that GPU (any `e'`) and, for the experts on it, every other slot: about
  /// `2 · slotsPerGPU · max(experts, replicas)` candidates, each priced in O(replicas of e and e').
  ///
  /// - parameter base: the placement serving now, `phy2log [replicas]`, `logcnt [experts]`.
  /// - parameter load: `[experts]`, the window's load, in tokens.
  /// - parameter maxMoves: K ≥ 0, the move budget of this layer.
  /// - parameter policy: `.auto` is resolved with `topology.resolve`.
  /// - returns: the placement reached, the moves and both evaluations.
  public static func plan(
    base: LayerPlacement, load: ArraySlice<Double>, topology: Topology, policy: PlacementPolicy, maxMoves: Int
  ) -> IncrementalResult {
    precondition(
      base.physicalToLogical.count == topology.replicas && base.logicalCount.count == load.count,
      "Incremental.plan: placement and load shapes disagree with the topology")
    let start = Planner.evaluate(base, load: load, topology: topology)
    var search = MoveSearch(
      base: base, load: load, topology: topology, hierarchical: topology.resolve(policy) == .hierarchical,
      loads: start.gpuLoad)
    var peak = start.peak
    var moves: [ReplicaMove] = []
    while moves.count < maxMoves {
      search.prepareStep()  // step 1; `bestMove` does steps 2 and 3
      // Step 4: apply the best move if it cuts the peak; re-evaluate exactly.
      guard let chosen = search.bestMove(), chosen.peak < peak - peakTolerance * peak else { break }
      let from = search.p2l[chosen.slot]
      search.p2l[chosen.slot] = chosen.to
      search.count[from] -= 1
      search.count[chosen.to] += 1
      let evaluation = Planner.evaluate(
        LayerPlacement(physicalToLogical: search.p2l, logicalCount: search.count), load: load, topology: topology)
      search.loads = evaluation.gpuLoad
      peak = evaluation.peak
      moves.append(
        ReplicaMove(slot: chosen.slot, gpu: chosen.slot / search.per, from: from, to: chosen.to, peakAfter: peak))
    }
    let placement = LayerPlacement(physicalToLogical: search.p2l, logicalCount: search.count)
    return IncrementalResult(
      placement: placement, moves: moves, before: start,
      after: Planner.evaluate(placement, load: load, topology: topology))
  }

  /// Hysteresis for `--min-gain P`: keeps `base` unless `new` lowers the peak on `load` by at least
  /// `minGainPercent` percent.
  ///
  /// The predicted reduction is `(peak(base) − peak(new)) / peak(base)` with both placements
  /// evaluated by `Planner.evaluate` on `load` (`[experts]`); the base stays when
  /// `100 · reduction < minGainPercent`. With `P = 0` the base stays only when the new placement is
  /// worse; an all-zero load (reduction 0) keeps the base for any `P > 0`.
  public static func minGain(
    base: LayerPlacement, new: LayerPlacement, load: ArraySlice<Double>, topology: Topology, minGainPercent: Double
  ) -> HysteresisDecision {
    let basePeak = Planner.evaluate(base, load: load, topology: topology).peak
    let newPeak = Planner.evaluate(new, load: load, topology: topology).peak
    let reduction = basePeak > 0 ? (basePeak - newPeak) / basePeak : 0
    let keep = reduction * 100 < minGainPercent
    return HysteresisDecision(
      keepBase: keep, basePeak: basePeak, newPeak: newPeak, reduction: reduction, placement: keep ? base : new)
  }
}

/// `Incremental.plan`'s state: the placement reached so far, its GPU loads, the current step's
/// view of it (steps 1 to 3) and the pricing scratch.
private struct MoveSearch {
  /// `[experts]`, the window's load.
  let w: [Double]
  let experts: Int, replicas: Int, per: Int, gpus: Int
  let hierarchical: Bool
  let topology: Topology
  /// The placement reached: `phy2log [replicas]`, `logcnt [experts]`.
  var p2l: [Int]
  var count: [Int]
  /// `[gpus]`, the GPU loads of `p2l` as `Planner.evaluate` gives them.
  var loads: [Double]
  /// Step 1: the slots of each expert, `[experts][logcnt]`; the GPUs by load (heaviest first,
  /// the lower index on ties); `node · experts + e` for each expert a node holds (hierarchical).
  var slotsOf: [[Int]] = []
  var byLoad: [Int] = []
  var nodeHas = Set<Int>()
  /// Scratch: per-GPU load change of the candidate `[gpus]` and the GPUs it touches.
  var delta: [Double]
  var touched: [Int] = []
  var isTouched: [Bool]

  init(base: LayerPlacement, load: ArraySlice<Double>, topology: Topology, hierarchical: Bool, loads: [Double]) {
    w = Array(load)
    experts = w.count
    replicas = topology.replicas
    (per, gpus) = (topology.slotsPerGPU, topology.gpus)
    self.hierarchical = hierarchical
    self.topology = topology
    p2l = base.physicalToLogical
    count = base.logicalCount
    self.loads = loads
    delta = [Double](repeating: 0, count: gpus)
    isTouched = [Bool](repeating: false, count: gpus)
  }

  /// Step 1: the current state (`slotsOf`, `byLoad`, `nodeHas`).
  mutating func prepareStep() {
    slotsOf = Array(repeating: [Int](), count: experts)
    for (s, e) in p2l.enumerated() { slotsOf[e].append(s) }
    byLoad = (0..<gpus).sorted { loads[$0] > loads[$1] || (loads[$0] == loads[$1] && $0 < $1) }
    nodeHas = Set<Int>()
    if hierarchical {
      for (s, e) in p2l.enumerated() { nodeHas.insert(topology.node(ofGPU: s / per) * experts + e) }
    }
  }

  /// Step 2: prices one candidate: the peak after moving `slot` to expert `f`.
  private mutating func peakAfter(slot: Int, to f: Int) -> Double {
    let e = p2l[slot]
    let g0 = slot / per
    let ce = Double(count[e]), cf = Double(count[f])
    let up = w[e] / (ce - 1) - w[e] / ce  // per remaining replica of e
    let down = w[f] / cf - w[f] / (cf + 1)  // per existing replica of f
    for s in slotsOf[e] where s != slot { add(s / per, up) }
    for s in slotsOf[f] { add(s / per, -down) }
    add(g0, w[f] / (cf + 1) - w[e] / ce)
    var best = -Double.infinity
    for g in touched { best = max(best, loads[g] + delta[g]) }
    for g in byLoad where !isTouched[g] {
      best = max(best, loads[g])
      break
    }
    for g in touched {
      delta[g] = 0
      isTouched[g] = false
    }
    touched.removeAll(keepingCapacity: true)
    return best
  }

  /// Adds `x` to GPU g's load change, marking it touched.
  @inline(__always)
  private mutating func add(_ g: Int, _ x: Double) {
    if !isTouched[g] {
      isTouched[g] = true
      touched.append(g)
    }
    delta[g] += x
  }

  /// Step 3: the candidates that lower the first peak GPU, best (peak, slot, e') kept: every
  /// slot of that GPU to any expert, then every other slot to the experts on it.
  mutating func bestMove() -> (peak: Double, slot: Int, to: Int)? {
    let hot = byLoad[0]
    var best: (peak: Double, slot: Int, to: Int)? = nil
    for slot in (hot * per)..<((hot + 1) * per) {
      for f in 0..<experts { consider(slot: slot, to: f, best: &best) }
    }
    let hotExperts = Set(p2l[(hot * per)..<((hot + 1) * per)]).sorted()
    for slot in 0..<replicas where slot / per != hot {
      for f in hotExperts { consider(slot: slot, to: f, best: &best) }
    }
    return best
  }

  /// One candidate of step 3, if allowed: `e' ≠ e`, `logcnt[e] ≥ 2` and, under the hierarchical
  /// policy, `e'` already on the slot's node. Ties go to the lower (slot, e').
  private mutating func consider(slot: Int, to f: Int, best: inout (peak: Double, slot: Int, to: Int)?) {
    let e = p2l[slot]
    if f == e || count[e] < 2 { return }
    if hierarchical && !nodeHas.contains(topology.node(ofGPU: slot / per) * experts + f) { return }
    let value = peakAfter(slot: slot, to: f)
    if let b = best {
      if value < b.peak || (value == b.peak && (slot, f) < (b.slot, b.to)) { best = (value, slot, f) }
    } else {
      best = (value, slot, f)
    }
  }
}
