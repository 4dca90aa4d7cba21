#!/usr/bin/env bash
# The main job: installs the bundled reference server (Node socket.io 4.8.4, see
# contract-apps/node-socketio), starts it on 127.0.0.1, waits until it answers, runs the
# conformance runner against it, and stops it. Extra arguments go to `conformance run`
# (e.g. --report junit=out/junit.xml, --run 'sio5/**').
set -euo pipefail
cd "$(dirname "$0")/.."

app=contract-apps/node-socketio
log=$(mktemp)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

echo "==> installing the reference server (npm ci)"
(cd "$app" && npm ci --no-audit --no-fund --loglevel=error)

echo "==> building the runner"
cargo build -p sio-conformance -j2 --quiet

echo "==> starting the reference server"
# Port 0: the OS picks a free port; the server prints the one it got.
HOST=127.0.0.1 PORT=0 PING_INTERVAL=300 PING_TIMEOUT=200 CONNECT_TIMEOUT=1000 \
  node "$app/server.js" >"$log" 2>&1 &
server_pid=$!

url=""
for _ in $(seq 1 300); do # readiness: at most 30 s
  url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$log" | head -n 1)
  if [ -n "$url" ] && curl -fsS -o /dev/null "$url/socket.io/?EIO=4&transport=polling"; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the reference server exited:" >&2
    cat "$log" >&2
    exit 3
  fi
  url=""
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the reference server did not become ready in 30 s:" >&2
  cat "$log" >&2
  exit 3
fi
echo "==> reference server ready at $url (pid $server_pid)"

status=0
target/debug/conformance run --target "$url" --connect-timeout 1s "$@" || status=$?
exit "$status"
