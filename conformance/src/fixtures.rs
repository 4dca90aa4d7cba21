//! The fixtures a command reads: the ones built into the binary (the suites, the probes, the
//! spec catalogue, the contract; see `build.rs`), or the user's (`--fixtures`,
//! `--extra-fixtures`), and [`export`], which writes the built-in ones out (`conformance
//! fixtures export`).
//!
//! An installed binary never looks for a source tree: what it runs is what it was built with,
//! and [`long_version`] names it.

use crate::scenario::{self, FixtureError, LoadOptions, Suite};
use clap::Args;
use std::path::{Path, PathBuf};

/// One built-in file.
#[derive(Debug, Clone, Copy)]
pub struct File {
    /// Its path in this repository (`fixtures/conformance/sio5.yaml`): the name messages,
    /// reports and `fixtures export` use.
    pub path: &'static str,
    /// Its text.
    pub text: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Every built-in file, sorted by path.
#[must_use]
pub fn files() -> &'static [File] {
    FILES
}

/// The built-in file at `path` (its path in this repository).
#[must_use]
pub fn file(path: &str) -> Option<&'static File> {
    FILES.iter().find(|f| f.path == path)
}

/// The built-in `*.yaml` files directly in `dir` (`fixtures/conformance`), sorted by name.
pub fn yaml_in(dir: &str) -> impl Iterator<Item = &'static File> {
    FILES.iter().filter(move |f| {
        f.path
            .strip_prefix(dir)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| !name.contains('/') && name.ends_with(".yaml"))
    })
}

/// The suite revision: a digest of every built-in file's name and content.
#[must_use]
pub fn revision() -> &'static str {
    DIGEST
}

/// What `conformance --version` prints after the name: the version, the suite revision, and
/// where the spec quotes and the official suites come from (commits of socketio/socket.io).
#[must_use]
pub fn long_version() -> &'static str {
    LONG_VERSION
}

/// Variables the engine defines for every case (the loader's validator must know them).
#[must_use]
pub fn load_options() -> LoadOptions {
    let mut options = LoadOptions::default();
    options.builtins.push("connect_timeout".into());
    options
}

/// Which suites a command loads.
#[derive(Debug, Clone, Default, Args)]
pub struct FixtureArgs {
    /// Suites to load INSTEAD of the built-in ones: a directory (its `*.yaml` files) or a
    /// file; repeatable. `conformance fixtures export DIR` writes the built-in ones out to
    /// start from.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Vec<PathBuf>,
    /// Suites to load IN ADDITION to the built-in ones (or to those of `--fixtures`): a
    /// directory or a file; repeatable. A suite name may be defined once.
    #[arg(long, value_name = "DIR")]
    pub extra_fixtures: Vec<PathBuf>,
}

impl FixtureArgs {
    /// The built-in suites only.
    #[must_use]
    pub fn builtin() -> Self {
        Self::default()
    }

    /// Loads the suites these options name.
    ///
    /// # Errors
    /// [`FixtureError`] with every problem of every file, and suite names used twice.
    pub fn load(&self) -> Result<Vec<Suite>, FixtureError> {
        let builtin = self
            .fixtures
            .is_empty()
            .then(|| yaml_in("fixtures/conformance"))
            .into_iter()
            .flatten()
            .map(|f| (Path::new(f.path), f.text));
        let mut files = Vec::new();
        for path in self.fixtures.iter().chain(&self.extra_fixtures) {
            if path.is_dir() {
                files.extend(scenario::yaml_files(path)?);
            } else {
                files.push(path.clone());
            }
        }
        scenario::load_all(builtin, &files, &load_options())
    }
}

/// Every diagnostic of `error` with its snippet, one `error:` line each (the first without
/// the prefix).
#[must_use]
pub fn describe(error: &FixtureError) -> String {
    let mut text = String::new();
    for diagnostic in &error.diagnostics {
        if !text.is_empty() {
            text.push_str("\nerror: ");
        }
        text.push_str(&diagnostic.to_string());
        if let Some(snippet) = &diagnostic.snippet {
            text.push('\n');
            text.push_str(snippet.trim_end_matches('\n'));
        }
    }
    text
}

/// The probe suite: `explicit`, else the built-in `fixtures/probe/capabilities.yaml`.
///
/// # Errors
/// [`FixtureError`] when it does not load.
pub fn load_probes(explicit: Option<&Path>) -> Result<Suite, FixtureError> {
    match explicit {
        Some(path) => scenario::load_suite_with(path, &load_options()),
        None => {
            let file = file(PROBES).ok_or_else(|| {
                FixtureError::single(Path::new(PROBES), 0, 0, "not built in".to_owned())
            })?;
            scenario::parse_suite(file.text, Path::new(file.path), &load_options())
        }
    }
}

/// The built-in probe suite's path.
pub const PROBES: &str = "fixtures/probe/capabilities.yaml";

/// Writes every built-in file under `dir`; the paths written.
///
/// # Errors
/// A file exists and `force` is not set (nothing is written then), or writing fails.
pub fn export(dir: &Path, force: bool) -> Result<Vec<PathBuf>, String> {
    let targets: Vec<(PathBuf, &File)> = FILES.iter().map(|f| (dir.join(f.path), f)).collect();
    if !force && let Some((path, _)) = targets.iter().find(|(path, _)| path.exists()) {
        return Err(format!(
            "{} exists; pass --force to overwrite, or export into an empty directory",
            path.display()
        ));
    }
    for (path, file) in &targets {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(path, file.text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(targets.into_iter().map(|(path, _)| path).collect())
}
