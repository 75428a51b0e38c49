/// What it costs to load one expert's weights into a slot, by where the weights come from.
///
/// The default, `bandwidth`, prices a copy by the time it takes on a DeepSeek-V3-class cluster:
/// a copy inside one GPU's HBM (~3 TB/s) costs 1, a copy over NVLink from another GPU of the node
/// (~400 GB/s, about 8× slower) costs 8, and a copy over the network from another node (~50 GB/s per
/// GPU with one 400 Gb/s NIC, about 8× slower again) costs 64. An unchanged slot costs nothing.
/// `uniform` counts changed slots, whatever their source.
public struct MoveCost: Sendable, Hashable, Codable {
  /// A copy from another slot of the same GPU.
  public var sameGPU: Int
  /// A copy from another GPU of the same node.
  public var sameNode: Int
  /// A copy from another node (or from storage, when no GPU holds the expert).
  public var crossNode: Int

  public init(sameGPU: Int, sameNode: Int, crossNode: Int) {
    self.sameGPU = sameGPU
    self.sameNode = sameNode
    self.crossNode = crossNode
  }

  /// 1 / 8 / 64: local copy, NVLink, network (see the type's discussion).
  public static let bandwidth = MoveCost(sameGPU: 1, sameNode: 8, crossNode: 64)
  /// 1 / 1 / 1: every changed slot counts once.
  public static let uniform = MoveCost(sameGPU: 1, sameNode: 1, crossNode: 1)
}

/// Slots that need new weights when a placement replaces another, counted by where the weights come from.
///
/// The classes are `diff`'s: a slot whose expert changes is `sameGPU` when the old placement held
/// the new expert on that GPU, `sameNode` when on another GPU of that node (`Topology.node(ofGPU:)`),
/// and `crossNode` otherwise.
public struct MoveCounts: Sendable, Hashable, Codable {
  public var sameGPU: Int
  public var sameNode: Int
  public var crossNode: Int

  public init(sameGPU: Int = 0, sameNode: Int = 0, crossNode: Int = 0) {
    self.sameGPU = sameGPU
    self.sameNode = sameNode
    self.crossNode = crossNode
  }

  /// Changed slots.
  public var total: Int { sameGPU + sameNode + crossNode }
  /// Copies between GPUs, `sameNode + crossNode`.
  public var transfers: Int { sameNode + crossNode }

  /// Class-wise sum.
  public static func + (a: MoveCounts, b: MoveCounts) -> MoveCounts {
    MoveCounts(
      sameGPU: a.sameGPU + b.sameGPU, sameNode: a.sameNode + b.sameNode, crossNode: a.crossNode + b.crossNode)
  }

  /// Σ count × weight.
  public func cost(_ weights: MoveCost) -> Int {
    sameGPU * weights.sameGPU + sameNode * weights.sameNode + crossNode * weights.crossNode
  }
}

/// A placement relabelled against a base, with the moves it needs before and after.
public struct RelabelResult: Sendable, Equatable {
  /// The relabelled placement: GPU `g` holds the slot contents of the input's GPU `sourceGPU[g]`.
  public var placement: LayerPlacement
  /// `[gpus]`, a permutation: the input GPU whose slot contents moved to each GPU.
  public var sourceGPU: [Int]
  /// Moves from the base to the input as planned (not relabelled).
  public var movesBefore: MoveCounts
  /// Moves from the base to `placement`.
  public var movesAfter: MoveCounts
  /// The weights used; `costBefore`/`costAfter` are `movesBefore/After.cost(weights)`.
  public var weights: MoveCost

  public init(
    placement: LayerPlacement, sourceGPU: [Int], movesBefore: MoveCounts, movesAfter: MoveCounts,
    weights: MoveCost
  ) {
    self.placement = placement
    self.sourceGPU = sourceGPU
    self.movesBefore = movesBefore
    self.movesAfter = movesAfter
    self.weights = weights
  }

