import EPBPlanner
import EPBTestSupport
import Foundation
import Testing

/// `FastOrder.sortIndexed` (short keys in AVX2 networks for 32 to 1,024 keys, else the merge
/// sort) and its vector path alone, against the standard library's sort, key for key.
@Suite struct VectorSortTests {
  /// `FastOrder.key` of `n` loads, index = position.
  static func keys(_ values: [Float]) -> [UInt64] {
    values.enumerated().map { FastOrder.key($0.element, $0.offset) }
  }

  /// Loads of the kinds the planner sees and some it must survive: heavy-tailed token counts,
  /// runs of equal values, pairs of values that differ only in the low mantissa bits (equal
  /// short keys, out of order until the insertion pass), negatives, ±0, infinities, NaN; and
  /// (kind 5) all loads within 300 ulps of 1e6, where the insertion pass would be quadratic
  /// and the vector path gives up.
  static func loads(_ n: Int, kind: Int, _ rng: inout SplitMix64) -> [Float] {
    var previous: Float = 1
    return (0..<n).map { i in
      switch kind {
      case 0: return Float(UInt32.random(in: 0...2_000_000, using: &rng))
      case 1: return Float(UInt32.random(in: 0...7, using: &rng))
      case 2:
        // Each odd position a few ulps above its even neighbour: the top 22–27 bits of the
        // two keys agree, the rest decide.
        if i % 2 == 0 {
          previous = Float(UInt32.random(in: 1...2_000_000, using: &rng))
          return previous
        }
        return Float(bitPattern: previous.bitPattern &+ UInt32.random(in: 1...3, using: &rng))
      case 3: return Float.random(in: -1e3...1e3, using: &rng)
      case 4:
        // (Subnormals next to 0 would agree with it in every bit the short keys keep.)
        return [0, -0, .infinity, -.infinity, .nan, 1, .leastNormalMagnitude, .greatestFiniteMagnitude][
          Int.random(in: 0..<8, using: &rng)]
      default:
        return Float(bitPattern: Float(1e6).bitPattern &+ UInt32.random(in: 0...300, using: &rng))
      }
    }
  }

  @Test(arguments: [1, 2, 7, 16, 31, 32, 33, 63, 64, 65, 100, 128, 255, 256, 257, 288, 512, 1000, 1024, 1025, 2048])
  func sortIndexedMatchesTheStandardSort(n: Int) {
    var rng = SplitMix64(seed: UInt64(n) &* 31 &+ 5)
    for trial in 0..<(n <= 512 ? 60 : 12) {
      let input = Self.keys(Self.loads(n, kind: trial % 6, &rng))
      var keys = input
      var out = [UInt64](repeating: 0, count: n)
      keys.withUnsafeMutableBufferPointer { k in
        out.withUnsafeMutableBufferPointer { o in FastOrder.sortIndexed(k.baseAddress!, into: o.baseAddress!, count: n)
        }
      }
      #expect(out == input.sorted(), "n \(n) trial \(trial) kind \(trial % 6)")
    }
  }

  /// `EPBCTL_NO_SIMD=1` turns every vector kernel off (`.ci/run` runs the planner tests a
  /// second time with it set); without it the kernels run where the CPU has AVX2, as the
  /// kernel's `flags` line in /proc/cpuinfo says (none on ARM or macOS: then never).
  @Test func vectorKernelsRunExactlyWhereAllowed() {
    let value = ProcessInfo.processInfo.environment["EPBCTL_NO_SIMD"] ?? ""
    let turnedOff = !value.isEmpty && value != "0"
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let cpuHasAVX2 = cpuinfo.split(separator: "\n").contains {
      $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx2")
    }
    #expect(FastOrder.hasVectorSort == (cpuHasAVX2 && !turnedOff))
    let input = Self.keys((0..<64).map { Float(64 - $0) })
    var out = [UInt64](repeating: 0, count: 64)
    let ran = out.withUnsafeMutableBufferPointer {
      FastOrder.vectorSortIndexed(input, into: $0.baseAddress!, count: 64)
    }
    #expect(ran == FastOrder.hasVectorSort)
  }

