#!/usr/bin/env bash
# Zyven retention benchmark: (1) the sweep removing a large backlog of finished
# events while ingest goes on at a fixed rate — its removal rate, the ingest latency beside
# it, and whether the tables grew; (2) a soak at a fixed rate with a 1-minute retention
# period — whether the database size stays flat. Results are appended to bench/RESULTS.md.
# See bench/README.md. Every knob is an environment variable (BENCH_*), listed below.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
cd "$ROOT"

# ---- knobs --------------------------------------------------------------------------
PARTS=${BENCH_PARTS:-"sweep soak"}             # which parts to run: sweep, soak or both
CONNS=${BENCH_CONNS:-32}                       # wrk connections (fill and fixed-rate load)
SWEEP_FILL=${BENCH_SWEEP_FILL:-600000}         # events ingested before the sweep (the target scenario is 10 M)
ISSUE_FILL=10000000                            # the target scenario's fill
SWEEP_RATE=${BENCH_SWEEP_RATE:-850}            # fixed ingest rate (events/s) of the baseline and sweep windows
SWEEP_WARMUP=${BENCH_SWEEP_WARMUP:-30}         # s at that rate on the restarted node before the baseline
BASELINE_SECONDS=${BENCH_BASELINE_SECONDS:-60} # s of the baseline window (no sweep work)
SWEEP_INTERVAL=${BENCH_SWEEP_INTERVAL:-1s}     # zyven.retention.interval of the sweep node
SWEEP_BATCH=${BENCH_SWEEP_BATCH:-20000}        # zyven.retention.batch of the sweep node
SWEEP_MAX_IN_FLIGHT=${BENCH_SWEEP_MAX_IN_FLIGHT:-32} # zyven.retention.max-in-flight
SWEEP_MAX_PER_SECOND=${BENCH_SWEEP_MAX_PER_SECOND:-1000} # zyven.retention.max-per-second (0: unpaced)
SWEEP_MIN_PER_SECOND=${BENCH_SWEEP_MIN_PER_SECOND:-50} # zyven.retention.min-per-second (the pace while the machine is busy)
SWEEP_BUSY_CPU=${BENCH_SWEEP_BUSY_CPU:-0.6}    # zyven.retention.busy-cpu
SWEEP_WINDOW=${BENCH_SWEEP_WINDOW:-180}        # s of load while the sweep runs, then no load until it is done (0: load until it is done)
SWEEP_TIMEOUT=${BENCH_SWEEP_TIMEOUT:-7200}     # give up on the sweep after this many s
AUTOVAC_WAIT=${BENCH_AUTOVAC_WAIT:-60}         # s to wait, idle (autovacuum only), before the last size reading
SOAK_MINUTES=${BENCH_SOAK_MINUTES:-15}
SOAK_RATE=${BENCH_SOAK_RATE:-500}              # events/s during the soak
SOAK_PERIOD=${BENCH_SOAK_PERIOD:-60s}          # retention period of the soak node
SOAK_INTERVAL=${BENCH_SOAK_INTERVAL:-5s}
SOAK_BATCH=${BENCH_SOAK_BATCH:-20000}
SOAK_MAX_PER_SECOND=${BENCH_SOAK_MAX_PER_SECOND:-1000} # the node's default pace (0: unpaced)
SOAK_MIN_PER_SECOND=${BENCH_SOAK_MIN_PER_SECOND:-50}
SOAK_BUSY_CPU=${BENCH_SOAK_BUSY_CPU:-0.6}
SOAK_SAMPLE=${BENCH_SOAK_SAMPLE:-30}           # s between samples
SOAK_SETTLE=${BENCH_SOAK_SETTLE:-180}          # s after which the flatness criterion applies (first cycle over)
FAST_IN_FLIGHT=${BENCH_FAST_IN_FLIGHT:-100}    # max_in_flight of the fast receiver's endpoints
PORT_BASE=${BENCH_PORT_BASE:-18490}            # node, (unused), receiver: PORT_BASE, +1, +2
CLUSTER_PORT=${BENCH_CLUSTER_PORT:-25791}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
KEEP_DATA=${BENCH_KEEP_DATA:-0}
NODE_OPTS_EXTRA=${BENCH_NODE_OPTS:-}           # extra JVM options for the node (space-separated)
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}

COMMAND="bench/retention.sh${*:+ $*}"
for v in $(env | sed -n 's/^\(BENCH_[A-Z_]*\)=.*/\1/p' | sort); do COMMAND="$v=${!v} $COMMAND"; done

