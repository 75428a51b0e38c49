/// A cost type the assignment solver can add, subtract and compare: `Int` and `Double`.
public protocol AssignmentCost: Comparable, AdditiveArithmetic, Sendable {
  /// A value larger than any reduced cost the solver meets (`Int.max`, `Double.infinity`).
  static var assignmentUnbounded: Self { get }
}

extension Int: AssignmentCost {
  public static var assignmentUnbounded: Int { .max }
}

extension Double: AssignmentCost {
  public static var assignmentUnbounded: Double { .infinity }
}

/// Exact minimum-cost perfect matching of an n×n cost matrix (the linear assignment problem).
///
/// The Hungarian method in its shortest-augmenting-path form with row and column potentials
/// (Kuhn–Munkres as refined by Jonker–Volgenant / Tomizawa): rows are added one at a time and each
/// is routed along a shortest alternating path in reduced costs, so the whole solve is O(n³) time
/// and O(n) extra memory besides the matrix.
///
/// Example:
///
///     let r = Assignment.solve([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
///     // r.columnOfRow == [1, 0, 2], r.cost == 5
public enum Assignment {
  /// An optimal assignment: row `i` takes column `columnOfRow[i]`.
  public struct Solution<Cost: AssignmentCost>: Sendable, Equatable {
    /// `[n]`, a permutation of `0..<n`.
    public var columnOfRow: [Int]
    /// Σ_i cost[i][columnOfRow[i]], summed in row order.
    public var cost: Cost

    public init(columnOfRow: [Int], cost: Cost) {
      self.columnOfRow = columnOfRow
      self.cost = cost
    }

    /// `[n]`, the inverse permutation: column `j` is taken by row `rowOfColumn[j]`.
    public var rowOfColumn: [Int] {
      var out = Array(repeating: 0, count: columnOfRow.count)
      for (row, column) in columnOfRow.enumerated() { out[column] = row }
      return out
    }
  }

  /// Solves the assignment problem on `cost`, `[n][n]` (row i, column j).
  ///
  /// Deterministic: rows are inserted in increasing order and, at each step of a shortest-path
  /// search, the lowest column index with the smallest reduced cost is taken. Among several optimal
  /// assignments the result is therefore always the same one, but no particular one is promised;
  /// callers that prefer one (e.g. the identity) encode the preference in the costs, as
  /// `Relabel` does by scaling costs and adding 1 off the diagonal.
  ///
  /// Preconditions (programming errors, not user input): the matrix is square; `Double` costs are
  /// finite; `Int` costs are bounded by `Int.max / (4n)` in absolute value so potentials cannot overflow.
  /// An empty matrix gives an empty assignment of cost zero. Complexity O(n³).
  public static func solve<Cost: AssignmentCost>(_ cost: [[Cost]]) -> Solution<Cost> {
    let n = cost.count
    precondition(cost.allSatisfy { $0.count == n }, "Assignment.solve needs a square matrix")
    var flat: [Cost] = []
    flat.reserveCapacity(n * n)
    for row in cost { flat.append(contentsOf: row) }
    return solve(flat: flat, n: n)
  }

  /// `solve(_:)` on a row-major `[n * n]` matrix: `flat[i * n + j]` is the cost of row i in column j.
  public static func solve<Cost: AssignmentCost>(flat cost: [Cost], n: Int) -> Solution<Cost> {
    precondition(n >= 0 && cost.count == n * n, "Assignment.solve: \(cost.count) costs for a \(n)×\(n) matrix")
    if n == 0 { return Solution(columnOfRow: [], cost: .zero) }
    let inf = Cost.assignmentUnbounded
    // 1-based arrays as in the classic formulation; index 0 is the virtual column that starts each search.
    var u = [Cost](repeating: .zero, count: n + 1)  // row potentials [n + 1]
    var v = [Cost](repeating: .zero, count: n + 1)  // column potentials [n + 1]
    var rowOf = [Int](repeating: 0, count: n + 1)  // column j (1...n) -> row (1...n), 0 = free
    var way = [Int](repeating: 0, count: n + 1)  // previous column on the shortest path
    var minv = [Cost](repeating: inf, count: n + 1)
    var used = [Bool](repeating: false, count: n + 1)
    for i in 1...n {
      // Step 1: grow a shortest-path tree from row i until it reaches a free column.
      rowOf[0] = i
      var j0 = 0
      for j in 0...n {
        minv[j] = inf
        used[j] = false
      }
      repeat {
        used[j0] = true
        let i0 = rowOf[j0]
        var delta = inf
        var j1 = 0
        let rowBase = (i0 - 1) * n
        for j in 1...n where !used[j] {
          let reduced = cost[rowBase + j - 1] - u[i0] - v[j]
          if reduced < minv[j] {
            minv[j] = reduced
            way[j] = j0
          }
          if minv[j] < delta {
            delta = minv[j]
            j1 = j
          }
        }
        // Step 2: shift the potentials by the smallest slack so column j1 becomes tight.
        for j in 0...n {
          if used[j] {
            u[rowOf[j]] += delta
            v[j] -= delta
          } else {
            minv[j] -= delta
          }
        }
        j0 = j1
      } while rowOf[j0] != 0
      // Step 3: augment along the path back to the virtual column.
      repeat {
        let j1 = way[j0]
        rowOf[j0] = rowOf[j1]
        j0 = j1
      } while j0 != 0
    }
    var columnOfRow = [Int](repeating: 0, count: n)
    for j in 1...n { columnOfRow[rowOf[j] - 1] = j - 1 }
    var total = Cost.zero
    for i in 0..<n { total += cost[i * n + columnOfRow[i]] }
    return Solution(columnOfRow: columnOfRow, cost: total)
  }
}
