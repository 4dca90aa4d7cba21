//! `eio_client_session`: the Engine.IO client [`Session`] driven by a sequence of steps,
//! against arbitrary server answers or against the real server session.

use crate::Steps;
use bytes::Bytes;
use sio_codec::{
    DecodeConfig, EngineIo, Protocol,
    engineio::{
        self,
        client::{
            ClientConfig, CloseReason, Event, Frame, HttpRequest, Method, Session, Transport,
        },
        server,
    },
};
use std::time::{Duration, Instant};
use std::{collections::VecDeque, format, string::String, vec::Vec};

/// The most steps one `eio_client_session` input drives.
pub const EIO_CLIENT_MAX_STEPS: usize = 256;

/// Packets the server side of `eio_client_session` answers with (in GET bodies and frames):
/// open packets for v4 and v3 (with and without `websocket` in the upgrades, a small
/// `maxPayload`, zero timers, a bad one), then the other packet types, valid and not.
const SERVER_PACKETS: [&str; 24] = [
    r#"0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    r#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":16}"#,
    r#"0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#,
    r#"0{"sid":"t","upgrades":["websocket"],"pingInterval":1,"pingTimeout":0,"maxPayload":0}"#,
    "0{}",
    "3probe",
    "2",
    "3",
    "1",
    "4hi",
    "4",
    "6",
    "5",
    "2probe",
    "b4AQI=",
    "bAQI=",
    "7",
    "",
    "40",
    "4m0",
    "2x",
    "3x",
    "0",
    "4\u{e9}",
];

/// Statuses of the GET and POST answers of the raw steps (mostly `200`).
const STATUSES: [u16; 8] = [200, 200, 200, 200, 400, 404, 413, 500];

/// Content types of the raw GET answers.
const CONTENT_TYPES: [Option<&str>; 4] = [
    Some(engineio::client::TEXT_BODY),
    Some(engineio::client::BINARY_BODY),
    None,
    Some("text/html"),
];

/// The client under test, with what the steps observed of it.
struct Client {
    session: Session,
    /// Decodes what the client sends.
    protocol: Protocol,
    get_out: bool,
    post_out: bool,
    /// Queries [`Session::poll_websocket`] gave.
    ws_queries: usize,
    /// A WebSocket query not yet opened or failed.
    ws_pending: bool,
    /// The WebSocket is open (frames flow both ways).
    ws_live: bool,
    /// The live WebSocket is the upgrade's (it starts with `2probe`, then `5`).
    ws_upgrade: bool,
    /// `5` went out on the upgrade's WebSocket.
    ws_upgrade_sent: bool,
    /// Application messages `m0` … `m{sent - 1}` handed to the session while not closed.
    sent: u64,
    /// Messages `m0` … `m{out - 1}` went out (POST bodies and frames).
    out: u64,
    opened: bool,
    upgraded: bool,
    upgrade_failed: bool,
    /// The `Closed` event (given once, last).
    closed: Option<CloseReason>,
    /// The `1` packet went out: nothing may follow.
    close_packet_out: bool,
    /// The query of the WebSocket asked for.
    ws_query: String,
    /// The texts the client got, for the real server's check.
    received: Vec<String>,
}

impl Client {
    fn new(config: ClientConfig) -> Self {
        let protocol =
            Protocol::new(config.revision).with_config(DecodeConfig::new().max_payload(usize::MAX));
        Self {
            session: Session::new(config),
            protocol,
            get_out: false,
            post_out: false,
            ws_queries: 0,
            ws_pending: false,
            ws_live: false,
            ws_upgrade: false,
            ws_upgrade_sent: false,
            sent: 0,
            out: 0,
            opened: false,
            upgraded: false,
            upgrade_failed: false,
            closed: None,
            close_packet_out: false,
            ws_query: String::new(),
            received: Vec::new(),
        }
    }

    fn v3(&self) -> bool {
        self.protocol.engineio() == EngineIo::V3
    }

