//! The `conformance` binary run the way a user runs it: from a directory outside the
//! repository, with only what the binary carries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An empty directory of its own for one test.
fn empty_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sio-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs the binary in `dir` with `args`.
fn conformance(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_version_names_the_suite_revision_and_the_spec_commits() {
    let dir = empty_dir("version");
    let out = conformance(&dir, &["--version"]);
    assert!(out.status.success());
    let text = stdout(&out);
    let revision = text
        .lines()
        .find_map(|l| l.strip_prefix("suites: revision "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no suite revision in {text}"));
    assert_eq!(revision.len(), 16, "{text}");
    for document in [
        "docs/engine.io-protocol/v3.md @ ",
        "docs/engine.io-protocol/v4-current.md @ ",
        "docs/socket.io-protocol/v5-current.md @ ",
        "official suites ported from socketio/socket.io @ ",
    ] {
        assert!(text.contains(document), "{document} missing from\n{text}");
    }
    // `fixtures list` names the same revision.
    let list = stdout(&conformance(&dir, &["fixtures", "list"]));
    assert_eq!(list.lines().next(), Some(&*format!("revision {revision}")));
    assert!(list.contains("fixtures/conformance/sio5.yaml"), "{list}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn exported_fixtures_run_as_the_built_in_ones_and_are_not_overwritten() {
    let dir = empty_dir("export");
    let out = conformance(&dir, &["fixtures", "export", "mine"]);
    assert!(out.status.success(), "{out:?}");
    for file in [
        "mine/fixtures/conformance/sio5.yaml",
        "mine/fixtures/probe/capabilities.yaml",
        "mine/fixtures/spec/official.yaml",
        "mine/docs/contract.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} not exported");
    }
    // The same cases, now read from the exported files and named by their paths.
    let builtin = stdout(&conformance(&dir, &["list", "--format", "json"]));
    let exported = stdout(&conformance(
        &dir,
        &[
            "list",
            "--format",
            "json",
            "--fixtures",
            "mine/fixtures/conformance",
        ],
    ));
    let ids = |text: &str| -> Vec<(String, String)> {
        let cases: serde_json::Value = serde_json::from_str(text).expect("JSON");
        cases
            .as_array()
            .expect("an array")
            .iter()
            .map(|c| (c["id"].to_string(), c["fixture"].to_string()))
            .collect()
    };
    let (builtin, exported) = (ids(&builtin), ids(&exported));
    assert!(builtin.len() > 200);
    assert_eq!(builtin.len(), exported.len());
    for ((id, fixture), (id2, fixture2)) in builtin.iter().zip(&exported) {
        assert_eq!(id, id2);
        // Built in: the repository path; exported: the user's own path to the same line.
        assert!(fixture.starts_with("\"fixtures/conformance/"), "{fixture}");
        assert_eq!(format!("\"mine/{}", &fixture[1..]), *fixture2);
    }

    // A second export would overwrite: refused (nothing written) unless --force.
    std::fs::write(dir.join("mine/docs/contract.md"), "edited").expect("write");
    let again = conformance(&dir, &["fixtures", "export", "mine"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("mine/docs/contract.md")).expect("read"),
        "edited"
    );
    let forced = conformance(&dir, &["fixtures", "export", "mine", "--force"]);
    assert!(forced.status.success());
    assert_ne!(
        std::fs::read_to_string(dir.join("mine/docs/contract.md")).expect("read"),
        "edited"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn extra_fixtures_add_suites_and_a_name_defined_twice_is_an_error() {
    let dir = empty_dir("extra");
    let suite = "schema: conformance.fixture/v1\nsuite: mine\ndefaults: {path: /socket.io/}\ncases:\n  - id: one\n    title: One\n    spec: {anchor: \"#x\", quote: \"Q.\"}\n    steps:\n      - sleep: 1ms\n";
    std::fs::create_dir_all(dir.join("extra")).expect("dir");
    std::fs::write(dir.join("extra/mine.yaml"), suite).expect("write");
    let out = conformance(&dir, &["list", "--extra-fixtures", "extra"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("mine/one "), "{text}");
    assert!(text.contains("sio5/connect/main-namespace"), "{text}");
    // Instead of the built-in ones.
    let only = stdout(&conformance(&dir, &["list", "--fixtures", "extra"]));
    assert_eq!(only.lines().count(), 1, "{only}");
    // A suite of the same name as a built-in one.
    std::fs::write(
        dir.join("extra/sio5.yaml"),
        suite.replace("suite: mine", "suite: sio5"),
    )
    .expect("write");
    let clash = conformance(&dir, &["list", "--extra-fixtures", "extra"]);
    assert_eq!(clash.status.code(), Some(2));
    let error = String::from_utf8_lossy(&clash.stderr);
    assert!(
        error.contains("suite `sio5` is already defined in fixtures/conformance/sio5.yaml"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
