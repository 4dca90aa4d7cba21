//! Engine.IO v3 framing (Socket.IO 1.x/2.x and modern servers with `allowEIO3`).
//!
//! The packet set is the same as v4 ([`Packet`]); what differs is how binary and polling
//! payloads are framed:
//!
//! | where | v3 form |
//! |---|---|
//! | binary WebSocket frame | type byte `0x04` + raw bytes |
//! | binary in text | `b4<base64>` (`b` + type digit + base64) |
//! | polling text payload | `<len>:<packet>` repeated; `len` counts **UTF-16 code units** |
//! | polling binary payload (XHR2) | per packet `0x00` (text) or `0x01` (binary), the decimal digits of the byte length as raw byte values 0–9, `0xff`, the packet |
//!
//! NOTE(compat): the v3 spec shows the XHR2 binary record without the `0x04` type byte; the
//! reference encoder and the official v3 suite both include it, and so do we.

use super::{Message, Packet, decode};
use crate::{DecodeConfig, DecodeError, Encode, ErrorKind, FrameKind, WireFormat, b64, jsnum};
use alloc::borrow::Cow;
use bytes::BufMut;

/// Decodes an Engine.IO v3 text packet: as v4, except that binary text is `b4<base64>`.
pub fn decode_text<'a>(frame: &'a str, config: &DecodeConfig) -> Result<Packet<'a>, DecodeError> {
    config.check_size(frame.len())?;
    match frame.as_bytes() {
        [] => Err(DecodeError::new(ErrorKind::Empty, 0)),
        [b'b', b'4', ..] => decode::decode_base64(&frame[2..], 2, config),
        // Only messages carry binary; `b` with another type (or none) names no packet we model.
        [b'b', other, ..] => Err(DecodeError::new(
            ErrorKind::UnknownPacketType { found: *other },
            1,
        )),
        [b'b'] => Err(DecodeError::new(
            ErrorKind::UnknownPacketType { found: b'b' },
            0,
        )),
        [first, ..] => {
            let packet_type = super::PacketType::from_digit(*first).ok_or(DecodeError::new(
                ErrorKind::UnknownPacketType { found: *first },
                0,
            ))?;
            decode::with_data(packet_type, &frame[1..], config)
        }
    }
}

/// Decodes an Engine.IO v3 binary frame: type byte `0x04` then the message bytes (borrowed).
pub fn decode_binary_frame<'a>(
    frame: &'a [u8],
    config: &DecodeConfig,
) -> Result<Packet<'a>, DecodeError> {
    config.check_size(frame.len())?;
    match frame {
        [] => Err(DecodeError::new(ErrorKind::Empty, 0)),
        [4, data @ ..] => Ok(Packet::Message(Message::Binary(Cow::Borrowed(data)))),
        [other, ..] => Err(DecodeError::new(
            ErrorKind::UnknownPacketType { found: *other },
            0,
        )),
    }
}

/// A packet encoded with v3 framing: `V3(&packet).to_bytes(WireFormat::Frames)`.
#[derive(Clone, Copy, Debug)]
pub struct V3<'p, 'a>(pub &'p Packet<'a>);

impl Encode for V3<'_, '_> {
    fn encoded_len(&self, format: WireFormat) -> usize {
        match self.0 {
            Packet::Message(Message::Binary(b)) => match format {
                WireFormat::Frames => 1 + b.len(),
                WireFormat::Text => 2 + b64::encoded_len(b.len()),
            },
            other => other.encoded_len(format),
        }
    }

    fn encode<B: BufMut>(&self, format: WireFormat, dst: &mut B) -> FrameKind {
        match self.0 {
            Packet::Message(Message::Binary(b)) => match format {
                WireFormat::Frames => {
                    dst.put_u8(4);
                    dst.put_slice(b);
                    FrameKind::Binary
                }
                WireFormat::Text => {
                    dst.put_slice(b"b4");
                    b64::put(dst, b);
                    FrameKind::Text
                }
            },
            other => other.encode(format, dst),
        }
    }
}

