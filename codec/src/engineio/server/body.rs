//! Polling bodies and WebSocket frames of a server session: the codec's encoders and
//! decoders chosen per revision, plus the JSONP wrapping.

use super::{BINARY_BODY, Frame, Response, TEXT_BODY};
use crate::EngineIo;
use crate::engineio::{self, Message, Packet, PacketBuf, v3};
use crate::{DecodeConfig, DecodeError, Encode, ErrorKind, FrameKind, Utf8Bytes, WireFormat};
use alloc::{borrow::Cow, string::String, vec::Vec};
use bytes::Bytes;

/// The body of a GET answer (or of the handshake): v4 records; v3 XHR2 when the batch holds
/// binary and the client takes binary, else `len:packet` text; JSONP wraps text bodies.
pub(super) fn encode_get(
    revision: EngineIo,
    b64: bool,
    packets: &[PacketBuf],
    jsonp: Option<&str>,
) -> Response {
    let views: Vec<Packet<'_>> = packets.iter().map(PacketBuf::as_packet).collect();
    let has_binary = views
        .iter()
        .any(|p| matches!(p, Packet::Message(Message::Binary(_))));
    let mut body = Vec::new();
    let content_type = match revision {
        EngineIo::V4 => {
            // NOTE(compat): a text that holds the record separator (it came over WebSocket)
            // goes in as is, as the reference writes it; the codec's encoder refuses it.
            if engineio::encode_payload(&views, &mut body).is_err() {
                body.clear();
                for (i, view) in views.iter().enumerate() {
                    if i > 0 {
                        body.push(engineio::RECORD_SEPARATOR);
                    }
                    view.encode(WireFormat::Text, &mut body);
                }
            }
            TEXT_BODY
        }
        EngineIo::V3 if has_binary && !b64 => {
            v3::encode_payload(&views, v3::PayloadFormat::Binary, &mut body);
            BINARY_BODY
        }
        EngineIo::V3 => {
            v3::encode_payload(&views, v3::PayloadFormat::Text, &mut body);
            TEXT_BODY
        }
    };
    match jsonp {
        Some(index) if content_type == TEXT_BODY => Response::new(
            200,
            TEXT_BODY,
            jsonp_wrap(index, &String::from_utf8_lossy(&body)),
        ),
        _ => Response::new(200, content_type, body),
    }
}

/// `___eio[<digits of j>]("<payload as a JSON string>");`, U+2028 and U+2029 escaped too.
fn jsonp_wrap(index: &str, payload: &str) -> String {
    let digits: String = index.chars().filter(char::is_ascii_digit).collect();
    // Serializing a string cannot fail.
    let literal = serde_json::to_string(payload)
        .unwrap_or_default()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    alloc::format!("___eio[{digits}]({literal});")
}

/// The packets of a POST body, in order, ending at the first error (included).
pub(super) fn decode_post(
    revision: EngineIo,
    body: Bytes,
    octet_stream: bool,
    jsonp: bool,
    config: &DecodeConfig,
) -> Vec<Result<PacketBuf, DecodeError>> {
    let (body, binary) = if jsonp {
        // JSONP: a form with the payload in `d` (the one copy: form decoding).
        (Bytes::from(jsonp_payload(&body)), false)
    } else {
        (body, octet_stream)
    };
    let mut out = Vec::new();
    match revision {
        EngineIo::V4 => out.extend(engineio::decode_payload_buf(body, config)),
        EngineIo::V3 => {
            let format = if binary {
                v3::PayloadFormat::Binary
            } else {
                v3::PayloadFormat::Text
            };
            out.extend(v3::decode_payload(&body, format, config).map(|p| p.map(|p| own(p, &body))));
        }
    }
    out
}

/// The owned form of a packet borrowed from `body`, as views of `body` (no copy, except
/// base64-decoded binary, which is already owned).
pub(super) fn own(packet: Packet<'_>, body: &Bytes) -> PacketBuf {
    let packet = match packet {
        Packet::Message(Message::Binary(data)) => {
            return PacketBuf::from_binary_frame(match data {
                Cow::Borrowed(slice) => view(body, slice),
                Cow::Owned(vec) => Bytes::from(vec),
            });
        }
        other => other,
    };
    let text = match &packet {
        Packet::Message(Message::Text(t)) | Packet::Ping(Some(t)) | Packet::Pong(Some(t)) => {
            Some(*t)
        }
        _ => None,
    };
    let frame = text
        .and_then(|t| Utf8Bytes::try_from(view(body, t.as_bytes())).ok())
        .unwrap_or_default();
    PacketBuf::from_view(packet, &frame)
}

