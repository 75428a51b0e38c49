#!/usr/bin/env bash
# Realized balancedness of deepseek and the four peers (flashlb, deepseek-vec, snake,
# swift-balancer) in `epbctl backtest`, global and hierarchical, 288 slots on 32 GPUs, 4 nodes,
# 8 groups:
#
#   bash Benchmarks/peers_backtest.sh
#
# Builds epbctl (release), works in a temporary folder, prints one line per (data, policy): the
# mean over plans of the realized balancedness (Σ mean / Σ peak GPU load over layers of the
# horizon's summed load).
#   - sim: `epbctl simulate` 1,000 steps × 12 layers × 256 experts, seed 3; plan every 100 steps
#     on the last 100, horizon 100 (flashlb and deepseek-vec see 64 block sums of the window;
#     swift-balancer starts from its own previous plan).
#   - dsv3 leave-one-out: the six bundled DeepSeek-V3 dumps (Examples/sglang); for each, a series
#     of the other five then that one, planned on the five (window 5: five samples) and scored
#     on the sixth; the mean over the six folds.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
swift build -c release --product epbctl >&2
E="$(swift build -c release --show-bin-path)/epbctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/bt.sqlite"
ALGS=(deepseek flashlb deepseek-vec snake swift-balancer)
A=(--json --db "$db")
for a in "${ALGS[@]}"; do A+=(--algorithm "$a"); done
T=(--replicas 288 --gpus 32 --nodes 4 --groups 8)
"$E" simulate --output "$work/sim.npy" --format npy --steps 1000 --layers 12 --experts 256 --seed 3 >/dev/null
"$E" ingest "$work/sim.npy" --series sim --db "$db" >/dev/null
for policy in hierarchical global; do
  "$E" backtest --series sim --window 100 --every 100 --horizon 100 "${T[@]}" --policy "$policy" "${A[@]}" \
    >"$work/sim-$policy.json"
done
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
python3 - "$work" "${#dumps[@]}" "${ALGS[@]}" <<'PY'
import json, sys
work, folds, algorithms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print(f"{'data':34} " + " ".join(f"{a:>14}" for a in algorithms))
for policy in ("hierarchical", "global"):
    configs = json.load(open(f"{work}/sim-{policy}.json"))["configs"]
    r = {c["algorithm"]: c["realized_balancedness_mean"] for c in configs}
    print(f"{'sim 12x256 w100 ' + policy:34} " + " ".join(f"{r[a]:14.4f}" for a in algorithms))
for policy in ("hierarchical", "global"):
    values = {a: [] for a in algorithms}
    for k in range(folds):
        for c in json.load(open(f"{work}/loo-{policy}-{k}.json"))["configs"]:
            values[c["algorithm"]].append(c["realized_balancedness_mean"])
    print(f"{'dsv3 leave-one-out ' + policy:34} " + " ".join(f"{sum(values[a]) / folds:14.4f}" for a in algorithms))
PY
