//! Engine.IO v4 HTTP long-polling payloads: packets joined by the record separator `\x1e`.

use super::{Message, Packet, PacketBuf};
use crate::{DecodeConfig, DecodeError, Encode, ErrorKind, WireFormat, utf8_bytes::Utf8Bytes};
use bytes::{BufMut, Bytes};
use core::ops::Range;

/// The byte between two packets of a v4 polling payload (ASCII RS).
///
/// It never occurs inside a record of a body: JSON escapes it as `\u001e` (so Socket.IO
/// payloads and the handshake never hold it raw), binary travels as base64,
/// [`socketio::Namespace::new`](crate::socketio::Namespace::new) refuses it, and
/// [`encode_payload`] refuses a text message or ping / pong data that contains it
/// ([`SeparatorInPacket`]) instead of writing a body that decodes as other packets.
/// [`Packet::text`] and the WebSocket encoders accept it: a WebSocket frame carries one
/// packet, so nothing splits it there.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// [`encode_payload`] refused `packets[index]`: its text holds the [`RECORD_SEPARATOR`], so
/// the body would decode as different packets. Such a packet can travel in a WebSocket frame
/// only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeparatorInPacket {
    index: usize,
}

impl SeparatorInPacket {
    /// The position of the refused packet in the slice given to [`encode_payload`].
    pub const fn index(&self) -> usize {
        self.index
    }
}

impl core::fmt::Display for SeparatorInPacket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "packet {} contains the record separator \\x1e and cannot go in a polling payload",
            self.index
        )
    }
}

impl core::error::Error for SeparatorInPacket {}

/// Whether `packet`'s text would be split by the record separator. Open packets are JSON,
/// which never holds a raw control character; binary is base64.
fn contains_separator(packet: &Packet<'_>) -> bool {
    let (Packet::Message(Message::Text(text))
    | Packet::Ping(Some(text))
    | Packet::Pong(Some(text))) = packet
    else {
        return false;
    };
    memchr::memchr(RECORD_SEPARATOR, text.as_bytes()).is_some()
}

/// Decodes a v4 polling body into its packets, borrowing from `body`.
///
/// Like the reference, decoding stops at the first bad record, and the packets before it are
/// still delivered: the iterator yields them, then the error, then ends. Error offsets are
/// absolute in `body`.
///
/// ```
/// use sio_codec::{DecodeConfig, engineio::{Packet, decode_payload}};
/// let packets: Vec<_> = decode_payload(b"4hello\x1e2\x1ebAQID", &DecodeConfig::new())
///     .collect::<Result<_, _>>()?;
/// assert_eq!(packets, [Packet::text("hello"), Packet::Ping(None), Packet::binary(&[1, 2, 3])]);
/// # Ok::<(), sio_codec::DecodeError>(())
/// ```
pub fn decode_payload<'a>(body: &'a [u8], config: &DecodeConfig) -> PayloadIter<'a> {
    PayloadIter {
        body,
        records: Records::new(body, config),
    }
}

/// [`decode_payload`] producing owned [`PacketBuf`]s that share `body`'s buffer.
pub fn decode_payload_buf(body: Bytes, config: &DecodeConfig) -> PayloadBufIter {
    PayloadBufIter {
        records: Records::new(&body, config),
        body,
    }
}

