//! One small suite per rule that triggers it and one that does not; the committed fixtures
//! are lint-clean (the command's exit codes: `commands::lint`).

use super::*;
use crate::fixture;

const HEADER: &str = r#"schema: conformance.fixture/v1
suite: t
spec: {base_url: "https://example.invalid/spec.md"}
defaults: {path: /engine.io/}
"#;

const HANDSHAKE: &str = r#"
fragments:
  handshake:
    - http: {query: "EIO=4&transport=polling"}
      expect:
        status: 200
        body:
          eio:
            - type: open
              data:
                $json:
                  $extra_keys: allow
                  sid: {$capture: sid, $type: string}
                  pingInterval: {$capture: ping_interval, $type: integer}
"#;

/// A suite of `HEADER`, then `rest` (fragments and cases).
pub(crate) fn suite(rest: &str) -> String {
    format!("{HEADER}{rest}")
}

fn lint_text(text: &str) -> Vec<Finding> {
    let suite = fixture::parse_suite(text, Path::new("t.yaml"), &fixture::builtin::load_options())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    lint_suite(&suite, text)
}

/// The findings of one rule: (line, column, message).
fn of(rule: Rule, text: &str) -> Vec<(u64, u64, String)> {
    lint_text(text)
        .into_iter()
        .filter(|finding| finding.rule == rule)
        .map(|finding| (finding.line, finding.column, finding.message))
        .collect()
}

/// 1-based line and column of the first `needle` in `text`.
fn pos(text: &str, needle: &str) -> (u64, u64) {
    let (index, line) = text
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let column = line.find(needle).unwrap_or(0);
    (index as u64 + 1, column as u64 + 1)
}

fn positions(findings: &[(u64, u64, String)]) -> Vec<(u64, u64)> {
    findings
        .iter()
        .map(|(line, column, _)| (*line, *column))
        .collect()
}

/// Asserts that `rule` finds exactly one weakness in `text`, where `at` is written, and that
/// its message contains `message`.
#[track_caller]
fn assert_single(rule: Rule, text: &str, at: &str, message: &str) {
    let findings = of(rule, text);
    assert_eq!(positions(&findings), [pos(text, at)], "{findings:?}");
    assert!(findings[0].2.contains(message), "{findings:?}");
}

/// A case with a spec reference and these steps (indented as case steps).
pub(crate) fn case(id: &str, steps: &str) -> String {
    format!(
        "  - id: {id}\n    title: {id}\n    spec: {{anchor: \"#a\", quote: \"A sentence.\"}}\n    \
         steps:\n{steps}"
    )
}

// ------------------------------------------------------------------ unused-capture

#[test]
fn unused_capture_in_a_case() {
    let unread = suite(&format!(
        "cases:\n{}",
        case(
            "c",
            r#"      - http: {query: "EIO=4&transport=polling"}
        expect: {status: 200, body: {eio: [{type: open, data: {$json: {$extra_keys: allow, sid: {$capture: sid}}}}]}}
      - http: {query: "EIO=4&transport=polling"}
        expect: {status: 200}
"#
        )
    ));
    assert_single(
        Rule::UnusedCapture,
        &unread,
        "$capture: sid",
        "no later step reads `${sid}`",
    );

    let read = unread.replace(
        "      - http: {query: \"EIO=4&transport=polling\"}\n        expect: {status: 200}\n",
        "      - http: {query: \"EIO=4&transport=polling&sid=${sid}\"}\n        expect: {status: 200}\n",
    );
    assert_ne!(read, unread);
    assert_eq!(of(Rule::UnusedCapture, &read), []);
}

