//! `conformance run` and `conformance list`.

use crate::api::{Event, Plan, Report, Runner};
use crate::cli::{ClientArgs, ListArgs, ListFormat, RunArgs, RunOptions, ServerArgs, exit};
use crate::engine::{RunSettings, Verdict};
use crate::fixtures::FixtureArgs;
use crate::matcher::Captures;
use crate::report::{self, Trace};
use crate::runner;
use crate::scenario;
use crate::server_process::{self, Readiness, ServerProcess};
use std::{io::IsTerminal, path::PathBuf, sync::Arc, time::Duration};

pub use crate::fixtures::{load_options, load_suites};

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
    let suites = match load_suites(&args.fixtures) {
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

/// The library runner for the client options (target, headers, TLS, deadlines).
pub(crate) fn runner(target: &str, client: &ClientArgs) -> Result<Runner, u8> {
    let mut runner = Runner::new(target)
        .insecure(client.insecure)
        .timeout(duration("timeout", &client.timeout)?)
        .timing_slack(duration("timing-slack", &client.timing_slack)?)
        .connect_timeout(duration("connect-timeout", &client.connect_timeout)?)
        .max_case_duration(duration("max-case-duration", &client.max_case_duration)?)
        .parallel(client.parallel);
    for header in &client.headers {
        runner = runner.header(header);
    }
    if let Some(file) = &client.ca_file {
        runner = runner.ca_file(file);
    }
    Ok(runner)
}

/// The library runner for the options `run`, `diff` and `record` share.
pub(crate) fn run_runner(
    target: &str,
    options: &RunOptions,
    fixtures: &FixtureArgs,
) -> Result<Runner, u8> {
    let mut runner = runner(target, &options.client)?
        .select(options.select.selection(), fixtures.clone())
        .lost_after(options.lost_after);
    if let Some(file) = &options.select.profile {
        runner = runner.profile(file);
    }
    Ok(runner)
}

/// What `runner` will run, every input read; errors are printed.
pub(crate) fn plan(runner: &Runner) -> Result<Plan, u8> {
    runner.plan().map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}

/// Runs `plan` once, stopping on SIGINT, SIGTERM and `--max-run-duration`, with a progress
/// bar on a terminal and a progress line every few seconds elsewhere.
pub(crate) async fn drive(
    runner: &Runner,
    plan: &Plan,
    options: &RunOptions,
) -> Result<Report, u8> {
    let control = Arc::new(runner::Control::new(options.lost_after));
    let max_run = match options.max_run_duration.as_deref() {
        Some(text) => Some(duration("max-run-duration", text)?),
        None => None,
    };
    let watcher = tokio::spawn(watch_stop(Arc::clone(&control), max_run));
    let total = plan.suites.iter().map(|s| s.instances.len()).sum::<usize>();
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
    let events = |event: Event<'_>| match event {
        Event::Unreachable(reason) => eprintln!("error: {reason}"),
        Event::Preflight(text) => eprint!("{text}"),
        // On standard output with the report (CI logs often keep only that), before it.
        Event::Note(text) => match &bar {
            Some(bar) => bar.println(format!("note: {text}")),
            None => println!("note: {text}"),
        },
        Event::Finished(result) => {
            if let Some(bar) = &bar {
                bar.inc(1);
                bar.set_message(format!("{} {}", result.verdict, result.instance.id));
            }
        }
    };
    let report = runner.execute(plan, &control, &events).await;
    watcher.abort();
    if let Some(heartbeat) = heartbeat {
        heartbeat.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(report)
}

/// Fails fast, with a clear message, when nothing listens at the target.
/// (`target` is the `--target` text, for the message).
pub(crate) async fn reachable(settings: &RunSettings, target: &str) -> Result<(), u8> {
    server_process::connects(&settings.target)
        .await
        .map_err(|e| {
            eprintln!("error: {}", server_process::no_connection(target, &e));
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
            ReportKind::Html => Ok(crate::html::render(results, target)),
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
    let last = std::path::Path::new(crate::explain::LAST_RUN);
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

/// The engine settings of the client options; errors are printed.
pub(crate) fn settings(target: &str, client: &ClientArgs) -> Result<RunSettings, u8> {
    runner(target, client)?.settings().map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}
