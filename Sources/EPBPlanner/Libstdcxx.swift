/// Ports of the libstdc++ (GCC `stl_algo.h`, `stl_heap.h`) algorithms that torch's CPU kernels
/// call, so orders among equal keys come out exactly as in eplb.py.
///
/// All work in place on `q[0..<count]` with a strict-weak-order `comp` (`comp(a, b)`: a goes
/// before b). Only the code paths libstdc++ takes are ported, with its constants
/// (`_S_threshold = 16`, depth limit `2 · ⌊log2 n⌋`).
enum Libstdcxx {
  /// `std::sort`: introsort, then the final insertion sort. O(n log n), not stable.
  static func sort<E>(_ q: UnsafeMutablePointer<E>, count n: Int, _ comp: (E, E) -> Bool) {
    if n == 0 { return }
    introsortLoop(q, 0, n, lg(n) * 2, comp)
    // __final_insertion_sort
    if n > threshold {
      insertionSort(q, 0, threshold, comp)
      var i = threshold
      while i < n {
        unguardedLinearInsert(q, i, comp)
        i += 1
      }
    } else {
      insertionSort(q, 0, n, comp)
    }
  }

  /// `std::nth_element(q, q + nth, q + n)`. O(n).
  static func nthElement<E>(_ q: UnsafeMutablePointer<E>, nth: Int, count n: Int, _ comp: (E, E) -> Bool) {
    if n == 0 || nth == n { return }
    introselect(q, 0, nth, n, lg(n) * 2, comp)
  }

  /// `std::partial_sort(q, q + middle, q + n)`: heap select, then sort_heap. O(n log middle).
  static func partialSort<E>(_ q: UnsafeMutablePointer<E>, middle: Int, count n: Int, _ comp: (E, E) -> Bool) {
    heapSelect(q, 0, middle, n, comp)
    var last = middle
    while last > 1 {
      last -= 1
      popHeap(q, 0, last, last, comp)
    }
  }

  /// libstdc++'s `_S_threshold`.
  private static var threshold: Int { 16 }

