//! The engine: runs one case instance step by step against a target and grades it.
//!
//! Every step has a deadline (its `within`, else the suite's `step_timeout`, else
//! `--timeout`), so a case always ends. A failed MUST step ends the case; SHOULD and
//! REFERENCE misses grade NON-STRICT and the case goes on.

mod actual;
mod conn;
mod framing;
mod step;

pub use conn::{Conn, Item};

use crate::fixture::{CaseInstance, Grade, Level, Step};
use crate::matcher::{Captures, MatchOutcome};
use crate::transport::{Transcript, http::HttpClient, target::Target};
use serde::Serialize;
use std::{collections::HashMap, fmt, time::Duration};
use tokio::time::Instant;

/// Settings shared by every case of a run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The server under test (its path is replaced by each suite's default path unless the
    /// user gave one).
    pub target: Target,
    /// Whether `--target` carried an explicit path (then it wins over the suites' paths).
    pub explicit_path: bool,
    /// Default step deadline.
    pub timeout: Duration,
    /// Added to every timing window (`${slack}`).
    pub slack: Duration,
    /// Upper bound of the server's connect timeout (`${connect_timeout}`).
    pub connect_timeout: Duration,
    /// Longest a whole case may take.
    pub max_case_duration: Duration,
}

/// Outcome classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Verdict {
    /// Every step matched.
    Pass,
    /// A SHOULD or REFERENCE expectation was missed, or a graded alternative matched.
    NonStrict,
    /// A MUST expectation was violated.
    Fail,
    /// The target lacks a capability the case requires.
    Unsupported,
    /// Not selected.
    Skipped,
    /// The harness failed (unreachable target, fixture error at run time).
    Error,
}

impl Verdict {
    /// Upper-case name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::NonStrict => "NON-STRICT",
            Self::Fail => "FAIL",
            Self::Unsupported => "UNSUPPORTED",
            Self::Skipped => "SKIPPED",
            Self::Error => "ERROR",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One graded finding of a case (a failed or non-strict step).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Grade of this finding.
    pub verdict: Verdict,
    /// Fixture line of the step.
    pub line: u64,
    /// What went wrong.
    pub message: String,
    /// What the step expected, when it is a match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What arrived instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// A timing window was missed (tell jitter from logic errors).
    pub timing: bool,
    /// The failing step is setup shared by many cases (a fragment such as the handshake, or
    /// the session `open`), not the behaviour this case is about: what blocked it
    /// (`setup \`polling-handshake\``). The summary groups failures by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
}

/// The result of one case instance.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub instance: CaseInstance,
    /// Its grade.
    pub verdict: Verdict,
    /// Why it is not PASS (empty for PASS).
    pub findings: Vec<Finding>,
    /// Wall time.
    pub duration: Duration,
    /// The wire transcript.
    pub transcript: Transcript,
    /// What the `record` steps of a draft took (fixture line, the expectation that matches
    /// it), in order; empty for ordinary cases.
    pub recorded: Vec<(u64, serde_json::Value)>,
}

/// A step that did not go as expected.
#[derive(Debug)]
pub(crate) struct StepFailure {
    pub(crate) message: String,
    pub(crate) expected: Option<String>,
    pub(crate) actual: Option<String>,
    /// The grade the fixture gave this outcome (alternatives and timing bounds), if any.
    pub(crate) grade: Option<Grade>,
    pub(crate) timing: bool,
    /// The harness, not the server, failed.
    pub(crate) harness: bool,
}

impl StepFailure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            expected: None,
            actual: None,
            grade: None,
            timing: false,
            harness: false,
        }
    }

    pub(crate) fn harness(message: impl Into<String>) -> Self {
        Self {
            harness: true,
            ..Self::new(message)
        }
    }

    pub(crate) fn mismatch(message: impl Into<String>, outcome: &MatchOutcome) -> Self {
        let mut failure = Self::new(message);
        if let MatchOutcome::Fail(mismatches) = outcome {
            let lines: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
            failure.expected = mismatches.first().map(|m| m.expected.clone());
            failure.actual = mismatches.first().map(|m| m.actual.clone());
            failure.message = format!("{}: {}", failure.message, lines.join("; "));
        }
        failure
    }
}

/// An HTTP request running in the background (`async:`) until its `await` step.
pub(crate) type PendingRequest =
    tokio::task::JoinHandle<Result<crate::transport::http::HttpResponse, String>>;

/// Per-case state shared by the steps.
pub(crate) struct CaseState<'a> {
    pub(crate) settings: &'a RunSettings,
    pub(crate) instance: &'a CaseInstance,
    pub(crate) target: Target,
    pub(crate) client: HttpClient,
    pub(crate) captures: Captures,
    pub(crate) conns: HashMap<String, Conn>,
    /// Async HTTP requests by id, with the request (its query says how the response body
    /// decodes; an Engine.IO-level case may send it again, see `Layer::Engineio`).
    pub(crate) pending: HashMap<String, (PendingRequest, crate::transport::http::HttpRequest)>,
    pub(crate) transcript: Transcript,
    pub(crate) started: Instant,
    /// End of the previous step (for `timing.since: previous`).
    pub(crate) previous_end: Instant,
    /// End of each step with an id.
    pub(crate) step_ends: HashMap<String, Instant>,
    /// NON-STRICT findings so far.
    pub(crate) findings: Vec<Finding>,
    /// Fixture line of the step being run.
    pub(crate) current_line: u64,
    /// What `record` steps took.
    pub(crate) recorded: Vec<(u64, serde_json::Value)>,
}

