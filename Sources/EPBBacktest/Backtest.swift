import EPBPlanner

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One configuration a backtest replays: an algorithm and how the planning window is built.
public struct BacktestConfig: Sendable, Hashable {
  public var algorithm: PlacementAlgorithm
  /// The window: the last `window` stored steps up to the plan step; nil = every stored step so far.
  public var window: Int?
  /// Weights step s of the window by 0.5^((t − s) / halfLife), t the window's last step (step
  /// numbers, as `EPBStore.windowLoad` does); nil = unweighted.
  public var halfLife: Double?

  public init(algorithm: PlacementAlgorithm, window: Int?, halfLife: Double?) {
    self.algorithm = algorithm
    self.window = window
    self.halfLife = halfLife
  }

  /// `seed, window 500, half-life 100` / `…, all steps, no half-life`.
  public var label: String {
    let w = window.map { "window \($0)" } ?? "all steps"
    let h = halfLife.map { "half-life \(BacktestConfig.number($0))" } ?? "no half-life"
    return "\(algorithm.rawValue), \(w), \(h)"
  }

  /// A compact label for tables and charts: `seed w500 h100`, `deepseek wall h-`.
  public var shortLabel: String {
    "\(algorithm.rawValue) w\(window.map(String.init) ?? "all") h\(halfLife.map(BacktestConfig.number) ?? "-")"
  }

  /// `x` as the labels print it: an integer without a fraction (below 10^15), else Swift's shortest form.
  public static func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
}

/// How `backtest` prices a re-plan (`--expert-bytes`, `--link-gbps`, `--step-ms`): the time its
/// lower peak saves over its horizon against the time its expert transfers take.
///
/// Model (docs/backtest.md): a step's MoE time is proportional to Σ over layers of the peak GPU
/// load, and is `stepMs` under the placement that was serving (the previous plan), so a re-plan
/// saves `stepMs · horizon · (1 − Σ new peak / Σ old peak)` ms over its horizon, both peaks on the
/// horizon's summed load. Its transfers are the copies between GPUs after relabelling (`diff`'s
/// `same_node` and `cross_node` moves; a copy inside one GPU is free); GPUs receive in parallel, each
/// at `linkGbps`, so the transfer time is that of the GPU that receives the most weights over all
/// layers: `copies · expertBytes · 8 / (linkGbps · 10⁹)` s. Serving is taken to stall meanwhile.
public struct ReplanCost: Sendable, Equatable {
  /// Bytes of one expert's weights (one slot's contents).
  public var expertBytes: Int
  /// What one GPU receives per second, in gigabits (10⁹ bit).
  public var linkGbps: Double
  /// Milliseconds of MoE time per step under the placement that was serving.
  public var stepMs: Double

  public init(expertBytes: Int, linkGbps: Double, stepMs: Double) {
    self.expertBytes = expertBytes
    self.linkGbps = linkGbps
    self.stepMs = stepMs
  }

  /// Milliseconds one GPU needs to receive `copies` experts' weights.
  public func transferMs(copies: Int) -> Double {
    Double(copies) * Double(expertBytes) * 8 / (linkGbps * 1e9) * 1000
  }

  /// Milliseconds saved over `steps` steps when Σ peak falls to `peakRatio` of the old one
  /// (negative when the new placement is worse on them).
  public func savedMs(steps: Int, peakRatio: Double) -> Double { stepMs * Double(steps) * (1 - peakRatio) }
}

