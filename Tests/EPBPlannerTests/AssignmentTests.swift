import EPBPlanner
import EPBTestSupport
import Testing

/// Every permutation of `0..<n` (Heap's algorithm), for brute force on small matrices.
func allPermutations(_ n: Int) -> [[Int]] {
  var a = Array(0..<n)
  var out: [[Int]] = [a]
  var c = [Int](repeating: 0, count: n)
  var i = 0
  while i < n {
    if c[i] < i {
      if i % 2 == 0 { a.swapAt(0, i) } else { a.swapAt(c[i], i) }
      out.append(a)
      c[i] += 1
      i = 0
    } else {
      c[i] = 0
      i += 1
    }
  }
  return out
}

@Suite struct AssignmentTests {
  @Test func documentedExample() {
    // Hand check: rows take columns 1, 0, 2 for 1 + 2 + 2 = 5; the other five permutations cost 6, 6, 7, 9, 11.
    let r = Assignment.solve([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    #expect(r.columnOfRow == [1, 0, 2])
    #expect(r.cost == 5)
    #expect(r.rowOfColumn == [1, 0, 2])
  }

  @Test func emptyAndSingle() {
    let empty: [[Int]] = []
    #expect(Assignment.solve(empty).columnOfRow == [])
    #expect(Assignment.solve(empty).cost == 0)
    #expect(Assignment.solve([[7]]).columnOfRow == [0])
    #expect(Assignment.solve([[-3.5]]).cost == -3.5)
  }

  @Test func integerMatricesMatchBruteForce() {
    var rng = SplitMix64(seed: 42)
    for n in 1...7 {
      let perms = allPermutations(n)
      for _ in 0..<(n <= 4 ? 60 : 15) {
        // Small ranges make many ties; negative costs are allowed.
        let range = Int.random(in: 1...20, using: &rng)
        let m = (0..<n).map { _ in (0..<n).map { _ in Int.random(in: -range...range, using: &rng) } }
        let best = perms.map { p in (0..<n).reduce(0) { $0 + m[$1][p[$1]] } }.min()!
        let r = Assignment.solve(m)
        #expect(r.cost == best, "n=\(n) \(m)")
        #expect(Set(r.columnOfRow) == Set(0..<n))
        #expect((0..<n).reduce(0) { $0 + m[$1][r.columnOfRow[$1]] } == r.cost)
      }
    }
  }

  @Test func doubleMatricesMatchBruteForce() {
    var rng = SplitMix64(seed: 7)
    for n in 1...6 {
      let perms = allPermutations(n)
      for _ in 0..<20 {
        let m = (0..<n).map { _ in (0..<n).map { _ in Double.random(in: 0..<100, using: &rng) } }
        let best = perms.map { p in (0..<n).reduce(0.0) { $0 + m[$1][p[$1]] } }.min()!
        let r = Assignment.solve(m)
        #expect(abs(r.cost - best) <= 1e-9 * max(1, best), "n=\(n)")
      }
    }
  }

  @Test func deterministicOnTies() {
    // All-equal costs: every permutation is optimal; the result must not depend on anything but the input.
    let m = Array(repeating: Array(repeating: 3, count: 5), count: 5)
    let a = Assignment.solve(m), b = Assignment.solve(m)
    #expect(a == b)
    #expect(a.cost == 15)
  }

  @Test func largerMatrixIsAPermutationWithOptimalDualBound() {
    // n = 60 is beyond brute force; check feasibility and compare with a greedy upper bound.
    var rng = SplitMix64(seed: 99)
    let n = 60
    let m = (0..<n).map { _ in (0..<n).map { _ in Int.random(in: 0...1000, using: &rng) } }
    let r = Assignment.solve(m)
    #expect(Set(r.columnOfRow).count == n)
    var taken = Set<Int>(), greedy = 0
    for i in 0..<n {
      let j = (0..<n).filter { !taken.contains($0) }.min { m[i][$0] < m[i][$1] }!
      taken.insert(j)
      greedy += m[i][j]
    }
    #expect(r.cost <= greedy)
    // A lower bound: every row pays at least its minimum.
    #expect(r.cost >= m.reduce(0) { $0 + $1.min()! })
  }
}
