/// The `swift-balancer` peer: vLLM-Ascend's SwiftBalancer, an incremental plan.
///
/// Source: vllm-project/vllm-ascend, `vllm_ascend/eplb/core/policy/policy_swift_balancer.py`
/// (`SwiftBalanceEplb.rebalance_experts` and the helpers it calls). From the current placement
/// (the base) and the window's per-expert load, per layer:
///
/// 1. if the base's peak / mean is below 1.01, the base is kept;
/// 2. in each rank set (the cluster; each node in node mode), every expert's first slot
///    (scanning slot position, then GPU) stays: its primary; the other slots are redundant and
///    re-chosen: redundant counts by repeatedly giving one to the heaviest expert (ties: the
///    higher expert id), whose weight becomes `w · (c + 1) / (c + 2)` for its `c`-th copy (the
///    source's quirk: one copy too many in the divisor), at most `ranks − 1` each; the copies,
///    heaviest first, each onto the lightest GPU with a free redundant slot that lacks the expert
///    and has received nothing yet from the expert's primary GPU (at most one transfer per GPU
///    pair); slots still free take the heaviest expert (by actual load per copy) they lack;
/// 3. up to 100 times: the hottest GPU swaps one expert with the lightest GPU (in load order)
///    with which it has not exchanged yet, the pair that most lowers the larger of the two
///    loads, if it lowers the hottest load by at least 1% of the mean GPU load; swapped-in and
///    received experts are not swapped again;
/// 4. the result is kept if its (estimated) peak / mean is below the base's, and aligned slot by
///    slot to the base (an expert that stays on a GPU keeps its slot).
///
/// Under the hierarchical policy it runs in node mode (`is_node_redundant`: redundancy and swaps
/// within each node, the node's experts where the base has them). Without a base it starts, as
/// vLLM-Ascend does, from vLLM's checkpoint layout `slot % experts` (all experts, then copies of
/// experts 0, 1, …); under the hierarchical policy from that layout within each node after
/// EPLB's group packing (node `k`'s slots hold its experts in mlog order, then copies of its
/// first ones), and likewise when the base splits a group over nodes.
///
/// Deviations: the mean load for the 1% threshold and step 4 is this layer's (the source uses
/// layer 0's total for every layer); the source's `set`s are iterated in ascending expert id
/// (Python iterates them in hash order, which decides only exact ties and, in step 4, the order of
/// new experts within a GPU); where a free slot finds no expert it lacks (the source raises), it
/// takes the heaviest expert of the rank set. Loads per GPU are `Float` as there. Every layer is
/// planned (the source's "change only if the total peak drops 5%" is left to `--min-gain`).
///
/// Complexity per layer: O(experts · redundant) for the counts, O(redundant · GPUs) to place
/// them, then at most 100 swap rounds of O(GPUs · slots per GPU²).
enum SwiftBalancer {
  static let maxTransfersPerPair = 1
  static let imbalanceThreshold = 1.01
  static let swapIncrement = 0.01
  static let maxSwapTimes = 100