/// The two polling payload framings of v3. The reference server picks `Binary` only for a
/// batch that contains binary when the client did not ask for `b64`, and labels it
/// `Content-Type: application/octet-stream`; decode by the content type, not by sniffing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadFormat {
    /// `<len>:<packet>` text records (binary as `b4<base64>`).
    Text,
    /// XHR2 binary records.
    Binary,
}

/// Length of `s` in UTF-16 code units (JavaScript's `String.length`).
pub fn utf16_len(s: &str) -> usize {
    // Every non-continuation byte starts a code point; 4-byte sequences (lead byte 0xF0..)
    // are surrogate pairs and count twice.
    s.bytes().filter(|&b| (b & 0xc0) != 0x80).count() + s.bytes().filter(|&b| b >= 0xf0).count()
}

/// Decodes a v3 polling body. As in v4, the packets before the first error are delivered,
/// then the error, then the iterator ends; offsets are absolute byte offsets in `body`.
///
/// ```
/// use sio_codec::{DecodeConfig, engineio::{Packet, v3}};
/// // "😀" is 4 UTF-8 bytes but 2 UTF-16 units: the length prefix is 3.
/// let body = "6:4hello3:4😀".as_bytes();
/// let packets: Vec<_> = v3::decode_payload(body, v3::PayloadFormat::Text, &DecodeConfig::new())
///     .collect::<Result<_, _>>()?;
/// assert_eq!(packets, [Packet::text("hello"), Packet::text("😀")]);
/// # Ok::<(), sio_codec::DecodeError>(())
/// ```
pub fn decode_payload<'a>(
    body: &'a [u8],
    format: PayloadFormat,
    config: &DecodeConfig,
) -> PayloadIter<'a> {
    let (text, invalid_at) = match core::str::from_utf8(body) {
        Ok(text) => (text, None),
        Err(e) => (
            core::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or_default(),
            Some(e.valid_up_to()),
        ),
    };
    PayloadIter {
        body,
        text,
        invalid_at,
        format,
        pos: 0,
        count: 0,
        done: false,
        config: *config,
    }
}

/// Iterator over the packets of a v3 polling body; see [`decode_payload`].
#[derive(Clone, Debug)]
pub struct PayloadIter<'a> {
    body: &'a [u8],
    /// The longest valid UTF-8 prefix of `body` (text format only).
    text: &'a str,
    invalid_at: Option<usize>,
    format: PayloadFormat,
    pos: usize,
    count: usize,
    done: bool,
    config: DecodeConfig,
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Packet<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.pos == 0
            && let Err(e) = self.config.check_size(self.body.len())
        {
            self.done = true;
            return Some(Err(e));
        }
        let item = match self.format {
            PayloadFormat::Text => self.next_text(),
            PayloadFormat::Binary => self.next_binary(),
        };
        match item {
            None => {
                self.done = true;
                None
            }
            Some(Err(e)) => {
                self.done = true;
                Some(Err(e))
            }
            Some(Ok(packet)) => Some(Ok(packet)),
        }
    }
}

impl<'a> PayloadIter<'a> {
    fn count_packet(&mut self, at: usize) -> Result<(), DecodeError> {
        self.count += 1;
        let max = self.config.packets_limit();
        if self.count > max {
            return Err(DecodeError::new(ErrorKind::TooManyPackets { max }, at));
        }
        Ok(())
    }

