//! [`RawJson`] and the payload-shape rules per packet type (socket.io-parser `isPayloadValid`).

use super::{
    PacketType,
    scanner::{self, Token},
};
use crate::{DecodeConfig, ErrorKind};
use core::fmt;
use serde::de;

/// JSON text known to be syntactically valid. It stays borrowed; typed access is on demand
/// with [`RawJson::deserialize`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    /// Validates `json` (one JSON value, surrounding whitespace allowed) and keeps the value's
    /// text without that whitespace.
    ///
    /// Why trimmed: in a Socket.IO packet the payload follows the ack id, and a receiver that
    /// reads ids as JavaScript does (the reference) takes leading whitespace as part of the
    /// id. `2 ["a"]` is an event *with ack id 0* there, so a payload must never start with
    /// whitespace on the wire; trimming here (and in the decoder) makes every encoding
    /// unambiguous.
    ///
    /// ```
    /// use sio_codec::socketio::RawJson;
    /// assert_eq!(RawJson::new(" [1, 2]\n")?.as_str(), "[1, 2]");
    /// # Ok::<(), sio_codec::ErrorKind>(())
    /// ```
    pub fn new(json: &'a str) -> Result<Self, ErrorKind> {
        scanner::validate(json).map_err(|_| ErrorKind::InvalidJson)?;
        Ok(Self::new_unchecked(json))
    }

    /// Already validated by the decoder (surrounding whitespace is dropped here too).
    pub(crate) fn new_unchecked(json: &'a str) -> Self {
        Self(json.trim_matches(JSON_WHITESPACE))
    }

    /// The JSON text (the value alone, no surrounding whitespace).
    pub const fn as_str(&self) -> &'a str {
        self.0
    }

    /// Deserializes the payload (borrowing strings from it where possible).
    ///
    /// ```
    /// use sio_codec::socketio::Packet;
    /// let packet = Packet::decode_text(r#"2["chat",{"msg":"hi"}]"#)?;
    /// let (event, body): (&str, std::collections::HashMap<&str, &str>) =
    ///     packet.data().unwrap().deserialize().unwrap();
    /// assert_eq!((event, body["msg"]), ("chat", "hi"));
    /// # Ok::<(), sio_codec::DecodeError>(())
    /// ```
    pub fn deserialize<T: de::Deserialize<'a>>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0)
    }
}

impl fmt::Debug for RawJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0)
    }
}

/// The whitespace JSON allows around a value (RFC 8259 `ws`).
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Event names the v5 parser refuses as EVENT[0] (`error` is not among them).
const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Checks that `json` is valid JSON whose shape suits `packet_type`, in one pass.
///
/// Errors carry the byte offset in `json`: the syntax error's position for
/// [`ErrorKind::InvalidJson`], 0 for [`ErrorKind::InvalidPayload`].
pub(crate) fn check_shape(
    json: &str,
    packet_type: PacketType,
    config: &DecodeConfig,
) -> Result<(), (ErrorKind, usize)> {
    let expected = Shape::for_type(packet_type, config);
    // A syntax error anywhere wins over a wrong shape, as in the reference (`JSON.parse`
    // throws before `isPayloadValid` runs).
    scanner::validate(json).map_err(|at| (ErrorKind::InvalidJson, at))?;
    if expected.accepts(scanner::head(json)) {
        Ok(())
    } else {
        Err((
            ErrorKind::InvalidPayload {
                expected: expected.name(),
            },
            0,
        ))
    }
}

/// The payload shapes of the reference's `isPayloadValid`.
#[derive(Clone, Copy)]
enum Shape {
    /// v5 CONNECT: a plain object.
    Object,
    /// v4 CONNECT: `typeof === "object"`: object, array or null.
    ObjectArrayOrNull,
    /// DISCONNECT: no payload at all.
    Nothing,
    /// EVENT: non-empty array starting with a number or an event name (`reserved` forbids
    /// the reserved names).
    EventArgs { reserved: bool },
    /// ACK: any array.
    Array,
    /// v5 CONNECT_ERROR: string or object.
    StringOrObject,
    /// v4 ERROR: `typeof` string or object (object, array or null).
    StringOrJsObject,
}

