//! `conformance lint`: weaknesses of fixtures that load fine but test less than they seem to.
//!
//! Loading already rejects what cannot run (unknown keys, bad patterns, a connection used
//! before it is opened, and `undefined-variable`: a `${name}` that no earlier step captures
//! and that is not a built-in, see `scenario::validate`). The lint looks at suites that loaded
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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::expr::Expr;
use crate::matcher::Pattern;
use crate::scenario::{
    Action, EioType, HttpRequest, Inbound, Outbound, RequestBody, ResponseExpect, SpecRef, Step,
    Suite, Target,
};

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

fn unused_captures(flows: &[Flow<'_>], source: &Source<'_>, out: &mut Out<'_>) {
    // (step position, name) → (read in some run, the step).
    let mut captures: BTreeMap<(Position, String), (bool, &Step)> = BTreeMap::new();
    for flow in flows {
        let vars: Vec<(Vec<String>, Vec<String>)> = flow
            .steps
            .iter()
            .map(|occurrence| (occurrence.step.reads(), occurrence.step.captures()))
            .collect();
        for (index, occurrence) in flow.steps.iter().enumerate() {
            let names: BTreeSet<&String> = vars[index].1.iter().collect();
            for name in names {
                // Read before it is captured again (a step reads before it captures).
                let read = vars[index + 1..]
                    .iter()
                    .find_map(|(reads, captures)| {
                        if reads.contains(name) {
                            Some(true)
                        } else if captures.contains(name) {
                            Some(false)
                        } else {
                            None
                        }
                    })
                    .unwrap_or(false);
                let entry = captures
                    .entry((at(occurrence.step), name.clone()))
                    .or_insert((false, occurrence.step));
                entry.0 |= read;
            }
        }
    }
    for ((_, name), (read, step)) in captures {
        if read {
            continue;
        }
        let position = source
            .in_step(step.line, &|text| capture_offset(text, &name))
            .unwrap_or(at(step));
        let scope = if step.included_from.is_empty() {
            "no later step reads"
        } else {
            "no later step of any case that uses this fragment reads"
        };
        out.push(
            position,
            Rule::UnusedCapture,
            format!(
                "`$capture: {name}` is never read: {scope} `${{{name}}}` (before another \
                 capture replaces it); drop the `$capture`, the rest of the pattern still checks \
                 the value"
            ),
        );
    }
}

/// The byte offset of `$capture` followed by `name` (quoted or not) in `line`.
fn capture_offset(line: &str, name: &str) -> Option<usize> {
    line.match_indices("$capture").find_map(|(offset, key)| {
        let rest = line[offset + key.len()..].trim_start_matches(['"', '\'', ':', ' ']);
        let after = rest.strip_prefix(name)?;
        (!after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')).then_some(offset)
    })
}

// ------------------------------------------------------------------ send-without-expect

fn sends_without_expect(flows: &[Flow<'_>], out: &mut Out<'_>) {
    for flow in flows {
        for (index, occurrence) in flow.steps.iter().enumerate() {
            let step = occurrence.step;
            let later = &flow.steps[index + 1..];
            let message = match &step.action {
                Action::Send { conn, payload } => {
                    if is_pong(payload)
                        || later.iter().any(|o| checks_conn(o.step, conn))
                        || answered_elsewhere(later)
                    {
                        continue;
                    }
                    format!(
                        "`send` on `{conn}` is never checked: no later `expect`, `expect_none` or \
                         `close` on `{conn}`, and no `expect` right after it on another \
                         connection{} in the case at line {}",
                        step.via_use(),
                        flow.case_line
                    )
                }
                Action::Http { request, expect } if request.method == "POST" => {
                    let session = target_vars(&request.target);
                    if session.is_empty()
                        || expect.as_ref().is_some_and(expects_refusal)
                        || pong_body(request.body.as_ref())
                        || later.iter().enumerate().any(|(offset, o)| {
                            reads_session(o.step, &session, &flow.steps[..index + 1 + offset])
                        })
                    {
                        continue;
                    }
                    let names: Vec<String> = session
                        .iter()
                        .map(|name| format!("`${{{name}}}`"))
                        .collect();
                    format!(
                        "POST into the session {} is never checked: no later GET or `await` on \
                         it shows what it did{} in the case at line {}",
                        names.join(", "),
                        step.via_use(),
                        flow.case_line
                    )
                }
                _ => continue,
            };
            out.push(at(step), Rule::SendWithoutExpect, message);
        }
    }
}

fn is_pong(payload: &Outbound) -> bool {
    matches!(payload, Outbound::Eio(packet) if packet.kind == EioType::Pong)
}

fn pong_body(body: Option<&RequestBody>) -> bool {
    matches!(body, Some(RequestBody::Eio(packets))
        if !packets.is_empty() && packets.iter().all(|packet| packet.kind == EioType::Pong))
}

/// Whether the response must be an error status (the request is a probe of the session, not
/// a send): a literal status ≥ 400, or only such alternatives.
fn expects_refusal(expect: &ResponseExpect) -> bool {
    let refused =
        matches!(&expect.status, Some(Pattern::Number(n)) if n.as_u64().is_some_and(|n| n >= 400));
    refused
        || (!expect.one_of.is_empty()
            && expect
                .one_of
                .iter()
                .all(|alternative| expects_refusal(&alternative.expect)))
}

/// Whether an `expect` (on any connection) follows before the client acts again: the send
/// asked the server to act on other connections (an emit to a room), and they show it.
fn answered_elsewhere(later: &[Occurrence<'_>]) -> bool {
    later
        .iter()
        .take_while(|o| !is_client_action(o.step))
        .any(|o| matches!(o.step.action, Action::Expect { .. }))
}

/// Steps by which the client does something the server may answer.
fn is_client_action(step: &Step) -> bool {
    matches!(
        step.action,
        Action::Http { .. }
            | Action::WsOpen { .. }
            | Action::Open { .. }
            | Action::Send { .. }
            | Action::Close { .. }
    )
}

fn checks_conn(step: &Step, conn: &str) -> bool {
    match &step.action {
        Action::Expect { conn: other, .. }
        | Action::ExpectNone { conn: other, .. }
        | Action::Close { conn: other, .. } => other == conn,
        _ => false,
    }
}

fn target_vars(target: &Target) -> BTreeSet<String> {
    match target {
        Target::Query(template) | Target::Url(template) => {
            template.variables().map(str::to_owned).collect()
        }
    }
}

/// Whether `step` reads from the session named by `session` (a GET, or the `await` of a GET,
/// whose target shares a variable with it); `before` are the steps up to `step`.
fn reads_session(step: &Step, session: &BTreeSet<String>, before: &[Occurrence<'_>]) -> bool {
    let shares = |request: &HttpRequest| {
        request.method == "GET" && !target_vars(&request.target).is_disjoint(session)
    };
    match &step.action {
        Action::Http { request, .. } => request.async_id.is_none() && shares(request),
        Action::Await { id, .. } => before.iter().rev().any(|o| {
            matches!(&o.step.action, Action::Http { request, .. }
                if request.async_id.as_ref() == Some(id) && shares(request))
        }),
        _ => false,
    }
}

// ------------------------------------------------------------------ expect-without-deadline

fn expects_without_deadline(flows: &[Flow<'_>], out: &mut Out<'_>) {
    for flow in flows {
        // A client action since the last wait: what comes next may be its answer.
        let mut acted = false;
        for occurrence in &flow.steps {
            let step = occurrence.step;
            if is_client_action(step) {
                acted = true;
                continue;
            }
            let expected = match &step.action {
                Action::Sleep { .. } | Action::ExpectNone { .. } => {
                    acted = false;
                    continue;
                }
                Action::Expect { expected, .. } => expected,
                _ => continue,
            };
            if step.within.is_some() || occurrence.group_deadline {
                continue;
            }
            let what = match expected {
                Inbound::Closed => {
                    "waits for the connection to close, which a packet, the ping timeout or the \
                     connect timeout can cause"
                }
                Inbound::Eio(packet) if packet.kind == EioType::Ping => {
                    "waits for a server ping, which comes every pingInterval (25 s on a default \
                     server)"
                }
                _ if !acted => {
                    "waits for something the server does on its own (no client action since the \
                     last `sleep` or `expect_none`)"
                }
                _ => continue,
            };
            let timing = if step.timing.is_some() {
                " (`timing` grades the arrival but does not end the wait)"
            } else {
                ""
            };
            out.push(
                at(step),
                Rule::ExpectWithoutDeadline,
                format!(
                    "`expect` {what}, but has no `within`{timing}: the global `--timeout` decides \
                     how long it may take; derive `within` from `${{ping_interval}}ms`, \
                     `${{ping_timeout}}ms`, `${{connect_timeout}}` or `${{slack}}`{}",
                    step.via_use()
                ),
            );
        }
    }
}

// ------------------------------------------------------------------ hard-coded-timing

fn durations(step: &Step) -> Vec<(&'static str, &Expr)> {
    let mut out = Vec::new();
    if let Some(within) = &step.within {
        out.push(("within", within));
    }
    if let Some(timing) = &step.timing {
        out.extend(timing.min.iter().map(|bound| ("timing.min", &bound.at)));
        out.extend(timing.max.iter().map(|bound| ("timing.max", &bound.at)));
    }
    match &step.action {
        Action::Sleep { duration } => out.push(("sleep", duration)),
        Action::ExpectNone { duration, .. } => out.push(("expect_none.for", duration)),
        _ => {}
    }
    out
}

fn hard_coded_timing(written: &[&Step], source: &Source<'_>, out: &mut Out<'_>) {
    for step in written {
        let literals: Vec<(&str, &Expr)> = durations(step)
            .into_iter()
            .filter(|(_, expr)| expr.has_literal())
            .collect();
        match step.fixed_duration.as_deref().map(str::trim) {
            None => {
                for (key, expr) in literals {
                    out.push(
                        source.value_in_step(step, expr.as_str()),
                        Rule::HardCodedTiming,
                        format!(
                            "literal duration in `{key}: {expr}`: derive it from the captured \
                             timers (`${{ping_interval}}ms`), `${{slack}}` or \
                             `${{connect_timeout}}`, or say why it is fixed with \
                             `fixed_duration: <reason>`"
                        ),
                    );
                }
            }
            Some("") => out.push(
                source.value_in_step(step, "fixed_duration"),
                Rule::HardCodedTiming,
                "`fixed_duration` needs a reason".to_owned(),
            ),
            Some(_) if literals.is_empty() => out.push(
                source.value_in_step(step, "fixed_duration"),
                Rule::HardCodedTiming,
                "`fixed_duration` on a step without a literal duration: remove it".to_owned(),
            ),
            Some(_) => {}
        }
    }
}

// ------------------------------------------------------------------ no-spec-reference

fn spec_references(suite: &Suite, written: &[&Step], source: &Source<'_>, out: &mut Out<'_>) {
    // `locate` finds where an anchor is written.
    let check = |refs: &[SpecRef], locate: &dyn Fn(&str) -> Position, out: &mut Out<'_>| {
        for spec in refs {
            let SpecRef::Anchor { anchor, quote } = spec else {
                continue;
            };
            let position = locate(anchor);
            if quote.as_deref().is_none_or(|quote| quote.trim().is_empty()) {
                out.push(
                    position,
                    Rule::NoSpecReference,
                    format!("anchor `{anchor}` has no `quote:`: quote the sentence it stands for"),
                );
            }
            if suite.spec_base_url.is_none() {
                out.push(
                    position,
                    Rule::NoSpecReference,
                    format!("anchor `{anchor}` points nowhere: the suite has no `spec.base_url`"),
                );
            }
        }
    };
    for case in &suite.cases {
        let column = source
            .lines
            .get(usize::try_from(case.line).unwrap_or(0).saturating_sub(1))
            .map_or(1, |text| {
                let indent = text.len() - text.trim_start_matches([' ', '-']).len();
                text[..indent].chars().count() as u64 + 1
            });
        if case.spec.is_empty() && case.provides.is_empty() {
            out.push(
                (case.line, column),
                Rule::NoSpecReference,
                format!(
                    "case `{}` has no `spec:`: add the sentence it checks as \
                     `{{anchor: \"#…\", quote: \"…\"}}`",
                    case.id
                ),
            );
        }
        let locate = |anchor: &str| {
            source
                .in_case(case.line, &|text| text.find(anchor))
                .unwrap_or((case.line, column))
        };
        check(&case.spec, &locate, out);
    }
    for step in written {
        check(
            &step.spec,
            &|anchor| source.value_in_step(step, anchor),
            out,
        );
    }
}

#[cfg(test)]
// The suite builders are shared with the command's tests (`commands::lint`).
pub(crate) mod tests;
