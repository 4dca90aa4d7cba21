//! The clients of one path of the server, `/socket.io/` (Socket.IO) or `/engine.io/` (the raw
//! echo of docs/contract.md §2.1), each on the codec's sans-IO sessions: the Engine.IO
//! [`Session`] and, for Socket.IO, the [`Connection`] with the contract's [`App`] above it.
//!
//! Each client's state sits behind one lock, held only for short, non-async sections; a task
//! per client waits on its timers, a parked GET or a WebSocket waits for [`Client::wake`].
//! Events are handed to the application by [`Endpoint::pump`], one client's packet (and every
//! emit it causes, to every recipient) at a time across the endpoint (contract §3.4).

use crate::contract::{App, Delivery, Effect};
use crate::http::Query;
use crate::tamper::{self, Poll};
use crate::{Mutant, Settings, lock};
use sio_codec::engineio::server::{self as eio, Opening, Request, Session};
use sio_codec::socketio::server::{self as sio, Connection, Message};
use sio_codec::socketio::{Assembled, OutFrame};
use sio_codec::{EngineIo, Protocol, Utf8Bytes};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::Notify;

/// One path of the server and its clients by session id.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) settings: Arc<Settings>,
    /// Socket.IO on top (else the Engine.IO echo).
    pub(crate) socket_io: bool,
    clients: Mutex<HashMap<String, Arc<Client>>>,
    /// Held while events are handed to the application.
    serial: Mutex<()>,
}

/// One client: an Engine.IO session with the application state above it.
#[derive(Debug)]
pub(crate) struct Client {
    state: Mutex<State>,
    /// Something changed: a parked GET may have its answer, a WebSocket frames to write, the
    /// timers a new deadline.
    pub(crate) wake: Notify,
}

/// A client's state.
#[derive(Debug)]
pub(crate) struct State {
    settings: Arc<Settings>,
    pub(crate) eio: Session,
    /// The Socket.IO connection and the contract's state (none on the echo endpoint).
    sio: Option<(Connection, App)>,
    /// The session's protocol (for the defects that decode what the session writes).
    pub(crate) protocol: Protocol,
    /// The client takes binary as base64 text (`b64=1` or JSONP at the handshake).
    pub(crate) b64: bool,
    /// A request waits for the session's parked GET.
    pub(crate) get_parked: bool,
    /// `cancelled-get-ignored`: the session's parked GET lost its client, and the next GET
    /// takes its place.
    pub(crate) get_orphaned: bool,
    /// `v3-server-pings`: when the next one is due, and how many wait to be written.
    next_ping: Option<Instant>,
    pub(crate) owed_pings: usize,
}

impl Client {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Waits until `ready` returns something. It runs under the lock once at the start and
    /// after every wake, so no change is missed.
    pub(crate) async fn wait_until<T>(&self, mut ready: impl FnMut(&mut State) -> Option<T>) -> T {
        // Bounded by the session: every round waits for a change, and once the session is
        // closed the callers' `ready` returns.
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let value = ready(&mut self.lock());
            if let Some(value) = value {
                return value;
            }
            woken.await;
        }
    }
}

impl State {
    /// The pings owed to the client, taken.
    pub(crate) fn take_pings(&mut self) -> usize {
        std::mem::take(&mut self.owed_pings)
    }

    /// What a GET answer of this client is written for.
    pub(crate) fn poll<'a>(&self, jsonp: Option<&'a str>) -> Poll<'a> {
        Poll {
            revision: self.eio.revision(),
            b64: self.b64,
            jsonp,
        }
    }
}

impl Endpoint {
    pub(crate) fn new(settings: Arc<Settings>, socket_io: bool) -> Arc<Self> {
        Arc::new(Self {
            settings,
            socket_io,
            clients: Mutex::default(),
            serial: Mutex::new(()),
        })
    }

    /// The client of session `sid`.
    pub(crate) fn lookup(&self, sid: &str) -> Option<Arc<Client>> {
        lock(&self.clients).get(sid).cloned()
    }

