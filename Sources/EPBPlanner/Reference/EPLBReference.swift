/// DeepSeek's eplb.py and the seed's `replicate_experts`, written to be read beside the Python:
/// the specification the fast planner (`EPLB`, `Planner`) is tested against.
///
/// One function per eplb.py function, on plain arrays, one layer at a time (eplb.py's rows are
/// independent: its `[X][n]` tensors are X of these rows). Nothing here is shared with the fast
/// path: no scratch, no heaps, no trees, no vector kernels, no shortcuts. It does share three
/// models of what torch itself does, because eplb.py's output depends on them and they are not
/// part of either path: `Libstdcxx.sort` (torch's CPU `sort`: libstdc++'s introsort on
/// (value, index) pairs comparing values, which fixes the order of equal loads), `TorchTopK.top2Exact`
/// (torch's `topk(k=2)`, the same) and the rule that torch's `max`/`argmax`/`argmin` return the
/// first extreme index.
///
/// Arithmetic: `T` is the arithmetic of the decisions. `rebalance_experts` casts the loads to
/// float32, so call it with `Float` to reproduce eplb.py bit for bit; its group sums are
/// correctly rounded (summed in `Double`, rounded once), as torch's wider partial sums give.
/// Cost: O(R · E) per layer for the replication (each pick scans every expert) and an
/// O(n log n) sort per packing: readable, and slower than the fast path, which is never its
/// concern.
public enum EPLBReference {
  /// One layer's placement: eplb.py's `phy2log [R]`, `phyrank [R]`, `logcnt [E]`.
  public struct Placement: Sendable, Equatable {
    /// `[R]`: the logical expert in each physical slot; slot s is on GPU s / (R / gpus).
    public var phy2log: [Int]
    /// `[R]`: each slot's replica rank among its expert's replicas.
    public var phyrank: [Int]
    /// `[E]`: replicas per logical expert.
    public var logcnt: [Int]
  }

  // MARK: - balanced_packing

  /// `balanced_packing(weight, num_packs)` for one row.
  ///
  /// ```python
  /// indices = weight.float().sort(-1, descending=True).indices
  /// for group in indices[i]:
  ///     pack = min((i for i in range(num_packs) if pack_items[i] < groups_per_pack),
  ///                key=pack_weights.__getitem__)
  ///     pack_index[i, group] = pack; rank_in_pack[i, group] = pack_items[pack]
  ///     pack_weights[pack] += weight[i, group]; pack_items[pack] += 1
  /// ```
  /// - parameter weight: `[n]`; `packs` divides n.
  /// - returns: `packIndex [n]`, `rankInPack [n]`; the identity and zeros with one item per pack.
  public static func balancedPacking<T: PlannerFloat>(_ weight: [T], packs: Int) -> (
    packIndex: [Int], rankInPack: [Int]
  ) {
    let n = weight.count
    precondition(packs > 0 && n % packs == 0, "num_groups % num_packs == 0")
    let perPack = n / packs
    if perPack == 1 { return (Array(0..<n), Array(repeating: 0, count: n)) }
    var packIndex = [Int](repeating: -1, count: n)
    var rankInPack = [Int](repeating: -1, count: n)
    var packWeights = [T](repeating: 0, count: packs)
    var packItems = [Int](repeating: 0, count: packs)
    for group in sortDescending(weight) {
      // Python's min: the first of the lightest packs that still have room.
      var pack = -1
      for p in 0..<packs where packItems[p] < perPack {
        if pack < 0 || packWeights[p] < packWeights[pack] { pack = p }
      }
      packIndex[group] = pack
      rankInPack[group] = packItems[pack]
      packWeights[pack] += weight[group]
      packItems[pack] += 1
    }
    return (packIndex, rankInPack)
  }

  /// `x.float().sort(descending=True).indices`: the indices of `x [n]` by descending float32
  /// value, equal values in the order libstdc++'s introsort leaves them.
  static func sortDescending<T: PlannerFloat>(_ x: [T]) -> [Int] {
    var pairs = x.indices.map { KeyedIndex(value: Double(Float(x[$0])), index: $0) }
    pairs.withUnsafeMutableBufferPointer { p in
      Libstdcxx.sort(p.baseAddress!, count: p.count) { $0.value > $1.value }
    }
    return pairs.map(\.index)
  }

  // MARK: - replicate_experts

  /// `replicate_experts(weight, num_phy)` for one row: eplb.py's (`deepseek`) or the seed's
  /// (`eplbDivisor`); every other algorithm replicates as eplb.py does.
  ///
  /// - parameter weight: `[E]`; `replicas` ≥ E.
  /// - returns: `phy2log [R]` (the identity, then the added replicas in pick order),
  ///   `phyrank [R]`, `logcnt [E]`.
  public static func replicateExperts<T: PlannerFloat>(
    _ weight: [T], replicas: Int, algorithm: PlacementAlgorithm
  ) -> Placement {
    algorithm == .eplbDivisor
      ? SeedReference.replicateExperts(weight, replicas: replicas)
      : replicateExpertsEPLB(weight, replicas: replicas)
  }

  /// eplb.py's `replicate_experts`:
  ///
  /// ```python
  /// for i in range(num_log, num_phy):
  ///     redundant_indices = (weight / logcnt).max(dim=-1).indices
  ///     phy2log[:, i] = redundant_indices
  ///     rank[:, i] = logcnt[arangen, redundant_indices]
  ///     logcnt[arangen, redundant_indices] += 1
  /// ```
  static func replicateExpertsEPLB<T: PlannerFloat>(_ weight: [T], replicas: Int) -> Placement {
    let n = weight.count
    precondition(n > 0 && replicas >= n, "num_redundant >= 0")
    var out = Placement(
      phy2log: Array(0..<replicas), phyrank: Array(repeating: 0, count: replicas),
      logcnt: Array(repeating: 1, count: n))
    for i in n..<replicas {
      let best = firstMax(weight.indices.map { weight[$0] / T(out.logcnt[$0]) })
      out.phy2log[i] = best
      out.phyrank[i] = out.logcnt[best]
      out.logcnt[best] += 1
    }
    return out
  }

