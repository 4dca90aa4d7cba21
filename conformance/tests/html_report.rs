//! The HTML report (`--report html=PATH`, `diff --report html=PATH`): it opens on a verdict
//! line and the failures, untrusted fixture and server text is escaped, the counts and rows
//! match the results, polling bodies are split into packets, binary is hex, and the page loads
//! nothing from anywhere.

use bytes::Bytes;
use sio_conformance::engine::{CaseResult, Finding, Verdict};
use sio_conformance::fixture::builtin::load_options;
use sio_conformance::fixture::{CaseInstance, parse_suite};
use sio_conformance::report::html::{render, render_matrix};
use sio_conformance::transport::{Dir, Transcript, WireData, WireKind};
use std::{path::PathBuf, sync::OnceLock, time::Duration};

const FIXTURE: &str = r##"schema: conformance.fixture/v1
suite: demo
spec: {base_url: "https://example.invalid/spec.md"}
cases:
  - id: echo
    title: An echo with <b>markup</b> & "quotes"
    spec: {anchor: "#echo", quote: "The server MUST <echo>."}
    steps:
      - sleep: 1ms
      - sleep: 2ms
  # ---- between cases
  - id: polling
    title: polling
    spec: {anchor: "#polling", quote: "q"}
    steps: [{sleep: 1ms}]
  - id: unread
    title: its fixture file is gone
    spec: {anchor: "#x", quote: "q"}
    steps: [{sleep: 1ms}]
  - id: skipped
    title: not selected
    spec: {anchor: "#y", quote: "q"}
    steps: [{sleep: 1ms}]
"##;

/// The fixture written to disk (the report reads its excerpts from the file), and results:
/// FAIL with a hostile transcript, PASS with a polling body and binary, NON-STRICT whose
/// fixture file cannot be read, SKIPPED.
fn results() -> Vec<CaseResult> {
    // Written once: the tests run in parallel and read it while rendering.
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("demo.yaml"), FIXTURE).unwrap();
        dir.join("demo.yaml")
    });
    let dir = file.parent().unwrap();
    let suite = parse_suite(FIXTURE, file, &load_options()).unwrap();
    let verdicts = [
        Verdict::Fail,
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Skipped,
    ];
    let mut results: Vec<CaseResult> = suite
        .instances
        .into_iter()
        .zip(verdicts)
        .map(|(instance, verdict)| result(instance, verdict))
        .collect();
    let step_line = results[0].instance.steps[1].line;
    results[0].findings.push(Finding {
        verdict: Verdict::Fail,
        line: step_line,
        message: "unexpected packet <i>".into(),
        expected: Some("42[\"message-back\"]".into()),
        actual: Some("42[\"<script>\"]".into()),
        timing: false,
        blocked_by: None,
    });
    let hostile = &results[0].transcript;
    let text = |s: &str| WireData::Text(s.into());
    let now = hostile.start();
    hostile.record(
        now,
        "ws",
        Dir::Rx,
        WireKind::WsText,
        text("42[\"<script>alert(1)</script>\"]"),
        None,
    );
    let polling = &results[1].transcript;
    polling.record(
        now,
        "poll",
        Dir::Rx,
        WireKind::HttpResponse,
        text("4first\u{1e}4second\u{1e}4third"),
        Some("200 text/plain".into()),
    );
    polling.record(
        now,
        "ws",
        Dir::Rx,
        WireKind::WsBinary,
        WireData::Bytes(Bytes::from_static(&[0x04, 0x01, 0xff])),
        None,
    );
    results[2].instance.file = dir.join("gone.yaml");
    results[2].instance.source = std::sync::Arc::from("# emptied since\n");
    results
}

/// A result without findings or traffic.
fn result(instance: CaseInstance, verdict: Verdict) -> CaseResult {
    CaseResult {
        verdict,
        instance,
        duration: Duration::from_millis(12),
        findings: Vec::new(),
        transcript: Transcript::new(),
        recorded: Vec::new(),
    }
}

