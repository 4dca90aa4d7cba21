#!/usr/bin/env bash
# End to end: echo round trips per second and latency (p50, p99) at 1, 100 and 1,000 concurrent
# WebSocket clients, and memory per idle connection at 10,000 connections, for each server that
# implements the behaviour contract: the example server on sio-codec's sessions (examples/server),
# socketioxide (contract-apps/socketioxide), Node socket.io 4.8.4 (contract-apps/node-socketio)
# and python-socketio (contract-apps/python-socketio), one after the other; first the load
# generator's own ceiling against a server that answers without decoding (`sio-load
# --null-server`). The load (benches/src/bin/sio-load.rs, on sio-codec's client sessions) runs on
# one thread pinned to core 1, each server pinned to core 0; both are release builds.
#
#   benches/load.sh [SERVER...]      SERVER: null example socketioxide node python (default: all)
#   SECONDS_PER_RUN=5 IDLE=10000 CLIENTS="1 100 1000" benches/load.sh
#
# Prints a Markdown table (one row per server and client count) and the idle memory lines.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${SECONDS_PER_RUN:-5}
idle_count=${IDLE:-10000}
clients_list=${CLIENTS:-"1 100 1000"}
servers=("$@")
if [ "${#servers[@]}" = 0 ]; then servers=(null example socketioxide node python); fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # 10,000 connections: each side needs as many descriptors

echo "==> release builds: sio-load, the example server, the socketioxide contract server" >&2
cargo build --release -p sio-benches --bin sio-load -p sio-examples --bin sio-example-server -j2 --quiet
load=target/release/sio-load
for server in "${servers[@]}"; do
  case "$server" in
    socketioxide) cargo build --release --locked -j2 --quiet --manifest-path contract-apps/socketioxide/Cargo.toml ;;
    node) [ -d contract-apps/node-socketio/node_modules ] || (cd contract-apps/node-socketio && npm ci --no-audit --no-fund --loglevel=error) ;;
    python)
      venv=contract-apps/python-socketio/.venv
      [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet -r contract-apps/python-socketio/requirements.txt; }
      ;;
  esac
done

pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
}
trap stop EXIT

# start NAME COMMAND...: the server on a free port, pinned to core 0, the reference's timers.
start() {
  local log
  log=$(mktemp)
  env HOST=127.0.0.1 PORT=0 PING_INTERVAL=25000 PING_TIMEOUT=20000 taskset -c 0 "$@" >"$log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 300); do
    url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 3; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "$1 did not start" >&2; exit 3; }
}

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

echo "| server | clients | round trips/s | p50 µs | p99 µs |"
echo "|---|---:|---:|---:|---:|"
memory=()
for server in "${servers[@]}"; do
  case "$server" in
    null) start "$load" --null-server 0 ;;
    example) start target/release/sio-example-server ;;
    socketioxide) start contract-apps/socketioxide/target/release/socketioxide-contract ;;
    node) start node contract-apps/node-socketio/server.js ;;
    python) start contract-apps/python-socketio/.venv/bin/python contract-apps/python-socketio/server.py ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
  for clients in $clients_list; do
    line=$(taskset -c 1 "$load" "$url" --clients "$clients" --seconds "$seconds" --warmup 1)
    read -r _ n _ rate _ p50 _ p99 <<<"$line"
    echo "| $server | $n | $rate | $p50 | $p99 |"
  done
  if [ "$server" != null ] && [ "$idle_count" -gt 0 ]; then
    before=$(rss_kib "$pid")
    out=$(mktemp)
    taskset -c 1 "$load" "$url" --idle "$idle_count" --hold 5 >"$out" &
    holder=$!
    for _ in $(seq 1 1200); do grep -q connected "$out" && break; sleep 0.1; done
    sleep 2 # let the server settle with every connection open
    after=$(rss_kib "$pid")
    wait "$holder" || { echo "$server: the idle connections failed" >&2; }
    memory+=("$server: $(( (after - before) * 1024 / idle_count )) bytes per idle connection (RSS $before KiB -> $after KiB with $idle_count connections)")
  fi
  stop
done
echo
printf '%s\n' "${memory[@]}"
