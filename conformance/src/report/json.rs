//! `--report json=PATH`: the JSON report (`conformance.report/v1`, see
//! `schemas/report.schema.json`), also what `run` keeps for `explain`.

use super::{Summary, Trace, spec_lines};
use crate::engine::{CaseResult, Verdict};
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    runner_version: &'static str,
    target: &'a str,
    summary: Summary,
    cases: Vec<JsonCase<'a>>,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    id: &'a str,
    suite: &'a str,
    title: &'a str,
    level: String,
    verdict: Verdict,
    duration_ms: f64,
    official: &'a [String],
    spec: Vec<String>,
    fixture: String,
    findings: &'a [crate::engine::Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<Vec<crate::transport::transcript::WireEvent>>,
}

/// The JSON report (`schema: conformance.report/v1`).
pub fn json(results: &[CaseResult], target: &str, trace: Trace) -> String {
    let report = JsonReport {
        schema: "conformance.report/v1",
        runner_version: env!("CARGO_PKG_VERSION"),
        target,
        summary: Summary::of(results),
        cases: results
            .iter()
            .map(|r| JsonCase {
                id: &r.instance.id,
                suite: &r.instance.suite,
                title: &r.instance.title,
                level: format!("{:?}", r.instance.level).to_uppercase(),
                verdict: r.verdict,
                duration_ms: r.duration.as_secs_f64() * 1000.0,
                official: &r.instance.official,
                spec: spec_lines(r),
                fixture: format!("{}:{}", r.instance.file.display(), r.instance.line),
                findings: &r.findings,
                transcript: trace.wants(r).then(|| r.transcript.events()),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
}
