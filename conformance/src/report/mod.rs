//! Reports: one writer per format over the same results (`&[CaseResult]`), each returning
//! the text it would write, never printing: the console summary (`console`), JSON (`json`),
//! JUnit XML (`junit`), TAP 14 (`tap`), GitHub annotations and job summary (`github`), the
//! HTML page (`html`); and the per-case JSONL transcripts ([`write_transcripts`]). What is
//! shared: [`Trace`], [`Summary`], the spec links, the root causes ([`root_causes`]), and the
//! interrupted-run marks ([`mark_interrupted`]).

pub mod console;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod root_cause;
pub mod tap;

pub use console::console;
pub use github::{github_annotations, github_summary};
pub use json::json;
pub use junit::junit;
pub use root_cause::{RootCause, root_causes};
pub use tap::tap;

use crate::engine::{CaseResult, Verdict};
use crate::fixture::SpecRef;
use serde::Serialize;
use std::path::Path;

/// When transcripts are shown and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Trace {
    /// Never.
    None,
    /// For cases that are not PASS.
    Failing,
    /// For every case.
    All,
}

impl Trace {
    pub(crate) fn wants(self, result: &CaseResult) -> bool {
        match self {
            Self::None => false,
            Self::Failing => !matches!(result.verdict, Verdict::Pass | Verdict::Skipped),
            Self::All => result.verdict != Verdict::Skipped,
        }
    }
}

/// Counts per verdict.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    /// PASS.
    pub pass: usize,
    /// NON-STRICT.
    pub non_strict: usize,
    /// FAIL.
    pub fail: usize,
    /// ERROR.
    pub error: usize,
    /// UNSUPPORTED.
    pub unsupported: usize,
    /// SKIPPED.
    pub skipped: usize,
}

impl Summary {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Self {
        let mut s = Self::default();
        for r in results {
            *match r.verdict {
                Verdict::Pass => &mut s.pass,
                Verdict::NonStrict => &mut s.non_strict,
                Verdict::Fail => &mut s.fail,
                Verdict::Error => &mut s.error,
                Verdict::Unsupported => &mut s.unsupported,
                Verdict::Skipped => &mut s.skipped,
            } += 1;
        }
        s
    }
}

/// `base` + `anchor`, with `..` segments resolved (an anchor may point into a sibling
/// document: `/../../engine.io-protocol/v4-current.md#heartbeat`).
pub(crate) fn spec_url(base: &str, anchor: &str) -> String {
    let joined = format!("{base}{anchor}");
    let (path, fragment) = joined
        .split_once('#')
        .map_or((joined.as_str(), None), |(p, f)| (p, Some(f)));
    let (scheme, rest) = path.split_once("://").map_or(("", path), |(s, r)| (s, r));
    let mut segments: Vec<&str> = Vec::new();
    for segment in rest.split('/') {
        match segment {
            ".." if segments.len() > 1 => {
                segments.pop();
            }
            "." => {}
            other => segments.push(other),
        }
    }
    let mut url = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    url.push_str(&segments.join("/"));
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

pub(crate) fn spec_lines(result: &CaseResult) -> Vec<String> {
    let base = result.instance.spec_base_url.as_deref().unwrap_or("");
    result
        .instance
        .spec
        .iter()
        .map(|spec| match spec {
            SpecRef::Requirement(id) => id.clone(),
            SpecRef::Anchor { anchor, quote } => match quote {
                Some(q) => format!("{} \u{201c}{}\u{201d}", spec_url(base, anchor), q.trim()),
                None => spec_url(base, anchor),
            },
        })
        .collect()
}

/// How bad a verdict is, for sorting: ERROR first.
pub(crate) fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Error => 5,
        Verdict::Fail => 4,
        Verdict::NonStrict => 3,
        Verdict::Unsupported => 2,
        Verdict::Skipped => 1,
        Verdict::Pass => 0,
    }
}

/// The report formats of `conformance run --report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`json()`].
    Json,
    /// [`junit()`].
    Junit,
    /// [`html::render`].
    Html,
    /// [`tap()`].
    Tap,
    /// [`github_summary`] (and the annotations).
    Github,
}

/// Marks a report as coming from an interrupted run: a JSON field (`interrupted`,
/// `interrupted_reason`), a `testsuites` attribute (JUnit), a TAP comment, a banner (HTML,
/// job summary).
pub fn mark_interrupted(kind: Kind, text: &str, reason: &str) -> String {
    let escaped = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    match kind {
        Kind::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.insert("interrupted".into(), true.into());
                map.insert("interrupted_reason".into(), reason.into());
                serde_json::to_string_pretty(&map).unwrap_or_else(|_| text.to_owned())
            }
            _ => text.to_owned(),
        },
        Kind::Junit => text.replacen(
            "<testsuites ",
            &format!("<testsuites interrupted=\"{escaped}\" "),
            1,
        ),
        Kind::Tap => format!("{text}# interrupted: {reason}\n"),
        Kind::Html => text.replacen(
            "<body>",
            &format!("<body>\n<p class=\"interrupted\"><strong>Interrupted:</strong> {escaped}; the cases not run are ERROR</p>"),
            1,
        ),
        Kind::Github => format!("> **Interrupted**: {reason}\n\n{text}"),
    }
}

/// Writes one JSONL transcript per traced case into `dir` (`<case id>.jsonl`, with `/` and
/// brackets made file-name safe).
pub fn write_transcripts(results: &[CaseResult], trace: Trace, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for result in results.iter().filter(|r| trace.wants(r)) {
        let name: String = result
            .instance
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '=' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        std::fs::write(
            dir.join(format!("{name}.jsonl")),
            result.transcript.to_jsonl(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::spec_url;

    #[test]
    fn resolves_sibling_documents() {
        let base = "https://h/o/r/blob/c/docs/socket.io-protocol/v5-current.md";
        assert_eq!(
            spec_url(base, "/../../engine.io-protocol/v4-current.md#heartbeat"),
            "https://h/o/r/blob/c/docs/engine.io-protocol/v4-current.md#heartbeat"
        );
        assert_eq!(
            spec_url(base, "#acknowledgement"),
            format!("{base}#acknowledgement")
        );
    }
}
