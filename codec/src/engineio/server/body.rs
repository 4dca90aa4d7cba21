//! Polling bodies and WebSocket frames of a server session: the encoders and decoders it
//! shares with the client session (`engineio::wire`, over [`Protocol`](crate::Protocol)),
//! plus what only a server does (JSONP).

use super::{Response, TEXT_BODY};
use crate::engineio::{PacketBuf, wire};
use crate::{DecodeConfig, DecodeError, EngineIo};
use alloc::{string::String, vec::Vec};
use bytes::Bytes;

pub(super) use wire::{decode_frame, frame};

/// The body of a GET answer (or of the handshake): v4 records; v3 XHR2 when the batch holds
/// binary and the client takes binary, else `len:packet` text; JSONP wraps text bodies.
pub(super) fn encode_get(
    revision: EngineIo,
    b64: bool,
    packets: &[PacketBuf],
    jsonp: Option<&str>,
) -> Response {
    let (content_type, body) = wire::encode_body(revision, b64, packets);
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
    let (body, content_type) = if jsonp {
        // JSONP: a form with the payload in `d` (the one copy: form decoding).
        (Bytes::from(jsonp_payload(&body)), TEXT_BODY)
    } else if octet_stream {
        (body, crate::BINARY_BODY)
    } else {
        (body, TEXT_BODY)
    };
    wire::protocol(revision, config)
        .decode_body(body, Some(content_type))
        .collect()
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
