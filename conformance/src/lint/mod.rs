//! `conformance lint`: weaknesses of fixtures that load fine but test less than they seem to.
//!
//! Loading already rejects what cannot run (unknown keys, bad patterns, a connection used
//! before it is opened, and `undefined-variable`: a `${name}` that no earlier step captures
//! and that is not a built-in, see `fixture::validate`). The lint looks at suites that loaded
//! and reports, each at `file:line:column`:
//!
//! | rule | what |
//! |---|---|
//! | `unused-capture` | a `$capture: name` that no later step reads (`${name}` in a template or pattern, a duration expression). A capture in a fragment counts as read when some case that uses the fragment reads it. A capture overwritten before it is read is unused. |
//! | `send-without-expect` | a `send` on a connection with no later `expect`, `expect_none` or `close` on that connection and no `expect` right after it (before the client acts again) on another connection, which is how a case shows what a send asked the server to do to other clients; or an HTTP `POST` into a session (its target reads a variable, the `sid`) that no later `GET` or `await` on that session follows. Not flagged: Engine.IO `pong` packets (they answer the server's ping; their effect is a session that does not time out) and a `POST` expected to be refused (its status is the check). Checked per case: a fragment's send must be checked in every case that uses it. |
//! | `expect-without-deadline` | an `expect` that waits for something no client action of the case triggers, yet has no `within` (its own or its `unordered` group's) and no suite `step_timeout`, so the global `--timeout` decides how long the server has: a close (`closed: true`, which a packet, the ping timeout or the connect timeout can cause), an Engine.IO `ping` (sent every `pingInterval`, 25 s on a default server), or anything expected after a `sleep` / `expect_none` with no client action in between. `timing` alone is not a deadline: it grades the arrival, the wait still ends at `--timeout`. A reply to the case's own `send`, `open` or request waits for `--timeout` by design: that is what the option is for. |
//! | `hard-coded-timing` | a literal duration (`sleep: 20ms`, `within: 2s`, `for: 100ms`, a `timing` bound) instead of one derived from captured timers (`${ping_interval}ms`), `${slack}` or `${connect_timeout}`. A step whose literal is deliberate says why in `fixed_duration: <reason>`; a `fixed_duration` on a step without a literal is flagged too. |
//! | `no-spec-reference` | a case without `spec:` (probe cases, which have `provides:` and judge nothing, need none), an anchor without `quote:`, or an anchor in a suite without `spec.base_url`. |
//!
//! `conformance lint` (in `commands::lint`) prints the findings; its exit codes: 0 no findings,
//! 1 findings, 2 usage error or a fixture that does not load.

mod rules;

use rules::{
    expects_without_deadline, hard_coded_timing, sends_without_expect, spec_references,
    unused_captures,
};

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fixture::{Action, Step, Suite};

