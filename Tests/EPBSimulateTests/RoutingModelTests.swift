import EPBSimulate
import Foundation
import Testing

@Suite struct RoutingModelTests {
  let small = RoutingModel(steps: 30, layers: 3, experts: 16, tokens: 256, topK: 4, seed: 11)

  @Test func sameSeedSameTraceOtherSeedOther() {
    #expect(small.counts() == small.counts())
    var other = small
    other.seed = 12
    #expect(other.counts() != small.counts())
  }

  /// Pinned values: the generator uses only integer PRNG arithmetic and IEEE basic operations,
  /// so these are the same on every platform. Update only on a deliberate model change.
  @Test func pinnedFirstCounts() {
    let counts = RoutingModel(steps: 1, layers: 1, experts: 8, tokens: 100, topK: 2, seed: 1).counts()
    #expect(counts.count == 8)
    #expect(counts.reduce(0, +) == 200)
    #expect(counts == pinned)
  }
  let pinned: [Int32] = [66, 21, 48, 5, 24, 10, 11, 15]

  @Test func shapeAndConservation() {
    let counts = small.counts()
    #expect(counts.count == 30 * 3 * 16)
    for stepLayer in 0..<(30 * 3) {
      let row = counts[(stepLayer * 16)..<((stepLayer + 1) * 16)]
      #expect(row.reduce(0, +) == 256 * 4)
      #expect(row.allSatisfy { $0 >= 0 && $0 <= 256 })
    }
  }

  @Test func capKeepsEachExpertAtMostOncePerToken() {
    // Extreme skew on few experts: shares above 1/topK must be capped at `tokens`.
    let model = RoutingModel(steps: 20, layers: 2, experts: 4, tokens: 100, topK: 3, skew: 4, drift: 0, seed: 3)
    let counts = model.counts()
    for r in 0..<(20 * 2) {
      let row = counts[(r * 4)..<((r + 1) * 4)]
      #expect(row.reduce(0, +) == 300)
      #expect(row.allSatisfy { $0 <= 100 })
    }
  }

  @Test func noSkewNoNoiseIsUniform() {
    let model = RoutingModel(
      steps: 5, layers: 2, experts: 8, tokens: 64, topK: 2, skew: 0, drift: 0, burstRate: 0, noise: 0, seed: 5)
    #expect(model.counts().allSatisfy { $0 == 16 })
  }

  @Test func skewStaysAtItsStationarySpreadUnderDrift() {
    // The AR(1) drift keeps the log-popularity spread at `skew` at every step.
    let model = RoutingModel(
      steps: 400, layers: 4, experts: 256, skew: 1.1, drift: 0.05, burstRate: 0, noise: 0, seed: 9)
    var generator = model.makeGenerator()
    var previous: [Double]? = nil
    var squaredChange = 0.0, changes = 0
    while generator.next() != nil {
      let x = generator.logPopularity
      if generator.step == 1 || generator.step == 400 {
        for layer in 0..<4 {
          let row = x[(layer * 256)..<((layer + 1) * 256)]
          let mean = row.reduce(0, +) / 256
          let sd = (row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 255).squareRoot()
          #expect(abs(sd - 1.1) < 0.15, "step \(generator.step) layer \(layer): spread \(sd)")
        }
      }
      if let previous {
        for (a, b) in zip(previous, x) { squaredChange += (b - a) * (b - a) }
        changes += x.count
      }
      previous = x
    }
    let driftMeasured = (squaredChange / Double(changes)).squareRoot()
    #expect(abs(driftMeasured - 0.05) < 0.003, "per-step change \(driftMeasured)")
  }

  @Test func hotExpertsAreAFewTimesTheMean() {
    // Documented: the default skew 0.7 gives a hottest expert about 4-7× the mean for 256 experts.
    let model = RoutingModel(steps: 1, layers: 20, experts: 256, burstRate: 0, seed: 21)
    let counts = model.counts()
    var ratios: [Double] = []
    for layer in 0..<20 {
      let row = counts[(layer * 256)..<((layer + 1) * 256)].map(Double.init)
      ratios.append(row.max()! / (row.reduce(0, +) / 256))
    }
    let median = ratios.sorted()[10]
    #expect(median > 4 && median < 7, "median max/mean \(median)")
  }

  @Test func burstsMultiplyOneExpertForTheirLength() {
    let model = RoutingModel(
      steps: 40, layers: 1, experts: 16, tokens: 1000, topK: 1, skew: 0, drift: 0, burstRate: 1, burstSize: 4,
      burstLength: 3, noise: 0, seed: 2)
    var generator = model.makeGenerator()
    while generator.next() != nil {
      // With a burst starting every step and lasting 3, each step has 3 live bursts (from step 2 on).
      let live = generator.burstStepsLeft.filter { $0 > 0 }.count
      if generator.step >= 3 { #expect(live >= 1 && live <= 3) }
      for (left, multiplier) in zip(generator.burstStepsLeft, generator.burstMultiplier) where left == 0 {
        #expect(multiplier == 1)
      }
    }
  }

  @Test func driftMovesPopularitySlowly() {
    // Consecutive steps are strongly correlated; steps far apart much less.
    let model = RoutingModel(steps: 600, layers: 1, experts: 128, drift: 0.05, burstRate: 0, noise: 0, seed: 4)
    let counts = model.counts().map(Double.init)
    func correlation(_ a: Int, _ b: Int) -> Double {
      let x = Array(counts[(a * 128)..<((a + 1) * 128)]), y = Array(counts[(b * 128)..<((b + 1) * 128)])
      let mx = x.reduce(0, +) / 128, my = y.reduce(0, +) / 128
      var sxy = 0.0, sxx = 0.0, syy = 0.0
      for i in 0..<128 {
        sxy += (x[i] - mx) * (y[i] - my)
        sxx += (x[i] - mx) * (x[i] - mx)
        syy += (y[i] - my) * (y[i] - my)
      }
      return sxy / (sxx * syy).squareRoot()
    }
    #expect(correlation(0, 1) > 0.99)
    #expect(correlation(0, 599) < 0.6)
  }

  @Test func validationNamesTheFlag() {
    var model = small
    model.topK = 17
    #expect(throws: SimulationError.self) { try model.validate() }
    do {
      try model.validate()
    } catch {
      #expect(error.message.contains("--top-k"))
    }
    model = small
    model.steps = 0
    #expect(throws: SimulationError("--steps must be at least 1, got 0")) { try model.validate() }
  }

  @Test func deterministicMathMatchesLibmClosely() {
    for x in stride(from: -30.0, through: 30.0, by: 0.37) {
      #expect(abs(DeterministicMath.exp(x) / Foundation.exp(x) - 1) < 1e-14)
    }
    for x in [1e-300, 1e-10, 0.1, 0.5, 0.99, 1.5, 2, 10, 12345.678, 1e300] {
      #expect(abs(DeterministicMath.log(x) - Foundation.log(x)) <= 1e-15 * max(1, abs(Foundation.log(x))))
    }
    #expect(DeterministicMath.log(1) == 0)
    #expect(DeterministicMath.exp(0) == 1)
  }
}
