//! `conformance diff --target A --target B`: the same cases against two servers, and where
//! their behaviour differs: different verdicts, and different wire traffic even where both
//! pass (what no case asserts).
//!
//! Wire traffic is compared per connection, on what the server sent, after normalising what
//! legitimately varies between runs: session and socket ids (`"sid":"…"` values, numbered in
//! order of appearance), server-chosen ack ids, the key order of JSON payloads, heartbeat
//! packets (`2`, `3`, `6`), timestamps and the wording of transport errors. The two sequences
//! of each connection are aligned (longest common subsequence) and every hunk that differs is
//! reported; identical hunks across cases (a server that announces other timers differs in
//! every handshake) are grouped, with a count.

use std::collections::BTreeMap;

use serde_json::Value;

use super::args::RunOptions;
use super::common;
use crate::engine::{CaseResult, Verdict};
use crate::exit;
use crate::transport::{Dir, Transcript, WireData, WireKind};
use clap::Args;

/// Options of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The two servers, A then B (give `--target` twice; no `--exec`: start both first).
    #[arg(long = "target", required = true, num_args = 1)]
    pub target: Vec<String>,
    /// The suites: the built-in ones unless `--fixtures` replaces them.
    #[command(flatten)]
    pub fixtures: crate::fixture::builtin::FixtureArgs,
    /// Which cases run, how the runner talks to the servers, when a run stops; as for `run`.
    #[command(flatten)]
    pub options: RunOptions,
    /// Report to write (repeatable): `html=PATH`, one self-contained page with the verdicts
    /// side by side and each server's cases in detail.
    #[arg(long, value_name = "html=PATH")]
    pub report: Vec<String>,
}

/// One difference between the two runs of a case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// What differs: `verdict`, or `conn <name>, server item #<n>`.
    pub what: String,
    /// A's side.
    pub a: String,
    /// B's side.
    pub b: String,
}

/// The differences between two runs of the same case.
#[must_use]
pub fn compare(a: &CaseResult, b: &CaseResult) -> Vec<Difference> {
    let mut out = Vec::new();
    if a.verdict != b.verdict {
        out.push(Difference {
            what: "verdict".into(),
            a: a.verdict.to_string(),
            b: b.verdict.to_string(),
        });
    }
    let (wire_a, wire_b) = (received(&a.transcript), received(&b.transcript));
    let conns: Vec<&String> = wire_a.keys().chain(wire_b.keys()).collect();
    let mut seen = Vec::new();
    for conn in conns {
        if seen.contains(&conn) {
            continue;
        }
        seen.push(conn);
        let empty = Vec::new();
        let (xs, ys) = (
            wire_a.get(conn).unwrap_or(&empty),
            wire_b.get(conn).unwrap_or(&empty),
        );
        for (at, only_a, only_b) in hunks(xs, ys) {
            let side = |items: &[String]| {
                if items.is_empty() {
                    "(nothing)".to_owned()
                } else {
                    items.join("  |  ")
                }
            };
            out.push(Difference {
                what: format!("conn {conn}, server item #{}", at + 1),
                a: side(only_a),
                b: side(only_b),
            });
        }
    }
    out
}

/// The places where `xs` and `ys` differ, from a longest common subsequence: each hunk is
/// (index in `xs` where it starts, the items only in `xs`, the items only in `ys`). Sequences
/// are short (a case's packets on one connection), so the quadratic table is fine.
fn hunks<'a>(xs: &'a [String], ys: &'a [String]) -> Vec<(usize, &'a [String], &'a [String])> {
    let (n, m) = (xs.len(), ys.len());
    // lcs[i][j] = length of the LCS of xs[i..] and ys[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if xs[i] == ys[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && xs[i] == ys[j] {
            i += 1;
            j += 1;
            continue;
        }
        let (start_i, start_j) = (i, j);
        // Skip to the next common item.
        while (i < n || j < m) && !(i < n && j < m && xs[i] == ys[j]) {
            if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
                i += 1;
            } else {
                j += 1;
            }
        }
        out.push((start_i, &xs[start_i..i], &ys[start_j..j]));
    }
    out
}

