//! Root causes: the failing cases grouped by the finding that ended them, for the console
//! report and the library's callers.

use crate::engine::{CaseResult, Verdict};

/// Failing cases that share one root cause: the finding that ended them says the same thing
/// (ids, durations and other numbers aside), whether a case's own step saw it or a shared
/// setup step blocked the case before its own behaviour was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCause {
    /// The finding, as the first case of the group says it (without `blocked by …:`).
    pub finding: String,
    /// The cases whose own steps saw it: the cases about this behaviour.
    pub own: Vec<String>,
    /// The cases blocked by it in a setup step, with the setup (`setup \`polling-handshake\``).
    pub blocked: Vec<(String, String)>,
}

impl RootCause {
    /// How many cases the cause explains.
    #[must_use]
    pub fn cases(&self) -> usize {
        self.own.len() + self.blocked.len()
    }
}

/// The FAIL and ERROR cases grouped by root cause, the largest group first.
#[must_use]
pub fn root_causes(results: &[CaseResult]) -> Vec<RootCause> {
    let mut groups: Vec<(String, RootCause)> = Vec::new();
    for result in results {
        if !matches!(result.verdict, Verdict::Fail | Verdict::Error) {
            continue;
        }
        let Some(finding) = result.findings.iter().find(|f| f.verdict == result.verdict) else {
            continue;
        };
        let mut text = match &finding.blocked_by {
            Some(setup) => finding
                .message
                .strip_prefix(&format!("blocked by {setup}: "))
                .unwrap_or(&finding.message),
            None => finding.message.as_str(),
        };
        // `repeat` and `unordered` name the inner step's line first: the same finding.
        while let Some(rest) = text.strip_prefix("line ") {
            match rest.split_once(": ") {
                Some((line, inner)) if line.bytes().all(|b| b.is_ascii_digit()) => text = inner,
                _ => break,
            }
        }
        let key = without_numbers(text);
        let index = match groups.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                groups.push((
                    key,
                    RootCause {
                        finding: text.to_owned(),
                        own: Vec::new(),
                        blocked: Vec::new(),
                    },
                ));
                groups.len() - 1
            }
        };
        let group = &mut groups[index].1;
        let id = result.instance.id.clone();
        match &finding.blocked_by {
            Some(setup) => group.blocked.push((id, setup.clone())),
            None => group.own.push(id),
        }
    }
    let mut causes: Vec<RootCause> = groups.into_iter().map(|(_, cause)| cause).collect();
    causes.sort_by_key(|cause| std::cmp::Reverse(cause.cases()));
    causes
}

/// `text` with every run of digits (a duration, a count, an id's digits) replaced by `#`.
fn without_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('#');
                in_number = true;
            }
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}
