//! `conformance record --target REF --script draft.yaml --out case.yaml`: grows the suite from
//! real traffic. A draft is a fixture whose expectations are left to the reference: each
//! `- record: {conn: c}` step (one line) takes the next item of that connection. The recorder
//! runs the draft, then writes the draft with every `record` line replaced by the `expect` that
//! matches what arrived, on the same line, so the file keeps its layout and comments.
//!
//! With `--runs N` (and over the transport axis, whose instances must agree) every record step
//! is taken several times; the fields that differ between takes (session ids, socket ids,
//! server-chosen ack ids) become type matchers with a capture, listed for review. Recording
//! again over an existing `--out` rewrites it in place and prints what changed, value by
//! value, not line by line.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::args::{RunOptions, ServerArgs};
use super::common;
use crate::engine::Verdict;
use crate::exit;
use crate::fixture::builtin::FixtureArgs;
use crate::fixture::{self, Action, Suite};
use clap::Args;

/// Options of `record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The reference server (`--exec` starts it for the recording).
    #[command(flatten)]
    pub server: ServerArgs,
    /// Which cases of the draft run, how the runner talks to the server, when it stops.
    #[command(flatten)]
    pub options: RunOptions,
    /// The draft: a fixture whose `record` steps are filled in.
    #[arg(long, value_name = "FILE")]
    pub script: std::path::PathBuf,
    /// Where to write the recorded fixture; an existing file is rewritten in place and what
    /// changed is printed.
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
    /// Record this many times; fields that differ between runs become type matchers with a
    /// capture, listed for review.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
}

/// `conformance record`.
pub fn record(args: &RecordArgs) -> u8 {
    common::block_on(async {
        match record_inner(args).await {
            Ok(()) => exit::OK,
            Err((code, message)) => {
                if !message.is_empty() {
                    eprintln!("error: {message}");
                }
                code
            }
        }
    })
}

/// An exit code and what to print (empty when the cause is printed already).
type Failure = (u8, String);