#[test]
fn a_fragment_capture_is_used_when_some_case_reads_it() {
    // `sid` is read by `uses-sid`; `ping_interval` by nobody, unless the other case sleeps
    // for it (a duration expression is a read too).
    let text = |other: &str| {
        suite(&format!(
            "{HANDSHAKE}cases:\n{}{}",
            case(
                "uses-sid",
                "      - use: handshake\n      - http: {query: \"EIO=4&transport=polling&sid=${sid}\"}\n        expect: {status: 400}\n"
            ),
            case("other", &format!("      - use: handshake\n{other}")),
        ))
    };
    let unread = text("");
    assert_single(
        Rule::UnusedCapture,
        &unread,
        "$capture: ping_interval",
        "no later step of any case that uses this fragment reads",
    );

    let timed = text("      - sleep: \"${ping_interval}ms\"\n");
    assert_eq!(of(Rule::UnusedCapture, &timed), []);
}

#[test]
fn a_capture_overwritten_before_it_is_read_is_unused() {
    let text = suite(&format!(
        "{HANDSHAKE}cases:\n{}",
        case(
            "twice",
            "      - use: handshake\n      - http: {query: \"EIO=4&transport=polling\"}\n        expect: {status: 200, body: {eio: [{type: open, data: {$json: {$extra_keys: allow, sid: {$capture: sid}, pingInterval: {$capture: ping_interval}}}}]}}\n      - http: {query: \"EIO=4&transport=polling&sid=${sid}\"}\n        expect: {status: 400}\n      - sleep: \"${ping_interval}ms\"\n"
        ),
    ));
    let first = pos(&text, "sid: {$capture: sid");
    let findings = of(Rule::UnusedCapture, &text);
    // The fragment's captures are overwritten by the case's second handshake before anything
    // reads them; the case's own captures are read.
    assert_eq!(
        positions(&findings),
        [
            (first.0, first.1 + 6),
            pos(&text, "$capture: ping_interval")
        ]
    );
}

#[test]
fn a_loop_reads_what_its_previous_iteration_captured() {
    let text = |times: u32| {
        suite(&format!(
            "cases:\n{}",
            case(
                "loop",
                &format!(
                    r#"      - ws_open: {{conn: ws, query: "EIO=4&transport=websocket"}}
      - expect: {{conn: ws, raw: {{text: {{$capture: last}}}}}}
      - repeat: {times}
        steps:
          - send: {{conn: ws, raw: {{text: "${{last}}"}}}}
          - expect: {{conn: ws, raw: {{text: {{$capture: last}}}}}}
          - expect: {{conn: ws, raw: {{text: {{$capture: again}}}}}}
"#
                )
            ),
        ))
    };
    // The capture of `last` in the body is read by the next iteration's send; `again` never.
    let looped = text(2);
    assert_eq!(
        positions(&of(Rule::UnusedCapture, &looped)),
        [pos(&looped, "$capture: again")]
    );
    let once = text(1);
    let again = pos(&once, "$capture: again");
    // The body's `last` is on the line above `again`, at the same column.
    assert_eq!(
        positions(&of(Rule::UnusedCapture, &once)),
        [(again.0 - 1, again.1), again]
    );
}

#[test]
fn undefined_variables_are_load_errors_not_lint_findings() {
    let text = suite(&format!(
        "cases:\n{}",
        case(
            "c",
            "      - http: {query: \"EIO=4&transport=polling&sid=${sid}\"}\n        expect: {status: 400}\n"
        )
    ));
    let error = fixture::parse_suite(
        &text,
        Path::new("t.yaml"),
        &fixture::builtin::load_options(),
    )
    .expect_err("an undefined variable does not load");
    assert!(
        error.to_string().contains("unknown variable `${sid}`"),
        "{error}"
    );
}

// ------------------------------------------------------------------ send-without-expect

const WS: &str = "      - ws_open: {conn: ws, query: \"EIO=4&transport=websocket\"}\n      - ws_open: {conn: other, query: \"EIO=4&transport=websocket\"}\n";

/// A suite of one case `c` whose steps open WebSocket connections `ws` and `other`, then `steps`.
fn ws_case(steps: &str) -> String {
    suite(&format!("cases:\n{}", case("c", &format!("{WS}{steps}"))))
}

