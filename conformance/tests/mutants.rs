//! The built-in contract server (`conformance mutants serve`) in-process on a free loopback
//! port: the clean server passes cases of every suite, a mutant is killed by the cases that
//! check its defect, and the binary follows the contract's process conventions.

use sio_conformance::commands::mutants::{Mutant, Settings, server};
use sio_conformance::engine::{RunSettings, Verdict};
use sio_conformance::fixture::builtin::load_options;
use sio_conformance::fixture::load_dir_with;
use sio_conformance::runner::{self, Selection};
use sio_conformance::transport::target::Target;
use std::time::Duration;

/// Runs the cases matching `patterns` against a fresh server with `mutant`.
async fn verdicts(mutant: Mutant, patterns: &[&str]) -> Vec<(String, Verdict)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/conformance");
    let suites = load_dir_with(dir, &load_options()).expect("the fixtures load");
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
        ..Selection::default()
    };
    let run = runner::run(&suites, &selection, &settings, 4, &|_| {});
    let results = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the run ends within a minute");
    server.stop().await;
    results
        .into_iter()
        .filter(|r| r.verdict != Verdict::Skipped)
        .map(|r| (r.instance.id, r.verdict))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clean_server_passes_cases_of_every_suite() {
    let results = verdicts(
        Mutant::None,
        &[
            "eio4/message/**",
            "eio4/upgrade/polling-to-websocket",
            "eio3/message/polling-text-and-binary-*",
            "eio/**",
            "sio5/connect/**",
            "sio5/message/binary-attachments*",
            "sio/connect/custom-namespace-with-credentials*",
            "sio/binary/**",
            "sio5x/rooms/**",
            "sio5x/middleware/**",
        ],
    )
    .await;
    assert!(results.len() >= 40, "only {} cases ran", results.len());
    let failed: Vec<_> = results
        .iter()
        .filter(|(_, v)| *v != Verdict::Pass)
        .collect();
    assert!(failed.is_empty(), "not passing: {failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutant_is_killed_by_the_cases_that_check_its_defect() {
    let cases = [
        "sio5/message/plain-text-with-ack*",
        "sio5/message/plain-text",
    ];
    let results = verdicts(Mutant::WrongAckId, &cases).await;
    let verdict = |id: &str| results.iter().find(|(i, _)| i == id).map(|(_, v)| *v);
    // The ack cases fail, the plain echo (no ack) still passes.
    assert_eq!(
        verdict("sio5/message/plain-text-with-ack[transport=websocket]"),
        Some(Verdict::Fail)
    );
    assert_eq!(
        verdict("sio5/message/plain-text-with-ack[transport=polling]"),
        Some(Verdict::Fail)
    );
    assert_eq!(
        verdict("sio5/message/plain-text[transport=polling]"),
        Some(Verdict::Pass)
    );
}

/// `mutants serve`: one `listening on` line with the bound port, exit 0 on SIGTERM.
#[cfg(unix)]
#[test]
fn serve_prints_its_address_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["mutants", "serve", "--mutant", "clean", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let port: u16 = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert_ne!(port, 0);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
