//! Packets as JSON, in the shape of the golden vectors' `input` objects: `{"type": 2, "nsp":
//! "/", "id": 12, "data": [...]}` with binary leaves written `{"$bin": "<hex>"}`. Used by the
//! `decode` / `encode` commands and by the runner to match received packets.

use bytes::Bytes;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use sio_codec::{
    engineio::{self, Message},
    socketio::{self, AckId, Assembled, Namespace, PacketType, RawJson},
};
use std::fmt::Write as _;

/// Parses hex ([`crate::hex::decode`]: either case, ASCII whitespace ignored), with the
/// text in the error, as the codec commands report it.
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    crate::hex::decode(text).map_err(|e| match e {
        crate::hex::Error::Odd(_) => format!("odd number of hex digits in {text:?}"),
        crate::hex::Error::Digit(_) => format!("invalid hex {text:?}"),
    })
}

/// `{"$bin": "<hex>"}`.
pub fn bin_value(bytes: &[u8]) -> Value {
    let mut map = Map::new();
    map.insert("$bin".into(), Value::String(crate::hex::encode(bytes)));
    Value::Object(map)
}

/// A Socket.IO packet and its attachments as golden-vector JSON text.
///
/// The payload is copied verbatim (so number spellings and even lone surrogate escapes
/// survive), except that binary packets get their placeholders replaced by `{"$bin": …}`
/// leaves, and an `"attachments"` count.
pub fn sio_to_json_text(packet: &socketio::Packet<'_>, attachments: &[Bytes]) -> String {
    let mut out = format!("{{\"type\":{}", packet.packet_type() as u8);
    let namespace = serde_json::to_string(packet.namespace().as_str()).unwrap_or_default();
    let _ = write!(out, ",\"nsp\":{namespace}");
    if let Some(id) = packet.id() {
        let _ = write!(out, ",\"id\":{id}");
    }
    if let Some(data) = packet.data() {
        let data = match packet.attachments() {
            Some(_) => resolve_binary(data.as_str(), attachments),
            None => data.as_str().trim().to_owned(),
        };
        let _ = write!(out, ",\"data\":{data}");
    }
    if let Some(n) = packet.attachments() {
        let _ = write!(out, ",\"attachments\":{n}");
    }
    out.push('}');
    out
}

/// The payload with each placeholder object replaced by its `{"$bin": …}` leaf, the rest of
/// the text kept as it is; verbatim when a placeholder is invalid.
fn resolve_binary(data: &str, attachments: &[Bytes]) -> String {
    let Ok(found) = socketio::placeholders(data, attachments.len()) else {
        return data.trim().to_owned();
    };
    let mut out = String::with_capacity(data.len());
    let mut done = 0;
    for placeholder in found {
        out.push_str(&data[done..placeholder.range.start]);
        out.push_str(&bin_value(&attachments[placeholder.index]).to_string());
        done = placeholder.range.end;
    }
    out.push_str(&data[done..]);
    out.trim().to_owned()
}

/// A Socket.IO packet as a JSON value (for matching). Fails only for payloads JSON values
/// cannot hold (lone surrogate escapes).
pub fn sio_to_value(packet: &socketio::Packet<'_>, attachments: &[Bytes]) -> Result<Value, String> {
    serde_json::from_str(&sio_to_json_text(packet, attachments)).map_err(|e| e.to_string())
}

/// An Engine.IO packet as JSON: `{"type": "message", "data": "hello"}`; binary data as
/// `{"$bin": …}`, the open packet's data as its JSON text.
pub fn eio_to_value(packet: &engineio::Packet<'_>) -> Value {
    let mut map = Map::new();
    map.insert(
        "type".into(),
        Value::String(packet.packet_type().name().into()),
    );
    let data = match packet {
        engineio::Packet::Open(h) => Some(Value::String(h.json().into())),
        engineio::Packet::Ping(d) | engineio::Packet::Pong(d) => d.map(|d| Value::String(d.into())),
        engineio::Packet::Message(Message::Text(t)) => Some(Value::String((*t).into())),
        engineio::Packet::Message(Message::Binary(b)) => Some(bin_value(b)),
        _ => None,
    };
    if let Some(data) = data {
        map.insert("data".into(), data);
    }
    Value::Object(map)
}

/// Serializes a JSON value, turning `{"$bin": "<hex>"}` leaves into byte strings (which the
/// codec's deconstruction turns into placeholders and attachments).
struct WithBinary<'v>(&'v Value);

impl Serialize for WithBinary<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                if let Some(bytes) = bin_leaf(map) {
                    let bytes = bytes.map_err(serde::ser::Error::custom)?;
                    return serializer.serialize_bytes(&bytes);
                }
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map {
                    out.serialize_entry(key, &WithBinary(value))?;
                }
                out.end()
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(WithBinary)),
            other => other.serialize(serializer),
        }
    }
}

/// The bytes of a `{"$bin": "<hex>"}` object, if `map` is one.
fn bin_leaf(map: &Map<String, Value>) -> Option<Result<Vec<u8>, String>> {
    match (map.len(), map.get("$bin")) {
        (1, Some(Value::String(hex))) => Some(unhex(hex)),
        _ => None,
    }
}

/// What [`sio_from_value`] accepts, for its error messages.
pub const SIO_SHAPE: &str = r#"a packet is {"type": "EVENT", "nsp": "/", "data": ["hello", {"$bin": "0102"}], "id": 3}: "type" a number 0-6 or a name (CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK), "nsp" optional (default "/"), "data" optional, "id" optional"#;