/// What the planning hook of a backtest receives at one plan step.
public struct BacktestPlanRequest: Sendable {
  public var config: BacktestConfig
  /// `[layerIDs.count][experts]`: the window's (weighted) summed load, tokens.
  public var windowLoad: LoadMatrix
  /// The series layer id of each row.
  public var layerIDs: [Int]
  /// First and last step number of the window, and its stored steps.
  public var windowFrom: Int
  public var windowTo: Int
  public var windowSteps: Int
  /// The window's per-step loads, oldest first, `[windowSteps]` of `[layers][experts]`
  /// (unweighted); only when the backtest was asked to keep them for this configuration.
  public var stepLoads: [LoadMatrix]?
  public var topology: Topology
  public var policy: PlacementPolicy
  /// The configuration's previous plan, by layer id (empty for its first plan); incremental
  /// algorithms (`PlacementAlgorithm.usesBase`) start from it.
  public var previousPlacements: [Int: LayerPlacement] = [:]
  /// No GPU may hold two replicas of one expert (`Parameters.distinctPerGPU`).
  public var distinctPerGPU = false
  /// Layers planned at once (`Parameters.threads`).
  public var threads = 1
}

/// Why a backtest cannot run; the message names the flag that fixes it.
public struct BacktestError: Error, Equatable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A replay of a load series: every `every` steps, plan on the preceding window with each
/// configuration, then evaluate the placement on the next `horizon` steps.
///
/// Plan steps (by position in the stored series, 0-based): `p = warmup − 1 + n · every` for
/// n = 0, 1, … while `p + horizon` is still a stored position. The window of a plan at `p` ends at
/// `p` (inclusive); its horizon is positions `p + 1 … p + horizon`. `warmup` defaults to the
/// largest window (so every configuration plans on a full window at the same steps), or to
/// `every` when no configuration has a window.
///
/// Feed the steps in order with `add(step:loads:)` (a push interface, so the caller can stream
/// them from the store), then call `finish()`. Memory: O(layers · experts) per running sum (one
/// plain prefix sum and one decayed sum per distinct half-life), per live window-start snapshot
/// (about window / every per window length), and per plan whose horizon is running; per-step
/// loads are kept only for configurations whose planner asks for them (`keepStepLoads`).
///
/// Window sums are differences of running sums: Σ over the window = P(p) − P(p − W) for the
/// plain sum and E(p) − 0.5^((t_p − t_{p−W}) / H) · E(p − W) for the decayed one
/// (E(i) = 0.5^((t_i − t_{i−1}) / H) · E(i − 1) + load(i)); values within 1e-12 of zero
/// relative to the running sum are set to zero, so cancellation cannot leave negative loads.
///
/// Planning goes through one closure, `planner` (default: `Planner.plan` on the window sum
/// with the configuration's algorithm), so an algorithm that needs the window's per-step loads
/// can be plugged in without touching the replay.
public struct Backtest {
  public typealias PlanFunction = (BacktestPlanRequest) throws -> Plan

  /// `Planner.plan` on the window sum with the configuration's algorithm, as `epbctl plan`
  /// plans: algorithms that plan on scenarios get the window's steps summed into their blocks
  /// (`Robust.blockSums`), incremental ones start from the previous plan, and
  /// `distinctPerGPU` repairs every placement.
  public static func defaultPlanner(_ r: BacktestPlanRequest) throws -> Plan {
    try Planner.plan(
      r.windowLoad, layerIDs: r.layerIDs, topology: r.topology, policy: r.policy, algorithm: r.config.algorithm,
      scenarios: Robust.blockSums(r.stepLoads ?? [], blocks: r.config.algorithm.scenarioBlocks),
      base: r.previousPlacements, distinctPerGPU: r.distinctPerGPU, threads: r.threads)
  }

  /// The replay's settings.
  public struct Parameters: Sendable, Equatable {
    public var configs: [BacktestConfig]
    /// Steps between plans (≥ 1).
    public var every: Int
    /// Steps each plan is evaluated on (≥ 1).
    public var horizon: Int
    /// Steps before the first plan; nil = the largest window, else `every`.
    public var warmup: Int?
    public var topology: Topology
    public var policy: PlacementPolicy
    /// Also plan each configuration on each horizon itself and score that plan there (the
    /// oracle; as many plans again).
    public var oracle: Bool
    /// Prices each re-plan (saved time against transfer time); nil = not priced.
    public var replanCost: ReplanCost?
    /// The planner was asked for placements with no expert twice on one GPU (reported only; the
    /// caller's planner closure applies it).
    public var distinctPerGPU: Bool
    /// Layers each plan places at once (at least 1; the report is the same for any number).
    public var threads: Int

