#ifndef CEPBSORT_H
#define CEPBSORT_H

#include <stdint.h>

/// Whether this CPU and OS run AVX2 code (x86-64 with AVX2 and the YMM state enabled), checked
/// once with `cpuid` and `xgetbv`. Always 0 on other architectures.
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

/// The short keys' sort of `epb_sort_indexed_keys` alone: sorts `a[0..<n]` ascending in place.
/// Returns 0, with `a` untouched, unless `n` is a power of two from 32 to 1,024 and the CPU
/// has AVX2.
int epb_sort_u32(uint32_t *a, long n);

#endif
