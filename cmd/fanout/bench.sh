#!/usr/bin/env bash
# Fan-out benchmark: the Go server against the Node reference
# (testdata/noderef), both on loopback, driven by cmd/fanout.
#
#   bash cmd/fanout/bench.sh                 # 1000, 5000 and 10000 clients
#   bash cmd/fanout/bench.sh 1000 5000       # chosen client counts
#   TARGETS=go POSTS=50 bash cmd/fanout/bench.sh 2000
#   CLUSTER=2 bash cmd/fanout/bench.sh 2000  # two Go processes on one Redis:
#                                            # streams adapter vs pub/sub
#   CLUSTER=redis-cluster bash cmd/fanout/bench.sh 2000
#                                            # two Go processes on a 3-master
#                                            # Redis Cluster: sharded vs pub/sub
#   SILENT=1 bash cmd/fanout/bench.sh 100    # clients that never read (see below)
#   POLLING_SHARE=1 CONTENT_BYTES=8192 bash cmd/fanout/bench.sh 2000
#                                            # long-polling, posts of 8 KiB:
#                                            # compressed answers on both sides
#
# Each server is started fresh for every client count (so its RSS and CPU
# belong to that run alone) and stopped after it; both are stopped on any
# exit. Results: one JSON line per run in $OUT_DIR/results.jsonl, server
# logs beside it, and one comparison table (Go/Node ratios) at the end.
#
# Environment (defaults in brackets):
#   POSTS [20]  WARMUP [1]  POLLING_SHARE [0.05]  CONNECT_CONCURRENCY [200]
#   INTERVAL [auto = 0.1 ms per client, at least 250ms: so that one post's
#             fan-out normally ends before the next starts, and the figures
#             are latency rather than a backlog; both servers get the same]
#   CONNECT_RATE [0 = unlimited]  RUN_TIMEOUT [5m]  TARGETS ["go node"]
#   GO_PORT [18080]  NODE_PORT [18090]  OUT_DIR [a new /tmp/fanout-bench.*]
#   NODE_CSR [0; 1 turns on connection state recovery in the Node reference,
#             as the Go server always has it]
#   CONTENT_BYTES [0 = one short sentence; else each post's content is this
#             many bytes of prose-like words, the same for both servers]
#   HTTP_COMPRESSION [true]  HTTP_COMPRESSION_THRESHOLD [1024]: compressed
#             long-polling answers, given to both servers alike (Go's
#             SOCKETIO_HTTP_COMPRESSION*, Node's httpCompression; on with
#             1024 is both servers' default); the polling clients accept
#             gzip, deflate and br, as a browser does
#   PER_MESSAGE_DEFLATE [0; 1 = permessage-deflate on both servers (Go's
#             SOCKETIO_PER_MESSAGE_DEFLATE, Node's perMessageDeflate) with
#             PER_MESSAGE_DEFLATE_THRESHOLD [1024], and the WebSocket
#             clients offer it (and fail if it is not accepted)]
#   FANOUT_ARGS [extra flags for cmd/fanout]
#   CLUSTER [unset; 2 = the cluster mode: for each client count, two Go
#            processes (GO_PORT and GO_PORT+1) on the Redis at BENCH_REDIS_URL,
#            first with REDIS_ADAPTER=streams, then pubsub; the clients are
#            split over both, posts go to the first, so every event crosses
#            Redis for half of them; CPU and RSS are both processes' summed;
#            the table compares go-streams with go-pubsub. TARGETS is unused]
#   BENCH_REDIS_URL [redis://127.0.0.1:6379/0; each run uses a stream and
#            channel prefix of its own, its keys deleted after it]
#   CLUSTER=redis-cluster: the same two processes, on a 3-master Redis
#            Cluster the script starts (redis-server and redis-cli, ports
#            BENCH_REDIS_CLUSTER_PORT [17100] to +2, no persistence), first
#            with REDIS_ADAPTER=sharded (REDIS_SUBSCRIPTION_MODE
#            BENCH_SUBSCRIPTION_MODE [static]: the posts go to every
#            socket, over the namespace's channel in every mode), then
#            pubsub; also Redis's CPU (used_cpu_sys + used_cpu_user of INFO
#            cpu, summed over the masters) over each run, less what the
#            masters burn idle (measured for 3 s before the first run), per
#            post (warm-up included; the connects cost Redis nothing in
#            static mode), and the masters' time in PUBLISH and SPUBLISH
#            per post (INFO commandstats: the commands alone, without the
#            cluster bus that copies a PUBLISH to every node)
#   SILENT [unset; 1 = the silent mode: the clients connect over WebSocket
#            and never read again while POSTS (here 700 by default) posts of
#            CONTENT [19990] characters are created; each server's peak RSS,
#            its RSS and (Go) heap in use AFTER [30s] after the clients are
#            dropped; `fanout silent` prints one line per server]
# Exits non-zero if any run lost a message or did not connect every client.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

