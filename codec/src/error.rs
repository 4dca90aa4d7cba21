//! The one error type of every decode path: a kind plus the absolute byte offset.

use core::fmt;

/// A decoding failure: what went wrong ([`ErrorKind`]) and where (a byte offset).
///
/// The offset counts from the start of the input of the call that returned the error:
///
/// - Engine.IO decoders ([`engineio::Packet::decode_text`],
///   [`engineio::Packet::decode_binary_frame`], [`engineio::decode_payload`], the
///   [`engineio::v3`] functions, and their `PacketBuf` forms): the WebSocket frame, or the
///   whole HTTP body for a packet inside a polling payload.
/// - Socket.IO decoders ([`socketio::Packet::decode_text`],
///   [`socketio::PacketBuf::decode_text`], [`socketio::Reassembler::push_text`]): the
///   Socket.IO text they are given, which starts after the Engine.IO type `4`: one byte into
///   a WebSocket frame, one byte into its record in a polling body.
/// - [`socketio::Reassembler::push_binary`]: see there (an invalid placeholder counts in the
///   text of the binary packet, given to the earlier `push_text`).
///
/// [`DecodeError::in_frame`] turns an offset in a Socket.IO text into the offset in the
/// WebSocket frame or polling body it was cut from. The type is `Copy` and never allocates.
///
/// [`engineio::Packet::decode_text`]: crate::engineio::Packet::decode_text
/// [`engineio::Packet::decode_binary_frame`]: crate::engineio::Packet::decode_binary_frame
/// [`engineio::decode_payload`]: crate::engineio::decode_payload
/// [`engineio::v3`]: crate::engineio::v3
/// [`socketio::Packet::decode_text`]: crate::socketio::Packet::decode_text
/// [`socketio::PacketBuf::decode_text`]: crate::socketio::PacketBuf::decode_text
/// [`socketio::Reassembler::push_text`]: crate::socketio::Reassembler::push_text
/// [`socketio::Reassembler::push_binary`]: crate::socketio::Reassembler::push_binary
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecodeError {
    kind: ErrorKind,
    offset: usize,
}