impl Shape {
    fn for_type(packet_type: PacketType, config: &DecodeConfig) -> Self {
        let v4 = config.is_socketio_v4();
        match packet_type {
            PacketType::Connect if v4 => Self::ObjectArrayOrNull,
            PacketType::Connect => Self::Object,
            PacketType::Disconnect => Self::Nothing,
            PacketType::Event | PacketType::BinaryEvent => Self::EventArgs { reserved: !v4 },
            PacketType::Ack | PacketType::BinaryAck => Self::Array,
            PacketType::ConnectError if v4 => Self::StringOrJsObject,
            PacketType::ConnectError => Self::StringOrObject,
        }
    }

    /// Whether a payload whose [`scanner::head`] is `(first, second)` has this shape.
    fn accepts(self, (first, second): (Option<Token<'_>>, Option<Token<'_>>)) -> bool {
        let Some(first) = first else { return false };
        match first {
            Token::ObjectStart => matches!(
                self,
                Self::Object
                    | Self::ObjectArrayOrNull
                    | Self::StringOrObject
                    | Self::StringOrJsObject
            ),
            Token::ArrayStart => match self {
                // The first element: a number, or an event name (not reserved, in v5).
                Self::EventArgs { reserved } => match second {
                    Some(Token::Number(_)) => true,
                    Some(Token::String(name)) => {
                        !reserved || !RESERVED_EVENTS.iter().any(|r| name.decodes_to(r))
                    }
                    _ => false,
                },
                Self::Array | Self::ObjectArrayOrNull | Self::StringOrJsObject => true,
                _ => false,
            },
            Token::String(_) => matches!(self, Self::StringOrObject | Self::StringOrJsObject),
            Token::Null => matches!(self, Self::ObjectArrayOrNull | Self::StringOrJsObject),
            // No packet type accepts a bare boolean or number as its payload.
            _ => false,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::ObjectArrayOrNull => "object, array or null",
            Self::Nothing => "no payload",
            Self::EventArgs { reserved: true } => {
                "array starting with a number or a non-reserved event name"
            }
            Self::EventArgs { reserved: false } => "array starting with a number or a string",
            Self::Array => "array",
            Self::StringOrObject => "string or object",
            Self::StringOrJsObject => "string, object, array or null",
        }
    }
}

/// Serializes `value` as `JSON.stringify` would: serde_json's output with JavaScript number
/// formatting (`1.0` → `1`, `-0` → `0`, `1e21` → `1e+21`). Strings are escaped the same way
/// by both (raw UTF-8, `\u00XX` for other control characters, `/` and U+2028 unescaped).
#[cfg(feature = "std")]
pub fn to_js_json<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<alloc::string::String, serde_json::Error> {
    let mut out = alloc::vec::Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, JsFormatter);
    value.serialize(&mut ser)?;
    // serde_json writes UTF-8 only.
    alloc::string::String::from_utf8(out).map_err(|_| de::Error::custom("non-UTF-8 output"))
}

/// serde_json formatting with JavaScript's `Number.prototype.toString` for floats.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct JsFormatter;

#[cfg(feature = "std")]
impl serde_json::ser::Formatter for JsFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        w.write_all(js_number(value).as_bytes())
    }

    fn write_f32<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f32,
    ) -> std::io::Result<()> {
        w.write_all(js_number(f64::from(value)).as_bytes())
    }
}

