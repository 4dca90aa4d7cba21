#!/usr/bin/env bash
# Proves the install path of the runner: `cargo install --locked --path conformance` from a
# copy of the workspace sources, then the source copy moved away (so no path baked into the
# binary exists any more), then the installed binary run from an empty directory against the
# bundled reference server the four ways scripts/run-reference.sh runs it (Engine.IO 4 and 3,
# at the suites' paths and at /socket.io/ with a probed profile, each with the reference's
# expected results given as an absolute path). The per-case verdicts of those four runs must be
# exactly those of scripts/run-reference.sh run with the same binary (CONFORMANCE_BIN); any
# difference, a run that loads no case, or a run that does not exit 0 fails the check.
#
# INSTALL_CHECK_DIR: where to work (default: a fresh `mktemp -d`, removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
app=$repo/contract-apps/node-socketio
expected=$app/expected.yaml

# shellcheck source=lib/servers.sh
. scripts/lib/servers.sh

if [ -n "${INSTALL_CHECK_DIR:-}" ]; then
  tmp=$INSTALL_CHECK_DIR
  mkdir -p "$tmp"
  cleanup() { stop_servers; }
else
  tmp=$(mktemp -d)
  cleanup() { stop_servers; rm -rf "$tmp"; }
fi
trap cleanup EXIT # replaces servers.sh's own trap, and calls it

die() {
  printf '\ninstall-check: FAILED: %s\n' "$*" >&2
  exit 1
}

echo "==> copying the workspace sources (git ls-files) to $tmp/src"
src=$tmp/src
mkdir -p "$src"
git ls-files -z -- Cargo.toml Cargo.lock README.md codec conformance mutants examples fixtures docs benches fuzz/oracles |
  xargs -0 cp -P --parents -t "$src" -- # -P: the symlinks (conformance/builtin/*) stay links
echo "    $(find "$src" -type f | wc -l) files"

echo "==> cargo install --locked --path $src/conformance --root $tmp/root -j2"
start=$SECONDS
cargo install --locked --path "$src/conformance" --root "$tmp/root" -j2 --quiet
install_seconds=$((SECONDS - start))
bin=$tmp/root/bin/conformance
[ -x "$bin" ] || die "cargo install wrote no $bin"
echo "    installed in ${install_seconds} s: $bin ($(stat -c %s "$bin") bytes)"

echo "==> moving the source copy away: $src -> $tmp/src-moved"
mv "$src" "$tmp/src-moved"
[ ! -e "$src" ] || die "$src still exists"

empty=$tmp/empty
mkdir -p "$empty"
cd "$empty"
echo "==> from an empty directory ($empty)"
version=$("$bin" --version) || die "conformance --version failed"
echo "    conformance --version:"
printf '%s\n' "$version" | sed 's/^/      /'
total=$("$bin" list --format json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') ||
  die "conformance list failed from an empty directory"
echo "    conformance list: $total case instances"
[ "$total" -gt 0 ] || die "conformance list shows no case from an empty directory"

echo "==> installing the reference server (npm ci)"
(cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
start_server "the reference server (default)" node "$app/server.js"
v4=$url
start_server "the reference server (ALLOW_EIO3=1)" ALLOW_EIO3=1 node "$app/server.js"
v3=$url

out=$tmp/installed
mkdir -p "$out"
status=0
# installed_run NAME EIO URL [extra run arguments]: as scripts/run-reference.sh runs it
installed_run() {
  local name=$1 eio=$2 target=$3 code=0
  shift 3
  echo "==> installed binary, run $name: --eio $eio --target $target $*"
  "$bin" run --target "$target" --connect-timeout 1s --eio "$eio" --expect "$expected" \
    --trace none --report "json=$out/$name.json" "$@" >"$out/$name.log" 2>&1 || code=$?
  grep -E '^(Summary|expected results)' "$out/$name.log" | sed 's/^/    /' || true
  if [ "$code" != 0 ]; then
    tail -n 30 "$out/$name.log" >&2
    echo "install-check: run $name exited $code" >&2
    status=1
  fi
}
installed_run report 4 "$v4"
installed_run report-eio3 3 "$v3"
for server in v4 v3; do
  echo "==> probing ${!server}/socket.io/"
  "$bin" probe --target "${!server}/socket.io/" --timeout 2s --out "$out/profile-$server.yaml" >/dev/null ||
    die "conformance probe of ${!server}/socket.io/ failed"
done
installed_run report-socketio 4 "$v4/socket.io/" --profile "$out/profile-v4.yaml"
installed_run report-socketio-eio3 3 "$v3/socket.io/" --profile "$out/profile-v3.yaml"
stop_servers

echo "==> scripts/run-reference.sh with the same binary (CONFORMANCE_BIN=$bin)"
ref=$tmp/reference
mkdir -p "$ref"
code=0
CONFORMANCE_BIN=$bin "$repo/scripts/run-reference.sh" --trace none --report "json=$ref/report.json" \
  >"$ref/run-reference.log" 2>&1 || code=$?
grep -E '^(==> run|==> case instances|Summary|expected results)' "$ref/run-reference.log" | sed 's/^/    /' || true
if [ "$code" != 0 ]; then
  tail -n 30 "$ref/run-reference.log" >&2
  die "scripts/run-reference.sh exited $code"
fi

echo "==> per-case verdicts: installed binary from an empty directory vs scripts/run-reference.sh"
python3 - "$out" "$ref" <<'PY' || status=1
import json, os, sys

installed, reference = sys.argv[1:3]
bad = 0
for name in ("report", "report-eio3", "report-socketio", "report-socketio-eio3"):
    runs = {}
    for side, d in (("installed", installed), ("run-reference.sh", reference)):
        path = os.path.join(d, name + ".json")
        try:
            report = json.load(open(path))
        except (OSError, ValueError) as e:
            print(f"  {name}: {side}: no report ({e})")
            bad += 1
            break
        verdicts = {case["id"]: case["verdict"] for case in report["cases"]}
        ran = sum(1 for v in verdicts.values() if v != "SKIPPED")
        if not verdicts or ran == 0:
            print(f"  {name}: {side}: the run loaded no case ({len(verdicts)} cases, {ran} run)")
            bad += 1
        runs[side] = verdicts
    if len(runs) != 2:
        continue
    a, b = runs["installed"], runs["run-reference.sh"]
    diffs = sorted(
        (case, a.get(case, "(absent)"), b.get(case, "(absent)"))
        for case in set(a) | set(b)
        if a.get(case) != b.get(case)
    )
    ran = sum(1 for v in a.values() if v != "SKIPPED")
    counts = {}
    for v in a.values():
        counts[v] = counts.get(v, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    if diffs:
        bad += 1
        print(f"  {name}: {len(diffs)} verdict(s) differ (installed vs run-reference.sh):")
        for case, x, y in diffs:
            print(f"    {case}: {x} vs {y}")
    else:
        print(f"  {name}: the same verdicts for all {len(a)} case instances ({ran} run: {summary})")
sys.exit(1 if bad else 0)
PY

if [ "$status" != 0 ]; then
  die "the installed binary does not behave like the source tree's (see above)"
fi
echo
echo "install-check: ok: cargo install in ${install_seconds} s; the installed binary, without its sources, gives run-reference.sh's verdicts"
