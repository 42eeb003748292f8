#!/usr/bin/env bash
# Zyven benchmark: ingest, the two ceilings, end-to-end, backlog memory and the scaling
# curve, in one run on this machine; the results are appended to bench/RESULTS.md.
# See bench/README.md. Every knob is an environment variable (BENCH_*), listed below.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
cd "$ROOT"

# ---- knobs --------------------------------------------------------------------------
CONNS=${BENCH_CONNS:-32}                     # headline concurrency (wrk connections, JDBC threads)
WARMUP=${BENCH_WARMUP:-45}                   # s of load before the headline ingest figure (JIT)
SECONDS_MAIN=${BENCH_SECONDS:-60}            # s of the headline ingest measurement
CEILING_WARMUP=${BENCH_CEILING_WARMUP:-15}   # s of warm-up of each ceiling
CEILING_SECONDS=${BENCH_CEILING_SECONDS:-30} # s of each ceiling measurement
CURVE=${BENCH_CURVE:-"1 8 32 128"}           # connections of the scaling curve
CURVE_WARMUP=${BENCH_CURVE_WARMUP:-5}
CURVE_SECONDS=${BENCH_CURVE_SECONDS:-20}
PROFILE_SECONDS=${BENCH_PROFILE_SECONDS:-30} # JFR recording under the headline load (0: none)
E2E_SECONDS=${BENCH_E2E_SECONDS:-30}
E2E_RATE=${BENCH_E2E_RATE:-}                 # events/s for the fast-receiver latency run (default: half the headline)
SLOW_ENDPOINTS=${BENCH_SLOW_ENDPOINTS:-20}
SLOW_IN_FLIGHT=${BENCH_SLOW_IN_FLIGHT:-10}
SLOW_MS=${BENCH_SLOW_MS:-100}
SLOW_RATE=${BENCH_SLOW_RATE:-}               # default: 75 % of what the endpoints can take, at most 75 % of the headline
SAME_HOST_CHECK=${BENCH_SAME_HOST_CHECK:-1}  # also: the same slow endpoints all on one host:port, 10 s at 200/s
FAST_IN_FLIGHT=${BENCH_FAST_IN_FLIGHT:-100}  # max_in_flight of the fast receiver's endpoint
BACKLOG=${BENCH_BACKLOG:-100000}             # pending deliveries for the memory figure
IDLE_TIMEOUT=${BENCH_IDLE_TIMEOUT:-20s}      # sharding idle passivation for the backlog node (default 3m)
PORT_BASE=${BENCH_PORT_BASE:-18480}          # node, 202 server, receiver: PORT_BASE, +1, +2
CLUSTER_PORT=${BENCH_CLUSTER_PORT:-25790}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
KEEP_DATA=${BENCH_KEEP_DATA:-0}
QUIET_WAIT=${BENCH_QUIET_WAIT:-0}            # wait up to this many s for other processes to quieten down
NODE_OPTS_EXTRA=${BENCH_NODE_OPTS:-}         # extra JVM options for the node (space-separated), e.g. to try a setting
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}

COMMAND="bench/run.sh${*:+ $*}"
for v in $(env | sed -n 's/^\(BENCH_[A-Z_]*\)=.*/\1/p' | sort); do COMMAND="$v=${!v} $COMMAND"; done
[ -n "${ZYVEN_DB_URL:-}" ] && COMMAND="ZYVEN_DB_URL=$ZYVEN_DB_URL $COMMAND"

NODE_PORT=$PORT_BASE
C202_PORT=$((PORT_BASE + 1))
RECV_PORT=$((PORT_BASE + 2))
BASE=http://127.0.0.1:$NODE_PORT
RECV=http://127.0.0.1:$RECV_PORT
ADMIN=bench-admin-$RANDOM$RANDOM
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$ROOT/target/bench/$STAMP
mkdir -p "$WORK"
START_EPOCH=$(date +%s)
CLK_TCK=$(getconf CLK_TCK)
CORES=$(nproc)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$WORK/run.log" >&2; }
die() { log "FAILED: $*"; exit 1; }

# key=value lookup in a file of "key=value" tokens
kv() { tr ' ' '\n' < "$1" | sed -n "s/^$2=//p" | tail -1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
now_us() { date +%s%6N; }

# ---- machine and tools ------------------------------------------------------------------
if ! command -v wrk > /dev/null; then
  log "wrk is missing: apt-get install -y wrk"
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk > "$WORK/apt.log" 2>&1 || { apt-get update > /dev/null 2>&1 && apt-get install -y wrk >> "$WORK/apt.log" 2>&1; }
  else sudo apt-get install -y wrk > "$WORK/apt.log" 2>&1; fi
  command -v wrk > /dev/null || die "could not install wrk"
fi
for tool in java javac jcmd mvn curl; do command -v $tool > /dev/null || die "$tool is needed"; done

PIDS=()
NODE_PID=0; RECV_PID=0; C202_PID=0; PG_PID=0
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 120); do kill -0 "$p" 2> /dev/null || break; sleep 0.5; done
    kill -0 "$p" 2> /dev/null && kill -KILL "$p" 2> /dev/null || true
  done
  if [ "$rc" != 0 ]; then log "run failed (exit $rc); logs in $WORK"; fi
}
trap cleanup EXIT

cpu_snap() { { echo "T $(date +%s%3N)"; head -1 /proc/stat; cat /proc/[0-9]*/stat 2> /dev/null || true; } > "$1"; }
# CPU seconds of this shell's finished children (wrk exits before the second snapshot).
children_cpu() {
  times > "$WORK/.times"
  CHILD_CPU=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.2f", s }' "$WORK/.times")
}
cpu_report() { # cpu_report BEFORE AFTER [role=pid ...] [+role=seconds ...]
  local a=$1 b=$2; shift 2
  $JT io.zyven.bench.CpuAccount "$CLK_TCK" "$a" "$b" "$@" 2> /dev/null || echo "(cpu accounting failed)"
}
task_snap() { { echo "T $(date +%s%3N)"; head -1 /proc/stat; cat /proc/"$NODE_PID"/task/[0-9]*/stat 2> /dev/null || true; } > "$1"; }
pgstat() { $JT io.zyven.bench.Tool pgstat "$DB_URL" "$DB_USER" "$DB_PASSWORD" > "$1" 2> /dev/null || echo "" > "$1"; }
pg_per_event() { # BEFORE AFTER EVENTS -> database work per accepted event
  awk -v n="$3" 'NR == FNR { for (i = 1; i <= NF; i++) { split($i, kv, "="); a[kv[1]] = kv[2] } next }
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); d[kv[1]] = kv[2] - a[kv[1]] } }
    END { if (n <= 0) exit; printf "%.1f commits, %.1f rows inserted, %.1f rows updated, %.1f index scans fetching %.0f rows, %.2f sequential scans reading %.0f rows, %.0f tuples returned in all",
      d["xact_commit"] / n, d["tup_inserted"] / n, d["tup_updated"] / n, d["idx_scan"] / n, d["idx_tup_fetch"] / n, d["seq_scan"] / n, d["seq_tup_read"] / n, d["tup_returned"] / n }' "$1" "$2"
}
roles() { echo "node=$NODE_PID postgres=$PG_PID receiver=$RECV_PID ceiling=$C202_PID"; }

