//! `--report html=PATH`: one self-contained HTML page (inline CSS and JS, nothing fetched)
//! that opens on the problems: a one-line verdict (what failed, in how many behaviours, what
//! did not run and which capabilities the server lacks), counts per verdict that double as
//! filters, the cases grouped by verdict (FAIL, ERROR, NON-STRICT, PASS, UNSUPPORTED,
//! SKIPPED), the counts per suite, and per case an expandable detail with the findings, the
//! spec quotes, the fixture excerpt and the wire transcript. [`render_matrix`] puts several
//! targets side by side (`diff --report html=PATH`).
//!
//! Fixtures and server data are untrusted: every piece of them is HTML-escaped, spec links
//! are only emitted for `http(s)` URLs, and a Content-Security-Policy with a per-page nonce
//! forbids any fetch and any script but the page's own.
//!
//! The page opens a case's detail when its URL ends in `#case=<url-encoded id>` (in a matrix:
//! `#target=<n>&case=<id>`), so a link (or a headless browser) can point at one case.

mod assets;
mod case;
mod escape;

use assets::{CSS, JS};
use case::{case_row, level};
use escape::{esc, url_encode};

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasher as _, Hasher as _};

use crate::engine::{CaseResult, Verdict};

/// Every verdict, in the order of the counts, the filters and the case table: the problems
/// first (worst first), then what passed, then what did not run.
const VERDICTS: [Verdict; 6] = [
    Verdict::Fail,
    Verdict::Error,
    Verdict::NonStrict,
    Verdict::Pass,
    Verdict::Unsupported,
    Verdict::Skipped,
];
/// Most missing capabilities named in the verdict line.
const MAX_CAPABILITIES: usize = 6;
/// Longest text shown per packet (characters) and binary payload shown (bytes).
const MAX_TEXT: usize = 4000;
const MAX_BYTES: usize = 1024;
/// Longest fixture excerpt (lines).
const MAX_FIXTURE_LINES: usize = 150;

/// The HTML report of one run against `target`.
#[must_use]
pub fn render(results: &[CaseResult], target: &str) -> String {
    let mut body = format!(
        "<header><h1>Socket.IO conformance</h1><p>target <code>{}</code> · {} cases · runner {}</p></header>\n",
        esc(target),
        results.len(),
        env!("CARGO_PKG_VERSION")
    );
    run_section(&mut body, results, None);
    page(&format!("conformance: {target}"), &body)
}

