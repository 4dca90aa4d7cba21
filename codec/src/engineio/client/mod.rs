//! A sans-IO Engine.IO **client session** (v3 and v4, HTTP long-polling, WebSocket and the
//! upgrade from one to the other), the counterpart of [`server`](super::server) in the same
//! quinn-proto style: `handle_*` for what arrives, `poll_*` for what to do, time passed in as
//! [`Instant`](std::time::Instant)s. The caller owns the HTTP client, the WebSocket and the
//! clock; the session owns the protocol. The module needs the `std` feature.
//!
//! The behaviour is that of the reference client (engine.io-client 6.x, and 3.x for
//! Engine.IO 3); where it matters, the choice is marked **(reference)** below.
//!
//! # Driving a session
//!
//! 1. [`Session::new`] with a [`ClientConfig`] (revision, first transport, upgrade, `b64`).
//! 2. HTTP: [`Session::poll_request`] gives the next request to make (the handshake GET,
//!    then GETs to receive and POSTs carrying the batched outbox); hand its answer to
//!    [`Session::handle_response`] (or a network failure to
//!    [`Session::handle_request_failed`]). At most one GET and one POST are in flight.
//! 3. WebSocket: [`Session::poll_websocket`] gives the query of a WebSocket to open (the
//!    handshake on a WebSocket-only session, or the upgrade of a polling one); once it is
//!    open call [`Session::handle_websocket_open`], give every message (and its end, as
//!    [`Frame::Close`], also when it could not be opened) to [`Session::handle_frame`], and
//!    write what [`Session::poll_frame`] gives.
//! 4. Time: call [`Session::handle_timeout`] when [`Session::poll_timeout`] is reached.
//! 5. Application: [`Session::send_text`], [`Session::send_binary`], [`Session::close`] and
//!    [`Session::poll_event`].
//!
//! After every `handle_*` / `send_*` / `close` call, drain [`Session::poll_event`],
//! [`Session::poll_request`], [`Session::poll_websocket`] and [`Session::poll_frame`].
//! Queries carry no path: the caller puts them after its endpoint
//! (`http://host/socket.io/?` + query).
//!
//! ```
//! use sio_codec::bytes::Bytes;
//! use sio_codec::engineio::client::{ClientConfig, Event, Method, Session};
//! use std::time::{Duration, Instant};
//!
//! let t0 = Instant::now();
//! let mut session = Session::new(ClientConfig::default());
//! let handshake = session.poll_request().expect("the handshake GET");
//! assert_eq!((handshake.method, &handshake.query[..]), (Method::Get, "EIO=4&transport=polling"));
//! assert!(session.poll_request().is_none(), "one GET at a time");
//!
//! let open = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
//! session.handle_response(Method::Get, 200, Some("text/plain; charset=UTF-8"), Bytes::from(open), t0);
//! assert_eq!(session.poll_event(), Some(Event::Open));
//! assert_eq!(session.sid(), Some("abc"));
//!
//! // A message goes out in a POST; a GET waits for the server's messages meanwhile.
//! session.send_text("hello");
//! let post = session.poll_request().expect("a POST");
//! assert_eq!((post.method, &post.query[..], &post.body[..]), (Method::Post, "EIO=4&transport=polling&sid=abc", &b"4hello"[..]));
//! let get = session.poll_request().expect("a GET");
//! assert_eq!(get.method, Method::Get);
//!
//! // v4: the server pings; nothing within pingInterval + pingTimeout closes the session.
//! assert_eq!(session.poll_timeout(), Some(t0 + Duration::from_secs(45)));
//! ```
//!
//! # States and events
//!
//! A session is *opening* (the handshake), *open* on polling (with an upgrade state: none,
//! wanted, connecting, probing, pausing), *open* on WebSocket, or *closed*.
//!
//! | state | event | result |
//! |---|---|---|
//! | opening, polling | [`Session::poll_request`] | the handshake GET (`EIO=4&transport=polling`; v3 with [`ClientConfig::b64`]: `&b64=1`), once |
//! | opening, WebSocket | [`Session::poll_websocket`] | the handshake query (`EIO=4&transport=websocket`), once; after [`Session::handle_websocket_open`] the first frame must be the open packet |
//! | opening | `200` with an open packet first (polling body or first frame) | open: [`Event::Open`], then the body's other packets (socket.io 2.x glues `40` to the open packet); the heartbeat starts |
//! | opening | anything else (another status, no open packet, a bad one) | closed ([`CloseReason::HttpStatus`] / [`CloseReason::BadHandshake`]) |
//! | opening, WebSocket | the WebSocket could not be opened or ended ([`Frame::Close`]) | closed ([`CloseReason::TransportClosed`]) |
//! | any | `send_*` | queued in order; open on WebSocket: written as frames; closed: dropped |
//! | open, polling | [`Session::poll_request`] | a POST with the outbox (v4: as much of it as fits in the server's `maxPayload`, at least one packet **(reference)**) when it is not empty and no POST is in flight (v4 `\x1e` records, v3 `len:` text or XHR2 binary unless `b64`, with the content type); a GET when none is in flight |
//! | open, polling | GET answered `200` | its packets handled in order; a bad record closes ([`CloseReason::ParseError`]) after the packets before it |
//! | open, polling | a request answered with another status, or failed | closed ([`CloseReason::HttpStatus`] / [`CloseReason::TransportClosed`]) |
//! | open, polling | the open packet lists `websocket` and [`ClientConfig::upgrade`] | upgrade wanted: [`Session::poll_websocket`] gives `EIO=4&transport=websocket&sid=…`, once |
//! | connecting | [`Session::handle_websocket_open`] | `2probe` on the WebSocket; probing (polling goes on) |
//! | probing | `3probe` | pausing: no new GET or POST; the ones in flight finish (the server releases the GET with `6`) |
//! | pausing | nothing in flight any more | `5` on the WebSocket, then the outbox, in order; open on WebSocket: [`Event::Upgraded`] |
//! | connecting / probing / pausing | any other frame, or the WebSocket ends | upgrade abandoned ([`Event::UpgradeFailed`]; a close frame when it was open): polling goes on, no second attempt |
//! | open, WebSocket | the WebSocket ends | closed ([`CloseReason::TransportClosed`]) |
//! | open, WebSocket | a bad frame | closed ([`CloseReason::ParseError`]), close frame |
//! | open | `1` | closed ([`CloseReason::ServerClose`]) |
//! | open | `4…` | [`Event::Text`] / [`Event::Binary`] |
//! | open | `0`, `5`, `6` | ignored |
//! | open, v4 | `2` | `3` queued (without the ping's data **(reference)**) |
//! | open, v4 | no packet at all within `pingInterval + pingTimeout` | closed ([`CloseReason::PingTimeout`]) |
//! | open, v3 | `pingInterval` after the open or the last ping | `2` queued; its `3` is due within `pingTimeout`, else closed ([`CloseReason::PingTimeout`]) |
//! | open, v3 | `3` | the pong: the ping's deadline is lifted |
//! | open, v3 | `2` | ignored |
//! | open, polling | [`Session::close`] | closed ([`CloseReason::ClientClose`]): `1` goes after the outbox in a last POST (after the POST in flight, if any); an upgrading WebSocket gets a close frame |
//! | open, WebSocket | [`Session::close`] | closed ([`CloseReason::ClientClose`]): the outbox, `1`, then a close frame |
//! | opening | [`Session::close`] | closed ([`CloseReason::ClientClose`]), nothing sent |
//! | closed | anything | nothing (answers to requests in flight are ignored), no timer |
//!
//! [`Event::Closed`] is given once, last. Messages are never reordered or lost across the
//! upgrade: what is queued while the session pauses polling stays in the outbox and goes on
//! the WebSocket right after `5`, and what the last GET brought is given before
//! [`Event::Upgraded`].

