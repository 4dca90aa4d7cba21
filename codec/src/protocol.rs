//! [`Protocol`]: the one value a connection's decoding and encoding start from
//! (documented on the type: this module is private).

use crate::engineio::{self, Message, Packet, PacketBuf, SeparatorInPacket, v3};
use crate::socketio;
use crate::{DecodeConfig, DecodeError, Encode, FrameKind, Utf8Bytes, WireFormat};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use bytes::Bytes;

/// An Engine.IO protocol revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineIo {
    /// Engine.IO 3: the client pings; binary frames carry a `0x04` type byte; polling bodies
    /// are `len:packet` records (lengths in UTF-16 units) or XHR2 binary records.
    V3,
    /// Engine.IO 4: the server pings; binary frames are the message; polling bodies are
    /// records separated by `\x1e`, binary as `b<base64>`.
    V4,
}

impl EngineIo {
    /// The revision of an `EIO` query value (`"3"`, `"4"`); any other value is none.
    pub fn from_query_value(value: &str) -> Option<Self> {
        match value {
            "3" => Some(Self::V3),
            "4" => Some(Self::V4),
            _ => None,
        }
    }

    /// The number written in `EIO=`.
    pub const fn number(self) -> u8 {
        match self {
            Self::V3 => 3,
            Self::V4 => 4,
        }
    }
}

/// A Socket.IO protocol revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SocketIo {
    /// Socket.IO v4 (socket.io-parser 3.x): `/` joined on connect, no reserved event names,
    /// string or object CONNECT_ERROR payloads.
    V4,
    /// Socket.IO v5 (socket.io-parser 4.x): CONNECT to `/` too, an auth object, a socket id
    /// distinct from the Engine.IO sid.
    V5,
}

/// The protocol a connection speaks and the limits its input is held to.
///
/// A connection speaks one Engine.IO revision (the `EIO` query parameter of its requests) and
/// the Socket.IO revision that goes with it: Socket.IO v4 over Engine.IO 3 (socket.io 1.x and
/// 2.x), v5 over Engine.IO 4. The revision decides how binary is framed, how polling bodies are
/// laid out, whether pings go from server to client or the other way, and which payloads
/// Socket.IO packets may carry. Choosing it once, from the request, and going through
/// [`Protocol`] for every frame and body means no decode can use the other revision's rules by
/// mistake, and every decode path enforces the same [`DecodeConfig`] limits.
///
/// ```
/// use sio_codec::{Protocol, Utf8Bytes, engineio, socketio};
///
/// // From the query of the first request: `EIO=4`.
/// let protocol = Protocol::from_query("EIO=4&transport=websocket").unwrap();
/// let frame = Utf8Bytes::from(r#"42/chat,7["message",{"text":"hi"}]"#); // a WebSocket text frame
/// let message = protocol.decode_text_frame(&frame)?;
/// let text = message.text().expect("a text message");
/// let packet = protocol.decode_socketio(text)?; // a view of `frame`: nothing copied
/// assert_eq!(packet.as_packet().namespace().as_str(), "/chat");
/// assert_eq!(packet.as_packet().packet_type(), socketio::PacketType::Event);
///
/// // The same body, decoded by the content type it came with.
/// let body = bytes::Bytes::from_static(b"4hello\x1e2");
/// let packets = protocol
///     .decode_body(body, Some("text/plain;charset=UTF-8"))
///     .collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(packets[1].packet_type(), engineio::PacketType::Ping);
/// # Ok::<(), sio_codec::DecodeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocol {
    engineio: EngineIo,
    socketio: SocketIo,
    config: DecodeConfig,
}

/// The content type of a polling body in the text layout (v4 records, v3 `len:` text).
pub const TEXT_BODY: &str = "text/plain; charset=UTF-8";
/// The content type of an Engine.IO 3 XHR2 binary polling body.
pub const BINARY_BODY: &str = "application/octet-stream";

impl Protocol {
    /// Engine.IO 4 with Socket.IO v5 and the reference's limits.
    pub const V4: Self = Self::new(EngineIo::V4);
    /// Engine.IO 3 with Socket.IO v4 and the reference's limits.
    pub const V3: Self = Self::new(EngineIo::V3);