/// Runs one case instance.
pub async fn run_case(instance: &CaseInstance, settings: &RunSettings) -> CaseResult {
    let transcript = Transcript::new();
    let started = Instant::now();
    let mut target = settings.target.clone();
    if !settings.explicit_path
        && let Some(path) = &instance.path
    {
        target.path.clone_from(path);
    }
    let mut recorded = Vec::new();
    let outcome = match crate::transport::tls::Connector::new(target.clone()) {
        Ok(connector) => {
            let mut state = CaseState {
                settings,
                instance,
                client: HttpClient::new(connector),
                captures: builtins(instance, settings, &target),
                target,
                conns: HashMap::new(),
                pending: HashMap::new(),
                transcript: transcript.clone(),
                started,
                previous_end: started,
                step_ends: HashMap::new(),
                findings: Vec::new(),
                current_line: instance.line,
                recorded: Vec::new(),
            };
            let steps = tokio::time::timeout(
                settings.max_case_duration,
                state.run_steps(&instance.steps, None),
            )
            .await;
            for (_, (handle, _)) in state.pending.drain() {
                handle.abort();
            }
            recorded = std::mem::take(&mut state.recorded);
            let mut findings = std::mem::take(&mut state.findings);
            match steps {
                Ok(Ok(())) => {}
                Ok(Err(finding)) => findings.push(finding),
                Err(_) => findings.push(Finding {
                    verdict: Verdict::Error,
                    line: instance.line,
                    message: format!(
                        "case exceeded --max-case-duration ({:?})",
                        settings.max_case_duration
                    ),
                    expected: None,
                    actual: None,
                    timing: false,
                    blocked_by: None,
                }),
            }
            findings
        }
        Err(e) => vec![Finding {
            verdict: Verdict::Error,
            line: instance.line,
            message: format!("cannot reach the target: {e}"),
            expected: None,
            actual: None,
            timing: false,
            blocked_by: None,
        }],
    };
    let verdict = outcome
        .iter()
        .map(|f| f.verdict)
        .max_by_key(|v| severity(*v))
        .unwrap_or(Verdict::Pass);
    CaseResult {
        instance: instance.clone(),
        verdict,
        findings: outcome,
        duration: started.elapsed(),
        transcript,
        recorded,
    }
}

/// Worst-first ordering of verdicts within one case.
fn severity(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Pass | Verdict::Skipped => 0,
        Verdict::Unsupported => 1,
        Verdict::NonStrict => 2,
        Verdict::Fail => 3,
        Verdict::Error => 4,
    }
}

/// The verdict of a failed step: the fixture's grade if it gave one, else by level.
pub(crate) fn grade(line: u64, failure: StepFailure, level: Level) -> Finding {
    let verdict = if failure.harness {
        Verdict::Error
    } else {
        match (failure.grade, level) {
            (Some(Grade::Pass), _) => Verdict::Pass,
            (Some(Grade::NonStrict), _) => Verdict::NonStrict,
            (Some(Grade::Fail), _) | (None, Level::Must) => Verdict::Fail,
            (None, Level::Should | Level::Reference) => Verdict::NonStrict,
            (None, Level::Info) => Verdict::Pass,
        }
    };
    Finding {
        verdict,
        line,
        message: bounded(failure.message),
        expected: failure.expected.map(bounded),
        actual: failure.actual.map(bounded),
        timing: failure.timing,
        blocked_by: None,
    }
}

/// The most a finding's message, expected or actual keeps: a huge frame that did not match
/// must not make every report (and the memory holding the results) huge.
const MAX_FINDING_TEXT: usize = 64 << 10;

/// `text` cut to [`MAX_FINDING_TEXT`] bytes, its length said.
fn bounded(text: String) -> String {
    if text.len() <= MAX_FINDING_TEXT {
        return text;
    }
    let mut cut = MAX_FINDING_TEXT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..cut], text.len())
}

/// Variables every case starts with.
fn builtins(instance: &CaseInstance, settings: &RunSettings, target: &Target) -> Captures {
    let mut captures = Captures::new();
    captures.set(
        "base",
        serde_json::Value::String(target.http_url(&target.path)),
    );
    captures.set(
        "ws_base",
        serde_json::Value::String(target.ws_url(&target.path)),
    );
    captures.set("case_id", serde_json::Value::String(instance.id.clone()));
    captures.set("eio", serde_json::Value::from(instance.eio));
    captures.set_duration("slack", settings.slack);
    captures.set_duration("connect_timeout", settings.connect_timeout);
    captures
}

impl CaseState<'_> {
    /// The level a step is graded at.
    pub(crate) fn level(&self, step: &Step) -> Level {
        step.level.unwrap_or(self.instance.level)
    }
}

#[cfg(test)]
mod bounded_tests {
    #[test]
    fn long_finding_texts_are_cut_with_their_length() {
        assert_eq!(super::bounded("short".into()), "short");
        let long = "é".repeat(40_000);
        let cut = super::bounded(long);
        assert!(
            cut.ends_with("… (80000 bytes in all)"),
            "{}",
            &cut[cut.len() - 40..]
        );
        assert!(cut.len() < super::MAX_FINDING_TEXT + 40);
    }
}
