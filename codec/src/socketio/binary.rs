//! Binary attachments: the placeholder model, the sans-IO [`Reassembler`] and encoding of
//! typed values with binary leaves.
//!
//! A binary packet's JSON holds `{"_placeholder":true,"num":N}` where attachment `N` goes;
//! the attachments follow the packet as separate binary messages, in order.

use super::packet::PacketBuf;
use super::scanner::{self, Token};
#[cfg(feature = "std")]
use super::{
    PacketType,
    packet::{AckId, Namespace, Packet},
};
use crate::{DecodeConfig, DecodeError, ErrorKind, utf8_bytes::Utf8Bytes};
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use core::ops::Range;

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

    /// An EVENT from a typed value (`("name", args...)`), with an optional ack request `id`,
    /// as the reference encoder builds it: byte strings (`serde_bytes`, `bytes::Bytes` with
    /// the `serde` feature of `bytes`) become placeholders and attachments in depth-first
    /// order, and the packet is promoted to BINARY_EVENT when there is at least one. Numbers
    /// are written as `JSON.stringify` would. Binary leaves are copied once into the
    /// attachment list (serde hands out `&[u8]`); [`Assembled::new`] takes prebuilt `Bytes`
    /// without copying. The reply to an event is [`Assembled::ack`].
    ///
    /// ```
    /// use serde::Serialize;
    /// use sio_codec::bytes::Bytes; // serializes as a byte string (`bytes` feature `serde`)
    /// use sio_codec::socketio::{AckId, Assembled, Namespace, OutFrame};
    ///
    /// #[derive(Serialize)]
    /// struct Upload {
    ///     name: &'static str,
    ///     data: Bytes,
    /// }
    ///
    /// let upload = Upload { name: "f.png", data: Bytes::from_static(&[1, 2, 3]) };
    /// let assembled = Assembled::event(Namespace::ROOT, &("upload", upload), AckId::new(7))?;
    /// let frames: Vec<_> = assembled.frames().collect();
    /// assert_eq!(
    ///     frames[0],
    ///     OutFrame::Text(r#"51-7["upload",{"name":"f.png","data":{"_placeholder":true,"num":0}}]"#.into())
    /// );
    /// assert_eq!(frames[1], OutFrame::Binary(Bytes::from_static(&[1, 2, 3])));
    /// # Ok::<(), sio_codec::socketio::ValueError>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn event<T: serde::Serialize + ?Sized>(
        namespace: Namespace<'_>,
        value: &T,
        id: Option<AckId>,
    ) -> Result<Self, ValueError> {
        Self::typed(PacketType::Event, namespace, value, id)
    }

    /// The ACK of event `id` from a typed value (the reply's arguments, serialized as a JSON
    /// array), promoted to BINARY_ACK when it holds binary leaves; see [`Assembled::event`].
    ///
    /// ```
    /// use sio_codec::socketio::{AckId, Assembled, Namespace, OutFrame};
    /// let id = AckId::new(12).unwrap();
    /// let reply = Assembled::ack(Namespace::new("/admin")?, &("ok", 1), id)?;
    /// assert_eq!(reply.frames().next(), Some(OutFrame::Text(r#"3/admin,12["ok",1]"#.into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn ack<T: serde::Serialize + ?Sized>(
        namespace: Namespace<'_>,
        value: &T,
        id: AckId,
    ) -> Result<Self, ValueError> {
        Self::typed(PacketType::Ack, namespace, value, Some(id))
    }

    /// [`Assembled::event`] and [`Assembled::ack`]: `packet_type` is EVENT or ACK.
    #[cfg(feature = "std")]
    fn typed<T: serde::Serialize + ?Sized>(
        packet_type: PacketType,
        namespace: Namespace<'_>,
        value: &T,
        id: Option<AckId>,
    ) -> Result<Self, ValueError> {
        let (json, attachments) = to_json_with_attachments(value).map_err(ValueError::Json)?;
        let data = super::RawJson::new_unchecked(&json);
        let count = u32::try_from(attachments.len())
            .map_err(|_| ValueError::Packet(ErrorKind::TooManyAttachments { max: u32::MAX }))?;
        let packet_type = match (packet_type, count) {
            (PacketType::Ack, 0) => PacketType::Ack,
            (PacketType::Ack, _) => PacketType::BinaryAck,
            (_, 0) => PacketType::Event,
            (_, _) => PacketType::BinaryEvent,
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

/// Why [`Assembled::event`] or [`Assembled::ack`] failed.
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
impl core::error::Error for ValueError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Json(e) => Some(e),
            Self::Packet(kind) => Some(kind),
        }
    }
}

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

    /// Feeds a Socket.IO text packet. Error offsets count in `text`
    /// ([`DecodeError::in_frame`] moves them into the frame `text` came in).
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

    /// Feeds a binary message (an attachment), kept without copying. An attachment larger
    /// than the configuration's [`max_payload`](DecodeConfig::max_payload) is
    /// [`PayloadTooLarge`](ErrorKind::PayloadTooLarge), as any other frame.
    ///
    /// Error offsets: [`PayloadTooLarge`](ErrorKind::PayloadTooLarge) counts in `data`,
    /// [`UnexpectedBinary`](ErrorKind::UnexpectedBinary) is 0, and
    /// [`InvalidPlaceholder`](ErrorKind::InvalidPlaceholder) (checked when the last attachment
    /// arrives) is the start of the payload in the **text of the binary packet**, the one
    /// given to [`Reassembler::push_text`] earlier: `err.in_frame(text, frame)` with that
    /// text and its frame gives the position in the frame.
    pub fn push_binary(&mut self, data: Bytes) -> Result<Progress, DecodeError> {
        let Some((packet, mut attachments)) = self.pending.take() else {
            return Err(DecodeError::new(ErrorKind::UnexpectedBinary, 0));
        };
        self.config.check_size(data.len())?;
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
    walk(json, count, None).map_err(|_| ())
}