NODE_PORT=$PORT_BASE
RECV_PORT=$((PORT_BASE + 2))
BASE=http://127.0.0.1:$NODE_PORT
RECV=http://127.0.0.1:$RECV_PORT
ADMIN=bench-admin-$RANDOM$RANDOM
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$ROOT/target/bench/retention-$STAMP
mkdir -p "$WORK"
START_EPOCH=$(date +%s)
CLK_TCK=$(getconf CLK_TCK)
CORES=$(nproc)
HALF=$((SWEEP_FILL / 2))
TABLES="event_journal event_tag events deliveries attempts"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$WORK/run.log" >&2; }
die() { log "FAILED: $*"; exit 1; }
kv() { tr ' ' '\n' < "$1" | sed -n "s/^$2=//p" | tail -1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
now_us() { date +%s%6N; }
mib() { calc '%.1f' "$1 / 1048576"; }
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for tool in wrk java javac mvn curl jq psql; do command -v $tool > /dev/null || die "$tool is needed"; done

PIDS=()
NODE_PID=0; RECV_PID=0; PG_PID=0; WRK_PID=0
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
forget_pid() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

cpu_snap() { { echo "T $(date +%s%3N)"; head -1 /proc/stat; cat /proc/[0-9]*/stat 2> /dev/null || true; } > "$1"; }
cpu_report() { # cpu_report BEFORE AFTER [role=pid ...]
  local a=$1 b=$2; shift 2
  $JT io.zyven.bench.CpuAccount "$CLK_TCK" "$a" "$b" "$@" 2> /dev/null || echo "(cpu accounting failed)"
}
roles() { echo "node=$NODE_PID postgres=$PG_PID receiver=$RECV_PID wrk=$WRK_PID"; }

log "work directory: $WORK"
MACHINE_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
MEM_TOTAL=$(free -m | awk '/^Mem:/ { printf "%.1f GiB", $2 / 1024 }')
JAVA_VERSION=$( (java -version 2>&1 || true) | head -1)
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
rm -rf target/bench-classes-retention && mkdir -p target/bench-classes-retention
javac -d target/bench-classes-retention -cp "$(cat target/cp.txt):target/classes" $(find bench/java -name '*.java') || die "javac bench/java"
CP="$(cat target/cp.txt):target/classes:target/bench-classes-retention"
BUILD_SECONDS=$(($(date +%s) - BUILD_START))
JT="java -XX:TieredStopAtLevel=1 -cp $CP"

for port in $NODE_PORT $RECV_PORT $CLUSTER_PORT; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then die "port $port is in use (set BENCH_PORT_BASE / BENCH_CLUSTER_PORT)"; fi
done

# ---- processes --------------------------------------------------------------------------
wait_for_line() { # FILE PATTERN TIMEOUT_S
  for _ in $(seq 1 $(($3 * 2))); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.5; done
  return 1
}
start_receiver() {
  java -Xms1g -Xmx1g -cp "$CP" io.zyven.bench.Receiver "$RECV_PORT" 1 > "$WORK/receiver.log" 2>&1 &
  RECV_PID=$!; PIDS+=("$RECV_PID")
  wait_for_line "$WORK/receiver.log" "receiver listening" 60 || die "receiver did not start"
}
recv_reset() { curl -s -X POST "$RECV/_reset" > /dev/null || true; }

# As in run.sh: loopback delivery allowed; no retry or circuit setting matters here (no
# delivery fails). Retention settings come as -D options (ZYVEN_RETENTION_PERIOD for the period).
NODE_OPTS_COMMON=(-Dzyven.delivery.allow-private-targets=true)
# shellcheck disable=SC2206 # word splitting is the point: one option per word
[ -n "$NODE_OPTS_EXTRA" ] && NODE_OPTS_COMMON+=($NODE_OPTS_EXTRA)
DATA=$WORK/data
start_node() { # LABEL PERIOD [java options...]
  local label=$1 period=$2; shift 2
  log "starting node ($label): ZYVEN_RETENTION_PERIOD=$period java ${NODE_OPTS_COMMON[*]} $* -jar target/zyven.jar"
  ZYVEN_HTTP_PORT=$NODE_PORT ZYVEN_CLUSTER_PORT=$CLUSTER_PORT ZYVEN_ADMIN_KEY=$ADMIN ZYVEN_DATA_DIR=$DATA \
    ZYVEN_RETENTION_PERIOD=$period java "${NODE_OPTS_COMMON[@]}" "$@" -jar target/zyven.jar > "$WORK/node-$label.log" 2>&1 &
  NODE_PID=$!; PIDS+=("$NODE_PID")
  $JT io.zyven.bench.Tool ready "$BASE" 180 || { tail -30 "$WORK/node-$label.log"; die "node did not become ready"; }
  PG_PORT=$(sed -n 's/.*Embedded PostgreSQL on port \([0-9]*\).*/\1/p' "$WORK/node-$label.log" | tail -1)
  [ -n "$PG_PORT" ] || die "no 'Embedded PostgreSQL on port' line in the node log (this script needs the embedded database)"
  PG_PID=$(head -1 "$DATA/postgres/postmaster.pid")
}
stop_node() {
  kill -TERM "$NODE_PID" 2> /dev/null || true
  for _ in $(seq 1 120); do kill -0 "$NODE_PID" 2> /dev/null || break; sleep 0.5; done
  kill -0 "$NODE_PID" 2> /dev/null && { log "node did not stop; kill -9"; kill -KILL "$NODE_PID"; }
  forget_pid "$NODE_PID"; NODE_PID=0
  # the node stops its embedded PostgreSQL; wait for that too before the data dir is reused
  for _ in $(seq 1 60); do kill -0 "$PG_PID" 2> /dev/null || break; sleep 0.5; done
}
check_alive() {
  [ "$NODE_PID" = 0 ] || kill -0 "$NODE_PID" 2> /dev/null || die "the node (pid $NODE_PID) exited unexpectedly; see $WORK/node-*.log"
}
metric() {
  check_alive
  { curl -s --max-time 10 "$BASE/metrics" || true; } | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
sql() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -X -q -At -F ' ' -c "$1"; }
# Sizes (bytes) as key=value: db, and per table total/heap/indexes, plus n_dead_tup and n_live_tup.
sizes() {
  local q="SELECT 'db=' || pg_database_size(current_database())" t
  for t in $TABLES; do
    q="$q UNION ALL SELECT '${t}_total=' || pg_total_relation_size('$t') || ' ${t}_heap=' || pg_relation_size('$t')
      || ' ${t}_idx=' || pg_indexes_size('$t')
      || ' ${t}_dead=' || coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '$t'), 0)
      || ' ${t}_live=' || coalesce((SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = '$t'), 0)
      || ' ${t}_autovac=' || coalesce((SELECT to_char(last_autovacuum, 'HH24:MI:SS') FROM pg_stat_user_tables WHERE relname = '$t'), '-')"
  done
  sql "$q" | tr '\n' ' '
}
five_total() { local f=$1 s=0 t; for t in $TABLES; do s=$((s + $(kv "$f" "${t}_total"))); done; echo "$s"; }

