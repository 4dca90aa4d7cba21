#!/usr/bin/env bash
# The main job: installs the bundled reference server (Node socket.io 4.8.4, see
# contract-apps/node-socketio), starts it on 127.0.0.1, waits until it answers, runs the
# conformance runner against it, and stops it. Extra arguments go to `conformance run`
# (e.g. --report junit=out/junit.xml, --run 'sio5/**').
#
# Two servers, two runs: the cases on Engine.IO 3 (`--eio 3`: the eio3 suite and the v3
# instances of suites with an `eio` axis) need a server that accepts v3 clients
# (`ALLOW_EIO3=1`), while the cases on Engine.IO 4 run against the default server (the eio4 and
# sio5 suites expect a missing or unknown `EIO` to be refused, which `ALLOW_EIO3` turns into a
# v3 session). Each run prints its own summary; the exit status is the first non-zero status of
# the two. Reports of the second run go next to the first ones with `-eio3` before the
# extension (`--report json=out/report.json` also writes `out/report-eio3.json`).
set -euo pipefail
cd "$(dirname "$0")/.."

app=contract-apps/node-socketio
# shellcheck source=lib/servers.sh
. scripts/lib/servers.sh

echo "==> installing the reference server (npm ci)"
(cd "$app" && npm ci --no-audit --no-fund --loglevel=error)

echo "==> building the runner"
cargo build -p sio-conformance -j2 --quiet

# The caller's arguments go to both runs, except that report paths get `-eio3` before the
# extension in the second run (`--report json=out/report.json` also writes
# `out/report-eio3.json`). The script chooses `--eio` itself.
#
# Without a selection of the caller's (`--suite`, `--run`, `--skip`, `--without`, `--profile`),
# the two runs together must run every case instance of the suites (`conformance list`): a
# selection bug that quietly runs fewer cases fails the job instead of passing with less.
counts=$(mktemp -d)
trap 'rm -rf "$counts"; stop_servers' EXIT   # servers.sh's own trap, plus the reports
first_args=(--report "json=$counts/first.json")
second_args=(--report "json=$counts/second.json")
selected=no
for arg in "$@"; do
  case "$arg" in
    --suite | --suite=* | --run | --run=* | --skip | --skip=* | --without | --without=* | --profile | --profile=*) selected=yes ;;
  esac
done
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
      value=${args[$i]}
      ;;
    --report=*)
      value=${arg#*=}
      arg=--report
      ;;
    --eio | --eio=*)
      echo "error: $0 runs --eio 4 and --eio 3 itself" >&2
      exit 2
      ;;
    *)
      first_args+=("$arg")
      second_args+=("$arg")
      i=$((i + 1))
      continue
      ;;
  esac
  first_args+=("$arg" "$value")
  # KIND=PATH -> KIND=PATH-with-eio3: out/report.json -> out/report-eio3.json
  kind=${value%%=*}
  path=${value#*=}
  dir=$(dirname "$path")
  file=$(basename "$path")
  case "$file" in
    ?*.*) file="${file%.*}-eio3.${file##*.}" ;;
    *) file="$file-eio3" ;;
  esac
  if [ "$dir" = . ] && [ "${path#./}" = "$path" ]; then
    second_args+=(--report "$kind=$file")
  else
    second_args+=(--report "$kind=$dir/$file")
  fi
  i=$((i + 1))
done

status=0

start_server "the reference server (default)" node "$app/server.js"
echo "==> run 1 of 2: every case on Engine.IO 4, against the default server"
target/debug/conformance run --target "$url" --connect-timeout 1s --eio 4 --expect "$app/expected.yaml" \
  "${first_args[@]}" || status=$?

start_server "the reference server (ALLOW_EIO3=1)" ALLOW_EIO3=1 node "$app/server.js"
echo "==> run 2 of 2: every case on Engine.IO 3, against the server with ALLOW_EIO3=1"
second=0
target/debug/conformance run --target "$url" --connect-timeout 1s --eio 3 --expect "$app/expected.yaml" \
  "${second_args[@]}" || second=$?
if [ "$status" = 0 ]; then status=$second; fi

if [ "$selected" = no ]; then
  total=$(target/debug/conformance list --format json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
  ran=$(python3 - "$counts/first.json" "$counts/second.json" <<'PY'
import json, sys
ran = 0
for path in sys.argv[1:]:
    summary = json.load(open(path))["summary"]
    ran += sum(summary[k] for k in ("pass", "non_strict", "fail", "error", "unsupported"))
print(ran)
PY
)
  echo "==> case instances run: $ran of $total (Engine.IO 4 and 3 runs together)"
  if [ "$ran" != "$total" ]; then
    echo "error: the two runs ran $ran case instances, the suites hold $total" >&2
    if [ "$status" = 0 ]; then status=1; fi
  fi
fi
exit "$status"
