//! `conformance coverage`: the spec coverage map.
//!
//! A catalogue (`fixtures/spec/*.yaml`, one file per protocol document) lists every normative
//! statement of the four protocol documents, verbatim, with its keyword level and either the
//! built-in mutants that prove a case checking it can fail, or `observable: false` and why a
//! client cannot see it. `fixtures/spec/official.yaml` lists every test of the official suites
//! with the mutants that prove its ported cases can fail.
//!
//! Cases link to statements through their existing `spec:` references (case or step level):
//! an anchor whose quote contains the statement's sentence (whitespace runs count as one
//! space; the quote's document is the suite's `spec.base_url` with the anchor's relative path
//! resolved), or a requirement id `<document>:<statement id>` (`eio4:heartbeat.ping-timeout`).
//! When a quote contains sentences of several statements of the same document, the ones whose
//! anchor is the quote's anchor are taken (the same sentence appears under `#sending-data` and
//! `#receiving-data`). A statement of an Engine.IO 3 document (`eio3`, `sio4`) is covered only
//! by instances on Engine.IO 3, one of an Engine.IO 4 document only by instances on Engine.IO 4.
//!
//! The command prints, per document, each statement with its level, its case instances and its
//! mutants or the reason it is not observable, then the official tests with their porting
//! instances, then a summary. It exits 1 when an observable MUST / MUST NOT has no case or no
//! mutant, 2 when the catalogue does not load or names an unknown mutant, statement or test.
//! Whether the declared mutants really are killed by the linked cases is the kill matrix's
//! business: `conformance mutants matrix` runs [`unproven`] on its results and fails when a
//! (statement → mutant) pair is not killed by one of the statement's linked instances.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::scenario::{CaseInstance, SpecRef, Suite};
use sio_mutants::Mutant;

/// `schema:` of a statement catalogue file.
pub const CATALOGUE_SCHEMA: &str = "conformance.spec-catalogue/v1";
/// `schema:` of the official-suites file.
pub const OFFICIAL_SCHEMA: &str = "conformance.official-suites/v1";

/// One protocol document's statements (`fixtures/spec/<document>.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// [`CATALOGUE_SCHEMA`].
    pub schema: String,
    /// Document id, the prefix of requirement ids (`eio4`).
    pub document: String,
    /// Human title.
    pub title: String,
    /// Where the quotes were copied from.
    pub source: Source,
    /// Where the anchors point (the document at the commit the fixtures link to).
    pub url: String,
    /// The Engine.IO revision the document's protocol runs on: only instances on it cover it.
    pub eio: u8,
    /// How the document was read (levels of documents without RFC 2119 keywords, etc.).
    #[serde(default)]
    pub note: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// Where a catalogue's quotes come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `socketio/socket.io`.
    pub repo: String,
    /// Path of the document in that repository.
    pub path: String,
    /// Commit of the copy the quotes were taken from.
    pub commit: String,
}

/// One normative statement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Stable id within the document (`polling.get-unknown-sid`).
    pub id: String,
    /// Section anchor (`#receiving-data`).
    pub anchor: String,
    /// Keyword level.
    pub level: Keyword,
    /// The sentence, verbatim (a line break inside a sentence written as a space).
    pub text: String,
    /// The lead-in of a list item (`The server MUST:`), verbatim.
    #[serde(default)]
    pub context: Option<String>,
    /// Mutants (names of `conformance mutants list`) that a case checking this statement
    /// fails.
    #[serde(default)]
    pub mutants: Vec<String>,
    /// Whether a client can see the server honour it (default true).
    #[serde(default = "yes")]
    pub observable: bool,
    /// Why it is not observable (required with `observable: false`).
    #[serde(default)]
    pub reason: Option<String>,
    /// Anything else worth saying (spec bugs, reference deviations).
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

/// Keyword level of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum Keyword {
    /// MUST (or, in the documents without RFC 2119 keywords, a lower-case "must").
    #[serde(rename = "MUST")]
    Must,
    /// MUST NOT.
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// SHOULD (or "should").
    #[serde(rename = "SHOULD")]
    Should,
    /// SHOULD NOT (or "should not").
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    /// MAY (or "may", "can").
    #[serde(rename = "MAY")]
    May,
    /// A rule of the packet or payload grammar.
    #[serde(rename = "GRAMMAR")]
    Grammar,
    /// Behaviour the document describes as what happens, without a keyword.
    #[serde(rename = "DESCRIPTIVE")]
    Descriptive,
}