    /// The application sends `count` messages (and a binary one when `binary`).
    fn send(&mut self, count: u8, binary: bool) {
        for _ in 0..count {
            let was_closed = self.session.is_closed();
            self.session.send_text(format!("m{}", self.sent));
            if !was_closed {
                self.sent += 1;
            }
        }
        if binary {
            self.session.send_binary(Bytes::from_static(b"\x01\x02"));
        }
    }

    /// One packet the client sent: a message id is the next one; nothing after `1`.
    fn sent_packet(&mut self, packet: &engineio::PacketBuf, upgrade_ws: bool) {
        assert!(!self.close_packet_out, "{packet:?} after the close packet");
        let packet = packet.as_packet();
        if upgrade_ws && !self.ws_upgrade_sent {
            match packet {
                engineio::Packet::Ping(Some("probe")) => return,
                engineio::Packet::Upgrade => {
                    self.ws_upgrade_sent = true;
                    return;
                }
                other => panic!("{other:?} on the upgrade's WebSocket before 5"),
            }
        }
        match packet {
            engineio::Packet::Message(engineio::Message::Text(t)) => {
                if let Some(id) = t.strip_prefix('m').and_then(|n| n.parse::<u64>().ok()) {
                    assert_eq!(
                        id, self.out,
                        "m{id} out where m{} is next (sent: {})",
                        self.out, self.sent
                    );
                    self.out += 1;
                    assert!(self.out <= self.sent, "a message never sent went out");
                }
            }
            engineio::Packet::Close => self.close_packet_out = true,
            engineio::Packet::Upgrade => panic!("5 outside an upgrade"),
            engineio::Packet::Open(_) => panic!("an open packet from the client"),
            _ => {}
        }
    }