  /// One layer. `load`: `[experts]`; `base`: `phy2log` `[replicas]` or nil; `mlog2log`: EPLB's
  /// group packing (`[experts]`, node-major) for the start without a base.
  /// - returns: `phy2log` `[replicas]`.
  static func place(
    load: [Double], base: [Int]?, mlog2log: [Int], topology: Topology, nodeMode: Bool, groups: Int
  ) -> [Int] {
    let experts = load.count
    let replicas = topology.replicas
    let gpus = topology.gpus
    let per = replicas / gpus
    let nodes = nodeMode ? topology.nodes : 1
    var start: [Int]
    if let base, base.count == replicas, base.allSatisfy({ $0 >= 0 && $0 < experts }),
      Set(base).count == experts, !nodeMode || keepsGroups(base, experts: experts, groups: groups, nodes: nodes)
    {
      start = base
    } else if nodeMode {
      let perNode = experts / nodes
      let slotsPerNode = replicas / nodes
      start = (0..<replicas).map { s in mlog2log[(s / slotsPerNode) * perNode + (s % slotsPerNode) % perNode] }
    } else {
      start = (0..<replicas).map { $0 % experts }
    }
    // Step 1: the base's imbalance (`calculate_imbalance`).
    var count = [Int](repeating: 0, count: experts)
    for e in start { count[e] += 1 }
    var peak = 0.0, total = 0.0
    for g in 0..<gpus {
      var l = 0.0
      for k in 0..<per {
        let e = start[g * per + k]
        l += load[e] / Double(count[e])
      }
      total += l
      peak = max(peak, l)
    }
    let average = total / Double(gpus)
    let imbalance = abs(average) < 1e-9 ? 1.0 : peak / average
    if imbalance < imbalanceThreshold { return start }
    let threshold = average * swapIncrement
    let ranksPerNode = gpus / nodes
    var result = [[Int]]()
    var newPeak: Double = 0
    for node in 0..<nodes {
      let rows = (0..<ranksPerNode).map { r in
        Array(start[((node * ranksPerNode + r) * per)..<((node * ranksPerNode + r + 1) * per)])
      }
      var state = redundancyAgain(load: load, deployment: rows)
      let nodePeak = exchange(&state, threshold: threshold)
      newPeak = max(newPeak, nodePeak)
      result.append(contentsOf: state.sets)
    }
    var deployment = (0..<gpus).map { Array(start[($0 * per)..<(($0 + 1) * per)]) }
    if average > 0 && newPeak / average < imbalance {
      deployment = result
    }
    // Step 4: `constraint_expert_local_exchange`.
    var out = [Int](repeating: -1, count: replicas)
    for g in 0..<gpus {
      let old = Array(start[(g * per)..<((g + 1) * per)])
      var matched = [Bool](repeating: false, count: per)
      var remaining: [Int] = []
      for e in deployment[g] {
        if let j = (0..<per).first(where: { old[$0] == e && !matched[$0] }) {
          matched[j] = true
          out[g * per + j] = e
        } else {
          remaining.append(e)
        }
      }
      var next = 0
      for k in 0..<per where !matched[k] {
        out[g * per + k] = remaining[next]
        next += 1
      }
    }
    return out
  }

  /// True when every group's replicas sit on one node (slot-node-major, as `Topology`).
  static func keepsGroups(_ phy2log: [Int], experts: Int, groups: Int, nodes: Int) -> Bool {
    let groupSize = experts / groups
    let slotsPerNode = phy2log.count / nodes
    var nodeOfGroup = [Int](repeating: -1, count: groups)
    for (s, e) in phy2log.enumerated() {
      let g = e / groupSize
      if nodeOfGroup[g] >= 0 && nodeOfGroup[g] != s / slotsPerNode { return false }
      nodeOfGroup[g] = s / slotsPerNode
    }
    return true
  }

  /// One rank set after step 2: the GPUs' experts, their `Float` loads, the experts' weights,
  /// the transfers per (sender, receiver) GPU pair and the experts each GPU received.
  struct RankSet {
    var sets: [[Int]]
    var loads: [Float]
    var weights: [Float]
    var transfers: [[Int]]
    /// `[ranks][experts]`: rank r received expert e.
    var received: [[Bool]]

    /// True when rank `r` received expert `e` (never for an empty slot's −1).
    func hasReceived(_ r: Int, _ e: Int) -> Bool { e >= 0 && received[r][e] }
  }

  /// `redundancy_again` for one rank set. `deployment`: `[ranks][per]` of expert ids.
  static func redundancyAgain(load: [Double], deployment: [[Int]]) -> RankSet {
    var spread = ExpertSpread(deployment, experts: load.count)
    let (weights, copies) = redundantAssignments(load: load, spread: spread, ranks: deployment.count)
    var state = nonRedundantInformation(deployment, redundantPositions: spread.redundantPositions, weights: weights)
    distributeRedundant(copies, into: &state, fromRank: spread.fromRank, free: &spread.redundantPositions)
    if spread.redundantPositions.contains(where: { !$0.isEmpty }) {
      fillInUndeployed(&state, load: load, spread: spread)
    }
    return state
  }

  /// `statistics_expert_distribution` of one rank set: each expert's first slot (by slot
  /// position, then rank) is its primary, every other slot is redundant.
  private struct ExpertSpread {
    /// `[ranks]`, the redundant slot positions of each rank, in increasing position.
    var redundantPositions: [[Int]]
    /// `[experts]`, the rank of each expert's primary (0 for experts not deployed).
    var fromRank: [Int]
    /// The deployed experts, in increasing id.
    var existing: [Int]
    /// The number of redundant slots.
    var redundant: Int

