/// A seeded statistical model of MoE routing that produces per-step token counts for every
/// (layer, logical expert), for synthetic traces, the quick start, benchmarks and backtests.
///
/// The model, per layer `l` and logical expert `e` (all draws from one `Xoshiro256` stream, in a
/// fixed order, so a seed fixes the trace on every platform):
///
/// 1. **Skewed popularity.** A log-popularity `x[l][e]` starts as `skew · N(0, 1)`, so the
///    expected share of expert `e` is proportional to `exp(x[l][e])`: a log-normal popularity
///    with a few hot experts and a long tail. The default skew 0.7 gives a hottest expert about
///    4-7× the layer mean for 256 experts (median 5.5), like DeepSeek-V3's real decode statistics
///    (median 5.2 over its 58 MoE layers; log-load spread 0.59).
/// 2. **Slow drift.** Every step, `x ← ρ x + √(1 − ρ²) · skew · N(0, 1)` with
///    `ρ = 1 − drift² / (2 skew²)`: a stationary AR(1) (Ornstein-Uhlenbeck) walk whose step
///    change has standard deviation `drift` while the spread across experts stays `skew` at
///    every step (a plain random walk would let the skew grow without bound).
/// 3. **Bursts.** At each step and layer, with probability `burstRate`, one uniformly chosen
///    expert's popularity is multiplied by `burstSize` for `burstLength` steps (a topic or
///    a batch of similar requests hitting one expert). Overlapping bursts multiply.
/// 4. **Per-step noise.** Each expert's weight is multiplied by `exp(noise · N(0, 1))` each step.
/// 5. **Routing.** Each step routes `tokens` tokens to `topK` distinct experts each, so a layer
///    receives `tokens · topK` token-slots: the weights are normalized to shares, any share
///    above `1 / topK` is capped there (an expert sees each token at most once) and the excess
///    spread over the others in proportion, and the counts are the shares times
///    `tokens · topK` rounded by the largest-remainder method (ties to the lower expert index),
///    so **every (step, layer) sums to exactly `tokens · topK`** and no count exceeds `tokens`.
///
/// Draw order per step: for each layer, the drift normals of experts 0..<E, then one uniform
/// for a burst (and one index if it fires), then the noise normals of experts 0..<E.
///
/// ```swift
/// var generator = RoutingModel(steps: 200, layers: 6, experts: 64, seed: 7).makeGenerator()
/// while let counts = generator.next() { … }  // [layers * experts] Int32 per step
/// ```
public struct RoutingModel: Sendable, Equatable {
  /// Steps to generate.
  public var steps: Int
  /// MoE layers per step.
  public var layers: Int
  /// Logical experts per layer.
  public var experts: Int
  /// Tokens per step (each routed to `topK` experts in every layer).
  public var tokens: Int
  /// Experts each token is routed to (DeepSeek-V3: 8).
  public var topK: Int
  /// Standard deviation of the log-popularity across experts (0 = uniform popularity).
  public var skew: Double
  /// Standard deviation of the per-step change of a log-popularity (0 = no drift).
  public var drift: Double
  /// Probability per (step, layer) that a burst starts.
  public var burstRate: Double
  /// Popularity multiplier of a bursting expert (≥ 1).
  public var burstSize: Double
  /// Steps a burst lasts (≥ 1).
  public var burstLength: Int
  /// Standard deviation of the per-step log-normal noise on each expert's weight.
  public var noise: Double
  /// The PRNG seed.
  public var seed: UInt64

  public init(
    steps: Int, layers: Int, experts: Int, tokens: Int = 2048, topK: Int = 8, skew: Double = 0.7,
    drift: Double = 0.03, burstRate: Double = 0.01, burstSize: Double = 4, burstLength: Int = 15,
    noise: Double = 0.05, seed: UInt64 = 7
  ) {
    self.steps = steps
    self.layers = layers
    self.experts = experts
    self.tokens = tokens
    self.topK = topK
    self.skew = skew
    self.drift = drift
    self.burstRate = burstRate
    self.burstSize = burstSize
    self.burstLength = burstLength
    self.noise = noise
    self.seed = seed
  }

  /// The model `epbctl simulate` writes without flags: 200 steps of 6 layers × 64 experts, and
  /// `init`'s defaults for everything else.
  public static let defaults = RoutingModel(steps: 200, layers: 6, experts: 64)

  /// Checks the parameters; the message names the `epbctl simulate` flag at fault.
  public func validate() throws(SimulationError) {
    func fail(_ message: String) -> SimulationError { SimulationError(message) }
    if steps < 1 { throw fail("--steps must be at least 1, got \(steps)") }
    if layers < 1 { throw fail("--layers must be at least 1, got \(layers)") }
    if experts < 1 { throw fail("--experts must be at least 1, got \(experts)") }
    if tokens < 0 { throw fail("--tokens must not be negative, got \(tokens)") }
    if topK < 1 || topK > experts { throw fail("--top-k must be between 1 and \(experts) (--experts), got \(topK)") }
    if tokens > Int(Int32.max) / topK {
      throw fail("--tokens × --top-k must fit in a 32-bit count, got \(tokens) × \(topK)")
    }
    if !(skew >= 0 && skew <= 10) { throw fail("--skew must be between 0 and 10, got \(skew)") }
    if !(drift >= 0 && drift <= 1) { throw fail("--drift must be between 0 and 1, got \(drift)") }
    if drift > 0 && skew == 0 { throw fail("--drift needs a positive --skew (it moves popularity around its spread)") }
    if skew > 0 && drift > skew * 2.squareRoot() {
      throw fail("--drift must be at most √2 × --skew (\(skew * 2.squareRoot())), got \(drift)")
    }
    if !(burstRate >= 0 && burstRate <= 1) { throw fail("--burst-rate must be between 0 and 1, got \(burstRate)") }
    if !(burstSize >= 1 && burstSize <= 1e6) { throw fail("--burst-size must be between 1 and 1e6, got \(burstSize)") }
    if burstLength < 1 { throw fail("--burst-length must be at least 1, got \(burstLength)") }
    if !(noise >= 0 && noise <= 5) { throw fail("--noise must be between 0 and 5, got \(noise)") }
  }

