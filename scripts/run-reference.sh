#!/usr/bin/env bash
# The main job: installs the bundled reference server (Node socket.io 4.8.4, see
# contract-apps/node-socketio), starts it on 127.0.0.1, waits until it answers, runs the
# conformance runner against it, and stops it. Extra arguments go to `conformance run`
# (e.g. --report junit=out/junit.xml, --run 'sio5/**'). CONFORMANCE_BIN: the runner to use
# instead of a debug build of this tree.
#
# Two servers: the cases on Engine.IO 3 (`--eio 3`: the eio3 suite and the v3 instances of
# suites with an `eio` axis) need a server that accepts v3 clients (`ALLOW_EIO3=1`), while the
# cases on Engine.IO 4 run against the default server (the eio4 and sio5 suites expect a missing
# or unknown `EIO` to be refused, which `ALLOW_EIO3` turns into a v3 session).
#
# Two ways to reach them, four runs in all, each with its own summary:
#   1. at the suites' own paths (`/engine.io/` for the Engine.IO suites, with the contract's
#      raw echo there, as the official suites are run; `/socket.io/` for the others);
#   2. at `/socket.io/` only, as a deployed application is reached, with the profile
#      `conformance probe` finds there: the Engine.IO cases meet the Socket.IO layer (see
#      `layer: engineio` in the fixtures) and the echo cases are UNSUPPORTED.
# Every run is checked against the reference's known deviations
# (contract-apps/node-socketio/expected.yaml); the exit status is the first non-zero one.
# Reports get the run's suffix before the extension: `--report json=out/report.json` writes
# out/report.json, out/report-eio3.json, out/report-socketio.json, out/report-socketio-eio3.json.
set -euo pipefail
cd "$(dirname "$0")/.."

# SERVER=example: the same four runs against the example server built on sio-codec's sessions
# (examples/server), judged by its own expected results.
case "${SERVER:-reference}" in
  reference)
    name="the reference server"
    expected=contract-apps/node-socketio/expected.yaml
    server=(node contract-apps/node-socketio/server.js)
    echo "==> installing the reference server (npm ci)"
    (cd contract-apps/node-socketio && npm ci --no-audit --no-fund --loglevel=error)
    ;;
  example)
    name="the example server"
    expected=examples/server/expected.yaml
    server=(target/debug/sio-example-server)
    echo "==> building the example server (examples/server)"
    cargo build -p sio-examples --bin sio-example-server -j2 --quiet
    ;;
  *)
    echo "error: SERVER must be reference or example, not '$SERVER'" >&2
    exit 2
    ;;
esac
# shellcheck source=lib/servers.sh
. scripts/lib/servers.sh

if [ -n "${CONFORMANCE_BIN:-}" ]; then
  runner=$CONFORMANCE_BIN # e.g. an installed binary (scripts/install-check.sh)
  echo "==> the runner: $runner"
else
  echo "==> building the runner"
  cargo build -p sio-conformance -j2 --quiet
  runner=target/debug/conformance
fi

# Without a selection of the caller's (`--suite`, `--run`, `--skip`, `--without`, `--profile`),
# each way of reaching the servers must run every case instance of the suites (`conformance
# list`, UNSUPPORTED included): a selection bug that quietly runs fewer cases fails the job
# instead of passing with less.
work=$(mktemp -d)
trap 'rm -rf "$work"; stop_servers' EXIT # servers.sh's own trap, plus the work files
selected=no
plain=() # the caller's arguments without the reports
reports=() # the caller's reports as KIND=PATH
args=("$@")
i=0
while [ "$i" -lt "${#args[@]}" ]; do
  arg=${args[$i]}
  case "$arg" in
    --report)
      i=$((i + 1))
      if [ "$i" -ge "${#args[@]}" ]; then
        echo "error: $arg needs a value" >&2
        exit 2
      fi
      reports+=("${args[$i]}")
      ;;
    --report=*) reports+=("${arg#*=}") ;;
    --eio | --eio=*)
      echo "error: $0 runs --eio 4 and --eio 3 itself" >&2
      exit 2
      ;;
    --suite | --suite=* | --run | --run=* | --skip | --skip=* | --without | --without=* | --profile | --profile=*)
      selected=yes
      plain+=("$arg")
      ;;
    *) plain+=("$arg") ;;
  esac
  i=$((i + 1))
done

# `--report` arguments for the run with SUFFIX: KIND=out/report.json -> KIND=out/report-SUFFIX.json.
report_args() {
  local suffix=$1 value kind path dir file
  for value in "${reports[@]+"${reports[@]}"}"; do
    kind=${value%%=*}
    path=${value#*=}
    if [ -n "$suffix" ] && [ "$kind" != "$value" ]; then
      dir=$(dirname "$path")
      file=$(basename "$path")
      case "$file" in
        ?*.*) file="${file%.*}-$suffix.${file##*.}" ;;
        *) file="$file-$suffix" ;;
      esac
      if [ "$dir" = . ] && [ "${path#./}" = "$path" ]; then path=$file; else path=$dir/$file; fi
      value="$kind=$path"
    fi
    printf '%s\n' --report "$value"
  done
}

status=0
# run NAME EIO URL SUFFIX [extra run arguments]: one run, checked against the expected results.
run() {
  local name=$1 eio=$2 target=$3 suffix=$4
  shift 4
  local extra=()
  mapfile -t extra < <(report_args "$suffix")
  echo "==> $name"
  local code=0
  "$runner" run --target "$target" --connect-timeout 1s --eio "$eio" --expect "$expected" \
    --report "json=$work/run-${suffix:-default}.json" "$@" "${extra[@]+"${extra[@]}"}" \
    "${plain[@]+"${plain[@]}"}" || code=$?
  if [ "$status" = 0 ]; then status=$code; fi
}

start_server "$name (default)" "${server[@]}"
v4=$url
start_server "$name (ALLOW_EIO3=1)" ALLOW_EIO3=1 "${server[@]}"
v3=$url

run "run 1 of 4: every case on Engine.IO 4 at the suites' paths, against the default server" 4 "$v4" ""
run "run 2 of 4: every case on Engine.IO 3 at the suites' paths, against the server with ALLOW_EIO3=1" 3 "$v3" eio3

for server in v4 v3; do
  target="${!server}/socket.io/"
  echo "==> probing $target"
  "$runner" probe --target "$target" --timeout 2s --out "$work/profile-$server.yaml" >/dev/null
done
run "run 3 of 4: every case on Engine.IO 4 at /socket.io/ only, with the probed profile" \
  4 "$v4/socket.io/" socketio --profile "$work/profile-v4.yaml"
run "run 4 of 4: every case on Engine.IO 3 at /socket.io/ only, with the probed profile" \
  3 "$v3/socket.io/" socketio-eio3 --profile "$work/profile-v3.yaml"

if [ "$selected" = no ]; then
  total=$("$runner" list --format json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
  for pair in "default eio3" "socketio socketio-eio3"; do
    set -- $pair
    ran=$(python3 - "$work/run-$1.json" "$work/run-$2.json" <<'PY'
import json, sys
ran = 0
for path in sys.argv[1:]:
    summary = json.load(open(path))["summary"]
    ran += sum(summary[k] for k in ("pass", "non_strict", "fail", "error", "unsupported"))
print(ran)
PY
)
    echo "==> case instances run ($1 paths, Engine.IO 4 and 3 together): $ran of $total"
    if [ "$ran" != "$total" ]; then
      echo "error: the runs at the $1 paths ran $ran case instances, the suites hold $total" >&2
      if [ "$status" = 0 ]; then status=1; fi
    fi
  done
fi
exit "$status"
