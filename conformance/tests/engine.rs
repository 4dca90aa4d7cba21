//! The engine against the built-in contract server (`sio-mutants`), with and without
//! deliberate defects: matcher, timing and queue logic tested without Node, and proof that
//! cases fail when the server breaks the behaviour they check. At the end, fake Engine.IO v3
//! servers (WebSocket echo, a fixed polling body, scripted polling bodies) that send byte
//! sequences no real server does, for the runner's v3 framing and gathering rules.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sio_conformance::commands::mutants::{Mutant, Settings, server, server::RunningServer};
use sio_conformance::engine::{RunSettings, Verdict, run_case};
use sio_conformance::fixture::builtin::load_options;
use sio_conformance::fixture::parse_suite;
use sio_conformance::transport::target::Target;
use std::{path::Path, time::Duration};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// The built-in contract server (`sio-mutants`, the one the kill matrix runs) with one
/// deliberate defect, on a free port; it serves until the value is dropped.
async fn contract_server(mutant: Mutant) -> RunningServer {
    server::start("127.0.0.1:0", Settings::with_mutant(mutant))
        .await
        .expect("the contract server listens")
}

const SUITE: &str = r##"
schema: conformance.fixture/v1
suite: fake
defaults:
  path: /engine.io/
  transports: [websocket]
  step_timeout: 2s
cases:
  - id: echo
    title: echoes text and binary
    spec: {anchor: "#message", quote: "message"}
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect:
          eio:
            type: open
            data: {$json: {sid: {$capture: sid, $type: string}, pingInterval: {$capture: ping_interval, $type: integer}, $extra_keys: allow}}
      - send: {conn: c, eio: {type: message, data: hello}}
      - expect: {conn: c, eio: {type: message, data: hello}}
      - send: {conn: c, eio: {type: message, data: {$bin: {hex: "01020304"}}}}
      - expect: {conn: c, eio: {type: message, data: {$bin: {base64: "AQIDBA=="}}}}
      - expect_none: {conn: c, for: "${slack}"}
  - id: raw-binary
    title: echoes binary frames as binary frames
    spec: {anchor: "#message", quote: "message"}
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {hex: "01020304"}}
      - expect: {conn: c, raw: {hex: "01020304"}}
  - id: heartbeat
    title: pings every pingInterval
    spec: {anchor: "#heartbeat", quote: "the server sends a ping packet"}
    heartbeat: manual
    serial: true
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect:
          eio:
            type: open
            data: {$json: {pingInterval: {$capture: ping_interval, $type: integer}, $extra_keys: allow}}
      - repeat: 2
        steps:
          - expect: {conn: c, eio: {type: ping}}
            within: "${ping_interval}ms + ${slack} + ${slack}"
            timing: {max: "${ping_interval}ms + ${slack}"}
          - send: {conn: c, eio: {type: pong}}
  - id: invalid-closes
    title: closes the session upon an invalid packet
    spec: {anchor: "#packet-encoding", quote: "invalid"}
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {text: abc}}
      - expect: {conn: c, closed: true}
        within: "1s"
  - id: sio-echo
    title: echoes a Socket.IO event once
    spec: {anchor: "#message", quote: "message"}
    path: /socket.io/
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {text: "40"}}
      - expect: {conn: c, sio: {type: CONNECT, data: {$any: true}}}
      - expect: {conn: c, sio: {type: EVENT, data: [auth, {}]}}
      - send: {conn: c, raw: {text: '42["message","hello"]'}}
      - expect: {conn: c, sio: {type: EVENT, data: [message-back, hello]}}
      - expect_none: {conn: c, for: "${slack}"}
  - id: sio-ack
    title: acknowledges with the event's arguments
    spec: {anchor: "#message", quote: "message"}
    path: /socket.io/
    steps:
      - open: {conn: c, query: "EIO=4"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {text: "40"}}
      - expect: {conn: c, sio: {type: CONNECT, data: {$any: true}}}
      - expect: {conn: c, sio: {type: EVENT, data: [auth, {}]}}
      - send: {conn: c, raw: {text: '421["message-with-ack","hello"]'}}
      - expect: {conn: c, sio: {type: ACK, id: 1, data: [hello]}}