  public var costBefore: Int { movesBefore.cost(weights) }
  /// At most `costBefore`: the identity relabelling is always a candidate.
  public var costAfter: Int { movesAfter.cost(weights) }
  /// Changed slots saved by relabelling, `movesBefore.total − movesAfter.total` (negative only when
  /// the weights trade one expensive move for several cheaper ones).
  public var movesSaved: Int { movesBefore.total - movesAfter.total }
  /// Copies between GPUs saved, `movesBefore.transfers − movesAfter.transfers`.
  public var transfersSaved: Int { movesBefore.transfers - movesAfter.transfers }

  /// Reorders a per-GPU vector of the input placement (e.g. `LayerEvaluation.gpuLoad`, `[gpus]`)
  /// to match `placement`: `out[g] = values[sourceGPU[g]]`.
  public func permuteGPUValues<T>(_ values: [T]) -> [T] {
    precondition(values.count == sourceGPU.count, "one value per GPU")
    return sourceGPU.map { values[$0] }
  }

  /// `statistics` of the input placement, with `gpuLoad` reordered to match `placement` (peak and
  /// mean do not change: the relabelled placement has the same GPU loads, on other GPU ids).
  public func apply(to statistics: LayerStatistics) -> LayerStatistics {
    var out = statistics
    out.evaluation.gpuLoad = permuteGPUValues(statistics.evaluation.gpuLoad)
    return out
  }
}

/// Why two placements cannot be relabelled against each other.
public enum RelabelError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The base and the new placement have different slot counts, or not `topology.replicas`.
  case differentSlots(base: Int, new: Int, replicas: Int)
  /// They count different logical experts (`logcnt` lengths).
  case differentExperts(base: Int, new: Int)
  /// A slot holds an expert id outside `0..<experts`.
  case expertOutOfRange(slot: Int, expert: Int, experts: Int, inBase: Bool)
  /// `replicas` is not a positive multiple of `gpus`.
  case badTopology(replicas: Int, gpus: Int)

  public var description: String {
    switch self {
    case .differentSlots(let b, let n, let r):
      return "the base placement has \(b) slots and the new one \(n), for --replicas \(r); relabel needs the same slots"
    case .differentExperts(let b, let n):
      return "the base placement has \(b) logical experts and the new one \(n); relabel needs the same experts"
    case .expertOutOfRange(let slot, let e, let experts, let inBase):
      return
        "\(inBase ? "the base" : "the new") placement puts expert \(e) in slot \(slot), outside 0 to \(experts - 1)"
    case .badTopology(let r, let g):
      return "--replicas \(r) is not a positive multiple of --gpus \(g)"
    }
  }
}