async fn record_inner(args: &RecordArgs) -> Result<(), Failure> {
    let usage = |message: String| (exit::USAGE, message);
    if args.runs == 0 {
        return Err(usage("--runs must be at least 1".into()));
    }
    let draft = std::fs::read_to_string(&args.script)
        .map_err(|e| usage(format!("--script {}: {e}", args.script.display())))?;
    let suite = fixture::parse_suite(&draft, &args.script, &fixture::builtin::load_options())
        .map_err(|e| usage(e.to_string()))?;
    let lines = record_lines(&suite, &draft).map_err(usage)?;
    if lines.is_empty() {
        return Err(usage(format!(
            "{}: no `- record: {{conn: …}}` step to record",
            args.script.display()
        )));
    }
    let takes = run_draft(args).await?;
    let mut captured = Captured::default();
    let mut out_lines: Vec<String> = draft.lines().map(str::to_owned).collect();
    let mut review = Vec::new();
    let mut recorded = BTreeMap::new();
    for line in &lines {
        let entries = takes.get(line).map(Vec::as_slice).unwrap_or_default();
        if entries.is_empty() {
            return Err((
                exit::FAILURES,
                format!("line {line}: the record step never ran"),
            ));
        }
        let patterns: Vec<Value> = entries.iter().map(|(_, v)| to_pattern(v)).collect();
        let mut namer = Namer {
            line: *line,
            next: 1,
            takes: entries.iter().map(|(take, _)| take.clone()).collect(),
            captured: &mut captured,
        };
        let pattern = generalize(&patterns, "", &mut namer, &mut review);
        let text = &out_lines[usize::try_from(*line - 1).unwrap_or(0)];
        let indent = &text[..text.len() - text.trim_start().len()];
        out_lines[usize::try_from(*line - 1).unwrap_or(0)] = format!(
            "{indent}- expect: {}",
            serde_json::to_string(&pattern).unwrap_or_default()
        );
        recorded.insert(*line, pattern);
    }
    if args.out.exists() {
        print_changes(&args.out, &recorded);
    }
    let mut text = out_lines.join("\n");
    text.push('\n');
    std::fs::write(&args.out, text).map_err(|e| {
        (
            exit::HARNESS,
            format!("writing {}: {e}", args.out.display()),
        )
    })?;
    for note in &review {
        println!("REVIEW  {note}");
    }
    println!(
        "recorded {} step{} into {} ({} run{}, {} field{} generalised for review)",
        lines.len(),
        plural(lines.len()),
        args.out.display(),
        args.runs,
        plural(args.runs),
        review.len(),
        plural(review.len()),
    );
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The lines of the draft's `record` steps, each of which must be a one-line
/// `- record: {conn: …}` (the recorder replaces the line).
fn record_lines(suite: &Suite, draft: &str) -> Result<Vec<u64>, String> {
    let mut lines = Vec::new();
    let check = |steps: &[fixture::Step]| {
        let mut found = Vec::new();
        fixture::walk_steps(steps, &mut |step| {
            if matches!(step.action, Action::Record { .. }) {
                found.push(step.line);
            }
        });
        found
    };
    for case in &suite.cases {
        lines.extend(check(&case.steps));
    }
    for fragment in suite.fragments.values() {
        lines.extend(check(&fragment.steps));
    }
    lines.sort_unstable();
    lines.dedup();
    let text: Vec<&str> = draft.lines().collect();
    for line in &lines {
        let source = text
            .get(usize::try_from(*line - 1).unwrap_or(usize::MAX))
            .map_or("", |l| l.trim());
        if !(source.starts_with("- record:") && source.ends_with('}')) {
            return Err(format!(
                "line {line}: write a record step on one line, `- record: {{conn: c}}` (found `{source}`)"
            ));
        }
    }
    Ok(lines)
}

/// Runs every instance of the draft `args.runs` times; what each record line took, over all
/// runs and instances. Any failing step (a draft's own expectations, or a record step that
/// got nothing) stops the recording.
async fn run_draft(args: &RecordArgs) -> Result<BTreeMap<u64, Vec<(Take, Value)>>, Failure> {
    let draft = FixtureArgs {
        fixtures: vec![args.script.clone()],
        extra_fixtures: Vec::new(),
    };
    let quiet = |code| (code, String::new());
    let runner = common::run_runner(&args.server.target, &args.options, &draft).map_err(quiet)?;
    let plan = common::plan(&runner).map_err(quiet)?;
    let settings = plan.settings.clone();
    let runs = async {
        let mut takes: BTreeMap<u64, Vec<(Take, Value)>> = BTreeMap::new();
        let mut failed = Vec::new();
        for run in 0..args.runs {
            let report = common::drive(&runner, &plan, &args.options).await?;
            if let Some(reason) = report.interrupted() {
                failed.push(format!("INTERRUPTED: {reason}"));
                break;
            }
            for result in report.results() {
                if !matches!(result.verdict, Verdict::Pass | Verdict::Skipped) {
                    let why = result.findings.first().map_or(String::new(), |f| {
                        format!(" (line {}: {})", f.line, f.message)
                    });
                    failed.push(format!("{} {}{why}", result.verdict, result.instance.id));
                }
                for (line, value) in &result.recorded {
                    let take = (run, result.instance.id.clone());
                    takes.entry(*line).or_default().push((take, value.clone()));
                }
            }
        }
        Ok((takes, failed))
    };
    let (takes, failed) = common::with_server(&args.server, &settings, runs)
        .await
        .and_then(|ran| ran)
        .map_err(quiet)?;
    if failed.is_empty() {
        Ok(takes)
    } else {
        Err((
            exit::FAILURES,
            format!(
                "the draft did not run cleanly, nothing written:\n  {}",
                failed.join("\n  ")
            ),
        ))
    }
}

/// A recorded item as fixture pattern syntax: binary leaves `{"$bin": "<hex>"}` become
/// `{"$bin": {"hex": …}}`, the default namespace `/` is left out, a literal `${` is escaped.
fn to_pattern(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.get("$bin").is_some_and(Value::is_string) => {
            json!({"$bin": {"hex": map["$bin"]}})
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !(k.as_str() == "nsp" && v.as_str() == Some("/")))
                .map(|(k, v)| (k.clone(), to_pattern(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(to_pattern).collect()),
        Value::String(text) => Value::String(text.replace("${", "$${")),
        other => other.clone(),
    }
}

/// One take of a record step: (run, case instance id).
type Take = (usize, String);

/// The values captured so far, per take: a later field that equals, in every take, what one
/// capture took becomes a reference to it (`${rec12_1}`: a `whoami` answer is the socket id
/// of the CONNECT reply).
#[derive(Default)]
struct Captured(BTreeMap<Take, Vec<(Value, String)>>);

/// Names captures after the record line (`rec12_1`, `rec12_2`, …) and remembers them.
struct Namer<'a> {
    line: u64,
    next: u32,
    /// The take of each value, in the order of the values being generalised.
    takes: Vec<Take>,
    captured: &'a mut Captured,
}

impl Namer<'_> {
    /// The capture that took exactly these values, take by take.
    fn known(&self, values: &[Value]) -> Option<String> {
        let mut names = values.iter().zip(&self.takes).map(|(value, take)| {
            self.captured
                .0
                .get(take)
                .and_then(|seen| seen.iter().find(|(v, _)| v == value))
                .map(|(_, name)| name.clone())
        });
        let first = names.next()??;
        names
            .all(|name| name.as_ref() == Some(&first))
            .then_some(first)
    }

    fn capture(&mut self, values: &[Value]) -> String {
        let name = format!("rec{}_{}", self.line, self.next);
        self.next += 1;
        for (value, take) in values.iter().zip(&self.takes) {
            self.captured
                .0
                .entry(take.clone())
                .or_default()
                .push((value.clone(), name.clone()));
        }
        name
    }
}

