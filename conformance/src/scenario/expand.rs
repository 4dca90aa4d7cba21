//! `use:` inlining and transport-axis expansion.

use std::collections::BTreeMap;

use super::error::Sink;
use super::model::{Action, Case, CaseInstance, Fragment, Step, Suite};

/// Inlines every `use:` in `steps`, recursively; unknown fragments and cycles are reported at
/// the `use:` step that causes them.
pub(super) fn inline_fragments(
    steps: &[Step],
    fragments: &BTreeMap<String, Fragment>,
    sink: &mut Sink<'_>,
) -> Vec<Step> {
    let mut out = Vec::new();
    inline_into(steps, fragments, &mut Vec::new(), sink, &mut out);
    out
}

fn inline_into(
    steps: &[Step],
    fragments: &BTreeMap<String, Fragment>,
    stack: &mut Vec<String>,
    sink: &mut Sink<'_>,
    out: &mut Vec<Step>,
) {
    for step in steps {
        match &step.action {
            Action::Use { fragment } => {
                if stack.contains(fragment) {
                    let cycle: Vec<&str> = stack
                        .iter()
                        .skip_while(|name| *name != fragment)
                        .map(String::as_str)
                        .chain([fragment.as_str()])
                        .collect();
                    sink.error(
                        step.line,
                        step.column,
                        format!("fragment cycle: {}", cycle.join(" -> ")),
                    );
                    continue;
                }
                let Some(body) = fragments.get(fragment) else {
                    let known: Vec<&str> = fragments.keys().map(String::as_str).collect();
                    sink.error(
                        step.line,
                        step.column,
                        format!(
                            "unknown fragment `{fragment}` (defined: {})",
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                    continue;
                };
                stack.push(fragment.clone());
                let start = out.len();
                inline_into(&body.steps, fragments, stack, sink, out);
                stack.pop();
                for inlined in &mut out[start..] {
                    inlined.included_from.insert(0, step.line);
                }
            }
            Action::Repeat { times, steps: body } => {
                let mut copy = step.clone();
                let mut inner = Vec::new();
                inline_into(body, fragments, stack, sink, &mut inner);
                copy.action = Action::Repeat {
                    times: *times,
                    steps: inner,
                };
                out.push(copy);
            }
            Action::Unordered { steps: body } => {
                let mut copy = step.clone();
                let mut inner = Vec::new();
                inline_into(body, fragments, stack, sink, &mut inner);
                copy.action = Action::Unordered { steps: inner };
                out.push(copy);
            }
            _ => out.push(step.clone()),
        }
    }
}

/// Visits every step, children included.
pub(super) fn walk<'a>(steps: &'a [Step], visit: &mut dyn FnMut(&'a Step)) {
    for step in steps {
        visit(step);
        if let Action::Repeat { steps: body, .. } | Action::Unordered { steps: body } = &step.action
        {
            walk(body, visit);
        }
    }
}

/// Whether any step (children included) is a transport-neutral `open`.
pub(super) fn has_open(steps: &[Step]) -> bool {
    let mut found = false;
    walk(steps, &mut |step| {
        found |= matches!(step.action, Action::Open { .. })
    });
    found
}

/// The instances of one case, given its inlined steps.
pub(super) fn instances(suite: &Suite, case: &Case, steps: Vec<Step>) -> Vec<CaseInstance> {
    let case_id = format!("{}/{}", suite.suite, case.id);
    let mut requires: Vec<String> = Vec::new();
    for capability in suite.defaults.requires.iter().chain(&case.requires) {
        if !requires.contains(capability) {
            requires.push(capability.clone());
        }
    }
    let base = CaseInstance {
        id: case_id.clone(),
        case_id: case_id.clone(),
        suite: suite.suite.clone(),
        title: case.title.clone(),
        level: case.level.unwrap_or(suite.defaults.level),
        spec: case.spec.clone(),
        spec_base_url: suite.spec_base_url.clone(),
        official: case.official.clone(),
        requires,
        serial: case.serial,
        heartbeat: case.heartbeat.unwrap_or(suite.defaults.heartbeat),
        transport: None,
        path: suite.defaults.path.clone(),
        step_timeout: suite.defaults.step_timeout.clone(),
        steps,
        file: suite.file.clone(),
        line: case.line,
    };
    if !has_open(&base.steps) {
        return vec![base];
    }
    let transports = case
        .transports
        .as_ref()
        .unwrap_or(&suite.defaults.transports);
    transports
        .iter()
        .map(|transport| CaseInstance {
            id: format!("{case_id}[transport={}]", transport.name()),
            transport: Some(*transport),
            ..base.clone()
        })
        .collect()
}