/// Relabels a placement so that it moves as few expert weights as possible from a base placement,
/// without changing any GPU's load.
///
/// Three symmetries keep every GPU's multiset of slot contents, hence its load on any load vector,
/// and `logcnt`: permuting the slots inside a GPU, permuting GPUs, and (hierarchical policy)
/// swapping whole nodes. Which GPUs may be permuted depends on the policy:
///
/// - `.hierarchical`: nodes keep their group sets as units (EPLB packs whole groups onto a node, so
///   a node's GPUs must stay together) but nodes may swap them, and GPUs may be permuted within a
///   node. Two nested assignment problems: for every (new node p, base node q) the optimal matching
///   of p's GPUs onto q's GPUs, then the optimal matching of nodes whose costs are those optima.
/// - `.global`: EPLB's global policy has no node structure, so any GPU may take any GPU's place;
///   one assignment problem over all GPUs. (When `--nodes` does not divide `--gpus` each GPU is its
///   own node, as in `diff`.)
///
/// The cost of putting new GPU i's contents on base GPU j is exact and separable: slots inside a
/// GPU are free to permute, so the experts GPU j already holds keep their slots (for an expert with
/// `n` replicas in i and `b` in j, `min(n, b)` slots stay), and each of the other `max(0, n − b)`
/// replicas is a move priced by `MoveCost` from its source class: `sameGPU` when `b > 0`, `sameNode`
/// when base node of j holds the expert, `crossNode` otherwise. Sources are in the base placement,
/// which does not move, so the cost of i → j does not depend on where the other GPUs go and the
/// assignment optimum is the true optimum over all allowed relabellings. The resulting counts are
/// exactly `diff`'s move classes.
///
/// Ties among optimal relabellings go to the one keeping the most GPUs (then nodes) in place: costs
/// are scaled by `n + 1` and 1 is added off the diagonal, so a plan that is already optimal keeps
/// its labels. Inside a GPU, slots whose base expert stays keep their index; the remaining experts
/// fill the free slots in increasing slot order, in the order the input placement lists them.
public enum Relabel {
  /// Relabels `new` against `base`; see the type's discussion.
  ///
  /// - parameter new: the placement to relabel, `phy2log [replicas]`, `logcnt [experts]`.
  /// - parameter base: the placement currently serving, same shapes.
  /// - parameter policy: `.auto` is resolved with `topology.resolve`.
  /// - parameter weights: prices of a move by source class; default `MoveCost.bandwidth`.
  /// - returns: the relabelled placement with the same multiset of slot contents on every GPU
  ///   (so the same per-GPU loads, permuted GPU ids) and the same `logcnt`, with moves before and after.
  /// - throws: `RelabelError` when the two placements do not fit the topology or each other.
  ///
  /// Complexity: O(gpus² · slotsPerGPU) to price the GPU pairs, plus O(nodes² · gpusPerNode³ +
  /// nodes³) (hierarchical) or O(gpus³) (global) for the assignments; memory O(gpus · experts).
  public static func minimizeMoves(
    _ new: LayerPlacement, base: LayerPlacement, topology: Topology, policy: PlacementPolicy,
    weights: MoveCost = .bandwidth
  ) throws(RelabelError) -> RelabelResult {
    try validate(new, base: base, topology: topology)
    let gpus = topology.gpus
    let b = base.physicalToLogical, p = new.physicalToLogical
    let experts = base.logicalCount.count
    let perNode = topology.gpusPerNode
    let nodes = gpus / perNode

    // Step 1: the price of new GPU i on base GPU j, [gpus][gpus].
    let price = pairCosts(new: p, base: b, experts: experts, topology: topology, weights: weights)

    // Step 2: where each new GPU goes, target GPU -> source GPU, [gpus].
    let sourceGPU =
      topology.resolve(policy) == .hierarchical && nodes > 1
      ? nodeSources(price: price, gpus: gpus, perNode: perNode) : gpuSources(price: price, gpus: gpus)

    // Step 3: slots inside each GPU; base experts that stay keep their slot index.
    let out = slotsInside(new: p, base: b, sourceGPU: sourceGPU, experts: experts, per: topology.slotsPerGPU)
    let placement = LayerPlacement(physicalToLogical: out, logicalCount: new.logicalCount)
    return RelabelResult(
      placement: placement, sourceGPU: sourceGPU,
      movesBefore: moves(from: base, to: new, topology: topology),
      movesAfter: moves(from: base, to: placement, topology: topology), weights: weights)
  }

  /// Throws `RelabelError` unless `new` and `base` fit `topology` and each other (slot counts,
  /// expert counts, experts in range).
  private static func validate(
    _ new: LayerPlacement, base: LayerPlacement, topology: Topology
  ) throws(RelabelError) {
    let replicas = topology.replicas, gpus = topology.gpus
    guard gpus > 0, replicas > 0, replicas % gpus == 0 else {
      throw .badTopology(replicas: replicas, gpus: gpus)
    }
    let b = base.physicalToLogical, p = new.physicalToLogical
    guard b.count == replicas, p.count == replicas else {
      throw .differentSlots(base: b.count, new: p.count, replicas: replicas)
    }
    let experts = base.logicalCount.count
    guard new.logicalCount.count == experts else {
      throw .differentExperts(base: experts, new: new.logicalCount.count)
    }
    for (slot, e) in b.enumerated() where e < 0 || e >= experts {
      throw .expertOutOfRange(slot: slot, expert: e, experts: experts, inBase: true)
    }
    for (slot, e) in p.enumerated() where e < 0 || e >= experts {
      throw .expertOutOfRange(slot: slot, expert: e, experts: experts, inBase: false)
    }
  }

