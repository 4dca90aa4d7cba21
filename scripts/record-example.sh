#!/usr/bin/env bash
# Records fixtures/drafts/*.yaml from the bundled reference with `conformance record --runs 2`
# into fixtures/conformance/recorded*.yaml (re-recording prints what changed). The recorded
# suite then runs with every other suite, against every server.
set -euo pipefail
cd "$(dirname "$0")/.."

(cd contract-apps/node-socketio && npm ci --no-audit --no-fund --loglevel=error)
cargo build -p sio-conformance -j2 --quiet
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
for draft in fixtures/drafts/*.yaml; do
  name=$(basename "$draft" .yaml)
  target/debug/conformance record --target "$url" --runs 2 --connect-timeout 1s \
    --exec "HOST=127.0.0.1 PORT=$port PING_INTERVAL=300 PING_TIMEOUT=200 CONNECT_TIMEOUT=1000 exec node contract-apps/node-socketio/server.js" \
    --ready "$url/socket.io/?EIO=4&transport=polling" \
    --script "$draft" --out "fixtures/conformance/recorded-$name.yaml"
done