    /// Drains the session after a step and checks it. Returns the requests and frames it
    /// wants sent.
    fn drain(&mut self, now: Instant) -> (Vec<HttpRequest>, Vec<Frame>) {
        let closed_before = self.closed.is_some();
        let client_closed = self.closed == Some(CloseReason::ClientClose);
        let mut requests = Vec::new();
        while let Some(request) = self.session.poll_request() {
            assert!(requests.len() < 3, "requests keep coming");
            let polling = request.query.contains("transport=polling");
            assert!(polling, "a polling request to {}", request.query);
            if closed_before {
                assert!(
                    request.method == Method::Post && client_closed,
                    "{request:?} after the close ({:?})",
                    self.closed
                );
            }
            match request.method {
                Method::Get => {
                    assert!(!self.get_out, "two GETs in flight");
                    assert!(request.body.is_empty(), "a GET with a body");
                    assert!(!self.upgraded, "a GET after the upgrade");
                    self.get_out = true;
                }
                Method::Post => {
                    assert!(!self.post_out, "two POSTs in flight");
                    assert!(!self.upgraded, "a POST after the upgrade");
                    assert!(self.session.sid().is_some(), "a POST before the open");
                    assert!(!request.body.is_empty(), "an empty POST");
                    self.post_out = true;
                    let packets: Vec<_> = self
                        .protocol
                        .decode_body(request.body.clone(), request.content_type)
                        .collect();
                    assert!(!packets.is_empty(), "a POST of no packet");
                    for packet in packets {
                        let packet = packet.expect("the client's POST body decodes");
                        self.sent_packet(&packet, false);
                    }
                }
            }
            if self.session.sid().is_some() {
                assert!(
                    request.query.contains("&sid="),
                    "no sid in {}",
                    request.query
                );
            }
            requests.push(request);
        }
        while let Some(query) = self.session.poll_websocket() {
            assert!(!closed_before, "a WebSocket asked for after the close");
            assert!(
                query.contains("transport=websocket"),
                "WebSocket query {query}"
            );
            self.ws_queries += 1;
            assert_eq!(self.ws_queries, 1, "a second WebSocket asked for");
            let sid = self.session.sid().is_some();
            assert_eq!(sid, query.contains("&sid="), "WebSocket query {query}");
            self.ws_pending = true;
            self.ws_query = query;
        }
        let mut frames = Vec::new();
        while let Some(frame) = self.session.poll_frame() {
            assert!(
                frames.len() < 4 * EIO_CLIENT_MAX_STEPS + 16,
                "frames keep coming"
            );
            assert!(!closed_before, "{frame:?} after the close");
            let packet = match &frame {
                // A WebSocket being opened may be dropped.
                Frame::Close(_) if self.ws_pending => {
                    self.ws_pending = false;
                    None
                }
                _ if !self.ws_live => panic!("{frame:?} for no WebSocket"),
                Frame::Close(_) => {
                    self.ws_live = false;
                    None
                }
                Frame::Text(text) => Some(self.protocol.decode_text_frame(text)),
                Frame::Binary(data) => Some(self.protocol.decode_binary_frame(data.clone())),
            };
            if let Some(packet) = packet {
                let packet = packet.expect("the client's frame decodes");
                self.sent_packet(&packet, self.ws_upgrade);
            }
            frames.push(frame);
        }
        let mut closed_now = false;
        while let Some(event) = self.session.poll_event() {
            assert!(self.closed.is_none(), "{event:?} after Closed");
            match event {
                Event::Open => {
                    assert!(!self.opened, "opened twice");
                    self.opened = true;
                }
                Event::Text(text) => {
                    assert!(self.opened, "a message before Open");
                    self.received.push(text.as_str().into());
                }
                Event::Binary(_) => assert!(self.opened, "a message before Open"),
                Event::Upgraded => {
                    assert!(!self.upgraded && !self.upgrade_failed, "upgraded twice");
                    assert!(self.ws_upgrade_sent, "upgraded without 5");
                    assert_eq!(self.session.transport(), Transport::Websocket, "upgraded");
                    self.upgraded = true;
                }
                Event::UpgradeFailed => {
                    assert!(
                        !self.upgraded && !self.upgrade_failed,
                        "upgrade ended twice"
                    );
                    assert!(self.opened && self.ws_queries == 1, "no upgrade to fail");
                    self.upgrade_failed = true;
                    self.ws_pending = false;
                }
                Event::Closed(reason) => {
                    self.closed = Some(reason);
                    closed_now = true;
                }
            }
        }
        assert_eq!(
            self.closed.is_some(),
            self.session.is_closed(),
            "Closed iff is_closed"
        );
        let s = &self.session;
        if s.is_closed() {
            assert_eq!(s.poll_timeout(), None, "a timer after the close");
            assert!(!s.is_open() && !s.is_upgrading(), "closed yet open");
            if closed_now {
                self.ws_pending = false;
            }
            if closed_now && self.closed == Some(CloseReason::ClientClose) && self.upgraded {
                assert_eq!(
                    self.out, self.sent,
                    "messages lost at the close on WebSocket"
                );
                assert!(
                    self.close_packet_out,
                    "no 1 at the client's close on WebSocket"
                );
            }
        } else if s.is_open() {
            assert!(
                s.poll_timeout().is_some_and(|t| t >= now),
                "an open session without a timer"
            );
            if s.transport() == Transport::Websocket || (!s.is_upgrading() && !self.post_out) {
                assert_eq!(
                    self.out,
                    self.sent,
                    "messages held back (transport {:?}, POST in flight: {})",
                    s.transport(),
                    self.post_out
                );
            }
        } else {
            assert!(!self.opened, "open, then neither open nor closed");
        }
        (requests, frames)
    }

    /// Time passes to `now`; the session's due timers run (a few times at most).
    fn advance(&mut self, now: Instant) {
        let mut fired = 0;
        while let Some(at) = self.session.poll_timeout() {
            if at > now {
                break;
            }
            self.session.handle_timeout(now);
            fired += 1;
            assert!(fired <= 3, "a timer due again and again at {at:?}");
        }
        if !self.session.is_closed() {
            assert!(
                self.session.poll_timeout().is_none_or(|t| t > now),
                "a timer still due after handle_timeout"
            );
        }
    }
}