impl Keyword {
    /// The catalogue spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::MustNot => "MUST NOT",
            Self::Should => "SHOULD",
            Self::ShouldNot => "SHOULD NOT",
            Self::May => "MAY",
            Self::Grammar => "GRAMMAR",
            Self::Descriptive => "DESCRIPTIVE",
        }
    }

    /// MUST or MUST NOT: the goal is a case and a mutant for each observable one.
    #[must_use]
    pub fn is_must(self) -> bool {
        matches!(self, Self::Must | Self::MustNot)
    }
}

/// `fixtures/spec/official.yaml`: the tests of the official suites.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Official {
    /// [`OFFICIAL_SCHEMA`].
    pub schema: String,
    /// Where the titles come from.
    #[serde(default)]
    pub note: Option<String>,
    /// The repository and commit the suites were ported from.
    #[serde(default)]
    pub source: Option<BTreeMap<String, String>>,
    /// One per official suite.
    pub suites: Vec<OfficialSuite>,
}

/// One official suite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialSuite {
    /// Our suite that ports it (`eio4`).
    pub suite: String,
    /// Human title.
    pub title: String,
    /// The official file.
    pub file: String,
    /// Its tests.
    pub tests: Vec<OfficialTest>,
}

/// One official test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialTest {
    /// The title, as the porting cases' `official:` spell it.
    pub title: String,
    /// What it asserts (protocol.md §3).
    #[serde(default)]
    pub asserts: Option<String>,
    /// Mutants that a porting case fails.
    #[serde(default)]
    pub mutants: Vec<String>,
    /// `it.skip` upstream.
    #[serde(default)]
    pub skipped: bool,
}

/// Everything under `fixtures/spec`.
#[derive(Debug, Clone)]
pub struct Spec {
    /// One per document, sorted by file name.
    pub catalogues: Vec<Catalogue>,
    /// The official suites.
    pub official: Option<Official>,
}

/// Loads the catalogue directory: every `*.yaml` with the catalogue schema, and `official.yaml`.
///
/// # Errors
/// A file that does not parse, has another schema, or repeats a document or statement id.
pub fn load_spec(dir: &Path) -> Result<Spec, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        texts.push((file, text));
    }
    parse_spec(
        texts
            .iter()
            .map(|(file, text)| (file.as_path(), text.as_str())),
    )
}

/// The built-in catalogue (`fixtures/spec` of the source tree the binary was built from).
///
/// # Errors
/// As [`load_spec`] (it cannot fail once the tests pass).
pub fn builtin_spec() -> Result<Spec, String> {
    parse_spec(crate::fixtures::yaml_in("fixtures/spec").map(|f| (Path::new(f.path), f.text)))
}

/// `--spec DIR`, else the built-in catalogue.
pub fn spec_of(explicit: Option<&Path>) -> Result<Spec, String> {
    explicit.map_or_else(builtin_spec, load_spec)
}

/// The catalogue of `(file, text)` pairs: every file with the catalogue schema, and
/// `official.yaml`.
fn parse_spec<'a>(files: impl IntoIterator<Item = (&'a Path, &'a str)>) -> Result<Spec, String> {
    let mut spec = Spec {
        catalogues: Vec::new(),
        official: None,
    };
    for (file, text) in files {
        let at = |e: String| format!("{}: {e}", file.display());
        if file.file_name().is_some_and(|n| n == "official.yaml") {
            let official: Official =
                crate::expected::parse_tagged(text, OFFICIAL_SCHEMA, |o: &Official| &o.schema)
                    .map_err(at)?;
            spec.official = Some(official);
        } else {
            let catalogue = parse_catalogue(text).map_err(at)?;
            if spec
                .catalogues
                .iter()
                .any(|c| c.document == catalogue.document)
            {
                return Err(at(format!("document `{}` twice", catalogue.document)));
            }
            spec.catalogues.push(catalogue);
        }
    }
    Ok(spec)
}

