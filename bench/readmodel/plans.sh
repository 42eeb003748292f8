#!/usr/bin/env bash
# Query plans of the read model at 10 M events (see plans.sql, and PLANS.md for a run).
#
#   bench/readmodel/plans.sh [--events N] [--port PORT] [--out FILE]
#
# Default: starts a throwaway Zyven node (target/zyven.jar, or $ZYVEN_JAR; build it with
# `mvn -q -B package -DskipTests`) on a temporary ZYVEN_DATA_DIR, so its embedded
# PostgreSQL gets Zyven's schema from Flyway; waits for /health/ready; reads the port from
# the node log ("Embedded PostgreSQL on port N"); fills and explains with psql; then stops
# the node (SIGTERM also stops its PostgreSQL) and deletes the data directory.
# Needs java 17, curl and psql (15 or later). About 12 GB of disk for 10 M events while it
# runs, and about 8 minutes on two cores.
#
# --port PORT: use a PostgreSQL already running on localhost:PORT instead (user postgres,
# database postgres; PGHOST/PGUSER/PGDATABASE/PGPASSWORD are honoured), e.g. a dev node's
# embedded one. It must be a THROWAWAY database with Zyven's schema and empty read-model
# tables: plans.sql refuses to run otherwise, and leaves its 10 M rows behind.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
events=10000000
port=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

node_pid=""
work=""
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    echo "stopping the throwaway node (pid $node_pid)" >&2
    kill -TERM "$node_pid"
    for _ in $(seq 1 120); do kill -0 "$node_pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$node_pid" 2>/dev/null && kill -KILL "$node_pid"
  fi
  if [ -n "$work" ]; then
    # A PostgreSQL left running (node killed) would keep the files open: stop it first.
    pidfile="$work/data/postgres/postmaster.pid"
    if [ -f "$pidfile" ]; then
      pg_pid="$(head -1 "$pidfile")"
      if kill -0 "$pg_pid" 2>/dev/null; then
        kill -INT "$pg_pid" || true
        for _ in $(seq 1 60); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 1; done
      fi
    fi
    rm -rf "$work"
  fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

if [ -z "$port" ]; then
  jar="${ZYVEN_JAR:-$repo/target/zyven.jar}"
  [ -f "$jar" ] || { echo "no $jar: build it with 'mvn -q -B package -DskipTests' (or set ZYVEN_JAR)" >&2; exit 1; }
  work="$(mktemp -d "${TMPDIR:-/tmp}/zyven-plans.XXXXXX")"
  http_port="$(free_port)"
  echo "starting a throwaway node: data in $work/data, log in $work/node.log" >&2
  # The waker would poll (and wake) the synthetic deliveries every second: push it out of
  # the way (100d stays under the scheduler's ~248-day limit). Nothing else runs without
  # a journal.
  ZYVEN_DATA_DIR="$work/data" ZYVEN_HTTP_PORT="$http_port" ZYVEN_CLUSTER_PORT="$(free_port)" \
    ZYVEN_ADMIN_KEY="plans-$RANDOM$RANDOM" \
    java -Xmx512m -Dzyven.waker.interval=100d -jar "$jar" >"$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 120); do
    kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log" >&2; echo "node exited" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/health/ready")" = 200 ] && break
    sleep 1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/health/ready")" = 200 ] \
    || { echo "node not ready after 120 s; see $work/node.log" >&2; exit 1; }
  port="$(grep -o 'Embedded PostgreSQL on port [0-9]*' "$work/node.log" | head -1 | awk '{print $NF}')"
  [ -n "$port" ] || { echo "no 'Embedded PostgreSQL on port' in the node log" >&2; exit 1; }
  echo "node ready; its PostgreSQL listens on $port" >&2
fi

export PGHOST="${PGHOST:-localhost}" PGPORT="$port" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-postgres}"
run() { psql -X -q -v ON_ERROR_STOP=1 -v events="$events" -f "$here/plans.sql"; }
if [ -n "$out" ]; then run | tee "$out"; else run; fi
