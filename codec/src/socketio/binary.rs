//! Binary attachments: the placeholder model, the sans-IO [`Reassembler`] and encoding of
//! typed values with binary leaves.
//!
//! A binary packet's JSON holds `{"_placeholder":true,"num":N}` where attachment `N` goes;
//! the attachments follow the packet as separate binary messages, in order.

use super::packet::PacketBuf;
#[cfg(feature = "std")]
use super::{
    PacketType,
    packet::{AckId, Namespace, Packet},
};
use crate::{DecodeConfig, DecodeError, ErrorKind, utf8_bytes::Utf8Bytes};
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A packet and its binary attachments.
#[derive(Clone, PartialEq, Eq)]
pub struct Assembled {
    packet: PacketBuf,
    attachments: Vec<Bytes>,
}

/// One frame to send: the packet text, then one binary frame per attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutFrame {
    /// The packet (to be sent as an Engine.IO text message).
    Text(Utf8Bytes),
    /// One attachment (an Engine.IO binary message).
    Binary(Bytes),
}

impl Assembled {
    /// Pairs a packet with its attachments. The count must equal the packet's attachment
    /// count (zero for non-binary packets) and every placeholder must name an attachment.
    pub fn new(packet: PacketBuf, attachments: Vec<Bytes>) -> Result<Self, ErrorKind> {
        let view = packet.as_packet();
        let expected = view.attachments().unwrap_or(0) as usize;
        if attachments.len() != expected {
            return Err(ErrorKind::InvalidAttachmentCount);
        }
        if view.attachments().is_some()
            && let Some(data) = view.data()
        {
            check_placeholders(data.as_str(), expected)
                .map_err(|()| ErrorKind::InvalidPlaceholder)?;
        }
        Ok(Self {
            packet,
            attachments,
        })
    }

    /// An EVENT (or ACK, when `ack` is `Some`) from a typed value, as the reference encoder
    /// builds it: byte strings (`serde_bytes`, `bytes::Bytes`) become placeholders and
    /// attachments in depth-first order, and the packet is promoted to BINARY_EVENT /
    /// BINARY_ACK when there is at least one. Numbers are written as `JSON.stringify` would.
    /// Binary leaves are copied once into the attachment list (serde hands out `&[u8]`);
    /// [`Assembled::new`] takes prebuilt `Bytes` without copying.
    ///
    /// ```
    /// use sio_codec::socketio::{Assembled, Namespace, OutFrame};
    /// use serde::Serialize;
    /// #[derive(Serialize)]
    /// struct Upload<'a> { name: &'a str, #[serde(with = "serde_bytes_like")] data: &'a [u8] }
    /// # mod serde_bytes_like {
    /// #     pub fn serialize<S: serde::Serializer>(v: &&[u8], s: S) -> Result<S::Ok, S::Error> { s.serialize_bytes(v) }
    /// # }
    /// let upload = Upload { name: "f.png", data: &[1, 2, 3] };
    /// let assembled = Assembled::from_value(Namespace::ROOT, None, None, &("upload", upload))?;
    /// let frames: Vec<_> = assembled.frames().collect();
    /// assert_eq!(frames[0], OutFrame::Text(r#"51-["upload",{"name":"f.png","data":{"_placeholder":true,"num":0}}]"#.into()));
    /// assert_eq!(frames[1], OutFrame::Binary(vec![1, 2, 3].into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn from_value<T: serde::Serialize + ?Sized>(
        namespace: Namespace<'_>,
        event_id: Option<AckId>,
        ack: Option<AckId>,
        value: &T,
    ) -> Result<Self, ValueError> {
        let (json, attachments) = to_json_with_attachments(value).map_err(ValueError::Json)?;
        let data = super::RawJson::new_unchecked(&json);
        let count = u32::try_from(attachments.len())
            .map_err(|_| ValueError::Packet(ErrorKind::TooManyAttachments { max: u32::MAX }))?;
        let (packet_type, id) = match (ack, count) {
            (Some(id), 0) => (PacketType::Ack, Some(id)),
            (Some(id), _) => (PacketType::BinaryAck, Some(id)),
            (None, 0) => (PacketType::Event, event_id),
            (None, _) => (PacketType::BinaryEvent, event_id),
        };
        let config = DecodeConfig::new().max_attachments(u32::MAX);
        let packet = Packet::new_with(packet_type, namespace, id, Some(data), count, &config)
            .map_err(ValueError::Packet)?;
        Ok(Self {
            packet: PacketBuf::from(&packet),
            attachments,
        })
    }

    /// The packet.
    pub fn packet(&self) -> &PacketBuf {
        &self.packet
    }

    /// The attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// The packet and its attachments.
    pub fn into_parts(self) -> (PacketBuf, Vec<Bytes>) {
        (self.packet, self.attachments)
    }

    /// The frames to send, in order: the text packet, then each attachment (no copies).
    pub fn frames(&self) -> impl Iterator<Item = OutFrame> + '_ {
        core::iter::once(OutFrame::Text(self.packet.text().clone()))
            .chain(self.attachments.iter().cloned().map(OutFrame::Binary))
    }
}