/// Writes `packets` as one v4 polling body (binary as `b<base64>`).
///
/// # Errors
/// [`SeparatorInPacket`] when a text message or ping / pong data contains the
/// [`RECORD_SEPARATOR`]: the body would decode as other packets. Nothing is written then.
///
/// ```
/// use sio_codec::engineio::{Packet, encode_payload};
/// let mut body = Vec::new();
/// encode_payload(&[Packet::text("a"), Packet::Ping(None)], &mut body)?;
/// assert_eq!(body, b"4a\x1e2");
/// let err = encode_payload(&[Packet::Noop, Packet::text("a\x1eb")], &mut body).unwrap_err();
/// assert_eq!(err.index(), 1);
/// # Ok::<(), sio_codec::engineio::SeparatorInPacket>(())
/// ```
pub fn encode_payload<B: BufMut>(
    packets: &[Packet<'_>],
    dst: &mut B,
) -> Result<(), SeparatorInPacket> {
    if let Some(index) = packets.iter().position(contains_separator) {
        return Err(SeparatorInPacket { index });
    }
    for (i, packet) in packets.iter().enumerate() {
        if i > 0 {
            dst.put_u8(RECORD_SEPARATOR);
        }
        packet.encode(WireFormat::Text, dst);
    }
    Ok(())
}

/// Exact length of [`encode_payload`]'s output (when it succeeds).
pub fn payload_len(packets: &[Packet<'_>]) -> usize {
    let data: usize = packets
        .iter()
        .map(|p| p.encoded_len(WireFormat::Text))
        .sum();
    data + packets.len().saturating_sub(1)
}

/// Splits a body into record ranges and enforces the payload limits; shared by the borrowed
/// and the owned iterator.
#[derive(Clone, Debug)]
struct Records {
    len: usize,
    next: Option<usize>,
    count: usize,
    too_large: bool,
    config: DecodeConfig,
}

impl Records {
    fn new(body: &[u8], config: &DecodeConfig) -> Self {
        Self {
            len: body.len(),
            next: Some(0),
            count: 0,
            too_large: config.check_size(body.len()).is_err(),
            config: *config,
        }
    }

    /// The next record's range, or the limit error that ends the payload.
    fn next(&mut self, body: &[u8]) -> Option<Result<Range<usize>, DecodeError>> {
        let start = self.next.take()?;
        if self.too_large {
            return Some(self.config.check_size(self.len).map(|()| 0..0));
        }
        self.count += 1;
        let max = self.config.packets_limit();
        if self.count > max {
            return Some(Err(DecodeError::new(
                ErrorKind::TooManyPackets { max },
                start,
            )));
        }
        let end = memchr::memchr(RECORD_SEPARATOR, &body[start..]).map_or(self.len, |i| start + i);
        if end < self.len {
            self.next = Some(end + 1);
        }
        Some(Ok(start..end))
    }

    /// Stops after an error, as the reference does.
    fn stop_on_error<T>(&mut self, item: Result<T, DecodeError>) -> Result<T, DecodeError> {
        if item.is_err() {
            self.next = None;
        }
        item
    }
}

/// Iterator over the packets of a v4 polling body; see [`decode_payload`].
#[derive(Clone, Debug)]
pub struct PayloadIter<'a> {
    body: &'a [u8],
    records: Records,
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Packet<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let body = self.body;
        let item = self.records.next(body)?.and_then(|range| {
            let start = range.start;
            let text = core::str::from_utf8(&body[range])
                .map_err(|e| DecodeError::new(ErrorKind::InvalidUtf8, start + e.valid_up_to()))?;
            Packet::decode_text_with(text, &self.records.config).map_err(|e| e.shifted(start))
        });
        Some(self.records.stop_on_error(item))
    }
}

/// Iterator over the packets of a v4 polling body as owned views; see [`decode_payload_buf`].
#[derive(Clone, Debug)]
pub struct PayloadBufIter {
    body: Bytes,
    records: Records,
}

