//! Engine.IO and Socket.IO packets as fixtures write them: values to send and patterns to expect.
//!
//! Expected packets become object patterns (see [`EioPacketPattern`], [`SioPacketPattern`]) so
//! that mismatches get readable paths.

use serde_json::Value;

use crate::matcher::{ExtraKeys, ObjectPattern, Pattern, Template};

/// Engine.IO packet types, by their spec names (`message`).
pub use sio_codec::engineio::PacketType as EioType;
/// Socket.IO packet types, by their spec names (`BINARY_EVENT`).
pub use sio_codec::socketio::PacketType as SioType;

/// Payload of an Engine.IO packet to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EioData {
    /// Text (may reference variables).
    Text(Template),
    /// Bytes (`{$bin: …}` in the fixture).
    Binary(Vec<u8>),
}

/// An Engine.IO packet to send (or to put in a polling request body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EioPacket {
    /// Packet type.
    pub kind: EioType,
    /// Payload, if any.
    pub data: Option<EioData>,
}

/// A Socket.IO packet to send.
///
/// `id` and `data` may contain `${var}` strings: the engine passes them through
/// [`interpolate_value`](crate::matcher::interpolate_value) before encoding (a whole-string
/// `"${ack_id}"` keeps the captured number). Binary leaves in `data` are already in the
/// canonical `{"$bin": "<hex>"}` form.
#[derive(Debug, Clone, PartialEq)]
pub struct SioPacket {
    /// Packet type.
    pub kind: SioType,
    /// Namespace (`/` when the fixture leaves it out).
    pub nsp: String,
    /// Ack id: a non-negative integer or a `"${var}"` string.
    pub id: Option<Value>,
    /// Payload.
    pub data: Option<Value>,
}

/// An expected Engine.IO packet.
///
/// The engine builds the actual object from a decoded packet as
/// `{"type": "message", "data": "hello"}`: `data` is a string for text and a binary leaf
/// ([`binary_value`](crate::matcher::binary_value)) for binary, and is left out when the packet
/// carries no data (`2`, `6`, ...). The envelope is strict: when the pattern has no `data`, the
/// packet must have none; write `data: {$any: true}` to accept any payload.
#[derive(Debug, Clone, PartialEq)]
pub struct EioPacketPattern {
    /// Packet type.
    pub kind: EioType,
    /// Pattern for the payload; `None` means the packet must have none.
    pub data: Option<Pattern>,
}

impl EioPacketPattern {
    /// The pattern for the actual object described above.
    #[must_use]
    pub fn to_pattern(&self) -> Pattern {
        let mut fields = vec![(
            "type".to_owned(),
            Pattern::String(Template::literal_text(self.kind.name())),
        )];
        if let Some(data) = &self.data {
            fields.push(("data".to_owned(), data.clone()));
        }
        Pattern::Object(ObjectPattern {
            fields,
            extra_keys: ExtraKeys::Forbid,
        })
    }
}

/// An expected Socket.IO packet.
///
/// The engine builds the actual object as `{"type": "EVENT", "nsp": "/", "id": 12, "data": [...]}`,
/// leaving out `id` and `data` when the packet has none, with attachments put back in place as
/// binary leaves. As for [`EioPacketPattern`], a key the pattern leaves out must be absent.
#[derive(Debug, Clone, PartialEq)]
pub struct SioPacketPattern {
    /// Packet type.
    pub kind: SioType,
    /// Namespace pattern (`"/"` when the fixture leaves it out).
    pub nsp: Pattern,
    /// Ack id pattern; `None` means the packet must have no id.
    pub id: Option<Pattern>,
    /// Payload pattern; `None` means the packet must have no payload.
    pub data: Option<Pattern>,
}

impl SioPacketPattern {
    /// The pattern for the actual object described above.
    #[must_use]
    pub fn to_pattern(&self) -> Pattern {
        let mut fields = vec![
            (
                "type".to_owned(),
                Pattern::String(Template::literal_text(self.kind.name())),
            ),
            ("nsp".to_owned(), self.nsp.clone()),
        ];
        if let Some(id) = &self.id {
            fields.push(("id".to_owned(), id.clone()));
        }
        if let Some(data) = &self.data {
            fields.push(("data".to_owned(), data.clone()));
        }
        Pattern::Object(ObjectPattern {
            fields,
            extra_keys: ExtraKeys::Forbid,
        })
    }
}
