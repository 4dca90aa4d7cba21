//! The library's entry point: [`Runner`] (what to run against which server) and [`Report`]
//! (what happened). `conformance run` is a layer over it that adds printing, report files,
//! signals and `--exec`.

mod contract;
mod run_report;

pub use contract::{ContractServer, parse_mutant};
use run_report::Judge;
pub use run_report::{Case, Format, Report};

use crate::baseline::Baseline;
use crate::engine::{CaseResult, RunSettings, Verdict};
use crate::expected::Expected;
use crate::fixture::Suite;
use crate::fixture::builtin::FixtureArgs;
use crate::runner::{self, Control, Selection, Stop};
use crate::transport::target::Target;
use crate::{preflight, server_process};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A conformance run to make: the server, which cases, how to talk to it, how to judge.
///
/// Every setting has the default of the matching `conformance run` option; [`Runner::run`]
/// runs the built-in suites against the target and returns the [`Report`].
///
/// ```no_run
/// # async fn demo() -> Result<(), sio_conformance::Error> {
/// use std::time::Duration;
///
/// let report = sio_conformance::Runner::new("http://127.0.0.1:3000/socket.io/")
///     .suites(["sio5"])
///     .without(["eio3"])
///     .timeout(Duration::from_secs(2))
///     .run()
///     .await?;
/// report.assert_conforms();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Runner {
    target: String,
    headers: Vec<String>,
    insecure: bool,
    ca_file: Option<PathBuf>,
    timeout: Duration,
    slack: Duration,
    connect_timeout: Duration,
    max_case_duration: Duration,
    parallel: usize,
    lost_after: usize,
    fixtures: FixtureArgs,
    selection: Selection,
    profile: Option<PathBuf>,
    strict: bool,
    expected: Option<PathBuf>,
    known_failing: Option<PathBuf>,
}

