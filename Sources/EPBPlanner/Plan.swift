/// How one placement performs on one layer's load.
public struct LayerEvaluation: Sendable, Equatable, Codable {
  /// `[gpus]`: Σ over the GPU's slots of `load[e] / logcnt[e]`, in the load's units.
  public var gpuLoad: [Double]
  /// The largest entry of `gpuLoad`.
  public var peak: Double
  /// The mean of `gpuLoad` (total load / GPUs).
  public var mean: Double

  public init(gpuLoad: [Double], peak: Double, mean: Double) {
    self.gpuLoad = gpuLoad
    self.peak = peak
    self.mean = mean
  }

  /// `mean / peak`, in (0, 1]; 1 for an all-zero layer.
  public var balancedness: Double { peak > 0 ? mean / peak : 1 }
  /// `(peak − mean) / mean`; 0 for an all-zero layer.
  public var imbalance: Double { mean > 0 ? (peak - mean) / mean : 0 }
}

/// The statistics stored with each planned layer.
public struct LayerStatistics: Sendable, Equatable, Codable {
  /// The placement on the load it was planned for.
  public var evaluation: LayerEvaluation
  /// Peak GPU load with each expert placed once (no replication), packed by the same policy.
  public var noReplicationPeak: Double
  /// A lower bound on any placement's peak: max(total / GPUs, the optimal max load per replica).
  public var lowerBound: Double

  public init(evaluation: LayerEvaluation, noReplicationPeak: Double, lowerBound: Double) {
    self.evaluation = evaluation
    self.noReplicationPeak = noReplicationPeak
    self.lowerBound = lowerBound
  }

  /// `(peak − lowerBound) / lowerBound`; 0 when the bound is 0.
  public var gapToLowerBound: Double {
    lowerBound > 0 ? (evaluation.peak - lowerBound) / lowerBound : 0
  }
}

/// One planned layer of a `Plan`.
public struct PlannedLayer: Sendable, Equatable, Codable {
  /// The layer id in the series (0-based, as in the input).
  public var layer: Int
  public var placement: LayerPlacement
  public var statistics: LayerStatistics

  public init(layer: Int, placement: LayerPlacement, statistics: LayerStatistics) {
    self.layer = layer
    self.placement = placement
    self.statistics = statistics
  }
}

/// Model-level summary over the planned layers.
public struct PlanSummary: Sendable, Equatable, Codable {
  /// Mean of per-layer balancedness (SGLang's definition).
  public var balancednessMean: Double
  /// Σ mean / Σ peak over layers (vLLM's definition).
  public var balancednessWeighted: Double
  /// Σ mean / Σ noReplicationPeak: the weighted balancedness without replication.
  public var noReplicationBalancednessWeighted: Double
  /// Σ mean / Σ lowerBound: the best weighted balancedness any placement could reach.
  public var lowerBoundBalancednessWeighted: Double

  public init(layers: [PlannedLayer]) {
    var sumMean = 0.0, sumPeak = 0.0, sumNoRep = 0.0, sumLB = 0.0, sumBal = 0.0
    for l in layers {
      sumMean += l.statistics.evaluation.mean
      sumPeak += l.statistics.evaluation.peak
      sumNoRep += l.statistics.noReplicationPeak
      sumLB += l.statistics.lowerBound
      sumBal += l.statistics.evaluation.balancedness
    }
    balancednessMean = layers.isEmpty ? 1 : sumBal / Double(layers.count)
    balancednessWeighted = sumPeak > 0 ? sumMean / sumPeak : 1
    noReplicationBalancednessWeighted = sumNoRep > 0 ? sumMean / sumNoRep : 1
    lowerBoundBalancednessWeighted = sumLB > 0 ? sumMean / sumLB : 1
  }
}

/// A placement of several layers with the parameters that produced it.
public struct Plan: Sendable, Equatable, Codable {
  public var topology: Topology
  /// The resolved policy (never `.auto`).
  public var policy: PlacementPolicy
  public var algorithm: PlacementAlgorithm
  /// Planned layers in increasing layer order.
  public var layers: [PlannedLayer]
  /// Layers whose window load is all zero, which were not planned.
  public var skippedLayers: [Int]
  /// With `--distinct-per-gpu` (`Planner.enforceDistinctPerGPU`): the layers the post-pass
  /// changed, in layer order, with their peaks before and after (empty: none needed it); nil
  /// when the constraint was not asked for.
  public var distinctRepairs: [DistinctPerGPU.Repair]?

  public init(
    topology: Topology, policy: PlacementPolicy, algorithm: PlacementAlgorithm, layers: [PlannedLayer],
    skippedLayers: [Int], distinctRepairs: [DistinctPerGPU.Repair]? = nil
  ) {
    self.distinctRepairs = distinctRepairs
    self.topology = topology
    self.policy = policy
    self.algorithm = algorithm
    self.layers = layers
    self.skippedLayers = skippedLayers
  }

  public var summary: PlanSummary { PlanSummary(layers: layers) }
}
