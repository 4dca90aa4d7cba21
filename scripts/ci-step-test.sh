#!/usr/bin/env bash
# Exercises the CI step of the GitHub Action and the GitLab template (scripts/ci-step.sh) here,
# as GitHub runs it (GITHUB_ACTIONS=true, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT in temp files):
#   1. against the bundled reference server (started like scripts/run-reference.sh does), every
#      case on Engine.IO 4 with its probed profile and its expected results: exit 0, every
#      report written (html, junit, json, profile), the job summary written;
#   2. against the built-in contract server with a defect (`conformance mutants serve --mutant
#      echo-twice`), which the step starts and stops itself (CONFORMANCE_SERVER_COMMAND with a
#      readiness URL): exit 1, `::error file=` annotations, the summary names the failures, the
#      server stopped afterwards;
#   3. the step's own errors: no target (2), nothing listening (3), a server command that exits
#      before it is ready (3), an argument string with an unmatched quote (2).
# CONFORMANCE_BIN: the runner to use (default: a debug build of this tree).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

app=contract-apps/node-socketio
# shellcheck source=lib/servers.sh
. scripts/lib/servers.sh

work=$(mktemp -d)
trap 'rm -rf "$work"; stop_servers' EXIT # servers.sh's own trap, plus the work files

if [ -z "${CONFORMANCE_BIN:-}" ]; then
  echo "==> building the runner"
  cargo build -p sio-conformance -j2 --quiet
  CONFORMANCE_BIN=$root/target/debug/conformance
fi
export CONFORMANCE_BIN
echo "==> installing the reference server (npm ci)"
(cd "$app" && npm ci --no-audit --no-fund --loglevel=error)

failures=0
check() { # check DESCRIPTION COMMAND...: one assertion, counted
  local what=$1
  shift
  if "$@"; then
    echo "ok    $what"
  else
    echo "FAIL  $what" >&2
    failures=$((failures + 1))
  fi
}
nonempty() { [ -s "$1" ]; }
has() { grep -q -e "$1" "$2"; } # has PATTERN FILE

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# step NAME [VAR=VALUE...]: scripts/ci-step.sh as GitHub runs it, with the given variables; its
# output in $work/NAME.out, its exit code in $code, the reports in $work/NAME/.
step() {
  local name=$1
  shift
  : >"$work/$name.summary"
  : >"$work/$name.output"
  code=0
  env -u CONFORMANCE_SERVER_COMMAND -u CONFORMANCE_READY_URL -u CONFORMANCE_ARGS -u CONFORMANCE_PROBE \
    GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$work/$name.summary" GITHUB_OUTPUT="$work/$name.output" \
    CONFORMANCE_REPORTS_DIR="$work/$name" "$@" "$root/scripts/ci-step.sh" >"$work/$name.out" 2>&1 || code=$?
  echo "==> ci-step.sh ($name) exited $code; the end of its output:"
  tail -n 6 "$work/$name.out" | sed 's/^/    /'
}

# The per-case verdicts of a JSON report, as counts: "PASS 142 NON-STRICT 2 …" and the number run.
verdicts() {
  python3 - "$1" <<'PY'
import collections, json, sys
report = json.load(open(sys.argv[1]))
counts = collections.Counter(case["verdict"] for case in report["cases"])
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
PY
}

echo
echo "==> 1. the reference server, every case on Engine.IO 4, probed, with its expected results"
start_server "the reference server (default)" node "$app/server.js"
step reference CONFORMANCE_TARGET="$url" \
  CONFORMANCE_ARGS="--eio 4 --connect-timeout 1s --trace none --expect '$root/$app/expected.yaml'"
check "exit 0" test "$code" = 0
for file in report.html junit.xml report.json profile.yaml; do
  check "$file written" nonempty "$work/reference/$file"
