// The scans of the seed's tail over its multi-replica experts, in vector registers (see
// CEPBSort.h).

#include "CEPBSort.h"

#if defined(__x86_64__)

#include <immintrin.h>

typedef __m128 V;  // four floats

#define AVX2 __attribute__((target("avx2"), always_inline)) static inline

// The four lanes of `p[i..<i + 4]` that lie below `n`, the others -∞.
AVX2 V load_masked(const float *p, long i, long n) {
  V v = _mm_loadu_ps(p + i);
  if (i + 4 <= n) return v;
  __m128i lanes = _mm_add_epi32(_mm_set1_epi32((int)i), _mm_setr_epi32(0, 1, 2, 3));
  V valid = _mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32((int)n), lanes));
  return _mm_blendv_ps(_mm_set1_ps(-__builtin_inff()), v, valid);
}

AVX2 float hmax(V v) {
  v = _mm_max_ps(v, _mm_shuffle_ps(v, v, 0x4E));
  return _mm_cvtss_f32(_mm_max_ps(v, _mm_shuffle_ps(v, v, 0xB1)));
}

// The first position of `top` in `p[0..<n]` and whether it is the only one.
AVX2 long only_position(const float *p, long n, float top) {
  V t = _mm_set1_ps(top);
  long first = -1, hits = 0;
  for (long i = 0; i < n; i += 4) {
    unsigned bits = (unsigned)_mm_movemask_ps(_mm_cmpeq_ps(load_masked(p, i, n), t));
    if (bits != 0 && first < 0) first = i + __builtin_ctz(bits);
    hits += __builtin_popcount(bits);
  }
  return hits == 1 ? first : -1;
}

__attribute__((target("avx2"))) static void seed_scan(
    const float *avg, const float *sl, const float *hh, long n, epb_seed_scan_t *out) {
  V ninf = _mm_set1_ps(-__builtin_inff());
  V t1 = ninf, t2 = ninf, ms = ninf, mh = ninf;
  for (long i = 0; i < n; i += 4) {
    V a = load_masked(avg, i, n);
    // Per lane, the two largest so far (a value equal to the largest counts twice).
    t2 = _mm_max_ps(t2, _mm_min_ps(t1, a));
    t1 = _mm_max_ps(t1, a);
    ms = _mm_max_ps(ms, load_masked(sl, i, n));
    mh = _mm_max_ps(mh, load_masked(hh, i, n));
  }
  // The two largest of the eight per-lane values.
  float lanes[8];
  _mm_storeu_ps(lanes, t1);
  _mm_storeu_ps(lanes + 4, t2);
  float top1 = lanes[0], top2 = -__builtin_inff();
  for (int k = 1; k < 8; k++) {
    float v = lanes[k];
    top2 = top2 > (v < top1 ? v : top1) ? top2 : (v < top1 ? v : top1);
    top1 = v > top1 ? v : top1;
  }
  out->top1 = top1;
  out->top2 = top2;
  out->sl = n > 0 ? only_position(sl, n, hmax(ms)) : -1;
  out->hh = n > 0 ? only_position(hh, n, hmax(mh)) : -1;
}

int epb_seed_scan(const float *avg, const float *sl, const float *hh, long n, epb_seed_scan_t *out) {
  if (n < 0 || !epb_cpu_has_avx2()) return 0;
  seed_scan(avg, sl, hh, n, out);
  return 1;
}

#else

int epb_seed_scan(const float *avg, const float *sl, const float *hh, long n, epb_seed_scan_t *out) {
  (void)avg;
  (void)sl;
  (void)hh;
  (void)n;
  (void)out;
  return 0;
}

#endif