/// One pattern that matches every take: equal parts stay literal; scalars that differ become
/// a reference to an earlier capture that took the same values, else `{$type, $capture}`;
/// objects keep their common keys (others allowed); arrays of one length are generalised
/// element by element. Each generalised field is noted in `review`.
fn generalize(
    takes: &[Value],
    path: &str,
    namer: &mut Namer<'_>,
    review: &mut Vec<String>,
) -> Value {
    let first = &takes[0];
    if takes.iter().all(|t| t == first) {
        return first.clone();
    }
    let shown = || {
        let mut seen: Vec<String> = takes.iter().map(Value::to_string).collect();
        seen.dedup();
        seen.truncate(3);
        seen.join(", ")
    };
    if let Some(maps) = takes
        .iter()
        .map(Value::as_object)
        .collect::<Option<Vec<_>>>()
    {
        let common: Vec<&String> = maps[0]
            .keys()
            .filter(|k| maps.iter().all(|m| m.contains_key(*k)))
            .collect();
        let mut out = Map::new();
        for key in common {
            let values: Vec<Value> = maps.iter().map(|m| m[key].clone()).collect();
            out.insert(
                key.clone(),
                generalize(&values, &format!("{path}/{key}"), namer, review),
            );
        }
        if maps.iter().any(|m| m.len() != out.len()) {
            out.insert("$extra_keys".into(), json!("allow"));
            review.push(format!(
                "line {} {path}: keys differ between takes; only the common ones are kept",
                namer.line
            ));
        }
        return Value::Object(out);
    }
    if let Some(arrays) = takes
        .iter()
        .map(Value::as_array)
        .collect::<Option<Vec<_>>>()
        && arrays.iter().all(|a| a.len() == arrays[0].len())
    {
        return Value::Array(
            (0..arrays[0].len())
                .map(|i| {
                    let values: Vec<Value> = arrays.iter().map(|a| a[i].clone()).collect();
                    generalize(&values, &format!("{path}/{i}"), namer, review)
                })
                .collect(),
        );
    }
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if let Some(name) = namer.known(takes) {
        review.push(format!(
            "line {} {path}: differs between takes, always the value `{name}` took",
            namer.line
        ));
        return Value::String(format!("${{{name}}}"));
    }
    let name = namer.capture(takes);
    let pattern = if takes.iter().all(|t| kind(t) == kind(first)) {
        json!({"$type": kind(first), "$capture": name})
    } else {
        json!({"$any": true})
    };
    review.push(format!(
        "line {} {path}: differs between takes ({}): now {pattern}",
        namer.line,
        shown()
    ));
    pattern
}