/// The HTML report of the same cases against several targets: a matrix of verdicts (cases ×
/// targets, rows where the verdicts differ can be filtered), each cell linking to that
/// target's detail of the case, then each target's full report.
#[must_use]
pub fn render_matrix(runs: &[(String, Vec<CaseResult>)]) -> String {
    let mut body = format!(
        "<header><h1>Socket.IO conformance: {} targets</h1><ol class=\"targets\">",
        runs.len()
    );
    for (n, (target, results)) in runs.iter().enumerate() {
        let _ = write!(
            body,
            "<li><a href=\"#t{}\"><code>{}</code></a> <span class=\"v-{}\">{}</span></li>",
            n + 1,
            esc(target),
            worst(results),
            esc(&verdict_line(results))
        );
    }
    body.push_str("</ol></header>\n");
    // Rows: every case id, in order of first appearance; per target its result's index.
    let mut rows: Vec<(&CaseResult, Vec<Option<&CaseResult>>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (n, (_, results)) in runs.iter().enumerate() {
        for result in results {
            let row = *index.entry(&result.instance.id).or_insert_with(|| {
                rows.push((result, vec![None; runs.len()]));
                rows.len() - 1
            });
            rows[row].1[n] = Some(result);
        }
    }
    let differs = |cells: &[Option<&CaseResult>]| {
        cells
            .iter()
            .any(|c| c.map(|r| r.verdict) != cells[0].map(|r| r.verdict))
    };
    let differing = rows.iter().filter(|(_, cells)| differs(cells)).count();
    let _ = write!(
        body,
        "<section class=\"run matrix\"><h2>Verdicts</h2><nav class=\"filters\">{}{}</nav><table class=\"cases\"><thead><tr><th>Case</th><th>Level</th>",
        filter_button("m-", "ALL", "All", rows.len(), true),
        filter_button("m-", "DIFFERS", "differing", differing, false)
    );
    for n in 1..=runs.len() {
        let _ = write!(body, "<th><a href=\"#t{n}\">target {n}</a></th>");
    }
    body.push_str("</tr></thead>\n");
    for (suite, group) in by_suite(&rows, |(first, _)| *first) {
        let _ = writeln!(
            body,
            "<tbody class=\"group\"><tr class=\"group-head\"><th colspan=\"{}\">{} <small>{} cases</small></th></tr>",
            runs.len() + 2,
            esc(suite),
            group.len()
        );
        for (first, cells) in group {
            let i = &first.instance;
            let _ = write!(
                body,
                "<tr class=\"case\" data-case-id=\"{}\" data-verdict=\"{}\"><td><code class=\"id\">{}</code><div class=\"title\">{}</div></td><td class=\"level\">{}</td>",
                esc(&i.id),
                if differs(cells) { "DIFFERS" } else { "SAME" },
                esc(&i.id),
                esc(&i.title),
                level(first)
            );
            for (n, cell) in cells.iter().enumerate() {
                match cell {
                    Some(r) => {
                        let _ = write!(
                            body,
                            "<td><a class=\"badge v-{0}\" href=\"#target={1}&amp;case={2}\">{0}</a></td>",
                            r.verdict,
                            n + 1,
                            url_encode(&i.id)
                        );
                    }
                    None => body.push_str("<td class=\"muted\">—</td>"),
                }
            }
            body.push_str("</tr>\n");
        }
        body.push_str("</tbody>\n");
    }
    body.push_str("</table></section>\n");
    for (n, (target, results)) in runs.iter().enumerate() {
        run_section(&mut body, results, Some((n + 1, target)));
    }
    page(&format!("conformance: {} targets", runs.len()), &body)
}

/// The document around `body`: styles, script and a policy that allows nothing else.
fn page(title: &str, body: &str) -> String {
    // A fresh nonce per page: a `<script>` that slipped through escaping would not run.
    let random = || {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let nonce = format!("{:016x}{:016x}", random(), random());
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style></head>\n<body>\n{body}<script nonce=\"{nonce}\">{JS}</script>\n</body></html>\n",
        esc(title)
    )
}

/// One target's verdict line, counts, filters, case table and counts per suite; `target` is
/// `(n, url)` inside a matrix.
fn run_section(out: &mut String, results: &[CaseResult], target: Option<(usize, &str)>) {
    let prefix = target.map_or(String::new(), |(n, _)| format!("t{n}-"));
    match target {
        Some((n, url)) => {
            let _ = write!(
                out,
                "<section class=\"run\" data-target=\"{n}\"><h2 id=\"t{n}\">Target {n}: <code>{}</code></h2>",
                esc(url)
            );
        }
        None => out.push_str("<section class=\"run\">"),
    }
    let _ = write!(
        out,
        "<p class=\"verdict v-{}\" id=\"{prefix}verdict\">{}</p>",
        worst(results),
        esc(&verdict_line(results))
    );
    let totals = counts(results.iter());
    out.push_str("<nav class=\"filters\">");
    out.push_str(&filter_button(&prefix, "ALL", "All", results.len(), true));
    for (verdict, count) in VERDICTS.iter().zip(totals) {
        out.push_str(&filter_button(
            &prefix,
            verdict.name(),
            verdict.name(),
            count,
            false,
        ));
    }
    out.push_str("</nav>\n");
    suites(out, results);
    // One table grouped by verdict, not by suite: with the suites as groups, the failures of
    // the second suite came after the first suite's passes and dozens of its UNSUPPORTED
    // rows, whatever the order inside each suite; grouped by verdict, every failure is at the
    // top of the page. No suite column: a case id starts with its suite (`suite/case`) and
    // the rows of a group keep the run's order (suite by suite). Each group's header counts
    // its cases per suite; each suite's counts are in the "By suite" table above (closed, one
    // line; the suites with problems first; only when there are several suites).
    out.push_str("<table class=\"cases\"><thead><tr><th>Verdict</th><th>Level</th><th>Case</th><th class=\"num\">Time</th></tr></thead>\n");
    let mut row = 0;
    for verdict in VERDICTS {
        let group: Vec<&CaseResult> = results.iter().filter(|r| r.verdict == verdict).collect();
        if group.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<tbody class=\"group\" data-group=\"{verdict}\"><tr class=\"group-head\"><th colspan=\"4\"><span class=\"badge v-{verdict}\">{verdict}</span> <small>{}",
            plural(group.len(), "case", "cases")
        );
        if verdict == Verdict::Fail {
            let _ = write!(
                out,
                " in {}",
                plural(behaviours(&group), "behaviour", "behaviours")
            );
        }
        let per_suite = by_suite(&group, |r| *r);
        if results.iter().any(|r| r.instance.suite != per_suite[0].0) {
            for (suite, cases) in &per_suite {
                let _ = write!(out, " · {} {}", esc(suite), cases.len());
            }
        }
        out.push_str("</small></th></tr>\n");
        for result in group {
            row += 1;
            case_row(out, result, &format!("{prefix}case-{row}"));
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table></section>\n");
}

/// The counts of each suite, behind a `<details>` (one line while closed): the suites with a
/// FAIL, ERROR or NON-STRICT case first.
fn suites(out: &mut String, results: &[CaseResult]) {
    let mut groups = by_suite(results, |r| r);
    if groups.len() < 2 {
        return;
    }
    // Stable: the run's order among the suites with problems and among the others.
    groups.sort_by_key(|(_, group)| {
        !group.iter().any(|r| {
            matches!(
                r.verdict,
                Verdict::Fail | Verdict::Error | Verdict::NonStrict
            )
        })
    });
    let _ = write!(
        out,
        "<details class=\"suites\"><summary>By suite <small>{} suites</small></summary><table class=\"suites\">",
        groups.len()
    );
    for (suite, group) in groups {
        let _ = write!(
            out,
            "<tr><th>{}</th><td class=\"num\">{}</td><td>",
            esc(suite),
            plural(group.len(), "case", "cases")
        );
        let parts = counts(group.iter().copied());
        for (verdict, count) in VERDICTS.iter().zip(parts).filter(|(_, c)| *c > 0) {
            let _ = write!(
                out,
                "<span class=\"count v-{verdict}\"><span class=\"n\">{count}</span> {verdict}</span>"
            );
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</table></details>\n");
}

/// The page's first line, plain text: the MUST-level failures and in how many behaviours
/// (case ids without the axis part), the other problems, the passes, the cases not run with
/// the capabilities the server lacks (most frequent first), the cases skipped.
fn verdict_line(results: &[CaseResult]) -> String {
    if results.is_empty() {
        return "No cases.".into();
    }
    let [fail, error, non_strict, pass, unsupported, skipped] = counts(results.iter());
    let mut parts = Vec::new();
    if fail > 0 {
        let failed: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect();
        parts.push(format!(
            "{} in {}",
            plural(fail, "MUST-level failure", "MUST-level failures"),
            plural(behaviours(&failed), "behaviour", "behaviours")
        ));
    }
    if error > 0 {
        parts.push(format!(
            "{} (the harness failed)",
            plural(error, "case ended in ERROR", "cases ended in ERROR")
        ));
    }
    if non_strict > 0 {
        parts.push(plural(non_strict, "NON-STRICT case", "NON-STRICT cases"));
    }
    if fail + error + non_strict > 0 {
        if pass > 0 {
            parts.push(plural(pass, "case passes", "cases pass"));
        }
    } else if unsupported + skipped == 0 {
        parts.push(if pass == 1 {
            "The only case passes".into()
        } else {
            format!("All {pass} cases pass")
        });
    } else if pass > 0 {
        parts.push(if pass == 1 {
            "The only case that ran passes".into()
        } else {
            format!("All {pass} cases that ran pass")
        });
    } else {
        parts.push("No case ran".into());
    }
    if unsupported > 0 {
        let mut part = plural(unsupported, "case not run", "cases not run");
        let lacking = lacking(results);
        if lacking.is_empty() {
            part.push_str(" (UNSUPPORTED)");
        } else {
            let shown = lacking.len().min(MAX_CAPABILITIES);
            let _ = write!(part, ": the server lacks {}", lacking[..shown].join(", "));
            if lacking.len() > shown {
                part.push_str(", …");
            }
        }
        parts.push(part);
    }
    if skipped > 0 {
        parts.push(format!(
            "{} (not selected)",
            plural(skipped, "case skipped", "cases skipped")
        ));
    }
    let mut line = parts.join("; ");
    if !line.ends_with('…') {
        line.push('.');
    }
    line
}

/// The capabilities named by the UNSUPPORTED findings ("the target lacks capability `X`"),
/// most frequent first, ties in order of first appearance.
fn lacking(results: &[CaseResult]) -> Vec<&str> {
    let mut found: Vec<(&str, usize)> = Vec::new();
    let reasons = results
        .iter()
        .filter(|r| r.verdict == Verdict::Unsupported)
        .flat_map(|r| r.findings.iter().take(1))
        .filter(|f| f.verdict == Verdict::Unsupported);
    for finding in reasons {
        let Some(capability) = finding
            .message
            .split_once("lacks capability `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(capability, _)| capability)
        else {
            continue;
        };
        match found.iter_mut().find(|(c, _)| *c == capability) {
            Some((_, n)) => *n += 1,
            None => found.push((capability, 1)),
        }
    }
    found.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    found.into_iter().map(|(c, _)| c).collect()
}

/// Distinct behaviours among `results`: case ids without the axis part.
fn behaviours(results: &[&CaseResult]) -> usize {
    results
        .iter()
        .map(|r| r.instance.case_id.as_str())
        .collect::<HashSet<_>>()
        .len()
}

/// The worst verdict of a run that ran (the colour of its verdict line).
fn worst(results: &[CaseResult]) -> Verdict {
    [Verdict::Fail, Verdict::Error, Verdict::NonStrict]
        .into_iter()
        .find(|v| results.iter().any(|r| r.verdict == *v))
        .unwrap_or(if results.iter().any(|r| r.verdict == Verdict::Pass) {
            Verdict::Pass
        } else {
            Verdict::Skipped
        })
}

/// `1 case`, `2 cases`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Cases per verdict, in the order of [`VERDICTS`].
fn counts<'a>(results: impl Iterator<Item = &'a CaseResult>) -> [usize; 6] {
    let mut counts = [0; 6];
    for result in results {
        if let Some(n) = VERDICTS.iter().position(|v| *v == result.verdict) {
            counts[n] += 1;
        }
    }
    counts
}

fn filter_button(prefix: &str, filter: &str, label: &str, count: usize, pressed: bool) -> String {
    format!(
        "<button type=\"button\" class=\"filter v-{filter}{}\" data-filter=\"{filter}\" aria-pressed=\"{pressed}\"><span class=\"n\" id=\"{prefix}count-{filter}\">{count}</span> {label}</button>",
        if count == 0 { " zero" } else { "" }
    )
}

/// Groups items by their case's suite, in order of first appearance.
fn by_suite<'a, T>(
    items: &'a [T],
    result: impl Fn(&'a T) -> &'a CaseResult,
) -> Vec<(&'a str, Vec<&'a T>)> {
    let mut groups: Vec<(&str, Vec<&T>)> = Vec::new();
    for item in items {
        let suite = result(item).instance.suite.as_str();
        match groups.iter_mut().find(|(s, _)| *s == suite) {
            Some((_, group)) => group.push(item),
            None => groups.push((suite, vec![item])),
        }
    }
    groups
}
