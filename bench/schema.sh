#!/usr/bin/env bash
# Zyven schema benchmark: ingest of events whose type has a typical JSON Schema (10
# properties, a nested object, an enum, patterns) against the same events of a type without
# one, in one run on one node, after a JIT warm-up. Rounds alternate the two so that drift
# (other load, the database growing) falls on both. Prints the rates, p50/p99 and the ratio,
# and appends a "Schema run" section to bench/RESULTS.md. See bench/README.md.
# Every knob is an environment variable (BENCH_*), listed below.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
cd "$ROOT"

# ---- knobs --------------------------------------------------------------------------
CONNS=${BENCH_CONNS:-32}              # wrk connections, the same for both
WARMUP=${BENCH_WARMUP:-45}            # s of load before measuring (JIT needs ~45 s on 2 cores)
SECONDS_EACH=${BENCH_SECONDS:-30}     # s of each measurement
ROUNDS=${BENCH_ROUNDS:-4}             # rounds of both, in ABBA order (an even count cancels a steady drift)
FAST_IN_FLIGHT=${BENCH_FAST_IN_FLIGHT:-100}
PORT_BASE=${BENCH_PORT_BASE:-18500}   # node, (unused), receiver: PORT_BASE, +1, +2
CLUSTER_PORT=${BENCH_CLUSTER_PORT:-25792}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/RESULTS.md}

COMMAND="bench/schema.sh"
for v in $(env | sed -n 's/^\(BENCH_[A-Z_]*\)=.*/\1/p' | sort); do COMMAND="$v=${!v} $COMMAND"; done

NODE_PORT=$PORT_BASE
RECV_PORT=$((PORT_BASE + 2))
BASE=http://127.0.0.1:$NODE_PORT
RECV=http://127.0.0.1:$RECV_PORT
ADMIN=bench-admin-$RANDOM$RANDOM
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$ROOT/target/bench/schema-$STAMP
mkdir -p "$WORK"
CORES=$(nproc)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$WORK/run.log" >&2; }
die() { log "FAILED: $*"; exit 1; }
kv() { tr ' ' '\n' < "$1" | sed -n "s/^$2=//p" | tail -1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

for tool in wrk java javac mvn curl; do command -v $tool > /dev/null || die "$tool is needed (wrk: apt-get install -y wrk)"; done

PIDS=()
NODE_PID=0; RECV_PID=0
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 120); do kill -0 "$p" 2> /dev/null || break; sleep 0.5; done
    kill -0 "$p" 2> /dev/null && kill -KILL "$p" 2> /dev/null || true
  done
  [ "$rc" != 0 ] && log "run failed (exit $rc); logs in $WORK"
  exit "$rc"
}
trap cleanup EXIT

# ---- build: the same jar and helpers as run.sh ------------------------------------------
if [ "$SKIP_BUILD" != 1 ]; then
  log "building target/zyven.jar and the classpath (mvn)"
  mvn -q -B package -DskipTests > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; die "mvn package"; }
  mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt >> "$WORK/build.log" 2>&1 || die "mvn dependency:build-classpath"
fi
[ -f target/zyven.jar ] && [ -f target/cp.txt ] || die "target/zyven.jar or target/cp.txt missing (run without BENCH_SKIP_BUILD)"
rm -rf target/bench-classes && mkdir -p target/bench-classes
javac -d target/bench-classes -cp "$(cat target/cp.txt):target/classes" $(find bench/java -name '*.java') || die "javac bench/java"
CP="$(cat target/cp.txt):target/classes:target/bench-classes"
JT="java -XX:TieredStopAtLevel=1 -cp $CP"

for port in $NODE_PORT $RECV_PORT $CLUSTER_PORT; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then die "port $port is in use (set BENCH_PORT_BASE / BENCH_CLUSTER_PORT)"; fi
done

