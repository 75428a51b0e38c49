#!/usr/bin/env bash
# Realized balancedness of deepseek, seed and robust in `epbctl backtest`, on a simulated trace
# with drift and on the bundled data: the numbers behind the robust algorithm's claim.
#
#   bash Benchmarks/robust_backtest.sh
#
# Builds epbctl (release), writes everything to a temporary folder, and prints one line per
# (data, window): the mean over plans of the realized balancedness (mean/peak GPU load of the
# horizon's summed load, each plan evaluated on the steps that follow its window).
#   - sim: `epbctl simulate` 1,000 steps × 12 layers × 256 experts, seed 3; 288 slots on
#     32 GPUs, 4 nodes, 8 groups; plan every 100 steps on the last 100 or 400, horizon 100.
#   - demo: Examples/vllm_trace.json (the quick start's backtest); 80 slots on 8 GPUs, 2 nodes.
#   - dsv3: the two real DeepSeek-V3 dumps (decode, then prefill): plan on decode, score on
#     prefill, hierarchical and global policies. One step each: a plan sees no variation.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
swift build -c release --product epbctl >&2
E="$(swift build -c release --show-bin-path)/epbctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/bt.sqlite"
"$E" simulate --output "$work/sim.npy" --format npy --steps 1000 --layers 12 --experts 256 --seed 3 >/dev/null
"$E" ingest "$work/sim.npy" --series sim --db "$db" >/dev/null
"$E" ingest Examples/vllm_trace.json --series demo --db "$db" >/dev/null
"$E" ingest Examples/sglang/decode_in1000out1000.json Examples/sglang/prefill_in1024.json --series dsv3 --db "$db" >/dev/null
A=(--algorithm deepseek --algorithm seed --algorithm robust --json --db "$db")
T=(--replicas 288 --gpus 32 --nodes 4 --groups 8)
"$E" backtest --series sim --window 100 --window 400 --every 100 --horizon 100 "${T[@]}" "${A[@]}" >"$work/sim.json"
"$E" backtest --series demo --window 25 --window 50 --every 25 --horizon 25 --replicas 80 --gpus 8 --nodes 2 --groups 8 "${A[@]}" >"$work/demo.json"
"$E" backtest --series dsv3 --window 1 --every 1 --horizon 1 "${T[@]}" "${A[@]}" >"$work/dsv3h.json"
"$E" backtest --series dsv3 --window 1 --every 1 --horizon 1 "${T[@]}" --policy global "${A[@]}" >"$work/dsv3g.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
print(f"{'data':24} {'window':>6}  {'deepseek':>8}  {'seed':>8}  {'robust':>8}")
for f, name in [("sim", "sim 12x256 hierarchical"), ("demo", "demo 6x64"), ("dsv3h", "dsv3 hierarchical"), ("dsv3g", "dsv3 global")]:
    configs = json.load(open(f"{work}/{f}.json"))["configs"]
    rows = {}
    for c in configs:
        rows.setdefault(c["window"], {})[c["algorithm"]] = c["realized_balancedness_mean"]
    for w, r in rows.items():
        print(f"{name:24} {w:>6}  " + "  ".join(f"{r[a]:8.4f}" for a in ("deepseek", "seed", "robust")))
PY
