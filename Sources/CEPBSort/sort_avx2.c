// AVX2 sorting networks for the planner's sorts of indexed 64-bit keys (see CEPBSort.h).

#include "CEPBSort.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

static int avx2_state = -1;  // -1: not checked yet; a benign race (every thread writes the same)

int epb_cpu_has_avx2(void) {
  int state = __atomic_load_n(&avx2_state, __ATOMIC_RELAXED);
  if (state >= 0) return state;
  unsigned a, b, c, d;
  int ok = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) && (c & bit_AVX)) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    // The OS saves the XMM (bit 1) and YMM (bit 2) state.
    if ((lo & 6) == 6 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2)) ok = 1;
  }
  __atomic_store_n(&avx2_state, ok, __ATOMIC_RELAXED);
  return ok;
}

#define AVX2 __attribute__((target("avx2"), always_inline)) static inline

// 32-bit keys, four to a 128-bit register: unsigned `min` and `max` are one instruction each
// (64-bit keys need a signed compare and two blends), and every shuffle stays inside its 128
// bits. On the AMD EPYC this was measured on, a Zen 1, 256-bit operations are split in two and
// lane-crossing shuffles cost 3–8 micro-ops: 128-bit registers sorted 256 keys in 710 ns,
// 256-bit ones in 950 ns, and 64-bit keys in 256-bit registers in 2,200 ns.

typedef __m128i X;  // four unsigned 32-bit keys

AVX2 X xload(const uint32_t *p) { return _mm_loadu_si128((const X *)p); }
AVX2 void xstore(uint32_t *p, X v) { _mm_storeu_si128((X *)p, v); }
AVX2 X xreverse(X v) { return _mm_shuffle_epi32(v, 0x1B); }

AVX2 void xce(X *a, X *b) {
  X lo = _mm_min_epu32(*a, *b), hi = _mm_max_epu32(*a, *b);
  *a = lo;
  *b = hi;
}

/// The last two half-cleaner stages inside a register: lanes 2 apart, then 1 apart.
AVX2 X xclean(X v) {
  X p = _mm_shuffle_epi32(v, 0x4E);
  v = _mm_blend_epi16(_mm_min_epu32(v, p), _mm_max_epu32(v, p), 0xF0);
  p = _mm_shuffle_epi32(v, 0xB1);
  return _mm_blend_epi16(_mm_min_epu32(v, p), _mm_max_epu32(v, p), 0xCC);
}

/// Merges two ascending runs of 8 keys, `(x0, x1)` and `(y0, y1)`, into `x0, x1, y0, y1`.
AVX2 void xmerge8(X *x0, X *x1, X *y0, X *y1) {
  X r1 = xreverse(*y1), r0 = xreverse(*y0);
  xce(x0, &r1);
  xce(x1, &r0);
  *y0 = r0;  // the second half reversed: still bitonic, all the half-cleaners need
  *y1 = r1;
  xce(x0, x1);
  xce(y0, y1);
  *x0 = xclean(*x0);
  *x1 = xclean(*x1);
  *y0 = xclean(*y0);
  *y1 = xclean(*y1);
}