impl fmt::Debug for Assembled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.packet)?;
        for attachment in &self.attachments {
            f.write_str(" + <")?;
            crate::hex::write(f, attachment)?;
            f.write_str(">")?;
        }
        Ok(())
    }
}

/// Why [`Assembled::from_value`] failed.
#[cfg(feature = "std")]
#[derive(Debug)]
pub enum ValueError {
    /// The value could not be serialized.
    Json(serde_json::Error),
    /// The serialized value is not a valid payload for the packet (e.g. an event that is not
    /// an array starting with a name).
    Packet(ErrorKind),
}

#[cfg(feature = "std")]
impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) => write!(f, "cannot serialize the value: {e}"),
            Self::Packet(kind) => write!(f, "not a valid packet payload: {kind}"),
        }
    }
}

#[cfg(feature = "std")]
impl core::error::Error for ValueError {}

/// Where a [`Reassembler`] stands after a frame.
#[derive(Debug)]
pub enum Progress {
    /// A packet is complete (with all its attachments).
    Complete(Assembled),
    /// The binary packet waits for this many more attachments.
    NeedAttachments {
        /// Attachments still to come.
        remaining: u32,
    },
}

/// Puts binary packets back together: feed every Socket.IO text packet and every binary
/// message of one connection, in order.
///
/// Sans-IO: it never reads a socket; waiting for attachments is a [`Progress`] value, not an
/// error. Errors are the reference decoder's stream errors, and after one the reassembler is
/// empty again (the reference closes the connection).
///
/// ```
/// use sio_codec::{Utf8Bytes, bytes::Bytes, socketio::{Progress, Reassembler}};
/// let mut r = Reassembler::default();
/// let header = Utf8Bytes::from_static(r#"51-["baz",{"_placeholder":true,"num":0}]"#);
/// assert!(matches!(r.push_text(&header)?, Progress::NeedAttachments { remaining: 1 }));
/// let Progress::Complete(event) = r.push_binary(Bytes::from_static(&[1, 2, 3, 4]))? else { panic!() };
/// assert_eq!(event.attachments(), [Bytes::from_static(&[1, 2, 3, 4])]);
/// # Ok::<(), sio_codec::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct Reassembler {
    config: DecodeConfig,
    pending: Option<(PacketBuf, Vec<Bytes>)>,
}

