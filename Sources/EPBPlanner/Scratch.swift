/// Preallocated buffers for planning layers of one shape, reused from layer to layer, typed by
/// the phase that uses them.
///
/// One `Scratch` serves any layer with at most `experts` logical experts, `replicas` slots and
/// `gpus` GPUs; `Planner.plan` allocates one per call, so planning a layer allocates nothing
/// but its output arrays. `T` is the arithmetic of the decisions (`Float` like eplb.py, or
/// `Double` for the float64 `replicate_experts` cases). Not thread-safe: one per thread.
///
/// Lifetimes: `layer` carries a layer's state from one phase to the next (each buffer says who
/// writes it and who reads it). Every other part is the working memory of one phase's
/// functions, which take that part alone: undefined when they start, free when they return.
/// A phase that runs another's function passes it that function's part (the group packing
/// and the statistics pack with `packing`).
final class Scratch<T: PlannerFloat> {
  let experts: Int
  let replicas: Int
  let gpus: Int

  /// The layer in the hierarchical order: mlog ("node-major logical") index → logical expert,
  /// and the per-node state of EPLB's steps 2 and 3. `[experts]` unless said otherwise.
  struct Layer {
    /// The layer's loads as `T`, written by the caller (`Planner`, `Peers`).
    let weight: UnsafeMutablePointer<T>
    /// mlog index → logical expert, written by `EPLB.packGroups` (a permutation).
    let mlog2log: UnsafeMutablePointer<Int>
    /// `weight` in mlog order, written by the placements before their nodes.
    let tokensPerMlog: UnsafeMutablePointer<T>
    /// Replicas per mlog expert, written by each node's replication.
    let mlogcnt: UnsafeMutablePointer<Int>
    /// Each node's experts as sorted keys (`FastOrder.key`), node-major, written by
    /// `EPLB.placeHierarchicalFast` (valid when `Scratch.nodesSorted`), read by the
    /// no-replication statistics of the same load.
    let nodeKeys: UnsafeMutablePointer<UInt64>
    /// The node sort's input keys, `EPLB.FastNode.sort`'s alone.
    let unsortedKeys: UnsafeMutablePointer<UInt64>
    /// Each node's replica columns as its replication writes them (node-local expert, rank),
    /// `[replicas]`, read by its packing.
    let phy2mlog: UnsafeMutablePointer<Int>
    let phyrank: UnsafeMutablePointer<Int>
  }

  /// EPLB's step 1 (`EPLB.packGroups`): the groups' loads and their packing onto the nodes,
  /// `[experts]` (groups never outnumber experts).
  struct Grouping {
    let groupTokens: UnsafeMutablePointer<T>
    let groupPack: UnsafeMutablePointer<Int>
    let groupRank: UnsafeMutablePointer<Int>
  }

  /// EPLB's step 2 and the seed's replication (`EPLB.replicate`, `greedyReplicate`,
  /// `seedReplicate`, `greedyCounts`, `seedCounts`), each `[experts]` of one row.
  struct Replication {
    /// `weight / count`, and the seed's Sainte-Laguë and Huntington–Hill values.
    let average: UnsafeMutablePointer<T>
    let sainteLague: UnsafeMutablePointer<T>
    let huntingtonHill: UnsafeMutablePointer<T>
    /// `greedyReplicate`'s heap of experts.
    let heap: UnsafeMutablePointer<Int>
    /// `greedyCounts`' heap of keys, `[experts + 1]` (one sentinel).
    let heapKeys: UnsafeMutablePointer<UInt64>
    /// `seedCounts`' multi-replica experts.
    let multi: UnsafeMutablePointer<Int>
    /// `TorchTopK.top2`'s queue in the seed's fix-up.
    let entries: UnsafeMutablePointer<KeyedIndex>
  }

  /// EPLB's step 3 (`EPLB.packBalanced`, `PackTree`, the fast path's packing order), sized for
  /// `n = max(replicas, experts)` items onto `max(gpus, experts)` packs.
  struct Packing {
    /// Load per replica, `[n]`.
    let tokensPerPhy: UnsafeMutablePointer<T>
    /// Pack and rank of each item, and the inverse (slot → item), `[n]`.
    let packIndex: UnsafeMutablePointer<Int>
    let rankInPack: UnsafeMutablePointer<Int>
    let pphy2phy: UnsafeMutablePointer<Int>
    /// The processing order of one packing, `[n]`, and its exact sort's pairs, `[n]`.
    let order: UnsafeMutablePointer<Int>
    let entries: UnsafeMutablePointer<KeyedIndex>
    /// Sort keys, `[3n + 35]`: a sort's two ping-pong halves; the fast path's packing order;
    /// in a tied node, its replicas' keys and 32 more for `Libstdcxx.sortByHighHalf`.
    let sortKeys: UnsafeMutablePointer<UInt64>
    /// `Libstdcxx.sortByHighHalf`'s scratch, `[2n + 2]`.
    let sortStops: UnsafeMutablePointer<Int>
    /// `PackTree`: items per pack `[packs]`, and its min-tree `[2L]`, `L` the pack count
    /// rounded up to a power of two.
    let packItems: UnsafeMutablePointer<Int>
    let packTree: UnsafeMutablePointer<T.PackKey>
  }

