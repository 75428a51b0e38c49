import EPBPlanner
import EPBTestSupport
import Testing

/// `FastOrder.sortAscending` (AVX2 networks for powers of two from 32 to 4,096, else the merge
/// sort) and both of its paths alone, against the standard library's sort, key for key.
@Suite struct VectorSortTests {
  /// Distinct keys over the whole 64-bit range: random high bits (the top bit set about half
  /// the time, which the networks' signed compares must map), the position in the low 13 bits.
  static func randomKeys(_ n: Int, _ rng: inout SplitMix64, highValues: UInt64 = .max) -> [UInt64] {
    (0..<n).map { i in (UInt64.random(in: 0...highValues, using: &rng) << 13) | UInt64(i) }
  }

  /// The keys the planner sorts for real: `FastOrder.key` of `Float` loads (non-negative,
  /// negative, ±0, ties of equal values) with their indices.
  static func loadKeys(_ n: Int, _ rng: inout SplitMix64) -> [UInt64] {
    (0..<n).map { i in
      let value: Float =
        switch i % 5 {
        case 0: Float(UInt32.random(in: 0...7, using: &rng))  // many equal values
        case 1: -Float(UInt32.random(in: 0...1000, using: &rng))
        case 2: [0, -0, .infinity, -.infinity, .greatestFiniteMagnitude][Int.random(in: 0..<5, using: &rng)]
        default: Float.random(in: 0...1e6, using: &rng)
        }
      return FastOrder.key(value, i)
    }
  }

  static func sortedByEachPath(_ input: [UInt64]) -> (dispatched: [UInt64], merge: [UInt64]) {
    let n = input.count
    func run(_ body: (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<UInt64>)
      -> [UInt64]
    {
      var a = input
      var b = [UInt64](repeating: 0, count: n)
      return a.withUnsafeMutableBufferPointer { pa in
        b.withUnsafeMutableBufferPointer { pb in
          guard let x = pa.baseAddress, let y = pb.baseAddress else { return [] }
          return Array(UnsafeBufferPointer(start: body(x, y), count: n))
        }
      }
    }
    return (
      run { FastOrder.sortAscending($0, $1, count: n) }, run { FastOrder.mergeSortAscending($0, $1, count: n) }
    )
  }

  @Test(arguments: [1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 128, 255, 256, 257, 288, 512, 1024, 4096, 8192])
  func bothPathsSortRandomKeys(n: Int) {
    var rng = SplitMix64(seed: UInt64(n) &* 31 &+ 5)
    for trial in 0..<(n <= 512 ? 40 : 6) {
      let input =
        switch trial % 3 {
        case 0: Self.randomKeys(n, &rng)
        case 1: Self.randomKeys(n, &rng, highValues: 3)  // only the low bits tell keys apart
        default: Self.loadKeys(n, &rng)
        }
      let expected = input.sorted()
      let (dispatched, merge) = Self.sortedByEachPath(input)
      #expect(dispatched == expected, "n \(n) trial \(trial): sortAscending")
      #expect(merge == expected, "n \(n) trial \(trial): mergeSortAscending")
    }
  }

  @Test func bothPathsSortPatternedKeys() {
    for n in [32, 64, 256, 1024] {
      let ascending = (0..<n).map { UInt64($0) }
      let patterns: [(String, [UInt64])] = [
        ("ascending", ascending),
        ("descending", ascending.reversed()),
        ("organ pipe", (0..<n).map { UInt64($0 < n / 2 ? 2 * $0 : 2 * (n - $0) - 1) }),
        // Around the sign bit: unsigned order differs from signed order here.
        ("sign boundary", (0..<n).map { UInt64(1) << 63 &+ UInt64($0) &- UInt64(n / 2) }),
        ("extremes", (0..<n).map { $0 % 2 == 0 ? UInt64($0) : UInt64.max &- UInt64($0) }),
      ]
      for (name, input) in patterns {
        let (dispatched, merge) = Self.sortedByEachPath(input)
        #expect(dispatched == input.sorted(), "\(name), n \(n)")
        #expect(merge == input.sorted(), "\(name), n \(n)")
      }
    }
  }

  /// The vector path alone, where the CPU has it (CI's x86-64 machines do), so a fallback to
  /// the merge sort cannot hide a broken network.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func vectorSortRunsAndSorts() {
    var rng = SplitMix64(seed: 99)
    for n in [32, 64, 128, 256, 512, 1024, 2048, 4096] {
      for _ in 0..<20 {
        let input = Self.randomKeys(n, &rng)
        var keys = input
        let ran = keys.withUnsafeMutableBufferPointer { FastOrder.vectorSort($0.baseAddress!, count: n) }
        #expect(ran, "n \(n)")
        #expect(keys == input.sorted(), "n \(n)")
      }
    }
    for n in [0, 16, 31, 33, 96, 8192] {
      var keys = Self.randomKeys(max(n, 1), &rng)
      let before = keys
      let ran = keys.withUnsafeMutableBufferPointer { FastOrder.vectorSort($0.baseAddress!, count: n) }
      #expect(!ran && keys == before, "n \(n) is not a size the networks take")
    }
  }
}
