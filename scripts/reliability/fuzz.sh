#!/usr/bin/env bash
# Fuzzes every input parser with libFuzzer + AddressSanitizer for a bounded time each.
# Usage: scripts/reliability/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
# Targets: sglang vllm csv npy jsonl jsonl-stream auto placement pt pickle safetensors
# (Fuzz/Sources/*).
# Seeds are small valid inputs written below; crashing inputs land in $OUT/<target>/crash-*
# (add them to Tests/EPBIngestTests/FuzzRegressionTests.swift once fixed).
# Prints `fuzz: <target>: <N> executions, <crashes>` per target; exits non-zero on any crash.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sglang vllm csv npy jsonl jsonl-stream auto placement pt pickle safetensors)
OUT="${FUZZ_OUT:-/tmp/epbctl-fuzz}"
mkdir -p "$OUT"

echo "fuzz: building Fuzz/ with -sanitize=fuzzer,address"
swift build --package-path Fuzz --scratch-path Fuzz/.build \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$OUT/build.log" 2>&1 || {
  tail -30 "$OUT/build.log"; echo "fuzz: build failed"; exit 1; }

# Seed corpora: one small valid input per shape each parser knows, and a few near misses.
python3 - "$OUT" <<'PY'
import os, struct, sys
out = sys.argv[1]
def npy(descr, shape, data, fortran=False):
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data
seeds = {
    "sglang": [b'{"logical_count": [[1, 2], [3, 4]]}', b'{"x": {"y": [1, "s\\u00e9"]}, "logical_count": [[[1,0],[2,2]],[[0,1],[5,5]]]}',
               b'{"logical_count": [[1.5e3, 0.25]]}'],
    "vllm": [b'{"load_history": [{"step": 3, "time": 1.5, "logical_expert_load": [[1, 2]]}]}',
             b'{"load_history": [{"logical_expert_load": [[1], [2]]}, {"timestamp": null, "logical_expert_load": [[3], [4]]}]}'],
    "csv": [b"step,layer,expert,load\n0,0,0,1\n0,0,1,2\n1,0,1,3\n1,0,0,4\n", b"\xef\xbb\xbfSTEP, layer ,expert,load\r\n0,0,0,1.5e2\r\n"],
    "npy": [npy("<i4", "(2, 1, 2)", struct.pack("<4i", 1, 2, 3, 4)), npy(">f8", "(1, 2)", struct.pack(">2d", 1, 2)),
            npy("<u2", "(2, 2)", struct.pack("<4H", 1, 2, 3, 4), fortran=True), npy("<f2", "(1, 1, 1)", b"\x00\x3c")],
    "jsonl": [b'{"step":0,"layer":0,"loads":[1,2]}\n{"step":0,"layer":1,"loads":[3,4]}\n', b'{"loads":[[1,2],[3,4]],"time":2}\n{"loads":[[5,6],[7,8]]}\n'],
    "placement": [b'\x00{"physical_to_logical_map": [[0, 1, 1, 0], [1, 0, 0, 1]]}', b'\x82{"physical_to_logical_map": [[0, 1, 2]], "x": 1}'],
}
# The engine fixtures (Tests/Fixtures/engines, written by scripts/fixtures/make_engine_fixtures.py):
# whole .pt files (after the rows-as-steps byte), their pickles alone, the safetensors rank files.
import glob, zipfile
pts = sorted(glob.glob("Tests/Fixtures/engines/*.pt") + glob.glob("Tests/Fixtures/engines/perpass/*.pt"))
seeds["pt"] = [b"\x00" + open(p, "rb").read() for p in pts] + [b"\x01" + open(pts[0], "rb").read()]
seeds["pickle"] = []
for p in pts:
    with zipfile.ZipFile(p) as z:
        seeds["pickle"] += [z.read(n) for n in z.namelist() if n.endswith("data.pkl")]
seeds["safetensors"] = [open(p, "rb").read() for p in sorted(glob.glob("Tests/Fixtures/engines/trtllm/*.safetensors"))]
seeds["jsonl-stream"] = [b"\x03" + s for s in seeds["jsonl"]]
seeds["auto"] = [s for k in ("sglang", "vllm", "csv", "npy", "jsonl") for s in seeds[k]]
for target, items in seeds.items():
    d = os.path.join(out, target, "corpus")
    os.makedirs(d, exist_ok=True)
    for i, s in enumerate(items):
        with open(os.path.join(d, "seed%d" % i), "wb") as f:
            f.write(s)
PY

status=0
total=0
for t in "${targets[@]}"; do
  dir="$OUT/$t"
  mkdir -p "$dir"
  # Artifacts of an earlier run (kept for inspection) must not fail this one; the corpus stays.
  rm -f "$dir"/crash-* "$dir"/oom-* "$dir"/timeout-* "$dir"/leak-*
  # malloc_limit_mb = rss_limit_mb: an allocation above 2 GB counts as a crash (a missing limit).
  ASAN_OPTIONS="detect_leaks=0" "Fuzz/.build/debug/fuzz-$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$dir/log" | grep -oE '[0-9]+$' | tail -1)
  runs=${runs:-0}
  total=$((total + runs))
  crashes=$(ls "$dir" | grep -cE '^(crash|oom|timeout|leak)-' || true)
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    echo "fuzz: $t: $runs executions, FAILED (exit $rc, $crashes artifact(s) in $dir)"
    grep -E "ERROR|==ERROR|Fatal error|SUMMARY" "$dir/log" | head -5
  else
    echo "fuzz: $t: $runs executions in ${seconds} s, no crash"
  fi
done
echo "fuzz: $total executions in total"
exit $status