/// What the server sent, per connection, normalised (see the module docs).
fn received(transcript: &Transcript) -> BTreeMap<String, Vec<String>> {
    let events = transcript.events();
    let mut ids = Ids::default();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in events.iter().filter(|e| e.dir == Dir::Rx) {
        let mut conn = event.conn.clone();
        let items: Vec<String> = match (&event.kind, &event.data) {
            (WireKind::WsText, WireData::Text(text)) => {
                packet(text, &mut ids).into_iter().collect()
            }
            (WireKind::WsBinary, WireData::Bytes(bytes)) => {
                vec![format!("binary {}", crate::hex::encode(bytes))]
            }
            (WireKind::HttpResponse, data) => {
                let head = format!("http {}", event.detail.clone().unwrap_or_default());
                match data {
                    // A POST's answer: its order against the GETs of the same session is
                    // timing, so POST answers are compared as a stream of their own.
                    WireData::Text(text) if text.eq_ignore_ascii_case("ok") => {
                        conn.push_str(" (POST answers)");
                        vec![format!("{head} {text}")]
                    }
                    // A polling payload: its packets one by one (how a server batches them
                    // into GETs is timing too), after the status line.
                    WireData::Text(text) => std::iter::once(head)
                        .chain(text.split('\u{1e}').filter_map(|p| packet(p, &mut ids)))
                        .collect(),
                    WireData::Bytes(bytes) => {
                        vec![format!("{head} <{}>", crate::hex::encode(bytes))]
                    }
                    WireData::None => vec![head],
                }
            }
            (WireKind::WsOpen, _) => vec![format!(
                "ws_open {}",
                event.detail.clone().unwrap_or_default()
            )],
            (WireKind::WsClose, _) => vec![format!(
                "ws_close {}",
                event.detail.clone().unwrap_or_default()
            )],
            // The wording of a transport error (EOF, reset, …) varies with timing.
            (WireKind::TcpClose, _) => vec!["tcp_close".into()],
            _ => continue,
        };
        out.entry(conn).or_default().extend(items);
    }
    out
}

/// Session and socket ids, numbered in order of first appearance.
#[derive(Default)]
struct Ids(Vec<String>);

impl Ids {
    fn knows(&self, id: &str) -> bool {
        self.0.iter().any(|known| known == id)
    }

    fn name(&mut self, id: &str) -> String {
        let index = match self.0.iter().position(|known| known == id) {
            Some(index) => index,
            None => {
                self.0.push(id.to_owned());
                self.0.len() - 1
            }
        };
        format!("<sid{}>", index + 1)
    }
}

/// One packet's text, normalised; `None` for heartbeat traffic. Engine.IO v3 payloads
/// (`len:packet…`) and anything that is not a packet stay as they are, ids replaced.
fn packet(text: &str, ids: &mut Ids) -> Option<String> {
    if matches!(text, "2" | "3" | "6" | "") {
        return None;
    }
    // The packet prefix ends where its JSON starts.
    let Some(start) = text.find(['{', '[', '"']) else {
        return Some(text.to_owned());
    };
    let (prefix, json) = text.split_at(start);
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return Some(text.to_owned());
    };
    let prefix = server_ack_id(prefix);
    Some(format!("{prefix}{}", canonical(&value, ids)))
}

/// `42/custom,17` (a server EVENT asking for an ack): the id is the server's choice.
fn server_ack_id(prefix: &str) -> String {
    let (Some(kind), Some(rest)) = (prefix.get(..2), prefix.get(2..)) else {
        return prefix.to_owned();
    };
    let digits = rest.bytes().rev().take_while(u8::is_ascii_digit).count();
    let head = &rest[..rest.len() - digits];
    let id_follows = head.is_empty() || head.ends_with(',') || head.ends_with('-');
    if matches!(kind, "42" | "45") && digits > 0 && id_follows {
        format!("{kind}{head}<ack>")
    } else {
        prefix.to_owned()
    }
}

/// JSON with object keys sorted and `"sid"` values numbered.
fn canonical(value: &Value, ids: &mut Ids) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    let v = match (key.as_str(), &map[key]) {
                        ("sid", Value::String(id)) => format!("\"{}\"", ids.name(id)),
                        (_, v) => canonical(v, ids),
                    };
                    format!("{}:{v}", Value::String(key.clone()))
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| canonical(v, ids)).collect();
            format!("[{}]", items.join(","))
        }
        // Ids also travel as plain values (`whoami-back`): once seen, they are named.
        Value::String(text) if ids.knows(text) => format!("\"{}\"", ids.name(text)),
        other => other.to_string(),
    }
}

