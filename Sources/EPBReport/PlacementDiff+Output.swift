import EPBEngines
import EPBPlanner

extension ExpertMove {
  /// `{"layer", "slot", "gpu", "expert", "replaced_expert", "source", "source_slot", "source_gpu"}`;
  /// the source slot and GPU are `null` when the "before" placement had no replica of the expert.
  public var json: JSONValue {
    .object([
      ("layer", .int(layer)), ("slot", .int(slot)), ("gpu", .int(gpu)), ("expert", .int(expert)),
      ("replaced_expert", .int(replacedExpert)), ("source", .string(source.rawValue)),
      ("source_slot", sourceSlot.map(JSONValue.int) ?? .null), ("source_gpu", sourceGPU.map(JSONValue.int) ?? .null),
    ])
  }
}

extension LayerDiff {
  /// The contract's per-layer keys, then extras: `peak_reduction_abs`, `mean`, `no_replication_peak`,
  /// `lower_bound`, `trend`, `bytes`, `local_copy_bytes` (null without expert bytes), `replica_changes`
  /// (`[{"expert", "before", "after"}]`), `gpu_load_before`, `gpu_load_after` (`[gpus]`, tokens).
  public var json: JSONValue {
    .object(
      [
        ("layer", .int(layer)),
        ("slots_changed", .int(slotsChanged)),
        ("moves", moveCounts.json),
        ("replicas_added", .int(replicasAdded)),
        ("replicas_removed", .int(replicasRemoved)),
        ("peak_before", .number(before.peak)),
        ("peak_after", .number(after.peak)),
        ("peak_reduction", .number(peakReduction)),
        ("balancedness_before", .number(before.balancedness)),
        ("balancedness_after", .number(after.balancedness)),
        ("peak_reduction_abs", .number(peakReductionAbsolute)),
        ("mean", .number(after.mean)),
        ("no_replication_peak", .number(noReplicationPeak)),
        ("lower_bound", .number(lowerBound)),
        ("trend", .string(trend.rawValue)),
        ("bytes", bytes.map(JSONValue.int) ?? .null),
        ("local_copy_bytes", localCopyBytes.map(JSONValue.int) ?? .null),
        (
          "replica_changes",
          .array(
            replicaChanges.map {
              .object([("expert", .int($0.expert)), ("before", .int($0.before)), ("after", .int($0.after))])
            })
        ),
        ("gpu_load_before", .numbers(before.gpuLoad)),
        ("gpu_load_after", .numbers(after.gpuLoad)),
      ] + relabelMembers)
  }

  /// With `relabel`: `raw_slots_changed` and `raw_moves` (B as stored); nothing otherwise.
  var relabelMembers: [(String, JSONValue)] {
    guard let raw = rawMoveCounts, let slots = rawSlotsChanged else { return [] }
    return [("raw_slots_changed", .int(slots)), ("raw_moves", raw.json)]
  }
}

extension DiffSummary {
  /// The contract's summary keys, then extras.
  public var json: JSONValue {
    .object(
      [
        ("peak_reduction_mean", .number(peakReductionMean)),
        ("peak_reduction_max", .number(peakReductionMax)),
        ("layers_improved", .int(layersImproved)),
        ("layers_worsened", .int(layersWorsened)),
        ("slots_changed", .int(slotsChanged)),
        ("cross_node_moves", .int(crossNodeMoves)),
        ("peak_reduction_median", .number(peakReductionMedian)),
        ("layers_unchanged", .int(layersUnchanged)),
        ("unchanged_tolerance", .number(PeakTrend.tolerance)),
        ("moves", moves.json),
        ("replicas_added", .int(replicasAdded)),
        ("replicas_removed", .int(replicasRemoved)),
        ("balancedness_weighted_before", .number(balancednessWeightedBefore)),
        ("balancedness_weighted_after", .number(balancednessWeightedAfter)),
        ("balancedness_mean_before", .number(balancednessMeanBefore)),
        ("balancedness_mean_after", .number(balancednessMeanAfter)),
        ("no_replication_balancedness_weighted", .number(noReplicationBalancednessWeighted)),
        ("bytes", bytes.map(JSONValue.int) ?? .null),
        ("local_copy_bytes", localCopyBytes.map(JSONValue.int) ?? .null),
      ] + relabelMembers)
  }

  /// With `relabel`: `raw_slots_changed`, `raw_moves` and `moves_saved` (raw − relabelled changed slots).
  var relabelMembers: [(String, JSONValue)] {
    guard let raw = rawMoves, let slots = rawSlotsChanged else { return [] }
    return [("raw_slots_changed", .int(slots)), ("raw_moves", raw.json), ("moves_saved", .int(slots - slotsChanged))]
  }
}

