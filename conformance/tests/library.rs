//! The library API as a Rust server project uses it from `cargo test`: only the crate-root
//! items (`Runner`, `Report`, `ContractServer`, …), against the built-in contract server in
//! this process.

use sio_conformance::{ContractServer, Format, Runner, Verdict};
use std::time::Duration;

/// The runner with the contract server's timers (connect timeout 1 s) and short deadlines.
fn runner(url: String) -> Runner {
    Runner::new(url)
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_server_passes_and_the_report_says_what_ran() {
    let server = ContractServer::start().await.expect("the server starts");
    let report = runner(server.url())
        .suites(["sio5"])
        .only("sio5/connect/**")
        .only("sio5/event/**")
        .run()
        .await
        .expect("the run starts");
    server.stop().await;

    report.assert_conforms();
    assert_eq!(report.exit_code(), 0);
    assert!(report.stopped().is_none());
    assert!(report.notes().is_empty(), "{:?}", report.notes());
    let summary = report.summary();
    assert!(summary.pass >= 10, "{summary:?}");
    assert_eq!((summary.fail, summary.error), (0, 0));
    // Every instance of every suite is in the report; the ones not selected are SKIPPED.
    let skipped = report.cases().filter(|c| c.verdict() == Verdict::Skipped);
    assert!(skipped.count() > 100);
    let case = report
        .case("sio5/connect/unknown-namespace[transport=polling]")
        .expect("the case is in the report");
    assert_eq!(case.verdict(), Verdict::Pass);
    assert!(case.findings().is_empty());
    let (file, line) = case.fixture();
    assert_eq!(file, std::path::Path::new("fixtures/conformance/sio5.yaml"));
    assert!(line > 1);
    assert_eq!(
        report.verdict("eio4/handshake/polling-open"),
        Some(Verdict::Skipped)
    );

    let json: serde_json::Value =
        serde_json::from_str(&report.render(Format::Json).expect("json")).expect("valid JSON");
    assert_eq!(
        json["summary"]["pass"].as_u64(),
        Some(summary.pass as u64),
        "{json}"
    );
    assert!(
        report
            .render(Format::Junit)
            .expect("junit")
            .contains("<testsuites")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_defect_fails_the_run_with_the_case_that_sees_it() {
    // The server's CONNECT reply lacks the `sid` (Socket.IO v5 requires it).
    let server = ContractServer::with_mutant("connect-reply-without-sid")
        .await
        .expect("the server starts");
    let report = runner(server.url())
        .only("sio5/connect/**")
        .run()
        .await
        .expect("the run starts");
    server.stop().await;

    assert!(!report.passed());
    assert_eq!(report.exit_code(), 1);
    let failures: Vec<_> = report.failures().map(|c| c.id().to_owned()).collect();
    assert!(
        failures
            .iter()
            .any(|id| id.starts_with("sio5/connect/main-namespace")),
        "{failures:?}"
    );
    let case = report
        .case("sio5/connect/main-namespace[transport=websocket]")
        .expect("in the report");
    assert_eq!(case.verdict(), Verdict::Fail);
    assert!(!case.findings().is_empty());
    // The panic message of `assert_conforms` names the failing case.
    let shown = report.to_string();
    assert!(shown.contains("sio5/connect/main-namespace"), "{shown}");
}

#[tokio::test]
async fn what_cannot_start_is_an_error_and_a_silent_target_a_harness_verdict() {
    let error = Runner::new("ftp://nowhere").run().await.unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("--target"), "{error}");
    let error = Runner::new("http://127.0.0.1:9")
        .fixtures("/nonexistent/fixtures")
        .run()
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 2);
    let error = Runner::new("http://127.0.0.1:9")
        .expect("/nonexistent/expected.yaml")
        .run()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("--expect"), "{error}");

    // Nothing listens on a port just released: every selected case is ERROR, exit code 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let report = Runner::new(format!("http://127.0.0.1:{port}"))
        .only("eio4/handshake/**")
        .run()
        .await
        .expect("the run starts");
    assert_eq!(report.exit_code(), 3);
    assert!(report.stopped().is_some_and(|r| r.contains("unreachable")));
    assert!(report.summary().error > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_does_not_speak_socketio_is_named_once() {
    // The contract server's `/engine.io/` endpoint is a bare Engine.IO echo: it sends the
    // CONNECT back as it came.
    let server = ContractServer::start().await.expect("the server starts");
    let report = runner(format!("{}/engine.io/", server.url()))
        .only("sio5/connect/main-namespace")
        .run()
        .await
        .expect("the run starts");
    server.stop().await;

    assert_eq!(report.exit_code(), 1);
    let notes = report.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("does not answer a Socket.IO CONNECT"),
        "{notes:?}"
    );
    assert!(
        report
            .to_string()
            .starts_with("note: the target does not answer")
    );
}
