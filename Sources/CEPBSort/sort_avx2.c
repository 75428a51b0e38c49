// AVX2 sorting networks for the planner's sorts of indexed 64-bit keys (see CEPBSort.h).

#include "CEPBSort.h"

#include <stdlib.h>

/// Whether `EPBCTL_NO_SIMD` is set to anything but "" or "0": the switch that turns every vector
/// kernel off, so that the portable path (what ARM and Apple-silicon machines run) can be tested
/// on x86-64 too.
static int simd_turned_off(void) {
  const char *value = getenv("EPBCTL_NO_SIMD");
  return value != 0 && value[0] != 0 && !(value[0] == '0' && value[1] == 0);
}

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

static int avx2_state = -1;  // -1: not checked yet; a benign race (every thread writes the same)

int epb_cpu_has_avx2(void) {
  int state = __atomic_load_n(&avx2_state, __ATOMIC_RELAXED);
  if (state >= 0) return state;
  unsigned a, b, c, d;
  int ok = 0;
  if (!simd_turned_off() && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) && (c & bit_AVX)) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    // The OS saves the XMM (bit 1) and YMM (bit 2) state.
    if ((lo & 6) == 6 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2)) ok = 1;
  }
  __atomic_store_n(&avx2_state, ok, __ATOMIC_RELAXED);
  return ok;
}

#include "network_avx2.h"

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

int epb_cpu_has_avx2(void) {
  (void)simd_turned_off;
  return 0;
}
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