/// `eio_client_session`: one Engine.IO client [`Session`] driven by a sequence of steps.
///
/// Input: a first byte chooses the session (bit 0: v3, else v4; bit 1: opened over
/// WebSocket, else polling; bit 2: `b64`; bit 3: no upgrade) and the server (bit 4: the
/// real [`server::Session`], else arbitrary answers from the steps), then steps until the
/// bytes run out or [`EIO_CLIENT_MAX_STEPS`].
///
/// Arbitrary answers, the step's kind is its first byte modulo 11:
///
/// | kind | step | argument bytes |
/// |---|---|---|
/// | 0 | the GET in flight answered `200` with 1–3 packets of a table (valid open packets for v3 and v4, the other types, broken ones) in the revision's body format | count, one per packet |
/// | 1 | the GET in flight answered with a status and content type of tables and raw bytes | status and type, length (0–31), bytes |
/// | 2 | the POST in flight answered with a status of a table | 1 |
/// | 3 | the GET (bit 0 clear) or POST in flight failed | 1 |
/// | 4 | the WebSocket asked for is open | — |
/// | 5 | the WebSocket asked for failed, or the open one ended | — |
/// | 6 | a text frame holding a packet of the table (on an open WebSocket) | 1 |
/// | 7 | a frame of raw bytes (bit 4: binary, else lossy UTF-8 text) | length (0–15), bytes |
/// | 8 | time passes: big-endian u16 milliseconds, then `handle_timeout` | 2 |
/// | 9 | the application sends 1–4 text messages `m0`, `m1`… (bit 2: and a binary one) | 1 |
/// | 10 | the application closes the session | — |
///
/// The real server, the step's kind is its first byte modulo 10 (requests, answers and
/// frames wait in queues, in order, so the steps choose the interleaving):
///
/// | kind | step | argument bytes |
/// |---|---|---|
/// | 0 | the next request of the client reaches the server (a GET may park there) | — |
/// | 1 | the next answer reaches the client | — |
/// | 2 | the WebSocket asked for opens at the server (or is refused, then fails) | — |
/// | 3 | the WebSocket asked for fails, or the open one breaks at both ends | — |
/// | 4 | the next client frame reaches the server | — |
/// | 5 | the next server frame reaches the client | — |
/// | 6 | time passes for both: big-endian u16 milliseconds | 2 |
/// | 7 | the client's application sends 1–4 messages `m<N>` | 1 |
/// | 8 | the server's application sends 1–4 messages `s<N>` | 1 |
/// | 9 | the client (bit 0 clear) or the server closes | 1 |
///
/// After every step the client is drained and checked:
/// - at most one GET and one POST in flight; no polling request after the upgrade; a POST
///   only after the open, never empty, its body decodes; a WebSocket asked for once;
/// - the `m<N>` messages go out (POST bodies and frames, across the upgrade) in order, each
///   once, none never sent; on the upgrade's WebSocket `2probe` and `5` come before anything
///   else; nothing goes out after `1`;
/// - nothing is held back: open on WebSocket, or on polling with no upgrade under way and
///   no POST in flight, every message sent so far is out; a client close on WebSocket sends
///   them all, then `1`;
/// - events: `Open` once, first; messages only after it; `Upgraded` only after `5` and then
///   on WebSocket; `Upgraded` / `UpgradeFailed` once in all; `Closed` once, last, exactly
///   when `is_closed`;
/// - nothing after the close: no event, no frame, no GET, no WebSocket, no timer; a POST
///   only to finish a client close on polling;
/// - frames only to an open WebSocket; an open session has a timer, not in the past, and
///   after `handle_timeout(now)` it is later than `now`.
///
/// With the real server, in addition: the server gets the client's `m<N>` and the client
/// the server's `s<N>` in order, each once; at the end of the input everything is delivered
/// until nothing moves, and when both are still open every message sent has arrived; when
/// the server got the client's `1`, it got every message the client sent before.
pub fn eio_client_session(data: &[u8]) {
    let mut steps = Steps::new(data, EIO_CLIENT_MAX_STEPS);
    let Some(header) = steps.next_kind() else {
        return;
    };
    let revision = if header & 1 != 0 {
        EngineIo::V3
    } else {
        EngineIo::V4
    };
    let transport = if header & 2 != 0 {
        Transport::Websocket
    } else {
        Transport::Polling
    };
    let config = ClientConfig::new(revision)
        .with_transport(transport)
        .with_b64(header & 4 != 0)
        .with_upgrade(header & 8 == 0);
    let client = Client::new(config);
    if header & 16 != 0 {
        against_server(client, steps);
    } else {
        against_answers(client, steps);
    }
}

