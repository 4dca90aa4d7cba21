#!/usr/bin/env python3
"""Writes a conformance.expected/v1 file from a JSON report (`conformance run --report json=…`):
every case that did not PASS (and was not SKIPPED), with the verdict it got and, as the reason,
what the runner observed. Review the reasons before committing: say whether the spec requires
the behaviour or only the reference does it.

    scripts/expected-from-report.py REPORT.json "SERVER DESCRIPTION" > expected.yaml
"""
import json
import sys


def quote(text):
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    report = json.load(open(sys.argv[1], encoding="utf-8"))
    print("schema: conformance.expected/v1")
    print(f"server: {quote(sys.argv[2])}")
    print("cases:")
    for case in report["cases"]:
        if case["verdict"] in ("PASS", "SKIPPED"):
            continue
        finding = next((f for f in case["findings"] if f["verdict"] == case["verdict"]), None)
        observed = finding["message"] if finding else "(no finding)"
        where = f" ({case['fixture'].split(':')[0]}:{finding['line']})" if finding and finding.get("line") else ""
        print(f"  {case['id']}:")
        print(f"    verdict: {case['verdict']}")
        print(f"    reason: {quote(case['level'] + ' case; observed: ' + observed + where)}")


if __name__ == "__main__":
    main()