"##;

fn settings(port: u16) -> RunSettings {
    RunSettings {
        target: Target::parse(&format!("http://127.0.0.1:{port}"), "/").unwrap(),
        explicit_path: false,
        timeout: Duration::from_secs(2),
        slack: Duration::from_millis(100),
        connect_timeout: Duration::from_secs(2),
        max_case_duration: Duration::from_secs(20),
    }
}

async fn verdicts(mutant: Mutant) -> Vec<(String, Verdict, String)> {
    let suite = parse_suite(SUITE, Path::new("fake.yaml"), &load_options()).unwrap();
    let server = contract_server(mutant).await;
    let port = server.addr().port();
    let mut out = Vec::new();
    for instance in &suite.instances {
        let result = run_case(instance, &settings(port)).await;
        let why = result
            .findings
            .iter()
            .map(|f| format!("line {}: {} (actual {:?})", f.line, f.message, f.actual))
            .collect::<Vec<_>>()
            .join("; ");
        out.push((instance.case_id.clone(), result.verdict, why));
    }
    out
}

fn verdict_of(results: &[(String, Verdict, String)], id: &str) -> Verdict {
    results
        .iter()
        .find(|(i, ..)| i == id)
        .map(|(_, v, _)| *v)
        .unwrap()
}

#[tokio::test]
async fn a_conforming_server_passes_every_case() {
    let results = verdicts(Mutant::None).await;
    for (id, verdict, why) in &results {
        assert_eq!(*verdict, Verdict::Pass, "{id}: {why}");
    }
}

#[tokio::test]
async fn a_wrong_ack_fails_the_ack_case_with_expected_and_actual() {
    let results = verdicts(Mutant::AckWithEventName).await;
    assert_eq!(verdict_of(&results, "fake/sio-ack"), Verdict::Fail);
    let why = &results
        .iter()
        .find(|(i, ..)| i == "fake/sio-ack")
        .unwrap()
        .2;
    assert!(why.contains("message-with-ack"), "{why}");
    assert_eq!(verdict_of(&results, "fake/heartbeat"), Verdict::Pass);
}

#[tokio::test]
async fn a_server_that_never_pings_fails_the_heartbeat_case() {
    let results = verdicts(Mutant::NeverPing).await;
    assert_eq!(verdict_of(&results, "fake/heartbeat"), Verdict::Fail);
    assert_eq!(verdict_of(&results, "fake/echo"), Verdict::Pass);
}

/// The runner answers pings, so the session cannot end by ping timeout: a server that
/// ignores the invalid packet keeps the connection open and the case fails.
#[tokio::test]
async fn ignoring_invalid_packets_is_caught_even_with_a_heartbeat() {
    let results = verdicts(Mutant::MalformedEioKept).await;
    assert_eq!(verdict_of(&results, "fake/invalid-closes"), Verdict::Fail);
}

/// A raw binary expectation is not met by the same bytes in a base64 text frame.
#[tokio::test]
async fn base64_text_is_not_a_binary_frame() {
    let results = verdicts(Mutant::BinaryAsTextOnWebsocket).await;
    assert_eq!(verdict_of(&results, "fake/raw-binary"), Verdict::Fail);
    // The packet-level expectation (`eio: message` with `$bin`) accepts both encodings.
    assert_eq!(verdict_of(&results, "fake/echo"), Verdict::Pass);
}

/// No frame is lost and none is skipped: an extra echo is noticed by `expect_none`.
#[tokio::test]
async fn an_extra_frame_is_noticed() {
    let results = verdicts(Mutant::EchoTwice).await;
    assert_eq!(verdict_of(&results, "fake/sio-echo"), Verdict::Fail);
    assert_eq!(verdict_of(&results, "fake/echo"), Verdict::Pass);
}

// ---------------------------------------------------------------------------------------------
// Several connections in one case: while a step waits on one connection, the others keep
// their heartbeat, and what arrives on them meanwhile stays queued in order.