# ---- processes: bench/java's receiver, one node as run.sh starts it -----------------------
java -Xms512m -Xmx512m -cp "$CP" io.zyven.bench.Receiver "$RECV_PORT" 1 > "$WORK/receiver.log" 2>&1 &
RECV_PID=$!; PIDS+=("$RECV_PID")
for _ in $(seq 1 120); do grep -q "receiver listening" "$WORK/receiver.log" 2> /dev/null && break; sleep 0.5; done
grep -q "receiver listening" "$WORK/receiver.log" || die "receiver did not start"

log "starting the node"
ZYVEN_HTTP_PORT=$NODE_PORT ZYVEN_CLUSTER_PORT=$CLUSTER_PORT ZYVEN_ADMIN_KEY=$ADMIN ZYVEN_DATA_DIR=$WORK/data \
  java -Dzyven.delivery.allow-private-targets=true -jar target/zyven.jar > "$WORK/node.log" 2>&1 &
NODE_PID=$!; PIDS+=("$NODE_PID")
$JT io.zyven.bench.Tool ready "$BASE" 180 || { tail -30 "$WORK/node.log"; die "node did not become ready"; }

KEY=$($JT io.zyven.bench.Tool tenant "$BASE" "$ADMIN" bench-schema)
$JT io.zyven.bench.Tool endpoint "$BASE" "$KEY" "$FAST_IN_FLIGHT" "$RECV/fast/schema" > /dev/null

# The two types: the same events, one type with a typical schema, one without.
register() { # BODY
  local code
  code=$(curl -s -o "$WORK/register.out" -w '%{http_code}' -X POST "$BASE/v1/event-types" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$1")
  [ "$code" = 201 ] || die "registering a type: $code $(cat "$WORK/register.out")"
}
register '{"name":"bench.plain","description":"no schema"}'
register '{"name":"bench.typed","description":"a typical schema","schema":{
  "$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
  "required":["id","sent_us","seq","source","status","amount","currency","customer"],
  "properties":{
    "id":{"type":"string","pattern":"^ord_[0-9]+$"},
    "sent_us":{"type":"integer","minimum":0},
    "seq":{"type":"integer","minimum":0},
    "source":{"type":"string","maxLength":64},
    "status":{"enum":["new","paid","shipped","cancelled"]},
    "amount":{"type":"number","minimum":0},
    "currency":{"type":"string","pattern":"^[A-Z]{3}$"},
    "customer":{"type":"object","required":["id","email"],"additionalProperties":false,
      "properties":{"id":{"type":"string"},"email":{"type":"string","pattern":"^[^@ ]+@[^@ ]+$"},"name":{"type":"string"}}},
    "tags":{"type":"array","items":{"type":"string"},"maxItems":10},
    "pad":{"type":"string","maxLength":1000}}}}'

# run_wrk LABEL SECONDS TYPE: leaves wrk's BENCH line in $WORK/wrk-LABEL.txt
run_wrk() {
  local label=$1 secs=$2 type=$3 threads=$((CONNS < CORES ? CONNS : CORES))
  wrk -t"$threads" -c"$CONNS" -d"${secs}s" --timeout 10s -s "$BENCH_DIR/ingest.lua" "$BASE/v1/events" \
    -- "$KEY" "$STAMP-$label" threads="$threads" type="$type" payload=typed > "$WORK/wrk-$label.out" 2>&1 || true
  grep '^BENCH' "$WORK/wrk-$label.out" | sed 's/^BENCH //' > "$WORK/wrk-$label.txt" || die "wrk $label printed no result"
  kill -0 "$NODE_PID" 2> /dev/null || die "the node exited; see $WORK/node.log"
}
accepted_rate() { # FILE -> accepted requests per second (non-2xx left out)
  calc '%.0f' "($(kv "$1" requests) - $(kv "$1" status_errors)) / $(kv "$1" duration_s)"
}
# Lets the receiver catch up, so one run's deliveries do not weigh on the next.
drain() {
  local last=-1 n
  for _ in $(seq 1 120); do
    n=$(curl -s --max-time 5 "$RECV/_count" || echo 0)
    [ "$n" = "$last" ] && return 0
    last=$n; sleep 1
  done
}

