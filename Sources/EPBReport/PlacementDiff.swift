import EPBEngines
import EPBPlanner

/// Where the weights of an expert moved into a slot come from in the "before" placement, in the
/// order a serving engine prefers them.
public enum MoveSource: String, Sendable, CaseIterable, Codable {
  /// Another slot of the same GPU holds the expert: a local copy, no transfer.
  case sameGPU = "same_gpu"
  /// Another GPU of the same node holds it (`Topology.node(ofGPU:)`): an intra-node transfer.
  case sameNode = "same_node"
  /// Only GPUs of other nodes hold it, or no GPU does (then `sourceSlot` is nil): a cross-node transfer.
  case crossNode = "cross_node"
}

/// One expert to load into one slot of the "after" placement.
public struct ExpertMove: Sendable, Equatable, Codable {
  /// Series layer id.
  public var layer: Int
  /// Target physical slot, in `0..<replicas`.
  public var slot: Int
  /// Target GPU, `topology.gpu(ofSlot: slot)`.
  public var gpu: Int
  /// The logical expert the slot holds after the move.
  public var expert: Int
  /// The logical expert the slot held before (overwritten).
  public var replacedExpert: Int
  public var source: MoveSource
  /// The "before" slot to copy from: the lowest slot index holding `expert` within the best class;
  /// nil only when the "before" placement has no replica of `expert`.
  public var sourceSlot: Int?
  /// `topology.gpu(ofSlot: sourceSlot)`, nil with `sourceSlot`.
  public var sourceGPU: Int?

  public init(
    layer: Int, slot: Int, gpu: Int, expert: Int, replacedExpert: Int, source: MoveSource, sourceSlot: Int?,
    sourceGPU: Int?
  ) {
    self.layer = layer
    self.slot = slot
    self.gpu = gpu
    self.expert = expert
    self.replacedExpert = replacedExpert
    self.source = source
    self.sourceSlot = sourceSlot
    self.sourceGPU = sourceGPU
  }
}

/// Moves counted by source class: the planner's `MoveCounts` (one type, so relabelling and
/// the diff count the same way), with the diff's accessors.

extension MoveCounts {
  public subscript(source: MoveSource) -> Int {
    get {
      switch source {
      case .sameGPU: return sameGPU
      case .sameNode: return sameNode
      case .crossNode: return crossNode
      }
    }
    set {
      switch source {
      case .sameGPU: sameGPU = newValue
      case .sameNode: sameNode = newValue
      case .crossNode: crossNode = newValue
      }
    }
  }

  /// `{"same_gpu", "same_node", "cross_node"}`.
  public var json: JSONValue {
    .object([("same_gpu", .int(sameGPU)), ("same_node", .int(sameNode)), ("cross_node", .int(crossNode))])
  }
}

/// A logical expert whose replica count differs between the two placements.
public struct ReplicaChange: Sendable, Equatable, Codable {
  public var expert: Int
  /// `logcnt_A[expert]`.
  public var before: Int
  /// `logcnt_B[expert]`.
  public var after: Int

  public init(expert: Int, before: Int, after: Int) {
    self.expert = expert
    self.before = before
    self.after = after
  }

  /// `after − before`.
  public var delta: Int { after - before }
}

/// Whether a layer's peak went down, stayed or went up.
public enum PeakTrend: String, Sendable, Codable {
  case improved, unchanged, worsened

  /// Relative tolerance for `unchanged`: `|after − before| ≤ 1e-12 · max(|before|, |after|)`.
  public static let tolerance = 1e-12

  /// Classes a peak change with `tolerance` (two zero peaks are unchanged).
  public init(before: Double, after: Double) {
    if abs(after - before) <= Self.tolerance * max(abs(before), abs(after)) {
      self = .unchanged
    } else {
      self = after < before ? .improved : .worsened
    }
  }
}