create_tenant() { # NAME -> "id api_key"
  curl -s --fail -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\"}" "$BASE/v1/tenants" | jq -r '"\(.id) \(.api_key)"'
}
set_tenant_days() { # TENANT_ID DAYS|null
  curl -s --fail -X PATCH -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d "{\"retention_period_days\":$2}" "$BASE/v1/tenants/$1" > "$WORK/patch-$1.json" || die "PATCH /v1/tenants/$1"
}
create_endpoint() { # API_KEY PATH -> id
  curl -s --fail -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -d "{\"url\":\"$RECV/fast/$2\",\"max_in_flight\":$FAST_IN_FLIGHT,\"description\":\"bench\"}" "$BASE/v1/endpoints" | jq -r .id
}

# wrk in the background (fixed rate with rate=R, or as fast as it goes with quota=N);
# stop_wrk sends SIGINT (wrk then prints its summary) and leaves the BENCH line in $WORK/wrk-LABEL.txt
start_wrk() { # LABEL API_KEY PREFIX [ingest.lua options...]
  local label=$1 key=$2 prefix=$3; shift 3
  wrk -t"$CORES" -c"$CONNS" -d36000s --timeout 10s -s "$BENCH_DIR/ingest.lua" "$BASE/v1/events" \
    -- "$key" "$STAMP-$prefix" threads="$CORES" "$@" > "$WORK/wrk-$label.out" 2>&1 &
  WRK_PID=$!; PIDS+=("$WRK_PID"); WRK_LABEL=$label
}
stop_wrk() {
  kill -INT "$WRK_PID" 2> /dev/null || true; wait "$WRK_PID" 2> /dev/null || true; forget_pid "$WRK_PID"; WRK_PID=0
  grep '^BENCH' "$WORK/wrk-$WRK_LABEL.out" | sed 's/^BENCH //' > "$WORK/wrk-$WRK_LABEL.txt" || die "wrk $WRK_LABEL printed no result"
}
# run_wrk LABEL SECONDS API_KEY PREFIX [options...]: a fixed-length run in the foreground
run_wrk() {
  local label=$1 secs=$2 key=$3 prefix=$4; shift 4
  wrk -t"$CORES" -c"$CONNS" -d"${secs}s" --timeout 10s -s "$BENCH_DIR/ingest.lua" "$BASE/v1/events" \
    -- "$key" "$STAMP-$prefix" threads="$CORES" "$@" > "$WORK/wrk-$label.out" 2>&1 || true
  grep '^BENCH' "$WORK/wrk-$label.out" | sed 's/^BENCH //' > "$WORK/wrk-$label.txt" || die "wrk $label printed no result"
}
wrk_summary() { # FILE -> "accepted/s p50 p99 p99.9 non2xx socket_errors"
  local f=$1 req dur st sock
  req=$(kv "$f" requests); dur=$(kv "$f" duration_s); st=$(kv "$f" status_errors)
  sock=$(($(kv "$f" connect_errors) + $(kv "$f" read_errors) + $(kv "$f" write_errors) + $(kv "$f" timeouts)))
  echo "$(calc '%.0f' "($req - $st) / $dur") $(kv "$f" p50_ms) $(kv "$f" p99_ms) $(kv "$f" p999_ms) $st $sock"
}

# Ingests N events for API_KEY as fast as wrk goes, then waits until the read model shows
# them all DELIVERED for TENANT. Sets FILL_N (accepted), FILL_ACC (accepted/s), FILL_DEL (delivered/s).
fill() { # LABEL TENANT_ID API_KEY N
  local label=$1 tenant=$2 key=$3 n=$4 a0 t0 t1 t2 got last=-1 still=0
  a0=$(metric zyven_events_accepted_total); t0=$(date +%s)
  start_wrk "$label" "$key" "$label" quota="$n"
  while kill -0 "$WRK_PID" 2> /dev/null; do
    [ $(($(metric zyven_events_accepted_total) - a0)) -ge "$n" ] && break
    [ $(($(date +%s) - t0)) -ge "$SWEEP_TIMEOUT" ] && die "fill $label: gave up waiting for $n acceptances"
    sleep 1
  done
  sleep 1; stop_wrk; t1=$(date +%s)
  n=$(($(metric zyven_events_accepted_total) - a0))
  while :; do
    got=$(sql "SELECT count(*) FROM events WHERE tenant_id = '$tenant' AND status = 'DELIVERED'")
    [ "$got" -ge "$n" ] && break
    if [ "$got" = "$last" ]; then still=$((still + 1)); else still=0; fi
    [ "$still" -ge 60 ] && die "fill $label: delivery stuck at $got of $n"
    last=$got; sleep 2
  done
  t2=$(date +%s)
  log "fill $label: $n accepted in $((t1 - t0))s, all delivered after $((t2 - t0))s"
  FILL_N=$n; FILL_ACC=$(calc '%.0f' "$n / ($t1 - $t0 > 0 ? $t1 - $t0 : 1)"); FILL_DEL=$(calc '%.0f' "$n / ($t2 - $t0 > 0 ? $t2 - $t0 : 1)")
}

verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "**missed**"; }
size_rows() { # label=file ... -> markdown rows per relation
  local t col f
  for t in $TABLES; do
    printf '| %s |' "$t"
    for col in "$@"; do
      f=${col#*=}
      printf ' %s / %s / %s MiB (%s dead) |' "$(mib "$(kv "$f" "${t}_total")")" "$(mib "$(kv "$f" "${t}_heap")")" \
        "$(mib "$(kv "$f" "${t}_idx")")" "$(kv "$f" "${t}_dead")"
    done
    echo
  done
  printf '| five tables, total |'; for col in "$@"; do printf ' **%s MiB** |' "$(mib "$(five_total "${col#*=}")")"; done; echo
  printf '| pg_database_size |'; for col in "$@"; do printf ' **%s MiB** |' "$(mib "$(kv "${col#*=}" db)")"; done; echo
}

start_receiver
SECTION_SWEEP=""; SECTION_SOAK=""; HEAD_ROWS=""; SUMMARY=""

# ==== part 1: the sweep under load ==========================================================
if has_part sweep; then
  DATA=$WORK/data-sweep
  # Two tenants, both with their own retention_period_days = 3650 at first, so nothing is
  # removed until the script says so: OLD gets the first half of the fill, KEEP the second half
  # and all the fixed-rate load. The sweep starts when OLD is set back to the node's period
  # (PATCH retention_period_days null), which the restarted node sets so that all of OLD is
  # past it. So the cut between the halves does not depend on timing, and the baseline and
  # the sweep windows run on the same (restarted, warmed-up) JVM.
  start_node sweep-fill 3650d
  read -r OLD_ID OLD_KEY <<< "$(create_tenant bench-retention-old)"
  read -r KEEP_ID KEEP_KEY <<< "$(create_tenant bench-retention-keep)"
  [ -n "$OLD_ID" ] && [ "$OLD_ID" != null ] && [ -n "$KEEP_ID" ] && [ "$KEEP_ID" != null ] || die "could not create tenants"
  set_tenant_days "$OLD_ID" 3650; set_tenant_days "$KEEP_ID" 3650
  create_endpoint "$OLD_KEY" old > /dev/null; create_endpoint "$KEEP_KEY" keep > /dev/null
  DB_SETTINGS=$(sql "SELECT 'PostgreSQL ' || current_setting('server_version') || ', autovacuum=' || current_setting('autovacuum') || ', autovacuum_naptime=' || current_setting('autovacuum_naptime') || ', autovacuum_vacuum_scale_factor=' || current_setting('autovacuum_vacuum_scale_factor')")
  log "database: $DB_SETTINGS"

  log "fill: first half, $HALF events (tenant OLD), $CONNS connections, as fast as it goes"
  fill fill1 "$OLD_ID" "$OLD_KEY" "$HALF"; N_OLD=$FILL_N; FILL1_ACC=$FILL_ACC; FILL1_DEL=$FILL_DEL
  T_MID=$(date +%s)
  recv_reset
  log "fill: second half, $((SWEEP_FILL - HALF)) events (tenant KEEP); T_mid = $(date -d @"$T_MID" +%T)"
  fill fill2 "$KEEP_ID" "$KEEP_KEY" $((SWEEP_FILL - HALF)); N_KEEP=$FILL_N; FILL2_ACC=$FILL_ACC; FILL2_DEL=$FILL_DEL
  recv_reset
  sizes > "$WORK/sizes-before.txt"
  log "sizes before: db $(mib "$(kv "$WORK/sizes-before.txt" db)") MiB, five tables $(mib "$(five_total "$WORK/sizes-before.txt")") MiB"
  stop_node

  # The period: the time since T_mid, rounded down, so that the cutoff (now - period) is
  # after T_mid from the restart on: every event of the first half (all delivered before
  # T_mid) is older than it. The second half is newer than T_mid too, and anyway kept by its
  # tenant's 3650 days (the cutoff moves on while the sweep runs).
  PERIOD_S=$(($(date +%s) - T_MID)); [ "$PERIOD_S" -ge 1 ] || PERIOD_S=1
  start_node sweep "${PERIOD_S}s" -Dzyven.retention.interval="$SWEEP_INTERVAL" -Dzyven.retention.batch="$SWEEP_BATCH" \
    -Dzyven.retention.max-in-flight="$SWEEP_MAX_IN_FLIGHT" -Dzyven.retention.max-per-second="$SWEEP_MAX_PER_SECOND" \
    -Dzyven.retention.min-per-second="$SWEEP_MIN_PER_SECOND" -Dzyven.retention.busy-cpu="$SWEEP_BUSY_CPU"
  PACE="max-per-second $SWEEP_MAX_PER_SECOND, min-per-second $SWEEP_MIN_PER_SECOND, busy-cpu $SWEEP_BUSY_CPU"
  log "sweep node: period ${PERIOD_S}s, interval $SWEEP_INTERVAL, batch $SWEEP_BATCH, max-in-flight $SWEEP_MAX_IN_FLIGHT, $PACE"
  sizes > "$WORK/sizes-restart.txt"

  log "baseline: ${SWEEP_WARMUP}s warm-up then ${BASELINE_SECONDS}s at $SWEEP_RATE events/s (sweep runs but finds nothing)"
  run_wrk sweep-warmup "$SWEEP_WARMUP" "$KEEP_KEY" warm rate="$SWEEP_RATE"
  start_wrk baseline "$KEEP_KEY" base rate="$SWEEP_RATE"
  cpu_snap "$WORK/cpu-base-1"; sleep "$BASELINE_SECONDS"; cpu_snap "$WORK/cpu-base-2"
  CPU_BASE=$(cpu_report "$WORK/cpu-base-1" "$WORK/cpu-base-2" $(roles))
  stop_wrk
  read -r B_RATE B_P50 B_P99 B_P999 B_NON2XX B_SOCK <<< "$(wrk_summary "$WORK/wrk-baseline.txt")"
  REMOVED_BEFORE=$(metric zyven_retention_events_removed_total)
  log "baseline: accepted $B_RATE/s, p50 $B_P50 ms, p99 $B_P99 ms, p99.9 $B_P999 ms (removed so far: $REMOVED_BEFORE)"

  if [ "$SWEEP_WINDOW" -gt 0 ]; then
    log "sweep: tenant OLD back to the node's period; $SWEEP_RATE events/s for ${SWEEP_WINDOW}s, then no load until its $N_OLD events are gone"
  else
    log "sweep: tenant OLD back to the node's period; $SWEEP_RATE events/s until its $N_OLD events are gone"
  fi
  start_wrk sweep "$KEEP_KEY" sweep rate="$SWEEP_RATE"
  R0=$(metric zyven_retention_events_removed_total); ROWS0=$(metric zyven_retention_rows_removed_total)
  S0=$(now_us); cpu_snap "$WORK/cpu-sweep-1"
  set_tenant_days "$OLD_ID" null
  FIRST_US=""; last=-1; still=0; SWEEP_DONE=1; LAST_LOG=$(date +%s); LOADED=1; R_LOAD=""
  : > "$WORK/sweep-progress.txt"
  while :; do
    sleep 1
    r=$(($(metric zyven_retention_events_removed_total) - R0))
    echo "$(( ($(now_us) - S0) / 1000 )) $r" >> "$WORK/sweep-progress.txt"
    [ -z "$FIRST_US" ] && [ "$r" -gt 0 ] && FIRST_US=$(now_us)
    [ "$r" -ge "$N_OLD" ] && break
    if [ "$LOADED" = 1 ] && [ "$SWEEP_WINDOW" -gt 0 ] && [ $(( ($(now_us) - S0) / 1000000 )) -ge "$SWEEP_WINDOW" ]; then
      # The load window is over: its figures are the ones to compare with the baseline; the
      # rest of the sweep runs with no load, at the pace an idle machine allows.
      S1=$(now_us); cpu_snap "$WORK/cpu-sweep-2"; stop_wrk; LOADED=0
      R_LOAD=$(($(metric zyven_retention_events_removed_total) - R0))
      log "sweep: load window over at $R_LOAD of $N_OLD removed; no load from now on"
    fi
    if [ "$r" = "$last" ]; then still=$((still + 1)); else still=0; fi
    if [ "$still" -ge 120 ]; then
      left=$(sql "SELECT count(*) FROM events WHERE tenant_id = '$OLD_ID'")
      [ "$left" = 0 ] && break
      log "sweep: no progress for 120 s at $r of $N_OLD removed ($left left); stopping the window"; SWEEP_DONE=0; break
    fi
    [ $(( ($(now_us) - S0) / 1000000 )) -ge "$SWEEP_TIMEOUT" ] && { log "sweep: timeout at $r of $N_OLD"; SWEEP_DONE=0; break; }
    if [ $(($(date +%s) - LAST_LOG)) -ge 30 ]; then log "sweep: $r of $N_OLD removed"; LAST_LOG=$(date +%s); fi
    last=$r
  done
  S2=$(now_us)
  if [ "$LOADED" = 1 ]; then S1=$S2; cpu_snap "$WORK/cpu-sweep-2"; stop_wrk; R_LOAD=$(($(metric zyven_retention_events_removed_total) - R0)); fi
  CPU_SWEEP=$(cpu_report "$WORK/cpu-sweep-1" "$WORK/cpu-sweep-2" $(roles))
  REMOVED=$(($(metric zyven_retention_events_removed_total) - R0)); ROWS=$(($(metric zyven_retention_rows_removed_total) - ROWS0))
  sizes > "$WORK/sizes-after.txt"
  LEFT_OLD=$(sql "SELECT count(*) FROM events WHERE tenant_id = '$OLD_ID'")
  KEEP_COUNT=$(sql "SELECT count(*) FROM events WHERE tenant_id = '$KEEP_ID'")
  LAST_RUN=$(sql "SELECT last_run_at || ' removed=' || last_run_removed || ' kept=' || last_run_kept || ' oldest=' || coalesce(oldest_event_at::text, '-') FROM retention_sweep" | head -1)
  SWEEP_S=$(calc '%.1f' "($S1 - $S0) / 1e6")    # the window under load
  TOTAL_S=$(calc '%.1f' "($S2 - $S0) / 1e6")
  IDLE_S=$(calc '%.1f' "($S2 - $S1) / 1e6")
  FIRST_S=$(calc '%.1f' "(${FIRST_US:-$S1} - $S0) / 1e6")
  REMOVE_RATE=$(calc '%.0f' "$R_LOAD / (($S1 - ${FIRST_US:-$S0}) / 1e6 > 0 ? ($S1 - ${FIRST_US:-$S0}) / 1e6 : 1)")
  IDLE_RATE=$(calc '%.0f' "($REMOVED - $R_LOAD) / ($IDLE_S > 0 ? $IDLE_S : 1)")
  log "sweep: under load $R_LOAD removed in ${SWEEP_S}s ($REMOVE_RATE/s); then, with no load, $((REMOVED - R_LOAD)) in ${IDLE_S}s ($IDLE_RATE/s)"
  read -r W_RATE W_P50 W_P99 W_P999 W_NON2XX W_SOCK <<< "$(wrk_summary "$WORK/wrk-sweep.txt")"
  RATIO=$(calc '%.2f' "$W_P99 / $B_P99")
  log "sweep: removed $REMOVED events ($ROWS rows) in ${SWEEP_S}s (first removal after ${FIRST_S}s): $REMOVE_RATE events/s; $LEFT_OLD of OLD left"
  log "sweep window ingest: accepted $W_RATE/s, p50 $W_P50 ms, p99 $W_P99 ms (baseline $B_P99 ms: x$RATIO)"
  log "cpu during the sweep: $CPU_SWEEP"
  # every event accepted by this JVM went to KEEP (warm-up, baseline, sweep window)
  N_NEW=$(metric zyven_events_accepted_total)
  log "waiting ${AUTOVAC_WAIT}s, no load (autovacuum only, no VACUUM)"
  sleep "$AUTOVAC_WAIT"
  sizes > "$WORK/sizes-later.txt"
  stop_node
  [ "$KEEP_DATA" = 1 ] || rm -rf "$DATA"

  DB_B=$(kv "$WORK/sizes-before.txt" db); DB_A=$(kv "$WORK/sizes-after.txt" db); DB_L=$(kv "$WORK/sizes-later.txt" db)
  FT_B=$(five_total "$WORK/sizes-before.txt"); FT_A=$(five_total "$WORK/sizes-after.txt"); FT_L=$(five_total "$WORK/sizes-later.txt")
  # The load of the windows added N_NEW events to KEEP, so the relations are bound to be
  # larger than "before" by about their share: the expectation is "before" plus N_NEW times
  # the bytes per event of "before", i.e. the sweep itself (deletes, dead tuples) adds
  # nothing; and, with no load, no growth between "after" and "later" (1 % slack for the
  # free space and visibility maps autovacuum adds).
  BPE=$(calc '%.0f' "$FT_B / ($N_OLD + $N_KEEP)")
  FT_X=$(calc '%.0f' "$FT_B + $N_NEW * $BPE")
  GREW=""
  awk "BEGIN { exit !($FT_A > 1.05 * $FT_X) }" && GREW="$GREW right after the sweep: +$(mib $((FT_A - FT_X))) MiB over the expectation;"
  awk "BEGIN { exit !($FT_L > 1.01 * $FT_A) }" && GREW="$GREW ${AUTOVAC_WAIT}s later, idle: +$(mib $((FT_L - FT_A))) MiB;"
  V_P99=$(verdict "$W_P99 <= 1.2 * $B_P99")
  V_GROW=$([ -z "$GREW" ] && echo "no growth beyond the new events" || echo "**grew:$GREW**")
  SCALE=$(calc '%.0f' "$ISSUE_FILL / $SWEEP_FILL")
  HEAD_ROWS="$HEAD_ROWS| Sweep: removal of $REMOVED finished events ($N_OLD asked; fill scaled down ${SCALE}× from 10 M), pace $PACE | under load: **$REMOVE_RATE events/s** ($R_LOAD in the ${SWEEP_S}s window, first removal ${FIRST_S}s after the go); then with no load: **$IDLE_RATE events/s** ($((REMOVED - R_LOAD)) in ${IDLE_S}s); ${TOTAL_S}s in all; $ROWS rows, $(calc '%.1f' "$ROWS / ($REMOVED > 0 ? $REMOVED : 1)") per event | | $([ "$SWEEP_DONE" = 1 ] && [ "$LEFT_OLD" = 0 ] && echo done || echo "**incomplete: $LEFT_OLD left**") |
| Ingest at $SWEEP_RATE/s, baseline (${BASELINE_SECONDS}s, no sweep work) | p50 $B_P50 ms, **p99 $B_P99 ms**, p99.9 $B_P999 ms; accepted $B_RATE/s; non-2xx $B_NON2XX, socket errors $B_SOCK | | |
| Ingest at $SWEEP_RATE/s during the sweep (${SWEEP_S}s) | p50 $W_P50 ms, **p99 $W_P99 ms**, p99.9 $W_P999 ms; accepted $W_RATE/s; non-2xx $W_NON2XX, socket errors $W_SOCK | p99 within 20 % of the baseline | ×$RATIO — $V_P99 |
| Sizes: five tables / database, before → right after → ${AUTOVAC_WAIT}s later, idle (autovacuum only) | $(mib "$FT_B") → $(mib "$FT_A") → $(mib "$FT_L") MiB / $(mib "$DB_B") → $(mib "$DB_A") → $(mib "$DB_L") MiB; expected right after, from the $N_NEW events the load added (at $(calc '%.1f' "$BPE / 1024") KiB each, as before): $(mib "$FT_X") MiB | no growth from the sweep (≤ expectation + 5 %; none while idle) | $V_GROW |
"
  SUMMARY="${SUMMARY}Sweep: $REMOVED removed, $REMOVE_RATE events/s under load then $IDLE_RATE/s idle; ingest p99 $B_P99 ms -> $W_P99 ms (x$RATIO, $V_P99); sizes $V_GROW
"
  SECTION_SWEEP=$(
    echo "### Part 1: the sweep under load"
    echo
    echo "**Scaled down**: $SWEEP_FILL events filled (BENCH_SWEEP_FILL), where the target scenario has $ISSUE_FILL — ${SCALE}× fewer; at the delivery rate of this run's fill the full fill alone would take about $(calc '%.0f' "$ISSUE_FILL / ($FILL1_DEL > 0 ? $FILL1_DEL : 1) / 60") minutes. The removal rate and the relative latency are the figures to compare; the sweep's duration scales with the fill."
    echo
    echo "How: one node fills two tenants, each with its own \`retention_period_days\` = 3650 (nothing eligible): OLD gets the first half ($N_OLD events, accepted at $FILL1_ACC/s, all delivered at $FILL1_DEL/s on average), then, once every one of them was DELIVERED in the read model (T_mid), KEEP gets the second half ($N_KEEP, $FILL2_ACC/s accepted, $FILL2_DEL/s delivered). The node is stopped (SIGTERM) and restarted on the same data with \`ZYVEN_RETENTION_PERIOD=${PERIOD_S}s\` (the time since T_mid at restart, rounded down: only OLD's events are older than now − period), \`-Dzyven.retention.interval=$SWEEP_INTERVAL -Dzyven.retention.batch=$SWEEP_BATCH -Dzyven.retention.max-in-flight=$SWEEP_MAX_IN_FLIGHT -Dzyven.retention.max-per-second=$SWEEP_MAX_PER_SECOND -Dzyven.retention.min-per-second=$SWEEP_MIN_PER_SECOND -Dzyven.retention.busy-cpu=$SWEEP_BUSY_CPU\`. On that JVM: ${SWEEP_WARMUP}s of warm-up and the ${BASELINE_SECONDS}s baseline, both at $SWEEP_RATE events/s into KEEP (the sweep runs every $SWEEP_INTERVAL but finds nothing: removed during the baseline $REMOVED_BEFORE); then OLD is set back to the node's period (\`PATCH /v1/tenants/{id}\` \`{\"retention_period_days\":null}\`) and the same fixed-rate load runs $([ "$SWEEP_WINDOW" -gt 0 ] && echo "for ${SWEEP_WINDOW}s (the sweep window), then stops, and the sweep goes on with no load until" || echo "until") \`zyven_retention_events_removed_total\` has grown by $N_OLD. KEEP keeps its 3650 days throughout, so the second half and the new events stay whatever the cutoff (it moves on while the sweep runs). Baseline and sweep windows are thus on the same JVM, after the same warm-up, one after the other. Fixed rate: wrk over $CONNS connections paced by \`bench/ingest.lua rate=\` (open-loop schedule, as run.sh's end-to-end runs); latency is wrk's, per request."
    echo
    echo "After the sweep: $LEFT_OLD of OLD's events left, KEEP holds $KEEP_COUNT events ($N_KEEP from the fill, $N_NEW accepted by the restarted node during warm-up, baseline and sweep); \`retention_sweep\`: $LAST_RUN. Then ${AUTOVAC_WAIT}s with no load; no VACUUM was run, only autovacuum ($DB_SETTINGS). Growth check: the sweep window's load adds rows, so \"right after\" is compared with \"before\" + $N_NEW × $(calc '%.1f' "$BPE / 1024") KiB (the five tables' bytes per event before) = $(mib "$FT_X") MiB; it was $(mib "$FT_A") MiB."
    echo
    echo "Sizes (total / heap / indexes, MiB; dead tuples from \`pg_stat_user_tables\`):"
    echo
    echo "| relation | before (filled, node 1) | right after the sweep | ${AUTOVAC_WAIT}s later |"
    echo "|---|---|---|---|"
    size_rows b="$WORK/sizes-before.txt" a="$WORK/sizes-after.txt" l="$WORK/sizes-later.txt"
    echo
    echo "Last autovacuum (time of day, UTC) per table ${AUTOVAC_WAIT}s after the sweep: $(for t in $TABLES; do printf '%s %s; ' "$t" "$(kv "$WORK/sizes-later.txt" "${t}_autovac")"; done)"
    echo
    echo "CPU (% of one core; the machine has $((CORES * 100))%):"
    echo
    echo "| window | CPU by process |"
    echo "|---|---|"
    echo "| baseline | $CPU_BASE |"
    echo "| sweep | $CPU_SWEEP |"
    echo
    echo "Removal progress (s since the go : events removed), about 20 samples:"
    echo
    echo '```'
    awk -v n="$(wc -l < "$WORK/sweep-progress.txt")" 'BEGIN { k = int(n / 20); if (k < 1) k = 1 }
      (NR - 1) % k == 0 || NR == n { printf "%.0f:%s  ", $1 / 1000, $2 } END { print "" }' "$WORK/sweep-progress.txt" | fold -s -w 100
    echo '```'
  )
fi

# ==== part 2: soak ============================================================================
if has_part soak; then
  DATA=$WORK/data-soak
  recv_reset
  start_node soak "$SOAK_PERIOD" -Dzyven.retention.interval="$SOAK_INTERVAL" -Dzyven.retention.batch="$SOAK_BATCH" \
    -Dzyven.retention.max-per-second="$SOAK_MAX_PER_SECOND" -Dzyven.retention.min-per-second="$SOAK_MIN_PER_SECOND" \
    -Dzyven.retention.busy-cpu="$SOAK_BUSY_CPU"
  SOAK_PACE="max-per-second $SOAK_MAX_PER_SECOND, min-per-second $SOAK_MIN_PER_SECOND, busy-cpu $SOAK_BUSY_CPU"
  read -r SOAK_ID SOAK_KEY <<< "$(create_tenant bench-retention-soak)"
  [ -n "$SOAK_ID" ] && [ "$SOAK_ID" != null ] || die "could not create the soak tenant"
  create_endpoint "$SOAK_KEY" soak > /dev/null
  log "soak: $SOAK_RATE events/s for $SOAK_MINUTES min, period $SOAK_PERIOD, interval $SOAK_INTERVAL, batch $SOAK_BATCH, $SOAK_PACE; a sample every ${SOAK_SAMPLE}s"
  SOAK_S=$((SOAK_MINUTES * 60))
  start_wrk soak "$SOAK_KEY" soak rate="$SOAK_RATE"
  K0=$(date +%s); cpu_snap "$WORK/cpu-soak-1"
  : > "$WORK/soak-samples.txt"
  while :; do
    el=$(($(date +%s) - K0))
    sizes > "$WORK/soak-sizes.txt"
    echo "t=$el $(cat "$WORK/soak-sizes.txt") events=$(sql 'SELECT count(*) FROM events') oldest=$(metric zyven_retention_oldest_event_age_seconds) removed=$(metric zyven_retention_events_removed_total) accepted=$(metric zyven_events_accepted_total)" >> "$WORK/soak-samples.txt"
    log "soak t=${el}s: db $(mib "$(kv "$WORK/soak-sizes.txt" db)") MiB, events $(tail -1 "$WORK/soak-samples.txt" | tr ' ' '\n' | sed -n 's/^events=//p'), oldest $(tail -1 "$WORK/soak-samples.txt" | tr ' ' '\n' | sed -n 's/^oldest=//p')s"
    [ "$el" -ge "$SOAK_S" ] && break
    next=$(( (el / SOAK_SAMPLE + 1) * SOAK_SAMPLE )); [ "$next" -gt "$SOAK_S" ] && next=$SOAK_S
    sleep $((next - el > 0 ? next - el : 1))
  done
  cpu_snap "$WORK/cpu-soak-2"
  CPU_SOAK=$(cpu_report "$WORK/cpu-soak-1" "$WORK/cpu-soak-2" $(roles))
  stop_wrk
  read -r K_RATE K_P50 K_P99 K_P999 K_NON2XX K_SOCK <<< "$(wrk_summary "$WORK/wrk-soak.txt")"
  stop_node
  [ "$KEEP_DATA" = 1 ] || rm -rf "$DATA"
  # flatness: samples at t >= SOAK_SETTLE
  read -r FL_N FL_MIN FL_MEAN FL_MAX <<< "$(awk -v s="$SOAK_SETTLE" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    v["t"] >= s { n++; d = v["db"]; sum += d; if (n == 1 || d < mn) mn = d; if (n == 1 || d > mx) mx = d }
    END { if (n == 0) print 0, 0, 0, 0; else printf "%d %d %.0f %d\n", n, mn, sum / n, mx }' "$WORK/soak-samples.txt")"
  if [ "$FL_N" -ge 2 ]; then
    DEV_LO=$(calc '%.1f' "($FL_MIN - $FL_MEAN) * 100 / $FL_MEAN"); DEV_HI=$(calc '%.1f' "($FL_MAX - $FL_MEAN) * 100 / $FL_MEAN")
    FLAT=$(awk "BEGIN { exit !($FL_MAX <= 1.1 * $FL_MEAN && $FL_MIN >= 0.9 * $FL_MEAN) }" && echo "flat" || echo "**not flat**")
    FLAT_LINE="$FL_N samples from minute $(calc '%.1f' "$SOAK_SETTLE / 60") on: min $(mib "$FL_MIN") MiB, mean $(mib "$FL_MEAN") MiB, max $(mib "$FL_MAX") MiB ($DEV_LO % / +$DEV_HI % of the mean)"
  else
    FLAT="**not judged**"; FLAT_LINE="fewer than 2 samples after ${SOAK_SETTLE}s (soak too short)"
  fi
  # A node that cannot take the offered rate has no CPU to remove with either: say so,
  # since the flatness figure then tests the machine's capacity, not retention.
  if awk "BEGIN { exit !($K_RATE < 0.95 * $SOAK_RATE) }"; then
    FLAT="$FLAT; **overloaded** (accepted $K_RATE of $SOAK_RATE events/s: rerun at a rate this machine sustains, BENCH_SOAK_RATE)"
  fi
  log "soak: $FLAT — $FLAT_LINE; ingest $K_RATE/s p50 $K_P50 ms p99 $K_P99 ms"
  HEAD_ROWS="$HEAD_ROWS| Soak: $SOAK_RATE events/s for $SOAK_MINUTES min, period $SOAK_PERIOD, interval $SOAK_INTERVAL, batch $SOAK_BATCH, $SOAK_PACE | pg_database_size: $FLAT_LINE | within ±10 % of the mean after the first cycle | $FLAT |
"
  SUMMARY="${SUMMARY}Soak: $FLAT ($FLAT_LINE)
"
  SECTION_SOAK=$(
    echo "### Part 2: soak"
    echo
    echo "A fresh node (fresh data directory): \`ZYVEN_RETENTION_PERIOD=$SOAK_PERIOD -Dzyven.retention.interval=$SOAK_INTERVAL -Dzyven.retention.batch=$SOAK_BATCH -Dzyven.retention.max-per-second=$SOAK_MAX_PER_SECOND -Dzyven.retention.min-per-second=$SOAK_MIN_PER_SECOND -Dzyven.retention.busy-cpu=$SOAK_BUSY_CPU\`, one tenant, one endpoint on the fast receiver (max_in_flight $FAST_IN_FLIGHT); wrk paced at $SOAK_RATE events/s over $CONNS connections for $SOAK_MINUTES min: accepted $K_RATE/s, p50 $K_P50 ms, p99 $K_P99 ms, p99.9 $K_P999 ms, non-2xx $K_NON2XX, socket errors $K_SOCK. CPU over the soak: $CPU_SOAK."
    echo
    echo "Flatness (pg_database_size, samples at t ≥ ${SOAK_SETTLE}s): $FLAT — $FLAT_LINE."
    echo
    echo "| t (s) | database MiB | event_journal | event_tag | events | deliveries | attempts | events rows | oldest event age (s) | removed (total) |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      m = 1048576
      printf "| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %d | %d |\n", v["t"], v["db"] / m, v["event_journal_total"] / m,
        v["event_tag_total"] / m, v["events_total"] / m, v["deliveries_total"] / m, v["attempts_total"] / m, v["events"], v["oldest"], v["removed"] }' \
      "$WORK/soak-samples.txt"
    echo
    echo "Table columns are pg_total_relation_size (heap + indexes + TOAST), MiB."
  )
