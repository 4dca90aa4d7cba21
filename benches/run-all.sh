#!/usr/bin/env bash
# One full benchmark run, as recorded in benches/README.md: criterion (ours + socketioxide
# peers), then the Node harness, then the report. Sequential on purpose: never two
# benchmark processes at once on a 2-core machine. Pinned to CPU 1 when taskset exists.
# Takes about 12 minutes. Usage: benches/run-all.sh > report.md
set -euo pipefail
cd "$(dirname "$0")"
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 1); fi

rm -rf ../target/criterion
"${pin[@]}" cargo bench -p sio-benches --features peers >&2
(cd node && npm ci --no-audit --no-fund >&2 && "${pin[@]}" node bench.js > results.json)
cargo run -q -p sio-benches --bin bench-report
# The scaling table, and benches/scaling.svg from the same criterion results.
cargo run -q -p sio-benches --bin scaling-report
