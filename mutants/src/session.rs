//! Engine.IO sessions: the state one client shares between its HTTP requests and its
//! WebSocket (outbox, transport, upgrade, heartbeat), and the endpoint that owns them.
//!
//! Locking: the session state is a std mutex held only for short, non-async sections. The
//! application ([`App`]) is always called without it, so an application may send to any
//! session while holding its own lock; it must never close a session while holding it
//! (closing calls [`App::on_close`]).

use super::http::Query;
use super::settings::Settings;
use super::{Mutant, lock};
use bytes::Bytes;
use sio_codec::{
    EngineIo, Protocol, Utf8Bytes,
    engineio::{self, Message, PacketBuf},
};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};

/// The transport that carries the session's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Polling,
    Websocket,
}

/// Where a polling session stands in the upgrade to WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// No WebSocket yet.
    Idle,
    /// A WebSocket connected for this session and waits for the probe.
    Attached,
    /// The probe was answered: polling requests are released with a noop.
    Probing,
    /// The session runs on WebSocket (upgraded, or WebSocket from the start).
    Done,
}

/// Why a session ends. Only [`CloseReason::ClientRequest`] changes what is sent (a noop
/// releases the pending GET instead of a close packet); the others document the call sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The client sent a close packet.
    ClientRequest,
    /// No pong (v4) or no ping (v3) in time.
    PingTimeout,
    /// An Engine.IO packet did not decode.
    ParseError,
    /// A packet the protocol forbids here (v4 client ping, v3 pong, Socket.IO errors).
    ProtocolError,
    /// The WebSocket closed, or a pending GET was aborted.
    TransportClosed,
    /// A second GET while one was pending.
    DuplicateGet,
    /// A second POST while one was in flight.
    DuplicatePost,
    /// The Socket.IO connect timeout: no namespace joined.
    ConnectTimeout,
    /// The server stops.
    Shutdown,
}

/// A message delivered to the application.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
    Text(Utf8Bytes),
    Binary(Bytes),
}

/// The application above Engine.IO: the raw echo or Socket.IO.
pub(crate) trait App: Send + Sync {
    /// The session is open (its open packet is on its way).
    fn on_open(&self, session: &Arc<Session>);
    /// A message arrived.
    fn on_message(&self, session: &Arc<Session>, message: Incoming);
    /// The session ended (called once).
    fn on_close(&self, session: &Session);
}

/// One path of the server (`/engine.io/` or `/socket.io/`): its sessions and application.
pub(crate) struct Endpoint {
    pub(crate) settings: Arc<Settings>,
    /// `/socket.io/` (its binary messages are Socket.IO attachments), not the raw echo.
    socket_io: bool,
    app: Arc<dyn App>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").finish_non_exhaustive()
    }
}