    /// `engineio` with the Socket.IO revision that goes with it (v5 over 4, v4 over 3) and
    /// [`DecodeConfig::new`]'s limits.
    pub const fn new(engineio: EngineIo) -> Self {
        Self {
            engineio,
            socketio: match engineio {
                EngineIo::V3 => SocketIo::V4,
                EngineIo::V4 => SocketIo::V5,
            },
            config: DecodeConfig::new(),
        }
    }

    /// The protocol of a request's query string (`EIO=4&transport=polling`): `None` when
    /// `EIO` is missing or names no revision (the server answers 400).
    pub fn from_query(query: &str) -> Option<Self> {
        query
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("EIO="))
            .and_then(EngineIo::from_query_value)
            .map(Self::new)
    }

    /// The same with another Socket.IO revision (a v5 client on an Engine.IO 3 server, as
    /// some ports do).
    #[must_use]
    pub const fn with_socketio(mut self, socketio: SocketIo) -> Self {
        self.socketio = socketio;
        self
    }

    /// The same with other limits and switches (the Socket.IO payload rules still follow
    /// [`Protocol::socketio`]).
    #[must_use]
    pub const fn with_config(mut self, config: DecodeConfig) -> Self {
        self.config = config;
        self
    }

    /// The Engine.IO revision.
    pub const fn engineio(&self) -> EngineIo {
        self.engineio
    }

    /// The Socket.IO revision.
    pub const fn socketio(&self) -> SocketIo {
        self.socketio
    }

    /// The limits and switches every decode applies, with the Socket.IO revision's payload
    /// rules.
    pub const fn config(&self) -> DecodeConfig {
        self.config
            .with_socketio_v4(matches!(self.socketio, SocketIo::V4))
    }

    // ------------------------------------------------------------------ Engine.IO in

    /// Decodes a WebSocket text frame into an owned packet that shares the frame's buffer.
    ///
    /// # Errors
    /// The frame is not a packet of this revision, or breaks a limit; offsets count in the
    /// frame.
    pub fn decode_text_frame(&self, frame: &Utf8Bytes) -> Result<PacketBuf, DecodeError> {
        let config = self.config();
        match self.engineio {
            EngineIo::V4 => PacketBuf::decode_text_with(frame, &config),
            EngineIo::V3 => v3::decode_text(frame.as_str(), &config)
                .map(|packet| owned(packet, frame.as_bytes())),
        }
    }

    /// Decodes a WebSocket binary frame (always a message) without copying it.
    ///
    /// # Errors
    /// The frame breaks the size limit, or (Engine.IO 3) does not start with the message
    /// type byte `0x04`.
    pub fn decode_binary_frame(&self, frame: Bytes) -> Result<PacketBuf, DecodeError> {
        let config = self.config();
        match self.engineio {
            EngineIo::V4 => PacketBuf::decode_binary_frame(frame, &config),
            EngineIo::V3 => {
                v3::decode_binary_frame(&frame, &config).map(|packet| owned(packet, &frame))
            }
        }
    }

    /// Decodes a polling request body (a POST, or a GET's response on the client side) by
    /// the content type it came with: [`BINARY_BODY`] is Engine.IO 3's XHR2 layout, anything
    /// else the revision's text layout. The packets share the body's buffer.
    ///
    /// JSONP bodies (`d=` form fields) are not decoded here: unwrap them first.
    ///
    /// The packets come in order; a malformed record ends the iteration with its error (its
    /// offset counts in the body) after the packets before it. A server refuses such a body
    /// whole, as the reference does: `.collect::<Result<Vec<_>, _>>()`.
    pub fn decode_body(&self, body: Bytes, content_type: Option<&str>) -> Body {
        let config = self.config();
        Body(match self.engineio {
            EngineIo::V4 => BodyRepr::V4(engineio::decode_payload_buf(body, &config)),
            EngineIo::V3 => {
                let format = if content_type.is_some_and(is_binary_body) {
                    v3::PayloadFormat::Binary
                } else {
                    v3::PayloadFormat::Text
                };
                // The v3 iterator borrows the body: its packets become views right away.
                let packets: Vec<_> = v3::decode_payload(&body, format, &config)
                    .map(|packet| packet.map(|p| owned(p, &body)))
                    .collect();
                BodyRepr::V3(packets.into_iter())
            }
        })
    }

    // ------------------------------------------------------------------ Engine.IO out

    /// Encodes a packet as one WebSocket frame: binary messages as binary frames (with the
    /// `0x04` type byte on Engine.IO 3), or as `b` base64 text when `b64` (the client asked
    /// for it with `b64=1`).
    pub fn encode_frame(&self, packet: &Packet<'_>, b64: bool) -> (FrameKind, Bytes) {
        let format = if b64 {
            WireFormat::Text
        } else {
            WireFormat::Frames
        };
        match self.engineio {
            EngineIo::V4 => packet.to_bytes(format),
            EngineIo::V3 => v3::V3(packet).to_bytes(format),
        }
    }

    /// Encodes packets as one polling response body, with its content type. Engine.IO 3
    /// uses the XHR2 binary layout when a binary message is among them and the client did
    /// not ask for `b64` (as the reference does), else `len:` text; Engine.IO 4 always uses
    /// `\x1e` records.
    ///
    /// # Errors
    /// Engine.IO 4: a text packet holds the record separator, which would split it.
    pub fn encode_body(
        &self,
        packets: &[Packet<'_>],
        b64: bool,
    ) -> Result<(&'static str, Bytes), SeparatorInPacket> {
        let mut body = Vec::new();
        match self.engineio {
            EngineIo::V4 => {
                engineio::encode_payload(packets, &mut body)?;
                Ok((TEXT_BODY, Bytes::from(body)))
            }
            EngineIo::V3 => {
                let binary = !b64
                    && packets
                        .iter()
                        .any(|p| matches!(p, Packet::Message(Message::Binary(_))));
                let (format, content_type) = if binary {
                    (v3::PayloadFormat::Binary, BINARY_BODY)
                } else {
                    (v3::PayloadFormat::Text, TEXT_BODY)
                };
                v3::encode_payload(packets, format, &mut body);
                Ok((content_type, Bytes::from(body)))
            }
        }
    }

    // ------------------------------------------------------------------ Socket.IO

    /// Decodes the Socket.IO packet an Engine.IO text message carries (what
    /// [`PacketBuf::text`] gives), by this protocol's Socket.IO rules, without copying.
    ///
    /// # Errors
    /// The text is not a Socket.IO packet of this revision; offsets count in `text` (see
    /// [`DecodeError::in_frame`] for the frame's).
    pub fn decode_socketio(&self, text: &Utf8Bytes) -> Result<socketio::PacketBuf, DecodeError> {
        socketio::PacketBuf::decode_text_with(text, &self.config())
    }

    /// A reassembler of binary packets and their attachments, with this protocol's rules.
    pub fn reassembler(&self) -> socketio::Reassembler {
        socketio::Reassembler::new(self.config())
    }
}

