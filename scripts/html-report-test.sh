#!/usr/bin/env bash
# The HTML report in a real browser. Runs the runner against the bundled reference server
# (scripts/run-reference.sh --suite sio5: out/report.html, and out/report-eio3.html of its
# Engine.IO 3 run) and against python-socketio (scripts/run-contract-app.sh: out/python.html),
# each with a JSON report of the same run, then loads every page in headless Chromium with
# `#case=<id>` and checks the DOM after the page's script ran:
#   - the counts per verdict equal the JSON report's summary, and `All` its number of cases;
#   - one row per case, with the JSON report's verdict, grouped by verdict (FAIL first) in run order;
#   - the case named in the fragment (a failing or non-strict one when there is one) is
#     expanded (`<details open>`), and only that one;
#   - the only script is the page's own, nothing is loaded from anywhere;
#   - after a click on the FAIL button, exactly the FAIL rows are shown.
# Last, it saves a screenshot of the python-socketio page, its first failing case expanded, as
# an artifact: out/report.png (1400x2000).
# Installs Debian's chromium with apt-get when `chromium` is not on PATH (needs root).
#   scripts/html-report-test.sh        (OUT=DIR writes elsewhere than out/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# A fresh profile per call: no first-run state, no leftovers between calls.
browser() {
  local profile status=0
  profile=$(mktemp -d)
  timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --user-data-dir="$profile" "$@" 2>/dev/null || status=$?
  rm -rf "$profile"
  return "$status"
}

cargo build -p sio-conformance -j2 --quiet

# run NAME COMMAND...: a run whose reports are checked below. Exit 1 (verdicts other than the
# server's expected ones: a timing case can flip) is reported but does not fail this test,
# which is about the page; 2 and 3 (usage, harness) do.
run() {
  local name=$1 code=0
  shift
  echo "==> $name"
  "$@" || code=$?
  if [ "$code" = 1 ]; then
    echo "  note: $name: verdicts differ from the expected ones (exit 1); checking the reports anyway"
  elif [ "$code" != 0 ]; then
    echo "  FAIL $name exited $code" >&2
    exit "$code"
  fi
}
run "the bundled reference server (scripts/run-reference.sh)" \
  scripts/run-reference.sh --suite sio5 --trace none \
  --report "html=$out/report.html" --report "json=$out/report.json"
run "python-socketio (scripts/run-contract-app.sh)" \
  scripts/run-contract-app.sh python-socketio --trace none \
  --report "html=$out/python.html" --report "json=$out/python.json"

# case_of JSON: the url-encoded id of the case to open, a failing or non-strict one if any.
case_of() {
  python3 - "$1" <<'EOF'
import json, sys, urllib.parse
cases = json.load(open(sys.argv[1]))["cases"]
rank = {"FAIL": 0, "ERROR": 0, "NON-STRICT": 1, "UNSUPPORTED": 2, "PASS": 3, "SKIPPED": 4}
case = min(cases, key=lambda c: rank[c["verdict"]])
print(urllib.parse.quote(case["id"], safe=""))
EOF
}