CLIENT_COUNTS=("$@")
[ ${#CLIENT_COUNTS[@]} -gt 0 ] || CLIENT_COUNTS=(1000 5000 10000)
SILENT="${SILENT:-}"
POSTS="${POSTS:-$([ -n "$SILENT" ] && echo 700 || echo 20)}"
CONTENT="${CONTENT:-19990}"
CONTENT_BYTES="${CONTENT_BYTES:-0}"
HTTP_COMPRESSION="${HTTP_COMPRESSION:-true}"
HTTP_COMPRESSION_THRESHOLD="${HTTP_COMPRESSION_THRESHOLD:-1024}"
PER_MESSAGE_DEFLATE="${PER_MESSAGE_DEFLATE:-0}"
PER_MESSAGE_DEFLATE_THRESHOLD="${PER_MESSAGE_DEFLATE_THRESHOLD:-1024}"
case "$PER_MESSAGE_DEFLATE" in
1 | true) PER_MESSAGE_DEFLATE=true ;;
0 | false | "") PER_MESSAGE_DEFLATE=false ;;
*) echo "bench: PER_MESSAGE_DEFLATE=$PER_MESSAGE_DEFLATE: want 0 or 1" >&2; exit 2 ;;
esac
AFTER="${AFTER:-30s}"
INTERVAL="${INTERVAL:-auto}"
WARMUP="${WARMUP:-1}"
POLLING_SHARE="${POLLING_SHARE:-0.05}"
CONNECT_CONCURRENCY="${CONNECT_CONCURRENCY:-200}"
CONNECT_RATE="${CONNECT_RATE:-0}"
RUN_TIMEOUT="${RUN_TIMEOUT:-5m}"
TARGETS="${TARGETS:-go node}"
GO_PORT="${GO_PORT:-18080}"
NODE_PORT="${NODE_PORT:-18090}"
NODE_CSR="${NODE_CSR:-0}"
CLUSTER="${CLUSTER:-}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}"
BENCH_REDIS_CLUSTER_PORT="${BENCH_REDIS_CLUSTER_PORT:-17100}"
BENCH_SUBSCRIPTION_MODE="${BENCH_SUBSCRIPTION_MODE:-static}"
case "$CLUSTER" in
"" | 1) CLUSTER="" ;;
2) TARGETS="go-streams go-pubsub" ;;
redis-cluster) TARGETS="go-sharded go-pubsub" ;;
*) echo "bench: CLUSTER=$CLUSTER: want 2 or redis-cluster" >&2; exit 2 ;;
esac
read -r -a EXTRA_ARGS <<<"${FANOUT_ARGS:-}"
[ "$PER_MESSAGE_DEFLATE" = true ] && EXTRA_ARGS+=(-ws-compression)
OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/fanout-bench.XXXXXX)}"
mkdir -p "$OUT_DIR"
WORK="$(mktemp -d)"
RESULTS="$OUT_DIR/results.jsonl"
: >"$RESULTS"

# Every client is a socket on both sides: raise this shell's (and so the
# servers' and the generator's) open-file limit to the hard limit.
ulimit -n "$(ulimit -Hn)"
max_clients=0
for n in "${CLIENT_COUNTS[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench: client count '$n' is not a positive integer" >&2; exit 2; }
  ((n > max_clients)) && max_clients=$n