/// A body of `packets` in the revision's text format.
fn body_of(v3: bool, packets: &[&str]) -> Bytes {
    if v3 {
        packets
            .iter()
            .map(|p| format!("{}:{p}", p.encode_utf16().count()))
            .collect::<String>()
            .into()
    } else {
        packets.join("\u{1e}").into()
    }
}

/// The fuzzer's steps are the server.
fn against_answers(mut c: Client, mut steps: Steps<'_>) {
    let t0 = Instant::now();
    let mut now = t0;
    c.drain(now);
    while let Some(kind) = steps.next_kind() {
        match kind % 11 {
            0 => {
                let count = 1 + usize::from(steps.byte() % 3);
                let packets: Vec<&str> = (0..count).map(|_| steps.pick(&SERVER_PACKETS)).collect();
                if c.get_out {
                    c.get_out = false;
                    let body = body_of(c.v3(), &packets);
                    let content_type = Some(engineio::client::TEXT_BODY);
                    c.session
                        .handle_response(Method::Get, 200, content_type, body, now);
                }
            }
            1 => {
                let arg = steps.byte();
                let len = usize::from(steps.byte() % 32);
                let body = Bytes::copy_from_slice(steps.take(len));
                if c.get_out {
                    c.get_out = false;
                    let status = STATUSES[usize::from(arg % 8)];
                    let content_type = CONTENT_TYPES[usize::from(arg >> 3) % 4];
                    c.session
                        .handle_response(Method::Get, status, content_type, body, now);
                }
            }
            2 => {
                let status = steps.pick(&STATUSES);
                if c.post_out {
                    c.post_out = false;
                    let body = Bytes::from_static(b"ok");
                    c.session
                        .handle_response(Method::Post, status, None, body, now);
                }
            }
            3 => {
                let method = if steps.byte() & 1 == 0 {
                    Method::Get
                } else {
                    Method::Post
                };
                let out = match method {
                    Method::Get => &mut c.get_out,
                    Method::Post => &mut c.post_out,
                };
                if core::mem::replace(out, false) {
                    c.session.handle_request_failed(method);
                }
            }
            4 => {
                if c.ws_pending {
                    c.ws_pending = false;
                    c.ws_live = true;
                    c.ws_upgrade = c.opened;
                    c.session.handle_websocket_open(now);
                }
            }
            5 => {
                if c.ws_pending || c.ws_live {
                    c.ws_pending = false;
                    c.ws_live = false;
                    c.session.handle_frame(Frame::Close(None), now);
                }
            }
            6 => {
                let packet = steps.pick(&SERVER_PACKETS);
                if c.ws_live {
                    c.session.handle_frame(Frame::Text(packet.into()), now);
                }
            }
            7 => {
                let arg = steps.byte();
                let bytes = steps.take(usize::from(arg % 16));
                let frame = if arg & 0x10 != 0 {
                    Frame::Binary(Bytes::copy_from_slice(bytes))
                } else {
                    Frame::Text(String::from_utf8_lossy(bytes).as_ref().into())
                };
                if c.ws_live {
                    c.session.handle_frame(frame, now);
                }
            }
            8 => {
                now += Duration::from_millis(u64::from(steps.u16()));
                c.advance(now);
            }
            9 => {
                let arg = steps.byte();
                c.send(1 + arg % 4, arg & 4 != 0);
            }
            _ => c.session.close(),
        }
        c.drain(now);
    }
}

