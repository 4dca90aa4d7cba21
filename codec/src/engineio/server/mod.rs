//! A sans-IO Engine.IO **server session** (v3 and v4, HTTP long-polling and WebSocket), in
//! the style of quinn-proto: `handle_*` for what arrives, `poll_*` for what to send, time
//! passed in as [`Instant`](std::time::Instant)s. No socket, no clock, no runtime: the
//! caller reads requests and frames, hands them in, and writes out what the session gives
//! back. The module needs the `std` feature (for `Instant`).
//!
//! The observable behaviour is that of the reference server (engine.io 6.x); where the spec
//! is silent the reference's choice is marked **(reference)** below. The repository's
//! built-in contract server (`mutants/`, crate `sio-mutants`) and its example server run on
//! this session, and pass every conformance suite.
//!
//! # Driving a session
//!
//! 1. Route a request with [`classify`]: a handshake, or a request for an existing `sid`
//!    (look the session up yourself; an unknown one is [`Refusal::UnknownSid`]), then
//!    [`Session::route`] for the existing session.
//! 2. A handshake: [`Session::accept`] with an id you generated and `now`; it returns the
//!    session and the [`Opening`] (the polling response or the first WebSocket frame).
//! 3. Polling: [`Session::handle_get`] answers at once or parks the GET, whose answer then
//!    comes from [`Session::poll_get_response`]; [`Session::begin_post`] (optional, when the
//!    body is still being read) and [`Session::handle_post`] take a POST.
//! 4. WebSocket: [`Session::handle_websocket`] attaches a WebSocket to a polling session (the
//!    upgrade); [`Session::handle_frame`] takes every frame (and its close), and
//!    [`Session::poll_frame`] gives the frames to write.
//! 5. Time: call [`Session::handle_timeout`] when [`Session::poll_timeout`] is reached.
//! 6. Application: [`Session::send_text`], [`Session::send_binary`], [`Session::close`], and
//!    [`Session::poll_event`] for messages, the upgrade and the close.
//!
//! After every `handle_*` / `send_*` / `close` call, drain [`Session::poll_event`],
//! [`Session::poll_get_response`] and [`Session::poll_frame`].
//!
//! ```
//! use sio_codec::bytes::Bytes;
//! use sio_codec::engineio::server::{
//!     Event, GetOutcome, Opening, Request, Route, ServerConfig, Session, Target, classify,
//! };
//! use std::time::{Duration, Instant};
//!
//! let config = ServerConfig::default();
//! let t0 = Instant::now(); // any origin: the session only compares and adds
//! let handshake = Request::from_query("GET", "EIO=4&transport=polling");
//! assert!(matches!(classify(&config, &handshake), Ok(Target::Handshake { .. })));
//! let (mut session, opening) = Session::accept(&config, &handshake, "abc", t0)?;
//! let Opening::Response(open) = opening else { unreachable!() };
//! assert!(open.body.starts_with(br#"0{"sid":"abc","upgrades":["websocket"]"#));
//!
//! // The client posts a message; the application sees it and answers.
//! let request = Request::from_query("POST", "EIO=4&transport=polling&sid=abc");
//! assert_eq!(session.route(&request), Ok(Route::Post));
//! let ok = session.handle_post(&request, Bytes::from_static(b"4hello"), t0);
//! assert_eq!(&ok.body[..], b"ok");
//! assert_eq!(session.poll_event(), Some(Event::Text("hello".into())));
//!
//! // A GET with nothing to send waits; the reply releases it.
//! let request = Request::from_query("GET", "EIO=4&transport=polling&sid=abc");
//! assert_eq!(session.handle_get(&request), GetOutcome::Parked);
//! session.send_text("hi");
//! assert_eq!(&session.poll_get_response().unwrap().body[..], b"4hi");
//!
//! // Time: the first ping is due one ping interval after the open.
//! assert_eq!(session.poll_timeout(), Some(t0 + Duration::from_secs(25)));
//! # Ok::<(), sio_codec::engineio::server::Refusal>(())
//! ```
//!
//! # States and events
//!
//! A session is *polling* (with an upgrade state: idle, attached, probing), *websocket*
//! (upgraded, or opened over WebSocket), or *closed*. Polling also tracks one parked GET
//! and one POST in flight.
//!
//! | state | event | result |
//! |---|---|---|
//! | any open | [`Session::send_text`] / [`Session::send_binary`] | queued in the outbox; polling: a parked GET is answered with the whole outbox; websocket: written as frames |
//! | any open, held ([`Session::hold`]) | `send_*`, the session's own packets | queued, nothing answered or written until [`Session::release`] (or the close) |
//! | closed | `send_*` | dropped |
//! | polling | GET, outbox not empty | answered now with the whole outbox |
//! | polling | GET, outbox empty | parked until something is queued, the upgrade releases it (`6`) or the session closes |
//! | polling | GET while one is parked | `400`, empty; session closed ([`CloseReason::DuplicateGet`]); the parked GET gets the outbox and `1` |
//! | polling | parked GET aborted ([`Session::handle_get_aborted`]) | closed ([`CloseReason::TransportClosed`]) **(reference)** |
//! | polling | POST while one is in flight | `400`, empty; closed ([`CloseReason::DuplicatePost`]) |
//! | polling, v4 | POST declared `application/octet-stream` | `400`, empty; closed ([`CloseReason::ParseError`]) |
//! | polling | POST body over `max_payload` | `413`, empty; the session stays open **(reference)** |
//! | polling | POST body | packets handled in order, `200 ok`; a bad record closes ([`CloseReason::ParseError`]) after the packets before it, still `200 ok` **(reference)** |
//! | websocket or closed | GET / POST | refused: `400` code 3 "Bad request" (transport mismatch) / code 1 "Session ID unknown" |
//! | polling, idle | WebSocket arrives ([`Session::handle_websocket`]) | attached; the upgrade timer starts |
//! | polling, attached / probing; websocket | another WebSocket ([`Route::WebsocketRefused`]) | refused: `101`, then closed **(reference)** |
//! | closed | a WebSocket | refused by [`Session::route`]: [`Refusal::UnknownSid`] |
//! | attached / probing | `2probe` | `3probe` on the WebSocket; probing: the parked GET, and every GET until the upgrade ends, is answered `6` |
//! | attached / probing | `5` (with or without a probe **(reference)**) | websocket: parked GET answered `6`, outbox flushed to the WebSocket, [`Event::Upgraded`] |
//! | attached / probing | any other packet, a bad frame, the WebSocket closing, the upgrade timeout | upgrade abandoned: WebSocket closed, polling goes on (idle) |
//! | attached / probing | the session closes (any reason) | the WebSocket gets a close frame; a parked GET carries the end (`1`, or `6` for a client close) |
//! | websocket | bad frame | closed ([`CloseReason::ParseError`]); frame over `max_payload`: close frame 1009, [`CloseReason::TransportClosed`] |
//! | websocket | the WebSocket closes | closed ([`CloseReason::TransportClosed`]) |
//! | any open | `1` | closed ([`CloseReason::ClientRequest`]): the outbox is dropped, a parked GET gets `6`; over WebSocket too **(this session's choice, so that the conformance case passes strictly; engine.io 6 ignores `1` on WebSocket)** |
//! | any open | `4…` | [`Event::Text`] / [`Event::Binary`] |
//! | any open | `0`, `5`, `6` on the main transport | ignored **(reference)** |
//! | v4 | `ping_interval` after the open or the last pong | `2` queued; a `3` within `ping_timeout` restarts the interval, else closed ([`CloseReason::PingTimeout`]) |
//! | v4 | client `2` | closed ([`CloseReason::ProtocolError`]) |
//! | v4 | `3` not awaited | ignored |
//! | v3 | client `2` | `3` queued (the ping's data is not echoed **(reference)**); the deadline moves to `now + ping_interval + ping_timeout` |
//! | v3 | no `2` within `ping_interval + ping_timeout` | closed ([`CloseReason::PingTimeout`]) |
//! | v3 | client `3` | closed ([`CloseReason::ProtocolError`]) |
//! | any open | [`Session::close`] | closed ([`CloseReason::ServerClose`]): a parked GET gets the outbox and `1`; a WebSocket gets the outbox then a close frame |
//! | closed | anything | nothing: no event, no timer; requests refused as "Session ID unknown" |
//!
//! On closing, [`Event::Closed`] is given once. A polling session closed while no GET is
//! parked keeps nothing for later: the next request is refused with code 1 **(this session's
//! choice; engine.io 6 may answer one more GET with the queued `1`)**.
//!
//! # Bodies and frames
//!
//! GET bodies: v4 `\x1e`-separated records with binary as `b<base64>` (a text that holds
//! `\x1e`, possible only when it came over WebSocket, is written as is, as the reference
//! does); v3 `len:packet` text, or the XHR2 binary payload (`application/octet-stream`) when
//! the batch holds binary and the client did not ask for `b64`; with `j=` (JSONP) the text
//! payload is wrapped as `___eio[j]("…");`. POST bodies: v4 records, v3 text or XHR2 (by the
//! content type), JSONP `d=` forms. WebSocket frames: text, binary as raw bytes (v3: with the
//! `0x04` type byte), or base64 text for `b64` clients.
//!
//! Responses carry a status, a content type and a body ([`Response`]); the reference also
//! sends `Cache-Control: no-store` on polling GETs and CORS headers per its options, which
//! are the caller's.

