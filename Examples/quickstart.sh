#!/usr/bin/env bash
# The README's quick start: builds epbctl (release), records the bundled example loads in the
# default database ./epb.sqlite (or $EPBCTL_DB), plans a placement on each of two windows and diffs them.
# Safe to run again: ingests are idempotent, and each run adds two snapshots.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

# The same on PostgreSQL (docs/postgres.md):
#   EPBCTL_BUILD_FLAGS="--traits Postgres" EPBCTL_DB=postgres://user@host/db bash Examples/quickstart.sh
# shellcheck disable=SC2086
swift build -c release ${EPBCTL_BUILD_FLAGS:-} --product epbctl >&2
# shellcheck disable=SC2086
bin=$(swift build -c release ${EPBCTL_BUILD_FLAGS:-} --show-bin-path)
epbctl() { "$bin/epbctl" "$@"; }
topology=(--replicas 288 --gpus 32 --nodes 4 --groups 8)

echo "== ingest: two real DeepSeek-V3 load dumps (SGLang) and a small vLLM-style trace"
epbctl ingest Examples/sglang/decode_in1000out1000.json Examples/sglang/prefill_in1024.json --series dsv3
epbctl ingest Examples/vllm_trace.json --series demo

echo; echo "== series"
epbctl series

echo; echo "== the hottest experts of layer 10 over every stored step"
epbctl loads --series dsv3 --layer 10 --top 8

echo; echo "== backtest on the vLLM-style trace: which window and algorithm hold up on the steps that follow"
epbctl backtest --series demo --window 25 --window 50 --every 25 --horizon 25 \
  --algorithm deepseek --algorithm eplb-divisor --algorithm robust --replicas 80 --gpus 8 --nodes 2 --groups 8 | sed -n 1,9p

echo; echo "== plan all layers on the decode window (step 0), then on the prefill window (step 1);"
echo "   the second plan is relabelled against the first (the default base) to move fewer weights"
epbctl plan --series dsv3 --layer all --from 0 --to 0 "${topology[@]}" | tail -n 6
epbctl plan --series dsv3 --layer all --from 1 --to 1 "${topology[@]}" --base latest | tail -n 7

echo; echo "== snapshots"
epbctl snapshots --series dsv3

echo; echo "== diff: what re-planning for the prefill traffic buys (both evaluated on step 1)"
epbctl export latest --series dsv3 --format sglang --output expert_location.json
epbctl diff latest~1 latest --series dsv3 --expert-bytes 44040192 --html diff.html
