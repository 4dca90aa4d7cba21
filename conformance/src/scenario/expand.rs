//! `use:` inlining and expansion over the Engine.IO and transport axes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::Sink;
use super::model::{Action, Case, CaseInstance, Fragment, Step, Suite, Transport};

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
                    inlined.setup = Some(fragment.clone());
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

/// The steps kept for Engine.IO revision `eio`: those without `when: {eio: …}` and those whose
/// list names it, children included.
fn for_eio(steps: &[Step], eio: u8) -> Vec<Step> {
    steps
        .iter()
        .filter(|step| {
            step.when_eio
                .as_ref()
                .is_none_or(|only| only.contains(&eio))
        })
        .map(|step| {
            let mut step = step.clone();
            if let Action::Repeat { steps: body, .. } | Action::Unordered { steps: body } =
                &mut step.action
            {
                *body = for_eio(body, eio);
            }
            step
        })
        .collect()
}

/// The instances of one case, given its inlined steps: one per Engine.IO revision of the axis
/// (steps filtered by `when`), times one per transport when the case has an `open` step.
/// `validate` sees each distinct filtered step list once.
pub(super) fn instances(
    suite: &Suite,
    case: &Case,
    steps: &[Step],
    mut validate: impl FnMut(&[Step]),
) -> Vec<CaseInstance> {
    let case_id = format!("{}/{}", suite.suite, case.id);
    let axis = case.eio.as_ref().unwrap_or(&suite.defaults.eio);
    let mut validated: Vec<Vec<Step>> = Vec::new();
    let mut out = Vec::new();
    for &eio in axis {
        let steps = for_eio(steps, eio);
        if !validated.contains(&steps) {
            validate(&steps);
            validated.push(steps.clone());
        }
        // Every instance needs its Engine.IO revision (`eio3`, `eio4`) and, with an `open`
        // step, its transports, besides the suite's and the case's capabilities.
        let requires = |transport: Option<Transport>| -> Vec<String> {
            let transports: &[&str] = match transport {
                None => &[],
                Some(Transport::Polling) => &["polling"],
                Some(Transport::Websocket) => &["websocket"],
                Some(Transport::Upgrade) => &["polling", "websocket"],
            };
            let mut out: Vec<String> = vec![format!("eio{eio}")];
            let named = transports.iter().map(|t| (*t).to_owned());
            for capability in named.chain(
                suite
                    .defaults
                    .requires
                    .iter()
                    .chain(&case.requires)
                    .cloned(),
            ) {
                if !out.contains(&capability) {
                    out.push(capability);
                }
            }
            out
        };
        let axis_label = (axis.len() > 1).then(|| format!("eio={eio}"));
        let base = CaseInstance {
            id: case_id.clone(),
            case_id: case_id.clone(),
            suite: suite.suite.clone(),
            title: case.title.clone(),
            level: case.level.unwrap_or(suite.defaults.level),
            spec: case.spec.clone(),
            spec_base_url: suite.spec_base_url.clone(),
            official: case.official.clone(),
            requires: requires(None),
            provides: case.provides.clone(),
            serial: case.serial,
            heartbeat: case.heartbeat.unwrap_or(suite.defaults.heartbeat),
            transport: None,
            eio,
            path: case.path.clone().or_else(|| suite.defaults.path.clone()),
            layer: case.layer.unwrap_or(suite.defaults.layer),
            step_timeout: suite.defaults.step_timeout.clone(),
            steps,
            file: suite.file.clone(),
            source: Arc::clone(&suite.source),
            line: case.line,
        };
        if !has_open(&base.steps) {
            out.push(CaseInstance {
                id: axis_label
                    .map_or_else(|| case_id.clone(), |label| format!("{case_id}[{label}]")),
                ..base
            });
            continue;
        }
        let transports = case
            .transports
            .as_ref()
            .unwrap_or(&suite.defaults.transports);
        for transport in transports {
            let labels: Vec<String> = axis_label
                .iter()
                .cloned()
                .chain([format!("transport={}", transport.name())])
                .collect();
            out.push(CaseInstance {
                id: format!("{case_id}[{}]", labels.join(",")),
                transport: Some(*transport),
                requires: requires(Some(*transport)),
                ..base.clone()
            });
        }
    }
    out
}
