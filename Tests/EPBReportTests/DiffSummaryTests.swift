import EPBPlanner
import Testing

@testable import EPBReport

@Suite struct DiffSummaryTests {
  // Peaks (before → after) and reductions (before − after) / before:
  //   layer 0: 10 → 8   = 0.2   improved
  //   layer 1: 10 → 10  = 0     unchanged
  //   layer 2: 4 → 5    = −0.25 worsened
  //   layer 3: 8 → 2    = 0.75  improved
  static let four = [
    Fixtures.layerDiff(layer: 0, peakBefore: 10, peakAfter: 8, mean: 4, slots: 3),
    Fixtures.layerDiff(layer: 1, peakBefore: 10, peakAfter: 10, mean: 5, slots: 0),
    Fixtures.layerDiff(layer: 2, peakBefore: 4, peakAfter: 5, mean: 2, slots: 1),
    Fixtures.layerDiff(layer: 3, peakBefore: 8, peakAfter: 2, mean: 1, slots: 2),
  ]

  @Test func oddLayerCount() {
    // Layers 0-2: sorted reductions [−0.25, 0, 0.2] → median 0; mean −0.05/3; max 0.2.
    let s = DiffSummary(layers: Array(Self.four.prefix(3)))
    #expect(s.peakReductionMedian == 0)
    #expect(abs(s.peakReductionMean - (-0.05 / 3)) < 1e-15)
    #expect(s.peakReductionMax == 0.2)
  }

  @Test func evenLayerCount() {
    // All four: sorted [−0.25, 0, 0.2, 0.75] → median (0 + 0.2)/2 = 0.1; mean 0.7/4 = 0.175; max 0.75.
    let s = DiffSummary(layers: Self.four)
    #expect(abs(s.peakReductionMedian - 0.1) < 1e-15)
    #expect(abs(s.peakReductionMean - 0.175) < 1e-15)
    #expect(s.peakReductionMax == 0.75)
  }

  @Test func improvedUnchangedWorsened() {
    let s = DiffSummary(layers: Self.four)
    #expect(s.layersImproved == 2)
    #expect(s.layersUnchanged == 1)
    #expect(s.layersWorsened == 1)
  }

  @Test func unchangedUsesARelativeToleranceOf1e12() {
    // 1e-13 relative is within 1e-12 (unchanged); 1e-10 is not (worsened / improved).
    #expect(PeakTrend(before: 1e6, after: 1e6 * (1 + 1e-13)) == .unchanged)
    #expect(PeakTrend(before: 1e6, after: 1e6 * (1 + 1e-10)) == .worsened)
    #expect(PeakTrend(before: 1e6, after: 1e6 * (1 - 1e-10)) == .improved)
    #expect(PeakTrend(before: 0, after: 0) == .unchanged)
  }

  @Test func balancednessWeightedAndMean() {
    // Σ mean = 4+5+2+1 = 12; Σ peak before = 32, after = 25.
    // Mean balancedness before = (0.4 + 0.5 + 0.5 + 0.125)/4 = 0.38125; after = (0.5 + 0.5 + 0.4 + 0.5)/4 = 0.475.
    let s = DiffSummary(layers: Self.four)
    #expect(abs(s.balancednessWeightedBefore - 12.0 / 32) < 1e-15)
    #expect(abs(s.balancednessWeightedAfter - 12.0 / 25) < 1e-15)
    #expect(abs(s.balancednessMeanBefore - 0.38125) < 1e-15)
    #expect(abs(s.balancednessMeanAfter - 0.475) < 1e-15)
  }

  @Test func totals() {
    // Slots 3+0+1+2 = 6, all counted as cross-node by the fixture.
    let s = DiffSummary(layers: Self.four)
    #expect(s.slotsChanged == 6)
    #expect(s.crossNodeMoves == 6)
    #expect(s.moves == MoveCounts(sameGPU: 0, sameNode: 0, crossNode: 6))
  }

  @Test func emptyDiff() {
    let s = DiffSummary(layers: [])
    #expect(s.peakReductionMean == 0 && s.peakReductionMedian == 0 && s.peakReductionMax == 0)
    #expect(s.balancednessWeightedBefore == 1 && s.balancednessMeanAfter == 1)
    #expect(s.slotsChanged == 0)
  }

  @Test func summaryOfARealDiffAddsUpLayers() throws {
    // Two layers (3 and 7) of Fixtures; each expected value from an independent evaluation.
    let a = Fixtures.side(id: 3, layers: [3, 7], placements: [Fixtures.phy2logA, Fixtures.phy2logA])
    let b = Fixtures.side(id: 5, layers: [3, 7], placements: [Fixtures.phy2logB, Fixtures.phy2logB])
    let d = try PlacementDiff(
      before: a, after: b, load: Fixtures.load, loadLayers: Fixtures.loadLayers, window: Fixtures.window,
      expertBytes: 10)
    var sumMean = 0.0, sumPeakA = 0.0, sumPeakB = 0.0
    for load in [Fixtures.load3, Fixtures.load7] {
      let ga = Fixtures.gpuLoads(Fixtures.phy2logA, load, gpus: 4)
      let gb = Fixtures.gpuLoads(Fixtures.phy2logB, load, gpus: 4)
      sumMean += load.reduce(0, +) / 4
      sumPeakA += ga.max()!
      sumPeakB += gb.max()!
    }
    #expect(abs(d.summary.balancednessWeightedBefore - sumMean / sumPeakA) < 1e-12)
    #expect(abs(d.summary.balancednessWeightedAfter - sumMean / sumPeakB) < 1e-12)
    // Same placements on both layers: 2 × (5 slots; 3/1/1 moves; +2/−2 replicas); bytes 2 × 2 × 10.
    #expect(d.summary.slotsChanged == 10)
    #expect(d.summary.moves == MoveCounts(sameGPU: 6, sameNode: 2, crossNode: 2))
    #expect(d.summary.replicasAdded == 4 && d.summary.replicasRemoved == 4)
    #expect(d.summary.bytes == 40)
    #expect(d.summary.localCopyBytes == 60)
    #expect(d.summary.layersImproved == 2)
  }
}