/// `conformance diff`.
pub fn diff(args: &DiffArgs) -> u8 {
    let Ok([a, b]) = <[String; 2]>::try_from(args.target.clone()) else {
        eprintln!("error: give exactly two --target");
        return exit::USAGE;
    };
    let mut html = Vec::new();
    for spec in &args.report {
        match spec.split_once('=') {
            Some(("html", path)) if !path.is_empty() => html.push(std::path::PathBuf::from(path)),
            _ => {
                eprintln!("error: --report {spec:?}: expected html=PATH");
                return exit::USAGE;
            }
        }
    }
    let mut ran = None;
    let run = async |target: &str| {
        let runner = common::run_runner(target, &args.options, &args.fixtures)?;
        let plan = common::plan(&runner)?;
        common::reachable(&plan.settings, target).await?;
        eprintln!("running against {target}");
        let report = common::drive(&runner, &plan, &args.options).await?;
        match report.interrupted() {
            Some(reason) => {
                eprintln!("INTERRUPTED: {reason}");
                Err(exit::INTERRUPTED)
            }
            None => Ok(report.results().to_vec()),
        }
    };
    let both = common::block_on(async {
        match (run(&a).await, run(&b).await) {
            (Ok(x), Ok(y)) => {
                ran = Some((x, y));
                exit::OK
            }
            (Err(code), _) | (_, Err(code)) => code,
        }
    });
    let Some((results_a, results_b)) = ran else {
        return both;
    };
    let report = report(&a, &b, &results_a, &results_b);
    print!("{}", report.text);
    if !html.is_empty() {
        let page = crate::report::html::render_matrix(&[(a, results_a), (b, results_b)]);
        for path in &html {
            if let Err(e) = std::fs::write(path, &page) {
                eprintln!("error: writing the HTML report {}: {e}", path.display());
                return exit::HARNESS;
            }
        }
    }
    if report.differing == 0 {
        exit::OK
    } else {
        exit::FAILURES
    }
}

/// The text of a diff and how many cases differ.
#[derive(Debug)]
pub struct DiffReport {
    /// Human-readable report.
    pub text: String,
    /// Cases with at least one difference.
    pub differing: usize,
}

