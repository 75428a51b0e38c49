import EPBBacktest
import EPBEngines
import EPBPlanner
import EPBTestSupport
import Foundation
import Testing

@testable import EPBReport

/// The backtest's numbers against hand computations and an independent brute-force replay.
@Suite struct BacktestTests {
  /// 1 layer × 4 experts, 6 stored steps with a gap (step numbers 0, 1, 2, 4, 5, 6).
  static let steps = [0, 1, 2, 4, 5, 6]
  static let loads: [[Double]] = [
    [1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4], [4, 0, 0, 0], [1, 1, 1, 1],
  ]
  /// 4 slots on 2 GPUs: slots 0-1 on GPU 0, slots 2-3 on GPU 1.
  static let topology = Topology(replicas: 4, gpus: 2, nodes: 1, groups: 1)

  /// Replays the fixture with a planner that records each request and returns `placements` in turn.
  static func replay(
    configs: [BacktestConfig], every: Int = 2, horizon: Int = 2, placements: [[Int]]
  ) throws -> (BacktestReport, [BacktestPlanRequest]) {
    nonisolated(unsafe) var requests: [BacktestPlanRequest] = []
    let parameters = Backtest.Parameters(
      configs: configs, every: every, horizon: horizon, topology: topology, policy: .global)
    let report = try Backtest.run(
      parameters: parameters, layerIDs: [0], experts: 4, stepCount: steps.count,
      planner: { request in
        let p2l = placements[requests.filter { $0.config == request.config }.count % placements.count]
        requests.append(request)
        let placement = LayerPlacement(physicalToLogical: p2l, experts: 4)
        let stats = Planner.statistics(
          of: placement, load: request.windowLoad.row(0), topology: topology, policy: .global, algorithm: .deepseek)
        return Plan(
          topology: topology, policy: .global, algorithm: .deepseek,
          layers: [PlannedLayer(layer: 0, placement: placement, statistics: stats)], skippedLayers: [])
      },
      forEachStep: { body in
        for (step, load) in zip(steps, loads) { try body(step, LoadMatrix(layers: 1, experts: 4, values: load)) }
      })
    return (report, requests)
  }

  @Test func handComputedPoints() throws {
    // Window 2, every 2, horizon 2: warmup 2, plans at positions 1 and 3 (position 5 has no horizon).
    // Plan A = phy2log [0,1,2,3] (GPU 0: e0 e1, GPU 1: e2 e3), plan B = [0,2,1,3] (GPU 0: e0 e2).
    let config = BacktestConfig(algorithm: .deepseek, window: 2, halfLife: nil)
    let (report, requests) = try Self.replay(configs: [config], placements: [[0, 1, 2, 3], [0, 2, 1, 3]])
    // Windows: positions 0-1 = [1,2,0,0] (steps 0...1); positions 2-3 = [0,0,3,4] (steps 2...4).
    #expect(requests.map(\.windowLoad.values) == [[1, 2, 0, 0], [0, 0, 3, 4]])
    #expect(requests.map(\.windowFrom) == [0, 2])
    #expect(requests.map(\.windowTo) == [1, 4])
    let points = report.summaries[0].points
    #expect(points.count == 2)
    // Point 0, horizon steps 2 and 4 (positions 2, 3), sum [0,0,3,4] on A: GPU loads (0, 7), mean 3.5,
    // peak 7 → 0.5. Per step: (0, 3) → 0.5 and (0, 4) → 0.5. Lower bound max(3.5, t* = 4) = 4:
    // peak/LB 1.75, best possible 3.5/4 = 0.875. First plan: no slots changed.
    #expect(points[0].horizonFrom == 2 && points[0].horizonTo == 4)
    #expect(points[0].realizedBalancedness == 0.5)
    #expect(points[0].stepBalancednessMean == 0.5)
    #expect(points[0].peakToLowerBound == 1.75)
    #expect(points[0].lowerBoundBalancedness == 0.875)
    #expect(points[0].slotsChanged == nil)
    // Point 1, horizon steps 5 and 6, sum [5,1,1,1] on B: GPU 0 = e0 + e2 = 6, GPU 1 = e1 + e3 = 2,
    // mean 4 → 4/6. Per step: [4,0,0,0] → (4, 0) → 0.5; [1,1,1,1] → (2, 2) → 1; mean 0.75.
    // Lower bound max(4, 5) = 5: peak/LB 1.2, best possible 0.8. A→B changes slots 1 and 2.
    #expect(points[1].horizonFrom == 5 && points[1].horizonTo == 6)
    #expect(abs(points[1].realizedBalancedness - 4.0 / 6.0) < 1e-15)
    #expect(points[1].stepBalancednessMean == 0.75)
    #expect(abs(points[1].peakToLowerBound - 1.2) < 1e-15)
    #expect(points[1].lowerBoundBalancedness == 0.8)
    #expect(points[1].slotsChanged == 2)
    // Summary: mean (0.5 + 2/3)/2, worst 0.5, p10 = 0.5 + 0.1 · (2/3 − 0.5), slots changed mean 2.
    let s = report.summaries[0]
    #expect(abs(s.realizedMean! - 7.0 / 12.0) < 1e-15)
    #expect(s.realizedMin == 0.5)
    #expect(abs(s.realizedP10! - (0.5 + 0.1 / 6)) < 1e-15)
    #expect(s.slotsChangedMean == 2)
    #expect(abs(s.stepBalancednessMean! - 0.625) < 1e-15)
  }

