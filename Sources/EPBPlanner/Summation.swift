/// Sums for the planner's hot loops.
enum Summation {
  /// Σ `x[0..<n]` with four accumulators (a serial sum waits on every addition).
  @inline(__always) static func sum(_ x: UnsafePointer<Double>, _ n: Int) -> Double {
    var a = 0.0, b = 0.0, c = 0.0, d = 0.0
    var i = 0
    while i + 4 <= n {
      a += x[i]
      b += x[i + 1]
      c += x[i + 2]
      d += x[i + 3]
      i += 4
    }
    while i < n {
      a += x[i]
      i += 1
    }
    return (a + b) + (c + d)
  }
}