/// `sub` as a view of `body` when it lies inside it, else a copy (never happens for slices
/// the decoders cut from `body`).
fn view(body: &Bytes, sub: &[u8]) -> Bytes {
    let base = body.as_ptr() as usize;
    let start = sub.as_ptr() as usize;
    if sub.is_empty() || start < base || start + sub.len() > base + body.len() {
        Bytes::copy_from_slice(sub)
    } else {
        body.slice_ref(sub)
    }
}

/// The payload of a JSONP POST: the form field `d`, form-decoded, then the client's newline
/// escaping undone. A body without `d` is an empty payload **(reference: ignored)**.
fn jsonp_payload(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let value = text
        .split('&')
        .rev()
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(name, _)| form_decode(name) == "d")
        .map(|(_, value)| form_decode(value))
        .unwrap_or_default();
    jsonp_unescape(&value)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; invalid
/// escapes stay as they are and invalid UTF-8 is replaced.
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |c: u8| (c as char).to_digit(16);
        let escaped = (byte == b'%')
            .then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?))
            .flatten();
        match (escaped, byte) {
            (Some(value), _) => {
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reference's JSONP unescaping: `\n` (backslash, n) becomes a newline, `\\n` stays.
fn jsonp_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("\\\\n") {
            out.push_str("\\\\n");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("\\n") {
            out.push('\n');
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The WebSocket frame of a packet: binary as a binary frame (v3 with the `0x04` type
/// byte), or as base64 text for `b64` clients.
pub(super) fn frame(revision: EngineIo, b64: bool, packet: &PacketBuf) -> Frame {
    let format = if b64 {
        WireFormat::Text
    } else {
        WireFormat::Frames
    };
    let view = packet.as_packet();
    let (kind, bytes) = match revision {
        EngineIo::V3 => v3::V3(&view).to_bytes(format),
        EngineIo::V4 => view.to_bytes(format),
    };
    match kind {
        FrameKind::Binary => Frame::Binary(bytes),
        // The encoders write text packets as UTF-8.
        FrameKind::Text => Utf8Bytes::try_from(bytes).map_or(Frame::Close(None), Frame::Text),
    }
}

/// Decodes a WebSocket text or binary frame (not a close) with the revision's rules.
pub(super) fn decode_frame(
    revision: EngineIo,
    frame: Frame,
    config: &DecodeConfig,
) -> Result<PacketBuf, DecodeError> {
    match (frame, revision) {
        (Frame::Text(text), EngineIo::V4) => PacketBuf::decode_text_with(&text, config),
        (Frame::Text(text), EngineIo::V3) => {
            let body = text.as_bytes().clone();
            v3::decode_text(text.as_str(), config).map(|p| own(p, &body))
        }
        (Frame::Binary(bytes), EngineIo::V4) => PacketBuf::decode_binary_frame(bytes, config),
        (Frame::Binary(bytes), EngineIo::V3) => {
            v3::decode_binary_frame(&bytes, config).map(|p| own(p, &bytes))
        }
        (Frame::Close(_), _) => Err(DecodeError::new(ErrorKind::Empty, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonp_unescapes_like_the_reference() {
        assert_eq!(jsonp_unescape("4:4a\\nb"), "4:4a\nb");
        assert_eq!(jsonp_unescape("a\\\\nb"), "a\\\\nb");
        assert_eq!(jsonp_unescape("é\\x\\"), "é\\x\\");
        assert_eq!(jsonp_payload(b"d=6%3A4hello"), "6:4hello");
        assert_eq!(jsonp_payload(b"x=1"), "");
    }

    #[test]
    fn jsonp_wraps_a_json_string() {
        assert_eq!(jsonp_wrap("0", "6:4hello"), r#"___eio[0]("6:4hello");"#);
        assert_eq!(
            jsonp_wrap("a1b2", "2:4\n\u{2028}"),
            "___eio[12](\"2:4\\n\\u2028\");"
        );
    }
}
