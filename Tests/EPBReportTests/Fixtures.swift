import EPBEngines
import EPBPlanner

@testable import EPBReport

/// Small hand-checked inputs shared by the report tests.
enum Fixtures {
  /// 8 slots on 4 GPUs in 2 nodes: GPU g holds slots 2g, 2g+1; GPUs 0-1 are node 0, GPUs 2-3 node 1.
  static let topology = Topology(replicas: 8, gpus: 4, nodes: 2, groups: 2)

  /// A, `phy2log [8]`: GPU0 {0,1}, GPU1 {2,3}, GPU2 {4,0}, GPU3 {1,2}; logcnt [2,2,2,1,1].
  static let phy2logA = [0, 1, 2, 3, 4, 0, 1, 2]
  /// B, `phy2log [8]`: GPU0 {0,0}, GPU1 {3,1}, GPU2 {4,4}, GPU3 {3,2}; logcnt [2,1,1,2,2].
  static let phy2logB = [0, 0, 3, 1, 4, 4, 3, 2]
  /// Load of layer 7 per expert, tokens: 30 in total, mean 7.5 per GPU.
  static let load7: [Double] = [8, 4, 6, 2, 10]
  /// Load of layer 3 (only there to check that rows are looked up by layer id).
  static let load3: [Double] = [1, 1, 1, 1, 100]

  static func side(
    id: Int64, layers: [Int], placements: [[Int]], topology: Topology = topology, experts: Int = 5,
    label: String? = nil
  ) -> PlacementSide {
    PlacementSide(
      id: id, label: label, topology: topology, policy: .global, algorithm: .deepseek, layers: layers,
      placements: placements.map { LayerPlacement(physicalToLogical: $0, experts: experts) })
  }

  /// The load matrix with rows for layers 3 and 7, in that order.
  static let load = LoadMatrix(layers: 2, experts: 5, values: load3 + load7)
  static let loadLayers = [3, 7]
  static let window = StepWindow(from: 100, to: 199)

  /// The layer-7 diff of A (snapshot 3) → B (snapshot 5), 1000 bytes per expert by default.
  static func diff(expertBytes: Int? = 1000) throws -> PlacementDiff {
    try PlacementDiff(
      before: side(id: 3, layers: [7], placements: [phy2logA]),
      after: side(id: 5, layers: [7], placements: [phy2logB]),
      load: load, loadLayers: loadLayers, window: window, expertBytes: expertBytes)
  }

  /// Independent evaluation: Σ over GPU g's slots of load[e] / (replicas of e), straight from phy2log.
  static func gpuLoads(_ phy2log: [Int], _ load: [Double], gpus: Int) -> [Double] {
    let per = phy2log.count / gpus
    var out = Array(repeating: 0.0, count: gpus)
    for (slot, e) in phy2log.enumerated() {
      let copies = phy2log.filter { $0 == e }.count
      out[slot / per] += load[e] / Double(copies)
    }
    return out
  }

  /// A layer diff with only peaks and means set, for summary tests.
  static func layerDiff(layer: Int, peakBefore: Double, peakAfter: Double, mean: Double, slots: Int = 0)
    -> LayerDiff
  {
    LayerDiff(
      layer: layer, slotsChanged: slots, moves: [], moveCounts: MoveCounts(crossNode: slots), replicasAdded: 0,
      replicasRemoved: 0, replicaChanges: [],
      before: LayerEvaluation(gpuLoad: [peakBefore], peak: peakBefore, mean: mean),
      after: LayerEvaluation(gpuLoad: [peakAfter], peak: peakAfter, mean: mean), noReplicationPeak: peakBefore,
      lowerBound: mean, bytes: nil, localCopyBytes: nil)
  }

  /// The keys of a JSON object, in order (empty for other values).
  static func keys(_ value: JSONValue?) -> [String] {
    if case .object(let members) = value { return members.map(\.0) }
    return []
  }

  /// `value[key]` of a JSON object.
  static func member(_ value: JSONValue?, _ key: String) -> JSONValue? {
    if case .object(let members) = value { return members.first { $0.0 == key }?.1 }
    return nil
  }

  /// The elements of a JSON array.
  static func items(_ value: JSONValue?) -> [JSONValue] {
    if case .array(let xs) = value { return xs }
    return []
  }

  /// A JSON number as a Double.
  static func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }
}
