import EPBEngines
import EPBPlanner
import Testing

@testable import EPBReport

@Suite struct SnapshotReportTests {
  /// Two planned layers on Fixtures' topology, with statistics set by hand:
  ///   layer 2: GPUs [6, 5, 14, 5] → peak 14, mean 7.5, no-replication peak 16, lower bound 8
  ///   layer 4: GPUs [8, 5, 10, 7] → peak 10, mean 7.5, no-replication peak 12, lower bound 7.5
  static func report(id: Int64? = 12, halfLife: Double? = 50) -> SnapshotReport {
    let l2 = PlannedLayer(
      layer: 2, placement: LayerPlacement(physicalToLogical: Fixtures.phy2logA, experts: 5),
      statistics: LayerStatistics(
        evaluation: LayerEvaluation(gpuLoad: [6, 5, 14, 5], peak: 14, mean: 7.5), noReplicationPeak: 16,
        lowerBound: 8))
    let l4 = PlannedLayer(
      layer: 4, placement: LayerPlacement(physicalToLogical: Fixtures.phy2logB, experts: 5),
      statistics: LayerStatistics(
        evaluation: LayerEvaluation(gpuLoad: [8, 5, 10, 7], peak: 10, mean: 7.5), noReplicationPeak: 12,
        lowerBound: 7.5))
    return SnapshotReport(
      id: id, series: "prod-a", algorithm: .eplbDivisor, policy: .hierarchical, window: StepWindow(from: 0, to: 999),
      halfLife: halfLife, createdAt: "2025-01-02T03:04:05Z", toolVersion: "0.1.0", parameters: nil,
      topology: Fixtures.topology, layers: [l2, l4], skippedLayers: [3])
  }

  @Test func jsonKeysInContractOrder() {
    let json = Self.report().json()
    let top = [
      "id", "series", "algorithm", "window", "replicas", "gpus", "nodes", "groups", "layers", "skipped_layers",
      "summary",
    ]
    let layer = [
      "layer", "phy2log", "logcnt", "gpu_load", "peak", "mean", "balancedness", "no_replication_peak", "lower_bound",
    ]
    #expect(Array(Fixtures.keys(json).prefix(top.count)) == top)
    #expect(Fixtures.keys(Fixtures.member(json, "window")) == ["from", "to"])
    for l in Fixtures.items(Fixtures.member(json, "layers")) {
      #expect(Array(Fixtures.keys(l).prefix(layer.count)) == layer)
    }
    let summary = Fixtures.keys(Fixtures.member(json, "summary"))
    #expect(Array(summary.prefix(2)) == ["balancedness_mean", "balancedness_weighted"])
    #expect(Set(Fixtures.keys(json)).count == Fixtures.keys(json).count)
  }

  @Test func jsonValues() {
    let json = Self.report().json()
    #expect(Fixtures.member(json, "id") == .int(12))
    #expect(Fixtures.member(json, "algorithm") == .string("eplb-divisor"))
    #expect(Fixtures.member(json, "replicas") == .int(8))
    #expect(Fixtures.member(json, "gpus") == .int(4))
    #expect(Fixtures.member(json, "skipped_layers") == .array([.int(3)]))
    let l = Fixtures.items(Fixtures.member(json, "layers"))[0]
    #expect(Fixtures.member(l, "phy2log") == .ints(Fixtures.phy2logA))
    #expect(Fixtures.member(l, "logcnt") == .ints([2, 2, 2, 1, 1]))
    #expect(Fixtures.member(l, "gpu_load") == .ints([6, 5, 14, 5]))
    #expect(Fixtures.member(l, "balancedness") == .double(7.5 / 14))
    // Balancedness mean = (7.5/14 + 7.5/10)/2; weighted = (7.5 + 7.5)/(14 + 10) = 0.625.
    let s = Fixtures.member(json, "summary")
    #expect(
      Fixtures.number(Fixtures.member(s, "balancedness_mean")).map { abs($0 - (7.5 / 14 + 0.75) / 2) < 1e-15 } == true)
    #expect(Fixtures.member(s, "balancedness_weighted") == .double(0.625))
    // No-replication weighted: 15 / (16 + 12).
    #expect(Fixtures.number(Fixtures.member(s, "no_replication_balancedness_weighted")) == 15.0 / 28)
    #expect(Fixtures.member(json, "half_life") == .int(50))
    #expect(Fixtures.member(json, "policy") == .string("hierarchical"))
  }

  @Test func dryRunHasNullID() {
    #expect(Fixtures.member(Self.report(id: nil).json(), "id") == .null)
    #expect(
      Self.report(id: nil, halfLife: nil).table().split(separator: "\n").first == "snapshot:          (not stored)")
  }

  @Test func tableRowsAndSummary() {
    let text = Self.report().table()
    let rows = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    // Layer 2: imbalance (14 − 7.5)/7.5 = 86.7%; gap (14 − 8)/8 = 75.0%; the bound 8 is above
    // the mean 7.5, so the replica load binds (no window loads given: no groups bound).
    #expect(rows.contains(["2", "14.0", "7.5", "0.5357", "86.7%", "16.0", "8.0", "replica", "load", "75.0%"]))
    // Layer 4: imbalance 2.5/7.5 = 33.3%; gap 2.5/7.5 = 33.3%; the bound is the mean.
    #expect(rows.contains(["4", "10.0", "7.5", "0.7500", "33.3%", "12.0", "7.5", "mean", "33.3%"]))
    // Summary keys are padded to the longest, "no-replication weighted" (23 characters).
    #expect(text.contains("\nweighted balancedness:   0.6250\n"))
    #expect(text.contains("\nno-replication weighted: 0.5357\n"))
    #expect(text.contains("skipped (no load): 3\n"))
  }

  @Test func worstBalancedLayer() {
    #expect(Self.report().worstBalancedLayer == 2)
  }
}