    public init(
      configs: [BacktestConfig], every: Int, horizon: Int, warmup: Int? = nil, topology: Topology,
      policy: PlacementPolicy, oracle: Bool = false, replanCost: ReplanCost? = nil, distinctPerGPU: Bool = false,
      threads: Int = 1
    ) {
      self.configs = configs
      self.every = every
      self.horizon = horizon
      self.warmup = warmup
      self.topology = topology
      self.policy = policy
      self.oracle = oracle
      self.replanCost = replanCost
      self.distinctPerGPU = distinctPerGPU
      self.threads = threads
    }

    /// The steps before the first plan.
    public var effectiveWarmup: Int { warmup ?? (configs.compactMap(\.window).max() ?? every) }

    /// The stored steps a backtest needs for at least one plan: warmup + horizon.
    public var minimumSteps: Int { effectiveWarmup + horizon }

    /// Checks the settings against the flags.
    public func validate() throws(BacktestError) {
      if configs.isEmpty { throw BacktestError("give at least one configuration (--window or --half-life)") }
      if every < 1 { throw BacktestError("--every must be at least 1, got \(every)") }
      if horizon < 1 { throw BacktestError("--horizon must be at least 1, got \(horizon)") }
      if let warmup, warmup < 1 { throw BacktestError("--warmup must be at least 1, got \(warmup)") }
      if threads < 1 { throw BacktestError("--threads must be at least 1, got \(threads)") }
      for c in configs {
        if let w = c.window, w < 1 { throw BacktestError("--window must be at least 1, got \(w)") }
        if let w = c.window, w > effectiveWarmup {
          throw BacktestError("--window \(w) is longer than --warmup \(effectiveWarmup)")
        }
        if let h = c.halfLife, !(h > 0 && h.isFinite) {
          throw BacktestError("--half-life must be a positive number of steps, got \(h)")
        }
      }
    }

    /// The positions (0-based, in a series of `stepCount` stored steps) where plans are made.
    public func planPositions(stepCount: Int) -> [Int] {
      var out: [Int] = []
      var p = effectiveWarmup - 1
      while p + horizon <= stepCount - 1 {
        out.append(p)
        p += every
      }
      return out
    }
  }

  // MARK: State

  public let parameters: Parameters
  public let layerIDs: [Int]
  public let experts: Int
  public let stepCount: Int
  let planner: PlanFunction
  let keepStepLoads: [Bool]
  let resolvedPolicy: PlacementPolicy
  let planPositions: [Int]
  let halfLives: [Double]

  var position = 0
  var nextPlan = 0
  var stepNumbers: [Int] = []
  /// The plain prefix sum, `[layers * experts]`.
  var plain: [Double]
  /// One decayed running sum per entry of `halfLives`.
  var decayed: [[Double]]
  /// Window-start snapshots of the running sums: key = (sum index, position), −1 = plain.
  var snapshots: [SnapshotKey: [Double]] = [:]
  var snapshotUses: [SnapshotKey: Int] = [:]
  /// The last `ringCapacity` steps, when some configuration keeps step loads.
  var ring: [LoadMatrix] = []
  var ringCapacity = 0
  var active: [ActivePoint] = []
  /// Each configuration's previous plan as it serves (relabelled), one placement per row.
  var previousPlacement: [[LayerPlacement]?]
  var points: [[BacktestPoint]]
  var pointLimits: [PolicyLimits] = []
  var gpuScratch: [Double]
  /// `[gpus]`: expert weights each GPU receives in the re-plan being counted, over all layers.
  var receives: [Int]

