//! `conformance run` and `conformance list`.

use crate::baseline::Baseline;
use crate::cli::{ListArgs, ListFormat, RunArgs, ServerArgs, exit};
use crate::engine::{RunSettings, Verdict};
use crate::expected::Expected;
use crate::matcher::Captures;
use crate::preflight;
use crate::report::{self, Summary, Trace};
use crate::runner::{self, Selection};
use crate::scenario::{self, LoadOptions, Suite};
use crate::server_process::{self, Readiness, ServerProcess};
use crate::transport::target::Target;
use std::{io::IsTerminal, path::PathBuf, sync::Arc, time::Duration};

/// Variables the engine defines for every case (the loader's validator must know them).
pub fn load_options() -> LoadOptions {
    let mut options = LoadOptions::default();
    options.builtins.push("connect_timeout".into());
    options
}

/// The fixture directory: `--fixtures`, else `fixtures/conformance` under the current
/// directory, else the one shipped in this source tree.
pub(crate) fn fixtures_dir(explicit: Option<&PathBuf>) -> PathBuf {
    shipped(explicit, "conformance")
}

/// `explicit`, else `fixtures/<relative>` under the current directory when it exists, else
/// the one of this source tree.
pub(crate) fn shipped(explicit: Option<&PathBuf>, relative: &str) -> PathBuf {
    if let Some(path) = explicit {
        return path.clone();
    }
    let local = PathBuf::from("fixtures").join(relative);
    if local.exists() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures")).join(relative)
}

/// Loads the suites of `--fixtures` (or the default directory); errors are printed.
///
/// # Errors
/// [`exit::USAGE`] when a fixture does not load.
pub fn load_suites(explicit: Option<&PathBuf>) -> Result<Vec<Suite>, u8> {
    let dir = fixtures_dir(explicit);
    scenario::load_dir_with(&dir, &load_options()).map_err(|e| {
        for diagnostic in &e.diagnostics {
            eprintln!("error: {diagnostic}");
            if let Some(snippet) = &diagnostic.snippet {
                eprintln!("{snippet}");
            }
        }
        exit::USAGE
    })
}

fn duration(flag: &str, text: &str) -> Result<Duration, u8> {
    crate::expr::Expr::parse(text)
        .map_err(|e| e.to_string())
        .and_then(|e| e.eval(&Captures::new()).map_err(|e| e.to_string()))
        .map_err(|e| {
            eprintln!("error: --{flag} {text:?}: {e}");
            exit::USAGE
        })
}

