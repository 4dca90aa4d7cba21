//! `conformance run --known-failing FILE`: a baseline of failures a team has accepted for now,
//! so that CI fails on new failures only, and on a baseline that went stale.
//!
//! ```yaml
//! schema: conformance.known-failing/v1
//! entries:
//!   - case: "sio5/connect/unknown-namespace[*"     # glob on case ids, as --run
//!     reason: CONNECT_ERROR payload is a string (#123)
//!     expires: 2027-03-31                         # optional: the entry fails the run after it
//!   - case: "eio4/close/polling"
//!     step: close-get                              # optional: only that step's finding (a step
//!     reason: pending GET released with 200 ok     # `id:`, or a fixture line number)
//! ```
//!
//! A case that did not PASS is *known* when every one of its findings is covered by an entry
//! (an entry without `step` covers every finding of the cases it matches). Unlike
//! `--expect`, which pins every verdict, a baseline only lists what may fail, and it must stay
//! true:
//! * an entry whose cases all PASS is **stale** (the bug was fixed: remove the entry);
//! * an entry past its `expires` date fails the run (someone promised a fix);
//! * an entry that matches no case, or names a step its cases do not have, is a usage error,
//!   found before the run starts.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::engine::{CaseResult, Verdict};
use crate::fixture::{CaseInstance, Step, Suite};
use crate::runner::glob_match;

/// The file's schema tag.
pub const SCHEMA: &str = "conformance.known-failing/v1";

/// A baseline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`SCHEMA`].
    pub schema: String,
    /// The accepted failures.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// One accepted failure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Glob on case ids (`*` within a segment, `**` across), full or without the axis part.
    pub case: String,
    /// A step `id:`, or the fixture line of the step, when only that step may fail.
    #[serde(default)]
    pub step: Option<StepRef>,
    /// Why it is accepted (an issue link, ideally).
    pub reason: String,
    /// `YYYY-MM-DD`: after this day the entry fails the run.
    #[serde(default)]
    pub expires: Option<String>,
}

/// `step:` as an id or a line number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum StepRef {
    /// The fixture line of the step.
    Line(u64),
    /// The step's `id:`.
    Id(String),
}

/// What the baseline says about a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Cases that did not PASS and are fully covered by entries.
    pub known: Vec<String>,
    /// Cases that did not PASS (FAIL, or NON-STRICT with `strict`) and are not covered.
    pub new_failures: Vec<String>,
    /// Entries (by index) whose every matched case passed.
    pub stale: Vec<usize>,
    /// Entries (by index) past their expiry date.
    pub expired: Vec<usize>,
}

impl Baseline {
    /// Parses a baseline file and checks every entry against the loaded suites.
    ///
    /// # Errors
    /// YAML errors, a wrong schema, a bad date, or an entry that matches no case / no step.
    pub fn parse(text: &str, suites: &[Suite]) -> Result<Self, String> {
        let baseline =
            crate::expected::parse_tagged(text, SCHEMA, |baseline: &Self| &baseline.schema)?;
        let instances: Vec<&CaseInstance> = suites.iter().flat_map(|s| &s.instances).collect();
        for (index, entry) in baseline.entries.iter().enumerate() {
            let at = format!("entry {} (`{}`)", index + 1, entry.case);
            if let Some(date) = &entry.expires {
                civil_day(date)
                    .ok_or_else(|| format!("{at}: expires {date:?} is not YYYY-MM-DD"))?;
            }
            let matched: Vec<&&CaseInstance> =
                instances.iter().filter(|i| entry.matches(i)).collect();
            if matched.is_empty() {
                return Err(format!("{at}: matches no case"));
            }
            if let Some(step) = &entry.step
                && !matched
                    .iter()
                    .any(|i| !step_lines(&i.steps, step).is_empty())
            {
                return Err(format!("{at}: no matched case has step {step:?}"));
            }
        }
        Ok(baseline)
    }

    /// Grades `results` (with `strict`, NON-STRICT counts as a failure) as of `today`
    /// (days since 1970-01-01).
    #[must_use]
    pub fn judge(&self, results: &[CaseResult], strict: bool, today: i64) -> Outcome {
        let mut outcome = Outcome::default();
        let mut failing_entries = BTreeSet::new();
        for result in results {
            let failed = match result.verdict {
                Verdict::Fail | Verdict::Error => true,
                Verdict::NonStrict => strict,
                _ => false,
            };
            if !failed {
                continue;
            }
            let entries: Vec<usize> = (0..self.entries.len())
                .filter(|&i| self.entries[i].matches(&result.instance))
                .collect();
            let covered = result
                .findings
                .iter()
                .filter(|f| f.verdict == result.verdict)
                .all(|finding| {
                    entries
                        .iter()
                        .any(|&i| self.entries[i].covers(&result.instance, finding.line))
                });
            if covered && !entries.is_empty() {
                failing_entries.extend(entries);
                outcome.known.push(result.instance.id.clone());
            } else {
                outcome.new_failures.push(result.instance.id.clone());
            }
        }
        for (index, entry) in self.entries.iter().enumerate() {
            // A case that did not run (not selected, or UNSUPPORTED by the profile) says
            // nothing about the entry.
            let ran = results.iter().any(|r| {
                entry.matches(&r.instance)
                    && !matches!(r.verdict, Verdict::Skipped | Verdict::Unsupported)
            });
            if ran && !failing_entries.contains(&index) {
                outcome.stale.push(index);
            }
            if entry
                .expires
                .as_deref()
                .and_then(civil_day)
                .is_some_and(|day| day < today)
            {
                outcome.expired.push(index);
            }
        }
        outcome
    }
}

impl Entry {
    fn matches(&self, instance: &CaseInstance) -> bool {
        glob_match(&self.case, &instance.id) || glob_match(&self.case, &instance.case_id)
    }

    /// Whether this entry accepts a finding at fixture line `line` of `instance`.
    fn covers(&self, instance: &CaseInstance, line: u64) -> bool {
        self.matches(instance)
            && self
                .step
                .as_ref()
                .is_none_or(|step| step_lines(&instance.steps, step).contains(&line))
    }
}

/// The fixture lines of the steps `step` names (children included).
fn step_lines(steps: &[Step], step: &StepRef) -> Vec<u64> {
    let mut lines = Vec::new();
    crate::fixture::walk_steps(steps, &mut |s| {
        let hit = match step {
            StepRef::Line(line) => s.line == *line,
            StepRef::Id(id) => s.id.as_deref() == Some(id),
        };
        if hit {
            lines.push(s.line);
        }
    });
    lines
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian), `None` if malformed.
#[must_use]
pub fn civil_day(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today, in days since 1970-01-01 (UTC).
#[must_use]
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