done
check "the job summary written" has '^## Socket.IO conformance' "$work/reference.summary"
check "the exit code as a step output" has '^exit-code=0$' "$work/reference.output"
check "the probe ran: the profile lists capabilities" has 'supported' "$work/reference/profile.yaml"
check "the run had the profile" has "--profile $work/reference/profile.yaml" "$work/reference.out"
check "the NON-STRICT cases annotated as warnings" has '^::warning file=' "$work/reference.out"
check "no error annotations" test "$(grep -c '^::error' "$work/reference.out" || true)" = 0
check "cases ran (JUnit testcases)" has '<testcase' "$work/reference/junit.xml"
if nonempty "$work/reference/report.json"; then
  counts=$(verdicts "$work/reference/report.json")
  echo "    verdicts: $counts"
  check "no FAIL or ERROR verdict" test "$(grep -cE '(^| )(FAIL|ERROR)=' <<<"$counts" || true)" = 0
  check "PASS verdicts" has 'PASS=' <(printf '%s\n' "$counts")
fi
stop_servers

echo
echo "==> 2. the built-in server with the echo-twice defect, started and stopped by the step"
port=$(free_port)
step mutant CONFORMANCE_TARGET="http://127.0.0.1:$port" \
  CONFORMANCE_SERVER_COMMAND="'$CONFORMANCE_BIN' mutants serve --mutant echo-twice --port $port" \
  CONFORMANCE_READY_URL="http://127.0.0.1:$port/socket.io/?EIO=4&transport=polling" \
  CONFORMANCE_ARGS="--run 'sio5/message/plain-text*' --connect-timeout 1s"
check "exit 1" test "$code" = 1
check "::error annotations on the fixture lines" has '^::error file=[^,]*\.yaml,line=[0-9]' "$work/mutant.out"
check "the job summary names the failures" has 'FAIL' "$work/mutant.summary"
check "the exit code as a step output" has '^exit-code=1$' "$work/mutant.output"
for file in report.html junit.xml report.json profile.yaml server.log; do
  check "$file written" nonempty "$work/mutant/$file"
done
check "JUnit failures" has '<failure' "$work/mutant/junit.xml"
if nonempty "$work/mutant/report.json"; then
  counts=$(verdicts "$work/mutant/report.json")
  echo "    verdicts: $counts"
  check "FAIL verdicts" has 'FAIL=' <(printf '%s\n' "$counts")
fi
check "the quoted glob reached the runner unexpanded (only plain-text cases ran)" \
  test "$(python3 -c 'import json, sys; print(all(c["id"].startswith("sio5/message/plain-text") for c in json.load(open(sys.argv[1]))["cases"] if c["verdict"] != "SKIPPED"))' "$work/mutant/report.json" 2>/dev/null)" = True
check "the server was stopped" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"

echo
echo "==> 2b. the same cases against the clean built-in server: ready when its port accepts, no probe"
port=$(free_port)
step clean CONFORMANCE_TARGET="http://127.0.0.1:$port" CONFORMANCE_PROBE=false \
  CONFORMANCE_SERVER_COMMAND="exec '$CONFORMANCE_BIN' mutants serve --mutant none --port $port" \
  CONFORMANCE_ARGS="--run 'sio5/message/plain-text*' --connect-timeout 1s"
check "exit 0" test "$code" = 0
check "no profile without the probe" test ! -e "$work/clean/profile.yaml"
check "no error annotations" test "$(grep -c '^::error' "$work/clean.out" || true)" = 0
check "the server was stopped" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"

echo
echo "==> 3. the step's own errors"
step no-target CONFORMANCE_TARGET=
check "no CONFORMANCE_TARGET: exit 2" test "$code" = 2
port=$(free_port)
step nothing-listens CONFORMANCE_TARGET="http://127.0.0.1:$port" CONFORMANCE_ARGS="--run 'eio4/handshake/**'"
check "nothing listening: exit 3" test "$code" = 3
step nothing-listens-unprobed CONFORMANCE_TARGET="http://127.0.0.1:$port" CONFORMANCE_PROBE=false \
  CONFORMANCE_ARGS="--run 'eio4/handshake/**'"
