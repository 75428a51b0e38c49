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

  /// `VectorPacking.mergeAndPack` (`epb_merge_pack8`: the merge of a node's one-replica and
  /// repeated multi-replica keys, packed onto at most 8 GPUs in vector registers) against the
  /// plain definition on the standard library's merge: 1 to 8 GPUs, 1 to 10 slots each, loads
  /// that make pack weights tie (small integers: the tie path picks the first lightest GPU),
  /// zeros among the first replicas (the first round cannot be taken at once), huge loads
  /// whose sums overflow to +∞, and token counts. Also the tie flag against adjacent equal
  /// loads of different experts, and the refusals.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func vectorPackingMatchesThePlainDefinition() {
    var rng = SplitMix64(seed: 29)
    var checked = 0, tied = 0, tieFlags = 0
    for packs in 1...8 {
      for per in 1...10 {
        for round in 0..<12 {
          let slots = packs * per
          let experts = Int.random(in: max(1, slots / 3)...slots, using: &rng)
          // Counts: one each, the rest spread at random (at least one replica per expert).
          var count = [Int](repeating: 1, count: experts)
          for _ in 0..<(slots - experts) { count[Int.random(in: 0..<experts, using: &rng)] += 1 }
          let load: [Float] = (0..<experts).map { _ in
            switch round % 4 {
            case 0: return Float(Int.random(in: 0...6, using: &rng))
            case 1: return Float.greatestFiniteMagnitude * Float.random(in: 0.3...1, using: &rng)
            case 2: return Bool.random(using: &rng) ? 0 : Float(Int.random(in: 1...3, using: &rng))
            default: return Float(Int.random(in: 0...2_000_000, using: &rng))
            }
          }
          let ones = (0..<experts).filter { count[$0] == 1 }.map { FastOrder.key(load[$0], $0) }.sorted()
          let repeated = (0..<experts).filter { count[$0] > 1 }.flatMap { j in
            [UInt64](repeating: FastOrder.key(load[j] / Float(count[j]), j), count: count[j])
          }.sorted()
          let merged = (ones + repeated).sorted()
          let logical = (0..<experts).map { $0 * 7 + 3 }
          // The plain definition on the merged order.
          var weight = [Float](repeating: 0, count: packs)
          var items = [Int](repeating: 0, count: packs)
          var want = [Int](repeating: -1, count: slots)
          for key in merged {
            var best = -1
            for p in 0..<packs where items[p] < per && (best < 0 || weight[p] < weight[best]) { best = p }
            want[best * per + items[best]] = logical[FastOrder.index(key)]
            items[best] += 1
            weight[best] += FastOrder.nonNegativeValue(key)
          }
          let wantTie = zip(merged, merged.dropFirst()).contains { FastOrder.sameValue($0, $1) && $0 != $1 }
          var got = [Int](repeating: -1, count: slots)
          let tie = (ones + [.max]).withUnsafeBufferPointer { o in
            (repeated + [.max]).withUnsafeBufferPointer { r in
              got.withUnsafeMutableBufferPointer { out in
                VectorPacking.mergeAndPack(
                  ones: o.baseAddress!, repeated: r.baseAddress!, count: slots, packs: packs, perPack: per,
                  logical: logical, out: out.baseAddress!)
              }
            }
          }
          #expect(tie == wantTie, "packs \(packs), \(per) each, round \(round)")
          #expect(got == want, "packs \(packs), \(per) each, round \(round): \(load), counts \(count)")
          checked += 1
          tied += weight.count > Set(weight).count ? 1 : 0
          tieFlags += wantTie ? 1 : 0
        }
      }
    }
    #expect(checked == 960)
    // The loads did what they are for: packs that end equal, and tie flags both ways.
    #expect(tied > 100 && tieFlags > 100 && tieFlags < checked - 100, "\(tied) \(tieFlags)")
    // Refusals: 9 GPUs; a count that is not GPUs × slots per GPU.
    let keys: [UInt64] = (0..<18).map { FastOrder.key(Float(18 - $0), $0) } + [.max]
    var out = [Int](repeating: -1, count: 18)
    let logical = Array(0..<18)
    #expect(
      VectorPacking.mergeAndPack(
        ones: keys, repeated: [.max], count: 18, packs: 9, perPack: 2, logical: logical, out: &out) == nil)
    #expect(
      VectorPacking.mergeAndPack(
        ones: keys, repeated: [.max], count: 17, packs: 8, perPack: 2, logical: logical, out: &out) == nil)
    #expect(out == [Int](repeating: -1, count: 18))
  }

  /// `RoundPacking.merge` (two chains, one from each end) against the standard library's sort
  /// and a plain scan for ties, on sizes from 0 and loads with many equal values.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func roundMergeMatchesSorted() {
    var rng = SplitMix64(seed: 41)
    var tieFlags = 0, checked = 0
    for onesCount in [0, 1, 2, 3, 7, 8, 31, 224, 255] {
      for repeatedExperts in [0, 1, 2, 5, 32] {
        for round in 0..<6 {
          let experts = onesCount + repeatedExperts
          let load: [Float] = (0..<experts).map { _ in
            round % 2 == 0 ? Float(Int.random(in: 0...40, using: &rng)) : Float.random(in: 0...1e6, using: &rng)
          }
          let ones = (0..<onesCount).map { FastOrder.key(load[$0], $0) }.sorted()
          let repeated = (onesCount..<experts).flatMap { j in
            let c = Int.random(in: 2...5, using: &rng)
            return [UInt64](repeating: FastOrder.key(load[j] / Float(c), j), count: c)
          }.sorted()
          let want = (ones + repeated).sorted()
          let wantTie = zip(want, want.dropFirst()).contains { FastOrder.sameValue($0, $1) && $0 != $1 }
          var got = [UInt64](repeating: 0, count: want.count + 1)  // one more: nothing is written there
          let tie = (ones + [.max]).withUnsafeBufferPointer { o in
            (repeated + [.max]).withUnsafeBufferPointer { r in
              got.withUnsafeMutableBufferPointer { out in
                RoundPacking.merge(
                  ones: o.baseAddress!, count: ones.count, repeated: r.baseAddress!, count: repeated.count,
                  into: out.baseAddress!)
              }
            }
          }
          #expect(Array(got.prefix(want.count)) == want, "\(onesCount) ones, \(repeated.count) repeated")
          #expect(got.last == 0)
          #expect(tie == wantTie, "\(onesCount) ones, \(repeated.count) repeated, round \(round)")
          tieFlags += wantTie ? 1 : 0
          checked += 1
        }
      }
    }
    #expect(tieFlags > 20 && tieFlags < checked - 20, "\(tieFlags) of \(checked)")
  }

  /// `RoundPacking.pack` (rounds of one item per GPU, then `PackTree` from the first item that
  /// breaks a round) against the plain definition, for 1 to 32 GPUs, items in the planner's
  /// order (descending load) and in random order, with loads that end in equal packs, that
  /// agree on all but their lowest bits (the rounds' short keys drop 5 bits), and that
  /// overflow to +∞.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func roundPackingMatchesThePlainDefinition() {
    var rng = SplitMix64(seed: 43)
    var checked = 0, whole = 0, broken = 0
    for packs in 1...32 {
      for per in [1, 2, 3, 5, 9, 10] {
        for round in 0..<10 {
          let n = packs * per
          let load: [Float] = (0..<n).map { _ in
            switch round % 5 {
            case 0: return Float(Int.random(in: 0...6, using: &rng))
            case 1: return Float.greatestFiniteMagnitude * Float.random(in: 0.3...1, using: &rng)
            case 2: return Float(bitPattern: 0x4b00_0000 + UInt32.random(in: 0..<48, using: &rng))
            case 3: return Float(Int.random(in: 1_000...1_200, using: &rng))
            default: return Float(Int.random(in: 0...2_000_000, using: &rng))
            }
          }
          var items = (0..<n).map { FastOrder.key(load[$0], $0) }.sorted()
          if round >= 5 { items.shuffle(using: &rng) }
          let logical = (0..<n).map { $0 * 5 + 1 }
          // The plain definition, and whether every round gave each GPU one item.
          var weight = [Float](repeating: 0, count: packs)
          var count = [Int](repeating: 0, count: packs)
          var want = [Int](repeating: -1, count: n)
          var rounds = true
          for (i, key) in items.enumerated() {
            var best = -1
            for p in 0..<packs where count[p] < per && (best < 0 || weight[p] < weight[best]) { best = p }
            rounds = rounds && count[best] == i / packs
            want[best * per + count[best]] = logical[FastOrder.index(key)]
            count[best] += 1
            weight[best] += FastOrder.nonNegativeValue(key)
          }
          let got = RoundPacking.pack(items, packs: packs, perPack: per, logical: logical)
          #expect(got == want, "packs \(packs), \(per) each, round \(round): \(load)")
          checked += 1
          whole += rounds ? 1 : 0
          broken += rounds ? 0 : 1
        }
      }
    }
    // Both ways were taken: whole rounds, and a switch to the tree.
    #expect(whole > 300 && broken > 300, "\(whole) whole, \(broken) broken of \(checked)")
    // Refusals: 33 GPUs; a count that is not GPUs × slots per GPU.
    let keys: [UInt64] = (0..<66).map { FastOrder.key(Float(66 - $0), $0) }
    #expect(RoundPacking.pack(keys, packs: 33, perPack: 2, logical: Array(0..<66)) == nil)
    #expect(RoundPacking.pack(Array(keys.prefix(63)), packs: 32, perPack: 2, logical: Array(0..<66)) == nil)
  }
}
