#!/usr/bin/env bash
# Builds and runs the whole test suite under AddressSanitizer and ThreadSanitizer, each in its
# own scratch path (a full rebuild each, ~10 min on 2 cores). The CLI tests then run the
# sanitized epbctl binary too. Usage: scripts/reliability/sanitizers.sh [address] [thread]
# Prints `sanitizers: <name>: <N> tests passed` per sanitizer; exits non-zero on any report.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)
for s in "${sanitizers[@]}"; do
  scratch=".build-sanitize-$s"
  log="/tmp/epbctl-sanitize-$s.log"
  echo "sanitizers: $s: building in $scratch"
  swift build --build-tests --sanitize="$s" --scratch-path "$scratch" >"$log" 2>&1 || {
    tail -40 "$log"; echo "sanitizers: $s: build failed"; exit 1; }
  # halt_on_error makes the first report fail the run; TSan's second_deadlock_stack aids reading.
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=0" TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  if ! swift test --skip-build --sanitize="$s" --scratch-path "$scratch" >>"$log" 2>&1; then
    grep -E "ERROR: (Address|Thread)Sanitizer|WARNING: ThreadSanitizer|SUMMARY|✘" "$log" | head -40
    echo "sanitizers: $s: FAILED (log: $log)"; exit 1
  fi
  if grep -qE "ERROR: AddressSanitizer|WARNING: ThreadSanitizer" "$log"; then
    grep -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|SUMMARY" "$log" | head -20
    echo "sanitizers: $s: reports found (log: $log)"; exit 1
  fi
  echo "sanitizers: $s: $(grep -oE 'Test run with [0-9]+ tests in [0-9]+ suites passed' "$log" | tail -1), no reports"
done