    /// A new session for a handshake of `revision`, its timers running.
    pub(crate) fn open(
        self: &Arc<Self>,
        request: &Request<'_>,
        query: &Query,
        revision: EngineIo,
    ) -> Result<(Arc<Client>, Opening), eio::Refusal> {
        let settings = &self.settings;
        let now = Instant::now();
        let sid = crate::ids::new_id();
        let config = tamper::session_config(settings, revision);
        let (session, opening) = Session::accept(&config, request, &sid, now)?;
        let protocol = Protocol::new(revision);
        let sio = self.socket_io.then(|| {
            let timeout = tamper::connect_timeout(settings);
            let app = App::new(Arc::clone(settings), &sid, query.to_json());
            (Connection::new(protocol, now, timeout), app)
        });
        let server_pings = revision == EngineIo::V3 && settings.has(Mutant::V3ServerPings);
        let state = State {
            settings: Arc::clone(settings),
            eio: session,
            sio,
            protocol,
            b64: request.jsonp.is_some() || request.b64.is_some_and(|v| !v.is_empty()),
            get_parked: false,
            get_orphaned: false,
            next_ping: server_pings.then(|| now + settings.ping_interval),
            owed_pings: 0,
        };
        let client = Arc::new(Client {
            state: Mutex::new(state),
            wake: Notify::new(),
        });
        lock(&self.clients).insert(sid, Arc::clone(&client));
        // Socket.IO v4 joins `/` by itself: its CONNECT reply is queued after the open packet.
        self.pump(&client);
        tokio::spawn(timers(Arc::clone(self), Arc::clone(&client)));
        Ok((client, opening))
    }

    /// Hands the client's events to the layers above, and whatever a handler sends to other
    /// clients to them (with no two clients locked at once), until nothing is left; then
    /// wakes whoever waits on the client.
    pub(crate) fn pump(&self, client: &Arc<Client>) {
        let _serial = lock(&self.serial);
        // Bounded: every round takes an event, and handling one adds a bounded number.
        loop {
            let (deliveries, more) = {
                let mut state = client.lock();
                let event = state.eio.poll_event();
                let deliveries = match &event {
                    Some(event) => state.on_event(event),
                    // What the Socket.IO connection has to say without a message (v4's `/`,
                    // a timeout).
                    None => state.socketio(),
                };
                if let Some(eio::Event::Closed(_)) = event {
                    lock(&self.clients).remove(state.eio.sid());
                }
                (deliveries, event.is_some())
            };
            for delivery in &deliveries {
                self.deliver(delivery);
            }
            if !more && deliveries.is_empty() {
                break;
            }
        }
        client.wake.notify_waiters();
    }

    /// Sends a namespace-wide or room emit to every client it reaches, the sender included.
    fn deliver(&self, delivery: &Delivery) {
        let clients: Vec<_> = lock(&self.clients).values().cloned().collect();
        for client in clients {
            let mut state = client.lock();
            let State { eio, sio, .. } = &mut *state;
            let Some((sio, app)) = sio else { continue };
            app.receive(sio, delivery);
            flush(&self.settings, eio, sio, app);
            drop(state);
            client.wake.notify_waiters();
        }
    }

    /// Closes every session (the server stops).
    pub(crate) fn close_all(&self) {
        let clients: Vec<_> = lock(&self.clients).values().cloned().collect();
        for client in clients {
            client.lock().eio.close();
            self.pump(&client);
        }
    }
}

impl State {
    /// One Engine.IO event: the echo sends messages back, Socket.IO takes them.
    fn on_event(&mut self, event: &eio::Event) -> Vec<Delivery> {
        let message = match event.clone() {
            eio::Event::Text(text) => Message::Text(text),
            eio::Event::Binary(data) => Message::Binary(data),
            eio::Event::Upgraded | eio::Event::Closed(_) => return Vec::new(),
        };
        let Some((sio, app)) = &mut self.sio else {
            match message {
                Message::Text(text) => self.eio.send_text(text),
                Message::Binary(data) => self.eio.send_binary(data),
            }
            return Vec::new();
        };
        let settings = &self.settings;
        let mut effects = Vec::new();
        match message {
            // `malformed-sio-kept`: a packet that does not decode is dropped, not refused.
            Message::Text(text)
                if settings.has(Mutant::MalformedSioKept)
                    && (text.is_empty() || self.protocol.decode_socketio(&text).is_err()) => {}
            Message::Text(text) => {
                match left_namespace_event(settings, self.protocol, sio, app, &text) {
                    Some(effect) => effects.extend(effect),
                    None => sio.handle_message(Message::Text(text)),
                }
            }
            binary => sio.handle_message(binary),
        }
        let mut deliveries = self.apply(effects);
        deliveries.extend(self.socketio());
        deliveries
    }

