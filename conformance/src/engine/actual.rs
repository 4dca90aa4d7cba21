//! Actual values for the matcher, in the shapes `scenario::packet` documents.

use crate::transport::http::HttpResponse;
use crate::wire;
use bytes::Bytes;
use serde_json::Value;
use sio_codec::{
    DecodeConfig,
    engineio::{self, v3},
    socketio,
};

/// `{"type": "EVENT", "nsp": "/", "id": 12, "data": [...]}` with binary leaves.
pub(crate) fn sio_value(
    packet: &socketio::Packet<'_>,
    attachments: &[Bytes],
) -> Result<Value, String> {
    let mut value = wire::sio_to_value(packet, attachments)?;
    if let Value::Object(map) = &mut value {
        map.insert(
            "type".into(),
            Value::String(packet.packet_type().name().into()),
        );
        map.remove("attachments");
    }
    Ok(value)
}

/// The packets of a polling body as an array of Engine.IO packet objects, or a string
/// describing why the body is not a valid payload.
pub(crate) fn payload_value(body: &[u8], eio3: bool, binary: bool) -> Value {
    let config = DecodeConfig::new().max_payload(usize::MAX);
    let packets: Result<Vec<_>, _> = if eio3 {
        let format = if binary {
            v3::PayloadFormat::Binary
        } else {
            v3::PayloadFormat::Text
        };
        v3::decode_payload(body, format, &config).collect()
    } else {
        engineio::decode_payload(body, &config).collect()
    };
    match packets {
        Ok(packets) => Value::Array(packets.iter().map(wire::eio_to_value).collect()),
        Err(e) => Value::String(format!(
            "<not a polling payload: {e}: {:?}>",
            String::from_utf8_lossy(body)
        )),
    }
}

/// The response body as text (lossy for invalid UTF-8).
pub(crate) fn body_text(response: &HttpResponse) -> Value {
    Value::String(String::from_utf8_lossy(&response.body).into_owned())
}

/// The response body parsed as JSON (`null` when it is not JSON).
pub(crate) fn body_json(response: &HttpResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

/// A header's value (`null` when absent), by case-insensitive name.
pub(crate) fn header(response: &HttpResponse, name: &str) -> Value {
    response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or(Value::Null, |(_, v)| Value::String(v.clone()))
}