  /// Step 2 under the hierarchical policy: new nodes onto base nodes, and inside each pair the
  /// GPUs, both by optimal assignments (`price`: `[gpus][gpus]`). Returns target GPU -> source
  /// GPU, `[gpus]`.
  private static func nodeSources(price: [Int], gpus: Int, perNode: Int) -> [Int] {
    let nodes = gpus / perNode
    // Inner problems: new node pn onto base node qn, [nodes][nodes] optimal GPU matchings.
    var inner: [[Assignment.Solution<Int>]] = []
    var nodeCost = [Int](repeating: 0, count: nodes * nodes)
    for pn in 0..<nodes {
      var row: [Assignment.Solution<Int>] = []
      for qn in 0..<nodes {
        var m = [Int](repeating: 0, count: perNode * perNode)
        for a in 0..<perNode {
          for c in 0..<perNode {
            m[a * perNode + c] = price[(pn * perNode + a) * gpus + qn * perNode + c]
          }
        }
        let solution = Assignment.solve(flat: preferDiagonal(m, n: perNode), n: perNode)
        var pure = 0
        for a in 0..<perNode { pure += m[a * perNode + solution.columnOfRow[a]] }
        nodeCost[pn * nodes + qn] = pure
        row.append(solution)
      }
      inner.append(row)
    }
    let outer = Assignment.solve(flat: preferDiagonal(nodeCost, n: nodes), n: nodes)
    var sourceGPU = [Int](repeating: 0, count: gpus)
    for pn in 0..<nodes {
      let qn = outer.columnOfRow[pn]
      for a in 0..<perNode { sourceGPU[qn * perNode + inner[pn][qn].columnOfRow[a]] = pn * perNode + a }
    }
    return sourceGPU
  }

  /// Step 2 under the global policy, or with a single node: any GPU may take any GPU's place,
  /// by one optimal assignment (`price`: `[gpus][gpus]`). Returns target GPU -> source GPU,
  /// `[gpus]`.
  private static func gpuSources(price: [Int], gpus: Int) -> [Int] {
    let solution = Assignment.solve(flat: preferDiagonal(price, n: gpus), n: gpus)
    var sourceGPU = [Int](repeating: 0, count: gpus)
    for i in 0..<gpus { sourceGPU[solution.columnOfRow[i]] = i }
    return sourceGPU
  }

  /// Step 3: target GPU j takes new GPU `sourceGPU[j]`'s experts (`p`, `b`: `phy2log
  /// [replicas]`, `per` slots per GPU); slots whose base expert stays keep it, the other experts
  /// fill the free slots in increasing slot order, in `p`'s order. Returns `phy2log [replicas]`.
  private static func slotsInside(new p: [Int], base b: [Int], sourceGPU: [Int], experts: Int, per: Int) -> [Int] {
    var out = [Int](repeating: -1, count: p.count)
    var remaining = [Int](repeating: 0, count: experts)
    for j in 0..<sourceGPU.count {
      let i = sourceGPU[j]
      for s in (i * per)..<((i + 1) * per) { remaining[p[s]] += 1 }
      for s in (j * per)..<((j + 1) * per) where remaining[b[s]] > 0 {
        out[s] = b[s]
        remaining[b[s]] -= 1
      }
      var free = j * per
      for s in (i * per)..<((i + 1) * per) where remaining[p[s]] > 0 {
        while out[free] >= 0 { free += 1 }
        out[free] = p[s]
        remaining[p[s]] -= 1
      }
    }
    return out
  }