mod body;
mod session;

pub use session::Session;

use crate::EngineIo;
pub use crate::protocol::{BINARY_BODY, TEXT_BODY};
use crate::utf8_bytes::Utf8Bytes;
use alloc::string::String;
use bytes::Bytes;
use core::time::Duration;

/// The content type of the `ok` answer to a POST and of WebSocket refusals.
pub const TEXT_HTML: &str = "text/html";
/// The content type of Engine.IO error bodies.
pub const APPLICATION_JSON: &str = "application/json";

/// The server's settings. Defaults are the reference's (engine.io 6.x).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// v4: time between the last pong (or the open) and the next ping; v3: the interval the
    /// client pings at. Default 25 s.
    pub ping_interval: Duration,
    /// v4: how long a ping waits for its pong; v3: the slack after `ping_interval`. Default 20 s.
    pub ping_timeout: Duration,
    /// The largest POST body and WebSocket message in bytes, advertised as `maxPayload`.
    /// Default 1 000 000.
    pub max_payload: usize,
    /// How long an attached WebSocket may take to complete the upgrade. Default 10 s.
    pub upgrade_timeout: Duration,
    /// Whether `EIO=3` clients are served. Default off.
    pub allow_eio3: bool,
    /// Whether the polling transport is enabled. Default on.
    pub polling: bool,
    /// Whether the WebSocket transport (and the upgrade to it) is enabled. Default on.
    pub websocket: bool,
    /// Whether the open packet of a v3 session carries `maxPayload` too. Default on, as the
    /// modern reference server does (engine.io 3.x servers never sent it).
    pub max_payload_on_v3: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1_000_000,
            upgrade_timeout: Duration::from_secs(10),
            allow_eio3: false,
            polling: true,
            websocket: true,
            max_payload_on_v3: true,
        }
    }
}