# One check that the schema is enforced at all: a payload that breaks it is refused.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/events" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' -H "Idempotency-Key: $STAMP-check" -d '{"type":"bench.typed","payload":{"id":"x"}}')
[ "$code" = 422 ] || die "a payload breaking the schema answered $code, not 422"

log "warm-up: ${WARMUP}s, half without and half with the schema, $CONNS connections"
run_wrk warm-plain $((WARMUP / 2 > 0 ? WARMUP / 2 : 1)) bench.plain
run_wrk warm-typed $((WARMUP - WARMUP / 2 > 0 ? WARMUP - WARMUP / 2 : 1)) bench.typed
drain

PLAIN=(); TYPED=()
for r in $(seq 1 "$ROUNDS"); do
  # Odd rounds without the schema first, even rounds with it first: throughput still drifts
  # after the warm-up (the JIT, the tables' caches), and a fixed order would hand the later
  # slot the drift as if it were the schema's doing.
  order="plain typed"; [ $((r % 2)) = 0 ] && order="typed plain"
  for kind in $order; do
    run_wrk "$kind-$r" "$SECONDS_EACH" "bench.$kind"
    f="$WORK/wrk-$kind-$r.txt"
    [ "$(kv "$f" status_errors)" = 0 ] || log "round $r $kind: $(kv "$f" status_errors) answers that were not 2xx"
    line="$(accepted_rate "$f") $(kv "$f" p50_ms) $(kv "$f" p99_ms)"
    log "round $r, $kind: $line (accepted/s p50_ms p99_ms)"
    if [ "$kind" = plain ]; then PLAIN+=("$line"); else TYPED+=("$line"); fi
    drain
  done
done

mean() { printf '%s\n' "$@" | awk -v c="$FIELD" '{ s += $c; n++ } END { printf "%.2f", s / n }'; }
FIELD=1; P_RATE=$(mean "${PLAIN[@]}"); T_RATE=$(mean "${TYPED[@]}")
FIELD=2; P_P50=$(mean "${PLAIN[@]}"); T_P50=$(mean "${TYPED[@]}")
FIELD=3; P_P99=$(mean "${PLAIN[@]}"); T_P99=$(mean "${TYPED[@]}")
RATIO=$(calc '%.3f' "$T_RATE / $P_RATE")
SLOWER=$(calc '%.1f' "(1 - $T_RATE / $P_RATE) * 100")
VERDICT=$(awk -v s="$SLOWER" 'BEGIN { print (s <= 10 ? "within" : "over") }')
log "without schema: $P_RATE/s p50 ${P_P50} ms p99 ${P_P99} ms; with schema: $T_RATE/s p50 ${T_P50} ms p99 ${T_P99} ms"
log "ratio (with/without): $RATIO, ${SLOWER}% slower: $VERDICT the 10 % target"

{
  echo
  echo "## Schema run $(date -u '+%Y-%m-%d %H:%M') UTC — Zyven $(git rev-parse --short HEAD 2> /dev/null || echo unknown)"
  echo
  echo "\`$COMMAND\` on $CORES cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)):"
  echo "$CONNS connections, ${WARMUP}s warm-up, $ROUNDS rounds of ${SECONDS_EACH}s each way, ~700-byte payloads of the same shape."
  echo
  echo "| | accepted/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|"
  echo "| type without a schema | $P_RATE | $P_P50 | $P_P99 |"
  echo "| type with a typical schema | $T_RATE | $T_P50 | $T_P99 |"
  echo
  echo "With/without: **$RATIO** (${SLOWER} % slower; target: at most 10 %, $VERDICT). Per round: without ${PLAIN[*]}; with ${TYPED[*]} (accepted/s p50 p99)."
} >> "$RESULTS"
log "appended to $RESULTS"
