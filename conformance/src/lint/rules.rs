//! The five lint rules, each a pass over a suite's flows (the steps of one case instance in
//! order, per connection) or its written steps; see the module documentation of `lint`.

use super::{Flow, Occurrence, Out, Position, Rule, Source, at};
use std::collections::{BTreeMap, BTreeSet};

use crate::expr::Expr;
use crate::fixture::{
    Action, EioType, HttpRequest, Inbound, Outbound, RequestBody, ResponseExpect, SpecRef, Step,
    Suite, Target,
};
use crate::matcher::Pattern;

pub(super) fn unused_captures(flows: &[Flow<'_>], source: &Source<'_>, out: &mut Out<'_>) {
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

pub(super) fn sends_without_expect(flows: &[Flow<'_>], out: &mut Out<'_>) {
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

pub(super) fn expects_without_deadline(flows: &[Flow<'_>], out: &mut Out<'_>) {
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

pub(super) fn hard_coded_timing(written: &[&Step], source: &Source<'_>, out: &mut Out<'_>) {
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

pub(super) fn spec_references(
    suite: &Suite,
    written: &[&Step],
    source: &Source<'_>,
    out: &mut Out<'_>,
) {
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
