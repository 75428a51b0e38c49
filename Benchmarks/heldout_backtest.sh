#!/usr/bin/env bash
# Realized balancedness of every algorithm and its oracle on held-out data, global and
# hierarchical, 288 slots on 32 GPUs, 4 nodes, 8 groups:
#
#   bash Benchmarks/heldout_backtest.sh
#
# Builds epbctl (release), works in a temporary folder, and prints per (data, policy) each
# algorithm's mean realized balancedness, its oracle's (the same algorithm planned on each
# horizon) and the share of the gap between deepseek and deepseek's oracle it closes.
#
# `robust`'s parameters were chosen on `simulate` seed 3 and `phase_trace.py` seed 1 (the tuning
# traces, printed last, for reference); the held-out data are:
#   - phase2, phase3: `Benchmarks/phase_trace.py` (workload phases, mean reversion,
#     multiplicative noise) seeds 2 and 3, 1,000 steps × 12 layers × 256 experts; window 100,
#     plan every 100, horizon 100;
#   - phase4-8: the same for seeds 4 to 8, the mean over the five (added 2026-12-07, after the
#     design of `robust`'s window-peak repair, to see how far one trace's differences are noise);
#   - dsv3: the six bundled DeepSeek-V3 dumps (Examples/sglang), each held out in turn and planned
#     from the other five (window 5, every 1, horizon 1), as Benchmarks/peers_backtest.sh does;
#     the mean over the six folds (the oracle of a fold plans on the held-out dump itself).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
swift build -c release --product epbctl >&2
E="$(swift build -c release --show-bin-path)/epbctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/bt.sqlite"
ALGS=(deepseek eplb-divisor robust flashlb deepseek-vec snake swift-balancer)
A=(--json --no-timeline --db "$db")
for a in "${ALGS[@]}"; do A+=(--algorithm "$a"); done
T=(--replicas 288 --gpus 32 --nodes 4 --groups 8)
traces=(phase2 phase3 phase4 phase5 phase6 phase7 phase8 phase1 sim)
for seed in 1 2 3 4 5 6 7 8; do
  python3 Benchmarks/phase_trace.py --output "$work/phase$seed.npy" --steps 1000 --layers 12 --seed "$seed"
  "$E" ingest "$work/phase$seed.npy" --series "phase$seed" --db "$db" >/dev/null
done
"$E" simulate --output "$work/sim.npy" --format npy --steps 1000 --layers 12 --experts 256 --seed 3 >/dev/null
"$E" ingest "$work/sim.npy" --series sim --db "$db" >/dev/null
for s in "${traces[@]}"; do
  for policy in hierarchical global; do
    "$E" backtest --series "$s" --window 100 --every 100 --horizon 100 "${T[@]}" --policy "$policy" "${A[@]}" \
      >"$work/$s-$policy.json"
  done
done
dumps=(Examples/sglang/*.json)
for k in "${!dumps[@]}"; do
  others=()
  for j in "${!dumps[@]}"; do [ "$j" != "$k" ] && others+=("${dumps[$j]}"); done
  "$E" ingest "${others[@]}" "${dumps[$k]}" --series "loo$k" --db "$db" >/dev/null
  for policy in hierarchical global; do
    "$E" backtest --series "loo$k" --window 5 --every 1 --horizon 1 "${T[@]}" --policy "$policy" "${A[@]}" \
      >"$work/loo$k-$policy.json"
  done
done
python3 - "$work" "${#dumps[@]}" "${ALGS[@]}" <<'PY'
import json, sys
work, folds, algorithms = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(name):
    return {c["algorithm"]: c for c in json.load(open(f"{work}/{name}.json"))["configs"]}
def row(label, configs_list):
    # Means over the runs (one run, or the six folds) of realized and oracle balancedness; the
    # share of deepseek's gap closed from those means.
    realized = {a: sum(c[a]["realized_balancedness_mean"] for c in configs_list) / len(configs_list) for a in algorithms}
    oracle = {a: sum(c[a]["oracle_balancedness_mean"] for c in configs_list) / len(configs_list) for a in algorithms}
    gap = oracle["deepseek"] - realized["deepseek"]
    print(f"{label:28} " + " ".join(f"{realized[a]:8.4f}/{oracle[a]:6.4f}" for a in algorithms))
    print(f"{'  gap closed':28} " + " ".join(f"{(realized[a] - realized['deepseek']) / gap:15.3f}" for a in algorithms))
print("realized/oracle balancedness; 'gap closed' = share of the deepseek-to-oracle gap")
print(f"{'data':28} " + " ".join(f"{a:>15}" for a in algorithms))
for s in ("phase2", "phase3", "phase4-8", "dsv3", "phase1", "sim"):
    for policy in ("hierarchical", "global"):
        if s == "dsv3":
            runs = [load(f"loo{k}-{policy}") for k in range(folds)]
            label = f"dsv3 leave-one-out {policy[:4]}"
        elif s == "phase4-8":
            runs = [load(f"phase{k}-{policy}") for k in range(4, 9)]
            label = f"phase4-8 mean {policy[:4]}"
        else:
            runs = [load(f"{s}-{policy}")]
            label = f"{s}{' (tuning)' if s in ('phase1', 'sim') else ''} {policy[:4]}"
        row(label, runs)
PY
