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

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasher as _, Hasher as _};

use super::spec_url;
use crate::engine::{CaseResult, Verdict};
use crate::scenario::SpecRef;
use crate::transport::{Dir, WireData, WireKind};

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

fn level(result: &CaseResult) -> String {
    format!("{:?}", result.instance.level).to_uppercase()
}

/// One case: its row, with the detail behind `<details>`.
fn case_row(out: &mut String, result: &CaseResult, id: &str) {
    let i = &result.instance;
    let verdict = result.verdict;
    let _ = write!(
        out,
        "<tr class=\"case\" id=\"{id}\" data-case-id=\"{}\" data-verdict=\"{verdict}\"><td><span class=\"badge v-{verdict}\">{verdict}</span></td><td class=\"level\">{}</td><td><details><summary><code class=\"id\">{}</code> <span class=\"title\">{}</span>",
        esc(&i.id),
        level(result),
        esc(&i.id),
        esc(&i.title)
    );
    if let Some(finding) = result.findings.first().filter(|_| verdict != Verdict::Pass) {
        let _ = write!(out, "<div class=\"why\">{}</div>", esc(&finding.message));
    }
    let file = i.file.display().to_string();
    let _ = write!(
        out,
        "</summary><div class=\"detail\"><p class=\"meta\">fixture <code>{}:{}</code>",
        esc(&file),
        i.line
    );
    if !i.requires.is_empty() {
        let _ = write!(
            out,
            " · requires <code>{}</code>",
            esc(&i.requires.join(", "))
        );
    }
    for official in &i.official {
        let _ = write!(out, " · official: “{}”", esc(official));
    }
    out.push_str("</p>");
    if !result.findings.is_empty() {
        out.push_str("<h4>Findings</h4>");
    }
    for f in &result.findings {
        let _ = write!(
            out,
            "<div class=\"finding v-{0}\"><p><span class=\"badge v-{0}\">{0}</span> <code>{1}:{2}</code> {3}{4}</p>",
            f.verdict,
            esc(&file),
            f.line,
            esc(&f.message),
            if f.timing {
                " <span class=\"tag\">TIMING</span>"
            } else {
                ""
            }
        );
        // The step that failed, unless it is the case itself (shown below anyway).
        let ran = !matches!(f.verdict, Verdict::Unsupported | Verdict::Skipped);
        if let (true, Ok(lines)) = (
            ran && f.line != i.line,
            crate::scenario::excerpt(&i.source, f.line, 12),
        ) {
            numbered(out, "fx-step", f.line, &lines, &[]);
        }
        for (label, value) in [("expected", &f.expected), ("actual", &f.actual)] {
            if let Some(value) = value {
                let _ = write!(
                    out,
                    "<div class=\"ea\"><span>{label}</span><pre>{}</pre></div>",
                    shown(value)
                );
            }
        }
        out.push_str("</div>");
    }
    spec(out, result);
    fixture(out, result);
    transcript(out, result);
    let time = if matches!(verdict, Verdict::Unsupported | Verdict::Skipped) {
        "—".to_owned()
    } else {
        format!("{:.0} ms", result.duration.as_secs_f64() * 1000.0)
    };
    let _ = writeln!(
        out,
        "</div></details></td><td class=\"num\">{time}</td></tr>"
    );
}

fn spec(out: &mut String, result: &CaseResult) {
    if result.instance.spec.is_empty() {
        return;
    }
    out.push_str("<h4>Spec</h4>");
    let base = result.instance.spec_base_url.as_deref().unwrap_or("");
    for spec in &result.instance.spec {
        match spec {
            SpecRef::Requirement(id) => {
                let _ = write!(out, "<p class=\"spec\"><code>{}</code></p>", esc(id));
            }
            SpecRef::Anchor { anchor, quote } => {
                if let Some(quote) = quote {
                    let _ = write!(out, "<blockquote>{}</blockquote>", esc(quote.trim()));
                }
                let url = spec_url(base, anchor);
                // A fixture could carry `javascript:`: only web links are links.
                if url.starts_with("https://") || url.starts_with("http://") {
                    let _ = write!(
                        out,
                        "<p class=\"spec\"><a href=\"{0}\">{0}</a></p>",
                        esc(&url)
                    );
                } else {
                    let _ = write!(out, "<p class=\"spec\"><code>{}</code></p>", esc(&url));
                }
            }
        }
    }
}

/// The case's lines of its fixture file, finding lines marked.
fn fixture(out: &mut String, result: &CaseResult) {
    let i = &result.instance;
    let file = esc(&i.file.display().to_string());
    match crate::scenario::excerpt(&i.source, i.line, MAX_FIXTURE_LINES) {
        Ok(lines) => {
            let _ = write!(out, "<h4>Fixture <code>{file}:{}</code></h4>", i.line);
            let hits: Vec<u64> = result.findings.iter().map(|f| f.line).collect();
            numbered(out, "fixture", i.line, &lines, &hits);
        }
        Err(e) => {
            let _ = write!(
                out,
                "<h4>Fixture</h4><p class=\"muted\">cannot show <code>{file}:{}</code>: {}</p>",
                i.line,
                esc(&e)
            );
        }
    }
}