/// The real server session, and what travels between it and the client.
struct Wire {
    config: server::ServerConfig,
    server: Option<server::Session>,
    /// Requests of the client not at the server yet.
    requests: VecDeque<HttpRequest>,
    /// Answers not at the client yet.
    answers: VecDeque<(Method, server::Response)>,
    /// The client's GET is parked at the server.
    parked: bool,
    to_server: VecDeque<Frame>,
    to_client: VecDeque<Frame>,
    /// The server's WebSocket is attached.
    server_ws: bool,
    /// Server messages `s0` … `s{server_sent - 1}` sent while open.
    server_sent: u64,
    /// … of which the client got the first `client_got`.
    client_got: u64,
    /// Messages `m0` … `m{server_got - 1}` the server got.
    server_got: u64,
    server_closed: bool,
    /// The server got the client's `1`.
    server_got_close: bool,
}

const SID: &str = "fuzz";

impl Wire {
    fn new() -> Self {
        #[allow(
            clippy::field_reassign_with_default,
            reason = "the public API: ServerConfig is non_exhaustive outside the crate"
        )]
        let config = {
            let mut config = server::ServerConfig::default();
            config.allow_eio3 = true;
            config.ping_interval = Duration::from_millis(300);
            config.ping_timeout = Duration::from_millis(200);
            config
        };
        Self {
            config,
            server: None,
            requests: VecDeque::new(),
            answers: VecDeque::new(),
            parked: false,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            server_ws: false,
            server_sent: 0,
            client_got: 0,
            server_got: 0,
            server_closed: false,
            server_got_close: false,
        }
    }

    /// The next request reaches the server. `false` when there was none.
    fn deliver_request(&mut self, now: Instant) -> bool {
        let Some(request) = self.requests.pop_front() else {
            return false;
        };
        let mut http = server::Request::from_query(request.method.as_str(), &request.query);
        if let Some(content_type) = request.content_type {
            http = http.with_content_type(content_type);
        }
        let Some(server) = self.server.as_mut() else {
            let (server, opening) = server::Session::accept(&self.config, &http, SID, now)
                .expect("the client's handshake is accepted");
            let server::Opening::Response(response) = opening else {
                panic!("{opening:?} for a polling handshake")
            };
            self.server = Some(server);
            self.answers.push_back((request.method, response));
            return true;
        };
        let response = match (request.method, server.route(&http)) {
            (_, Err(refusal)) => refusal.polling_response(),
            (Method::Get, Ok(server::Route::Get)) => {
                assert!(!self.parked, "a second GET while one is parked");
                match server.handle_get(&http) {
                    server::GetOutcome::Answered(response) => response,
                    server::GetOutcome::Parked => {
                        self.parked = true;
                        return true;
                    }
                }
            }
            (Method::Post, Ok(server::Route::Post)) => server.handle_post(&http, request.body, now),
            (method, Ok(route)) => panic!("{method:?} routed to {route:?}"),
        };
        self.answers.push_back((request.method, response));
        true
    }

    /// The server's side after a step: the parked GET's answer, frames, events.
    fn drain_server(&mut self) {
        let Some(server) = self.server.as_mut() else {
            return;
        };
        if self.parked
            && let Some(response) = server.poll_get_response()
        {
            self.parked = false;
            self.answers.push_back((Method::Get, response));
        }
        while let Some(frame) = server.poll_frame() {
            assert!(self.server_ws, "the server wrote {frame:?} to no WebSocket");
            if matches!(frame, Frame::Close(_)) {
                self.server_ws = false;
            }
            self.to_client.push_back(frame);
        }
        while let Some(event) = server.poll_event() {
            match event {
                server::Event::Text(text) => {
                    if let Some(id) = text.strip_prefix('m').and_then(|n| n.parse::<u64>().ok()) {
                        assert_eq!(id, self.server_got, "the server got m{id}");
                        self.server_got += 1;
                    }
                }
                server::Event::Closed(reason) => {
                    self.server_closed = true;
                    if reason == server::CloseReason::ClientRequest {
                        // `1` comes after every message the client sent.
                        self.server_got_close = true;
                    }
                }
                server::Event::Binary(_) | server::Event::Upgraded => {}
            }
        }
    }

    /// The client got `event`s: the `s<N>` come in order.
    fn client_text(&mut self, text: &str) {
        if let Some(id) = text.strip_prefix('s').and_then(|n| n.parse::<u64>().ok()) {
            assert_eq!(id, self.client_got, "the client got s{id}");
            self.client_got += 1;
            assert!(
                self.client_got <= self.server_sent,
                "the client got s{id}, never sent"
            );
        }
    }
}

