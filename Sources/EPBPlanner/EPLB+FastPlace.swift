extension EPLB {
  /// `placeHierarchical` without `rank`, in `Float` (the planner's path): the same `phy2log`
  /// and `logcnt`, node by node, from one sort of each node's experts.
  ///
  /// - parameter weight: `[experts]`. Writes `phy2log [replicas]` and `logcnt [experts]`, and
  ///   leaves each node's sorted expert keys in `scratch.layer.nodeKeys` (`scratch.nodesSorted`) for
  ///   `Planner.noReplicationPeak`.
  ///
  /// Per node (`L` experts, `P` added replicas, loads `w`), the steps of `FastNode`:
  /// 1. Sort the node's experts once by descending `w`, lower index first on ties (the keys
  ///    `FastOrder.key(w[j], j)` and `FastOrder.sortIndexed`), O(L log L).
  /// 2. Replicate. `.deepseek`: D'Hondt restricted to the first `k = min(P, L)` experts of
  ///    that order (`greedyCounts`), O(k + P log k); why this is exact: see there. `.eplbDivisor`:
  ///    the same bulk, then the tail and fix-up on candidates from that order (`seedCounts`),
  ///    or `seedReplicate` as is when a tie would need torch's order.
  /// 3. Order the replicas by load per replica, one key each. Experts with one replica keep
  ///    their place in the sorted order; the others (at most `P`) are re-keyed by
  ///    `w / count`, sorted, repeated `count` times and merged in (branch-free, with
  ///    sentinels). The replicas of one expert are interchangeable without `rank` (see
  ///    `FastOrder`): torch's sort puts them in one run of equal values, and each packing
  ///    decision depends only on the loads placed before it, so any order inside the run
  ///    gives the same expert in every slot. This is torch's order up to such permutations
  ///    unless two different experts have equal load per replica, which the merge checks
  ///    (adjacent equal values, different keys): such a node is packed again in torch's exact
  ///    order (`Libstdcxx.sortByHighHalf` on the replicas in torch's column order: the
  ///    identity, then the added replicas as `greedyCounts` or `seedCounts` recorded them, or
  ///    as `replicate` wrote them). A node of 128 or more one-replica experts checks them for
  ///    equal neighbours first and, if it finds any, skips the fast packing. A node with a NaN or a negative load takes the exact path
  ///    (`placeNodeExact`). Elsewhere loads are `+0` or more, which the keys' cheaper
  ///    encodings use.
  /// 4. Pack: each replica to the first lightest GPU of its node with room, straight into its
  ///    slot, on `PackTree`, in the merge's loop, O(R log GPUs). A tied node's exact order is
  ///    packed the same way.
  ///
  /// Needs `replicas / gpus > 1` (with one slot per GPU eplb.py's packing is the identity on
  /// the replication's column order, which this path does not build).
  static func placeHierarchicalFast(
    _ weight: UnsafePointer<Float>, experts: Int, replicas: Int, groups: Int, nodes: Int, gpus: Int,
    algorithm: PlacementAlgorithm, phy2log: UnsafeMutablePointer<Int>, logcnt: UnsafeMutablePointer<Int>,
    scratch: Scratch<Float>
  ) {
    let phyPerGPU = replicas / gpus
    let logPerNode = experts / nodes
    let phyPerNode = replicas / nodes
    let gpusPerNode = gpus / nodes
    precondition(phyPerGPU > 1, "the fast path needs several slots per GPU")

    // Step 1: pack groups to nodes. → mlog2log [experts]
    packGroups(weight, experts: experts, groups: groups, nodes: nodes, scratch: scratch)
    let mlog2log = scratch.layer.mlog2log
    // With one group per node `mlog2log` is the identity: the nodes read `weight` in place,
    // and the counts are copied out, not scattered.
    let identity = groups == nodes
    let tokensPerMlog = scratch.layer.tokensPerMlog
    if identity {
      tokensPerMlog.update(from: weight, count: experts)
    } else {
      for m in 0..<experts { tokensPerMlog[m] = weight[mlog2log[m]] }
    }
    var sorted = true
    for node in 0..<nodes {
      let n = FastNode(
        node: node, experts: logPerNode, replicas: phyPerNode, gpus: gpusPerNode, perGPU: phyPerGPU,
        logical: mlog2log + node * logPerNode, out: phy2log + node * phyPerNode, scratch: scratch)
      // 1. Sort; a node with a NaN or a negative load takes the exact path.
      if !n.sort() {
        sorted = false
        placeNodeExact(
          node: node, experts: experts, replicas: replicas, nodes: nodes, gpus: gpus, algorithm: algorithm,
          phy2log: phy2log, rank: nil, scratch: scratch)
        continue
      }
      // 2. Replicate. 3. The packing order. 4. Pack; a tie packs again in torch's exact order.
      n.replicate(algorithm)
      let order = n.packingOrder()
      if n.pack(order) { n.packInTorchOrder() }
    }
    scratch.nodesSorted = sorted
    let mlogcnt = scratch.layer.mlogcnt
    if identity {
      logcnt.update(from: mlogcnt, count: experts)
    } else {
      for m in 0..<experts { logcnt[mlog2log[m]] = mlogcnt[m] }  // mlog2log is a permutation
    }
  }

  /// One node of `placeHierarchicalFast`, its steps 1 to 4 as methods, each on the node's own
  /// slices of the scratch: `w` (`tokensPerMlog`, `[L]`), `sorted` (`nodeKeys`, `[L]`), `count`
  /// (`mlogcnt`, `[L]`), `columns` (`phy2mlog`, `[R]`, torch's replica columns), `out`
  /// (`phy2log`, `[R]`), all in `scratch.layer`; each step's working memory is its phase's
  /// (`layer.unsortedKeys` for the sort, `replication`, `packing`).
  struct FastNode {
    let experts: Int  // L, the node's logical experts
    let replicas: Int  // R, the node's slots
    let gpus: Int
    let perGPU: Int
    let w: UnsafeMutablePointer<Float>
    let sorted: UnsafeMutablePointer<UInt64>
    let count: UnsafeMutablePointer<Int>
    let columns: UnsafeMutablePointer<Int>
    let ranks: UnsafeMutablePointer<Int>
    /// Node-local expert → logical expert.
    let logical: UnsafePointer<Int>
    let out: UnsafeMutablePointer<Int>
    let scratch: Scratch<Float>

    init(
      node: Int, experts: Int, replicas: Int, gpus: Int, perGPU: Int, logical: UnsafePointer<Int>,
      out: UnsafeMutablePointer<Int>, scratch: Scratch<Float>
    ) {
      (self.experts, self.replicas, self.gpus, self.perGPU) = (experts, replicas, gpus, perGPU)
      w = scratch.layer.tokensPerMlog + node * experts
      sorted = scratch.layer.nodeKeys + node * experts
      count = scratch.layer.mlogcnt + node * experts
      columns = scratch.layer.phy2mlog + node * replicas
      ranks = scratch.layer.phyrank + node * replicas
      (self.logical, self.out, self.scratch) = (logical, out, scratch)
    }

    /// Step 1: the experts by descending load, lower index first on ties, into `sorted` (keys
    /// `FastOrder.key(w[j], j)`). False, with `sorted` written, when a load is NaN or negative.
    func sort() -> Bool {
      let fresh = scratch.layer.unsortedKeys
      var usual = true
      for j in 0..<experts {
        usual = usual && w[j] >= 0
        fresh[j] = FastOrder.key(w[j], j)
      }
      FastOrder.sortIndexed(fresh, into: sorted, count: experts)
      return usual
    }

    /// Step 2: `count` (replicas per expert) and the added replicas' experts in torch's column
    /// order in `columns[L..<R]` (for a tie in step 4). `.deepseek` (and every algorithm that
    /// replicates as eplb.py does): `greedyCounts`; `.eplbDivisor`: `seedCounts`, or the exact
    /// `replicate` when a tie would need torch's order.
    func replicate(_ algorithm: PlacementAlgorithm) {
      let picks = replicas - experts
      switch algorithm {
      case .deepseek, .robust, .flashlb, .deepseekVec, .snake, .swiftBalancer:
        for j in 0..<experts { count[j] = 1 }
        EPLB.greedyCounts(
          w, sorted: sorted, experts: experts, picks: picks, count: count, scratch: scratch.replication,
          picked: columns + experts)
      case .eplbDivisor:
        if !EPLB.seedCounts(
          w, sorted: sorted, experts: experts, replicas: replicas, count: count, scratch: scratch.replication,
          picked: columns + experts)
        {
          EPLB.replicate(
            w, experts: experts, replicas: replicas, algorithm: .eplbDivisor, phy2log: columns, rank: ranks,
            logcnt: count, scratch: scratch.replication)
        }
      }
    }

    /// Step 3's result: two ascending key lists of loads per replica, each ending in a sentinel
    /// key above every real one, whose merge is the packing order.
    struct PackingOrder {
      /// The one-replica experts' keys in sorted order, `[ones + 1]`.
      var ones: UnsafeMutablePointer<UInt64>
      var oneCount: Int
      /// The multi-replica experts' keys `(w / count, j)`, each repeated `count` times, `[+ 1]`.
      var repeated: UnsafeMutablePointer<UInt64>
    }

    /// Step 3: experts with one replica keep their place in the sorted order; the others are
    /// re-keyed by `w / count`, sorted and repeated `count` times. In `packing.sortKeys`: the ones
    /// `[L + 1]`, the multi keys `[m]` and their sort's other half `[m]`, the repeated `[R + 1]`.
    func packingOrder() -> PackingOrder {
      let ones = scratch.packing.sortKeys
      var oneCount = 0
      for s in 0..<experts {
        let k = sorted[s]
        ones[oneCount] = k
        oneCount &+= count[FastOrder.index(k)] == 1 ? 1 : 0
      }
      ones[oneCount] = .max  // every key is smaller (indices are < 2^32 - 1)
      let multiKeys = ones + (experts + 1)
      var m = 0
      for j in 0..<experts where count[j] != 1 {
        multiKeys[m] = FastOrder.keyNonNegative(w[j] / Float(count[j]), j)
        m += 1
      }
      let multiSorted = FastOrder.sortAscending(multiKeys, multiKeys + m, count: m)
      let repeated = multiKeys + 2 * m
      var q = 0
      for i in 0..<m {
        let k = multiSorted[i]
        for _ in 0..<count[FastOrder.index(k)] {
          repeated[q] = k
          q += 1
        }
      }
      repeated[q] = .max
      return PackingOrder(ones: ones, oneCount: oneCount, repeated: repeated)
    }

    /// Step 4: each replica of the merged order to the first lightest GPU with room, straight
    /// into its slot (`PackTree`). Returns true when two different experts have equal load per
    /// replica (equal high halves, different keys): torch's order of that run could differ, so
    /// the caller packs the node again in torch's order (`packInTorchOrder`).
    ///
    /// Equal values among the ones (neighbours in their sorted order) are such a run in any
    /// merge; in a large node (128 ones or more) they are common enough that the ones are
    /// checked first and the node goes to the exact order at once, instead of being packed
    /// twice. The check: four ORs of `(a ^ b) >> 32 - 1`, whose top bit is set when neighbours
    /// `a`, `b` have equal values.
    func pack(_ order: PackingOrder) -> Bool {
      let ones = order.ones, repeated = order.repeated
      if order.oneCount >= 128 {
        var equal0: UInt64 = 0, equal1: UInt64 = 0, equal2: UInt64 = 0, equal3: UInt64 = 0
        var s = 0
        while s &+ 4 < order.oneCount {
          equal0 |= ((ones[s] ^ ones[s &+ 1]) >> 32) &- 1
          equal1 |= ((ones[s &+ 1] ^ ones[s &+ 2]) >> 32) &- 1
          equal2 |= ((ones[s &+ 2] ^ ones[s &+ 3]) >> 32) &- 1
          equal3 |= ((ones[s &+ 3] ^ ones[s &+ 4]) >> 32) &- 1
          s &+= 4
        }
        while s &+ 1 < order.oneCount {
          equal0 |= ((ones[s] ^ ones[s &+ 1]) >> 32) &- 1
          s &+= 1
        }
        if (equal0 | equal1 | equal2 | equal3) >> 63 != 0 { return true }
      }
      var tree = PackTree(packs: gpus, perPack: perGPU, nonNegative: true, scratch: scratch.packing)
      var a = 0, b = 0
      var previous = UInt64.max
      var ties = 0
      for _ in 0..<replicas {
        // Written with `min` and 0/1 steps: as `fromMulti ? y : x` LLVM emitted a branch,
        // mispredicted at every multi-replica expert.
        let x = ones[a], y = repeated[b]
        let k = Swift.min(x, y)
        let step = y < x ? 1 : 0
        b &+= step
        a &+= 1 &- step
        // Equal values (high halves), different keys: `d` in 1...2^32 - 1.
        let d = previous ^ k
        ties |= d &- 1 < 0xffff_ffff ? 1 : 0
        previous = k
        out[tree.addSlot(FastOrder.nonNegativeValue(k))] = logical[FastOrder.index(k)]
      }
      return ties != 0
    }

    /// Step 4 in torch's exact order: the replicas' columns in torch's order are the identity,
    /// then the added replicas as step 2 recorded them in `columns`; torch's sort of their loads
    /// per replica is emulated (`Libstdcxx.sortByHighHalf`: values compared in the keys' high
    /// halves) and the node packed in that order.
    func packInTorchOrder() {
      let keys = scratch.packing.sortKeys  // [R], then the sort's other half [R]
      for p in 0..<replicas {
        let j = p < experts ? p : columns[p]
        keys[p] = FastOrder.keyNonNegative(w[j] / Float(count[j]), p)
      }
      Libstdcxx.sortByHighHalf(keys, count: replicas, stops: scratch.packing.sortStops, buffer: keys + replicas)
      var exact = PackTree(packs: gpus, perPack: perGPU, nonNegative: true, scratch: scratch.packing)
      for k in 0..<replicas {
        let p = FastOrder.index(keys[k])
        let j = p < experts ? p : columns[p]
        out[exact.addSlot(FastOrder.nonNegativeValue(keys[k]))] = logical[j]
      }
    }
  }

  /// D'Hondt's greedy (`greedyReplicate`) on one row, counts only: `picks` times one more
  /// replica for the largest `w / count` (in `Float`), the lowest index among equal values.
  ///
  /// - parameter w: `[experts]`, `+0` or more (`-0` too), no NaN.
  /// - parameter sorted: `[experts]` keys of `FastOrder.key(w[j], j)`, ascending (descending
  ///   `w`, lower index first). `count`: `[experts]`, all 1 on entry; the final counts on exit.
  ///
  /// Only the first `k = min(picks, experts)` experts of `sorted` can gain a replica. Why:
  /// suppose expert `e` outside them gains one; at that pick its value is `w[e] / 1`, the
  /// largest, first on ties. Each of the `k` experts before it has `w ≥ w[e]` (lower index if
  /// equal), so with one replica it would beat `e`: all `k` already hold a second replica,
  /// which takes `k ≥ picks` earlier picks, a contradiction. So the greedy runs on a binary
  /// heap over those `k` ordered by (value descending, index ascending), exactly torch's
  /// first argmax. O(k + picks · log k). Uses `scratch.heapKeys`.
  ///
  /// - parameter picked: `[picks]`: the expert of each pick, in order (the columns
  ///   `greedyReplicate` appends after the identity).
  @inline(__always)
  static func greedyCounts(
    _ w: UnsafePointer<Float>, sorted: UnsafePointer<UInt64>, experts n: Int, picks: Int,
    count: UnsafeMutablePointer<Int>, scratch: Scratch<Float>.Replication, picked: UnsafeMutablePointer<Int>
  ) {
    if picks == 0 { return }
    let k = Swift.min(picks, n)
    // A min-heap of keys `FastOrder.key(w / count, expert)`: one integer order for (value
    // descending, index ascending), so a child is chosen by a select, not a mispredicted
    // branch. `sorted`'s first `k` keys are ascending, already a heap, in `scratch.heapKeys`
    // ([k + 1]).
    let heap = scratch.heapKeys
    heap.update(from: sorted, count: k)
    heap[k] = .max  // a right child past the end never wins
    for pick in 0..<picks {
      let best = FastOrder.index(heap[0])
      picked[pick] = best
      let c = count[best] + 1
      count[best] = c
      let key = FastOrder.keyNonNegative(w[best] / Float(c), best)
      var i = 0
      while true {
        let left = 2 &* i &+ 1
        if left >= k { break }
        // `left + 1 <= k`: a right child past the end is the sentinel. The child as
        // `left + (r < l)`, an add with carry: as a select of `left` and `right`, LLVM
        // emitted a branch, mispredicted about every other level.
        let l = heap[left], r = heap[left &+ 1]
        let smaller = Swift.min(l, r)
        if smaller > key { break }  // keys are distinct
        heap[i] = smaller
        i = left &+ (r < l ? 1 : 0)
      }
      heap[i] = key
    }
  }

  /// The seed's replication (`seedReplicate`) on one row, counts only, from the row's sorted
  /// order; returns false, with `count` undefined, when a tie makes the shortcut unsafe (the
  /// caller then runs `replicate`).
  ///
  /// - parameter sorted: `[experts]` keys of `FastOrder.key(w[j], j)`, ascending (descending
  ///   `w`, lower index first); `count`: `[experts]`, written.
  ///
  /// Why it is exact: the bulk is D'Hondt, `greedyCounts`. Every scan of `seedReplicate` after
  /// it (second-highest average, the Sainte-Laguë and Huntington–Hill argmaxes, the fix-up's
  /// top two) ranks experts by a function of `w` and the count alone, so among experts that
  /// still have one replica the order is the sorted order: only its first few (or last few)
  /// can win, and those are taken with every multi-replica expert as the candidates, with the
  /// same arithmetic and the same tie rules. For the Sainte-Laguë pick the first one-replica
  /// expert beats the others (`w / 1`, then the smaller average, which is `w` again, then the
  /// index). For Huntington–Hill, `w / √2` can round distinct `w` to one value, and then the
  /// smaller average wins: the run of equal values at the front is scanned. The fix-up is
  /// skipped when a bound shows that no donor can pass its test (see there); else its donors
  /// and receivers come from the three largest and the three smallest candidates, and when
  /// the top two are not strictly ordered and apart from the rest (torch's tie order would
  /// matter), this returns false. O(k log k + tail · k) for `k` multi-replica experts, against
  /// O(experts) per scan for `seedReplicate`.
  ///
  /// `picked`: `[replicas - experts]`, the added replicas' experts in `seedReplicate`'s column
  /// order (the bulk's picks, the tail's, then the fix-up's receiver in place of the donor's
  /// last column); valid when this returns true.
  static func seedCounts(
    _ w: UnsafePointer<Float>, sorted: UnsafePointer<UInt64>, experts n: Int, replicas: Int,
    count: UnsafeMutablePointer<Int>, scratch: Scratch<Float>.Replication, picked: UnsafeMutablePointer<Int>
  ) -> Bool {
    let redundant = replicas - n
    for j in 0..<n { count[j] = 1 }
    if redundant == 0 { return true }
    if n < 4 { return false }
    let tail = Swift.max(1, (redundant + 9) / 10)
    let bulk = Swift.max(0, redundant - tail)
    greedyCounts(w, sorted: sorted, experts: n, picks: bulk, count: count, scratch: scratch, picked: picked)
    var state = SeedCounts(w, sorted: sorted, experts: n, bulk: bulk, count: count, scratch: scratch)
    for step in 0..<tail { picked[bulk + step] = state.tailStep() }
    if state.fixUpMovesNothing() { return true }
    guard let (donors, receivers) = state.fixUpCandidates() else { return false }
    if let (d, r) = seedFixUpMove(
      w, logcnt: count, donors: donors, receivers: receivers,
      average: (state.average(donors.0), state.average(donors.1)))
    {
      count[d] -= 1
      count[r] += 1
      // The donor's replica of highest rank is its last column (it has more than one).
      var q = redundant - 1
      while picked[q] != d { q -= 1 }
      picked[q] = r
    }
    return true
  }

  /// The state of `seedCounts` after D'Hondt's bulk: the multi-replica experts (`multi`, in
  /// `scratch.multi`, with their average, Sainte-Laguë and Huntington–Hill values cached by
  /// position), the one-replica experts read from `sorted` past `lead`.
  struct SeedCounts {
    let w: UnsafePointer<Float>
    let sorted: UnsafePointer<UInt64>
    let n: Int
    let count: UnsafeMutablePointer<Int>
    let multi: UnsafeMutablePointer<Int>  // [≤ redundant]
    var m = 0
    /// `sorted[0..<lead]` hold multi-replica experts only, so the ones in sorted order start at
    /// or after `lead` (D'Hondt's multi-replica experts are a prefix of the order).
    var lead = 0
    let cachedAvg: UnsafeMutablePointer<Float>
    let cachedSL: UnsafeMutablePointer<Float>
    let cachedHH: UnsafeMutablePointer<Float>

    init(
      _ w: UnsafePointer<Float>, sorted: UnsafePointer<UInt64>, experts n: Int, bulk: Int,
      count: UnsafeMutablePointer<Int>, scratch: Scratch<Float>.Replication
    ) {
      (self.w, self.sorted, self.n, self.count) = (w, sorted, n, count)
      multi = scratch.multi
      (cachedAvg, cachedSL, cachedHH) = (scratch.average, scratch.sainteLague, scratch.huntingtonHill)
      // The first min(bulk, n) of `sorted` can hold the multi-replica experts.
      for s in 0..<Swift.min(bulk, n) {
        let j = FastOrder.index(sorted[s])
        if count[j] > 1 {
          multi[m] = j
          m += 1
        }
      }
      while lead < n && count[FastOrder.index(sorted[lead])] > 1 { lead += 1 }
      for k in 0..<m { cache(k) }
    }

    // The values `seedReplicate`'s `refresh` computes, in the same `Float` expressions.
    func average(_ e: Int) -> Float { w[e] / Float(count[e]) }
    func sainteLague(_ e: Int) -> Float { w[e] / (2 * Float(count[e]) - 1) }
    func huntingtonHill(_ e: Int) -> Float {
      let r = Float(count[e])
      return w[e] / (r * (r + 1)).squareRoot()
    }

    /// Caches the three values of `multi[k]`, when its count changes.
    func cache(_ k: Int) {
      let e = multi[k]
      (cachedAvg[k], cachedSL[k], cachedHH[k]) = (average(e), sainteLague(e), huntingtonHill(e))
    }

    /// `argmaxTiebreak`'s order: larger benefit, then smaller average, then lower index.
    static func better(_ b: Float, _ a: Float, _ e: Int, than bb: Float, _ ba: Float, _ be: Int) -> Bool {
      b > bb || (b == bb && (a < ba || (a == ba && e < be)))
    }

    /// Visits the one-replica experts in sorted order (from the end with `fromEnd`) while
    /// `body` returns true.
    func forEachOne(fromEnd: Bool = false, _ body: (Int) -> Bool) {
      var s = fromEnd ? n - 1 : lead
      while s >= 0 && s < n {
        let j = FastOrder.index(sorted[s])
        if count[j] == 1 && !body(j) { return }
        s += fromEnd ? -1 : 1
      }
    }

    /// The largest and second largest of `values` (ties count twice).
    struct TopTwo {
      var top1 = -Float.infinity, top2 = -Float.infinity
      mutating func push(_ v: Float) {
        if v > top1 {
          (top2, top1) = (top1, v)
        } else if v > top2 {
          top2 = v
        }
      }
    }

    /// One tail step: Sainte-Laguë's and Huntington–Hill's candidates over multi ∪ the front
    /// one-replica experts, `seedTailChoice` between them; counts the pick and returns it.
    mutating func tailStep() -> Int {
      var firstOnes: (Int, Int) = (-1, -1)
      forEachOne { j in
        if firstOnes.0 < 0 {
          firstOnes.0 = j
          return true
        }
        firstOnes.1 = j
        return false
      }
      var top = TopTwo()
      var idxS = -1, bS = -Float.infinity, aS = Float.infinity  // over multi ∪ the first one
      var idxH = -1, bH = -Float.infinity, aH = Float.infinity  // over multi ∪ the front run of w / √2
      for k in 0..<m {
        let (e, a, vs, vh) = (multi[k], cachedAvg[k], cachedSL[k], cachedHH[k])
        top.push(a)
        if idxS < 0 || Self.better(vs, a, e, than: bS, aS, idxS) { (idxS, bS, aS) = (e, vs, a) }
        if idxH < 0 || Self.better(vh, a, e, than: bH, aH, idxH) { (idxH, bH, aH) = (e, vh, a) }
      }
      if firstOnes.0 >= 0 { top.push(w[firstOnes.0]) }
      if firstOnes.1 >= 0 { top.push(w[firstOnes.1]) }
      if firstOnes.0 >= 0 {
        // With one replica `sl` is `w / 1 = w` and `hh` is `w / √2` (the same `Float`
        // operations on a count of 1; √2 folds to a constant).
        let e = firstOnes.0
        if idxS < 0 || Self.better(w[e], w[e], e, than: bS, aS, idxS) { (idxS, bS, aS) = (e, w[e], w[e]) }
        let root2 = Float(2).squareRoot()
        let front = w[e] / root2
        forEachOne { j in
          let v = w[j] / root2
          if v != front { return false }  // non-increasing along the order: the run has ended
          if idxH < 0 || Self.better(v, w[j], j, than: bH, aH, idxH) { (idxH, bH, aH) = (j, v, w[j]) }
          return true
        }
      }
      let best = EPLB.seedTailChoice(w, logcnt: count, sainteLague: idxS, huntingtonHill: idxH, second: top.top2)
      var position = m
      if count[best] == 1 {
        multi[m] = best
        m += 1
      } else {
        position = 0
        while multi[position] != best { position += 1 }
      }
      count[best] += 1
      cache(position)
      while lead < n && count[FastOrder.index(sorted[lead])] > 1 { lead += 1 }
      return best
    }

    /// True when a bound proves that the fix-up moves nothing (as on every node of the
    /// DeepSeek-V3 prefill statistics). A move needs `peak + 1e-12 < curMax` with
    /// `peak ≥ newD = w[d] / (count[d] − 1)` (in `Double`) for a donor `d` of the two largest
    /// averages. The first donor is the maximum, `curMax = w / c` in `Float`: `w / (c − 1)`
    /// exceeds it by the factor `c / (c − 1)`, far beyond rounding (or both are 0 or +∞), so
    /// it never passes. The second has average `S`, the second largest value counted with
    /// ties (as the donors are), so `w / c ≥ S (1 − 2⁻²⁴)`, and a count `c` of at most `C`, the
    /// largest count: `newD ≥ S · C / (C − 1) · (1 − 2⁻²³)`. When `S · C / (C − 1) · (1 − 10⁻⁶)`
    /// is at least `curMax`, no donor passes, torch's order of any ties cannot matter, and
    /// the counts stand. The largest averages are among the multi-replica experts' and the
    /// first two one-replica experts' loads.
    func fixUpMovesNothing() -> Bool {
      var top1 = -Float.infinity, top2 = -Float.infinity  // S is top2, curMax top1
      func offer(_ v: Float) {
        top2 = Swift.max(top2, Swift.min(top1, v))
        top1 = Swift.max(top1, v)
      }
      var most = 1  // C
      for k in 0..<m {
        offer(cachedAvg[k])
        most = Swift.max(most, count[multi[k]])
      }
      var seen = 0
      forEachOne { j in
        offer(w[j])
        seen += 1
        return seen < 2
      }
      return most == 1 || Double(top2) * (Double(most) / Double(most - 1)) * (1 - 1e-6) >= Double(top1)
    }

    /// The fix-up's donors (top two averages) and receivers (bottom two) over multi ∪ the three
    /// largest and the three smallest one-replica experts, in torch's `topk` order; nil unless
    /// the top three and the bottom three are strictly ordered (then torch's order of a tie
    /// would matter, and the caller takes the exact path).
    func fixUpCandidates() -> (donors: (Int, Int), receivers: (Int, Int))? {
      var d0 = -1, d1 = -1, r0 = -1, r1 = -1
      var v1 = -Float.infinity, v2 = -Float.infinity, v3 = -Float.infinity
      var u1 = Float.infinity, u2 = Float.infinity, u3 = Float.infinity
      func push(_ v: Float, _ e: Int) {
        if v > v1 {
          (v3, v2, d1, v1, d0) = (v2, v1, d0, v, e)
        } else if v > v2 {
          (v3, v2, d1) = (v2, v, e)
        } else if v >= v3 {
          v3 = v
        }
        if v < u1 {
          (u3, u2, r1, u1, r0) = (u2, u1, r0, v, e)
        } else if v < u2 {
          (u3, u2, r1) = (u2, v, e)
        } else if v <= u3 {
          u3 = v
        }
      }
      for k in 0..<m { push(cachedAvg[k], multi[k]) }
      for end in 0..<2 {
        var found = 0
        forEachOne(fromEnd: end == 1) { j in
          push(w[j], j)
          found += 1
          return found < 3
        }
      }
      // The first three and the last three ones may overlap (a few ones only): still fine,
      // an expert pushed twice only makes the strictness test fail, never pass wrongly.
      guard d1 >= 0, r1 >= 0, v1 > v2, v2 > v3, u1 < u2, u2 < u3 else { return nil }
      return ((d0, d1), (r0, r1))
    }
  }

  /// One node of `placeHierarchical` (steps 2 and 3), exact torch tie order; see there.
  /// Expects `scratch.layer.tokensPerMlog` and `mlog2log`; writes the node's part of `phy2log`,
  /// `rank` (if given), `scratch.layer.mlogcnt`, `phy2mlog`, `phyrank`.
  static func placeNodeExact<T: PlannerFloat>(
    node: Int, experts: Int, replicas: Int, nodes: Int, gpus: Int, algorithm: PlacementAlgorithm,
    phy2log: UnsafeMutablePointer<Int>, rank: UnsafeMutablePointer<Int>?, scratch: Scratch<T>
  ) {
    let phyPerGPU = replicas / gpus
    let logPerNode = experts / nodes
    let phyPerNode = replicas / nodes
    let gpusPerNode = gpus / nodes
    let phyBase = node * phyPerNode
    let logBase = node * logPerNode
    let tokensPerMlog = scratch.layer.tokensPerMlog
    let phy2mlog = scratch.layer.phy2mlog
    let phyrank = scratch.layer.phyrank
    let mlogcnt = scratch.layer.mlogcnt
    let mlog2log = scratch.layer.mlog2log
    replicate(
      tokensPerMlog + logBase, experts: logPerNode, replicas: phyPerNode, algorithm: algorithm,
      phy2log: phy2mlog + phyBase, rank: phyrank + phyBase, logcnt: mlogcnt + logBase, scratch: scratch.replication)
    let tokensPerPhy = scratch.packing.tokensPerPhy
    let packIndex = scratch.packing.packIndex
    let rankInPack = scratch.packing.rankInPack
    let pphy2phy = scratch.packing.pphy2phy
    for p in 0..<phyPerNode {
      let m = logBase + phy2mlog[phyBase + p]
      tokensPerPhy[phyBase + p] = tokensPerMlog[m] / T(mlogcnt[m])
    }
    // Without `rank`, replicas of one expert are interchangeable: ties among them need no
    // exact order (see `FastOrder`).
    packBalanced(
      tokensPerPhy + phyBase, count: phyPerNode, packs: gpusPerNode, packIndex: packIndex + phyBase,
      rankInPack: rankInPack + phyBase, tieClass: rank == nil ? UnsafePointer(phy2mlog + phyBase) : nil,
      scratch: scratch.packing)
    for p in 0..<phyPerNode {
      let pphy = packIndex[phyBase + p] * phyPerGPU + rankInPack[phyBase + p]
      pphy2phy[phyBase + pphy] = p
    }
    // pphy2log [replicas]: slot → node-local replica → node-local expert → logical expert
    for s in 0..<phyPerNode {
      let phy = phyBase + pphy2phy[phyBase + s]
      phy2log[phyBase + s] = mlog2log[logBase + phy2mlog[phy]]
      rank?[phyBase + s] = phyrank[phy]
    }
  }
}