  struct SnapshotKey: Hashable {
    var sum: Int
    var position: Int
  }

  struct ConfigEvaluation {
    /// One placement per row (the trivial `slot % experts` map for skipped layers).
    var placements: [LayerPlacement]
    /// The configuration's previous plan (what served before this one), one per row; nil for
    /// its first plan.
    var base: [LayerPlacement]?
    var stepBalancednessSum = 0.0
    var point: BacktestPoint
  }

  struct ActivePoint {
    var position: Int
    var horizonSum: [Double]
    var evaluations: [ConfigEvaluation]
  }

  /// Prepares a replay of `stepCount` stored steps of `layerIDs.count` layers × `experts`.
  ///
  /// - parameter keepStepLoads: for each configuration, whether its planner wants the window's
  ///   per-step loads (then the configuration needs a window); nil: those of the algorithms that
  ///   plan on scenarios (`usesScenarios`) with a window, what `defaultPlanner` uses.
  /// - throws: `BacktestError` for bad parameters or a series too short for one plan, and
  ///   `TopologyError` messages (as `BacktestError`) when the topology cannot place `experts`.
  public init(
    parameters: Parameters, layerIDs: [Int], experts: Int, stepCount: Int, keepStepLoads: [Bool]? = nil,
    planner: @escaping PlanFunction = Backtest.defaultPlanner
  ) throws(BacktestError) {
    try parameters.validate()
    do {
      try parameters.topology.validate(experts: experts, policy: parameters.policy)
    } catch {
      throw BacktestError(error.message)
    }
    if stepCount < parameters.minimumSteps {
      throw BacktestError(
        "the series holds \(plural(stepCount, "step")); a backtest needs warmup \(parameters.effectiveWarmup) + --horizon "
          + "\(parameters.horizon) = \(parameters.minimumSteps); lower --window, --warmup or --horizon")
    }
    let keep = keepStepLoads ?? parameters.configs.map { $0.algorithm.usesScenarios && $0.window != nil }
    precondition(keep.count == parameters.configs.count, "one keepStepLoads flag per configuration")
    for (c, k) in zip(parameters.configs, keep) where k && c.window == nil {
      throw BacktestError("the \(c.algorithm.rawValue) planner needs the window's steps; give --window")
    }
    self.parameters = parameters
    self.layerIDs = layerIDs
    self.experts = experts
    self.stepCount = stepCount
    self.planner = planner
    self.keepStepLoads = keep
    resolvedPolicy = parameters.topology.resolve(parameters.policy)
    planPositions = parameters.planPositions(stepCount: stepCount)
    var lives: [Double] = []
    for c in parameters.configs { if let h = c.halfLife, !lives.contains(h) { lives.append(h) } }
    halfLives = lives
    let n = layerIDs.count * experts
    plain = [Double](repeating: 0, count: n)
    decayed = Array(repeating: [Double](repeating: 0, count: n), count: lives.count)
    previousPlacement = Array(repeating: nil, count: parameters.configs.count)
    points = Array(repeating: [], count: parameters.configs.count)
    gpuScratch = [Double](repeating: 0, count: parameters.topology.gpus)
    receives = [Int](repeating: 0, count: parameters.topology.gpus)
    for (c, config) in parameters.configs.enumerated() {
      if keep[c], let w = config.window { ringCapacity = max(ringCapacity, w) }
      if keep[c] && parameters.oracle { ringCapacity = max(ringCapacity, parameters.horizon) }
      guard let w = config.window else { continue }
      for p in planPositions where p - w >= 0 {
        snapshotUses[SnapshotKey(sum: sumIndex(config), position: p - w), default: 0] += 1
      }
    }
  }

  func sumIndex(_ config: BacktestConfig) -> Int {
    config.halfLife.map { h in halfLives.firstIndex(of: h)! } ?? -1
  }

