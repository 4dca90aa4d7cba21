//! The session state machine; see the module docs for the table of transitions.

use super::body;
use super::{
    CLOSE_MESSAGE_TOO_BIG, CloseReason, Event, Frame, GetOutcome, Jsonp, Opening, Refusal, Request,
    Response, Route, ServerConfig, Target, Transport, classify,
};
use crate::engineio::{Handshake, Message, Packet, PacketBuf, PacketType};
use crate::{DecodeConfig, DecodeError, EngineIo, ErrorKind, Utf8Bytes};
use alloc::{collections::VecDeque, string::String};
use bytes::Bytes;
use std::time::Instant;

/// Where a polling session stands in the upgrade to WebSocket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upgrade {
    /// No WebSocket.
    Idle,
    /// A WebSocket is attached and waits for the probe, until `deadline`.
    Attached { deadline: Instant },
    /// The probe was answered: GETs are released with a noop, until `deadline`.
    Probing { deadline: Instant },
    /// The session runs on WebSocket.
    Done,
}

/// The heartbeat timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Heartbeat {
    /// v4: the next ping goes out at `at`.
    PingAt(Instant),
    /// v4: a ping went out; its pong is due by `deadline`.
    AwaitingPong { deadline: Instant },
    /// v3: the client's next ping is due by `deadline`.
    ClientPingBy(Instant),
}

/// What happens to the WebSocket when the session closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WsEnd {
    /// Write what is queued, then a close frame without status.
    Flush,
    /// The WebSocket is gone: write nothing.
    Gone,
    /// Write only a close frame with this status.
    Status(u16),
}

/// One Engine.IO session on the server side; see the [module docs](super).
#[derive(Debug)]
pub struct Session {
    sid: String,
    revision: EngineIo,
    /// Binary goes out as base64 text (`b64`, or JSONP at the handshake).
    b64: bool,
    config: ServerConfig,
    decode: DecodeConfig,
    transport: Transport,
    upgrade: Upgrade,
    heartbeat: Heartbeat,
    /// Packets for the client, waiting for a GET (polling) or an upgrade to finish.
    outbox: VecDeque<PacketBuf>,
    /// The parked GET (with its JSONP index).
    parked: Option<Jsonp>,
    /// The parked GET's answer, until [`Session::poll_get_response`] takes it.
    get_answer: Option<Response>,
    /// A POST body is being read.
    post_in_flight: bool,
    /// WebSocket frames to write.
    frames: VecDeque<Frame>,
    events: VecDeque<Event>,
    /// [`Session::hold`]: queued packets wait for [`Session::release`].
    held: bool,
    closed: bool,
}

impl Session {
    /// Opens a session for a handshake request (no `sid`; see [`classify`]) with the id
    /// `sid` (the caller generates ids; the reference's are 20 URL-safe characters) at
    /// `now`, and gives the open packet to send: the GET's answer for polling (encoded for
    /// the revision, JSONP when `j` is set), the first frame for WebSocket.
    ///
    /// `upgrades` is `["websocket"]` on polling when WebSocket is enabled, else `[]`;
    /// `maxPayload` is in the v4 open packet (and the v3 one with
    /// [`ServerConfig::max_payload_on_v3`]).
    ///
    /// # Errors
    /// The [`Refusal`] of [`classify`]; a request with a `sid` is [`Refusal::UnknownSid`]
    /// (it is not a handshake).
    pub fn accept(
        config: &ServerConfig,
        request: &Request<'_>,
        sid: &str,
        now: Instant,
    ) -> Result<(Self, Opening), Refusal> {
        let (revision, transport) = match classify(config, request)? {
            Target::Handshake {
                revision,
                transport,
            } => (revision, transport),
            Target::Existing { .. } => return Err(Refusal::UnknownSid),
        };
        let jsonp = request.jsonp.is_some();
        let b64 = jsonp || request.b64.is_some_and(|v| !v.is_empty());
        let heartbeat = match revision {
            EngineIo::V4 => Heartbeat::PingAt(now + config.ping_interval),
            EngineIo::V3 => {
                Heartbeat::ClientPingBy(now + config.ping_interval + config.ping_timeout)
            }
        };
        let session = Self {
            sid: sid.into(),
            revision,
            b64,
            decode: DecodeConfig::new().max_payload(config.max_payload),
            config: config.clone(),
            transport,
            upgrade: match transport {
                Transport::Polling => Upgrade::Idle,
                Transport::Websocket => Upgrade::Done,
            },
            heartbeat,
            outbox: VecDeque::new(),
            parked: None,
            get_answer: None,
            post_in_flight: false,
            frames: VecDeque::new(),
            events: VecDeque::new(),
            held: false,
            closed: false,
        };
        let open = PacketBuf::from(&Packet::Open(session.handshake()));
        let opening = match transport {
            Transport::Polling => Opening::Response(body::encode_get(
                revision,
                b64,
                core::slice::from_ref(&open),
                request.jsonp,
            )),
            Transport::Websocket => Opening::Frame(body::frame(revision, b64, &open)),
        };
        Ok((session, opening))
    }

