#!/usr/bin/env bash
# Regenerates the compatibility matrix, docs/compatibility.md (cases x servers) and the
# transcript pages docs/compatibility/<server>.md: runs every suite against the five contract
# servers (the bundled reference, socket.io 2.5.1, python-socketio, socketioxide, and the example
# server on sio-codec's sessions), each checked against its committed expected results, then
# writes the pages from the JSON reports.
#
#   scripts/compatibility.sh [OUT_DIR]     (default: docs)
#
# Fails (and writes nothing) when a server's verdicts differ from its expected results: the
# matrix only ever shows explained verdicts. The JSON reports stay in out/compat/.
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=${1:-docs}
reports=out/compat
mkdir -p "$reports" "$out_dir/compatibility"

echo "==> building the runner"
cargo build -p sio-conformance -j2 --quiet
export CONFORMANCE_BIN=target/debug/conformance

scripts/run-reference.sh --report "json=$reports/node-socketio.json" --trace failing
SERVER=example scripts/run-reference.sh --report "json=$reports/sio-example.json" --trace failing
for app in node-socketio-2 python-socketio socketioxide; do
  scripts/run-contract-app.sh "$app" --report "json=$reports/$app.json" --trace failing
done

scripts/compatibility-matrix.py "$out_dir" \
  "node-socketio|Node socket.io 4.8.4|contract-apps/node-socketio/expected.yaml|$reports/node-socketio.json,$reports/node-socketio-eio3.json" \
  "node-socketio-2|Node socket.io 2.5.1|contract-apps/node-socketio-2/expected.yaml|$reports/node-socketio-2.json" \
  "python-socketio|python-socketio 5.14.3|contract-apps/python-socketio/expected.yaml|$reports/python-socketio.json" \
  "socketioxide|socketioxide 0.18.9|contract-apps/socketioxide/expected.yaml|$reports/socketioxide.json" \
  "sio-example|sio-codec example server|examples/server/expected.yaml|$reports/sio-example.json,$reports/sio-example-eio3.json"
echo "==> wrote $out_dir/compatibility.md and $out_dir/compatibility/*.md"