  @Test func halfLifeWeightsByStepNumber() throws {
    // Half-life 1 weights step s by 0.5^(t − s), t the window's last step number.
    let windowed = BacktestConfig(algorithm: .deepseek, window: 2, halfLife: 1)
    let open = BacktestConfig(algorithm: .deepseek, window: nil, halfLife: 1)
    let (_, requests) = try Self.replay(configs: [windowed, open], placements: [[0, 1, 2, 3]])
    let w = requests.filter { $0.config == windowed }.map(\.windowLoad.values)
    let o = requests.filter { $0.config == open }.map(\.windowLoad.values)
    // Window 2 at position 1 (steps 0, 1): [0.5, 2, 0, 0]; at position 3 (steps 2, 4): step 2 weighs 0.25.
    #expect(w == [[0.5, 2, 0, 0], [0, 0, 0.75, 4]])
    // No window: every step so far; at position 3 steps 0, 1, 2, 4 weigh 1/16, 1/8, 1/4, 1.
    #expect(o[0] == [0.5, 2, 0, 0])
    #expect(zip(o[1], [0.0625, 0.25, 0.75, 4]).allSatisfy { abs($0 - $1) < 1e-15 })
    #expect(requests.filter { $0.config == open }.map(\.windowSteps) == [2, 4])
  }