const TWO_CONNECTIONS: &str = r##"
schema: conformance.fixture/v1
suite: two
defaults:
  path: /engine.io/
  transports: [websocket]
  step_timeout: 2s
cases:
  - id: idle-heartbeat
    title: a connection keeps its heartbeat while steps wait on another one
    spec: {anchor: "#heartbeat", quote: "ping"}
    steps:
      - open: {conn: a, query: "EIO=4"}
      - open: {conn: b, query: "EIO=4"}
      - send: {conn: b, eio: {type: message, data: early}}
      # Far beyond pingInterval + pingTimeout without a step reading b.
      - expect_none: {conn: a, for: 700ms}
      - sleep: 500ms
      - expect: {conn: b, eio: {type: message, data: early}}
      - send: {conn: b, eio: {type: message, data: late}}
      - expect: {conn: b, eio: {type: message, data: late}}
      - send: {conn: a, eio: {type: message, data: a too}}
      - expect: {conn: a, eio: {type: message, data: a too}}
  - id: unanswered-ping-closes
    title: the contract server closes a session whose ping is not answered
    spec: {anchor: "#heartbeat", quote: "ping"}
    heartbeat: manual
    steps:
      - open: {conn: a, query: "EIO=4"}
      - expect: {conn: a, eio: {type: ping}}
        within: 1s
      - expect: {conn: a, closed: true}
        within: 1s
"##;