#[test]
fn untrusted_text_is_escaped() {
    let html = render(&results(), "http://127.0.0.1:1/<x>");
    assert!(!html.contains("<script>alert(1)"), "server data is escaped");
    assert!(html.contains("42[&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;]"));
    assert!(
        !html.contains("<b>markup</b>"),
        "fixture titles are escaped"
    );
    assert!(html.contains("An echo with &lt;b&gt;markup&lt;/b&gt; &amp; &quot;quotes&quot;"));
    assert!(html.contains("The server MUST &lt;echo&gt;."));
    assert!(html.contains("unexpected packet &lt;i&gt;"));
    assert!(html.contains("42[&quot;&lt;script&gt;&quot;]"));
    assert!(html.contains("http://127.0.0.1:1/&lt;x&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
}

#[test]
fn counts_and_one_row_per_case() {
    let results = results();
    let html = render(&results, "http://t");
    for (verdict, count) in [
        ("ALL", 4),
        ("PASS", 1),
        ("NON-STRICT", 1),
        ("FAIL", 1),
        ("ERROR", 0),
        ("UNSUPPORTED", 0),
        ("SKIPPED", 1),
    ] {
        assert!(
            html.contains(&format!("id=\"count-{verdict}\">{count}</span>")),
            "{verdict}"
        );
    }
    assert_eq!(html.matches("<tr class=\"case\"").count(), results.len());
    for result in &results {
        let row = format!(
            "data-case-id=\"{}\" data-verdict=\"{}\"",
            result.instance.id, result.verdict
        );
        assert_eq!(html.matches(&row).count(), 1, "{row}");
    }
}

#[test]
fn detail_has_findings_spec_fixture_and_transcript() {
    let results = results();
    let html = render(&results, "http://t");
    let line = results[0].findings[0].line;
    // The finding: where, expected vs actual.
    assert!(html.contains(&format!("demo.yaml:{line}</code> unexpected packet")));
    assert!(html.contains("<pre>42[&quot;message-back&quot;]</pre>"));
    // The spec quote and its link.
    assert!(html.contains(
        "<a href=\"https://example.invalid/spec.md#echo\">https://example.invalid/spec.md#echo</a>"
    ));
    // The fixture excerpt: the case's lines, numbered, the finding's line marked, and not the
    // comment or the case after it.
    assert!(html.contains(
        "<span class=\"l\"><span class=\"ln\">5</span>  - id: echo</span><span class=\"l\"><span class=\"ln\">6</span>    title: An echo with &lt;b&gt;"
    ));
    assert!(html.contains(&format!(
        "<span class=\"l hit\"><span class=\"ln\">{line}</span>      - sleep: 2ms</span></pre>"
    )));
    assert!(!html.contains("<span class=\"ln\">11</span>  # ---- between cases"));
    assert!(html.contains("<span class=\"ln\">12</span>  - id: polling</span>"));
    // A case whose lines are not in its fixture's text says so.
    assert!(html.contains("gone.yaml:"), "{html}");
    assert!(html.contains("past the end of the file"));
    // A polling body is one packet per line; binary is hex.
    assert!(html.contains(
        "<div class=\"pkt\">4first</div><div class=\"pkt\">4second</div><div class=\"pkt\">4third</div>"
    ));
    assert!(
        html.contains("<div class=\"pkt hex\">04 01 ff <span class=\"muted\">(3 bytes)</span>")
    );
}

/// Nothing is fetched: no external script, stylesheet, import or URL in styles; every web
/// address in an attribute is a plain link; the policy forbids the rest.
fn assert_self_contained(html: &str) {
    for resource in [
        "<script src",
        " src=",
        "<link",
        "@import",
        "url(",
        "<img",
        "<iframe",
    ] {
        assert!(!html.contains(resource), "{resource}");
    }
    for (at, _) in html.match_indices("=\"http") {
        let tag = &html[html[..at].rfind('<').unwrap()..at];
        assert!(tag.starts_with("<a ") && tag.ends_with(" href"), "{tag}");
    }
    assert!(
        html.contains(
            "content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"
        )
    );
}

#[test]
fn page_is_self_contained() {
    let mut results = results();
    // A fixture cannot turn its spec links into scripts.
    results[1].instance.spec_base_url = Some("javascript:alert(1)//".into());
    let html = render(&results, "https://t");
    assert_self_contained(&html);
    assert!(!html.contains("href=\"javascript"));
    assert!(html.contains("<code>javascript:alert(1)//#polling</code>"));
}

#[test]
fn matrix_links_every_verdict_to_its_detail() {
    let a = results();
    let mut b = results();
    b[1].verdict = Verdict::Fail;
    b.pop();
    let html = render_matrix(&[("http://a".into(), a), ("http://b".into(), b)]);
    assert_self_contained(&html);
    assert!(html.contains("id=\"m-count-ALL\">4</span>"));
    assert!(
        html.contains("id=\"m-count-DIFFERS\">2</span>"),
        "one verdict differs, one case is missing"
    );
    assert!(
        html.contains(
            "<a class=\"badge v-FAIL\" href=\"#target=2&amp;case=demo%2Fpolling\">FAIL</a>"
        )
    );
    assert!(html.contains("data-case-id=\"demo/skipped\" data-verdict=\"DIFFERS\""));
    // Each target's detail, with its own ids.
    assert!(html.contains("<section class=\"run\" data-target=\"2\"><h2 id=\"t2\">"));
    assert!(html.contains("id=\"t1-count-PASS\">1</span>"));
    assert!(html.contains("id=\"t2-count-FAIL\">2</span>"));
    assert_eq!(html.matches("<details>").count(), 7);
}

/// Two suites: `mixed` with two behaviours on both transports and three one-instance cases,
/// `other` with one case.
const MIXED: &str = r##"schema: conformance.fixture/v1
suite: mixed
defaults:
  path: /engine.io/
  transports: [polling, websocket]
cases:
  - id: ok
    title: passes
    spec: {anchor: "#ok", quote: "q"}
    steps: [{sleep: 1ms}]
  - id: broken
    title: fails on both transports
    spec: {anchor: "#broken", quote: "q"}
    steps:
      - open: {conn: c, query: "EIO=4"}
  - id: also-broken
    title: fails on both transports too
    spec: {anchor: "#also", quote: "q"}
    steps:
      - open: {conn: c, query: "EIO=4"}
  - id: rooms
    title: needs rooms
    spec: {anchor: "#rooms", quote: "q"}
    steps: [{sleep: 1ms}]
  - id: rooms-again
    title: needs rooms too
    spec: {anchor: "#rooms", quote: "q"}
    steps: [{sleep: 1ms}]
"##;
const OTHER: &str = r##"schema: conformance.fixture/v1
suite: other
cases:
  - id: old
    title: needs Engine.IO v3
    spec: {anchor: "#old", quote: "q"}
    steps: [{sleep: 1ms}]
"##;

/// In the run's order (suite by suite, PASS before FAIL before UNSUPPORTED): `mixed/ok`
/// PASS, `mixed/broken` and `mixed/also-broken` FAIL over polling and websocket, the two
/// `rooms` cases and `other/old` UNSUPPORTED (lacking `rooms`, `rooms`, `eio3`).
fn mixed() -> Vec<CaseResult> {
    let mut instances = Vec::new();
    for (text, name) in [(MIXED, "mixed.yaml"), (OTHER, "other.yaml")] {
        let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
        instances.extend(parse_suite(text, &file, &load_options()).unwrap().instances);
    }
    let ids: Vec<&str> = instances.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "mixed/ok",
            "mixed/broken[transport=polling]",
            "mixed/broken[transport=websocket]",
            "mixed/also-broken[transport=polling]",
            "mixed/also-broken[transport=websocket]",
            "mixed/rooms",
            "mixed/rooms-again",
            "other/old",
        ]
    );
    instances
        .into_iter()
        .map(|instance| {
            let (verdict, reason) = match instance.id.as_str() {
                "mixed/ok" => (Verdict::Pass, None),
                "other/old" => (Verdict::Unsupported, Some("eio3")),
                id if id.starts_with("mixed/rooms") => (Verdict::Unsupported, Some("rooms")),
                _ => (Verdict::Fail, None),
            };
            let mut result = result(instance, verdict);
            let message = match reason {
                Some(capability) => format!("the target lacks capability `{capability}`"),
                None if verdict == Verdict::Fail => "no open packet".into(),
                None => return result,
            };
            result.findings.push(Finding {
                verdict,
                line: result.instance.line,
                message,
                expected: None,
                actual: None,
                timing: false,
                blocked_by: None,
            });
            result
        })
        .collect()
}