    /// The Socket.IO connection's events to the application, its messages into the
    /// session's outbox; a connection that must close closes the session.
    fn socketio(&mut self) -> Vec<Delivery> {
        let Some((sio, app)) = &mut self.sio else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        let mut close = None;
        while let Some(event) = sio.poll_event() {
            if let sio::Event::Close(reason) = event {
                close = Some(match reason {
                    sio::CloseReason::ParseError => eio::CloseReason::ParseError,
                    _ => eio::CloseReason::ProtocolError,
                });
            } else {
                effects.extend(app.handle(sio, event, crate::ids::new_id));
            }
        }
        let deliveries = self.apply(effects);
        if let Some(reason) = close {
            self.eio.close_with(reason);
        }
        deliveries
    }

    /// Flushes what the application wrote; closes the session for a
    /// [`Effect::CloseSession`]; returns the deliveries to other clients.
    fn apply(&mut self, effects: Vec<Effect>) -> Vec<Delivery> {
        if let Some((sio, app)) = &mut self.sio {
            flush(&self.settings, &mut self.eio, sio, app);
        }
        let mut deliveries = Vec::new();
        for effect in effects {
            match effect {
                Effect::Deliver(delivery) => deliveries.push(delivery),
                Effect::CloseSession => self.eio.close_with(eio::CloseReason::ProtocolError),
            }
        }
        deliveries
    }
}

/// `events-after-disconnect`: an EVENT for a namespace the client left is handled by the
/// application instead of the connection (which would close the session).
fn left_namespace_event(
    settings: &Settings,
    protocol: Protocol,
    sio: &mut Connection,
    app: &mut App,
    text: &Utf8Bytes,
) -> Option<Option<Effect>> {
    if !settings.has(Mutant::EventsAfterDisconnect) {
        return None;
    }
    let packet = protocol.decode_socketio(text).ok()?;
    let assembled = Assembled::new(packet, Vec::new()).ok()?;
    app.left_namespace_event(sio, &assembled)
}

/// The Socket.IO connection's messages (and the application's own) go into the session's
/// outbox, as the mutant writes them.
fn flush(settings: &Settings, eio: &mut Session, sio: &mut Connection, app: &mut App) {
    let mut frames: Vec<OutFrame> = std::iter::from_fn(|| sio.poll_message()).collect();
    frames.append(&mut app.extra);
    tamper::socketio_out(settings, sio.protocol(), &mut frames);
    // What one packet's handling sends goes out together (one GET answer).
    eio.hold();
    for frame in frames {
        match frame {
            OutFrame::Text(text) => eio.send_text(text),
            OutFrame::Binary(data) => eio.send_binary(data),
        }
    }
    eio.release();
}

/// Waits for the client's next deadline and hands the time in, until the session closes.
async fn timers(endpoint: Arc<Endpoint>, client: Arc<Client>) {
    let interval = endpoint.settings.ping_interval;
    // Bounded by the session: it ends when the session is closed.
    loop {
        let woken = client.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let deadline = {
            let state = client.lock();
            if state.eio.is_closed() {
                return;
            }
            let sio = state.sio.as_ref().and_then(|(sio, _)| sio.poll_timeout());
            [state.eio.poll_timeout(), sio, state.next_ping]
                .into_iter()
                .flatten()
                .min()
        };
        let Some(deadline) = deadline else {
            woken.await;
            continue;
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline.into()) => {
                let now = Instant::now();
                {
                    let mut state = client.lock();
                    state.eio.handle_timeout(now);
                    if let Some((sio, _)) = &mut state.sio {
                        sio.handle_timeout(now);
                    }
                    if let Some(due) = state.next_ping.filter(|due| *due <= now) {
                        state.owed_pings += 1;
                        state.next_ping = Some(due + interval);
                    }
                }
                endpoint.pump(&client);
            }
            () = &mut woken => {}
        }
    }
}
