/// The index order of `torch.topk(x, k=2)` on CPU, ties included.
///
/// torch's CPU kernel (`topk_impl_loop`) fills a queue of `(value, index)` pairs and, for
/// `k = 2`, runs libstdc++'s `std::partial_sort` when `64 · k <= n`, else `std::nth_element`
/// on the second position (the following `std::sort` of the first `k − 1` entries is a no-op).
/// The comparator looks at values only, so among equal values the order is whatever those
/// libstdc++ algorithms leave (see `Libstdcxx`), so the seed's fix-up sees the same donors and
/// receivers as the Python. No NaN handling: loads are finite.
enum TorchTopK {
  /// The indices of the two largest (`largest`) or two smallest values of `values [n]`, in
  /// torch's order; `n >= 2`. Uses `queue [n]`. Complexity O(n).
  @inline(__always)
  static func top2<T: BinaryFloatingPoint>(
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
