import EPBPlanner

/// Why two snapshots cannot be compared. `message` names both snapshots and what differs.
public enum DiffError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The physical layouts differ (replicas, GPUs or nodes); moves and peaks would not be comparable.
  case differentTopology(before: String, beforeTopology: Topology, after: String, afterTopology: Topology)
  /// Without a layer filter, both snapshots must plan the same layers; lists the layers only in one.
  case differentLayers(before: String, onlyBefore: [Int], after: String, onlyAfter: [Int])
  /// A layer asked for with `--layer` is planned by neither snapshot.
  case layerInNeither(layer: Int, before: String, after: String)
  /// The evaluation load has no row for these layers.
  case missingLoad(layers: [Int])
  /// The snapshots or the load disagree on the number of logical experts of a layer.
  case differentExperts(layer: Int, before: Int, after: Int, load: Int)
  /// A stored placement is inconsistent (wrong slot count, expert id out of range, `logcnt` not
  /// matching `phy2log`, or placements not aligned with layers).
  case malformedPlacement(side: String, layer: Int?, reason: String)

  /// One sentence for people, e.g.
  /// `snapshot 3 has 288 replicas on 32 GPUs, snapshot 5 has 320 on 64; diff needs the same topology`.
  public var message: String {
    switch self {
    case .differentTopology(let a, let ta, let b, let tb):
      let nodes = ta.nodes == tb.nodes ? "" : " (\(ta.nodes) vs \(plural(tb.nodes, "node")))"
      return
        "\(a) has \(plural(ta.replicas, "replica")) on \(plural(ta.gpus, "GPU")), \(b) has \(tb.replicas) on \(tb.gpus)\(nodes); "
        + "diff needs the same topology"
    case .differentLayers(let a, let onlyA, let b, let onlyB):
      var parts: [String] = []
      if !onlyA.isEmpty { parts.append("\(Self.layerList(onlyA)) only in \(a)") }
      if !onlyB.isEmpty { parts.append("\(Self.layerList(onlyB)) only in \(b)") }
      return parts.joined(separator: ", ") + "; pick common layers with --layer N"
    case .layerInNeither(let layer, let a, let b):
      return "layer \(layer) is planned in neither \(a) nor \(b)"
    case .missingLoad(let layers):
      return "the evaluation window has no load for \(Self.layerList(layers)); choose another --window or --from/--to"
    case .differentExperts(let layer, let a, let b, let load):
      return "layer \(layer) has \(a) logical experts before, \(b) after and \(load) in the load; "
        + "diff needs the same experts"
    case .malformedPlacement(let side, let layer, let reason):
      let whereText = layer.map { "\(side) layer \($0)" } ?? side
      return "\(whereText) has a malformed placement: \(reason)"
    }
  }

  public var description: String { message }

  /// `layer 4` or `layers 1, 2, 7`.
  static func layerList(_ layers: [Int]) -> String {
    layers.count == 1 ? "layer \(layers[0])" : "layers " + layers.map(String.init).joined(separator: ", ")
  }
}
