//! Socket.IO packet types: [`Packet`] (borrowed view), [`PacketBuf`] (owned, copy-free).

use super::json::{RawJson, check_shape};
use crate::{DecodeConfig, ErrorKind, utf8_bytes::Utf8Bytes};
use core::{fmt, ops::Range};

/// The seven Socket.IO packet types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketType {
    /// `0`: join a namespace (client), or accept the join (server).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event.
    Event,
    /// `3`: the answer to an event that carried an ack id.
    Ack,
    /// `4`: the refusal of a CONNECT (`ERROR` in protocol v4).
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an ack with binary attachments.
    BinaryAck,
}

impl PacketType {
    /// The type for the ASCII digit `b'0'..=b'6'`.
    pub const fn from_digit(digit: u8) -> Option<Self> {
        Some(match digit {
            b'0' => Self::Connect,
            b'1' => Self::Disconnect,
            b'2' => Self::Event,
            b'3' => Self::Ack,
            b'4' => Self::ConnectError,
            b'5' => Self::BinaryEvent,
            b'6' => Self::BinaryAck,
            _ => return None,
        })
    }

    /// The ASCII digit written on the wire.
    pub const fn digit(self) -> u8 {
        b'0' + self as u8
    }

    /// The spec's name (`"CONNECT"`, `"BINARY_EVENT"`...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Disconnect => "DISCONNECT",
            Self::Event => "EVENT",
            Self::Ack => "ACK",
            Self::ConnectError => "CONNECT_ERROR",
            Self::BinaryEvent => "BINARY_EVENT",
            Self::BinaryAck => "BINARY_ACK",
        }
    }

    /// The type for a spec name, the inverse of [`PacketType::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        (b'0'..=b'6')
            .filter_map(Self::from_digit)
            .find(|t| t.name() == name)
    }

    /// Whether packets of this type carry an attachment count.
    pub const fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }
}

/// An acknowledgement id: `0..=2^53-1`, the range every implementation represents exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AckId(u64);

impl AckId {
    /// The largest id, JavaScript's `Number.MAX_SAFE_INTEGER`.
    pub const MAX: Self = Self((1 << 53) - 1);

    /// The id, or `None` above [`AckId::MAX`].
    pub const fn new(id: u64) -> Option<Self> {
        if id <= Self::MAX.0 {
            Some(Self(id))
        } else {
            None
        }
    }

    /// The numeric value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for AckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A namespace: starts with `/` and contains no `,`. `/` is the main namespace and is elided
/// on the wire. In protocol v4 the namespace may carry a query string (`/admin?token=1`).
///
/// [`Namespace::new`] also refuses the polling record separator `\x1e`; a decoded packet
/// may still hold one (see there).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace<'a>(&'a str);

impl<'a> Namespace<'a> {
    /// The main namespace `/`.
    pub const ROOT: Namespace<'static> = Namespace("/");

    /// Validates a namespace: it starts with `/` and holds neither `,` (it ends the namespace
    /// on the wire) nor `\x1e` (it ends the packet in a v4 polling payload, and a namespace
    /// is used over every transport of a connection). Anything else, `?` included, is kept
    /// as is: the reference decoder reads the namespace up to the first `,`, so every
    /// namespace `new` accepts decodes back exactly.
    ///
    /// The decoder mirrors the reference and accepts a `\x1e` in a namespace that arrived in
    /// a WebSocket frame; [`engineio::encode_payload`](crate::engineio::encode_payload) then
    /// refuses to put that packet's text in a polling body.
    ///
    /// ```
    /// use sio_codec::{ErrorKind, socketio::Namespace};
    /// assert_eq!(Namespace::new("/admin?token=1")?.query(), Some("token=1"));
    /// assert_eq!(Namespace::new("admin"), Err(ErrorKind::InvalidNamespace));
    /// assert_eq!(Namespace::new("/a,b"), Err(ErrorKind::InvalidNamespace));
    /// assert_eq!(Namespace::new("/a\x1eb"), Err(ErrorKind::InvalidNamespace));
    /// # Ok::<(), ErrorKind>(())
    /// ```
    pub fn new(namespace: &'a str) -> Result<Self, ErrorKind> {
        if namespace.starts_with('/') && !namespace.contains([',', '\u{1e}']) {
            Ok(Self(namespace))
        } else {
            Err(ErrorKind::InvalidNamespace)
        }
    }

    /// Already checked by the grammar.
    pub(crate) const fn new_unchecked(namespace: &'a str) -> Self {
        Self(namespace)
    }