#[tokio::test]
async fn idle_connections_keep_their_heartbeat() {
    let suite = parse_suite(TWO_CONNECTIONS, Path::new("two.yaml"), &load_options()).unwrap();
    let server = contract_server(Mutant::None).await;
    let port = server.addr().port();
    for instance in &suite.instances {
        let result = run_case(instance, &settings(port)).await;
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "{}: {:?}",
            instance.id,
            result.findings
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Engine.IO v3 (`EIO=3` in the query): frames and polling bodies decode with v3 framing.

/// How the fake v3 server echoes a binary frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum V3Binary {
    /// As received: type byte `0x04`, then the bytes.
    Verbatim,
    /// Without the type byte (a v4 frame on a v3 session).
    StripTypeByte,
    /// As a `b4<base64>` text frame (only for clients that sent `b64=1`).
    Base64Text,
}

/// A WebSocket-only Engine.IO v3 echo server; returns its port.
async fn fake_v3_server(binary: V3Binary) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let (mut tx, mut rx) = ws.split();
                let open =
                    r#"0{"sid":"fakesid","upgrades":[],"pingInterval":200,"pingTimeout":200}"#;
                if tx.send(Message::text(open)).await.is_err() {
                    return;
                }
                while let Some(Ok(frame)) = rx.next().await {
                    let reply = match frame {
                        Message::Text(t) if t.as_str() == "2" => Message::text("3"),
                        Message::Text(t) => Message::text(t.to_string()),
                        Message::Binary(b) => match binary {
                            V3Binary::Verbatim => Message::binary(b),
                            V3Binary::StripTypeByte => Message::binary(b.slice(1..)),
                            V3Binary::Base64Text => {
                                assert_eq!(&b[..], [4, 1, 2, 3, 4]);
                                Message::text("b4AQIDBA==")
                            }
                        },
                        _ => return,
                    };
                    if tx.send(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// An HTTP server that answers every request `200` with the polling body `1:6` (v3: one noop
/// packet; not a valid v4 payload).
async fn fake_v3_polling_server() -> u16 {
    fake_scripted_polling_server(&["1:6"]).await
}

const V3_SUITE: &str = r##"
schema: conformance.fixture/v1
suite: fake3
defaults:
  path: /engine.io/
  transports: [websocket]
  step_timeout: 2s
cases:
  - id: raw-binary
    title: a raw binary expectation is the whole v3 frame, type byte included
    spec: {anchor: "#packet", quote: "the packet type id is sent in the first byte"}
    steps:
      - open: {conn: c, query: "EIO=3"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {hex: "0401020304"}}
      - expect: {conn: c, raw: {hex: "0401020304"}}
  - id: packet-binary
    title: a packet expectation sees the message bytes without the type byte
    spec: {anchor: "#packet", quote: "the packet type id is sent in the first byte"}
    steps:
      - open: {conn: c, query: "EIO=3"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, eio: {type: message, data: {$bin: {hex: "01020304"}}}}
      - expect: {conn: c, eio: {type: message, data: {$bin: {hex: "01020304"}}}}
  - id: client-ping
    title: a manual v3 ping is answered
    spec: {anchor: "#2-ping", quote: "Sent by the client."}
    heartbeat: manual
    steps:
      - open: {conn: c, query: "EIO=3"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, eio: {type: ping}}
      - expect: {conn: c, eio: {type: pong}}
"##;

const V3_POLLING_SUITE: &str = r##"
schema: conformance.fixture/v1
suite: fake3p
defaults:
  path: /engine.io/
  step_timeout: 2s
cases:
  - id: await-v3
    title: an awaited v3 GET decodes its body with v3 framing
    spec: {anchor: "#payload", quote: "<length1>:<packet1>"}
    steps:
      - http: {method: GET, query: "EIO=3&transport=polling&sid=x", async: a}
      - await: a
        expect: {status: 200, body: {eio: [{type: noop}]}}
  - id: await-v4
    title: the same body on a v4 request is not a v4 payload
    spec: {anchor: "#payload", quote: "<length1>:<packet1>"}
    steps:
      - http: {method: GET, query: "EIO=4&transport=polling&sid=x", async: a}
      - await: a
        expect: {status: 200, body: {eio: [{type: noop}]}}
  - id: sync-v3
    title: a plain v3 GET decodes the same way
    spec: {anchor: "#payload", quote: "<length1>:<packet1>"}
    steps:
      - http: {method: GET, query: "EIO=3&transport=polling&sid=x"}
        expect: {status: 200, body: {eio: [{type: noop}]}}
"##;

async fn suite_verdicts(suite: &str, port: u16) -> Vec<(String, Verdict, String)> {
    let suite = parse_suite(suite, Path::new("fake3.yaml"), &load_options()).unwrap();
    let mut out = Vec::new();
    for instance in &suite.instances {
        let result = run_case(instance, &settings(port)).await;
        let why = result
            .findings
            .iter()
            .map(|f| format!("line {}: {} (actual {:?})", f.line, f.message, f.actual))
            .collect::<Vec<_>>()
            .join("; ");
        out.push((instance.case_id.clone(), result.verdict, why));
    }
    out
}

#[tokio::test]
async fn v3_binary_frames_keep_their_type_byte() {
    let port = fake_v3_server(V3Binary::Verbatim).await;
    for (id, verdict, why) in suite_verdicts(V3_SUITE, port).await {
        assert_eq!(verdict, Verdict::Pass, "{id}: {why}");
    }
}

/// A v3 binary frame without the `0x04` type byte is not a v3 packet; a `b4<base64>` text
/// frame is not a binary frame (but is the same message at the packet level).
#[tokio::test]
async fn v3_binary_frames_that_are_not_v3_fail() {
    let port = fake_v3_server(V3Binary::StripTypeByte).await;
    let results = suite_verdicts(V3_SUITE, port).await;
    assert_eq!(verdict_of(&results, "fake3/raw-binary"), Verdict::Fail);
    assert_eq!(verdict_of(&results, "fake3/packet-binary"), Verdict::Fail);
    let port = fake_v3_server(V3Binary::Base64Text).await;
    let results = suite_verdicts(V3_SUITE, port).await;
    assert_eq!(verdict_of(&results, "fake3/raw-binary"), Verdict::Fail);
    assert_eq!(verdict_of(&results, "fake3/packet-binary"), Verdict::Pass);
}

/// The body of an `async` request is decoded with the framing of the request's `EIO`.
#[tokio::test]
async fn awaited_polling_bodies_follow_the_request_revision() {
    let port = fake_v3_polling_server().await;
    let results = suite_verdicts(V3_POLLING_SUITE, port).await;
    assert_eq!(verdict_of(&results, "fake3p/await-v3"), Verdict::Pass);
    assert_eq!(verdict_of(&results, "fake3p/sync-v3"), Verdict::Pass);
    assert_eq!(verdict_of(&results, "fake3p/await-v4"), Verdict::Fail);
}

/// Packets a Socket.IO v4 server (Engine.IO 3, socket.io 2.x) may send and Socket.IO v5 does
/// not allow: an ERROR whose payload is an array (`socket.error(err.data)`), an event named
/// like a v5 reserved event. `REV` is the Engine.IO revision of the connection.
const SIO_RULES_SUITE: &str = r##"
schema: conformance.fixture/v1
suite: siorules
defaults:
  path: /engine.io/
  transports: [websocket]
  step_timeout: 2s
cases:
  - id: error-array
    title: an ERROR may carry an array in Socket.IO v4
    spec: {anchor: "/../v4.md#4---error", quote: "It may contain a payload indicating the reason of the refusal."}
    steps:
      - open: {conn: c, query: "EIO=REV"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {text: '44["denied"]'}}
      - expect: {conn: c, sio: {type: CONNECT_ERROR, nsp: /, data: ["denied"]}}
  - id: reserved-name
    title: an event may be named `connect` in Socket.IO v4
    spec: {anchor: "/../v4.md#2---event", quote: "event"}
    steps:
      - open: {conn: c, query: "EIO=REV"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {text: '42["connect"]'}}
      - expect: {conn: c, sio: {type: EVENT, nsp: /, data: ["connect"]}}
  - id: record
    title: the recorder reads the same packets
    spec: {anchor: "/../v4.md#4---error", quote: "It may contain a payload indicating the reason of the refusal."}
    steps:
      - open: {conn: c, query: "EIO=REV"}
        expect: {eio: {type: open, data: {$any: true}}}
      - send: {conn: c, raw: {text: '44["denied"]'}}
      - record: {conn: c}
      - send: {conn: c, raw: {text: '42["connect"]'}}
      - record: {conn: c}
"##;

/// Runs [`SIO_RULES_SUITE`] over Engine.IO `revision` against `port`: each case's verdict and
/// why, and what the `record` case recorded.
async fn sio_rules(revision: u8, port: u16) -> (Vec<(String, Verdict, String)>, Vec<Value>) {
    let suite = SIO_RULES_SUITE.replace("REV", &revision.to_string());
    let suite = parse_suite(&suite, Path::new("siorules.yaml"), &load_options()).unwrap();
    let mut verdicts = Vec::new();
    let mut recorded = Vec::new();
    for instance in &suite.instances {
        let result = run_case(instance, &settings(port)).await;
        let why = result
            .findings
            .iter()
            .map(|f| format!("line {}: {} (actual {:?})", f.line, f.message, f.actual))
            .collect::<Vec<_>>()
            .join("; ");
        verdicts.push((instance.case_id.clone(), result.verdict, why));
        recorded.extend(result.recorded.into_iter().map(|(_, value)| value));
    }
    (verdicts, recorded)
}

/// `expect: {sio: …}` and `record` read a connection's Socket.IO packets by the rules of its
/// revision: Socket.IO v4 over Engine.IO 3 (an ERROR with an array, an event named `connect`
/// are packets), v5 over Engine.IO 4 (the same texts are malformed).
#[tokio::test]
async fn socketio_packets_follow_the_connection_revision() {
    let port = fake_v3_server(V3Binary::Verbatim).await;
    let (results, recorded) = sio_rules(3, port).await;
    for (id, verdict, why) in &results {
        assert_eq!(*verdict, Verdict::Pass, "{id}: {why}");
    }
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[0]["sio"]["type"], "CONNECT_ERROR", "{recorded:?}");
    assert_eq!(recorded[0]["sio"]["data"], serde_json::json!(["denied"]));
    assert_eq!(recorded[1]["sio"]["data"], serde_json::json!(["connect"]));

    let server = contract_server(Mutant::None).await;
    let (results, recorded) = sio_rules(4, server.addr().port()).await;
    for id in ["siorules/error-array", "siorules/reserved-name"] {
        assert_eq!(verdict_of(&results, id), Verdict::Fail, "{results:?}");
        let why = &results.iter().find(|(i, ..)| i == id).unwrap().2;
        assert!(why.contains("malformed Socket.IO packet"), "{why}");
    }
    // Not Socket.IO v5 packets: recorded as the Engine.IO messages they came in.
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[0]["eio"]["data"], r#"4["denied"]"#, "{recorded:?}");
    assert_eq!(
        recorded[1]["eio"]["data"], r#"2["connect"]"#,
        "{recorded:?}"
    );
}

/// An HTTP server that answers its n-th request `200` with `bodies[n]` (the last one again
/// once they run out): a polling session that spreads, reorders, loses or repeats packets.
async fn fake_scripted_polling_server(bodies: &'static [&'static str]) -> u16 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let served = std::sync::Arc::clone(&served);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let n = served.fetch_add(1, Ordering::SeqCst);
                let body = bodies[n.min(bodies.len() - 1)];
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

const GATHER_SUITE: &str = r##"
schema: conformance.fixture/v1
suite: gather
defaults:
  path: /engine.io/
  step_timeout: 2s
cases:
  - id: echo
    title: three echoes, in one GET or several
    spec: {anchor: "#receiving-data", quote: "the server SHOULD encode them"}
    steps:
      - http: {method: GET, query: "EIO=4&transport=polling&sid=x"}
        expect:
          status: 200
          body: {eio: [{type: message, data: test1}, {type: message, data: test2}, {type: message, data: test3}]}
          gather: non-strict
"##;

/// `gather`: packets spread over several GETs are NON-STRICT, but every byte is still checked:
/// lost, reordered, duplicated or altered packets fail, in one response or several.
#[tokio::test]
async fn gathered_polling_bodies_check_every_packet() {
    let cases: &[(&'static [&'static str], Verdict)] = &[
        (&["4test1\x1e4test2\x1e4test3"], Verdict::Pass),
        (&["4test1", "4test2\x1e4test3"], Verdict::NonStrict),
        (&["4test1", "2", "4test2", "4test3"], Verdict::NonStrict),
        (&["4test2", "4test1\x1e4test3"], Verdict::Fail),
        (&["4test1", "4test3", "4test4"], Verdict::Fail),
        (&["4test1\x1e4test1\x1e4test2\x1e4test3"], Verdict::Fail),
        (&["4test1", "4test1", "4test2"], Verdict::Fail),
        (&["4test1\x1e4test2\x1e4test3x"], Verdict::Fail),
    ];
    for (bodies, expected) in cases {
        let port = fake_scripted_polling_server(bodies).await;
        let results = suite_verdicts(GATHER_SUITE, port).await;
        let (_, verdict, why) = &results[0];
        assert_eq!(verdict, expected, "{bodies:?}: {why}");
    }
}

