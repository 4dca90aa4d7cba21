//! One case's row and its expandable detail: findings, spec quotes, the fixture excerpt with
//! the failing lines marked, the wire transcript.

use super::escape::{esc, shown};
use super::{MAX_BYTES, MAX_FIXTURE_LINES};
use std::fmt::Write as _;

use crate::engine::{CaseResult, Verdict};
use crate::fixture::SpecRef;
use crate::report::spec_url;
use crate::transport::{Dir, WireData, WireKind};

pub(super) fn level(result: &CaseResult) -> String {
    format!("{:?}", result.instance.level).to_uppercase()
}

/// One case: its row, with the detail behind `<details>`.
pub(super) fn case_row(out: &mut String, result: &CaseResult, id: &str) {
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
            crate::fixture::excerpt(&i.source, f.line, 12),
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
    match crate::fixture::excerpt(&i.source, i.line, MAX_FIXTURE_LINES) {
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