#[test]
fn a_send_nothing_checks() {
    let unchecked = ws_case("      - send: {conn: ws, raw: {text: 4hello}}\n");
    assert_single(
        Rule::SendWithoutExpect,
        &unchecked,
        "send: {conn: ws",
        "on `ws` is never checked",
    );

    // An expect on another connection after the client acted again checks nothing of it.
    let elsewhere_later = unchecked.replace(
        "      - send: {conn: ws, raw: {text: 4hello}}\n",
        "      - send: {conn: ws, raw: {text: 4hello}}\n      - send: {conn: other, raw: {text: 4x}}\n      - expect: {conn: other, raw: {text: 4x}}\n",
    );
    assert_eq!(
        positions(&of(Rule::SendWithoutExpect, &elsewhere_later)),
        [pos(&unchecked, "send: {conn: ws")]
    );
}

#[test]
fn legitimate_sends() {
    for (what, steps) in [
        (
            "an expect on the connection",
            "      - send: {conn: ws, raw: {text: 4hello}}\n      - expect: {conn: ws, raw: {text: 4hello}}\n",
        ),
        (
            "a close expectation",
            "      - send: {conn: ws, raw: {text: abc}}\n      - expect: {conn: ws, closed: true}\n        within: \"${slack}\"\n",
        ),
        (
            "expect_none",
            "      - send: {conn: ws, raw: {text: 4x}}\n      - expect_none: {conn: ws, for: \"${slack}\"}\n",
        ),
        (
            "a close",
            "      - send: {conn: ws, eio: {type: close}}\n      - close: {conn: ws}\n",
        ),
        ("a pong", "      - send: {conn: ws, eio: {type: pong}}\n"),
        (
            "an expect right after, on another connection",
            "      - send: {conn: ws, raw: {text: 4emit-to-other}}\n      - expect: {conn: other, raw: {text: 4x}}\n",
        ),
    ] {
        let text = ws_case(steps);
        assert_eq!(of(Rule::SendWithoutExpect, &text), [], "{what}");
    }
}

#[test]
fn a_post_into_a_session_nothing_reads() {
    let post = "      - http: {method: POST, query: \"EIO=4&transport=polling&sid=${sid}\", body: {text: 4hi}}\n        expect: {status: 200}\n";
    let unchecked = suite(&format!(
        "{HANDSHAKE}cases:\n{}",
        case("c", &format!("      - use: handshake\n{post}"))
    ));
    assert_single(
        Rule::SendWithoutExpect,
        &unchecked,
        "http: {method: POST",
        "`${sid}`",
    );

    let get = "      - http: {query: \"EIO=4&transport=polling&sid=${sid}\"}\n        expect: {status: 200}\n";
    let pending = "      - http: {query: \"EIO=4&transport=polling&sid=${sid}\", async: held}\n";
    let awaited = "      - await: held\n        expect: {status: 200}\n";
    for (what, steps) in [
        ("a later GET", format!("{post}{get}")),
        (
            "the await of a GET sent before",
            format!("{pending}{post}{awaited}"),
        ),
        ("a refused POST", post.replace("status: 200", "status: 400")),
        (
            "a POSTed pong",
            post.replace("body: {text: 4hi}", "body: {eio: [{type: pong}]}"),
        ),
    ] {
        let text = suite(&format!(
            "{HANDSHAKE}cases:\n{}",
            case("c", &format!("      - use: handshake\n{steps}"))
        ));
        assert_eq!(of(Rule::SendWithoutExpect, &text), [], "{what}");
    }
}

// ------------------------------------------------------------------ expect-without-deadline

