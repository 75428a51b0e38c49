/// Preallocated raw buffers for planning layers of one shape, reused from layer to layer.
///
/// One `Scratch` serves any layer with at most `experts` logical experts, `replicas` slots and
/// `gpus` GPUs; `Planner.plan` allocates one per call, so planning a layer allocates nothing
/// but its output arrays. `T` is the arithmetic of the decisions (`Float` like eplb.py, or
/// `Double` for the float64 `replicate_experts` cases). Not thread-safe: one per thread.
final class Scratch<T: BinaryFloatingPoint> {
  let experts: Int
  let replicas: Int
  let gpus: Int

  // Per-expert buffers, `[experts]`.
  let weight: UnsafeMutablePointer<T>
  let tokensPerMlog: UnsafeMutablePointer<T>
  let average: UnsafeMutablePointer<T>
  let sainteLague: UnsafeMutablePointer<T>
  let huntingtonHill: UnsafeMutablePointer<T>
  let log2mlog: UnsafeMutablePointer<Int>
  let mlog2log: UnsafeMutablePointer<Int>
  let mlogcnt: UnsafeMutablePointer<Int>
  let heap: UnsafeMutablePointer<Int>
  // Per-slot buffers, `[max(replicas, experts)]`.
  let tokensPerPhy: UnsafeMutablePointer<T>
  let phy2mlog: UnsafeMutablePointer<Int>
  let phyrank: UnsafeMutablePointer<Int>
  let packIndex: UnsafeMutablePointer<Int>
  let rankInPack: UnsafeMutablePointer<Int>
  let pphy2phy: UnsafeMutablePointer<Int>
  let entries: UnsafeMutablePointer<KeyedIndex>
  // Per-GPU (pack) buffers, `[max(gpus, experts)]` (groups are packed with them too).
  let packWeight: UnsafeMutablePointer<T>
  let packItems: UnsafeMutablePointer<Int>
  let packHeap: UnsafeMutablePointer<Int>
  let groupTokens: UnsafeMutablePointer<T>
  let groupPack: UnsafeMutablePointer<Int>
  let groupRank: UnsafeMutablePointer<Int>
  // Statistics buffers: `slots [max(replicas, experts)]`, `counts [experts]`,
  // `doubles [max(gpus, experts)]`.
  let slots: UnsafeMutablePointer<Int>
  let counts: UnsafeMutablePointer<Int>
  let doubles: UnsafeMutablePointer<Double>

  init(experts: Int, replicas: Int, gpus: Int) {
    self.experts = experts
    self.replicas = replicas
    self.gpus = gpus
    let e = max(experts, 1)
    let r = max(replicas, experts, 1)
    let p = max(gpus, experts, 1)
    weight = .allocate(capacity: e)
    tokensPerMlog = .allocate(capacity: e)
    average = .allocate(capacity: e)
    sainteLague = .allocate(capacity: e)
    huntingtonHill = .allocate(capacity: e)
    log2mlog = .allocate(capacity: e)
    mlog2log = .allocate(capacity: e)
    mlogcnt = .allocate(capacity: e)
    heap = .allocate(capacity: e)
    tokensPerPhy = .allocate(capacity: r)
    phy2mlog = .allocate(capacity: r)
    phyrank = .allocate(capacity: r)
    packIndex = .allocate(capacity: r)
    rankInPack = .allocate(capacity: r)
    pphy2phy = .allocate(capacity: r)
    entries = .allocate(capacity: r)
    packWeight = .allocate(capacity: p)
    packItems = .allocate(capacity: p)
    packHeap = .allocate(capacity: p)
    groupTokens = .allocate(capacity: p)
    groupPack = .allocate(capacity: p)
    groupRank = .allocate(capacity: p)
    slots = .allocate(capacity: r)
    counts = .allocate(capacity: e)
    doubles = .allocate(capacity: p)
  }

  deinit {
    weight.deallocate()
    tokensPerMlog.deallocate()
    average.deallocate()
    sainteLague.deallocate()
    huntingtonHill.deallocate()
    log2mlog.deallocate()
    mlog2log.deallocate()
    mlogcnt.deallocate()
    heap.deallocate()
    tokensPerPhy.deallocate()
    phy2mlog.deallocate()
    phyrank.deallocate()
    packIndex.deallocate()
    rankInPack.deallocate()
    pphy2phy.deallocate()
    entries.deallocate()
    packWeight.deallocate()
    packItems.deallocate()
    packHeap.deallocate()
    groupTokens.deallocate()
    groupPack.deallocate()
    groupRank.deallocate()
    slots.deallocate()
    counts.deallocate()
    doubles.deallocate()
  }

  /// Whether a layer of this shape fits the buffers.
  func fits(experts e: Int, replicas r: Int, gpus g: Int) -> Bool {
    e <= experts && r <= max(replicas, experts) && g <= max(gpus, experts)
  }
}

/// One `(value, index)` pair as torch's CPU sort and topk kernels order them (values widened
/// to `Double`, which orders `Float` values the same).
struct KeyedIndex {
  var value: Double
  var index: Int
}
