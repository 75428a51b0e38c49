/// Ports of the libstdc++ (GCC `stl_algo.h`, `stl_heap.h`) algorithms that torch's CPU kernels
/// call, so orders among equal keys come out exactly as in eplb.py.
///
/// All work in place on `q[0..<count]` with a strict-weak-order `comp` (`comp(a, b)`: a goes
/// before b). Only the code paths libstdc++ takes are ported, with its constants
/// (`_S_threshold = 16`, depth limit `2 · ⌊log2 n⌋`).
package enum Libstdcxx {
  /// `std::sort`: introsort, then the final insertion sort. O(n log n), not stable.
  package static func sort<E>(_ q: UnsafeMutablePointer<E>, count n: Int, _ comp: (E, E) -> Bool) {
    if n == 0 { return }
    introsortLoop(q, 0, n, lg(n) * 2, comp)
    finalInsertionSort(q, count: n, comp)
  }

  /// `std::__final_insertion_sort`, `sort`'s last step.
  package static func finalInsertionSort<E>(_ q: UnsafeMutablePointer<E>, count n: Int, _ comp: (E, E) -> Bool) {
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

  /// `sort(q, count: n) { $0 >> 32 < $1 >> 32 }`, the same permutation, cheaper: keys ordered
  /// by their high halves, the low halves ride along (the fast path's `FastOrder.key`s,
  /// ordered by value alone as torch's sort orders the replicas' loads).
  ///
  /// - parameter stops: `[2n + 2]` scratch. `buffer`: `[32]` scratch keys.
  ///
  /// Two steps differ from the plain port, with the same result:
  /// - **Partition** (`unguardedPartitionByHighHalf`): the stops of libstdc++'s two scans are
  ///   listed first, and the swaps pair them (see there).
  /// - **Final insertion sort.** Insertion sort moves a key left only past strictly larger
  ///   ones, so it is stable, and the unguarded part inserts as the guarded one would
  ///   (introsort leaves the minimum among the first 16 keys): the result is the stable sort
  ///   of the partitioned keys by high half, which is a stable sort of each range of at most
  ///   16 keys that introsort leaves (`stableSortByHighHalf`).
  package static func sortByHighHalf(
    _ q: UnsafeMutablePointer<UInt64>, count n: Int, stops: UnsafeMutablePointer<Int>,
    buffer: UnsafeMutablePointer<UInt64>
  ) {
    if n < 2 { return }
    introsortLoopByHighHalf(q, 0, n, lg(n) * 2, stops, buffer)
  }

  /// `introsortLoop` with `comp = { $0 >> 32 < $1 >> 32 }`, partitioning with
  /// `unguardedPartitionByHighHalf`, followed by the final insertion sort's work on the range
  /// it leaves (see `sortByHighHalf`). `stops`: `[2n + 2]` scratch;
  /// `buffer`: `[32]`.
  package static func introsortLoopByHighHalf(
    _ q: UnsafeMutablePointer<UInt64>, _ first: Int, _ last0: Int, _ depth0: Int,
    _ stops: UnsafeMutablePointer<Int>, _ buffer: UnsafeMutablePointer<UInt64>
  ) {
    let comp: (UInt64, UInt64) -> Bool = { $0 >> 32 < $1 >> 32 }
    var last = last0, depth = depth0
    while last - first > threshold {
      if depth == 0 {
        // Heapsort leaves the range sorted, which the final insertion sort keeps as it is.
        heapsort(q, first, last, comp)
        return
      }
      depth -= 1
      movePivotToFirst(q, first, last, comp)
      let cut = unguardedPartitionByHighHalf(q, first + 1, last, first, stops)
      introsortLoopByHighHalf(q, cut, last, depth, stops, buffer)
      last = cut
    }
    stableSortByHighHalf(q + first, count: last - first, low: stops, buffer: buffer)
  }

  /// Sorts `q[0..<n]` (`n` ≤ 16) by high half, equal high halves in their current order, as
  /// insertion sort would: `FastOrder.sortAscending` of `(high half, position)` padded to 8
  /// or 16 keys with distinct keys above every real one (so it takes its branch-free network
  /// and full-run merge only: `UInt64.max - p` for position `p`, whose low half exceeds
  /// every position), then the low halves (kept in `low [n]`) put back. `buffer`: `[32]`.
  ///
  /// Introsort leaves ranges of at most 16 keys unsorted, each no larger than the next (a
  /// partition puts keys not above the pivot before the cut and keys not below it after).
  /// libstdc++'s final insertion sort over the whole array is stable, so it equals this
  /// sort applied to each such range in turn.
  static func stableSortByHighHalf(
    _ q: UnsafeMutablePointer<UInt64>, count n: Int, low: UnsafeMutablePointer<Int>,
    buffer: UnsafeMutablePointer<UInt64>
  ) {
    if n < 2 { return }
    let padded = n <= 8 ? 8 : 16
    for p in 0..<n {
      low[p] = Int(truncatingIfNeeded: q[p] & 0xffff_ffff)
      buffer[p] = q[p] & ~0xffff_ffff | UInt64(truncatingIfNeeded: p)
    }
    for p in n..<padded { buffer[p] = UInt64.max &- UInt64(truncatingIfNeeded: p) }
    let sorted = FastOrder.sortAscending(buffer, buffer + 16, count: padded)
    for k in 0..<n {
      let key = sorted[k]
      q[k] = key & ~0xffff_ffff | UInt64(truncatingIfNeeded: low[Int(truncatingIfNeeded: key & 0xffff_ffff)])
    }
  }

  /// `unguardedPartition(q, first, last, pivot) { $0 >> 32 < $1 >> 32 }`: the same swaps and
  /// the same cut, from the lists of the two scans' stops. `stops`: `[2(last - first) + 2]`.
  ///
  /// Why this is the same: the pivot sits outside `first..<last` and never moves. Let
  /// `L₁ < L₂ < …` be the positions in `first..<last` whose key is not below the pivot (where
  /// the left scan can stop) and `R₁ > R₂ > …` those in `pivot..<last` not above it (where
  /// the right scan can stop; the pivot itself is one), both in the unmodified keys. By
  /// induction, round `k` starts with the swaps `(L₁, R₁) … (L₍ₖ₋₁₎, R₍ₖ₋₁₎)` done: the left
  /// scan runs from `L₍ₖ₋₁₎ + 1` over unmodified keys up to `R₍ₖ₋₁₎`, which now holds a key
  /// not below the pivot (the old `L₍ₖ₋₁₎`'s), so it stops at `min(Lₖ, R₍ₖ₋₁₎)`; the right
  /// scan likewise stops at `max(Rₖ, L₍ₖ₋₁₎)`. If `Lₖ < Rₖ` these are `Lₖ` and `Rₖ`, and
  /// libstdc++ swaps them. Otherwise the scans have crossed, and the cut is
  /// `min(Lₖ, R₍ₖ₋₁₎)`. The pairs with `Lₖ < Rₖ` are a prefix (`L` rises, `R` falls): count
  /// them, swap them, return the cut. Both lists are built by writing every position and
  /// advancing by a 0/1 from the key's sign bit, so there is no data-dependent branch but the
  /// swap loop's exit. O(last − first).
  static func unguardedPartitionByHighHalf(
    _ q: UnsafeMutablePointer<UInt64>, _ first: Int, _ last: Int, _ pivot: Int,
    _ stops: UnsafeMutablePointer<Int>
  ) -> Int {
    let p = Int(truncatingIfNeeded: q[pivot] >> 32)
    // One pass collects both lists in ascending position; `R₁, R₂, …` are the right list
    // read from its end. The pivot is the right list's first entry (it is not above itself).
    let left = stops  // [last - first]
    let right = stops + (last - first)  // [last - pivot]
    right[0] = pivot
    var nl = 0, nr = 1
    for i in first..<last {
      let h = Int(truncatingIfNeeded: q[i] >> 32)
      left[nl] = i
      nl &+= 1 &+ ((h &- p) >> 63)  // +1 unless key < pivot
      right[nr] = i
      nr &+= 1 &+ ((p &- h) >> 63)  // +1 unless pivot < key
    }
    @inline(__always) func r(_ k: Int) -> Int { right[nr &- 1 &- k] }  // R₍ₖ₊₁₎
    var swaps = 0
    let pairs = Swift.min(nl, nr)
    for k in 0..<pairs { swaps &+= Int(bitPattern: UInt(bitPattern: (left[k] &- r(k)) >> 63) & 1) }
    for k in 0..<swaps { exchange(q, left[k], r(k)) }
    let stopLeft = swaps < nl ? left[swaps] : Int.max
    let stopRight = swaps > 0 ? r(swaps - 1) : Int.max
    return Swift.min(stopLeft, stopRight)
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

  package static func introsortLoop<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last0: Int, _ depth0: Int, _ comp: (E, E) -> Bool
  ) {
    var last = last0, depth = depth0
    while last - first > threshold {
      if depth == 0 {
        heapsort(q, first, last, comp)
        return
      }
      depth -= 1
      let cut = unguardedPartitionPivot(q, first, last, comp)
      introsortLoop(q, cut, last, depth, comp)
      last = cut
    }
  }

  /// `std::__partial_sort(first, last, last)`: heapsort, introsort's fallback at its depth limit.
  static func heapsort<E>(_ q: UnsafeMutablePointer<E>, _ first: Int, _ last: Int, _ comp: (E, E) -> Bool) {
    heapSelect(q, first, last, last, comp)
    var end = last
    while end - first > 1 {
      end -= 1
      popHeap(q, first, end, end, comp)
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
    movePivotToFirst(q, first, last, comp)
    return unguardedPartition(q, first + 1, last, first, comp)
  }

  /// The pivot choice of `std::__unguarded_partition_pivot`: the median of `q[first + 1]`,
  /// the middle key and `q[last - 1]`, moved to `first`.
  @inline(__always)
  static func movePivotToFirst<E>(
    _ q: UnsafeMutablePointer<E>, _ first: Int, _ last: Int, _ comp: (E, E) -> Bool
  ) {
    let mid = first + (last - first) / 2
    moveMedianToFirst(q, first, first + 1, mid, last - 1, comp)
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
