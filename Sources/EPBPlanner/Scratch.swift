/// Preallocated raw buffers for planning layers of one shape, reused from layer to layer.
///
/// One `Scratch` serves any layer with at most `experts` logical experts, `replicas` slots and
/// `gpus` GPUs; `Planner.plan` allocates one per call, so planning a layer allocates nothing
/// but its output arrays. All buffers are carved out of a single allocation (one `malloc` per
/// `Scratch`, which matters for `Planner.placeLayer`, which makes one per layer). `T` is the
/// arithmetic of the decisions (`Float` like eplb.py, or `Double` for the float64
/// `replicate_experts` cases). Not thread-safe: one per thread.
final class Scratch<T: PlannerFloat> {
  let experts: Int
  let replicas: Int
  let gpus: Int

  // Per-expert buffers, `[experts]`.
  let weight: UnsafeMutablePointer<T>
  let tokensPerMlog: UnsafeMutablePointer<T>
  let average: UnsafeMutablePointer<T>
  let sainteLague: UnsafeMutablePointer<T>
  let huntingtonHill: UnsafeMutablePointer<T>
  let mlog2log: UnsafeMutablePointer<Int>
  let mlogcnt: UnsafeMutablePointer<Int>
  let heap: UnsafeMutablePointer<Int>
  /// Each node's experts as sorted keys (`FastOrder.key`), `[experts]`, node-major; valid
  /// when `nodesSorted` (set by `EPLB.placeHierarchicalFast` for the layer it placed last).
  /// One more key after them: the fast path's sentinel behind the last node.
  let nodeKeys: UnsafeMutablePointer<UInt64>
  var nodesSorted = false
  // Per-slot buffers, `[max(replicas, experts)]`.
  let tokensPerPhy: UnsafeMutablePointer<T>
  let phy2mlog: UnsafeMutablePointer<Int>
  let phyrank: UnsafeMutablePointer<Int>
  let packIndex: UnsafeMutablePointer<Int>
  let rankInPack: UnsafeMutablePointer<Int>
  let pphy2phy: UnsafeMutablePointer<Int>
  let entries: UnsafeMutablePointer<KeyedIndex>
  /// The processing order of one packing, `[max(replicas, experts)]`.
  let order: UnsafeMutablePointer<Int>
  /// Sort keys, `[3 · max(replicas, experts) + 35]` (a sort's two ping-pong halves; the
  /// packing order of `EPLB.placeHierarchicalFast`; in a tied node, its replicas' keys and
  /// 32 more for `Libstdcxx.sortByHighHalf`).
  let workKeys: UnsafeMutablePointer<UInt64>
  /// `Libstdcxx.sortByHighHalf`'s scratch, `[2 · max(replicas, experts) + 2]`.
  let sortStops: UnsafeMutablePointer<Int>
  // Per-GPU (pack) buffers, `[max(gpus, experts)]` (groups are packed with them too).
  let packItems: UnsafeMutablePointer<Int>
  let groupTokens: UnsafeMutablePointer<T>
  let groupPack: UnsafeMutablePointer<Int>
  let groupRank: UnsafeMutablePointer<Int>
  /// `PackTree`'s min-tree over the packs, `[2L]`, where `L` is `max(gpus, experts)` rounded
  /// up to a power of two.
  let packTree: UnsafeMutablePointer<T.PackKey>
  // Statistics buffers: `slots [max(replicas, experts)]`, `counts [experts]`,
  // `doubles [max(gpus, experts)]`.
  let slots: UnsafeMutablePointer<Int>
  let counts: UnsafeMutablePointer<Int>
  let doubles: UnsafeMutablePointer<Double>

  private let base: UnsafeMutableRawPointer

  init(experts: Int, replicas: Int, gpus: Int) {
    self.experts = experts
    self.replicas = replicas
    self.gpus = gpus
    let e = max(experts, 1)
    let r = max(replicas, experts, 1)
    let p = max(gpus, experts, 1)
    // Byte offsets of every buffer in one block, each aligned to 16 bytes.
    var size = 0
    func carve<E>(_: E.Type, _ count: Int) -> Int {
      let offset = size
      size += (count * MemoryLayout<E>.stride + 15) & ~15
      return offset
    }
    let oWeight = carve(T.self, e), oTokensPerMlog = carve(T.self, e), oAverage = carve(T.self, e)
    let oSainteLague = carve(T.self, e), oHuntingtonHill = carve(T.self, e)
    let oMlog2log = carve(Int.self, e), oMlogcnt = carve(Int.self, e)
    let oHeap = carve(Int.self, e), oNodeKeys = carve(UInt64.self, e + 1)
    let oTokensPerPhy = carve(T.self, r), oPhy2mlog = carve(Int.self, r), oPhyrank = carve(Int.self, r)
    let oPackIndex = carve(Int.self, r), oRankInPack = carve(Int.self, r), oPphy2phy = carve(Int.self, r)
    let oEntries = carve(KeyedIndex.self, r), oOrder = carve(Int.self, r)
    let oRadixKeys = carve(UInt64.self, 3 * r + 35), oSortStops = carve(Int.self, 2 * r + 2)
    let oPackItems = carve(Int.self, p), oGroupTokens = carve(T.self, p)
    let oGroupPack = carve(Int.self, p), oGroupRank = carve(Int.self, p)
    let leaves = 1 << (Int.bitWidth - (p - 1).leadingZeroBitCount)
    let oPackTree = carve(T.PackKey.self, 2 * leaves)
    let oSlots = carve(Int.self, r), oCounts = carve(Int.self, e), oDoubles = carve(Double.self, p)
    let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
    base = block
    func at<E>(_ offset: Int, _: E.Type) -> UnsafeMutablePointer<E> {
      (block + offset).bindMemory(to: E.self, capacity: 1)
    }
    weight = at(oWeight, T.self)
    tokensPerMlog = at(oTokensPerMlog, T.self)
    average = at(oAverage, T.self)
    sainteLague = at(oSainteLague, T.self)
    huntingtonHill = at(oHuntingtonHill, T.self)
    mlog2log = at(oMlog2log, Int.self)
    mlogcnt = at(oMlogcnt, Int.self)
    heap = at(oHeap, Int.self)
    nodeKeys = at(oNodeKeys, UInt64.self)
    tokensPerPhy = at(oTokensPerPhy, T.self)
    phy2mlog = at(oPhy2mlog, Int.self)
    phyrank = at(oPhyrank, Int.self)
    packIndex = at(oPackIndex, Int.self)
    rankInPack = at(oRankInPack, Int.self)
    pphy2phy = at(oPphy2phy, Int.self)
    entries = at(oEntries, KeyedIndex.self)
    order = at(oOrder, Int.self)
    workKeys = at(oRadixKeys, UInt64.self)
    sortStops = at(oSortStops, Int.self)
    packItems = at(oPackItems, Int.self)
    groupTokens = at(oGroupTokens, T.self)
    groupPack = at(oGroupPack, Int.self)
    groupRank = at(oGroupRank, Int.self)
    packTree = at(oPackTree, T.PackKey.self)
    slots = at(oSlots, Int.self)
    counts = at(oCounts, Int.self)
    doubles = at(oDoubles, Double.self)
  }

  deinit {
    base.deallocate()
  }

  /// Whether a layer of this shape fits the buffers.
  func fits(experts e: Int, replicas r: Int, gpus g: Int) -> Bool {
    e <= experts && r <= max(replicas, experts) && g <= max(gpus, experts)
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
