//! Turns one benchmark run into the README tables: criterion's medians
//! (`<target>/criterion/**/new/{benchmark,estimates,sample}.json`) plus the Node harness's
//! JSON (`node bench.js > results.json`).
//!
//! ```text
//! cargo run -p sio-benches --bin bench-report -- [--criterion DIR] [--node FILE]
//! ```
//!
//! Defaults: the workspace's `target/criterion` (where criterion writes) and
//! directory, this package) and `benches/node/results.json`. Ratios are
//! "best peer time / our time": above 1 means we are faster.

use sio_benches::corpus::{self, Kind};
use sio_benches::report::{criterion_dir, read_json, time};
use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

/// Median and interquartile range (ns per iteration) of one benchmark.
#[derive(Clone, Copy, Debug)]
struct Stat {
    median: f64,
    iqr: Option<f64>,
}

type Results = BTreeMap<String, Stat>;

/// Every `new/benchmark.json` under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.ends_with("new/benchmark.json") {
            out.push(path);
        }
    }
}

fn quartiles(mut xs: Vec<f64>) -> Option<(f64, f64)> {
    if xs.len() < 4 {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (xs.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)
    };
    Some((at(0.25), at(0.75)))
}

fn criterion_results(dir: &Path) -> Results {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut results = Results::new();
    for file in files {
        let Some(new) = file.parent() else { continue };
        let (Some(meta), Some(estimates)) =
            (read_json(&file), read_json(&new.join("estimates.json")))
        else {
            continue;
        };
        let (Some(id), Some(median)) = (
            meta["full_id"].as_str(),
            estimates["median"]["point_estimate"].as_f64(),
        ) else {
            continue;
        };
        let iqr = read_json(&new.join("sample.json")).and_then(|s| {
            let iters = s["iters"].as_array()?;
            let times = s["times"].as_array()?;
            let per_iter = iters
                .iter()
                .zip(times)
                .filter_map(|(n, t)| Some(t.as_f64()? / n.as_f64()?))
                .collect();
            quartiles(per_iter).map(|(q1, q3)| q3 - q1)
        });
        results.insert(id.to_string(), Stat { median, iqr });
    }
    results
}

fn node_results(file: &Path, into: &mut Results) -> Option<String> {
    let json = read_json(file)?;
    for (id, ns) in json["median_ns"].as_object()? {
        if let Some(median) = ns.as_f64() {
            into.insert(id.clone(), Stat { median, iqr: None });
        }
    }
    Some(format!(
        "node {}, socket.io-parser {}, engine.io-parser {} and {} (v3)",
        json["node"].as_str().unwrap_or("?"),
        json["socket.io-parser"].as_str().unwrap_or("?"),
        json["engine.io-parser"].as_str().unwrap_or("?"),
        json["engine.io-parser-v3"].as_str().unwrap_or("?"),
    ))
}

struct Report {
    results: Results,
    out: String,
}

impl Report {
    fn get(&self, id: &str) -> Option<f64> {
        self.results.get(id).map(|s| s.median)
    }

    fn cell(&self, id: &str) -> String {
        self.get(id).map_or_else(|| "–".to_string(), time)
    }

    /// "best peer / ours" with the winning peer's time in mind.
    fn ratio(&self, ours: &str, peers: &[&str]) -> String {
        let best = peers
            .iter()
            .filter_map(|p| self.get(p))
            .min_by(f64::total_cmp);
        match (self.get(ours), best) {
            (Some(ours), Some(best)) => format!("{:.2}×", best / ours),
            _ => "–".to_string(),
        }
    }

    fn table(&mut self, title: &str, header: &[&str], rows: Vec<Vec<String>>) {
        let _ = writeln!(self.out, "\n#### {title}\n");
        let _ = writeln!(self.out, "| {} |", header.join(" | "));
        let _ = writeln!(
            self.out,
            "|{}",
            header.iter().map(|_| "---|").collect::<String>()
        );
        for row in rows {
            let _ = writeln!(self.out, "| {} |", row.join(" | "));
        }
    }
}

/// The corpus case names of these kinds, in table order.
fn names(kinds: &[Kind]) -> Vec<&'static str> {
    corpus::all()
        .into_iter()
        .filter(|c| kinds.contains(&c.kind))
        .map(|c| c.name)
        .collect()
}