    /// The open packet's JSON (reference key order).
    fn handshake(&self) -> Handshake<'static> {
        let polling = self.transport == Transport::Polling;
        let upgrades: &[&str] = if polling && self.config.websocket {
            &["websocket"]
        } else {
            &[]
        };
        let millis = |d: core::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let max_payload = (self.revision == EngineIo::V4 || self.config.max_payload_on_v3)
            .then(|| u64::try_from(self.config.max_payload).unwrap_or(u64::MAX));
        Handshake::new(
            &self.sid,
            upgrades,
            millis(self.config.ping_interval),
            millis(self.config.ping_timeout),
            max_payload,
        )
    }

    /// The session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The session's revision.
    pub fn revision(&self) -> EngineIo {
        self.revision
    }

    /// The transport that carries the session now.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether a WebSocket is attached and the upgrade is not finished.
    pub fn is_upgrading(&self) -> bool {
        matches!(
            self.upgrade,
            Upgrade::Attached { .. } | Upgrade::Probing { .. }
        )
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Where a request for this session goes (after [`classify`] gave
    /// [`Target::Existing`] for its `sid`).
    ///
    /// # Errors
    /// [`Refusal::UnknownSid`] once the session is closed; [`Refusal::BadRequest`] for a
    /// polling request (or one with `transport=websocket` but no upgrade) while the session
    /// is not polling.
    pub fn route(&self, request: &Request<'_>) -> Result<Route, Refusal> {
        if self.closed {
            return Err(Refusal::UnknownSid);
        }
        if request.websocket {
            let attachable = self.config.websocket && self.upgrade == Upgrade::Idle;
            return Ok(if attachable {
                Route::Websocket
            } else {
                Route::WebsocketRefused
            });
        }
        if self.transport != Transport::Polling || request.transport != Some("polling") {
            return Err(Refusal::BadRequest);
        }
        Ok(match request.method {
            "GET" => Route::Get,
            "POST" => Route::Post,
            _ => Route::Unsupported,
        })
    }

    // ------------------------------------------------------------------ application

    /// Queues a text message (dropped when the session is closed).
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) {
        self.queue(PacketBuf::from_text(text.into()));
    }

    /// Queues a binary message (dropped when the session is closed).
    pub fn send_binary(&mut self, data: impl Into<Bytes>) {
        self.queue(PacketBuf::from_binary_frame(data.into()));
    }

    fn queue(&mut self, packet: PacketBuf) {
        if self.closed {
            return;
        }
        self.outbox.push_back(packet);
        self.flush();
    }

    /// Holds back what is queued from now on (messages, and the session's own packets) until
    /// [`Session::release`], so that it goes out together: a parked GET is answered with
    /// all of it in one body, where one `send_*` after the other would answer it with the
    /// first message alone (a handler that answers with a CONNECT reply and an event, or an
    /// event and its attachments, sends them in one response). Closing the session releases
    /// it. Call [`Session::release`] before waiting for I/O: nothing held goes out until then.
    pub fn hold(&mut self) {
        self.held = true;
    }

    /// Ends [`Session::hold`]: what was queued goes out (to a parked GET, all of it).
    pub fn release(&mut self) {
        self.held = false;
        self.flush();
    }

    /// Closes the session ([`CloseReason::ServerClose`]): a parked GET gets the outbox and
    /// `1`, a WebSocket transport gets the outbox and a close frame. Idempotent.
    pub fn close(&mut self) {
        self.close_with(CloseReason::ServerClose);
    }

    /// [`Session::close`] with another reason (a layer above that found a protocol error
    /// closes with [`CloseReason::ProtocolError`]); [`CloseReason::ClientRequest`] drops the
    /// outbox and answers a parked GET with `6`, as when the client sent `1`.
    pub fn close_with(&mut self, reason: CloseReason) {
        self.end(reason, WsEnd::Flush);
    }

    /// The next thing the application must see.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------------ polling

    /// A polling GET arrives. It is answered at once when the outbox has packets (or a
    /// probe is under way: `6`), else parked. A second GET while one is parked is refused
    /// (`400`, empty) and closes the session ([`CloseReason::DuplicateGet`]); the parked one
    /// is then answered with the outbox and `1`.
    ///
    /// Polling requests for a closed or upgraded session are answered with their refusal
    /// (as [`Session::route`] would have said).
    pub fn handle_get(&mut self, request: &Request<'_>) -> GetOutcome {
        if let Err(refusal) = self.polling_allowed() {
            return GetOutcome::Answered(refusal.polling_response());
        }
        if self.parked.is_some() {
            self.end(CloseReason::DuplicateGet, WsEnd::Flush);
            return GetOutcome::Answered(Response::empty(400));
        }
        let jsonp = request.jsonp.map(String::from);
        if let Some(packets) = self.get_ready() {
            return GetOutcome::Answered(self.get_body(&packets, jsonp.as_deref()));
        }
        self.parked = Some(jsonp);
        GetOutcome::Parked
    }

    /// The answer to the parked GET, once it has one. Answers come in the order of the
    /// GETs (one is parked at a time).
    pub fn poll_get_response(&mut self) -> Option<Response> {
        let answer = self.get_answer.take();
        if answer.is_some() {
            self.flush_get();
        }
        answer
    }

    /// The parked GET's client went away before its answer: the session closes
    /// ([`CloseReason::TransportClosed`], the reference treats it as a transport error).
    /// Nothing happens when no GET is parked.
    pub fn handle_get_aborted(&mut self) {
        if self.parked.take().is_some() {
            self.end(CloseReason::TransportClosed, WsEnd::Flush);
        }
    }

    /// A POST starts (its body is being read). A second one before
    /// [`Session::handle_post`] (or [`Session::abort_post`]) is refused with `400` and
    /// closes the session ([`CloseReason::DuplicatePost`]); v4 spec: "Should it happen, the
    /// server MUST return an HTTP 400 error status and close the session". Calling it is
    /// optional: [`Session::handle_post`] begins the POST itself when needed.
    ///
    /// # Errors
    /// The response to send instead of reading the body.
    pub fn begin_post(&mut self) -> Result<(), Response> {
        self.polling_allowed().map_err(Refusal::polling_response)?;
        if self.post_in_flight {
            self.end(CloseReason::DuplicatePost, WsEnd::Flush);
            return Err(Response::empty(400));
        }
        self.post_in_flight = true;
        Ok(())
    }

    /// The POST begun with [`Session::begin_post`] ends without a body (its client went
    /// away, or the body could not be read).
    pub fn abort_post(&mut self) {
        self.post_in_flight = false;
    }

    /// A POST body: its packets are handled in order and the answer is `200 ok`. A bad
    /// record closes the session ([`CloseReason::ParseError`]) after the packets before it
    /// (still `200 ok`, as the reference). A v4 POST declared `application/octet-stream`
    /// is `400` and closes the session; a body over `max_payload` is `413` and leaves the
    /// session open. The format: v4 records; v3 XHR2 when declared
    /// `application/octet-stream`, else `len:packet` text; with `j` a JSONP form (`d=`).
    pub fn handle_post(&mut self, request: &Request<'_>, body: Bytes, now: Instant) -> Response {
        if !self.post_in_flight
            && let Err(response) = self.begin_post()
        {
            return response;
        }
        self.post_in_flight = false;
        let octet_stream = request.is_octet_stream();
        if self.revision == EngineIo::V4 && octet_stream {
            self.end(CloseReason::ParseError, WsEnd::Flush);
            return Response::empty(400);
        }
        if body.len() > self.config.max_payload {
            return Response::empty(413);
        }
        let packets = body::decode_post(
            self.revision,
            body,
            octet_stream,
            request.jsonp.is_some(),
            &self.decode,
        );
        for packet in packets {
            if self.closed {
                break;
            }
            match packet {
                Ok(packet) => self.receive(&packet, now),
                Err(_) => self.end(CloseReason::ParseError, WsEnd::Flush),
            }
        }
        Response::ok()
    }

    fn polling_allowed(&self) -> Result<(), Refusal> {
        if self.closed {
            Err(Refusal::UnknownSid)
        } else if self.transport != Transport::Polling {
            Err(Refusal::BadRequest)
        } else {
            Ok(())
        }
    }

    /// What a GET gets now, if anything: a noop while a probe is under way or after the
    /// upgrade, else the whole outbox, else `1` once closed.
    fn get_ready(&mut self) -> Option<alloc::vec::Vec<PacketBuf>> {
        let released = matches!(self.upgrade, Upgrade::Probing { .. } | Upgrade::Done);
        if released && !self.closed {
            Some(alloc::vec![PacketBuf::from(&Packet::Noop)])
        } else if !self.outbox.is_empty() {
            Some(self.outbox.drain(..).collect())
        } else if self.closed {
            Some(alloc::vec![PacketBuf::from(&Packet::Close)])
        } else {
            None
        }
    }

    fn get_body(&self, packets: &[PacketBuf], jsonp: Option<&str>) -> Response {
        body::encode_get(self.revision, self.b64, packets, jsonp)
    }

    /// Answers the parked GET when it can be answered (and the previous answer was taken).
    fn flush_get(&mut self) {
        if self.held || self.parked.is_none() || self.get_answer.is_some() {
            return;
        }
        if let Some(packets) = self.get_ready() {
            let jsonp = self.parked.take().flatten();
            self.get_answer = Some(self.get_body(&packets, jsonp.as_deref()));
        }
    }

    /// Moves what can go out: the outbox to the WebSocket transport, a parked GET's answer.
    fn flush(&mut self) {
        if self.held {
            return;
        }
        if self.transport == Transport::Websocket && !self.closed {
            while let Some(packet) = self.outbox.pop_front() {
                let frame = body::frame(self.revision, self.b64, &packet);
                self.frames.push_back(frame);
            }
        }
        self.flush_get();
    }

    // ------------------------------------------------------------------ WebSocket

    /// A WebSocket arrives for this session (after [`Session::route`] said
    /// [`Route::Websocket`] and the `101` went out) at `now`: it attaches and the upgrade
    /// timer starts. `false` when it cannot attach (closed, already upgrading or upgraded,
    /// WebSocket disabled): close it at once **(reference)**.
    pub fn handle_websocket(&mut self, now: Instant) -> bool {
        if self.closed || !self.config.websocket || self.upgrade != Upgrade::Idle {
            return false;
        }
        self.upgrade = Upgrade::Attached {
            deadline: now + self.config.upgrade_timeout,
        };
        true
    }

    /// A WebSocket message arrives (or the WebSocket closed: [`Frame::Close`]) on the
    /// session's WebSocket, at `now`. Ignored when the session has no WebSocket.
    pub fn handle_frame(&mut self, frame: Frame, now: Instant) {
        if self.closed {
            return;
        }
        let upgrading = self.is_upgrading();
        if !upgrading && self.transport != Transport::Websocket {
            return;
        }
        let is_close = matches!(frame, Frame::Close(_));
        let packet = if is_close {
            None
        } else {
            Some(body::decode_frame(self.revision, frame, &self.decode))
        };
        if upgrading {
            self.upgrade_frame(packet);
            return;
        }
        match packet {
            None => self.end(CloseReason::TransportClosed, WsEnd::Gone),
            Some(Ok(packet)) => self.receive(&packet, now),
            Some(Err(e)) if is_too_large(e) => self.end(
                CloseReason::TransportClosed,
                WsEnd::Status(CLOSE_MESSAGE_TOO_BIG),
            ),
            Some(Err(_)) => self.end(CloseReason::ParseError, WsEnd::Flush),
        }
    }

    /// A frame on the WebSocket that is being upgraded (`None`: it closed): only `2probe`
    /// and `5` keep it.
    fn upgrade_frame(&mut self, packet: Option<Result<PacketBuf, DecodeError>>) {
        let deadline = match self.upgrade {
            Upgrade::Attached { deadline } | Upgrade::Probing { deadline } => deadline,
            Upgrade::Idle | Upgrade::Done => return,
        };
        let Some(packet) = packet else {
            self.upgrade = Upgrade::Idle;
            return;
        };
        match packet.as_ref().map(PacketBuf::as_packet) {
            Ok(Packet::Ping(Some("probe"))) => {
                let pong = PacketBuf::from(&Packet::Pong(Some("probe")));
                let frame = body::frame(self.revision, self.b64, &pong);
                self.frames.push_back(frame);
                self.upgrade = Upgrade::Probing { deadline };
                self.flush_get();
            }
            Ok(Packet::Upgrade) => {
                self.transport = Transport::Websocket;
                self.upgrade = Upgrade::Done;
                self.events.push_back(Event::Upgraded);
                // The parked GET is released with a noop first, then the outbox goes to
                // the WebSocket.
                self.flush_get();
                self.flush();
            }
            _ => self.abandon_upgrade(),
        }
    }

    /// The upgrade failed: the WebSocket is closed, polling goes on.
    fn abandon_upgrade(&mut self) {
        self.upgrade = Upgrade::Idle;
        self.frames.push_back(Frame::Close(None));
    }

    /// The next WebSocket frame to write. After a [`Frame::Close`], the current WebSocket
    /// is finished (an abandoned upgrade, or the session's end).
    pub fn poll_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    // ------------------------------------------------------------------ packets

    /// A packet from the client, over polling or the WebSocket transport.
    fn receive(&mut self, packet: &PacketBuf, now: Instant) {
        match packet.as_packet() {
            Packet::Close => self.end(CloseReason::ClientRequest, WsEnd::Flush),
            // v3: the client pings and the server answers (without echoing the data, like
            // the reference); v4: a client ping on the main transport is a protocol error.
            Packet::Ping(_) => match self.revision {
                EngineIo::V3 => {
                    self.heartbeat = Heartbeat::ClientPingBy(
                        now + self.config.ping_interval + self.config.ping_timeout,
                    );
                    self.queue(PacketBuf::from(&Packet::Pong(None)));
                }
                EngineIo::V4 => self.end(CloseReason::ProtocolError, WsEnd::Flush),
            },
            Packet::Pong(_) => match self.heartbeat {
                Heartbeat::AwaitingPong { .. } => {
                    self.heartbeat = Heartbeat::PingAt(now + self.config.ping_interval);
                }
                Heartbeat::ClientPingBy(_) => self.end(CloseReason::ProtocolError, WsEnd::Flush),
                Heartbeat::PingAt(_) => {}
            },
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
            Packet::Open(_) | Packet::Upgrade | Packet::Noop => {}
        }
    }

    // ------------------------------------------------------------------ time

    /// The next instant [`Session::handle_timeout`] must be called at (`None` once closed).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let heartbeat = match self.heartbeat {
            Heartbeat::PingAt(at) => at,
            Heartbeat::AwaitingPong { deadline } => deadline,
            Heartbeat::ClientPingBy(deadline) => deadline,
        };
        Some(match self.upgrade {
            Upgrade::Attached { deadline } | Upgrade::Probing { deadline } => {
                heartbeat.min(deadline)
            }
            Upgrade::Idle | Upgrade::Done => heartbeat,
        })
    }

    /// Time has come to `now`: the upgrade timeout abandons the upgrade; v4 sends its ping
    /// (its pong is then due by `now + ping_timeout`) or closes for a missing pong; v3
    /// closes for a missing ping. A timer fires when `now` reaches its instant.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Upgrade::Attached { deadline } | Upgrade::Probing { deadline } = self.upgrade
            && now >= deadline
        {
            self.abandon_upgrade();
            self.flush_get();
        }
        match self.heartbeat {
            Heartbeat::PingAt(at) if now >= at => {
                self.heartbeat = Heartbeat::AwaitingPong {
                    deadline: now + self.config.ping_timeout,
                };
                self.queue(PacketBuf::from(&Packet::Ping(None)));
            }
            Heartbeat::AwaitingPong { deadline } | Heartbeat::ClientPingBy(deadline)
                if now >= deadline =>
            {
                self.end(CloseReason::PingTimeout, WsEnd::Flush);
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------------ close

    /// Ends the session once: the outbox gets `1` (or only `6` when the client asked), a
    /// parked GET its answer, the WebSocket (transport or upgrading) its end.
    fn end(&mut self, reason: CloseReason, ws: WsEnd) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.held = false;
        if reason == CloseReason::ClientRequest {
            self.outbox.clear();
            self.outbox.push_back(PacketBuf::from(&Packet::Noop));
        } else {
            self.outbox.push_back(PacketBuf::from(&Packet::Close));
        }
        match self.upgrade {
            Upgrade::Attached { .. } | Upgrade::Probing { .. } => {
                // NOTE(compat): the upgrading WebSocket is closed; polling carries the end.
                self.upgrade = Upgrade::Idle;
                self.frames.push_back(Frame::Close(None));
            }
            Upgrade::Done => match ws {
                WsEnd::Flush => {
                    // A WebSocket ends with a close frame, not with the `1` / `6` markers.
                    while let Some(packet) = self.outbox.pop_front() {
                        if !matches!(packet.packet_type(), PacketType::Close | PacketType::Noop) {
                            let frame = body::frame(self.revision, self.b64, &packet);
                            self.frames.push_back(frame);
                        }
                    }
                    self.frames.push_back(Frame::Close(None));
                }
                WsEnd::Gone => self.outbox.clear(),
                WsEnd::Status(code) => {
                    self.outbox.clear();
                    self.frames.push_back(Frame::Close(Some(code)));
                }
            },
            Upgrade::Idle => {}
        }
        self.events.push_back(Event::Closed(reason));
        self.flush_get();
    }
}

fn is_too_large(error: DecodeError) -> bool {
    matches!(error.kind(), ErrorKind::PayloadTooLarge { .. })
}