    /// The text, e.g. `/admin`.
    pub const fn as_str(&self) -> &'a str {
        self.0
    }

    /// Whether this is `/`, which the encoder omits.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The part before a `?` (protocol v4 namespaces may carry a query).
    pub fn path(&self) -> &'a str {
        self.0.split_once('?').map_or(self.0, |(path, _)| path)
    }

    /// The query after `?`, if any (protocol v4).
    pub fn query(&self) -> Option<&'a str> {
        self.0.split_once('?').map(|(_, query)| query)
    }
}

impl fmt::Debug for Namespace<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

/// One Socket.IO packet, borrowing from the text it was decoded from.
///
/// The fields mirror the wire (and the reference decoder's output): every type may carry an
/// ack id and a payload, because the reference accepts `012` (CONNECT with id 12) and `3[]`
/// (ACK without id). Constructors check the payload shape for the type, so a packet that
/// exists is one the reference decoder would accept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    packet_type: PacketType,
    attachments: u32,
    namespace: Namespace<'a>,
    id: Option<AckId>,
    data: Option<RawJson<'a>>,
}

impl<'a> Packet<'a> {
    /// A packet with Socket.IO v5 payload rules; for a binary type, `attachments` is the
    /// attachment count (at least 1), otherwise it must be 0.
    pub fn new(
        packet_type: PacketType,
        namespace: Namespace<'a>,
        id: Option<AckId>,
        data: Option<RawJson<'a>>,
        attachments: u32,
    ) -> Result<Self, ErrorKind> {
        Self::new_with(
            packet_type,
            namespace,
            id,
            data,
            attachments,
            &DecodeConfig::new(),
        )
    }

    /// [`Packet::new`] with the payload rules of `config` (e.g. [`DecodeConfig::socketio_v4`]).
    pub fn new_with(
        packet_type: PacketType,
        namespace: Namespace<'a>,
        id: Option<AckId>,
        data: Option<RawJson<'a>>,
        attachments: u32,
        config: &DecodeConfig,
    ) -> Result<Self, ErrorKind> {
        let count_ok = if packet_type.is_binary() {
            (attachments > 0 || config.allows_zero_attachments())
                && attachments <= config.attachments_limit()
        } else {
            attachments == 0
        };
        if !count_ok {
            return Err(ErrorKind::InvalidAttachmentCount);
        }
        if let Some(data) = data {
            check_shape(data.as_str(), packet_type, config).map_err(|(kind, _)| kind)?;
        }
        Ok(Self {
            packet_type,
            attachments,
            namespace,
            id,
            data,
        })
    }

    /// Already validated by the grammar.
    pub(crate) const fn from_parts(
        packet_type: PacketType,
        attachments: u32,
        namespace: Namespace<'a>,
        id: Option<AckId>,
        data: Option<RawJson<'a>>,
    ) -> Self {
        Self {
            packet_type,
            attachments,
            namespace,
            id,
            data,
        }
    }

    /// CONNECT to `namespace`, with an optional auth object.
    pub fn connect(namespace: Namespace<'a>, auth: Option<RawJson<'a>>) -> Result<Self, ErrorKind> {
        Self::new(PacketType::Connect, namespace, None, auth, 0)
    }

    /// DISCONNECT from `namespace`.
    pub fn disconnect(namespace: Namespace<'a>) -> Self {
        Self::from_parts(PacketType::Disconnect, 0, namespace, None, None)
    }

    /// EVENT with its arguments (`["name", ...]`) and an optional ack id.
    pub fn event(
        namespace: Namespace<'a>,
        args: RawJson<'a>,
        id: Option<AckId>,
    ) -> Result<Self, ErrorKind> {
        Self::new(PacketType::Event, namespace, id, Some(args), 0)
    }

    /// ACK of event `id` with its arguments (a JSON array).
    pub fn ack(namespace: Namespace<'a>, args: RawJson<'a>, id: AckId) -> Result<Self, ErrorKind> {
        Self::new(PacketType::Ack, namespace, Some(id), Some(args), 0)
    }

    /// The packet type.
    pub const fn packet_type(&self) -> PacketType {
        self.packet_type
    }

    /// The attachment count of a binary packet, `None` for other types.
    pub const fn attachments(&self) -> Option<u32> {
        if self.packet_type.is_binary() {
            Some(self.attachments)
        } else {
            None
        }
    }