impl Runner {
    /// A run of every built-in case against `target` (`http://host:port`, `https://…`;
    /// with a path, such as `/socket.io/`, that path replaces the suites' own).
    #[must_use]
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            headers: Vec::new(),
            insecure: false,
            ca_file: None,
            timeout: Duration::from_secs(5),
            slack: Duration::from_millis(150),
            connect_timeout: Duration::from_secs(45),
            max_case_duration: Duration::from_secs(120),
            parallel: 4,
            lost_after: 3,
            fixtures: FixtureArgs::default(),
            selection: Selection::default(),
            profile: None,
            strict: false,
            expected: None,
            known_failing: None,
        }
    }

    /// Only these suites (`eio4`, `sio5`, …; all when never called).
    #[must_use]
    pub fn suites<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .suites
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Only the instances on these Engine.IO revisions (3, 4).
    #[must_use]
    pub fn eio(mut self, revisions: impl IntoIterator<Item = u8>) -> Self {
        self.selection.eio.extend(revisions);
        self
    }

    /// Only the cases whose id matches this glob (`*` within a segment, `**` across); may be
    /// called again to add patterns.
    #[must_use]
    pub fn only(mut self, glob: impl Into<String>) -> Self {
        self.selection.run.push(glob.into());
        self
    }

    /// Skips the cases whose id matches this glob.
    #[must_use]
    pub fn skip(mut self, glob: impl Into<String>) -> Self {
        self.selection.skip.push(glob.into());
        self
    }

    /// The server lacks these capabilities (`eio3`, `rooms`, …): the cases that need them
    /// are UNSUPPORTED.
    #[must_use]
    pub fn without<S: Into<String>>(mut self, capabilities: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .without
            .extend(capabilities.into_iter().map(Into::into));
        self
    }

    /// A profile written by `conformance probe`: its unsupported capabilities count as
    /// [`Runner::without`].
    #[must_use]
    pub fn profile(mut self, file: impl Into<PathBuf>) -> Self {
        self.profile = Some(file.into());
        self
    }

    /// Runs the suites of this directory (or file) instead of the built-in ones; may be
    /// called again to add more.
    #[must_use]
    pub fn fixtures(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixtures.fixtures.push(path.into());
        self
    }

    /// Runs the suites of this directory (or file) besides the built-in ones.
    #[must_use]
    pub fn extra_fixtures(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixtures.extra_fixtures.push(path.into());
        self
    }

    /// An extra request header, `Name: value`.
    #[must_use]
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.headers.push(header.into());
        self
    }

    /// Accepts any TLS certificate.
    #[must_use]
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Trusts the certificates of this PEM file besides the web PKI roots.
    #[must_use]
    pub fn ca_file(mut self, pem: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(pem.into());
        self
    }

    /// The default deadline of a step (5 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The tolerance added to every timing window (150 ms).
    #[must_use]
    pub fn timing_slack(mut self, slack: Duration) -> Self {
        self.slack = slack;
        self
    }

    /// The longest the server may take to give up on a client that never joins a namespace
    /// (45 s, the reference's default).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest one case may run (120 s).
    #[must_use]
    pub fn max_case_duration(mut self, limit: Duration) -> Self {
        self.max_case_duration = limit;
        self
    }

    /// Cases run at once (4; timing-sensitive cases always run alone).
    #[must_use]
    pub fn parallel(mut self, cases: usize) -> Self {
        self.parallel = cases.max(1);
        self
    }

    /// After this many cases in a row got no response at all, the rest are ERROR (3; 0:
    /// never).
    #[must_use]
    pub fn lost_after(mut self, cases: usize) -> Self {
        self.lost_after = cases;
        self
    }

    /// Counts NON-STRICT as a failure in [`Report::exit_code`].
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Judges the run by the server's known deviations (`conformance.expected/v1`): it
    /// conforms when the verdicts are exactly those.
    #[must_use]
    pub fn expect(mut self, file: impl Into<PathBuf>) -> Self {
        self.expected = Some(file.into());
        self.known_failing = None;
        self
    }

    /// Judges the run by a baseline of accepted failures (`conformance.known-failing/v1`):
    /// only other failures, and expired entries, fail it.
    #[must_use]
    pub fn known_failing(mut self, file: impl Into<PathBuf>) -> Self {
        self.known_failing = Some(file.into());
        self.expected = None;
        self
    }

    /// The selection and suites of the command-line options (`conformance run`).
    #[must_use]
    pub(crate) fn select(mut self, selection: Selection, fixtures: FixtureArgs) -> Self {
        self.selection = selection;
        self.fixtures = fixtures;
        self
    }

    /// Runs the cases and grades them.
    ///
    /// # Errors
    /// [`Error`] before any case runs: a fixture or input file that does not load, a target
    /// URL or header that does not parse. A server that is down or misbehaves is not an
    /// error: its cases are ERROR or FAIL in the [`Report`].
    pub async fn run(&self) -> Result<Report, Error> {
        let plan = self.plan()?;
        let control = Arc::new(Control::new(self.lost_after));
        Ok(self.execute(&plan, &control, &|_| {}).await)
    }

    /// Everything a run needs, read and checked before the server is touched.
    pub(crate) fn plan(&self) -> Result<Plan, Error> {
        let suites = self
            .fixtures
            .load()
            .map_err(|e| Error::usage(crate::fixture::builtin::describe(&e)))?;
        let settings = self.settings()?;
        let read = |flag: &str, path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| Error::usage(format!("--{flag} {}: {e}", path.display())))
        };
        let mut selection = self.selection.clone();
        if let Some(path) = &self.profile {
            let profile = crate::profile::Profile::parse(&read("profile", path)?)
                .map_err(|e| Error::usage(format!("--profile {}: {e}", path.display())))?;
            selection.without.extend(profile.unsupported.into_keys());
        }
        let judge = match (&self.expected, &self.known_failing) {
            (Some(path), _) => Judge::Expected(
                Expected::parse(&read("expect", path)?)
                    .map_err(|e| Error::usage(format!("--expect {}: {e}", path.display())))?,
                path.clone(),
            ),
            (None, Some(path)) => Judge::Baseline(
                Baseline::parse(&read("known-failing", path)?, &suites).map_err(|e| {
                    Error::usage(format!("--known-failing {}: {e}", path.display()))
                })?,
                path.clone(),
            ),
            (None, None) => Judge::Verdicts,
        };
        Ok(Plan {
            suites,
            settings,
            selection,
            judge,
        })
    }

    /// The settings the engine runs with.
    pub(crate) fn settings(&self) -> Result<RunSettings, Error> {
        // Parse with a sentinel default path to learn whether the user gave one.
        let mut target = Target::parse(&self.target, "/")
            .map_err(|e| Error::usage(format!("--target {:?}: {e}", self.target)))?;
        let explicit_path = target.path != "/";
        for header in &self.headers {
            target
                .add_header_arg(header)
                .map_err(|e| Error::usage(format!("--header {header:?}: {e}")))?;
        }
        target.insecure = self.insecure;
        target.ca_file.clone_from(&self.ca_file);
        Ok(RunSettings {
            target,
            explicit_path,
            timeout: self.timeout,
            slack: self.slack,
            connect_timeout: self.connect_timeout,
            max_case_duration: self.max_case_duration,
        })
    }

    /// Runs `plan` under `control` (which a caller may stop), telling `events` what happens.
    pub(crate) async fn execute(
        &self,
        plan: &Plan,
        control: &Arc<Control>,
        events: &(dyn Fn(Event<'_>) + Sync),
    ) -> Report {
        let started = Instant::now();
        let settings = &plan.settings;
        // Nothing listens: no preflight, every case is ERROR with that reason.
        if let Err(e) = server_process::connects(&settings.target).await {
            let reason = server_process::no_connection(&self.target, &e);
            events(Event::Unreachable(&reason));
            control.stop(Stop::TargetLost(reason));
        }
        let attempts =
            preflight::attempts(runner::runnable(&plan.suites, &plan.selection), settings);
        if control.stopped().is_none()
            && let Err(failed) = preflight::run(settings, &attempts, settings.timeout).await
        {
            let text = preflight::diagnose(&self.target, &failed);
            events(Event::Preflight(&text));
            let headline = text.lines().next().unwrap_or_default();
            control.stop(Stop::TargetLost(
                headline.trim_start_matches("error: ").to_owned(),
            ));
        }
        let mut notes = Vec::new();
        // A stop (signal, `--max-run-duration`) cuts the check short, as it does the cases.
        let note = tokio::select! {
            note = socketio_note(plan), if control.stopped().is_none() => note,
            () = control.wait_stop() => None,
        };
        if let Some(note) = note {
            events(Event::Note(&note));
            notes.push(note);
        }
        let progress = |result: &CaseResult| events(Event::Finished(result));
        let results = runner::run_with(
            &plan.suites,
            &plan.selection,
            settings,
            self.parallel,
            &progress,
            control,
        )
        .await;
        Report {
            results,
            target: self.target.clone(),
            elapsed: started.elapsed(),
            stopped: control.stopped(),
            notes,
            strict: self.strict,
            judge: plan.judge.clone(),
        }
    }
}

/// What a run reads before it starts.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) suites: Vec<Suite>,
    pub(crate) settings: RunSettings,
    pub(crate) selection: Selection,
    judge: Judge,
}

