//! Fixture model: typed suites loaded from `fixtures/conformance/*.yaml`.
//!
//! Loading runs in four stages, each reporting `file:line:column` diagnostics:
//! 1. YAML → serde structs (`raw`) with serde-saphyr: unknown keys, wrong types, bad
//!    patterns and duration expressions fail here with serde-saphyr's own location.
//! 2. Structs → typed [`Step`]s (`convert`): one action per step, keys valid for it. Each step
//!    is deserialized as `serde_saphyr::Spanned`, so its line is exact.
//! 3. `use:` inlining (`expand`) with cycle detection.
//! 4. Expansion over the Engine.IO axis (`eio`, steps filtered by `when`), validation
//!    (`validate`) of each resulting step list in execution order, then expansion of cases
//!    with an `open` step over the transport axis into [`CaseInstance`]s.

mod convert;
mod error;
mod expand;
mod model;
mod packet;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::{Diagnostic, FixtureError};
pub use model::{
    Action, Alternative, BodyExpect, Bound, Case, CaseInstance, Defaults, Fragment, Grade,
    Heartbeat, HttpRequest, Inbound, Layer, Level, Outbound, RequestBody, ResponseExpect, SCHEMA,
    Since, SpecRef, Step, Suite, Target, Timing, Transport,
};
pub use packet::{
    EioData, EioPacket, EioPacketPattern, EioType, SioPacket, SioPacketPattern, SioType,
};

use convert::{Converter, is_slug};
use error::Sink;
use raw::RawSuite;

/// Variables every engine sets before a case starts: `base`, `ws_base` (target URL plus suite
/// path), `slack` (a duration), `case_id` and `eio` (the instance's Engine.IO revision, an
/// integer).
pub const DEFAULT_BUILTINS: [&str; 5] = ["base", "ws_base", "slack", "case_id", "eio"];

/// Options for loading fixtures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Variables the engine defines before each case; fixtures may read them without
    /// capturing them and may not capture into them.
    pub builtins: Vec<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            builtins: DEFAULT_BUILTINS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
        }
    }
}

/// Loads one suite file with [`LoadOptions::default`].
///
/// # Errors
/// [`FixtureError`] with every problem found, each with `file:line:column`.
pub fn load_suite(path: impl AsRef<Path>) -> Result<Suite, FixtureError> {
    load_suite_with(path, &LoadOptions::default())
}

/// Loads one suite file.
///
/// # Errors
/// [`FixtureError`] with every problem found, each with `file:line:column`.
pub fn load_suite_with(
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<Suite, FixtureError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|err| FixtureError::single(path, 0, 0, format!("cannot read fixture: {err}")))?;
    parse_suite(&text, path, options)
}

/// Loads every `*.yaml` file of `dir` (not recursive), sorted by file name, with
/// [`LoadOptions::default`].
///
/// # Errors
/// [`FixtureError`] with the problems of every file, and suite names used twice.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Suite>, FixtureError> {
    load_dir_with(dir, &LoadOptions::default())
}

