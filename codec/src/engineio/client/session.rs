//! The client session state machine; see the module docs for the table of transitions.

use super::heartbeat::{Due, Heard, Heartbeat, MAX_TIMER_MS};
use super::{ClientConfig, CloseReason, Event, Frame, HttpRequest, Method, Transport};
use crate::engineio::{Handshake, Message, Packet, PacketBuf, wire};
use crate::{DecodeConfig, Encode, EngineIo, Utf8Bytes, WireFormat};
use alloc::{collections::VecDeque, string::String, vec::Vec};
use bytes::Bytes;
use core::time::Duration;
use std::time::Instant;

/// Where the session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the open packet.
    Opening,
    /// The handshake is done.
    Open,
    /// Ended.
    Closed,
}

/// The WebSocket: the handshake transport, the upgrade's, or the main transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ws {
    /// None, and none wanted.
    None,
    /// [`Session::poll_websocket`] gives its query.
    Wanted,
    /// The caller is opening it.
    Connecting,
    /// Upgrade: `2probe` went out; `3probe` is awaited.
    Probing,
    /// Upgrade: `3probe` came; polling finishes what is in flight.
    Pausing,
    /// It carries the session (or, while opening, the handshake).
    Open,
    /// The upgrade was abandoned; no second attempt.
    Gone,
}

/// One Engine.IO session on the client side; see the [module docs](super).
#[derive(Debug)]
pub struct Session {
    config: ClientConfig,
    decode: DecodeConfig,
    phase: Phase,
    transport: Transport,
    ws: Ws,
    heartbeat: Heartbeat,
    sid: Option<String>,
    upgrades: Vec<String>,
    max_payload: Option<u64>,
    /// The polling handshake GET went out.
    handshake_sent: bool,
    get_in_flight: bool,
    post_in_flight: bool,
    /// Packets for the server, in order, waiting for a POST (or the end of an upgrade).
    outbox: VecDeque<PacketBuf>,
    /// Closed by the client on polling: the outbox (ending with `1`) still goes out.
    flush_on_close: bool,
    frames: VecDeque<Frame>,
    events: VecDeque<Event>,
}