/// What happens during a run, for a caller that shows it.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// Nothing listens at the target (the reason).
    Unreachable(&'a str),
    /// The target does not speak the protocol (the diagnosis, several lines).
    Preflight(&'a str),
    /// Something about the target as a whole (printed once, before the cases).
    Note(&'a str),
    /// A case finished.
    Finished(&'a CaseResult),
}

/// When the selected cases need Socket.IO and the target does not answer a Socket.IO
/// CONNECT (a bare Engine.IO server, or the wrong path), the sentence that says so: the
/// cases' own findings (`got "CONNECT"` for an echoed packet) are right but baffling one by one.
async fn socketio_note(plan: &Plan) -> Option<String> {
    let mut revisions: Vec<u8> = runner::runnable(&plan.suites, &plan.selection)
        .iter()
        .filter(|i| i.requires.iter().any(|c| c == "socketio"))
        .map(|i| i.eio)
        .collect();
    revisions.sort_unstable();
    revisions.dedup();
    if revisions.is_empty() {
        return None;
    }
    let probes = crate::fixture::builtin::load_probes(None).ok()?;
    let selection = Selection {
        run: vec!["probe/socketio".into()],
        eio: revisions,
        ..Selection::default()
    };
    let results = runner::run(
        std::slice::from_ref(&probes),
        &selection,
        &plan.settings,
        2,
        &|_| {},
    )
    .await;
    let ran: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.verdict != Verdict::Skipped)
        .collect();
    if ran.is_empty() || ran.iter().any(|r| r.verdict == Verdict::Pass) {
        return None;
    }
    let first = ran[0];
    let why = first.findings.first().map_or_else(String::new, |f| {
        // The message usually says what came; else the actual value does.
        let actual = f
            .actual
            .as_deref()
            .map(|a| a.lines().next().unwrap_or_default())
            .filter(|a| !f.message.contains(a))
            .map(|a| format!(", got {a}"))
            .unwrap_or_default();
        format!(": {}{actual}", f.message)
    });
    Some(format!(
        "the target does not answer a Socket.IO CONNECT ({}{why}). It may speak Engine.IO only \
         (or not at this path), and then every Socket.IO case FAILs; if so, `conformance probe \
         --out profile.yaml` and `--profile profile.yaml` mark them UNSUPPORTED.",
        first.instance.id
    ))
}

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    code: u8,
}

impl Error {
    fn usage(message: String) -> Self {
        Self {
            message,
            code: crate::exit::USAGE,
        }
    }

    /// The exit code `conformance run` gives it (2: usage, fixture or input error).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
