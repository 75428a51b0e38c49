/// What the placement policy itself costs: upper bounds on the weighted balancedness any
/// placement can reach on a load, for the global policy and for the hierarchical one, where
/// every expert group must sit whole on one node.
///
/// Per layer, with `mean` = total / GPUs:
/// - **global bound**: no placement has a peak below `max(mean, t*)`, where `t*` is the smallest
///   possible maximum load per replica with `replicas` replicas and at least one per expert
///   (D'Hondt's greedy attains it). Balancedness ≤ `mean / max(mean, t*)`.
/// - **hierarchical cap**: groups are packed whole onto nodes, `groups / nodes` per node (as
///   EPLB's balanced packing requires). Replicas only split load among the GPUs of one node, so
///   the most loaded node carries at least `M*`, the smallest possible maximum node load over all
///   such packings, and one of its GPUs at least `M* / gpusPerNode`. The peak is at least
///   `max(mean, t*, M* / gpusPerNode)`; balancedness ≤ `mean / that`.
///   `M*` is computed exactly by branch and bound over the packings (groups heaviest first,
///   symmetric nodes tried once) when that search stays under `searchLimit` nodes, which it does
///   for DeepSeek-V3's 8 groups on 4 nodes (105 packings); otherwise the best packing found is
///   used, which over-estimates `M*`, and `exact` is false.
/// - **EPLB packing cap**: the same with the node load of EPLB's own greedy balanced packing of
///   groups (heaviest group first onto the lightest node with room), so users see what the
///   greedy step costs on top of the policy.
///
/// Model-level values are weighted like `balancedness_weighted`: Σ mean / Σ bound over layers.
public struct PolicyLimits: Sendable, Equatable {
  /// Σ mean / Σ max(mean, t*): the best weighted balancedness under the global policy.
  public var globalBound: Double
  /// Σ mean / Σ max(mean, t*, M*/gpusPerNode); nil when the topology cannot be hierarchical
  /// (`groups % nodes != 0`, `gpus % nodes != 0` or `experts % groups != 0`).
  public var hierarchicalCap: Double?
  /// As `hierarchicalCap` with EPLB's greedy group packing instead of the optimal one.
  public var eplbPackingCap: Double?
  /// True when every layer's `M*` was found exactly (see the type's discussion).
  public var exact: Bool

  /// Branch-and-bound nodes allowed per layer before falling back to the best packing found.
  public static let searchLimit = 200_000

  /// The limits of `loads` (`[layers][experts]`, any unit) on `topology`; all-zero layers are ignored.
  ///
  /// Complexity per layer: O(experts + (replicas − experts) · experts) for `t*`, plus the packing
  /// search (at most `searchLimit` nodes).
  public init(loads: LoadMatrix, topology: Topology) {
    var sumMean = 0.0, sumGlobal = 0.0, sumHier = 0.0, sumEPLB = 0.0
    var exact = true
    let hierarchical = Self.hierarchicalFeasible(experts: loads.experts, topology: topology)
    for l in 0..<loads.layers {
      let row = loads.row(l)
      let total = row.reduce(0, +)
      if total <= 0 { continue }
      let mean = total / Double(topology.gpus)
      let global = max(mean, Self.maxLoadPerReplica(row, replicas: topology.replicas))
      sumMean += mean
      sumGlobal += global
      if hierarchical {
        let groupLoad = Self.groupLoads(row, groups: topology.groups)
        let packing = Self.minMaxNodeLoad(groupLoad, nodes: topology.nodes)
        exact = exact && packing.exact
        let gpn = Double(topology.gpus / topology.nodes)
        sumHier += max(global, packing.optimal / gpn)
        sumEPLB += max(global, packing.greedy / gpn)
      }
    }
    globalBound = sumGlobal > 0 ? sumMean / sumGlobal : 1
    hierarchicalCap = hierarchical ? (sumHier > 0 ? sumMean / sumHier : 1) : nil
    eplbPackingCap = hierarchical ? (sumEPLB > 0 ? sumMean / sumEPLB : 1) : nil
    self.exact = exact
  }