  /// Counts the slots whose expert differs between `base` and `new`, by `diff`'s source classes.
  ///
  /// Both `phy2log` should have `topology.replicas` entries with non-negative expert ids (slots
  /// past the shorter one are ignored). The counts equal `PlacementDiff`'s `moves`.
  /// Complexity O(replicas + (gpus + nodes) · experts) time and memory.
  public static func moves(from base: LayerPlacement, to new: LayerPlacement, topology: Topology) -> MoveCounts {
    let b = base.physicalToLogical, p = new.physicalToLogical
    let experts = max(base.logicalCount.count, new.logicalCount.count, (b.max() ?? -1) + 1)
    let nodes = max(1, (topology.gpus + topology.gpusPerNode - 1) / topology.gpusPerNode)
    var onGPU = [Bool](repeating: false, count: topology.gpus * experts)
    var onNode = [Bool](repeating: false, count: nodes * experts)
    for (s, e) in b.enumerated() {
      let g = topology.gpu(ofSlot: s)
      onGPU[g * experts + e] = true
      onNode[topology.node(ofGPU: g) * experts + e] = true
    }
    var counts = MoveCounts()
    for s in 0..<min(b.count, p.count) where b[s] != p[s] {
      let e = p[s], g = topology.gpu(ofSlot: s)
      if e < experts && onGPU[g * experts + e] {
        counts.sameGPU += 1
      } else if e < experts && onNode[topology.node(ofGPU: g) * experts + e] {
        counts.sameNode += 1
      } else {
        counts.crossNode += 1
      }
    }
    return counts
  }

  /// `[gpus * gpus]`, row-major: the price of putting new GPU i's contents on base GPU j.
  static func pairCosts(new p: [Int], base b: [Int], experts: Int, topology: Topology, weights: MoveCost) -> [Int] {
    let gpus = topology.gpus, per = topology.slotsPerGPU
    let nodes = max(1, gpus / topology.gpusPerNode)
    // Replicas of each expert on each base GPU and base node: [gpus][experts], [nodes][experts].
    var onGPU = [Int](repeating: 0, count: gpus * experts)
    var onNode = [Int](repeating: 0, count: nodes * experts)
    for (s, e) in b.enumerated() {
      let g = s / per
      onGPU[g * experts + e] += 1
      onNode[topology.node(ofGPU: g) * experts + e] += 1
    }
    var price = [Int](repeating: 0, count: gpus * gpus)
    var distinct: [(expert: Int, count: Int)] = []
    distinct.reserveCapacity(per)
    for i in 0..<gpus {
      // The new GPU's contents as (expert, replicas), [≤ slotsPerGPU].
      distinct.removeAll(keepingCapacity: true)
      for s in (i * per)..<((i + 1) * per) {
        if let k = distinct.firstIndex(where: { $0.expert == p[s] }) {
          distinct[k].count += 1
        } else {
          distinct.append((p[s], 1))
        }
      }
      for j in 0..<gpus {
        let node = topology.node(ofGPU: j)
        var total = 0
        for (e, n) in distinct {
          let have = onGPU[j * experts + e]
          let extra = n - have
          if extra <= 0 { continue }
          let unit =
            have > 0 ? weights.sameGPU : (onNode[node * experts + e] > 0 ? weights.sameNode : weights.crossNode)
          total += extra * unit
        }
        price[i * gpus + j] = total
      }
    }
    return price
  }

  /// `cost · (n + 1) + (i ≠ j ? 1 : 0)`: the same optima, ties broken towards the most fixed points.
  static func preferDiagonal(_ cost: [Int], n: Int) -> [Int] {
    var out = cost
    for i in 0..<n {
      for j in 0..<n { out[i * n + j] = cost[i * n + j] * (n + 1) + (i == j ? 0 : 1) }
    }
    return out
  }
}
