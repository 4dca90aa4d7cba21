//! `conformance explain CASE [--repro]`: one case, for a person or a bug report: what it
//! checks (title, level, spec quotes, the fixture text) and what happened the last time it ran
//! (verdict, findings, wire transcript), read from the last run's JSON report. `run` keeps that
//! report in `.conformance/last-run.json` (every case with its transcript).
//!
//! `--repro` prints a standalone reproduction instead: shell commands (`curl` for HTTP
//! long-polling, `websocat` lines for WebSocket frames) that replay what the runner sent,
//! with the session id taken from the server's own handshake answer, and what the case
//! expected in comments, ready to paste into an issue against the server.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::common;
use crate::exit;
use crate::fixture::CaseInstance;
use crate::runner::glob_match;
use clap::Args;

/// Options of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The case: a full instance id, a case id without its axis part, or a glob.
    pub case: String,
    /// Print a standalone reproduction (curl and websocat commands) instead.
    #[arg(long)]
    pub repro: bool,
    /// The JSON report to take the last run from (default: what `run` keeps in
    /// `.conformance/last-run.json`).
    #[arg(long, value_name = "REPORT.json")]
    pub from: Option<PathBuf>,
    /// The suites the case is in.
    #[command(flatten)]
    pub fixtures: crate::fixture::builtin::FixtureArgs,
}

/// `conformance explain`.
pub fn explain(args: &ExplainArgs) -> u8 {
    let suites = match common::load_suites(&args.fixtures) {
        Ok(suites) => suites,
        Err(code) => return code,
    };
    let matching: Vec<&CaseInstance> = suites
        .iter()
        .flat_map(|s| &s.instances)
        .filter(|i| i.id == args.case || i.case_id == args.case || glob_match(&args.case, &i.id))
        .collect();
    let Some(instance) = matching.first() else {
        eprintln!(
            "error: no case matches `{}` (see `conformance list`)",
            args.case
        );
        return exit::USAGE;
    };
    if matching.len() > 1 {
        eprintln!(
            "note: {} instances match; showing {} ({})",
            matching.len(),
            instance.id,
            matching[1..]
                .iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let report = args
        .from
        .clone()
        .unwrap_or_else(|| PathBuf::from(common::LAST_RUN));
    let last = read_last_run(&report, &instance.id);
    if args.repro {
        match &last {
            Ok((target, case)) => print!("{}", repro(instance, target, case)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
        return exit::OK;
    }
    print!("{}", describe(instance));
    match last {
        Ok((target, case)) => print!("{}", last_result(&target, &case)),
        Err(e) => println!("\nlast run: {e}"),
    }
    exit::OK
}

/// The case as written: id, title, level, spec quotes and the fixture text.
fn describe(instance: &CaseInstance) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}\n  {} [{:?}]",
        instance.id, instance.title, instance.level
    );
    let _ = writeln!(
        out,
        "  fixture: {}:{}",
        instance.file.display(),
        instance.line
    );
    for official in &instance.official {
        let _ = writeln!(out, "  official test: {official}");
    }
    let base = instance.spec_base_url.as_deref().unwrap_or("");
    for spec in &instance.spec {
        if let crate::fixture::SpecRef::Anchor { anchor, quote } = spec {
            let _ = writeln!(out, "  spec: {}", crate::report::spec_url(base, anchor));
            if let Some(quote) = quote {
                for line in quote.trim().lines() {
                    let _ = writeln!(out, "    > {line}");
                }
            }
        }
    }
    out.push('\n');
    out.push_str(&fixture_excerpt(&instance.source, instance.line));
    out
}

/// The case's lines of its fixture file, numbered.
fn fixture_excerpt(source: &str, line: u64) -> String {
    match crate::fixture::excerpt(source, line, usize::MAX) {
        Ok(lines) => (line..)
            .zip(lines)
            .fold(String::new(), |mut out, (n, text)| {
                let _ = writeln!(out, "  {n:>4} | {text}");
                out
            }),
        Err(e) => format!("  ({e})\n"),
    }
}

/// The case of `id` in a JSON report, with the report's target.
fn read_last_run(path: &Path, id: &str) -> Result<(String, Value), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "no last run at {} ({e}); run the case first, or pass --from REPORT.json",
            path.display()
        )
    })?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let target = report["target"].as_str().unwrap_or_default().to_owned();
    let case = report["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["id"] == id))
        .cloned()
        .ok_or_else(|| format!("{} has no result for {id}", path.display()))?;
    Ok((target, case))
}