/// Sorts 32 keys at `p`.
AVX2 void xsort32(uint32_t *p) {
  X r0 = xload(p), r1 = xload(p + 4), r2 = xload(p + 8), r3 = xload(p + 12);
  X r4 = xload(p + 16), r5 = xload(p + 20), r6 = xload(p + 24), r7 = xload(p + 28);
  // Green's 19-comparator network down the lanes: each lane of r0…r7 becomes ascending.
  xce(&r0, &r2); xce(&r1, &r3); xce(&r4, &r6); xce(&r5, &r7);
  xce(&r0, &r4); xce(&r1, &r5); xce(&r2, &r6); xce(&r3, &r7);
  xce(&r0, &r1); xce(&r2, &r3); xce(&r4, &r5); xce(&r6, &r7);
  xce(&r2, &r4); xce(&r3, &r5);
  xce(&r1, &r4); xce(&r3, &r6);
  xce(&r1, &r2); xce(&r3, &r4); xce(&r5, &r6);
  // Transpose the 4 × 4 blocks r0…r3 and r4…r7: lane c of r0…r7 becomes the run (tc, uc).
  X a0 = _mm_unpacklo_epi32(r0, r1), a1 = _mm_unpackhi_epi32(r0, r1);
  X a2 = _mm_unpacklo_epi32(r2, r3), a3 = _mm_unpackhi_epi32(r2, r3);
  X t0 = _mm_unpacklo_epi64(a0, a2), t1 = _mm_unpackhi_epi64(a0, a2);
  X t2 = _mm_unpacklo_epi64(a1, a3), t3 = _mm_unpackhi_epi64(a1, a3);
  X b0 = _mm_unpacklo_epi32(r4, r5), b1 = _mm_unpackhi_epi32(r4, r5);
  X b2 = _mm_unpacklo_epi32(r6, r7), b3 = _mm_unpackhi_epi32(r6, r7);
  X u0 = _mm_unpacklo_epi64(b0, b2), u1 = _mm_unpackhi_epi64(b0, b2);
  X u2 = _mm_unpacklo_epi64(b1, b3), u3 = _mm_unpackhi_epi64(b1, b3);
  // Runs of 8 → two runs of 16: (t0, u0, t1, u1) and (t2, u2, t3, u3).
  xmerge8(&t0, &u0, &t1, &u1);
  xmerge8(&t2, &u2, &t3, &u3);
  // Two runs of 16 → 32: key i against key 31 - i (the second half comes out reversed),
  // then half-cleaners 8, 4, 2 and 1 apart.
  X s0 = xreverse(u3), s1 = xreverse(t3), s2 = xreverse(u2), s3 = xreverse(t2);
  xce(&t0, &s0); xce(&u0, &s1); xce(&t1, &s2); xce(&u1, &s3);
  t2 = s0; u2 = s1; t3 = s2; u3 = s3;
  xce(&t0, &t1); xce(&u0, &u1); xce(&t2, &t3); xce(&u2, &u3);
  xce(&t0, &u0); xce(&t1, &u1); xce(&t2, &u2); xce(&t3, &u3);
  xstore(p, xclean(t0)); xstore(p + 4, xclean(u0)); xstore(p + 8, xclean(t1)); xstore(p + 12, xclean(u1));
  xstore(p + 16, xclean(t2)); xstore(p + 20, xclean(u2)); xstore(p + 24, xclean(t3)); xstore(p + 28, xclean(u3));
}

/// The half-cleaner stages 16, 8, 4, 2 and 1 apart on the 32 keys at `p`.
AVX2 void xclean32(uint32_t *p) {
  X r0 = xload(p), r1 = xload(p + 4), r2 = xload(p + 8), r3 = xload(p + 12);
  X r4 = xload(p + 16), r5 = xload(p + 20), r6 = xload(p + 24), r7 = xload(p + 28);
  xce(&r0, &r4); xce(&r1, &r5); xce(&r2, &r6); xce(&r3, &r7);
  xce(&r0, &r2); xce(&r1, &r3); xce(&r4, &r6); xce(&r5, &r7);
  xce(&r0, &r1); xce(&r2, &r3); xce(&r4, &r5); xce(&r6, &r7);
  xstore(p, xclean(r0)); xstore(p + 4, xclean(r1)); xstore(p + 8, xclean(r2)); xstore(p + 12, xclean(r3));
  xstore(p + 16, xclean(r4)); xstore(p + 20, xclean(r5)); xstore(p + 24, xclean(r6)); xstore(p + 28, xclean(r7));
}

/// Sorts `a[0..<n]` ascending, `n` a power of two, 32 or more.
__attribute__((target("avx2"))) static void sort_u32(uint32_t *a, long n) {
  for (long i = 0; i < n; i += 32) xsort32(a + i);
  for (long size = 64; size <= n; size *= 2) {
    for (long block = 0; block < n; block += size) {
      uint32_t *p = a + block;
      for (long i = 0, j = size - 4; i < j; i += 4, j -= 4) {
        X x = xload(p + i), y = xreverse(xload(p + j));
        xstore(p + i, _mm_min_epu32(x, y));
        xstore(p + j, xreverse(_mm_max_epu32(x, y)));
      }
    }
    for (long stride = size / 4; stride >= 32; stride /= 2) {
      for (long i = 0; i < n; i += 2 * stride) {
        for (long k = i; k < i + stride; k += 4) {
          X x = xload(a + k), y = xload(a + k + stride);
          xstore(a + k, _mm_min_epu32(x, y));
          xstore(a + k + stride, _mm_max_epu32(x, y));
        }
      }
    }
    for (long i = 0; i < n; i += 32) xclean32(a + i);
  }
}