impl Endpoint {
    pub(crate) fn new(settings: Arc<Settings>, app: Arc<dyn App>, socket_io: bool) -> Arc<Self> {
        Arc::new(Self {
            settings,
            socket_io,
            app,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// The open session `sid`.
    pub(crate) fn find(&self, sid: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).get(sid).cloned()
    }

    /// Registers a new session and starts its heartbeat. The caller sends the open packet,
    /// then calls [`Session::start`].
    pub(crate) fn open(
        self: &Arc<Self>,
        eio: EngineIo,
        transport: Transport,
        query: Query,
    ) -> Arc<Session> {
        let jsonp = query.get("j").is_some();
        let b64 = jsonp || query.get("b64").is_some_and(|v| !v.is_empty());
        let session = Arc::new(Session {
            sid: super::ids::new_id(),
            protocol: Protocol::new(eio),
            query,
            b64,
            endpoint: Arc::clone(self),
            state: Mutex::new(State {
                transport,
                upgrade: match transport {
                    Transport::Polling => Upgrade::Idle,
                    Transport::Websocket => Upgrade::Done,
                },
                outbox: VecDeque::new(),
                polling_get: false,
                polling_post: false,
                awaiting_pong: false,
                closed: false,
            }),
            changed: Notify::new(),
            heartbeat: Notify::new(),
            closed: watch::Sender::new(false),
        });
        lock(&self.sessions).insert(session.sid.clone(), Arc::clone(&session));
        tokio::spawn(heartbeat(Arc::clone(&session)));
        session
    }

    /// Closes every session (server shutdown).
    pub(crate) fn close_all(&self) {
        let sessions: Vec<_> = lock(&self.sessions).values().cloned().collect();
        for session in sessions {
            session.close(CloseReason::Shutdown);
        }
    }
}

/// One Engine.IO session.
pub(crate) struct Session {
    pub(crate) sid: String,
    /// The session's protocol: the `EIO` of its handshake, the Socket.IO revision that goes
    /// with it, the reference's limits (each transport applies its own size limit with
    /// [`Protocol::with_config`]).
    pub(crate) protocol: Protocol,
    /// The query of the request that opened the session.
    pub(crate) query: Query,
    /// Binary goes out as base64 text (`b64=1`, or a JSONP session).
    pub(crate) b64: bool,
    endpoint: Arc<Endpoint>,
    state: Mutex<State>,
    /// Something changed for the transports: outbox, upgrade state, close.
    changed: Notify,
    /// The heartbeat arrived: a pong (v4, when one is awaited) or a client ping (v3).
    heartbeat: Notify,
    closed: watch::Sender<bool>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sid", &self.sid)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct State {
    transport: Transport,
    upgrade: Upgrade,
    /// Packets waiting for a GET or the WebSocket writer.
    outbox: VecDeque<PacketBuf>,
    /// A polling GET is waiting.
    polling_get: bool,
    /// A polling POST is being read (its body has not fully arrived).
    polling_post: bool,
    /// A ping went out and its pong has not come back.
    awaiting_pong: bool,
    closed: bool,
}

/// Why a polling request is refused (the reference's error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollRefusal {
    /// The session is gone (code 1).
    UnknownSid,
    /// The session runs on WebSocket now (code 3).
    TransportMismatch,
    /// A GET was already pending: the session is closed (400, empty body).
    Duplicate,
}

/// What a pending GET returns.
#[derive(Debug)]
pub(crate) enum PollResult {
    Packets(Vec<PacketBuf>),
    /// Released by an upgrade.
    Noop,
}

impl Session {
    pub(crate) fn settings(&self) -> &Settings {
        &self.endpoint.settings
    }

    fn has(&self, mutant: Mutant) -> bool {
        self.settings().has(mutant)
    }

    /// Whether the session is one of `/socket.io/` (not of the raw Engine.IO echo).
    pub(crate) fn is_socket_io(&self) -> bool {
        self.endpoint.socket_io
    }

    /// Hands the session to the application (after the open packet).
    pub(crate) fn start(self: &Arc<Self>) {
        self.endpoint.app.on_open(self);
    }

    /// Queues packets for the client (dropped when the session is closed).
    pub(crate) fn send(&self, packets: impl IntoIterator<Item = PacketBuf>) {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.outbox.extend(packets);
        }
        self.changed.notify_waiters();
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Resolves once the session is closed.
    pub(crate) fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.closed.subscribe();
        async move {
            let _ = rx.wait_for(|closed| *closed).await;
        }
    }

