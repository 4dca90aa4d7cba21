//! Engine.IO v4 packet grammar: `packet = type-digit *data / "b" base64`.
//!
//! One type byte plus the rest: a hand-written cursor is clearer than a parser combinator
//! here (as in httparse and quinn).

use super::{Handshake, Message, Packet, PacketType};
use crate::{DecodeConfig, DecodeError, ErrorKind, b64};
use alloc::borrow::Cow;

impl<'a> Packet<'a> {
    /// Decodes an Engine.IO v4 text packet (a WebSocket text frame or one polling record)
    /// with the reference acceptance rules.
    ///
    /// ```
    /// use sio_codec::engineio::Packet;
    /// assert_eq!(Packet::decode_text("2probe")?, Packet::Ping(Some("probe")));
    /// assert_eq!(Packet::decode_text("4hello")?, Packet::text("hello"));
    /// assert_eq!(Packet::decode_text("bAQID")?, Packet::binary(&[1, 2, 3]));
    /// # Ok::<(), sio_codec::DecodeError>(())
    /// ```
    pub fn decode_text(frame: &'a str) -> Result<Self, DecodeError> {
        Self::decode_text_with(frame, &DecodeConfig::new())
    }

    /// [`Packet::decode_text`] with an explicit configuration.
    pub fn decode_text_with(frame: &'a str, config: &DecodeConfig) -> Result<Self, DecodeError> {
        config.check_size(frame.len())?;
        let Some(&first) = frame.as_bytes().first() else {
            return Err(DecodeError::new(ErrorKind::Empty, 0));
        };
        if first == b'b' {
            // `b` is ASCII, so index 1 is a character boundary.
            return decode_base64(&frame[1..], 1, config);
        }
        let packet_type = PacketType::from_digit(first).ok_or(DecodeError::new(
            ErrorKind::UnknownPacketType { found: first },
            0,
        ))?;
        with_data(packet_type, &frame[1..], config)
    }

    /// Decodes an Engine.IO v4 binary frame: always a `message`, borrowed without copying,
    /// once the frame is within [`DecodeConfig::max_payload`] (like every other decode path;
    /// Engine.IO v3 frames go through [`v3::decode_binary_frame`](super::v3::decode_binary_frame)).
    ///
    /// ```
    /// use sio_codec::{DecodeConfig, ErrorKind, engineio::Packet};
    /// let config = DecodeConfig::new().max_payload(4);
    /// assert_eq!(Packet::decode_binary_frame(&[1, 2, 3], &config)?, Packet::binary(&[1, 2, 3]));
    /// let err = Packet::decode_binary_frame(&[0; 5], &config).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge { max: 4 });
    /// # Ok::<(), sio_codec::DecodeError>(())
    /// ```
    pub fn decode_binary_frame(
        frame: &'a [u8],
        config: &DecodeConfig,
    ) -> Result<Self, DecodeError> {
        config.check_size(frame.len())?;
        Ok(Self::from_binary_frame(frame))
    }

    /// The message an Engine.IO v4 binary frame carries, borrowed without copying and
    /// **without any check**: for frames whose size is already bounded (built locally, or
    /// checked by the WebSocket layer). Frames received from a peer go through
    /// [`Packet::decode_binary_frame`], which applies [`DecodeConfig::max_payload`].
    pub const fn from_binary_frame(frame: &'a [u8]) -> Self {
        Self::Message(Message::Binary(Cow::Borrowed(frame)))
    }
}

/// A base64 message whose text starts at `offset`.
pub(crate) fn decode_base64<'a>(
    text: &str,
    offset: usize,
    config: &DecodeConfig,
) -> Result<Packet<'a>, DecodeError> {
    b64::decode(text, config.allows_lenient_base64())
        .map(|bytes| Packet::Message(Message::Binary(Cow::Owned(bytes))))
        .ok_or(DecodeError::new(ErrorKind::InvalidBase64, offset))
}

