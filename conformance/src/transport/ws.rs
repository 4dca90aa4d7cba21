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
mod tests;
