import EPBPlanner
import EPBTestSupport
import Testing

/// `TorchTopK.top2`'s one-pass fast path against the step-by-step emulation of torch's
/// kernel (`top2Exact`, libstdc++'s `nth_element` / `partial_sort`), on rows with and without
/// ties at the top, both directions, both of torch's branches (n < 128 and n ≥ 128).
@Suite struct TorchTopKTests {
  static func run(_ values: [Float], largest: Bool) -> (fast: [Int], exact: [Int]) {
    var queue = [KeyedIndex](repeating: KeyedIndex(value: 0, index: 0), count: values.count)
    return values.withUnsafeBufferPointer { v in
      queue.withUnsafeMutableBufferPointer { q in
        let f = TorchTopK.top2(v.baseAddress!, count: v.count, largest: largest, queue: q.baseAddress!)
        let e = TorchTopK.top2Exact(v.baseAddress!, count: v.count, largest: largest, queue: q.baseAddress!)
        return ([f.0, f.1], [e.0, e.1])
      }
    }
  }

  @Test(arguments: [2, 3, 7, 64, 127, 128, 256, 300])
  func fastPathAgreesWithTheEmulation(n: Int) {
    var rng = SplitMix64(seed: UInt64(n))
    for trial in 0..<400 {
      // Few distinct values (many ties), many distinct values, and distinct with a planted tie.
      let values: [Float]
      switch trial % 3 {
      case 0: values = (0..<n).map { _ in Float(Int.random(in: 0...4, using: &rng)) }
      case 1: values = (0..<n).map { _ in Float.random(in: 0..<1000, using: &rng) }
      default:
        var v = (0..<n).map { _ in Float.random(in: 0..<1000, using: &rng) }
        let top = v.max()!
        v[Int.random(in: 0..<n, using: &rng)] = top
        values = v
      }
      for largest in [true, false] {
        let (fast, exact) = Self.run(values, largest: largest)
        #expect(fast == exact, "n \(n) trial \(trial) largest \(largest): \(values)")
      }
    }
  }

  /// The cases the fast path must hand over: ties at the top, which the emulation orders
  /// the way torch does (not necessarily lowest index first).
  @Test func tiesAtTheTopAreLeftToTheEmulation() {
    for values: [Float] in [
      [5, 5], [1, 5, 5], [5, 3, 3, 1], [2, 2, 2, 2, 2], [0, -0.0, 1], [-.infinity, -.infinity],
    ] {
      for largest in [true, false] {
        let (fast, exact) = Self.run(values, largest: largest)
        #expect(fast == exact, "\(values) largest \(largest)")
      }
    }
    // Strictly ordered: the obvious answer.
    #expect(Self.run([3, 9, 1, 7], largest: true).fast == [1, 3])
    #expect(Self.run([3, 9, 1, 7], largest: false).fast == [2, 0])
  }
}
