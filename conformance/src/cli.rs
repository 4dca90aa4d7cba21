//! Command-line interface: argument definitions and dispatch to exit codes.

use crate::codec_commands::{self, WireOptions};
use clap::{Args, Parser, Subcommand};

/// Exit codes: never a count.
pub mod exit {
    /// Success: no unexpected failure.
    pub const OK: u8 = 0;
    /// At least one case failed.
    pub const FAILURES: u8 = 1;
    /// Usage error, invalid fixture, invalid input.
    pub const USAGE: u8 = 2;
    /// The target is unreachable, or the harness failed.
    pub const HARNESS: u8 = 3;
    /// `--known-failing`: no new failure, but an entry went stale (its cases pass now).
    pub const STALE_BASELINE: u8 = 4;
    /// The run was stopped (SIGINT, SIGTERM, `--max-run-duration`) before its end.
    pub const INTERRUPTED: u8 = 5;
}

/// Conformance runner and codec tools for the Engine.IO / Socket.IO wire protocol.
#[derive(Debug, Parser)]
#[command(name = "conformance", version, long_version = crate::fixtures::long_version(), about)]
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
    Decode(WireArgs),
    /// Encode packets given as JSON (the golden-vector `input` shape); print the wire form.
    Encode(WireArgs),
    /// Run the conformance cases against a server.
    Run(Box<RunArgs>),
    /// Find which capabilities (Engine.IO revisions, transports, namespaces, contract
    /// handlers) a server has; write them as a profile for `run --profile`.
    Probe(Box<ProbeArgs>),
    /// Run the same cases against two servers and report where their behaviour differs,
    /// verdicts and wire traffic (exit 0: none, 1: differences).
    Diff(Box<DiffArgs>),
    /// One case for a bug report: what it checks (spec quotes, fixture text) and its last run
    /// (findings, transcript); `--repro` prints shell commands that replay it.
    Explain(ExplainArgs),
    /// Run a draft fixture against a reference server and write it with every
    /// `- record: {conn: c}` step replaced by the expectation of what arrived.
    Record(Box<RecordArgs>),
    /// List the cases: id, level, spec reference.
    List(ListArgs),
    /// Check the fixtures for weaknesses: unused captures, unchecked sends, waits without a
    /// deadline, hard-coded durations, cases without a spec reference (exit 1 on findings).
    Lint(crate::lint::LintArgs),
    /// The built-in contract server with deliberate defects (mutants), and the kill matrix:
    /// which cases catch which defect.
    Mutants(crate::mutants::MutantsArgs),
    /// The spec coverage map: every normative statement of the protocol documents and every
    /// official test, with the cases that check it and the mutants that prove those cases can
    /// fail (exit 1: an observable MUST without a case or a mutant).
    Coverage(crate::coverage::CoverageArgs),
    /// The files built into this binary (suites, probes, spec catalogue, contract): list them,
    /// or export them to edit and run with `--fixtures`.
    Fixtures(crate::fixtures::FixturesArgs),
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The server under test.
    #[command(flatten)]
    pub server: ServerArgs,
    /// The suites: the built-in ones unless `--fixtures` replaces them.
    #[command(flatten)]
    pub fixtures: crate::fixtures::FixtureArgs,
    /// Which cases run, how the runner talks to the server, when the run stops.
    #[command(flatten)]
    pub options: RunOptions,
    /// Report to write (repeatable): `json=PATH`, `junit=PATH`, `html=PATH` (one
    /// self-contained page), `tap=PATH` (TAP 14), `github` (GitHub Actions annotations on
    /// stdout, job summary into `$GITHUB_STEP_SUMMARY`) or `github=PATH` (summary into PATH).
    #[arg(long, value_name = "KIND[=PATH]")]
    pub report: Vec<String>,
    /// Show wire transcripts for failing cases, all cases, or none.
    #[arg(long, value_enum, default_value_t = crate::report::Trace::Failing)]
    pub trace: crate::report::Trace,
    /// Write one JSONL transcript per traced case into this directory.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<std::path::PathBuf>,
    /// Treat NON-STRICT as a failure for the exit code.
    #[arg(long)]
    pub strict: bool,
    /// The server's known deviations (case id → verdict + reason): the run succeeds when the
    /// verdicts are exactly these (unlisted cases PASS), and fails on any difference.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<std::path::PathBuf>,
    /// A baseline of accepted failures (`conformance.known-failing/v1`: case or step
    /// patterns, reason, optional expiry): only other failures fail the run (exit 1), as does
    /// an expired entry; an entry whose cases all pass is stale (exit 4).
    #[arg(long, value_name = "FILE", conflicts_with = "expect")]
    pub known_failing: Option<std::path::PathBuf>,
}