impl Reassembler {
    /// A reassembler applying `config` (its attachment limit and payload rules).
    pub fn new(config: DecodeConfig) -> Self {
        Self {
            config,
            pending: None,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Feeds a Socket.IO text packet.
    pub fn push_text(&mut self, text: &Utf8Bytes) -> Result<Progress, DecodeError> {
        if self.pending.take().is_some() {
            return Err(DecodeError::new(ErrorKind::UnexpectedText, 0));
        }
        let packet = PacketBuf::decode_text_with(text, &self.config)?;
        let count = packet.as_packet().attachments().unwrap_or(0);
        if count == 0 {
            return self.complete(packet, Vec::new());
        }
        // The count is bounded by the configured limit; still, never pre-allocate more than a
        // handful: a huge limit must not turn into a huge allocation before any data arrives.
        let capacity = (count as usize).min(16);
        self.pending = Some((packet, Vec::with_capacity(capacity)));
        Ok(Progress::NeedAttachments { remaining: count })
    }

    /// Feeds a binary message (an attachment), kept without copying.
    pub fn push_binary(&mut self, data: Bytes) -> Result<Progress, DecodeError> {
        let Some((packet, mut attachments)) = self.pending.take() else {
            return Err(DecodeError::new(ErrorKind::UnexpectedBinary, 0));
        };
        attachments.push(data);
        let expected = packet.as_packet().attachments().unwrap_or(0) as usize;
        if attachments.len() < expected {
            let remaining = (expected - attachments.len()) as u32;
            self.pending = Some((packet, attachments));
            return Ok(Progress::NeedAttachments { remaining });
        }
        self.complete(packet, attachments)
    }

    fn complete(
        &self,
        packet: PacketBuf,
        attachments: Vec<Bytes>,
    ) -> Result<Progress, DecodeError> {
        let view = packet.as_packet();
        if view.attachments().is_some()
            && let Some(data) = view.data()
        {
            let offset = data.as_str().as_ptr() as usize - packet.text().as_ptr() as usize;
            check_placeholders(data.as_str(), attachments.len())
                .map_err(|()| DecodeError::new(ErrorKind::InvalidPlaceholder, offset))?;
        }
        Ok(Progress::Complete(Assembled {
            packet,
            attachments,
        }))
    }
}

/// Checks every placeholder in `json` against `count` attachments, with the reference's
/// rules: an object is a placeholder when its (last) `_placeholder` key is `true`; its `num`
/// must then be an integer in `0..count`; the rest of a placeholder object is not examined.
fn check_placeholders(json: &str, count: usize) -> Result<(), ()> {
    let mut de = serde_json::Deserializer::from_str(json);
    match de::Deserializer::deserialize_any(&mut de, Walk { count }) {
        Ok(Node {
            nested_error: false,
            ..
        }) => Ok(()),
        _ => Err(()),
    }
}

/// What a walked JSON value turned out to be.
#[derive(Clone, Copy)]
struct Node {
    is_true: bool,
    number: Option<f64>,
    /// An invalid placeholder somewhere inside (reported only if the enclosing object is not
    /// itself a placeholder).
    nested_error: bool,
}

const LEAF: Node = Node {
    is_true: false,
    number: None,
    nested_error: false,
};

#[derive(Clone, Copy)]
struct Walk {
    count: usize,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = Node;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node { is_true: v, ..LEAF })
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node {
            number: Some(v as f64),
            ..LEAF
        })
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node {
            number: Some(v as f64),
            ..LEAF
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node {
            number: Some(v),
            ..LEAF
        })
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(LEAF)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(LEAF)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut nested_error = false;
        while let Some(node) = seq.next_element_seed(self)? {
            nested_error |= node.nested_error;
        }
        Ok(Node {
            nested_error,
            ..LEAF
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let (mut placeholder, mut num, mut nested_error) = (false, None, false);
        while let Some(key) = map.next_key::<Key>()? {
            let node = map.next_value_seed(self)?;
            nested_error |= node.nested_error;
            match key {
                Key::Placeholder => placeholder = node.is_true,
                Key::Num => num = node.number,
                Key::Other => {}
            }
        }
        if !placeholder {
            return Ok(Node {
                nested_error,
                ..LEAF
            });
        }
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let valid =
            num.is_some_and(|n| n >= 0.0 && n < self.count as f64 && n == (n as u64) as f64);
        Ok(Node {
            nested_error: !valid,
            ..LEAF
        })
    }
}

/// The object keys that matter for placeholders, recognised without allocating.
enum Key {
    Placeholder,
    Num,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "_placeholder" => Key::Placeholder,
                    "num" => Key::Num,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

// Keep `IgnoredAny` referenced for readers comparing with json.rs: placeholders need the
// values, so nothing is ignored here.
const _: Option<IgnoredAny> = None;

/// Replaces every placeholder object in `value` by `attachment(num)`, with the same rules
/// as the reference's reconstruction (see [`Reassembler`]); useful to turn a decoded payload
/// into a tree with binary leaves.
pub fn replace_placeholders(
    value: &mut serde_json::Value,
    attachment: &mut impl FnMut(usize) -> Option<serde_json::Value>,
) -> Result<(), ErrorKind> {
    use serde_json::Value;
    match value {
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
            let num = map
                .get("num")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok());
            *value = num
                .and_then(attachment)
                .ok_or(ErrorKind::InvalidPlaceholder)?;
            Ok(())
        }
        Value::Object(map) => map
            .values_mut()
            .try_for_each(|v| replace_placeholders(v, attachment)),
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| replace_placeholders(v, attachment)),
        _ => Ok(()),
    }
}