/// The Socket.IO cases with attachments (decoded by the `Reassembler`).
fn binary_names() -> Vec<&'static str> {
    corpus::all()
        .into_iter()
        .filter(corpus::Case::is_binary)
        .map(|c| c.name)
        .collect()
}

/// One target of issue 18: `faster` is "their time / ours" (above 1: we are faster), met
/// when at least `at_least`.
fn target(r: &Report, what: &str, ours: &str, theirs: &[&str], at_least: f64) -> Vec<String> {
    let best = theirs
        .iter()
        .filter_map(|id| r.get(id).map(|t| (t, *id)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match (r.get(ours), best) {
        (Some(t), Some((their, id))) => {
            let ratio = their / t;
            vec![
                what.to_string(),
                format!("`{ours}` {}", time(t)),
                format!("`{id}` {}", time(their)),
                format!("{ratio:.2}×"),
                if ratio >= at_least {
                    "met"
                } else {
                    "**not met**"
                }
                .to_string(),
            ]
        }
        _ => vec![
            what.to_string(),
            r.cell(ours),
            "–".into(),
            "–".into(),
            "not measured".into(),
        ],
    }
}

/// The issue 18 targets, computed from this run (ratios: their time / ours).
fn targets(r: &mut Report) {
    let mut rows = Vec::new();
    for case in ["tiny_event", "medium_1k", "large_64k", "large_string_64k"] {
        let ours = format!("socketio/decode/{case}");
        rows.push(target(
            r,
            &format!("{case}: validation ≥ 3× serde `IgnoredAny`"),
            &ours,
            &[&format!("baseline/serde_ignored_any/{case}")],
            3.0,
        ));
        // "Within 1.25×" of the fastest: their / ours ≥ 1 / 1.25.
        rows.push(target(
            r,
            &format!("{case}: validation within 1.25× of the fastest SIMD validator (≥ 0.80×)"),
            &ours,
            &[
                &format!("baseline/sonic_rs_validate/{case}"),
                &format!("baseline/simd_json_validate/{case}"),
            ],
            0.8,
        ));
    }
    rows.push(target(
        r,
        "tiny_event: ≥ 5× socketioxide L1",
        "socketio/decode/tiny_event",
        &["socketioxide/decode_l1/tiny_event"],
        5.0,
    ));
    rows.push(target(
        r,
        "tiny_event: no slower than serde `IgnoredAny`",
        "socketio/decode/tiny_event",
        &["baseline/serde_ignored_any/tiny_event"],
        1.0,
    ));
    rows.push(target(
        r,
        "bin_event_3 (`Reassembler`): ≥ 6× socketioxide L1",
        "socketio/reassemble/bin_event_3",
        &["socketioxide/decode_l1/bin_event_3"],
        6.0,
    ));
    for case in ["medium_1k", "large_64k"] {
        let ours = format!("socketio/typed/{case}");
        rows.push(target(
            r,
            &format!("{case}: typed ≥ 2× socketioxide L2"),
            &ours,
            &[&format!("socketioxide/decode_l2/{case}")],
            2.0,
        ));
        rows.push(target(
            r,
            &format!("{case}: typed faster than Node (`JSON.parse`)"),
            &ours,
            &[&format!("node/sio_decode/{case}")],
            1.0,
        ));
    }
    r.table(
        "Targets of issue 18 (ratio: their time / ours)",
        &["target", "ours", "reference", "ratio", "met?"],
        rows,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut criterion = criterion_dir(&root);
    let mut node = root.join("node/results.json");
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--criterion", Some(dir)) => criterion = dir.into(),
            ("--node", Some(file)) => node = file.into(),
            _ => {
                eprintln!("usage: bench-report [--criterion DIR] [--node FILE]");
                std::process::exit(2);
            }
        }
    }
    let mut results = criterion_results(&criterion);
    let node_versions = node_results(&node, &mut results);
    if results.is_empty() {
        eprintln!("no results under {}", criterion.display());
        std::process::exit(1);
    }
    let mut r = Report {
        results,
        out: String::new(),
    };
    if let Some(versions) = node_versions {
        let _ = writeln!(r.out, "Node: {versions}.");
    }

    let binaries = binary_names();

    // Socket.IO decode, L1 against L1.
    let rows = names(&[Kind::Sio])
        .iter()
        .map(|case| {
            let binary = binaries.contains(case);
            let ours = if binary {
                format!("socketio/reassemble/{case}")
            } else {
                format!("socketio/decode/{case}")
            };
            vec![
                format!("{case}"),
                r.cell(&format!("socketio/decode/{case}")),
                r.cell(&format!("socketio/decode_buf/{case}")),
                if binary { r.cell(&ours) } else { "n/a".into() },
                r.cell(&format!("socketioxide/decode_l1/{case}")),
                r.ratio(&ours, &[&format!("socketioxide/decode_l1/{case}")]),
            ]
        })
        .collect();
    r.table(
        "Socket.IO decode, L1 (header + full JSON validation)",
        &[
            "case",
            "ours `decode` (text)",
            "ours `PacketBuf` (text)",
            "ours `Reassembler` (text + attachments)",
            "socketioxide L1",
            "ours vs socketioxide",
        ],
        rows,
    );

    // The limit: the same JSON through the fastest validators (feature `peers`).
    let rows = names(&[Kind::Sio])
        .iter()
        .filter(|case| {
            r.get(&format!("baseline/serde_ignored_any/{case}"))
                .is_some()
        })
        .map(|case| {
            let ours = format!("socketio/decode/{case}");
            let sonic = format!("baseline/sonic_rs_validate/{case}");
            let simd = format!("baseline/simd_json_validate/{case}");
            let ignored = format!("baseline/serde_ignored_any/{case}");
            vec![
                format!("{case}"),
                r.cell(&ours),
                r.cell(&ignored),
                r.cell(&sonic),
                r.cell(&simd),
                r.ratio(&ours, &[&ignored]),
                r.ratio(&ours, &[&sonic, &simd]),
            ]
        })
        .collect();
    r.table(
        "Validation limit: ours (header + JSON + shape) against JSON validators on the JSON alone",
        &[
            "case",
            "ours `decode`",
            "serde_json `IgnoredAny`",
            "sonic-rs (`IgnoredAny`, checked skip)",
            "simd-json (`fill_tape_padded`, copy included)",
            "ours vs `IgnoredAny`",
            "ours vs fastest SIMD validator",
        ],
        rows,
    );

    // Typed decoding: what an application with its own argument types pays.
    let rows = ["medium_1k", "large_64k"]
        .iter()
        .map(|case| {
            let typed = format!("socketio/typed/{case}");
            vec![
                format!("{case}"),
                r.cell(&format!("socketio/decode/{case}")),
                r.cell(&typed),
                r.cell(&format!("socketio/decode_l2/{case}")),
                r.cell(&format!("socketioxide/decode_l2/{case}")),
                r.cell(&format!("node/sio_decode/{case}")),
                r.ratio(&typed, &[&format!("socketioxide/decode_l2/{case}")]),
                r.ratio(&typed, &[&format!("node/sio_decode/{case}")]),
            ]
        })
        .collect();
    r.table(
        "Typed decoding (L1 + the arguments as the application's structs, strings borrowed)",
        &[
            "case",
            "ours L1",
            "ours typed",
            "ours L2 (`Value`)",
            "socketioxide L2",
            "node (`JSON.parse`)",
            "typed vs socketioxide L2",
            "typed vs node",
        ],
        rows,
    );
    targets(&mut r);

    // L0 and L2 for context.
    let rows = names(&[Kind::Sio])
        .iter()
        .map(|case| {
            let binary = binaries.contains(case);
            let l2 = |id: String| if binary { "n/a".into() } else { r.cell(&id) };
            vec![
                format!("{case}"),
                r.cell(&format!("socketioxide/decode_l0/{case}")),
                l2(format!("socketio/decode_l2/{case}")),
                l2(format!("socketioxide/decode_l2/{case}")),
                r.cell(&format!("node/sio_decode/{case}")),
                if binary {
                    r.ratio(
                        &format!("socketio/reassemble/{case}"),
                        &[&format!("node/sio_decode/{case}")],
                    )
                } else {
                    r.ratio(
                        &format!("socketio/decode_l2/{case}"),
                        &[
                            &format!("socketioxide/decode_l2/{case}"),
                            &format!("node/sio_decode/{case}"),
                        ],
                    )
                },
            ]
        })
        .collect();
    r.table(
        "Socket.IO decode, other levels",
        &[
            "case",
            "socketioxide L0 (frame only)",
            "ours L2 (`Value`)",
            "socketioxide L2",
            "node socket.io-parser (L2)",
            "ours L2 vs best peer (binary: `Reassembler` vs node)",
        ],
        rows,
    );

    let rows = names(&[Kind::Sio])
        .iter()
        .map(|case| {
            vec![
                format!("{case}"),
                r.cell(&format!("socketio/encode/{case}")),
                r.cell(&format!("socketio/encode_vectored/{case}")),
                r.cell(&format!("socketioxide/encode/{case}")),
                r.cell(&format!("node/sio_encode/{case}")),
                r.ratio(
                    &format!("socketio/encode/{case}"),
                    &[&format!("socketioxide/encode/{case}")],
                ),
            ]
        })
        .collect();
    r.table(
        "Socket.IO encode",
        &[
            "case",
            "ours from raw (copy into reused `BytesMut`)",
            "ours vectored (header + payload `Bytes`, no copy)",
            "socketioxide from raw",
            "node (typed: `JSON.stringify`)",
            "ours (copy) vs socketioxide",
        ],
        rows,
    );

    let rows = names(&[Kind::Eio])
        .iter()
        .map(|case| {
            vec![
                format!("{case}"),
                r.cell(&format!("engineio/decode/{case}")),
                r.cell(&format!("engineio/decode_buf/{case}")),
                r.cell(&format!("engineioxide/decode/{case}")),
                r.cell(&format!("node/eio_decode/{case}")),
                r.cell(&format!("node/eio3_decode/{case}")),
                r.ratio(
                    &format!("engineio/decode/{case}"),
                    &[
                        &format!("engineioxide/decode/{case}"),
                        &format!("node/eio_decode/{case}"),
                    ],
                ),
                r.cell(&format!("engineio/encode/{case}")),
                r.cell(&format!("engineio/encode_new/{case}")),
                r.cell(&format!("engineioxide/encode/{case}")),
                r.cell(&format!("node/eio_encode/{case}")),
                r.ratio(
                    &format!("engineio/encode_new/{case}"),
                    &[
                        &format!("engineioxide/encode/{case}"),
                        &format!("node/eio_encode/{case}"),
                    ],
                ),
            ]
        })
        .collect();
    r.table(
        "Engine.IO packet (v4)",
        &[
            "case",
            "ours decode",
            "ours `PacketBuf`",
            "engineioxide",
            "node 5.2.3",
            "node 2.2.1 (v3)",
            "decode vs best peer",
            "ours encode (reused buf)",
            "ours encode (new buf)",
            "engineioxide encode",
            "node encode",
            "encode (new buf) vs best peer",
        ],
        rows,
    );

    let rows = names(&[Kind::EioPayloadV4, Kind::EioPayloadV3])
        .iter()
        .map(|case| {
            vec![
                format!("{case}"),
                r.cell(&format!("engineio/payload_decode/{case}")),
                r.cell(&format!("engineio/payload_decode_buf/{case}")),
                r.cell(&format!("engineioxide/payload_decode/{case}")),
                r.cell(&format!("node/payload_decode/{case}")),
                r.ratio(
                    &format!("engineio/payload_decode/{case}"),
                    &[
                        &format!("engineioxide/payload_decode/{case}"),
                        &format!("node/payload_decode/{case}"),
                    ],
                ),
                r.cell(&format!("engineio/payload_encode/{case}")),
                r.cell(&format!("engineioxide/payload_encode/{case}")),
                r.cell(&format!("node/payload_encode/{case}")),
                r.ratio(
                    &format!("engineio/payload_encode/{case}"),
                    &[
                        &format!("engineioxide/payload_encode/{case}"),
                        &format!("node/payload_encode/{case}"),
                    ],
                ),
            ]
        })
        .collect();
    r.table(
        "Engine.IO polling payloads (100 packets)",
        &[
            "case",
            "ours decode",
            "ours `PacketBuf`",
            "engineioxide",
            "node",
            "decode vs best peer",
            "ours encode",
            "engineioxide encode",
            "node encode",
            "encode vs best peer",
        ],
        rows,
    );

    let _ = writeln!(
        r.out,
        "\n<details><summary>Every median (IQR) of this run</summary>\n"
    );
    let _ = writeln!(r.out, "| id | median | IQR |\n|---|---|---|");
    for (id, stat) in &r.results {
        let iqr = stat.iqr.map_or_else(|| "–".to_string(), time);
        let _ = writeln!(r.out, "| `{id}` | {} | {iqr} |", time(stat.median));
    }
    let _ = writeln!(r.out, "\n</details>");
    print!("{}", r.out);
}
