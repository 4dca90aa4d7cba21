//! Checks on a case's inlined steps, in execution order: variables are set before they are
//! read, connections are opened before they are used, `await` follows its async request, and
//! `timing.since` names an earlier step.

use std::collections::{BTreeMap, BTreeSet};

use super::error::Sink;
use super::model::{
    Action, BodyExpect, HttpRequest, Inbound, Outbound, RequestBody, ResponseExpect, Since, Step,
    Target,
};
use super::packet::EioData;
use crate::matcher::{Pattern, Template, value_variables};

#[derive(Debug, Clone, Default)]
struct State {
    vars: BTreeSet<String>,
    conns: BTreeSet<String>,
    /// Pending async request id → line of its `http` step.
    pending: BTreeMap<String, u64>,
    step_ids: BTreeSet<String>,
}

/// Validates one case; `builtins` are the variables the engine sets before the case starts.
pub(super) fn validate_case(steps: &[Step], builtins: &[String], sink: &mut Sink<'_>) {
    let mut state = State {
        vars: builtins.iter().cloned().collect(),
        ..State::default()
    };
    let builtins: BTreeSet<&str> = builtins.iter().map(String::as_str).collect();
    let mut checker = Checker { builtins, sink };
    for step in steps {
        checker.step(step, &mut state);
    }
}

struct Checker<'b, 's, 'f> {
    builtins: BTreeSet<&'b str>,
    sink: &'s mut Sink<'f>,
}

impl Checker<'_, '_, '_> {
    fn error(&mut self, step: &Step, message: String) {
        self.sink.error(
            step.line,
            step.column,
            format!("{message}{}", step.via_use()),
        );
    }

    fn step(&mut self, step: &Step, state: &mut State) {
        let StepVars {
            reads,
            patterns,
            errors,
        } = step_vars(step);
        if let Some(timing) = &step.timing
            && let Since::Step(id) = &timing.since
            && !state.step_ids.contains(id)
        {
            self.error(
                step,
                format!("`timing.since: {id}` names no earlier step id"),
            );
        }
        match &step.action {
            Action::Http { request, .. } => {
                if let Some(id) = &request.async_id
                    && let Some(line) = state.pending.insert(id.clone(), step.line)
                {
                    self.error(
                        step,
                        format!("async id `{id}` is already pending (line {line})"),
                    );
                }
            }
            Action::Await { id, .. } => {
                if state.pending.remove(id).is_none() {
                    self.error(
                        step,
                        format!("`await: {id}` has no earlier pending `http` with `async: {id}`"),
                    );
                }
            }
            Action::WsOpen { conn, .. } | Action::Open { conn, .. } => {
                state.conns.insert(conn.clone());
            }
            Action::Send { conn, .. }
            | Action::Expect { conn, .. }
            | Action::ExpectNone { conn, .. }
            | Action::Close { conn, .. }
            | Action::Record { conn } => self.need_conn(step, conn, state),
            Action::Sleep { .. } => {}
            Action::Repeat { steps, .. } => {
                for child in steps {
                    self.step(child, state);
                }
            }
            Action::Unordered { steps } => {
                // Children run in any order, so none may read another's captures; all of
                // them are visible after the group.
                let before = state.vars.clone();
                let mut added = BTreeSet::new();
                for child in steps {
                    state.vars.clone_from(&before);
                    self.step(child, state);
                    added.extend(state.vars.difference(&before).cloned());
                }
                state.vars = before;
                state.vars.extend(added);
            }
            Action::Use { fragment } => {
                // Inlining runs before validation and removes every `use`.
                self.error(step, format!("internal: `use: {fragment}` was not inlined"));
            }
        }
        for message in errors {
            self.error(step, message);
        }
        let mut reported = BTreeSet::new();
        for name in reads {
            if !state.vars.contains(&name) && reported.insert(name.clone()) {
                let builtins: Vec<&str> = self.builtins.iter().copied().collect();
                self.error(
                    step,
                    format!(
                        "unknown variable `${{{name}}}`: not captured by an earlier step and not \
                         a built-in ({})",
                        builtins.join(", ")
                    ),
                );
            }
        }
        for pattern in &patterns {
            for name in pattern.captures() {
                if self.builtins.contains(name.as_str()) {
                    self.error(
                        step,
                        format!("`$capture: {name}` would overwrite a built-in variable"),
                    );
                }
                state.vars.insert(name);
            }
        }
        if let Some(id) = &step.id {
            state.step_ids.insert(id.clone());
        }
    }

    fn need_conn(&mut self, step: &Step, conn: &str, state: &State) {
        if !state.conns.contains(conn) {
            let known: Vec<&str> = state.conns.iter().map(String::as_str).collect();
            self.error(
                step,
                format!(
                    "connection `{conn}` is not opened by an earlier `open` or `ws_open` (open: {})",
                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                ),
            );
        }
    }
}

/// What one step reads and may capture, the children of `repeat` and `unordered` excluded.
#[derive(Debug, Default)]
struct StepVars {
    /// Variables read: `${name}` in templates and patterns, duration expressions.
    reads: Vec<String>,
    /// The patterns matched by the step (their `$capture`s are set after it).
    patterns: Vec<Pattern>,
    /// `${…}` syntax errors in Socket.IO payloads (checked here, not at conversion).
    errors: Vec<String>,
}

