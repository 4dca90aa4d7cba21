//! Actual values for the matcher, in the shapes `fixture::packet` documents.

use super::framing::Framing;
use crate::transport::http::HttpResponse;
use crate::wire;
use bytes::Bytes;
use serde_json::Value;
use sio_codec::socketio;

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
pub(crate) fn payload_value(body: &[u8], framing: &Framing, binary: bool) -> Value {
    let unwrapped;
    let body = match &framing.jsonp {
        None => body,
        Some(index) => match jsonp_payload(body, index) {
            Some(payload) => {
                unwrapped = payload;
                unwrapped.as_bytes()
            }
            None => {
                return Value::String(format!(
                    "<not a JSONP response for j={index}: {:?}>",
                    String::from_utf8_lossy(body)
                ));
            }
        },
    };
    let packets: Result<Vec<_>, _> = framing
        .protocol
        .decode_body(
            Bytes::copy_from_slice(body),
            binary.then_some(sio_codec::BINARY_BODY),
        )
        .collect();
    match packets {
        Ok(packets) => Value::Array(
            packets
                .iter()
                .map(|packet| wire::eio_to_value(&packet.as_packet()))
                .collect(),
        ),
        Err(e) => Value::String(format!(
            "<not a polling payload: {e}: {:?}>",
            String::from_utf8_lossy(body)
        )),
    }
}

/// The payload inside a JSONP response `___eio[<index>]("<payload as a JSON string>");`, where
/// `<index>` is the request's `j` with its non-digits removed (what the reference does).
fn jsonp_payload(body: &[u8], index: &str) -> Option<String> {
    let digits: String = index.chars().filter(char::is_ascii_digit).collect();
    let text = std::str::from_utf8(body).ok()?;
    let literal = text
        .strip_prefix(&format!("___eio[{digits}]("))?
        .strip_suffix(");")?;
    serde_json::from_str::<String>(literal).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonp_unwraps_only_the_exact_wrapper() {
        let framing = |j: &str| Framing::of(&format!("/engine.io/?EIO=3&j={j}&sid=x"));
        let body = br#"___eio[0]("4:4a\nb");"#;
        assert_eq!(
            payload_value(body, &framing("0"), false),
            serde_json::json!([{"type": "message", "data": "a\nb"}])
        );
        // The reference keeps the digits of `j` only.
        assert_eq!(
            payload_value(body, &framing("x0"), false),
            payload_value(body, &framing("0"), false)
        );
        for bad in [
            &br#"___eio[1]("4:4a\nb");"#[..], // another index
            br#"___eio[0]("4:4a\nb")"#,       // no semicolon
            br#"___eio[0]('4:4a\nb');"#,      // not a JSON string
            br"4:4a",                         // no wrapper at all
        ] {
            let value = payload_value(bad, &framing("0"), false);
            assert!(
                value
                    .as_str()
                    .is_some_and(|s| s.starts_with("<not a JSONP response")),
                "{value}"
            );
        }
        // Without `j`, the body is the payload itself.
        assert_eq!(
            payload_value(b"6:4hello", &Framing::of("/engine.io/?EIO=3"), false),
            serde_json::json!([{"type": "message", "data": "hello"}])
        );
    }
}
