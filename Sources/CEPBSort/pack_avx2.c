// Balanced packing for the planner's fast path (see CEPBSort.h): the merge of a node's
// one-replica and repeated keys, packing onto at most 8 packs with the pack weights in two
// 128-bit registers, and packing onto at most 32 packs in rounds.

#include "CEPBSort.h"

// Whether neighbours `a`, `b` in a merged order hold equal values (high halves) but are
// different keys: `a ^ b` is then 1...2^32 − 1.
static inline uint64_t tied(uint64_t a, uint64_t b) { return (a ^ b) - 1 < 0xffffffffu; }

// Where the first `h` keys of the merge end: the `j` keys of `repeated` among the `h`
// smallest (the merge path's crossing at `h`), by a binary search. Keys of the two sequences
// differ, so the crossing is unique.
static long merge_split(const uint64_t *ones, long nOnes, const uint64_t *repeated, long nRepeated, long h) {
  long lo = h > nOnes ? h - nOnes : 0, hi = h < nRepeated ? h : nRepeated;
  while (lo < hi) {
    long mid = (lo + hi) / 2;
    if (repeated[mid] < ones[h - mid - 1]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int epb_merge_keys(const uint64_t *ones, long nOnes, const uint64_t *repeated, long nRepeated, uint64_t *out) {
  if (nOnes < 0 || nRepeated < 0) return -1;
  long n = nOnes + nRepeated;
  if (n == 0) return 0;
  // Four merges at once, each a load, a compare and a cursor step per key on its dependency
  // chain, from the crossings at 0, n/4, n/2 and 3n/4. Each reads at most up to the
  // sentinels, and stops after its share of keys: `q` each, the last `n − 3q`.
  long q = n / 4;
  long j1 = merge_split(ones, nOnes, repeated, nRepeated, q);
  long j2 = merge_split(ones, nOnes, repeated, nRepeated, 2 * q);
  long j3 = merge_split(ones, nOnes, repeated, nRepeated, 3 * q);
  const uint64_t *a0 = ones, *b0 = repeated;
  const uint64_t *a1 = ones + (q - j1), *b1 = repeated + j1;
  const uint64_t *a2 = ones + (2 * q - j2), *b2 = repeated + j2;
  const uint64_t *a3 = ones + (3 * q - j3), *b3 = repeated + j3;
  uint64_t *o = out;
#define MERGE_STEP(a, b, at)   \
  do {                         \
    uint64_t x = *a, y = *b;   \
    long step = y < x;         \
    o[at] = step ? y : x;      \
    b += step;                 \
    a += 1 - step;             \
  } while (0)
  for (long k = 0; k < q; k++) {
    MERGE_STEP(a0, b0, k);
    MERGE_STEP(a1, b1, q + k);
    MERGE_STEP(a2, b2, 2 * q + k);
    MERGE_STEP(a3, b3, 3 * q + k);
  }
  for (long k = 4 * q; k < n; k++) MERGE_STEP(a3, b3, k);  // the last chain's 0 to 3 more
#undef MERGE_STEP
  uint64_t ties = 0;
  for (long k = 0; k + 1 < n; k++) ties |= tied(out[k], out[k + 1]);
  return ties != 0;
}

#if defined(__x86_64__)

#include "network_avx2.h"

// One-hot lane masks of pack `p`, for the tie path: loaded rather than compared, so that the
// compiler does not merge the two paths' updates into one on masks rebuilt from bits.
static const int32_t onehot[8][8] __attribute__((aligned(16))) = {
    {-1, 0, 0, 0, 0, 0, 0, 0}, {0, -1, 0, 0, 0, 0, 0, 0}, {0, 0, -1, 0, 0, 0, 0, 0}, {0, 0, 0, -1, 0, 0, 0, 0},
    {0, 0, 0, 0, -1, 0, 0, 0}, {0, 0, 0, 0, 0, -1, 0, 0}, {0, 0, 0, 0, 0, 0, -1, 0}, {0, 0, 0, 0, 0, 0, 0, -1},
};

// The weight bits of a `FastOrder.key` of a value of `+0` or more: the complement of the
// value's bits with the sign bit set, in the high half.
static inline uint32_t weight_bits(uint64_t key) { return ~(uint32_t)(key >> 32) & 0x7fffffffu; }

// A merge of two ascending sequences that each end in a sentinel of all ones (`FastOrder`'s
// keys: descending values). `merge_next` returns the next key, and sets `ties` when two
// neighbours in the merged order have equal values (high halves) but are different keys. No
// data-dependent branch.
typedef struct {
  const uint64_t *a, *b;
  uint64_t previous;
  uint64_t ties;
} merge_t;

static inline uint64_t merge_next(merge_t *m) {
  uint64_t x = *m->a, y = *m->b;
  uint64_t k = y < x ? y : x;
  long step = y < x;
  m->b += step;
  m->a += 1 - step;
  m->ties |= tied(m->previous, k);
  m->previous = k;
  return k;
}

// The pack weights live in two registers of four 32-bit lanes: the bits of each pack's `float`
// weight (`+0` or more, so their unsigned integer order is the weights' order), all ones for a
// full pack or a lane past `packs`. Per item: the lightest weight by unsigned `min` (two
// lane-internal shuffles), its lanes by a compare, the item's weight added to that lane only
// (the other lanes add `+0`, which changes no weight, and a NaN of all ones stays all ones),
// and the lane's item count (two more registers: minus the compare's all-ones mask) checked
// against `perPack`. The dependency chain per item is about 14 cycles (min, two shuffles and
// mins, compare, and, add, or), against about 22 for `PackTree` over 8 packs, whose float add
// and three levels of integer `min` run through a general-purpose register and back. On the
// loads of the DeepSeek-V3 prefill statistics (R288 and R320) a C harness packed in 6.5 and
// 7.1 ns per item, the min-tree in 8.8 and 9.0 (2-core AMD EPYC, a Zen 1).
__attribute__((target("avx2"))) static int pack8(
    merge_t *merge, long n, long packs, long perPack, const long *logical, long *out) {
  // The first round: while every earlier item weighs more than 0, item i finds packs 0..<i
  // heavier than 0 and packs i... at 0, so it goes to pack i. Taken at once, because in the
  // loop below each of those picks is a tie among empty packs (a mispredicted branch).
  uint64_t head[8];
  uint32_t start[8] __attribute__((aligned(16))) = {0};
  int32_t count[8] __attribute__((aligned(16))) = {0};
  long items[8] = {0};
  long positive = 0;
  for (long p = 0; p < packs; p++) {
    head[p] = merge_next(merge);
    positive += p < packs - 1 && weight_bits(head[p]) != 0;
  }
  long first = 0;
  if (positive == packs - 1) {
    for (long p = 0; p < packs; p++) {
      start[p] = weight_bits(head[p]);
      count[p] = 1;
      items[p] = 1;
      out[p * perPack] = logical[(uint32_t)head[p]];
    }
    first = packs;
  }
  const X full = _mm_set1_epi32((int)perPack);
  X c0 = _mm_load_si128((const X *)count), c1 = _mm_load_si128((const X *)(count + 4));  // items per pack
  const X last = _mm_set1_epi32((int)packs - 1);
  // Lanes past `packs`, and full packs: all ones.
  X w0 = _mm_or_si128(_mm_or_si128(_mm_load_si128((const X *)start), _mm_cmpeq_epi32(c0, full)),
                      _mm_cmpgt_epi32(_mm_setr_epi32(0, 1, 2, 3), last));
  X w1 = _mm_or_si128(_mm_or_si128(_mm_load_si128((const X *)(start + 4)), _mm_cmpeq_epi32(c1, full)),
                      _mm_cmpgt_epi32(_mm_setr_epi32(4, 5, 6, 7), last));
  for (long i = first; i < n; i++) {
    uint64_t key = i < packs ? head[i] : merge_next(merge);
    X weight = _mm_set1_epi32((int)weight_bits(key));
    X m = _mm_min_epu32(w0, w1);
    m = _mm_min_epu32(m, _mm_shuffle_epi32(m, 0x4E));
    m = _mm_min_epu32(m, _mm_shuffle_epi32(m, 0xB1));
    X e0 = _mm_cmpeq_epi32(w0, m), e1 = _mm_cmpeq_epi32(w1, m);
    unsigned lightest = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(e0)) |
                        (unsigned)_mm_movemask_ps(_mm_castsi128_ps(e1)) << 4;
    long best = __builtin_ctz(lightest);
    long rank = items[best];
    items[best] = rank + 1;
    out[best * perPack + rank] = logical[(uint32_t)key];
    if (__builtin_expect((lightest & (lightest - 1)) != 0, 0)) {
      // Equal lightest weights: the first of them.
      e0 = _mm_load_si128((const X *)onehot[best]);
      e1 = _mm_load_si128((const X *)(onehot[best] + 4));
    }
    c0 = _mm_sub_epi32(c0, e0);
    c1 = _mm_sub_epi32(c1, e1);
    w0 = _mm_or_si128(_mm_castps_si128(_mm_add_ps(_mm_castsi128_ps(w0), _mm_castsi128_ps(_mm_and_si128(e0, weight)))),
                      _mm_cmpeq_epi32(c0, full));
    w1 = _mm_or_si128(_mm_castps_si128(_mm_add_ps(_mm_castsi128_ps(w1), _mm_castsi128_ps(_mm_and_si128(e1, weight)))),
                      _mm_cmpeq_epi32(c1, full));
  }
  return merge->ties != 0;
}

int epb_merge_pack8(const uint64_t *ones, const uint64_t *repeated, long n, long packs, long perPack,
                    const long *logical, long *out) {
  if (packs < 1 || packs > 8 || perPack < 1 || n != packs * perPack || !epb_cpu_has_avx2()) return -1;
  merge_t merge = {ones, repeated, ~0ull, 0};
  return pack8(&merge, n, packs, perPack, logical, out);
}

// Float bits and back.
static inline float bits_float(uint32_t bits) {
  union { uint32_t bits; float value; } u = {bits};
  return u.value;
}
static inline uint32_t float_bits(float value) {
  union { float value; uint32_t bits; } u = {value};
  return u.bits;
}

// Rounds over at most 32 packs (see CEPBSort.h). A round visits the packs in their order at
// its start, `order` (32-bit short keys, sorted: the weight's bits with the low 5 replaced by
// the pack), and gives item `t` to the `t`-th. Weights go from `old` to `new`, swapped after
// each round, so a round that fails its check leaves the state at its start intact: the
// caller packs from there on a min-tree.
//
// The check is one compare per round. With the packs' keys `k_t` ascending, item `t` goes to
// pack `t` exactly when `k_t` is below `P_t`, the least new key of the packs served before
// it. `k_t` rises with `t` and `P_t` falls, so once the test fails it fails for every later
// item, and it holds for all when it holds for the last: `k_last < P_last`. Per item that
// leaves a float add and a float `min` (the least new weight); a tie of that weight with the
// last pack's (the pack index decides) takes the exact test on full keys.
//
// Short keys order the packs as their full keys `(weight bits, pack)` do unless two weights
// agree on all but the low 5 bits; the sorted short keys show that (two neighbours equal
// above the low 5 bits), and then the full keys are sorted by insertion.
__attribute__((target("avx2"))) static long pack_rounds(
    const uint64_t *items, long packs, long perPack, const long *logical, long *out, uint32_t *weightBits,
    long *counts) {
  float weightsA[32], weightsB[32], x[32];
  uint32_t order[32] __attribute__((aligned(16)));
  float *old = weightsA, *new = weightsB;
  for (long p = 0; p < packs; p++) {
    old[p] = 0;  // weight +0
    order[p] = (uint32_t)p;
  }
  for (long r = 0; r < perPack; r++) {
    const uint64_t *item = items + r * packs;
    long *slot = out + r;
    for (long t = 0; t < packs; t++) x[t] = bits_float(weight_bits(item[t]));
    float served = __builtin_inff();
    long last = packs - 1;
    for (long t = 0; t < last; t++) {
      uint32_t p = order[t] & 31u;
      float next = old[p] + x[t];
      new[p] = next;
      served = next < served ? next : served;
      slot[p * perPack] = logical[(uint32_t)item[t]];
    }
    uint32_t pLast = order[last] & 31u;
    float wLast = old[pLast];
    new[pLast] = wLast + x[last];
    slot[pLast * perPack] = logical[(uint32_t)item[last]];
    if (r + 1 == perPack) break;  // the packs served in the last round are full: no check
    // `k_last < P_last`: by weight, or on equal weights by the full keys.
    int fits = wLast < served;
    if (__builtin_expect(!fits && wLast == served && last > 0, 0)) {
      uint64_t least = ~0ull;
      for (long t = 0; t < last; t++) {
        uint32_t p = order[t] & 31u;
        uint64_t key = (uint64_t)float_bits(new[p]) << 32 | p;
        least = key < least ? key : least;
      }
      fits = ((uint64_t)float_bits(wLast) << 32 | pLast) < least;
    }
    if (__builtin_expect(!fits && last > 0, 0)) {
      for (long p = 0; p < packs; p++) {
        weightBits[p] = float_bits(old[p]);
        counts[p] = r;
      }
      return r * packs;
    }
    for (long p = 0; p < packs; p++) order[p] = (float_bits(new[p]) & ~31u) | (uint32_t)p;
    for (long p = packs; p < 32; p++) order[p] = 0xFFFFFFFFu;  // after every real key
    xsort32(order);
    uint32_t close = 0;  // neighbours equal above the low 5 bits
    for (long t = 0; t + 1 < packs; t++) close |= (order[t] >> 5) == (order[t + 1] >> 5);
    if (__builtin_expect(close != 0, 0)) {
      uint64_t keys[32];
      for (long t = 0; t < packs; t++) {
        uint32_t p = order[t] & 31u;
        uint64_t key = (uint64_t)float_bits(new[p]) << 32 | p;
        long h = t;
        while (h > 0 && keys[h - 1] > key) {
          keys[h] = keys[h - 1];
          h--;
        }
        keys[h] = key;
      }
      for (long t = 0; t < packs; t++) order[t] = (uint32_t)keys[t];
    }
    float *swap = old;
    old = new;
    new = swap;
  }
  return packs * perPack;
}

long epb_pack_rounds(const uint64_t *items, long n, long packs, long perPack, const long *logical, long *out,
                     uint32_t *weightBits, long *counts) {
  if (packs < 1 || packs > 32 || perPack < 1 || n != packs * perPack || !epb_cpu_has_avx2()) return -1;
  return pack_rounds(items, packs, perPack, logical, out, weightBits, counts);
}

#else

int epb_merge_pack8(const uint64_t *ones, const uint64_t *repeated, long n, long packs, long perPack,
                    const long *logical, long *out) {
  (void)ones;
  (void)repeated;
  (void)n;
  (void)packs;
  (void)perPack;
  (void)logical;
  (void)out;
  return -1;
}

long epb_pack_rounds(const uint64_t *items, long n, long packs, long perPack, const long *logical, long *out,
                     uint32_t *weightBits, long *counts) {
  (void)items;
  (void)n;
  (void)packs;
  (void)perPack;
  (void)logical;
  (void)out;
  (void)weightBits;
  (void)counts;
  return -1;
}

#endif