/// The lint rules (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A capture nothing reads.
    UnusedCapture,
    /// A send whose effect nothing checks.
    SendWithoutExpect,
    /// A wait for a server-timed event bounded by the global `--timeout` only.
    ExpectWithoutDeadline,
    /// A literal duration without `fixed_duration`.
    HardCodedTiming,
    /// A case or anchor without its spec sentence.
    NoSpecReference,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Self; 5] = [
        Self::UnusedCapture,
        Self::SendWithoutExpect,
        Self::ExpectWithoutDeadline,
        Self::HardCodedTiming,
        Self::NoSpecReference,
    ];

    /// The rule's name as printed.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::UnusedCapture => "unused-capture",
            Self::SendWithoutExpect => "send-without-expect",
            Self::ExpectWithoutDeadline => "expect-without-deadline",
            Self::HardCodedTiming => "hard-coded-timing",
            Self::NoSpecReference => "no-spec-reference",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One weakness, at `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// The fixture file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// Which rule.
    pub rule: Rule,
    /// What is weak, and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.rule,
            self.message
        )
    }
}

/// Lints one loaded suite; `text` is its file's content (for the columns of values inside a
/// step). Findings come sorted by position.
#[must_use]
pub fn lint_suite(suite: &Suite, text: &str) -> Vec<Finding> {
    let source = Source::new(suite, text);
    let mut out = Out {
        file: &suite.file,
        findings: BTreeSet::new(),
    };
    let flows = flows(suite);
    unused_captures(&flows, &source, &mut out);
    sends_without_expect(&flows, &mut out);
    if suite.defaults.step_timeout.is_none() {
        expects_without_deadline(&flows, &mut out);
    }
    let written = written_steps(suite);
    hard_coded_timing(&written, &source, &mut out);
    spec_references(suite, &written, &source, &mut out);
    out.findings.into_iter().collect()
}

struct Out<'a> {
    file: &'a Path,
    findings: BTreeSet<Finding>,
}

impl Out<'_> {
    fn push(&mut self, (line, column): Position, rule: Rule, message: String) {
        self.findings.insert(Finding {
            file: self.file.to_owned(),
            line,
            column,
            rule,
            message,
        });
    }
}

/// The fixture text, to place findings on a value inside a step (the model keeps the line
/// and column of steps and cases only).
struct Source<'a> {
    lines: Vec<&'a str>,
    /// Lines where a case or a step starts, sorted: a step's text ends before the next one.
    starts: Vec<u64>,
    /// Lines where a case starts, sorted.
    case_starts: Vec<u64>,
}

impl<'a> Source<'a> {
    fn new(suite: &Suite, text: &'a str) -> Self {
        let case_starts: Vec<u64> = suite.cases.iter().map(|case| case.line).collect();
        let mut starts = case_starts.clone();
        starts.extend(written_steps(suite).iter().map(|step| step.line));
        starts.sort_unstable();
        let mut case_starts = case_starts;
        case_starts.sort_unstable();
        Self {
            lines: text.lines().collect(),
            starts,
            case_starts,
        }
    }

    /// The first line after `line` where another case or step starts (or the end).
    fn end_of(&self, line: u64, starts: &[u64]) -> u64 {
        starts
            .iter()
            .copied()
            .find(|start| *start > line)
            .unwrap_or(self.lines.len() as u64 + 1)
    }

    /// The position of the first match of `find` (a byte offset within a line) in the text of
    /// the step starting at `line`.
    fn in_step(&self, line: u64, find: &dyn Fn(&str) -> Option<usize>) -> Option<Position> {
        self.locate(line, self.end_of(line, &self.starts), find)
    }

    /// The same in the text of the case starting at `line`, its steps included.
    fn in_case(&self, line: u64, find: &dyn Fn(&str) -> Option<usize>) -> Option<Position> {
        self.locate(line, self.end_of(line, &self.case_starts), find)
    }

    fn locate(
        &self,
        line: u64,
        end: u64,
        find: &dyn Fn(&str) -> Option<usize>,
    ) -> Option<Position> {
        (line..end).find_map(|number| {
            let text = self
                .lines
                .get(usize::try_from(number).ok()?.checked_sub(1)?)?;
            let offset = find(text)?;
            Some((number, text[..offset].chars().count() as u64 + 1))
        })
    }

    /// Where `needle` is written in the step starting at `line`, else the step itself.
    fn value_in_step(&self, step: &Step, needle: &str) -> Position {
        self.in_step(step.line, &|text| text.find(needle))
            .unwrap_or((step.line, step.column))
    }
}

/// The steps as written in the file: the cases' and the fragments', children included, `use`
/// not inlined.
fn written_steps(suite: &Suite) -> Vec<&Step> {
    fn collect<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
        for step in steps {
            out.push(step);
            if let Action::Repeat { steps, .. } | Action::Unordered { steps } = &step.action {
                collect(steps, out);
            }
        }
    }
    let mut out = Vec::new();
    for fragment in suite.fragments.values() {
        collect(&fragment.steps, &mut out);
    }
    for case in &suite.cases {
        collect(&case.steps, &mut out);
    }
    out
}

/// One step as it runs: fragments inlined, on one Engine.IO revision, `repeat` bodies twice
/// (so that what one iteration leaves to the next is seen), `unordered` children in place.
#[derive(Clone, Copy)]
struct Occurrence<'a> {
    step: &'a Step,
    /// Inside an `unordered` group with its own `within`.
    group_deadline: bool,
}

/// The distinct runs of a suite's cases (instances differing only by transport run the same
/// steps), each flattened.
struct Flow<'a> {
    case_line: u64,
    steps: Vec<Occurrence<'a>>,
}

fn flows(suite: &Suite) -> Vec<Flow<'_>> {
    fn flatten<'a>(steps: &'a [Step], group_deadline: bool, out: &mut Vec<Occurrence<'a>>) {
        for step in steps {
            out.push(Occurrence {
                step,
                group_deadline,
            });
            match &step.action {
                Action::Repeat { times, steps } => {
                    for _ in 0..(*times).min(2) {
                        flatten(steps, group_deadline, out);
                    }
                }
                Action::Unordered { steps } => {
                    flatten(steps, group_deadline || step.within.is_some(), out);
                }
                _ => {}
            }
        }
    }
    let mut seen: Vec<(u64, &[Step])> = Vec::new();
    let mut out = Vec::new();
    for instance in &suite.instances {
        if seen
            .iter()
            .any(|(line, steps)| *line == instance.line && *steps == instance.steps.as_slice())
        {
            continue;
        }
        seen.push((instance.line, &instance.steps));
        let mut steps = Vec::new();
        flatten(&instance.steps, false, &mut steps);
        out.push(Flow {
            case_line: instance.line,
            steps,
        });
    }
    out
}

/// Line and column, 1-based.
type Position = (u64, u64);

fn at(step: &Step) -> Position {
    (step.line, step.column)
}

// ------------------------------------------------------------------ unused-capture

#[cfg(test)]
// The suite builders are shared with the command's tests (`commands::lint`).
pub(crate) mod tests;