#[cfg(feature = "std")]
pub use deconstruct::to_json_with_attachments;

/// Encoding typed values: a serde `Serializer` wrapper that turns byte strings into
/// placeholders while serde_json writes everything else (never text surgery).
#[cfg(feature = "std")]
mod deconstruct {
    use super::super::json::JsFormatter;
    use alloc::{string::String, vec::Vec};
    use bytes::Bytes;
    use core::cell::RefCell;
    use serde::ser::{self, Serialize, SerializeMap, Serializer};

    /// Serializes `value` like `JSON.stringify` after the reference's deconstruction: every
    /// byte string becomes `{"_placeholder":true,"num":N}` (N in depth-first order) and is
    /// appended to the returned attachments.
    pub fn to_json_with_attachments<T: Serialize + ?Sized>(
        value: &T,
    ) -> Result<(String, Vec<Bytes>), serde_json::Error> {
        let attachments = RefCell::new(Vec::new());
        let mut out = Vec::with_capacity(128);
        let mut ser = serde_json::Serializer::with_formatter(&mut out, JsFormatter);
        Wrap {
            value,
            attachments: &attachments,
        }
        .serialize(&mut ser)?;
        let json = String::from_utf8(out).map_err(|_| ser::Error::custom("non-UTF-8 output"))?;
        Ok((json, attachments.into_inner()))
    }

    type Sink<'c> = &'c RefCell<Vec<Bytes>>;

    /// A value whose serialization goes through [`Intercept`].
    struct Wrap<'v, 'c, T: ?Sized> {
        value: &'v T,
        attachments: Sink<'c>,
    }