/// The packet of type `packet_type` whose data (`data`) starts at byte 1.
pub(crate) fn with_data<'a>(
    packet_type: PacketType,
    data: &'a str,
    config: &DecodeConfig,
) -> Result<Packet<'a>, DecodeError> {
    let optional = (!data.is_empty()).then_some(data);
    Ok(match packet_type {
        PacketType::Open => Packet::Open(
            Handshake::parse(data).ok_or(DecodeError::new(ErrorKind::InvalidHandshake, 1))?,
        ),
        PacketType::Ping => Packet::Ping(optional),
        PacketType::Pong => Packet::Pong(optional),
        PacketType::Message => Packet::Message(Message::Text(data)),
        PacketType::Close | PacketType::Upgrade | PacketType::Noop => {
            // NOTE(compat): engine.io-parser keeps any text after the type as `data`, which
            // the server never reads for these types. Accepting it means dropping it, so it
            // takes an explicit switch.
            if optional.is_some() && !config.allows_trailing_data() {
                return Err(DecodeError::new(ErrorKind::UnexpectedData, 1));
            }
            match packet_type {
                PacketType::Close => Packet::Close,
                PacketType::Upgrade => Packet::Upgrade,
                _ => Packet::Noop,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> (ErrorKind, usize) {
        let e = Packet::decode_text(input).unwrap_err();
        (e.kind(), e.offset())
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(Packet::decode_text("1").unwrap(), Packet::Close);
        assert_eq!(Packet::decode_text("2").unwrap(), Packet::Ping(None));
        assert_eq!(
            Packet::decode_text("3probe").unwrap(),
            Packet::Pong(Some("probe"))
        );
        assert_eq!(Packet::decode_text("4").unwrap(), Packet::text(""));
        assert_eq!(
            Packet::decode_text("4\u{20ac}").unwrap(),
            Packet::text("\u{20ac}")
        );
        assert_eq!(Packet::decode_text("5").unwrap(), Packet::Upgrade);
        assert_eq!(Packet::decode_text("6").unwrap(), Packet::Noop);
        assert_eq!(Packet::decode_text("b").unwrap(), Packet::binary(&[]));
        assert!(Packet::decode_text("2probe").unwrap().is_probe());
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(err(""), (ErrorKind::Empty, 0));
        assert_eq!(err("7"), (ErrorKind::UnknownPacketType { found: b'7' }, 0));
        assert_eq!(
            err("abc"),
            (ErrorKind::UnknownPacketType { found: b'a' }, 0)
        );
        assert_eq!(err("1xyz"), (ErrorKind::UnexpectedData, 1));
        assert_eq!(err("0{}"), (ErrorKind::InvalidHandshake, 1));
        assert_eq!(err("b!!!"), (ErrorKind::InvalidBase64, 1));
    }

    #[test]
    fn applies_leniency_switches() {
        let cfg = DecodeConfig::new()
            .allow_trailing_data(true)
            .allow_lenient_base64(true);
        assert_eq!(
            Packet::decode_text_with("1xyz", &cfg).unwrap(),
            Packet::Close
        );
        assert_eq!(
            Packet::decode_text_with("b!!!", &cfg).unwrap(),
            Packet::binary(&[])
        );
    }

    #[test]
    fn enforces_the_size_limit() {
        let cfg = DecodeConfig::new().max_payload(3);
        assert!(Packet::decode_text_with("4ab", &cfg).is_ok());
        let e = Packet::decode_text_with("4abc", &cfg).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (ErrorKind::PayloadTooLarge { max: 3 }, 3)
        );
    }

    #[test]
    fn enforces_the_size_limit_on_binary_frames() {
        let cfg = DecodeConfig::new().max_payload(3);
        assert_eq!(
            Packet::decode_binary_frame(&[1, 2, 3], &cfg),
            Ok(Packet::binary(&[1, 2, 3]))
        );
        let e = Packet::decode_binary_frame(&[1, 2, 3, 4], &cfg).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (ErrorKind::PayloadTooLarge { max: 3 }, 3)
        );
        let owned = super::super::PacketBuf::decode_binary_frame(
            bytes::Bytes::from_static(&[1, 2, 3, 4]),
            &cfg,
        );
        assert_eq!(owned.unwrap_err(), e);
        // The default limit is the reference's 1 000 000 bytes, as for text frames.
        let big = alloc::vec![0u8; 1_000_001];
        assert_eq!(
            Packet::decode_binary_frame(&big, &DecodeConfig::new())
                .unwrap_err()
                .kind(),
            ErrorKind::PayloadTooLarge { max: 1_000_000 }
        );
    }
}