impl Iterator for PayloadBufIter {
    type Item = Result<PacketBuf, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.records.next(&self.body)?.and_then(|range| {
            let start = range.start;
            let text = Utf8Bytes::try_from(self.body.slice(range))
                .map_err(|e| DecodeError::new(ErrorKind::InvalidUtf8, start + e.valid_up_to()))?;
            PacketBuf::decode_text_with(&text, &self.records.config).map_err(|e| e.shifted(start))
        });
        Some(self.records.stop_on_error(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn decode(body: &[u8]) -> Vec<Result<Packet<'_>, (ErrorKind, usize)>> {
        decode_payload(body, &DecodeConfig::new())
            .map(|r| r.map_err(|e| (e.kind(), e.offset())))
            .collect()
    }

    #[test]
    fn decodes_reference_payloads() {
        assert_eq!(
            decode(b"4hello\x1ebAQIDBA=="),
            [Ok(Packet::text("hello")), Ok(Packet::binary(&[1, 2, 3, 4]))]
        );
        assert_eq!(decode(b"6\x1e1"), [Ok(Packet::Noop), Ok(Packet::Close)]);
    }

    #[test]
    fn delivers_packets_before_the_first_error() {
        assert_eq!(
            decode(b"4hello\x1e"),
            [Ok(Packet::text("hello")), Err((ErrorKind::Empty, 7))]
        );
        assert_eq!(
            decode(b"4a\x1e\x1e4b"),
            [Ok(Packet::text("a")), Err((ErrorKind::Empty, 3))]
        );
        assert_eq!(decode(b""), [Err((ErrorKind::Empty, 0))]);
        assert_eq!(
            decode(b"4a\x1e4\xff"),
            [Ok(Packet::text("a")), Err((ErrorKind::InvalidUtf8, 4))]
        );
    }

    #[test]
    fn enforces_limits() {
        let cfg = DecodeConfig::new().max_packets(2);
        let r: Vec<_> = decode_payload(b"2\x1e2\x1e2", &cfg).collect();
        assert_eq!(
            r[2].as_ref().unwrap_err().kind(),
            ErrorKind::TooManyPackets { max: 2 }
        );
        let cfg = DecodeConfig::new().max_payload(2);
        let r: Vec<_> = decode_payload(b"2\x1e2", &cfg).collect();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].as_ref().unwrap_err().kind(),
            ErrorKind::PayloadTooLarge { max: 2 }
        );
    }

    #[test]
    fn owned_iterator_shares_the_body() {
        let body = Bytes::from_static(b"4hello\x1e2");
        let packets: Vec<_> = decode_payload_buf(body.clone(), &DecodeConfig::new())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            packets[0].text().unwrap().as_bytes().as_ptr(),
            body[1..].as_ptr()
        );
        assert_eq!(packets[1].as_packet(), Packet::Ping(None));
    }

    #[test]
    fn encodes_payloads() {
        let packets = [
            Packet::text("hello"),
            Packet::Ping(None),
            Packet::binary(&[1, 2, 3]),
        ];
        let mut out = Vec::new();
        encode_payload(&packets, &mut out).unwrap();
        assert_eq!(out, b"4hello\x1e2\x1ebAQID");
        assert_eq!(payload_len(&packets), out.len());
        assert_eq!(payload_len(&[]), 0);
    }

    #[test]
    fn rejects_packets_holding_the_separator() {
        // Each of these used to be written as is and decode as other packets
        // (`4a\x1eb` → [Text("a"), InvalidBase64]).
        for (i, packet) in [
            Packet::text("a\x1eb"),
            Packet::Ping(Some("\x1e")),
            Packet::Pong(Some("probe\x1e")),
        ]
        .into_iter()
        .enumerate()
        {
            let packets = [Packet::Noop, packet];
            let mut out = Vec::new();
            let err = encode_payload(&packets, &mut out).unwrap_err();
            assert_eq!(err.index(), 1, "case {i}");
            assert!(out.is_empty(), "case {i}: nothing written");
        }
        // The same text in a Socket.IO event's JSON is escaped, and travels.
        let mut out = Vec::new();
        encode_payload(&[Packet::text(r#"2["s","a\u001eb"]"#)], &mut out).unwrap();
        let decoded: Vec<_> = decode_payload(&out, &DecodeConfig::new()).collect();
        assert_eq!(decoded, [Ok(Packet::text(r#"2["s","a\u001eb"]"#))]);
    }
}