/// A transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
}

/// What the session needs to know of an HTTP request: the method, whether it asks for a
/// WebSocket upgrade, the query parameters it reads and the body's content type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request<'a> {
    /// `GET`, `POST`…
    pub method: &'a str,
    /// The request carries `Upgrade: websocket`.
    pub websocket: bool,
    /// `EIO`.
    pub eio: Option<&'a str>,
    /// `transport`.
    pub transport: Option<&'a str>,
    /// `sid`.
    pub sid: Option<&'a str>,
    /// `b64`: binary as base64 text when present and not empty.
    pub b64: Option<&'a str>,
    /// `j`: JSONP, with the callback index.
    pub jsonp: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with `method` and the parameters of `query` (`EIO=4&transport=polling`; a
    /// leading `?` is skipped). The last value of a repeated name wins, as in the reference.
    /// Values are taken as they are, **without percent-decoding**: those the session reads
    /// (`EIO`, `transport`, ids of the URL-safe alphabet, `b64`, `j`) need none; decode the
    /// query yourself and fill the fields otherwise.
    pub fn from_query(method: &'a str, query: &'a str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut request = Self {
            method,
            ..Self::default()
        };
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "EIO" => &mut request.eio,
                "transport" => &mut request.transport,
                "sid" => &mut request.sid,
                "b64" => &mut request.b64,
                "j" => &mut request.jsonp,
                _ => continue,
            };
            *slot = Some(value);
        }
        request
    }

    /// The same request with `Upgrade: websocket`.
    pub fn with_websocket(mut self) -> Self {
        self.websocket = true;
        self
    }

    /// The same request with a `Content-Type`.
    pub fn with_content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// Whether the body is declared `application/octet-stream` (the reference's test).
    fn is_octet_stream(&self) -> bool {
        self.content_type.is_some_and(|v| {
            v.as_bytes()
                .windows(12)
                .any(|w| w.eq_ignore_ascii_case(b"octet-stream"))
        })
    }
}

