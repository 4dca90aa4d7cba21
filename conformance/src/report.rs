//! Reports: the console summary, JSON, JUnit XML and per-case wire transcripts.

use crate::engine::{CaseResult, Verdict};
use crate::scenario::SpecRef;
use serde::Serialize;
use std::{fmt::Write as _, path::Path, time::Duration};

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
    fn wants(self, result: &CaseResult) -> bool {
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

/// Failing cases that share one root cause: the finding that ended them says the same thing
/// (ids, durations and other numbers aside), whether a case's own step saw it or a shared
/// setup step blocked the case before its own behaviour was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCause {
    /// The finding, as the first case of the group says it (without `blocked by …:`).
    pub finding: String,
    /// The cases whose own steps saw it: the cases about this behaviour.
    pub own: Vec<String>,
    /// The cases blocked by it in a setup step, with the setup (`setup \`polling-handshake\``).
    pub blocked: Vec<(String, String)>,
}

impl RootCause {
    /// How many cases the cause explains.
    #[must_use]
    pub fn cases(&self) -> usize {
        self.own.len() + self.blocked.len()
    }
}

/// The FAIL and ERROR cases grouped by root cause, the largest group first.
#[must_use]
pub fn root_causes(results: &[CaseResult]) -> Vec<RootCause> {
    let mut groups: Vec<(String, RootCause)> = Vec::new();
    for result in results {
        if !matches!(result.verdict, Verdict::Fail | Verdict::Error) {
            continue;
        }
        let Some(finding) = result.findings.iter().find(|f| f.verdict == result.verdict) else {
            continue;
        };
        let mut text = match &finding.blocked_by {
            Some(setup) => finding
                .message
                .strip_prefix(&format!("blocked by {setup}: "))
                .unwrap_or(&finding.message),
            None => finding.message.as_str(),
        };
        // `repeat` and `unordered` name the inner step's line first: the same finding.
        while let Some(rest) = text.strip_prefix("line ") {
            match rest.split_once(": ") {
                Some((line, inner)) if line.bytes().all(|b| b.is_ascii_digit()) => text = inner,
                _ => break,
            }
        }
        let key = without_numbers(text);
        let index = match groups.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                groups.push((
                    key,
                    RootCause {
                        finding: text.to_owned(),
                        own: Vec::new(),
                        blocked: Vec::new(),
                    },
                ));
                groups.len() - 1
            }
        };
        let group = &mut groups[index].1;
        let id = result.instance.id.clone();
        match &finding.blocked_by {
            Some(setup) => group.blocked.push((id, setup.clone())),
            None => group.own.push(id),
        }
    }
    let mut causes: Vec<RootCause> = groups.into_iter().map(|(_, cause)| cause).collect();
    causes.sort_by_key(|cause| std::cmp::Reverse(cause.cases()));
    causes
}

/// `text` with every run of digits (a duration, a count, an id's digits) replaced by `#`.
fn without_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('#');
                in_number = true;
            }
        } else {
            in_number = false;
            out.push(c);
        }
    }
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

fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Error => 5,
        Verdict::Fail => 4,
        Verdict::NonStrict => 3,
        Verdict::Unsupported => 2,
        Verdict::Skipped => 1,
        Verdict::Pass => 0,
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    runner_version: &'static str,
    target: &'a str,
    summary: Summary,
    cases: Vec<JsonCase<'a>>,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    id: &'a str,
    suite: &'a str,
    title: &'a str,
    level: String,
    verdict: Verdict,
    duration_ms: f64,
    official: &'a [String],
    spec: Vec<String>,
    fixture: String,
    findings: &'a [crate::engine::Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<Vec<crate::transport::transcript::WireEvent>>,
}

/// The JSON report (`schema: conformance.report/v1`).
pub fn json(results: &[CaseResult], target: &str, trace: Trace) -> String {
    let report = JsonReport {
        schema: "conformance.report/v1",
        runner_version: env!("CARGO_PKG_VERSION"),
        target,
        summary: Summary::of(results),
        cases: results
            .iter()
            .map(|r| JsonCase {
                id: &r.instance.id,
                suite: &r.instance.suite,
                title: &r.instance.title,
                level: format!("{:?}", r.instance.level).to_uppercase(),
                verdict: r.verdict,
                duration_ms: r.duration.as_secs_f64() * 1000.0,
                official: &r.instance.official,
                spec: spec_lines(r),
                fixture: format!("{}:{}", r.instance.file.display(), r.instance.line),
                findings: &r.findings,
                transcript: trace.wants(r).then(|| r.transcript.events()),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

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

/// The JUnit XML report: one `testsuite` per suite, `testcase` name = full case id.
pub fn junit(results: &[CaseResult]) -> Result<String, String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("conformance");
    let mut suites: Vec<(String, TestSuite)> = Vec::new();
    for result in results {
        let i = &result.instance;
        let message = result
            .findings
            .iter()
            .map(|f| format!("{}:{}: {}", i.file.display(), f.line, f.message))
            .collect::<Vec<_>>()
            .join("\n");
        let mut status = match result.verdict {
            Verdict::Pass | Verdict::NonStrict => TestCaseStatus::success(),
            Verdict::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Verdict::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            Verdict::Unsupported | Verdict::Skipped => TestCaseStatus::skipped(),
        };
        if !matches!(result.verdict, Verdict::Pass | Verdict::NonStrict) {
            status.set_message(message.clone());
        }
        let mut case = TestCase::new(i.id.clone(), status);
        case.set_classname(i.suite.clone());
        case.set_time(result.duration);
        if result.verdict == Verdict::NonStrict {
            case.set_system_out(format!("NON-STRICT\n{message}"));
        }
        match suites.iter_mut().find(|(name, _)| name == &i.suite) {
            Some((_, suite)) => {
                suite.add_test_case(case);
            }
            None => {
                let mut suite = TestSuite::new(i.suite.clone());
                suite.add_test_case(case);
                suites.push((i.suite.clone(), suite));
            }
        }
    }
    report.add_test_suites(suites.into_iter().map(|(_, s)| s));
    report.to_string().map_err(|e| e.to_string())
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
