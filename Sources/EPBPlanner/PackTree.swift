/// The arithmetic of the planner's decisions: `Float` (eplb.py's float32) or `Double` (the
/// float64 `replicate_experts` cases).
///
/// It adds one thing to `BinaryFloatingPoint`: a pack's `(weight, index)` as one unsigned
/// integer whose integer order is the order Python's `min` gives packs (lighter first, then
/// the lower index), so `PackTree` picks a pack with one integer `min` per tree level.
public protocol PlannerFloat: BinaryFloatingPoint {
  /// `(order-preserving bits of the weight) << IndexBits | pack`: `UInt64` for `Float`, `UInt128` for `Double`.
  associatedtype PackKey: FixedWidthInteger & UnsignedInteger
  /// The key of a pack of `weight` with room, and index `pack` (< 2^32 for `Float`, < 2^64 for `Double`).
  static func packKey(weight: Self, pack: Int) -> PackKey
  /// The key of full pack `pack`: after every pack with room, whatever its weight (+∞ included).
  static func fullPackKey(pack: Int) -> PackKey
  /// The weight of a key of `packKey(weight:pack:)`, bit for bit (`-0` comes back as `+0`).
  static func packWeight(_ key: PackKey) -> Self
  /// The pack index of a key.
  static func packIndex(_ key: PackKey) -> Int
}

extension Float: PlannerFloat {
  public typealias PackKey = UInt64

  @inline(__always)
  public static func packKey(weight: Float, pack: Int) -> UInt64 {
    // Order-preserving bits: flip all bits of negatives, the sign bit of the others.
    let bits = (weight + 0).bitPattern  // -0 → +0
    let ordered = bits ^ (UInt32(bitPattern: Int32(bitPattern: bits) >> 31) | 0x8000_0000)
    return UInt64(ordered) << 32 | UInt64(truncatingIfNeeded: pack)
  }

  @inline(__always)
  public static func fullPackKey(pack: Int) -> UInt64 { 0xffff_ffff << 32 | UInt64(truncatingIfNeeded: pack) }

  @inline(__always)
  public static func packWeight(_ key: UInt64) -> Float {
    let ordered = UInt32(truncatingIfNeeded: key >> 32)
    return Float(bitPattern: ordered ^ (UInt32(bitPattern: Int32(bitPattern: ~ordered) >> 31) | 0x8000_0000))
  }

  @inline(__always)
  public static func packIndex(_ key: UInt64) -> Int { Int(truncatingIfNeeded: key & 0xffff_ffff) }
}

extension Double: PlannerFloat {
  public typealias PackKey = UInt128

  @inline(__always)
  public static func packKey(weight: Double, pack: Int) -> UInt128 {
    let bits = (weight + 0).bitPattern
    let ordered = bits ^ (UInt64(bitPattern: Int64(bitPattern: bits) >> 63) | 0x8000_0000_0000_0000)
    return UInt128(ordered) << 64 | UInt128(UInt64(truncatingIfNeeded: pack))
  }

  @inline(__always)
  public static func fullPackKey(pack: Int) -> UInt128 {
    UInt128(UInt64.max) << 64 | UInt128(UInt64(truncatingIfNeeded: pack))
  }

  @inline(__always)
  public static func packWeight(_ key: UInt128) -> Double {
    let ordered = UInt64(truncatingIfNeeded: key >> 64)
    return Double(bitPattern: ordered ^ (UInt64(bitPattern: Int64(bitPattern: ~ordered) >> 63) | 0x8000_0000_0000_0000))
  }

  @inline(__always)
  public static func packIndex(_ key: UInt128) -> Int { Int(truncatingIfNeeded: UInt64(truncatingIfNeeded: key)) }
}

/// The pack chooser of `balancedPacking` (`packBalanced` and the `Float` fast paths): a
/// min-tree over `packs` packs of their keys (`PlannerFloat.packKey`: weight, then index;
/// `fullPackKey` once a pack holds `perPack` items), so its root is the first lightest pack
/// with room (Python's `min`), also when weights have overflowed to +∞. Pack weights
/// accumulate in `T`, item by item, and live in the keys. `add` is O(log packs): one integer
/// `min` per level, no data-dependent branch. Uses `scratch.packItems` and `scratch.packTree`.
///
/// Weights must not be NaN (a NaN key sorts after +∞, where Python's `min` would differ).
struct PackTree<T: PlannerFloat> {
  let tree: UnsafeMutablePointer<T.PackKey>  // [2L]: node i holds the minimum of its subtree, leaves at L + p
  let items: UnsafeMutablePointer<Int>  // [packs]
  let leaves: Int
  let perPack: Int

  /// A tree of empty packs in `scratch.packTree` and `scratch.packItems`.
  @inline(__always)
  init(packs: Int, perPack: Int, scratch: Scratch<T>) {
    tree = scratch.packTree
    items = scratch.packItems
    self.perPack = perPack
    leaves = 1 << (Int.bitWidth - (packs - 1).leadingZeroBitCount)
    for p in 0..<packs {
      items[p] = 0
      tree[leaves + p] = T.packKey(weight: 0, pack: p)
    }
    for p in packs..<leaves { tree[leaves + p] = .max }
    var node = leaves - 1
    while node >= 1 {
      tree[node] = Swift.min(tree[2 * node], tree[2 * node + 1])
      node -= 1
    }
  }

  /// Puts an item of `w` into the first lightest pack with room; returns the pack and the
  /// item's rank in it.
  @inline(__always)
  mutating func add(_ w: T) -> (pack: Int, rank: Int) {
    let root = tree[1]
    let best = T.packIndex(root)
    let rank = items[best]
    items[best] = rank + 1
    var key = rank + 1 == perPack ? T.fullPackKey(pack: best) : T.packKey(weight: T.packWeight(root) + w, pack: best)
    // Recompute the minima on the path from leaf `best` to the root.
    var i = leaves + best
    tree[i] = key
    while i > 1 {
      key = Swift.min(key, tree[i ^ 1])
      i >>= 1
      tree[i] = key
    }
    return (best, rank)
  }

  /// `add`, as the slot `pack · perPack + rank`.
  @inline(__always)
  mutating func addSlot(_ w: T) -> Int {
    let (pack, rank) = add(w)
    return pack * perPack + rank
  }
}