/// Loads every `*.yaml` file of `dir` (not recursive), sorted by file name.
///
/// # Errors
/// [`FixtureError`] with the problems of every file, and suite names used twice.
pub fn load_dir_with(
    dir: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<Vec<Suite>, FixtureError> {
    load_all([], &yaml_files(dir.as_ref())?, options)
}

/// The `*.yaml` files of `dir` (not recursive), sorted by name.
///
/// # Errors
/// [`FixtureError`] when the directory cannot be read.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, FixtureError> {
    let read_error = |err: std::io::Error| {
        FixtureError::single(dir, 0, 0, format!("cannot read fixture directory: {err}"))
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads suites: `texts` first (already in memory: the built-in ones), then `files` read from
/// disk; see [`load_texts`].
///
/// # Errors
/// [`FixtureError`] with the problems of every file (one that cannot be read included), and
/// suite names used twice.
pub fn load_all<'a>(
    texts: impl IntoIterator<Item = (&'a Path, &'a str)>,
    files: &[PathBuf],
    options: &LoadOptions,
) -> Result<Vec<Suite>, FixtureError> {
    let mut read = Vec::new();
    let mut diagnostics = Vec::new();
    for file in files {
        match std::fs::read_to_string(file) {
            Ok(text) => read.push((file.as_path(), text)),
            Err(err) => diagnostics.extend(
                FixtureError::single(file, 0, 0, format!("cannot read fixture: {err}")).diagnostics,
            ),
        }
    }
    let mut all: Vec<(&Path, &str)> = Vec::new();
    for (file, text) in texts {
        all.push((file, text));
    }
    for (file, text) in &read {
        all.push((file, text));
    }
    match load_texts(all, options) {
        Ok(suites) if diagnostics.is_empty() => Ok(suites),
        Ok(_) => Err(FixtureError { diagnostics }),
        Err(err) => {
            diagnostics.extend(err.diagnostics);
            Err(FixtureError { diagnostics })
        }
    }
}

/// Loads suites from `(file, text)` pairs in the order given (the built-in suites, files read
/// elsewhere): every file is parsed, and a suite name may be defined once.
///
/// # Errors
/// [`FixtureError`] with the problems of every file, and suite names used twice.
pub fn load_texts<'a>(
    files: impl IntoIterator<Item = (&'a Path, &'a str)>,
    options: &LoadOptions,
) -> Result<Vec<Suite>, FixtureError> {
    let mut suites = Vec::new();
    let mut diagnostics = Vec::new();
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (file, text) in files {
        match parse_suite(text, file, options) {
            Ok(suite) => {
                if let Some(first) = names.get(&suite.suite) {
                    diagnostics.push(Diagnostic {
                        file: file.to_owned(),
                        line: suite.line,
                        column: 0,
                        message: format!(
                            "suite `{}` is already defined in {}",
                            suite.suite,
                            first.display()
                        ),
                        snippet: None,
                    });
                } else {
                    names.insert(suite.suite.clone(), file.to_owned());
                }
                suites.push(suite);
            }
            Err(err) => diagnostics.extend(err.diagnostics),
        }
    }
    if diagnostics.is_empty() {
        Ok(suites)
    } else {
        Err(FixtureError { diagnostics })
    }
}

/// serde-saphyr settings for fixtures: YAML 1.2 booleans only (`no` stays a string), no
/// duplicate keys, no merge keys, no aliases (reuse goes through `use:`).
fn yaml_options() -> serde_saphyr::Options {
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_alias_expansions_per_anchor = 0;
    serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        merge_keys: serde_saphyr::MergeKeyPolicy::Error,
        alias_limits: aliases,
    }
}