/// Drains the client and routes what it sends into the wire.
fn settle_client(c: &mut Client, w: &mut Wire, now: Instant) {
    let (requests, frames) = c.drain(now);
    for text in core::mem::take(&mut c.received) {
        w.client_text(&text);
    }
    w.requests.extend(requests);
    for frame in frames {
        if w.server_ws {
            w.to_server.push_back(frame);
        }
    }
}

/// The client against the real server.
fn against_server(mut c: Client, mut steps: Steps<'_>) {
    let t0 = Instant::now();
    let mut now = t0;
    let mut w = Wire::new();
    settle_client(&mut c, &mut w, now);
    while let Some(kind) = steps.next_kind() {
        match kind % 10 {
            0 => {
                w.deliver_request(now);
            }
            1 => deliver_answer(&mut c, &mut w, now),
            2 => open_websocket(&mut c, &mut w, now),
            3 => {
                if c.ws_pending || c.ws_live {
                    break_websocket(&mut c, &mut w, now);
                }
            }
            4 => deliver_to_server(&mut w, now),
            5 => deliver_to_client(&mut c, &mut w, now),
            6 => {
                now += Duration::from_millis(u64::from(steps.u16()));
                c.advance(now);
                if let Some(server) = w.server.as_mut() {
                    let mut fired = 0;
                    while let Some(at) = server.poll_timeout() {
                        if at > now {
                            break;
                        }
                        server.handle_timeout(at);
                        fired += 1;
                        assert!(fired <= 64, "the server's timers keep firing");
                    }
                }
            }
            7 => {
                let arg = steps.byte();
                c.send(1 + arg % 4, false);
            }
            8 => {
                let count = 1 + steps.byte() % 4;
                if let Some(server) = w.server.as_mut() {
                    for _ in 0..count {
                        let was_closed = server.is_closed();
                        server.send_text(format!("s{}", w.server_sent));
                        if !was_closed {
                            w.server_sent += 1;
                        }
                    }
                }
            }
            _ => {
                if steps.byte() & 1 == 0 {
                    c.session.close();
                } else if let Some(server) = w.server.as_mut() {
                    server.close();
                }
            }
        }
        w.drain_server();
        settle_client(&mut c, &mut w, now);
    }
    // The end: everything moves until nothing does, without time passing.
    for round in 0.. {
        assert!(round < 200, "the client and the server do not settle");
        let before = (
            w.requests.len(),
            w.answers.len(),
            w.to_server.len(),
            w.to_client.len(),
            c.ws_pending,
        );
        let mut moved = w.deliver_request(now);
        w.drain_server();
        settle_client(&mut c, &mut w, now);
        while !w.answers.is_empty() {
            deliver_answer(&mut c, &mut w, now);
            moved = true;
            w.drain_server();
            settle_client(&mut c, &mut w, now);
        }
        if c.ws_pending {
            open_websocket(&mut c, &mut w, now);
            moved = true;
            w.drain_server();
            settle_client(&mut c, &mut w, now);
        }
        while !w.to_server.is_empty() {
            deliver_to_server(&mut w, now);
            moved = true;
            w.drain_server();
            settle_client(&mut c, &mut w, now);
        }
        while !w.to_client.is_empty() {
            deliver_to_client(&mut c, &mut w, now);
            moved = true;
            w.drain_server();
            settle_client(&mut c, &mut w, now);
        }
        let after = (
            w.requests.len(),
            w.answers.len(),
            w.to_server.len(),
            w.to_client.len(),
            c.ws_pending,
        );
        if !moved && before == after {
            break;
        }
    }
    if w.server_got_close {
        assert_eq!(
            w.server_got, c.sent,
            "the server got 1 before the client's messages"
        );
    }
    if c.session.is_open() && !w.server_closed {
        assert_eq!(w.server_got, c.sent, "client messages not at the server");
        assert_eq!(
            w.client_got, w.server_sent,
            "server messages not at the client"
        );
    }
}

