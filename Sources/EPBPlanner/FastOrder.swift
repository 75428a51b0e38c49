/// A fast descending sort of `Float` keys that reports whether its order is the one torch's
/// CPU sort would give, so the exact (slow) libstdc++ emulation only runs when ties matter.
///
/// Why this is exact: a sort by descending value fixes the position of every run of equal
/// values; two correct sorts can only differ by a permutation inside such runs. With all keys
/// distinct there are no such runs, so every correct sort, libstdc++'s introsort included,
/// yields the same order. When the caller knows that permuting items inside a run cannot
/// change its result (they are interchangeable, e.g. replicas of one logical expert when only
/// `phy2log` is wanted), it passes a `tieClass`: runs whose items all share one class are fine.
enum FastOrder {
  /// Sorts indices `0..<n` of `keys` by descending `Float(keys[i])`, lower index first among
  /// equal values, into `order [n]`.
  ///
  /// - parameter tieClass: `[n]` or nil. Returns true when the order equals every other
  ///   descending order up to permutations of items of equal value and equal `tieClass` (with
  ///   nil: when all values are distinct). Returns false (with `order` undefined) when there is
  ///   a NaN, or a run of equal values holds different classes.
  /// - parameter buffer: `[2n]` radix keys; `counts`: `[4 · 256]` histograms.
  ///
  /// Method: insertion sort for n ≤ 32, O(n²); above, a stable LSD radix sort (four 8-bit
  /// passes, passes with a single digit skipped), O(n + 1024), without data-dependent
  /// branches; both of `(order-preserving bits of the value, index)`. `-0` counts as `+0`.
  @inline(__always)
  static func descending<T: BinaryFloatingPoint>(
    _ keys: UnsafePointer<T>, count n: Int, tieClass: UnsafePointer<Int>?, order: UnsafeMutablePointer<Int>,
    buffer: UnsafeMutablePointer<UInt64>, counts: UnsafeMutablePointer<UInt32>
  ) -> Bool {
    if n == 0 { return true }
    var a = buffer
    var nan = false
    // Key: the complement of the order-preserving bit pattern, so ascending keys are
    // descending values; the index in the low half makes every key distinct.
    @inline(__always) func key(_ i: Int) -> UInt64 {
      let v = Float(keys[i]) + 0  // -0 → +0
      nan = nan || v.isNaN
      let bits = v.bitPattern
      let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
      return UInt64(~ordered) << 32 | UInt64(truncatingIfNeeded: i)
    }
    if n <= 32 {
      for i in 0..<n {
        let k = key(i)
        var j = i
        while j > 0 && a[j - 1] > k {
          a[j] = a[j - 1]
          j -= 1
        }
        a[j] = k
      }
    } else {
      counts.initialize(repeating: 0, count: 4 * 256)
      for i in 0..<n {
        let k = key(i)
        a[i] = k
        let d = UInt32(truncatingIfNeeded: k >> 32)
        counts[Int(d & 0xff)] &+= 1
        counts[256 + Int((d >> 8) & 0xff)] &+= 1
        counts[512 + Int((d >> 16) & 0xff)] &+= 1
        counts[768 + Int(d >> 24)] &+= 1
      }
      var b = buffer + n
      for pass in 0..<4 {
        let shift = UInt64(32 + 8 * pass)
        let h = counts + 256 * pass
        if Int(h[Int((a[0] >> shift) & 0xff)]) == n { continue }
        var sum: UInt32 = 0
        for d in 0..<256 {
          let c = h[d]
          h[d] = sum
          sum &+= c
        }
        for i in 0..<n {
          let k = a[i]
          let d = Int((k >> shift) & 0xff)
          b[Int(h[d])] = k
          h[d] &+= 1
        }
        swap(&a, &b)
      }
    }
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
}
