//! Fixture errors, each with `file:line:column`.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a fixture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The fixture file.
    pub file: PathBuf,
    /// 1-based line; 0 when unknown (e.g. the file could not be read).
    pub line: u64,
    /// 1-based column; 0 when unknown.
    pub column: u64,
    /// What is wrong, without the location.
    pub message: String,
    /// serde-saphyr's rendering with a source excerpt, for YAML and shape errors.
    pub snippet: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.column) {
            (0, _) => write!(f, "{file}: {}", self.message),
            (line, 0) => write!(f, "{file}:{line}: {}", self.message),
            (line, column) => write!(f, "{file}:{line}:{column}: {}", self.message),
        }
    }
}

/// Why fixtures could not be loaded: one or more [`Diagnostic`]s, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureError {
    /// The problems (never empty).
    pub diagnostics: Vec<Diagnostic>,
}

impl FixtureError {
    /// An error with a single diagnostic.
    #[must_use]
    pub fn single(file: &Path, line: u64, column: u64, message: impl Into<String>) -> Self {
        Self {
            diagnostics: vec![Diagnostic {
                file: file.to_owned(),
                line,
                column,
                message: message.into(),
                snippet: None,
            }],
        }
    }

    /// Converts a serde-saphyr error, keeping its location and source excerpt.
    pub(super) fn from_yaml(file: &Path, error: &serde_saphyr::Error) -> Self {
        let (line, column) = error
            .location()
            .map_or((0, 0), |location| (location.line(), location.column()));
        let mut message = error.without_snippet().to_string();
        // The plain message repeats the location we already print in front.
        let suffix = format!(" at line {line}, column {column}");
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
        if message.contains("alias expansion limit exceeded") {
            message =
                "YAML aliases are not allowed in fixtures; use `fragments:` and `use:`".into();
        }
        Self {
            diagnostics: vec![Diagnostic {
                file: file.to_owned(),
                line,
                column,
                message,
                snippet: Some(error.to_string()),
            }],
        }
    }
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FixtureError {}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub(super) struct Sink<'a> {
    pub(super) file: &'a Path,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub(super) fn new(file: &'a Path) -> Self {
        Self {
            file,
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn error(&mut self, line: u64, column: u64, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
            snippet: None,
        });
    }

    /// `Ok(value)` if nothing was reported, the diagnostics otherwise.
    pub(super) fn finish<T>(self, value: T) -> Result<T, FixtureError> {
        if self.diagnostics.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    /// The diagnostics reported so far, in line order.
    pub(super) fn into_error(mut self) -> FixtureError {
        self.diagnostics
            .sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
        FixtureError {
            diagnostics: self.diagnostics,
        }
    }
}
