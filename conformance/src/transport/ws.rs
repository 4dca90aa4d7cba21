//! WebSocket client on top of [`TransportStream`], using tokio-tungstenite for the handshake and
//! framing.
//!
//! A reader task owns the receiving half and pushes every inbound event, stamped with its arrival
//! time, into a channel as soon as it is read. Nothing is lost between `expect` steps
//! (the lost-frame bug class of socket.io-protocol#32), and heartbeat timing is measured at
//! arrival rather than when the engine gets round to looking. The channel is bounded
//! ([`super::backlog`], caps from the transcript's [`super::Limits`]): past the cap the reader
//! keeps reading but keeps nothing, and [`WsConnection::take_overflow`] says how much it left
//! out.

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, error::ProtocolError};

use super::TransportError;
use super::backlog::{self, BacklogReceiver, BacklogSender, Overflow};
use super::tls::{Connector, TransportStream};
use super::transcript::{Dir, Transcript, WireData, WireKind};

type WsStream = WebSocketStream<TransportStream>;

/// Headers tungstenite writes itself; a caller's value replaces them instead of duplicating.
const HANDSHAKE_HEADERS: [&str; 5] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-version",
    "sec-websocket-key",
];

/// One inbound WebSocket event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// Text frame (message).
    Text(String),
    /// Binary frame (message).
    Binary(Bytes),
    /// The connection ended; always the last event.
    ///
    /// * Close frame with a status: `code: Some(c)`, `reason` from the frame.
    /// * Close frame without a status (what the reference server sends, "1005"):
    ///   `code: None`, `reason` empty.
    /// * No close frame at all (EOF, reset, protocol error such as raw HTTP text after the
    ///   `101`): `code: None`, `reason` is the error text, never empty.
    Closed {
        /// Status code of the close frame, if it had one.
        code: Option<u16>,
        /// Close reason, or the error text for an abnormal end.
        reason: String,
    },
}

impl WsEvent {
    /// Whether this is a `Closed` that was not a close frame (the RFC 6455 "1006" case).
    pub fn is_abnormal_close(&self) -> bool {
        matches!(self, Self::Closed { code: None, reason } if !reason.is_empty())
    }
}

/// Result of a WebSocket upgrade attempt.
#[derive(Debug)]
pub enum WsConnect {
    /// `101 Switching Protocols`: the connection is open (it may still close right away).
    Open(WsConnection),
    /// The server answered the upgrade with an ordinary HTTP response.
    Rejected {
        /// HTTP status (e.g. 400).
        status: u16,
        /// Response headers in wire order.
        headers: Vec<(String, String)>,
        /// The body bytes that arrived together with the head. tungstenite stops reading at
        /// the end of the head, so a body sent in a later TCP segment may be cut short; servers
        /// that reject upgrades write head and body in one go, as the reference does.
        body: Bytes,
    },
}

/// Performs the upgrade `GET path_and_query` with the target's headers plus `headers`.
///
/// Covered by the connector's connect deadline for TCP/TLS only: wrap the call in
/// `tokio::time::timeout` to bound the handshake as well.
pub async fn connect(
    connector: &Connector,
    path_and_query: &str,
    headers: &[(String, String)],
    transcript: &Transcript,
    conn: &str,
) -> Result<WsConnect, TransportError> {
    let target = connector.target();
    let invalid = |e: &dyn std::fmt::Display| TransportError::InvalidRequest(e.to_string());
    let mut request = target
        .ws_url(path_and_query)
        .into_client_request()
        .map_err(|e| invalid(&e))?;
    let mut add = |name: &str, value: &str| -> Result<(), TransportError> {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(&e))?;
        let value = HeaderValue::from_str(value).map_err(|e| invalid(&e))?;
        if HANDSHAKE_HEADERS.contains(&name.as_str()) {
            request.headers_mut().insert(name, value);
        } else {
            request.headers_mut().append(name, value);
        }
        Ok(())
    };
    // Same Host spelling as the HTTP client (no default port), unless the caller overrides it.
    add("host", &target.host_header())?;
    for (name, value) in target.headers.iter().chain(headers) {
        add(name, value)?;
    }

    let summary = format!("GET {path_and_query}");
    let stream = match connector.connect().await {
        Ok(s) => s,
        Err(e) => {
            transcript.note(conn, format!("{summary}: {e}"));
            return Err(e);
        }
    };
    transcript.record(
        Instant::now(),
        conn,
        Dir::Tx,
        WireKind::WsOpen,
        WireData::None,
        Some(summary),
    );
    let result = tokio_tungstenite::client_async_with_config(request, stream, None).await;
    let at = Instant::now();
    match result {
        Ok((ws, response)) => {
            let headers = header_pairs(response.headers());
            let detail = format!(
                "{} {}",
                response.status().as_u16(),
                response.status().canonical_reason().unwrap_or("")
            );
            transcript.record(
                at,
                conn,
                Dir::Rx,
                WireKind::WsOpen,
                WireData::None,
                Some(detail.trim_end().to_owned()),
            );
            Ok(WsConnect::Open(WsConnection::start(
                ws,
                headers,
                transcript.clone(),
                conn,
            )))
        }
        Err(WsError::Http(response)) => {
            let status = response.status().as_u16();
            let headers = header_pairs(response.headers());
            let body = Bytes::from(response.body().clone().unwrap_or_default());
            let detail = match headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                Some((_, ct)) => format!("{status} {ct}"),
                None => status.to_string(),
            };
            transcript.record(
                at,
                conn,
                Dir::Rx,
                WireKind::HttpResponse,
                WireData::from_body(&body),
                Some(detail),
            );
            Ok(WsConnect::Rejected {
                status,
                headers,
                body,
            })
        }
        Err(e) => {
            let err = match e {
                WsError::Protocol(ProtocolError::HandshakeIncomplete) => {
                    TransportError::ClosedBeforeResponse
                }
                other => TransportError::WebSocket(format!("upgrade failed: {other}")),
            };
            transcript.record(
                at,
                conn,
                Dir::Rx,
                WireKind::TcpClose,
                WireData::None,
                Some(err.to_string()),
            );
            Err(err)
        }
    }
}