check "nothing listening, no probe: exit 3 from the run" test "$code" = 3
check "nothing listening, no probe: the reports are still written" nonempty "$work/nothing-listens-unprobed/junit.xml"
step server-exits CONFORMANCE_TARGET="http://127.0.0.1:$port" CONFORMANCE_SERVER_COMMAND="echo 'cannot start' >&2; exit 7"
check "a server command that exits at once: exit 3" test "$code" = 3
check "a server command that exits at once: its output shown" has 'cannot start' "$work/server-exits.out"
step bad-args CONFORMANCE_TARGET="http://127.0.0.1:$port" CONFORMANCE_ARGS="--run 'unterminated"
check "CONFORMANCE_ARGS with an unmatched quote: exit 2" test "$code" = 2

echo
echo "==> 4. the action's install step (the shell of action.yml's first step)"
# The step's script, from action.yml: the block under `run: |` of the step with `id: install`.
python3 - action.yml >"$work/install-step.sh" <<'PY'
import sys, textwrap
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.strip() == "id: install")
run = next(i for i in range(start, len(lines)) if lines[i].strip() == "run: |")
indent = len(lines[run]) - len(lines[run].lstrip()) + 2
body = []
for line in lines[run + 1:]:
    if line.strip() and len(line) - len(line.lstrip()) < indent:
        break
    body.append(line)