/// An HTTP response to write: status, content type (none for an empty body) and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Bytes,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type: Some(content_type),
            body: body.into(),
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: None,
            body: Bytes::new(),
        }
    }

    fn ok() -> Self {
        Self::new(200, TEXT_HTML, Bytes::from_static(b"ok"))
    }
}

/// Why a request is refused: the reference's Engine.IO errors (`Server.errors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// 0 "Transport unknown": `transport` missing, unknown or disabled.
    UnknownTransport,
    /// 1 "Session ID unknown": the `sid` names no open session.
    UnknownSid,
    /// 2 "Bad handshake method": a handshake that is not a GET.
    BadHandshakeMethod,
    /// 3 "Bad request": `transport=websocket` without an upgrade, a WebSocket upgrade with
    /// `transport=polling`, or a polling request for a session that runs on WebSocket.
    BadRequest,
    /// 4 "Forbidden": the application refused the request (the reference's `allowRequest`;
    /// never produced by this module).
    Forbidden,
    /// 5 "Unsupported protocol version": `EIO` missing, unknown, or `3` without
    /// [`ServerConfig::allow_eio3`].
    UnsupportedVersion,
}

impl Refusal {
    /// The error code.
    pub const fn code(self) -> u8 {
        match self {
            Self::UnknownTransport => 0,
            Self::UnknownSid => 1,
            Self::BadHandshakeMethod => 2,
            Self::BadRequest => 3,
            Self::Forbidden => 4,
            Self::UnsupportedVersion => 5,
        }
    }

    /// The error message.
    pub const fn message(self) -> &'static str {
        match self {
            Self::UnknownTransport => "Transport unknown",
            Self::UnknownSid => "Session ID unknown",
            Self::BadHandshakeMethod => "Bad handshake method",
            Self::BadRequest => "Bad request",
            Self::Forbidden => "Forbidden",
            Self::UnsupportedVersion => "Unsupported protocol version",
        }
    }

    /// The HTTP status of a polling refusal: 403 for [`Refusal::Forbidden`], else 400.
    pub const fn status(self) -> u16 {
        match self {
            Self::Forbidden => 403,
            _ => 400,
        }
    }

    /// The answer to a polling request: `{"code":N,"message":"…"}` as `application/json`.
    pub fn polling_response(self) -> Response {
        let body = alloc::format!(
            r#"{{"code":{},"message":"{}"}}"#,
            self.code(),
            self.message()
        );
        Response::new(self.status(), APPLICATION_JSON, body)
    }

    /// The answer to a WebSocket upgrade request: a plain `400` with the message as
    /// `text/html`. NOTE(compat): for [`Refusal::UnsupportedVersion`] the reference first
    /// answers `101` and then writes this response into the upgraded stream.
    pub fn websocket_response(self) -> Response {
        Response::new(400, TEXT_HTML, self.message())
    }
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (Engine.IO error {})", self.message(), self.code())
    }
}

/// A refusal is also an error, so `?` carries it into `Box<dyn Error>` or anyhow.
impl core::error::Error for Refusal {}

