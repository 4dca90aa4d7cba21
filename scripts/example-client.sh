#!/usr/bin/env bash
# The example client (examples/client/, on sio-codec's sans-IO client sessions) against the
# bundled reference server: installs the reference (npm ci in contract-apps/node-socketio when
# node_modules is missing), starts it on a free port (PORT=0: it prints the port it bound) and
# waits until it answers a handshake, runs `sio-example-client URL`, stops the server by its PID
# and exits with the client's status (0: every step passed; 1: a step failed, with the reason).
#
#   scripts/example-client.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=contract-apps/node-socketio
if [ ! -d "$dir/node_modules" ]; then
  echo "==> installing the reference server into $dir/node_modules (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "==> building the example client"
cargo build -p sio-examples --bin sio-example-client -j2 --quiet

log=$(mktemp)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap stop_server EXIT

echo "==> starting the reference server"
HOST=127.0.0.1 PORT=0 node "$dir/server.js" >"$log" 2>&1 &
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
cargo run -p sio-examples --bin sio-example-client -j2 --quiet -- "$url" || status=$?
exit "$status"
