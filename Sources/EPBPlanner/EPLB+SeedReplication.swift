extension EPLB {
  /// The seed's `replicate_experts` (`replicate_tail_ab_tiebreak`), exactly as its Python does
  /// it, quirks included.
  ///
  /// - parameter weight: `[experts]`; `phy2log`, `rank`: `[replicas]`; `logcnt`: `[experts]`,
  ///   which must hold the identity mapping with one replica each on entry.
  ///
  /// Phases, with `added = replicas − experts` and `tail = max(1, ⌈added / 10⌉)`:
  /// 1. Bulk, `added − tail` picks of D'Hondt: the largest `weight / logcnt`; the seed's
  ///    `_argmax_tiebreak` then prefers the smaller current average, which equals the benefit
  ///    here, so ties go to the lowest index, exactly as in `greedyReplicate`.
  /// 2. Tail, `tail` picks. Each pick computes the Sainte-Laguë candidate (largest
  ///    `weight / (2r − 1)`) and the Huntington–Hill candidate (largest `weight / √(r(r + 1))`),
  ///    both with `_argmax_tiebreak` (smaller current average, then lower index), predicts
  ///    `peak = max(second, weight / (r + 1))` for each, where `second` is the second-highest
  ///    current average, and takes Sainte-Laguë if `peakS + 1e-12 < peakH`, or if the peaks are
  ///    within 1e-12 and `newS <= newH`; else Huntington–Hill. All in `T` (float32 in eplb.py;
  ///    1e-12 is rounded to `T` first, as torch does with a Python scalar).
  /// 3. Fix-up, when `experts > 1`: donors = `torch.topk(avg, 2)` indices, receivers = the two
  ///    smallest (torch's order on ties, see `TorchTopK`); for each donor with more than one
  ///    replica and each other receiver, predict in `Double` (Python floats) the averages after
  ///    moving one replica, `peak = max(second, newD, newR)`; keep the best move whose peak is
  ///    below the current max by more than 1e-12, ties within 1e-12 broken by the smaller
  ///    predicted second-highest (the middle of the three). The donor's highest-rank replica
  ///    is moved and gets rank `logcnt[receiver]`.
  ///
  /// Quirks kept on purpose (pinned by `SeedQuirkTests`):
  /// - The tail's predicted peak looks only at the second-highest current average and the chosen
  ///   expert's new average. When the chosen expert is not the current maximum, the maximum
  ///   stays, so the prediction is too low. Example: loads `[15, 5, 13]` to 6 replicas: the bulk
  ///   leaves counts `[2, 1, 2]` (averages 7.5, 5, 6.5); Sainte-Laguë ties 15/3 = 5/1 and takes
  ///   expert 1 (smaller average), Huntington–Hill takes expert 0 (15/√6 ≈ 6.12); both predict
  ///   `max(6.5, …) = 6.5`, the tie goes to the smaller new average, so expert 1 gets the replica
  ///   and the real peak stays 7.5, where Huntington–Hill's pick reaches the optimum 6.5.
  /// - The fix-up's `second` is the second-highest average before the move, and the predicted
  ///   peak `max(second, newD, newR)` assumes the current maximum is the donor. But removing a
  ///   replica from the maximum expert always raises it above the current max, so only the
  ///   second donor can pass the test, and then the maximum is untouched: the move never lowers
  ///   the real peak unless the maximum is the receiver. Example: loads `[9, 4, 20]` to 5
  ///   replicas: before the fix-up counts are `[2, 1, 2]` (averages 4.5, 4, 10); it moves a
  ///   replica of expert 0 to expert 1 (predicted 9 < 10) though the peak stays 10 (expert 2)
  ///   and expert 0 goes from 4.5 to 9. (DeepSeek's greedy reaches 9 here.)
  ///
  /// Complexity: O(experts + bulk · log experts + tail · experts).
  @inline(__always)
  static func seedReplicate<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, experts n: Int, replicas: Int, phy2log: UnsafeMutablePointer<Int>,
    rank: UnsafeMutablePointer<Int>, logcnt: UnsafeMutablePointer<Int>, scratch: Scratch<T>.Replication
  ) {
    let redundant = replicas - n
    let tail = max(1, (redundant + 9) / 10)
    let bulk = redundant - tail

    // Step 1 (bulk): D'Hondt. Leaves scratch.average [n] = weight / logcnt.
    greedyReplicate(
      weight, experts: n, picks: max(0, bulk), column: n, phy2log: phy2log, rank: rank, logcnt: logcnt,
      scratch: scratch)

    // Step 2 (tail): per pick, Sainte-Laguë vs Huntington–Hill by predicted peak.
    let avg = scratch.average  // [n], weight / r
    let sl = scratch.sainteLague  // [n], weight / (2r − 1)
    let hh = scratch.huntingtonHill  // [n], weight / √(r(r + 1))
    @inline(__always) func refresh(_ e: Int) {
      let r = T(logcnt[e])
      avg[e] = weight[e] / r
      sl[e] = weight[e] / (2 * r - 1)
      hh[e] = weight[e] / (r * (r + 1)).squareRoot()
    }
    for e in 0..<n { refresh(e) }
    var col = n + max(0, bulk)
    for _ in 0..<tail {
      // Second-highest current average (a value; ties count twice). [n] → scalar
      var top1 = -T.infinity, top2 = -T.infinity
      for e in 0..<n {
        let v = avg[e]
        if v > top1 {
          top2 = top1
          top1 = v
        } else if v > top2 {
          top2 = v
        }
      }
      let second = n > 1 ? top2 : avg[0]
      let idxS = argmaxTiebreak(sl, avg, n)
      let idxH = argmaxTiebreak(hh, avg, n)
      let best = seedTailChoice(weight, logcnt: logcnt, sainteLague: idxS, huntingtonHill: idxH, second: second)
      phy2log[col] = best
      rank[col] = logcnt[best]
      logcnt[best] += 1
      refresh(best)
      col += 1
    }

    // Step 3 (fix-up): at most one replica moved from a top-2 donor to a bottom-2 receiver.
    guard n > 1 else { return }
    let (d0, d1) = TorchTopK.top2(avg, count: n, largest: true, queue: scratch.entries)
    let (r0, r1) = TorchTopK.top2(avg, count: n, largest: false, queue: scratch.entries)
    guard
      let (bestD, bestR) = seedFixUpMove(
        weight, logcnt: logcnt, donors: (d0, d1), receivers: (r0, r1), average: (avg[d0], avg[d1]))
    else { return }
    // The donor's replica of highest rank (first such column; ranks are distinct).
    var column = -1, columnRank = -1
    for c in 0..<replicas where phy2log[c] == bestD && rank[c] > columnRank {
      column = c
      columnRank = rank[c]
    }
    phy2log[column] = bestR
    rank[column] = logcnt[bestR]
    logcnt[bestD] -= 1
    logcnt[bestR] += 1
  }

  /// The seed's tail rule for one pick: Sainte-Laguë's candidate `sainteLague` or
  /// Huntington–Hill's `huntingtonHill`, by the predicted peak `max(second, weight / (r + 1))`
  /// in `T`: Sainte-Laguë if its peak is lower by more than 1e-12 (rounded to `T`), or within
  /// 1e-12 with a new average no larger; else Huntington–Hill. `logcnt`: `[experts]`.
  @inline(__always)
  static func seedTailChoice<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, logcnt: UnsafePointer<Int>, sainteLague idxS: Int, huntingtonHill idxH: Int,
    second: T
  ) -> Int {
    let tolerance = T(1e-12)
    let newS = weight[idxS] / (T(logcnt[idxS]) + 1)
    let newH = weight[idxH] / (T(logcnt[idxH]) + 1)
    let peakS = Swift.max(second, newS)
    let peakH = Swift.max(second, newH)
    let betterS = peakS + tolerance < peakH
    let tieSH = peakS == peakH || (peakS - peakH).magnitude <= tolerance
    return betterS || (tieSH && newS <= newH) ? idxS : idxH
  }

  /// The seed's fix-up decision: the best single move of a replica from a donor (`d0`, `d1`:
  /// the two largest averages, `average` theirs) to a receiver (`r0`, `r1`: the two smallest),
  /// in `Double` (Python floats), as `seedReplicate` step 3 describes; nil when no move lowers
  /// the predicted peak by more than 1e-12. `logcnt`: `[experts]`, before the move.
  @inline(__always)
  static func seedFixUpMove<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, logcnt: UnsafePointer<Int>, donors: (Int, Int), receivers: (Int, Int),
    average: (T, T)
  ) -> (donor: Int, receiver: Int)? {
    let curMax = Double(average.0)
    let secondVal = Double(average.1)
    var bestPeak = 0.0, bestSecond = 0.0
    var best: (Int, Int)?
    for di in 0..<2 {
      let d = di == 0 ? donors.0 : donors.1
      let cd = logcnt[d]
      if cd <= 1 { continue }
      for ri in 0..<2 {
        let r = ri == 0 ? receivers.0 : receivers.1
        if r == d { continue }
        let cr = logcnt[r]
        let newD = Double(weight[d]) / Double(cd - 1)
        let newR = Double(weight[r]) / Double(cr + 1)
        // sorted((second, newD, newR)): the peak is the largest, the new second the middle.
        let peak = Swift.max(secondVal, newD, newR)
        let middle = median(secondVal, newD, newR)
        if peak + 1e-12 < curMax {
          if best == nil || peak < bestPeak - 0.0
            || ((peak - bestPeak).magnitude <= 1e-12 && middle < bestSecond - 0.0)
          {
            bestPeak = peak
            bestSecond = middle
            best = (d, r)
          }
        }
      }
    }
    return best
  }

  /// The middle of three values (`sorted((a, b, c))[1]`).
  @inline(__always)
  static func median(_ a: Double, _ b: Double, _ c: Double) -> Double {
    Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))
  }

  /// The seed's `_argmax_tiebreak` for one row: the index of the largest `benefit`, among equal
  /// benefits the smallest `avg`, then the lowest index. O(n).
  @inline(__always)
  static func argmaxTiebreak<T: PlannerFloat>(
    _ benefit: UnsafePointer<T>, _ avg: UnsafePointer<T>, _ n: Int
  ) -> Int {
    var best = 0
    var bestBenefit = benefit[0], bestAvg = avg[0]
    for e in 1..<max(n, 1) {
      let b = benefit[e]
      if b > bestBenefit || (b == bestBenefit && avg[e] < bestAvg) {
        best = e
        bestBenefit = b
        bestAvg = avg[e]
      }
    }
    return best
  }
}