/// What selects and shapes a run, the same on `run`, `diff` and `record`: which cases, how
/// the runner talks to the server, when the run stops.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Which cases run.
    #[command(flatten)]
    pub select: SelectArgs,
    /// How the runner talks to the server.
    #[command(flatten)]
    pub client: ClientArgs,
    /// Stop the run after this long (like SIGINT/SIGTERM: the cases not run are ERROR, the
    /// reports are written and marked interrupted, exit 5).
    #[arg(long, value_name = "DURATION")]
    pub max_run_duration: Option<String>,
    /// After this many cases in a row got no response at all, the target is lost: the rest
    /// are ERROR (0: never).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub lost_after: usize,
}

/// Which cases run (`run`, `diff`, `record`).
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Only these suites (comma-separated: eio4,sio5).
    #[arg(long, value_delimiter = ',')]
    pub suite: Vec<String>,
    /// Only instances on these Engine.IO revisions (comma-separated: 3,4); a server that does
    /// not speak one at all is better described by `--without eio3` (UNSUPPORTED, not SKIPPED).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u8).range(3..=4))]
    pub eio: Vec<u8>,
    /// Only cases whose id matches this glob (`*` within a segment, `**` across); repeatable.
    #[arg(long)]
    pub run: Vec<String>,
    /// Skip cases whose id matches this glob; repeatable.
    #[arg(long)]
    pub skip: Vec<String>,
    /// The target lacks this contract capability: cases requiring it are UNSUPPORTED (with
    /// `diff`: neither server has it, and those cases are not compared).
    #[arg(long, value_name = "CAPABILITY")]
    pub without: Vec<String>,
    /// A profile written by `conformance probe`: its unsupported capabilities count as
    /// `--without`.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<std::path::PathBuf>,
}

impl SelectArgs {
    /// The selection these options describe (`--profile` is read by the runner).
    #[must_use]
    pub fn selection(&self) -> crate::runner::Selection {
        crate::runner::Selection {
            suites: self.suite.clone(),
            eio: self.eio.clone(),
            run: self.run.clone(),
            skip: self.skip.clone(),
            without: self.without.clone(),
        }
    }
}

/// The server under test (`run`, `probe`, `record`).
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The server: `http://host:port` or `https://…`, optionally with a path that replaces
    /// the suites' default paths (`/engine.io/`, `/socket.io/`).
    #[arg(long)]
    pub target: String,
    /// Start the server under test with this shell command before the run and stop it (its
    /// whole process group) after; it must listen where `--target` points.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// With `--exec`: the server is ready when this URL answers a GET with 2xx (default: when
    /// the target accepts connections).
    #[arg(long, value_name = "URL", requires = "exec")]
    pub ready: Option<String>,
    /// With `--exec`: the longest wait for the server to be ready.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub ready_timeout: String,
}

/// How the runner talks to a server: headers, TLS, deadlines, parallelism.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Extra request header `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long)]
    pub insecure: bool,
    /// Trust the certificates of this PEM file in addition to the web PKI roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Default deadline of a step.
    #[arg(long, default_value = "5s")]
    pub timeout: String,
    /// Tolerance added to every timing window (`${slack}`).
    #[arg(long, default_value = "150ms")]
    pub timing_slack: String,
    /// Upper bound of the server's connect timeout (`${connect_timeout}`): the time a server
    /// gives a client to join a namespace.
    #[arg(long, default_value = "45s")]
    pub connect_timeout: String,
    /// Longest a single case may run.
    #[arg(long, default_value = "120s")]
    pub max_case_duration: String,
    /// Cases run at once (timing-sensitive cases always run alone).
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Transcript bound: events kept in full from the start of a case (the ones between the
    /// head and the tail are counted, not kept).
    #[arg(long, default_value_t = 1000, value_name = "EVENTS")]
    pub transcript_head: usize,
    /// Transcript bound: events kept in full from the end of a case.
    #[arg(long, default_value_t = 1000, value_name = "EVENTS")]
    pub transcript_tail: usize,
    /// Transcript bound: bytes the kept events of a case may hold (half head, half tail).
    #[arg(long, default_value = "4MiB", value_parser = parse_size, value_name = "SIZE")]
    pub transcript_max_bytes: usize,
    /// Transcript bound: data of one event kept in the transcript (matching sees it all).
    #[arg(long, default_value = "64KiB", value_parser = parse_size, value_name = "SIZE")]
    pub transcript_max_data: usize,
    /// Transcript bound: bytes the transcripts of the whole run may hold together; beyond, a
    /// case keeps its first 20 events (data cut to 1 KiB) and what fits of its last ones.
    #[arg(long, default_value = "32MiB", value_parser = parse_size, value_name = "SIZE")]
    pub transcript_run_bytes: usize,
    /// Frames of one connection received and not consumed by a step; beyond, they are read
    /// and dropped, and the next step waiting on it fails with the flood.
    #[arg(long, default_value_t = 10_000, value_name = "FRAMES")]
    pub max_backlog_frames: usize,
    /// Bytes of those frames.
    #[arg(long, default_value = "4MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_backlog_bytes: usize,
}