impl Session {
    /// A session that has not opened yet: its first request comes from
    /// [`Session::poll_request`] (polling) or [`Session::poll_websocket`] (WebSocket).
    pub fn new(config: ClientConfig) -> Self {
        let heartbeat = Heartbeat::new(config.revision);
        let ws = match config.transport {
            Transport::Polling => Ws::None,
            Transport::Websocket => Ws::Wanted,
        };
        Self {
            decode: DecodeConfig::new().max_payload(config.max_payload),
            transport: config.transport,
            config,
            phase: Phase::Opening,
            ws,
            heartbeat,
            sid: None,
            upgrades: Vec::new(),
            max_payload: None,
            handshake_sent: false,
            get_in_flight: false,
            post_in_flight: false,
            outbox: VecDeque::new(),
            flush_on_close: false,
            frames: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    // ------------------------------------------------------------------ accessors

    /// The session's revision.
    pub fn revision(&self) -> EngineIo {
        self.config.revision
    }

    /// The session id, once open.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The server's ping interval (zero before the open).
    pub fn ping_interval(&self) -> Duration {
        self.heartbeat.interval()
    }

    /// The server's ping timeout (zero before the open).
    pub fn ping_timeout(&self) -> Duration {
        self.heartbeat.timeout().unwrap_or_default()
    }

    /// The largest payload the server accepts, when it said (v4, and modern v3 servers).
    pub fn max_payload(&self) -> Option<u64> {
        self.max_payload
    }

    /// The transports the server offered to upgrade to.
    pub fn upgrades(&self) -> impl Iterator<Item = &str> {
        self.upgrades.iter().map(String::as_str)
    }

    /// The transport that carries the session now.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether the handshake is done and the session has not ended.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Whether an upgrade to WebSocket is under way.
    pub fn is_upgrading(&self) -> bool {
        self.phase == Phase::Open && matches!(self.ws, Ws::Connecting | Ws::Probing | Ws::Pausing)
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// `EIO=…&transport=…[&sid=…][&b64=1]`.
    fn query(&self, transport: Transport) -> String {
        let transport = match transport {
            Transport::Polling => "polling",
            Transport::Websocket => "websocket",
        };
        let mut query = alloc::format!(
            "EIO={}&transport={transport}",
            self.config.revision.number()
        );
        if let Some(sid) = &self.sid {
            query.push_str("&sid=");
            query.push_str(sid);
        }
        if self.config.b64 && self.config.revision == EngineIo::V3 {
            query.push_str("&b64=1");
        }
        query
    }

    // ------------------------------------------------------------------ polling

    /// The next HTTP request to make, if any: the handshake GET, a POST with the outbox, a
    /// GET to receive. Call it until it gives `None`; each request's answer goes to
    /// [`Session::handle_response`].
    pub fn poll_request(&mut self) -> Option<HttpRequest> {
        if self.transport != Transport::Polling {
            return None;
        }
        match self.phase {
            Phase::Opening => {
                if self.handshake_sent {
                    return None;
                }
                self.handshake_sent = true;
                self.get_in_flight = true;
                Some(self.get())
            }
            Phase::Open => {
                if matches!(self.ws, Ws::Pausing | Ws::Open) {
                    return None;
                }
                if let Some(post) = self.post() {
                    return Some(post);
                }
                if self.get_in_flight {
                    return None;
                }
                self.get_in_flight = true;
                Some(self.get())
            }
            Phase::Closed if self.flush_on_close => self.post(),
            Phase::Closed => None,
        }
    }

    fn get(&self) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            query: self.query(Transport::Polling),
            content_type: None,
            body: Bytes::new(),
        }
    }

    /// A POST with the whole outbox, when there is one to send and none in flight.
    fn post(&mut self) -> Option<HttpRequest> {
        if self.post_in_flight || self.outbox.is_empty() {
            return None;
        }
        let count = self.writable();
        let packets: Vec<PacketBuf> = self.outbox.drain(..count).collect();
        let (content_type, body) =
            wire::encode_body(self.config.revision, self.config.b64, &packets);
        self.post_in_flight = true;
        Some(HttpRequest {
            method: Method::Post,
            query: self.query(Transport::Polling),
            content_type: Some(content_type),
            body,
        })
    }

    /// How many packets of the outbox the next POST takes: v4, all of them as long as the
    /// body stays within the server's `maxPayload` (at least one) **(reference:
    /// engine.io-client 6)**; v3, all of them.
    fn writable(&self) -> usize {
        let max = match (self.config.revision, self.max_payload) {
            (EngineIo::V4, Some(max)) => usize::try_from(max).unwrap_or(usize::MAX),
            _ => return self.outbox.len(),
        };
        let mut size = 0usize;
        for (i, packet) in self.outbox.iter().enumerate() {
            let separator = usize::from(i > 0);
            size = size
                .saturating_add(packet.as_packet().encoded_len(WireFormat::Text))
                .saturating_add(separator);
            if i > 0 && size > max {
                return i;
            }
        }
        self.outbox.len()
    }

    /// The answer to a request of [`Session::poll_request`] (`method` says which: one GET
    /// and one POST may be in flight), at `now`: its status, content type and body. A GET's
    /// packets are handled in order; any status but `200` closes the session.
    pub fn handle_response(
        &mut self,
        method: Method,
        status: u16,
        content_type: Option<&str>,
        body: Bytes,
        now: Instant,
    ) {
        let was_in_flight = match method {
            Method::Get => core::mem::replace(&mut self.get_in_flight, false),
            Method::Post => core::mem::replace(&mut self.post_in_flight, false),
        };
        if self.phase == Phase::Closed || !was_in_flight {
            return;
        }
        if status != 200 {
            self.end(CloseReason::HttpStatus(status), true);
            return;
        }
        if method == Method::Get {
            let packets =
                wire::protocol(self.config.revision, &self.decode).decode_body(body, content_type);
            for (i, packet) in packets.enumerate() {
                if self.phase == Phase::Closed {
                    break;
                }
                match (self.phase, packet) {
                    (Phase::Opening, Ok(packet)) if i == 0 => self.handle_open(&packet, now),
                    (Phase::Opening, _) => self.end(CloseReason::BadHandshake, true),
                    (_, Ok(packet)) => self.receive(&packet, now),
                    (_, Err(_)) => self.end(CloseReason::ParseError, true),
                }
            }
            if self.phase == Phase::Opening {
                // An empty body.
                self.end(CloseReason::BadHandshake, true);
            }
        }
        self.finish_pause();
    }

    /// A request of [`Session::poll_request`] failed (no answer: the connection broke): the
    /// session closes ([`CloseReason::TransportClosed`]) unless it already has.
    pub fn handle_request_failed(&mut self, method: Method) {
        match method {
            Method::Get => self.get_in_flight = false,
            Method::Post => self.post_in_flight = false,
        }
        self.end(CloseReason::TransportClosed, true);
    }

    // ------------------------------------------------------------------ WebSocket

    /// The query of a WebSocket to open now (once): the handshake of a WebSocket session,
    /// or `…&sid=…&transport=websocket` for the upgrade. When it cannot be opened, report
    /// it with [`Session::handle_frame`]`(Frame::Close(None), now)`.
    pub fn poll_websocket(&mut self) -> Option<String> {
        if self.ws != Ws::Wanted || self.phase == Phase::Closed {
            return None;
        }
        self.ws = Ws::Connecting;
        Some(self.query(Transport::Websocket))
    }

    /// The WebSocket of [`Session::poll_websocket`] is open: an upgrade starts with
    /// `2probe`; a WebSocket session waits for the open packet.
    pub fn handle_websocket_open(&mut self, _now: Instant) {
        if self.ws != Ws::Connecting {
            return;
        }
        match self.phase {
            Phase::Opening => self.ws = Ws::Open,
            Phase::Open => {
                self.ws = Ws::Probing;
                self.push_frame(&PacketBuf::from(&Packet::Ping(Some("probe"))));
            }
            Phase::Closed => {}
        }
    }

    /// A WebSocket message arrives, or the WebSocket ended ([`Frame::Close`], also when it
    /// could not be opened), at `now`.
    pub fn handle_frame(&mut self, frame: Frame, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        let closed = matches!(frame, Frame::Close(_));
        match (self.ws, self.phase) {
            (Ws::Open, Phase::Opening) => {
                if closed {
                    self.end(CloseReason::TransportClosed, false);
                    return;
                }
                match wire::decode_frame(self.config.revision, frame, &self.decode) {
                    Ok(packet) => self.handle_open(&packet, now),
                    Err(_) => self.end(CloseReason::BadHandshake, true),
                }
            }
            (Ws::Open, _) => {
                if closed {
                    self.end(CloseReason::TransportClosed, false);
                    return;
                }
                match wire::decode_frame(self.config.revision, frame, &self.decode) {
                    Ok(packet) => self.receive(&packet, now),
                    Err(_) => self.end(CloseReason::ParseError, true),
                }
            }
            // The handshake's WebSocket could not be opened (or the caller gave a frame
            // before `handle_websocket_open`): a WebSocket-only session cannot open. Found by
            // the `eio_client_session` fuzz target: it was taken for a failed upgrade, and
            // the session stayed opening forever, without a timer.
            (Ws::Connecting, Phase::Opening) => {
                if closed {
                    self.ws = Ws::Gone;
                    self.end(CloseReason::TransportClosed, false);
                } else {
                    self.end(CloseReason::BadHandshake, true);
                }
            }
            (Ws::Connecting | Ws::Probing | Ws::Pausing, _) => {
                if closed {
                    self.abandon_upgrade(false);
                    return;
                }
                let probe_answer = self.ws == Ws::Probing
                    && wire::decode_frame(self.config.revision, frame, &self.decode)
                        .is_ok_and(|p| p.as_packet() == Packet::Pong(Some("probe")));
                if probe_answer {
                    self.ws = Ws::Pausing;
                    self.finish_pause();
                } else {
                    self.abandon_upgrade(true);
                }
            }
            (Ws::None | Ws::Wanted | Ws::Gone, _) => {}
        }
    }

    /// The next WebSocket frame to write. After a [`Frame::Close`], the current WebSocket is
    /// finished (an abandoned upgrade, or the session's end).
    pub fn poll_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    fn push_frame(&mut self, packet: &PacketBuf) {
        let frame = wire::frame(self.config.revision, self.config.b64, packet);
        self.frames.push_back(frame);
    }

    /// Pausing and nothing in flight any more: `5`, then the outbox, on the WebSocket.
    fn finish_pause(&mut self) {
        if self.phase != Phase::Open
            || self.ws != Ws::Pausing
            || self.get_in_flight
            || self.post_in_flight
        {
            return;
        }
        self.ws = Ws::Open;
        self.transport = Transport::Websocket;
        self.push_frame(&PacketBuf::from(&Packet::Upgrade));
        self.flush();
        self.events.push_back(Event::Upgraded);
    }

    /// The upgrade failed: polling goes on. `close`: the WebSocket is still open and gets a
    /// close frame.
    fn abandon_upgrade(&mut self, close: bool) {
        let open = matches!(self.ws, Ws::Probing | Ws::Pausing);
        self.ws = Ws::Gone;
        if close && open {
            self.frames.push_back(Frame::Close(None));
        }
        self.events.push_back(Event::UpgradeFailed);
    }

    // ------------------------------------------------------------------ packets

    /// The first packet: it must be the open packet.
    fn handle_open(&mut self, packet: &PacketBuf, now: Instant) {
        let Packet::Open(handshake) = packet.as_packet() else {
            self.end(CloseReason::BadHandshake, true);
            return;
        };
        self.open(&handshake, now);
    }

    fn open(&mut self, handshake: &Handshake<'_>, now: Instant) {
        self.sid = Some(handshake.sid().into());
        self.upgrades = handshake.upgrades().map(String::from).collect();
        self.max_payload = handshake.max_payload();
        self.phase = Phase::Open;
        let interval = timer(handshake.ping_interval());
        let timeout = timer(handshake.ping_timeout());
        self.heartbeat.start(interval, Some(timeout), now);
        if self.transport == Transport::Polling
            && self.config.upgrade
            && self.upgrades.iter().any(|u| u == "websocket")
        {
            self.ws = Ws::Wanted;
        }
        self.events.push_back(Event::Open);
        self.flush();
    }

    /// A packet from the server on the main transport.
    fn receive(&mut self, packet: &PacketBuf, now: Instant) {
        match self.heartbeat.handle_packet(&packet.as_packet(), now) {
            Heard::Answer(answer) => return self.queue(answer),
            Heard::Heartbeat => return,
            Heard::Other => {}
        }
        match packet.as_packet() {
            Packet::Close => self.end(CloseReason::ServerClose, true),
            Packet::Message(Message::Text(_)) => {
                if let Some(text) = packet.text() {
                    self.events.push_back(Event::Text(text.clone()));
                }
            }
            Packet::Message(Message::Binary(_)) => {
                if let Some(data) = packet.binary() {
                    self.events.push_back(Event::Binary(data.clone()));
                }
            }
            Packet::Ping(_)
            | Packet::Pong(_)
            | Packet::Open(_)
            | Packet::Upgrade
            | Packet::Noop => {}
        }
    }

    // ------------------------------------------------------------------ application

    /// The next thing the application must see: the open, messages, the upgrade, the close.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Queues a text message (dropped once closed).
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) {
        if self.phase != Phase::Closed {
            self.queue(PacketBuf::from_text(text.into()));
        }
    }