/// What a request is for, as [`classify`] tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// A handshake: give it to [`Session::accept`].
    Handshake {
        /// The session's revision.
        revision: EngineIo,
        /// The transport it opens on.
        transport: Transport,
    },
    /// A request of the session `sid`: look it up (absent: [`Refusal::UnknownSid`]), then
    /// [`Session::route`].
    Existing {
        /// The `sid` parameter.
        sid: &'a str,
    },
}

/// Checks a request in the reference's order: transport (known and enabled; a WebSocket
/// upgrade with `transport=polling` is a bad request), then `sid` (any: the caller looks it
/// up), then the handshake method (GET only), `transport=websocket` without an upgrade, and
/// the protocol version.
///
/// # Errors
/// The [`Refusal`] the reference answers.
pub fn classify<'a>(config: &ServerConfig, request: &Request<'a>) -> Result<Target<'a>, Refusal> {
    let transport = match request.transport {
        Some("polling") if config.polling => Transport::Polling,
        Some("websocket") if config.websocket => Transport::Websocket,
        _ => return Err(Refusal::UnknownTransport),
    };
    if transport == Transport::Polling && request.websocket {
        return Err(Refusal::BadRequest);
    }
    if let Some(sid) = request.sid {
        return Ok(Target::Existing { sid });
    }
    if request.method != "GET" {
        return Err(Refusal::BadHandshakeMethod);
    }
    if transport == Transport::Websocket && !request.websocket {
        return Err(Refusal::BadRequest);
    }
    let revision = match request.eio {
        Some("4") => EngineIo::V4,
        Some("3") if config.allow_eio3 => EngineIo::V3,
        _ => return Err(Refusal::UnsupportedVersion),
    };
    Ok(Target::Handshake {
        revision,
        transport,
    })
}

/// What [`Session::accept`] sends first: the open packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opening {
    /// The answer to the handshake GET (polling).
    Response(Response),
    /// The first WebSocket frame, after the `101`.
    Frame(Frame),
}

/// A WebSocket message, in or out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// In: the WebSocket closed (a close frame, an error, the end of the stream). Out: send
    /// a close frame with this status (none: no status) and end the connection.
    Close(Option<u16>),
}

/// The close status the session sends for a WebSocket message over `max_payload` (the
/// reference's `ws` library: 1009, message too big).
pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

/// How [`Session::handle_get`] answers a GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetOutcome {
    /// Answer now with this response.
    Answered(Response),
    /// Wait: the answer comes from [`Session::poll_get_response`].
    Parked,
}

/// Where a request for an existing session goes ([`Session::route`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// A polling GET: [`Session::handle_get`].
    Get,
    /// A polling POST: [`Session::begin_post`] / [`Session::handle_post`].
    Post,
    /// A WebSocket that may attach for the upgrade: answer `101`, then
    /// [`Session::handle_websocket`].
    Websocket,
    /// A WebSocket that cannot attach (upgrading, upgraded, or WebSocket is disabled):
    /// answer `101`, then close it at once **(reference)**.
    WebsocketRefused,
    /// Another method with a `sid`: `500`, empty body **(reference)**.
    Unsupported,
}

impl Route {
    /// The response for [`Route::Unsupported`].
    pub fn unsupported_response() -> Response {
        Response::empty(500)
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent `1`.
    ClientRequest,
    /// No pong (v4) or no ping (v3) in time.
    PingTimeout,
    /// A packet or a body did not decode.
    ParseError,
    /// A packet the protocol forbids here (v4 client ping, v3 pong), or the application's
    /// [`Session::close_with`] for a protocol error above Engine.IO.
    ProtocolError,
    /// The WebSocket closed (once it is the transport), or the parked GET was aborted.
    TransportClosed,
    /// A second GET while one was parked.
    DuplicateGet,
    /// A second POST while one was in flight.
    DuplicatePost,
    /// [`Session::close`].
    ServerClose,
}

/// What the application must see, from [`Session::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A text message (a view of the request body or frame where possible).
    Text(Utf8Bytes),
    /// A binary message (a view of the body or frame, except base64-decoded binary).
    Binary(Bytes),
    /// The session moved to WebSocket.
    Upgraded,
    /// The session ended (given once, last).
    Closed(CloseReason),
}

/// The JSONP index of a GET, kept while it is parked.
type Jsonp = Option<String>;
