#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests: a new data folder in a temporary folder,
# owned by a non-root user (PostgreSQL refuses to run as root), listening on 127.0.0.1:PORT and
# on a socket in the same folder (PORT, default 55432, or the next free port after it). Prints the lines to `eval`:
#   EPBCTL_TEST_POSTGRES=postgres://epb:epb@127.0.0.1:PORT/postgres   (a superuser, scram-sha-256)
#   EPBCTL_TEST_POSTGRES_DIR=the folder (for stop.sh)
# Usage: eval "$(bash scripts/postgres/start.sh [PORT])"; …; bash scripts/postgres/stop.sh
set -euo pipefail
port=${1:-55432}
# The next free port from there (another cluster may listen on it).
while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
bin=$(pg_config --bindir 2>/dev/null || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -x "$bin/initdb" ] || { echo "start.sh: no PostgreSQL server (initdb) found; apt-get install postgresql" >&2; exit 1; }
dir=$(mktemp -d /tmp/epbctl-pg.XXXXXX)
chmod 755 "$dir"
run=()
if [ "$(id -u)" = 0 ]; then
  id epbctl-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin epbctl-pg
  chown epbctl-pg "$dir"
  run=(runuser -u epbctl-pg --)
fi
echo epb > "$dir/pw"
chmod 644 "$dir/pw"
"${run[@]}" "$bin/initdb" -D "$dir/data" -U epb --pwfile="$dir/pw" --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "export EPBCTL_TEST_POSTGRES=postgres://epb:epb@127.0.0.1:$port/postgres"
echo "export EPBCTL_TEST_POSTGRES_DIR=$dir"
echo "export EPBCTL_TEST_POSTGRES_BIN=$bin"
