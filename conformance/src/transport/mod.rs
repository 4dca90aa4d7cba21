//! The runner's I/O layer: targets, TCP/TLS connections, a minimal HTTP/1.1 client, a WebSocket
//! client and the wire transcript.
//!
//! Deadlines and cancellation are the caller's job: wrap any future in `tokio::time::timeout`,
//! and drop it (or `abort()` the task running it) to cancel. Dropping an HTTP request future
//! closes its TCP connection, which is how a pending polling GET is abandoned. Only the connect
//! phase has a built-in deadline ([`tls::Connector::with_connect_timeout`]).

use std::fmt;
use std::io;
use std::time::Duration;

pub mod backlog;
pub mod http;
pub mod target;
pub mod tls;
pub mod transcript;
pub mod ws;

pub use http::{HttpClient, HttpRequest, HttpResponse};
pub use target::{Scheme, Target, TargetError};
pub use tls::{Connector, TransportStream};
pub use transcript::{Dir, Limits, Transcript, WireData, WireEvent, WireKind};
pub use ws::{WsConnect, WsConnection, WsEvent};

/// Failure of a connection, request or WebSocket operation.
#[derive(Debug)]
pub enum TransportError {
    /// Nothing listens on the target port (TCP RST).
    ConnectRefused {
        /// `host:port`.
        addr: String,
    },
    /// Any other connect failure (DNS, unreachable network, …).
    Connect {
        /// `host:port`.
        addr: String,
        /// Underlying error.
        source: io::Error,
    },
    /// A built-in deadline expired.
    Timeout {
        /// Phase that timed out (`"tcp connect"`, `"tls handshake"`).
        during: &'static str,
        /// The deadline.
        after: Duration,
    },
    /// The `--ca-file` could not be read or holds no certificate.
    CaFile {
        /// Path as given.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// TLS setup or handshake failed (e.g. untrusted certificate).
    Tls {
        /// `host:port`.
        addr: String,
        /// One sentence: for a refused certificate what is wrong and what to pass
        /// (`--ca-file`, `--insecure`), else rustls' description.
        message: String,
    },
    /// The request could not be built (header or URI the client refuses to send).
    InvalidRequest(String),
    /// Reading or writing failed after the connection was established.
    Io {
        /// Phase (`"write request"`, `"read response"`, …).
        during: &'static str,
        /// Underlying error.
        source: io::Error,
    },
    /// The server closed the connection before a complete response head arrived.
    ClosedBeforeResponse,
    /// The WebSocket is closed; nothing can be sent any more.
    ConnectionClosed,
    /// The response is not valid HTTP/1.1.
    MalformedResponse(String),
    /// The response body exceeds the configured limit.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// WebSocket handshake or protocol failure other than an HTTP rejection.
    WebSocket(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectRefused { addr } => write!(f, "connection to {addr} refused"),
            Self::Connect { addr, source } => write!(f, "cannot connect to {addr}: {source}"),
            Self::Timeout { during, after } => write!(f, "{during} timed out after {after:?}"),
            Self::CaFile { path, message } => write!(f, "CA file {path}: {message}"),
            Self::Tls { addr, message } => write!(f, "TLS with {addr} failed: {message}"),
            Self::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            Self::Io { during, source } => write!(f, "{during} failed: {source}"),
            Self::ClosedBeforeResponse => {
                write!(f, "server closed the connection before sending a response")
            }
            Self::ConnectionClosed => write!(f, "the WebSocket connection is closed"),
            Self::MalformedResponse(m) => write!(f, "malformed HTTP response: {m}"),
            Self::BodyTooLarge { limit } => {
                write!(f, "response body exceeds the limit of {limit} bytes")
            }
            Self::WebSocket(m) => write!(f, "WebSocket error: {m}"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
