//! The spec coverage map, which `conformance coverage` prints (`commands::coverage`).
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
//!
//! The catalogue model and its loading are in `catalogue`, the text and markdown pages in
//! `render`; this module links cases to statements and finds the gaps.

mod catalogue;
mod render;

pub use catalogue::*;
pub use render::{markdown, text};

use std::collections::{BTreeMap, BTreeSet};

use crate::fixture::{CaseInstance, SpecRef, Suite};
use sio_mutants::Mutant;

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

#[cfg(test)]
mod tests;
