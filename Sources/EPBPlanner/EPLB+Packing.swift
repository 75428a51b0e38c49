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
  public static func balancedPacking<T: PlannerFloat>(_ weight: [T], packs: Int)
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
            scratch: scratch.packing)
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
  /// the exact `Libstdcxx.sort` run. Packs are chosen on `PackTree` (a tournament tree, the
  /// first lightest pack with room at its root). Complexity O(count · log packs) plus the sort
  /// (O(count · log count)).
  /// Uses `scratch.order`, `sortKeys`, `entries` (`[count]`), `packItems` (`[packs]`),
  /// `packTree`.
  @inline(__always)
  static func packBalanced<T: PlannerFloat>(
    _ weight: UnsafePointer<T>, count n: Int, packs: Int, packIndex: UnsafeMutablePointer<Int>,
    rankInPack: UnsafeMutablePointer<Int>, tieClass: UnsafePointer<Int>? = nil,
    scratch: Scratch<T>.Packing
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
    let fast = FastOrder.descending(weight, count: n, tieClass: tieClass, order: order, buffer: scratch.sortKeys)
    if !fast {
      let entries = scratch.entries  // [n]
      for i in 0..<n {
        entries[i] = KeyedIndex(value: Double(Float(weight[i])), index: i)
      }
      Libstdcxx.sort(entries, count: n) { $0.value > $1.value }
      for i in 0..<n { order[i] = entries[i].index }
    }
    // Step 2: each item into the first lightest pack with room (Python's `min` over those
    // packs), chosen on `PackTree`.
    var tree = PackTree(packs: packs, perPack: perPack, scratch: scratch)
    for k in 0..<n {
      let item = order[k]
      let (pack, rank) = tree.add(weight[item])
      packIndex[item] = pack
      rankInPack[item] = rank
    }
  }
}