  /// `Planner.noReplicationPeak` and `Planner.maxLoadPerReplicaLowerBound`, `[experts]` unless
  /// said otherwise.
  struct Statistics {
    /// GPU loads of the no-replication placement, `[max(gpus, experts)]`.
    let gpuLoad: UnsafeMutablePointer<Double>
    /// A node's loads, tie classes, packing and slots for `EPLB.packBalanced`.
    let tokens: UnsafeMutablePointer<T>
    let tieClass: UnsafeMutablePointer<Int>
    let packIndex: UnsafeMutablePointer<Int>
    let rankInPack: UnsafeMutablePointer<Int>
    let slots: UnsafeMutablePointer<Int>
    /// A node's sort keys and their sorted copy, `[2 · experts]`.
    let keys: UnsafeMutablePointer<UInt64>
    /// The lower bound's heap, values and counts.
    let heap: UnsafeMutablePointer<Int>
    let value: UnsafeMutablePointer<Double>
    let count: UnsafeMutablePointer<Int>
  }

  let layer: Layer
  let grouping: Grouping
  let replication: Replication
  let packing: Packing
  let statistics: Statistics
  /// Whether `layer.nodeKeys` holds the sorted nodes of the layer placed last.
  var nodesSorted = false

  private let block: UnsafeMutableRawPointer

  init(experts: Int, replicas: Int, gpus: Int) {
    self.experts = experts
    self.replicas = replicas
    self.gpus = gpus
    // One allocation for every buffer (`EPLB.replicateExperts`, which `snake` calls per node,
    // makes a `Scratch` each time): the layout is carved once to measure it, then into the block.
    var measure = Carver(block: nil)
    _ = Self.carve(&measure, experts: experts, replicas: replicas, gpus: gpus)
    block = UnsafeMutableRawPointer.allocate(byteCount: max(measure.size, 16), alignment: 16)
    var carver = Carver(block: block)
    (layer, grouping, replication, packing, statistics) = Self.carve(
      &carver, experts: experts, replicas: replicas, gpus: gpus)
  }

  deinit {
    block.deallocate()
  }

  /// Whether a layer of this shape fits the buffers.
  func fits(experts e: Int, replicas r: Int, gpus g: Int) -> Bool {
    e <= experts && r <= max(replicas, experts) && g <= max(gpus, experts)
  }

  /// The buffers of every part, in one layout: `[e]` per expert, `[n]` per item of a packing
  /// (`max(replicas, experts)`), `[p]` per pack (`max(gpus, experts)`).
  private static func carve(_ c: inout Carver, experts: Int, replicas: Int, gpus: Int)
    -> (Layer, Grouping, Replication, Packing, Statistics)
  {
    let e = max(experts, 1)
    let n = max(replicas, experts, 1)
    let p = max(gpus, experts, 1)
    let leaves = 1 << (Int.bitWidth - (p - 1).leadingZeroBitCount)
    let layer = Layer(
      weight: c.take(e), mlog2log: c.take(e), tokensPerMlog: c.take(e), mlogcnt: c.take(e), nodeKeys: c.take(e),
      unsortedKeys: c.take(e), phy2mlog: c.take(n), phyrank: c.take(n))
    let grouping = Grouping(groupTokens: c.take(e), groupPack: c.take(e), groupRank: c.take(e))
    let replication = Replication(
      average: c.take(e), sainteLague: c.take(e), huntingtonHill: c.take(e), heap: c.take(e),
      heapKeys: c.take(e + 1), multi: c.take(e), entries: c.take(e))
    let packing = Packing(
      tokensPerPhy: c.take(n), packIndex: c.take(n), rankInPack: c.take(n), pphy2phy: c.take(n), order: c.take(n),
      entries: c.take(n), sortKeys: c.take(3 * n + 35), sortStops: c.take(2 * n + 2), packItems: c.take(p),
      packTree: c.take(2 * leaves))
    let statistics = Statistics(
      gpuLoad: c.take(p), tokens: c.take(e), tieClass: c.take(e), packIndex: c.take(e), rankInPack: c.take(e),
      slots: c.take(e), keys: c.take(2 * e), heap: c.take(e), value: c.take(e), count: c.take(e))
    return (layer, grouping, replication, packing, statistics)
  }

  /// Hands out consecutive buffers of a block, each aligned to 16 bytes; without a block it
  /// only adds up their sizes (its pointers are placeholders, never read or written).
  private struct Carver {
    let block: UnsafeMutableRawPointer?
    private(set) var size = 0

    init(block: UnsafeMutableRawPointer?) { self.block = block }

    mutating func take<E>(_ count: Int) -> UnsafeMutablePointer<E> {
      let offset = size
      size += (count * MemoryLayout<E>.stride + 15) & ~15
      guard let block else { return UnsafeMutablePointer(bitPattern: 16)! }
      return (block + offset).bindMemory(to: E.self, capacity: count)
    }
  }
}

/// One `(value, index)` pair as torch's CPU sort and topk kernels order them (values widened
/// to `Double`, which orders `Float` values the same).
package struct KeyedIndex {
  package var value: Double
  package var index: Int

  package init(value: Double, index: Int) {
    self.value = value
    self.index = index
  }
}
