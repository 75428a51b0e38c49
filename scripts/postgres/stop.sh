#!/usr/bin/env bash
# Stops the cluster that start.sh started and removes its folder.
set -euo pipefail
dir=${EPBCTL_TEST_POSTGRES_DIR:?run start.sh first}
bin=${EPBCTL_TEST_POSTGRES_BIN:?run start.sh first}
run=()
[ "$(id -u)" = 0 ] && run=(runuser -u epbctl-pg --)
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
rm -rf "$dir"