# check DOM JSON CASE: the rendered page against the JSON report of the same run.
check() {
  python3 - "$@" <<'EOF'
import json, sys, urllib.parse
from html.parser import HTMLParser

dom_file, json_file, case_id = sys.argv[1], sys.argv[2], urllib.parse.unquote(sys.argv[3])
report = json.load(open(json_file))

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.counts, self.rows, self.open, self.scripts = {}, [], [], []
        self.count_id, self.row = None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "span" and a.get("id", "").startswith("count-"):
            self.count_id = a["id"][len("count-"):]
        elif tag == "tr" and "case" in a.get("class", "").split():
            self.row = a["data-case-id"]
            self.rows.append((self.row, a["data-verdict"]))
        elif tag == "details" and "open" in a:
            self.open.append(self.row)
        elif tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.scripts.append((tag, a))
    def handle_data(self, data):
        if self.count_id is not None:
            self.counts[self.count_id] = int(data)
            self.count_id = None

dom = Dom()
dom.feed(open(dom_file, encoding="utf-8").read())
problems = []
summary = report["summary"]
expected = {"PASS": summary["pass"], "NON-STRICT": summary["non_strict"], "FAIL": summary["fail"],
            "ERROR": summary["error"], "UNSUPPORTED": summary["unsupported"],
            "SKIPPED": summary["skipped"], "ALL": len(report["cases"])}
if dom.counts != expected:
    problems.append(f"counts: page {dom.counts}, JSON {expected}")
verdicts = [(c["id"], c["verdict"]) for c in report["cases"]]
if sorted(dom.rows) != sorted(verdicts):
    problems.append(f"rows: {len(dom.rows)} on the page, {len(verdicts)} in the JSON, or other verdicts")
# The page opens on the problems: rows grouped by verdict in this order, each group in the
# JSON's (the run's) order.
rank = {v: i for i, v in enumerate(["FAIL", "ERROR", "NON-STRICT", "PASS", "UNSUPPORTED", "SKIPPED"])}
if dom.rows != sorted(verdicts, key=lambda row: rank[row[1]]):
    problems.append("rows: not grouped by verdict (FAIL, ERROR, NON-STRICT, PASS, UNSUPPORTED, SKIPPED) in run order")
if dom.open != [case_id]:
    problems.append(f"expanded: {dom.open}, expected only {case_id!r}")
if [s for s in dom.scripts if s[0] != "script" or s[1] .get("src") or "nonce" not in s[1]] or len(dom.scripts) != 1:
    problems.append(f"scripts and resources: {dom.scripts}")
for p in problems:
    print(f"  FAIL {dom_file}: {p}")
if problems:
    sys.exit(1)
print(f"  ok   {dom_file}: counts {dom.counts}, {len(dom.rows)} rows, {case_id} expanded")
EOF
}

echo "==> the reports in headless Chromium"
status=0
for name in report report-eio3 python; do
  case=$(case_of "$out/$name.json")
  browser --dump-dom "file://$out/$name.html#case=$case" >"$out/$name.dom.html" || {
    echo "  FAIL chromium could not render $out/$name.html" >&2
    status=1
    continue
  }
  check "$out/$name.dom.html" "$out/$name.json" "$case" || status=1
done

echo "==> the FAIL filter button in headless Chromium (python-socketio)"
# The page with one click on its FAIL button appended to its own script (the page's policy
# runs no other script).
python3 - "$out/python.html" "$out/python-click.html" <<'EOF'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
end = "  openFromHash();\n})();"
assert page.count(end) == 1, "the page's script changed: update this test"
click = "  document.querySelector('button[data-filter=\"FAIL\"]').click();\n"
open(sys.argv[2], "w", encoding="utf-8").write(page.replace(end, end[:-5] + click + "})();"))
EOF
browser --dump-dom "file://$out/python-click.html" >"$out/python-click.dom.html"
python3 - "$out/python-click.dom.html" "$out/python.json" <<'EOF' || status=1
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
fail = json.load(open(sys.argv[2]))["summary"]["fail"]
rows = re.findall(r'<tr class="case"[^>]*>', dom)
shown = [re.search(r'data-verdict="([^"]*)"', r)[1] for r in rows if " hidden" not in r]
pressed = re.findall(r'data-filter="([A-Z-]+)" aria-pressed="true"', dom)
if shown != ["FAIL"] * fail or pressed != ["FAIL"]:
    sys.exit(f"  FAIL filter: {len(shown)} rows shown ({set(shown)}), {fail} FAIL in the JSON, pressed {pressed}")
print(f"  ok   FAIL filter: {len(shown)} of {len(rows)} rows shown, all FAIL")
EOF

echo "==> screenshot of the python-socketio report"
browser --screenshot="$out/report.png" --window-size=1400,2000 \
  "file://$out/python.html#case=$(case_of "$out/python.json")"
# A page that did not paint gives an almost empty PNG of a few KB.
size=$(stat -c %s "$out/report.png")
if [ "$size" -lt 50000 ]; then
  echo "  FAIL $out/report.png is $size bytes: blank?" >&2
  status=1
else
  echo "  ok   $out/report.png ($size bytes)"
fi
exit "$status"
