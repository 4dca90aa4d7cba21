#!/usr/bin/env bash
# `conformance diff` between the bundled reference (Node socket.io 4.8.4) and python-socketio:
# installs and starts both on 127.0.0.1 (free ports, readiness checks), replays every case on
# Engine.IO 4 against each, prints where their behaviour differs (verdicts and wire traffic,
# grouped), and stops both. Exit 1 when they differ (they do), as diff(1).
#   scripts/diff-servers.sh [conformance diff arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

(cd contract-apps/node-socketio && npm ci --no-audit --no-fund --loglevel=error)
py=contract-apps/python-socketio
python3 -m venv "$py/.venv"
"$py/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$py/requirements.txt"
cargo build -p sio-conformance -j2 --quiet

pids=()
logs=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  if [ "${#logs[@]}" -gt 0 ]; then rm -f "${logs[@]}"; fi
}
trap cleanup EXIT

# start NAME COMMAND...: starts a contract server on a free port, waits for its
# `listening on URL` line and a handshake answer; sets `url`.
start() {
  local name=$1 log
  shift
  log=$(mktemp)
  logs+=("$log")
  env HOST=127.0.0.1 PORT=0 PING_INTERVAL=300 PING_TIMEOUT=200 CONNECT_TIMEOUT=1000 "$@" >"$log" 2>&1 &
  pids+=("$!")
  url=""
  for _ in $(seq 1 300); do
    url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
    if [ -n "$url" ] && curl -fsS -o /dev/null "$url/socket.io/?EIO=4&transport=polling"; then
      echo "==> $name ready at $url"
      return
    fi
    sleep 0.1
  done
  echo "$name did not become ready:" >&2
  cat "$log" >&2
  exit 3
}

start "the reference" node contract-apps/node-socketio/server.js
a=$url
start "python-socketio" "$py/.venv/bin/python" "$py/server.py"
b=$url
target/debug/conformance diff --target "$a" --target "$b" --eio 4 --connect-timeout 1s "$@"
