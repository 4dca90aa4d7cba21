//! [`Report`]: the outcome of a run, its cases, its summary, its judgement (by the verdicts,
//! the server's expected results or a baseline) and the exit code it gives, and the report
//! formats it writes.

use crate::baseline::{self, Baseline};
use crate::engine::{CaseResult, Finding, Verdict};
use crate::expected::Expected;
use crate::report::{self, Summary, Trace};
use crate::runner::Stop;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a run's exit code is decided.
#[derive(Debug, Clone)]
pub(super) enum Judge {
    /// By the verdicts: FAIL (and NON-STRICT when strict) fails.
    Verdicts,
    /// By the server's known deviations.
    Expected(Expected, PathBuf),
    /// By a baseline of accepted failures.
    Baseline(Baseline, PathBuf),
}

/// The outcome of a run: a verdict per case instance, and the judgement.
#[derive(Debug, Clone)]
pub struct Report {
    pub(super) results: Vec<CaseResult>,
    pub(super) target: String,
    pub(super) elapsed: Duration,
    pub(super) stopped: Option<Stop>,
    pub(super) notes: Vec<String>,
    pub(super) strict: bool,
    pub(super) judge: Judge,
}

/// One case instance of a [`Report`].
#[derive(Debug, Clone, Copy)]
pub struct Case<'a>(&'a CaseResult);

impl<'a> Case<'a> {
    /// Its id: `suite/case[axis]`, as `conformance list` prints it.
    #[must_use]
    pub fn id(&self) -> &'a str {
        &self.0.instance.id
    }

    /// Its title.
    #[must_use]
    pub fn title(&self) -> &'a str {
        &self.0.instance.title
    }

    /// Its verdict.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        self.0.verdict
    }

    /// Why it is not PASS (empty when it is).
    #[must_use]
    pub fn findings(&self) -> &'a [Finding] {
        &self.0.findings
    }

    /// Its fixture file (`fixtures/conformance/sio5.yaml` for a built-in suite) and line.
    #[must_use]
    pub fn fixture(&self) -> (&'a Path, u64) {
        (&self.0.instance.file, self.0.instance.line)
    }

    /// How long it ran.
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.0.duration
    }
}