/// `Number.prototype.toString()` for a finite `value` (ECMA-262 Number::toString).
#[cfg(feature = "std")]
fn js_number(value: f64) -> alloc::string::String {
    use alloc::{format, string::String};
    if value == 0.0 {
        return String::from("0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like JS: "d.ddde±x".
    let exp_form = format!("{:e}", value.abs());
    let (mantissa, exponent) = exp_form.split_once('e').unwrap_or((&exp_form, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exponent.parse::<i64>().unwrap_or(0) + 1;
    let sign = if value < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e >= 0 { "+" } else { "-" };
        match digits.split_at(1) {
            (first, "") => format!("{first}e{e_sign}{}", e.abs()),
            (first, rest) => format!("{first}.{rest}e{e_sign}{}", e.abs()),
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(json: &str, t: PacketType) -> Result<(), (ErrorKind, usize)> {
        check_shape(json, t, &DecodeConfig::new())
    }

    #[test]
    fn syntax_error_offsets_fall_on_character_boundaries() {
        // A control character after a 2-byte character on a second line (found by fuzzing
        // when the offsets came from serde_json's line and column).
        let json = "[\n[\"a4/Inval\u{51b}\u{18}\"u1g\"r]x";
        let (kind, at) = shape(json, PacketType::Event).unwrap_err();
        assert_eq!(kind, ErrorKind::InvalidJson);
        assert_eq!(at, json.find('\u{18}').unwrap());
    }

    #[test]
    fn payloads_never_start_with_whitespace_that_would_read_as_an_ack_id() {
        use crate::socketio::{AckId, Namespace, Packet};
        for (json, id) in [(" [\"a\"]", None), ("\n\t[\"a\"] \r", AckId::new(3))] {
            let data = RawJson::new(json).unwrap();
            assert_eq!(data.as_str(), "[\"a\"]");
            let packet =
                Packet::new(PacketType::Event, Namespace::ROOT, id, Some(data), 0).unwrap();
            let text = packet.to_text();
            // As the reference reads it: whitespace after the type is part of the ack id.
            let read = Packet::decode_text_with(&text, &DecodeConfig::new()).unwrap();
            assert_eq!((read.id(), read.data()), (id, Some(data)), "{text:?}");
        }
        // Decoded payloads are trimmed the same way (the strict rules read `2 [..]` without
        // an id), so that re-encoding them cannot add one.
        let strict = DecodeConfig::strict();
        let read = Packet::decode_text_with("2 [\"a\"] ", &strict).unwrap();
        assert_eq!(
            (read.id(), read.data().map(|d| d.as_str())),
            (None, Some("[\"a\"]"))
        );
    }

    #[test]
    fn checks_event_shapes() {
        assert!(shape(r#"["a",1]"#, PacketType::Event).is_ok());
        assert!(shape("[1]", PacketType::Event).is_ok());
        assert!(shape(r#"["error"]"#, PacketType::Event).is_ok());
        for bad in [
            "[]",
            r#"["connect"]"#,
            r#"["conn\u0065ct"]"#,
            "[null]",
            "{}",
            r#""s""#,
        ] {
            assert_eq!(
                shape(bad, PacketType::Event).unwrap_err().0.clone(),
                ErrorKind::InvalidPayload {
                    expected: "array starting with a number or a non-reserved event name"
                },
                "{bad}"
            );
        }
        let v4 = DecodeConfig::socketio_v4();
        assert!(check_shape(r#"["connect"]"#, PacketType::Event, &v4).is_ok());
    }

    #[test]
    fn checks_other_shapes() {
        assert!(shape("{}", PacketType::Connect).is_ok());
        assert!(shape("[]", PacketType::Connect).is_err());
        assert!(check_shape("null", PacketType::Connect, &DecodeConfig::socketio_v4()).is_ok());
        assert!(shape("{}", PacketType::Disconnect).is_err());
        assert!(shape("[]", PacketType::Ack).is_ok());
        assert!(shape(r#""x""#, PacketType::ConnectError).is_ok());
        assert!(shape("[]", PacketType::ConnectError).is_err());
    }

    #[test]
    fn tells_syntax_from_shape_errors() {
        assert_eq!(
            shape(r#"["a",]"#, PacketType::Event),
            Err((ErrorKind::InvalidJson, 5))
        );
        assert_eq!(
            shape(r#"{"a":1} x"#, PacketType::Connect),
            Err((ErrorKind::InvalidJson, 8))
        );
        assert_eq!(
            shape(r#"[] x"#, PacketType::Event).unwrap_err().0,
            ErrorKind::InvalidJson
        );
        assert_eq!(
            shape("\n[\n1,]", PacketType::Ack),
            Err((ErrorKind::InvalidJson, 5))
        );
    }

    #[test]
    fn formats_numbers_like_javascript() {
        for (v, s) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (-1.25e25, "-1.25e+25"),
        ] {
            assert_eq!(js_number(v), s, "{v}");
        }
    }
}
