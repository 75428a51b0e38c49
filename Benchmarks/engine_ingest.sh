#!/usr/bin/env bash
# Times `epbctl ingest` (release build) on engine files of issue 17's sizes, written by torch:
#   stat      a stat-mode SGLang dump, logical_count int32 [1000, 61, 256] (62 MB): as one step
#             (the default) and with --rows-as-steps (1,000 steps)
#   per-pass  8 per-pass rank files of a 1,000-pass dump, each 1,000 records of
#             global_physical_count int32 [61, 288] and a last_physical_to_logical_map [61, 288]
# Each case runs REPS times (default 5) into a fresh database; prints the median wall time and
# the values read per second (the values in the input tensors), and the machine.
# Needs python3 with torch and numpy (pip install torch numpy); nothing here runs in the tests.
# Usage: Benchmarks/engine_ingest.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
reps="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

swift build -c release --product epbctl >/dev/null
bin="$(swift build -c release --show-bin-path)/epbctl"

python3 - "$work" <<'PY'
import os, sys
import numpy as np
import torch
out = sys.argv[1]
rng = np.random.default_rng(3)
rows, layers, experts, slots, ranks = 1000, 61, 256, 288, 8
lc = rng.integers(0, 4000, size=(rows, layers, experts), dtype=np.int32)
lc[:, :3, :] = 0  # DeepSeek-V3's dense layers 0-2 are all-zero rows in SGLang's dump
torch.save(dict(rank=0, logical_count=torch.from_numpy(lc), average_utilization_rate_over_window=None),
           os.path.join(out, "expert_distribution_recorder_1764000000.5.pt"))
phy2log = np.stack([np.concatenate([rng.permutation(experts), rng.integers(0, experts, slots - experts)])
                    for _ in range(layers)]).astype(np.int64)
os.makedirs(os.path.join(out, "perpass"))
for rank in range(ranks):
    records = [dict(forward_pass_id=p, rank=rank, gatherer_key="primary",
                    global_physical_count=torch.from_numpy(rng.integers(0, 500, size=(layers, slots), dtype=np.int32)))
               for p in range(rows)]
    torch.save(dict(records=records, last_physical_to_logical_map=torch.from_numpy(phy2log)),
               os.path.join(out, "perpass", f"expert_distribution_recorder_1764000001.25_{rank}.pt"))
PY

stat="$work/expert_distribution_recorder_1764000000.5.pt"
time_case() {  # name values args...
  local name="$1" values="$2"
  shift 2
  local times=()
  for _ in $(seq "$reps"); do
    rm -f "$work/db.sqlite"*
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" ingest "$@" --db "$work/db.sqlite" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  python3 - "$name" "$values" "${times[@]}" <<'PY'
import statistics, sys
name, values, times = sys.argv[1], int(sys.argv[2]), [float(t) for t in sys.argv[3:]]
m = statistics.median(times)
print(f"{name:<28} median {m:6.3f} s (min {min(times):.3f}, max {max(times):.3f})  {values / m / 1e6:6.1f} M values/s")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "files: stat $(du -m "$stat" | cut -f1) MB, per-pass $(du -cm "$work"/perpass/*.pt | tail -1 | cut -f1) MB in 8 files; $reps runs each"
time_case "stat, one step" $((1000 * 61 * 256)) "$stat"
time_case "stat, --rows-as-steps" $((1000 * 61 * 256)) "$stat" --rows-as-steps
time_case "per-pass, 8 rank files" $((8 * 1000 * 61 * 288)) "$work/perpass"