  // MARK: Feeding steps

  /// Adds the next stored step, `loads` being `[layerIDs.count][experts]` tokens. Steps must come
  /// in increasing step order, `stepCount` of them.
  ///
  /// - throws: what the planner throws.
  public mutating func add(step: Int, loads: LoadMatrix) throws {
    precondition(loads.layers == layerIDs.count && loads.experts == experts, "step shape differs from the series")
    precondition(position < stepCount, "more steps than announced")
    precondition(stepNumbers.last.map { $0 < step } ?? true, "steps must increase")
    let i = position
    let previousStep = stepNumbers.last
    stepNumbers.append(step)
    // 0. Per-step loads for planners that want them (windows and, for the oracle, horizons).
    if ringCapacity > 0 {
      ring.append(loads)
      if ring.count > ringCapacity { ring.removeFirst() }
    }
    // 1. Plans whose horizon covers this step.
    var k = 0
    while k < active.count {
      let horizonEnd = active[k].position + parameters.horizon
      if i <= horizonEnd {
        for j in 0..<loads.values.count { active[k].horizonSum[j] += loads.values[j] }
        for c in active[k].evaluations.indices {
          active[k].evaluations[c].stepBalancednessSum += weightedBalancedness(
            active[k].evaluations[c].placements, loads: loads)
        }
      }
      if i == horizonEnd {
        try finalize(active.remove(at: k))
      } else {
        k += 1
      }
    }
    // 2. Running sums.
    for j in 0..<plain.count { plain[j] += loads.values[j] }
    if let previous = previousStep {
      for (h, life) in halfLives.enumerated() {
        let decay = pow(0.5, Double(step - previous) / life)
        for j in 0..<plain.count { decayed[h][j] = decayed[h][j] * decay + loads.values[j] }
      }
    } else {
      for h in halfLives.indices { decayed[h] = loads.values }
    }
    // 3. Window-start snapshots taken here.
    for s in -1..<halfLives.count {
      let key = SnapshotKey(sum: s, position: i)
      if snapshotUses[key] != nil { snapshots[key] = s < 0 ? plain : decayed[s] }
    }
    // 4. Plans made at this step.
    if nextPlan < planPositions.count && planPositions[nextPlan] == i {
      try plan(at: i)
      nextPlan += 1
    }
    position += 1
  }

  /// The report over every plan whose horizon completed.
  public func finish() -> BacktestReport {
    BacktestReport(
      parameters: parameters, policy: resolvedPolicy, layerIDs: layerIDs,
      summaries: parameters.configs.indices.map { BacktestSummary(config: parameters.configs[$0], points: points[$0]) },
      limits: pointLimits)
  }

  /// Runs a whole replay: `forEachStep` must call its argument once per stored step, in order.
  public static func run(
    parameters: Parameters, layerIDs: [Int], experts: Int, stepCount: Int, keepStepLoads: [Bool]? = nil,
    planner: @escaping PlanFunction = Backtest.defaultPlanner,
    forEachStep: ((_ step: Int, _ loads: LoadMatrix) throws -> Void) throws -> Void
  ) throws -> BacktestReport {
    var backtest = try Backtest(
      parameters: parameters, layerIDs: layerIDs, experts: experts, stepCount: stepCount,
      keepStepLoads: keepStepLoads, planner: planner)
    try forEachStep { step, loads in try backtest.add(step: step, loads: loads) }
    return backtest.finish()
  }

  // MARK: Planning and evaluation

