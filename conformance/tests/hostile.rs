//! A hostile server: it accepts the WebSocket upgrade, sends an Engine.IO v4 open packet, then
//! floods text frames as fast as it can (for a bounded time, on loopback only). The run must
//! end with its normal verdicts (FAIL, with the flood as the finding) and keep its transcripts
//! and queues within the caps (issue 13: bounded memory whatever arrives).

use futures_util::{SinkExt, StreamExt};
use sio_conformance::engine::{RunSettings, Verdict, run_case};
use sio_conformance::fixture::builtin::load_options;
use sio_conformance::fixture::parse_suite;
use sio_conformance::transport::{Limits, target::Target};
use std::{path::Path, time::Duration};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// The server floods at most this long per connection.
const FLOOD_FOR: Duration = Duration::from_secs(8);

/// A flooding WebSocket server on loopback; returns its port.
async fn flood_server(frame: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(flood(stream, frame));
        }
    });
    port
}

async fn flood(stream: tokio::net::TcpStream, frame: usize) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    // Drain what the client sends (pongs, close), so that only the flood matters.
    tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    let open = r#"0{"sid":"flood","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
    if tx.send(Message::text(open)).await.is_err() {
        return;
    }
    let body = format!("4{}", "x".repeat(frame));
    let end = tokio::time::Instant::now() + FLOOD_FOR;
    while tokio::time::Instant::now() < end {
        if tx.send(Message::text(body.clone())).await.is_err() {
            return;
        }
    }
}

const SUITE: &str = r##"
schema: conformance.fixture/v1
suite: hostile
defaults:
  path: /engine.io/
  transports: [websocket]
  step_timeout: 3s
cases:
  - id: sleep-then-expect
    title: a message after a pause
    spec: {anchor: "#message", quote: "message"}
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$any: true}}}
      - sleep: 1s
      - send: {conn: c, eio: {type: message, data: hello}}
      - expect: {conn: c, eio: {type: message, data: hello}}
  - id: silence
    title: nothing for a while
    heartbeat: manual
    spec: {anchor: "#message", quote: "message"}
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$any: true}}}
      - sleep: 1s
      - expect_none: {conn: c, for: 1s}
"##;

fn limits() -> Limits {
    Limits {
        head: 50,
        tail: 50,
        max_bytes: 1 << 20,
        max_data: 256,
        run_bytes: 64 << 20,
        backlog_frames: 500,
        backlog_bytes: 1 << 20,
    }
}

fn settings(port: u16) -> RunSettings {
    RunSettings {
        target: Target::parse(&format!("http://127.0.0.1:{port}"), "/").unwrap(),
        explicit_path: false,
        timeout: Duration::from_secs(3),
        slack: Duration::from_millis(100),
        connect_timeout: Duration::from_secs(3),
        max_case_duration: Duration::from_secs(30),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_a_finding_and_the_transcript_stays_bounded() {
    let limits = limits();
    limits.set_default();
    let suite = parse_suite(SUITE, Path::new("hostile.yaml"), &load_options()).unwrap();
    let port = flood_server(1000).await;
    for instance in &suite.instances {
        let result =
            tokio::time::timeout(Duration::from_secs(40), run_case(instance, &settings(port)))
                .await
                .expect("the case ends");
        assert_eq!(result.verdict, Verdict::Fail, "{}", instance.id);
        let finding = &result.findings[0];
        // The flood is the finding of whichever step waits when the backlog overflows: a
        // later step, or on a loaded machine the session `open` itself, when the flood fills
        // the backlog before its step reads the open packet (both `… arrived while waiting
        // for …`, with the backlog's limits as the actual value).
        assert!(
            finding.message.contains("frames")
                && (finding.message.contains("arrived while waiting for")
                    || finding
                        .message
                        .contains("arrived unconsumed, more than the backlog holds")),
            "{}: {}",
            instance.id,
            finding.message
        );
        let actual = finding.actual.as_deref().unwrap_or_default();
        assert!(actual.contains("--max-backlog-frames 500"), "{actual}");
        // Bounded transcript: head + tail + the marker, each event's data cut.
        let events = result.transcript.events();
        assert!(
            events.len() <= limits.head + limits.tail + 1,
            "{}",
            events.len()
        );
        let (omitted, omitted_bytes) = result.transcript.omitted();
        assert!(omitted > 0 && omitted_bytes > 0, "{omitted}");
        let text = result.transcript.render_text();
        assert!(text.contains(&format!("… {omitted} events,")), "{text}");
        assert!(text.contains("[data cut to 256 of 1001 bytes]"), "{text}");
        let jsonl = result.transcript.to_jsonl();
        assert!(jsonl.len() < 200 * 1024, "{}", jsonl.len());
    }
}

/// The binary end to end: exit code 1, FAIL in the JSON report, bounded reports and
/// last-run.json.
#[test]
fn the_binary_ends_with_fail_and_bounded_reports() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let port = runtime.block_on(flood_server(4000));
    let dir = std::env::temp_dir().join(format!("sio-hostile-{}", std::process::id()));
    let fixtures = dir.join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    std::fs::write(fixtures.join("hostile.yaml"), SUITE).unwrap();
    let report = dir.join("report.json");
    let html = dir.join("report.html");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .current_dir(&dir)
        .args(["run", "--target", &format!("http://127.0.0.1:{port}")])
        .arg("--fixtures")
        .arg(&fixtures)
        .args(["--trace", "all", "--transcript-head", "100"])
        .args(["--transcript-tail", "100", "--transcript-max-data", "1KiB"])
        .args([
            "--max-backlog-frames",
            "1000",
            "--max-backlog-bytes",
            "2MiB",
        ])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("arrived while waiting for"), "{stdout}");
    assert!(stdout.contains("2 FAIL"), "{stdout}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let cases = json["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2);
    for case in cases {
        assert_eq!(case["verdict"], "FAIL", "{case}");
        let events = case["transcript"].as_array().expect("transcript");
        assert!(events.len() <= 201, "{}", events.len());
        assert!(
            events.iter().any(|e| e["data"]
                .as_str()
                .is_some_and(|d| d.contains("events,") && d.contains("left out"))),
            "no marker"
        );
    }
    // 2 cases × 200 events × ~1 KiB: well under a few MB whatever the flood.
    for path in [report, html, dir.join(".conformance/last-run.json")] {
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < 4 << 20, "{}: {size} bytes", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