/// A placeholder object in the JSON of a binary packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// Where the object is, in bytes of the JSON text.
    pub range: Range<usize>,
    /// The attachment it stands for.
    pub index: usize,
}

/// The placeholders the reference replaces in `json` (the payload of a binary packet with
/// `count` attachments), in document order, with the [`Reassembler`]'s rules; placeholders
/// inside a placeholder object are not examined. For tools that show a payload with its
/// binary leaves while keeping the rest of the text as it is.
///
/// ```
/// use sio_codec::socketio::{Placeholder, placeholders};
/// let json = r#"["up",{"_placeholder":true,"num":0}]"#;
/// assert_eq!(placeholders(json, 1), Ok(vec![Placeholder { range: 6..35, index: 0 }]));
/// assert_eq!(&json[6..35], r#"{"_placeholder":true,"num":0}"#);
/// assert!(placeholders(json, 0).is_err());
/// ```
pub fn placeholders(json: &str, count: usize) -> Result<Vec<Placeholder>, ErrorKind> {
    let mut found = Vec::new();
    walk(json, count, Some(&mut found))?;
    Ok(found)
}

/// The placeholder walk; `found` collects the placeholders when given.
fn walk(json: &str, count: usize, found: Option<&mut Vec<Placeholder>>) -> Result<(), ErrorKind> {
    let mut walk = PlaceholderWalk {
        count,
        open: Frames::new(),
        key: Key::Other,
        error_depth: None,
        found: found.map(|found| Collect {
            open: Vec::new(),
            found,
        }),
    };
    scanner::scan(json, |token, at| walk.token(token, at)).map_err(|_| ErrorKind::InvalidJson)?;
    match walk.error_depth {
        None => Ok(()),
        Some(_) => Err(ErrorKind::InvalidPlaceholder),
    }
}

/// The attachment index a placeholder's `num` designates, if it is a valid one: a number
/// (any spelling, `1.0` and `-0` included, as JavaScript reads it) that is an integer in
/// `0..count`. The reference indexes its buffers with any number in range, so `0.5` yields
/// `undefined` there; we refuse it (a deliberate difference, differential/known-differences).
pub(crate) fn attachment_index(num: f64, count: usize) -> Option<usize> {
    (num >= 0.0 && num < count as f64 && (num as u64) as f64 == num).then_some(num as usize)
}

/// Object flags of the placeholder walk, one byte per open container.
const OBJECT: u8 = 1;
const PLACEHOLDER: u8 = 2;
const NUM_VALID: u8 = 4;

/// The open containers of the walk: inline up to 64 levels, then on the heap.
struct Frames {
    inline: [u8; 64],
    spill: Vec<u8>,
    depth: usize,
}