/// Groups the differences of every case that ran on both sides.
#[must_use]
pub fn report(a: &str, b: &str, results_a: &[CaseResult], results_b: &[CaseResult]) -> DiffReport {
    use std::fmt::Write as _;
    let ran = |r: &CaseResult| !matches!(r.verdict, Verdict::Skipped | Verdict::Unsupported);
    let mut groups: BTreeMap<Difference, Vec<&str>> = BTreeMap::new();
    let (mut compared, mut differing, mut verdicts) = (0, 0, 0);
    for (x, y) in results_a.iter().zip(results_b) {
        if !ran(x) || !ran(y) {
            continue;
        }
        compared += 1;
        let differences = compare(x, y);
        differing += usize::from(!differences.is_empty());
        verdicts += usize::from(x.verdict != y.verdict);
        for difference in differences {
            // Verdict differences are per case; wire differences are grouped by what differs,
            // wherever it happens (the first place seen is shown).
            let key = if difference.what == "verdict" {
                Difference {
                    what: format!("verdict of {}", x.instance.id),
                    ..difference
                }
            } else {
                let what = format!("{}: {}", x.instance.id, difference.what);
                Difference { what, ..difference }
            };
            let group = groups
                .keys()
                .find(|k| k.a == key.a && k.b == key.b && !key.what.starts_with("verdict"))
                .cloned()
                .unwrap_or(key);
            groups.entry(group).or_default().push(&x.instance.id);
        }
    }
    let mut text = String::new();
    let _ = writeln!(text, "A = {a}\nB = {b}\n");
    let mut ordered: Vec<(&Difference, &Vec<&str>)> = groups.iter().collect();
    ordered.sort_by_key(|(d, cases)| {
        (
            !d.what.starts_with("verdict"),
            std::cmp::Reverse(cases.len()),
        )
    });
    for (difference, cases) in ordered {
        let shown: Vec<&str> = cases.iter().take(3).copied().collect();
        let more = if cases.len() > 3 {
            format!(" and {} more", cases.len() - 3)
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "DIFFERS  {} ({} case{}: {}{more})\n  A: {}\n  B: {}\n",
            difference
                .what
                .split_once(": ")
                .map_or(difference.what.as_str(), |(_, w)| w),
            cases.len(),
            if cases.len() == 1 { "" } else { "s" },
            shown.join(", "),
            difference.a,
            difference.b
        );
    }
    let _ = writeln!(
        text,
        "Diff: {compared} cases ran on both, {differing} differ ({verdicts} by verdict, {} on the wire only), {} identical",
        differing - verdicts,
        compared - differing
    );
    DiffReport { text, differing }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_normalised() {
        let mut ids = Ids::default();
        assert_eq!(
            packet(
                r#"0{"sid":"abc","upgrades":[],"pingInterval":300}"#,
                &mut ids
            )
            .unwrap(),
            r#"0{"pingInterval":300,"sid":"<sid1>","upgrades":[]}"#
        );
        // The same id keeps its number; another gets the next one.
        assert_eq!(
            packet(r#"40{"sid":"abc"}"#, &mut ids).unwrap(),
            r#"40{"sid":"<sid1>"}"#
        );
        assert_eq!(
            packet(r#"40{"sid":"xyz"}"#, &mut ids).unwrap(),
            r#"40{"sid":"<sid2>"}"#
        );
        // Heartbeats are dropped; server-chosen ack ids hidden, client ones kept.
        assert_eq!(packet("2", &mut ids), None);
        assert_eq!(packet("6", &mut ids), None);
        assert_eq!(packet(r#"4212["a"]"#, &mut ids).unwrap(), r#"42<ack>["a"]"#);
        assert_eq!(
            packet(r#"42/custom,3["a"]"#, &mut ids).unwrap(),
            r#"42/custom,<ack>["a"]"#
        );
        assert_eq!(
            packet(r#"451-7["a"]"#, &mut ids).unwrap(),
            r#"451-<ack>["a"]"#
        );
        assert_eq!(packet(r#"43456[1]"#, &mut ids).unwrap(), r#"43456[1]"#);
        assert_eq!(packet(r#"451-["a"]"#, &mut ids).unwrap(), r#"451-["a"]"#);
        // Not JSON: as is.
        assert_eq!(packet("4hello", &mut ids).unwrap(), "4hello");
        assert_eq!(
            packet(r#"44/random,"Unable""#, &mut ids).unwrap(),
            r#"44/random,"Unable""#
        );
    }

    #[test]
    fn hunks_align_on_common_items() {
        let v = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let (a, b) = (v(&["open", "x", "y", "z"]), v(&["open2", "x", "z", "w"]));
        let found: Vec<(usize, Vec<String>, Vec<String>)> = hunks(&a, &b)
            .into_iter()
            .map(|(at, p, q)| (at, p.to_vec(), q.to_vec()))
            .collect();
        assert_eq!(
            found,
            [
                (0, v(&["open"]), v(&["open2"])),
                (2, v(&["y"]), v(&[])),
                (4, v(&[]), v(&["w"])),
            ]
        );
        assert!(hunks(&a, &a).is_empty());
    }

    #[test]
    fn received_traffic_is_compared_per_connection() {
        let a = Transcript::new();
        let b = Transcript::new();
        for (t, first, second) in [(&a, "4hello", "42[\"x\"]"), (&b, "4hello", "42[\"y\"]")] {
            let now = t.start();
            let text = |s: &str| WireData::Text(s.into());
            t.record(now, "c", Dir::Tx, WireKind::WsText, text("4hi"), None);
            t.record(now, "c", Dir::Rx, WireKind::WsText, text("2"), None);
            t.record(now, "c", Dir::Rx, WireKind::WsText, text(first), None);
            t.record(now, "d", Dir::Rx, WireKind::WsText, text(second), None);
        }
        let (wa, wb) = (received(&a), received(&b));
        assert_eq!(wa["c"], ["4hello"]);
        assert_eq!(wa["c"], wb["c"]);
        assert_ne!(wa["d"], wb["d"]);
    }
}
