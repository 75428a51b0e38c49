extension EPLB {
  /// Balanced packing, as eplb.py's `balanced_packing`: packs `n` weighted items into `packs`
  /// packs of exactly `n / packs` items each, heaviest item first into the lightest pack that
  /// still has room.
  ///
  /// - parameter weight: `[n]`, the weight of each item (any unit).
  /// - parameter packs: the number of packs; must divide `n`.
  /// - returns: `packIndex [n]` (the pack of each item) and `rankInPack [n]` (its position in
  ///   the pack, in insertion order).
  ///
  /// Tie-breaking, as eplb.py: items are visited in descending order of their `Float` value
  /// (`weight.float().sort(descending=True)`). torch's CPU sort is not stable: it runs
  /// libstdc++'s `std::sort` (introsort) on `(value, index)` pairs comparing values only, so equal
  /// values come out in the order that introsort leaves (in index order when n <= 16); the real
  /// data golden cases have distinct experts with equal loads that need exactly this order, so
  /// `Libstdcxx.sort` ports it. The lightest pack is the first one among equally light packs
  /// (Python's `min`). Pack weights accumulate in `T`. With one item per pack the result is the
  /// identity. Complexity O(n log n + n log packs).
  public static func balancedPacking<T: BinaryFloatingPoint>(_ weight: [T], packs: Int)
    -> (packIndex: [Int], rankInPack: [Int])
  {
    let n = weight.count
    precondition(packs > 0 && n % packs == 0, "packs must divide the item count")
    let scratch = Scratch<T>(experts: max(n, packs), replicas: n, gpus: packs)
    var packIndex = [Int](repeating: 0, count: n)
    var rankInPack = [Int](repeating: 0, count: n)
    weight.withUnsafeBufferPointer { w in
      packIndex.withUnsafeMutableBufferPointer { pi in
        rankInPack.withUnsafeMutableBufferPointer { rp in
          packBalanced(
            w.baseAddress!, count: n, packs: packs, packIndex: pi.baseAddress!, rankInPack: rp.baseAddress!,
            scratch: scratch)
        }
      }
    }
    return (packIndex, rankInPack)
  }

  /// The allocation-free core of `balancedPacking` (see there for the rules).
  ///
  /// - parameter weight: `[count]`; `packIndex`, `rankInPack`: `[count]`, written.
  /// - parameter tieClass: `[count]` or nil: items of equal weight and equal class are
  ///   interchangeable for the caller (their order may differ from torch's; see `FastOrder`).
  ///   With nil every tie is resolved exactly as torch does.
  ///
  /// The order comes from `FastOrder.descending`; only when it reports a tie that matters does
  /// the exact `Libstdcxx.sort` run. Packs are chosen on a tournament (winner) tree over the
  /// packs keyed by weight (+∞ once full), left child on ties, so its root is the first
  /// lightest pack with room; each insertion updates one leaf-to-root path with branch-free
  /// selects. Complexity O(count · log packs) plus the sort (O(count · log count)).
  /// Uses `scratch.order`, `radixKeys`, `entries` (`[count]`), `packWeight`,
  /// `packItems` (`[packs]`), `packKey`, `packTree`.
  @inline(__always)
  static func packBalanced<T: BinaryFloatingPoint>(
    _ weight: UnsafePointer<T>, count n: Int, packs: Int, packIndex: UnsafeMutablePointer<Int>,
    rankInPack: UnsafeMutablePointer<Int>, tieClass: UnsafePointer<Int>? = nil, scratch: Scratch<T>
  ) {
    let perPack = n / packs
    if perPack == 1 {
      for i in 0..<n {
        packIndex[i] = i
        rankInPack[i] = 0
      }
      return
    }
    // Step 1: order items by descending Float value, as torch's CPU `sort(descending=True)`,
    // which is libstdc++'s (unstable) `std::sort` on (value, index) pairs comparing values.
    let order = scratch.order  // [n]
    let fast = FastOrder.descending(
      weight, count: n, tieClass: tieClass, order: order, buffer: scratch.radixKeys)
    if !fast {
      let entries = scratch.entries  // [n]
      for i in 0..<n {
        entries[i] = KeyedIndex(value: Double(Float(weight[i])), index: i)
      }
      Libstdcxx.sort(entries, count: n) { $0.value > $1.value }
      for i in 0..<n { order[i] = entries[i].index }
    }
    // Step 2: each item into the first lightest pack with room (Python's `min` over those
    // packs). Tournament tree: leaves `L + p` hold pack p (padding leaves key +∞), node i holds
    // the winner of its subtree; a left child wins ties, and its packs have lower indices.
    let packWeight = scratch.packWeight  // [packs]
    let packItems = scratch.packItems  // [packs]
    let key = scratch.packKey  // [L]: packWeight, or +∞ when full
    let tree = scratch.packTree  // [2L]
    let leaves = 1 << (Int.bitWidth - (packs - 1).leadingZeroBitCount)
    for p in 0..<packs {
      packWeight[p] = 0
      packItems[p] = 0
      key[p] = 0
    }
    for p in packs..<leaves { key[p] = .infinity }
    for p in 0..<leaves { tree[leaves + p] = p }
    var node = leaves - 1
    while node >= 1 {
      let l = tree[2 * node], r = tree[2 * node + 1]
      tree[node] = key[l] <= key[r] ? l : r
      node -= 1
    }
    for k in 0..<n {
      let item = order[k]
      var best = tree[1]
      if key[best] == .infinity {
        // Every pack with room weighs +∞ (overflow): Python's `min` takes the first of them.
        best = 0
        while packItems[best] >= perPack { best += 1 }
      }
      packIndex[item] = best
      rankInPack[item] = packItems[best]
      let w = packWeight[best] + weight[item]
      packWeight[best] = w
      packItems[best] += 1
      let bestKey: T = packItems[best] == perPack ? .infinity : w
      key[best] = bestKey
      // Replay the matches on the path from leaf `best` to the root.
      var i = leaves + best
      var winner = best, winnerKey = bestKey
      while i > 1 {
        let sibling = tree[i ^ 1]
        let siblingKey = key[sibling]
        let stays = i & 1 == 0 ? winnerKey <= siblingKey : winnerKey < siblingKey
        winner = stays ? winner : sibling
        // The winner's key is the smaller one either way (equal keys are equal values);
        // written as a min so it compiles to `minss`, not a branch.
        winnerKey = siblingKey < winnerKey ? siblingKey : winnerKey
        i >>= 1
        tree[i] = winner
      }
    }
  }
}