#[test]
fn waits_for_server_timed_events_need_a_deadline() {
    for (what, steps, needle) in [
        (
            "a close",
            "      - send: {conn: ws, raw: {text: abc}}\n      - expect: {conn: ws, closed: true}\n",
            "close",
        ),
        (
            "a ping",
            "      - expect: {conn: ws, eio: {type: ping}}\n",
            "server ping",
        ),
        (
            "after a sleep",
            "      - sleep: \"${slack}\"\n      - expect: {conn: ws, raw: {text: 4late}}\n",
            "on its own",
        ),
        (
            "after expect_none",
            "      - expect_none: {conn: ws, for: \"${slack}\"}\n      - expect: {conn: ws, raw: {text: 4late}}\n",
            "on its own",
        ),
    ] {
        let text = ws_case(steps);
        assert_single(
            Rule::ExpectWithoutDeadline,
            &text,
            "expect: {conn: ws",
            needle,
        );

        // The same with its own `within`.
        let bounded = text.replacen(
            "- expect: {conn: ws",
            "- within: \"${slack}\"\n        expect: {conn: ws",
            1,
        );
        assert_eq!(
            of(Rule::ExpectWithoutDeadline, &bounded),
            [],
            "{what}, bounded"
        );
        // ... or with a suite `step_timeout`.
        let defaulted = text.replace(
            "defaults: {path: /engine.io/}",
            "defaults: {path: /engine.io/, step_timeout: \"${slack}\"}",
        );
        assert_eq!(
            of(Rule::ExpectWithoutDeadline, &defaulted),
            [],
            "{what}, step_timeout"
        );
    }
}

#[test]
fn timing_alone_is_not_a_deadline_and_a_group_within_is() {
    let timed =
        ws_case("      - expect: {conn: ws, eio: {type: ping}, timing: {max: \"${slack}\"}}\n");
    let findings = of(Rule::ExpectWithoutDeadline, &timed);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].2.contains("`timing` grades the arrival"),
        "{findings:?}"
    );

    let grouped = ws_case(
        "      - unordered:\n          within: \"${slack}\"\n          steps:\n            - expect: {conn: ws, closed: true}\n            - expect: {conn: other, eio: {type: ping}}\n",
    );
    assert_eq!(of(Rule::ExpectWithoutDeadline, &grouped), []);
}

#[test]
fn replies_to_the_clients_own_action_wait_for_the_global_timeout() {
    let text = ws_case(
        "      - send: {conn: ws, raw: {text: 4hello}}\n      - expect: {conn: ws, raw: {text: 4hello}}\n      - expect: {conn: other, raw: {text: 4copy}}\n",
    );
    assert_eq!(of(Rule::ExpectWithoutDeadline, &text), []);
}

// ------------------------------------------------------------------ hard-coded-timing

#[test]
fn literal_durations() {
    let text = ws_case(
        "      - sleep: 20ms\n      - send: {conn: ws, raw: {text: abc}}\n      - expect: {conn: ws, closed: true}\n        within: \"${slack} + 2s\"\n        timing: {max: 1s}\n      - expect_none: {conn: other, for: 100ms}\n",
    );
    let findings = of(Rule::HardCodedTiming, &text);
    assert_eq!(
        positions(&findings),
        [
            pos(&text, "20ms"),
            pos(&text, "${slack} + 2s"),
            pos(&text, "1s}"),
            pos(&text, "100ms"),
        ]
    );
    assert!(findings[0].2.contains("`sleep: 20ms`"), "{findings:?}");
    assert!(
        findings[3].2.contains("`expect_none.for: 100ms`"),
        "{findings:?}"
    );
}

#[test]
fn derived_durations_and_explained_literals_pass() {
    let derived = suite(&format!(
        "{HANDSHAKE}cases:\n{}",
        case(
            "c",
            "      - use: handshake\n      - sleep: \"2 * ${ping_interval}ms + ${slack}\"\n      - sleep: 20ms\n        fixed_duration: ordering helper, no protocol timer applies\n"
        )
    ));
    assert_eq!(of(Rule::HardCodedTiming, &derived), []);

    let stale = derived.replace(
        "sleep: \"2 * ${ping_interval}ms + ${slack}\"",
        "sleep: \"2 * ${ping_interval}ms + ${slack}\"\n        fixed_duration: nothing literal here",
    );
    let blank = derived.replace("ordering helper, no protocol timer applies", "\" \"");
    for (text, needle, message) in [
        (
            stale,
            "fixed_duration: nothing",
            "without a literal duration",
        ),
        (blank, "fixed_duration: \" \"", "needs a reason"),
    ] {
        assert_single(Rule::HardCodedTiming, &text, needle, message);
    }
}