const LAYER_SUITE: &str = r##"
schema: conformance.fixture/v1
suite: layer
defaults:
  path: /socket.io/
  step_timeout: 2s
  layer: LAYER
cases:
  - id: poll
    title: a v3 handshake with the automatic `40`, then a poll past the Socket.IO packets
    spec: {anchor: "#payload", quote: "<length1>:<packet1>"}
    steps:
      - http: {method: GET, query: "EIO=3&transport=polling"}
        expect: {status: 200, body: {eio: [{type: open, data: {$any: true}}]}}
      - http: {method: GET, query: "EIO=3&transport=polling&sid=x"}
        expect: {status: 200, body: {eio: [{type: noop}]}}
"##;

/// An Engine.IO-level case at a Socket.IO server's path: the server's own Socket.IO packets
/// (the v3 automatic `40`, the application's `auth` event) are upper-layer traffic, and a GET
/// that carried only them is sent again; in a Socket.IO-level case they count.
#[tokio::test]
async fn engine_level_cases_leave_out_socketio_packets() {
    const BODIES: &[&str] = &[
        "63:0{\"sid\":\"x\",\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200}2:40",
        "13:42[\"auth\",{}]",
        "1:6",
    ];
    let engine = LAYER_SUITE.replace("LAYER", "engineio");
    let port = fake_scripted_polling_server(BODIES).await;
    let results = suite_verdicts(&engine, port).await;
    assert_eq!(results[0].1, Verdict::Pass, "{}", results[0].2);
    let socketio = LAYER_SUITE.replace("LAYER", "socketio");
    let port = fake_scripted_polling_server(BODIES).await;
    let results = suite_verdicts(&socketio, port).await;
    assert_eq!(results[0].1, Verdict::Fail, "{}", results[0].2);
    // Anything else still counts: a stray `4hello` is no Socket.IO packet.
    const STRAY: &[&str] = &[
        "63:0{\"sid\":\"x\",\"upgrades\":[],\"pingInterval\":300,\"pingTimeout\":200}",
        "6:4hello1:6",
    ];
    let port = fake_scripted_polling_server(STRAY).await;
    let results = suite_verdicts(&engine, port).await;
    assert_eq!(results[0].1, Verdict::Fail, "{}", results[0].2);
}

