//! Server profiles (`conformance.profile/v1`): which capabilities a server has, as
//! `conformance probe` finds them and `run --profile` reads them.
//!
//! A probe case instance that PASSes demonstrates the capabilities its case `provides` (only
//! those: an instance needs its revision and transport to run, but passing over WebSocket
//! does not tell Engine.IO 3 from 4, so the probes say what they show). Probes run in two rounds: the
//! cases without `requires` first (revisions, transports, the echo endpoint, the `auth` event
//! every Socket.IO probe depends on), then the others with the capabilities the first round
//! did not find declared missing, so that a server without `auth-echo` shows one cause rather
//! than a dozen failed probes. A capability is supported when any instance demonstrates it;
//! it is unsupported when the probe knows it and no instance does, with the first reason seen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::{CaseResult, Verdict};

/// The profile's schema tag.
pub const SCHEMA: &str = "conformance.profile/v1";

/// What `probe` found: capability → evidence (the probe case that passed) or reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The server probed.
    pub target: String,
    /// Capabilities shown, each with the probe instance that showed it.
    pub supported: BTreeMap<String, String>,
    /// Capabilities the probe knows but could not show, each with why.
    pub unsupported: BTreeMap<String, String>,
}

impl Profile {
    /// Parses a profile file.
    ///
    /// # Errors
    /// Invalid YAML, or another schema.
    pub fn parse(text: &str) -> Result<Self, String> {
        crate::expected::parse_tagged(text, SCHEMA, |profile: &Self| &profile.schema)
    }

    /// The profile shown by these probe results.
    #[must_use]
    pub fn from_results(target: &str, results: &[CaseResult]) -> Self {
        let mut supported = BTreeMap::new();
        for result in results.iter().filter(|r| r.verdict == Verdict::Pass) {
            for capability in &result.instance.provides {
                supported
                    .entry(capability.clone())
                    .or_insert_with(|| result.instance.id.clone());
            }
        }
        // Why a capability was not shown: the instance that matters most says it. Instances on
        // an Engine.IO revision and transport the server has come first (`broadcast` on a
        // v4-only server is about the v4 instance, not the v3 one), and among those one that
        // ran and missed before one that was not probed for lack of another capability.
        let mut reasons: BTreeMap<String, (u8, String)> = BTreeMap::new();
        for result in results.iter().filter(|r| r.verdict != Verdict::Pass) {
            let instance = &result.instance;
            let why = result
                .findings
                .first()
                .map_or_else(|| result.verdict.to_string(), |f| f.message.clone());
            let axis_missing = instance
                .requires
                .iter()
                .any(|c| AXES.contains(&c.as_str()) && !supported.contains_key(c));
            let not_run = matches!(result.verdict, Verdict::Unsupported | Verdict::Skipped);
            let rank = u8::from(axis_missing) * 2 + u8::from(not_run);
            for capability in &instance.provides {
                let text = format!("{} {}: {why}", result.verdict, instance.id);
                match reasons.get(capability) {
                    Some((best, _)) if *best <= rank => {}
                    _ => {
                        reasons.insert(capability.clone(), (rank, text));
                    }
                }
            }
        }
        let mut reasons: BTreeMap<String, String> = reasons
            .into_iter()
            .map(|(capability, (_, text))| (capability, text))
            .collect();
        reasons.retain(|capability, _| !supported.contains_key(capability));
        Self {
            schema: SCHEMA.to_owned(),
            target: target.to_owned(),
            supported,
            unsupported: reasons,
        }
    }
}

/// The capabilities that are a protocol revision or a transport, not a contract feature.
const AXES: [&str; 4] = ["eio3", "eio4", "polling", "websocket"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Finding;
    use crate::fixture::Suite;
    use crate::transport::transcript::Transcript;
    use std::time::Duration;

    fn result(suite: &Suite, id: &str, verdict: Verdict, why: &str) -> CaseResult {
        let instance = suite
            .instances
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("no probe instance {id}"))
            .clone();
        let findings = match verdict {
            Verdict::Pass => Vec::new(),
            _ => vec![Finding {
                verdict,
                line: instance.line,
                message: why.to_owned(),
                expected: None,
                actual: None,
                timing: false,
                blocked_by: None,
            }],
        };
        CaseResult {
            instance,
            verdict,
            findings,
            duration: Duration::ZERO,
            transcript: Transcript::new(),
            recorded: Vec::new(),
        }
    }

    /// On a v4-only server the v3 instance of a probe cannot run; the reason a capability is
    /// missing is the one of the instance on the revision the server has, whatever the order.
    #[test]
    fn a_missing_capability_is_explained_by_an_instance_the_server_could_run() {
        let suite = crate::fixture::builtin::load_probes(None).expect("the built-in probes load");
        for order in [false, true] {
            let mut results = vec![
                result(&suite, "probe/eio4[transport=polling]", Verdict::Pass, ""),
                result(
                    &suite,
                    "probe/eio3[transport=polling]",
                    Verdict::Fail,
                    "the handshake was refused",
                ),
                result(
                    &suite,
                    "probe/broadcast[eio=3,transport=websocket]",
                    Verdict::Unsupported,
                    "the target lacks capability `eio3`",
                ),
                result(
                    &suite,
                    "probe/broadcast[eio=4,transport=websocket]",
                    Verdict::Fail,
                    "no all-message",
                ),
            ];
            if order {
                results.reverse();
            }
            let profile = Profile::from_results("http://x", &results);
            assert_eq!(
                profile.unsupported["broadcast"],
                "FAIL probe/broadcast[eio=4,transport=websocket]: no all-message"
            );
            assert_eq!(
                profile.unsupported["eio3"],
                "FAIL probe/eio3[transport=polling]: the handshake was refused"
            );
            assert!(profile.supported.contains_key("eio4"));
        }
    }
}