    /// Ends the session: a waiting GET gets the close packet (a noop when the client asked),
    /// a WebSocket gets a close frame, the application is told. Idempotent.
    pub(crate) fn close(&self, reason: CloseReason) {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.closed = true;
            if reason == CloseReason::ClientRequest {
                state.outbox.clear();
                state
                    .outbox
                    .push_back(PacketBuf::from(&engineio::Packet::Noop));
            } else {
                state
                    .outbox
                    .push_back(PacketBuf::from(&engineio::Packet::Close));
            }
        }
        self.closed.send_replace(true);
        lock(&self.endpoint.sessions).remove(&self.sid);
        self.endpoint.app.on_close(self);
        self.changed.notify_waiters();
    }

    /// Handles a packet from the client (any transport).
    pub(crate) fn receive(self: &Arc<Self>, packet: engineio::Packet<'_>, over_websocket: bool) {
        match packet {
            engineio::Packet::Close => {
                if !(over_websocket && self.has(Mutant::CloseIgnoredOnWebsocket)) {
                    self.close(CloseReason::ClientRequest);
                }
            }
            // v3: the client pings and the server answers (without echoing the data, like
            // the reference); v4: a client ping on the main transport is a protocol error.
            engineio::Packet::Ping(_) => match self.protocol.engineio() {
                EngineIo::V3 => {
                    self.heartbeat.notify_one();
                    self.send([PacketBuf::from(&engineio::Packet::Pong(None))]);
                }
                EngineIo::V4 => self.close(CloseReason::ProtocolError),
            },
            engineio::Packet::Pong(_) => {
                let awaited = {
                    let mut state = lock(&self.state);
                    std::mem::replace(&mut state.awaiting_pong, false)
                };
                if awaited {
                    self.heartbeat.notify_one();
                } else if self.protocol.engineio() == EngineIo::V3 {
                    self.close(CloseReason::ProtocolError);
                }
            }
            engineio::Packet::Message(message) => {
                let incoming = match message {
                    Message::Text(text) => Incoming::Text(Utf8Bytes::from(text)),
                    Message::Binary(bytes) => Incoming::Binary(Bytes::copy_from_slice(&bytes)),
                };
                self.endpoint.app.on_message(self, incoming);
            }
            engineio::Packet::Open(_) | engineio::Packet::Upgrade | engineio::Packet::Noop => {}
        }
    }

    /// Sends a ping and expects a pong.
    fn ping(&self) {
        lock(&self.state).awaiting_pong = true;
        self.send([PacketBuf::from(&engineio::Packet::Ping(None))]);
    }

    /// Waits until `ready` returns something; `ready` runs under the state lock after every
    /// change (and once at the start), so no notification can be missed.
    async fn next_change<T>(&self, mut ready: impl FnMut(&mut State) -> Option<T>) -> T {
        // Bounded by the session: every round waits for a change, and a closed session
        // makes the callers' `ready` return.
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = ready(&mut lock(&self.state)) {
                return value;
            }
            notified.await;
        }
    }

    // ------------------------------------------------------------------ polling

    /// A GET starts waiting.
    pub(crate) fn begin_poll(&self) -> Result<(), PollRefusal> {
        self.begin_request(
            |state| &mut state.polling_get,
            Mutant::ConcurrentGet,
            CloseReason::DuplicateGet,
        )
    }

    /// A POST may be delivered; until [`Session::end_post`], a second one is refused with
    /// [`PollRefusal::Duplicate`] and closes the session (v4 spec: "Should it happen, the
    /// server MUST return an HTTP 400 error status and close the session").
    pub(crate) fn begin_post(&self) -> Result<(), PollRefusal> {
        self.begin_request(
            |state| &mut state.polling_post,
            Mutant::ConcurrentPostAccepted,
            CloseReason::DuplicatePost,
        )
    }

    /// Admits a polling request whose kind (GET or POST) may be active once at a time: the
    /// session must be open and still polling; a second request of the same kind closes it
    /// for `reason`, unless `allowed` (the mutant that lets them overlap) is on.
    fn begin_request(
        &self,
        active: impl FnOnce(&mut State) -> &mut bool,
        allowed: Mutant,
        reason: CloseReason,
    ) -> Result<(), PollRefusal> {
        let duplicate = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(PollRefusal::UnknownSid);
            }
            if state.transport == Transport::Websocket && !self.has(Mutant::PollingAfterUpgrade) {
                return Err(PollRefusal::TransportMismatch);
            }
            let active = active(&mut state);
            let duplicate = *active && !self.has(allowed);
            *active = true;
            duplicate
        };
        if duplicate {
            self.close(reason);
            return Err(PollRefusal::Duplicate);
        }
        Ok(())
    }

    /// The POST begun with [`Session::begin_post`] was read (or its client went away).
    pub(crate) fn end_post(&self) {
        lock(&self.state).polling_post = false;
    }

    /// Waits for what the pending GET returns: the queued packets, or a noop when the
    /// session is being upgraded.
    pub(crate) async fn wait_poll(&self) -> PollResult {
        let release_on_probe = !self.has(Mutant::NoNoopOnUpgrade);
        self.next_change(|state| {
            let released = (state.upgrade == Upgrade::Probing && release_on_probe)
                || state.transport == Transport::Websocket;
            let result = if released && !state.closed {
                PollResult::Noop
            } else if !state.outbox.is_empty() {
                PollResult::Packets(state.outbox.drain(..).collect())
            } else if state.closed {
                PollResult::Packets(vec![PacketBuf::from(&engineio::Packet::Close)])
            } else {
                return None;
            };
            state.polling_get = false;
            Some(result)
        })
        .await
    }

    /// The pending GET went away without an answer.
    pub(crate) fn abandon_poll(&self) {
        lock(&self.state).polling_get = false;
    }

    // ------------------------------------------------------------------ WebSocket

    /// A WebSocket arrives for this polling session: `false` when the session cannot be
    /// upgraded (already upgrading or upgraded, or closed).
    pub(crate) fn attach_websocket(&self) -> bool {
        let mut state = lock(&self.state);
        if state.closed || state.upgrade != Upgrade::Idle {
            return false;
        }
        state.upgrade = Upgrade::Attached;
        true
    }

    /// The probe was answered: release the pending GET.
    pub(crate) fn probed(&self) {
        {
            let mut state = lock(&self.state);
            if state.upgrade == Upgrade::Attached {
                state.upgrade = Upgrade::Probing;
            }
        }
        self.changed.notify_waiters();
    }

    /// The client sent `upgrade`: the WebSocket becomes the transport (`false` when the
    /// session closed meanwhile).
    pub(crate) fn upgraded(&self) -> bool {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return false;
            }
            state.transport = Transport::Websocket;
            state.upgrade = Upgrade::Done;
        }
        self.changed.notify_waiters();
        true
    }

    /// The upgrade failed: polling goes on.
    pub(crate) fn upgrade_failed(&self) {
        {
            let mut state = lock(&self.state);
            if state.upgrade != Upgrade::Done {
                state.upgrade = Upgrade::Idle;
            }
        }
        self.changed.notify_waiters();
    }

    /// Waits for packets to write on the WebSocket; `true` with the last batch when the
    /// session is closed (the trailing close/noop marker is left out: a WebSocket ends with
    /// a close frame).
    pub(crate) async fn wait_outbox(&self) -> (Vec<PacketBuf>, bool) {
        self.next_change(|state| {
            if state.closed {
                let packets = state
                    .outbox
                    .drain(..)
                    .filter(|p| {
                        !matches!(
                            p.packet_type(),
                            engineio::PacketType::Close | engineio::PacketType::Noop
                        )
                    })
                    .collect();
                Some((packets, true))
            } else if state.outbox.is_empty() {
                None
            } else {
                Some((state.outbox.drain(..).collect(), false))
            }
        })
        .await
    }
}

