#ifndef CEPBSORT_H
#define CEPBSORT_H

#include <stdint.h>

/// Whether this CPU and OS run AVX2 code (x86-64 with AVX2 and the YMM state enabled), checked
/// once with `cpuid` and `xgetbv`. Always 0 on other architectures, and when the environment
/// variable `EPBCTL_NO_SIMD` is set to anything but "" or "0" at the first call (read once): every
/// kernel below checks this, so that one switch turns them all off.
int epb_cpu_has_avx2(void);

/// Sorts keys whose low 32 bits are their positions (`keys[i] & 0xffffffff == i`, as
/// `FastOrder.key(value, i)` makes them) ascending into `out[0..<n]`; `keys` is not changed.
///
/// - parameter n: 1 to 1,024.
/// - returns: 1 when sorted; 0, with `out` undefined, when `n` is out of range, a key's low
///   half is not its position, more than `8n` keys would have to move in the insertion pass
///   below, the CPU lacks AVX2, or the build is not for x86-64.
///
/// Method: each key is shortened to 32 bits, the top bits of its high half then its position
/// (`b` = log2 of `n` rounded up to a power of two, at least 5: `32 − b` value bits, `b`
/// index bits), and the short keys are sorted with bitonic networks (an 8-key network down
/// the lanes of eight registers, a transpose, then merges in the "flip" form, where every
/// compare-exchange is ascending), four keys per instruction, without a data-dependent branch.
/// The full keys are then read back in that order. Short keys are distinct, and their order
/// is the full keys' order except among keys whose high halves agree on the top `32 − b` bits;
/// an insertion sort puts those right (it moves nothing when no such keys are out of order).
int epb_sort_indexed_keys(const uint64_t *keys, uint64_t *out, long n);

/// `epb_sort_indexed_keys` of the keys `FastOrder.key(loads[i], i)`, built here: the short
/// keys from the loads directly, the full keys in the sorted order from the loads again.
/// Returns 0, with `out` undefined, also when a load is negative or NaN (the caller's
/// other path handles those; `-0` counts as `+0`).
int epb_sort_loads(const float *loads, uint64_t *out, long n);

/// The short keys' sort of `epb_sort_indexed_keys` alone: sorts `a[0..<n]` ascending in place.
/// Returns 0, with `a` untouched, unless `n` is a power of two from 32 to 1,024 and the CPU
/// has AVX2.
int epb_sort_u32(uint32_t *a, long n);

/// Balanced packing as eplb.py's `balanced_packing` does it for one node whose items come in a
/// given order: item `i` goes to the first lightest pack that holds fewer than `perPack`
/// items, and `out[pack · perPack + rank] = logical[index]`, where `rank` is the number of
/// items the pack held before it and `index` the low half of the item's key. Pack weights
/// accumulate in `float`, item by item, as in eplb.py.
///
/// The items are the merge of two ascending sequences of keys, `ones` and `repeated`, each
/// ending in a sentinel of all ones (read, never packed): the smaller key next, `ones`' first
/// when equal. Keys are `FastOrder.key(value, index)` of values that are `+0` or more (not
/// NaN): the complement of the value's bits with the sign bit set in the high half.
///
/// - parameter logical: indexed by the keys' low halves; `out`: `[n]`.
/// - returns: -1, with `out` untouched, unless `packs` is 1 to 8, `perPack` is 1 or more,
///   `n == packs · perPack`, and the CPU has AVX2 (the code needs SSE4.1's unsigned `min`;
///   AVX2 is what the other kernels check). 1 when two neighbours in the merged order hold
///   equal values (high halves) but are different keys: then `out` is written, but torch's
///   order of the tie may differ and the caller packs again in that order. Else 0.
int epb_merge_pack8(const uint64_t *ones, const uint64_t *repeated, long n, long packs, long perPack,
                    const long *logical, long *out);

/// Merges two ascending sequences of keys into `out[0..<nOnes + nRepeated]`: `ones[0..<nOnes]`
/// and `repeated[0..<nRepeated]`, each followed by a sentinel of all ones (read, never
/// merged). Keys are `FastOrder.key`s; `ones`' keys must differ from `repeated`'s (equal keys
/// within `repeated` are fine: they are one expert's replicas).
///
/// Four chains run at once, from the merge path's crossings at 0, n/4, n/2 and 3n/4 (found by
/// binary search): a merge's chain is a load, a compare and a cursor step per key, and four
/// cut its length to a quarter.
///
/// - returns: 1 when two neighbours in the merged order hold equal values (high halves) but
///   are different keys, else 0; -1 for a negative count.
int epb_merge_keys(const uint64_t *ones, long nOnes, const uint64_t *repeated, long nRepeated, uint64_t *out);

/// Balanced packing as eplb.py's `balanced_packing` does it for items in a given order (item
/// `i` to the first lightest pack that holds fewer than `perPack` items,
/// `out[pack · perPack + rank] = logical[index]`, weights added in `float` item by item), for
/// up to 32 packs, in rounds of `packs` items: while every round gives each pack one item,
/// item `t` of a round goes to the pack that was `t`-th lightest at the round's start.
///
/// Why: within a round, the packs with room are those already served in it (their new
/// weights) and the unserved rest, whose lightest is the next in the round's starting order.
/// So the next unserved pack takes the item exactly when it is lighter than every served one
/// (pack keys `weight << 32 | pack` are distinct). Along a round the unserved keys rise and
/// the served minimum falls, so this holds for every item exactly when it holds for the last:
/// the kernel checks once per round. In the last round the served packs are full and no
/// check is needed.
///
/// Keys are `FastOrder.key`s of values `+0` or more (not NaN), as for `epb_merge_pack8`.
///
/// - returns: -1, with nothing written, unless `packs` is 1 to 32, `perPack` is 1 or more,
///   `n == packs · perPack`, and the CPU has AVX2. Else the number of items packed: `n`, or
///   the first item of the first round in which some item's lightest pack was already
///   served. Then `weightBits[0..<packs]` (the `float` weights' bits) and `counts[0..<packs]`
///   hold the packs' state before that item, for the caller to go on another way; slots of
///   later items may have been written and must be written again.
long epb_pack_rounds(const uint64_t *items, long n, long packs, long perPack, const long *logical, long *out,
                     uint32_t *weightBits, long *counts);

/// What one step of the seed's tail needs from its multi-replica experts' values.
typedef struct {
  /// The largest and the second largest of `avg[0..<n]`, a value that occurs twice counting
  /// twice; -∞ where there is none.
  float top1, top2;
  /// The position of the largest of `sl[0..<n]` (of `hh[0..<n]`) when it occurs once; else -1.
  long sl, hh;
} epb_seed_scan_t;

/// One pass of vector `max`es over three arrays of `n` floats with no NaN, then a pass of
/// compares for the positions (the seed's tail, `EPLB.seedCounts`).
///
/// Each array must be readable up to `n` rounded up to a multiple of 4 (lanes past `n` are
/// masked off). Returns 0, with `out` untouched, when the CPU lacks AVX2 or `n` is negative.
int epb_seed_scan(const float *avg, const float *sl, const float *hh, long n, epb_seed_scan_t *out);

#endif
