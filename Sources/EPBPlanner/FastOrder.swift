/// A fast descending sort of `Float` keys that reports whether its order is the one torch's
/// CPU sort would give, so the exact (slow) libstdc++ emulation only runs when ties matter.
///
/// Why this is exact: a sort by descending value fixes the position of every run of equal
/// values; two correct sorts can only differ by a permutation inside such runs. With all keys
/// distinct there are no such runs, so every correct sort, libstdc++'s introsort included,
/// yields the same order. When the caller knows that permuting items inside a run cannot
/// change its result (they are interchangeable, e.g. replicas of one logical expert when only
/// `phy2log` is wanted), it passes a `tieClass`: runs whose items all share one class are fine.
package enum FastOrder {
  /// Sorts indices `0..<n` of `keys` by descending `Float(keys[i])`, lower index first among
  /// equal values, into `order [n]`.
  ///
  /// - parameter tieClass: `[n]` or nil. Returns true when the order equals every other
  ///   descending order up to permutations of items of equal value and equal `tieClass` (with
  ///   nil: when all values are distinct). Returns false (with `order` undefined) when there is
  ///   a NaN, or a run of equal values holds different classes.
  /// - parameter buffer: `[2n]` sort keys.
  ///
  /// Method: `sortIndexed` of the keys `(descending-order bits of the value, index)`
  /// (`key(_:_:)`), O(n log n). `-0` counts as `+0`.
  @inline(__always)
  static func descending<T: PlannerFloat>(
    _ keys: UnsafePointer<T>, count n: Int, tieClass: UnsafePointer<Int>?, order: UnsafeMutablePointer<Int>,
    buffer: UnsafeMutablePointer<UInt64>
  ) -> Bool {
    if n == 0 { return true }
    var nan = false
    @inline(__always) func key(_ i: Int) -> UInt64 {
      let v = Float(keys[i])
      nan = nan || v.isNaN
      return FastOrder.key(v, i)
    }
    for i in 0..<n { buffer[i] = key(i) }
    let a = buffer + n
    sortIndexed(buffer, into: a, count: n)
    if nan { return false }
    var previous = a[0]
    order[0] = Int(truncatingIfNeeded: previous & 0xffff_ffff)
    for k in 1..<n {
      let current = a[k]
      let index = Int(truncatingIfNeeded: current & 0xffff_ffff)
      order[k] = index
      if current >> 32 == previous >> 32 {
        guard let tieClass, tieClass[index] == tieClass[order[k - 1]] else { return false }
      }
      previous = current
    }
    return true
  }

  /// The sort key of `(value, index)`: the complement of the order-preserving bit pattern of
  /// `value` (`-0` counted as `+0`) in the high half, so ascending keys are descending values,
  /// and `index` (< 2^32) in the low half, so keys are distinct and equal values come in
  /// ascending index order. A NaN gets some key; callers check for NaN themselves.
  @inline(__always)
  package static func key(_ value: Float, _ index: Int) -> UInt64 {
    let bits = (value + 0).bitPattern  // -0 → +0
    let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(~ordered) << 32 | UInt64(truncatingIfNeeded: index)
  }

  /// `key(value, index)` for a value that is `+0` or more (`-0` too; not NaN): the
  /// complement of the value's bits without the sign bit, two integer operations (`key`'s
  /// `value + 0`, which folds `-0` into `+0`, is a float add; here `-0` and `+0` come out
  /// equal by themselves).
  @inline(__always)
  package static func keyNonNegative(_ value: Float, _ index: Int) -> UInt64 {
    UInt64(~value.bitPattern & 0x7fff_ffff) << 32 | UInt64(truncatingIfNeeded: index)
  }

  /// The value of a key of `key(_:_:)` whose value is `+0` or more, bit for bit (`-0` comes
  /// back as `+0`): the complement of the high half, less the bit that `key(_:_:)` sets for
  /// such values.
  @inline(__always)
  package static func nonNegativeValue(_ k: UInt64) -> Float {
    Float(bitPattern: ~UInt32(truncatingIfNeeded: k >> 32) & 0x7fff_ffff)
  }

  /// Whether two keys of `key(_:_:)` hold equal values.
  @inline(__always)
  package static func sameValue(_ a: UInt64, _ b: UInt64) -> Bool { a >> 32 == b >> 32 }

  /// The index of a key of `key(_:_:)`.
  @inline(__always)
  package static func index(_ k: UInt64) -> Int { Int(truncatingIfNeeded: k & 0xffff_ffff) }

  /// Sorts keys of `key(_:_:)` whose indices are their positions (`keys[i]` has index `i`),
  /// ascending, into `out [n]`. `keys [n]` may be overwritten (the fallback sorts in it).
  ///
  /// `sortAscending`, with `keys` and `out` as its ping-pong buffers. Keys are distinct (their
  /// indices are), so the sorted order is unique.
  @inline(__always)
  package static func sortIndexed(
    _ keys: UnsafeMutablePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>, count n: Int
  ) {
    let sorted = sortAscending(keys, out, count: n)
    if sorted != out { out.update(from: sorted, count: n) }
  }

  /// Sorts `a[0..<n]` ascending, using `b[0..<n]` as the other half of a ping-pong buffer;
  /// returns whichever of `a` and `b` holds the result.
  ///
  /// Bottom-up merge sort: runs of 8 sorted by a 19-comparator network, then merge passes, all
  /// with branch-free selects (no data-dependent branches but the last run's insertion sort).
  /// O(n log n), no fixed cost (the radix sort it replaces cleared and summed 4 · 256 counters
  /// per call, which dominated for the 32–300 keys of one packing). Keys are distinct in every
  /// use, so stability is moot.
  @inline(__always)
  package static func sortAscending(
    _ a0: UnsafeMutablePointer<UInt64>, _ b0: UnsafeMutablePointer<UInt64>, count n: Int
  ) -> UnsafeMutablePointer<UInt64> {
    var a = a0, b = b0
    let tail = sortRunsOf8(a, count: n)
    // The last 0–7 keys: insertion sort.
    var j = tail + 1
    while j < n {
      let k = a[j]
      var h = j
      while h > tail && a[h - 1] > k {
        a[h] = a[h - 1]
        h -= 1
      }
      a[h] = k
      j += 1
    }
    var width = 8
    while width < n {
      mergePass(a, into: b, count: n, width: width)
      swap(&a, &b)
      width *= 2
    }
    return a
  }

  /// `x, y = min, max` (a comparator of a sorting network, two selects).
  @inline(__always)
  private static func order(_ x: inout UInt64, _ y: inout UInt64) {
    let lo = Swift.min(x, y), hi = Swift.max(x, y)
    x = lo
    y = hi
  }

  /// Sorts each full run of 8 of `a[0..<n]` in place; returns where the last, partial run
  /// (0–7 keys, left as they are) starts.
  @inline(__always)
  private static func sortRunsOf8(_ a: UnsafeMutablePointer<UInt64>, count n: Int) -> Int {
    var i = 0
    while i + 8 <= n {
      // Green's 19-comparator network for 8 keys, in registers (checked on all 2^8 0/1 inputs).
      var x0 = a[i], x1 = a[i + 1], x2 = a[i + 2], x3 = a[i + 3]
      var x4 = a[i + 4], x5 = a[i + 5], x6 = a[i + 6], x7 = a[i + 7]
      order(&x0, &x2); order(&x1, &x3); order(&x4, &x6); order(&x5, &x7)
      order(&x0, &x4); order(&x1, &x5); order(&x2, &x6); order(&x3, &x7)
      order(&x0, &x1); order(&x2, &x3); order(&x4, &x5); order(&x6, &x7)
      order(&x2, &x4); order(&x3, &x5)
      order(&x1, &x4); order(&x3, &x6)
      order(&x1, &x2); order(&x3, &x4); order(&x5, &x6)
      a[i] = x0
      a[i + 1] = x1
      a[i + 2] = x2
      a[i + 3] = x3
      a[i + 4] = x4
      a[i + 5] = x5
      a[i + 6] = x6
      a[i + 7] = x7
      i += 8
    }
    return i
  }

  /// One step of a branch-free merge from the front: the smaller of `a[l]` and `a[r]` to `b[o]`.
  @inline(__always)
  private static func takeSmaller(
    _ a: UnsafeMutablePointer<UInt64>, _ b: UnsafeMutablePointer<UInt64>, _ l: inout Int, _ r: inout Int,
    _ o: inout Int
  ) {
    let x = a[l], y = a[r]
    let right = y < x
    b[o] = right ? y : x
    r &+= right ? 1 : 0
    l &+= right ? 0 : 1
    o &+= 1
  }

  /// One merge pass: the sorted runs of `width` keys of `a[0..<n]` (the last one may be
  /// shorter) merged in pairs into `b[0..<n]`.
  @inline(__always)
  private static func mergePass(
    _ a: UnsafeMutablePointer<UInt64>, into b: UnsafeMutablePointer<UInt64>, count n: Int, width: Int
  ) {
    var lo = 0
    while lo < n {
      let mid = Swift.min(lo + width, n), hi = Swift.min(lo + 2 * width, n)
      if hi - mid == width {
        // Two full runs: merge from both ends at once, `width` steps each, the smallest keys
        // from the front and the largest from the back. Two independent dependency chains
        // of half the length; no bounds checks are needed: after t < width steps from one
        // end, at most t keys have left either run. Needs distinct keys (else both ends
        // could take the same key).
        var l = lo, r = mid, o = lo
        var lb = mid - 1, rb = hi - 1, ob = hi - 1
        for _ in 0..<width {
          takeSmaller(a, b, &l, &r, &o)
          let xb = a[lb], yb = a[rb]
          let left = xb > yb
          b[ob] = left ? xb : yb
          lb &-= left ? 1 : 0
          rb &-= left ? 0 : 1
          ob &-= 1
        }
        lo += 2 * width
        continue
      }
      var l = lo, r = mid, o = lo
      while l < mid && r < hi { takeSmaller(a, b, &l, &r, &o) }
      while l < mid {
        b[o] = a[l]
        l += 1
        o += 1
      }
      while r < hi {
        b[o] = a[r]
        r += 1
        o += 1
      }
      lo += 2 * width
    }
  }
}