    init(_ deployment: [[Int]], experts: Int) {
      let ranks = deployment.count
      let per = deployment.first?.count ?? 0
      redundantPositions = [[Int]](repeating: [], count: ranks)
      fromRank = [Int](repeating: 0, count: experts)
      redundant = 0
      var seen = [Bool](repeating: false, count: experts)
      for index in 0..<per {
        for r in 0..<ranks {
          let e = deployment[r][index]
          if !seen[e] {
            seen[e] = true
            fromRank[e] = r
          } else {
            redundantPositions[r].append(index)
            redundant += 1
          }
        }
      }
      existing = (0..<experts).filter { seen[$0] }
    }
  }

  /// `compute_redundant_assignments`: the redundant counts, one at a time to the heaviest expert
  /// (ties: the later one), at most `ranks − 1` each. Returns the experts' weights (`[experts]`,
  /// 0 for experts not deployed) and the copies to place, heaviest first (stable, as Python's
  /// `sort(reverse=True)`).
  private static func redundantAssignments(
    load: [Double], spread: ExpertSpread, ranks: Int
  ) -> (weights: [Float], copies: [(expert: Int, weight: Float)]) {
    let existing = spread.existing
    let experts = load.count
    var current = existing.map { load[$0] }
    var assigned = [Int](repeating: 0, count: experts)
    for _ in 0..<spread.redundant {
      var pick = -1
      for i in 0..<existing.count where assigned[existing[i]] + 1 < ranks {
        if pick < 0 || current[i] >= current[pick] { pick = i }
      }
      guard pick >= 0 else { continue }
      let e = existing[pick]
      let c = Double(assigned[e] + 1)
      current[pick] = current[pick] * (c + 1) / (c + 2)
      assigned[e] += 1
    }
    var weights = [Float](repeating: 0, count: experts)
    for (i, e) in existing.enumerated() { weights[e] = Float(current[i]) }
    var copies: [(expert: Int, weight: Float)] = []
    for e in 0..<experts { for _ in 0..<assigned[e] { copies.append((e, weights[e])) } }
    copies = copies.enumerated().sorted {
      $0.element.weight > $1.element.weight || ($0.element.weight == $1.element.weight && $0.offset < $1.offset)
    }.map(\.element)
    return (weights, copies)
  }

  /// `non_redundant_expert_information`: the rank set with its redundant slots emptied (−1)
  /// and each rank's load over the primaries it keeps; no transfers yet.
  private static func nonRedundantInformation(
    _ deployment: [[Int]], redundantPositions: [[Int]], weights: [Float]
  ) -> RankSet {
    let ranks = deployment.count
    let per = deployment.first?.count ?? 0
    var sets = deployment
    var loads = [Float](repeating: 0, count: ranks)
    for r in 0..<ranks {
      for index in 0..<per {
        if redundantPositions[r].contains(index) {
          sets[r][index] = -1
        } else {
          loads[r] += weights[sets[r][index]]
        }
      }
    }
    return RankSet(
      sets: sets, loads: loads, weights: weights,
      transfers: [[Int]](repeating: [Int](repeating: 0, count: ranks), count: ranks),
      received: [[Bool]](repeating: [Bool](repeating: false, count: weights.count), count: ranks))
  }

  /// `distribute_redundant_experts`: each copy, in order, onto the lightest rank (the first on
  /// ties) with a free slot that lacks the expert and is under the transfer limit from the
  /// expert's primary rank; the slot taken is the rank's last free one. Copies that find no rank
  /// are dropped.
  private static func distributeRedundant(
    _ copies: [(expert: Int, weight: Float)], into state: inout RankSet, fromRank: [Int], free: inout [[Int]]
  ) {
    let ranks = state.sets.count
    for (e, w) in copies {
      let sender = fromRank[e]
      var candidate = -1
      for r in 0..<ranks {
        if free[r].isEmpty || state.sets[r].contains(e) || state.transfers[sender][r] >= maxTransfersPerPair {
          continue
        }
        if candidate < 0 || state.loads[r] < state.loads[candidate] { candidate = r }
      }
      if candidate >= 0 {
        let position = free[candidate].removeLast()
        state.sets[candidate][position] = e
        state.loads[candidate] += w
        state.transfers[sender][candidate] += 1
        state.received[candidate][e] = true
      }
    }
  }

