//! A zero-copy, sans-IO codec for the Engine.IO (v3, v4) and Socket.IO (v4, v5) wire
//! protocols: packets, HTTP long-polling payloads and binary attachments, decoded into
//! borrowed views and encoded byte-for-byte like the JavaScript reference.
//!
//! The crate never touches a socket or a clock: callers hand it complete frames (a WebSocket
//! message, a polling body) and get packets back, or hand it packets and get bytes.
//!
//! # Zero-copy model
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
//! # Decoding
//!
//! ```
//! use sio_codec::{engineio, socketio};
//!
//! // A WebSocket text frame: Engine.IO message carrying a Socket.IO event with an ack id.
//! let frame = r#"42/chat,7["message",{"text":"hi"}]"#;
//! let engineio::Packet::Message(engineio::Message::Text(text)) = engineio::Packet::decode_text(frame)? else {
//!     unreachable!()
//! };
//! let packet = socketio::Packet::decode_text(text)?;
//! assert_eq!(packet.packet_type(), socketio::PacketType::Event);
//! assert_eq!(packet.namespace().as_str(), "/chat");
//! assert_eq!(packet.id().map(|id| id.get()), Some(7));
//! let (event, body): (&str, serde_json::Value) = packet.data().unwrap().deserialize().unwrap();
//! assert_eq!((event, body["text"].as_str()), ("message", Some("hi")));
//! # Ok::<(), sio_codec::DecodeError>(())
//! ```
//!
//! Every decode path returns a [`DecodeError`] (a `Copy` kind plus the byte offset in the
//! input of the call: the frame or body for Engine.IO, the Socket.IO text for Socket.IO,
//! which [`DecodeError::in_frame`] moves into the frame) on malformed input; none panics and
//! none allocates more than the input bounds.
//!
//! # Encoding
//!
//! ```
//! use sio_codec::{Encode, WireFormat, engineio, socketio};
//!
//! let args = socketio::RawJson::new(r#"["message",1]"#).unwrap();
//! let event = socketio::Packet::event(socketio::Namespace::ROOT, args, None).unwrap();
//! let text = event.to_text();
//! let (_, frame) = engineio::Packet::text(&text).to_bytes(WireFormat::Text);
//! assert_eq!(&frame[..], br#"42["message",1]"#);
//! ```
//!
//! Encoders write into any [`bytes::BufMut`] and report their exact size beforehand
//! (`encoded_len`). Output is canonical: for any input the reference encoder could have
//! produced, `encode(decode(x)) == x`.
//!
//! # Polling payloads
//!
//! ```
//! use sio_codec::{DecodeConfig, engineio::{self, Packet}};
//! let body = b"4hello\x1e2\x1ebAQIDBA==";
//! let packets = engineio::decode_payload(body, &DecodeConfig::new())
//!     .collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(packets[2], Packet::binary(&[1, 2, 3, 4]));
//! let mut out = Vec::new();
//! engineio::encode_payload(&packets, &mut out)?; // SeparatorInPacket
//! assert_eq!(out, body);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Engine.IO v3's `len:packet` text payloads (lengths in UTF-16 units) and XHR2 binary
//! payloads are in [`engineio::v3`].
//!
//! # Binary attachments
//!
//! ```
//! use sio_codec::{Utf8Bytes, bytes::Bytes, socketio::{Progress, Reassembler}};
//! let mut reassembler = Reassembler::default();
//! let header = Utf8Bytes::from_static(r#"51-["upload",{"_placeholder":true,"num":0}]"#);
//! reassembler.push_text(&header)?; // NeedAttachments { remaining: 1 }
//! let attachment = Bytes::from_static(&[1, 2, 3]);
//! let Progress::Complete(upload) = reassembler.push_binary(attachment.clone())? else { unreachable!() };
//! assert_eq!(upload.attachments()[0].as_ptr(), attachment.as_ptr()); // not copied
//! # Ok::<(), sio_codec::DecodeError>(())
//! ```
//!
//! # Errors
//!
//! Every public error type implements [`core::error::Error`] (which is `std::error::Error`)
//! and `Display`, with or without the `std` feature: [`DecodeError`] from the decoders,
//! [`ErrorKind`] from the validating constructors, [`engineio::SeparatorInPacket`] from the
//! v4 polling payload encoder, [`socketio::ValueError`] from typed encoding. All of them go
//! through `?` into a `Box<dyn std::error::Error>`:
//!
//! ```
//! use sio_codec::{engineio, socketio};
//!
//! fn build() -> Result<(), Box<dyn std::error::Error>> {
//!     let frame = engineio::Packet::decode_text("4hello")?; // DecodeError
//!     let namespace = socketio::Namespace::new("/chat")?; // ErrorKind
//!     let args = socketio::RawJson::new(r#"["message",1]"#)?; // ErrorKind
//!     let event = socketio::Packet::event(namespace, args, None)?; // ErrorKind
//!     let typed = socketio::Assembled::event(namespace, &("message", 1), None)?; // ValueError
//!     engineio::encode_payload(&[frame], &mut Vec::new())?; // SeparatorInPacket
//!     let _ = (event, typed);
//!     Ok(())
//! }
//! build().unwrap();
//! assert!(socketio::Namespace::new("admin").map_err(Box::<dyn std::error::Error>::from).is_err());
//! ```
//!
//! # Incomplete input
//!
//! Packets are always complete: the transport delimits them (a WebSocket message, a polling
//! record). The only incremental place is attachment reassembly, where waiting is a
//! [`socketio::Progress`] value, never an error.
//!
//! # Strictness and leniency
//!
//! [`DecodeConfig::new`] accepts exactly what the reference parsers accept (socket.io-parser
//! 4.2.7, engine.io-parser 5.x), quirks included (`2 ["a"]` has ack id 0, an attachment count
//! written `0x1` is 1). Each quirk has a switch, [`DecodeConfig::strict`] turns them all off,
//! and [`DecodeConfig::socketio_v4`] applies the payload rules of protocol v4. The few places
//! where the default departs from the reference (it would lose data) are listed on
//! [`DecodeConfig`].
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `std` | yes | typed encoding with attachments ([`socketio::Assembled::event`] and [`socketio::Assembled::ack`], [`socketio::to_js_json`]). Without it the crate is `no_std` + `alloc`. |
//!
//! # Conformance
//!
//! Every golden vector produced by the reference encoders and every frame captured from the
//! reference server (`fixtures/codec/` in the repository) decodes and re-encodes byte for
//! byte in the test suite.
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
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod hex;
mod jsnum;
mod names;
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

/// The crate README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