  mutating func plan(at i: Int) throws {
    var evaluations: [ConfigEvaluation] = []
    for (c, config) in parameters.configs.enumerated() {
      let s = sumIndex(config)
      let current = s < 0 ? plain : decayed[s]
      var values = current
      var first = 0
      if let w = config.window {
        first = i - w + 1
        let key = SnapshotKey(sum: s, position: i - w)
        if let start = snapshots[key] {
          let factor = config.halfLife.map { pow(0.5, Double(stepNumbers[i] - stepNumbers[i - w]) / $0) } ?? 1
          for j in 0..<values.count {
            let v = current[j] - factor * start[j]
            values[j] = v > 1e-12 * current[j] ? v : 0
          }
          snapshotUses[key]! -= 1
          if snapshotUses[key] == 0 {
            snapshots[key] = nil
            snapshotUses[key] = nil
          }
        }
      }
      var request = BacktestPlanRequest(
        config: config, windowLoad: LoadMatrix(layers: layerIDs.count, experts: experts, values: values),
        layerIDs: layerIDs, windowFrom: stepNumbers[first], windowTo: stepNumbers[i], windowSteps: i - first + 1,
        stepLoads: keepStepLoads[c] ? Array(ring.suffix(i - first + 1)) : nil, topology: parameters.topology,
        policy: parameters.policy, distinctPerGPU: parameters.distinctPerGPU, threads: parameters.threads)
      let base = previousPlacement[c]
      if config.algorithm.usesBase, let base {
        for (layer, placement) in zip(layerIDs, base) { request.previousPlacements[layer] = placement }
      }
      let plan = try planner(request)
      var placements = rows(of: plan)
      // Relabel against what serves (as `plan` does against its base), then count the moves.
      var changed: Int?, changedBefore: Int?, transfers: Int?, bottleneck: Int?
      if let base {
        var after = 0, before = 0, copies = 0
        for g in receives.indices { receives[g] = 0 }
        for row in placements.indices {
          let result: RelabelResult
          do {
            result = try Relabel.minimizeMoves(
              placements[row], base: base[row], topology: parameters.topology, policy: resolvedPolicy)
          } catch {
            throw BacktestError("layer \(layerIDs[row]): \(config.label): cannot relabel the plan: \(error)")
          }
          placements[row] = result.placement
          after += result.movesAfter.total
          before += result.movesBefore.total
          copies += result.movesAfter.transfers
          countReceives(from: base[row], to: result.placement)
        }
        (changed, changedBefore, transfers, bottleneck) = (after, before, copies, receives.max() ?? 0)
      }
      previousPlacement[c] = placements
      var point = BacktestPoint(
        plan: points[c].count, step: stepNumbers[i], windowFrom: request.windowFrom, windowTo: request.windowTo,
        windowSteps: request.windowSteps, horizonFrom: 0, horizonTo: 0,
        plannedBalancedness:
          plan.summary.balancednessWeighted, realizedBalancedness: 0, stepBalancednessMean: 0, peakToLowerBound: 0,
        lowerBoundBalancedness: 0, slotsChanged: changed)
      point.slotsChangedBeforeRelabel = changedBefore
      point.transfers = transfers
      point.bottleneckReceives = bottleneck
      point.replanPeakRatio = nil
      evaluations.append(ConfigEvaluation(placements: placements, base: base, point: point))
    }
    active.append(
      ActivePoint(position: i, horizonSum: [Double](repeating: 0, count: plain.count), evaluations: evaluations))
  }

  /// One placement per row of `plan` (the trivial `slot % experts` map for rows it skipped).
  func rows(of plan: Plan) -> [LayerPlacement] {
    layerIDs.map { layer in
      plan.layers.first(where: { $0.layer == layer })?.placement
        ?? LayerPlacement(physicalToLogical: (0..<parameters.topology.replicas).map { $0 % experts }, experts: experts)
    }
  }

  /// Adds to `receives[g]` the slots of GPU g whose expert in `new` no slot of g held in `base`:
  /// the weights g must receive from another GPU (`diff`'s `same_node` and `cross_node` moves).
  mutating func countReceives(from base: LayerPlacement, to new: LayerPlacement) {
    let per = parameters.topology.slotsPerGPU
    let b = base.physicalToLogical, p = new.physicalToLogical
    for g in receives.indices {
      let slots = (g * per)..<((g + 1) * per)
      for s in slots where b[s] != p[s] && !b[slots].contains(p[s]) { receives[g] += 1 }
    }
  }