mod heartbeat;
mod session;

pub use super::server::{Frame, Transport};
pub use crate::protocol::{BINARY_BODY, TEXT_BODY};
pub use heartbeat::{Due, Heard, Heartbeat};
pub use session::Session;

use crate::EngineIo;
use alloc::string::String;
use bytes::Bytes;

/// The client's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The Engine.IO revision to speak. Default 4.
    pub revision: EngineIo,
    /// The transport the session opens on. Default polling.
    pub transport: Transport,
    /// Whether a polling session upgrades to WebSocket when the server offers it. Default on.
    pub upgrade: bool,
    /// Engine.IO 3: ask for binary as base64 text (`b64=1`). Default off. (Engine.IO 4
    /// always sends binary as base64 in polling bodies.)
    pub b64: bool,
    /// The largest polling body or WebSocket message accepted from the server, in bytes.
    /// Default 10 000 000.
    pub max_payload: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            revision: EngineIo::V4,
            transport: Transport::Polling,
            upgrade: true,
            b64: false,
            max_payload: 10_000_000,
        }
    }
}

impl ClientConfig {
    /// The default settings with `revision`.
    pub fn new(revision: EngineIo) -> Self {
        Self {
            revision,
            ..Self::default()
        }
    }

    /// The same on `transport`.
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The same with the upgrade to WebSocket on or off.
    #[must_use]
    pub fn with_upgrade(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// The same with `b64` (Engine.IO 3).
    #[must_use]
    pub fn with_b64(mut self, b64: bool) -> Self {
        self.b64 = b64;
        self
    }
}

/// An HTTP method of a polling request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// A GET: the handshake, or a poll for the server's packets.
    Get,
    /// A POST carrying packets.
    Post,
}

impl Method {
    /// `"GET"` or `"POST"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// An HTTP request to make: the method, the query (without a leading `?`; the caller adds the
/// path), and for a POST the body with its content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// GET or POST.
    pub method: Method,
    /// `EIO=4&transport=polling&sid=…`.
    pub query: String,
    /// The `Content-Type` of a POST body.
    pub content_type: Option<&'static str>,
    /// The POST body (empty for a GET).
    pub body: Bytes,
}

/// Why a client session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`Session::close`].
    ClientClose,
    /// The server sent `1`.
    ServerClose,
    /// v4: nothing from the server within `pingInterval + pingTimeout`; v3: no pong within
    /// `pingTimeout`.
    PingTimeout,
    /// A body or frame from the server did not decode.
    ParseError,
    /// The handshake brought no valid open packet.
    BadHandshake,
    /// A polling request was answered with this status instead of `200` (the session is
    /// unknown, the transport does not match, the server refused the handshake…).
    HttpStatus(u16),
    /// The WebSocket transport ended, or a polling request failed.
    TransportClosed,
}

/// What the application must see, from [`Session::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed: [`Session::sid`] and the timers are known.
    Open,
    /// A text message (a view of the body or frame).
    Text(crate::Utf8Bytes),
    /// A binary message (a view of the body or frame, except base64-decoded binary).
    Binary(Bytes),
    /// The session moved to WebSocket.
    Upgraded,
    /// The upgrade was abandoned: the session stays on polling.
    UpgradeFailed,
    /// The session ended (given once, last).
    Closed(CloseReason),
}
