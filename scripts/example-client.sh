#!/usr/bin/env bash
# The example client (examples/client/, on sio-codec's sans-IO client sessions) against the
# bundled reference server, then against the example server (examples/server/, on the server
# sessions): installs the reference (npm ci in contract-apps/node-socketio when node_modules is
# missing), starts each server on a free port with a readiness check (scripts/lib/servers.sh),
# runs `sio-example-client URL` against it and stops the servers by their PIDs. Exit 0 when
# every step passed against both; 1 when a step failed (with the reason).
#
#   scripts/example-client.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=contract-apps/node-socketio
if [ ! -d "$dir/node_modules" ]; then
  echo "==> installing the reference server into $dir/node_modules (npm ci)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "==> building the example client and server"
cargo build -p sio-examples --bins -j2 --quiet

# shellcheck source=lib/servers.sh
. scripts/lib/servers.sh
status=0
for server in reference example; do
  if [ "$server" = reference ]; then
    start_server "the reference server" node "$dir/server.js"
  else
    start_server "the example server" target/debug/sio-example-server
  fi
  echo "==> sio-example-client against the $server server"
  target/debug/sio-example-client "$url" || status=1
done
exit "$status"
