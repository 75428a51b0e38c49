// AVX2 sorting networks for the planner's sorts of 64-bit keys (see CEPBSort.h).
//
// Keys are unsigned; AVX2 compares 64-bit lanes as signed (`vpcmpgtq`), so every key has its
// top bit flipped while it is sorted (an order-preserving map from unsigned to signed) and
// flipped back at the end.

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

typedef __m256i V;

AVX2 V load(const uint64_t *p) { return _mm256_loadu_si256((const V *)p); }
AVX2 void store(uint64_t *p, V v) { _mm256_storeu_si256((V *)p, v); }

/// Lanes in reverse order: [3, 2, 1, 0].
AVX2 V reverse(V v) { return _mm256_permute4x64_epi64(v, 0x1B); }

/// Compare-exchange of lanes: `a` gets the smaller key of each lane, `b` the larger.
AVX2 void ce(V *a, V *b) {
  V gt = _mm256_cmpgt_epi64(*a, *b);
  V lo = _mm256_blendv_epi8(*a, *b, gt);
  V hi = _mm256_blendv_epi8(*b, *a, gt);
  *a = lo;
  *b = hi;
}

/// Compare-exchange inside one register, of each lane with the lane `partner` shuffles to it:
/// lanes whose bit in `high` is set (all ones) keep the larger key, the others the smaller.
AVX2 V ce_in(V v, V partner, V high) {
  V gt = _mm256_cmpgt_epi64(v, partner);  // v > partner: a low lane takes the partner
  return _mm256_blendv_epi8(v, partner, _mm256_xor_si256(gt, high));
}

/// The last two half-cleaner stages inside a register: lanes 2 apart, then 1 apart.
AVX2 V clean_in(V v) {
  const V high2 = _mm256_set_epi64x(-1, -1, 0, 0);
  const V high1 = _mm256_set_epi64x(-1, 0, -1, 0);
  v = ce_in(v, _mm256_permute4x64_epi64(v, 0x4E), high2);
  v = ce_in(v, _mm256_shuffle_epi32(v, 0x4E), high1);
  return v;
}

/// Merges two ascending runs of 8 keys, `(x0, x1)` and `(y0, y1)`, into 16 ascending keys
/// `x0, x1, y0, y1`.
AVX2 void merge8(V *x0, V *x1, V *y0, V *y1) {
  V r1 = reverse(*y1), r0 = reverse(*y0);
  ce(x0, &r1);  // key i against key 15 - i
  ce(x1, &r0);
  *y0 = reverse(r0);
  *y1 = reverse(r1);
  ce(x0, x1);  // 4 apart
  ce(y0, y1);
  *x0 = clean_in(*x0);
  *x1 = clean_in(*x1);
  *y0 = clean_in(*y0);
  *y1 = clean_in(*y1);
}

/// Sorts 32 keys at `p`, flipped to signed on load.
AVX2 void sort32(uint64_t *p, V flip) {
  V r0 = _mm256_xor_si256(load(p), flip), r1 = _mm256_xor_si256(load(p + 4), flip);
  V r2 = _mm256_xor_si256(load(p + 8), flip), r3 = _mm256_xor_si256(load(p + 12), flip);
  V r4 = _mm256_xor_si256(load(p + 16), flip), r5 = _mm256_xor_si256(load(p + 20), flip);
  V r6 = _mm256_xor_si256(load(p + 24), flip), r7 = _mm256_xor_si256(load(p + 28), flip);
  // Green's 19-comparator network down the lanes: each lane of r0…r7 becomes ascending.
  ce(&r0, &r2); ce(&r1, &r3); ce(&r4, &r6); ce(&r5, &r7);
  ce(&r0, &r4); ce(&r1, &r5); ce(&r2, &r6); ce(&r3, &r7);
  ce(&r0, &r1); ce(&r2, &r3); ce(&r4, &r5); ce(&r6, &r7);
  ce(&r2, &r4); ce(&r3, &r5);
  ce(&r1, &r4); ce(&r3, &r6);
  ce(&r1, &r2); ce(&r3, &r4); ce(&r5, &r6);
  // Transpose the 4 × 4 blocks r0…r3 and r4…r7: lane c of r0…r7 becomes the run (tc, uc).
  V a0 = _mm256_unpacklo_epi64(r0, r1), a1 = _mm256_unpackhi_epi64(r0, r1);
  V a2 = _mm256_unpacklo_epi64(r2, r3), a3 = _mm256_unpackhi_epi64(r2, r3);
  V t0 = _mm256_permute2x128_si256(a0, a2, 0x20), t1 = _mm256_permute2x128_si256(a1, a3, 0x20);
  V t2 = _mm256_permute2x128_si256(a0, a2, 0x31), t3 = _mm256_permute2x128_si256(a1, a3, 0x31);
  V b0 = _mm256_unpacklo_epi64(r4, r5), b1 = _mm256_unpackhi_epi64(r4, r5);
  V b2 = _mm256_unpacklo_epi64(r6, r7), b3 = _mm256_unpackhi_epi64(r6, r7);
  V u0 = _mm256_permute2x128_si256(b0, b2, 0x20), u1 = _mm256_permute2x128_si256(b1, b3, 0x20);
  V u2 = _mm256_permute2x128_si256(b0, b2, 0x31), u3 = _mm256_permute2x128_si256(b1, b3, 0x31);
  // Runs of 8 → two runs of 16: (t0, u0, t1, u1) and (t2, u2, t3, u3).
  merge8(&t0, &u0, &t1, &u1);
  merge8(&t2, &u2, &t3, &u3);
  // Two runs of 16 → 32: key i against key 31 - i, then half-cleaners 8, 4, 2 and 1 apart.
  V s0 = reverse(u3), s1 = reverse(t3), s2 = reverse(u2), s3 = reverse(t2);
  ce(&t0, &s0); ce(&u0, &s1); ce(&t1, &s2); ce(&u1, &s3);
  t2 = reverse(s3); u2 = reverse(s2); t3 = reverse(s1); u3 = reverse(s0);
  ce(&t0, &t1); ce(&u0, &u1); ce(&t2, &t3); ce(&u2, &u3);
  ce(&t0, &u0); ce(&t1, &u1); ce(&t2, &u2); ce(&t3, &u3);
  store(p, clean_in(t0)); store(p + 4, clean_in(u0)); store(p + 8, clean_in(t1)); store(p + 12, clean_in(u1));
  store(p + 16, clean_in(t2)); store(p + 20, clean_in(u2)); store(p + 24, clean_in(t3)); store(p + 28, clean_in(u3));
}