/// Cost and benefit of replacing one layer's placement A ("before") with B ("after").
public struct LayerDiff: Sendable, Equatable {
  /// Series layer id.
  public var layer: Int
  /// Slots whose logical expert differs between A and B.
  public var slotsChanged: Int
  /// One move per changed slot, in slot order.
  public var moves: [ExpertMove]
  /// `moves` counted by source class.
  public var moveCounts: MoveCounts
  /// Σ_e max(0, logcnt_B[e] − logcnt_A[e]).
  public var replicasAdded: Int
  /// Σ_e max(0, logcnt_A[e] − logcnt_B[e]).
  public var replicasRemoved: Int
  /// Experts whose replica count changed, in expert order.
  public var replicaChanges: [ReplicaChange]
  /// A on the evaluation load (`gpuLoad [gpus]`, tokens).
  public var before: LayerEvaluation
  /// B on the same load.
  public var after: LayerEvaluation
  /// Peak with each expert placed once, packed by B's policy (`Planner.statistics`), for scale.
  public var noReplicationPeak: Double
  /// A lower bound on any placement's peak on this load (`Planner.statistics`).
  public var lowerBound: Double
  /// Bytes copied between GPUs: `moveCounts.transfers × expertBytes`; nil without `expertBytes`.
  public var bytes: Int?
  /// Bytes copied within a GPU: `moveCounts.sameGPU × expertBytes`; nil without `expertBytes`.
  public var localCopyBytes: Int?
  /// With `relabel`: the slots changed by B as stored, before relabelling; nil otherwise.
  public var rawSlotsChanged: Int? = nil
  /// With `relabel`: the moves of B as stored, before relabelling; nil otherwise.
  public var rawMoveCounts: MoveCounts? = nil

  /// `peak_before − peak_after`, tokens.
  public var peakReductionAbsolute: Double { before.peak - after.peak }
  /// `(peak_before − peak_after) / peak_before`; 0 when `peak_before` is 0. Negative when B is worse.
  public var peakReduction: Double { before.peak > 0 ? (before.peak - after.peak) / before.peak : 0 }
  /// The peak's direction, with `PeakTrend.tolerance`.
  public var trend: PeakTrend { PeakTrend(before: before.peak, after: after.peak) }
}

/// Model-level totals of a diff over its layers.
public struct DiffSummary: Sendable, Equatable {
  /// Mean of the layers' `peakReduction`; 0 without layers.
  public var peakReductionMean: Double
  /// Median of the layers' `peakReduction` (mean of the middle two for an even count); 0 without layers.
  public var peakReductionMedian: Double
  /// Largest `peakReduction`; 0 without layers.
  public var peakReductionMax: Double
  public var layersImproved: Int
  /// Layers whose peak changed by at most `PeakTrend.tolerance` relatively.
  public var layersUnchanged: Int
  public var layersWorsened: Int
  /// Σ mean / Σ peak_before over layers (1 when Σ peak is 0).
  public var balancednessWeightedBefore: Double
  /// Σ mean / Σ peak_after.
  public var balancednessWeightedAfter: Double
  /// Mean of the layers' balancedness before (1 without layers).
  public var balancednessMeanBefore: Double
  public var balancednessMeanAfter: Double
  /// Σ mean / Σ noReplicationPeak.
  public var noReplicationBalancednessWeighted: Double
  public var slotsChanged: Int
  public var moves: MoveCounts
  public var replicasAdded: Int
  public var replicasRemoved: Int
  /// Σ of the layers' `bytes`; nil without `expertBytes`.
  public var bytes: Int?
  /// Σ of the layers' `localCopyBytes`; nil without `expertBytes`.
  public var localCopyBytes: Int?
  /// Σ of the layers' `rawSlotsChanged`; nil unless every layer was relabelled.
  public var rawSlotsChanged: Int?
  /// Σ of the layers' `rawMoveCounts`; nil unless every layer was relabelled.
  public var rawMoves: MoveCounts?

  /// Moves whose source is on another node (or nowhere).
  public var crossNodeMoves: Int { moves.crossNode }

