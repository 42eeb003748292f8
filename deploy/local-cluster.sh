#!/usr/bin/env bash
# A Zyven cluster on one machine, against one PostgreSQL, for trying scale-out by hand.
#
#   deploy/local-cluster.sh start       PostgreSQL (port 5433) + nodes 1-3
#   deploy/local-cluster.sh add N       one more node (N = 4, 5, ...) joins under load
#   deploy/local-cluster.sh stop [N]    SIGTERM: node N (or all) leaves gracefully
#   deploy/local-cluster.sh kill N      kill -9 node N
#   deploy/local-cluster.sh status      members and shards, from node 1
#
# Node N serves HTTP on 808N and Pekko remoting on 2552N; nodes 1 and 2 are the seeds.
# Logs and pids are under data/cluster/.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=data/cluster
PG_PORT=5433
ADMIN_KEY=${ZYVEN_ADMIN_KEY:-local-admin}
JAR=target/zyven.jar
mkdir -p "$DIR"

jar() { [ -f "$JAR" ] || mvn -q -B package -DskipTests; }

start_pg() {
  if [ -f "$DIR/postgres.pid" ] && kill -0 "$(cat "$DIR/postgres.pid")" 2>/dev/null; then return; fi
  java -cp "$JAR" io.zyven.app.store.EmbeddedDatabase "$DIR" "$PG_PORT" > "$DIR/postgres.log" 2>&1 &
  echo $! > "$DIR/postgres.pid"
  until grep -q "PostgreSQL ready" "$DIR/postgres.log"; do sleep 0.5; done
  echo "PostgreSQL on port $PG_PORT"
}

start_node() {
  local n=$1
  ZYVEN_HTTP_PORT=$((8080 + n)) ZYVEN_CLUSTER_PORT=$((25520 + n)) \
  ZYVEN_SEED_NODES="pekko://zyven@127.0.0.1:25521,pekko://zyven@127.0.0.1:25522" \
  ZYVEN_DB_URL="jdbc:postgresql://localhost:$PG_PORT/postgres" ZYVEN_DB_USER=postgres ZYVEN_DB_PASSWORD= \
  ZYVEN_ADMIN_KEY="$ADMIN_KEY" \
    java -jar "$JAR" > "$DIR/node-$n.log" 2>&1 &
  echo $! > "$DIR/node-$n.pid"
  echo "node $n: http://localhost:$((8080 + n)) (log $DIR/node-$n.log)"
}

stop_node() {
  local n=$1
  if [ -f "$DIR/node-$n.pid" ]; then kill "$(cat "$DIR/node-$n.pid")" 2>/dev/null || true; rm -f "$DIR/node-$n.pid"; fi
}

case "${1:-}" in
  start) jar; start_pg; for n in 1 2 3; do start_node "$n"; done
         echo "admin key: $ADMIN_KEY; wait for curl -s localhost:8081/health/ready" ;;
  add)   jar; start_node "${2:?node number}" ;;
  stop)  if [ -n "${2:-}" ]; then stop_node "$2"; else
           for f in "$DIR"/node-*.pid; do [ -e "$f" ] && stop_node "$(basename "$f" .pid | cut -d- -f2)"; done
           [ -f "$DIR/postgres.pid" ] && { sleep 10; kill "$(cat "$DIR/postgres.pid")" 2>/dev/null || true; rm -f "$DIR/postgres.pid"; }
         fi ;;
  kill)  kill -9 "$(cat "$DIR/node-${2:?node number}.pid")"; rm -f "$DIR/node-$2.pid" ;;
  status) curl -s -H "Authorization: Bearer $ADMIN_KEY" localhost:8081/v1/cluster; echo ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