  /// The vector path alone, where the CPU has it (CI's x86-64 machines do), so a fallback to
  /// the merge sort cannot hide a broken network.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func vectorPathRunsAndSorts() {
    var rng = SplitMix64(seed: 99)
    for n in [1, 5, 32, 40, 64, 96, 128, 200, 256, 512, 1024] {
      for trial in 0..<25 {
        let input = Self.keys(Self.loads(n, kind: trial % 5, &rng))  // kinds 0–4: ordinary
        var out = [UInt64](repeating: 0, count: n)
        let ran = out.withUnsafeMutableBufferPointer {
          FastOrder.vectorSortIndexed(input, into: $0.baseAddress!, count: n)
        }
        #expect(ran, "n \(n) trial \(trial)")
        if ran { #expect(out == input.sorted(), "n \(n) trial \(trial)") }
      }
    }
  }

  /// The networks alone: `vectorSortIndexed` would heal a broken network in its insertion
  /// pass (slowly), so the short-key sort is checked by itself.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func shortKeyNetworksSort() {
    var rng = SplitMix64(seed: 7)
    for n in [32, 64, 128, 256, 512, 1024] {
      for trial in 0..<40 {
        let range: UInt32 = [.max, 3, UInt32(n)][trial % 3]
        var keys = (0..<n).map { _ in UInt32.random(in: 0...range, using: &rng) }
        if trial % 10 == 9 { keys = (0..<n).map { UInt32(n - $0) } }
        let input = keys
        let ran = keys.withUnsafeMutableBufferPointer { FastOrder.vectorSortShortKeys($0.baseAddress!, count: n) }
        #expect(ran, "n \(n)")
        #expect(keys == input.sorted(), "n \(n) trial \(trial)")
      }
    }
    for n in [16, 48, 2048] {
      var keys = [UInt32](repeating: 1, count: n)
      #expect(!keys.withUnsafeMutableBufferPointer { FastOrder.vectorSortShortKeys($0.baseAddress!, count: n) })
    }
  }

  /// `FastOrder.sortLoads` (`epb_sort_loads`: the same sort, keys built from the loads inside
  /// it) against the standard library's sort of `FastOrder.key(load, i)`: it sorts every
  /// ordinary row from 32 to 1,024 loads, `-0` as `+0`, and refuses rows with a negative load
  /// or a NaN, and sizes out of range.
  @Test(.enabled(if: FastOrder.hasVectorSort)) func sortLoadsMatchesTheStandardSort() {
    var rng = SplitMix64(seed: 17)
    var sorted = 0, refused = 0
    for n in [1, 31, 32, 33, 64, 100, 256, 288, 512, 1000, 1024, 1025] {
      for trial in 0..<30 {
        var loads = Self.loads(n, kind: trial % 6, &rng)
        if trial % 6 == 4 {
          // Special values without the negatives and NaN: ±0, +∞, and ordinary loads.
          loads = loads.map { $0.isNaN || $0 < 0 ? Float([0, -0.0, 7][Int.random(in: 0..<3, using: &rng)]) : $0 }
        }
        let keys = Self.keys(loads)
        var out = [UInt64](repeating: 0, count: n)
        let ran = loads.withUnsafeBufferPointer { l in
          out.withUnsafeMutableBufferPointer { FastOrder.sortLoads(l.baseAddress!, into: $0.baseAddress!, count: n) }
        }
        let refusable = n < 32 || n > 1024 || loads.contains { $0.isNaN || $0 < 0 }
        if refusable { #expect(!ran, "n \(n) trial \(trial)") }
        if !refusable && trial % 6 != 5 { #expect(ran, "n \(n) trial \(trial)") }  // (kind 5 may exceed 8n moves)
        if ran { #expect(out == keys.sorted(), "n \(n) trial \(trial)") }
        sorted += ran ? 1 : 0
        refused += ran ? 0 : 1
      }
    }
    #expect(sorted > 150 && refused > 80, "\(sorted) \(refused)")
  }

  @Test(.enabled(if: FastOrder.hasVectorSort)) func vectorPathRefusesWhatItCannotSort() {
    var out = [UInt64](repeating: 0, count: 2048)
    var rng = SplitMix64(seed: 3)
    let swapped = [FastOrder.key(1, 1), FastOrder.key(2, 0)] + (2..<64).map { FastOrder.key(Float($0), $0) }
    let tooMany = (0..<1025).map { FastOrder.key(Float($0), $0) }
    // 256 loads within 300 ulps: the short keys hold only their top bits, so nearly every
    // key is out of place after the networks, far more than the insertion pass's 8n moves.
    let nearlyEqual = Self.keys(Self.loads(256, kind: 5, &rng))
    for (name, keys) in [
      ("an index not at its position", swapped), ("1,025 keys", tooMany), ("no keys", []),
      ("256 nearly equal loads", nearlyEqual),
    ] {
      let ran = out.withUnsafeMutableBufferPointer {
        FastOrder.vectorSortIndexed(keys, into: $0.baseAddress!, count: keys.count)
      }
      #expect(!ran, "\(name)")
    }
  }
}

/// `EPLB.seedScan` (`epb_seed_scan`: the seed tail's top two averages and its argmax
/// positions in vector registers) against plain definitions: every length from 0 to 41 (full
/// and partial vectors), values that tie often (small integers), zeros and +∞, garbage past
/// the end (it must be masked off), and the argmax positions only when the largest value is
/// unique.
@Suite struct SeedScanTests {
  @Test(.enabled(if: FastOrder.hasVectorSort)) func seedScanMatchesThePlainDefinitions() throws {
    var rng = SplitMix64(seed: 41)
    var uniqueSeen = 0, tiedSeen = 0
    for n in 0...41 {
      for round in 0..<40 {
        let capacity = (n + 3) / 4 * 4 + 4
        func values() -> [Float] {
          (0..<capacity).map { i in
            if i >= n { return Float.random(in: 1e30...3e38, using: &rng) }  // garbage, larger than any value
            switch round % 4 {
            case 0: return Float(Int.random(in: 0...5, using: &rng))
            case 1: return Float.random(in: 0...1000, using: &rng)
            case 2:
              return Int.random(in: 0..<10, using: &rng) == 0 ? .infinity : Float(Int.random(in: 0...50, using: &rng))
            default: return Float(Int.random(in: 0...2, using: &rng)) / 3
            }
          }
        }
        let avg = values(), sl = values(), hh = values()
        let scan = try #require(EPLB.seedScan(average: avg, sainteLague: sl, huntingtonHill: hh, count: n))
        let sortedAvg = avg.prefix(n).sorted(by: >)
        #expect(scan.top1 == (n > 0 ? sortedAvg[0] : -.infinity), "n \(n) round \(round)")
        #expect(scan.top2 == (n > 1 ? sortedAvg[1] : -.infinity), "n \(n) round \(round)")
        for (values, got) in [(sl, scan.sl), (hh, scan.hh)] {
          let prefix = Array(values.prefix(n))
          let top = prefix.max()
          let positions = prefix.indices.filter { prefix[$0] == top }
          let want = positions.count == 1 ? positions[0] : -1
          #expect(got == want, "n \(n) round \(round): \(prefix)")
          if positions.count == 1 { uniqueSeen += 1 } else if n > 0 { tiedSeen += 1 }
        }
      }
    }
    #expect(uniqueSeen > 500 && tiedSeen > 500, "\(uniqueSeen) \(tiedSeen)")
  }
}
