//! [`Data`]: event arguments as a tree with binary leaves, for applications that handle any
//! payload (echo, relay, broadcast) rather than a type of their own.

use super::binary::attachment_index;
use super::{Assembled, ValueError};
use alloc::{string::String, vec::Vec};
use bytes::Bytes;
use core::fmt;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value whose leaves may also be binary: what a packet and its attachments mean
/// together. Objects keep their keys in the order they came in (as `JSON.parse` does), so a
/// value passed on is written out as it arrived.
///
/// It serializes binary leaves as byte strings, so [`Assembled::event`] and
/// [`server::Connection::emit`](super::server::Connection::emit) turn them back into
/// attachments: a received argument list can be sent on as it is.
///
/// ```
/// use sio_codec::bytes::Bytes;
/// use sio_codec::socketio::{Assembled, Data, Namespace, OutFrame, PacketBuf};
///
/// let packet = PacketBuf::decode_text(&r#"51-["up",{"_placeholder":true,"num":0}]"#.into())?;
/// let received = Assembled::new(packet, vec![Bytes::from_static(&[1, 2, 3])])?;
/// let args = Data::arguments(&received)?;
/// assert_eq!(args[1], Data::Binary(Bytes::from_static(&[1, 2, 3])));
///
/// // Sent on under another name: the attachment goes along, uncopied.
/// let mut reply = vec![Data::String("back".into())];
/// reply.extend_from_slice(&args[1..]);
/// let reply = Assembled::event(Namespace::ROOT, &reply, None)?;
/// let frames: Vec<_> = reply.frames().collect();
/// assert_eq!(frames[0], OutFrame::Text(r#"51-["back",{"_placeholder":true,"num":0}]"#.into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Self>),
    /// An object, its entries in order.
    Object(Vec<(String, Self)>),
    /// A binary attachment.
    Binary(Bytes),
}

impl Data {
    /// The JSON payload of `assembled` with its placeholders replaced by the attachments
    /// they stand for (with the reassembler's rules: `{"_placeholder":true,"num":N}` for an
    /// attachment `N` of the packet). `Null` when the packet has no payload.
    ///
    /// # Errors
    /// [`ValueError::Json`] when the payload is not JSON (it always is after decoding).
    pub fn payload(assembled: &Assembled) -> Result<Self, ValueError> {
        let Some(json) = assembled.packet().as_packet().data() else {
            return Ok(Self::Null);
        };
        let mut data: Self = serde_json::from_str(json.as_str()).map_err(ValueError::Json)?;
        data.fill(assembled.attachments());
        Ok(data)
    }

    /// The arguments of an event or an ack (its payload array; for an event, the name
    /// first). Empty when the payload is no array.
    ///
    /// # Errors
    /// As [`Data::payload`].
    pub fn arguments(assembled: &Assembled) -> Result<Vec<Self>, ValueError> {
        Ok(match Self::payload(assembled)? {
            Self::Array(items) => items,
            _ => Vec::new(),
        })
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key`, if this is an object that has it (the last one, as `JSON.parse`
    /// keeps).
    pub fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Object(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|e| &e.1),
            _ => None,
        }
    }

    /// Replaces placeholder objects by their attachments, depth first; a placeholder's own
    /// fields are not searched.
    fn fill(&mut self, attachments: &[Bytes]) {
        if let Some(index) = self.placeholder(attachments.len()) {
            *self = Self::Binary(attachments[index].clone());
            return;
        }
        match self {
            Self::Array(items) => items.iter_mut().for_each(|v| v.fill(attachments)),
            Self::Object(entries) => entries.iter_mut().for_each(|(_, v)| v.fill(attachments)),
            _ => {}
        }
    }

    /// The attachment this object stands for, when it is a placeholder.
    fn placeholder(&self, count: usize) -> Option<usize> {
        if self.get("_placeholder") != Some(&Self::Bool(true)) {
            return None;
        }
        match self.get("num")? {
            Self::Number(n) => attachment_index(n.as_f64()?, count),
            _ => None,
        }
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Binary(b) => serializer.serialize_bytes(b),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                items.iter().try_for_each(|v| seq.serialize_element(v))?;
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                entries
                    .iter()
                    .try_for_each(|(k, v)| map.serialize_entry(k, v))?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Data, E> {
        serde_json::Number::from_f64(v)
            .map(Data::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Data, E> {
        Ok(Data::String(v.into()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Data, E> {
        Ok(Data::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Data, E> {
        Ok(Data::Binary(Bytes::copy_from_slice(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Data::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::{Namespace, OutFrame, PacketBuf};
    use alloc::vec;

    fn assembled(text: &str, attachments: &[&'static [u8]]) -> Assembled {
        let packet = PacketBuf::decode_text(&text.into()).unwrap();
        let attachments = attachments.iter().map(|a| Bytes::from_static(a)).collect();
        Assembled::new(packet, attachments).unwrap()
    }

    #[test]
    fn placeholders_become_the_attachments_at_any_depth_and_back() {
        let text =
            r#"52-["e",{"z":1,"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]"#;
        let received = assembled(text, &[b"\x00", b"\x01\x02"]);
        let args = Data::arguments(&received).unwrap();
        assert_eq!(args[2], Data::Binary(Bytes::from_static(b"\x00")));
        assert_eq!(
            args[1].get("a"),
            Some(&Data::Array(vec![Data::Binary(Bytes::from_static(
                b"\x01\x02"
            ))]))
        );
        // Key order kept; attachments renumbered depth first, as the reference does.
        let sent = Assembled::event(Namespace::ROOT, &args, None).unwrap();
        let frames: Vec<_> = sent.frames().collect();
        assert_eq!(
            frames[0],
            OutFrame::Text(
                r#"52-["e",{"z":1,"a":[{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":1}]"#
                    .into()
            )
        );
        assert_eq!(frames[1], OutFrame::Binary(Bytes::from_static(b"\x01\x02")));
    }

    #[test]
    fn objects_that_are_no_placeholders_stay_objects() {
        let text = r#"51-["e",{"_placeholder":false,"num":0},{"_placeholder":"yes","num":0},{"_placeholder":true,"num":0}]"#;
        let args = Data::arguments(&assembled(text, &[b"x"])).unwrap();
        assert!(matches!(args[1], Data::Object(_)));
        assert!(matches!(args[2], Data::Object(_)));
        assert_eq!(args[3], Data::Binary(Bytes::from_static(b"x")));
    }

    #[test]
    fn numbers_strings_and_a_missing_payload() {
        let args = Data::arguments(&assembled(r#"2["e",1.5,-2,"s",null,true]"#, &[])).unwrap();
        let json = serde_json::to_string(&args).unwrap();
        assert_eq!(json, r#"["e",1.5,-2,"s",null,true]"#);
        assert_eq!(Data::payload(&assembled("1", &[])).unwrap(), Data::Null);
        assert!(
            Data::arguments(&assembled(r#"0{"a":1}"#, &[]))
                .unwrap()
                .is_empty()
        );
    }
}
