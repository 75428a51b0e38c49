#ifndef CEPBSORT_H
#define CEPBSORT_H

#include <stdint.h>

/// Whether this CPU and OS run AVX2 code (x86-64 with AVX2 and the YMM state enabled), checked
/// once with `cpuid` and `xgetbv`. Always 0 on other architectures.
int epb_cpu_has_avx2(void);

/// Sorts `a[0..<n]` ascending as unsigned 64-bit keys, in place, with AVX2 sorting networks.
///
/// - parameter n: a power of two from 32 to 4096. Other sizes are not sorted.
/// - returns: 1 when sorted; 0, with `a` untouched, when `n` is not such a size, the CPU lacks
///   AVX2 (`epb_cpu_has_avx2`), or the build is not for x86-64.
///
/// Method: an 8-key sorting network down the registers' lanes, a 4 × 4 transpose, then
/// bitonic merges (the "flip" form: every compare-exchange ascending) of runs of 8, 16, …, n.
/// O(n log² n) compare-exchanges, four per instruction, with no data-dependent branch.
int epb_sort_u64_avx2(uint64_t *a, long n);

#endif
