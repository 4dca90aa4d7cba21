//! `conformance run`: the cases against a server, the console report, the report files of
//! `--report`, the kept last run for `explain`; the exit code says how the run went.

use super::args::{RunOptions, ServerArgs};
use super::common::{self, drive, plan, run_runner, with_server};
use crate::api::{Plan, Runner};
use crate::engine::Verdict;
use crate::exit;
use crate::report::{self, Kind as ReportKind, Trace, mark_interrupted};
use clap::Args;
use std::path::PathBuf;

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The server under test.
    #[command(flatten)]
    pub server: ServerArgs,
    /// The suites: the built-in ones unless `--fixtures` replaces them.
    #[command(flatten)]
    pub fixtures: crate::fixture::builtin::FixtureArgs,
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
    pub trace: Trace,
    /// Write one JSONL transcript per traced case into this directory.
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Treat NON-STRICT as a failure for the exit code.
    #[arg(long)]
    pub strict: bool,
    /// The server's known deviations (case id → verdict + reason): the run succeeds when the
    /// verdicts are exactly these (unlisted cases PASS), and fails on any difference.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// A baseline of accepted failures (`conformance.known-failing/v1`: case or step
    /// patterns, reason, optional expiry): only other failures fail the run (exit 1), as does
    /// an expired entry; an entry whose cases all pass is stale (exit 4).
    #[arg(long, value_name = "FILE", conflicts_with = "expect")]
    pub known_failing: Option<PathBuf>,
}

/// `conformance run`.
pub fn run(args: &RunArgs) -> u8 {
    common::block_on(run_async(args))
}

async fn run_async(args: &RunArgs) -> u8 {
    let mut runner = match run_runner(&args.server.target, &args.options, &args.fixtures) {
        Ok(runner) => runner.strict(args.strict),
        Err(code) => return code,
    };
    if let Some(file) = &args.expect {
        runner = runner.expect(file);
    }
    if let Some(file) = &args.known_failing {
        runner = runner.known_failing(file);
    }
    // Every input file is read before the server starts: a usage error costs nothing.
    let plan = match plan(&runner) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let reports = match report_destinations(&args.report) {
        Ok(reports) => reports,
        Err(code) => return code,
    };
    with_server(
        &args.server,
        &plan.settings,
        execute(args, &runner, &plan, reports),
    )
    .await
    .unwrap_or_else(|code| code)
}

/// The reports of `--report`: each kind with its path (`github` may go without one).
fn report_destinations(specs: &[String]) -> Result<Vec<(ReportKind, Option<PathBuf>)>, u8> {
    let mut reports = Vec::new();
    for spec in specs {
        let (kind, path) = match spec.split_once('=') {
            Some((kind, path)) => (kind, Some(PathBuf::from(path))),
            None => (spec.as_str(), None),
        };
        let kind = match kind {
            "json" => ReportKind::Json,
            "junit" => ReportKind::Junit,
            "html" => ReportKind::Html,
            "tap" => ReportKind::Tap,
            "github" => ReportKind::Github,
            _ => {
                eprintln!(
                    "error: --report {spec:?}: expected json=PATH, junit=PATH, html=PATH, tap=PATH, github or github=PATH"
                );
                return Err(exit::USAGE);
            }
        };
        if path.is_none() && kind != ReportKind::Github {
            eprintln!("error: --report {spec:?}: give a path, {spec}=PATH");
            return Err(exit::USAGE);
        }
        reports.push((kind, path));
    }
    Ok(reports)
}

fn write_report(path: &std::path::Path, text: &str, append: bool) -> Result<(), String> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The run itself, once the target is up: progress, the console report, the report files,
/// the kept last run; the exit code.
async fn execute(
    args: &RunArgs,
    runner: &Runner,
    plan: &Plan,
    reports: Vec<(ReportKind, Option<PathBuf>)>,
) -> u8 {
    let report = match drive(runner, plan, &args.options).await {
        Ok(report) => report,
        Err(code) => return code,
    };
    let results = report.results();
    let interrupted = report.interrupted();
    print!("{}", report::console(results, args.trace, report.elapsed()));
    match interrupted {
        Some(reason) => {
            let not_run = results
                .iter()
                .filter(|r| r.verdict == Verdict::Error && r.duration.is_zero())
                .count();
            println!("INTERRUPTED: {reason}; {not_run} cases did not run or finish");
        }
        None => {
            if let Some(reason) = report.stopped() {
                println!("STOPPED: {reason}");
            }
        }
    }
    let target = report.target();
    for (kind, path) in &reports {
        let text = match kind {
            ReportKind::Json => Ok(report::json(results, target, args.trace)),
            ReportKind::Junit => report::junit(results),
            ReportKind::Html => Ok(report::html::render(results, target)),
            ReportKind::Tap => Ok(report::tap(results)),
            ReportKind::Github => {
                print!("{}", report::github_annotations(results));
                Ok(report::github_summary(results, target))
            }
        };
        // `--report github` alone appends its summary to the job summary, when there is one.
        let destination = path
            .clone()
            .map(|p| (p, false))
            .or_else(|| std::env::var_os("GITHUB_STEP_SUMMARY").map(|p| (PathBuf::from(p), true)));
        let text = text.map(|text| match interrupted {
            Some(reason) => mark_interrupted(*kind, &text, reason),
            None => text,
        });
        let written = text.and_then(|text| match &destination {
            Some((path, append)) => write_report(path, &text, *append),
            None => Ok(()),
        });
        if let Err(e) = written {
            eprintln!("error: writing the {kind:?} report: {e}");
            return exit::HARNESS;
        }
    }
    // What `conformance explain` reads: this run, every case with its transcript.
    let last = std::path::Path::new(common::LAST_RUN);
    let kept = last
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            let text = report::json(results, target, Trace::All);
            std::fs::write(
                last,
                match interrupted {
                    Some(reason) => mark_interrupted(ReportKind::Json, &text, reason),
                    None => text,
                },
            )
        });
    if let Err(e) = kept {
        eprintln!(
            "warning: cannot keep the run for `conformance explain` in {}: {e}",
            last.display()
        );
    }
    if let Some(dir) = &args.artifacts
        && let Err(e) = report::write_transcripts(results, args.trace, dir)
    {
        eprintln!("error: writing transcripts to {}: {e}", dir.display());
        return exit::HARNESS;
    }
    let code = report.exit_code();
    // The judgement is printed when it decides the exit code.
    if code != exit::INTERRUPTED && code != exit::HARNESS {
        for line in report.judgement() {
            println!("{line}");
        }
    }
    code
}