  static func introsortLoop<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last0: Int, _ depth0: Int, _ comp: (E, E) -> Bool
  ) {
    var last = last0, depth = depth0
    while last - first > threshold {
      if depth == 0 {
        // std::__partial_sort(first, last, last): heapsort
        heapSelect(q, first, last, last, comp)
        var end = last
        while end - first > 1 {
          end -= 1
          popHeap(q, first, end, end, comp)
        }
        return
      }
      depth -= 1
      let cut = unguardedPartitionPivot(q, first, last, comp)
      introsortLoop(q, cut, last, depth, comp)
      last = cut
    }
  }

  static func unguardedLinearInsert<E>(_ q: UnsafeMutablePointer<E>, _ i: Int, _ comp: (E, E) -> Bool) {
    let value = q[i]
    var hole = i
    while comp(value, q[hole - 1]) {
      q[hole] = q[hole - 1]
      hole -= 1
    }
    q[hole] = value
  }

  @inline(__always)
  static func exchange<E>(_ q: UnsafeMutablePointer<E>, _ a: Int, _ b: Int) {
    let t = q[a]
    q[a] = q[b]
    q[b] = t
  }

  /// `std::__lg`: ⌊log2 n⌋.
  static func lg(_ n: Int) -> Int { Int.bitWidth - 1 - n.leadingZeroBitCount }

  static func introselect<E>(
    _ q: UnsafeMutablePointer<E>, _ first0: Int, _ nth: Int, _ last0: Int, _ depth0: Int,
    _ comp: (E, E) -> Bool
  ) {
    if first0 == last0 || nth == last0 { return }
    var first = first0, last = last0, depth = depth0
    while last - first > 3 {
      if depth == 0 {
        heapSelect(q, first, nth + 1, last, comp)
        exchange(q, first, nth)
        return
      }
      depth -= 1
      let cut = unguardedPartitionPivot(q, first, last, comp)
      if cut <= nth { first = cut } else { last = cut }
    }
    insertionSort(q, first, last, comp)
  }

  static func unguardedPartitionPivot<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last: Int, _ comp: (E, E) -> Bool
  ) -> Int {
    let mid = first + (last - first) / 2
    moveMedianToFirst(q, first, first + 1, mid, last - 1, comp)
    return unguardedPartition(q, first + 1, last, first, comp)
  }

  static func moveMedianToFirst<E>(
    _ q: UnsafeMutablePointer<E>, _ result: Int, _ a: Int, _ b: Int, _ c: Int,
    _ comp: (E, E) -> Bool
  ) {
    if comp(q[a], q[b]) {
      if comp(q[b], q[c]) {
        exchange(q, result, b)
      } else if comp(q[a], q[c]) {
        exchange(q, result, c)
      } else {
        exchange(q, result, a)
      }
    } else if comp(q[a], q[c]) {
      exchange(q, result, a)
    } else if comp(q[b], q[c]) {
      exchange(q, result, c)
    } else {
      exchange(q, result, b)
    }
  }

  static func unguardedPartition<E>(
    _ q: UnsafeMutablePointer<E>, _ first0: Int, _ last0: Int, _ pivot: Int,
    _ comp: (E, E) -> Bool
  ) -> Int {
    var first = first0, last = last0
    while true {
      while comp(q[first], q[pivot]) { first += 1 }
      last -= 1
      while comp(q[pivot], q[last]) { last -= 1 }
      if !(first < last) { return first }
      exchange(q, first, last)
      first += 1
    }
  }

  static func insertionSort<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last: Int, _ comp: (E, E) -> Bool
  ) {
    if first == last { return }
    var i = first + 1
    while i < last {
      let value = q[i]
      if comp(value, q[first]) {
        var j = i
        while j > first {
          q[j] = q[j - 1]
          j -= 1
        }
        q[first] = value
      } else {
        unguardedLinearInsert(q, i, comp)
      }
      i += 1
    }
  }

  // MARK: heaps (stl_heap.h); `first` is an offset into `q`

  static func heapSelect<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ middle: Int, _ last: Int,
    _ comp: (E, E) -> Bool
  ) {
    makeHeap(q, first, middle, comp)
    var i = middle
    while i < last {
      if comp(q[i], q[first]) { popHeap(q, first, middle, i, comp) }
      i += 1
    }
  }

  static func makeHeap<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last: Int, _ comp: (E, E) -> Bool
  ) {
    let len = last - first
    if len < 2 { return }
    var parent = (len - 2) / 2
    while true {
      let value = q[first + parent]
      adjustHeap(q, first, parent, len, value, comp)
      if parent == 0 { return }
      parent -= 1
    }
  }

  static func popHeap<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last: Int, _ result: Int,
    _ comp: (E, E) -> Bool
  ) {
    let value = q[result]
    q[result] = q[first]
    adjustHeap(q, first, 0, last - first, value, comp)
  }

  static func adjustHeap<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ hole0: Int, _ len: Int, _ value: E,
    _ comp: (E, E) -> Bool
  ) {
    let top = hole0
    var hole = hole0
    var second = hole0
    while second < (len - 1) / 2 {
      second = 2 * (second + 1)
      if comp(q[first + second], q[first + second - 1]) { second -= 1 }
      q[first + hole] = q[first + second]
      hole = second
    }
    if len & 1 == 0 && second == (len - 2) / 2 {
      second = 2 * (second + 1)
      q[first + hole] = q[first + second - 1]
      hole = second - 1
    }
    // __push_heap
    var parent = (hole - 1) / 2
    while hole > top && comp(q[first + parent], value) {
      q[first + hole] = q[first + parent]
      hole = parent
      parent = (hole - 1) / 2
    }
    q[first + hole] = value
  }
}
