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
  /// Uses `scratch.entries [count]`, `scratch.packWeight`, `packItems`, `packHeap` (`[packs]`).
  @inline(__always)
  static func packBalanced<T: BinaryFloatingPoint>(
    _ weight: UnsafePointer<T>, count n: Int, packs: Int, packIndex: UnsafeMutablePointer<Int>,
    rankInPack: UnsafeMutablePointer<Int>, scratch: Scratch<T>
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
    let entries = scratch.entries  // [n]
    for i in 0..<n {
      entries[i] = KeyedIndex(value: Double(Float(weight[i])), index: i)
    }
    Libstdcxx.sort(entries, count: n) { $0.value > $1.value }
    // Step 2: each item into the first lightest pack with room. A binary min-heap of the packs
    // with room, ordered by (weight, index), has Python's `min` over those packs at its root.
    let packWeight = scratch.packWeight  // [packs]
    let packItems = scratch.packItems  // [packs]
    let heap = scratch.packHeap  // [packs]
    for p in 0..<packs {
      packWeight[p] = 0
      packItems[p] = 0
      heap[p] = p  // all weights 0: index order is a valid heap
    }
    var size = packs
    @inline(__always) func lighter(_ a: Int, _ b: Int) -> Bool {
      let wa = packWeight[a], wb = packWeight[b]
      return wa < wb || (wa == wb && a < b)
    }
    for k in 0..<n {
      let item = entries[k].index
      let best = heap[0]
      packIndex[item] = best
      rankInPack[item] = packItems[best]
      packWeight[best] += weight[item]
      packItems[best] += 1
      if packItems[best] == perPack {
        size -= 1
        heap[0] = heap[size]
      }
      // Sift the root down (its weight only grew, or it was replaced by the last leaf).
      var i = 0
      let moving = heap[0]
      while true {
        var child = 2 * i + 1
        if child >= size { break }
        if child + 1 < size && lighter(heap[child + 1], heap[child]) { child += 1 }
        if !lighter(heap[child], moving) { break }
        heap[i] = heap[child]
        i = child
      }
      if size > 0 { heap[i] = moving }
    }
  }
}
