/// xoshiro256** (Blackman and Vigna, 2018), seeded through SplitMix64: the simulator's only
/// source of randomness, so the same seed gives the same trace on every platform.
///
/// Uses only integer operations; `uniform()` and `normal()` below build on IEEE-754 basic
/// arithmetic and `DeterministicMath`, never on the platform's libm or `SystemRandomNumberGenerator`.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
  /// The second normal deviate of the last polar-method draw, if unused.
  private var spareNormal: Double?

  /// Expands `seed` into the 256-bit state with SplitMix64 (as the xoshiro authors recommend).
  public init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
  }

  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// A uniform deviate in [0, 1) with 53 random bits.
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// A uniform integer in `0..<n` (Lemire's multiply-shift; the bias is below 2^-32 for the sizes used).
  public mutating func index(below n: Int) -> Int {
    precondition(n > 0, "empty range")
    return Int((next() >> 32) &* UInt64(n) >> 32)
  }

  /// A standard normal deviate by Marsaglia's polar method (pairs; the second is kept for the next call).
  public mutating func normal() -> Double {
    if let z = spareNormal {
      spareNormal = nil
      return z
    }
    while true {
      let u = 2 * uniform() - 1
      let v = 2 * uniform() - 1
      let s = u * u + v * v
      if s > 0 && s < 1 {
        let f = (-2 * DeterministicMath.log(s) / s).squareRoot()
        spareNormal = v * f
        return u * f
      }
    }
  }
}

/// `exp` and `log` from IEEE-754 basic operations only (+, −, ×, ÷, and exact scaling by powers
/// of two), so results are bit-identical on every platform, unlike libm's. Accurate to a few ulp,
/// which is far below what rounding to integer token counts can see.
public enum DeterministicMath {
  static let ln2Hi = 6.93147180369123816490e-01
  static let ln2Lo = 1.90821492927058770002e-10

  /// e^x; 0 below −745, +∞ above 709.78.
  public static func exp(_ x: Double) -> Double {
    if x.isNaN { return x }
    if x > 709.78 { return .infinity }
    if x < -745 { return 0 }
    // x = k ln2 + r with |r| ≤ ln2 / 2; e^r by its Taylor series (20 terms: |error| < 1e-17).
    let k = (x / (ln2Hi + ln2Lo)).rounded()
    let r = (x - k * ln2Hi) - k * ln2Lo
    var term = 1.0, sum = 1.0
    for n in 1...20 {
      term *= r / Double(n)
      sum += term
    }
    return sum * pow2(Int(k))
  }

  /// The natural logarithm of x > 0 (−∞ at 0, NaN below).
  public static func log(_ x: Double) -> Double {
    if x.isNaN || x < 0 { return .nan }
    if x == 0 { return -.infinity }
    if x.isInfinite { return x }
    // x = m 2^k with m in [√½, √2); log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| < 0.172.
    var k = Int(x.exponent)
    var m = x.significand  // [1, 2)
    if m > 1.4142135623730951 {
      m /= 2
      k += 1
    }
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var power = s, sum = 0.0
    for n in stride(from: 1, through: 41, by: 2) {
      sum += power / Double(n)
      power *= s2
    }
    return 2 * sum + Double(k) * ln2Hi + Double(k) * ln2Lo
  }

  /// 2^k, exactly, also for subnormal results.
  static func pow2(_ k: Int) -> Double {
    if k > 1023 { return .infinity }
    if k < -1074 { return 0 }
    if k < -1022 {
      let tiny = Double(sign: .plus, exponent: -1022, significand: 1)
      return tiny * Double(sign: .plus, exponent: k + 1022, significand: 1)
    }
    return Double(sign: .plus, exponent: k, significand: 1)
  }
}