/// The text of the page's verdict line.
fn verdict_line(html: &str) -> &str {
    let start = html.find("<p class=\"verdict").expect("a verdict line");
    let text = &html[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    &text[..text.find("</p>").unwrap()]
}

/// The verdicts of the case rows, top to bottom.
fn row_verdicts(html: &str) -> Vec<&str> {
    html.match_indices("<tr class=\"case\"")
        .map(|(at, _)| {
            let row = &html[at..];
            let from = row.find("data-verdict=\"").unwrap() + "data-verdict=\"".len();
            &row[from..from + row[from..].find('"').unwrap()]
        })
        .collect()
}

#[test]
fn verdict_line_names_failures_behaviours_and_missing_capabilities() {
    let html = render(&mixed(), "http://t");
    assert_eq!(
        verdict_line(&html),
        "4 MUST-level failures in 2 behaviours; 1 case passes; 3 cases not run: the server \
         lacks rooms, eio3."
    );
    assert!(html.contains("<p class=\"verdict v-FAIL\" id=\"verdict\">"));
    // It comes first: before the filters and every case.
    assert!(html.find("class=\"verdict").unwrap() < html.find("class=\"filters\"").unwrap());
}

#[test]
fn verdict_line_with_the_other_verdicts() {
    let mut results = mixed();
    results[0].verdict = Verdict::NonStrict;
    results[5].verdict = Verdict::Error;
    results[6].verdict = Verdict::Skipped;
    results[6].findings[0].message = "not matched by --run".into();
    results.push(results[0].clone());
    results[8].verdict = Verdict::Pass;
    let html = render(&results, "http://t");
    assert_eq!(
        verdict_line(&html),
        "4 MUST-level failures in 2 behaviours; 1 case ended in ERROR (the harness failed); \
         1 NON-STRICT case; 1 case passes; 1 case not run: the server lacks eio3; 1 case \
         skipped (not selected)."
    );
    // More than six missing capabilities: the six most frequent, then an ellipsis.
    let mut results = mixed();
    results.truncate(1);
    for (n, capability) in ["a", "b", "c", "d", "e", "f", "g", "h", "h", "g"]
        .iter()
        .enumerate()
    {
        let mut r = results[0].clone();
        r.verdict = Verdict::Unsupported;
        r.instance.id = format!("mixed/{n}");
        r.findings.push(Finding {
            verdict: Verdict::Unsupported,
            line: r.instance.line,
            message: format!("the target lacks capability `{capability}`"),
            expected: None,
            actual: None,
            timing: false,
            blocked_by: None,
        });
        results.push(r);
    }
    assert_eq!(
        verdict_line(&render(&results, "http://t")),
        "The only case that ran passes; 10 cases not run: the server lacks g, h, a, b, c, d, …"
    );
}

#[test]
fn verdict_line_when_everything_passes() {
    let mut results = mixed();
    for result in &mut results {
        result.verdict = Verdict::Pass;
        result.findings.clear();
    }
    let html = render(&results, "http://t");
    assert_eq!(verdict_line(&html), "All 8 cases pass.");
    assert!(html.contains("<p class=\"verdict v-PASS\""));
    results[7].verdict = Verdict::Skipped;
    assert_eq!(
        verdict_line(&render(&results, "http://t")),
        "All 7 cases that ran pass; 1 case skipped (not selected)."
    );
}

#[test]
fn failures_come_first() {
    let mut results = mixed();
    // A NON-STRICT and an ERROR case at the end of the run.
    let mut late = results[0].clone();
    late.verdict = Verdict::NonStrict;
    results.push(late);
    let mut error = results[0].clone();
    error.verdict = Verdict::Error;
    results.push(error);
    let html = render(&results, "http://t");
    assert_eq!(
        row_verdicts(&html),
        [
            "FAIL",
            "FAIL",
            "FAIL",
            "FAIL",
            "ERROR",
            "NON-STRICT",
            "PASS",
            "UNSUPPORTED",
            "UNSUPPORTED",
            "UNSUPPORTED",
        ]
    );
    // In a group, the run's order.
    let first = html
        .find("data-case-id=\"mixed/broken[transport=polling]\"")
        .unwrap();
    let second = html
        .find("data-case-id=\"mixed/also-broken[transport=polling]\"")
        .unwrap();
    assert!(first < second);
    // Each group's header counts it (with its behaviours and suites); the filters follow the
    // same order.
    assert!(html.contains(
        "<span class=\"badge v-FAIL\">FAIL</span> <small>4 cases in 2 behaviours · mixed 4</small>"
    ));
    assert!(html.contains(
        "<span class=\"badge v-UNSUPPORTED\">UNSUPPORTED</span> <small>3 cases · mixed 2 · other 1</small>"
    ));
    let filters: Vec<usize> = [
        "FAIL",
        "ERROR",
        "NON-STRICT",
        "PASS",
        "UNSUPPORTED",
        "SKIPPED",
    ]
    .iter()
    .map(|v| html.find(&format!("data-filter=\"{v}\"")).unwrap())
    .collect();
    assert!(filters.is_sorted());
    // The counts per suite, the suite with problems first.
    assert!(html.contains(
        "<tr><th>mixed</th><td class=\"num\">9 cases</td><td><span class=\"count v-FAIL\"><span class=\"n\">4</span> FAIL</span><span class=\"count v-ERROR\"><span class=\"n\">1</span> ERROR</span>"
    ));
    assert!(html.find("<tr><th>mixed</th>").unwrap() < html.find("<tr><th>other</th>").unwrap());
}

#[test]
fn matrix_names_each_targets_verdict() {
    let a = mixed();
    let mut b = mixed();
    for result in &mut b {
        result.verdict = Verdict::Pass;
        result.findings.clear();
    }
    let html = render_matrix(&[("http://a".into(), a), ("http://b".into(), b)]);
    assert!(html.contains(
        "<code>http://a</code></a> <span class=\"v-FAIL\">4 MUST-level failures in 2 behaviours;"
    ));
    assert!(
        html.contains("<code>http://b</code></a> <span class=\"v-PASS\">All 8 cases pass.</span>")
    );
    assert!(html.contains("<p class=\"verdict v-PASS\" id=\"t2-verdict\">All 8 cases pass.</p>"));
}
