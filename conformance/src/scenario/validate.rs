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
        let via = match step.included_from.as_slice() {
            [] => String::new(),
            lines => format!(
                " (via `use` at line {})",
                lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ),
        };
        self.sink
            .error(step.line, step.column, format!("{message}{via}"));
    }

    fn step(&mut self, step: &Step, state: &mut State) {
        let mut reads: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        if let Some(within) = &step.within {
            reads.extend(within.variables().map(str::to_owned));
        }
        if let Some(timing) = &step.timing {
            for bound in timing.min.iter().chain(&timing.max) {
                reads.extend(bound.at.variables().map(str::to_owned));
            }
            if let Since::Step(id) = &timing.since
                && !state.step_ids.contains(id)
            {
                self.error(
                    step,
                    format!("`timing.since: {id}` names no earlier step id"),
                );
            }
        }
        match &step.action {
            Action::Http { request, expect } => {
                request_reads(request, &mut reads);
                response_patterns(expect.as_ref(), &mut patterns);
                if let Some(id) = &request.async_id
                    && let Some(line) = state.pending.insert(id.clone(), step.line)
                {
                    self.error(
                        step,
                        format!("async id `{id}` is already pending (line {line})"),
                    );
                }
            }
            Action::Await { id, expect } => {
                if state.pending.remove(id).is_none() {
                    self.error(
                        step,
                        format!("`await: {id}` has no earlier pending `http` with `async: {id}`"),
                    );
                }
                response_patterns(expect.as_ref(), &mut patterns);
            }
            Action::WsOpen {
                conn,
                target,
                headers,
                expect,
            } => {
                target_reads(target, &mut reads);
                for (_, value) in headers {
                    reads.extend(value.variables().map(str::to_owned));
                }
                response_patterns(expect.as_ref(), &mut patterns);
                state.conns.insert(conn.clone());
            }
            Action::Open {
                conn,
                query,
                expect,
            } => {
                if let Some(query) = query {
                    reads.extend(query.variables().map(str::to_owned));
                }
                patterns.extend(expect.iter().map(|packet| packet.to_pattern()));
                state.conns.insert(conn.clone());
            }
            Action::Send { conn, payload } => {
                self.need_conn(step, conn, state);
                match payload {
                    Outbound::Eio(packet) => {
                        if let Some(EioData::Text(text)) = &packet.data {
                            reads.extend(text.variables().map(str::to_owned));
                        }
                    }
                    Outbound::Sio(packet) => {
                        for value in packet.id.iter().chain(&packet.data) {
                            match value_variables(value) {
                                Ok(names) => reads.extend(names),
                                Err(err) => self.error(step, err.to_string()),
                            }
                        }
                    }
                    Outbound::Text(text) => reads.extend(text.variables().map(str::to_owned)),
                    Outbound::Binary(_) => {}
                }
            }
            Action::Expect { conn, expected } => {
                self.need_conn(step, conn, state);
                patterns.extend(inbound_pattern(expected));
            }
            Action::ExpectNone { conn, duration } => {
                self.need_conn(step, conn, state);
                reads.extend(duration.variables().map(str::to_owned));
            }
            Action::Close { conn, .. } => self.need_conn(step, conn, state),
            Action::Sleep { duration } => reads.extend(duration.variables().map(str::to_owned)),
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
        for pattern in &patterns {
            reads.extend(pattern.variables());
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