const SETUP_SUITE: &str = r##"
schema: conformance.fixture/v1
suite: setup
defaults:
  path: /engine.io/
  step_timeout: 2s
fragments:
  handshake:
    - http: {method: GET, query: "EIO=4&transport=polling"}
      expect: {status: 200, body: {eio: [{type: open, data: {$json: {$extra_keys: allow, pingInterval: {$gt: 0}}}}]}}
cases:
  - id: handshake
    title: the handshake itself announces a positive pingInterval
    spec: {anchor: "#handshake", quote: "pingInterval"}
    steps:
      - http: {method: GET, query: "EIO=4&transport=polling"}
        expect: {status: 200, body: {eio: [{type: open, data: {$json: {$extra_keys: allow, pingInterval: {$gt: 0}}}}]}}
  - id: echo-a
    title: a case behind the shared handshake
    spec: {anchor: "#message", quote: "message"}
    steps:
      - use: handshake
      - http: {method: GET, query: "EIO=4&transport=polling&sid=x"}
        expect: {status: 200}
  - id: echo-b
    title: another case behind the shared handshake
    spec: {anchor: "#message", quote: "message"}
    steps:
      - use: handshake
      - http: {method: GET, query: "EIO=4&transport=polling&sid=x"}
        expect: {status: 200}
