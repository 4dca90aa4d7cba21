//! The clients of an endpoint: each one's Engine.IO session and Socket.IO connection behind
//! one lock, the pump that hands their events to the application, and the task that hands
//! them the time. Everything here is bookkeeping around the sessions' `handle_*` / `poll_*`.

use crate::contract::{App, Delivery};
use sio_codec::Protocol;
use sio_codec::engineio::server::{self as eio, Frame, Opening, Request, ServerConfig, Session};
use sio_codec::socketio::OutFrame;
use sio_codec::socketio::server::{self as sio, Connection, Message as SioMessage};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// One endpoint (`/socket.io/` or `/engine.io/`) and its sessions by id.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// Socket.IO on top (else the Engine.IO echo).
    pub(crate) socketio: bool,
    pub(crate) config: ServerConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) clients: Mutex<HashMap<String, Arc<Client>>>,
}

/// One Engine.IO session with the application state above it.
#[derive(Debug)]
pub(crate) struct Client {
    state: Mutex<State>,
    /// Something changed: a parked GET may have its answer, a WebSocket frames to write, the
    /// timer a new deadline.
    pub(crate) wake: Notify,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) eio: Session,
    /// The Socket.IO connection and the contract's state (none on the echo endpoint).
    sio: Option<(Connection, App)>,
}

impl Client {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next WebSocket frame to write (the lock is not held while it is written).
    pub(crate) fn poll_frame(&self) -> Option<Frame> {
        self.lock().eio.poll_frame()
    }
}

impl Endpoint {
    pub(crate) fn lookup(&self, sid: &str) -> Option<Arc<Client>> {
        self.clients.lock().ok()?.get(sid).cloned()
    }

    /// Hands the session's events to the layers above, one at a time, and whatever a handler
    /// sends to other clients to them (with no two clients locked at once), until nothing is
    /// left; then wakes whoever waits on the client.
    pub(crate) fn pump(&self, client: &Arc<Client>) {
        loop {
            let (deliveries, more) = {
                let mut state = client.lock();
                let event = state.eio.poll_event();
                let deliveries = match &event {
                    Some(event) => self.on_event(&mut state, event),
                    None => Vec::new(),
                };
                if let Some(eio::Event::Closed(_)) = event {
                    self.clients
                        .lock()
                        .map(|mut c| c.remove(state.eio.sid()))
                        .ok();
                }
                (deliveries, event.is_some())
            };
            deliveries.iter().for_each(|d| self.deliver(d));
            if !more {
                break;
            }
        }
        client.wake.notify_waiters();
    }

    /// One Engine.IO event: the echo sends messages back, Socket.IO takes them.
    fn on_event(&self, state: &mut State, event: &eio::Event) -> Vec<Delivery> {
        let message = match event.clone() {
            eio::Event::Text(text) => SioMessage::Text(text),
            eio::Event::Binary(data) => SioMessage::Binary(data),
            eio::Event::Upgraded | eio::Event::Closed(_) => return Vec::new(),
        };
        match &mut state.sio {
            Some((sio, _)) => sio.handle_message(message),
            None => match message {
                SioMessage::Text(text) => state.eio.send_text(text),
                SioMessage::Binary(data) => state.eio.send_binary(data),
            },
        }
        state.socketio()
    }

    /// Sends a namespace-wide or room emit to every client it reaches, the sender included.
    fn deliver(&self, delivery: &Delivery) {
        let clients: Vec<_> = match self.clients.lock() {
            Ok(clients) => clients.values().cloned().collect(),
            Err(_) => return,
        };
        for client in clients {
            let mut state = client.lock();
            let State { eio, sio } = &mut *state;
            let Some((sio, app)) = sio else { continue };
            let ns = delivery.namespace.as_str();
            if app.sockets.get(ns).is_some_and(|s| delivery.reaches(s)) {
                sio.emit(ns, &delivery.args, false).ok();
                flush(eio, sio);
                drop(state);
                client.wake.notify_waiters();
            }
        }
    }

    /// A new session for a handshake, its timers running.
    pub(crate) fn open(
        self: &Arc<Self>,
        request: &Request<'_>,
        query: &str,
    ) -> Result<(Arc<Client>, Opening), eio::Refusal> {
        let now = Instant::now();
        let sid = random_id();
        let (session, opening) = Session::accept(&self.config, request, &sid, now)?;
        let sio = self.socketio.then(|| {
            let protocol = Protocol::new(session.revision());
            (
                Connection::new(protocol, now, self.connect_timeout),
                App::new(query),
            )
        });
        let client = Arc::new(Client {
            state: Mutex::new(State { eio: session, sio }),
            wake: Notify::new(),
        });
        if let Ok(mut clients) = self.clients.lock() {
            clients.insert(sid, client.clone());
        }
        // Socket.IO v4 joins `/` by itself: its CONNECT reply is queued after the open packet.
        self.socketio_events(&client);
        tokio::spawn(timers(self.clone(), client.clone()));
        Ok((client, opening))
    }

    /// What the Socket.IO connection has to say without a message (v4's `/`, a timeout).
    fn socketio_events(&self, client: &Arc<Client>) {
        let deliveries = client.lock().socketio();
        deliveries.iter().for_each(|d| self.deliver(d));
        self.pump(client);
    }
}

impl State {
    /// The Socket.IO connection's events to the application, its messages into the
    /// session's outbox; a connection that must close closes the session.
    fn socketio(&mut self) -> Vec<Delivery> {
        let Some((sio, app)) = &mut self.sio else {
            return Vec::new();
        };
        let mut deliveries = Vec::new();
        while let Some(event) = sio.poll_event() {
            if let sio::Event::Close(reason) = event {
                self.eio.close_with(match reason {
                    sio::CloseReason::ParseError => eio::CloseReason::ParseError,
                    _ => eio::CloseReason::ProtocolError,
                });
            } else {
                deliveries.extend(app.handle(sio, event, random_id));
            }
        }
        flush(&mut self.eio, sio);
        deliveries
    }
}

/// The Socket.IO connection's messages go into the session's outbox, together: a packet
/// and its attachments, a CONNECT reply and the event after it, answer one GET.
fn flush(eio: &mut Session, sio: &mut Connection) {
    eio.hold();
    while let Some(frame) = sio.poll_message() {
        match frame {
            OutFrame::Text(text) => eio.send_text(text),
            OutFrame::Binary(data) => eio.send_binary(data),
        }
    }
    eio.release();
}

/// Waits for the session's next deadline and hands the time in, until the session closes.
async fn timers(endpoint: Arc<Endpoint>, client: Arc<Client>) {
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
            [state.eio.poll_timeout(), sio].into_iter().flatten().min()
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
                }
                endpoint.socketio_events(&client);
            }
            () = &mut woken => {}
        }
    }
}

/// 20 URL-safe random characters (session and socket ids; a counter makes repeats
/// impossible within a run).
fn random_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one(count);
    let mut bits = u128::from(random) | u128::from(count) << 64;
    (0..20)
        .map(|_| {
            let c = ALPHABET[(bits & 63) as usize] as char;
            bits >>= 6;
            c
        })
        .collect()
}
