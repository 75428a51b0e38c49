#!/usr/bin/env bash
# Realized balancedness of deepseek, eplb-divisor and robust in `epbctl backtest`, on a simulated trace
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
#   - dsv3: two real DeepSeek-V3 dumps (decode, then prefill): plan on decode, score on
#     prefill, hierarchical and global policies. One step each: a plan sees no variation.
#   - dsv3 leave-one-out: the six real dumps (Examples/sglang, two decode and four prefill
#     workloads); for each, a series of the other five then that one, planned on the five
#     (window 5: five scenarios) and scored on the sixth. The mean over the six folds, and in
#     how many folds each algorithm did best.
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
A=(--algorithm deepseek --algorithm eplb-divisor --algorithm robust --json --db "$db")
T=(--replicas 288 --gpus 32 --nodes 4 --groups 8)
"$E" backtest --series sim --window 100 --window 400 --every 100 --horizon 100 "${T[@]}" "${A[@]}" >"$work/sim.json"
"$E" backtest --series demo --window 25 --window 50 --every 25 --horizon 25 --replicas 80 --gpus 8 --nodes 2 --groups 8 "${A[@]}" >"$work/demo.json"
"$E" backtest --series dsv3 --window 1 --every 1 --horizon 1 "${T[@]}" "${A[@]}" >"$work/dsv3h.json"
"$E" backtest --series dsv3 --window 1 --every 1 --horizon 1 "${T[@]}" --policy global "${A[@]}" >"$work/dsv3g.json"
dumps=(Examples/sglang/*.json)
for k in "${!dumps[@]}"; do
  others=()
  for j in "${!dumps[@]}"; do [ "$j" != "$k" ] && others+=("${dumps[$j]}"); done
  "$E" ingest "${others[@]}" "${dumps[$k]}" --series "loo$k" --db "$db" >/dev/null
  for policy in hierarchical global; do
    "$E" backtest --series "loo$k" --window 5 --every 1 --horizon 1 "${T[@]}" --policy "$policy" "${A[@]}" \
      >"$work/loo-$policy-$k.json"
  done
done
python3 - "$work" "${#dumps[@]}" <<'PY'
import json, sys
work, folds = sys.argv[1], int(sys.argv[2])
print(f"{'data':24} {'window':>6}  {'deepseek':>8}  {'eplb-div':>8}  {'robust':>8}")
for f, name in [("sim", "sim 12x256 hierarchical"), ("demo", "demo 6x64"), ("dsv3h", "dsv3 hierarchical"), ("dsv3g", "dsv3 global")]:
    configs = json.load(open(f"{work}/{f}.json"))["configs"]
    rows = {}
    for c in configs:
        rows.setdefault(c["window"], {})[c["algorithm"]] = c["realized_balancedness_mean"]
    for w, r in rows.items():
        print(f"{name:24} {w:>6}  " + "  ".join(f"{r[a]:8.4f}" for a in ("deepseek", "eplb-divisor", "robust")))
algorithms = ("deepseek", "eplb-divisor", "robust")
for policy in ("hierarchical", "global"):
    values = {a: [] for a in algorithms}
    for k in range(folds):
        for c in json.load(open(f"{work}/loo-{policy}-{k}.json"))["configs"]:
            values[c["algorithm"]].append(c["realized_balancedness_mean"])
    best = {a: sum(1 for k in range(folds) if max(values, key=lambda b: values[b][k]) == a) for a in algorithms}
    name = f"dsv3 leave-one-out {policy[:4]}"
    print(f"{name:24} {5:>6}  " + "  ".join(f"{sum(values[a]) / folds:8.4f}" for a in algorithms)
          + "   best in " + ", ".join(f"{a} {best[a]}/{folds}" for a in algorithms))
PY
