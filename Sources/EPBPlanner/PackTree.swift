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
  /// The key of full pack `pack`: after every pack with room, whatever its weight (+∞ included);
  /// all weight bits set, so `packKey(weight:pack:) | fullPackKey(pack: 0)` is it too.
  static func fullPackKey(pack: Int) -> PackKey
  /// The weight of a key of `packKey(weight:pack:)`, bit for bit (`-0` comes back as `+0`).
  static func packWeight(_ key: PackKey) -> Self
  /// The pack index of a key.
  static func packIndex(_ key: PackKey) -> Int
  /// `packKey(weight:pack:)` for a weight that is `+0` or more (not `-0`, not NaN): the
  /// weight's bits as they are, which order such weights, and are cheaper to make and read
  /// back (this sits on `PackTree.add`'s dependency chain, item after item). A tree uses one
  /// encoding or the other, never both.
  static func packKeyNonNegative(weight: Self, pack: Int) -> PackKey
  /// `packWeight` of a key of `packKeyNonNegative(weight:pack:)`.
  static func packWeightNonNegative(_ key: PackKey) -> Self
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

  @inline(__always)
  public static func packKeyNonNegative(weight: Float, pack: Int) -> UInt64 {
    UInt64(weight.bitPattern) << 32 | UInt64(truncatingIfNeeded: pack)
  }

  @inline(__always)
  public static func packWeightNonNegative(_ key: UInt64) -> Float {
    Float(bitPattern: UInt32(truncatingIfNeeded: key >> 32))
  }
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

  @inline(__always)
  public static func packKeyNonNegative(weight: Double, pack: Int) -> UInt128 {
    UInt128(weight.bitPattern) << 64 | UInt128(UInt64(truncatingIfNeeded: pack))
  }

  @inline(__always)
  public static func packWeightNonNegative(_ key: UInt128) -> Double {
    Double(bitPattern: UInt64(truncatingIfNeeded: key >> 64))
  }
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
  /// Whether every item weight is `+0` or more, so keys are `packKeyNonNegative`.
  let nonNegative: Bool
  /// `tree[1]`, kept in a register: the next `add` starts from it without waiting for the
  /// store of the previous one to be forwarded.
  var root: T.PackKey

  /// A tree of empty packs in `scratch.packTree` and `scratch.packItems`. With `nonNegative`,
  /// every item must weigh `+0` or more (`-0` too: a pack starts at `+0`, and `+0 + -0` is
  /// `+0`, so no pack weight is ever `-0`).
  @inline(__always)
  init(packs: Int, perPack: Int, nonNegative: Bool = false, scratch: Scratch<T>.Packing) {
    tree = scratch.packTree
    items = scratch.packItems
    self.perPack = perPack
    self.nonNegative = nonNegative
    leaves = 1 << (Int.bitWidth - (packs - 1).leadingZeroBitCount)
    for p in 0..<packs {
      items[p] = 0
      tree[leaves + p] = nonNegative ? T.packKeyNonNegative(weight: 0, pack: p) : T.packKey(weight: 0, pack: p)
    }
    root = Self.fill(tree, packs: packs, leaves: leaves)
  }

  /// A tree over packs that already hold items: `scratch.packItems[p]` items (at most
  /// `perPack`, read as they are) weighing `weights[p]` (`+0` or more, not NaN; a sum of
  /// items' weights as `add` makes it). Keys are `packKeyNonNegative`.
  @inline(__always)
  init(packs: Int, perPack: Int, weights: UnsafePointer<T>, scratch: Scratch<T>.Packing) {
    tree = scratch.packTree
    items = scratch.packItems
    self.perPack = perPack
    nonNegative = true
    leaves = 1 << (Int.bitWidth - (packs - 1).leadingZeroBitCount)
    for p in 0..<packs {
      tree[leaves + p] =
        T.packKeyNonNegative(weight: weights[p], pack: p) | (items[p] == perPack ? T.fullPackKey(pack: 0) : 0)
    }
    root = Self.fill(tree, packs: packs, leaves: leaves)
  }

  /// Sets the leaves past `packs` to never win and every inner node to the minimum of its
  /// children, from the packs' leaves; returns the root.
  @inline(__always)
  private static func fill(_ tree: UnsafeMutablePointer<T.PackKey>, packs: Int, leaves: Int) -> T.PackKey {
    for p in packs..<leaves { tree[leaves + p] = .max }
    var node = leaves - 1
    while node >= 1 {
      tree[node] = Swift.min(tree[2 * node], tree[2 * node + 1])
      node -= 1
    }
    return tree[1]
  }

  /// Puts an item of `w` into the first lightest pack with room; returns the pack and the
  /// item's rank in it.
  @inline(__always)
  mutating func add(_ w: T) -> (pack: Int, rank: Int) {
    let root = self.root
    let best = T.packIndex(root)
    let rank = items[best]
    items[best] = rank &+ 1
    // A full pack's key is its key with all weight bits set: an OR, not a branch.
    var key =
      (nonNegative
        ? T.packKeyNonNegative(weight: T.packWeightNonNegative(root) + w, pack: best)
        : T.packKey(weight: T.packWeight(root) + w, pack: best)) | (rank &+ 1 == perPack ? T.fullPackKey(pack: 0) : 0)
    // Recompute the minima on the path from leaf `best` to the root.
    var i = leaves &+ best
    tree[i] = key
    while i > 1 {
      key = Swift.min(key, tree[i ^ 1])
      i >>= 1
      tree[i] = key
    }
    self.root = key
    return (best, rank)
  }

  /// `add`, as the slot `pack · perPack + rank`.
  @inline(__always)
  mutating func addSlot(_ w: T) -> Int {
    let (pack, rank) = add(w)
    return pack &* perPack &+ rank
  }
}
