//! Socket.IO: namespaces, events and acknowledgements on top of Engine.IO messages.
//!
//! | id | name | payload (v5 rules, socket.io-parser 4.2.7) |
//! |----|------|---------|
//! | 0 | CONNECT | absent, or a JSON object (auth / the server's `{"sid":…}`) |
//! | 1 | DISCONNECT | absent |
//! | 2 | EVENT | array whose first element is a number or a non-reserved event name |
//! | 3 | ACK | array |
//! | 4 | CONNECT_ERROR | string or object (v4: `ERROR`, any JSON) |
//! | 5 | BINARY_EVENT | as EVENT, plus an attachment count |
//! | 6 | BINARY_ACK | as ACK, plus an attachment count |
//!
//! Text form: `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`. Every Socket.IO
//! packet travels as the data of one Engine.IO `message`; each binary attachment follows as
//! its own binary message ([`Reassembler`] puts them back together). Spec:
//! `docs/socket.io-protocol/v5-current.md` in the socket.io monorepo.

mod binary;
#[cfg(feature = "std")]
pub mod client;
#[cfg(feature = "std")]
mod common;
#[cfg(feature = "std")]
mod data;
mod decode;
mod encode;
mod json;
mod packet;
mod scanner;
#[cfg(feature = "std")]
pub mod server;

#[cfg(feature = "std")]
pub use binary::ValueError;
#[cfg(feature = "std")]
pub use binary::to_json_with_attachments;
pub use binary::{
    Assembled, OutFrame, Placeholder, Progress, Reassembler, placeholders, replace_placeholders,
};
#[cfg(feature = "std")]
pub use data::Data;
pub use json::RawJson;
#[cfg(feature = "std")]
pub use json::to_js_json;
pub use packet::{AckId, Namespace, Packet, PacketBuf, PacketType};