log "work directory: $WORK"
MACHINE_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
MEM_TOTAL=$(free -m | awk '/^Mem:/ { printf "%.1f GiB", $2 / 1024 }')
JAVA_VERSION=$( (java -version 2>&1 || true) | head -1)
WRK_VERSION=$( (wrk -v 2>&1 || true) | head -1 | awk '{ print $2 }')
GIT_REV=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
GIT_DIRTY=$(git status --porcelain -- app protocol pom.xml cluster.conf 2> /dev/null | head -1)
[ -n "$GIT_DIRTY" ] && GIT_REV="$GIT_REV (+ uncommitted changes)"

# ---- build ------------------------------------------------------------------------------
BUILD_START=$(date +%s)
if [ "$SKIP_BUILD" != 1 ]; then
  log "building target/zyven.jar and the classpath (mvn)"
  mvn -q -B package -DskipTests > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "mvn package"; }
  mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt >> "$WORK/build.log" 2>&1 || die "mvn dependency:build-classpath"
fi
[ -f target/zyven.jar ] && [ -f target/cp.txt ] || die "target/zyven.jar or target/cp.txt missing (run without BENCH_SKIP_BUILD)"
log "compiling bench/java"
rm -rf target/bench-classes && mkdir -p target/bench-classes
javac -d target/bench-classes -cp "$(cat target/cp.txt):target/classes" $(find bench/java -name '*.java') || die "javac bench/java"
CP="$(cat target/cp.txt):target/classes:target/bench-classes"
BUILD_SECONDS=$(($(date +%s) - BUILD_START))
JT="java -XX:TieredStopAtLevel=1 -cp $CP"   # short-lived helpers

