//! `conformance probe`: which capabilities a server has, found by running small probe cases
//! (`fixtures/probe/capabilities.yaml`), written as a profile that `run --profile` reads.
//! The profile and how probe results make one: [`crate::profile`].

use super::args::{ClientArgs, ServerArgs};
use super::common;
use crate::engine::{RunSettings, Verdict};
use crate::exit;
use crate::fixture::Suite;
use crate::profile::Profile;
use crate::runner::{self, Selection};
use clap::Args;

/// Options of `probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The server under test.
    #[command(flatten)]
    pub server: ServerArgs,
    /// How the runner talks to the server.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The probe cases (default: the built-in `fixtures/probe/capabilities.yaml`).
    #[arg(long, value_name = "FILE")]
    pub probes: Option<std::path::PathBuf>,
    /// Write the profile (conformance.profile/v1) here; `run --profile` reads it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// `conformance probe`.
pub fn probe(args: &ProbeArgs) -> u8 {
    let suite = match crate::fixture::builtin::load_probes(args.probes.as_deref()) {
        Ok(suite) => suite,
        Err(e) => {
            for diagnostic in &e.diagnostics {
                eprintln!("error: {diagnostic}");
            }
            return exit::USAGE;
        }
    };
    let settings = match common::settings(&args.server.target, &args.client) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    common::block_on(async {
        common::with_server(
            &args.server,
            &settings,
            probe_and_write(args, &suite, &settings),
        )
        .await
        .unwrap_or_else(|code| code)
    })
}

async fn probe_and_write(args: &ProbeArgs, suite: &Suite, settings: &RunSettings) -> u8 {
    if let Err(code) = common::reachable(settings, &args.server.target).await {
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
