/// The index order of `torch.topk(x, k=2)` on CPU, ties included.
///
/// torch's CPU kernel (`topk_impl_loop`) fills a queue of `(value, index)` pairs and, for
/// `k = 2`, runs libstdc++'s `std::partial_sort` when `64 · k <= n`, else `std::nth_element`
/// on the second position (the following `std::sort` of the first `k − 1` entries is a no-op).
/// The comparator looks at values only, so among equal values the order is whatever those
/// libstdc++ algorithms leave (see `Libstdcxx`), so the seed's fix-up sees the same donors and
/// receivers as the Python. No NaN handling in the emulation: loads are finite.
package enum TorchTopK {
  /// The indices of the two largest (`largest`) or two smallest values of `values [n]`, in
  /// torch's order; `n >= 2`. Uses `queue [n]` when it falls back to `top2Exact`.
  ///
  /// Fast path: one scan for the best value, the second and the best of the rest. When the
  /// best is strictly better than the second and the second strictly better than the rest,
  /// the pair and its order are the same for every correct selection, libstdc++'s included, so
  /// the emulation is skipped. Any tie at the top two places (or a NaN) takes `top2Exact`.
  /// Complexity O(n), one pass without the queue in the common case.
  @inline(__always)
  package static func top2<T: PlannerFloat>(
    _ values: UnsafePointer<T>, count n: Int, largest: Bool, queue: UnsafeMutablePointer<KeyedIndex>
  ) -> (Int, Int) {
    @inline(__always) func better(_ a: T, _ b: T) -> Bool { largest ? a > b : a < b }
    let worst: T = largest ? -.infinity : .infinity
    var v1 = values[0], v2 = worst, v3 = worst
    var i1 = 0, i2 = -1
    var nan = v1.isNaN
    for j in 1..<n {
      let v = values[j]
      nan = nan || v.isNaN
      if better(v, v1) {
        v3 = v2
        v2 = v1
        i2 = i1
        v1 = v
        i1 = j
      } else if better(v, v2) {
        v3 = v2
        v2 = v
        i2 = j
      } else if !better(v3, v) {
        v3 = v  // at least as good as the rest so far (an equal second lands here)
      }
    }
    if !nan && i2 >= 0 && better(v1, v2) && better(v2, v3) { return (i1, i2) }
    return top2Exact(values, count: n, largest: largest, queue: queue)
  }

  /// `top2` by emulating torch's kernel step for step (`Libstdcxx`), ties in its order.
  /// Uses `queue [n]`. Complexity O(n).
  package static func top2Exact<T: PlannerFloat>(
    _ values: UnsafePointer<T>, count n: Int, largest: Bool, queue: UnsafeMutablePointer<KeyedIndex>
  ) -> (Int, Int) {
    for j in 0..<n {
      queue[j] = KeyedIndex(value: Double(values[j]), index: j)
    }
    // std::partial_sort when k · 64 <= n, else std::nth_element at k − 1.
    if largest {
      if 2 * 64 <= n {
        Libstdcxx.partialSort(queue, middle: 2, count: n) { $0.value > $1.value }
      } else {
        Libstdcxx.nthElement(queue, nth: 1, count: n) { $0.value > $1.value }
      }
    } else {
      if 2 * 64 <= n {
        Libstdcxx.partialSort(queue, middle: 2, count: n) { $0.value < $1.value }
      } else {
        Libstdcxx.nthElement(queue, nth: 1, count: n) { $0.value < $1.value }
      }
    }
    return (queue[0].index, queue[1].index)
  }
}