impl ClientArgs {
    /// The memory bounds these options set.
    pub fn limits(&self) -> crate::transport::Limits {
        crate::transport::Limits {
            head: self.transcript_head,
            tail: self.transcript_tail,
            max_bytes: self.transcript_max_bytes,
            max_data: self.transcript_max_data,
            run_bytes: self.transcript_run_bytes,
            backlog_frames: self.max_backlog_frames,
            backlog_bytes: self.max_backlog_bytes,
        }
    }
}

/// A size: bytes, or a number with `KiB`, `MiB` or `GiB`.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" | "K" | "k" => 10,
        "MiB" | "M" => 20,
        "GiB" | "G" => 30,
        other => return Err(format!("unknown unit {other:?} (B, KiB, MiB, GiB)")),
    };
    let n: usize = number.parse().map_err(|e| format!("{e}"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| "too large".to_owned())
}

/// Options of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The case: a full instance id, a case id without its axis part, or a glob.
    pub case: String,
    /// Print a standalone reproduction (curl and websocat commands) instead.
    #[arg(long)]
    pub repro: bool,
    /// The JSON report to take the last run from (default: what `run` keeps in
    /// `.conformance/last-run.json`).
    #[arg(long, value_name = "REPORT.json")]
    pub from: Option<std::path::PathBuf>,
    /// The suites the case is in.
    #[command(flatten)]
    pub fixtures: crate::fixtures::FixtureArgs,
}

/// Options of `record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The reference server (`--exec` starts it for the recording).
    #[command(flatten)]
    pub server: ServerArgs,
    /// Which cases of the draft run, how the runner talks to the server, when it stops.
    #[command(flatten)]
    pub options: RunOptions,
    /// The draft: a fixture whose `record` steps are filled in.
    #[arg(long, value_name = "FILE")]
    pub script: std::path::PathBuf,
    /// Where to write the recorded fixture; an existing file is rewritten in place and what
    /// changed is printed.
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
    /// Record this many times; fields that differ between runs become type matchers with a
    /// capture, listed for review.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
}

/// Options of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The two servers, A then B (give `--target` twice; no `--exec`: start both first).
    #[arg(long = "target", required = true, num_args = 1)]
    pub target: Vec<String>,
    /// The suites: the built-in ones unless `--fixtures` replaces them.
    #[command(flatten)]
    pub fixtures: crate::fixtures::FixtureArgs,
    /// Which cases run, how the runner talks to the servers, when a run stops; as for `run`.
    #[command(flatten)]
    pub options: RunOptions,
    /// Report to write (repeatable): `html=PATH`, one self-contained page with the verdicts
    /// side by side and each server's cases in detail.
    #[arg(long, value_name = "html=PATH")]
    pub report: Vec<String>,
}

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

/// Options of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The suites to list.
    #[command(flatten)]
    pub fixtures: crate::fixtures::FixtureArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Output formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One line per case.
    Text,
    /// A JSON array.
    Json,
}

/// Options of `decode` and `encode`.
#[derive(Debug, Args)]
pub struct WireArgs {
    /// Engine.IO revision.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(3..=4))]
    pub eio: u8,
    /// Socket.IO revision (payload rules); default 5 with --eio 4, 4 with --eio 3.
    #[arg(long, value_parser = clap::value_parser!(u8).range(4..=5))]
    pub sio: Option<u8>,
    /// The input (decode) or output (encode) is one HTTP long-polling body.
    #[arg(long, conflicts_with = "socketio")]
    pub payload: bool,
    /// Bare Socket.IO packets, without the Engine.IO message prefix `4`.
    #[arg(long, conflicts_with = "engineio")]
    pub socketio: bool,
    /// Decode the Engine.IO layer only (messages are not decoded as Socket.IO packets).
    #[arg(long)]
    pub engineio: bool,
    /// Frames (text, or `hex:…` for a binary frame) for decode; JSON packets for encode.
    /// Read from standard input when absent.
    pub inputs: Vec<String>,
}

impl WireArgs {
    fn options(&self) -> WireOptions {
        WireOptions {
            eio: self.eio,
            sio: self.sio.unwrap_or(if self.eio == 3 { 4 } else { 5 }),
            payload: self.payload,
            socketio: self.socketio,
            engineio: self.engineio,
        }
    }
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
        Command::Decode(args) => {
            codec_commands::decode(args.options(), &args.inputs, stdin, stdout)
        }
        Command::Encode(args) => {
            codec_commands::encode(args.options(), &args.inputs, stdin, stdout)
        }
        Command::Run(args) => return crate::run_command::run(args),
        Command::Probe(args) => return crate::probe::probe(args),
        Command::Diff(args) => return crate::diff::diff(args),
        Command::Explain(args) => return crate::explain::explain(args),
        Command::Record(args) => return crate::record::record(args),
        Command::List(args) => return crate::run_command::list(args),
        Command::Lint(args) => return crate::lint::lint(args),
        Command::Mutants(args) => return crate::mutants::run(args),
        Command::Coverage(args) => return crate::coverage::coverage(args),
        Command::Fixtures(args) => return crate::fixtures::fixtures(args),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {}", e.0);
            exit::USAGE
        }
    }
}
