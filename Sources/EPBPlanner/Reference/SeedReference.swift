/// The seed's `replicate_experts` (`Tests/Fixtures/seed/replicate_tail_ab_tiebreak.txt`, its
/// REPLACE block) for one row, written to be read beside the Python: the specification of
/// `eplb-divisor`'s replication. See `EPLBReference` for what is shared with torch's models.
///
/// Three phases: D'Hondt for the bulk of the added replicas, an A/B between Sainte-Laguë and
/// Huntington–Hill for the last ⌈added / 10⌉ (at least one), and a one-move fix-up. Tensor
/// arithmetic is in `T` (float32 inside `rebalance_experts`); the fix-up's `.item()` values are
/// Python floats, so it compares in `Double`, as the Python does.
enum SeedReference {
  static func replicateExperts<T: PlannerFloat>(_ weight: [T], replicas: Int) -> EPLBReference.Placement {
    let n = weight.count
    let redundant = replicas - n
    precondition(n > 0 && redundant >= 0, "num_redundant >= 0")
    var out = EPLBReference.Placement(
      phy2log: Array(0..<replicas), phyrank: Array(repeating: 0, count: replicas),
      logcnt: Array(repeating: 1, count: n))
    if redundant == 0 { return out }
    func add(_ best: Int, column: Int) {
      out.phy2log[column] = best
      out.phyrank[column] = out.logcnt[best]
      out.logcnt[best] += 1
    }

    // tail = max(1, (num_redundant + 9) // 10); bulk = num_redundant - tail
    let tail = max(1, (redundant + 9) / 10)
    let bulk = redundant - tail
    var column = n

    // Bulk (D'Hondt): benefit = weight / r; ties to the smaller average (the same), then the lowest index.
    for _ in 0..<max(0, bulk) {
      let average = weight.indices.map { weight[$0] / T(out.logcnt[$0]) }
      add(argmaxTiebreak(average, average), column: column)
      column += 1
    }

    // Tail: per pick, Sainte-Laguë's or Huntington–Hill's choice, whichever predicts the lower peak.
    for _ in 0..<tail {
      let r = out.logcnt.map { T($0) }
      let average = weight.indices.map { weight[$0] / r[$0] }
      // second = topk(avg_cur, k=2).values[:, 1] (the average itself when there is one expert)
      let second = n > 1 ? secondLargest(average) : average[0]
      let benefitS = weight.indices.map { weight[$0] / (2 * r[$0] - 1) }
      let benefitH = weight.indices.map { weight[$0] / (r[$0] * (r[$0] + 1)).squareRoot() }
      let s = argmaxTiebreak(benefitS, average), h = argmaxTiebreak(benefitH, average)
      let newS = weight[s] / (r[s] + 1), newH = weight[h] / (r[h] + 1)
      let peakS = max(second, newS), peakH = max(second, newH)
      // better_S = peakS + 1e-12 < peakH; tie = isclose(peakS, peakH, rtol=0, atol=1e-12); prefer S on a tie if newS <= newH
      let epsilon = T(1e-12)
      let betterS = peakS + epsilon < peakH
      let tie = peakS == peakH || abs(peakS - peakH) <= epsilon
      add(betterS || (tie && newS <= newH) ? s : h, column: column)
      column += 1
    }

    if n > 1 { fixUp(weight, &out) }
    return out
  }

  /// `_argmax_tiebreak(benefit, avg)`: among the experts of largest `benefit`, the one of
  /// smallest `average`, then the lowest index (`argmin`'s first minimum).
  static func argmaxTiebreak<T: PlannerFloat>(_ benefit: [T], _ average: [T]) -> Int {
    let top = benefit.max()!
    var best = -1
    for i in benefit.indices where benefit[i] == top {
      if best < 0 || average[i] < average[best] { best = i }
    }
    return best
  }

  /// The second value of `topk(x, k=2)`: the largest value after removing one largest one.
  static func secondLargest<T: PlannerFloat>(_ x: [T]) -> T {
    var sorted = x
    sorted.sort(by: >)
    return sorted[1]
  }

  /// The strengthened fix-up: from the two experts of largest average (donors, in torch's
  /// `topk` order) to the two of smallest (receivers, likewise), the single replica move that
  /// most lowers the peak {second, donor's new average, receiver's new average}, ties within
  /// 1e-12 to the lower new second-highest; applied only if it beats the current peak by more
  /// than 1e-12. The moved slot is the donor's highest-ranked one (the first on equal ranks).
  static func fixUp<T: PlannerFloat>(_ weight: [T], _ out: inout EPLBReference.Placement) {
    let n = weight.count
    let average = weight.indices.map { weight[$0] / T(out.logcnt[$0]) }
    var queue = [KeyedIndex](repeating: KeyedIndex(value: 0, index: 0), count: n)
    let (d1, d2) = average.withUnsafeBufferPointer { a in
      queue.withUnsafeMutableBufferPointer {
        TorchTopK.top2Exact(a.baseAddress!, count: n, largest: true, queue: $0.baseAddress!)
      }
    }
    let (r1, r2) = average.withUnsafeBufferPointer { a in
      queue.withUnsafeMutableBufferPointer {
        TorchTopK.top2Exact(a.baseAddress!, count: n, largest: false, queue: $0.baseAddress!)
      }
    }
    let currentMax = Double(average[d1]), second = Double(average[d2])
    var bestPeak: Double?, bestSecond: Double?, bestPair: (donor: Int, receiver: Int)?
    for d in [d1, d2] {
      let cd = out.logcnt[d]
      if cd <= 1 { continue }
      for r in [r1, r2] where d != r {
        let cr = out.logcnt[r]
        let newD = Double(weight[d]) / Double(cd - 1), newR = Double(weight[r]) / Double(cr + 1)
        let values = [second, newD, newR].sorted()
        let (candidateSecond, candidatePeak) = (values[1], values[2])
        guard candidatePeak + 1e-12 < currentMax else { continue }
        let better =
          bestPeak.map { candidatePeak < $0 || (abs(candidatePeak - $0) <= 1e-12 && candidateSecond < bestSecond!) }
          ?? true
        if better {
          bestPeak = candidatePeak
          bestSecond = candidateSecond
          bestPair = (d, r)
        }
      }
    }
    guard let (d, r) = bestPair else { return }
    // donor_cols = nonzero(phy2log == d); col = donor_cols[argmax(rank[donor_cols])]
    let donorColumns = out.phy2log.indices.filter { out.phy2log[$0] == d }
    let column = donorColumns[EPLBReference.firstMax(donorColumns.map { out.phyrank[$0] })]
    out.phy2log[column] = r
    out.phyrank[column] = out.logcnt[r]
    out.logcnt[d] -= 1
    out.logcnt[r] += 1
  }
}
