//! `--report tap=PATH`: TAP 14.

use super::spec_lines;
use crate::engine::{CaseResult, Verdict};
use std::fmt::Write as _;

/// The TAP 14 report: one test point per case instance in fixture order. FAIL and ERROR are
/// `not ok`; UNSUPPORTED and SKIPPED are `ok … # SKIP <reason>`; NON-STRICT is `ok` with its
/// finding in the YAML block (TAP has no third outcome). The YAML block holds JSON strings,
/// which are YAML.
pub fn tap(results: &[CaseResult]) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", results.len());
    for (n, result) in results.iter().enumerate() {
        let n = n + 1;
        let id = &result.instance.id;
        let reason = || result.findings.first().map_or("", |f| f.message.as_str());
        match result.verdict {
            Verdict::Pass => {
                let _ = writeln!(out, "ok {n} - {id}");
                continue;
            }
            Verdict::Unsupported | Verdict::Skipped => {
                let _ = writeln!(out, "ok {n} - {id} # SKIP {}", reason().replace('#', "\\#"));
                continue;
            }
            Verdict::NonStrict => {
                let _ = writeln!(out, "ok {n} - {id}");
            }
            Verdict::Fail | Verdict::Error => {
                let _ = writeln!(out, "not ok {n} - {id}");
            }
        }
        let quoted = |text: &str| serde_json::Value::String(text.to_owned()).to_string();
        let _ = writeln!(out, "  ---");
        let _ = writeln!(out, "  verdict: {}", result.verdict);
        let _ = writeln!(out, "  level: {:?}", result.instance.level);
        let _ = writeln!(out, "  title: {}", quoted(&result.instance.title));
        let _ = writeln!(out, "  findings:");
        for finding in &result.findings {
            let at = format!("{}:{}", result.instance.file.display(), finding.line);
            let _ = writeln!(out, "    - at: {}", quoted(&at));
            let _ = writeln!(out, "      message: {}", quoted(&finding.message));
            if let Some(expected) = &finding.expected {
                let _ = writeln!(out, "      expected: {}", quoted(expected));
            }
            if let Some(actual) = &finding.actual {
                let _ = writeln!(out, "      actual: {}", quoted(actual));
            }
        }
        for spec in spec_lines(result) {
            let _ = writeln!(out, "  spec: {}", quoted(&spec));
        }
        let _ = writeln!(out, "  ...");
    }
    out
}
