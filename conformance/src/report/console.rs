//! The console report (`conformance run`'s standard output): the cases that did not pass,
//! worst first, the root causes shared by several failing cases, the counts.

use super::{RootCause, Summary, Trace, rank, root_causes, spec_lines};
use crate::engine::{CaseResult, Verdict};
use std::{fmt::Write as _, time::Duration};

/// The console report: non-passing cases first (worst first), each with the fixture line,
/// expected vs actual and the spec quote, then the summary and the closing line
/// `N passed, N failed`.
pub fn console(results: &[CaseResult], trace: Trace, elapsed: Duration) -> String {
    let mut out = String::new();
    // UNSUPPORTED cases are listed once per reason (a missing capability typically concerns
    // dozens of cases), the others one by one.
    // So are the ERROR cases that never ran (a stopped run, a lost target).
    let not_run = |r: &CaseResult| r.verdict == Verdict::Error && r.duration.is_zero();
    let mut unsupported: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for result in results
        .iter()
        .filter(|r| r.verdict == Verdict::Unsupported || not_run(r))
    {
        let reason = result.findings.first().map_or("", |f| f.message.as_str());
        let name = result.verdict.name();
        match unsupported
            .iter_mut()
            .find(|(n, r, _)| *r == reason && *n == name)
        {
            Some((_, _, ids)) => ids.push(&result.instance.id),
            None => unsupported.push((name, reason, vec![&result.instance.id])),
        }
    }
    for (name, reason, ids) in &unsupported {
        let _ = writeln!(
            out,
            "{name:<11} {} case{}: {reason} ({}{})\n",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            ids[0],
            if ids.len() > 1 { ", …" } else { "" }
        );
    }
    let mut shown: Vec<&CaseResult> = results
        .iter()
        .filter(|r| {
            !matches!(
                r.verdict,
                Verdict::Pass | Verdict::Skipped | Verdict::Unsupported
            ) && !not_run(r)
        })
        .collect();
    shown.sort_by_key(|r| std::cmp::Reverse(rank(r.verdict)));
    for result in shown {
        let i = &result.instance;
        let _ = writeln!(
            out,
            "{:<11} {}  ({}:{})",
            result.verdict.name(),
            i.id,
            i.file.display(),
            i.line
        );
        let _ = writeln!(out, "            {} [{:?}]", i.title, i.level);
        for finding in &result.findings {
            let tag = if finding.timing { " [TIMING]" } else { "" };
            let _ = writeln!(
                out,
                "            {}:{}: {}{tag}",
                i.file.display(),
                finding.line,
                finding.message
            );
            if let Some(expected) = &finding.expected {
                let _ = writeln!(out, "              expected: {expected}");
            }
            if let Some(actual) = &finding.actual {
                let _ = writeln!(out, "              actual:   {actual}");
            }
        }
        for spec in spec_lines(result) {
            let _ = writeln!(out, "            spec: {spec}");
        }
        if trace.wants(result) {
            let _ = writeln!(out, "            transcript:");
            for line in result.transcript.render_text().lines() {
                let _ = writeln!(out, "              {line}");
            }
        }
        out.push('\n');
    }
    if trace == Trace::All {
        for result in results.iter().filter(|r| r.verdict == Verdict::Pass) {
            let _ = writeln!(
                out,
                "PASS        {}\n{}",
                result.instance.id,
                result.transcript.render_text()
            );
        }
    }
    root_causes_text(&mut out, results);
    let s = Summary::of(results);
    let _ = writeln!(
        out,
        "Summary: {} PASS, {} NON-STRICT, {} FAIL, {} ERROR, {} UNSUPPORTED, {} SKIPPED in {:.1} s",
        s.pass,
        s.non_strict,
        s.fail,
        s.error,
        s.unsupported,
        s.skipped,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        s.pass + s.non_strict,
        s.fail + s.error
    );
    out
}

/// The console's root-cause section: printed when some cause explains more than one failing
/// case (one line per cause otherwise says nothing the case list did not).
fn root_causes_text(out: &mut String, results: &[CaseResult]) {
    let causes = root_causes(results);
    if causes.iter().all(|cause| cause.cases() < 2) {
        return;
    }
    let failing: usize = causes.iter().map(RootCause::cases).sum();
    let _ = writeln!(
        out,
        "Root causes: {failing} failing cases, {} distinct finding{}",
        causes.len(),
        if causes.len() == 1 { "" } else { "s" }
    );
    for cause in &causes {
        let _ = writeln!(out, "  {:>3}  {}", cause.cases(), cause.finding);
        if !cause.own.is_empty() {
            let _ = writeln!(out, "       seen by {}", listed(&cause.own));
        }
        if !cause.blocked.is_empty() {
            let mut setups: Vec<&str> = cause.blocked.iter().map(|(_, s)| s.as_str()).collect();
            setups.sort_unstable();
            setups.dedup();
            let ids: Vec<String> = cause.blocked.iter().map(|(id, _)| id.clone()).collect();
            let _ = writeln!(
                out,
                "       blocked in {} of {}",
                setups.join(", "),
                listed(&ids)
            );
        }
    }
    out.push('\n');
}

/// `a, b, c and N more`.
fn listed(ids: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    text
}
