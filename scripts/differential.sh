#!/usr/bin/env bash
# Differential testing of sio-codec against the JavaScript reference parsers
# (socket.io-parser 4.2.7 / 3.4.5, engine.io-parser 5.2.3 / 2.2.1); see differential/README.md.
#
#   scripts/differential.sh                      # seed 1, 3000 inputs per category
#   scripts/differential.sh --seed 42 --count 20000
#   scripts/differential.sh --category 'sio5-*' --report out/differential.json
#
# Installs the npm dependencies (npm ci), builds the Rust driver (its own Cargo workspace
# under differential/driver, target dir target/differential-driver), runs the allow-list's
# tests (differential/test/, node --test; a failure stops the script) and then the harness.
# Prints "N passed, N failed" and exits 1 on any divergence that known-differences.json does
# not explain (2 on a harness error).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> installing the reference parsers (npm ci in differential/)"
(cd differential && npm ci --no-audit --no-fund --loglevel=error)

# A debug build: it compiles in about a minute on 2 cores and runs the default count in
# seconds; a release build takes longer to make than it saves.
echo "==> building the driver"
target="${DIFFERENTIAL_TARGET_DIR:-$PWD/target/differential-driver}"
CARGO_TARGET_DIR="$target" cargo build -j2 --quiet --manifest-path differential/driver/Cargo.toml

# The allow-list's own tests: every entry excuses its real examples and none of the made-up
# divergences just outside its scope; the recorded driver replies are checked against the
# driver just built.
echo "==> testing the allow-list (node --test differential/test/)"
DIFFERENTIAL_DRIVER="$target/debug/differential-driver" node --test --test-reporter=dot differential/test/

echo "==> comparing"
exec node differential/harness.js --driver "$target/debug/differential-driver" "$@"
