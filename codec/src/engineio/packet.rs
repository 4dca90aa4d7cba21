//! Engine.IO packet types: the borrowed [`Packet`] view and its owned form [`PacketBuf`].

use super::handshake::Handshake;
use crate::utf8_bytes::Utf8Bytes;
use alloc::borrow::Cow;
use bytes::Bytes;
use core::fmt;

/// The seven Engine.IO packet types (identical in v3 and v4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketType {
    /// `0`: handshake, server → client.
    Open,
    /// `1`: close the session.
    Close,
    /// `2`: heartbeat request (and `2probe` during an upgrade).
    Ping,
    /// `3`: heartbeat answer (and `3probe`).
    Pong,
    /// `4`: application data.
    Message,
    /// `5`: completes a transport upgrade.
    Upgrade,
    /// `6`: releases a pending polling request.
    Noop,
}

impl PacketType {
    /// The type for the ASCII digit `b'0'..=b'6'`.
    pub const fn from_digit(digit: u8) -> Option<Self> {
        Some(match digit {
            b'0' => Self::Open,
            b'1' => Self::Close,
            b'2' => Self::Ping,
            b'3' => Self::Pong,
            b'4' => Self::Message,
            b'5' => Self::Upgrade,
            b'6' => Self::Noop,
            _ => return None,
        })
    }

    /// The ASCII digit written on the wire.
    pub const fn digit(self) -> u8 {
        b'0' + self as u8
    }

    /// The type for a spec name, the inverse of [`PacketType::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        (b'0'..=b'6')
            .filter_map(Self::from_digit)
            .find(|t| t.name() == name)
    }

    /// The lowercase name used by the spec (`"open"`, `"ping"`...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Close => "close",
            Self::Ping => "ping",
            Self::Pong => "pong",
            Self::Message => "message",
            Self::Upgrade => "upgrade",
            Self::Noop => "noop",
        }
    }
}

/// The data of a `message` packet.
#[derive(Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// UTF-8 text (an empty string is the bare `4`).
    Text(&'a str),
    /// Bytes: borrowed from a binary frame, owned only when decoded from base64 text.
    Binary(Cow<'a, [u8]>),
}

/// One Engine.IO packet, borrowing from the frame it was decoded from.
///
/// Decode with [`Packet::decode_text`] (WebSocket text frame or polling record) or
/// [`Packet::decode_binary_frame`]; encode with [`crate::Encode`]. Engine.IO v3 framing is in
/// [`super::v3`].
#[derive(Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0` + handshake JSON.
    Open(Handshake<'a>),
    /// `1`.
    Close,
    /// `2` + optional data (`probe` during an upgrade).
    Ping(Option<&'a str>),
    /// `3` + optional data.
    Pong(Option<&'a str>),
    /// `4` + text, or binary.
    Message(Message<'a>),
    /// `5`.
    Upgrade,
    /// `6`.
    Noop,
}

impl<'a> Packet<'a> {
    /// The packet's type.
    pub const fn packet_type(&self) -> PacketType {
        match self {
            Self::Open(_) => PacketType::Open,
            Self::Close => PacketType::Close,
            Self::Ping(_) => PacketType::Ping,
            Self::Pong(_) => PacketType::Pong,
            Self::Message(_) => PacketType::Message,
            Self::Upgrade => PacketType::Upgrade,
            Self::Noop => PacketType::Noop,
        }
    }

    /// Whether this is `2probe` or `3probe`, the upgrade probe pair.
    pub fn is_probe(&self) -> bool {
        matches!(self, Self::Ping(Some("probe")) | Self::Pong(Some("probe")))
    }

    /// A text message.
    pub const fn text(text: &'a str) -> Self {
        Self::Message(Message::Text(text))
    }

    /// A binary message borrowing `data`.
    pub const fn binary(data: &'a [u8]) -> Self {
        Self::Message(Message::Binary(Cow::Borrowed(data)))
    }
}

impl fmt::Debug for Packet<'_> {
    /// Dense and stable (snapshot tests): `Ping("probe")`, `Message(Text("hello"))`,
    /// `Message(Binary(01020304))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(h) => write!(f, "Open({h:?})"),
            Self::Close => f.write_str("Close"),
            Self::Ping(None) => f.write_str("Ping"),
            Self::Ping(Some(d)) => write!(f, "Ping({d:?})"),
            Self::Pong(None) => f.write_str("Pong"),
            Self::Pong(Some(d)) => write!(f, "Pong({d:?})"),
            Self::Message(m) => write!(f, "Message({m:?})"),
            Self::Upgrade => f.write_str("Upgrade"),
            Self::Noop => f.write_str("Noop"),
        }
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => write!(f, "Text({t:?})"),
            Self::Binary(b) => {
                f.write_str("Binary(")?;
                crate::hex::write(f, b)?;
                f.write_str(")")
            }
        }
    }
}

