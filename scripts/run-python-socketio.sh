#!/usr/bin/env bash
# The runner against the python-socketio contract server (contract-apps/python-socketio):
# installs it into a venv, lets the runner start and stop it (--exec / --ready), and compares
# the verdicts with its committed expected results (--expect): exit 0 when they are exactly
# the recorded ones, 1 on any difference. Extra arguments go to `conformance run`.
set -euo pipefail
cd "$(dirname "$0")/.."

app=contract-apps/python-socketio
echo "==> installing python-socketio into $app/.venv"
python3 -m venv "$app/.venv"
"$app/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$app/requirements.txt"

echo "==> building the runner"
cargo build -p sio-conformance -j2 --quiet

# A free port for the server (the runner must know it before starting it).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
echo "==> running against python-socketio at $url (--without eio3: python-engineio speaks Engine.IO 4 only)"
exec target/debug/conformance run --target "$url" --without eio3 --connect-timeout 1s \
  --exec "HOST=127.0.0.1 PORT=$port exec $app/.venv/bin/python $app/server.py" \
  --ready "$url/socket.io/?EIO=4&transport=polling" \
  --expect "$app/expected.yaml" "$@"