# How busy is the machine before we start? (Other users' load distorts every figure.)
quiet_check() {
  cpu_snap "$WORK/q1"; sleep 5; cpu_snap "$WORK/q2"
  cpu_report "$WORK/q1" "$WORK/q2" | sed -n 's/.*machine_busy=\([0-9]*\)%.*/\1/p'
}
BUSY_BEFORE=$(quiet_check)
waited=0
if [ "$QUIET_WAIT" -gt 0 ] 2> /dev/null; then
  while [ "${BUSY_BEFORE:-0}" -gt 15 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
    log "machine ${BUSY_BEFORE}% busy (of $((CORES * 100))%) before the start; waiting for it to quieten"
    sleep 25; waited=$((waited + 30)); BUSY_BEFORE=$(quiet_check)
  done
fi
log "machine busy before the start: ${BUSY_BEFORE}% of $((CORES * 100))%$([ "$waited" -gt 0 ] && echo " (after waiting ${waited}s)")"

for port in $NODE_PORT $C202_PORT $RECV_PORT $CLUSTER_PORT; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then die "port $port is in use (set BENCH_PORT_BASE / BENCH_CLUSTER_PORT)"; fi
done

# ---- processes --------------------------------------------------------------------------
wait_for_line() { # FILE PATTERN TIMEOUT_S
  for _ in $(seq 1 $(($3 * 2))); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.5; done
  return 1
}

start_receiver() {
  java -Xms1g -Xmx1g -cp "$CP" io.zyven.bench.Receiver "$RECV_PORT" "$SLOW_ENDPOINTS" > "$WORK/receiver.log" 2>&1 &
  RECV_PID=$!; PIDS+=("$RECV_PID")
  wait_for_line "$WORK/receiver.log" "receiver listening" 60 || die "receiver did not start"
}

# One node for the whole run. Besides loopback delivery and JFR's precise line attribution,
# three settings that only matter for the backlog figure: a first retry 1 h away, a circuit
# breaker that never opens (else the backlog's deliveries are deferred by cool-down and keep
# coming back), and idle passivation after IDLE_TIMEOUT instead of 3 min. They do not touch
# the other figures: there, no delivery fails and every event's entity stops itself once
# delivered.
NODE_OPTS_COMMON=(-Dzyven.delivery.allow-private-targets=true -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints
  -Dzyven.delivery.retry-schedule.0=1h -Dzyven.circuit.failure-threshold=1000000000
  -Dpekko.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout=$IDLE_TIMEOUT)
# shellcheck disable=SC2206 # word splitting is the point: one option per word
[ -n "$NODE_OPTS_EXTRA" ] && NODE_OPTS_COMMON+=($NODE_OPTS_EXTRA)
start_node() { # LABEL [java options...]
  local label=$1; shift
  log "starting node ($label): java ${NODE_OPTS_COMMON[*]} $* -jar target/zyven.jar"
  ZYVEN_HTTP_PORT=$NODE_PORT ZYVEN_CLUSTER_PORT=$CLUSTER_PORT ZYVEN_ADMIN_KEY=$ADMIN ZYVEN_DATA_DIR=$WORK/data \
    java "${NODE_OPTS_COMMON[@]}" "$@" -jar target/zyven.jar > "$WORK/node-$label.log" 2>&1 &
  NODE_PID=$!; PIDS+=("$NODE_PID")
  $JT io.zyven.bench.Tool ready "$BASE" 180 || { tail -30 "$WORK/node-$label.log"; die "node did not become ready"; }
  if [ -n "${ZYVEN_DB_URL:-}" ]; then
    DB_URL=$ZYVEN_DB_URL; DB_USER=${ZYVEN_DB_USER:-postgres}; DB_PASSWORD=${ZYVEN_DB_PASSWORD:-}; PG_PID=0
    DB_KIND="given database (ZYVEN_DB_URL)"
  else
    local pgport
    pgport=$(sed -n 's/.*Embedded PostgreSQL on port \([0-9]*\).*/\1/p' "$WORK/node-$label.log" | tail -1)
    [ -n "$pgport" ] || die "no 'Embedded PostgreSQL on port' line in the node log"
    DB_URL=jdbc:postgresql://127.0.0.1:$pgport/postgres; DB_USER=postgres; DB_PASSWORD=
    PG_PID=$(head -1 "$WORK/data/postgres/postmaster.pid")
    DB_KIND="embedded PostgreSQL started by the node"
  fi
}

forget_pid() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

stop_node() {
  kill -TERM "$NODE_PID" 2> /dev/null || true
  for _ in $(seq 1 120); do kill -0 "$NODE_PID" 2> /dev/null || break; sleep 0.5; done
  kill -0 "$NODE_PID" 2> /dev/null && { log "node did not stop; kill -9"; kill -KILL "$NODE_PID"; }
  forget_pid "$NODE_PID"; NODE_PID=0
}

# The node or the receiver gone (killed from outside, crashed) ends the run with a clear message.
check_alive() {
  [ "$NODE_PID" = 0 ] || kill -0 "$NODE_PID" 2> /dev/null || die "the node (pid $NODE_PID) exited unexpectedly; see $WORK/node-*.log"
  [ "$RECV_PID" = 0 ] || kill -0 "$RECV_PID" 2> /dev/null || die "the receiver (pid $RECV_PID) exited unexpectedly; see $WORK/receiver.log"
}
metric() {
  check_alive
  { curl -s --max-time 10 "$BASE/metrics" || true; } | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
live_events() {
  check_alive
  { curl -s --max-time 10 -H "Authorization: Bearer $ADMIN" "$BASE/v1/cluster" || true; } \
    | { grep -o '"Event":{"shards":[0-9]*,"entities":[0-9]*}' || true; } | sed 's/.*"entities":\([0-9]*\)}/\1/' | awk '{ s += $1 } END { print s + 0 }'
}
recv_count() { check_alive; curl -s --max-time 10 "$RECV/_count" || echo 0; }
recv_reset() { curl -s -X POST "$RECV/_reset" > /dev/null; RESET_ACCEPTED=$(metric zyven_events_accepted_total); }
recv_report() { curl -s "$RECV/_report?from_us=$1&to_us=$2" | tr '\n' ' '; }

# Waits until the receiver has every event accepted since the last reset (or gives up
# after TIMEOUT s, or 15 s without progress). Prints the seconds it waited.
wait_drained() {
  local timeout=$1 start last=-1 still=0 want got
  start=$(date +%s)
  while :; do
    want=$(($(metric zyven_events_accepted_total) - RESET_ACCEPTED))
    got=$(recv_count)
    [ "$got" -ge "$want" ] && break
    [ $(($(date +%s) - start)) -ge "$timeout" ] && { log "drain: $got of $want delivered after ${timeout}s; going on"; break; }
    if [ "$got" = "$last" ]; then still=$((still + 1)); else still=0; fi
    [ "$still" -ge 15 ] && { log "drain: stuck at $got of $want; going on"; break; }
    last=$got; sleep 1
  done
  echo $(($(date +%s) - start))
}

# run_wrk LABEL CONNS SECONDS URL KEY PREFIX [script options...]: leaves the BENCH line in $WORK/wrk-LABEL.txt
run_wrk() {
  local label=$1 conns=$2 secs=$3 url=$4 key=$5 prefix=$6; shift 6
  local threads=$((conns < CORES ? conns : CORES)) before
  children_cpu; before=$CHILD_CPU
  wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s -s "$BENCH_DIR/ingest.lua" "$url" \
    -- "$key" "$STAMP-$prefix" threads="$threads" "$@" > "$WORK/wrk-$label.out" 2>&1 || true
  children_cpu
  grep '^BENCH' "$WORK/wrk-$label.out" | sed 's/^BENCH //' > "$WORK/wrk-$label.txt" || die "wrk $label printed no result"
  echo "wrk_cpu_s=$(calc '%.2f' "$CHILD_CPU - $before")" >> "$WORK/wrk-$label.txt"
}
wrk_cpu() { echo "+wrk=$(kv "$WORK/wrk-$1.txt" wrk_cpu_s)"; }
wrk_summary() { # FILE -> "accepted/s p50 p99 p99.9 non2xx socket_errors"
  local f=$1 req dur st sock
  req=$(kv "$f" requests); dur=$(kv "$f" duration_s); st=$(kv "$f" status_errors)
  sock=$(($(kv "$f" connect_errors) + $(kv "$f" read_errors) + $(kv "$f" write_errors) + $(kv "$f" timeouts)))
  echo "$(calc '%.0f' "($req - $st) / $dur") $(kv "$f" p50_ms) $(kv "$f" p99_ms) $(kv "$f" p999_ms) $st $sock"
}

# ---- 1. receiver, node, tenants -----------------------------------------------------------
start_receiver
start_node main
log "node pid $NODE_PID, database $DB_URL ($DB_KIND), receiver pid $RECV_PID"

INGEST_KEY=$($JT io.zyven.bench.Tool tenant "$BASE" "$ADMIN" bench-ingest)
FAST_EP=$($JT io.zyven.bench.Tool endpoint "$BASE" "$INGEST_KEY" "$FAST_IN_FLIGHT" "$RECV/fast/ingest")
SLOW_KEY=$($JT io.zyven.bench.Tool tenant "$BASE" "$ADMIN" bench-slow)
# Each endpoint on a host of its own (127.0.0.i): Pekko's client shares one connection pool
# among endpoints with the same host, port and pool settings.
SLOW_EPS=$($JT io.zyven.bench.Tool endpoint "$BASE" "$SLOW_KEY" "$SLOW_IN_FLIGHT" \
  $(for i in $(seq 1 "$SLOW_ENDPOINTS"); do echo "http://127.0.0.$i:$RECV_PORT/slow/$SLOW_MS/e$i"; done))
ONEHOST_KEY=""; ONEHOST_EPS=""
if [ "$SAME_HOST_CHECK" = 1 ]; then
  ONEHOST_KEY=$($JT io.zyven.bench.Tool tenant "$BASE" "$ADMIN" bench-slow-one-host)
  ONEHOST_EPS=$($JT io.zyven.bench.Tool endpoint "$BASE" "$ONEHOST_KEY" "$SLOW_IN_FLIGHT" \
    $(for i in $(seq 1 "$SLOW_ENDPOINTS"); do echo "$RECV/slow/$SLOW_MS/one-host-e$i"; done))
fi
DB_SETTINGS=$($JT io.zyven.bench.Tool sql "$DB_URL" "$DB_USER" "$DB_PASSWORD" \
  "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')")
log "database: $DB_SETTINGS"

# ---- 2a. ceiling: one durable single-row insert per request, CONNS JDBC threads ---------
log "ceiling (a): $CONNS JDBC threads, one ~700-byte row per commit, ${CEILING_WARMUP}s warm-up + ${CEILING_SECONDS}s"
java -cp "$CP" io.zyven.bench.InsertCeiling "$DB_URL" "$DB_USER" "$DB_PASSWORD" "$CONNS" "$CEILING_WARMUP" "$CEILING_SECONDS" 700 \
  > "$WORK/ceiling-insert.txt" 2>&1 &
C202_PID=$!
wait_for_line "$WORK/ceiling-insert.txt" MEASURE_START $((CEILING_WARMUP + 60)) || die "insert ceiling: $(tail -5 "$WORK/ceiling-insert.txt")"
cpu_snap "$WORK/cpu-ci-1"
wait_for_line "$WORK/ceiling-insert.txt" MEASURE_END $((CEILING_SECONDS + 60)) || die "insert ceiling: $(tail -5 "$WORK/ceiling-insert.txt")"
cpu_snap "$WORK/cpu-ci-2"
wait "$C202_PID" || die "insert ceiling failed: $(tail -5 "$WORK/ceiling-insert.txt")"
CPU_CI=$(cpu_report "$WORK/cpu-ci-1" "$WORK/cpu-ci-2" $(roles))
C202_PID=0
CI_RATE=$(kv "$WORK/ceiling-insert.txt" rate)
CI_LINE="$CI_RATE/s, p50 $(kv "$WORK/ceiling-insert.txt" p50_ms) ms, p99 $(kv "$WORK/ceiling-insert.txt" p99_ms) ms, p99.9 $(kv "$WORK/ceiling-insert.txt" p999_ms) ms, errors $(kv "$WORK/ceiling-insert.txt" errors)"
log "ceiling (a): $CI_LINE"

# ---- 2b. ceiling: the same Pekko HTTP server answering 202 without persistence ----------
log "ceiling (b): Pekko HTTP 202 server, wrk $CONNS connections, ${CEILING_WARMUP}s warm-up + ${CEILING_SECONDS}s"
java -cp "$CP" io.zyven.bench.Http202 "$C202_PORT" > "$WORK/ceiling-202.log" 2>&1 &
C202_PID=$!; PIDS+=("$C202_PID")
wait_for_line "$WORK/ceiling-202.log" "202 server listening" 60 || die "202 server did not start"
run_wrk c202-warm "$CONNS" "$CEILING_WARMUP" "http://127.0.0.1:$C202_PORT/v1/events" "$INGEST_KEY" c202w
cpu_snap "$WORK/cpu-c202-1"
run_wrk c202 "$CONNS" "$CEILING_SECONDS" "http://127.0.0.1:$C202_PORT/v1/events" "$INGEST_KEY" c202
cpu_snap "$WORK/cpu-c202-2"
CPU_C202=$(cpu_report "$WORK/cpu-c202-1" "$WORK/cpu-c202-2" $(roles) "$(wrk_cpu c202)")
kill -TERM "$C202_PID"; wait "$C202_PID" 2> /dev/null || true; forget_pid "$C202_PID"; C202_PID=0
read -r CH_RATE CH_P50 CH_P99 CH_P999 CH_NON2XX CH_SOCK <<< "$(wrk_summary "$WORK/wrk-c202.txt")"
log "ceiling (b): $CH_RATE/s, p50 $CH_P50 ms, p99 $CH_P99 ms, p99.9 $CH_P999 ms, non-2xx $CH_NON2XX, socket errors $CH_SOCK"

# ---- 3. Zyven ingest at CONNS connections (fast receiver delivering meanwhile) ----------
recv_reset
log "ingest warm-up: ${WARMUP}s at $CONNS connections"
run_wrk warmup "$CONNS" "$WARMUP" "$BASE/v1/events" "$INGEST_KEY" warm
log "warm-up: $(wrk_summary "$WORK/wrk-warmup.txt") (rate p50 p99 p99.9 non2xx sock); drained in $(wait_drained 120)s"

recv_reset
log "ingest headline: ${SECONDS_MAIN}s at $CONNS connections"
JOURNAL_ROWS=$($JT io.zyven.bench.Tool sql "$DB_URL" "$DB_USER" "$DB_PASSWORD" "SELECT count(*) FROM event_journal")
pgstat "$WORK/pg-main-1"
A0=$(metric zyven_events_accepted_total)
T0=$(now_us); cpu_snap "$WORK/cpu-main-1"; task_snap "$WORK/task-main-1"
run_wrk main "$CONNS" "$SECONDS_MAIN" "$BASE/v1/events" "$INGEST_KEY" main
T1=$(now_us); cpu_snap "$WORK/cpu-main-2"; task_snap "$WORK/task-main-2"
A1=$(metric zyven_events_accepted_total)
CPU_MAIN=$(cpu_report "$WORK/cpu-main-1" "$WORK/cpu-main-2" $(roles) "$(wrk_cpu main)")
THREADS_MAIN=$($JT io.zyven.bench.CpuAccount threads "$CLK_TCK" "$WORK/task-main-1" "$WORK/task-main-2" 2> /dev/null || echo "(failed)")
recv_report "$T0" "$T1" > "$WORK/e2e-main-window.txt"
DRAIN_MAIN=$(wait_drained 300)
recv_report "$T0" "$T1" > "$WORK/e2e-main.txt"
pgstat "$WORK/pg-main-2"
PG_MAIN=$(pg_per_event "$WORK/pg-main-1" "$WORK/pg-main-2" $((A1 - A0)))
read -r Z_RATE Z_P50 Z_P99 Z_P999 Z_NON2XX Z_SOCK <<< "$(wrk_summary "$WORK/wrk-main.txt")"
Z_METRIC_RATE=$(calc '%.0f' "($A1 - $A0) / (($T1 - $T0) / 1e6)")
E2E_SAT_RATE=$(calc '%.0f' "$(kv "$WORK/e2e-main-window.txt" arrived_in_window) / (($T1 - $T0) / 1e6)")
E2E_SAT_SUSTAINED=$(calc '%.0f' "$(kv "$WORK/e2e-main.txt" sent_in_window_delivered) / (($(kv "$WORK/e2e-main.txt" last_arrival_us) - $T0) / 1e6)")
log "ingest: $Z_RATE/s (metric: $Z_METRIC_RATE/s), p50 $Z_P50 ms, p99 $Z_P99 ms, p99.9 $Z_P999 ms, non-2xx $Z_NON2XX, socket errors $Z_SOCK"
log "delivered during the window: $E2E_SAT_RATE/s; all delivered ${DRAIN_MAIN}s after the load stopped"
log "cpu: $CPU_MAIN"
log "node threads: $THREADS_MAIN"
log "database work per accepted event (incl. its delivery and projection): $PG_MAIN"

# ---- 4. profile (JFR) under the same load ----------------------------------------------
PROFILE_TXT=""
if [ "$PROFILE_SECONDS" -gt 0 ]; then
  log "profile: JFR (settings=profile) for ${PROFILE_SECONDS}s at $CONNS connections"
  recv_reset
  jcmd "$NODE_PID" JFR.start name=bench settings=profile duration="${PROFILE_SECONDS}s" filename="$WORK/ingest.jfr" > "$WORK/jfr-start.txt" 2>&1
  run_wrk profile "$CONNS" "$PROFILE_SECONDS" "$BASE/v1/events" "$INGEST_KEY" prof
  for _ in $(seq 1 30); do [ -s "$WORK/ingest.jfr" ] && jcmd "$NODE_PID" JFR.check 2>&1 | grep -q "No available recordings" && break; sleep 1; done
  sleep 2
  $JT io.zyven.bench.JfrTop "$WORK/ingest.jfr" 15 > "$WORK/profile.txt" 2>&1 || echo "(JFR summary failed)" >> "$WORK/profile.txt"
  PROFILE_TXT=$(cat "$WORK/profile.txt")
  log "profile: $(wrk_summary "$WORK/wrk-profile.txt") while recording; drained in $(wait_drained 300)s"
fi

# ---- 5. scaling curve --------------------------------------------------------------------
CURVE_ROWS=""
for c in $CURVE; do
  recv_reset
  run_wrk "curve-$c-warm" "$c" "$CURVE_WARMUP" "$BASE/v1/events" "$INGEST_KEY" "c$c-w"
  cpu_snap "$WORK/cpu-curve-$c-1"
  run_wrk "curve-$c" "$c" "$CURVE_SECONDS" "$BASE/v1/events" "$INGEST_KEY" "c$c"
  cpu_snap "$WORK/cpu-curve-$c-2"
  cpu=$(cpu_report "$WORK/cpu-curve-$c-1" "$WORK/cpu-curve-$c-2" $(roles) "$(wrk_cpu "curve-$c")")
  read -r r p50 p99 p999 n2 so <<< "$(wrk_summary "$WORK/wrk-curve-$c.txt")"
  d=$(wait_drained 300)
  log "curve $c connections: $r/s, p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, non-2xx $n2, socket errors $so (drained in ${d}s)"
  CURVE_ROWS="$CURVE_ROWS| $c | $r | $p50 | $p99 | $p999 | $n2 | $so | $(calc '%.2f' "$r / $CI_RATE") | ${cpu%% (busiest*} |
"
done

# ---- 6. end-to-end, fast receiver, at a fixed rate -----------------------------------------
[ -n "$E2E_RATE" ] || E2E_RATE=$(calc '%.0f' "int($Z_RATE / 2 / 50) * 50")
[ "$E2E_RATE" -ge 50 ] || E2E_RATE=50
log "end-to-end (fast receiver): $E2E_RATE events/s for ${E2E_SECONDS}s (after 5s at that rate)"
recv_reset
run_wrk e2e-fast-warm 32 5 "$BASE/v1/events" "$INGEST_KEY" e2ew rate="$E2E_RATE"
wait_drained 60 > /dev/null
recv_reset
T0=$(now_us); cpu_snap "$WORK/cpu-e2e-1"
run_wrk e2e-fast 32 "$E2E_SECONDS" "$BASE/v1/events" "$INGEST_KEY" e2e rate="$E2E_RATE"
T1=$(now_us); cpu_snap "$WORK/cpu-e2e-2"
CPU_E2E=$(cpu_report "$WORK/cpu-e2e-1" "$WORK/cpu-e2e-2" $(roles) "$(wrk_cpu e2e-fast)")
recv_report "$T0" "$T1" > "$WORK/e2e-fast-window.txt"
DRAIN_E2E=$(wait_drained 300)
recv_report "$T0" "$T1" > "$WORK/e2e-fast.txt"
E2E_DELIVERED=$(calc '%.0f' "$(kv "$WORK/e2e-fast-window.txt" arrived_in_window) / (($T1 - $T0) / 1e6)")
read -r EF_RATE EF_P50 EF_P99 EF_P999 EF_NON2XX EF_SOCK <<< "$(wrk_summary "$WORK/wrk-e2e-fast.txt")"
log "e2e fast: offered $E2E_RATE/s, accepted $EF_RATE/s, delivered $E2E_DELIVERED/s, accept-to-delivered p50 $(kv "$WORK/e2e-fast.txt" p50_ms) ms p99 $(kv "$WORK/e2e-fast.txt" p99_ms) ms"

# ---- 7. end-to-end, slow receiver, many endpoints -------------------------------------------
SLOW_CAP=$((SLOW_ENDPOINTS * SLOW_IN_FLIGHT * 1000 / SLOW_MS))
if [ -z "$SLOW_RATE" ]; then
  SLOW_RATE=$(calc '%.0f' "int(($SLOW_CAP * 0.75 < $Z_RATE * 0.75 ? $SLOW_CAP * 0.75 : $Z_RATE * 0.75) / 50) * 50")
  [ "$SLOW_RATE" -ge 50 ] || SLOW_RATE=50
fi
log "end-to-end (slow receiver): $SLOW_ENDPOINTS endpoints x max_in_flight $SLOW_IN_FLIGHT, ${SLOW_MS} ms each (at most $SLOW_CAP/s); $SLOW_RATE events/s for ${E2E_SECONDS}s"
recv_reset
D0=$(metric zyven_deliveries_deferred_total)
run_wrk e2e-slow-warm 32 5 "$BASE/v1/events" "$SLOW_KEY" slow-w rate="$SLOW_RATE" endpoints="$SLOW_EPS"
T0=$(now_us); cpu_snap "$WORK/cpu-slow-1"
run_wrk e2e-slow 32 "$E2E_SECONDS" "$BASE/v1/events" "$SLOW_KEY" slow rate="$SLOW_RATE" endpoints="$SLOW_EPS"
T1=$(now_us); cpu_snap "$WORK/cpu-slow-2"
CPU_SLOW=$(cpu_report "$WORK/cpu-slow-1" "$WORK/cpu-slow-2" $(roles) "$(wrk_cpu e2e-slow)")
recv_report "$T0" "$T1" > "$WORK/e2e-slow-window.txt"
DRAIN_SLOW=$(wait_drained 300)
recv_report "$T0" "$T1" > "$WORK/e2e-slow.txt"
D1=$(metric zyven_deliveries_deferred_total)
SLOW_DELIVERED=$(calc '%.0f' "$(kv "$WORK/e2e-slow-window.txt" arrived_in_window) / (($T1 - $T0) / 1e6)")
read -r ES_RATE ES_P50 ES_P99 ES_P999 ES_NON2XX ES_SOCK <<< "$(wrk_summary "$WORK/wrk-e2e-slow.txt")"
log "e2e slow: accepted $ES_RATE/s, delivered $SLOW_DELIVERED/s, p50 $(kv "$WORK/e2e-slow.txt" p50_ms) ms, p99 $(kv "$WORK/e2e-slow.txt" p99_ms) ms, deferred $((D1 - D0))"
DUPLICATES=$(kv "$WORK/e2e-slow.txt" duplicates)

ONEHOST_LINE=""
if [ "$SAME_HOST_CHECK" = 1 ]; then
  log "slow receiver, the same $SLOW_ENDPOINTS endpoints all on one host:port: 200 events/s for 10s"
  recv_reset
  T0=$(now_us)
  run_wrk e2e-onehost 32 10 "$BASE/v1/events" "$ONEHOST_KEY" onehost rate=200 endpoints="$ONEHOST_EPS"
  T1=$(now_us)
  recv_report "$T0" "$T1" > "$WORK/e2e-onehost-window.txt"
  DRAIN_ONEHOST=$(wait_drained 300)
  recv_report "$T0" "$T1" > "$WORK/e2e-onehost.txt"
  ONEHOST_DELIVERED=$(calc '%.0f' "$(kv "$WORK/e2e-onehost-window.txt" arrived_in_window) / (($T1 - $T0) / 1e6)")
  ONEHOST_LINE="$ONEHOST_DELIVERED delivered/s while 200/s were accepted (bound if each endpoint had its own $SLOW_IN_FLIGHT connections: $SLOW_CAP/s); accept-to-delivered p50 $(kv "$WORK/e2e-onehost.txt" p50_ms) ms, p99 $(kv "$WORK/e2e-onehost.txt" p99_ms) ms; all delivered ${DRAIN_ONEHOST}s after the load stopped"
  log "one host: $ONEHOST_LINE"
fi

# ---- 8. backlog memory ----------------------------------------------------------------------
# The same (warm) node: an endpoint answering 503 at once; the node's settings (above) put
# each failed delivery an hour out and let idle entities passivate after IDLE_TIMEOUT.
BACKLOG_KEY=$($JT io.zyven.bench.Tool tenant "$BASE" "$ADMIN" bench-backlog)
BACKLOG_EP=$($JT io.zyven.bench.Tool endpoint "$BASE" "$BACKLOG_KEY" 10 "$RECV/fail/backlog")
heap_used_kb() { # after `jcmd GC.run`: G1's "used" (KiB), else jstat's survivor + eden + old
  local u
  u=$(jcmd "$NODE_PID" GC.heap_info 2> /dev/null | sed -n 's/.*heap.*total [0-9]*K, used \([0-9]*\)K.*/\1/p' | head -1)
  [ -n "$u" ] || u=$(jstat -gc "$NODE_PID" | awk 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { printf "%d", $c["S0U"] + $c["S1U"] + $c["EU"] + $c["OU"] }')
  echo "$u"
}
full_gc() { jcmd "$NODE_PID" GC.run > /dev/null; sleep 1; jcmd "$NODE_PID" GC.run > /dev/null; sleep 1; }
log "backlog: waiting until no event entity is live (idle passivation $IDLE_TIMEOUT)"
for _ in $(seq 1 90); do [ "$(live_events)" -eq 0 ] && break; sleep 2; done
IDLE_ENTITIES=$(live_events)
full_gc
HEAP_IDLE=$(heap_used_kb)
jcmd "$NODE_PID" GC.class_histogram > "$WORK/histo-idle.txt"
log "backlog: idle node heap after GC: ${HEAP_IDLE} KiB ($IDLE_ENTITIES live event entities)"

log "backlog: accepting $BACKLOG events for an endpoint answering 503 (retry in 1 h)"
B0=$(metric zyven_events_accepted_total)
BT0=$(date +%s)
wrk -t"$CORES" -c"$CONNS" -d3600s --timeout 10s -s "$BENCH_DIR/ingest.lua" "$BASE/v1/events" \
  -- "$BACKLOG_KEY" "$STAMP-backlog" threads="$CORES" quota="$BACKLOG" > "$WORK/wrk-backlog.out" 2>&1 &
WRK_PID=$!; PIDS+=("$WRK_PID")
while kill -0 "$WRK_PID" 2> /dev/null; do
  [ $(($(metric zyven_events_accepted_total) - B0)) -ge "$BACKLOG" ] && break
  [ $(($(date +%s) - BT0)) -ge 1200 ] && { log "backlog: gave up waiting for $BACKLOG acceptances"; break; }
  sleep 1
done
sleep 2; kill -INT "$WRK_PID" 2> /dev/null || true; wait "$WRK_PID" 2> /dev/null || true; forget_pid "$WRK_PID"
BACKLOG_SECONDS=$(($(date +%s) - BT0))
sleep 3
PENDING=$(($(metric zyven_events_accepted_total) - B0))
log "backlog: $PENDING accepted in ${BACKLOG_SECONDS}s; waiting for every first attempt to fail"
for _ in $(seq 1 300); do
  [ "$(metric zyven_delivery_attempts_total)" -ge "$PENDING" ] && break; sleep 1
done
full_gc
HEAP_LIVE=$(heap_used_kb)
LIVE_ENTITIES=$(live_events)
log "backlog: heap with $LIVE_ENTITIES live event entities: ${HEAP_LIVE} KiB; waiting for passivation ($IDLE_TIMEOUT idle)"
PT0=$(date +%s)
for _ in $(seq 1 120); do
  [ "$(live_events)" -eq 0 ] && break; sleep 2
done
PASSIVATED_AFTER=$(($(date +%s) - PT0))
LEFT_ENTITIES=$(live_events)
RS_COUNT=""
for _ in $(seq 1 60); do
  RS_COUNT=$($JT io.zyven.bench.Tool sql "$DB_URL" "$DB_USER" "$DB_PASSWORD" \
    "SELECT count(*) FROM deliveries WHERE endpoint_id = '$BACKLOG_EP' AND status = 'RETRY_SCHEDULED'")
  [ "$RS_COUNT" -ge "$PENDING" ] && break; sleep 2
done
full_gc
HEAP_BACKLOG=$(heap_used_kb)
jcmd "$NODE_PID" GC.class_histogram > "$WORK/histo-backlog.txt"
$JT io.zyven.bench.Tool histo "$WORK/histo-idle.txt" "$WORK/histo-backlog.txt" 8 > "$WORK/histo-diff.txt"
LIVE_IDLE=$(kv "$WORK/histo-diff.txt" live_before); LIVE_BACKLOG=$(kv "$WORK/histo-diff.txt" live_after)
PER_PENDING=$(calc '%.0f' "($HEAP_BACKLOG - $HEAP_IDLE) * 1024 / $PENDING")
PER_PENDING_LIVE=$(calc '%.0f' "($HEAP_LIVE - $HEAP_IDLE) * 1024 / $PENDING")
PER_PENDING_HISTO=$(calc '%.0f' "($LIVE_BACKLOG - $LIVE_IDLE) / $PENDING")
log "backlog: $RS_COUNT RETRY_SCHEDULED in the read model, $LEFT_ENTITIES live entities; heap ${HEAP_BACKLOG} KiB => $PER_PENDING bytes per pending delivery (live objects: $PER_PENDING_HISTO)"
stop_node

kill -TERM "$RECV_PID" 2> /dev/null || true; wait "$RECV_PID" 2> /dev/null || true; forget_pid "$RECV_PID"
END_EPOCH=$(date +%s)
ELAPSED=$((END_EPOCH - START_EPOCH))
MEASURING=$((ELAPSED - BUILD_SECONDS - waited))
if [ "$KEEP_DATA" != 1 ] && [ -z "${ZYVEN_DB_URL:-}" ]; then rm -rf "$WORK/data"; fi

# ---- results ----------------------------------------------------------------------------------
verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "**missed**"; }
R_INSERT=$(calc '%.2f' "$Z_RATE / $CI_RATE")
R_HTTP=$(calc '%.3f' "$Z_RATE / $CH_RATE")
R_E2E=$(calc '%.2f' "$E2E_SAT_RATE / $CI_RATE")
EF_DEL_P50=$(kv "$WORK/e2e-fast.txt" p50_ms); EF_DEL_P99=$(kv "$WORK/e2e-fast.txt" p99_ms)
# CPU per delivered event during the headline: each % of a core is 10 ms of CPU per second.
pct() { printf '%s' "$CPU_MAIN" | sed -n "s/.*$1=\([0-9.]*\)%.*/\1/p"; }
CPU_NODE_MS=$(calc '%.2f' "$(pct node) * 10 / $E2E_SAT_RATE")
CPU_PG_MS=$(calc '%.2f' "$(pct postgres) * 10 / $E2E_SAT_RATE")
CPU_MS=$(calc '%.2f' "$CPU_NODE_MS + $CPU_PG_MS")
# The targets of issue 11 (the delivery core rebuilt).
V_INGEST=$(verdict "$Z_NON2XX + $Z_SOCK == 0 && $Z_P99 <= 50")
V_E2E=$(verdict "$E2E_SAT_RATE >= 0.2 * $CI_RATE && $Z_NON2XX + $Z_SOCK == 0")
V_E2E_P50=$(verdict "$EF_DEL_P50 <= 5")
V_CPU=$(verdict "$CPU_MS <= 0.8")
V_BACKLOG=$(verdict "$PER_PENDING <= 1024")
NOISE_NOTE=""
awk "BEGIN { exit !($PER_PENDING < 64) }" && NOISE_NOTE=" — nothing measurable: within the noise of a heap reading (about ±1 MiB in all)"

{
  echo
  echo "## Run $(date -u '+%Y-%m-%d %H:%M UTC') — Zyven $GIT_REV"
  echo
  echo "- **Machine**: $CORES cores ($MACHINE_CPU), $MEM_TOTAL memory; $(uname -sr); $JAVA_VERSION; wrk $WRK_VERSION."
  echo "- **Database**: $DB_KIND: $DB_SETTINGS."
  echo "- **Command**: \`$COMMAND\` (took $((ELAPSED / 60)) min $((ELAPSED % 60)) s: build and compile ${BUILD_SECONDS} s, waiting for a quiet machine ${waited} s, measuring $((MEASURING / 60)) min $((MEASURING % 60)) s)."
  echo "- **Load from others**: the machine was ${BUSY_BEFORE}% busy (of $((CORES * 100))%) just before the start; the \`other\` column below is CPU used by processes that are not part of the benchmark during each measurement."
  echo "- Node (one for the whole run): \`java ${NODE_OPTS_COMMON[*]} -jar target/zyven.jar\`, default heap and GC. The retry, circuit and passivation settings are there for the backlog figure (a failed delivery waits an hour, the circuit never opens, idle entities passivate after $IDLE_TIMEOUT instead of 3 min); elsewhere no delivery fails and each event's entity stops itself once delivered. The fast receiver's endpoint has max_in_flight $FAST_IN_FLIGHT."
  echo
  echo "### Headline"
  echo
  echo "| | figure | target | |"
  echo "|---|---|---|---|"
  echo "| Ingest, $CONNS connections, ${SECONDS_MAIN}s after ${WARMUP}s warm-up | **$Z_RATE accepted/s**, p50 $Z_P50 ms, p99 $Z_P99 ms, p99.9 $Z_P999 ms; non-2xx $Z_NON2XX, socket errors $Z_SOCK | 0 errors, p99 ≤ 50 ms | $V_INGEST |"
  echo "| Ceiling (a): single-row insert per request, $CONNS JDBC threads | $CI_LINE | | Zyven ÷ (a) = **$R_INSERT** |"
  echo "| Ceiling (b): Pekko HTTP answering 202, no persistence | $CH_RATE/s, p50 $CH_P50 ms, p99 $CH_P99 ms, p99.9 $CH_P999 ms; non-2xx $CH_NON2XX, socket errors $CH_SOCK | | Zyven ÷ (b) = **$R_HTTP** |"
  echo "| End-to-end throughput (during the ingest run above) | **$E2E_SAT_RATE delivered/s** (all delivered ${DRAIN_MAIN}s after the load stopped) | ≥ 0.2× ceiling (a), 0 errors | $R_E2E× — $V_E2E |"
  echo "| CPU per delivered event (node + PostgreSQL, during the ingest run above) | **$CPU_MS ms** (node $CPU_NODE_MS ms, PostgreSQL $CPU_PG_MS ms) | ≤ 0.8 ms | $V_CPU |"
  echo "| Accept-to-delivered, fast receiver, $E2E_RATE events/s offered | **p50 $EF_DEL_P50 ms, p99 $EF_DEL_P99 ms** (p99.9 $(kv "$WORK/e2e-fast.txt" p999_ms) ms); $E2E_DELIVERED delivered/s | p50 ≤ 5 ms at half load | $V_E2E_P50 |"
  echo "| Slow receiver: $SLOW_ENDPOINTS endpoints × max_in_flight $SLOW_IN_FLIGHT, ${SLOW_MS} ms each, $SLOW_RATE events/s offered | $SLOW_DELIVERED delivered/s (bound: $SLOW_CAP/s), accept-to-delivered p50 $(kv "$WORK/e2e-slow.txt" p50_ms) ms, p99 $(kv "$WORK/e2e-slow.txt" p99_ms) ms; $((D1 - D0)) deferrals | | |"
  echo "| Backlog: $PENDING deliveries RETRY_SCHEDULED, entities passivated | **$PER_PENDING bytes per pending delivery**$NOISE_NOTE (heap after GC: idle $((HEAP_IDLE / 1024)) MiB → $((HEAP_BACKLOG / 1024)) MiB) | ≤ 1 KiB | $V_BACKLOG |"
  echo
  echo "### Details"
  echo
  echo "Ingest at $CONNS connections: wrk counted $(kv "$WORK/wrk-main.txt" requests) responses in $(kv "$WORK/wrk-main.txt" duration_s) s; the node's own counter says $Z_METRIC_RATE accepted/s over the same window. Deliveries to the fast receiver ran at the same time (every event is delivered once; duplicates seen by the receiver over the run: $DUPLICATES). Accept-to-delivered over that saturated window: p50 $(kv "$WORK/e2e-main.txt" p50_ms) ms, p99 $(kv "$WORK/e2e-main.txt" p99_ms) ms; events accepted in the window were all delivered at $E2E_SAT_SUSTAINED/s on average, counting until the last one arrived."
  echo
  echo "Database work per accepted event during the ingest window (from \`pg_stat_database\` and \`pg_stat_user_tables\`; it includes the event's delivery and read-model projection, which ran meanwhile; the journal held $JOURNAL_ROWS rows at the start): $PG_MAIN. Ceiling (a) does 1 commit of 1 row per request, by construction."
  echo
  echo "CPU of the node's threads during the ingest window (% of one core, from /proc; JIT compiler and GC threads included): $THREADS_MAIN."
  echo
  echo "CPU during each measurement (% of one core; the machine has $((CORES * 100))%):"
  echo
  echo "| measurement | CPU by process |"
  echo "|---|---|"
  echo "| ceiling (a), inserts (\`ceiling\` = the JDBC client) | $CPU_CI |"
  echo "| ceiling (b), 202 server (\`ceiling\` = the server) | $CPU_C202 |"
  echo "| Zyven ingest, $CONNS connections | $CPU_MAIN |"
  echo "| end-to-end, fast receiver | $CPU_E2E |"
  echo "| end-to-end, slow receiver | $CPU_SLOW |"
  echo
  echo "Scaling curve (each point: ${CURVE_WARMUP}s warm-up, then ${CURVE_SECONDS}s; the JVM already warm from the runs above; fast receiver delivering meanwhile):"
  echo
  echo "| connections | accepted/s | p50 ms | p99 ms | p99.9 ms | non-2xx | socket errors | ÷ ceiling (a) | CPU |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s' "$CURVE_ROWS"
  echo
  echo "End-to-end, fast receiver: wrk paced at $E2E_RATE requests/s over 32 connections, ${E2E_SECONDS}s after 5s at that rate; accepted $EF_RATE/s (ingest p50 $EF_P50 ms, p99 $EF_P99 ms, non-2xx $EF_NON2XX, socket errors $EF_SOCK); every event delivered ${DRAIN_E2E}s after the load stopped. Latency is from the client's send time (written into the payload) to the delivery's arrival at the receiver, same clock."
  echo
  echo "End-to-end, slow receiver: events targeted round-robin at the $SLOW_ENDPOINTS endpoints (\`endpoint_id\`); accepted $ES_RATE/s (ingest p50 $ES_P50 ms, p99 $ES_P99 ms, non-2xx $ES_NON2XX, socket errors $ES_SOCK); every event delivered ${DRAIN_SLOW}s after the load stopped; p99.9 $(kv "$WORK/e2e-slow.txt" p999_ms) ms. Latency is measured at the request's arrival, before the receiver's ${SLOW_MS} ms."
  echo
  if [ -n "$ONEHOST_LINE" ]; then
    echo "Slow receiver, the same $SLOW_ENDPOINTS endpoints (max_in_flight $SLOW_IN_FLIGHT each) all on **one host:port** (\`$RECV/slow/$SLOW_MS/one-host-e<i>\`), 200 events/s for 10 s: $ONEHOST_LINE. Each endpoint has a connection pool of its own (since b2754cb; before, they shared one pool of $SLOW_IN_FLIGHT connections), so this should match the run with a host per endpoint."
    echo
  fi
  echo "Backlog: the same node, once no event entity was live ($IDLE_ENTITIES); one endpoint answering 503 at once (max_in_flight 10). $PENDING events accepted in ${BACKLOG_SECONDS}s, each failed its first attempt and is RETRY_SCHEDULED an hour out ($RS_COUNT such deliveries in the read model). Heap used after \`jcmd GC.run\` (\`GC.heap_info\`): idle node $HEAP_IDLE KiB; with the backlog and $LIVE_ENTITIES live entities $HEAP_LIVE KiB ($PER_PENDING_LIVE bytes per pending delivery); after passivation (${PASSIVATED_AFTER}s of polling, $LEFT_ENTITIES entities left) $HEAP_BACKLOG KiB: **$PER_PENDING bytes per pending delivery**. Live objects from \`GC.class_histogram\`: $LIVE_IDLE → $LIVE_BACKLOG bytes = $PER_PENDING_HISTO bytes per pending delivery; the classes that grew most:"
  echo
  echo '```'
  grep '^grew' "$WORK/histo-diff.txt" | sed 's/^grew //'
  echo '```'
  if [ -n "$PROFILE_TXT" ]; then
    echo
    echo "Profile of the node under the $CONNS-connection ingest load (JFR \`settings=profile\`, ${PROFILE_SECONDS}s, \`bench/java/io/zyven/bench/JfrTop.java\`; accepted $(wrk_summary "$WORK/wrk-profile.txt" | awk '{ print $1 }')/s while recording):"
    echo
    echo '```'
    echo "$PROFILE_TXT"
    echo '```'
  fi
} >> "$RESULTS"

log "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s; results appended to $RESULTS"
cat << EOF

Zyven ingest ($CONNS connections): $Z_RATE accepted/s, p50 $Z_P50 ms, p99 $Z_P99 ms, p99.9 $Z_P999 ms, non-2xx $Z_NON2XX, socket errors $Z_SOCK
Ceiling (a) single-row inserts:    $CI_RATE/s  -> Zyven / (a) = $R_INSERT   (p99 and errors: $V_INGEST)
Ceiling (b) Pekko HTTP 202:        $CH_RATE/s  -> Zyven / (b) = $R_HTTP
End-to-end: $E2E_SAT_RATE delivered/s (/(a) = $R_E2E, $V_E2E); accept-to-delivered at $E2E_RATE/s: p50 $EF_DEL_P50 ms, p99 $EF_DEL_P99 ms ($V_E2E_P50)
CPU per delivered event: $CPU_MS ms (node $CPU_NODE_MS, PostgreSQL $CPU_PG_MS) ($V_CPU)
Slow receiver: $SLOW_DELIVERED delivered/s, p50 $(kv "$WORK/e2e-slow.txt" p50_ms) ms, p99 $(kv "$WORK/e2e-slow.txt" p99_ms) ms
Backlog: $PER_PENDING bytes per pending delivery ($V_BACKLOG)
Scaling: $(printf '%s' "$CURVE_ROWS" | awk -F'|' '{ printf "%s conns %s/s; ", $2, $3 }')
EOF
