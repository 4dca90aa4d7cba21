//! Engine.IO: the transport layer under Socket.IO.
//!
//! | id | name    | use |
//! |----|---------|-----|
//! | 0  | open    | server → client, handshake JSON ([`Handshake`]) |
//! | 1  | close   | ask to close the transport/session |
//! | 2  | ping    | v4: server → client (and `2probe` during an upgrade); v3: client → server |
//! | 3  | pong    | reply to a ping (`3probe` for the probe) |
//! | 4  | message | application data, text or binary |
//! | 5  | upgrade | client → server on the new transport to finish an upgrade |
//! | 6  | noop    | server → client on polling to release a pending GET |
//!
//! A text packet is one type digit followed by optional UTF-8 data. In Engine.IO v4 a binary
//! WebSocket frame *is* a message, and in text contexts (polling) binary travels as
//! `b<base64>`. The packet set is the same in v3; its different binary and polling framing
//! lives in [`v3`]. Spec: `docs/engine.io-protocol/v4-current.md` in the socket.io monorepo.

#[cfg(feature = "std")]
pub mod client;
mod decode;
mod encode;
mod handshake;
mod packet;
mod payload;
#[cfg(feature = "std")]
pub mod server;
pub mod v3;
#[cfg(feature = "std")]
mod wire;

pub use handshake::Handshake;
pub use packet::{Message, Packet, PacketBuf, PacketType};
pub use payload::{
    PayloadBufIter, PayloadIter, RECORD_SEPARATOR, SeparatorInPacket, decode_payload,
    decode_payload_buf, encode_payload, payload_len,
};