/// `conformance list`.
pub fn list(args: &ListArgs) -> u8 {
    let suites = match load_suites(args.fixtures.as_ref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let instances = suites.iter().flat_map(|s| &s.instances);
    match args.format {
        ListFormat::Text => {
            for i in instances {
                let spec = i
                    .spec
                    .iter()
                    .map(|s| match s {
                        scenario::SpecRef::Requirement(id) => id.clone(),
                        scenario::SpecRef::Anchor { anchor, .. } => anchor.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                println!(
                    "{:<70} {:<9} {spec}",
                    i.id,
                    format!("{:?}", i.level).to_uppercase()
                );
            }
        }
        ListFormat::Json => {
            let items: Vec<_> = instances
                .map(|i| {
                    serde_json::json!({
                        "id": i.id,
                        "suite": i.suite,
                        "title": i.title,
                        "level": format!("{:?}", i.level).to_uppercase(),
                        "official": i.official,
                        "requires": i.requires,
                        "serial": i.serial,
                        "fixture": format!("{}:{}", i.file.display(), i.line),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&items).unwrap_or_default()
            );
        }
    }
    exit::OK
}

/// Runs a command's `task` on a new multi-threaded runtime; its exit code.
pub fn block_on(task: impl Future<Output = u8>) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(task),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            exit::HARNESS
        }
    }
}

/// With `--exec`, starts the server (and waits until it is ready), runs `task`, and stops the
/// server; without, just runs `task`. `Err` with the exit code when the server does not start
/// (the reason is already printed).
pub(crate) async fn with_server<T>(
    args: &ServerArgs,
    settings: &RunSettings,
    task: impl Future<Output = T>,
) -> Result<T, u8> {
    let server = match &args.exec {
        Some(command) => Some(start_server(args, command, settings).await?),
        None => None,
    };
    let output = task.await;
    if let Some(server) = server {
        server.stop().await;
    }
    Ok(output)
}

/// `conformance run`.
pub fn run(args: &RunArgs) -> u8 {
    block_on(run_async(args))
}

async fn run_async(args: &RunArgs) -> u8 {
    let suites = match load_suites(args.select.fixtures.as_ref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let settings = match settings(&args.server) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Every input file is read before the server starts: a usage error costs nothing.
    let inputs = match Inputs::read(args, &suites) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    with_server(
        &args.server,
        &settings,
        execute(args, &suites, &settings, inputs),
    )
    .await
    .unwrap_or_else(|code| code)
}

/// Fails fast, with a clear message, when nothing listens at the target.
/// (`target` is the `--target` text, for the message).
pub(crate) async fn reachable(settings: &RunSettings, target: &str) -> Result<(), u8> {
    server_process::accepts_connections(&settings.target)
        .await
        .map_err(|e| {
            eprintln!("error: target {target} unreachable: {e}");
            exit::HARNESS
        })
}

/// `--exec` / `--ready`: starts the server and waits until it is ready.
async fn start_server(
    args: &ServerArgs,
    command: &str,
    settings: &RunSettings,
) -> Result<ServerProcess, u8> {
    let deadline = duration("ready-timeout", &args.ready_timeout)?;
    let ready = match &args.ready {
        Some(url) => Readiness::url(url).map_err(|e| {
            eprintln!("error: --ready {url:?}: {e}");
            exit::USAGE
        })?,
        None => Readiness::Connect(settings.target.clone()),
    };
    eprintln!("starting the server: {command}");
    ServerProcess::start(command, &ready, deadline)
        .await
        .map_err(|e| {
            eprintln!("error: --exec: {e}");
            exit::HARNESS
        })
}

/// What a run reads besides the fixtures: report destinations, the expected results or the
/// baseline to judge by, and which cases to run.
struct Inputs {
    reports: Vec<(ReportKind, Option<PathBuf>)>,
    expected: Option<Expected>,
    baseline: Option<Baseline>,
    selection: Selection,
}

impl Inputs {
    fn read(args: &RunArgs, suites: &[Suite]) -> Result<Self, u8> {
        let mut reports = Vec::new();
        for spec in &args.report {
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
        let expected = read_input("expect", args.expect.as_ref(), Expected::parse)?;
        let baseline = read_input("known-failing", args.known_failing.as_ref(), |text| {
            Baseline::parse(text, suites)
        })?;
        let profile = read_input("profile", args.profile.as_ref(), |text| {
            crate::probe::Profile::parse(text)
        })?;
        Ok(Self {
            reports,
            expected,
            baseline,
            selection: args
                .select
                .selection(profile.into_iter().flat_map(|p| p.unsupported.into_keys())),
        })
    }
}

/// The report formats of `--report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    Json,
    Junit,
    Html,
    Tap,
    Github,
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

/// Reads and parses the file given to `--flag`, if any; a usage error names the flag.
fn read_input<T>(
    flag: &str,
    path: Option<&PathBuf>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, u8> {
    let Some(path) = path else { return Ok(None) };
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| parse(&text))
        .map(Some)
        .map_err(|e| {
            eprintln!("error: --{flag} {}: {e}", path.display());
            exit::USAGE
        })
}

/// The run itself, once the target is up.
async fn execute(args: &RunArgs, suites: &[Suite], settings: &RunSettings, inputs: Inputs) -> u8 {
    let Inputs {
        reports,
        expected,
        baseline,
        selection,
    } = inputs;
    let control = Arc::new(runner::Control::new(args.lost_after));
    let max_run = match args.max_run_duration.as_deref() {
        Some(text) => match duration("max-run-duration", text) {
            Ok(d) => Some(d),
            Err(code) => return code,
        },
        None => None,
    };
    let watcher = tokio::spawn(watch_stop(Arc::clone(&control), max_run));
    let started = std::time::Instant::now();
    // Nothing listens: no preflight, every case is ERROR with that reason, reports are written.
    if let Err(e) = server_process::accepts_connections(&settings.target).await {
        let reason = format!("target {} unreachable: {e}", args.server.target);
        eprintln!("error: {reason}");
        control.stop(runner::Stop::TargetLost(reason));
    }
    let attempts = preflight::attempts(runner::runnable(suites, &selection), settings);
    if control.stopped().is_none()
        && let Err(failed) = preflight::run(settings, &attempts, settings.timeout).await
    {
        let text = preflight::diagnose(&args.server.target, &failed);
        eprint!("{text}");
        let headline = text.lines().next().unwrap_or_default();
        control.stop(runner::Stop::TargetLost(
            headline.trim_start_matches("error: ").to_owned(),
        ));
    }
    let total = suites.iter().map(|s| s.instances.len()).sum::<usize>();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let heartbeat = bar
        .is_none()
        .then(|| tokio::spawn(heartbeat(Arc::clone(&control), HEARTBEAT)));
    let progress = |result: &crate::engine::CaseResult| {
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!("{} {}", result.verdict, result.instance.id));
        }
    };
    let results = runner::run_with(
        suites,
        &selection,
        settings,
        args.server.client.parallel,
        &progress,
        &control,
    )
    .await;
    watcher.abort();
    if let Some(heartbeat) = heartbeat {
        heartbeat.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let stop = control.stopped();
    let interrupted = match &stop {
        Some(runner::Stop::Interrupted(reason)) => Some(reason.clone()),
        _ => None,
    };
    print!(
        "{}",
        report::console(&results, args.trace, started.elapsed())
    );
    match &stop {
        Some(runner::Stop::Interrupted(reason)) => {
            let not_run = results
                .iter()
                .filter(|r| r.verdict == Verdict::Error && r.duration.is_zero())
                .count();
            println!("INTERRUPTED: {reason}; {not_run} cases did not run or finish");
        }
        Some(runner::Stop::TargetLost(reason)) => println!("STOPPED: {reason}"),
        None => {}
    }
    for (kind, path) in &reports {
        let target = &args.server.target;
        let text = match kind {
            ReportKind::Json => Ok(report::json(&results, target, args.trace)),
            ReportKind::Junit => report::junit(&results),
            ReportKind::Html => Ok(crate::html::render(&results, target)),
            ReportKind::Tap => Ok(report::tap(&results)),
            ReportKind::Github => {
                print!("{}", report::github_annotations(&results));
                Ok(report::github_summary(&results, target))
            }
        };
        // `--report github` alone appends its summary to the job summary, when there is one.
        let destination = path
            .clone()
            .map(|p| (p, false))
            .or_else(|| std::env::var_os("GITHUB_STEP_SUMMARY").map(|p| (PathBuf::from(p), true)));
        let text = text.map(|text| match &interrupted {
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
    let last = std::path::Path::new(crate::explain::LAST_RUN);
    let kept = last
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            let text = report::json(&results, &args.server.target, Trace::All);
            std::fs::write(
                last,
                match &interrupted {
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
        && let Err(e) = report::write_transcripts(&results, args.trace, dir)
    {
        eprintln!("error: writing transcripts to {}: {e}", dir.display());
        return exit::HARNESS;
    }
    let summary = Summary::of(&results);
    if interrupted.is_some() {
        exit::INTERRUPTED
    } else if summary.error > 0 {
        exit::HARNESS
    } else if let Some(expected) = expected {
        let problems = expected.compare(&results);
        let file = args.expect.as_deref().unwrap_or(std::path::Path::new("-"));
        for problem in &problems {
            println!("UNEXPECTED  {problem}");
        }
        println!(
            "expected results ({}, {}): {} differences",
            file.display(),
            expected.server,
            problems.len()
        );
        if problems.is_empty() {
            exit::OK
        } else {
            exit::FAILURES
        }
    } else if let Some(baseline) = baseline {
        judge_baseline(&baseline, &results, args)
    } else if summary.fail > 0 || (args.strict && summary.non_strict > 0) {
        exit::FAILURES
    } else {
        let _ = Verdict::Pass;
        exit::OK
    }
}

/// How often a run without a terminal says where it is.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// Stops the run on SIGINT, SIGTERM or after `max_run`.
async fn watch_stop(control: Arc<runner::Control>, max_run: Option<Duration>) {
    let bound = async {
        match max_run {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let reason = tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted by SIGINT".to_owned(),
        () = terminate => "interrupted by SIGTERM".to_owned(),
        () = bound => format!("--max-run-duration {:?} reached", max_run.unwrap_or_default()),
    };
    eprintln!("{reason}: no new case starts; running cases get a few seconds to finish");
    control.stop(runner::Stop::Interrupted(reason));
}

/// Without a terminal (CI), a line every `every`: cases done of total, the slowest running.
async fn heartbeat(control: Arc<runner::Control>, every: Duration) {
    let started = std::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let (done, total, slowest) = control.snapshot();
        let running = slowest.map_or_else(String::new, |(id, for_)| {
            format!(", slowest running: {id} ({:.1} s)", for_.as_secs_f64())
        });
        eprintln!(
            "progress: {done}/{total} cases done in {:.0} s{running}",
            started.elapsed().as_secs_f64()
        );
    }
}

/// Marks a report as coming from an interrupted run: a JSON field (`interrupted`,
/// `interrupted_reason`), a `testsuites` attribute (JUnit), a TAP comment, a banner (HTML,
/// job summary).
fn mark_interrupted(kind: ReportKind, text: &str, reason: &str) -> String {
    let escaped = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    match kind {
        ReportKind::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.insert("interrupted".into(), true.into());
                map.insert("interrupted_reason".into(), reason.into());
                serde_json::to_string_pretty(&map).unwrap_or_else(|_| text.to_owned())
            }
            _ => text.to_owned(),
        },
        ReportKind::Junit => text.replacen(
            "<testsuites ",
            &format!("<testsuites interrupted=\"{escaped}\" "),
            1,
        ),
        ReportKind::Tap => format!("{text}# interrupted: {reason}\n"),
        ReportKind::Html => text.replacen(
            "<body>",
            &format!("<body>\n<p class=\"interrupted\"><strong>Interrupted:</strong> {escaped}; the cases not run are ERROR</p>"),
            1,
        ),
        ReportKind::Github => format!("> **Interrupted**: {reason}\n\n{text}"),
    }
}

/// Prints what a `--known-failing` baseline says about the results; the exit code.
fn judge_baseline(
    baseline: &Baseline,
    results: &[crate::engine::CaseResult],
    args: &RunArgs,
) -> u8 {
    let outcome = baseline.judge(results, args.strict, crate::baseline::today());
    for id in &outcome.new_failures {
        println!("NEW FAILURE {id}: not in the baseline");
    }
    for &index in &outcome.expired {
        let entry = &baseline.entries[index];
        println!(
            "EXPIRED     `{}` (expires {}): {}",
            entry.case,
            entry.expires.as_deref().unwrap_or_default(),
            entry.reason
        );
    }
    for &index in &outcome.stale {
        let entry = &baseline.entries[index];
        println!(
            "STALE       `{}`: every case it matches passes now; remove the entry ({})",
            entry.case, entry.reason
        );
    }
    let file = args
        .known_failing
        .as_deref()
        .unwrap_or(std::path::Path::new("-"));
    println!(
        "known failing ({}): {} known, {} new failures, {} expired, {} stale",
        file.display(),
        outcome.known.len(),
        outcome.new_failures.len(),
        outcome.expired.len(),
        outcome.stale.len()
    );
    if !outcome.new_failures.is_empty() || !outcome.expired.is_empty() {
        exit::FAILURES
    } else if !outcome.stale.is_empty() {
        exit::STALE_BASELINE
    } else {
        exit::OK
    }
}

pub(crate) fn settings(args: &ServerArgs) -> Result<RunSettings, u8> {
    // Parse with a sentinel default path to learn whether the user gave one.
    let mut target = Target::parse(&args.target, "/").map_err(|e| {
        eprintln!("error: --target {:?}: {e}", args.target);
        exit::USAGE
    })?;
    let explicit_path = target.path != "/";
    for header in &args.client.headers {
        target.add_header_arg(header).map_err(|e| {
            eprintln!("error: --header {header:?}: {e}");
            exit::USAGE
        })?;
    }
    target.insecure = args.client.insecure;
    target.ca_file.clone_from(&args.client.ca_file);
    Ok(RunSettings {
        target,
        explicit_path,
        timeout: duration("timeout", &args.client.timeout)?,
        slack: duration("timing-slack", &args.client.timing_slack)?,
        connect_timeout: duration("connect-timeout", &args.client.connect_timeout)?,
        max_case_duration: duration("max-case-duration", &args.client.max_case_duration)?,
    })
}
