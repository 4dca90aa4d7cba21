//! What several commands share: the runtime, starting the server under test (`--exec`), the
//! library runner built from the options, the progress display, loading the suites with the
//! errors printed. Nothing here is a command; the core below never imports it.

use super::args::{ClientArgs, RunOptions, ServerArgs};
use crate::api::{Event, Plan, Report, Runner};
use crate::engine::RunSettings;
use crate::exit;
use crate::fixture::builtin::FixtureArgs;
use crate::fixture::{FixtureError, Suite};
use crate::matcher::Captures;
use crate::runner;
use crate::server_process::{self, Readiness, ServerProcess};
use std::{io::IsTerminal, sync::Arc, time::Duration};

/// Where `run` keeps its last run (every case with its transcript) and `explain` reads it.
pub const LAST_RUN: &str = ".conformance/last-run.json";

/// A duration option (`5s`, `${connect_timeout} * 2`); errors are printed.
pub(crate) fn duration(flag: &str, text: &str) -> Result<Duration, u8> {
    crate::expr::Expr::parse(text)
        .map_err(|e| e.to_string())
        .and_then(|e| e.eval(&Captures::new()).map_err(|e| e.to_string()))
        .map_err(|e| {
            eprintln!("error: --{flag} {text:?}: {e}");
            exit::USAGE
        })
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

/// The engine settings of the client options; errors are printed.
pub(crate) fn settings(target: &str, client: &ClientArgs) -> Result<RunSettings, u8> {
    runner(target, client)?.settings().map_err(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}

/// Loads the suites `args` name; errors are printed.
///
/// # Errors
/// [`exit::USAGE`] when a fixture does not load.
pub fn load_suites(args: &FixtureArgs) -> Result<Vec<Suite>, u8> {
    args.load().map_err(|e| {
        print_errors(&e);
        exit::USAGE
    })
}

/// Prints every diagnostic of `error`, with its snippet.
pub fn print_errors(error: &FixtureError) {
    eprintln!("error: {}", crate::fixture::builtin::describe(error));
}