/// Re-recording: what changed against the expectations already in `out`, per record line,
/// compared as values (a hand edit that moved lines shows as not comparable).
fn print_changes(out: &Path, recorded: &BTreeMap<u64, Value>) {
    let Ok(old) = std::fs::read_to_string(out) else {
        return;
    };
    let old_lines: Vec<&str> = old.lines().collect();
    let mut changed = 0;
    for (line, new) in recorded {
        let before = old_lines
            .get(usize::try_from(*line - 1).unwrap_or(usize::MAX))
            .and_then(|l| l.trim().strip_prefix("- expect:"))
            .and_then(|text| serde_json::from_str::<Value>(text.trim()).ok());
        match before {
            None => {
                changed += 1;
                println!("CHANGED line {line}: the old file has no recorded expect here");
            }
            Some(before) => {
                let mut differences = Vec::new();
                value_changes(&before, new, "", &mut differences);
                if !differences.is_empty() {
                    changed += 1;
                }
                for difference in differences {
                    println!("CHANGED line {line} {difference}");
                }
            }
        }
    }
    println!(
        "re-recorded {}: {changed} of {} expectations changed",
        out.display(),
        recorded.len()
    );
}

fn value_changes(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    Some(other) => value_changes(value, other, &format!("{path}/{key}"), out),
                    None => out.push(format!("{path}/{key}: removed (was {value})")),
                }
            }
            for (key, value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                out.push(format!("{path}/{key}: added {value}"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                value_changes(x, y, &format!("{path}/{i}"), out);
            }
        }
        (a, b) if a != b => out.push(format!(
            "{}: {a} -> {b}",
            if path.is_empty() { "/" } else { path }
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_fields_become_type_matchers_with_captures() {
        let takes = [
            json!({"conn": "c", "sio": {"type": "CONNECT", "data": {"sid": "abc"}}}),
            json!({"conn": "c", "sio": {"type": "CONNECT", "data": {"sid": "xyz"}}}),
        ];
        let mut review = Vec::new();
        let mut captured = Captured::default();
        let runs: Vec<Take> = vec![(0, "a".into()), (1, "a".into())];
        let mut generalized = |line: u64, values: &[Value], review: &mut Vec<String>| {
            let mut namer = Namer {
                line,
                next: 1,
                takes: runs.clone(),
                captured: &mut captured,
            };
            generalize(values, "", &mut namer, review)
        };
        assert_eq!(
            generalized(9, &takes, &mut review),
            json!({"conn": "c", "sio": {"type": "CONNECT", "data": {"sid": {"$type": "string", "$capture": "rec9_1"}}}})
        );
        assert_eq!(review.len(), 1);
        assert!(review[0].contains("/sio/data/sid"), "{review:?}");
        // A later field with the same values, take by take, refers to the capture.
        let whoami = [json!(["whoami-back", "abc"]), json!(["whoami-back", "xyz"])];
        assert_eq!(
            generalized(12, &whoami, &mut review),
            json!(["whoami-back", "${rec9_1}"])
        );
        // Swapped values are not the same capture.
        assert_eq!(
            generalized(13, &[json!("xyz"), json!("abc")], &mut review),
            json!({"$type": "string", "$capture": "rec13_1"})
        );
        // Equal takes stay literal; types that differ match anything.
        assert_eq!(generalized(1, &[json!(1), json!(1)], &mut review), json!(1));
        assert_eq!(
            generalized(1, &[json!(1), json!("1")], &mut review),
            json!({"$any": true})
        );
    }

    #[test]
    fn recorded_values_become_fixture_patterns() {
        assert_eq!(
            to_pattern(
                &json!({"sio": {"type": "EVENT", "nsp": "/", "data": ["x", {"$bin": "0102"}, "${a}"]}})
            ),
            json!({"sio": {"type": "EVENT", "data": ["x", {"$bin": {"hex": "0102"}}, "$${a}"]}})
        );
        assert_eq!(
            to_pattern(&json!({"sio": {"type": "CONNECT", "nsp": "/custom"}})),
            json!({"sio": {"type": "CONNECT", "nsp": "/custom"}})
        );
    }

    #[test]
    fn changes_are_reported_by_path() {
        let mut out = Vec::new();
        value_changes(
            &json!({"sio": {"type": "EVENT", "data": ["a", 1]}}),
            &json!({"sio": {"type": "EVENT", "data": ["a", 2], "id": 3}}),
            "",
            &mut out,
        );
        assert_eq!(out, ["/sio/data/1: 1 -> 2", "/sio/id: added 3"]);
    }
}
