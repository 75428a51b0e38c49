import EPBTestSupport
import Testing

@testable import EPBPlanner

/// `DeepSeekVec.placeNode` keeps only a few leaders per step; checked against a plain
/// transcription of `deepseek_vec`'s loop that rescans every step in full at every pick.
@Suite struct DeepSeekVecTests {
  /// The reference: per added replica, each step's first maximum and best other score by a full
  /// scan of `(load + 1e-4 · index) / count`; the gain of giving the step's top one more replica;
  /// the pick with the largest gain (first on ties); then the zig-zag as `placeNode` documents it.
  static func reference(_ x: [Float], samples t: Int, slots: Int, gpus: Int, indexBase: Int) -> [Int] {
    let n = x.count / t
    var count = [Int](repeating: 1, count: n)
    var phy = Array(0..<n)
    let tie = (0..<n).map { Float(indexBase + $0) * Float(1e-4) }
    func score(_ s: Int, _ j: Int) -> Float { (x[s * n + j] + tie[j]) / Float(count[j]) }
    for _ in n..<slots {
      var gain = [Double](repeating: 0, count: n)
      for s in 0..<t {
        var a = 0
        for j in 1..<n where score(s, j) > score(s, a) { a = j }
        var other = -Float.infinity
        for j in 0..<n where j != a { other = max(other, score(s, j)) }
        gain[a] += Double(score(s, a)) - Double(max(x[s * n + a] / Float(count[a] + 1), other))
      }
      var pick = 0
      for j in 1..<n where gain[j] > gain[pick] { pick = j }
      phy.append(pick)
      count[pick] += 1
    }
    if slots / gpus <= 1 { return phy }
    var total = [Double](repeating: 0, count: n)
    for s in 0..<t { for j in 0..<n { total[j] += Double(x[s * n + j]) } }
    let key = phy.map { Float(total[$0]) / Float(count[$0]) }
    let order = (0..<slots).sorted { key[$0] > key[$1] || (key[$0] == key[$1] && $0 < $1) }
    return Peers.dealSnake(order.map { phy[$0] }, gpus: gpus)
  }

  /// 600 seeded cases: 1 to 64 steps (in and past multiples of four, as `buildAll` takes them),
  /// 1 to 70 experts, up to 40 added replicas; loads from a few small values, to a hot set of
  /// experts that stays hot in every step (many picks of one expert, the case where leaders
  /// fall out of the kept list), to 2^22 or 2^23, where the tie term is below `Float`'s
  /// resolution and scores tie exactly.
  @Test func matchesAFullRescanEveryPick() {
    var rng = SplitMix64(seed: 17)
    for trial in 0..<600 {
      // Every pair of these choices meets in some trial.
      let t = [1, 2, 7, 40, 13, 64][(trial / 5) % 6]
      let n = [1, 2, 3, 5, 8, 16, 32, 70][(trial / 7) % 8]
      let gpus = [1, 2, 4, 8][(trial / 4) % 4]
      var slots = n + [0, 1, 3, 9, 40][trial % 5]
      while slots % gpus != 0 { slots += 1 }
      let heat = (0..<n).map { _ in 100 / Double.random(in: 0.03..<1, using: &rng) }
      let x: [Float] = (0..<(t * n)).map { i in
        switch trial % 4 {
        case 0: return Float(Int.random(in: 0..<3, using: &rng))
        case 1: return Float((heat[i % n] * Double.random(in: 0.5..<1.5, using: &rng)).rounded())
        case 2: return Float(Int.random(in: 0..<100_000, using: &rng))
        default: return Float(1 << 22) * Float(Int.random(in: 1...2, using: &rng))
        }
      }
      let got = DeepSeekVec.placeNode(x, samples: t, slots: slots, gpus: gpus, indexBase: trial % 9)
      let want = Self.reference(x, samples: t, slots: slots, gpus: gpus, indexBase: trial % 9)
      #expect(got == want, "trial \(trial): \(t) steps, \(n) experts, \(slots) slots, \(gpus) GPUs")
    }
  }
}
