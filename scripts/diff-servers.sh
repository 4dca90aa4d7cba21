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

# shellcheck source=lib/servers.sh
. scripts/lib/servers.sh
start_server "the reference server" node contract-apps/node-socketio/server.js
a=$url
start_server "python-socketio" "$py/.venv/bin/python" "$py/server.py"
b=$url
target/debug/conformance diff --target "$a" --target "$b" --eio 4 --connect-timeout 1s "$@"
