/// The `snake` peer: EPLB's replica counts, replicas dealt in a snake over the GPUs.
///
/// Source: the ADRS ("Barbarians at the Gate") EPLB leaderboard's best entry, described as
/// "EPLB's replica counts, replicas dealt in a snake over the GPUs". Its code could not be found
/// in the public sources searched here (the ShinkaEvolve / OpenEvolve EPLB examples hold other
/// evolved programs), so this is that description, implemented as written:
///
/// 1. replica counts as eplb.py's `replicate_experts` (D'Hondt: each added replica to the
///    largest `load / count`, first index on ties, in `Float` like eplb.py);
/// 2. the replicas sorted by load per replica (`Float(load) / Float(count)`), heaviest first,
///    ties by lower expert index (copies of one expert stay together);
/// 3. dealt in a snake (`Peers.dealSnake`): round `r` goes over the GPUs forwards when `r` is
///    even, backwards when odd, one replica per GPU per round.
///
/// No hierarchical mode of its own: under the hierarchical policy it runs per node after EPLB's
/// group packing (see `Peers`). Like eplb.py it may put two copies of one expert on a GPU.
/// Complexity O(replicas · log replicas) per node.
enum Snake {
  /// One node: `load` `[n]` (tokens), `slots` a multiple of `gpus`, at least `n`.
  /// - returns: local `phy2log` `[slots]` (indices into `load`), slot `s` on GPU `s / (slots / gpus)`.
  static func placeNode(_ load: [Double], slots: Int, gpus: Int) -> [Int] {
    let weight = load.map { Float($0) }
    let counts = EPLB.replicateExperts(weight, replicas: slots, algorithm: .deepseek).logicalCount
    var replicas: [(expert: Int, value: Float)] = []
    replicas.reserveCapacity(slots)
    for (e, c) in counts.enumerated() {
      let v = weight[e] / Float(c)
      for _ in 0..<c { replicas.append((e, v)) }
    }
    replicas.sort { $0.value > $1.value || ($0.value == $1.value && $0.expert < $1.expert) }
    return Peers.dealSnake(replicas.map(\.expert), gpus: gpus)
  }
}