  /// `fill_in_undeployed_ranks`: each slot still free (`spread.redundantPositions`) takes the
  /// heaviest expert by load per copy that its rank lacks (ties: the higher expert id); weights
  /// become the actual load per copy and the ranks' loads are summed again.
  private static func fillInUndeployed(_ state: inout RankSet, load: [Double], spread: ExpertSpread) {
    let ranks = state.sets.count
    let experts = load.count
    var copiesHeld = [Int](repeating: 0, count: experts)
    for row in state.sets { for e in row where e >= 0 { copiesHeld[e] += 1 } }
    var work = [Float](repeating: -1, count: experts)
    for e in spread.existing { work[e] = Float(load[e] / Double(copiesHeld[e])) }
    for r in 0..<ranks where !spread.redundantPositions[r].isEmpty {
      for position in spread.redundantPositions[r] {
        // Heaviest first; ties: the higher expert id (reversed stable argsort).
        let order = (0..<experts).sorted { work[$0] > work[$1] || (work[$0] == work[$1] && $0 > $1) }
        let e = order.first { work[$0] != -1 && !state.sets[r].contains($0) } ?? order[0]
        state.sets[r][position] = e
        state.transfers[spread.fromRank[e]][r] += 1
        state.received[r][e] = true
        let c = copiesHeld[e]
        work[e] = Float(Double(work[e]) * (Double(c) / Double(c + 1)))
        copiesHeld[e] += 1
      }
    }
    for r in 0..<ranks {
      state.loads[r] = 0
      for e in state.sets[r] { state.loads[r] += work[e] }
    }
    state.weights = work
  }

  /// `expert_exchange_between_ranks`: step 3 on one rank set; returns the hottest GPU's load.
  static func exchange(_ state: inout RankSet, threshold: Double) -> Double {
    let ranks = state.sets.count
    var maxLoad = 0.0
    var swapped = true
    var times = maxSwapTimes
    // A GPU's distinct experts in increasing id (`sorted(set(...))`), a handful each.
    func distinct(_ row: [Int]) -> [Int] {
      var out: [Int] = []
      for e in row.sorted() where out.last != e { out.append(e) }
      return out
    }
    while times > 0 {
      times -= 1
      let sorted = (0..<ranks).sorted {
        state.loads[$0] < state.loads[$1] || (state.loads[$0] == state.loads[$1] && $0 < $1)
      }
      let hot = sorted[ranks - 1]
      maxLoad = Double(state.loads[hot])
      if !swapped { break }
      swapped = false
      let hotSet = distinct(state.sets[hot])
      for other in sorted.dropLast() {
        guard state.transfers[other][hot] < maxTransfersPerPair && state.transfers[hot][other] < maxTransfersPerPair
        else { continue }
        let otherLoad = state.loads[other]
        var bestOut = -1, bestIn = -1
        var bestMax = maxLoad
        let otherSet = distinct(state.sets[other])
        for out in hotSet where !otherSet.contains(out) && !state.hasReceived(hot, out) {
          let outWeight = state.weights[out]
          for incoming in otherSet where !hotSet.contains(incoming) && !state.hasReceived(other, incoming) {
            let inWeight = state.weights[incoming]
            let hotAfter = maxLoad - Double(outWeight) + Double(inWeight)
            let otherAfter = Double((otherLoad - inWeight) + outWeight)
            let m = max(hotAfter, otherAfter)
            if m < bestMax {
              (bestMax, bestOut, bestIn) = (m, out, incoming)
            }
          }
        }
        if bestOut < 0 || maxLoad - bestMax < threshold { continue }
        let i = state.sets[hot].firstIndex(of: bestOut)!
        let j = state.sets[other].firstIndex(of: bestIn)!
        state.sets[hot][i] = bestIn
        state.sets[other][j] = bestOut
        state.loads[hot] += state.weights[bestIn] - state.weights[bestOut]
        state.loads[other] += state.weights[bestOut] - state.weights[bestIn]
        state.received[hot][bestIn] = true
        state.received[other][bestOut] = true
        state.transfers[other][hot] += 1
        state.transfers[hot][other] += 1
        swapped = true
        break
      }
    }
    return maxLoad
  }
}
