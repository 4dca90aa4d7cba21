//! `conformance run --expect FILE`: a server's known deviations, committed next to it.
//!
//! ```yaml
//! schema: conformance.expected/v1
//! server: python-socketio 5.14.3 (contract-apps/python-socketio)
//! cases:
//!   eio4/message/polling-one-text-packet:
//!     verdict: FAIL
//!     reason: the POST is answered `OK`, the spec's example and the reference say `ok`
//! ```
//!
//! Every case instance that ran (SKIPPED ones did not) is expected to PASS unless listed;
//! UNSUPPORTED needs no entry either, since it comes from the run's own declaration
//! (`--without`, `--profile`), not from the server's behaviour;
//! the run succeeds when each verdict is the expected one, and fails on any difference in
//! either direction (a deviation that got fixed must leave the file too), or when an entry
//! names no case at all.

use crate::engine::{CaseResult, Verdict};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The file's schema tag.
pub const SCHEMA: &str = "conformance.expected/v1";

/// One expected deviation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The verdict the case gets on this server, or the verdicts it may get when the server
    /// is racy there (say so in the reason).
    pub verdict: OneOrMany,
    /// Why (shown on a mismatch, and in the compatibility matrix).
    pub reason: String,
}

/// The verdicts an expected-results file may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum ExpectedVerdict {
    /// See [`Verdict::Pass`].
    Pass,
    /// See [`Verdict::NonStrict`].
    NonStrict,
    /// See [`Verdict::Fail`].
    Fail,
    /// See [`Verdict::Unsupported`].
    Unsupported,
}

impl From<ExpectedVerdict> for Verdict {
    fn from(v: ExpectedVerdict) -> Self {
        match v {
            ExpectedVerdict::Pass => Self::Pass,
            ExpectedVerdict::NonStrict => Self::NonStrict,
            ExpectedVerdict::Fail => Self::Fail,
            ExpectedVerdict::Unsupported => Self::Unsupported,
        }
    }
}

/// `verdict: FAIL` or `verdict: [FAIL, PASS]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// The only verdict.
    One(ExpectedVerdict),
    /// Any of these.
    Many(Vec<ExpectedVerdict>),
}

impl OneOrMany {
    /// Whether `verdict` is expected.
    pub fn allows(&self, verdict: Verdict) -> bool {
        match self {
            Self::One(v) => Verdict::from(*v) == verdict,
            Self::Many(vs) => vs.iter().any(|v| Verdict::from(*v) == verdict),
        }
    }

    fn names(&self) -> String {
        match self {
            Self::One(v) => Verdict::from(*v).to_string(),
            Self::Many(vs) => vs
                .iter()
                .map(|v| Verdict::from(*v).to_string())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// A YAML file of the runner's own formats (expected results, baselines, profiles): parsed,
/// and refused unless its `schema:` tag, read by `tag`, is `schema`.
pub(crate) fn parse_tagged<T: serde::de::DeserializeOwned>(
    text: &str,
    schema: &str,
    tag: impl Fn(&T) -> &str,
) -> Result<T, String> {
    let file: T = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    if tag(&file) != schema {
        return Err(format!(
            "unsupported schema `{}` (expected `{schema}`)",
            tag(&file)
        ));
    }
    Ok(file)
}

/// An expected-results file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// [`SCHEMA`].
    pub schema: String,
    /// The server the file describes.
    pub server: String,
    /// Case instance id → its deviation.
    #[serde(default)]
    pub cases: BTreeMap<String, Expectation>,
}

impl Expected {
    /// Parses an expected-results file.
    ///
    /// # Errors
    /// The YAML error, or a wrong schema tag.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_tagged(text, SCHEMA, |expected: &Self| &expected.schema)
    }

    /// Every difference between `results` and this file, one line each.
    pub fn compare(&self, results: &[CaseResult]) -> Vec<String> {
        let mut problems = Vec::new();
        for result in results {
            let id = &result.instance.id;
            let declared = result.verdict == Verdict::Unsupported && !self.cases.contains_key(id);
            if result.verdict == Verdict::Skipped || declared {
                continue;
            }
            let (allowed, expected, reason) = match self.cases.get(id) {
                Some(e) => (
                    e.verdict.allows(result.verdict),
                    e.verdict.names(),
                    e.reason.as_str(),
                ),
                None => (result.verdict == Verdict::Pass, "PASS".into(), "not listed"),
            };
            if !allowed {
                problems.push(format!(
                    "{id}: expected {expected} ({reason}), got {}",
                    result.verdict
                ));
            }
        }
        for id in self.cases.keys() {
            if !results.iter().any(|r| &r.instance.id == id) {
                problems.push(format!("{id}: listed, but no such case"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_unknown_schemas_and_verdicts() {
        let ok = "schema: conformance.expected/v1\nserver: x\ncases:\n  a/b:\n    verdict: NON-STRICT\n    reason: why\n";
        let expected = Expected::parse(ok).unwrap();
        assert!(expected.cases["a/b"].verdict.allows(Verdict::NonStrict));
        assert!(!expected.cases["a/b"].verdict.allows(Verdict::Pass));
        let racy = Expected::parse(&ok.replace("NON-STRICT", "[FAIL, PASS]")).unwrap();
        assert!(racy.cases["a/b"].verdict.allows(Verdict::Pass));
        assert!(racy.cases["a/b"].verdict.allows(Verdict::Fail));
        assert!(Expected::parse(&ok.replace("v1", "v9")).is_err());
        assert!(Expected::parse(&ok.replace("NON-STRICT", "SKIPPED")).is_err());
        assert!(Expected::parse(&ok.replace("reason", "because")).is_err());
    }
}