int epb_sort_u32(uint32_t *a, long n) {
  if (n < 32 || n > 1024 || (n & (n - 1)) != 0 || !epb_cpu_has_avx2()) return 0;
  sort_u32(a, n);
  return 1;
}

// Puts right the full keys `out[0..<n]` read back in the short keys' order: keys whose short
// keys tie on the value bits may be out of order (the dropped low bits decide); a check finds
// them, an insertion sort puts them right. Returns 0 if that would move more than `8n` keys:
// loads that agree on their top bits by the hundreds (adversarial, or a layer of near-equal
// loads) would make it quadratic; the caller's merge sort takes them.
static int settle(uint64_t *out, long n, uint64_t disorder) {
  if (disorder == 0) return 1;
  long budget = 8 * n;
  for (long k = 1; k < n; k++) {
    uint64_t key = out[k];
    long h = k;
    while (h > 0 && out[h - 1] > key) {
      out[h] = out[h - 1];
      h--;
    }
    out[h] = key;
    budget -= k - h;
    if (budget < 0) return 0;
  }
  return 1;
}

// The short keys' padding to `padded` (a power of two, 32 to 1,024): all ones, whose index
// bits (padded − 1 ≥ n) no real key has.
static long pad_shorts(uint32_t *shorts, long n) {
  long padded = 32;
  while (padded < n) padded *= 2;
  for (long i = n; i < padded; i++) shorts[i] = 0xFFFFFFFFu;
  return padded;
}

// `FastOrder.key(value, index)`'s high half for a value that is `+0` or more (`-0` too): the
// complement of the value's bits, sign bit cleared.
static inline uint32_t high_half(float value) {
  union { float value; uint32_t bits; } u = {value};
  return ~u.bits & 0x7fffffffu;
}

// The sort of `epb_sort_indexed_keys` (`keys` given, `loads` null) and of `epb_sort_loads`
// (`loads` given, `keys` null: key i is `high_half(loads[i]) << 32 | i`), specialized for
// each at its call site.
__attribute__((always_inline)) static inline int sort_keys(
    const uint64_t *keys, const float *loads, uint64_t *out, long n) {
  if (n < 1 || n > 1024 || !epb_cpu_has_avx2()) return 0;
  uint32_t shorts[1024];
  long padded = pad_shorts(shorts, n);
  uint32_t mask = (uint32_t)padded - 1;
  // Short keys: the high half's top 32 − b bits (b = log2(padded)), then the index. Given
  // keys must hold their positions; given loads must be `+0` or more.
  uint32_t refused = 0;
  for (long i = 0; i < n; i++) {
    uint32_t high;
    if (keys) {
      refused |= (uint32_t)keys[i] ^ (uint32_t)i;
      high = (uint32_t)(keys[i] >> 32);
    } else {
      refused |= !(loads[i] >= 0);
      high = high_half(loads[i]);
    }
    shorts[i] = (high & ~mask) | (uint32_t)i;
  }
  if (refused != 0) return 0;
  sort_u32(shorts, padded);
  // The full keys in that order.
  uint64_t disorder = 0;
  uint32_t first = shorts[0] & mask;
  out[0] = keys ? keys[first] : (uint64_t)high_half(loads[first]) << 32 | first;
  for (long k = 1; k < n; k++) {
    uint32_t i = shorts[k] & mask;
    out[k] = keys ? keys[i] : (uint64_t)high_half(loads[i]) << 32 | i;
    disorder |= out[k - 1] > out[k];
  }
  return settle(out, n, disorder);
}

int epb_sort_indexed_keys(const uint64_t *keys, uint64_t *out, long n) { return sort_keys(keys, 0, out, n); }

int epb_sort_loads(const float *loads, uint64_t *out, long n) { return sort_keys(0, loads, out, n); }

#else

int epb_cpu_has_avx2(void) { return 0; }
int epb_sort_u32(uint32_t *a, long n) {
  (void)a;
  (void)n;
  return 0;
}
int epb_sort_indexed_keys(const uint64_t *keys, uint64_t *out, long n) {
  (void)keys;
  (void)out;
  (void)n;
  return 0;
}
int epb_sort_loads(const float *loads, uint64_t *out, long n) {
  (void)loads;
  (void)out;
  (void)n;
  return 0;
}

#endif
