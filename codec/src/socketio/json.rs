//! [`RawJson`] and the payload-shape rules per packet type (socket.io-parser `isPayloadValid`).

use super::PacketType;
use crate::{DecodeConfig, ErrorKind};
use core::fmt;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// JSON text known to be syntactically valid. It stays borrowed; typed access is on demand
/// with [`RawJson::deserialize`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    /// Validates `json` (one JSON value, surrounding whitespace allowed).
    pub fn new(json: &'a str) -> Result<Self, ErrorKind> {
        let mut de = serde_json::Deserializer::from_str(json);
        de::Deserialize::deserialize(&mut de)
            .and_then(|IgnoredAny| de.end())
            .map_err(|_| ErrorKind::InvalidJson)?;
        Ok(Self(json))
    }

    /// Already validated by the decoder.
    pub(crate) const fn new_unchecked(json: &'a str) -> Self {
        Self(json)
    }

    /// The JSON text.
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
    let mut de = serde_json::Deserializer::from_str(json);
    let result = de::Deserializer::deserialize_any(&mut de, expected).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            // The shape was wrong; the reference reports a syntax error the same way, but we
            // tell them apart: look for one in the rest of the text.
            match RawJson::new(json) {
                Ok(_) => Err((
                    ErrorKind::InvalidPayload {
                        expected: expected.name(),
                    },
                    0,
                )),
                Err(_) => Err((ErrorKind::InvalidJson, syntax_offset(json))),
            }
        }
        Err(e) => Err((ErrorKind::InvalidJson, error_offset(json, &e))),
    }
}

/// Where a syntax error is: the end of the text for a premature end, else the position
/// serde_json reports.
fn error_offset(json: &str, e: &serde_json::Error) -> usize {
    if e.classify() == serde_json::error::Category::Eof {
        json.len()
    } else {
        position(json, e.line(), e.column())
    }
}

/// The offset of the first syntax error in `json`.
fn syntax_offset(json: &str) -> usize {
    let mut de = serde_json::Deserializer::from_str(json);
    match de::Deserialize::deserialize(&mut de).and_then(|IgnoredAny| de.end()) {
        Ok(()) => 0,
        Err(e) => error_offset(json, &e),
    }
}

/// serde_json's 1-based line and byte column as a byte offset, clamped to the text and moved
/// back to the start of the character it falls in (serde_json counts the bytes it consumed,
/// which can end inside a multi-byte character).
fn position(json: &str, line: usize, column: usize) -> usize {
    let line_start = json
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(i, _)| i + 1);
    let line_start = if line <= 1 { 0 } else { line_start };
    let mut at = (line_start + column.saturating_sub(1)).min(json.len());
    while !json.is_char_boundary(at) {
        at -= 1;
    }
    at
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

fn wrong<E: de::Error>() -> E {
    E::custom("payload shape")
}

impl<'de> Visitor<'de> for Shape {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !matches!(
            self,
            Self::Object | Self::ObjectArrayOrNull | Self::StringOrObject | Self::StringOrJsObject
        ) {
            return Err(wrong());
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self {
            Self::EventArgs { reserved } => {
                seq.next_element_seed(EventName { reserved })?
                    .ok_or_else(wrong)?;
            }
            Self::Array | Self::ObjectArrayOrNull | Self::StringOrJsObject => {}
            _ => return Err(wrong()),
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        match self {
            Self::StringOrObject | Self::StringOrJsObject => Ok(()),
            _ => Err(wrong()),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        match self {
            Self::ObjectArrayOrNull | Self::StringOrJsObject => Ok(()),
            _ => Err(wrong()),
        }
    }

    // No packet type accepts a bare boolean or number as its payload.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(wrong())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(wrong())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(wrong())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(wrong())
    }
}

/// EVENT[0]: a number, or a string (not reserved, when `reserved`).
struct EventName {
    reserved: bool,
}

impl<'de> DeserializeSeed<'de> for EventName {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventName {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event name or number")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<(), E> {
        if self.reserved && RESERVED_EVENTS.contains(&name) {
            return Err(wrong());
        }
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(wrong())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(wrong())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(wrong())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(wrong())
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
        // serde_json reports the control character after 'ԛ' (2 bytes) one byte late, on a
        // second line: the offset must still index the text (found by fuzzing).
        let json = "[\n[\"a4/Inval\u{51b}\u{18}\"u1g\"r]x";
        let (kind, at) = shape(json, PacketType::Event).unwrap_err();
        assert_eq!(kind, ErrorKind::InvalidJson);
        assert!(json.is_char_boundary(at), "offset {at}");
        // At the control character, or (serde_json's column) the character before it.
        let control = json.find('\u{18}').unwrap();
        assert!((control - 2..=control).contains(&at), "offset {at}");
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
