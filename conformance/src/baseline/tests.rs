//! Baseline tests: coverage by case and by step, new failures, stale and expired entries, and
//! the usage errors found before a run.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::engine::Finding;
use crate::fixture::builtin::load_options;
use crate::fixture::parse_suite;
use crate::transport::Transcript;

const SUITE: &str = r#"schema: conformance.fixture/v1
suite: demo
cases:
  - id: a
    title: t
    steps:
      - {id: first, sleep: 1ms}
      - {id: second, sleep: 1ms}
  - id: b
    title: t
    steps: [{sleep: 1ms}]
"#;

fn suites() -> Vec<Suite> {
    vec![parse_suite(SUITE, Path::new("demo.yaml"), &load_options()).unwrap()]
}

/// A result of case `id` with `verdict`, failing at these fixture lines.
fn result(suites: &[Suite], id: &str, verdict: Verdict, lines: &[u64]) -> CaseResult {
    CaseResult {
        instance: suites[0].instance(id).unwrap().clone(),
        verdict,
        findings: lines
            .iter()
            .map(|&line| Finding {
                verdict,
                line,
                message: "m".into(),
                expected: None,
                actual: None,
                timing: false,
                blocked_by: None,
            })
            .collect(),
        duration: Duration::ZERO,
        transcript: Transcript::new(),
        recorded: Vec::new(),
    }
}

fn baseline(entries: &str) -> Result<Baseline, String> {
    Baseline::parse(
        &format!("schema: conformance.known-failing/v1\nentries:\n{entries}"),
        &suites(),
    )
}

const TODAY: i64 = 20_780; // 2026-11-23

#[test]
fn a_whole_case_entry_covers_every_finding() {
    let s = suites();
    let b = baseline("  - {case: demo/a, reason: r}\n").unwrap();
    let outcome = b.judge(
        &[result(&s, "demo/a", Verdict::Fail, &[7, 8])],
        false,
        TODAY,
    );
    assert_eq!(outcome.known, ["demo/a"]);
    assert!(outcome.new_failures.is_empty() && outcome.stale.is_empty());
}

#[test]
fn a_step_entry_covers_that_step_only() {
    let s = suites();
    let by_id = baseline("  - {case: demo/a, step: second, reason: r}\n").unwrap();
    let by_line = baseline("  - {case: demo/a, step: 8, reason: r}\n").unwrap();
    for b in [by_id, by_line] {
        let at_second = b.judge(&[result(&s, "demo/a", Verdict::Fail, &[8])], false, TODAY);
        assert_eq!(at_second.known, ["demo/a"]);
        // The same case failing at another step is a new failure.
        let at_first = b.judge(&[result(&s, "demo/a", Verdict::Fail, &[7])], false, TODAY);
        assert_eq!(at_first.new_failures, ["demo/a"]);
        assert!(at_first.known.is_empty());
    }
}

#[test]
fn unlisted_failures_are_new_and_non_strict_counts_only_when_strict() {
    let s = suites();
    let b = baseline("  - {case: demo/a, reason: r}\n").unwrap();
    let results = [
        result(&s, "demo/a", Verdict::Fail, &[7]),
        result(&s, "demo/b", Verdict::NonStrict, &[11]),
    ];
    assert!(b.judge(&results, false, TODAY).new_failures.is_empty());
    assert_eq!(b.judge(&results, true, TODAY).new_failures, ["demo/b"]);
}

#[test]
fn an_entry_whose_cases_pass_is_stale() {
    let s = suites();
    let b = baseline("  - {case: demo/a, reason: r}\n  - {case: 'demo/*', reason: r}\n").unwrap();
    let passing = b.judge(&[result(&s, "demo/a", Verdict::Pass, &[])], false, TODAY);
    assert_eq!(passing.stale, [0, 1]);
    // A glob stays useful while one of its cases still fails.
    let one_fails = b.judge(
        &[
            result(&s, "demo/a", Verdict::Pass, &[]),
            result(&s, "demo/b", Verdict::Fail, &[11]),
        ],
        false,
        TODAY,
    );
    assert_eq!(one_fails.stale, [0]);
    // Cases that did not run say nothing about staleness.
    let skipped = b.judge(&[result(&s, "demo/a", Verdict::Skipped, &[])], false, TODAY);
    assert!(skipped.stale.is_empty());
    // Nor do cases the server's profile makes UNSUPPORTED.
    let unsupported = b.judge(
        &[result(&s, "demo/a", Verdict::Unsupported, &[])],
        false,
        TODAY,
    );
    assert!(unsupported.stale.is_empty());
}

#[test]
fn an_entry_past_its_date_is_expired() {
    let s = suites();
    let b = baseline(
        "  - {case: demo/a, reason: r, expires: 2026-11-22}\n  - {case: demo/b, reason: r, expires: 2026-11-23}\n",
    )
    .unwrap();
    let results = [
        result(&s, "demo/a", Verdict::Fail, &[7]),
        result(&s, "demo/b", Verdict::Fail, &[11]),
    ];
    assert_eq!(b.judge(&results, false, TODAY).expired, [0]);
}

#[test]
fn unknown_patterns_steps_and_dates_are_usage_errors() {
    let err = baseline("  - {case: demo/zzz, reason: r}\n").unwrap_err();
    assert!(err.contains("matches no case"), "{err}");
    let err = baseline("  - {case: demo/a, step: third, reason: r}\n").unwrap_err();
    assert!(err.contains("no matched case has step"), "{err}");
    let err = baseline("  - {case: demo/a, step: 99, reason: r}\n").unwrap_err();
    assert!(err.contains("no matched case has step"), "{err}");
    let err = baseline("  - {case: demo/a, reason: r, expires: 2026-02-30}\n").unwrap_err();
    assert!(err.contains("not YYYY-MM-DD"), "{err}");
    let err = baseline("  - {case: demo/a}\n").unwrap_err();
    assert!(err.contains("reason"), "{err}");
    assert!(Baseline::parse("schema: other/v1\n", &suites()).is_err());
}

#[test]
fn civil_days() {
    assert_eq!(civil_day("1970-01-01"), Some(0));
    assert_eq!(civil_day("1969-12-31"), Some(-1));
    assert_eq!(civil_day("2000-02-29"), Some(11_016));
    assert_eq!(civil_day("2026-11-23"), Some(TODAY));
    assert_eq!(civil_day("2100-02-29"), None);
    assert_eq!(civil_day("2026-13-01"), None);
    assert_eq!(civil_day("26-11-23"), None);
}