/// The half-cleaner stages 16, 8, 4, 2 and 1 apart on the 32 keys at `p`.
AVX2 void clean32(uint64_t *p) {
  V r0 = load(p), r1 = load(p + 4), r2 = load(p + 8), r3 = load(p + 12);
  V r4 = load(p + 16), r5 = load(p + 20), r6 = load(p + 24), r7 = load(p + 28);
  ce(&r0, &r4); ce(&r1, &r5); ce(&r2, &r6); ce(&r3, &r7);
  ce(&r0, &r2); ce(&r1, &r3); ce(&r4, &r6); ce(&r5, &r7);
  ce(&r0, &r1); ce(&r2, &r3); ce(&r4, &r5); ce(&r6, &r7);
  store(p, clean_in(r0)); store(p + 4, clean_in(r1)); store(p + 8, clean_in(r2)); store(p + 12, clean_in(r3));
  store(p + 16, clean_in(r4)); store(p + 20, clean_in(r5)); store(p + 24, clean_in(r6)); store(p + 28, clean_in(r7));
}

__attribute__((target("avx2"))) static void sort_avx2(uint64_t *a, long n) {
  const V flip = _mm256_set1_epi64x((long long)0x8000000000000000ULL);
  for (long i = 0; i < n; i += 32) sort32(a + i, flip);
  for (long size = 64; size <= n; size *= 2) {
    // Merge runs of size / 2: key i of each block against key size - 1 - i ...
    for (long block = 0; block < n; block += size) {
      uint64_t *p = a + block;
      for (long i = 0, j = size - 4; i < j; i += 4, j -= 4) {
        V x = load(p + i), y = reverse(load(p + j));
        ce(&x, &y);
        store(p + i, x);
        store(p + j, reverse(y));
      }
    }
    // ... then half-cleaners size / 4, …, 32 apart in memory, and 16, …, 1 apart in registers.
    for (long stride = size / 4; stride >= 32; stride /= 2) {
      for (long i = 0; i < n; i += 2 * stride) {
        for (long k = i; k < i + stride; k += 4) {
          V x = load(a + k), y = load(a + k + stride);
          ce(&x, &y);
          store(a + k, x);
          store(a + k + stride, y);
        }
      }
    }
    for (long i = 0; i < n; i += 32) clean32(a + i);
  }
  for (long i = 0; i < n; i += 4) store(a + i, _mm256_xor_si256(load(a + i), flip));
}

int epb_sort_u64_avx2(uint64_t *a, long n) {
  if (n < 32 || n > 4096 || (n & (n - 1)) != 0 || !epb_cpu_has_avx2()) return 0;
  sort_avx2(a, n);
  return 1;
}

#else

int epb_cpu_has_avx2(void) { return 0; }
int epb_sort_u64_avx2(uint64_t *a, long n) {
  (void)a;
  (void)n;
  return 0;
}

#endif