"##;

/// A shared setup step that fails blocks its cases (`blocked_by`, said in the message), and the
/// root causes put them together with the case whose own step sees the same thing.
#[tokio::test]
async fn a_failing_setup_blocks_its_cases_and_is_one_root_cause() {
    const BODIES: &[&str] = &["0{\"sid\":\"x\",\"pingInterval\":0,\"pingTimeout\":200}"];
    let port = fake_scripted_polling_server(BODIES).await;
    let suite = parse_suite(SETUP_SUITE, Path::new("setup.yaml"), &load_options()).unwrap();
    let mut results = Vec::new();
    for instance in &suite.instances {
        results.push(run_case(instance, &settings(port)).await);
    }
    let own = &results[0].findings[0];
    assert_eq!(results[0].verdict, Verdict::Fail);
    assert_eq!(own.blocked_by, None);
    for blocked in &results[1..] {
        assert_eq!(blocked.verdict, Verdict::Fail);
        let finding = &blocked.findings[0];
        assert_eq!(finding.blocked_by.as_deref(), Some("setup `handshake`"));
        assert_eq!(
            finding.message,
            format!("blocked by setup `handshake`: {}", own.message)
        );
    }
    let causes = sio_conformance::report::root_causes(&results);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].own, ["setup/handshake"]);
    assert_eq!(causes[0].blocked.len(), 2);
    let text = sio_conformance::report::console(
        &results,
        sio_conformance::report::Trace::None,
        Duration::from_secs(1),
    );
    assert!(
        text.contains("Root causes: 3 failing cases, 1 distinct finding\n"),
        "{text}"
    );
    assert!(
        text.contains("blocked in setup `handshake` of setup/echo-a, setup/echo-b"),
        "{text}"
    );
}
