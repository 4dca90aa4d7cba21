#!/usr/bin/env bash
# The runner against the contract app of another server (contract-apps/APP): installs the
# server from its registry, probes what it supports (`conformance probe`, which starts and stops
# the server itself), runs every suite with that profile (capabilities it lacks are UNSUPPORTED,
# not FAIL) and compares the verdicts with the app's committed expected results
# (contract-apps/APP/expected.yaml): exit 0 when they are exactly the recorded ones, 1 on any
# difference. The bundled reference has its own script, scripts/run-reference.sh.
#
#   scripts/run-contract-app.sh APP [conformance run arguments...]
#     APP: python-socketio | node-socketio-2 | socketioxide
#
# CONFORMANCE_BIN=PATH uses that runner binary instead of building target/debug/conformance.
# PROFILE_OUT=PATH keeps the probe's profile there (default: a temporary file).
# JUDGE=known-failing judges the run by the app's baseline (contract-apps/APP/known-failing.yaml,
# `--known-failing`: new failures only) instead of its expected results.
set -euo pipefail
cd "$(dirname "$0")/.."

app=${1:?usage: $0 python-socketio|node-socketio-2|socketioxide [run arguments...]}
shift
dir=contract-apps/$app
case "$app" in
  python-socketio)
    echo "==> installing python-socketio into $dir/.venv"
    python3 -m venv "$dir/.venv"
    "$dir/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$dir/requirements.txt"
    server="$dir/.venv/bin/python $dir/server.py"
    ;;
  node-socketio-2)
    echo "==> installing socket.io 2.5.1 into $dir/node_modules (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    server="node $dir/server.js"
    ;;
  socketioxide)
    # A debug build: cold, it takes less CPU than a release build on 2 cores, and a run is
    # bound by the server's timers, not by its speed.
    echo "==> building the socketioxide contract server ($dir)"
    cargo build --locked -j2 --quiet --manifest-path "$dir/Cargo.toml"
    server="$dir/target/debug/socketioxide-contract"
    ;;
  *)
    echo "error: unknown contract app '$app' (python-socketio, node-socketio-2, socketioxide)" >&2
    exit 2
    ;;
esac

if [ -n "${CONFORMANCE_BIN:-}" ]; then
  runner=$CONFORMANCE_BIN
  echo "==> using the runner $runner (CONFORMANCE_BIN)"
else
  echo "==> building the runner"
  cargo build -p sio-conformance -j2 --quiet
  runner=target/debug/conformance
fi

# A free port for the server (the runner must know it before starting it). The timers are the
# official suites' configuration (docs/contract.md §1).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
command="HOST=127.0.0.1 PORT=$port PING_INTERVAL=300 PING_TIMEOUT=200 CONNECT_TIMEOUT=1000 exec $server"
# Ready once the Socket.IO endpoint answers a v3 or a v4 handshake.
ready="$url/socket.io/?EIO=4&transport=polling"
if [ "$app" = node-socketio-2 ]; then ready="$url/socket.io/?EIO=3&transport=polling"; fi

profile=${PROFILE_OUT:-}
if [ -z "$profile" ]; then
  profile=$(mktemp)
  trap 'rm -f "$profile"' EXIT
fi
# Every suite goes to the Socket.IO path, the one a deployed application has: the Engine.IO
# cases meet the Socket.IO layer there (`layer: engineio` in the fixtures), the raw echo cases
# are UNSUPPORTED (the probe looks for the echo where the run would send them).
target="$url/socket.io/"
echo "==> probing $app at $target"
"$runner" probe --target "$target" --exec "$command" --ready "$ready" --timeout 2s --out "$profile"

echo "==> running every suite against $app at $target with its profile"
judge=(--expect "$dir/expected.yaml")
if [ "${JUDGE:-expect}" = known-failing ]; then judge=(--known-failing "$dir/known-failing.yaml"); fi
status=0
"$runner" run --target "$target" --connect-timeout 1s --profile "$profile" \
  --exec "$command" --ready "$ready" "${judge[@]}" "$@" || status=$?
exit "$status"
