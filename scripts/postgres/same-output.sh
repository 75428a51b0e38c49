#!/usr/bin/env bash
# Runs the quick start's commands (and show, diff --json, export, delete and prune dry runs) on
# a new SQLite file and on an empty PostgreSQL database with the same epbctl, and diffs what
# they print. Times, durations and the database's name and size are masked; everything else
# (tables, JSON, errors) must be byte for byte the same.
# With a second empty database, also copies the SQLite history into it and back into a new
# SQLite file (`epbctl copy`) and checks that all three read the same.
# Usage: bash scripts/postgres/same-output.sh EPBCTL postgres://…/empty_database [postgres://…/another]
set -euo pipefail
epbctl=$(realpath "$1")
pg=$2
copy_pg=${3:-}
[ -x "$epbctl" ] || { echo "same-output: no epbctl at $1" >&2; exit 1; }
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
# EPBCTL_KEEP_OUTPUT=DIR keeps both outputs there.
trap 'if [ -n "${EPBCTL_KEEP_OUTPUT:-}" ]; then cp "$work"/*.out "$EPBCTL_KEEP_OUTPUT"/; fi; rm -rf "$work"' EXIT
topology=(--replicas 288 --gpus 32 --nodes 4 --groups 8)

session() {
  local db=$1
  e() { echo "\$ epbctl $*"; "$epbctl" "$@" --db "$db" 2>&1 || echo "(exit $?)"; }
  e ingest Examples/sglang/decode_in1000out1000.json Examples/sglang/prefill_in1024.json --series dsv3
  e ingest Examples/sglang/decode_in1000out1000.json --series dsv3
  e ingest Examples/vllm_trace.json --series demo --json
  e series
  e series --json
  e loads --series dsv3 --layer 10 --top 8
  e loads --series demo --window 20 --layer 3 --json
  e backtest --series demo --window 25 --window 50 --every 25 --horizon 25 \
    --algorithm deepseek --algorithm eplb-divisor --algorithm robust --replicas 80 --gpus 8 --nodes 2 --groups 8
  e plan --series dsv3 --layer all --from 0 --to 0 "${topology[@]}"
  e plan --series dsv3 --layer all --from 1 --to 1 "${topology[@]}" --base latest
  e plan --series demo --layer all --window 30 --half-life 10 --replicas 80 --gpus 8 --nodes 2 --groups 8 --json
  e snapshots --series dsv3
  e snapshots --json
  e show latest~1 --series dsv3 --json
  e diff latest~1 latest --series dsv3 --expert-bytes 44040192
  e diff 1 2 --json
  e export latest --series dsv3 --format sglang
  e plan --series nope --layer 1 "${topology[@]}"
  e show latest~9
  e delete snapshot 3 --dry-run
  e prune --keep-last 1 --snapshots --dry-run
  e delete series demo
  e delete ingest --file Examples/sglang/prefill_in1024.json --series dsv3
  e series
  e loads --series dsv3 --layer 10 --top 3
}

mask() {
  sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/<time>/g;
          s/[0-9]+(\.[0-9]+)? (ms|s)\b/<dur>/g;
          s/"(elapsed_ms|plan_ms|seconds|duration_ms|created_at|ingested_at)" *: *[^,}]+/"\1": <v>/g;
          s#postgres://[^ ]*|'"$work"'/epb.sqlite#<db>#g;
          s/[0-9.]+ (KiB|MiB|GiB|kB|MB|GB|bytes?)\b/<size>/g'
}

session "$work/epb.sqlite" | mask > "$work/sqlite.out"
session "$pg" | mask > "$work/postgres.out"
if diff -u "$work/sqlite.out" "$work/postgres.out" > "$work/diff"; then
  echo "same-output: $(grep -c '^\$ epbctl' "$work/sqlite.out") commands print the same on SQLite and PostgreSQL ($(wc -l < "$work/sqlite.out") lines)"
else
  cat "$work/diff"
  echo "same-output: FAIL: the outputs differ (above)"
  exit 1
fi

if [ -n "$copy_pg" ]; then
  "$epbctl" copy --from "$work/epb.sqlite" --to "$copy_pg" > "$work/copy1"
  "$epbctl" copy --from "$copy_pg" --to "$work/back.sqlite" > "$work/copy2"
  reads() {
    for c in "series --json" "snapshots --json" "show latest --json" "loads --series dsv3 --layer 10 --json" \
      "diff 1 latest --series dsv3 --json"; do
      echo "\$ epbctl $c"
      # shellcheck disable=SC2086
      "$epbctl" $c --db "$1" 2>&1 || echo "(exit $?)"
    done
  }
  reads "$work/epb.sqlite" | mask > "$work/copy-source.out"
  for side in "$copy_pg" "$work/back.sqlite"; do
    reads "$side" | sed "s#$work/back.sqlite#$work/epb.sqlite#g" | mask > "$work/copy-side.out"
    if ! diff -u "$work/copy-source.out" "$work/copy-side.out"; then
      echo "same-output: FAIL: the copy in $side reads differently (above)"
      exit 1
    fi
  done
  echo "same-output: copy SQLite → PostgreSQL → SQLite: $(tail -1 "$work/copy2" | cut -c1-60)…; 5 reads the same on all three"
fi
