//! `--report github[=PATH]`: GitHub Actions annotations (on standard output) and the job
//! summary (Markdown).

use super::{Summary, rank};
use crate::engine::{CaseResult, Verdict};
use std::fmt::Write as _;

/// GitHub Actions workflow commands: an `::error` (FAIL, ERROR) or `::warning` (NON-STRICT)
/// annotation on the fixture line of each finding, so the job shows it in the fixture file.
pub fn github_annotations(results: &[CaseResult]) -> String {
    // Workflow command escaping: `%`, CR and LF everywhere; `:` and `,` in properties too.
    let data = |text: &str| {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |text: &str| data(text).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for result in results {
        let command = match result.verdict {
            Verdict::Fail | Verdict::Error => "error",
            Verdict::NonStrict => "warning",
            _ => continue,
        };
        let file = result.instance.file.display().to_string();
        for finding in result
            .findings
            .iter()
            .filter(|f| f.verdict == result.verdict)
        {
            let mut message = finding.message.clone();
            if let Some(expected) = &finding.expected {
                let _ = write!(message, "\nexpected: {expected}");
            }
            if let Some(actual) = &finding.actual {
                let _ = write!(message, "\nactual: {actual}");
            }
            let _ = writeln!(
                out,
                "::{command} file={},line={},title={}::{}",
                property(&file),
                finding.line,
                property(&format!("{} {}", result.verdict, result.instance.id)),
                data(&message)
            );
        }
    }
    out
}

/// The Markdown job summary: counts, then one row per case that did not pass.
pub fn github_summary(results: &[CaseResult], target: &str) -> String {
    let s = Summary::of(results);
    let mut out = format!(
        "## Socket.IO conformance: `{target}`\n\n| PASS | NON-STRICT | FAIL | ERROR | UNSUPPORTED | SKIPPED |\n|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} |\n\n",
        s.pass, s.non_strict, s.fail, s.error, s.unsupported, s.skipped
    );
    let mut shown: Vec<&CaseResult> = results
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                Verdict::Fail | Verdict::Error | Verdict::NonStrict
            )
        })
        .collect();
    shown.sort_by_key(|r| std::cmp::Reverse(rank(r.verdict)));
    if !shown.is_empty() {
        out.push_str("| verdict | case | level | finding |\n|---|---|---|---|\n");
        for result in shown {
            let finding = result.findings.iter().find(|f| f.verdict == result.verdict);
            let text = finding.map_or(String::new(), |f| {
                format!(
                    "`{}:{}` {}",
                    result.instance.file.display(),
                    f.line,
                    f.message.replace('|', "\\|").replace('\n', " ")
                )
            });
            let _ = writeln!(
                out,
                "| {} | `{}` | {:?} | {text} |",
                result.verdict, result.instance.id, result.instance.level
            );
        }
    }
    out
}