  /// torch's `max(dim=-1).indices` / `argmax`: the first index of the largest value.
  static func firstMax<T: Comparable>(_ x: [T]) -> Int {
    var best = 0
    for i in x.indices where x[i] > x[best] { best = i }
    return best
  }

  // MARK: - rebalance_experts

  /// `rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus)` for one layer:
  /// the hierarchical policy when `groups % nodes == 0`, else the same with one group and one
  /// node (the global policy).
  ///
  /// - parameter weight: `[E]` (eplb.py: `weight.float()`, so `T` = `Float` reproduces it).
  public static func rebalanceExperts<T: PlannerFloat>(
    _ weight: [T], replicas: Int, groups: Int, nodes: Int, gpus: Int, algorithm: PlacementAlgorithm
  ) -> Placement {
    groups % nodes == 0
      ? rebalanceExpertsHierarchical(
        weight, replicas: replicas, groups: groups, nodes: nodes, gpus: gpus, algorithm: algorithm)
      : rebalanceExpertsHierarchical(weight, replicas: replicas, groups: 1, nodes: 1, gpus: gpus, algorithm: algorithm)
  }

  /// `rebalance_experts_hierarchical` for one layer, in its three steps. Index names as in
  /// eplb.py: `log` a logical expert, `mlog` a logical expert renumbered node-major after the
  /// group packing, `phy` a physical slot within a node before GPU packing, `pphy` the slot
  /// after it (the answer's slot numbering).
  public static func rebalanceExpertsHierarchical<T: PlannerFloat>(
    _ weight: [T], replicas: Int, groups: Int, nodes: Int, gpus: Int, algorithm: PlacementAlgorithm
  ) -> Placement {
    let experts = weight.count
    precondition(experts % groups == 0 && groups % nodes == 0 && gpus % nodes == 0 && replicas % gpus == 0)
    let groupSize = experts / groups
    let groupsPerNode = groups / nodes
    let phyPerGPU = replicas / gpus
    let logPerNode = experts / nodes
    let phyPerNode = replicas / nodes

    // Step 1: pack groups to nodes.
    // tokens_per_group [groups] = weight.unflatten(-1, (groups, group_size)).sum(-1)
    let tokensPerGroup = (0..<groups).map { g in
      T(weight[g * groupSize..<(g + 1) * groupSize].reduce(0.0) { $0 + Double($1) })
    }
    let (groupPack, groupRank) = balancedPacking(tokensPerGroup, packs: nodes)
    // log2mlog [E] = ((group_pack_index * groups_per_node + group_rank_in_pack) * group_size) + arange(group_size)
    var log2mlog = [Int](repeating: 0, count: experts)
    for log in 0..<experts {
      let g = log / groupSize
      log2mlog[log] = (groupPack[g] * groupsPerNode + groupRank[g]) * groupSize + log % groupSize
    }
    let mlog2log = inverse(log2mlog)

    // Step 2: construct redundant experts within nodes.
    // tokens_per_mlog [nodes][E / nodes] = weight.gather(-1, mlog2log)
    var pphy2log = [Int](repeating: 0, count: replicas)
    var pphyrank = [Int](repeating: 0, count: replicas)
    var mlogcnt = [Int](repeating: 0, count: experts)
    for node in 0..<nodes {
      let tokensPerMlog = (0..<logPerNode).map { weight[mlog2log[node * logPerNode + $0]] }
      let replicated = replicateExperts(tokensPerMlog, replicas: phyPerNode, algorithm: algorithm)
      let (phy2mlog, phyrank) = (replicated.phy2log, replicated.phyrank)
      for m in 0..<logPerNode { mlogcnt[node * logPerNode + m] = replicated.logcnt[m] }

      // Step 3: pack physical experts to GPUs.
      // tokens_per_phy [R / nodes] = (tokens_per_mlog / mlogcnt).gather(-1, phy2mlog)
      let tokensPerPhy = phy2mlog.map { tokensPerMlog[$0] / T(replicated.logcnt[$0]) }
      let (packIndex, rankInPack) = balancedPacking(tokensPerPhy, packs: gpus / nodes)
      // phy2pphy = pack_index * phy_experts_per_gpu + rank_in_pack; pphy2phy = inverse(phy2pphy)
      let pphy2phy = inverse(zip(packIndex, rankInPack).map { $0 * phyPerGPU + $1 })
      for p in 0..<phyPerNode {
        // pphy2mlog = phy2mlog.gather(-1, pphy2phy) + node offset; pphy2log = mlog2log.gather(-1, pphy2mlog)
        let pphy2mlog = phy2mlog[pphy2phy[p]] + node * logPerNode
        pphy2log[node * phyPerNode + p] = mlog2log[pphy2mlog]
        pphyrank[node * phyPerNode + p] = phyrank[pphy2phy[p]]
      }
    }
    // logcnt [E] = mlogcnt.gather(-1, log2mlog)
    return Placement(phy2log: pphy2log, phyrank: pphyrank, logcnt: log2mlog.map { mlogcnt[$0] })
  }

  /// eplb.py's `inverse(perm)`: `inv[perm[i]] = i`.
  static func inverse(_ perm: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: perm.count)
    for (i, p) in perm.enumerated() { inv[p] = i }
    return inv
  }
}
