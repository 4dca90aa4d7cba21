//! What the report binaries (`bench-report`, `scaling-report`) share: reading criterion's
//! JSON files and writing a time the way the tables do.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where criterion writes its results: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else the workspace's `target/criterion` (`crate_dir` is this crate's directory).
pub fn criterion_dir(crate_dir: &Path) -> PathBuf {
    std::env::var_os("CRITERION_HOME").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| crate_dir.join("../target"), PathBuf::from)
                .join("criterion")
        },
        PathBuf::from,
    )
}

/// A JSON file, if it exists and parses.
pub fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// A duration in nanoseconds with three significant digits: `54.2 ns`, `1.10 µs`, `210 µs`.
pub fn time(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let digits = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.digits$} {unit}")
}