fn step_vars(step: &Step) -> StepVars {
    let mut vars = StepVars::default();
    let reads = &mut vars.reads;
    let patterns = &mut vars.patterns;
    if let Some(within) = &step.within {
        reads.extend(within.variables().map(str::to_owned));
    }
    if let Some(timing) = &step.timing {
        for bound in timing.min.iter().chain(&timing.max) {
            reads.extend(bound.at.variables().map(str::to_owned));
        }
    }
    match &step.action {
        Action::Http { request, expect } => {
            request_reads(request, reads);
            response_patterns(expect.as_ref(), patterns);
        }
        Action::Await { expect, .. } => response_patterns(expect.as_ref(), patterns),
        Action::WsOpen {
            target,
            headers,
            expect,
            ..
        } => {
            target_reads(target, reads);
            for (_, value) in headers {
                template_reads(value, reads);
            }
            response_patterns(expect.as_ref(), patterns);
        }
        Action::Open { query, expect, .. } => {
            if let Some(query) = query {
                template_reads(query, reads);
            }
            patterns.extend(expect.iter().map(|packet| packet.to_pattern()));
        }
        Action::Send { payload, .. } => match payload {
            Outbound::Eio(packet) => {
                if let Some(EioData::Text(text)) = &packet.data {
                    template_reads(text, reads);
                }
            }
            Outbound::Sio(packet) => {
                for value in packet.id.iter().chain(&packet.data) {
                    match value_variables(value) {
                        Ok(names) => reads.extend(names),
                        Err(err) => vars.errors.push(err.to_string()),
                    }
                }
            }
            Outbound::Text(text) => template_reads(text, reads),
            Outbound::Binary(_) => {}
        },
        Action::Expect { expected, .. } => patterns.extend(inbound_pattern(expected)),
        Action::ExpectNone { duration, .. } | Action::Sleep { duration } => {
            reads.extend(duration.variables().map(str::to_owned));
        }
        Action::Close { .. }
        | Action::Record { .. }
        | Action::Repeat { .. }
        | Action::Unordered { .. }
        | Action::Use { .. } => {}
    }
    for pattern in &vars.patterns {
        vars.reads.extend(pattern.variables());
    }
    vars
}

impl Step {
    /// ` (via `use` at line 12 -> 30)` for a step inlined from a fragment (the `use` steps
    /// that brought it in, outermost first), empty for a step of the case itself: the suffix
    /// of a message about the step.
    #[must_use]
    pub fn via_use(&self) -> String {
        match self.included_from.as_slice() {
            [] => String::new(),
            lines => format!(
                " (via `use` at line {})",
                lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ),
        }
    }

    /// Variables this step reads (`${name}` in its templates, patterns and duration
    /// expressions), in order of appearance; the steps of a `repeat` or `unordered` are not
    /// included.
    #[must_use]
    pub fn reads(&self) -> Vec<String> {
        step_vars(self).reads
    }

    /// Variables this step may capture (`$capture` in its patterns), in order of appearance;
    /// the steps of a `repeat` or `unordered` are not included.
    #[must_use]
    pub fn captures(&self) -> Vec<String> {
        step_vars(self)
            .patterns
            .iter()
            .flat_map(Pattern::captures)
            .collect()
    }
}

fn template_reads(template: &Template, reads: &mut Vec<String>) {
    reads.extend(template.variables().map(str::to_owned));
}

fn target_reads(target: &Target, reads: &mut Vec<String>) {
    match target {
        Target::Query(template) | Target::Url(template) => template_reads(template, reads),
    }
}

fn request_reads(request: &HttpRequest, reads: &mut Vec<String>) {
    target_reads(&request.target, reads);
    for (_, value) in &request.headers {
        template_reads(value, reads);
    }
    match &request.body {
        Some(RequestBody::Text(text)) => template_reads(text, reads),
        Some(RequestBody::Eio(packets)) => {
            for packet in packets {
                if let Some(EioData::Text(text)) = &packet.data {
                    template_reads(text, reads);
                }
            }
        }
        Some(RequestBody::Bytes(_)) | None => {}
    }
}

fn response_patterns(expect: Option<&ResponseExpect>, out: &mut Vec<Pattern>) {
    let Some(expect) = expect else { return };
    out.extend(expect.status.iter().cloned());
    out.extend(expect.headers.iter().map(|(_, pattern)| pattern.clone()));
    out.extend(expect.body.as_ref().map(BodyExpect::to_pattern));
    for alternative in &expect.one_of {
        response_patterns(Some(&alternative.expect), out);
    }
}

fn inbound_pattern(expected: &Inbound) -> Option<Pattern> {
    match expected {
        Inbound::Eio(packet) => Some(packet.to_pattern()),
        Inbound::Sio(packet) => Some(packet.to_pattern()),
        Inbound::Text(pattern) | Inbound::Binary(pattern) => Some(pattern.clone()),
        Inbound::Closed => None,
    }
}