    impl<T: Serialize + ?Sized> Serialize for Wrap<'_, '_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.value.serialize(Intercept {
                inner: serializer,
                attachments: self.attachments,
            })
        }
    }

    struct Intercept<'c, S> {
        inner: S,
        attachments: Sink<'c>,
    }

    /// A compound serializer whose elements are wrapped too.
    struct Compound<'c, C> {
        inner: C,
        attachments: Sink<'c>,
    }

    impl<'c, C> Compound<'c, C> {
        fn wrap<'v, T: ?Sized>(&self, value: &'v T) -> Wrap<'v, 'c, T> {
            Wrap {
                value,
                attachments: self.attachments,
            }
        }
    }

    macro_rules! forward {
        ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
            fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
                self.inner.$method($($arg),*)
            }
        )*};
    }

    impl<'c, S: Serializer> Serializer for Intercept<'c, S> {
        type Ok = S::Ok;
        type Error = S::Error;
        type SerializeSeq = Compound<'c, S::SerializeSeq>;
        type SerializeTuple = Compound<'c, S::SerializeTuple>;
        type SerializeTupleStruct = Compound<'c, S::SerializeTupleStruct>;
        type SerializeTupleVariant = Compound<'c, S::SerializeTupleVariant>;
        type SerializeMap = Compound<'c, S::SerializeMap>;
        type SerializeStruct = Compound<'c, S::SerializeStruct>;
        type SerializeStructVariant = Compound<'c, S::SerializeStructVariant>;

        forward! {
            serialize_bool(v: bool);
            serialize_i8(v: i8);
            serialize_i16(v: i16);
            serialize_i32(v: i32);
            serialize_i64(v: i64);
            serialize_i128(v: i128);
            serialize_u8(v: u8);
            serialize_u16(v: u16);
            serialize_u32(v: u32);
            serialize_u64(v: u64);
            serialize_u128(v: u128);
            serialize_f32(v: f32);
            serialize_f64(v: f64);
            serialize_char(v: char);
            serialize_str(v: &str);
            serialize_none();
            serialize_unit();
            serialize_unit_struct(name: &'static str);
            serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
        }

        fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
            let num = {
                let mut attachments = self.attachments.borrow_mut();
                attachments.push(Bytes::copy_from_slice(v));
                attachments.len() - 1
            };
            let mut map = self.inner.serialize_map(Some(2))?;
            map.serialize_entry("_placeholder", &true)?;
            map.serialize_entry("num", &num)?;
            map.end()
        }

        fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
            let wrapped = Wrap {
                value: v,
                attachments: self.attachments,
            };
            self.inner.serialize_some(&wrapped)
        }

        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            name: &'static str,
            v: &T,
        ) -> Result<S::Ok, S::Error> {
            let wrapped = Wrap {
                value: v,
                attachments: self.attachments,
            };
            self.inner.serialize_newtype_struct(name, &wrapped)
        }

        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            name: &'static str,
            index: u32,
            variant: &'static str,
            v: &T,
        ) -> Result<S::Ok, S::Error> {
            let wrapped = Wrap {
                value: v,
                attachments: self.attachments,
            };
            self.inner
                .serialize_newtype_variant(name, index, variant, &wrapped)
        }

        fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
            let inner = self.inner.serialize_seq(len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }

        fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
            let inner = self.inner.serialize_tuple(len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }

        fn serialize_tuple_struct(
            self,
            name: &'static str,
            len: usize,
        ) -> Result<Self::SerializeTupleStruct, S::Error> {
            let inner = self.inner.serialize_tuple_struct(name, len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }

        fn serialize_tuple_variant(
            self,
            name: &'static str,
            index: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Self::SerializeTupleVariant, S::Error> {
            let inner = self
                .inner
                .serialize_tuple_variant(name, index, variant, len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }

        fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
            let inner = self.inner.serialize_map(len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }

        fn serialize_struct(
            self,
            name: &'static str,
            len: usize,
        ) -> Result<Self::SerializeStruct, S::Error> {
            let inner = self.inner.serialize_struct(name, len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }

        fn serialize_struct_variant(
            self,
            name: &'static str,
            index: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Self::SerializeStructVariant, S::Error> {
            let inner = self
                .inner
                .serialize_struct_variant(name, index, variant, len)?;
            Ok(Compound {
                inner,
                attachments: self.attachments,
            })
        }
    }

    macro_rules! compound {
        ($trait:ident, $method:ident $(, $key:ident: $kty:ty)?) => {
            impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
                type Ok = C::Ok;
                type Error = C::Error;
                fn $method<T: Serialize + ?Sized>(&mut self, $($key: $kty,)? value: &T) -> Result<(), C::Error> {
                    let wrapped = self.wrap(value);
                    self.inner.$method($($key,)? &wrapped)
                }
                fn end(self) -> Result<C::Ok, C::Error> {
                    self.inner.end()
                }
            }
        };
    }

    compound!(SerializeSeq, serialize_element);
    compound!(SerializeTuple, serialize_element);
    compound!(SerializeTupleStruct, serialize_field);
    compound!(SerializeTupleVariant, serialize_field);
    compound!(SerializeStruct, serialize_field, key: &'static str);
    compound!(SerializeStructVariant, serialize_field, key: &'static str);

    impl<C: SerializeMap> SerializeMap for Compound<'_, C> {
        type Ok = C::Ok;
        type Error = C::Error;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
            let wrapped = self.wrap(key);
            self.inner.serialize_key(&wrapped)
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
            let wrapped = self.wrap(value);
            self.inner.serialize_value(&wrapped)
        }
        fn end(self) -> Result<C::Ok, C::Error> {
            self.inner.end()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(frames: &[&[u8]]) -> Result<Progress, DecodeError> {
        let mut r = Reassembler::default();
        let mut last = None;
        for (i, frame) in frames.iter().enumerate() {
            last = Some(if i == 0 {
                let text = Utf8Bytes::try_from(Bytes::copy_from_slice(frame)).unwrap();
                r.push_text(&text)?
            } else {
                r.push_binary(Bytes::copy_from_slice(frame))?
            });
        }
        Ok(last.unwrap())
    }

    #[test]
    fn reassembles_in_order() {
        let header: &[u8] =
            br#"52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#;
        let Progress::Complete(done) = assemble(&[header, b"\x01", b"\x02"]).unwrap() else {
            panic!()
        };
        assert_eq!(
            done.attachments(),
            [Bytes::from_static(b"\x01"), Bytes::from_static(b"\x02")]
        );
        let frames: Vec<_> = done.frames().collect();
        assert_eq!(frames.len(), 3);
    }

    #[test]
    fn rejects_stream_errors() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.push_binary(Bytes::new()).unwrap_err().kind(),
            ErrorKind::UnexpectedBinary
        );
        r.push_text(&Utf8Bytes::from(
            r#"51-["a",{"_placeholder":true,"num":0}]"#,
        ))
        .unwrap();
        let err = r.push_text(&Utf8Bytes::from("2[\"a\"]")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedText);
        assert!(!r.is_pending());
    }

    #[test]
    fn checks_placeholders_like_the_reference() {
        assert_eq!(
            check_placeholders(r#"[{"_placeholder":true,"num":0}]"#, 1),
            Ok(())
        );
        assert_eq!(
            check_placeholders(r#"[{"_placeholder":true,"num":1}]"#, 1),
            Err(())
        );
        assert_eq!(
            check_placeholders(r#"[{"_placeholder":true,"num":0.5}]"#, 1),
            Err(())
        );
        assert_eq!(check_placeholders(r#"[{"_placeholder":true}]"#, 1), Err(()));
        assert_eq!(
            check_placeholders(r#"[{"_placeholder":false,"num":9}]"#, 1),
            Ok(())
        );
        assert_eq!(
            check_placeholders(r#"[{"_placeholder":true,"_placeholder":false}]"#, 0),
            Ok(())
        );
        // The inside of a placeholder is never looked at.
        assert_eq!(
            check_placeholders(
                r#"{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":7}}"#,
                1
            ),
            Ok(())
        );
        assert_eq!(
            check_placeholders(r#"{"a":{"b":[{"_placeholder":true,"num":7}]}}"#, 1),
            Err(())
        );
        let err = assemble(&[br#"51-["a",{"_placeholder":true,"num":3}]"#, b""]).unwrap_err();
        assert_eq!(
            (err.kind(), err.offset()),
            (ErrorKind::InvalidPlaceholder, 3)
        );
    }

    #[test]
    fn replaces_placeholders_in_values() {
        let mut v: serde_json::Value =
            serde_json::from_str(r#"["a",{"x":[{"_placeholder":true,"num":0}]}]"#).unwrap();
        replace_placeholders(&mut v, &mut |n| Some(serde_json::json!({"$bin": n}))).unwrap();
        assert_eq!(v, serde_json::json!(["a", {"x": [{"$bin": 0}]}]));
    }

    #[test]
    fn deconstructs_nested_binary_in_walk_order() {
        use alloc::vec;
        #[derive(serde::Serialize)]
        struct Bin(#[serde(serialize_with = "as_bytes")] Vec<u8>);
        fn as_bytes<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
        let value = (
            "n",
            serde_json::json!({"a": 1.0, "z": -0.0}),
            Some(Bin(vec![1])),
            [Bin(vec![2]), Bin(vec![])],
        );
        let (json, attachments) = to_json_with_attachments(&value).unwrap();
        assert_eq!(
            json,
            r#"["n",{"a":1,"z":0},{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]]"#
        );
        assert_eq!(
            attachments,
            [
                Bytes::from_static(&[1]),
                Bytes::from_static(&[2]),
                Bytes::new()
            ]
        );
    }
}
