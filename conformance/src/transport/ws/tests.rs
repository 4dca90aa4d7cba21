//! Tests of `transport::ws`.

use super::*;
use crate::transport::Target;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

const LIMIT: Duration = Duration::from_secs(10);

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out")
}

async fn listener() -> (TcpListener, Connector) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut target = Target::parse(&format!("http://127.0.0.1:{port}"), "/engine.io/").unwrap();
    target.add_header_arg("X-Extra: yes").unwrap();
    (listener, Connector::new(target).unwrap())
}

/// WebSocket server for one connection; `handler` gets the socket and the request's
/// `X-Extra` header.
#[expect(
    clippy::result_large_err,
    reason = "tungstenite's handshake callback signature returns a large `Err`; not ours to change"
)]
async fn ws_server<F, Fut>(handler: F) -> Connector
where
    F: FnOnce(WebSocketStream<TcpStream>, Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (listener, connector) = listener().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut extra = None;
        let ws = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, resp: Response| {
            extra = req
                .headers()
                .get("x-extra")
                .map(|v| v.to_str().unwrap().to_owned());
            Ok(resp)
        })
        .await
        .unwrap();
        handler(ws, extra).await;
    });
    connector
}

/// Raw TCP server for one connection: reads the request head, then runs `handler`.
async fn raw_server<F, Fut>(handler: F) -> Connector
where
    F: FnOnce(TcpStream, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (listener, connector) = listener().await;
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if tcp.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        handler(tcp, String::from_utf8(head).unwrap()).await;
    });
    connector
}

async fn open(connector: &Connector, t: &Transcript) -> WsConnection {
    match connect(
        connector,
        "/engine.io/?EIO=4&transport=websocket",
        &[],
        t,
        "ws",
    )
    .await
    .unwrap()
    {
        WsConnect::Open(c) => c,
        WsConnect::Rejected { status, .. } => panic!("rejected with {status}"),
    }
}

async fn next(c: &mut WsConnection) -> WsEvent {
    c.recv().await.expect("channel ended early").1
}

