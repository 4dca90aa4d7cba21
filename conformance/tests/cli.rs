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

// ------------------------------------------------------------------ snapshots
//
// What a user reads: the help of every command, the one-line errors and their exit codes,
// the reproduction `explain --repro` prints. A change to any of them shows up as a snapshot
// diff (`cargo insta review`, or `INSTA_UPDATE=always cargo test` and read the diff).

/// Exit code, then standard output and standard error, as a user sees them.
fn shown(output: &Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or("signal".into(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn help_of_every_command() {
    let dir = empty_dir("help");
    for command in [
        &["--help"][..],
        &["run", "--help"],
        &["probe", "--help"],
        &["diff", "--help"],
        &["record", "--help"],
        &["explain", "--help"],
        &["list", "--help"],
        &["lint", "--help"],
        &["fixtures", "export", "--help"],
        &["encode", "--help"],
        &["decode", "--help"],
    ] {
        let name = format!("help {}", command.join(" "));
        insta::assert_snapshot!(name, shown(&conformance(&dir, command)));
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn errors_are_one_line_with_their_exit_code() {
    let dir = empty_dir("errors");
    let port = closed_port().to_string();
    let closed = format!("http://127.0.0.1:{port}");
    // `explain` before any run: the case, and what to do for its last run.
    let out = conformance(&dir, &["explain", "sio5/connect/main-namespace"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("fixture: fixtures/conformance/sio5.yaml:"),
        "{text}"
    );
    assert!(
        text.contains("no last run at .conformance/last-run.json"),
        "{text}"
    );
    for (name, command) in [
        ("no target", vec!["run"]),
        ("bad target", vec!["run", "--target", "ftp://example"]),
        (
            "unknown report",
            vec!["run", "--target", "http://127.0.0.1:1", "--report", "pdf=x"],
        ),
        (
            "missing profile",
            vec![
                "run",
                "--target",
                "http://127.0.0.1:1",
                "--profile",
                "nope.yaml",
            ],
        ),
        ("unknown suite dir", vec!["list", "--fixtures", "nowhere"]),
        ("encode bad type", vec!["encode", r#"{"type":"PING"}"#]),
        ("decode bad frame", vec!["decode", "9x"]),
        ("explain unknown case", vec!["explain", "no/such/case"]),
        (
            "nothing listens",
            vec![
                "run",
                "--target",
                &closed,
                "--run",
                "eio4/handshake/polling-open",
            ],
        ),
    ] {
        let out = conformance(&dir, &command);
        let text = shown(&out).replace(&port, "PORT");
        insta::assert_snapshot!(format!("error {name}"), text);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `text` with the line numbers after `file:` replaced by `LINE` (a snapshot should not change
/// when a case moves in its file).
fn without_lines(text: &str, file: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(file) {
        out.push_str(&rest[..at + file.len()]);
        rest = &rest[at + file.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str("LINE");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn explain_repro_replays_the_urls_the_run_used() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime
        .block_on(sio_conformance::ContractServer::start())
        .expect("the server starts");
    let url = server.url();
    let dir = empty_dir("repro");
    // A deployment's path: the target's `/socket.io/` replaces the suite's.
    let target = format!("{url}/socket.io/");
    let case = "sio5/connect/unknown-namespace[transport=websocket]";
    let run = conformance(
        &dir,
        &[
            "run",
            "--target",
            &target,
            "--run",
            case,
            "--connect-timeout",
            "1s",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", shown(&run));
    let explain = conformance(&dir, &["explain", case]);
    let text = stdout(&explain);
    assert!(text.contains("fixtures/conformance/sio5.yaml:"), "{text}");
    assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{text}");
    let repro = conformance(&dir, &["explain", case, "--repro"]);
    runtime.block_on(server.stop());
    let text = without_lines(&shown(&repro), "sio5.yaml:").replace(&url["http://".len()..], "HOST");
    assert!(
        text.contains("'ws://HOST/socket.io/?EIO=4&transport=websocket'"),
        "{text}"
    );
    insta::assert_snapshot!("explain repro", text);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // `conformance list --format json | head -c 16`: more than a pipe buffer of output.
    let dir = empty_dir("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["list", "--format", "json"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().expect("piped"), &mut first).expect("output");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("it ends");
    assert_eq!(out.status.code(), Some(141), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}
