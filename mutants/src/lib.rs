#![doc = include_str!("../README.md")]
//!
//! ## Where the clean server departs from the reference
//!
//! On purpose, each time so that a conformance case passes strictly: a close packet over
//! WebSocket closes the session (the reference ignores it), a missing or unknown `EIO` is
//! refused even though Engine.IO v3 is served (the reference serves it as v3), and Socket.IO
//! v4 ERROR payloads are strings (the reference sends v4 clients an object for an unknown
//! namespace). It also does not refuse a second POST while one is in flight (the reference
//! closes the session).
//!
//! ## The pieces
//!
//! Named after what they implement: [`server`] (TCP, routing), `http` (one request, one
//! response), `handshake` (request checks, open packet), `session` (Engine.IO session state
//! and heartbeat), `polling` and `websocket` (the transports), `echo` (`/engine.io/`),
//! `socketio` (`/socket.io/`), `namespace` (namespaces, rooms and the contract's handlers),
//! `packet` (encoding what the server sends).

mod echo;
mod handshake;
mod http;
mod ids;
mod mutant;
mod namespace;
mod packet;
mod polling;
pub mod server;
mod session;
mod settings;
mod socketio;
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