#[test]
fn fixed_duration_is_a_step_key_and_not_for_use_steps() {
    let text = suite(&format!(
        "{HANDSHAKE}cases:\n{}",
        case("c", "      - use: handshake\n        fixed_duration: why\n")
    ));
    let error = fixture::parse_suite(
        &text,
        Path::new("t.yaml"),
        &fixture::builtin::load_options(),
    )
    .expect_err("not on `use`");
    assert!(
        error
            .to_string()
            .contains("`fixed_duration` is not allowed on a `use` step"),
        "{error}"
    );
}

// ------------------------------------------------------------------ no-spec-reference

#[test]
fn cases_and_anchors_without_their_sentence() {
    let text = suite(
        r##"cases:
  - id: no-spec
    title: t
    steps:
      - http: {query: "EIO=4&transport=polling"}
        expect: {status: 200}
  - id: no-quote
    title: t
    spec: {anchor: "#handshake"}
    steps:
      - http: {query: "EIO=4&transport=polling"}
        expect: {status: 200}
        spec: {anchor: "#step-anchor"}
  - id: fine
    title: t
    spec: [{anchor: "#a", quote: "A sentence."}, "eio4:requirement-id"]
    steps:
      - http: {query: "EIO=4&transport=polling"}
        expect: {status: 200}
  - id: probe
    title: a probe case demonstrates a capability and judges nothing
    provides: [polling]
    steps:
      - http: {query: "EIO=4&transport=polling"}
        expect: {status: 200}
"##,
    );
    let findings = of(Rule::NoSpecReference, &text);
    assert_eq!(
        positions(&findings),
        [
            pos(&text, "id: no-spec"),
            pos(&text, "#handshake"),
            pos(&text, "#step-anchor"),
        ]
    );
    assert!(
        findings[0].2.contains("case `no-spec` has no `spec:`"),
        "{findings:?}"
    );
    assert!(findings[1].2.contains("no `quote:`"), "{findings:?}");

    let no_base = text.replace(
        "spec: {base_url: \"https://example.invalid/spec.md\"}\n",
        "",
    );
    assert_ne!(no_base, text);
    let findings = of(Rule::NoSpecReference, &no_base);
    assert!(
        findings
            .iter()
            .any(|(_, _, message)| message.contains("anchor `#a` points nowhere")),
        "{findings:?}"
    );
}

// ------------------------------------------------------------------ the committed fixtures

#[test]
fn the_built_in_fixtures_are_lint_clean() {
    let mut suites = fixture::builtin::FixtureArgs::builtin()
        .load()
        .unwrap_or_else(|e| panic!("{e}"));
    suites.push(fixture::builtin::load_probes(None).unwrap_or_else(|e| panic!("{e}")));
    let mut linted = 0;
    for suite in &suites {
        let findings = lint_suite(suite, &suite.source);
        let lines: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(findings.is_empty(), "{}", lines.join("\n"));
        linted += suite.cases.len();
    }
    assert!(linted > 100, "only {linted} cases linted");
}

// ------------------------------------------------------------------ the command

pub(crate) fn temp_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sio-lint-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
}

#[test]
fn the_text_form_of_a_finding() {
    let clean = suite(&format!(
        "cases:\n{}",
        case(
            "c",
            "      - http: {query: \"EIO=4&transport=polling\"}\n        expect: {status: 200}\n"
        )
    ));
    let weak = clean.replace("      - http:", "      - sleep: 20ms\n      - http:");
    let finding = lint_text(&weak)
        .into_iter()
        .find(|finding| finding.rule == Rule::HardCodedTiming)
        .expect("a finding");
    let (line, column) = pos(&weak, "20ms");
    assert_eq!(
        finding.to_string(),
        format!(
            "t.yaml:{line}:{column}: hard-coded-timing: {}",
            finding.message
        )
    );
}
