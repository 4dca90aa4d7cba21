//! The coverage map as text (for a terminal) and as markdown (`docs/spec-coverage.md`).

use super::{Catalogue, Coverage, Spec, Statement, counts, gaps, join, normalize};

use std::fmt::Write as _;

fn statement_label(c: &Catalogue, s: &Statement) -> String {
    format!("{}:{}", c.document, s.id)
}

/// The verdict column: mutants, or why not observable, or what is missing.
fn proof(s: &Statement, has_case: bool) -> String {
    if !s.observable {
        return format!(
            "not observable by a client: {}",
            s.reason.as_deref().unwrap_or("")
        );
    }
    let mut out = if s.mutants.is_empty() {
        "no mutant".to_owned()
    } else {
        s.mutants
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !has_case {
        out.push_str(" (no case)");
    }
    out
}

/// The terminal rendering.
#[must_use]
pub fn text(spec: &Spec, coverage: &Coverage) -> String {
    let mut out = String::new();
    for c in &spec.catalogues {
        let _ = writeln!(
            out,
            "{} ({} @ {})",
            c.title,
            c.source.path,
            short(&c.source.commit)
        );
        for s in &c.statements {
            let key = (c.document.clone(), s.id.clone());
            let instances = coverage.instances.get(&key).map_or(&[][..], Vec::as_slice);
            let _ = writeln!(
                out,
                "  {:<44} {:<11} {}",
                statement_label(c, s),
                s.level.name(),
                s.anchor
            );
            let _ = writeln!(out, "    \"{}\"", quoted(s));
            if !instances.is_empty() {
                let _ = writeln!(out, "    cases:   {}", instances.join(", "));
            }
            let _ = writeln!(out, "    proof:   {}", proof(s, !instances.is_empty()));
        }
        out.push('\n');
    }
    if let Some(official) = &spec.official {
        for suite in &official.suites {
            let _ = writeln!(out, "Official: {} ({})", suite.title, suite.file);
            for t in &suite.tests {
                let key = (suite.suite.clone(), t.title.clone());
                let instances = coverage.official.get(&key).map_or(&[][..], Vec::as_slice);
                let _ = writeln!(out, "  {}", t.title);
                if instances.is_empty() {
                    let _ = writeln!(out, "    cases:   none (not ported)");
                } else {
                    let _ = writeln!(out, "    cases:   {}", instances.join(", "));
                }
                let _ = writeln!(out, "    mutants: {}", mutant_list(&t.mutants, false));
            }
            out.push('\n');
        }
    }
    for ((document, quote), cases) in &coverage.unmatched {
        let _ = writeln!(
            out,
            "quote of {document} that contains no catalogued statement: \"{quote}\" ({})",
            join(cases.iter())
        );
    }
    out.push_str(&summary_text(spec, coverage));
    out
}

fn quoted(s: &Statement) -> String {
    match &s.context {
        Some(context) => format!("{} … {}", normalize(context), normalize(&s.text)),
        None => normalize(&s.text),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

fn mutant_list(mutants: &[String], code: bool) -> String {
    if mutants.is_empty() {
        return "none".to_owned();
    }
    mutants
        .iter()
        .map(|m| if code { format!("`{m}`") } else { m.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn official_counts(spec: &Spec, coverage: &Coverage) -> (usize, usize, usize) {
    let (mut tests, mut ported, mut proven) = (0, 0, 0);
    if let Some(official) = &spec.official {
        for suite in &official.suites {
            for t in &suite.tests {
                tests += 1;
                let key = (suite.suite.clone(), t.title.clone());
                let is_ported = coverage.official.get(&key).is_some_and(|v| !v.is_empty());
                ported += usize::from(is_ported);
                proven += usize::from(is_ported && !t.mutants.is_empty());
            }
        }
    }
    (tests, ported, proven)
}

fn summary_text(spec: &Spec, coverage: &Coverage) -> String {
    let mut out = String::from("Summary\n");
    for c in &spec.catalogues {
        let n = counts(c, coverage);
        let _ = writeln!(
            out,
            "  {:<5} {} statements, {} observable, {} with a case; observable MUST/MUST NOT: {}, {} with a case, {} with a case and a mutant",
            c.document,
            n.statements,
            n.observable,
            n.with_case,
            n.musts,
            n.musts_with_case,
            n.musts_proven
        );
    }
    let (tests, ported, proven) = official_counts(spec, coverage);
    let _ = writeln!(
        out,
        "  official tests: {tests}, {ported} ported, {proven} ported with a mutant"
    );
    let (no_case, no_mutant) = gaps(&spec.catalogues, coverage);
    let _ = writeln!(
        out,
        "  observable MUST/MUST NOT without a case ({}): {}",
        no_case.len(),
        if no_case.is_empty() {
            "none".to_owned()
        } else {
            no_case.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "  observable MUST/MUST NOT without a mutant ({}): {}",
        no_mutant.len(),
        if no_mutant.is_empty() {
            "none".to_owned()
        } else {
            no_mutant.join(", ")
        }
    );
    out
}

/// Escapes a cell of a markdown table: `|`, line breaks, and `<` / `>` outside code spans (the
/// v5 format line `<packet type>[…]` is not an HTML tag).
pub(super) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// The page `docs/spec-coverage.md`.
#[must_use]
pub fn markdown(spec: &Spec, coverage: &Coverage) -> String {
    let mut out = String::new();
    out.push_str("# Spec coverage\n\n");
    out.push_str(
        "Generated by `conformance coverage --format markdown > docs/spec-coverage.md` from the \
         catalogue in `fixtures/spec/` and the suites in `fixtures/conformance/` (do not edit by \
         hand; CI fails when it is stale).\n\n",
    );
    out.push_str(
        "Every normative statement of the four protocol documents (each MUST, MUST NOT, SHOULD, \
         SHOULD NOT, each testable MAY, and the rules of the packet and payload grammar; \
         DESCRIPTIVE marks behaviour a document states without a keyword), quoted verbatim, \
         with the case instances that check it and the built-in mutants (`conformance mutants \
         list`) that those cases fail, or why a client cannot observe it. A case checks a \
         statement when one of its `spec:` quotes (case or step) contains the statement's \
         sentence, or names it by id (`eio4:heartbeat.ping-timeout`). That the mutants are \
         really killed by these cases is what the [kill matrix](kill-matrix.md) shows.\n\n",
    );
    out.push_str("## Summary\n\n");
    out.push_str(
        "| document | statements | observable | observable with a case | observable MUST / MUST NOT | … with a case | … with a case and a mutant |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in &spec.catalogues {
        let n = counts(c, coverage);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.title,
            n.statements,
            n.observable,
            n.with_case,
            n.musts,
            n.musts_with_case,
            n.musts_proven
        );
    }
    let (tests, ported, proven) = official_counts(spec, coverage);
    let _ = writeln!(
        out,
        "\nOfficial suites: {tests} tests, {ported} ported, {proven} ported with a mutant that the porting cases fail.\n"
    );
    let (no_case, no_mutant) = gaps(&spec.catalogues, coverage);
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        out,
        "Observable MUST / MUST NOT statements without a case ({}): {}.\n",
        no_case.len(),
        list(&no_case)
    );
    let _ = writeln!(
        out,
        "Observable MUST / MUST NOT statements without a mutant ({}): {}.\n",
        no_mutant.len(),
        list(&no_mutant)
    );
    for c in &spec.catalogues {
        let _ = writeln!(
            out,
            "## {}\n\n[`{}`]({}) (quotes from {}@{}).",
            c.title,
            c.source.path,
            c.url,
            c.source.repo,
            short(&c.source.commit)
        );
        if let Some(note) = &c.note {
            let _ = writeln!(out, "{}", normalize(note));
        }
        out.push_str(
            "\n| id | level | statement | case instances | mutants / not observable |\n|---|---|---|---|---|\n",
        );
        for s in &c.statements {
            let key = (c.document.clone(), s.id.clone());
            let instances = coverage.instances.get(&key).map_or(&[][..], Vec::as_slice);
            let mut statement = format!("[{}]({}{}) {}", s.anchor, c.url, s.anchor, quoted(s));
            if let Some(note) = &s.note {
                let _ = write!(statement, " *Note: {}*", normalize(note));
            }
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                s.id,
                s.level.name(),
                cell(&statement),
                cell(
                    &instances
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                cell(&proof(s, !instances.is_empty()))
            );
        }
        out.push('\n');
    }
    if let Some(official) = &spec.official {
        out.push_str("## Official test suites\n\n");
        out.push_str(
            "Every test of the official suites (titles as in [the mapping](official-mapping.md)), \
             the case instances that port it, and the mutants those instances fail.\n\n",
        );
        for suite in &official.suites {
            let _ = writeln!(
                out,
                "### {}\n\n`{}`, ported by suite `{}`.\n\n| official test | asserts | case instances | mutants |\n|---|---|---|---|",
                suite.title, suite.file, suite.suite
            );
            for t in &suite.tests {
                let key = (suite.suite.clone(), t.title.clone());
                let instances = coverage.official.get(&key).map_or(&[][..], Vec::as_slice);
                let title = if t.skipped {
                    format!("{} (`it.skip` upstream)", t.title)
                } else {
                    t.title.clone()
                };
                let ported = if instances.is_empty() {
                    "**not ported**".to_owned()
                } else {
                    instances
                        .iter()
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&title),
                    cell(t.asserts.as_deref().unwrap_or("")),
                    cell(&ported),
                    mutant_list(&t.mutants, true)
                );
            }
            out.push('\n');
        }
    }
    if !coverage.unmatched.is_empty() {
        out.push_str(
            "## Quotes that contain no catalogued statement\n\nQuotes of the four documents in \
             `spec:` lists that contain no statement's sentence (a heading, a table row, part of \
             a sentence):\n\n| document | quote | cases |\n|---|---|---|\n",
        );
        for ((document, quote), cases) in &coverage.unmatched {
            let _ = writeln!(
                out,
                "| {document} | {} | {} |",
                cell(quote),
                cell(
                    &cases
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            );
        }
    }
    out
}