/// Parses one catalogue file and checks its ids and reasons.
///
/// # Errors
/// Parse errors, a wrong schema, a statement id used twice, `observable: false` without a
/// reason.
pub fn parse_catalogue(text: &str) -> Result<Catalogue, String> {
    let catalogue: Catalogue =
        crate::expected::parse_tagged(text, CATALOGUE_SCHEMA, |c: &Catalogue| &c.schema)?;
    let mut ids = BTreeSet::new();
    for s in &catalogue.statements {
        if !ids.insert(s.id.as_str()) {
            return Err(format!("statement id `{}` twice", s.id));
        }
        if !s.observable && s.reason.as_deref().is_none_or(str::is_empty) {
            return Err(format!("`{}`: `observable: false` needs a `reason`", s.id));
        }
        if !s.observable && !s.mutants.is_empty() {
            return Err(format!("`{}`: not observable, yet it has mutants", s.id));
        }
    }
    Ok(catalogue)
}

/// Collapses every whitespace run to one space and trims.
#[must_use]
pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The repository path and the fragment an anchor of a suite points at: `base_url` and the
/// anchor concatenated, dot segments resolved, the part after `/blob/<commit>/` taken
/// (`docs/engine.io-protocol/v4-current.md`, `heartbeat`). `None` for the path when the suite
/// has no `spec.base_url`.
#[must_use]
pub fn resolve_anchor(base_url: Option<&str>, anchor: &str) -> (Option<String>, String) {
    let (relative, fragment) = anchor.split_once('#').unwrap_or((anchor, ""));
    let Some(base) = base_url else {
        return (None, fragment.to_owned());
    };
    let url = format!("{base}{relative}");
    let mut segments: Vec<&str> = Vec::new();
    for segment in url.split('/') {
        match segment {
            ".." => {
                segments.pop();
            }
            "." => {}
            s => segments.push(s),
        }
    }
    let joined = segments.join("/");
    let path = match joined.split_once("/blob/") {
        // `<commit>/<path>`
        Some((_, rest)) => rest.split_once('/').map_or(rest, |(_, p)| p).to_owned(),
        None => joined,
    };
    (Some(path), fragment.to_owned())
}

/// Where one spec reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// These statements (`(document, statement id)`).
    Statements(Vec<(String, String)>),
    /// A quote of a catalogued document that contains no statement's sentence.
    Unmatched {
        /// The document.
        document: String,
        /// The quote.
        quote: String,
    },
    /// A requirement id naming a catalogued document but no statement of it.
    UnknownRequirement(String),
    /// Something outside the catalogue (another document, an anchor without a quote, a
    /// requirement id of another catalogue).
    Elsewhere,
}

/// Where `spec` (of a suite with `base_url`) points in the catalogue.
#[must_use]
pub fn target(catalogues: &[Catalogue], base_url: Option<&str>, spec: &SpecRef) -> Target {
    match spec {
        SpecRef::Requirement(id) => {
            let Some((document, statement)) = id.split_once(':') else {
                return Target::Elsewhere;
            };
            let Some(catalogue) = catalogues.iter().find(|c| c.document == document) else {
                return Target::Elsewhere;
            };
            if catalogue.statements.iter().any(|s| s.id == statement) {
                Target::Statements(vec![(document.to_owned(), statement.to_owned())])
            } else {
                Target::UnknownRequirement(id.clone())
            }
        }
        SpecRef::Anchor { anchor, quote } => {
            let Some(quote) = quote else {
                return Target::Elsewhere;
            };
            let (path, fragment) = resolve_anchor(base_url, anchor);
            let quote = normalize(quote);
            let mut found = Vec::new();
            let mut in_catalogue = None;
            for catalogue in catalogues {
                if path.as_deref().is_some_and(|p| p != catalogue.source.path) {
                    continue;
                }
                in_catalogue.get_or_insert(catalogue.document.clone());
                let matching: Vec<&Statement> = catalogue
                    .statements
                    .iter()
                    .filter(|s| quote.contains(&normalize(&s.text)))
                    .collect();
                let same_anchor: Vec<&Statement> = matching
                    .iter()
                    .copied()
                    .filter(|s| s.anchor.trim_start_matches('#') == fragment)
                    .collect();
                let chosen = if same_anchor.is_empty() {
                    matching
                } else {
                    same_anchor
                };
                found.extend(
                    chosen
                        .into_iter()
                        .map(|s| (catalogue.document.clone(), s.id.clone())),
                );
            }
            match (found.is_empty(), in_catalogue) {
                (false, _) => Target::Statements(found),
                (true, Some(document)) if path.is_some() => Target::Unmatched { document, quote },
                _ => Target::Elsewhere,
            }
        }
    }
}

/// The spec references of an instance: the case's, then every step's.
fn references(instance: &CaseInstance) -> impl Iterator<Item = &SpecRef> {
    instance
        .spec
        .iter()
        .chain(instance.steps.iter().flat_map(|s| s.spec.iter()))
}