/// The session's heartbeat. v4: a ping every `pingInterval` (counted from the last pong, as
/// the reference does), the session closes when no pong comes within `pingTimeout`. v3: the
/// client pings; the session closes when no ping comes within `pingInterval + pingTimeout`.
/// Ends with the session.
async fn heartbeat(session: Arc<Session>) {
    let settings = session.settings().clone();
    let closed = session.closed();
    tokio::pin!(closed);
    let server_pings =
        session.protocol.engineio() == EngineIo::V4 || settings.has(Mutant::V3ServerPings);
    // Bounded: every round sleeps at least `pingInterval` and the session ends eventually.
    loop {
        let silence = if server_pings {
            let interval = if settings.has(Mutant::SlowPing) {
                settings.ping_interval.saturating_mul(2)
            } else {
                settings.ping_interval
            };
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = &mut closed => return,
            }
            if settings.has(Mutant::NeverPing) {
                continue;
            }
            session.ping();
            if settings.has(Mutant::LatePingTimeout) {
                settings.ping_interval.saturating_add(settings.ping_timeout)
            } else {
                settings.ping_timeout
            }
        } else {
            settings.ping_interval.saturating_add(settings.ping_timeout)
        };
        let answered = tokio::select! {
            answered = tokio::time::timeout(silence, session.heartbeat.notified()) => answered.is_ok(),
            () = &mut closed => return,
        };
        if !answered && !settings.has(Mutant::PongTimeoutIgnored) {
            session.close(CloseReason::PingTimeout);
            return;
        }
    }
}
