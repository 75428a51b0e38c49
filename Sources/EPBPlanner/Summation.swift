/// Sums for the planner's hot loops.
enum Summation {
  /// Σ `x[0..<n]` in `Double` (each element widened) with four accumulators (a serial sum
  /// waits on every addition). Exact, in any order, while the terms and the partial sums are
  /// integers below 2^53.
  @inline(__always) static func sum<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, _ n: Int) -> Double {
    var a = 0.0, b = 0.0, c = 0.0, d = 0.0
    var i = 0
    while i + 4 <= n {
      a += Double(x[i])
      b += Double(x[i + 1])
      c += Double(x[i + 2])
      d += Double(x[i + 3])
      i += 4
    }
    while i < n {
      a += Double(x[i])
      i += 1
    }
    return (a + b) + (c + d)
  }
}