/// The packets of a polling body; see [`Protocol::decode_body`].
#[derive(Debug)]
pub struct Body(BodyRepr);

#[derive(Debug)]
enum BodyRepr {
    V4(engineio::PayloadBufIter),
    V3(alloc::vec::IntoIter<Result<PacketBuf, DecodeError>>),
}

impl Iterator for Body {
    type Item = Result<PacketBuf, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            BodyRepr::V4(packets) => packets.next(),
            BodyRepr::V3(packets) => packets.next(),
        }
    }
}

/// Whether a `Content-Type` value names the XHR2 binary layout (parameters and case aside).
fn is_binary_body(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(BINARY_BODY))
}

/// The owned form of `packet`, which borrows from `buffer`: text and bytes become views of
/// it, only base64-decoded binary is new memory.
fn owned(packet: Packet<'_>, buffer: &Bytes) -> PacketBuf {
    let text = |s: &str| Utf8Bytes::view_in(buffer, s);
    match packet {
        Packet::Message(Message::Binary(Cow::Borrowed(b))) => {
            PacketBuf::from_binary_frame(view_of(buffer, b))
        }
        Packet::Message(Message::Binary(Cow::Owned(b))) => {
            PacketBuf::from_binary_frame(Bytes::from(b))
        }
        Packet::Message(Message::Text(t)) => PacketBuf::from_text(text(t)),
        Packet::Ping(Some(d)) => PacketBuf::ping(Some(text(d))),
        Packet::Pong(Some(d)) => PacketBuf::pong(Some(text(d))),
        other => PacketBuf::from(&other),
    }
}

