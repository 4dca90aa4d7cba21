//! `conformance coverage`: the spec coverage map ([`crate::coverage`]) printed as text or as
//! the markdown of `docs/spec-coverage.md`; exit 1 when an observable MUST has no case or no
//! mutant, 2 when the catalogue does not load.

use crate::coverage::{errors, gaps, link, markdown, spec_of, text};
use crate::exit;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Options of `coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The suites whose cases cover the statements.
    #[command(flatten)]
    pub fixtures: crate::fixture::builtin::FixtureArgs,
    /// Catalogue directory (default: the built-in `fixtures/spec`).
    #[arg(long, value_name = "DIR")]
    pub spec: Option<PathBuf>,
}

/// Output formats of `coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Text,
    /// The page `docs/spec-coverage.md` is generated from.
    Markdown,
}

/// `conformance coverage`.
pub fn coverage(args: &CoverageArgs) -> u8 {
    let suites = match super::common::load_suites(&args.fixtures) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let spec = match spec_of(args.spec.as_deref()) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let coverage = link(&spec.catalogues, &suites);
    let errors = errors(&spec, &coverage);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("error: {e}");
        }
        return exit::USAGE;
    }
    let text = match args.format {
        Format::Text => text(&spec, &coverage),
        Format::Markdown => markdown(&spec, &coverage),
    };
    print!("{text}");
    let (no_case, no_mutant) = gaps(&spec.catalogues, &coverage);
    if no_case.is_empty() && no_mutant.is_empty() {
        exit::OK
    } else {
        exit::FAILURES
    }
}