  @Test func tooShortSeriesNamesTheFlags() {
    let parameters = Backtest.Parameters(
      configs: [BacktestConfig(algorithm: .eplbDivisor, window: 5, halfLife: nil)], every: 2, horizon: 2,
      topology: Self.topology, policy: .global)
    #expect(
      throws: BacktestError(
        "the series holds 6 steps; a backtest needs warmup 5 + --horizon 2 = 7; lower --window, --warmup or --horizon")
    ) {
      _ = try Backtest(parameters: parameters, layerIDs: [0], experts: 4, stepCount: 6)
    }
  }

  /// An independent replay: window sums by direct loops over the stored steps, `Planner.plan`, and
  /// GPU loads summed by hand, on a random 3-layer series with a hierarchical topology.
  @Test func matchesBruteForceReplay() throws {
    var rng = SplitMix64(seed: 42)
    let layers = 3, experts = 16, count = 40
    let stepNumbers = (0..<count).map { $0 * 2 + ($0 > 20 ? 5 : 0) }
    var series: [[Double]] = []
    for _ in 0..<count {
      series.append((0..<(layers * experts)).map { _ in Double(rng.next() % 50) * Double(1 + rng.next() % 3) })
    }
    let topology = Topology(replicas: 24, gpus: 4, nodes: 2, groups: 4)
    let configs = [
      BacktestConfig(algorithm: .deepseek, window: 8, halfLife: nil),
      BacktestConfig(algorithm: .eplbDivisor, window: 5, halfLife: 3),
      BacktestConfig(algorithm: .deepseek, window: nil, halfLife: 4),
    ]
    let every = 6, horizon = 5
    let cost = ReplanCost(expertBytes: 1 << 20, linkGbps: 8, stepMs: 2)
    let parameters = Backtest.Parameters(
      configs: configs, every: every, horizon: horizon, topology: topology, policy: .auto, oracle: true,
      replanCost: cost)
    let report = try Backtest.run(
      parameters: parameters, layerIDs: [0, 1, 2], experts: experts, stepCount: count,
      forEachStep: { body in
        for i in 0..<count { try body(stepNumbers[i], LoadMatrix(layers: layers, experts: experts, values: series[i])) }
      })
    let per = topology.replicas / topology.gpus
    func balancedness(_ plan: Plan, _ load: [Double]) -> (mean: Double, peak: Double) {
      var sumMean = 0.0, sumPeak = 0.0
      for l in plan.layers {
        var gpu = [Double](repeating: 0, count: topology.gpus)
        for (slot, e) in l.placement.physicalToLogical.enumerated() {
          gpu[slot / per] += load[l.layer * experts + e] / Double(l.placement.logicalCount[e])
        }
        sumMean += gpu.reduce(0, +) / Double(topology.gpus)
        sumPeak += gpu.max()!
      }
      return (sumMean, sumPeak)
    }
    func placements(_ plan: Plan) -> [LayerPlacement] { plan.layers.map(\.placement) }
    func sums(_ placements: [LayerPlacement], _ load: [Double]) -> (mean: Double, peak: Double) {
      var sumMean = 0.0, sumPeak = 0.0
      for (layer, placement) in placements.enumerated() {
        var gpu = [Double](repeating: 0, count: topology.gpus)
        for (slot, e) in placement.physicalToLogical.enumerated() {
          gpu[slot / per] += load[layer * experts + e] / Double(placement.logicalCount[e])
        }
        sumMean += gpu.reduce(0, +) / Double(topology.gpus)
        sumPeak += gpu.max()!
      }
      return (sumMean, sumPeak)
    }
    for (c, config) in configs.enumerated() {
      var expected: [Double] = [], expectedSteps: [Double] = [], changes: [Int] = [], raw: [Int] = []
      var oracles: [Double] = [], ratios: [Double] = [], receives: [Int] = []
      var previous: [LayerPlacement]?
      var p = 7  // warmup = the largest window, 8
      while p + horizon < count {
        let first = config.window.map { p - $0 + 1 } ?? 0
        var window = [Double](repeating: 0, count: layers * experts)
        for i in first...p {
          let weight = config.halfLife.map { pow(0.5, Double(stepNumbers[p] - stepNumbers[i]) / $0) } ?? 1
          for j in window.indices { window[j] += weight * series[i][j] }
        }
        let plan = try Planner.plan(
          LoadMatrix(layers: layers, experts: experts, values: window), layerIDs: [0, 1, 2], topology: topology,
          policy: .auto, algorithm: config.algorithm)
        var horizonSum = [Double](repeating: 0, count: layers * experts)
        var stepSum = 0.0
        for i in (p + 1)...(p + horizon) {
          for j in horizonSum.indices { horizonSum[j] += series[i][j] }
          let b = balancedness(plan, series[i])
          stepSum += b.mean / b.peak
        }
        let b = balancedness(plan, horizonSum)
        expected.append(b.mean / b.peak)
        expectedSteps.append(stepSum / Double(horizon))
        // The oracle: the same algorithm on the horizon's plain sum.
        let oracle = try Planner.plan(
          LoadMatrix(layers: layers, experts: experts, values: horizonSum), layerIDs: [0, 1, 2], topology: topology,
          policy: .auto, algorithm: config.algorithm)
        let o = balancedness(oracle, horizonSum)
        oracles.append(o.mean / o.peak)
        // Slots changed after relabelling each layer against what served (itself relabelled);
        // GPU g receives the experts of its changed slots that none of its old slots held.
        var serving = placements(plan)
        if let previous {
          var n = 0, m = 0
          var got = [Int](repeating: 0, count: topology.gpus)
          for l in 0..<layers {
            let old = previous[l].physicalToLogical
            for (x, y) in zip(old, serving[l].physicalToLogical) where x != y { m += 1 }
            serving[l] = try Relabel.minimizeMoves(
              serving[l], base: previous[l], topology: topology, policy: .hierarchical
            ).placement
            let new = serving[l].physicalToLogical
            for s in 0..<topology.replicas where old[s] != new[s] {
              n += 1
              let g = s / per
              if !old[(g * per)..<((g + 1) * per)].contains(new[s]) { got[g] += 1 }
            }
          }
          changes.append(n)
          raw.append(m)
          receives.append(got.max()!)
          ratios.append(sums(serving, horizonSum).peak / sums(previous, horizonSum).peak)
        }
        previous = serving
        p += every
      }
      let points = report.summaries[c].points
      #expect(points.count == expected.count)
      for (point, value) in zip(points, expected) { #expect(abs(point.realizedBalancedness - value) < 1e-9) }
      for (point, value) in zip(points, expectedSteps) { #expect(abs(point.stepBalancednessMean - value) < 1e-9) }
      #expect(points.dropFirst().map { $0.slotsChanged! } == changes)
      #expect(points.dropFirst().map { $0.slotsChangedBeforeRelabel! } == raw)
      #expect(points.dropFirst().map { $0.bottleneckReceives! } == receives)
      #expect(zip(changes, raw).allSatisfy { $0 <= $1 })
      for (point, value) in zip(points, oracles) { #expect(abs(point.oracleBalancedness! - value) < 1e-9) }
      for (point, value) in zip(points.dropFirst(), ratios) { #expect(abs(point.replanPeakRatio! - value) < 1e-9) }
      // Priced: 2 ms · 5 steps · (1 − ratio) saved; receives × 2^20 B · 8 / 8 Gb/s = receives × 1.048576 ms.
      let e = try #require(report.summaries[c].economics(cost, horizon: horizon))
      let saved = ratios.map { 10 * (1 - $0) }.reduce(0, +) / Double(ratios.count)
      let transfer = receives.map { Double($0) * 1.048576 }.reduce(0, +) / Double(receives.count)
      #expect(abs(e.savedMsMean - saved) < 1e-9 && abs(e.transferMsMean - transfer) < 1e-9)
      #expect(abs(e.netMsMean - (saved - transfer)) < 1e-9)
      #expect(abs(e.breakEvenGainPercent - 100 * transfer / 10) < 1e-9)
    }
  }

  @Test func slotsChangedCountAfterRelabelling() throws {
    // Plan B = [2,3,0,1] is plan A = [0,1,2,3] with the two GPUs' contents swapped: 4 slots differ
    // as planned, none after relabelling (GPU 1's contents stay on GPU 0), and no GPU receives
    // any weights. Priced at 2^20 B, 8 Gb/s, 1 ms per step: the transfer costs 0 ms.
    let config = BacktestConfig(algorithm: .deepseek, window: 2, halfLife: nil)
    nonisolated(unsafe) var calls = 0
    let cost = ReplanCost(expertBytes: 1 << 20, linkGbps: 8, stepMs: 1)
    let parameters = Backtest.Parameters(
      configs: [config], every: 2, horizon: 2, topology: Self.topology, policy: .global, replanCost: cost)
    let report = try Backtest.run(
      parameters: parameters, layerIDs: [0], experts: 4, stepCount: Self.steps.count,
      planner: { request in
        let p2l = calls == 0 ? [0, 1, 2, 3] : [2, 3, 0, 1]
        calls += 1
        let placement = LayerPlacement(physicalToLogical: p2l, experts: 4)
        let stats = Planner.statistics(
          of: placement, load: request.windowLoad.row(0), topology: Self.topology, policy: .global,
          algorithm: .deepseek)
        return Plan(
          topology: Self.topology, policy: .global, algorithm: .deepseek,
          layers: [PlannedLayer(layer: 0, placement: placement, statistics: stats)], skippedLayers: [])
      },
      forEachStep: { body in
        for (step, load) in zip(Self.steps, Self.loads) {
          try body(step, LoadMatrix(layers: 1, experts: 4, values: load))
        }
      })
    let points = report.summaries[0].points
    #expect(points.map(\.slotsChanged) == [nil, 0])
    #expect(points.map(\.slotsChangedBeforeRelabel) == [nil, 4])
    #expect(points.map(\.bottleneckReceives) == [nil, 0])
    // Same GPU loads, so the same peak on the second horizon: ratio 1, nothing saved.
    #expect(points[1].replanPeakRatio == 1)
    let e = try #require(report.economics(0))
    #expect(e.savedMsMean == 0 && e.transferMsMean == 0 && e.recommendedEvery == nil)
    #expect(report.replanAdvice?.contains("do not lower the peak") == true)
    // No oracle asked: the key is there and null.
    guard case .object(let top) = report.json(), case .array(let configs) = top[0].1,
      case .object(let first) = configs[0]
    else { throw BacktestError("not an object with configs") }
    #expect(first.first(where: { $0.0 == "oracle_balancedness_mean" })?.1 == .null)
    #expect(first.first(where: { $0.0 == "slots_changed_before_relabel_mean" })?.1 == .number(4))
  }

  @Test func oracleGapClosedIsTheShareOfDeepSeeksGap() throws {
    // deepseek realizes 0.80 with oracle 0.90; another algorithm 0.825: it closes 0.025/0.10 = 1/4.
    let topology = Self.topology
    func summary(_ a: PlacementAlgorithm, _ realized: Double, _ oracle: Double) -> BacktestSummary {
      var p = BacktestPoint(
        plan: 0, step: 1, windowFrom: 0, windowTo: 1, windowSteps: 2, horizonFrom: 2, horizonTo: 3,
        plannedBalancedness: 1, realizedBalancedness: realized, stepBalancednessMean: realized, peakToLowerBound: 1,
        lowerBoundBalancedness: 1, slotsChanged: nil)
      p.oracleBalancedness = oracle
      return BacktestSummary(config: BacktestConfig(algorithm: a, window: 2, halfLife: nil), points: [p])
    }
    let parameters = Backtest.Parameters(
      configs: [], every: 2, horizon: 2, topology: topology, policy: .global, oracle: true)
    let report = BacktestReport(
      parameters: parameters, policy: .global, layerIDs: [0],
      summaries: [summary(.deepseek, 0.80, 0.90), summary(.flashlb, 0.825, 0.95)], limits: [])
    #expect(report.oracleGapClosed(0) == 0)
    #expect(abs(report.oracleGapClosed(1)! - 0.25) < 1e-12)
  }

  @Test func jsonKeysFollowTheContract() throws {
    let config = BacktestConfig(algorithm: .deepseek, window: 2, halfLife: nil)
    let (report, _) = try Self.replay(configs: [config], placements: [[0, 1, 2, 3], [0, 2, 1, 3]])
    let json = report.json()
    guard case .object(let top) = json, case .array(let configs) = top[0].1, case .object(let first) = configs[0]
    else {
      Issue.record("not an object with configs")
      return
    }
    #expect(top.map(\.0) == ["configs", "recommendation", "limits", "parameters"])
    #expect(
      Array(first.map(\.0).prefix(7)) == [
        "algorithm", "window", "half_life", "points", "realized_balancedness_mean", "realized_balancedness_min",
        "slots_changed_mean",
      ])
    #expect(first.map(\.0).contains("realized_balancedness_p10") && first.map(\.0).contains("rank"))
    #expect(first[3].1 == .int(2))
    #expect(first[6].1 == .int(2))
    #expect(first[2].1 == .null)
  }

  @Test func rankingAndRecommendation() throws {
    // Two configurations with the same data: the planner gives config 2 the better placement B
    // for the second horizon, so it ranks first.
    let a = BacktestConfig(algorithm: .deepseek, window: 2, halfLife: nil)
    let b = BacktestConfig(algorithm: .eplbDivisor, window: 2, halfLife: nil)
    let (report, _) = try Self.replay(configs: [a, b], placements: [[0, 1, 2, 3]])
    // Both get A every time: a tie broken by the order given.
    #expect(report.ranking == [0, 1])
    #expect(report.recommendation?.config == a)
    #expect(report.recommendation?.text.hasPrefix("Plan with deepseek, window 2, no half-life") == true)
  }

  @Test func htmlIsWellFormedWithOneLinePerConfiguration() throws {
    let configs = [
      BacktestConfig(algorithm: .deepseek, window: 2, halfLife: nil),
      BacktestConfig(algorithm: .eplbDivisor, window: 2, halfLife: 1),
    ]
    var (report, _) = try Self.replay(configs: configs, placements: [[0, 1, 2, 3], [0, 2, 1, 3]])
    report.series = "a <b> & 'c'"
    let html = report.html()
    let parsed = try #require(ElementCollector.parse(html))
    let lines = parsed.elements.filter { $0.name == "polyline" && $0.attributes["class"] == "line" }
    #expect(lines.map { $0.attributes["data-series"] } == ["deepseek w2 h-", "eplb-divisor w2 h1", "best possible"])
    let points = parsed.elements.filter { $0.name == "circle" && $0.attributes["class"] == "point" }
    #expect(points.count == 4)
    #expect(!html.contains("<script") && !html.contains("http://") || html.contains("http://www.w3.org/2000/svg"))
    #expect(parsed.elements.filter { $0.attributes["class"] == "legend" }.count == 3)
  }
}

@Suite struct PolicyLimitsTests {
  @Test func greedyGroupPackingCanMissTheOptimum() {
    // Six groups of one expert, 2 nodes × 3 groups, one GPU per node: loads 8 7 6 5 4 0, total 30.
    // Optimal: {8,7,0} | {6,5,4} = 15 each. EPLB's greedy: 8→A, 7→B, 6→B (13), 5→A (13), 4→A (17, first
    // of the equally light), 0→B: max 17. Mean per GPU 15, t* = 8 (no spare replica).
    let load: [Double] = [8, 7, 6, 5, 4, 0]
    let topology = Topology(replicas: 6, gpus: 2, nodes: 2, groups: 6)
    let limits = PolicyLimits(loads: LoadMatrix(layers: 1, experts: 6, values: load), topology: topology)
    #expect(limits.globalBound == 1)
    #expect(limits.hierarchicalCap == 1)
    #expect(limits.eplbPackingCap == 15.0 / 17.0)
    #expect(limits.exact)
  }

  @Test func groupsCapBalancednessBelowTheGlobalBound() {
    // 8 experts in 4 groups of 2 on 2 nodes × 2 GPUs, 8 slots. Group loads 8, 6, 5, 1 (total 20,
    // mean per GPU 5). Packings: {8,6}|{5,1} → 14, {8,5}|{6,1} → 13, {8,1}|{6,5} → 11: M* = 11, so a
    // GPU carries ≥ 5.5 and the cap is 5 / 5.5. Global: t* = 5 (the 5-token expert), bound 5/5 = 1.
    let load: [Double] = [4, 4, 3, 3, 5, 0, 1, 0]
    let topology = Topology(replicas: 8, gpus: 4, nodes: 2, groups: 4)
    let limits = PolicyLimits(loads: LoadMatrix(layers: 1, experts: 8, values: load), topology: topology)
    #expect(limits.globalBound == 1)
    #expect(limits.hierarchicalCap == 5 / 5.5)
  }

  @Test func exactPackingMatchesEnumeration() {
    var rng = SplitMix64(seed: 7)
    for _ in 0..<30 {
      let groups = (0..<8).map { _ in Double(rng.next() % 1000) }
      // Every assignment of 8 groups to 4 nodes with 2 each.
      var best = Double.infinity
      for code in 0..<65536 {
        var node = [Double](repeating: 0, count: 4), items = [Int](repeating: 0, count: 4)
        var c = code
        for g in 0..<8 {
          node[c % 4] += groups[g]
          items[c % 4] += 1
          c /= 4
        }
        if items.allSatisfy({ $0 == 2 }) { best = min(best, node.max()!) }
      }
      let result = PolicyLimits.minMaxNodeLoad(groups, nodes: 4)
      #expect(result.optimal == best)
      #expect(result.exact)
      #expect(result.greedy >= best)
    }
  }

  /// DeepSeek-V3's real statistics (the bundled SGLang dumps) on 288 slots, 32 GPUs, 4 nodes, 8
  /// groups: group skew alone caps the hierarchical policy well below the global one. Reference
  /// values from an independent Python computation (enumerating all 8-group packings).
  @Test(arguments: [("decode_in1000out1000.json", 0.7635), ("prefill_in1024.json", 0.862)])
  func realDeepSeekStatistics(file: String, cap: Double) throws {
    let url = CommandRunner.repositoryRoot.appendingPathComponent("Examples/sglang/\(file)")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    let rows = object["logical_count"] as! [[Double]]
    let loads = LoadMatrix(layers: rows.count, experts: rows[0].count, values: rows.flatMap { $0 })
    let limits = PolicyLimits(loads: loads, topology: Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8))
    #expect(abs(limits.globalBound - 1) < 1e-12)
    #expect(abs(limits.hierarchicalCap! - cap) < 5e-5)
    #expect(limits.exact)
  }

  @Test func maxLoadPerReplicaIsDHondt() {
    // Loads 9 and 3 with 4 replicas: counts (3, 1) give max(3, 3) = 3; (2, 2) gives 4.5.
    #expect(PolicyLimits.maxLoadPerReplica([9, 3], replicas: 4) == 3)
    #expect(PolicyLimits.maxLoadPerReplica([9, 3], replicas: 2) == 9)
  }
}
