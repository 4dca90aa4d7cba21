//! Reports of a real (in-process) run: console ordering and closing line, JSON shape, and
//! JUnit XML that an XML parser accepts with the right counts.

use quick_xml::{Reader, events::Event};
use sio_conformance::engine::{CaseResult, Finding, Verdict};
use sio_conformance::fixture::builtin::load_options;
use sio_conformance::fixture::parse_suite;
use sio_conformance::report::{self, Trace};
use sio_conformance::transport::Transcript;
use std::{path::Path, time::Duration};

const SUITE: &str = r##"
schema: conformance.fixture/v1
suite: demo
spec: {base_url: "https://example.invalid/spec.md"}
cases:
  - id: a
    title: first
    spec: {anchor: "#a", quote: "The server MUST answer."}
    steps: [{sleep: 1ms}]
  - id: b
    title: second <with> "markup" & more
    spec: {anchor: "#b", quote: "The server SHOULD answer."}
    level: SHOULD
    steps: [{sleep: 1ms}]
  - id: c
    title: third
    spec: {anchor: "#c", quote: "q"}
    steps: [{sleep: 1ms}]
  - id: d
    title: fourth
    spec: {anchor: "#d", quote: "q"}
    steps: [{sleep: 1ms}]
"##;

fn results() -> Vec<CaseResult> {
    let suite = parse_suite(SUITE, Path::new("demo.yaml"), &load_options()).unwrap();
    let verdicts = [
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Fail,
        Verdict::Skipped,
    ];
    suite
        .instances
        .iter()
        .zip(verdicts)
        .map(|(instance, verdict)| CaseResult {
            instance: instance.clone(),
            verdict,
            findings: if verdict == Verdict::Pass {
                vec![]
            } else {
                vec![Finding {
                    verdict,
                    line: instance.line + 4,
                    message: format!("{verdict} finding"),
                    expected: Some("42[\"message-back\",1]".into()),
                    actual: Some("42[\"oops\"]".into()),
                    timing: false,
                    blocked_by: None,
                }]
            },
            duration: Duration::from_millis(3),
            transcript: Transcript::new(),
            recorded: Vec::new(),
        })
        .collect()
}

#[test]
fn console_lists_failures_first_and_ends_with_the_closing_line() {
    let text = report::console(&results(), Trace::None, Duration::from_secs(1));
    let fail = text.find("FAIL        demo/c").unwrap();
    let non_strict = text.find("NON-STRICT  demo/b").unwrap();
    assert!(fail < non_strict, "{text}");
    assert!(text.contains("demo.yaml:"), "{text}");
    assert!(text.contains("expected: 42[\"message-back\",1]"), "{text}");
    assert!(
        text.contains(
            "spec: https://example.invalid/spec.md#b \u{201c}The server SHOULD answer.\u{201d}"
        ),
        "{text}"
    );
    assert!(
        !text.contains("demo/a "),
        "passing cases are not detailed: {text}"
    );
    assert_eq!(text.lines().last(), Some("2 passed, 1 failed"));
}

#[test]
fn console_groups_unsupported_cases_by_reason() {
    let mut results = results();
    for (result, capability) in results.iter_mut().zip(["eio4", "eio4", "rooms"]) {
        result.verdict = Verdict::Unsupported;
        result.findings = vec![Finding {
            verdict: Verdict::Unsupported,
            line: result.instance.line,
            message: format!("the target lacks capability `{capability}`"),
            expected: None,
            actual: None,
            timing: false,
            blocked_by: None,
        }];
    }
    let text = report::console(&results, Trace::None, Duration::from_secs(1));
    assert!(
        text.contains("UNSUPPORTED 2 cases: the target lacks capability `eio4` (demo/a, …)"),
        "{text}"
    );
    assert!(
        text.contains("UNSUPPORTED 1 case: the target lacks capability `rooms` (demo/c)"),
        "{text}"
    );
    assert!(!text.contains("demo/b"), "one line per reason: {text}");
}

#[test]
fn json_report_has_the_schema_and_every_case() {
    let json: serde_json::Value =
        serde_json::from_str(&report::json(&results(), "http://t", Trace::None)).unwrap();
    assert_eq!(json["schema"], "conformance.report/v1");
    assert_eq!(json["summary"]["fail"], 1);
    assert_eq!(json["summary"]["non_strict"], 1);
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    assert_eq!(cases[2]["verdict"], "FAIL");
    assert_eq!(cases[2]["findings"][0]["actual"], "42[\"oops\"]");
    assert!(
        cases[2]["fixture"]
            .as_str()
            .unwrap()
            .starts_with("demo.yaml:")
    );
}

#[test]
fn junit_is_well_formed_xml_with_the_right_counts() {
    let xml = report::junit(&results()).unwrap();
    let mut reader = Reader::from_str(&xml);
    let (mut testcases, mut failures, mut skipped) = (0, 0, 0);
    let mut names = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => {
                    testcases += 1;
                    let name = e.try_get_attribute("name").unwrap().unwrap();
                    names.push(
                        name.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                b"failure" => failures += 1,
                b"skipped" => skipped += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((testcases, failures, skipped), (4, 1, 1), "{xml}");
    assert_eq!(names, ["demo/a", "demo/b", "demo/c", "demo/d"]);
}

#[test]
fn tap_has_a_plan_and_one_point_per_case() {
    let text = report::tap(&results());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..2], ["TAP version 14", "1..4"]);
    assert_eq!(lines[2], "ok 1 - demo/a");
    // NON-STRICT is `ok` with its finding, FAIL is `not ok`, SKIPPED is a SKIP directive.
    assert_eq!(lines[3], "ok 2 - demo/b");
    assert!(text.contains("  verdict: NON-STRICT\n"), "{text}");
    assert!(
        text.contains("not ok 3 - demo/c\n  ---\n  verdict: FAIL\n"),
        "{text}"
    );
    assert!(
        text.contains("      expected: \"42[\\\"message-back\\\",1]\"\n"),
        "YAML block strings are JSON-quoted: {text}"
    );
    assert!(
        text.contains("ok 4 - demo/d # SKIP SKIPPED finding"),
        "{text}"
    );
    assert_eq!(text.matches("\n  ---\n").count(), 2, "{text}");
    assert_eq!(text.matches("\n  ...\n").count(), 2, "{text}");
}

#[test]
fn github_annotations_point_at_fixture_lines() {
    let results = results();
    let text = report::github_annotations(&results);
    let lines: Vec<&str> = text.lines().collect();
    let fail_line = results[2].findings[0].line;
    assert_eq!(
        lines,
        [
            format!(
                "::warning file=demo.yaml,line={},title=NON-STRICT demo/b::NON-STRICT finding%0Aexpected: 42[\"message-back\",1]%0Aactual: 42[\"oops\"]",
                results[1].findings[0].line
            ),
            format!(
                "::error file=demo.yaml,line={fail_line},title=FAIL demo/c::FAIL finding%0Aexpected: 42[\"message-back\",1]%0Aactual: 42[\"oops\"]"
            ),
        ]
    );
    let summary = report::github_summary(&results, "http://x");
    assert!(summary.contains("| 1 | 1 | 1 | 0 | 0 | 1 |"), "{summary}");
    assert!(
        summary.contains(&format!(
            "| FAIL | `demo/c` | Must | `demo.yaml:{fail_line}` FAIL finding |"
        )),
        "{summary}"
    );
}