/// The owned, cheap-to-clone form of [`Packet`]: `Send + 'static`, its text and bytes are
/// views of the received frame (`Bytes::slice_ref`), so building it copies nothing except
/// base64-decoded binary.
#[derive(Clone, PartialEq, Eq)]
pub struct PacketBuf(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Open(Handshake<'static>),
    Close,
    Ping(Option<Utf8Bytes>),
    Pong(Option<Utf8Bytes>),
    Text(Utf8Bytes),
    Binary(Bytes),
    Upgrade,
    Noop,
}

impl PacketBuf {
    /// Decodes a text frame (Engine.IO v4) without copying it.
    pub fn decode_text(frame: &Utf8Bytes) -> Result<Self, crate::DecodeError> {
        Self::decode_text_with(frame, &crate::DecodeConfig::new())
    }

    /// [`PacketBuf::decode_text`] with an explicit configuration.
    pub fn decode_text_with(
        frame: &Utf8Bytes,
        config: &crate::DecodeConfig,
    ) -> Result<Self, crate::DecodeError> {
        let packet = Packet::decode_text_with(frame.as_str(), config)?;
        Ok(Self::from_view(packet, frame))
    }

    /// Decodes a binary frame (Engine.IO v4): always a message, kept without copying, once
    /// the frame is within [`max_payload`](crate::DecodeConfig::max_payload).
    pub fn decode_binary_frame(
        frame: Bytes,
        config: &crate::DecodeConfig,
    ) -> Result<Self, crate::DecodeError> {
        config.check_size(frame.len())?;
        Ok(Self::from_binary_frame(frame))
    }

    /// The message a binary frame (Engine.IO v4) carries, kept without copying and **without
    /// any check**; frames received from a peer go through [`PacketBuf::decode_binary_frame`].
    pub fn from_binary_frame(frame: Bytes) -> Self {
        Self(Repr::Binary(frame))
    }

    /// A text message of `text`.
    pub(crate) fn from_text(text: Utf8Bytes) -> Self {
        Self(Repr::Text(text))
    }

    /// A ping with optional data.
    pub(crate) fn ping(data: Option<Utf8Bytes>) -> Self {
        Self(Repr::Ping(data))
    }

    /// A pong with optional data.
    pub(crate) fn pong(data: Option<Utf8Bytes>) -> Self {
        Self(Repr::Pong(data))
    }

    /// Owned form of a packet decoded from `frame`: borrowed text becomes a view of `frame`.
    pub(crate) fn from_view(packet: Packet<'_>, frame: &Utf8Bytes) -> Self {
        let view = |s: &str| frame.slice_ref(s);
        Self(match packet {
            Packet::Open(h) => Repr::Open(h.into_owned()),
            Packet::Close => Repr::Close,
            Packet::Ping(d) => Repr::Ping(d.map(view)),
            Packet::Pong(d) => Repr::Pong(d.map(view)),
            Packet::Message(Message::Text(t)) => Repr::Text(view(t)),
            Packet::Message(Message::Binary(b)) => Repr::Binary(Bytes::from(b.into_owned())),
            Packet::Upgrade => Repr::Upgrade,
            Packet::Noop => Repr::Noop,
        })
    }

    /// The borrowed view (no re-validation).
    pub fn as_packet(&self) -> Packet<'_> {
        match &self.0 {
            Repr::Open(h) => Packet::Open(h.clone()),
            Repr::Close => Packet::Close,
            Repr::Ping(d) => Packet::Ping(d.as_ref().map(Utf8Bytes::as_str)),
            Repr::Pong(d) => Packet::Pong(d.as_ref().map(Utf8Bytes::as_str)),
            Repr::Text(t) => Packet::Message(Message::Text(t.as_str())),
            Repr::Binary(b) => Packet::Message(Message::Binary(Cow::Borrowed(b))),
            Repr::Upgrade => Packet::Upgrade,
            Repr::Noop => Packet::Noop,
        }
    }

    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        self.as_packet().packet_type()
    }

    /// The text of a text message, as a zero-copy view of the frame.
    pub fn text(&self) -> Option<&Utf8Bytes> {
        match &self.0 {
            Repr::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The bytes of a binary message, without copying.
    pub fn binary(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Binary(b) => Some(b),
            _ => None,
        }
    }
}

impl From<&Packet<'_>> for PacketBuf {
    /// Copies a hand-built packet into owned storage.
    fn from(packet: &Packet<'_>) -> Self {
        let own = |s: &str| Utf8Bytes::from(s);
        Self(match packet {
            Packet::Open(h) => Repr::Open(h.clone().into_owned()),
            Packet::Close => Repr::Close,
            Packet::Ping(d) => Repr::Ping(d.map(own)),
            Packet::Pong(d) => Repr::Pong(d.map(own)),
            Packet::Message(Message::Text(t)) => Repr::Text(own(t)),
            Packet::Message(Message::Binary(b)) => Repr::Binary(Bytes::copy_from_slice(b)),
            Packet::Upgrade => Repr::Upgrade,
            Packet::Noop => Repr::Noop,
        })
    }
}

impl fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_packet(), f)
    }
}
