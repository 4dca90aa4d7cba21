//! `conformance lint`: the fixture lint ([`crate::lint`]) over the built-in suites and probes
//! or the given files, printed as text or JSON; exit 1 on findings.

use crate::exit;
use crate::fixture::{FixtureError, Suite};
use crate::lint::{Rule, lint_suite};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Options of `lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Fixture directory (every `*.yaml` in it) or file; repeatable. Default: the suites
    /// `run` loads.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

/// Output formats of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// One line per finding (`file:line:column: rule: message`), then a summary line.
    Text,
    /// One JSON object: `findings` and `summary`.
    Json,
}

/// `conformance lint`.
pub fn lint(args: &LintArgs) -> u8 {
    // Each path on its own (a probe suite and a conformance suite may share a name); by
    // default the built-in suites and probes.
    let loaded: Vec<Result<Vec<Suite>, FixtureError>> = if args.fixtures.is_empty() {
        vec![
            crate::fixture::builtin::FixtureArgs::builtin().load(),
            crate::fixture::builtin::load_probes(None).map(|s| vec![s]),
        ]
    } else {
        args.fixtures
            .iter()
            .map(|path| {
                crate::fixture::builtin::FixtureArgs {
                    fixtures: vec![path.clone()],
                    extra_fixtures: Vec::new(),
                }
                .load()
            })
            .collect()
    };
    let mut suites = Vec::new();
    let mut failed = false;
    for result in loaded {
        match result {
            Ok(loaded) => suites.extend(loaded),
            Err(error) => {
                super::common::print_errors(&error);
                failed = true;
            }
        }
    }
    if failed {
        return exit::USAGE;
    }
    let mut findings = Vec::new();
    for suite in &suites {
        findings.extend(lint_suite(suite, &suite.source));
    }
    findings.sort();
    let cases: usize = suites.iter().map(|s| s.cases.len()).sum();
    let mut counts: BTreeMap<Rule, usize> = BTreeMap::new();
    for finding in &findings {
        *counts.entry(finding.rule).or_default() += 1;
    }
    match args.format {
        LintFormat::Text => {
            for finding in &findings {
                println!("{finding}");
            }
            println!(
                "{}",
                summary_line(&counts, findings.len(), suites.len(), cases)
            );
        }
        LintFormat::Json => {
            let rules: serde_json::Map<String, serde_json::Value> = Rule::ALL
                .iter()
                .map(|rule| {
                    let count = counts.get(rule).copied().unwrap_or(0);
                    (rule.name().to_owned(), count.into())
                })
                .collect();
            let report = serde_json::json!({
                "findings": findings,
                "summary": {
                    "suites": suites.len(),
                    "cases": cases,
                    "findings": findings.len(),
                    "rules": rules,
                },
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
    }
    if findings.is_empty() {
        exit::OK
    } else {
        exit::FAILURES
    }
}

fn summary_line(
    counts: &BTreeMap<Rule, usize>,
    total: usize,
    suites: usize,
    cases: usize,
) -> String {
    let plural =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    let scope = format!("{}, {}", plural(suites, "suite"), plural(cases, "case"));
    if total == 0 {
        return format!("lint: no findings in {scope}");
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(rule, count)| format!("{count} {rule}"))
        .collect();
    format!(
        "lint: {} ({}) in {scope}",
        plural(total, "finding"),
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::tests::{case, suite, temp_dir};
    use std::path::Path;

    #[test]
    fn exit_codes_and_the_summary_line() {
        let clean = suite(&format!(
            "cases:\n{}",
            case(
                "c",
                "      - http: {query: \"EIO=4&transport=polling\"}\n        expect: {status: 200}\n"
            )
        ));
        let weak = clean.replace("      - http:", "      - sleep: 20ms\n      - http:");
        let broken = clean.replace("EIO=4&transport=polling\"", "EIO=4&sid=${nope}\"");
        let run = |dir: &Path, format: LintFormat| {
            lint(&LintArgs {
                fixtures: vec![dir.to_owned()],
                format,
            })
        };
        let dir = temp_dir("clean", &[("t.yaml", &clean)]);
        assert_eq!(run(&dir, LintFormat::Text), exit::OK);
        let dir = temp_dir("weak", &[("t.yaml", &weak)]);
        assert_eq!(run(&dir, LintFormat::Text), exit::FAILURES);
        assert_eq!(run(&dir, LintFormat::Json), exit::FAILURES);
        // A single file works as well as a directory.
        assert_eq!(
            lint(&LintArgs {
                fixtures: vec![dir.join("t.yaml")],
                format: LintFormat::Text,
            }),
            exit::FAILURES
        );
        let dir = temp_dir("broken", &[("t.yaml", &broken)]);
        assert_eq!(run(&dir, LintFormat::Text), exit::USAGE);
        for name in ["clean", "weak", "broken"] {
            let _ = std::fs::remove_dir_all(temp_dir(name, &[]));
        }

        let mut counts = BTreeMap::new();
        counts.insert(Rule::HardCodedTiming, 2);
        counts.insert(Rule::UnusedCapture, 1);
        assert_eq!(
            summary_line(&counts, 3, 2, 9),
            "lint: 3 findings (1 unused-capture, 2 hard-coded-timing) in 2 suites, 9 cases"
        );
        assert_eq!(
            summary_line(&BTreeMap::new(), 0, 1, 9),
            "lint: no findings in 1 suite, 9 cases"
        );
        counts.remove(&Rule::HardCodedTiming);
        assert_eq!(
            summary_line(&counts, 1, 2, 1),
            "lint: 1 finding (1 unused-capture) in 2 suites, 1 case"
        );
    }
}