  /// Σ peak and Σ mean over rows of `placements` on `horizon`.
  func peakAndMean(_ placements: [LayerPlacement], _ horizon: LoadMatrix) -> (peak: Double, mean: Double) {
    var sumPeak = 0.0, sumMean = 0.0
    for row in 0..<horizon.layers {
      let e = Planner.evaluate(placements[row], load: horizon.row(row), topology: parameters.topology)
      sumPeak += e.peak
      sumMean += e.mean
    }
    return (sumPeak, sumMean)
  }

  mutating func finalize(_ done: ActivePoint) throws {
    let horizon = LoadMatrix(layers: layerIDs.count, experts: experts, values: done.horizonSum)
    let topology = parameters.topology
    var sumMean = 0.0, sumBound = 0.0
    var bounds: [Double] = []
    for row in 0..<horizon.layers {
      let load = horizon.row(row)
      let mean = load.reduce(0, +) / Double(topology.gpus)
      let bound = max(mean, PolicyLimits.maxLoadPerReplica(load, replicas: topology.replicas))
      bounds.append(bound)
      sumMean += mean
      sumBound += bound
    }
    let horizonFrom = stepNumbers[done.position + 1], horizonTo = stepNumbers[done.position + parameters.horizon]
    for (c, evaluation) in done.evaluations.enumerated() {
      var point = evaluation.point
      let (sumPeak, sumMeanHere) = peakAndMean(evaluation.placements, horizon)
      point.horizonFrom = horizonFrom
      point.horizonTo = horizonTo
      point.realizedBalancedness = sumPeak > 0 ? sumMeanHere / sumPeak : 1
      point.stepBalancednessMean = evaluation.stepBalancednessSum / Double(parameters.horizon)
      point.peakToLowerBound = sumBound > 0 ? sumPeak / sumBound : 1
      point.lowerBoundBalancedness = sumBound > 0 ? sumMean / sumBound : 1
      if let base = evaluation.base {
        let old = peakAndMean(base, horizon).peak
        point.replanPeakRatio = old > 0 ? sumPeak / old : 1
      }
      if parameters.oracle {
        // The same algorithm planned on the horizon itself (its unweighted sum and, for planners
        // that want them, its steps), from the same base, scored on the same sum.
        let config = parameters.configs[c]
        var request = BacktestPlanRequest(
          config: config, windowLoad: horizon, layerIDs: layerIDs, windowFrom: horizonFrom, windowTo: horizonTo,
          windowSteps: parameters.horizon,
          stepLoads: keepStepLoads[c] ? Array(ring.suffix(parameters.horizon)) : nil, topology: topology,
          policy: parameters.policy, distinctPerGPU: parameters.distinctPerGPU, threads: parameters.threads)
        if config.algorithm.usesBase, let base = evaluation.base {
          for (layer, placement) in zip(layerIDs, base) { request.previousPlacements[layer] = placement }
        }
        let oracle = peakAndMean(rows(of: try planner(request)), horizon)
        point.oracleBalancedness = oracle.peak > 0 ? oracle.mean / oracle.peak : 1
      }
      points[c].append(point)
    }
    pointLimits.append(PolicyLimits(loads: horizon, topology: topology))
  }