    /// `record = length ":" packet`, where `length` counts UTF-16 units of `packet`.
    fn next_text(&mut self) -> Option<Result<Packet<'a>, DecodeError>> {
        let text = self.text;
        let utf8_error = self
            .invalid_at
            .map(|at| DecodeError::new(ErrorKind::InvalidUtf8, at));
        loop {
            let start = self.pos;
            if start == text.len() {
                return match utf8_error {
                    Some(e) => Some(Err(e)),
                    // NOTE(compat): the reference rejects an empty body ("" is a parse error).
                    None if start == 0 => Some(Err(DecodeError::new(ErrorKind::Empty, 0))),
                    None => None,
                };
            }
            let Some(colon) = memchr::memchr(b':', &text.as_bytes()[start..]).map(|i| start + i)
            else {
                let e = utf8_error.unwrap_or(DecodeError::new(ErrorKind::InvalidLength, start));
                return Some(Err(e));
            };
            let Some(units) = parse_length(&text[start..colon], &self.config) else {
                return Some(Err(DecodeError::new(ErrorKind::InvalidLength, start)));
            };
            let data_start = colon + 1;
            let Some(end) = take_utf16(text, data_start, units) else {
                let truncated = DecodeError::new(ErrorKind::TruncatedPayload, data_start);
                return Some(Err(utf8_error.unwrap_or(truncated)));
            };
            self.pos = end;
            // NOTE(compat): `0:` is an empty record that yields no packet (reference).
            if units == 0 {
                continue;
            }
            return Some(self.count_packet(start).and_then(|()| {
                decode_text(&text[data_start..end], &self.config).map_err(|e| e.shifted(data_start))
            }));
        }
    }

    /// `record = (0x00 / 0x01) 1*310(digit-byte) 0xff packet`.
    fn next_binary(&mut self) -> Option<Result<Packet<'a>, DecodeError>> {
        let body = self.body;
        let start = self.pos;
        let invalid = DecodeError::new(ErrorKind::InvalidLength, start);
        let is_binary = match body.get(start) {
            // NOTE(compat): unlike the text form, an empty binary body is an empty payload
            // for the reference (`decodePayloadAsBinary` loops over nothing).
            None => return None,
            Some(0) => false,
            Some(1) => true,
            Some(_) => return Some(Err(invalid)),
        };
        let digits_start = start + 1;
        let Some(terminator) =
            memchr::memchr(0xff, &body[digits_start..]).map(|i| digits_start + i)
        else {
            return Some(Err(invalid));
        };
        let digits = &body[digits_start..terminator];
        // The reference refuses more than 310 digits.
        if digits.is_empty() || digits.len() > 310 || digits.iter().any(|&d| d > 9) {
            return Some(Err(invalid));
        }
        let len = digits.iter().try_fold(0usize, |n, &d| {
            n.checked_mul(10)?.checked_add(usize::from(d))
        });
        let data_start = terminator + 1;
        let Some(end) = len
            .and_then(|len| data_start.checked_add(len))
            .filter(|&end| end <= body.len())
        else {
            return Some(Err(DecodeError::new(
                ErrorKind::TruncatedPayload,
                data_start,
            )));
        };
        self.pos = end;
        let data = &body[data_start..end];
        Some(self.count_packet(start).and_then(|()| {
            let packet = if is_binary {
                decode_binary_frame(data, &self.config)
            } else {
                core::str::from_utf8(data)
                    .map_err(|e| DecodeError::new(ErrorKind::InvalidUtf8, e.valid_up_to()))
                    .and_then(|text| decode_text(text, &self.config))
            };
            packet.map_err(|e| e.shifted(data_start))
        }))
    }
}

/// A length prefix: plain digits, or (with JS number coercion) anything `Number()` maps to a
/// non-negative integer, as the reference's `length != Number(length)` check allows.
fn parse_length(s: &str, config: &DecodeConfig) -> Option<usize> {
    let plain = !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit());
    let value = if plain {
        s.parse().ok()
    } else if config.allows_js_number_coercion() && !s.is_empty() {
        jsnum::to_integer(s)
    } else {
        None
    }?;
    usize::try_from(value).ok()
}

