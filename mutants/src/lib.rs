#![doc = include_str!("../README.md")]
//!
//! ## How it is built
//!
//! On the codec's sans-IO sessions, like any server built with `sio-codec`: the Engine.IO
//! `Session` does the handshake, polling, upgrade, heartbeat and close, the Socket.IO
//! `Connection` the namespaces, acks and binary packets. A defect is a switch around them
//! (`tamper`): on what goes in (a request read more loosely, a frame dropped), on their
//! settings (timers and limits other than the announced ones), or on what comes out (an open
//! packet, a polling body, a WebSocket frame or a Socket.IO packet rewritten); the
//! application's defects (rooms, broadcasts, acks, ids) are in the contract's handlers.
//! With no mutant, what the server sends is the sessions' output, byte for byte.
//!
//! ## Where the clean server departs from the reference
//!
//! Where the sessions do (see their module docs), each time so that a conformance case
//! passes strictly: a close packet over WebSocket closes the session (the reference ignores
//! it), a missing or unknown `EIO` is refused even though Engine.IO v3 is served (the
//! reference serves it as v3), and Socket.IO v4 ERROR payloads are strings (the reference
//! sends v4 clients an object for an unknown namespace).
//!
//! ## The pieces
//!
//! Named after what they implement: [`server`] (TCP, routing), `http` (one request, one
//! response), `endpoint` (the clients of a path on their sessions, the timers), `polling`
//! and `websocket` (the transports), `contract` (the application of `/socket.io/`),
//! `tamper` (the wire-level defects: settings and open packet, `polling`, `websocket`,
//! `socketio`).

mod contract;
mod endpoint;
mod http;
mod ids;
mod mutant;
mod polling;
pub mod server;
mod settings;
mod tamper;
mod websocket;

pub use mutant::{Mutant, Severity};
pub use settings::Settings;

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, also when another thread panicked while holding it (the state stays
/// usable: every critical section leaves it consistent).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
