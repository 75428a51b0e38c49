import EPBPlanner
import EPBTestSupport
import Testing

/// The sort and the pack chooser under the fast paths, against plain definitions.
@Suite struct PackingTests {
  /// `FastOrder.sortAscending` (bottom-up merge sort, merging full runs from both ends at once)
  /// against the standard library's sort, for every size up to 300 (full and partial runs).
  @Test func sortAscendingMatchesSorted() {
    var rng = SplitMix64(seed: 11)
    for n in 0...300 {
      // Distinct keys, as every caller has: a random high half and the position as the low half.
      let keys = (0..<n).map { UInt64.random(in: 0...40, using: &rng) << 32 | UInt64($0) }.shuffled(using: &rng)
      let a = UnsafeMutablePointer<UInt64>.allocate(capacity: max(n, 1))
      let b = UnsafeMutablePointer<UInt64>.allocate(capacity: max(n, 1))
      defer {
        a.deallocate()
        b.deallocate()
      }
      a.initialize(from: keys, count: n)
      let result = FastOrder.sortAscending(a, b, count: n)
      #expect(Array(UnsafeBufferPointer(start: result, count: n)) == keys.sorted(), "n = \(n)")
    }
  }

  /// eplb.py's `balanced_packing` written out plainly: items by descending value (distinct
  /// values here, so the order is unique), each into the pack with room of least weight, the
  /// first such pack on ties (Python's `min`), weights summed in `T`.
  static func reference<T: PlannerFloat>(_ weight: [T], packs: Int) -> (packIndex: [Int], rankInPack: [Int]) {
    let n = weight.count
    let per = n / packs
    let order = (0..<n).sorted { Float(weight[$0]) > Float(weight[$1]) }  // eplb.py sorts in float32
    var load = [T](repeating: 0, count: packs)
    precondition(Set(weight.map { Float($0) }).count == n, "the reference needs distinct Float values")
    var items = [Int](repeating: 0, count: packs)
    var packIndex = [Int](repeating: 0, count: n)
    var rankInPack = [Int](repeating: 0, count: n)
    for i in order {
      var best = -1
      for p in 0..<packs where items[p] < per && (best < 0 || load[p] < load[best]) { best = p }
      packIndex[i] = best
      rankInPack[i] = items[best]
      items[best] += 1
      load[best] += weight[i]
    }
    return (packIndex, rankInPack)
  }

  /// `EPLB.balancedPacking` (`PackTree`: keys of weight and index in a min-tree) against the
  /// plain definition, in `Float` and `Double`, with pack weights that tie often (small
  /// integers), zeros, negative weights, a +∞ item, sums that overflow to +∞ (packs with room
  /// must then still be chosen among +∞ packs by index, never a full one) and pack counts that
  /// are not powers of two.
  @Test(arguments: [1, 2, 3, 5, 8, 13, 32])
  func balancedPackingMatchesThePlainDefinition(packs: Int) {
    var rng = SplitMix64(seed: UInt64(packs))
    for round in 0..<60 {
      let per = 1 + Int.random(in: 1...9, using: &rng)
      let n = packs * per
      var values: [Double] = (0..<n).map { Double($0) - Double(round % 3 == 0 ? n / 2 : 0) }.shuffled(using: &rng)
      if round % 4 == 1 { values[Int.random(in: 0..<n, using: &rng)] = .infinity }
      var float = values.map { Float($0) }
      if round % 4 == 2 {
        // Near the largest finite value: two items in one pack overflow to +∞, in packs of
        // any index, which must then still beat every full pack. (`Float` only: eplb.py
        // orders by `Float` values, to which such `Double` values would all round to +∞.)
        let order = (0..<n).shuffled(using: &rng)
        for (rank, i) in order.enumerated() {
          float[i] = Float.greatestFiniteMagnitude * Float(0.5 + Double(rank) / Double(4 * n))
        }
      }
      let gotFloat = EPLB.balancedPacking(float, packs: packs)
      let wantFloat = Self.reference(float, packs: packs)
      #expect(gotFloat.packIndex == wantFloat.packIndex && gotFloat.rankInPack == wantFloat.rankInPack)
      let gotDouble = EPLB.balancedPacking(values, packs: packs)
      let wantDouble = Self.reference(values, packs: packs)
      #expect(gotDouble.packIndex == wantDouble.packIndex && gotDouble.rankInPack == wantDouble.rankInPack)
    }
  }
}
