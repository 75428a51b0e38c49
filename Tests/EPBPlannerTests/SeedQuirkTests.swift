import EPBPlanner
import Testing

/// The seed's replication keeps its quirks on purpose (it is reproduced, not fixed); these cases
/// pin the actual behaviour and show why the reasoning behind it is wrong.
@Suite struct SeedQuirkTests {
  func peak(_ weight: [Double], _ counts: [Int]) -> Double {
    zip(weight, counts).map { $0 / Double($1) }.max() ?? 0
  }

  /// Tail prediction: `peak = max(second, new average of the chosen expert)` ignores that the
  /// chosen expert may not be the current maximum. Loads `[15, 5, 13]` to 6 replicas: the bulk
  /// leaves counts `[2, 1, 2]` (averages 7.5, 5, 6.5); Sainte-Laguë ties 15/3 = 5/1 and takes
  /// expert 1 (smaller average), Huntington–Hill takes expert 0 (15/√6); both predict 6.5, the
  /// tie goes to the smaller new average, so expert 1 gets the replica. The real peak stays 7.5
  /// (expert 0), while the Huntington–Hill pick gives 6.5, the optimum; the fix-up cannot help.
  @Test func tailPredictionIgnoresTheCurrentMaximum() {
    let weight: [Double] = [15, 5, 13]
    let seed = EPLB.replicateExperts(weight, replicas: 6, algorithm: .eplbDivisor)
    #expect(seed.logicalCount == [2, 2, 2])
    #expect(seed.physicalToLogical == [0, 1, 2, 0, 2, 1])
    #expect(peak(weight, seed.logicalCount) == 7.5)
    let deepseek = EPLB.replicateExperts(weight, replicas: 6, algorithm: .deepseek)
    #expect(peak(weight, deepseek.logicalCount) == 6.5)
    // Float arithmetic decides the same way.
    #expect(
      EPLB.replicateExperts(weight.map { Float($0) }, replicas: 6, algorithm: .eplbDivisor).logicalCount == [2, 2, 2])
  }

  /// The two-expert version of the same quirk, which the fix-up happens to repair: loads
  /// `[10, 4.5]` to 4 replicas. The tail picks expert 1 (peak stays 5); the fix-up then moves
  /// that replica to expert 0 (averages 10/3 and 4.5), because there the maximum is a receiver.
  @Test func fixUpRepairsTheTwoExpertCase() {
    let weight: [Double] = [10, 4.5]
    let seed = EPLB.replicateExperts(weight, replicas: 4, algorithm: .eplbDivisor)
    #expect(seed.logicalCount == [3, 1])
    #expect(seed.physicalToLogical == [0, 1, 0, 0])
    #expect(seed.rank == [0, 0, 1, 2])
  }

  /// Fix-up with `second` precomputed: the predicted peak is `max(second, newD, newR)`, which
  /// assumes the current maximum is the donor. Removing a replica from the maximum expert
  /// always raises it above the current max, so only the second donor can pass, and then the
  /// maximum is untouched. Loads `[9, 4, 20]` to 5 replicas: before the fix-up counts are
  /// `[2, 1, 2]` (averages 4.5, 4, 10); the fix-up moves a replica of expert 0 to expert 1
  /// (predicted peak 9 < 10) although the real peak stays 10 and expert 0 goes from 4.5 to 9.
  @Test func fixUpMovesWithoutLoweringThePeak() {
    let weight: [Double] = [9, 4, 20]
    let seed = EPLB.replicateExperts(weight, replicas: 5, algorithm: .eplbDivisor)
    #expect(seed.logicalCount == [1, 2, 2])
    #expect(seed.physicalToLogical == [0, 1, 2, 2, 1])
    #expect(seed.rank == [0, 0, 0, 1, 1])
    #expect(peak(weight, seed.logicalCount) == 10)
    let deepseek = EPLB.replicateExperts(weight, replicas: 5, algorithm: .deepseek)
    // DeepSeek's plain greedy gives expert 2 its third replica and reaches 9.
    #expect(deepseek.logicalCount == [1, 1, 3])
    #expect(peak(weight, deepseek.logicalCount) == 9)
  }
}