  /// The AR(1) coefficient of the drift, `1 − drift² / (2 skew²)` (1 without drift).
  public var driftCoefficient: Double { skew > 0 ? 1 - drift * drift / (2 * skew * skew) : 1 }

  /// A generator positioned before step 0.
  public func makeGenerator() -> Generator { Generator(model: self) }

  /// Every step's counts, `[steps * layers * experts]` row-major (step, layer, expert).
  /// Holds the whole trace in memory; stream with `makeGenerator()` for large ones.
  public func counts() -> [Int32] {
    var out: [Int32] = []
    out.reserveCapacity(steps * layers * experts)
    var generator = makeGenerator()
    while let step = generator.next() { out.append(contentsOf: step) }
    return out
  }

  /// Produces one step at a time (see `RoutingModel` for the model and the draw order).
  public struct Generator: Sendable {
    public let model: RoutingModel
    /// The next step to produce (0-based).
    public private(set) var step = 0
    /// `[layers * experts]`: the current log-popularity `x[l][e]` (before bursts and noise).
    public private(set) var logPopularity: [Double]
    /// `[layers * experts]`: steps left in the burst of each expert (0 = none).
    public private(set) var burstStepsLeft: [Int]
    /// `[layers * experts]`: the burst multiplier now applied to each expert.
    public private(set) var burstMultiplier: [Double]
    var rng: Xoshiro256
    var weight: [Double]
    var remainder: [(Double, Int)]

    init(model: RoutingModel) {
      self.model = model
      rng = Xoshiro256(seed: model.seed)
      let n = model.layers * model.experts
      logPopularity = [Double](repeating: 0, count: n)
      for i in 0..<n { logPopularity[i] = model.skew * rng.normal() }
      burstStepsLeft = [Int](repeating: 0, count: n)
      burstMultiplier = [Double](repeating: 1, count: n)
      weight = [Double](repeating: 0, count: model.experts)
      remainder = []
      remainder.reserveCapacity(model.experts)
    }

    /// The next step's token counts, `[layers * experts]` (layer-major), or nil after `steps`.
    public mutating func next() -> [Int32]? {
      guard step < model.steps else { return nil }
      let layers = model.layers, experts = model.experts
      let rho = model.driftCoefficient
      let innovation = (1 - rho * rho).squareRoot() * model.skew
      var out = [Int32](repeating: 0, count: layers * experts)
      for layer in 0..<layers {
        let base = layer * experts
        // Step 2: drift (not before step 0: step 0 shows the initial popularity).
        if step > 0 && model.drift > 0 {
          for e in 0..<experts { logPopularity[base + e] = rho * logPopularity[base + e] + innovation * rng.normal() }
        }
        // Step 3: bursts age, then maybe one starts.
        for e in 0..<experts where burstStepsLeft[base + e] > 0 {
          burstStepsLeft[base + e] -= 1
          if burstStepsLeft[base + e] == 0 { burstMultiplier[base + e] = 1 }
        }
        if model.burstRate > 0 && rng.uniform() < model.burstRate {
          let e = rng.index(below: experts)
          burstStepsLeft[base + e] = model.burstLength
          burstMultiplier[base + e] *= model.burstSize
        }
        // Step 4: weights with noise.
        for e in 0..<experts {
          let noise = model.noise > 0 ? model.noise * rng.normal() : 0
          weight[e] = DeterministicMath.exp(logPopularity[base + e] + noise) * burstMultiplier[base + e]
        }
        // Step 5: shares capped at 1/topK, counts by largest remainder.
        routeLayer(into: &out, base: base)
      }
      step += 1
      return out
    }

    private mutating func routeLayer(into out: inout [Int32], base: Int) {
      let experts = model.experts
      let slots = model.tokens * model.topK
      let cap = Double(model.tokens)  // at most one slot per token per expert
      // Water-filling: experts whose proportional count exceeds the cap are pinned at it, the
      // rest share what remains in proportion to their weights; repeat until nothing exceeds.
      var expected = [Double](repeating: 0, count: experts)
      var pinned = [Bool](repeating: false, count: experts)
      var remaining = Double(slots)
      while true {
        var free = 0.0
        for e in 0..<experts where !pinned[e] { free += weight[e] }
        var changed = false
        for e in 0..<experts where !pinned[e] {
          let v = free > 0 ? remaining * weight[e] / free : 0
          if v > cap {
            pinned[e] = true
            expected[e] = cap
            remaining -= cap
            changed = true
          } else {
            expected[e] = v
          }
        }
        if !changed { break }
      }
      var assigned = 0
      remainder.removeAll(keepingCapacity: true)
      for e in 0..<experts {
        let whole = min(expected[e].rounded(.down), cap)
        out[base + e] = Int32(whole)
        assigned += Int(whole)
        remainder.append((expected[e] - whole, e))
      }
      var missing = slots - assigned
      if missing > 0 {
        remainder.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var i = 0
        while missing > 0 {
          let e = remainder[i % experts].1
          if Int(out[base + e]) < model.tokens {
            out[base + e] += 1
            missing -= 1
          }
          i += 1
        }
      }
    }
  }
}

/// Simulation parameters that cannot produce a trace; the message names the flag.
public struct SimulationError: Error, Equatable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
