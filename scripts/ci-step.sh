#!/usr/bin/env bash
# The whole CI step of a server project: (start the server,) probe it, run the conformance
# cases with the profile found, write every report, (stop the server,) and exit with the
# runner's exit code. Used by the GitHub Action (action.yml) and the GitLab template
# (docs/ci/gitlab-ci.yml); docs/ci.md describes it. Driven by environment variables:
#
#   CONFORMANCE_TARGET          required: the server, e.g. http://127.0.0.1:3000 (a path such as
#                               /socket.io/ replaces the suites' default paths)
#   CONFORMANCE_BIN             the runner (default: `conformance` on PATH)
#   CONFORMANCE_SERVER_COMMAND  optional: a shell command that starts the server where the target
#                               points; run with `sh -c` in its own process group before the
#                               probe, stopped (SIGTERM, SIGKILL after 5 s) when the step ends.
#                               Its output goes to REPORTS_DIR/server.log
#   CONFORMANCE_READY_URL       with the server command: ready when this URL answers a GET with
#                               2xx (default: when the target's host and port accept connections)
#   CONFORMANCE_READY_TIMEOUT   seconds to wait for readiness (default 60)
#   CONFORMANCE_PROBE           true (default): `conformance probe` first, and `run --profile`
#                               with what it found; false: run every selected case as is
#   CONFORMANCE_ARGS            extra arguments for `conformance run`, split like shell words
#                               (quotes honoured, no globbing, nothing executed), e.g.
#                               --suite sio5 --strict --known-failing conformance/known-failing.yaml
#                               The connection options among them (--header, --insecure,
#                               --ca-file, --timeout, --timing-slack, --connect-timeout) go to the
#                               probe too
#   CONFORMANCE_REPORTS_DIR     where report.html, junit.xml, report.json, profile.yaml (and
#                               server.log) go (default: conformance-reports)
#   GITHUB_ACTIONS=true         (set by GitHub) adds `--report github`: an annotation on the
#                               fixture line of every failure and the job summary
#
# Exit codes are the runner's: 0 ok, 1 failures, 2 usage error, 3 target unreachable or harness
# error (so too when the server command exits early or is not ready in time), 4 stale baseline
# entry, 5 interrupted.
set -euo pipefail

say() { printf '==> %s\n' "$*"; }
fail() { # fail CODE MESSAGE
  local code=$1
  shift
  printf 'ci-step: error: %s\n' "$*" >&2
  exit "$code"
}

target=${CONFORMANCE_TARGET:-}
[ -n "$target" ] || fail 2 "CONFORMANCE_TARGET is not set (the server, e.g. http://127.0.0.1:3000)"
bin=${CONFORMANCE_BIN:-conformance}
command -v "$bin" >/dev/null 2>&1 || fail 3 "the runner \`$bin\` is not installed (set CONFORMANCE_BIN or put \`conformance\` on PATH)"
reports=${CONFORMANCE_REPORTS_DIR:-conformance-reports}
probe=${CONFORMANCE_PROBE:-true}
case "$probe" in
  true | 1 | yes) probe=true ;;
  false | 0 | no | "") probe=false ;;
  *) fail 2 "CONFORMANCE_PROBE must be true or false, not \`$probe\`" ;;
esac
ready_timeout=${CONFORMANCE_READY_TIMEOUT:-60}
case "$ready_timeout" in
  '' | *[!0-9]*) fail 2 "CONFORMANCE_READY_TIMEOUT must be a number of seconds, not \`$ready_timeout\`" ;;
esac
mkdir -p "$reports"

# CONFORMANCE_ARGS as words: xargs honours single and double quotes and backslashes and
# executes nothing; globs stay as they are (`--run 'sio5/**'` reaches the runner unexpanded).
run_args=()
args_text=${CONFORMANCE_ARGS:-}
if [ -n "${args_text//[[:space:]]/}" ]; then
  words=$(mktemp)
  if ! printf '%s\n' "$args_text" | xargs printf '%s\0' >"$words"; then
    rm -f "$words"
    fail 2 "CONFORMANCE_ARGS is not valid shell words (an unmatched quote?): $args_text"
  fi
  mapfile -d '' -t run_args <"$words"
  rm -f "$words"
fi

# The connection options of the run go to the probe as well.
probe_args=()
i=0
while [ "$i" -lt "${#run_args[@]}" ]; do
  arg=${run_args[$i]}
  case "$arg" in
    --header | --ca-file | --timeout | --timing-slack | --connect-timeout)
      probe_args+=("$arg")
      if [ $((i + 1)) -lt "${#run_args[@]}" ]; then
        i=$((i + 1))
        probe_args+=("${run_args[$i]}")
      fi
      ;;
    --insecure | --header=* | --ca-file=* | --timeout=* | --timing-slack=* | --connect-timeout=*)
      probe_args+=("$arg")
      ;;
  esac
  i=$((i + 1))
