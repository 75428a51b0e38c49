import EPBPlanner
import EPBTestSupport
import Testing

/// `Libstdcxx.sortByHighHalf` (branch-free partition, stable final pass) against the plain port
/// of libstdc++'s `std::sort` with the same comparison, key for key: the order among equal high
/// halves is what the fast path relies on to reproduce torch's tie order.
@Suite struct LibstdcxxTests {
  /// Keys with high halves from `values` and distinct low halves (the positions, as the fast
  /// path builds them).
  static func keys(_ values: [UInt32]) -> [UInt64] {
    values.enumerated().map { UInt64($0.element) << 32 | UInt64($0.offset) }
  }

  static func expectSameAsPlainSort(_ input: [UInt64], _ comment: Comment) {
    var plain = input
    plain.withUnsafeMutableBufferPointer { q in
      Libstdcxx.sort(q.baseAddress!, count: q.count) { $0 >> 32 < $1 >> 32 }
    }
    var fast = input
    var stops = [Int](repeating: -1, count: 2 * input.count + 2)
    var buffer = [UInt64](repeating: 0, count: 32)
    fast.withUnsafeMutableBufferPointer { q in
      Libstdcxx.sortByHighHalf(q.baseAddress!, count: q.count, stops: &stops, buffer: &buffer)
    }
    #expect(fast == plain, comment)
  }

  @Test(arguments: [0, 1, 2, 3, 16, 17, 33, 64, 100, 256, 288, 320, 1000])
  func matchesThePlainPortOnRandomKeys(n: Int) {
    var rng = SplitMix64(seed: UInt64(n) &+ 7)
    for trial in 0..<300 {
      // Few distinct values (long runs of ties), a moderate number (some ties), all distinct.
      let range: UInt32 = [2, 5, UInt32(max(n / 4, 1)), UInt32.max][trial % 4]
      let values = (0..<n).map { _ in UInt32.random(in: 0...range, using: &rng) }
      Self.expectSameAsPlainSort(Self.keys(values), "n \(n) trial \(trial)")
    }
  }

  @Test func matchesThePlainPortOnOrderedAndPatternedKeys() {
    for n in [17, 40, 129, 288, 500] {
      let ascending = (0..<n).map { UInt32($0) }
      let patterns: [(String, [UInt32])] = [
        ("ascending", ascending), ("descending", ascending.reversed()), ("all equal", Array(repeating: 9, count: n)),
        ("saw", (0..<n).map { UInt32($0 % 7) }), ("organ pipe", (0..<n).map { UInt32(min($0, n - 1 - $0)) }),
        ("two values", (0..<n).map { UInt32($0 & 1) }),
      ]
      for (name, values) in patterns { Self.expectSameAsPlainSort(Self.keys(values), "\(name), n \(n)") }
    }
  }

  /// Introsort falls back to heapsort when its depth budget runs out: with budgets of 0 to 3
  /// the fallback is taken at once or after a few partitions, and must be taken on the same
  /// ranges, leaving the same order (`introsortLoopByHighHalf` includes the final insertion
  /// sort's work on the ranges it leaves).
  @Test func matchesThePlainPortWhenTheDepthRunsOut() {
    var rng = SplitMix64(seed: 99)
    for n in [17, 64, 288] {
      for depth in 0...3 {
        for trial in 0..<50 {
          let values = (0..<n).map { _ in UInt32.random(in: 0...UInt32(trial % 2 == 0 ? 3 : 1000), using: &rng) }
          var plain = Self.keys(values)
          var fast = plain
          var stops = [Int](repeating: -1, count: 2 * n + 2)
          var buffer = [UInt64](repeating: 0, count: 32)
          plain.withUnsafeMutableBufferPointer { q in
            Libstdcxx.introsortLoop(q.baseAddress!, 0, n, depth) { $0 >> 32 < $1 >> 32 }
            Libstdcxx.finalInsertionSort(q.baseAddress!, count: n) { $0 >> 32 < $1 >> 32 }
          }
          fast.withUnsafeMutableBufferPointer { q in
            Libstdcxx.introsortLoopByHighHalf(q.baseAddress!, 0, n, depth, &stops, &buffer)
          }
          #expect(fast == plain, "n \(n) depth \(depth) trial \(trial)")
        }
      }
    }
  }
}
