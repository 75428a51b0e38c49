extension EPLB {
  /// The placement of one layer: `phy2log`, replica `rank` and `logcnt`.
  public struct Rebalance: Sendable, Equatable {
    /// `phy2log`, `[replicas]`: the logical expert of each slot; slot `s` is on GPU `s / (replicas / gpus)`.
    public var physicalToLogical: [Int]
    /// `[replicas]`: the replica rank of each slot among its expert's replicas.
    public var rank: [Int]
    /// `logcnt`, `[experts]`: replicas per logical expert.
    public var logicalCount: [Int]
  }

  /// eplb.py's `rebalance_experts` for one layer: the hierarchical policy when
  /// `groups % nodes == 0`, else the global policy (the same routine with one group and one node).
  ///
  /// - parameter weight: `[experts]`, loads; `T` is the arithmetic (eplb.py: `Float`).
  public static func rebalance<T: PlannerFloat>(
    _ weight: [T], replicas: Int, groups: Int, nodes: Int, gpus: Int, algorithm: PlacementAlgorithm
  ) -> Rebalance {
    if groups % nodes == 0 {
      return rebalanceHierarchical(
        weight, replicas: replicas, groups: groups, nodes: nodes, gpus: gpus, algorithm: algorithm)
    }
    return rebalanceHierarchical(weight, replicas: replicas, groups: 1, nodes: 1, gpus: gpus, algorithm: algorithm)
  }

  /// eplb.py's `rebalance_experts_hierarchical` for one layer.
  ///
  /// - parameter weight: `[experts]`, loads (any unit); `T` is the arithmetic.
  /// - parameter replicas: slots, a multiple of `gpus` and of `nodes`, at least `experts`.
  /// - parameter groups: expert groups, dividing `experts`, a multiple of `nodes`.
  /// - parameter nodes: nodes, dividing `gpus`. `gpus`: GPUs.
  /// - returns: `phy2log [replicas]`, `rank [replicas]`, `logcnt [experts]`.
  ///
  /// Step 1 packs groups onto nodes (`balancedPacking` of group loads), step 2 replicates each
  /// node's experts to `replicas / nodes` slots (`replicateExperts`), step 3 packs each node's
  /// replicas onto its GPUs by load per replica. Complexity O(replicas · (log replicas + GPUs
  /// per node)) plus the replication step.
  public static func rebalanceHierarchical<T: PlannerFloat>(
    _ weight: [T], replicas: Int, groups: Int, nodes: Int, gpus: Int, algorithm: PlacementAlgorithm
  ) -> Rebalance {
    let e = weight.count
    precondition(e > 0 && e % groups == 0 && groups % nodes == 0 && gpus % nodes == 0, "bad shape")
    precondition(replicas % gpus == 0 && replicas >= e, "bad replica count")
    let scratch = Scratch<T>(experts: e, replicas: replicas, gpus: gpus)
    var phy2log = [Int](repeating: 0, count: replicas)
    var rank = [Int](repeating: 0, count: replicas)
    var logcnt = [Int](repeating: 0, count: e)
    weight.withUnsafeBufferPointer { w in
      phy2log.withUnsafeMutableBufferPointer { p in
        rank.withUnsafeMutableBufferPointer { r in
          logcnt.withUnsafeMutableBufferPointer { c in
            placeHierarchical(
              w.baseAddress!, experts: e, replicas: replicas, groups: groups, nodes: nodes, gpus: gpus,
              algorithm: algorithm, phy2log: p.baseAddress!, rank: r.baseAddress, logcnt: c.baseAddress!,
              scratch: scratch)
          }
        }
      }
    }
    return Rebalance(physicalToLogical: phy2log, rank: rank, logicalCount: logcnt)
  }

  /// The allocation-free core of `rebalanceHierarchical` (see there).
  ///
  /// - parameter weight: `[experts]`. Writes `phy2log [replicas]`, `rank [replicas]` (if given)
  ///   and `logcnt [experts]`. Uses every part of `scratch` but `statistics` and `layer.weight`.
  ///
  /// `phy2log` and `logcnt` are eplb.py's exactly either way. Without `rank`, replicas of one
  /// expert with equal load per replica are interchangeable in step 3, so their relative order
  /// (torch's tie order) is not reconstructed, which saves the exact sort in most layers.
  /// (`placeHierarchicalFast` is the faster path for that case in `Float`.)
  static func placeHierarchical<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, experts: Int, replicas: Int, groups: Int, nodes: Int, gpus: Int,
    algorithm: PlacementAlgorithm, phy2log: UnsafeMutablePointer<Int>, rank: UnsafeMutablePointer<Int>?,
    logcnt: UnsafeMutablePointer<Int>, scratch: Scratch<T>
  ) {
    // Step 1: pack groups to nodes. → mlog2log [experts]
    packGroups(weight, experts: experts, groups: groups, nodes: nodes, scratch: scratch)
    let mlog2log = scratch.layer.mlog2log

    // Steps 2 and 3, node by node: replicate within the node, pack its replicas onto its GPUs.
    // tokensPerMlog [nodes][logPerNode] → mlogcnt [nodes][logPerNode], phy2log [nodes][phyPerNode]
    let tokensPerMlog = scratch.layer.tokensPerMlog
    for m in 0..<experts { tokensPerMlog[m] = weight[mlog2log[m]] }
    for node in 0..<nodes {
      placeNodeExact(
        node: node, experts: experts, replicas: replicas, nodes: nodes, gpus: gpus, algorithm: algorithm,
        phy2log: phy2log, rank: rank, scratch: scratch)
    }
    let mlogcnt = scratch.layer.mlogcnt
    // logcnt [experts] = mlogcnt scattered through mlog2log (a permutation)
    for m in 0..<experts { logcnt[mlog2log[m]] = mlogcnt[m] }
  }

  /// Step 1 of `placeHierarchical`: packs the groups onto the nodes by their total load
  /// (`balancedPacking`, exact torch tie order) and writes `scratch.layer.mlog2log` (`[experts]`,
  /// node-major "mlog" index → logical expert; a permutation, so its inverse is never needed
  /// as such). The identity when there is one group per node (eplb.py's packing is the
  /// identity then). O(experts).
  @inline(__always)
  static func packGroups<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, experts: Int, groups: Int, nodes: Int, scratch: Scratch<T>
  ) {
    let groupSize = experts / groups
    let groupsPerNode = groups / nodes
    let mlog2log = scratch.layer.mlog2log
    if groupsPerNode == 1 {
      for i in 0..<experts { mlog2log[i] = i }
      return
    }
    let tokensPerGroup = scratch.grouping.groupTokens
    for g in 0..<groups {
      // torch sums float32 with wider partial sums; summing in Double and rounding once
      // gives the correctly rounded sum (exact for integer loads below 2^53, in any order,
      // so `Summation.sum`'s four partial sums are fine).
      tokensPerGroup[g] = T(Summation.sum(weight + g * groupSize, groupSize))
    }
    packBalanced(
      tokensPerGroup, count: groups, packs: nodes, packIndex: scratch.grouping.groupPack,
      rankInPack: scratch.grouping.groupRank, scratch: scratch.packing)
    for g in 0..<groups {
      let base = (scratch.grouping.groupPack[g] * groupsPerNode + scratch.grouping.groupRank[g]) * groupSize
      for j in 0..<groupSize {
        mlog2log[base + j] = g * groupSize + j
      }
    }
  }
}