print(textwrap.dedent("\n".join(body)))
PY
check "the install step found in action.yml" has 'releases/download' "$work/install-step.sh"
# A release server: GITHUB_SERVER_URL/acme/sio-toolkit/releases/download/v9.9.9/ASSET.
srv=$work/srv
release=$srv/acme/sio-toolkit/releases/download/v9.9.9
asset=conformance-x86_64-unknown-linux-gnu.tar.gz
mkdir -p "$release" "$work/pack/conformance-v9.9.9"
cp "$CONFORMANCE_BIN" "$work/pack/conformance-v9.9.9/conformance"
tar -czf "$release/$asset" -C "$work/pack" conformance-v9.9.9
(cd "$release" && sha256sum "$asset" >"$asset.sha256")
mkdir -p "$srv/acme/sio-toolkit/releases/download/v6.6.6"
cp "$release/$asset" "$srv/acme/sio-toolkit/releases/download/v6.6.6/$asset"
echo "0000000000000000000000000000000000000000000000000000000000000000  $asset" \
  >"$srv/acme/sio-toolkit/releases/download/v6.6.6/$asset.sha256"
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$srv" "$port" >"$work/http.log" 2>&1 &
server_pids+=("$!") # stopped with the others
for _ in $(seq 1 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
# A cargo that records how it was called and installs the runner where --root says.
mkdir -p "$work/fakebin"
cat >"$work/fakebin/cargo" <<EOF
#!/usr/bin/env bash
args="\$*"
echo "\$args" >>"$work/cargo-calls"
root=\${args##*--root }
mkdir -p "\$root/bin"
cp "$CONFORMANCE_BIN" "\$root/bin/conformance"
EOF
chmod +x "$work/fakebin/cargo"
# install NAME [VAR=VALUE...]: the install step as GitHub runs it; exit code in $code.
install_step() {
  local name=$1
  shift
  mkdir -p "$work/$name"
  : >"$work/$name/path"
  : >"$work/$name/output"
  : >"$work/cargo-calls"
  code=0
  env PATH="$work/fakebin:$PATH" GITHUB_SERVER_URL="http://127.0.0.1:$port" RUNNER_OS=Linux RUNNER_ARCH=X64 \
    RUNNER_TEMP="$work/$name" GITHUB_PATH="$work/$name/path" GITHUB_OUTPUT="$work/$name/output" \
    ACTION_PATH="$root" ACTION_REPOSITORY=acme/sio-toolkit ACTION_REF=v9.9.9 VERSION= "$@" \
    bash "$work/install-step.sh" >"$work/$name.out" 2>&1 || code=$?
  echo "==> install step ($name) exited $code"
}
install_step install-release
check "a release binary: installed from the release" has '^installed=release$' "$work/install-release/output"
check "a release binary: cargo not called" test ! -s "$work/cargo-calls"
check "a release binary: the bin output runs" \
  "$(sed -n 's/^bin=//p' "$work/install-release/output")" --version
check "a release binary: on GITHUB_PATH" has 'sio-conformance/bin$' "$work/install-release/path"
install_step install-branch ACTION_REF=main
check "no release for a branch: built from source" has '^installed=source$' "$work/install-branch/output"
check "no release for a branch: cargo install --locked --path <action>/conformance" \
  has "^install --locked --path $root/conformance --root " "$work/cargo-calls"
install_step install-forced VERSION=source
check "version: source builds from source" has '^installed=source$' "$work/install-forced/output"
mkdir -p "$work/_actions/acme/sio-toolkit/v9.9.9"
install_step install-derived ACTION_REF= ACTION_REPOSITORY= ACTION_PATH="$work/_actions/acme/sio-toolkit/v9.9.9"
check "repository and ref taken from the action path when GitHub leaves them empty" \
  has '^installed=release$' "$work/install-derived/output"
install_step install-bad-checksum ACTION_REF=v6.6.6
check "a release whose checksum does not match: the step fails" test "$code" != 0
check "a release whose checksum does not match: said" has '::error::.*sha256' "$work/install-bad-checksum.out"

echo
echo "==> 5. the GitLab template (docs/ci/gitlab-ci.yml): its before_script and script, as a job runs them"
branch=$(git rev-parse --abbrev-ref HEAD)
if [ "$branch" = HEAD ]; then
  echo "    (skipped: a detached HEAD has no branch for SIO_TOOLKIT_REF)"
else
  python3 - docs/ci/gitlab-ci.yml >"$work/gitlab-job.sh" <<'PY'
import sys, textwrap
lines = open(sys.argv[1]).read().split("\n")
def block(key):
    i = next(i for i, l in enumerate(lines) if l.strip() == key) + 1
    out = []
    for line in lines[i:]:
        if line.strip() and not line.startswith("    "):
            break
        out.append(line)
    text = textwrap.dedent("\n".join(out))
    # `- |` blocks and `- command` lines, in order
    items, current = [], None
    for line in text.split("\n"):
        if line.startswith("- |"):
            current = []
            items.append(current)
        elif line.startswith("- "):
            items.append([line[2:]])
            current = None
        elif current is not None:
            current.append(line)
    return "\n".join(textwrap.dedent("\n".join(item)) for item in items)
print("set -eo pipefail")
print(block("before_script:"))
print(block("script:"))
PY
  check "the job's shell found in the template" has 'scripts/ci-step.sh' "$work/gitlab-job.sh"
  mkdir -p "$work/gitlab"
  port2=$(free_port)
  code=0
  (cd "$work/gitlab" && env CI_PROJECT_DIR="$work/gitlab" SIO_TOOLKIT_GIT_URL="file://$root" SIO_TOOLKIT_REF="$branch" \
    SIO_TOOLKIT_BINARY_URL="http://127.0.0.1:$port/acme/sio-toolkit/releases/download/v9.9.9/$asset" \
    CONFORMANCE_TARGET="http://127.0.0.1:$port2" CONFORMANCE_PROBE=true CONFORMANCE_REPORTS_DIR=conformance-reports \
    CONFORMANCE_SERVER_COMMAND="exec '$CONFORMANCE_BIN' mutants serve --mutant echo-twice --port $port2" \
    CONFORMANCE_ARGS="--run 'sio5/message/plain-text*' --connect-timeout 1s" \
    bash "$work/gitlab-job.sh") >"$work/gitlab.out" 2>&1 || code=$?
  echo "==> the GitLab job exited $code; the end of its output:"
  tail -n 4 "$work/gitlab.out" | sed 's/^/    /'
  check "the GitLab job: exit 1 for the defect" test "$code" = 1
  check "the GitLab job: the runner from the binary URL" test -x "$work/gitlab/.sio-toolkit-bin/conformance"
  check "the GitLab job: junit.xml where the artifacts look" has '<failure' "$work/gitlab/conformance-reports/junit.xml"
  check "the GitLab job: report.html where the artifacts look" nonempty "$work/gitlab/conformance-reports/report.html"
fi

echo
if [ "$failures" != 0 ]; then
  echo "ci-step-test: $failures check(s) failed" >&2
  exit 1
fi
echo "ci-step-test: every check passed"