#[tokio::test]
async fn text_and_binary_echo() {
    bounded(async {
        let connector = ws_server(|mut ws, extra| async move {
            assert_eq!(extra.as_deref(), Some("yes"));
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() || m.is_binary() {
                    ws.send(m).await.unwrap();
                }
            }
        })
        .await;
        let t = Transcript::new();
        let mut c = open(&connector, &t).await;
        c.send_text("2probe").await.unwrap();
        assert_eq!(next(&mut c).await, WsEvent::Text("2probe".into()));
        c.send_binary(vec![1u8, 2, 3]).await.unwrap();
        assert_eq!(
            next(&mut c).await,
            WsEvent::Binary(Bytes::from_static(&[1, 2, 3]))
        );
        c.close(Some(1000)).await.unwrap();
        assert_eq!(
            next(&mut c).await,
            WsEvent::Closed {
                code: Some(1000),
                reason: String::new()
            }
        );
        assert!(c.recv().await.is_none(), "channel ends after Closed");

        let jsonl = t.to_jsonl();
        let kinds: Vec<String> = t
            .events()
            .iter()
            .map(|e| format!("{}:{}", e.dir.as_str(), e.kind.as_str()))
            .collect();
        assert_eq!(
            kinds[..8],
            [
                "tx:ws_open",
                "rx:ws_open",
                "tx:ws_text",
                "rx:ws_text",
                "tx:ws_binary",
                "rx:ws_binary",
                "tx:ws_close",
                "rx:ws_close"
            ],
            "{jsonl}"
        );
        assert!(
            jsonl.contains(r#""detail":"GET /engine.io/?EIO=4&transport=websocket""#),
            "{jsonl}"
        );
        assert!(
            jsonl.contains(r#""kind":"ws_binary","hex":"010203""#),
            "{jsonl}"
        );
    })
    .await;
}

#[tokio::test]
async fn server_close_without_status() {
    bounded(async {
        let connector = ws_server(|mut ws, _| async move {
            ws.send(Message::text("0{}")).await.unwrap();
            ws.close(None).await.unwrap();
            while ws.next().await.is_some() {}
        })
        .await;
        let t = Transcript::new();
        let mut c = open(&connector, &t).await;
        assert_eq!(next(&mut c).await, WsEvent::Text("0{}".into()));
        let closed = next(&mut c).await;
        assert_eq!(
            closed,
            WsEvent::Closed {
                code: None,
                reason: String::new()
            }
        );
        assert!(!closed.is_abnormal_close());
        assert!(c.recv().await.is_none());
        assert!(matches!(
            c.send_text("4x").await,
            Err(TransportError::ConnectionClosed)
        ));
        assert!(
            t.to_jsonl()
                .contains(r#""kind":"ws_close","detail":"code=1005""#)
        );
    })
    .await;
}

#[tokio::test]
async fn upgrade_rejected_with_400_and_body() {
    bounded(async {
            let connector = raw_server(|mut tcp, head| async move {
                assert!(head.starts_with("GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n"));
                assert!(head.contains("X-Extra: yes") || head.contains("x-extra: yes"), "{head}");
                // What engine.io writes for a refused upgrade (protocol.md 1.9).
                let body = "Transport unknown";
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                tcp.write_all(answer.as_bytes()).await.unwrap();
            })
            .await;
            let t = Transcript::new();
            let result = connect(&connector, "/engine.io/?EIO=4&transport=websocket", &[], &t, "ws").await.unwrap();
            let WsConnect::Rejected { status, headers, body } = result else { panic!("expected a rejection") };
            assert_eq!(status, 400);
            assert!(headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v == "text/html"));
            assert_eq!(body, Bytes::from_static(b"Transport unknown"));
            let jsonl = t.to_jsonl();
            assert!(jsonl.contains(r#""kind":"http_resp","data":"Transport unknown","detail":"400 text/html""#), "{jsonl}");
        })
        .await;
}

#[tokio::test]
async fn upgrade_101_then_immediate_close() {
    bounded(async {
        // A second WebSocket for an upgraded sid: 101, then the socket is dropped.
        let connector = ws_server(|ws, _| async move { drop(ws) }).await;
        let t = Transcript::new();
        let mut c = open(&connector, &t).await;
        let closed = next(&mut c).await;
        assert!(closed.is_abnormal_close(), "{closed:?}");
        assert!(c.recv().await.is_none());
        assert!(t.to_jsonl().contains(r#""kind":"tcp_close""#));
    })
    .await;
}

#[tokio::test]
async fn upgrade_101_then_raw_http_text() {
    bounded(async {
            // engine.io's answer to an unsupported EIO version on the WebSocket path.
            let connector = ws_server(|mut ws, _| async move {
                let raw = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\nContent-Length: 28\r\n\r\nUnsupported protocol version";
                ws.get_mut().write_all(raw).await.unwrap();
            })
            .await;
            let mut c = open(&connector, &Transcript::new()).await;
            let closed = next(&mut c).await;
            assert!(closed.is_abnormal_close(), "{closed:?}");
            assert!(matches!(&closed, WsEvent::Closed { reason, .. } if reason.contains("protocol error")));
        })
        .await;
}

#[tokio::test]
async fn server_closes_before_answering_the_upgrade() {
    bounded(async {
        let connector = raw_server(|tcp, _| async move { drop(tcp) }).await;
        let err = connect(&connector, "/engine.io/", &[], &Transcript::new(), "ws")
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::ClosedBeforeResponse), "{err}");
    })
    .await;
}

#[tokio::test]
async fn frames_sent_before_recv_are_all_delivered_in_order() {
    bounded(async {
        let connector = ws_server(|mut ws, _| async move {
            for i in 0..200u32 {
                let m = if i % 2 == 0 {
                    Message::text(format!("4m{i}"))
                } else {
                    Message::Binary(i.to_be_bytes().to_vec().into())
                };
                ws.feed(m).await.unwrap();
            }
            ws.flush().await.unwrap();
            ws.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await
            .unwrap();
            while ws.next().await.is_some() {}
        })
        .await;
        let mut c = open(&connector, &Transcript::new()).await;
        // Let everything arrive (and the server close) before looking at the queue.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut last = None;
        for i in 0..200u32 {
            let (at, event) = c.try_recv().expect("already queued");
            let want = if i % 2 == 0 {
                WsEvent::Text(format!("4m{i}"))
            } else {
                WsEvent::Binary(i.to_be_bytes().to_vec().into())
            };
            assert_eq!(event, want);
            assert!(last.is_none_or(|l| l <= at), "arrival times are monotonic");
            last = Some(at);
        }
        assert_eq!(
            next(&mut c).await,
            WsEvent::Closed {
                code: Some(1000),
                reason: "bye".into()
            }
        );
        assert!(matches!(c.try_recv(), Err(TryRecvError::Disconnected)));
    })
    .await;
}

#[tokio::test]
async fn pings_are_answered_by_the_split_stream() {
    bounded(async {
        let connector = ws_server(|mut ws, _| async move {
            ws.send(Message::Ping(Bytes::from_static(b"hb")))
                .await
                .unwrap();
            let answer = loop {
                match ws.next().await {
                    Some(Ok(Message::Pong(p))) => break p,
                    Some(Ok(_)) => {}
                    other => panic!("no pong: {other:?}"),
                }
            };
            ws.send(Message::text(format!(
                "pong:{}",
                String::from_utf8_lossy(&answer)
            )))
            .await
            .unwrap();
            while ws.next().await.is_some() {}
        })
        .await;
        let mut c = open(&connector, &Transcript::new()).await;
        // Nothing is sent by the caller: the reader alone must flush the pong.
        assert_eq!(next(&mut c).await, WsEvent::Text("pong:hb".into()));
    })
    .await;
}

#[tokio::test]
async fn dropping_the_connection_closes_the_socket() {
    bounded(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let connector = ws_server(|mut ws, _| async move {
            let end = ws.next().await;
            let _ = tx.send(format!("{end:?}"));
        })
        .await;
        let c = open(&connector, &Transcript::new()).await;
        drop(c);
        let end = rx.await.unwrap();
        assert!(
            end.contains("ResetWithoutClosingHandshake") || end == "None",
            "{end}"
        );
    })
    .await;
}