fn header_pairs(map: &tokio_tungstenite::tungstenite::http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// An open WebSocket. Dropping it stops the reader and closes the TCP connection at once,
/// without a close handshake (use [`WsConnection::close`] for a clean close).
#[derive(Debug)]
pub struct WsConnection {
    sink: SplitSink<WsStream, Message>,
    events: BacklogReceiver<(Instant, WsEvent)>,
    reader: JoinHandle<()>,
    transcript: Transcript,
    conn: String,
    response_headers: Vec<(String, String)>,
}

impl Drop for WsConnection {
    fn drop(&mut self) {
        // The reader holds the other half of the socket; without this the TCP connection
        // would outlive the connection object.
        self.reader.abort();
    }
}

impl WsConnection {
    fn start(
        ws: WsStream,
        response_headers: Vec<(String, String)>,
        transcript: Transcript,
        conn: &str,
    ) -> Self {
        // Split halves share the tungstenite state, so the reader's polls also flush the pong
        // that tungstenite queues for every ping: pings are answered without our help.
        let (sink, stream) = ws.split();
        let limits = transcript.limits();
        let (tx, events) = backlog::channel(limits.backlog_frames, limits.backlog_bytes);
        let reader = tokio::spawn(read_loop(stream, tx, transcript.clone(), conn.to_owned()));
        Self {
            sink,
            events,
            reader,
            transcript,
            conn: conn.to_owned(),
            response_headers,
        }
    }

    /// Headers of the `101` response.
    pub fn response_headers(&self) -> &[(String, String)] {
        &self.response_headers
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), TransportError> {
        let text = text.into();
        let at = Instant::now();
        self.sink
            .send(Message::text(text.clone()))
            .await
            .map_err(send_error)?;
        self.record(at, WireKind::WsText, WireData::Text(text), None);
        Ok(())
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), TransportError> {
        let data = data.into();
        let at = Instant::now();
        self.sink
            .send(Message::Binary(data.clone()))
            .await
            .map_err(send_error)?;
        self.record(at, WireKind::WsBinary, WireData::Bytes(data), None);
        Ok(())
    }

    /// Sends a close frame (`None`: a frame without status). The server's answer arrives as
    /// [`WsEvent::Closed`] through [`WsConnection::recv`].
    pub async fn close(&mut self, code: Option<u16>) -> Result<(), TransportError> {
        let frame = code.map(|c| CloseFrame {
            code: CloseCode::from(c),
            reason: "".into(),
        });
        let at = Instant::now();
        self.sink
            .send(Message::Close(frame))
            .await
            .map_err(send_error)?;
        let detail = code.map_or_else(|| "code=none".to_owned(), |c| format!("code={c}"));
        self.record(at, WireKind::WsClose, WireData::None, Some(detail));
        Ok(())
    }

    /// Next inbound event with its arrival time; `None` after [`WsEvent::Closed`] was taken.
    /// Cancel-safe: usable in `tokio::select!` and under `tokio::time::timeout`.
    pub async fn recv(&mut self) -> Option<(Instant, WsEvent)> {
        self.events.recv().await
    }

    /// Next inbound event if one is already queued.
    pub fn try_recv(&mut self) -> Result<(Instant, WsEvent), TryRecvError> {
        self.events.try_recv()
    }

    /// Events the reader left out since the last call because the backlog was full.
    pub fn take_overflow(&self) -> Option<Overflow> {
        self.events.take_overflow()
    }

    /// Events and bytes received and not taken yet.
    pub fn held(&self) -> (usize, usize) {
        self.events.held()
    }

    fn record(&self, at: Instant, kind: WireKind, data: WireData, detail: Option<String>) {
        self.transcript
            .record(at, &self.conn, Dir::Tx, kind, data, detail);
    }
}

fn send_error(e: WsError) -> TransportError {
    use std::io::ErrorKind as K;
    match e {
        WsError::AlreadyClosed
        | WsError::ConnectionClosed
        | WsError::Protocol(ProtocolError::SendAfterClosing) => TransportError::ConnectionClosed,
        WsError::Io(io)
            if matches!(
                io.kind(),
                K::BrokenPipe | K::ConnectionReset | K::ConnectionAborted
            ) =>
        {
            TransportError::ConnectionClosed
        }
        WsError::Io(source) => TransportError::Io {
            during: "websocket send",
            source,
        },
        other => TransportError::WebSocket(other.to_string()),
    }
}

async fn read_loop(
    mut stream: SplitStream<WsStream>,
    tx: BacklogSender<(Instant, WsEvent)>,
    transcript: Transcript,
    conn: String,
) {
    let record = |at, kind, data, detail| transcript.record(at, &conn, Dir::Rx, kind, data, detail);
    loop {
        let item = stream.next().await;
        let at = Instant::now();
        let event = match item {
            Some(Ok(Message::Text(text))) => {
                let text = text.as_str().to_owned();
                record(at, WireKind::WsText, WireData::Text(text.clone()), None);
                WsEvent::Text(text)
            }
            Some(Ok(Message::Binary(data))) => {
                record(at, WireKind::WsBinary, WireData::Bytes(data.clone()), None);
                WsEvent::Binary(data)
            }
            Some(Ok(Message::Ping(data))) => {
                record(
                    at,
                    WireKind::Note,
                    WireData::Bytes(data),
                    Some("ws ping (answered)".into()),
                );
                continue;
            }
            Some(Ok(Message::Pong(data))) => {
                record(
                    at,
                    WireKind::Note,
                    WireData::Bytes(data),
                    Some("ws pong".into()),
                );
                continue;
            }
            // Raw frames are only produced when writing.
            Some(Ok(Message::Frame(_))) => continue,
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((None, String::new()), |f| {
                    (Some(u16::from(f.code)), f.reason.as_str().to_owned())
                });
                let detail = format!("code={}", code.unwrap_or(1005));
                let data = if reason.is_empty() {
                    WireData::None
                } else {
                    WireData::Text(reason.clone())
                };
                record(at, WireKind::WsClose, data, Some(detail));
                let _ = tx.send_always((at, WsEvent::Closed { code, reason }), 0);
                // End the channel now; keep polling only so tungstenite flushes its close reply
                // and we can note when the server drops the TCP connection.
                drop(tx);
                let end = loop {
                    match stream.next().await {
                        Some(Ok(_)) => {}
                        Some(Err(e)) => break e.to_string(),
                        None => break "after close handshake".to_owned(),
                    }
                };
                record(
                    Instant::now(),
                    WireKind::TcpClose,
                    WireData::None,
                    Some(end),
                );
                return;
            }
            Some(Err(e)) => {
                let reason = abnormal_reason(&e);
                record(at, WireKind::TcpClose, WireData::None, Some(reason.clone()));
                let _ = tx.send_always((at, WsEvent::Closed { code: None, reason }), 0);
                return;
            }
            None => {
                let reason = "connection closed".to_owned();
                record(at, WireKind::TcpClose, WireData::None, Some(reason.clone()));
                let _ = tx.send_always((at, WsEvent::Closed { code: None, reason }), 0);
                return;
            }
        };
        let size = match &event {
            WsEvent::Text(t) => t.len(),
            WsEvent::Binary(b) => b.len(),
            WsEvent::Closed { .. } => 0,
        };
        if tx.send((at, event), size).is_err() {
            return;
        }
    }
}

fn abnormal_reason(e: &WsError) -> String {
    match e {
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            "connection closed without a close frame (1006)".to_owned()
        }
        other => format!("{other} (1006)"),
    }
}

#[cfg(test)]
mod tests {
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
    // tungstenite's handshake callback signature returns a large `Err`; not ours to change.
    #[allow(clippy::result_large_err)]
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
}