fn deliver_answer(c: &mut Client, w: &mut Wire, now: Instant) {
    let Some((method, response)) = w.answers.pop_front() else {
        return;
    };
    let out = match method {
        Method::Get => &mut c.get_out,
        Method::Post => &mut c.post_out,
    };
    assert!(core::mem::replace(out, false), "an answer to no {method:?}");
    c.session.handle_response(
        method,
        response.status,
        response.content_type,
        response.body,
        now,
    );
}

fn open_websocket(c: &mut Client, w: &mut Wire, now: Instant) {
    if !c.ws_pending {
        return;
    }
    c.ws_pending = false;
    let query = core::mem::take(&mut c.ws_query);
    let http = server::Request::from_query("GET", &query).with_websocket();
    match w.server.as_mut() {
        None => {
            let (server, opening) = server::Session::accept(&w.config, &http, SID, now)
                .expect("the client's WebSocket handshake is accepted");
            let server::Opening::Frame(frame) = opening else {
                panic!("{opening:?} for a WebSocket handshake")
            };
            w.server = Some(server);
            w.server_ws = true;
            c.ws_live = true;
            c.ws_upgrade = false;
            c.session.handle_websocket_open(now);
            w.to_client.push_back(frame);
        }
        Some(server) => {
            if server.route(&http) == Ok(server::Route::Websocket) && server.handle_websocket(now) {
                w.server_ws = true;
                c.ws_live = true;
                c.ws_upgrade = true;
                c.session.handle_websocket_open(now);
            } else {
                c.session.handle_frame(Frame::Close(None), now);
            }
        }
    }
}

fn break_websocket(c: &mut Client, w: &mut Wire, now: Instant) {
    c.ws_pending = false;
    if c.ws_live {
        c.ws_live = false;
        w.to_server.clear();
        w.to_client.clear();
        if w.server_ws {
            w.server_ws = false;
            if let Some(server) = w.server.as_mut() {
                server.handle_frame(Frame::Close(None), now);
            }
        }
    }
    c.session.handle_frame(Frame::Close(None), now);
}

fn deliver_to_server(w: &mut Wire, now: Instant) {
    let Some(frame) = w.to_server.pop_front() else {
        return;
    };
    if matches!(frame, Frame::Close(_)) {
        // The client ended the WebSocket: the server hears it, and what it still writes is
        // lost.
        w.to_server.clear();
        w.to_client.clear();
        w.server_ws = false;
    }
    if let Some(server) = w.server.as_mut() {
        server.handle_frame(frame, now);
    }
}

fn deliver_to_client(c: &mut Client, w: &mut Wire, now: Instant) {
    let Some(frame) = w.to_client.pop_front() else {
        return;
    };
    if matches!(frame, Frame::Close(_)) {
        w.to_client.clear();
        w.to_server.clear();
        if c.ws_live {
            c.ws_live = false;
            c.session.handle_frame(frame, now);
        }
        return;
    }
    if c.ws_live {
        c.session.handle_frame(frame, now);
    }
}
