//! The JSON Schemas of schemas/ (issue 14, "Stable machine outputs") against what the runner
//! really writes and reads: the JSON report of a real run against the built-in contract server
//! (in-process, and the binary's `--report json=` and `.conformance/last-run.json` of an
//! interrupted run), the profile of a real `conformance probe --out`, the output of
//! `conformance list --format json`, and every expected-results and known-failing example of
//! the repository. Each example must parse with the runner's own parser *and* validate, and
//! documents the parser refuses must be refused by the schema too (and the other way round),
//! so schema and parser cannot drift apart silently. Negative documents keep a schema that
//! accepts everything from passing.

use boon::{Compiler, SchemaIndex, Schemas};
use serde_json::{Value, json};
use sio_conformance::baseline::Baseline;
use sio_conformance::commands::mutants::{Mutant, Settings, server};
use sio_conformance::engine::{RunSettings, Verdict};
use sio_conformance::expected::Expected;
use sio_conformance::fixture::builtin::load_options;
use sio_conformance::fixture::{Suite, load_dir_with};
use sio_conformance::profile::Profile;
use sio_conformance::report::{self, Trace};
use sio_conformance::runner::{self, Selection};
use sio_conformance::transport::target::Target;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Every schema file, by format.
const SCHEMA_FILES: [&str; 5] = [
    "report.v1.schema.json",
    "profile.v1.schema.json",
    "expected.v1.schema.json",
    "known-failing.v1.schema.json",
    "list.v1.schema.json",
];