extension PlacementDiff {
  /// The `diff --json` document: `{"from": A, "to": B, "window": {"from", "to"}, "layers": [...],
  /// "summary": {...}}` with the contract's keys first, then `expert_bytes`, `topology`
  /// (`{"replicas", "gpus", "nodes", "groups"}`, B's), `"relabeled": true` when B was relabelled
  /// against A (then layers and summary also carry `raw_slots_changed` and `raw_moves`, the summary
  /// `moves_saved`) and, when `includeMoves`, `moves`: every move
  /// (see `ExpertMove.json`) in layer then slot order.
  public func json(includeMoves: Bool = false) -> JSONValue {
    let t = after.topology
    var members: [(String, JSONValue)] = [
      ("from", .int(Int(before.id))),
      ("to", .int(Int(after.id))),
      ("window", window.json),
      ("layers", .array(layers.map(\.json))),
      ("summary", summary.json),
      ("expert_bytes", expertBytes.map(JSONValue.int) ?? .null),
      (
        "topology",
        .object([
          ("replicas", .int(t.replicas)), ("gpus", .int(t.gpus)), ("nodes", .int(t.nodes)), ("groups", .int(t.groups)),
        ])
      ),
    ]
    if relabeled { members.append(("relabeled", .bool(true))) }
    if includeMoves { members.append(("moves", .array(layers.flatMap { $0.moves.map(\.json) }))) }
    return .object(members)
  }

  /// A table for people: one line per layer, then the model summary.
  ///
  /// Columns: layer, slots (changed), same_gpu, same_node, cross_node, +rep, -rep, peak before,
  /// peak after, reduction, bal before, bal after (balancedness).
  public func table() -> String {
    var out = "\(before.label) -> \(after.label), window \(window.from) to \(window.to)\n\n"
    let header = [
      "layer", "slots", "same_gpu", "same_node", "cross_node", "+rep", "-rep", "peak before", "peak after",
      "reduction", "bal before", "bal after",
    ]
    let rows = layers.map { d in
      [
        String(d.layer), String(d.slotsChanged), String(d.moveCounts.sameGPU), String(d.moveCounts.sameNode),
        String(d.moveCounts.crossNode), String(d.replicasAdded), String(d.replicasRemoved),
        TextFormat.load(d.before.peak), TextFormat.load(d.after.peak), TextFormat.percent(d.peakReduction),
        TextFormat.fixed(d.before.balancedness, 4), TextFormat.fixed(d.after.balancedness, 4),
      ]
    }
    out += TextFormat.table(header: header, rows: rows)
    out += "\n"
    out += TextFormat.keyValues(summaryLines())
    return out
  }

  /// The model summary as `(label, value)` pairs, shared by the table and the HTML page.
  func summaryLines() -> [(String, String)] {
    let s = summary
    var pairs: [(String, String)] = [
      ("layers compared", String(layers.count)),
      (
        "peak reduction",
        "mean \(TextFormat.percent(s.peakReductionMean, 2)), median \(TextFormat.percent(s.peakReductionMedian, 2)), "
          + "max \(TextFormat.percent(s.peakReductionMax, 2))"
      ),
      (
        "peak trend",
        "\(s.layersImproved) improved, \(s.layersUnchanged) unchanged, \(s.layersWorsened) worsened "
          + "(unchanged: relative peak change <= 1e-12)"
      ),
      (
        "weighted balancedness",
        "\(TextFormat.fixed(s.balancednessWeightedBefore, 4)) -> \(TextFormat.fixed(s.balancednessWeightedAfter, 4)) "
          + "(no replication \(TextFormat.fixed(s.noReplicationBalancednessWeighted, 4)))"
      ),
      (
        "mean balancedness",
        "\(TextFormat.fixed(s.balancednessMeanBefore, 4)) -> \(TextFormat.fixed(s.balancednessMeanAfter, 4))"
      ),
      ("slots changed", String(s.slotsChanged)),
      (
        "moves",
        "\(s.moves.sameGPU) same GPU, \(s.moves.sameNode) same node, \(s.moves.crossNode) cross node"
      ),
      ("replicas", "+\(s.replicasAdded) / -\(s.replicasRemoved)"),
    ]
    if let raw = s.rawMoves, let rawSlots = s.rawSlotsChanged {
      pairs.append(
        (
          "before relabelling",
          "\(rawSlots) slots: \(raw.sameGPU) same GPU, \(raw.sameNode) same node, \(raw.crossNode) cross node "
            + "(relabelling saves \(rawSlots - s.slotsChanged))"
        ))
    }
    if let bytes = s.bytes, let local = s.localCopyBytes {
      pairs.append(("transfer", "\(TextFormat.bytes(bytes)) between GPUs, \(TextFormat.bytes(local)) local copies"))
    }
    return pairs
  }

  /// Every move, one per line, in layer then slot order:
  ///
  ///     layer  slot  gpu  expert  replaces  source      from slot  from gpu
  ///         3    17    2      41        12  same_node          9         1
  ///
  /// `-` marks a source absent from the "before" placement.
  public func movesTable() -> String {
    let header = ["layer", "slot", "gpu", "expert", "replaces", "source", "from slot", "from gpu"]
    let rows = layers.flatMap { d in
      d.moves.map { m in
        [
          String(m.layer), String(m.slot), String(m.gpu), String(m.expert), String(m.replacedExpert),
          m.source.rawValue, m.sourceSlot.map(String.init) ?? "-", m.sourceGPU.map(String.init) ?? "-",
        ]
      }
    }
    return TextFormat.table(header: header, rows: rows)
  }
}