/// Verdict, findings and transcript of the last run.
fn last_result(target: &str, case: &Value) -> String {
    let mut out = format!(
        "\nlast run against {target}: {}\n",
        case["verdict"].as_str().unwrap_or("?")
    );
    for finding in case["findings"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  line {}: {}",
            finding["line"],
            finding["message"].as_str().unwrap_or_default()
        );
        for key in ["expected", "actual"] {
            if let Some(text) = finding[key].as_str() {
                let _ = writeln!(out, "    {key}: {text}");
            }
        }
    }
    match case["transcript"].as_array() {
        Some(events) => {
            out.push_str("  transcript:\n");
            for event in events {
                let arrow = if event["dir"] == "tx" { "->" } else { "<-" };
                let what = [&event["detail"], &event["data"]]
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) if v == &&event["data"] => Some(format!("{s:?}")),
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .chain(event["hex"].as_str().map(|h| format!("<{h}>")))
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = writeln!(
                    out,
                    "    +{:.1}ms {} {arrow} {} {what}",
                    event["t_ms"].as_f64().unwrap_or(0.0),
                    event["conn"].as_str().unwrap_or_default(),
                    event["kind"].as_str().unwrap_or_default()
                );
            }
        }
        None => out.push_str("  (no transcript in that report: run with --trace all)\n"),
    }
    out
}

/// Stands for the session id of the new run inside text that is then quoted for the shell.
const SID_MARK: &str = "\u{0}SID\u{0}";

/// Single-quoted for a POSIX shell, with [`SID_MARK`] as `$SID` (outside the quotes).
fn sh(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''")).replace(SID_MARK, "'\"$SID\"'")
}