/// `part` (inside `buffer`) as a view of `buffer`; a copy only if it is not inside (a bug).
fn view_of(buffer: &Bytes, part: &[u8]) -> Bytes {
    let base = buffer.as_ptr() as usize;
    let start = part.as_ptr() as usize;
    if part.is_empty() {
        Bytes::new()
    } else if start >= base && start + part.len() <= base + buffer.len() {
        buffer.slice_ref(part)
    } else {
        Bytes::copy_from_slice(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// Whether `part` lies inside `whole` (a view, not a copy).
    fn inside(part: &[u8], whole: &[u8]) -> bool {
        let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
        p >= w && p + part.len() <= w + whole.len()
    }

    #[test]
    fn the_revision_comes_from_the_query() {
        assert_eq!(
            Protocol::from_query("EIO=4&transport=polling"),
            Some(Protocol::V4)
        );
        assert_eq!(
            Protocol::from_query("?transport=websocket&EIO=3"),
            Some(Protocol::V3)
        );
        assert_eq!(Protocol::from_query("transport=polling"), None);
        assert_eq!(Protocol::from_query("EIO=5"), None);
        assert_eq!(Protocol::from_query("EIO=abc"), None);
        assert_eq!(Protocol::V3.socketio(), SocketIo::V4);
        assert_eq!(Protocol::V4.socketio(), SocketIo::V5);
        assert!(Protocol::V3.config().is_socketio_v4());
        assert!(!Protocol::V4.config().is_socketio_v4());
        assert!(
            !Protocol::V3
                .with_socketio(SocketIo::V5)
                .config()
                .is_socketio_v4()
        );
    }

    #[test]
    fn text_frames_decode_as_views_of_the_frame() {
        for (protocol, frame) in [(Protocol::V4, "4héllo"), (Protocol::V3, "4héllo")] {
            let frame = Utf8Bytes::from(frame);
            let packet = protocol.decode_text_frame(&frame).unwrap();
            let text = packet.text().unwrap();
            assert_eq!(text.as_str(), "héllo");
            assert!(inside(text.as_bytes(), frame.as_bytes()));
        }
        // Binary in text: `b<base64>` in v4, `b4<base64>` in v3, each refusing the other's.
        let v4 = Protocol::V4
            .decode_text_frame(&Utf8Bytes::from("bAQI="))
            .unwrap();
        assert_eq!(v4.binary().unwrap().as_ref(), [1, 2]);
        let v3 = Protocol::V3
            .decode_text_frame(&Utf8Bytes::from("b4AQI="))
            .unwrap();
        assert_eq!(v3.binary().unwrap().as_ref(), [1, 2]);
        assert!(
            Protocol::V3
                .decode_text_frame(&Utf8Bytes::from("bAQI="))
                .is_err()
        );
        let ping = Protocol::V3
            .decode_text_frame(&Utf8Bytes::from("2probe"))
            .unwrap();
        assert!(ping.as_packet().is_probe());
    }

    #[test]
    fn binary_frames_are_views_and_within_the_limit() {
        let frame = Bytes::from_static(&[4, 1, 2, 3]);
        let v3 = Protocol::V3.decode_binary_frame(frame.clone()).unwrap();
        assert_eq!(v3.binary().unwrap().as_ref(), [1, 2, 3]);
        assert!(inside(v3.binary().unwrap(), &frame));
        let v4 = Protocol::V4.decode_binary_frame(frame.clone()).unwrap();
        assert_eq!(v4.binary().unwrap().as_ref(), [4, 1, 2, 3]);
        // A v3 binary frame must be a message.
        let err = Protocol::V3
            .decode_binary_frame(Bytes::from_static(&[2, 1]))
            .unwrap_err();
        assert_eq!(err.offset(), 0);
        // Both revisions hold binary frames to max_payload.
        for protocol in [Protocol::V3, Protocol::V4] {
            let small = protocol.with_config(DecodeConfig::new().max_payload(3));
            let err = small.decode_binary_frame(frame.clone()).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::PayloadTooLarge { .. }),
                "{err:?}"
            );
        }
    }

    #[test]
    fn bodies_decode_by_revision_and_content_type() {
        let v4 = Protocol::V4
            .decode_body(Bytes::from_static(b"4a\x1ebAQI=\x1e2"), None)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(v4.len(), 3);
        assert_eq!(v4[1].binary().unwrap().as_ref(), [1, 2]);
        // v3 text: lengths in UTF-16 units ("😀" is 2).
        let body = Bytes::from("3:4😀6:4hello".as_bytes());
        let v3 = Protocol::V3
            .decode_body(body.clone(), Some(TEXT_BODY))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(v3[0].text().unwrap().as_str(), "😀");
        assert!(inside(v3[1].text().unwrap().as_bytes(), &body));
        // v3 XHR2, whatever the parameters and case of the content type.
        let xhr2 = Bytes::from_static(&[0, 2, 0xff, b'4', b'a', 1, 3, 0xff, 4, 9, 8]);
        for content_type in [BINARY_BODY, "Application/Octet-Stream; charset=binary"] {
            let packets = Protocol::V3
                .decode_body(xhr2.clone(), Some(content_type))
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            assert_eq!(packets[0].text().unwrap().as_str(), "a");
            assert_eq!(packets[1].binary().unwrap().as_ref(), [9, 8]);
            assert!(inside(packets[1].binary().unwrap(), &xhr2));
        }
        // The same bytes as text are refused, with the offset in the body.
        assert!(
            Protocol::V3
                .decode_body(xhr2, Some(TEXT_BODY))
                .any(|p| p.is_err())
        );
        // The packets before a malformed record come first, then its error.
        let mut packets = Protocol::V4.decode_body(Bytes::from_static(b"4a\x1e9"), None);
        assert_eq!(
            packets.next().unwrap().unwrap().text().unwrap().as_str(),
            "a"
        );
        assert_eq!(packets.next().unwrap().unwrap_err().offset(), 3);
        assert!(packets.next().is_none());
    }

    #[test]
    fn what_is_encoded_decodes_back() {
        let packets = [
            Packet::text("héllo"),
            Packet::binary(&[1, 2, 3]),
            Packet::Ping(Some("probe")),
            Packet::Noop,
        ];
        for protocol in [Protocol::V3, Protocol::V4] {
            for b64 in [false, true] {
                let (content_type, body) = protocol.encode_body(&packets, b64).unwrap();
                let binary_layout = protocol.engineio() == EngineIo::V3 && !b64;
                assert_eq!(
                    content_type == BINARY_BODY,
                    binary_layout,
                    "{protocol:?} {b64}"
                );
                let back = protocol
                    .decode_body(body, Some(content_type))
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                let back: Vec<_> = back.iter().map(PacketBuf::as_packet).collect();
                assert_eq!(back, packets, "{protocol:?} b64={b64}");
                for packet in &packets {
                    let (kind, frame) = protocol.encode_frame(packet, b64);
                    let decoded = match kind {
                        FrameKind::Text => protocol
                            .decode_text_frame(&Utf8Bytes::try_from(frame).unwrap())
                            .unwrap(),
                        FrameKind::Binary => protocol.decode_binary_frame(frame).unwrap(),
                    };
                    assert_eq!(decoded.as_packet(), *packet, "{protocol:?} b64={b64}");
                }
            }
        }
        // Without binary, v3 uses the text layout even when the client can take binary.
        let (content_type, body) = Protocol::V3
            .encode_body(&[Packet::text("a")], false)
            .unwrap();
        assert_eq!((content_type, &body[..]), (TEXT_BODY, &b"2:4a"[..]));
        // A v4 body cannot hold the separator.
        assert!(
            Protocol::V4
                .encode_body(&[Packet::text("a\x1eb")], false)
                .is_err()
        );
        assert!(
            Protocol::V3
                .encode_body(&[Packet::text("a\x1eb")], false)
                .is_ok()
        );
    }

    #[test]
    fn socketio_rules_follow_the_revision() {
        // Socket.IO v4 has no reserved event names and takes any CONNECT payload; v5 refuses
        // both, so the same text decodes under one revision's rules and not the other's.
        for text in [r#"2["connect"]"#, "0[1]"] {
            let text = Utf8Bytes::from(text);
            assert!(Protocol::V3.decode_socketio(&text).is_ok(), "{text}");
            assert!(Protocol::V4.decode_socketio(&text).is_err(), "{text}");
            let v5_over_v3 = Protocol::V3.with_socketio(SocketIo::V5);
            assert!(v5_over_v3.decode_socketio(&text).is_err(), "{text}");
        }
        // The reassembler carries the protocol's limits.
        let mut reassembler = Protocol::V4
            .with_config(DecodeConfig::new().max_attachments(1))
            .reassembler();
        let header = Utf8Bytes::from(
            r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        );
        assert!(reassembler.push_text(&header).is_err());
    }
}
