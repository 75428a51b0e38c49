/// The binary heap the planner's greedy loops share: indices in a caller's buffer, ordered by a
/// caller's `before` (the root is the index that comes first), no storage of its own.
///
/// Used by D'Hondt's replication (`greedyReplicate`) and, for its heapify, the lower bound
/// (`Planner.maxLoadPerReplicaLowerBound`). The caller changes the root's key, then calls
/// `siftDown(from: 0)`. Everything is `@inline(__always)` so `before` compiles into each loop
/// as a plain comparison.
enum IndexHeap {
  /// Restores the heap order below `start` in `heap[0..<count]`. O(log count).
  @inline(__always)
  static func siftDown(
    _ heap: UnsafeMutablePointer<Int>, count n: Int, from start: Int, by before: (Int, Int) -> Bool
  ) {
    var i = start
    let item = heap[i]
    while true {
      var child = 2 * i + 1
      if child >= n { break }
      // The child that comes first, by a select: as `if`, the compiler branched on it,
      // mispredicted about every other level. (Past the end `right` is `child` itself.)
      let right = Swift.min(child + 1, n - 1)
      child = before(heap[right], heap[child]) ? right : child
      if !before(heap[child], item) { break }
      heap[i] = heap[child]
      i = child
    }
    heap[i] = item
  }

  /// Orders `heap[0..<count]` (any permutation of indices) into a heap. O(count).
  @inline(__always)
  static func heapify(_ heap: UnsafeMutablePointer<Int>, count n: Int, by before: (Int, Int) -> Bool) {
    var i = n / 2 - 1
    while i >= 0 {
      siftDown(heap, count: n, from: i, by: before)
      i -= 1
    }
  }
}