done
if ((max_clients + 200 > $(ulimit -n))); then
  echo "bench: warning: $max_clients clients but the open-file limit is $(ulimit -n)" >&2
fi

SERVER_PID=""
SERVER2_PID="" # the cluster mode's second process
REDIS_CLUSTER_PIDS=() # CLUSTER=redis-cluster's redis-servers
FANOUT_PID=""
stop_server() {
  local pid2="$SERVER2_PID"
  SERVER2_PID=""
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  stop_pid "$pid2"
}
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do # up to 15 s for a graceful stop
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "bench: server $pid ignored SIGTERM for 15s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  if [ -n "$FANOUT_PID" ]; then
    kill -TERM "$FANOUT_PID" 2>/dev/null || true
    wait "$FANOUT_PID" 2>/dev/null || true
  fi
  stop_server
  for pid in "${REDIS_CLUSTER_PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
  echo "bench: results and server logs in $OUT_DIR" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_ready() { # url pid log
  for _ in $(seq 1 150); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "bench: server exited during start-up; log:" >&2
      tail -n 30 "$3" >&2
      return 1
    fi
    curl -fsS --max-time 1 -o /dev/null "$1/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: server at $1 not ready after 15s" >&2
  return 1
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

echo "bench: building the Go server and the load generator" >&2
go build -o "$WORK/feedrt-server" ./cmd/server
go build -o "$WORK/fanout" ./cmd/fanout
if [[ " $TARGETS " == *" node "* ]]; then
  echo "bench: npm ci in testdata/noderef" >&2
  npm ci --prefix testdata/noderef --no-audit --no-fund >&2
fi

start_go() { # clients
  local log="$OUT_DIR/go-$1.log"
  port_free "$GO_PORT" || { echo "bench: port $GO_PORT is taken" >&2; return 1; }
  env PORT="$GO_PORT" HOST=127.0.0.1 DATA_DIR="$WORK/data-$1" BCRYPT_COST=4 \
    JWT_SECRET="fanout-bench-secret-0123456789abcdef-0123" CORS_ORIGINS='*' LOG_LEVEL=info \
    SOCKETIO_HTTP_COMPRESSION="$HTTP_COMPRESSION" SOCKETIO_HTTP_COMPRESSION_THRESHOLD="$HTTP_COMPRESSION_THRESHOLD" \
    SOCKETIO_PER_MESSAGE_DEFLATE="$PER_MESSAGE_DEFLATE" SOCKETIO_PER_MESSAGE_DEFLATE_THRESHOLD="$PER_MESSAGE_DEFLATE_THRESHOLD" \
    ${PPROF_ADDR:+PPROF_ADDR="$PPROF_ADDR"} ${SILENT:+METRICS_ADDR="127.0.0.1:$((GO_PORT + 100))"} "$WORK/feedrt-server" >"$log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$GO_PORT" "$SERVER_PID" "$log"
}

# start_go_cluster clients adapter: two Go processes on one Redis, the
# adapter's, with a stream and channel prefix of this run's own.
RUN_KEY=""
start_go_cluster() {
  local port2=$((GO_PORT + 1)) i
  RUN_KEY="feedrt-bench-$1-$2-$$"
  local redis_where=(REDIS_URL="$BENCH_REDIS_URL")
  if [ "$CLUSTER" = redis-cluster ]; then
    local url="redis://${REDIS_CLUSTER_ADDRS[0]}?addr=${REDIS_CLUSTER_ADDRS[1]}&addr=${REDIS_CLUSTER_ADDRS[2]}"
    redis_where=(REDIS_CLUSTER_URL="$url")
  fi
  for i in 1 2; do
    local port=$GO_PORT
    [ "$i" = 2 ] && port=$port2
    port_free "$port" || { echo "bench: port $port is taken" >&2; return 1; }
    env PORT="$port" HOST=127.0.0.1 DATA_DIR="$WORK/data-$1-$2-$i" BCRYPT_COST=4 \
      JWT_SECRET="fanout-bench-secret-0123456789abcdef-0123" CORS_ORIGINS='*' LOG_LEVEL=info \
      SOCKETIO_HTTP_COMPRESSION="$HTTP_COMPRESSION" SOCKETIO_HTTP_COMPRESSION_THRESHOLD="$HTTP_COMPRESSION_THRESHOLD" \
      SOCKETIO_PER_MESSAGE_DEFLATE="$PER_MESSAGE_DEFLATE" SOCKETIO_PER_MESSAGE_DEFLATE_THRESHOLD="$PER_MESSAGE_DEFLATE_THRESHOLD" \
      "${redis_where[@]}" REDIS_ADAPTER="$2" REDIS_KEY_PREFIX="$RUN_KEY" REDIS_SUBSCRIPTION_MODE="$BENCH_SUBSCRIPTION_MODE" \
      REDIS_STREAM_NAME="$RUN_KEY-stream" REDIS_SESSION_KEY_PREFIX="$RUN_KEY:session:" \
      "$WORK/feedrt-server" >"$OUT_DIR/go-$2-$1-$i.log" 2>&1 &
    if [ "$i" = 1 ]; then SERVER_PID=$!; else SERVER2_PID=$!; fi
    wait_ready "http://127.0.0.1:$port" "$!" "$OUT_DIR/go-$2-$1-$i.log"
  done
}

# start_redis_cluster runs three redis-servers in cluster mode and joins
# them (redis-cli --cluster create), all slots on masters, no replicas.
REDIS_CLUSTER_ADDRS=()
start_redis_cluster() {
  local i port dir
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { echo "bench: CLUSTER=redis-cluster needs redis-server and redis-cli" >&2; return 1; }
  for i in 0 1 2; do
    port=$((BENCH_REDIS_CLUSTER_PORT + i))
    port_free "$port" || { echo "bench: port $port is taken" >&2; return 1; }
    dir="$WORK/redis-$port"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      >"$OUT_DIR/redis-$port.log" 2>&1 &
    REDIS_CLUSTER_PIDS+=($!)
    REDIS_CLUSTER_ADDRS+=("127.0.0.1:$port")
  done
  for i in $(seq 1 100); do
    redis-cli -p $((BENCH_REDIS_CLUSTER_PORT + 2)) ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli --cluster create "${REDIS_CLUSTER_ADDRS[@]}" --cluster-replicas 0 --cluster-yes >"$OUT_DIR/redis-cluster-create.log" 2>&1 ||
    { echo "bench: redis-cli --cluster create failed:" >&2; tail -n 5 "$OUT_DIR/redis-cluster-create.log" >&2; return 1; }
  for i in $(seq 1 200); do
    local ok=0 a
    for a in "${REDIS_CLUSTER_ADDRS[@]}"; do
      redis-cli -h "${a%:*}" -p "${a#*:}" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" = 3 ] && return 0
    sleep 0.1
  done
  echo "bench: the Redis Cluster is not ok after 20s" >&2
  return 1
}

# redis_cluster_cpu prints the masters' CPU so far, in milliseconds.
redis_cluster_cpu() {
  local a
  for a in "${REDIS_CLUSTER_ADDRS[@]}"; do
    redis-cli -h "${a%:*}" -p "${a#*:}" info cpu | tr -d '\r' |
      awk -F: '$1 == "used_cpu_sys" || $1 == "used_cpu_user" { s += $2 } END { printf "%.0f\n", s * 1000 }'
  done | awk '{ s += $1 } END { print s }'
}

# redis_cluster_publish_usec prints the masters' time in PUBLISH and
# SPUBLISH so far (INFO commandstats), in microseconds: the commands
# themselves, without the cluster bus that forwards a PUBLISH to every
# node.
redis_cluster_publish_usec() {
  local a
  for a in "${REDIS_CLUSTER_ADDRS[@]}"; do
    redis-cli -h "${a%:*}" -p "${a#*:}" info commandstats | tr -d '\r' |
      awk -F'[:,=]' '$1 == "cmdstat_publish" || $1 == "cmdstat_spublish" { for (i = 2; i < NF; i += 2) if ($i == "usec") s += $(i + 1) } END { print s + 0 }'
  done | awk '{ s += $1 } END { print s }'
}

# drop_run_keys deletes the run's stream and the sessions its clients'
# sockets left at shutdown (with redis-cli, if installed).
drop_run_keys() {
  [ -n "$RUN_KEY" ] && [ "$CLUSTER" != redis-cluster ] && command -v redis-cli >/dev/null || { RUN_KEY=""; return 0; }
  {
    echo "$RUN_KEY-stream"
    redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "$RUN_KEY:session:*"
  } | xargs -r -n 500 redis-cli -u "$BENCH_REDIS_URL" DEL >/dev/null || true
  RUN_KEY=""
}

start_node() { # clients
  local log="$OUT_DIR/node-$1.log" csr=""
  port_free "$NODE_PORT" || { echo "bench: port $NODE_PORT is taken" >&2; return 1; }
  [ "$NODE_CSR" = 1 ] && csr=1
  (cd testdata/noderef && PORT="$NODE_PORT" HOST=127.0.0.1 CONNECTION_STATE_RECOVERY="$csr" \
    HTTP_COMPRESSION="$HTTP_COMPRESSION" HTTP_COMPRESSION_THRESHOLD="$HTTP_COMPRESSION_THRESHOLD" \
    PER_MESSAGE_DEFLATE="$PER_MESSAGE_DEFLATE" PER_MESSAGE_DEFLATE_THRESHOLD="$PER_MESSAGE_DEFLATE_THRESHOLD" exec node server.js) >"$log" 2>&1 &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$NODE_PORT" "$SERVER_PID" "$log"
}

status=0
REDIS_CPU="$OUT_DIR/redis-cpu.txt"
: >"$REDIS_CPU"
REDIS_IDLE_PER_S=0 # the masters' CPU per second with no traffic (their cron, the cluster bus)
if [ "$CLUSTER" = redis-cluster ]; then
  start_redis_cluster
  idle_before=$(redis_cluster_cpu)
  sleep 3
  REDIS_IDLE_PER_S=$(((($(redis_cluster_cpu) - idle_before) + 1) / 3))
  echo "bench: Redis Cluster idle: $REDIS_IDLE_PER_S ms of CPU per second (3 masters)" >&2
fi
for n in "${CLIENT_COUNTS[@]}"; do
  interval=$INTERVAL
  if [ "$interval" = auto ]; then
    interval="$((n / 10 > 250 ? n / 10 : 250))ms"
  fi
  for target in $TARGETS; do
    case "$target" in
    go) start_go "$n"; port=$GO_PORT ;;
    node) start_node "$n"; port=$NODE_PORT ;;
    go-streams | go-pubsub | go-sharded) start_go_cluster "$n" "${target#go-}"; port=$GO_PORT ;;
    *) echo "bench: unknown target $target" >&2; exit 2 ;;
    esac
    echo "bench: $target, $n clients (server pid $SERVER_PID)" >&2
    if [ -n "$SILENT" ]; then
      metrics=()
      [ "$target" = go ] && metrics=(-metrics-url "http://127.0.0.1:$((GO_PORT + 100))/metrics")
      "$WORK/fanout" silent -url "http://127.0.0.1:$port" -pid "$SERVER_PID" -clients "$n" -posts "$POSTS" \
        -content "$CONTENT" -after "$AFTER" "${metrics[@]}" | sed "s/^/$target: /" || status=1
      stop_server
      continue
    fi
    # In the background and waited for, so that a signal to this script
    # is handled at once (the trap stops the generator and the server).
    cluster_args=()
    [ -n "$SERVER2_PID" ] && cluster_args=(-also-url "http://127.0.0.1:$((GO_PORT + 1))" -also-pid "$SERVER2_PID")
    "$WORK/fanout" -url "http://127.0.0.1:$port" -label "$target" -pid "$SERVER_PID" "${cluster_args[@]}" \
      -clients "$n" -posts "$POSTS" -warmup "$WARMUP" -interval "$interval" -polling-share "$POLLING_SHARE" \
      -connect-concurrency "$CONNECT_CONCURRENCY" -connect-rate "$CONNECT_RATE" -content "$CONTENT_BYTES" \
      -timeout "$RUN_TIMEOUT" -json-out "$RESULTS" "${EXTRA_ARGS[@]}" \
      >"$OUT_DIR/$target-$n.out" &
    FANOUT_PID=$!
    cpu_before=""
    [ "$CLUSTER" = redis-cluster ] && cpu_before=$(redis_cluster_cpu) && cpu_t0=$(date +%s%N) && usec_before=$(redis_cluster_publish_usec)
    rc=0
    wait "$FANOUT_PID" || rc=$?
    FANOUT_PID=""
    if [ -n "$cpu_before" ]; then
      cpu_after=$(redis_cluster_cpu)
      awk -v t="$target" -v n="$n" -v ms=$((cpu_after - cpu_before)) -v posts=$((POSTS + WARMUP)) \
        -v idle="$(((($(date +%s%N) - cpu_t0) / 1000000) * REDIS_IDLE_PER_S / 1000))" \
        -v usec=$(($(redis_cluster_publish_usec) - usec_before)) \
        'BEGIN { net = ms - idle; if (net < 0) net = 0
          printf "%-12s %6d clients: Redis CPU %6d ms over the run (%d ms of it idle), %7.2f ms per post net; in (S)PUBLISH %6.1f us per post (3 masters)\n", t, n, ms, idle, net / posts, usec / posts }' |
        tee -a "$REDIS_CPU" >&2
    fi
    head -n -1 "$OUT_DIR/$target-$n.out" >&2 # the human table; the JSON line is in $RESULTS
    if [ "$rc" -ne 0 ]; then
      echo "bench: $target at $n clients FAILED (exit $rc)" >&2
      status=1
    fi
    stop_server
    drop_run_keys
    for log in "$OUT_DIR/$target-$n.log" "$OUT_DIR/$target-$n-1.log" "$OUT_DIR/$target-$n-2.log"; do
      [ -f "$log" ] || continue
      problems=$(grep -ciE 'level=(warn|error)|error|panic|exception' "$log" || true)
      if [ "$problems" -gt 0 ]; then
        echo "bench: $target server log has $problems warning/error lines ($log):" >&2
        grep -iE 'level=(warn|error)|error|panic|exception' "$log" | head -n 5 >&2
      fi
    done
    sleep 1
  done