impl DecodeError {
    /// Builds an error of `kind` at byte `offset`.
    pub const fn new(kind: ErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// What went wrong.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Byte offset from the start of the input of the call that returned the error (see
    /// [`DecodeError`] for which input that is).
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The error of a call given `input`, with the offset counted from the start of `frame`
    /// instead, `input` being a slice of `frame`: the Socket.IO text of an Engine.IO message
    /// borrows from the WebSocket frame or the polling body it came in (and a
    /// [`PacketBuf`](crate::engineio::PacketBuf)'s text shares its buffer), so the text's
    /// position in the frame is known without counting. The error is returned unchanged when
    /// `input` does not lie inside `frame` (a copy of it, say).
    ///
    /// ```
    /// use sio_codec::{DecodeConfig, ErrorKind, engineio, socketio};
    /// let body: &[u8] = b"4hello\x1e42/chat,1[\"a\"";
    /// for packet in engineio::decode_payload(body, &DecodeConfig::new()) {
    ///     let engineio::Packet::Message(engineio::Message::Text(text)) = packet? else { continue };
    ///     if text == "hello" {
    ///         continue;
    ///     }
    ///     let err = socketio::Packet::decode_text(text).unwrap_err();
    ///     assert_eq!((err.kind(), err.offset()), (ErrorKind::InvalidJson, 12)); // in `text`
    ///     assert_eq!(err.in_frame(text, body).offset(), 20); // in `body`: its end
    ///     assert_eq!(body.len(), 20);
    /// }
    /// # Ok::<(), sio_codec::DecodeError>(())
    /// ```
    #[must_use]
    pub fn in_frame(self, input: &str, frame: &[u8]) -> Self {
        let start = (input.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
        if start <= frame.len() && input.len() <= frame.len() - start {
            self.shifted(start)
        } else {
            self
        }
    }

    /// The same error moved `by` bytes further: used when a packet is decoded from the middle
    /// of a larger input (a polling payload record).
    #[must_use]
    pub(crate) const fn shifted(self, by: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset + by,
        }
    }
}

/// The category of a [`DecodeError`]. Variants carry the limit that was exceeded, never data.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The packet or payload record is empty.
    Empty,
    /// The packet type is not one of the protocol's types.
    UnknownPacketType {
        /// The byte found where the type was expected.
        found: u8,
    },
    /// The frame is not valid UTF-8 where text is required.
    InvalidUtf8,
    /// A binary message in text form (`b...`) is not valid base64.
    InvalidBase64,
    /// The data of an Engine.IO `open` packet is not a valid handshake object.
    InvalidHandshake,
    /// Data follows a packet type that carries none.
    UnexpectedData,
    /// A polling payload length prefix (EIO v3) is missing, not a number or too long.
    InvalidLength,
    /// A polling payload record (EIO v3) is shorter than its length prefix says.
    TruncatedPayload,
    /// The Socket.IO namespace is malformed.
    InvalidNamespace,
    /// The attachment count of a binary packet is malformed or zero.
    InvalidAttachmentCount,
    /// The attachment count is above the configured limit.
    TooManyAttachments {
        /// The configured limit ([`crate::DecodeConfig::max_attachments`]).
        max: u32,
    },
    /// The ack id is not a number.
    InvalidAckId,
    /// The ack id is above 2^53 - 1, the largest id every implementation represents exactly.
    AckIdOverflow,
    /// The JSON payload is not valid JSON.
    InvalidJson,
    /// The JSON payload is valid but has the wrong shape for the packet type.
    InvalidPayload {
        /// The shape the packet type requires, e.g. `"array"`.
        expected: &'static str,
    },
    /// The input is larger than the configured limit.
    PayloadTooLarge {
        /// The configured limit in bytes ([`crate::DecodeConfig::max_payload`]).
        max: usize,
    },
    /// A polling payload holds more packets than the configured limit.
    TooManyPackets {
        /// The configured limit ([`crate::DecodeConfig::max_packets`]).
        max: usize,
    },
    /// A text packet arrived while binary attachments were still expected.
    UnexpectedText,
    /// A binary attachment arrived while no binary packet was waiting for one.
    UnexpectedBinary,
    /// A binary placeholder does not refer to a received attachment.
    InvalidPlaceholder,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty packet"),
            Self::UnknownPacketType { found } => {
                write!(f, "unknown packet type {:?}", char::from(*found))
            }
            Self::InvalidUtf8 => f.write_str("invalid UTF-8"),
            Self::InvalidBase64 => f.write_str("invalid base64"),
            Self::InvalidHandshake => f.write_str("invalid handshake"),
            Self::UnexpectedData => f.write_str("unexpected data after the packet type"),
            Self::InvalidLength => f.write_str("invalid length prefix"),
            Self::TruncatedPayload => f.write_str("payload shorter than its length prefix"),
            Self::InvalidNamespace => f.write_str("invalid namespace"),
            Self::InvalidAttachmentCount => f.write_str("invalid attachment count"),
            Self::TooManyAttachments { max } => write!(f, "more than {max} attachments"),
            Self::InvalidAckId => f.write_str("invalid ack id"),
            Self::AckIdOverflow => f.write_str("ack id above 2^53 - 1"),
            Self::InvalidJson => f.write_str("invalid JSON"),
            Self::InvalidPayload { expected } => write!(f, "invalid payload (expected {expected})"),
            Self::PayloadTooLarge { max } => write!(f, "payload larger than {max} bytes"),
            Self::TooManyPackets { max } => write!(f, "more than {max} packets in one payload"),
            Self::UnexpectedText => {
                f.write_str("text packet while binary attachments were expected")
            }
            Self::UnexpectedBinary => {
                f.write_str("binary attachment without a pending binary packet")
            }
            Self::InvalidPlaceholder => f.write_str("placeholder refers to no attachment"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl core::error::Error for DecodeError {}

/// `ErrorKind` is also the error of the validating constructors ([`Namespace::new`],
/// [`RawJson::new`], [`Packet::new`](crate::socketio::Packet::new) and its shorthands,
/// [`Assembled::new`], [`replace_placeholders`]), so it is an error type of its own.
///
/// [`Namespace::new`]: crate::socketio::Namespace::new
/// [`RawJson::new`]: crate::socketio::RawJson::new
/// [`Assembled::new`]: crate::socketio::Assembled::new
/// [`replace_placeholders`]: crate::socketio::replace_placeholders
impl core::error::Error for ErrorKind {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn displays_kind_and_offset() {
        let err = DecodeError::new(ErrorKind::TooManyAttachments { max: 10 }, 1);
        assert_eq!(err.to_string(), "more than 10 attachments at byte 1");
        assert_eq!(err.shifted(5).offset(), 6);
    }

    #[test]
    fn moves_offsets_into_the_enclosing_frame() {
        let frame = "42[\"a\",]";
        let err = DecodeError::new(ErrorKind::InvalidJson, 6);
        assert_eq!(err.in_frame(&frame[1..], frame.as_bytes()).offset(), 7);
        assert_eq!(err.in_frame(&frame[8..], frame.as_bytes()).offset(), 14);
        assert_eq!(err.in_frame(frame, frame.as_bytes()), err);
        // Not inside: unchanged.
        let copy = alloc::string::String::from(&frame[1..]);
        assert_eq!(err.in_frame(&copy, frame.as_bytes()), err);
        assert_eq!(err.in_frame(&frame[1..], &frame.as_bytes()[..5]), err);
    }

    #[test]
    fn every_error_type_is_an_error() {
        fn boxed<E: core::error::Error + Send + Sync + 'static>(e: E) -> alloc::string::String {
            alloc::boxed::Box::<dyn core::error::Error + Send + Sync>::from(e).to_string()
        }
        assert_eq!(boxed(ErrorKind::InvalidNamespace), "invalid namespace");
        assert_eq!(
            boxed(DecodeError::new(ErrorKind::Empty, 0)),
            "empty packet at byte 0"
        );
    }
}