  public init(globalBound: Double, hierarchicalCap: Double?, eplbPackingCap: Double?, exact: Bool) {
    self.globalBound = globalBound
    self.hierarchicalCap = hierarchicalCap
    self.eplbPackingCap = eplbPackingCap
    self.exact = exact
  }

  /// Whether whole groups can be packed onto nodes for `experts` experts.
  public static func hierarchicalFeasible(experts: Int, topology t: Topology) -> Bool {
    t.groups > 0 && t.nodes > 0 && t.groups % t.nodes == 0 && t.gpus % t.nodes == 0 && experts % t.groups == 0
  }

  /// `[groups]`: the load of each group of `experts / groups` consecutive experts.
  public static func groupLoads(_ load: ArraySlice<Double>, groups: Int) -> [Double] {
    let size = load.count / groups
    var out = [Double](repeating: 0, count: groups)
    for (i, v) in load.enumerated() { out[i / size] += v }
    return out
  }

  /// `t*`: the smallest possible max of `load[e] / count[e]` over integer counts ≥ 1 summing to
  /// `replicas` (D'Hondt: repeatedly give one more replica to the largest load per replica).
  /// O(experts · (replicas − experts)).
  public static func maxLoadPerReplica(_ load: ArraySlice<Double>, replicas: Int) -> Double {
    let w = Array(load)
    if w.isEmpty { return 0 }
    var count = [Int](repeating: 1, count: w.count)
    for _ in 0..<max(0, replicas - w.count) {
      var best = 0
      for e in 1..<w.count where w[e] / Double(count[e]) > w[best] / Double(count[best]) { best = e }
      count[best] += 1
    }
    var top = 0.0
    for e in 0..<w.count { top = max(top, w[e] / Double(count[e])) }
    return top
  }

  /// The smallest maximum node load over packings of `groupLoad` onto `nodes` nodes with
  /// `groups / nodes` groups each (`optimal`, exact when `exact`), and the maximum node load of
  /// EPLB's greedy balanced packing (`greedy`).
  public static func minMaxNodeLoad(_ groupLoad: [Double], nodes: Int) -> (optimal: Double, greedy: Double, exact: Bool)
  {
    let n = groupLoad.count
    let perNode = n / nodes
    let order = (0..<n).sorted { groupLoad[$0] > groupLoad[$1] || (groupLoad[$0] == groupLoad[$1] && $0 < $1) }
    // Greedy balanced packing, as EPLB: heaviest first onto the lightest node with room (first on ties).
    var load = [Double](repeating: 0, count: nodes)
    var items = [Int](repeating: 0, count: nodes)
    for g in order {
      var best = -1
      for p in 0..<nodes where items[p] < perNode && (best < 0 || load[p] < load[best]) { best = p }
      load[best] += groupLoad[g]
      items[best] += 1
    }
    let greedy = load.max() ?? 0
    // Branch and bound, heaviest group first; nodes in the same state are tried once.
    var best = greedy
    var visited = 0
    var aborted = false
    for p in 0..<nodes {
      load[p] = 0
      items[p] = 0
    }
    func search(_ k: Int, _ currentMax: Double) {
      if aborted { return }
      visited += 1
      if visited > searchLimit {
        aborted = true
        return
      }
      if currentMax >= best { return }
      if k == n {
        best = currentMax
        return
      }
      let w = groupLoad[order[k]]
      var tried: [(Double, Int)] = []
      for p in 0..<nodes where items[p] < perNode {
        if tried.contains(where: { $0.0 == load[p] && $0.1 == items[p] }) { continue }
        tried.append((load[p], items[p]))
        let before = load[p]
        load[p] = before + w
        items[p] += 1
        search(k + 1, max(currentMax, load[p]))
        load[p] = before
        items[p] -= 1
      }
    }
    search(0, 0)
    return (best, greedy, !aborted)
  }
}
