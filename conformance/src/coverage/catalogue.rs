//! The spec catalogue: the statements of each protocol document (`fixtures/spec/<doc>.yaml`)
//! and the official tests (`fixtures/spec/official.yaml`), loaded from a directory or from
//! the files built into the binary; and the normalisation that lets a case's quote find its
//! statements.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

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
    parse_spec(
        crate::fixture::builtin::yaml_in("fixtures/spec").map(|f| (Path::new(f.path), f.text)),
    )
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
