//! Socket.IO packet grammar (complete input):
//!
//! ```text
//! packet      = type [attachments] [namespace] [ack-id] [payload]
//! type        = %x30-36                       ; "0".."6"
//! attachments = 1*DIGIT "-"                   ; BINARY_EVENT / BINARY_ACK only
//! namespace   = "/" *(%x00-2B / %x2D-10FFFF) [","]
//! ack-id      = 1*DIGIT
//! payload     = JSON text                     ; shape checked per type
//! ```
//!
//! Each production is a small nom function; errors carry the remaining input and are turned
//! into absolute offsets at the API boundary.

use super::{
    RawJson,
    json::check_shape,
    packet::{AckId, Namespace, Packet, PacketType},
};
use crate::{DecodeConfig, DecodeError, ErrorKind, jsnum};
use nom::{
    IResult, Parser,
    bytes::complete::{take_till, take_while},
    character::complete::char,
    combinator::opt,
    sequence::terminated,
};

/// A grammar error: where (the remaining input) and what.
#[derive(Debug)]
struct Error<'a> {
    input: &'a str,
    kind: ErrorKind,
}

impl<'a> nom::error::ParseError<&'a str> for Error<'a> {
    fn from_error_kind(input: &'a str, _: nom::error::ErrorKind) -> Self {
        Self {
            input,
            kind: ErrorKind::InvalidJson,
        }
    }

    fn append(_: &'a str, _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, Error<'a>>;

fn fail<T>(input: &str, kind: ErrorKind) -> Res<'_, T> {
    Err(nom::Err::Failure(Error { input, kind }))
}

impl<'a> Packet<'a> {
    /// Decodes a Socket.IO packet (the data of an Engine.IO message, without its `4`) with
    /// the reference acceptance rules. Error offsets count in `text`;
    /// [`DecodeError::in_frame`] gives them in the WebSocket frame or polling body `text` was
    /// cut from.
    ///
    /// ```
    /// use sio_codec::socketio::{Packet, PacketType};
    /// let packet = Packet::decode_text(r#"2/admin,456["project:delete",123]"#)?;
    /// assert_eq!(packet.packet_type(), PacketType::Event);
    /// assert_eq!(packet.namespace().as_str(), "/admin");
    /// assert_eq!(packet.id().map(|id| id.get()), Some(456));
    /// assert_eq!(packet.data().unwrap().as_str(), r#"["project:delete",123]"#);
    /// # Ok::<(), sio_codec::DecodeError>(())
    /// ```
    pub fn decode_text(text: &'a str) -> Result<Self, DecodeError> {
        Self::decode_text_with(text, &DecodeConfig::new())
    }

    /// [`Packet::decode_text`] with an explicit configuration.
    pub fn decode_text_with(text: &'a str, config: &DecodeConfig) -> Result<Self, DecodeError> {
        config.check_size(text.len())?;
        let offset = |rest: &str| text.len() - rest.len();
        packet(text, config).map(|(_, p)| p).map_err(|e| match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => DecodeError::new(e.kind, offset(e.input)),
            // Complete-input parsers never ask for more.
            nom::Err::Incomplete(_) => DecodeError::new(ErrorKind::Empty, text.len()),
        })
    }
}

fn packet<'a>(input: &'a str, config: &DecodeConfig) -> Res<'a, Packet<'a>> {
    let (rest, packet_type) = packet_type(input, config)?;
    let (rest, attachments) = if packet_type.is_binary() {
        attachments(rest, config)?
    } else {
        (rest, 0)
    };
    let (rest, namespace) = namespace(rest)?;
    let (rest, id) = ack_id(rest, config)?;
    let data = if rest.is_empty() {
        None
    } else {
        if let Err((kind, at)) = check_shape(rest, packet_type, config) {
            return fail(&rest[at..], kind);
        }
        Some(RawJson::new_unchecked(rest))
    };
    let packet = Packet::from_parts(packet_type, attachments, namespace, id, data);
    Ok(("", packet))
}