  /// Sums `layers`.
  public init(layers: [LayerDiff]) {
    let reductions = layers.map(\.peakReduction)
    let n = Double(layers.count)
    peakReductionMean = layers.isEmpty ? 0 : reductions.reduce(0, +) / n
    let sorted = reductions.sorted()
    if sorted.isEmpty {
      peakReductionMedian = 0
    } else if sorted.count % 2 == 1 {
      peakReductionMedian = sorted[sorted.count / 2]
    } else {
      peakReductionMedian = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    peakReductionMax = reductions.max() ?? 0
    layersImproved = layers.count { $0.trend == .improved }
    layersUnchanged = layers.count { $0.trend == .unchanged }
    layersWorsened = layers.count { $0.trend == .worsened }
    let sumMean = layers.reduce(0) { $0 + $1.after.mean }
    let sumPeakBefore = layers.reduce(0) { $0 + $1.before.peak }
    let sumPeakAfter = layers.reduce(0) { $0 + $1.after.peak }
    let sumNoRep = layers.reduce(0) { $0 + $1.noReplicationPeak }
    balancednessWeightedBefore = sumPeakBefore > 0 ? layers.reduce(0) { $0 + $1.before.mean } / sumPeakBefore : 1
    balancednessWeightedAfter = sumPeakAfter > 0 ? sumMean / sumPeakAfter : 1
    noReplicationBalancednessWeighted = sumNoRep > 0 ? sumMean / sumNoRep : 1
    balancednessMeanBefore = layers.isEmpty ? 1 : layers.reduce(0) { $0 + $1.before.balancedness } / n
    balancednessMeanAfter = layers.isEmpty ? 1 : layers.reduce(0) { $0 + $1.after.balancedness } / n
    slotsChanged = layers.reduce(0) { $0 + $1.slotsChanged }
    moves = layers.reduce(MoveCounts()) { $0 + $1.moveCounts }
    replicasAdded = layers.reduce(0) { $0 + $1.replicasAdded }
    replicasRemoved = layers.reduce(0) { $0 + $1.replicasRemoved }
    let hasBytes = layers.allSatisfy { $0.bytes != nil }
    bytes = hasBytes ? layers.reduce(0) { $0 + ($1.bytes ?? 0) } : nil
    localCopyBytes = hasBytes ? layers.reduce(0) { $0 + ($1.localCopyBytes ?? 0) } : nil
    let relabeled = !layers.isEmpty && layers.allSatisfy { $0.rawMoveCounts != nil }
    rawSlotsChanged = relabeled ? layers.reduce(0) { $0 + ($1.rawSlotsChanged ?? 0) } : nil
    rawMoves = relabeled ? layers.reduce(MoveCounts()) { $0 + ($1.rawMoveCounts ?? MoveCounts()) } : nil
  }
}

/// What replacing snapshot A ("before") with snapshot B ("after") buys and costs, layer by layer.
///
/// Both placements are evaluated on the same load (`Planner.evaluate`). Example:
///
///     let diff = try PlacementDiff(before: a, after: b, load: window, loadLayers: [0, 1, 2],
///                                  window: StepWindow(from: 0, to: 999))
///     print(diff.json().render(pretty: true))
public struct PlacementDiff: Sendable, Equatable {
  public var before: PlacementSide
  public var after: PlacementSide
  /// The steps the evaluation load covers.
  public var window: StepWindow
  /// Bytes of one expert's weights, when known.
  public var expertBytes: Int?
  /// Whether B was relabelled against A before counting moves (see `init`'s `relabel`).
  public var relabeled: Bool = false
  /// One entry per compared layer, in increasing layer order.
  public var layers: [LayerDiff]
  public var summary: DiffSummary