fn schema_json(file: &str) -> Value {
    let path = Path::new(ROOT).join("schemas").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `schema` with every `additionalProperties: true` made `false`: the published schemas of
/// the outputs are open (a later minor release may add fields), the tests hold the runner to
/// declaring every field it writes.
fn closed(mut schema: Value) -> Value {
    fn close(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.get("additionalProperties") == Some(&Value::Bool(true)) {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

/// A compiled schema (boon checks it against the draft 2020-12 metaschema on the way).
struct Validator {
    schemas: Schemas,
    index: SchemaIndex,
    name: String,
}

impl Validator {
    fn from_value(name: &str, schema: Value) -> Self {
        let id = schema["$id"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no $id"))
            .to_owned();
        let mut compiler = Compiler::new();
        let mut schemas = Schemas::new();
        compiler
            .add_resource(&id, schema)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let index = compiler
            .compile(&id, &mut schemas)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        Self {
            schemas,
            index,
            name: name.to_owned(),
        }
    }

    /// The published schema `file`.
    fn open(file: &str) -> Self {
        Self::from_value(file, schema_json(file))
    }

    /// `file` with every object closed (see [`closed`]).
    fn strict(file: &str) -> Self {
        Self::from_value(&format!("{file} (closed)"), closed(schema_json(file)))
    }

    fn check(&self, doc: &Value) -> Result<(), String> {
        self.schemas
            .validate(doc, self.index)
            .map_err(|e| format!("{e:#}"))
    }

    fn accepts(&self, doc: &Value, what: &str) {
        if let Err(e) = self.check(doc) {
            panic!("{} rejects {what}: {e}", self.name);
        }
    }

    fn rejects(&self, doc: &Value, what: &str) {
        assert!(
            self.check(doc).is_err(),
            "{} accepts {what}, which is invalid",
            self.name
        );
    }
}

/// A YAML file of the runner's formats as the JSON data model the schemas describe.
fn yaml_to_json(text: &str, what: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `doc` with `edit` applied to a copy.
fn edited(doc: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut copy = doc.clone();
    edit(&mut copy);
    copy
}

fn remove(doc: &mut Value, pointer: &str, key: &str) {
    doc.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .remove(key)
        .unwrap_or_else(|| panic!("no {key} at {pointer}"));
}

fn set(doc: &mut Value, pointer: &str, key: &str, value: Value) {
    doc.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer}"))
        .insert(key.to_owned(), value);
}

fn suites() -> Vec<Suite> {
    load_dir_with(format!("{ROOT}/fixtures/conformance"), &load_options())
        .expect("the fixtures load")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sio-schemas-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs the binary in `dir` (so `.conformance/` lands there); its output.
async fn binary(dir: &Path, args: Vec<String>) -> std::process::Output {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_conformance"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("the binary's thread")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every property of every schema says what it is; every object schema decides
/// `additionalProperties`; the files are draft 2020-12 with an `$id` and a title.
#[test]
fn every_schema_is_draft_2020_12_documented_and_deliberate() {
    fn walk(v: &Value, at: &str, problems: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    if !map.contains_key("additionalProperties") {
                        problems.push(format!("{at}: properties without additionalProperties"));
                    }
                    for (name, property) in properties {
                        if !property["description"].is_string() {
                            problems.push(format!("{at}/properties/{name}: no description"));
                        }
                    }
                }
                for (key, value) in map {
                    if !matches!(key.as_str(), "const" | "enum" | "examples" | "default") {
                        walk(value, &format!("{at}/{key}"), problems);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for file in SCHEMA_FILES {
        let schema = schema_json(file);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{file}"
        );
        let id = schema["$id"].as_str().unwrap_or_default();
        assert!(
            id.ends_with(&format!("/schemas/{file}")),
            "{file}: $id {id}"
        );
        assert!(schema["title"].is_string(), "{file}: no title");
        assert!(schema["description"].is_string(), "{file}: no description");
        // A versioned file names its version where the document does: `schema`.
        if let Some(tag) = schema["properties"]["schema"]["const"].as_str() {
            assert_eq!(schema["title"], tag, "{file}");
            let version = tag.rsplit('/').next().unwrap_or_default();
            assert!(file.ends_with(&format!(".{version}.schema.json")), "{file}");
        }
        walk(&schema, file, &mut problems);
        // Compiles, which checks it against the metaschema.
        Validator::open(file);
        Validator::strict(file);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Runs `patterns` (with `without` declared missing) against a fresh built-in server with
/// `mutant`; every case instance's result, the SKIPPED ones too.
async fn run(
    mutant: Mutant,
    patterns: &[&str],
    without: &[&str],
) -> Vec<sio_conformance::engine::CaseResult> {
    let server = server::start("127.0.0.1:0", Settings::with_mutant(mutant))
        .await
        .expect("the server starts");
    let settings = RunSettings {
        target: Target::parse(&server.url(), "/").expect("a valid target"),
        explicit_path: false,
        timeout: Duration::from_secs(2),
        slack: Duration::from_millis(150),
        connect_timeout: Duration::from_secs(1),
        max_case_duration: Duration::from_secs(20),
    };
    let selection = Selection {
        run: patterns.iter().map(|p| (*p).to_owned()).collect(),
        without: without.iter().map(|c| (*c).to_owned()).collect(),
        ..Selection::default()
    };
    let suites = suites();
    let results = tokio::time::timeout(
        Duration::from_secs(60),
        runner::run(&suites, &selection, &settings, 2, &|_| {}),
    )
    .await
    .expect("the run ends within a minute");
    server.stop().await;
    results
}

/// The JSON report of a real run: PASS, FAIL with expected/actual, UNSUPPORTED, SKIPPED,
/// transcripts with text and binary frames, under every `--trace`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_of_a_real_run_validates() {
    let results = run(
        Mutant::WrongAckId,
        &[
            "sio5/message/plain-text-with-ack*",
            "sio5/message/plain-text",
            "sio/binary/echo[eio=*",
        ],
        &["eio3"],
    )
    .await;
    let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
    for verdict in [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Unsupported,
        Verdict::Skipped,
    ] {
        assert!(verdicts.contains(&verdict), "no {verdict} in {verdicts:?}");
    }
    let open = Validator::open("report.v1.schema.json");
    let strict = Validator::strict("report.v1.schema.json");
    let mut traced = None;
    for trace in [Trace::None, Trace::Failing, Trace::All] {
        let text = report::json(&results, "http://127.0.0.1:1/", trace);
        let doc: Value = serde_json::from_str(&text).expect("the report is JSON");
        assert_eq!(doc["schema"], "conformance.report/v1");
        strict.accepts(&doc, &format!("the report with {trace:?}"));
        open.accepts(&doc, &format!("the report with {trace:?}"));
        traced = Some(doc);
    }
    let doc = traced.expect("a report");
    let events: Vec<&Value> = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .flat_map(|c| c["transcript"].as_array().into_iter().flatten())
        .collect();
    assert!(events.iter().any(|e| e["data"].is_string()), "no text");
    assert!(events.iter().any(|e| e["hex"].is_string()), "no bytes");
    let failing = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["verdict"] == "FAIL")
        .expect("a FAIL case")
        .clone();
    assert!(failing["findings"][0]["expected"].is_string(), "{failing}");

    // A report of a later minor release may have more fields: the published schema takes
    // them, the closed copy the tests use does not.
    let added = edited(&doc, |d| set(d, "", "new_field", json!(1)));
    open.accepts(&added, "an added top-level field");
    strict.rejects(&added, "an undeclared top-level field");
    let added = edited(&doc, |d| set(d, "/cases/0", "new_field", json!(1)));
    open.accepts(&added, "an added case field");
    strict.rejects(&added, "an undeclared case field");

    let with_finding = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .position(|c| c["verdict"] == "FAIL")
        .expect("a FAIL case");
    let finding = format!("/cases/{with_finding}/findings/0");
    let event = format!("/cases/{with_finding}/transcript/0");
    let bad: Vec<(&str, Value)> = vec![
        ("no summary", edited(&doc, |d| remove(d, "", "summary"))),
        ("no cases", edited(&doc, |d| remove(d, "", "cases"))),
        (
            "another schema",
            edited(&doc, |d| {
                set(d, "", "schema", json!("conformance.report/v2"))
            }),
        ),
        (
            "a string count",
            edited(&doc, |d| set(d, "/summary", "pass", json!("1"))),
        ),
        (
            "a negative count",
            edited(&doc, |d| set(d, "/summary", "fail", json!(-1))),
        ),
        (
            "a summary without skipped",
            edited(&doc, |d| remove(d, "/summary", "skipped")),
        ),
        (
            "an unknown verdict",
            edited(&doc, |d| set(d, "/cases/0", "verdict", json!("MAYBE"))),
        ),
        (
            "a lower-case level",
            edited(&doc, |d| set(d, "/cases/0", "level", json!("must"))),
        ),
        (
            "a string duration",
            edited(&doc, |d| set(d, "/cases/0", "duration_ms", json!("3"))),
        ),
        (
            "a case without id",
            edited(&doc, |d| remove(d, "/cases/0", "id")),
        ),
        (
            "a fixture without line",
            edited(&doc, |d| set(d, "/cases/0", "fixture", json!("demo.yaml"))),
        ),
        (
            "findings not a list",
            edited(&doc, |d| set(d, "/cases/0", "findings", json!({}))),
        ),
        (
            "a finding without message",
            edited(&doc, |d| remove(d, &finding, "message")),
        ),
        (
            "a string timing",
            edited(&doc, |d| set(d, &finding, "timing", json!("no"))),
        ),
        (
            "an unknown direction",
            edited(&doc, |d| set(d, &event, "dir", json!("up"))),
        ),
        (
            "an unknown event kind",
            edited(&doc, |d| set(d, &event, "kind", json!("ws_ping"))),
        ),
        (
            "upper-case hex",
            edited(&doc, |d| {
                if let Some(e) = d.pointer_mut(&event).and_then(Value::as_object_mut) {
                    e.remove("data");
                }
                set(d, &event, "hex", json!("0A"));
            }),
        ),
        (
            "hex of an odd length",
            edited(&doc, |d| {
                if let Some(e) = d.pointer_mut(&event).and_then(Value::as_object_mut) {
                    e.remove("data");
                }
                set(d, &event, "hex", json!("0a0"));
            }),
        ),
        (
            "both data and hex",
            edited(&doc, |d| {
                set(d, &event, "data", json!("x"));
                set(d, &event, "hex", json!("0a"));
            }),
        ),
        (
            "interrupted without a reason",
            edited(&doc, |d| set(d, "", "interrupted", json!(true))),
        ),
        (
            "a reason without interrupted",
            edited(&doc, |d| set(d, "", "interrupted_reason", json!("why"))),
        ),
    ];
    for (what, bad) in &bad {
        open.rejects(bad, what);
    }
}

/// The binary's reports of an interrupted run (`--max-run-duration`): `--report json=` and
/// `.conformance/last-run.json`, both with `interrupted` and its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_of_an_interrupted_run_of_the_binary_validate() {
    let server = server::start("127.0.0.1:0", Settings::with_mutant(Mutant::None))
        .await
        .expect("the server starts");
    let dir = scratch("interrupted");
    let report = dir.join("report.json");
    let output = binary(
        &dir,
        vec![
            "run".into(),
            "--target".into(),
            server.url(),
            "--parallel".into(),
            "2".into(),
            "--max-run-duration".into(),
            "1s".into(),
            "--report".into(),
            format!("json={}", report.display()),
        ],
    )
    .await;
    server.stop().await;
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let strict = Validator::strict("report.v1.schema.json");
    for path in [report, dir.join(".conformance/last-run.json")] {
        let doc = read_json(&path);
        assert_eq!(doc["interrupted"], true, "{}", path.display());
        assert!(doc["interrupted_reason"].is_string(), "{}", path.display());
        strict.accepts(&doc, &path.display().to_string());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The profile of a real `conformance probe --out` against a server that lacks a capability,
/// read back by the runner's parser; and documents the parser refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_of_a_real_probe_validates() {
    // Engine.IO 3 off: the profile has `unsupported` capabilities too.
    let settings = Settings {
        allow_eio3: false,
        ..Settings::with_mutant(Mutant::None)
    };
    let server = server::start("127.0.0.1:0", settings)
        .await
        .expect("the server starts");
    let dir = scratch("probe");
    let out = dir.join("profile.yaml");
    let output = binary(
        &dir,
        vec![
            "probe".into(),
            "--target".into(),
            server.url(),
            "--out".into(),
            out.display().to_string(),
        ],
    )
    .await;
    server.stop().await;
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        panic!(
            "no profile ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let _ = std::fs::remove_dir_all(&dir);
    let profile = Profile::parse(&text).expect("the runner reads its own profile");
    assert!(!profile.supported.is_empty(), "{text}");
    assert!(!profile.unsupported.is_empty(), "{text}");
    let doc = yaml_to_json(&text, "the probe's profile");
    let schema = Validator::open("profile.v1.schema.json");
    schema.accepts(&doc, "the probe's profile");
    // JSON is YAML: the same profile as JSON reads and validates too.
    let as_json = serde_json::to_string(&doc).expect("JSON");
    assert_eq!(Profile::parse(&as_json), Ok(profile));

    let cases: Vec<(&str, Value)> = vec![
        (
            "no unsupported",
            edited(&doc, |d| remove(d, "", "unsupported")),
        ),
        ("no target", edited(&doc, |d| remove(d, "", "target"))),
        (
            "another schema",
            edited(&doc, |d| {
                set(d, "", "schema", json!("conformance.profile/v2"))
            }),
        ),
        (
            "an unknown field",
            edited(&doc, |d| set(d, "", "notes", json!("x"))),
        ),
        (
            "a list of capabilities",
            edited(&doc, |d| set(d, "", "unsupported", json!(["rooms"]))),
        ),
    ];
    for (what, bad) in &cases {
        schema.rejects(bad, what);
        let text = serde_json::to_string(bad).expect("JSON");
        assert!(
            Profile::parse(&text).is_err(),
            "the parser accepts a profile with {what}"
        );
    }
    // Stricter than the parser on purpose: YAML reads `eio4: 1` as a number, the runner takes
    // any scalar as text, the schema wants text. (If the parser turns strict, this moves up.)
    let lenient = edited(&doc, |d| set(d, "/supported", "eio4", json!(1)));
    schema.rejects(&lenient, "a number as evidence");
    Profile::parse(&serde_json::to_string(&lenient).expect("JSON"))
        .expect("the parser reads a scalar as text");
}

/// `conformance list --format json`.
#[test]
fn the_list_output_validates() {
    let dir = scratch("list");
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["list", "--format", "json"])
        .current_dir(&dir)
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{output:?}");
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        doc.as_array().is_some_and(|items| items.len() > 100),
        "few cases listed"
    );
    let open = Validator::open("list.v1.schema.json");
    Validator::strict("list.v1.schema.json").accepts(&doc, "the list");
    open.accepts(&doc, "the list");
    for (what, bad) in [
        ("no serial", edited(&doc, |d| remove(d, "/0", "serial"))),
        (
            "an unknown level",
            edited(&doc, |d| set(d, "/0", "level", json!("MAY"))),
        ),
        (
            "requires not a list",
            edited(&doc, |d| set(d, "/0", "requires", json!("eio4"))),
        ),
        ("an object", json!({"cases": []})),
    ] {
        open.rejects(&bad, what);
    }
}

/// Every `expected.yaml` of the repository parses with the runner and validates.
fn expected_examples() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for app in std::fs::read_dir(Path::new(ROOT).join("contract-apps")).expect("contract-apps") {
        let path = app.expect("an entry").path().join("expected.yaml");
        if path.is_file() {
            let text = std::fs::read_to_string(&path).expect("readable");
            files.push((path, text));
        }
    }
    files.sort();
    files
}

#[test]
fn every_expected_results_example_parses_and_validates() {
    let schema = Validator::open("expected.v1.schema.json");
    let examples = expected_examples();
    assert!(examples.len() >= 3, "{examples:?}");
    for (path, text) in &examples {
        let what = path.display().to_string();
        Expected::parse(text).unwrap_or_else(|e| panic!("{what}: {e}"));
        schema.accepts(&yaml_to_json(text, &what), &what);
    }
}

/// Documents both the parser and the schema take, and documents both refuse.
#[test]
fn the_expected_results_schema_agrees_with_the_parser() {
    let schema = Validator::open("expected.v1.schema.json");
    let doc = json!({
        "schema": "conformance.expected/v1",
        "server": "x 1.0",
        "cases": {
            "eio4/close/polling": {"verdict": "FAIL", "reason": "why"},
            "eio4/heartbeat/polling-ping-timeout": {"verdict": ["FAIL", "PASS"], "reason": "racy"},
        }
    });
    let good = [
        ("two entries", doc.clone()),
        ("no cases", edited(&doc, |d| remove(d, "", "cases"))),
        (
            "no entries",
            edited(&doc, |d| set(d, "", "cases", json!({}))),
        ),
        (
            "every verdict",
            edited(&doc, |d| {
                let all = json!(["PASS", "NON-STRICT", "FAIL", "UNSUPPORTED"]);
                set(d, "/cases/eio4~1close~1polling", "verdict", all);
            }),
        ),
    ];
    for (what, good) in &good {
        schema.accepts(good, what);
        let text = serde_json::to_string(good).expect("JSON");
        Expected::parse(&text).unwrap_or_else(|e| panic!("the parser refuses {what}: {e}"));
    }
    let entry = "/cases/eio4~1close~1polling";
    let bad = [
        ("no server", edited(&doc, |d| remove(d, "", "server"))),
        ("no schema", edited(&doc, |d| remove(d, "", "schema"))),
        (
            "another schema",
            edited(&doc, |d| {
                set(d, "", "schema", json!("conformance.expected/v2"))
            }),
        ),
        (
            "an unknown field",
            edited(&doc, |d| set(d, "", "notes", json!("x"))),
        ),
        (
            "a list of cases",
            edited(&doc, |d| set(d, "", "cases", json!([]))),
        ),
        ("no reason", edited(&doc, |d| remove(d, entry, "reason"))),
        ("no verdict", edited(&doc, |d| remove(d, entry, "verdict"))),
        (
            "an entry field misspelt",
            edited(&doc, |d| set(d, entry, "because", json!("x"))),
        ),
        (
            "SKIPPED",
            edited(&doc, |d| set(d, entry, "verdict", json!("SKIPPED"))),
        ),
        (
            "ERROR",
            edited(&doc, |d| set(d, entry, "verdict", json!("ERROR"))),
        ),
        (
            "a lower-case verdict",
            edited(&doc, |d| set(d, entry, "verdict", json!("fail"))),
        ),
        (
            "a number as verdict",
            edited(&doc, |d| set(d, entry, "verdict", json!(1))),
        ),
        (
            "a bad verdict in a list",
            edited(&doc, |d| set(d, entry, "verdict", json!(["FAIL", "MAYBE"]))),
        ),
    ];
    for (what, bad) in &bad {
        schema.rejects(bad, what);
        let text = serde_json::to_string(bad).expect("JSON");
        assert!(
            Expected::parse(&text).is_err(),
            "the parser accepts an expected-results file with {what}"
        );
    }
    // Stricter than the parser on purpose: YAML reads `reason: 1` as a number, the runner takes
    // any scalar as text, the schema wants text (quote it). (If the parser turns strict, these
    // move up.)
    let lenient = [
        edited(&doc, |d| set(d, entry, "reason", json!(1))),
        edited(&doc, |d| set(d, "", "server", json!(5.14))),
    ];
    for lenient in &lenient {
        schema.rejects(lenient, "a number as text");
        Expected::parse(&serde_json::to_string(lenient).expect("JSON"))
            .expect("the parser reads a scalar as text");
    }
}

/// Every known-failing baseline of the repository (and README) parses against the shipped
/// suites and validates; documents the parser refuses, the schema refuses.
#[test]
fn every_known_failing_example_parses_and_validates() {
    let suites = suites();
    let schema = Validator::open("known-failing.v1.schema.json");
    let mut examples = Vec::new();
    for app in std::fs::read_dir(Path::new(ROOT).join("contract-apps")).expect("contract-apps") {
        let path = app.expect("an entry").path().join("known-failing.yaml");
        if path.is_file() {
            examples.push(path);
        }
    }
    assert!(!examples.is_empty(), "no known-failing example");
    let mut docs = Vec::new();
    for path in &examples {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path).expect("readable");
        Baseline::parse(&text, &suites).unwrap_or_else(|e| panic!("{what}: {e}"));
        let doc = yaml_to_json(&text, &what);
        schema.accepts(&doc, &what);
        docs.push(doc);
    }

    // A baseline whose entries all match shipped cases and steps, so that the parser refuses
    // the bad ones for the defect in them, not for a case that does not exist.
    let doc = json!({
        "schema": "conformance.known-failing/v1",
        "entries": [
            {"case": "eio4/close/polling", "reason": "why", "expires": "2099-12-31"},
            {"case": "eio4/handshake/polling-*", "reason": "why"},
        ]
    });
    let with_step = |step: Value| {
        edited(&doc, |d| {
            set(d, "/entries/0", "step", step);
        })
    };
    // A fixture line of a step of `eio4/close/polling`, and a step id of some case.
    let close = suites
        .iter()
        .flat_map(|s| &s.instances)
        .find(|i| i.case_id == "eio4/close/polling")
        .expect("eio4/close/polling");
    let line = close.steps.first().expect("a step").line;
    let good = [
        ("two entries", doc.clone()),
        (
            "no entries",
            json!({"schema": "conformance.known-failing/v1"}),
        ),
        ("a step line", with_step(json!(line))),
    ];
    for (what, good) in &good {
        schema.accepts(good, what);
        let text = serde_json::to_string(good).expect("JSON");
        Baseline::parse(&text, &suites)
            .unwrap_or_else(|e| panic!("the parser refuses {what}: {e}"));
    }
    let bad = [
        ("no schema", edited(&doc, |d| remove(d, "", "schema"))),
        (
            "another schema",
            edited(&doc, |d| {
                set(d, "", "schema", json!("conformance.known-failing/v2"));
            }),
        ),
        (
            "an unknown field",
            edited(&doc, |d| set(d, "", "owner", json!("x"))),
        ),
        (
            "entries as a map",
            edited(&doc, |d| set(d, "", "entries", json!({}))),
        ),
        (
            "no reason",
            edited(&doc, |d| remove(d, "/entries/0", "reason")),
        ),
        ("no case", edited(&doc, |d| remove(d, "/entries/0", "case"))),
        (
            "an entry field misspelt",
            edited(&doc, |d| {
                set(d, "/entries/0", "expiry", json!("2099-12-31"))
            }),
        ),
        (
            "an expiry not a date",
            edited(&doc, |d| {
                set(d, "/entries/0", "expires", json!("next year"))
            }),
        ),
        ("a step that is a list", with_step(json!([1]))),
        ("a negative step line", with_step(json!(-1))),
    ];
    for (what, bad) in &bad {
        schema.rejects(bad, what);
        let text = serde_json::to_string(bad).expect("JSON");
        assert!(
            Baseline::parse(&text, &suites).is_err(),
            "the parser accepts a baseline with {what}"
        );
    }
    // Stricter than the parser on purpose: YAML reads `reason: 42` as a number, the runner
    // takes any scalar as text, the schema wants text. (If the parser turns strict, this
    // moves up.)
    let lenient = edited(&doc, |d| set(d, "/entries/0", "reason", json!(42)));
    schema.rejects(&lenient, "a number as reason");
    Baseline::parse(&serde_json::to_string(&lenient).expect("JSON"), &suites)
        .expect("the parser reads a scalar as text");
}