fn transcript(out: &mut String, result: &CaseResult) {
    let events = result.transcript.events();
    if events.is_empty() {
        out.push_str("<h4>Wire transcript</h4><p class=\"muted\">no wire traffic</p>");
        return;
    }
    let _ = write!(
        out,
        "<h4>Wire transcript <small>{} event{} · → sent by the runner, ← by the server</small></h4><table class=\"wire\">",
        events.len(),
        if events.len() == 1 { "" } else { "s" }
    );
    for e in &events {
        let arrow = match e.dir {
            Dir::Tx => "→",
            Dir::Rx => "←",
            Dir::Note => "·",
        };
        let _ = write!(
            out,
            "<tr class=\"{}\"><td class=\"num\">+{:.1}ms</td><td>{}</td><td class=\"arrow\">{arrow}</td><td class=\"kind\">{}</td><td class=\"data\">",
            e.dir.as_str(),
            e.t_ms,
            esc(&e.conn),
            e.kind.as_str()
        );
        if let Some(detail) = &e.detail {
            let _ = write!(out, "<div class=\"head\">{}</div>", shown(detail));
        }
        let http = matches!(e.kind, WireKind::HttpRequest | WireKind::HttpResponse);
        match &e.data {
            WireData::None => {}
            // A polling body (Engine.IO v4): one packet per line.
            WireData::Text(text) if http && text.contains('\u{1e}') => {
                for packet in text.split('\u{1e}') {
                    let _ = write!(out, "<div class=\"pkt\">{}</div>", shown(packet));
                }
            }
            WireData::Text(text) => {
                let _ = write!(out, "<div class=\"pkt\">{}</div>", shown(text));
            }
            WireData::Bytes(bytes) => {
                let hex: Vec<String> = bytes
                    .iter()
                    .take(MAX_BYTES)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let _ = write!(
                    out,
                    "<div class=\"pkt hex\">{}{} <span class=\"muted\">({} bytes)</span></div>",
                    hex.join(" "),
                    if bytes.len() > MAX_BYTES { " …" } else { "" },
                    bytes.len()
                );
            }
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</table>");
}

/// Fixture lines from line `first`, numbered, the lines in `hits` marked.
fn numbered(out: &mut String, class: &str, first: u64, lines: &[&str], hits: &[u64]) {
    let _ = write!(out, "<pre class=\"{class}\">");
    for (n, text) in (first..).zip(lines) {
        let _ = write!(
            out,
            "<span class=\"l{}\"><span class=\"ln\">{n}</span>{}</span>",
            if hits.contains(&n) { " hit" } else { "" },
            esc(text)
        );
    }
    out.push_str("</pre>");
}

/// HTML-escaped text with control characters made visible (`\x1e`) and long text cut.
fn shown(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_TEXT {
            let _ = write!(
                out,
                "<span class=\"muted\"> … ({} bytes)</span>",
                text.len()
            );
            break;
        }
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "<span class=\"ctl\">\\x{:02x}</span>", u32::from(c));
            }
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// Text and attribute escaping.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// Percent-encoding of everything but the unreserved characters (`decodeURIComponent`
/// reverses it).
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const CSS: &str = r#"
:root{--pass:#1a7f37;--ns:#9a6700;--fail:#cf222e;--err:#8250df;--uns:#57606a;--skip:#8c959f;--line:#d0d7de;--muted:#59636e;--soft:#f6f8fa;--c:#59636e}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;padding:24px 32px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 4px}
h4{font-size:13px;margin:14px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
h4 small,h4 code{text-transform:none;letter-spacing:0;font-weight:400}
header p,.muted,.meta,.why{color:var(--muted)}
header p{margin:0}
code,pre,.wire,.fixture{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
a{color:#0969da}
.v-PASS{--c:var(--pass)}.v-NON-STRICT{--c:var(--ns)}.v-FAIL{--c:var(--fail)}.v-ERROR{--c:var(--err)}.v-UNSUPPORTED{--c:var(--uns)}.v-SKIPPED{--c:var(--skip)}.v-DIFFERS{--c:var(--fail)}
.filters{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 18px}
.filter{font:inherit;border:1px solid var(--line);border-left:4px solid var(--c);background:#fff;border-radius:6px;padding:6px 14px;cursor:pointer;color:#1f2328}
.filter .n{font-size:20px;font-weight:600;margin-right:4px;color:var(--c);vertical-align:-1px}
.filter[aria-pressed=true]{background:var(--soft);box-shadow:inset 0 0 0 1px var(--c)}
.filter.zero{opacity:.55}
table.cases{border-collapse:collapse;width:100%}
.cases th,.cases td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
.cases thead th{font-size:12px;color:var(--muted);font-weight:600}
.group-head th{background:var(--soft);font-size:15px;padding-top:10px}
.group-head small{font-weight:400;color:var(--muted);font-size:12.5px}
.verdict{font-size:17px;font-weight:600;margin:14px 0 0;padding:8px 14px;border-left:5px solid var(--c);background:var(--soft);border-radius:0 6px 6px 0}
.targets .v-FAIL,.targets .v-ERROR,.targets .v-NON-STRICT{color:var(--c)}
details.suites{margin:0 0 14px}details.suites summary{color:var(--muted)}
table.suites{border-collapse:collapse;margin:6px 0 0}
.suites th,.suites td{text-align:left;padding:3px 10px;border-bottom:1px solid var(--line)}
.count{margin-right:12px;white-space:nowrap}.count .n{font-weight:600;color:var(--c)}
.num{text-align:right!important;white-space:nowrap;color:var(--muted)}
.level{font-size:12px;color:var(--muted)}
.badge{display:inline-block;min-width:96px;text-align:center;padding:1px 6px;border-radius:4px;background:var(--c);color:#fff;font-size:11.5px;font-weight:600;text-decoration:none}
code.id{font-weight:600}
.title{color:#1f2328}
summary{cursor:pointer}
summary .why{font-size:12.5px;margin-left:18px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:1100px}
.detail{margin:6px 0 8px 18px;padding-left:12px;border-left:2px solid var(--line)}
.meta{margin:6px 0}
.finding{border-left:4px solid var(--c);background:var(--soft);padding:4px 12px 8px;margin:6px 0;border-radius:0 6px 6px 0}
.finding p{margin:4px 0}
.ea{display:flex;gap:8px;align-items:baseline}.ea span{width:64px;flex:none;color:var(--muted);font-size:12px}
.ea pre,.fx-step{margin:2px 0;background:#fff;flex:1}
.tag{font-size:11px;border:1px solid var(--c);color:var(--c);border-radius:3px;padding:0 4px}
blockquote{margin:4px 0;padding:2px 12px;border-left:3px solid var(--line);font-style:italic}
.spec{margin:0 0 6px}
pre{background:var(--soft);padding:6px 8px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.l{display:block;padding-left:4.5em;text-indent:-4.5em}.hit{background:#fff1bf}
.ln{display:inline-block;width:3.5em;padding-right:1em;text-indent:0;text-align:right;color:var(--skip);user-select:none}
table.wire{border-collapse:collapse;width:100%}
.wire td{padding:2px 6px;border-bottom:1px solid #eef1f4;vertical-align:top;white-space:nowrap}
.wire td.data{white-space:pre-wrap;word-break:break-all;width:100%}
.wire .arrow{font-weight:700}.wire .tx .arrow{color:#0969da}.wire .rx .arrow{color:var(--pass)}
.wire .note td{color:var(--muted);font-style:italic}
.wire .kind{color:var(--muted)}
.wire .head{color:var(--muted)}
.pkt+.pkt{border-top:1px dashed var(--line)}
.hex{color:#6639ba}
.ctl{color:var(--fail)}
.targets{margin:4px 0 0}
[hidden]{display:none!important}
"#;

const JS: &str = r#"
(function () {
  function filter(section, value) {
    section.querySelectorAll('button.filter').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.filter === value));
    });
    section.querySelectorAll('tbody.group').forEach(function (group) {
      var shown = 0;
      group.querySelectorAll('tr.case').forEach(function (row) {
        row.hidden = value !== 'ALL' && row.dataset.verdict !== value;
        if (!row.hidden) shown++;
      });
      group.hidden = shown === 0;
    });
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.filter');
    if (button) filter(button.closest('section'), button.dataset.filter);
  });
  function openFromHash() {
    var params = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var at = pair.indexOf('=');
      if (at < 0) return;
      try { params[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1)); } catch (e) {}
    });
    if (!params['case']) return;
    var scope = document;
    if (/^[0-9]+$/.test(params.target || '')) {
      scope = document.querySelector('section[data-target="' + params.target + '"]') || document;
    }
    var rows = scope.querySelectorAll('tr.case');
    for (var i = 0; i < rows.length; i++) {
      var details = rows[i].querySelector('details');
      if (rows[i].dataset.caseId !== params['case'] || !details) continue;
      if (rows[i].hidden) filter(rows[i].closest('section'), 'ALL');
      details.open = true;
      var top = rows[i].getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight - 120) rows[i].scrollIntoView({block: 'start'});
      return;
    }
  }
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(
            esc(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            shown("4a\u{1e}<b>"),
            "4a<span class=\"ctl\">\\x1e</span>&lt;b&gt;"
        );
        assert!(shown(&"x".repeat(MAX_TEXT + 10)).ends_with(&format!(
            "<span class=\"muted\"> … ({} bytes)</span>",
            MAX_TEXT + 10
        )));
    }

    #[test]
    fn url_encoding_survives_decode_uri_component() {
        assert_eq!(
            url_encode("sio5/a b[eio=3,transport=websocket]"),
            "sio5%2Fa%20b%5Beio%3D3%2Ctransport%3Dwebsocket%5D"
        );
    }
}