    /// The namespace.
    pub const fn namespace(&self) -> Namespace<'a> {
        self.namespace
    }

    /// The ack id, if any.
    pub const fn id(&self) -> Option<AckId> {
        self.id
    }

    /// The JSON payload, if any.
    pub const fn data(&self) -> Option<RawJson<'a>> {
        self.data
    }
}

impl fmt::Debug for Packet<'_> {
    /// Dense and stable: `Event "/admin" id=12 ["a",1]`, `BinaryEvent(2) "/" [..]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.packet_type)?;
        if let Some(n) = self.attachments() {
            write!(f, "({n})")?;
        }
        write!(f, " {:?}", self.namespace)?;
        if let Some(id) = self.id {
            write!(f, " id={id}")?;
        }
        if let Some(data) = self.data {
            write!(f, " {}", data.as_str())?;
        }
        Ok(())
    }
}

/// The owned form of [`Packet`]: the received text (a refcounted [`Utf8Bytes`]) plus the
/// positions of the namespace and the payload inside it. Building it copies nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct PacketBuf {
    text: Utf8Bytes,
    packet_type: PacketType,
    attachments: u32,
    /// `None` for the elided main namespace.
    namespace: Option<Range<usize>>,
    id: Option<AckId>,
    data: Option<Range<usize>>,
}

impl PacketBuf {
    /// Decodes `text` (a Socket.IO packet, without the Engine.IO `4`) without copying it.
    pub fn decode_text(text: &Utf8Bytes) -> Result<Self, crate::DecodeError> {
        Self::decode_text_with(text, &DecodeConfig::new())
    }

    /// [`PacketBuf::decode_text`] with an explicit configuration.
    pub fn decode_text_with(
        text: &Utf8Bytes,
        config: &DecodeConfig,
    ) -> Result<Self, crate::DecodeError> {
        let packet = Packet::decode_text_with(text.as_str(), config)?;
        Ok(Self::from_view(&packet, text.clone()))
    }

    /// `packet`, which borrows from `text`, as ranges into `text`.
    fn from_view(packet: &Packet<'_>, text: Utf8Bytes) -> Self {
        let base = text.as_ptr() as usize;
        let range = |s: &str| {
            let start = s.as_ptr() as usize - base;
            start..start + s.len()
        };
        let namespace = packet.namespace();
        Self {
            packet_type: packet.packet_type(),
            attachments: packet.attachments().unwrap_or(0),
            namespace: (!namespace.is_root()).then(|| range(namespace.as_str())),
            id: packet.id(),
            data: packet.data().map(|d| range(d.as_str())),
            text,
        }
    }

    /// The borrowed view (no re-validation).
    pub fn as_packet(&self) -> Packet<'_> {
        let text = self.text.as_str();
        // The ranges were cut from `text` by the decoder (or the encoder), on char boundaries:
        // a range that does not fit is a bug, loud in tests, an empty view in release.
        let slice = |r: &Range<usize>| {
            let part = text.get(r.clone());
            debug_assert!(
                part.is_some(),
                "range {r:?} outside the packet text {text:?}"
            );
            part.unwrap_or_default()
        };
        Packet::from_parts(
            self.packet_type,
            self.attachments,
            self.namespace
                .as_ref()
                .map_or(Namespace::ROOT, |r| Namespace::new_unchecked(slice(r))),
            self.id,
            self.data.as_ref().map(|r| RawJson::new_unchecked(slice(r))),
        )
    }

    /// The whole packet text this was decoded from (or encoded to).
    pub fn text(&self) -> &Utf8Bytes {
        &self.text
    }

    /// The payload as a zero-copy view of the text.
    pub fn data_bytes(&self) -> Option<Utf8Bytes> {
        let data = self.as_packet().data()?;
        Some(self.text.slice_ref(data.as_str()))
    }
}

impl From<&Packet<'_>> for PacketBuf {
    /// Encodes `packet` into fresh storage.
    fn from(packet: &Packet<'_>) -> Self {
        let text = packet.to_text();
        // Re-point the ranges at the encoded text: the namespace follows the header, the
        // payload ends the text.
        let data_len = packet.data().map_or(0, |d| d.as_str().len());
        let len = text.len();
        let namespace = (!packet.namespace().is_root()).then(|| {
            let start = packet.header_len_before_namespace();
            start..start + packet.namespace().as_str().len()
        });
        Self {
            packet_type: packet.packet_type(),
            attachments: packet.attachments().unwrap_or(0),
            namespace,
            id: packet.id(),
            data: packet.data().map(|_| len - data_len..len),
            text,
        }
    }
}

impl fmt::Debug for PacketBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_packet(), f)
    }
}