/// Builds the packet described by a golden-vector `input` object: `type` 0–6 or its spec
/// name (`"EVENT"`, as fixtures write it), `nsp` (default `/`), optional `id` and `data`. As in
/// the reference encoder, an EVENT / ACK whose data holds binary leaves becomes a
/// BINARY_EVENT / BINARY_ACK.
///
/// # Errors
/// What is wrong with the object; see [`SIO_SHAPE`] for what is right.
pub fn sio_from_value(input: &Value) -> Result<Assembled, String> {
    let object = input.as_object().ok_or("a packet is a JSON object")?;
    let digit = match object.get("type") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|t| u8::try_from(t).ok())
            .and_then(|t| PacketType::from_digit(b'0'.checked_add(t)?)),
        Some(Value::String(name)) => PacketType::from_name(&name.to_ascii_uppercase()),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "\"type\" {}: a number from 0 to 6 or a packet type name",
            object
                .get("type")
                .map_or("is missing".to_owned(), |t| format!("{t} is not valid"))
        )
    })?;
    let namespace = match object.get("nsp") {
        None => "/",
        Some(Value::String(ns)) => ns.as_str(),
        Some(_) => return Err("\"nsp\" must be a string".into()),
    };
    let namespace = Namespace::new(namespace).map_err(|e| format!("\"nsp\": {e}"))?;
    let id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(id) => Some(
            id.as_u64()
                .and_then(AckId::new)
                .ok_or("\"id\" must be an integer from 0 to 2^53-1")?,
        ),
    };
    let data = object.get("data");
    let is_ack = matches!(digit, PacketType::Ack | PacketType::BinaryAck);
    let is_event = matches!(digit, PacketType::Event | PacketType::BinaryEvent);
    match (data, is_event, is_ack, id) {
        (Some(data), true, _, _) => {
            Assembled::event(namespace, &WithBinary(data), id).map_err(|e| e.to_string())
        }
        (Some(data), _, true, Some(ack)) => {
            Assembled::ack(namespace, &WithBinary(data), ack).map_err(|e| e.to_string())
        }
        _ => {
            let json = data
                .map(|d| socketio::to_js_json(d).map_err(|e| e.to_string()))
                .transpose()?;
            let raw = json
                .as_deref()
                .map(|j| RawJson::new(j).map_err(|e| e.to_string()))
                .transpose()?;
            let packet_type = match digit {
                PacketType::BinaryEvent => PacketType::Event,
                PacketType::BinaryAck => PacketType::Ack,
                other => other,
            };
            let packet = socketio::Packet::new(packet_type, namespace, id, raw, 0)
                .map_err(|e| format!("invalid packet: {e}"))?;
            Assembled::new(socketio::PacketBuf::from(&packet), Vec::new())
                .map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_binary_packets_both_ways() {
        let input: Value = serde_json::from_str(
            r#"{"type":2,"nsp":"/","data":["message-with-ack",{"$bin":"010203"},{"$bin":"040506"}],"id":789}"#,
        )
        .unwrap();
        let assembled = sio_from_value(&input).unwrap();
        let packet = assembled.packet().as_packet();
        assert_eq!(
            packet.to_text().as_str(),
            r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(
            sio_to_json_text(&packet, assembled.attachments()),
            r#"{"type":5,"nsp":"/","id":789,"data":["message-with-ack",{"$bin":"010203"},{"$bin":"040506"}],"attachments":2}"#
        );
    }

    #[test]
    fn keeps_non_binary_payloads_verbatim() {
        let packet = socketio::Packet::decode_text(r#"2["s","\ud800",1.0]"#).unwrap();
        assert_eq!(
            sio_to_json_text(&packet, &[]),
            r#"{"type":2,"nsp":"/","data":["s","\ud800",1.0]}"#
        );
        assert!(sio_to_value(&packet, &[]).is_err());
    }

    #[test]
    fn rejects_bad_inputs() {
        assert!(sio_from_value(&serde_json::json!({"type": 9})).is_err());
        assert!(sio_from_value(&serde_json::json!({"type": 255})).is_err());
        assert!(sio_from_value(&serde_json::json!({"type": "PING"})).is_err());
        assert!(sio_from_value(&serde_json::json!({"nsp": "/"})).is_err());
        // A name, as fixtures and reports write it, is the same packet as its number.
        use serde_json::json;
        for (named, numbered) in [
            (
                json!({"type": "EVENT", "data": ["a"], "id": 1}),
                json!({"type": 2, "data": ["a"], "id": 1}),
            ),
            (
                json!({"type": "event", "data": ["a"]}),
                json!({"type": 2, "data": ["a"]}),
            ),
            (json!({"type": "CONNECT"}), json!({"type": 0})),
            (
                json!({"type": "ACK", "data": [1], "id": 7}),
                json!({"type": 3, "data": [1], "id": 7}),
            ),
        ] {
            let frames = |v: &Value| sio_from_value(v).unwrap().frames().collect::<Vec<_>>();
            assert_eq!(frames(&named), frames(&numbered), "{named}");
        }
        assert!(sio_from_value(&serde_json::json!({"type": 2, "data": []})).is_err());
        assert!(
            sio_from_value(&serde_json::json!({"type": 2, "nsp": "x", "data": ["a"]})).is_err()
        );
        assert_eq!(unhex("0g").unwrap_err(), "invalid hex \"0g\"");
    }
}
