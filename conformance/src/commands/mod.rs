//! The command layer: one module per subcommand of `conformance`, each with its clap
//! options, its printing and its exit codes, over the core (fixtures, runner, engine, report).
//! This module only defines the command line and dispatches to them; they never import it
//! back (see ARCHITECTURE.md and `scripts/module-layers.py`).

pub mod args;
pub mod codec;
pub mod common;
pub mod coverage;
pub mod diff;
pub mod explain;
pub mod fixtures;
pub mod lint;
pub mod list;
pub mod mutants;
pub mod probe;
pub mod record;
pub mod run;

use crate::exit;
use clap::{Parser, Subcommand};

/// Conformance runner and codec tools for the Engine.IO / Socket.IO wire protocol.
#[derive(Debug, Parser)]
#[command(name = "conformance", version, long_version = crate::fixture::builtin::long_version(), about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode frames, a polling payload or bare Socket.IO packets; print one JSON object per
    /// packet (the golden-vector `input` shape).
    Decode(codec::WireArgs),
    /// Encode packets given as JSON (the golden-vector `input` shape); print the wire form.
    Encode(codec::WireArgs),
    /// Run the conformance cases against a server.
    Run(Box<run::RunArgs>),
    /// Find which capabilities (Engine.IO revisions, transports, namespaces, contract
    /// handlers) a server has; write them as a profile for `run --profile`.
    Probe(Box<probe::ProbeArgs>),
    /// Run the same cases against two servers and report where their behaviour differs,
    /// verdicts and wire traffic (exit 0: none, 1: differences).
    Diff(Box<diff::DiffArgs>),
    /// One case for a bug report: what it checks (spec quotes, fixture text) and its last run
    /// (findings, transcript); `--repro` prints shell commands that replay it.
    Explain(explain::ExplainArgs),
    /// Run a draft fixture against a reference server and write it with every
    /// `- record: {conn: c}` step replaced by the expectation of what arrived.
    Record(Box<record::RecordArgs>),
    /// List the cases: id, level, spec reference.
    List(list::ListArgs),
    /// Check the fixtures for weaknesses: unused captures, unchecked sends, waits without a
    /// deadline, hard-coded durations, cases without a spec reference (exit 1 on findings).
    Lint(lint::LintArgs),
    /// The built-in contract server with deliberate defects (mutants), and the kill matrix:
    /// which cases catch which defect.
    Mutants(mutants::MutantsArgs),
    /// The spec coverage map: every normative statement of the protocol documents and every
    /// official test, with the cases that check it and the mutants that prove those cases can
    /// fail (exit 1: an observable MUST without a case or a mutant).
    Coverage(coverage::CoverageArgs),
    /// The files built into this binary (suites, probes, spec catalogue, contract): list them,
    /// or export them to edit and run with `--fixtures`.
    Fixtures(fixtures::FixturesArgs),
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    let stdin = &mut std::io::stdin().lock();
    let stdout = &mut std::io::stdout().lock();
    let client = match &cli.command {
        Command::Run(args) => Some(&args.options.client),
        Command::Probe(args) => Some(&args.client),
        Command::Record(args) => Some(&args.options.client),
        Command::Diff(args) => Some(&args.options.client),
        _ => None,
    };
    if let Some(client) = client {
        crate::transport::Limits::set_default(client.limits());
    }
    let result = match &cli.command {
        Command::Decode(args) => codec::decode(args.options(), &args.inputs, stdin, stdout),
        Command::Encode(args) => codec::encode(args.options(), &args.inputs, stdin, stdout),
        Command::Run(args) => return run::run(args),
        Command::Probe(args) => return probe::probe(args),
        Command::Diff(args) => return diff::diff(args),
        Command::Explain(args) => return explain::explain(args),
        Command::Record(args) => return record::record(args),
        Command::List(args) => return list::list(args),
        Command::Lint(args) => return lint::lint(args),
        Command::Mutants(args) => return mutants::run(args),
        Command::Coverage(args) => return coverage::coverage(args),
        Command::Fixtures(args) => return fixtures::fixtures(args),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {}", e.0);
            exit::USAGE
        }
    }
}