/// `type = %x30-36`
///
/// NOTE(compat): the reference computes `Number(str.charAt(0))`, so an empty packet and a
/// whitespace type character both decode as CONNECT (with JS number coercion on).
fn packet_type<'a>(input: &'a str, config: &DecodeConfig) -> Res<'a, PacketType> {
    let Some(first) = input.chars().next() else {
        return if config.allows_js_number_coercion() {
            Ok((input, PacketType::Connect))
        } else {
            fail(input, ErrorKind::Empty)
        };
    };
    let rest = &input[first.len_utf8()..];
    if let Some(packet_type) = u8::try_from(first).ok().and_then(PacketType::from_digit) {
        return Ok((rest, packet_type));
    }
    if config.allows_js_number_coercion()
        && jsnum::is_js_whitespace(first)
        && first.len_utf16() == 1
    {
        return Ok((rest, PacketType::Connect));
    }
    fail(
        input,
        ErrorKind::UnknownPacketType {
            found: input.as_bytes()[0],
        },
    )
}

/// `attachments = 1*DIGIT "-"`
///
/// NOTE(compat): the reference accepts whatever `Number()` turns into an integer (` 1`, `1.0`,
/// `0x1`, `1e0`), which JS number coercion mirrors; 4.2.7 refuses 0.
fn attachments<'a>(input: &'a str, config: &DecodeConfig) -> Res<'a, u32> {
    let invalid = || fail(input, ErrorKind::InvalidAttachmentCount);
    let Ok((rest, count)) =
        terminated(take_till::<_, _, Error<'a>>(|c| c == '-'), char('-')).parse(input)
    else {
        return invalid();
    };
    let plain = !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit());
    let value = if plain {
        // Any digit run longer than u64 is certainly above the limit.
        Some(count.parse::<u64>().unwrap_or(u64::MAX))
    } else if config.allows_js_number_coercion() {
        jsnum::to_integer(count).filter(|_| !count.is_empty())
    } else {
        None
    };
    let Some(value) = value else { return invalid() };
    if value == 0 && !config.allows_zero_attachments() {
        return invalid();
    }
    let max = config.attachments_limit();
    match u32::try_from(value) {
        Ok(n) if n <= max => Ok((rest, n)),
        _ => fail(input, ErrorKind::TooManyAttachments { max }),
    }
}

/// `namespace = "/" *(%x00-2B / %x2D-10FFFF) [","]`; absent means `/`.
///
/// NOTE(compat): the comma is optional when nothing follows (`40/custom` is what the
/// official suite sends), exactly as in the reference.
fn namespace(input: &str) -> Res<'_, Namespace<'_>> {
    if !input.starts_with('/') {
        return Ok((input, Namespace::ROOT));
    }
    let (rest, name) = terminated(take_till(|c| c == ','), opt(char(','))).parse(input)?;
    Ok((rest, Namespace::new_unchecked(name)))
}