/// The links between the catalogue and the suites.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// `(document, statement id)` → the instance ids that check it, in fixture order.
    pub instances: BTreeMap<(String, String), Vec<String>>,
    /// Instance id → the `(document, statement id)`s it checks.
    pub statements_of: BTreeMap<String, BTreeSet<(String, String)>>,
    /// Quotes of catalogued documents that contain no statement: `(document, quote)` → case ids.
    pub unmatched: BTreeMap<(String, String), BTreeSet<String>>,
    /// Requirement ids that name no statement → case ids.
    pub unknown_requirements: BTreeMap<String, BTreeSet<String>>,
    /// Official title (per our suite) → porting instance ids.
    pub official: BTreeMap<(String, String), Vec<String>>,
}

/// Links every instance of `suites` to the catalogue.
#[must_use]
pub fn link(catalogues: &[Catalogue], suites: &[Suite]) -> Coverage {
    let eio_of: BTreeMap<&str, u8> = catalogues
        .iter()
        .map(|c| (c.document.as_str(), c.eio))
        .collect();
    let mut coverage = Coverage::default();
    for suite in suites {
        for instance in &suite.instances {
            for title in &instance.official {
                let ids = coverage
                    .official
                    .entry((suite.suite.clone(), title.clone()))
                    .or_default();
                if !ids.contains(&instance.id) {
                    ids.push(instance.id.clone());
                }
            }
            for spec in references(instance) {
                match target(catalogues, suite.spec_base_url.as_deref(), spec) {
                    Target::Statements(keys) => {
                        for key in keys {
                            if eio_of.get(key.0.as_str()) != Some(&instance.eio) {
                                continue;
                            }
                            let ids = coverage.instances.entry(key.clone()).or_default();
                            if !ids.contains(&instance.id) {
                                ids.push(instance.id.clone());
                            }
                            coverage
                                .statements_of
                                .entry(instance.id.clone())
                                .or_default()
                                .insert(key);
                        }
                    }
                    Target::Unmatched { document, quote } => {
                        coverage
                            .unmatched
                            .entry((document, quote))
                            .or_default()
                            .insert(instance.case_id.clone());
                    }
                    Target::UnknownRequirement(id) => {
                        coverage
                            .unknown_requirements
                            .entry(id)
                            .or_default()
                            .insert(instance.case_id.clone());
                    }
                    Target::Elsewhere => {}
                }
            }
        }
    }
    coverage
}

/// Problems that make the catalogue unusable: unknown mutant names, requirement ids that name
/// no statement, official titles of cases that the official file does not list.
#[must_use]
pub fn errors(spec: &Spec, coverage: &Coverage) -> Vec<String> {
    let mut errors = Vec::new();
    let known = |name: &str| Mutant::from_name(name).is_some_and(|m| m.name() != "none");
    for catalogue in &spec.catalogues {
        for s in &catalogue.statements {
            for m in s.mutants.iter().filter(|m| !known(m)) {
                errors.push(format!(
                    "{}:{}: unknown mutant `{m}`",
                    catalogue.document, s.id
                ));
            }
        }
    }
    if let Some(official) = &spec.official {
        for suite in &official.suites {
            for test in &suite.tests {
                for m in test.mutants.iter().filter(|m| !known(m)) {
                    errors.push(format!(
                        "official {} `{}`: unknown mutant `{m}`",
                        suite.suite, test.title
                    ));
                }
            }
        }
        for (suite, title) in coverage.official.keys() {
            let listed = official
                .suites
                .iter()
                .filter(|s| &s.suite == suite)
                .any(|s| s.tests.iter().any(|t| &t.title == title));
            if !listed {
                errors.push(format!(
                    "suite {suite}: `official:` title not in fixtures/spec/official.yaml: {title}"
                ));
            }
        }
    }
    for (id, cases) in &coverage.unknown_requirements {
        errors.push(format!(
            "requirement id `{id}` names no statement (cases: {})",
            join(cases.iter())
        ));
    }
    errors
}

fn join<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// One row of the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Statements.
    pub statements: usize,
    /// Observable ones.
    pub observable: usize,
    /// Observable ones checked by some case instance.
    pub with_case: usize,
    /// Observable MUST / MUST NOT.
    pub musts: usize,
    /// … with a case.
    pub musts_with_case: usize,
    /// … with a case and a mutant.
    pub musts_proven: usize,
}