  /// Compares `before` with `after` on `load`.
  ///
  /// Per changed slot, the source is the best class among A's slots holding the new expert
  /// (`same_gpu`, then `same_node`, then `cross_node`), and within that class the lowest slot index.
  /// Complexity O(layers × (replicas + experts)) plus the planner's `statistics`.
  ///
  /// - parameter load: `[loadLayers.count][experts]`, the evaluation load (tokens over `window`).
  /// - parameter loadLayers: the series layer id of each row of `load`.
  /// - parameter layers: the layers to compare; nil compares every layer, which both sides must share.
  /// - parameter expertBytes: bytes of one expert's weights, to turn moves into bytes.
  /// - parameter relabel: first relabel each layer of B against A (`Relabel.minimizeMoves` with B's
  ///   resolved policy and `weights`): same per-GPU loads, GPUs, nodes and slots renumbered so that B
  ///   moves as few weights as possible, which is what an engine will transfer. `slotsChanged`,
  ///   `moves` and the move list then describe the relabelled B; the stored B's counts are kept in
  ///   `rawSlotsChanged` and `rawMoveCounts`. Peaks do not change; `after.gpuLoad` is in the relabelled
  ///   GPU order.
  /// - parameter weights: move prices for `relabel` (default `MoveCost.bandwidth`).
  /// - throws: `DiffError.differentTopology` when replicas, GPUs or nodes differ (groups may differ:
  ///   they do not change the slot layout); `.differentLayers` when, without `layers`, the sides plan
  ///   different layers, or a requested layer is in only one side; `.layerInNeither` when a requested
  ///   layer is in neither; `.missingLoad` when `loadLayers` lacks a compared layer; `.differentExperts`
  ///   and `.malformedPlacement` for inconsistent inputs.
  public init(
    before: PlacementSide, after: PlacementSide, load: LoadMatrix, loadLayers: [Int], window: StepWindow,
    layers requested: [Int]? = nil, expertBytes: Int? = nil, relabel: Bool = false, weights: MoveCost = .bandwidth
  ) throws(DiffError) {
    let topology = after.topology
    let ta = before.topology
    if ta.replicas != topology.replicas || ta.gpus != topology.gpus || ta.nodes != topology.nodes {
      throw .differentTopology(
        before: before.label, beforeTopology: ta, after: after.label, afterTopology: topology)
    }
    for side in [before, after] where side.layers.count != side.placements.count {
      throw .malformedPlacement(
        side: side.label, layer: nil,
        reason: "\(side.layers.count) layer ids for \(side.placements.count) placements")
    }

    // Step 1: the layers to compare, increasing.
    let setA = Set(before.layers), setB = Set(after.layers)
    let compared: [Int]
    if let requested {
      let wanted = Set(requested).sorted()
      if let neither = wanted.first(where: { !setA.contains($0) && !setB.contains($0) }) {
        throw .layerInNeither(layer: neither, before: before.label, after: after.label)
      }
      let onlyA = wanted.filter { !setB.contains($0) }, onlyB = wanted.filter { !setA.contains($0) }
      if !onlyA.isEmpty || !onlyB.isEmpty {
        throw .differentLayers(before: before.label, onlyBefore: onlyA, after: after.label, onlyAfter: onlyB)
      }
      compared = wanted
    } else {
      if setA != setB {
        throw .differentLayers(
          before: before.label, onlyBefore: setA.subtracting(setB).sorted(),
          after: after.label, onlyAfter: setB.subtracting(setA).sorted())
      }
      compared = setA.sorted()
    }
    var rowOf: [Int: Int] = [:]
    for (row, layer) in loadLayers.enumerated() where rowOf[layer] == nil { rowOf[layer] = row }
    let missing = compared.filter { rowOf[$0] == nil }
    if !missing.isEmpty { throw .missingLoad(layers: missing) }

    // Step 2: per layer cost and benefit.
    let policy = topology.resolve(after.policy)
    var diffs: [LayerDiff] = []
    diffs.reserveCapacity(compared.count)
    for layer in compared {
      guard let pa = before.placement(ofLayer: layer), let pb = after.placement(ofLayer: layer) else {
        preconditionFailure("layer \(layer) was checked to be in both sides")
      }
      if pa.logicalCount.count != load.experts || pb.logicalCount.count != load.experts {
        throw .differentExperts(
          layer: layer, before: pa.logicalCount.count, after: pb.logicalCount.count, load: load.experts)
      }
      try Self.check(pa, side: before.label, layer: layer, topology: topology)
      try Self.check(pb, side: after.label, layer: layer, topology: topology)
      let row = load.row(rowOf[layer]!)
      var target = pb
      var raw: LayerDiff? = nil
      if relabel {
        raw = Self.cost(layer: layer, before: pa, after: pb, topology: topology)
        do {
          target = try Relabel.minimizeMoves(pb, base: pa, topology: topology, policy: policy, weights: weights)
            .placement
        } catch {
          preconditionFailure("placements were checked against the topology: \(error)")
        }
      }
      var diff = Self.cost(layer: layer, before: pa, after: target, topology: topology)
      diff.rawSlotsChanged = raw?.slotsChanged
      diff.rawMoveCounts = raw?.moveCounts
      diff.before = Planner.evaluate(pa, load: row, topology: topology)
      diff.after = Planner.evaluate(target, load: row, topology: topology)
      let stats = Planner.statistics(of: pb, load: row, topology: topology, policy: policy, algorithm: after.algorithm)
      diff.noReplicationPeak = stats.noReplicationPeak
      diff.lowerBound = stats.lowerBound
      if let expertBytes {
        diff.bytes = diff.moveCounts.transfers * expertBytes
        diff.localCopyBytes = diff.moveCounts.sameGPU * expertBytes
      }
      diffs.append(diff)
    }
    self.before = before
    self.after = after
    self.window = window
    self.expertBytes = expertBytes
    self.relabeled = relabel
    self.layers = diffs
    self.summary = DiffSummary(layers: diffs)
  }

