//! `conformance probe`: which capabilities a server has, found by running small probe cases
//! (`fixtures/probe/capabilities.yaml`), written as a profile that `run --profile` reads.
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

use crate::cli::{ProbeArgs, exit};
use crate::engine::{CaseResult, RunSettings, Verdict};
use crate::run_command;
use crate::runner::{self, Selection};
use crate::scenario::Suite;

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

/// `conformance probe`.
pub fn probe(args: &ProbeArgs) -> u8 {
    let suite = match crate::fixtures::load_probes(args.probes.as_deref()) {
        Ok(suite) => suite,
        Err(e) => {
            for diagnostic in &e.diagnostics {
                eprintln!("error: {diagnostic}");
            }
            return exit::USAGE;
        }
    };
    let settings = match run_command::settings(&args.server.target, &args.client) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    run_command::block_on(async {
        run_command::with_server(
            &args.server,
            &settings,
            probe_and_write(args, &suite, &settings),
        )
        .await
        .unwrap_or_else(|code| code)
    })
}

async fn probe_and_write(args: &ProbeArgs, suite: &Suite, settings: &RunSettings) -> u8 {
    if let Err(code) = run_command::reachable(settings, &args.server.target).await {
        return code;
    }
    // The instances a round ran (the others are SKIPPED by its selection).
    let run = async |selection: &Selection| {
        let suites = std::slice::from_ref(suite);
        let mut ran = runner::run(suites, selection, settings, args.client.parallel, &|_| {}).await;
        ran.retain(|r| r.verdict != Verdict::Skipped);
        ran
    };
    // Round 1: the probes that need nothing but their revision and transport.
    let independent: Vec<String> = suite
        .cases
        .iter()
        .filter(|case| case.requires.is_empty())
        .map(|case| format!("{}/{}", suite.suite, case.id))
        .collect();
    let first = Selection {
        run: independent.clone(),
        ..Selection::default()
    };
    let mut results = run(&first).await;
    // Round 2: the others, with what round 1 did not show declared missing.
    let found = Profile::from_results(&args.server.target, &results);
    let second = Selection {
        skip: independent,
        without: found.unsupported.keys().cloned().collect(),
        ..Selection::default()
    };
    let mut more = run(&second).await;
    for result in &mut more {
        if result.verdict == Verdict::Unsupported
            && let Some(finding) = result.findings.first_mut()
        {
            finding.message = format!("not probed: {}", finding.message);
        }
    }
    results.extend(more);
    let profile = Profile::from_results(&args.server.target, &results);

    for (capability, evidence) in &profile.supported {
        println!("yes  {capability:<22} {evidence}");
    }
    for (capability, reason) in &profile.unsupported {
        println!("no   {capability:<22} {reason}");
    }
    println!(
        "{} capabilities supported, {} unsupported",
        profile.supported.len(),
        profile.unsupported.len()
    );
    if let Some(path) = &args.out {
        let text = match serde_saphyr::to_string(&profile) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: cannot write the profile: {e}");
                return exit::HARNESS;
            }
        };
        let header = format!(
            "# Written by `conformance probe` ({} probe instances); `conformance run --profile`\n\
             # treats every `unsupported` capability as `--without`.\n",
            results.len()
        );
        if let Err(e) = std::fs::write(path, header + &text) {
            eprintln!("error: writing {}: {e}", path.display());
            return exit::HARNESS;
        }
    }
    if results.iter().any(|r| r.verdict == Verdict::Error) {
        exit::HARNESS
    } else {
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Finding;
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
        let suite = crate::fixtures::load_probes(None).expect("the built-in probes load");
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