fi

kill -TERM "$RECV_PID" 2> /dev/null || true; wait "$RECV_PID" 2> /dev/null || true; forget_pid "$RECV_PID"; RECV_PID=0
ELAPSED=$(($(date +%s) - START_EPOCH))

{
  echo
  echo "## Retention run $(date -u '+%Y-%m-%d %H:%M UTC') — Zyven $GIT_REV"
  echo
  echo "- **Machine**: $CORES cores ($MACHINE_CPU), $MEM_TOTAL memory; $(uname -sr); $JAVA_VERSION."
  echo "- **Command**: \`$COMMAND\` (took $((ELAPSED / 60)) min $((ELAPSED % 60)) s, build ${BUILD_SECONDS} s)."
  echo "- **Load from others**: the \`other\` share in the CPU figures below is CPU used by processes that are not part of the benchmark (other users of the machine); it distorts the latencies."
  echo "- Node: \`java ${NODE_OPTS_COMMON[*]} -jar target/zyven.jar\` with the embedded PostgreSQL, default heap and GC; retention settings per part below."
  echo
  echo "### Headline"
  echo
  echo "| | figure | target | |"
  echo "|---|---|---|---|"
  printf '%s' "$HEAD_ROWS"
  if [ -n "$SECTION_SWEEP" ]; then echo; echo "$SECTION_SWEEP"; fi
  if [ -n "$SECTION_SOAK" ]; then echo; echo "$SECTION_SOAK"; fi
} >> "$RESULTS"

log "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s; results appended to $RESULTS"
printf '\n%s' "$SUMMARY"
