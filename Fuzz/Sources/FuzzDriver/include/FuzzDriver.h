#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (libclang_rt.fuzzer): runs the fuzzing loop over `callback`. SwiftPM links
/// executables with `main` aliased to `<target>_main`, so each target defines that and calls
/// `FuzzRunDriver` instead of relying on libFuzzer's own `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// The input callback every fuzz target defines (in Swift, with `@_cdecl`).
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/// Runs libFuzzer's driver over the target's `LLVMFuzzerTestOneInput`: the body of every
/// target's `<target>_main`.
int FuzzRunDriver(int argc, char **argv);