    /// Queues a binary message (dropped once closed).
    pub fn send_binary(&mut self, data: impl Into<Bytes>) {
        if self.phase != Phase::Closed {
            self.queue(PacketBuf::from_binary_frame(data.into()));
        }
    }

    fn queue(&mut self, packet: PacketBuf) {
        self.outbox.push_back(packet);
        self.flush();
    }

    /// On WebSocket, the outbox goes out as frames.
    fn flush(&mut self) {
        if self.transport == Transport::Websocket
            && self.ws == Ws::Open
            && self.phase == Phase::Open
        {
            while let Some(packet) = self.outbox.pop_front() {
                self.push_frame(&packet);
            }
        }
    }

    /// Ends the session ([`CloseReason::ClientClose`]): `1` goes to the server after what is
    /// queued (polling: in a last POST; WebSocket: as a frame, then a close frame).
    pub fn close(&mut self) {
        if self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::Open {
            self.queue(PacketBuf::from(&Packet::Close));
        }
        self.end(CloseReason::ClientClose, true);
    }

    // ------------------------------------------------------------------ time

    /// The next instant [`Session::handle_timeout`] must be called at (`None` before the
    /// open and once closed).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase != Phase::Open {
            return None;
        }
        self.heartbeat.poll_timeout()
    }

    /// Time has come to `now`: v4 closes when the server was silent too long; v3 closes for
    /// a missing pong, or sends its ping. A timer fires when `now` reaches its instant.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase != Phase::Open {
            return;
        }
        match self.heartbeat.handle_timeout(now) {
            Some(Due::Timeout) => self.end(CloseReason::PingTimeout, true),
            Some(Due::Ping(ping)) => self.queue(ping),
            None => {}
        }
    }

    // ------------------------------------------------------------------ close

    /// Ends the session once. `ws_open`: a WebSocket that is still open gets a close frame.
    /// A client close keeps the outbox (it ends with `1`) for the last POST or the WebSocket.
    fn end(&mut self, reason: CloseReason, ws_open: bool) {
        if self.phase == Phase::Closed {
            return;
        }
        let client = reason == CloseReason::ClientClose;
        let was_open = self.phase == Phase::Open;
        self.phase = Phase::Closed;
        self.heartbeat.stop();
        match self.ws {
            Ws::Open => {
                if client {
                    while let Some(packet) = self.outbox.pop_front() {
                        self.push_frame(&packet);
                    }
                }
                if ws_open {
                    self.frames.push_back(Frame::Close(None));
                }
            }
            // An upgrading WebSocket (or one being opened) is dropped.
            Ws::Connecting | Ws::Probing | Ws::Pausing => {
                self.frames.push_back(Frame::Close(None));
            }
            Ws::None | Ws::Wanted | Ws::Gone => {}
        }
        self.ws = Ws::Gone;
        self.flush_on_close = client && self.transport == Transport::Polling && was_open;
        if !self.flush_on_close {
            self.outbox.clear();
        }
        self.events.push_back(Event::Closed(reason));
    }
}

fn timer(millis: u64) -> Duration {
    Duration::from_millis(millis.min(MAX_TIMER_MS))
}