/// Parses and validates a suite from text; `file` is used in diagnostics and
/// [`Suite::file`].
///
/// # Errors
/// [`FixtureError`] with every problem found. YAML and shape errors stop at the first one;
/// the later stages report all of theirs.
pub fn parse_suite(text: &str, file: &Path, options: &LoadOptions) -> Result<Suite, FixtureError> {
    let raw: RawSuite = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|err| FixtureError::from_yaml(file, &err))?;
    let mut sink = Sink::new(file);

    if raw.schema.value != SCHEMA {
        sink.error(
            raw.schema.referenced.line(),
            raw.schema.referenced.column(),
            format!(
                "unsupported schema `{}` (expected `{SCHEMA}`)",
                raw.schema.value
            ),
        );
    }
    let suite_line = raw.suite.referenced.line();
    if !is_slug(&raw.suite.value) {
        sink.error(
            suite_line,
            raw.suite.referenced.column(),
            format!(
                "suite name `{}` must be a slug ([A-Za-z0-9_.-] segments separated by `/`)",
                raw.suite.value
            ),
        );
    }

    let defaults = raw.defaults;
    let transports = defaults
        .transports
        .unwrap_or_else(|| vec![Transport::Polling, Transport::Websocket]);
    if transports.is_empty() {
        sink.error(suite_line, 0, "`defaults.transports` must not be empty");
    }
    if let Some(timeout) = &defaults.step_timeout {
        for name in timeout.value.variables() {
            if !options.builtins.iter().any(|builtin| builtin == name) {
                sink.error(
                    timeout.referenced.line(),
                    timeout.referenced.column(),
                    format!("`step_timeout` can only use built-in variables, not `${{{name}}}`"),
                );
            }
        }
    }
    let eio = defaults.eio.unwrap_or_else(|| vec![4]);
    let defaults = Defaults {
        path: defaults.path,
        heartbeat: defaults.heartbeat.unwrap_or(Heartbeat::Auto),
        transports,
        level: defaults.level.unwrap_or(Level::Must),
        step_timeout: defaults.step_timeout.map(|timeout| timeout.value),
        requires: defaults.requires,
        eio,
        layer: defaults.layer.unwrap_or(Layer::Socketio),
    };

    let mut converter = Converter { sink: &mut sink };
    converter.eio_values(suite_line, 0, "defaults.eio", &defaults.eio);
    let fragments: BTreeMap<String, Fragment> = raw
        .fragments
        .into_iter()
        .map(|(name, steps)| {
            let line = steps.referenced.line();
            (
                name,
                Fragment {
                    line,
                    steps: converter.steps(steps.value),
                },
            )
        })
        .collect();

    let mut cases = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for spanned in raw.cases {
        let line = spanned.referenced.line();
        let column = spanned.referenced.column();
        let case = spanned.value;
        if !is_slug(&case.id) {
            converter.sink.error(
                line,
                column,
                format!(
                    "case id `{}` must be a slug ([A-Za-z0-9_.-] segments separated by `/`)",
                    case.id
                ),
            );
        }
        if let Some(first) = seen.insert(case.id.clone(), line) {
            converter.sink.error(
                line,
                column,
                format!("duplicate case id `{}` (first at line {first})", case.id),
            );
        }
        if let Some(eio) = &case.eio {
            converter.eio_values(line, column, "eio", eio);
        }
        if case.transports.as_ref().is_some_and(Vec::is_empty) {
            converter
                .sink
                .error(line, column, "`transports` must not be empty");
        }
        cases.push(Case {
            id: case.id,
            line,
            title: case.title,
            official: case.official.0,
            spec: case.spec.0,
            level: case.level,
            requires: case.requires,
            provides: case.provides,
            serial: case.serial,
            transports: case.transports,
            eio: case.eio,
            heartbeat: case.heartbeat,
            path: case.path,
            layer: case.layer,
            steps: converter.steps(case.steps),
        });
    }
    // Later stages would report follow-up noise for dropped steps: stop here.
    if !sink.diagnostics.is_empty() {
        return Err(sink.into_error());
    }

    let mut suite = Suite {
        file: file.to_owned(),
        source: Arc::from(text),
        line: suite_line,
        suite: raw.suite.value,
        title: raw.title,
        spec_base_url: raw.spec.map(|spec| spec.base_url),
        defaults,
        fragments,
        cases: Vec::new(),
        instances: Vec::new(),
    };
    let mut instances = Vec::new();
    for case in &cases {
        let before = sink.diagnostics.len();
        let steps = expand::inline_fragments(&case.steps, &suite.fragments, &mut sink);
        if sink.diagnostics.len() > before {
            continue;
        }
        if case.transports.is_some() && !expand::has_open(&steps) {
            sink.error(
                case.line,
                0,
                format!(
                    "case `{}` sets `transports` but has no `open` step to expand",
                    case.id
                ),
            );
        }
        let axis = case.eio.as_ref().unwrap_or(&suite.defaults.eio);
        expand::walk(&steps, &mut |step| {
            let dead = step
                .when_eio
                .as_ref()
                .is_some_and(|only| !only.iter().any(|eio| axis.contains(eio)));
            // A fragment may serve cases of either revision; a dead step of the case itself
            // is a mistake.
            if dead && step.included_from.is_empty() {
                sink.error(
                    step.line,
                    step.column,
                    format!("`when.eio` never holds: the case runs on eio {axis:?}"),
                );
            }
        });
        instances.extend(expand::instances(&suite, case, &steps, |steps| {
            validate::validate_case(steps, &options.builtins, &mut sink);
        }));
    }
    suite.cases = cases;
    suite.instances = instances;
    sink.finish(suite)
}

/// The YAML block of `source` starting at `line` (a case, a step), at most `max` lines: up to
/// the next line indented no deeper than the first (the next case or step, or a comment
/// between them), trailing blank lines dropped.
///
/// # Errors
/// `line` is past the end of `source`.
pub fn excerpt(source: &str, line: u64, max: usize) -> Result<Vec<&str>, String> {
    let lines: Vec<&str> = source.lines().collect();
    let start = usize::try_from(line).unwrap_or(usize::MAX).wrapping_sub(1);
    let first = lines
        .get(start)
        .ok_or_else(|| format!("line {line} is past the end of the file"))?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let depth = indent(first);
    let mut end = lines[start + 1..]
        .iter()
        .position(|l| !l.trim().is_empty() && indent(l) <= depth)
        .map_or(lines.len(), |n| start + 1 + n);
    while end > start + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    Ok(lines[start..end.min(start.saturating_add(max))].to_vec())
}

/// Visits every step of `steps`, children of `repeat` and `unordered` included, in order.
pub fn walk_steps<'a>(steps: &'a [Step], visit: &mut dyn FnMut(&'a Step)) {
    expand::walk(steps, visit);
}

impl Suite {
    /// The instance with this full id.
    #[must_use]
    pub fn instance(&self, id: &str) -> Option<&CaseInstance> {
        self.instances.iter().find(|instance| instance.id == id)
    }
}

#[cfg(test)]
mod tests;