impl Frames {
    const fn new() -> Self {
        Self {
            inline: [0; 64],
            spill: Vec::new(),
            depth: 0,
        }
    }

    fn push(&mut self, flags: u8) {
        match self.inline.get_mut(self.depth) {
            Some(slot) => *slot = flags,
            None => {
                self.spill.truncate(self.depth - self.inline.len());
                self.spill.push(flags);
            }
        }
        self.depth += 1;
    }

    fn top(&mut self) -> Option<&mut u8> {
        let level = self.depth.checked_sub(1)?;
        match level.checked_sub(self.inline.len()) {
            None => self.inline.get_mut(level),
            Some(spilled) => self.spill.get_mut(spilled),
        }
    }

    /// Pops the innermost container: its flags and its depth.
    fn pop(&mut self) -> (u8, usize) {
        let flags = self.top().map_or(0, |f| *f);
        self.depth -= 1;
        (flags, self.depth)
    }
}

/// The object keys that matter for placeholders.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Placeholder,
    Num,
    Other,
}

/// Follows the scanner's tokens through every object, in one pass and constant state per
/// open container.
struct PlaceholderWalk<'f> {
    count: usize,
    open: Frames,
    /// The key whose value comes next.
    key: Key,
    /// The depth of the shallowest invalid placeholder not yet known to sit inside a
    /// placeholder (whose content the reference never examines): errors found inside a
    /// container are attributed to the container when it closes, and dropped when the
    /// container turns out to be a placeholder itself.
    error_depth: Option<usize>,
    /// When collecting placeholders.
    found: Option<Collect<'f>>,
}

/// The placeholder walk's record: each open container's start and designated attachment,
/// and the placeholders found.
struct Collect<'f> {
    open: Vec<(usize, usize)>,
    found: &'f mut Vec<Placeholder>,
}