impl Report {
    /// Every case instance of the suites, in order, run or not.
    pub fn cases(&self) -> impl Iterator<Item = Case<'_>> {
        self.results.iter().map(Case)
    }

    /// The case instance with this id.
    #[must_use]
    pub fn case(&self, id: &str) -> Option<Case<'_>> {
        self.cases().find(|c| c.id() == id)
    }

    /// The verdict of the case instance with this id.
    #[must_use]
    pub fn verdict(&self, id: &str) -> Option<Verdict> {
        self.case(id).map(|c| c.verdict())
    }

    /// The cases that count against the server: FAIL and ERROR, and NON-STRICT in a strict
    /// run.
    pub fn failures(&self) -> impl Iterator<Item = Case<'_>> {
        self.cases().filter(|c| match c.verdict() {
            Verdict::Fail | Verdict::Error => true,
            Verdict::NonStrict => self.strict,
            _ => false,
        })
    }

    /// The counts per verdict.
    #[must_use]
    pub fn summary(&self) -> Summary {
        Summary::of(&self.results)
    }

    /// Why the run stopped before its end, if it did (the target stopped answering, or the
    /// caller stopped it).
    #[must_use]
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_ref().map(Stop::reason)
    }

    /// What the run found about the target as a whole, before the cases (it does not answer
    /// a Socket.IO CONNECT, …).
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// How long the run took.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The exit code `conformance run` gives this run: 0 it conforms (or matches its
    /// expected results or baseline), 1 failures, 3 harness errors (unreachable target),
    /// 4 stale baseline, 5 interrupted.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        use crate::exit;
        let summary = self.summary();
        if matches!(self.stopped, Some(Stop::Interrupted(_))) {
            return exit::INTERRUPTED;
        }
        if summary.error > 0 {
            return exit::HARNESS;
        }
        match &self.judge {
            Judge::Expected(expected, _) => {
                if expected.compare(&self.results).is_empty() {
                    exit::OK
                } else {
                    exit::FAILURES
                }
            }
            Judge::Baseline(baseline, _) => {
                let outcome = baseline.judge(&self.results, self.strict, baseline::today());
                if !outcome.new_failures.is_empty() || !outcome.expired.is_empty() {
                    exit::FAILURES
                } else if !outcome.stale.is_empty() {
                    exit::STALE_BASELINE
                } else {
                    exit::OK
                }
            }
            Judge::Verdicts => {
                if summary.fail > 0 || (self.strict && summary.non_strict > 0) {
                    exit::FAILURES
                } else {
                    exit::OK
                }
            }
        }
    }

    /// Whether the server conforms: [`Report::exit_code`] is 0.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.exit_code() == 0
    }

    /// Panics, with the failing cases' findings and transcripts, unless the server conforms.
    ///
    /// # Panics
    /// When [`Report::passed`] is false.
    #[track_caller]
    pub fn assert_conforms(&self) {
        assert!(self.passed(), "the server does not conform:\n{self}");
    }

    /// What the judgement found beyond the verdicts, one line each: differences from the
    /// expected results, or new, expired and stale baseline entries, then a summary line.
    /// Empty when judged by the verdicts alone.
    #[must_use]
    pub fn judgement(&self) -> Vec<String> {
        match &self.judge {
            Judge::Verdicts => Vec::new(),
            Judge::Expected(expected, file) => {
                let problems = expected.compare(&self.results);
                let mut lines: Vec<String> = problems
                    .iter()
                    .map(|p| format!("UNEXPECTED  {p}"))
                    .collect();
                lines.push(format!(
                    "expected results ({}, {}): {} differences",
                    file.display(),
                    expected.server,
                    problems.len()
                ));
                lines
            }
            Judge::Baseline(baseline, file) => {
                let outcome = baseline.judge(&self.results, self.strict, baseline::today());
                let mut lines: Vec<String> = outcome
                    .new_failures
                    .iter()
                    .map(|id| format!("NEW FAILURE {id}: not in the baseline"))
                    .collect();
                for &index in &outcome.expired {
                    let entry = &baseline.entries[index];
                    lines.push(format!(
                        "EXPIRED     `{}` (expires {}): {}",
                        entry.case,
                        entry.expires.as_deref().unwrap_or_default(),
                        entry.reason
                    ));
                }
                for &index in &outcome.stale {
                    let entry = &baseline.entries[index];
                    lines.push(format!(
                        "STALE       `{}`: every case it matches passes now; remove the entry ({})",
                        entry.case, entry.reason
                    ));
                }
                lines.push(format!(
                    "known failing ({}): {} known, {} new failures, {} expired, {} stale",
                    file.display(),
                    outcome.known.len(),
                    outcome.new_failures.len(),
                    outcome.expired.len(),
                    outcome.stale.len()
                ));
                lines
            }
        }
    }

    /// The console report `conformance run` prints, with the transcripts of `trace`.
    #[must_use]
    pub fn console(&self, trace: Trace) -> String {
        report::console(&self.results, trace, self.elapsed)
    }

    /// The report in `format`, as `conformance run --report FORMAT=PATH` writes it.
    ///
    /// # Errors
    /// The JUnit writer failed.
    pub fn render(&self, format: Format) -> Result<String, String> {
        Ok(match format {
            Format::Json => report::json(&self.results, &self.target, Trace::Failing),
            Format::Junit => report::junit(&self.results)?,
            Format::Html => report::html::render(&self.results, &self.target),
            Format::Tap => report::tap(&self.results),
        })
    }

    /// The results themselves, for the commands of this crate.
    pub(crate) fn results(&self) -> &[CaseResult] {
        &self.results
    }

    /// The target as given.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// The reason the run was interrupted by its caller, if it was.
    pub(crate) fn interrupted(&self) -> Option<&str> {
        match &self.stopped {
            Some(Stop::Interrupted(reason)) => Some(reason),
            _ => None,
        }
    }
}

/// Prints the console report with the failing cases' transcripts, and the judgement.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        f.write_str(&self.console(Trace::Failing))?;
        if let Some(reason) = self.stopped() {
            writeln!(f, "STOPPED: {reason}")?;
        }
        for line in self.judgement() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// The file formats of [`Report::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON report (`schemas/report.v1.schema.json`).
    Json,
    /// JUnit XML.
    Junit,
    /// One self-contained HTML page.
    Html,
    /// TAP 14.
    Tap,
}
