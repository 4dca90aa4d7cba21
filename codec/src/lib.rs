#![doc = include_str!("../README.md")]
//!
//! ## Zero-copy model
//!
//! - [`engineio::Packet`] and [`socketio::Packet`] borrow from the input: text data,
//!   namespaces and JSON payloads are `&str` slices of the frame, binary frames are `&[u8]`.
//! - [`engineio::PacketBuf`] and [`socketio::PacketBuf`] are the owned, `'static` forms.
//!   They keep a refcounted [`Utf8Bytes`] / [`bytes::Bytes`] of the received frame plus
//!   positions, so building them copies nothing; `as_packet()` gives the borrowed view back.
//! - Binary attachments are kept as the `Bytes` they arrived in ([`socketio::Reassembler`]).
//! - The one copy in decoding: binary carried as base64 text (`b…` records) is decoded into
//!   a new buffer.
//!
//! ## Errors and offsets
//!
//! A [`DecodeError`] is a `Copy` [`ErrorKind`] plus a byte offset in the input of the call
//! that returned it: the WebSocket frame or the whole polling body for the Engine.IO decoders
//! ([`engineio::Packet::decode_text`], [`engineio::decode_payload`], [`engineio::v3`],
//! [`Protocol::decode_body`]), the Socket.IO text (which starts after the Engine.IO type `4`)
//! for the Socket.IO ones ([`socketio::Packet::decode_text`],
//! [`socketio::Reassembler::push_text`], [`Protocol::decode_socketio`]).
//! [`DecodeError::in_frame`] moves a Socket.IO offset into the frame or body the text was cut
//! from. No decode path panics, and none allocates more than the input bounds.
//!
//! ## Incomplete input
//!
//! Packets are always complete: the transport delimits them (a WebSocket message, a polling
//! record). The only incremental place is attachment reassembly, where waiting is a
//! [`socketio::Progress`] value, never an error.
//!
//! ## Strictness and leniency
//!
//! [`DecodeConfig::new`] accepts exactly what the reference parsers accept (socket.io-parser
//! 4.2.7, engine.io-parser 5.x), quirks included (`2 ["a"]` has ack id 0, an attachment count
//! written `0x1` is 1). Each quirk has a switch, [`DecodeConfig::strict`] turns them all off,
//! and [`DecodeConfig::socketio_v4`] applies the payload rules of protocol v4 ([`Protocol`]
//! applies them by itself on Engine.IO 3). The few places where the default departs from the
//! reference (it would lose data) are listed on [`DecodeConfig`].
#![no_std]
#![warn(clippy::unwrap_used, clippy::expect_used)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod b64;
mod config;
mod encode;
pub mod engineio;
mod error;
mod hex;
mod jsnum;
mod protocol;
pub mod socketio;
mod utf8_bytes;

pub use bytes;
pub use config::DecodeConfig;
pub use encode::{Encode, FrameKind, WireFormat};
pub use error::{DecodeError, ErrorKind};
pub use protocol::{BINARY_BODY, Body, EngineIo, Protocol, SocketIo, TEXT_BODY};
pub use serde_json;
pub use utf8_bytes::Utf8Bytes;
