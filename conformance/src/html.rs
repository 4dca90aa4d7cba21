//! `--report html=PATH`: one self-contained HTML page (placeholder: being written).

use crate::engine::CaseResult;

/// The HTML report of one run against `target`.
#[must_use]
pub fn render(results: &[CaseResult], target: &str) -> String {
    format!(
        "<!doctype html><title>conformance: {}</title><p>{} cases</p>",
        target.replace('<', "&lt;"),
        results.len()
    )
}