done

echo
[ -n "$SILENT" ] && exit "$status"
if [ "$CLUSTER" = redis-cluster ]; then
  echo "Fan-out, two Go processes on a 3-master Redis Cluster (clients split, posts to the first; CPU and RSS of both; sharded adapter in $BENCH_SUBSCRIPTION_MODE mode): $POSTS posts (after $WARMUP warm-up) every ${INTERVAL/auto/max(250ms, 0.1 ms x clients)}, ${POLLING_SHARE} of clients on long-polling"
  "$WORK/fanout" -compare "$RESULTS" -labels go-sharded,go-pubsub
  cat "$REDIS_CPU"
  exit "$status"
fi
if [ -n "$CLUSTER" ]; then
  echo "Fan-out, two Go processes on one Redis (clients split, posts to the first; CPU and RSS of both): $POSTS posts (after $WARMUP warm-up) every ${INTERVAL/auto/max(250ms, 0.1 ms x clients)}, ${POLLING_SHARE} of clients on long-polling"
  "$WORK/fanout" -compare "$RESULTS" -labels go-streams,go-pubsub
  exit "$status"
fi
echo "Fan-out: $POSTS posts (after $WARMUP warm-up) every ${INTERVAL/auto/max(250ms, 0.1 ms x clients)}, ${POLLING_SHARE} of clients on long-polling, Node CSR: $NODE_CSR, content: $CONTENT_BYTES bytes (0: one sentence), HTTP compression: $HTTP_COMPRESSION (threshold $HTTP_COMPRESSION_THRESHOLD), permessage-deflate: $PER_MESSAGE_DEFLATE (threshold $PER_MESSAGE_DEFLATE_THRESHOLD)"
"$WORK/fanout" -compare "$RESULTS" -labels go,node
exit "$status"