  /// The compared layer with the largest `peakReduction` (lowest layer id on ties), or nil without layers.
  public var layerWithLargestReduction: Int? {
    layers.max { a, b in
      a.peakReduction < b.peakReduction || (a.peakReduction == b.peakReduction && a.layer > b.layer)
    }?.layer
  }

  /// Throws when `placement` does not fit `topology` or its `logcnt` does not count its `phy2log`.
  static func check(_ placement: LayerPlacement, side: String, layer: Int, topology: Topology) throws(DiffError) {
    let phy2log = placement.physicalToLogical
    if phy2log.count != topology.replicas {
      throw .malformedPlacement(
        side: side, layer: layer, reason: "\(phy2log.count) slots for \(topology.replicas) replicas")
    }
    var counts = Array(repeating: 0, count: placement.logicalCount.count)
    for e in phy2log {
      guard counts.indices.contains(e) else {
        throw .malformedPlacement(
          side: side, layer: layer, reason: "expert \(e) is out of range 0 to \(counts.count - 1)")
      }
      counts[e] += 1
    }
    if counts != placement.logicalCount {
      throw .malformedPlacement(side: side, layer: layer, reason: "logcnt does not count phy2log")
    }
  }

  /// The cost part of a layer diff (evaluations left empty): changed slots, moves and replica changes.
  static func cost(layer: Int, before a: LayerPlacement, after b: LayerPlacement, topology: Topology) -> LayerDiff {
    // Slots of each expert in A, increasing: [experts][logcnt_A[e]].
    var slotsInA = Array(repeating: [Int](), count: a.logicalCount.count)
    for (slot, e) in a.physicalToLogical.enumerated() { slotsInA[e].append(slot) }

    var moves: [ExpertMove] = []
    var counts = MoveCounts()
    for slot in 0..<topology.replicas where a.physicalToLogical[slot] != b.physicalToLogical[slot] {
      let expert = b.physicalToLogical[slot]
      let gpu = topology.gpu(ofSlot: slot)
      let node = topology.node(ofGPU: gpu)
      let candidates = slotsInA[expert]
      // Best class first; `first(where:)` on increasing slots gives the lowest index within it.
      let source: MoveSource
      let sourceSlot: Int?
      if let s = candidates.first(where: { topology.gpu(ofSlot: $0) == gpu }) {
        (source, sourceSlot) = (.sameGPU, s)
      } else if let s = candidates.first(where: { topology.node(ofGPU: topology.gpu(ofSlot: $0)) == node }) {
        (source, sourceSlot) = (.sameNode, s)
      } else {
        (source, sourceSlot) = (.crossNode, candidates.first)
      }
      counts[source] += 1
      moves.append(
        ExpertMove(
          layer: layer, slot: slot, gpu: gpu, expert: expert, replacedExpert: a.physicalToLogical[slot],
          source: source, sourceSlot: sourceSlot, sourceGPU: sourceSlot.map(topology.gpu(ofSlot:))))
    }

    var added = 0, removed = 0
    var changes: [ReplicaChange] = []
    for e in a.logicalCount.indices where a.logicalCount[e] != b.logicalCount[e] {
      added += max(0, b.logicalCount[e] - a.logicalCount[e])
      removed += max(0, a.logicalCount[e] - b.logicalCount[e])
      changes.append(ReplicaChange(expert: e, before: a.logicalCount[e], after: b.logicalCount[e]))
    }
    let empty = LayerEvaluation(gpuLoad: [], peak: 0, mean: 0)
    return LayerDiff(
      layer: layer, slotsChanged: moves.count, moves: moves, moveCounts: counts, replicasAdded: added,
      replicasRemoved: removed, replicaChanges: changes, before: empty, after: empty, noReplicationPeak: 0,
      lowerBound: 0, bytes: nil, localCopyBytes: nil)
  }
}
