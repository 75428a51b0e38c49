/// DeepSeek's expert-parallelism load balancer (EPLB), step for step, plus the seed's variant of
/// its replication step.
///
/// Each helper mirrors one function of eplb.py and can be tested alone: `balancedPacking`,
/// `replicateExperts`, `rebalanceHierarchical`. The arithmetic type `T` is the arithmetic of
/// the decisions: eplb.py's `rebalance_experts` casts the loads to float32, so the planner
/// decides in `Float`; the `replicate_experts` golden cases run in float64 and use `Double`.
public enum EPLB {
  /// The output of one replication step for one row of loads.
  public struct Replication: Sendable, Equatable {
    /// `phy2log`, `[replicas]`: the logical expert of each replica; the first `experts` are the
    /// identity, the rest are added replicas in pick order.
    public var physicalToLogical: [Int]
    /// `rank`, `[replicas]`: the replica rank of each replica among its expert's replicas.
    public var rank: [Int]
    /// `logcnt`, `[experts]`: replicas per logical expert.
    public var logicalCount: [Int]
  }

  /// Replicates `weight.count` logical experts to `replicas` replicas, as eplb.py's
  /// `replicate_experts` (`.deepseek`) or the seed's version of it (`.eplbDivisor`).
  ///
  /// - parameter weight: `[experts]`, the load of each logical expert; `T` is the arithmetic.
  /// - parameter replicas: total replicas, at least `weight.count`.
  /// - returns: `phy2log [replicas]`, `rank [replicas]`, `logcnt [experts]`.
  ///
  /// `.deepseek` gives each added replica to the expert with the largest `weight / logcnt`,
  /// the first such index on ties. `.eplbDivisor`: see `seedReplicate`.
  /// Complexity: O(experts + added · log experts) for `.deepseek`; the seed adds O(experts) per
  /// tail pick (at most ⌈added / 10⌉ of them) and one O(experts) fix-up.
  public static func replicateExperts<T: PlannerFloat>(
    _ weight: [T], replicas: Int, algorithm: PlacementAlgorithm
  ) -> Replication {
    let n = weight.count
    precondition(n > 0 && replicas >= n, "replicas must be at least the number of experts")
    let scratch = Scratch<T>(experts: n, replicas: replicas, gpus: 1)
    var phy2log = [Int](repeating: 0, count: replicas)
    var rank = [Int](repeating: 0, count: replicas)
    var logcnt = [Int](repeating: 0, count: n)
    weight.withUnsafeBufferPointer { w in
      phy2log.withUnsafeMutableBufferPointer { p in
        rank.withUnsafeMutableBufferPointer { r in
          logcnt.withUnsafeMutableBufferPointer { c in
            replicate(
              w.baseAddress!, experts: n, replicas: replicas, algorithm: algorithm, phy2log: p.baseAddress!,
              rank: r.baseAddress!, logcnt: c.baseAddress!, scratch: scratch.replication)
          }
        }
      }
    }
    return Replication(physicalToLogical: phy2log, rank: rank, logicalCount: logcnt)
  }

  /// The allocation-free core of `replicateExperts` for one row.
  ///
  /// - parameter weight: `[experts]`; `phy2log`, `rank`: `[replicas]`; `logcnt`: `[experts]`.
  @inline(__always)
  static func replicate<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, experts n: Int, replicas: Int, algorithm: PlacementAlgorithm,
    phy2log: UnsafeMutablePointer<Int>, rank: UnsafeMutablePointer<Int>, logcnt: UnsafeMutablePointer<Int>,
    scratch: Scratch<T>.Replication
  ) {
    // Step 1: one replica per logical expert. phy2log [replicas], rank [replicas], logcnt [n]
    for e in 0..<n {
      phy2log[e] = e
      rank[e] = 0
      logcnt[e] = 1
    }
    let redundant = replicas - n
    if redundant == 0 { return }
    switch algorithm {
    case .deepseek, .robust, .flashlb, .deepseekVec, .snake, .swiftBalancer:
      // Step 2: every added replica to the largest load per replica.
      greedyReplicate(
        weight, experts: n, picks: redundant, column: n, phy2log: phy2log, rank: rank, logcnt: logcnt,
        scratch: scratch)
    case .eplbDivisor:
      seedReplicate(
        weight, experts: n, replicas: replicas, phy2log: phy2log, rank: rank, logcnt: logcnt, scratch: scratch)
    }
  }

  /// D'Hondt greedy: `picks` times, one more replica for the expert with the largest
  /// `weight / logcnt` (computed in `T`, as `weight / logcnt` in torch), the lowest index among
  /// equal values (torch's CPU `max(dim).indices` returns the first maximum).
  ///
  /// A binary max-heap ordered by (value descending, index ascending) holds every expert's
  /// current value, so its root is exactly torch's argmax. Writes replicas into columns
  /// `column..<column + picks`. Uses `scratch.average` and `scratch.heap` (`[experts]`), which
  /// it leaves holding `weight / logcnt`. Complexity O(experts + picks · log experts).
  @inline(__always)
  static func greedyReplicate<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, experts n: Int, picks: Int, column: Int, phy2log: UnsafeMutablePointer<Int>,
    rank: UnsafeMutablePointer<Int>, logcnt: UnsafeMutablePointer<Int>, scratch: Scratch<T>.Replication
  ) {
    let value = scratch.average
    let heap = scratch.heap
    for e in 0..<n {
      value[e] = weight[e] / T(logcnt[e])
      heap[e] = e
    }
    if picks == 0 { return }
    @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
      let va = value[a], vb = value[b]
      return va > vb || (va == vb && a < b)
    }
    @inline(__always) func siftDown(_ start: Int) { IndexHeap.siftDown(heap, count: n, from: start, by: before) }
    IndexHeap.heapify(heap, count: n, by: before)
    for col in column..<(column + picks) {
      let best = heap[0]
      phy2log[col] = best
      rank[col] = logcnt[best]
      logcnt[best] += 1
      value[best] = weight[best] / T(logcnt[best])
      siftDown(0)
    }
  }
}
