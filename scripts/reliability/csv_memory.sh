#!/usr/bin/env bash
# Peak RSS of `epbctl ingest` on a generated long-form CSV, against the documented bound
# (docs/reliability.md: about the file size plus 8 bytes per load, over a small ingest's RSS).
# Usage: scripts/reliability/csv_memory.sh [STEPS] [EPBCTL]   (400 steps: 100 MB, 6.25 M loads)
set -euo pipefail
steps=${1:-400}
epbctl=${2:-$(swift build --show-bin-path)/epbctl}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/big.csv" "$steps" <<'PY'
import random, sys
path, steps = sys.argv[1], int(sys.argv[2])
random.seed(1)
with open(path, "w") as f:
    f.write("step,layer,expert,load\n")
    for s in range(steps):
        f.write("".join(f"{s},{l},{e},{random.randint(0, 99999)}\n" for l in range(61) for e in range(256)))
PY
printf '{"logical_count": [[1, 2]]}' > "$dir/small.json"
rss() { /usr/bin/time -f %M "$epbctl" ingest "$1" --db "$2" 2>&1 >/dev/null | tail -1; }
small=$(rss "$dir/small.json" "$dir/small.sqlite")
big=$(rss "$dir/big.csv" "$dir/big.sqlite")
bytes=$(stat -c %s "$dir/big.csv")
loads=$((steps * 61 * 256))
bound=$(( (bytes + 8 * loads) / 1024 + small ))
echo "csv: $bytes bytes, $loads loads; peak RSS ${big} KiB; small ingest ${small} KiB; bound (file + 8 B/load + small) ${bound} KiB"
