//! `conformance run` and `conformance list`.

use crate::cli::{ListArgs, ListFormat, RunArgs, ServerArgs, exit};
use crate::engine::{RunSettings, Verdict};
use crate::expected::Expected;
use crate::matcher::Captures;
use crate::report::{self, Summary};
use crate::runner::{self, Selection};
use crate::scenario::{self, LoadOptions, Suite};
use crate::server_process::{self, Readiness, ServerProcess};
use crate::transport::target::Target;
use std::{io::IsTerminal, path::PathBuf, time::Duration};

/// Variables the engine defines for every case (the loader's validator must know them).
pub fn load_options() -> LoadOptions {
    let mut options = LoadOptions::default();
    options.builtins.push("connect_timeout".into());
    options
}

/// The fixture directory: `--fixtures`, else `fixtures/conformance` under the current
/// directory, else the one shipped in this source tree.
fn fixtures_dir(explicit: Option<&PathBuf>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.clone();
    }
    let local = PathBuf::from("fixtures/conformance");
    if local.is_dir() {
        return local;
    }
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/conformance"
    ))
}

fn load(explicit: Option<&PathBuf>) -> Result<Vec<Suite>, u8> {
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
    let suites = match load(args.fixtures.as_ref()) {
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

/// `conformance run`.
pub fn run(args: &RunArgs) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run_async(args)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            exit::HARNESS
        }
    }
}

async fn run_async(args: &RunArgs) -> u8 {
    let suites = match load(args.fixtures.as_ref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let settings = match settings(&args.server) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut reports = Vec::new();
    for spec in &args.report {
        match spec.split_once('=') {
            Some((kind @ ("json" | "junit"), path)) => {
                reports.push((kind.to_owned(), PathBuf::from(path)))
            }
            _ => {
                eprintln!("error: --report {spec:?}: expected json=PATH or junit=PATH");
                return exit::USAGE;
            }
        }
    }
    let server = match &args.server.exec {
        Some(command) => match start_server(&args.server, command, &settings).await {
            Ok(server) => Some(server),
            Err(code) => return code,
        },
        None => None,
    };
    let code = execute(args, &suites, &settings, &reports).await;
    if let Some(server) = server {
        server.stop().await;
    }
    code
}

/// `--exec` / `--ready`: starts the server and waits until it is ready.
pub(crate) async fn start_server(
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

/// The run itself, once the target is up.
async fn execute(
    args: &RunArgs,
    suites: &[Suite],
    settings: &RunSettings,
    reports: &[(String, PathBuf)],
) -> u8 {
    let expected = match &args.expect {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Expected::parse(&text))
        {
            Ok(expected) => Some(expected),
            Err(e) => {
                eprintln!("error: --expect {}: {e}", path.display());
                return exit::USAGE;
            }
        },
        None => None,
    };
    // Fail fast, with a clear message, when nothing listens there.
    if let Err(e) = server_process::accepts_connections(&settings.target).await {
        eprintln!("error: target {} unreachable: {e}", args.server.target);
        return exit::HARNESS;
    }
    let mut without = args.without.clone();
    if let Some(path) = &args.profile {
        match crate::probe::Profile::read(path) {
            Ok(profile) => without.extend(profile.unsupported.into_keys()),
            Err(e) => {
                eprintln!("error: --profile {}: {e}", path.display());
                return exit::USAGE;
            }
        }
    }
    let selection = Selection {
        suites: args.suite.clone(),
        eio: args.eio.clone(),
        run: args.run.clone(),
        skip: args.skip.clone(),
        without,
    };
    let total = suites.iter().map(|s| s.instances.len()).sum::<usize>();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = |result: &crate::engine::CaseResult| {
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!("{} {}", result.verdict, result.instance.id));
        }
    };
    let started = std::time::Instant::now();
    let results = runner::run(
        suites,
        &selection,
        settings,
        args.server.parallel,
        &progress,
    )
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print!(
        "{}",
        report::console(&results, args.trace, started.elapsed())
    );
    for (kind, path) in reports {
        let text = if kind == "json" {
            Ok(report::json(&results, &args.server.target, args.trace))
        } else {
            report::junit(&results)
        };
        let written = text.and_then(|t| std::fs::write(path, t).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: writing {}: {e}", path.display());
            return exit::HARNESS;
        }
    }
    if let Some(dir) = &args.artifacts
        && let Err(e) = report::write_transcripts(&results, args.trace, dir)
    {
        eprintln!("error: writing transcripts to {}: {e}", dir.display());
        return exit::HARNESS;
    }
    let summary = Summary::of(&results);
    if summary.error > 0 {
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
    } else if summary.fail > 0 || (args.strict && summary.non_strict > 0) {
        exit::FAILURES
    } else {
        let _ = Verdict::Pass;
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
    for header in &args.headers {
        target.add_header_arg(header).map_err(|e| {
            eprintln!("error: --header {header:?}: {e}");
            exit::USAGE
        })?;
    }
    target.insecure = args.insecure;
    target.ca_file.clone_from(&args.ca_file);
    Ok(RunSettings {
        target,
        explicit_path,
        timeout: duration("timeout", &args.timeout)?,
        slack: duration("timing-slack", &args.timing_slack)?,
        connect_timeout: duration("connect-timeout", &args.connect_timeout)?,
        max_case_duration: duration("max-case-duration", &args.max_case_duration)?,
    })
}