/// The end of the `units` UTF-16 code units that start at byte `start`, or `None` when the
/// text is shorter or the count ends inside a surrogate pair.
fn take_utf16(text: &str, start: usize, units: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    // Fast path: ASCII bytes are one unit each.
    if let Some(head) = rest.as_bytes().get(..units)
        && head.is_ascii()
    {
        return Some(start + units);
    }
    let mut counted = 0;
    for (i, c) in rest.char_indices() {
        if counted == units {
            return Some(start + i);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(text.len())
}

/// UTF-16 length of a packet's v3 text encoding (the `len` of its record).
fn text_units(packet: &Packet<'_>) -> usize {
    1 + match packet {
        Packet::Open(h) => utf16_len(h.json()),
        Packet::Ping(d) | Packet::Pong(d) => d.map_or(0, utf16_len),
        Packet::Message(Message::Text(t)) => utf16_len(t),
        Packet::Message(Message::Binary(b)) => 1 + b64::encoded_len(b.len()),
        Packet::Close | Packet::Upgrade | Packet::Noop => 0,
    }
}

fn decimal_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// Writes the decimal digits of `n`, each as `base + digit`.
fn put_decimal<B: BufMut>(dst: &mut B, n: usize, base: u8) {
    let mut digits = [0u8; 20];
    let len = decimal_len(n);
    let mut rest = n;
    for slot in digits[..len].iter_mut().rev() {
        // `rest % 10` is below 10.
        *slot = base + (rest % 10) as u8;
        rest /= 10;
    }
    dst.put_slice(&digits[..len]);
}

/// Writes `packets` as one v3 polling body.
///
/// An empty list is `0:` in the text format (what the reference decoder accepts as "no
/// packets") and an empty body in the binary format.
pub fn encode_payload<B: BufMut>(packets: &[Packet<'_>], format: PayloadFormat, dst: &mut B) {
    match format {
        PayloadFormat::Text if packets.is_empty() => dst.put_slice(b"0:"),
        PayloadFormat::Text => {
            for packet in packets {
                put_decimal(dst, text_units(packet), b'0');
                dst.put_u8(b':');
                V3(packet).encode(WireFormat::Text, dst);
            }
        }
        PayloadFormat::Binary => {
            for packet in packets {
                let binary = matches!(packet, Packet::Message(Message::Binary(_)));
                let format = if binary {
                    WireFormat::Frames
                } else {
                    WireFormat::Text
                };
                dst.put_u8(u8::from(binary));
                put_decimal(dst, V3(packet).encoded_len(format), 0);
                dst.put_u8(0xff);
                V3(packet).encode(format, dst);
            }
        }
    }
}

/// Exact length of [`encode_payload`]'s output.
pub fn payload_len(packets: &[Packet<'_>], format: PayloadFormat) -> usize {
    match format {
        PayloadFormat::Text if packets.is_empty() => 2,
        PayloadFormat::Text => packets
            .iter()
            .map(|p| decimal_len(text_units(p)) + 1 + V3(p).encoded_len(WireFormat::Text))
            .sum(),
        PayloadFormat::Binary => packets
            .iter()
            .map(|p| {
                let binary = matches!(p, Packet::Message(Message::Binary(_)));
                let format = if binary {
                    WireFormat::Frames
                } else {
                    WireFormat::Text
                };
                let len = V3(p).encoded_len(format);
                2 + decimal_len(len) + len
            })
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn decode(body: &[u8], format: PayloadFormat) -> Vec<Result<Packet<'_>, (ErrorKind, usize)>> {
        decode_payload(body, format, &DecodeConfig::new())
            .map(|r| r.map_err(|e| (e.kind(), e.offset())))
            .collect()
    }

    fn encode(packets: &[Packet<'_>], format: PayloadFormat) -> Vec<u8> {
        let mut out = Vec::new();
        encode_payload(packets, format, &mut out);
        assert_eq!(out.len(), payload_len(packets, format));
        out
    }

    #[test]
    fn counts_utf16_units() {
        assert_eq!(utf16_len("a\u{20ac}\u{1f600}"), 4);
        assert_eq!(
            encode(&[Packet::text("\u{1f600}")], PayloadFormat::Text),
            "3:4\u{1f600}".as_bytes()
        );
        assert_eq!(
            encode(&[Packet::text("\u{20ac}")], PayloadFormat::Text),
            "2:4\u{20ac}".as_bytes()
        );
    }

    #[test]
    fn decodes_text_payloads() {
        let text = PayloadFormat::Text;
        assert_eq!(
            decode(b"6:4hello10:b4AQIDBA==", text),
            [Ok(Packet::text("hello")), Ok(Packet::binary(&[1, 2, 3, 4]))]
        );
        assert_eq!(decode(b"0:", text), []);
        assert_eq!(decode(b"01:2", text), [Ok(Packet::Ping(None))]);
        assert_eq!(decode(b"", text), [Err((ErrorKind::Empty, 0))]);
        assert_eq!(decode(b"12", text), [Err((ErrorKind::InvalidLength, 0))]);
        assert_eq!(
            decode(b"1:2x:2", text),
            [Ok(Packet::Ping(None)), Err((ErrorKind::InvalidLength, 3))]
        );
        assert_eq!(
            decode(b"5:4a", text),
            [Err((ErrorKind::TruncatedPayload, 2))]
        );
        assert_eq!(
            decode("2:4\u{1f600}".as_bytes(), text),
            [Err((ErrorKind::TruncatedPayload, 2))]
        );
        assert_eq!(
            decode("4:4\u{1f600}".as_bytes(), text),
            [Err((ErrorKind::TruncatedPayload, 2))]
        );
        assert_eq!(
            decode(b"1:2\xff", text),
            [Ok(Packet::Ping(None)), Err((ErrorKind::InvalidUtf8, 3))]
        );
    }

    #[test]
    fn rejects_coerced_lengths_when_strict() {
        let r: Vec<_> =
            decode_payload(b" 1:2", PayloadFormat::Text, &DecodeConfig::strict()).collect();
        assert_eq!(r[0].as_ref().unwrap_err().kind(), ErrorKind::InvalidLength);
        assert_eq!(
            decode(b" 1:2", PayloadFormat::Text),
            [Ok(Packet::Ping(None))]
        );
    }

    #[test]
    fn decodes_and_encodes_xhr2_payloads() {
        let body = [
            0x00, 0x06, 0xff, b'4', b'h', b'e', b'l', b'l', b'o', 0x01, 0x05, 0xff, 4, 1, 2, 3, 4,
        ];
        let packets = [Packet::text("hello"), Packet::binary(&[1, 2, 3, 4])];
        assert_eq!(
            decode(&body, PayloadFormat::Binary),
            packets.clone().map(Ok)
        );
        assert_eq!(encode(&packets, PayloadFormat::Binary), body);
        let long = [7u8; 300];
        let out = encode(&[Packet::binary(&long)], PayloadFormat::Binary);
        assert_eq!(out[..6], [0x01, 3, 0, 1, 0xff, 4]);
    }

    #[test]
    fn rejects_malformed_xhr2_payloads() {
        let bin = PayloadFormat::Binary;
        assert_eq!(
            decode(&[2, 1, 0xff, b'2'], bin),
            [Err((ErrorKind::InvalidLength, 0))]
        );
        assert_eq!(
            decode(&[0, 5, 0xff, b'4'], bin),
            [Err((ErrorKind::TruncatedPayload, 3))]
        );
        assert_eq!(
            decode(&[0, 1, 0xff, b'2', 0, 0x0a, 0xff], bin),
            [Ok(Packet::Ping(None)), Err((ErrorKind::InvalidLength, 4))]
        );
        let mut many = alloc::vec![0u8; 312];
        many.push(0xff);
        assert_eq!(decode(&many, bin), [Err((ErrorKind::InvalidLength, 0))]);
    }

    #[test]
    fn frames_binary_with_a_type_byte() {
        let (kind, bytes) = V3(&Packet::binary(&[1, 2])).to_bytes(WireFormat::Frames);
        assert_eq!((kind, &bytes[..]), (FrameKind::Binary, &[4u8, 1, 2][..]));
        let (_, text) = V3(&Packet::binary(&[1, 2, 3, 4])).to_bytes(WireFormat::Text);
        assert_eq!(&text[..], b"b4AQIDBA==");
        let cfg = DecodeConfig::new();
        assert_eq!(
            decode_binary_frame(&[4, 1], &cfg).unwrap(),
            Packet::binary(&[1])
        );
        assert_eq!(
            decode_binary_frame(&[1, 1], &cfg).unwrap_err().kind(),
            ErrorKind::UnknownPacketType { found: 1 }
        );
        assert_eq!(decode_text("b4", &cfg).unwrap(), Packet::binary(&[]));
    }
}