/// `scheme://host:port` of `target`: the transcript's requests carry their whole path (the
/// target's own path, or the suite's), so only the origin goes in front of them.
fn origin(target: &str) -> &str {
    let after_scheme = target.find("://").map_or(0, |i| i + 3);
    target[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(target, |end| &target[..after_scheme + end])
}

/// Shell commands replaying what the runner sent in the last run of the case.
fn repro(instance: &CaseInstance, target: &str, case: &Value) -> String {
    let base = origin(target);
    let ws_base = base.replacen("http", "ws", 1);
    let events = case["transcript"].as_array().cloned().unwrap_or_default();
    // The session ids the server handed out, to be replaced by the ones of the new run.
    let mut sids: Vec<String> = Vec::new();
    for event in events.iter().filter(|e| e["dir"] == "rx") {
        if let Some(data) = event["data"].as_str() {
            let mut rest = data;
            while let Some(at) = rest.find("\"sid\":\"") {
                rest = &rest[at + 7..];
                if let Some(end) = rest.find('"') {
                    let sid = rest[..end].to_owned();
                    if !sids.contains(&sid) {
                        sids.push(sid);
                    }
                    rest = &rest[end..];
                }
            }
        }
    }
    let engine_sid = sids.first().cloned();
    let with_vars = |text: &str| match &engine_sid {
        Some(sid) => text.replace(sid.as_str(), SID_MARK),
        None => text.to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "#!/bin/sh\n# Reproduction of `{}` ({:?}): {}\n# fixture {}:{}; last run against {target}: {}",
        instance.id,
        instance.level,
        instance.title,
        instance.file.display(),
        instance.line,
        case["verdict"].as_str().unwrap_or("?")
    );
    for finding in case["findings"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "# finding: {}",
            finding["message"].as_str().unwrap_or_default()
        );
        if let Some(expected) = finding["expected"].as_str() {
            let _ = writeln!(out, "#   expected: {expected}");
        }
    }
    let mut ws_open: Option<String> = None;
    let mut ws_frames: Vec<String> = Vec::new();
    let mut sid_taken = false;
    let flush = |out: &mut String, ws_open: &mut Option<String>, frames: &mut Vec<String>| {
        if let Some(url) = ws_open.take() {
            let _ = writeln!(
                out,
                "# WebSocket: each line is one text frame\nprintf '%s\\n' {} | websocat -t {}",
                frames.iter().map(|f| sh(f)).collect::<Vec<_>>().join(" "),
                sh(&url)
            );
            frames.clear();
        }
    };
    for event in events.iter().filter(|e| e["dir"] == "tx") {
        let detail = event["detail"].as_str().unwrap_or_default();
        match event["kind"].as_str().unwrap_or_default() {
            "http_req" => {
                flush(&mut out, &mut ws_open, &mut ws_frames);
                let Some((method, path)) = detail.split_once(' ') else {
                    continue;
                };
                let url = sh(&with_vars(&format!("{base}{path}")));
                let body = event["data"]
                    .as_str()
                    .map(|b| format!(" --data-binary {}", sh(&with_vars(b))));
                if method == "GET" && !sid_taken && !path.contains("sid=") && engine_sid.is_some() {
                    // The handshake: keep the sid this server hands out now.
                    let _ = writeln!(
                        out,
                        "SID=$(curl -sS {url} | sed -E 's/.*\"sid\":\"([^\"]+)\".*/\\1/'); echo \"sid: $SID\""
                    );
                    sid_taken = true;
                } else {
                    let _ = writeln!(
                        out,
                        "curl -sS -X {method} {url}{} -w ' [%{{http_code}}]\\n'",
                        body.unwrap_or_default()
                    );
                }
            }
            "ws_open" => {
                flush(&mut out, &mut ws_open, &mut ws_frames);
                if let Some(path) = detail.strip_prefix("GET ") {
                    ws_open = Some(with_vars(&format!("{ws_base}{path}")));
                }
            }
            "ws_text" => ws_frames.push(event["data"].as_str().unwrap_or_default().to_owned()),
            "ws_binary" => ws_frames.push(format!(
                "(binary frame {}: send it with websocat -b)",
                event["hex"].as_str().unwrap_or_default()
            )),
            _ => {}
        }
    }
    flush(&mut out, &mut ws_open, &mut ws_frames);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repro_replays_requests_with_the_new_sid() {
        let case = json!({
            "verdict": "FAIL",
            "findings": [{"line": 9, "message": "no", "expected": "400"}],
            "transcript": [
                {"t_ms": 0.1, "conn": "http", "dir": "tx", "kind": "http_req", "detail": "GET /engine.io/?EIO=4&transport=polling"},
                {"t_ms": 1.0, "conn": "http", "dir": "rx", "kind": "http_resp", "detail": "200 text/plain", "data": "0{\"sid\":\"AbC\",\"upgrades\":[]}"},
                {"t_ms": 2.0, "conn": "http", "dir": "tx", "kind": "http_req", "detail": "POST /engine.io/?EIO=4&transport=polling&sid=AbC", "data": "4it's"},
                {"t_ms": 3.0, "conn": "ws", "dir": "tx", "kind": "ws_open", "detail": "GET /engine.io/?EIO=4&transport=websocket&sid=AbC"},
                {"t_ms": 4.0, "conn": "ws", "dir": "tx", "kind": "ws_text", "data": "2probe"}
            ]
        });
        let suite = crate::fixture::parse_suite(
            "schema: conformance.fixture/v1\nsuite: s\ncases:\n  - {id: c, title: t, steps: [{sleep: 1ms}]}\n",
            Path::new("s.yaml"),
            &crate::fixture::builtin::load_options(),
        )
        .unwrap();
        let text = repro(&suite.instances[0], "http://127.0.0.1:3000", &case);
        assert!(
            text.contains(
                "SID=$(curl -sS 'http://127.0.0.1:3000/engine.io/?EIO=4&transport=polling' | sed"
            ),
            "{text}"
        );
        assert!(
            text.contains("curl -sS -X POST 'http://127.0.0.1:3000/engine.io/?EIO=4&transport=polling&sid='\"$SID\"'' --data-binary '4it'\\''s'"),
            "{text}"
        );
        assert!(text.contains("printf '%s\\n' '2probe' | websocat -t 'ws://127.0.0.1:3000/engine.io/?EIO=4&transport=websocket&sid='\"$SID\"''"), "{text}");
        assert!(text.contains("#   expected: 400"), "{text}");
        assert!(!text.contains("AbC"), "the old sid is replaced: {text}");
        // A target with a path (a deployment's `/socket.io/`): the requests already carry it.
        for target in [
            "http://127.0.0.1:3000/engine.io/",
            "http://127.0.0.1:3000/engine.io",
        ] {
            let text = repro(&suite.instances[0], target, &case);
            assert!(
                text.contains("websocat -t 'ws://127.0.0.1:3000/engine.io/?EIO=4"),
                "{text}"
            );
            assert!(!text.contains("/engine.io/engine.io"), "{text}");
        }
    }

    #[test]
    fn the_origin_of_a_target() {
        assert_eq!(origin("http://h:1/socket.io/"), "http://h:1");
        assert_eq!(origin("https://h"), "https://h");
        assert_eq!(origin("http://[::1]:80/x?y"), "http://[::1]:80");
    }
}