/// `ack-id = 1*DIGIT`, at most 2^53 - 1.
///
/// NOTE(compat): the reference treats whitespace as a digit here (`2 ["a"]` has id 0); with
/// JS number coercion on we do too, and a run that `Number()` cannot read (`1 2`) is
/// [`ErrorKind::InvalidAckId`] instead of JavaScript's `NaN` id.
fn ack_id<'a>(input: &'a str, config: &DecodeConfig) -> Res<'a, Option<AckId>> {
    let coerce = config.allows_js_number_coercion();
    let (rest, digits) = take_while(|c: char| {
        c.is_ascii_digit() || (coerce && jsnum::is_js_whitespace(c) && c.len_utf16() == 1)
    })
    .parse(input)?;
    if digits.is_empty() {
        return Ok((input, None));
    }
    let significant = digits.trim_start_matches('0');
    let value = if digits.bytes().all(|b| b.is_ascii_digit()) {
        if significant.len() > 16 {
            return fail(input, ErrorKind::AckIdOverflow);
        }
        significant.parse::<u64>().unwrap_or(0)
    } else {
        match jsnum::to_integer(digits) {
            Some(value) => value,
            None => return fail(input, ErrorKind::InvalidAckId),
        }
    };
    match AckId::new(value) {
        Some(id) => Ok((rest, Some(id))),
        None => fail(input, ErrorKind::AckIdOverflow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::String};

    fn show(text: &str) -> String {
        match Packet::decode_text(text) {
            Ok(p) => format!("{p:?}"),
            Err(e) => format!("{:?}@{}", e.kind(), e.offset()),
        }
    }

    #[test]
    fn decodes_the_header_productions() {
        assert_eq!(show("0"), r#"Connect "/""#);
        assert_eq!(show("0/admin"), r#"Connect "/admin""#);
        assert_eq!(show("0/admin?token=123,"), r#"Connect "/admin?token=123""#);
        assert_eq!(
            show(r#"2/admin,456["a",1]"#),
            r#"Event "/admin" id=456 ["a",1]"#
        );
        assert_eq!(show(r#"2/123,7["x"]"#), r#"Event "/123" id=7 ["x"]"#);
        assert_eq!(
            show(r#"52-789["a",{}]"#),
            r#"BinaryEvent(2) "/" id=789 ["a",{}]"#
        );
        assert_eq!(
            show(r#"61-/admin,456[{}]"#),
            r#"BinaryAck(1) "/admin" id=456 [{}]"#
        );
        assert_eq!(show("012"), r#"Connect "/" id=12"#);
        assert_eq!(show("3[]"), r#"Ack "/" []"#);
        assert_eq!(show("2"), r#"Event "/""#);
    }

    #[test]
    fn mirrors_reference_quirks() {
        assert_eq!(show(""), r#"Connect "/""#);
        assert_eq!(show(" "), r#"Connect "/""#);
        assert_eq!(show(r#"2 ["a"]"#), r#"Event "/" id=0 ["a"]"#);
        assert_eq!(show(r#"5 1-["a"]"#), r#"BinaryEvent(1) "/" ["a"]"#);
        assert_eq!(show(r#"50x1-["a"]"#), r#"BinaryEvent(1) "/" ["a"]"#);
        assert_eq!(show(r#"51e1-["a"]"#), r#"BinaryEvent(10) "/" ["a"]"#);
        assert_eq!(show(r#"2012["a"]"#), r#"Event "/" id=12 ["a"]"#);
    }

    #[test]
    fn rejects_malformed_headers() {
        assert_eq!(show("7"), "UnknownPacketType { found: 55 }@0");
        assert_eq!(show("a"), "UnknownPacketType { found: 97 }@0");
        assert_eq!(show("5"), "InvalidAttachmentCount@1");
        assert_eq!(show("51"), "InvalidAttachmentCount@1");
        assert_eq!(show(r#"50-["a"]"#), "InvalidAttachmentCount@1");
        assert_eq!(show(r#"5-["a"]"#), "InvalidAttachmentCount@1");
        assert_eq!(show(r#"51.23-["a"]"#), "InvalidAttachmentCount@1");
        assert_eq!(show(r#"511-["a"]"#), "TooManyAttachments { max: 10 }@1");
        assert_eq!(show(r#"29007199254740992["x"]"#), "AckIdOverflow@1");
        assert_eq!(show(r#"2123456789012345678901["x"]"#), "AckIdOverflow@1");
        assert_eq!(show(r#"21 2["x"]"#), "InvalidAckId@1");
        assert_eq!(show(r#"2abc["a"]"#), "InvalidJson@1");
        assert_eq!(
            show(r#"2[]"#),
            r#"InvalidPayload { expected: "array starting with a number or a non-reserved event name" }@1"#
        );
        assert_eq!(
            show(r#"1{}"#),
            r#"InvalidPayload { expected: "no payload" }@1"#
        );
        assert_eq!(show(r#"442["some","data""#), "InvalidJson@17");
    }

    #[test]
    fn strict_mode_refuses_the_quirks() {
        let strict = DecodeConfig::strict();
        let kind = |t| Packet::decode_text_with(t, &strict).unwrap_err().kind();
        assert_eq!(kind(""), ErrorKind::Empty);
        assert_eq!(kind(" "), ErrorKind::UnknownPacketType { found: b' ' });
        assert_eq!(kind(r#"5 1-["a"]"#), ErrorKind::InvalidAttachmentCount);
        // Without coercion the space is JSON whitespace, not an ack id.
        let p = Packet::decode_text_with(r#"2 ["a"]"#, &strict).unwrap();
        assert_eq!(p.id(), None);
    }
}