/// Observable MUST / MUST NOT statements without a case, and those without a mutant
/// (`document:id`).
#[must_use]
pub fn gaps(catalogues: &[Catalogue], coverage: &Coverage) -> (Vec<String>, Vec<String>) {
    let mut no_case = Vec::new();
    let mut no_mutant = Vec::new();
    for c in catalogues {
        for s in c
            .statements
            .iter()
            .filter(|s| s.observable && s.level.is_must())
        {
            let key = (c.document.clone(), s.id.clone());
            let id = format!("{}:{}", c.document, s.id);
            if coverage.instances.get(&key).is_none_or(Vec::is_empty) {
                no_case.push(id.clone());
            }
            if s.mutants.is_empty() {
                no_mutant.push(id);
            }
        }
    }
    (no_case, no_mutant)
}

fn counts(catalogue: &Catalogue, coverage: &Coverage) -> Counts {
    let mut n = Counts::default();
    for s in &catalogue.statements {
        n.statements += 1;
        if !s.observable {
            continue;
        }
        n.observable += 1;
        let has_case = coverage
            .instances
            .get(&(catalogue.document.clone(), s.id.clone()))
            .is_some_and(|v| !v.is_empty());
        n.with_case += usize::from(has_case);
        if s.level.is_must() {
            n.musts += 1;
            n.musts_with_case += usize::from(has_case);
            n.musts_proven += usize::from(has_case && !s.mutants.is_empty());
        }
    }
    n
}