  /// Σ mean / Σ peak over the rows of `loads` for `placements` (1 when all rows are zero); the
  /// per-GPU loads of `Planner.gpuLoads` (`Planner.evaluate`'s arithmetic) in one reused buffer.
  mutating func weightedBalancedness(_ placements: [LayerPlacement], loads: LoadMatrix) -> Double {
    let gpus = parameters.topology.gpus
    let per = parameters.topology.slotsPerGPU
    let experts = self.experts
    var sumMean = 0.0, sumPeak = 0.0
    loads.values.withUnsafeBufferPointer { w in
      gpuScratch.withUnsafeMutableBufferPointer { g in
        for (row, placement) in placements.enumerated() {
          let load = UnsafeBufferPointer(rebasing: w[(row * experts)..<((row + 1) * experts)])
          let (peak, total) = Planner.gpuLoads(placement, load: load, slotsPerGPU: per, into: g)
          sumMean += total / Double(gpus)
          sumPeak += peak
        }
      }
    }
    return sumPeak > 0 ? sumMean / sumPeak : 1
  }
}

/// One plan of one configuration and how it held up on its horizon.
public struct BacktestPoint: Sendable, Equatable {
  /// The plan's index within its configuration (0-based).
  public var plan: Int
  /// The step number the plan was made at (the window's last step).
  public var step: Int
  /// The window: first and last step number, and its stored steps.
  public var windowFrom: Int
  public var windowTo: Int
  public var windowSteps: Int
  /// The horizon: first and last step number (the `horizon` stored steps after the window).
  public var horizonFrom: Int
  public var horizonTo: Int
  /// Σ mean / Σ peak over the planned layers, on the plan's own window (in-sample).
  public var plannedBalancedness: Double
  /// Σ mean / Σ peak over layers, on the horizon's summed load (out-of-sample).
  public var realizedBalancedness: Double
  /// The mean over the horizon's steps of each step's Σ mean / Σ peak.
  public var stepBalancednessMean: Double
  /// Σ peak / Σ lower bound over layers on the horizon sum (≥ 1; lower bound as `Planner.statistics`).
  public var peakToLowerBound: Double
  /// Σ mean / Σ lower bound: the best weighted balancedness any placement reaches on the horizon.
  public var lowerBoundBalancedness: Double
  /// Slots (over all layers) whose logical expert differs from the previous plan of the same
  /// configuration, after relabelling this plan against it (`Relabel.minimizeMoves`, as `plan`
  /// does against its base); nil for the first plan.
  public var slotsChanged: Int?
  /// The same before relabelling (the plan as the algorithm returned it); nil for the first plan.
  public var slotsChangedBeforeRelabel: Int?
  /// Of `slotsChanged`, the copies from another GPU (`same_node` + `cross_node` moves); nil for
  /// the first plan.
  public var transfers: Int?
  /// The most expert weights one GPU receives from other GPUs, over all layers; nil for the
  /// first plan.
  public var bottleneckReceives: Int?
  /// Σ peak of this plan / Σ peak of the previous plan, over layers, both on this plan's horizon
  /// sum (below 1: the re-plan lowered the peak); nil for the first plan.
  public var replanPeakRatio: Double?
  /// Realized balancedness of the same algorithm planned on this horizon itself (the oracle);
  /// nil unless the backtest computes it (`Backtest.Parameters.oracle`).
  public var oracleBalancedness: Double?

  public init(
    plan: Int, step: Int, windowFrom: Int, windowTo: Int, windowSteps: Int, horizonFrom: Int, horizonTo: Int,
    plannedBalancedness: Double, realizedBalancedness: Double, stepBalancednessMean: Double,
    peakToLowerBound: Double, lowerBoundBalancedness: Double, slotsChanged: Int?
  ) {
    self.plan = plan
    self.step = step
    self.windowFrom = windowFrom
    self.windowTo = windowTo
    self.windowSteps = windowSteps
    self.horizonFrom = horizonFrom
    self.horizonTo = horizonTo
    self.plannedBalancedness = plannedBalancedness
    self.realizedBalancedness = realizedBalancedness
    self.stepBalancednessMean = stepBalancednessMean
    self.peakToLowerBound = peakToLowerBound
    self.lowerBoundBalancedness = lowerBoundBalancedness
    self.slotsChanged = slotsChanged
  }
}