done

# The server under test, when the step starts it: its own process group, stopped by its PID.
server_pid=""
# shellcheck disable=SC2317 # invoked by the traps
stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    say "stopping the server (pid $server_pid)"
    kill -TERM -- "-$server_pid" 2>/dev/null || kill -TERM "$server_pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$server_pid" 2>/dev/null && [ "$waited" -lt 50 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      kill -KILL -- "-$server_pid" 2>/dev/null || kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT
trap 'stop_server; exit 5' INT TERM

server_failed() { # server_failed MESSAGE: the end of the server's output, exit 3
  printf 'ci-step: error: %s; the end of its output (%s):\n' "$1" "$reports/server.log" >&2
  tail -n 40 "$reports/server.log" >&2 || true
  exit 3
}

# host and port of the target, for the default readiness check
target_host_port() {
  local rest=${target#*://} scheme=${target%%://*} hostport host port
  hostport=${rest%%/*}
  hostport=${hostport%%\?*}
  hostport=${hostport##*@}
  case "$hostport" in
    \[*\]:*) host=${hostport%]:*}; host=${host#[}; port=${hostport##*]:} ;;
    \[*\]) host=${hostport#[}; host=${host%]}; port="" ;;
    *:*) host=${hostport%:*}; port=${hostport##*:} ;;
    *) host=$hostport; port="" ;;
  esac
  if [ -z "$port" ]; then
    if [ "$scheme" = https ]; then port=443; else port=80; fi
  fi
  printf '%s %s\n' "$host" "$port"
}

server_ready() {
  if [ -n "${CONFORMANCE_READY_URL:-}" ]; then
    curl -fsS -o /dev/null --max-time 2 "$CONFORMANCE_READY_URL" 2>/dev/null
  else
    local host port
    read -r host port < <(target_host_port)
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
  fi
}

if [ -n "${CONFORMANCE_SERVER_COMMAND:-}" ]; then
  if [ -n "${CONFORMANCE_READY_URL:-}" ]; then
    command -v curl >/dev/null 2>&1 || fail 3 "CONFORMANCE_READY_URL needs curl"
  fi
  say "starting the server: $CONFORMANCE_SERVER_COMMAND"
  set -m # its own process group, so that stopping it stops its children too (npm start, …)
  sh -c "$CONFORMANCE_SERVER_COMMAND" >"$reports/server.log" 2>&1 </dev/null &
  server_pid=$!
  set +m
  deadline=$((SECONDS + ready_timeout))
  until server_ready; do
    kill -0 "$server_pid" 2>/dev/null || {
      wait "$server_pid" 2>/dev/null && code=0 || code=$?
      server_pid=""
      server_failed "the server command exited (status $code) before it was ready"
    }
    [ "$SECONDS" -lt "$deadline" ] || server_failed "the server was not ready within ${ready_timeout} s (${CONFORMANCE_READY_URL:-$target})"
    sleep 0.2
  done
  say "server ready (pid $server_pid)"
fi

profile_args=()
if [ "$probe" = true ]; then
  say "probing $target"
  code=0
  "$bin" probe --target "$target" "${probe_args[@]+"${probe_args[@]}"}" --out "$reports/profile.yaml" || code=$?
  if [ "$code" != 0 ]; then
    printf 'ci-step: error: conformance probe exited %s\n' "$code" >&2
    exit "$code"
  fi
  profile_args=(--profile "$reports/profile.yaml")
fi

report_args=(--report "html=$reports/report.html" --report "junit=$reports/junit.xml" --report "json=$reports/report.json")
if [ "${GITHUB_ACTIONS:-}" = true ]; then
  report_args+=(--report github)
fi

say "conformance run --target $target ${profile_args[*]+"${profile_args[*]}"} ${run_args[*]+"${run_args[*]}"}"
code=0
"$bin" run --target "$target" "${profile_args[@]+"${profile_args[@]}"}" "${report_args[@]}" \
  "${run_args[@]+"${run_args[@]}"}" || code=$?

case "$code" in
  0) say "conformance: ok (exit 0)" ;;
  1) say "conformance: failures (exit 1): see $reports/report.html" ;;
  2) say "conformance: usage error (exit 2)" ;;
  3) say "conformance: target unreachable or harness error (exit 3)" ;;
  4) say "conformance: a baseline entry passes now, remove it (exit 4)" ;;
  5) say "conformance: interrupted (exit 5)" ;;
  *) say "conformance: exit $code" ;;
esac
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'exit-code=%s\n' "$code" >>"$GITHUB_OUTPUT"
fi
exit "$code"