/// For the kill matrix: the catalogue's (statement → mutant) and (official test → mutant)
/// pairs that none of the linked case instances kills. `kills` maps a mutant name to the
/// instances that kill it; mutants missing from it (not run) are not checked.
///
/// # Errors
/// The catalogue does not load.
pub fn unproven(
    suites: &[Suite],
    kills: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, String> {
    let spec = builtin_spec()?;
    Ok(unproven_in(&spec, &link(&spec.catalogues, suites), kills))
}

/// [`unproven`] on a loaded catalogue.
#[must_use]
pub fn unproven_in(
    spec: &Spec,
    coverage: &Coverage,
    kills: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |what: String, mutants: &[String], instances: &[String]| {
        for m in mutants {
            let Some(killers) = kills.get(m) else {
                continue;
            };
            if !instances.iter().any(|i| killers.contains(i)) {
                problems.push(format!(
                    "{what}: mutant `{m}` is killed by none of its case instances"
                ));
            }
        }
    };
    for c in &spec.catalogues {
        for s in &c.statements {
            let key = (c.document.clone(), s.id.clone());
            let instances = coverage.instances.get(&key).map_or(&[][..], Vec::as_slice);
            check(format!("{}:{}", c.document, s.id), &s.mutants, instances);
        }
    }
    if let Some(official) = &spec.official {
        for suite in &official.suites {
            for t in &suite.tests {
                let key = (suite.suite.clone(), t.title.clone());
                let instances = coverage.official.get(&key).map_or(&[][..], Vec::as_slice);
                check(
                    format!("official {} `{}`", suite.suite, t.title),
                    &t.mutants,
                    instances,
                );
            }
        }
    }
    problems
}

fn statement_label(c: &Catalogue, s: &Statement) -> String {
    format!("{}:{}", c.document, s.id)
}

/// The verdict column: mutants, or why not observable, or what is missing.
fn proof(s: &Statement, has_case: bool) -> String {
    if !s.observable {
        return format!(
            "not observable by a client: {}",
            s.reason.as_deref().unwrap_or("")
        );
    }
    let mut out = if s.mutants.is_empty() {
        "no mutant".to_owned()
    } else {
        s.mutants
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !has_case {
        out.push_str(" (no case)");
    }
    out
}

/// The terminal rendering.
#[must_use]
pub fn text(spec: &Spec, coverage: &Coverage) -> String {
    let mut out = String::new();
    for c in &spec.catalogues {
        let _ = writeln!(
            out,
            "{} ({} @ {})",
            c.title,
            c.source.path,
            short(&c.source.commit)
        );
        for s in &c.statements {
            let key = (c.document.clone(), s.id.clone());
            let instances = coverage.instances.get(&key).map_or(&[][..], Vec::as_slice);
            let _ = writeln!(
                out,
                "  {:<44} {:<11} {}",
                statement_label(c, s),
                s.level.name(),
                s.anchor
            );
            let _ = writeln!(out, "    \"{}\"", quoted(s));
            if !instances.is_empty() {
                let _ = writeln!(out, "    cases:   {}", instances.join(", "));
            }
            let _ = writeln!(out, "    proof:   {}", proof(s, !instances.is_empty()));
        }
        out.push('\n');
    }
    if let Some(official) = &spec.official {
        for suite in &official.suites {
            let _ = writeln!(out, "Official: {} ({})", suite.title, suite.file);
            for t in &suite.tests {
                let key = (suite.suite.clone(), t.title.clone());
                let instances = coverage.official.get(&key).map_or(&[][..], Vec::as_slice);
                let _ = writeln!(out, "  {}", t.title);
                if instances.is_empty() {
                    let _ = writeln!(out, "    cases:   none (not ported)");
                } else {
                    let _ = writeln!(out, "    cases:   {}", instances.join(", "));
                }
                let _ = writeln!(out, "    mutants: {}", mutant_list(&t.mutants, false));
            }
            out.push('\n');
        }
    }
    for ((document, quote), cases) in &coverage.unmatched {
        let _ = writeln!(
            out,
            "quote of {document} that contains no catalogued statement: \"{quote}\" ({})",
            join(cases.iter())
        );
    }
    out.push_str(&summary_text(spec, coverage));
    out
}

fn quoted(s: &Statement) -> String {
    match &s.context {
        Some(context) => format!("{} … {}", normalize(context), normalize(&s.text)),
        None => normalize(&s.text),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

fn mutant_list(mutants: &[String], code: bool) -> String {
    if mutants.is_empty() {
        return "none".to_owned();
    }
    mutants
        .iter()
        .map(|m| if code { format!("`{m}`") } else { m.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn official_counts(spec: &Spec, coverage: &Coverage) -> (usize, usize, usize) {
    let (mut tests, mut ported, mut proven) = (0, 0, 0);
    if let Some(official) = &spec.official {
        for suite in &official.suites {
            for t in &suite.tests {
                tests += 1;
                let key = (suite.suite.clone(), t.title.clone());
                let is_ported = coverage.official.get(&key).is_some_and(|v| !v.is_empty());
                ported += usize::from(is_ported);
                proven += usize::from(is_ported && !t.mutants.is_empty());
            }
        }
    }
    (tests, ported, proven)
}

fn summary_text(spec: &Spec, coverage: &Coverage) -> String {
    let mut out = String::from("Summary\n");
    for c in &spec.catalogues {
        let n = counts(c, coverage);
        let _ = writeln!(
            out,
            "  {:<5} {} statements, {} observable, {} with a case; observable MUST/MUST NOT: {}, {} with a case, {} with a case and a mutant",
            c.document,
            n.statements,
            n.observable,
            n.with_case,
            n.musts,
            n.musts_with_case,
            n.musts_proven
        );
    }
    let (tests, ported, proven) = official_counts(spec, coverage);
    let _ = writeln!(
        out,
        "  official tests: {tests}, {ported} ported, {proven} ported with a mutant"
    );
    let (no_case, no_mutant) = gaps(&spec.catalogues, coverage);
    let _ = writeln!(
        out,
        "  observable MUST/MUST NOT without a case ({}): {}",
        no_case.len(),
        if no_case.is_empty() {
            "none".to_owned()
        } else {
            no_case.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "  observable MUST/MUST NOT without a mutant ({}): {}",
        no_mutant.len(),
        if no_mutant.is_empty() {
            "none".to_owned()
        } else {
            no_mutant.join(", ")
        }
    );
    out
}

/// Escapes a cell of a markdown table: `|`, line breaks, and `<` / `>` outside code spans (the
/// v5 format line `<packet type>[…]` is not an HTML tag).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// The page `docs/spec-coverage.md`.
#[must_use]
pub fn markdown(spec: &Spec, coverage: &Coverage) -> String {
    let mut out = String::new();
    out.push_str("# Spec coverage\n\n");
    out.push_str(
        "Generated by `conformance coverage --format markdown > docs/spec-coverage.md` from the \
         catalogue in `fixtures/spec/` and the suites in `fixtures/conformance/` (do not edit by \
         hand; CI fails when it is stale).\n\n",
    );
    out.push_str(
        "Every normative statement of the four protocol documents (each MUST, MUST NOT, SHOULD, \
         SHOULD NOT, each testable MAY, and the rules of the packet and payload grammar; \
         DESCRIPTIVE marks behaviour a document states without a keyword), quoted verbatim, \
         with the case instances that check it and the built-in mutants (`conformance mutants \
         list`) that those cases fail, or why a client cannot observe it. A case checks a \
         statement when one of its `spec:` quotes (case or step) contains the statement's \
         sentence, or names it by id (`eio4:heartbeat.ping-timeout`). That the mutants are \
         really killed by these cases is what the [kill matrix](kill-matrix.md) shows.\n\n",
    );
    out.push_str("## Summary\n\n");
    out.push_str(
        "| document | statements | observable | observable with a case | observable MUST / MUST NOT | … with a case | … with a case and a mutant |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in &spec.catalogues {
        let n = counts(c, coverage);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.title,
            n.statements,
            n.observable,
            n.with_case,
            n.musts,
            n.musts_with_case,
            n.musts_proven
        );
    }
    let (tests, ported, proven) = official_counts(spec, coverage);
    let _ = writeln!(
        out,
        "\nOfficial suites: {tests} tests, {ported} ported, {proven} ported with a mutant that the porting cases fail.\n"
    );
    let (no_case, no_mutant) = gaps(&spec.catalogues, coverage);
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        out,
        "Observable MUST / MUST NOT statements without a case ({}): {}.\n",
        no_case.len(),
        list(&no_case)
    );
    let _ = writeln!(
        out,
        "Observable MUST / MUST NOT statements without a mutant ({}): {}.\n",
        no_mutant.len(),
        list(&no_mutant)
    );
    for c in &spec.catalogues {
        let _ = writeln!(
            out,
            "## {}\n\n[`{}`]({}) (quotes from {}@{}).",
            c.title,
            c.source.path,
            c.url,
            c.source.repo,
            short(&c.source.commit)
        );
        if let Some(note) = &c.note {
            let _ = writeln!(out, "{}", normalize(note));
        }
        out.push_str(
            "\n| id | level | statement | case instances | mutants / not observable |\n|---|---|---|---|---|\n",
        );
        for s in &c.statements {
            let key = (c.document.clone(), s.id.clone());
            let instances = coverage.instances.get(&key).map_or(&[][..], Vec::as_slice);
            let mut statement = format!("[{}]({}{}) {}", s.anchor, c.url, s.anchor, quoted(s));
            if let Some(note) = &s.note {
                let _ = write!(statement, " *Note: {}*", normalize(note));
            }
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                s.id,
                s.level.name(),
                cell(&statement),
                cell(
                    &instances
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                cell(&proof(s, !instances.is_empty()))
            );
        }
        out.push('\n');
    }
    if let Some(official) = &spec.official {
        out.push_str("## Official test suites\n\n");
        out.push_str(
            "Every test of the official suites (titles as in [the mapping](official-mapping.md)), \
             the case instances that port it, and the mutants those instances fail.\n\n",
        );
        for suite in &official.suites {
            let _ = writeln!(
                out,
                "### {}\n\n`{}`, ported by suite `{}`.\n\n| official test | asserts | case instances | mutants |\n|---|---|---|---|",
                suite.title, suite.file, suite.suite
            );
            for t in &suite.tests {
                let key = (suite.suite.clone(), t.title.clone());
                let instances = coverage.official.get(&key).map_or(&[][..], Vec::as_slice);
                let title = if t.skipped {
                    format!("{} (`it.skip` upstream)", t.title)
                } else {
                    t.title.clone()
                };
                let ported = if instances.is_empty() {
                    "**not ported**".to_owned()
                } else {
                    instances
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&title),
                    cell(t.asserts.as_deref().unwrap_or("")),
                    cell(&ported),
                    mutant_list(&t.mutants, true)
                );
            }
            out.push('\n');
        }
    }
    if !coverage.unmatched.is_empty() {
        out.push_str(
            "## Quotes that contain no catalogued statement\n\nQuotes of the four documents in \
             `spec:` lists that contain no statement's sentence (a heading, a table row, part of \
             a sentence):\n\n| document | quote | cases |\n|---|---|---|\n",
        );
        for ((document, quote), cases) in &coverage.unmatched {
            let _ = writeln!(
                out,
                "| {document} | {} | {} |",
                cell(quote),
                cell(
                    &cases
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            );
        }
    }
    out
}

#[cfg(test)]
#[path = "coverage/tests.rs"]
mod tests;