impl PlaceholderWalk<'_> {
    fn token(&mut self, token: Token<'_>, at: usize) {
        if let Token::Key(key) = token {
            self.key = if key.decodes_to("_placeholder") {
                Key::Placeholder
            } else if key.decodes_to("num") {
                Key::Num
            } else {
                Key::Other
            };
            return;
        }
        if !matches!(token, Token::ObjectEnd | Token::ArrayEnd) {
            self.value(token);
        }
        match token {
            Token::ObjectStart | Token::ArrayStart => {
                let object = token == Token::ObjectStart;
                self.open.push(if object { OBJECT } else { 0 });
                if let Some(collect) = &mut self.found {
                    collect.open.push((at, 0));
                }
            }
            Token::ObjectEnd | Token::ArrayEnd => {
                let (flags, depth) = self.open.pop();
                if let Some(Collect { open, found }) = &mut self.found
                    && let Some((start, index)) = open.pop()
                    && flags & (PLACEHOLDER | NUM_VALID) == PLACEHOLDER | NUM_VALID
                {
                    // Placeholders inside this one are not the reference's.
                    while found.last().is_some_and(|p| p.range.start > start) {
                        found.pop();
                    }
                    found.push(Placeholder {
                        range: start..at + 1,
                        index,
                    });
                }
                let inside = self.error_depth.filter(|&e| e > depth);
                if flags & PLACEHOLDER != 0 {
                    if inside.is_some() {
                        self.error_depth = None;
                    }
                    if flags & NUM_VALID == 0 {
                        self.error_depth = Some(self.error_depth.map_or(depth, |e| e.min(depth)));
                    }
                } else if inside.is_some() {
                    self.error_depth = Some(depth);
                }
            }
            _ => {}
        }
    }

    /// A value starts: record it in the enclosing object when its key matters.
    fn value(&mut self, token: Token<'_>) {
        let key = core::mem::replace(&mut self.key, Key::Other);
        let count = self.count;
        let Some(flags) = self.open.top().filter(|f| **f & OBJECT != 0) else {
            return;
        };
        let (bit, set) = match key {
            Key::Placeholder => (PLACEHOLDER, token == Token::True),
            Key::Num => {
                let num = match token {
                    Token::Number(n) => n.parse::<f64>().ok(),
                    _ => None,
                };
                let index = num.and_then(|n| attachment_index(n, count));
                if let (Some(index), Some(collect)) = (index, &mut self.found)
                    && let Some(top) = collect.open.last_mut()
                {
                    top.1 = index;
                }
                (NUM_VALID, index.is_some())
            }
            Key::Other => return,
        };
        *flags = if set { *flags | bit } else { *flags & !bit };
    }
}

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
                .and_then(Value::as_f64)
                .and_then(|n| attachment_index(n, usize::MAX));
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
    fn enforces_the_size_limit_on_attachments() {
        let mut r = Reassembler::new(DecodeConfig::new().max_payload(40));
        let header = Utf8Bytes::from(r#"51-["a",{"_placeholder":true,"num":0}]"#);
        r.push_text(&header).unwrap();
        let err = r.push_binary(Bytes::from_static(&[0; 41])).unwrap_err();
        assert_eq!(
            (err.kind(), err.offset()),
            (ErrorKind::PayloadTooLarge { max: 40 }, 40)
        );
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
    fn walks_placeholders_with_the_reference_rules() {
        use alloc::{format, vec};
        fn found(json: &str, count: usize) -> Result<Vec<(&str, usize)>, ErrorKind> {
            placeholders(json, count)
                .map(|p| p.into_iter().map(|p| (&json[p.range], p.index)).collect())
        }
        // Integral spellings of num, escaped keys, the last duplicate key.
        let json = r#"[{"_placeholder":true,"num":1.0},{"\u005fplaceholder":true,"n\u0075m":-0},{"_placeholder":false,"num":0,"_placeholder":true}]"#;
        assert_eq!(
            found(json, 2),
            Ok(vec![
                (r#"{"_placeholder":true,"num":1.0}"#, 1),
                (r#"{"\u005fplaceholder":true,"n\u0075m":-0}"#, 0),
                (r#"{"_placeholder":false,"num":0,"_placeholder":true}"#, 0),
            ])
        );
        // A placeholder inside a placeholder is not one; an error in a sibling's subtree
        // is not excused by a later placeholder at the same depth.
        let outer = r#"{"x":{"_placeholder":true,"num":0},"_placeholder":true,"num":1}"#;
        assert_eq!(found(outer, 2), Ok(vec![(outer, 1)]));
        let sibling = r#"[[{"_placeholder":true,"num":9}],{"_placeholder":true,"num":0}]"#;
        assert_eq!(found(sibling, 1), Err(ErrorKind::InvalidPlaceholder));
        assert_eq!(found("[1e400,", 1), Err(ErrorKind::InvalidJson));
        // No depth limit: 1000 levels around a placeholder.
        let deep = format!(
            "{}{{\"_placeholder\":true,\"num\":0}}{}",
            "[".repeat(1000),
            "]".repeat(1000)
        );
        assert_eq!(placeholders(&deep, 1).map(|p| p[0].range.start), Ok(1000));
        assert_eq!(check_placeholders(&deep, 0), Err(()));
    }

    #[test]
    fn replaces_placeholders_in_values() {
        let mut v: serde_json::Value =
            serde_json::from_str(r#"["a",{"x":[{"_placeholder":true,"num":0}]}]"#).unwrap();
        replace_placeholders(&mut v, &mut |n| Some(serde_json::json!({"$bin": n}))).unwrap();
        assert_eq!(v, serde_json::json!(["a", {"x": [{"$bin": 0}]}]));
    }

    #[test]
    fn builds_events_and_acks_from_values() {
        let id = AckId::new(3);
        let text = |a: Assembled| alloc::string::String::from(a.packet().text().as_str());
        let event = Assembled::event(Namespace::ROOT, &("a", 1), id).unwrap();
        assert_eq!(text(event), r#"23["a",1]"#);
        let ack = Assembled::ack(Namespace::ROOT, &("a", 1), AckId::new(4).unwrap()).unwrap();
        assert_eq!(text(ack), r#"34["a",1]"#);
        let binary = (Bytes::from_static(&[1]),);
        let ack = Assembled::ack(Namespace::ROOT, &binary, AckId::new(4).unwrap()).unwrap();
        assert_eq!(text(ack), r#"61-4[{"_placeholder":true,"num":0}]"#);
        let event = Assembled::event(Namespace::ROOT, &("b", Bytes::from_static(&[2])), None);
        assert_eq!(
            text(event.unwrap()),
            r#"51-["b",{"_placeholder":true,"num":0}]"#
        );
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
