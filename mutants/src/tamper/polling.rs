//! The polling defects: GET bodies and POST answers rewritten, POST bodies cut.

use super::{announce, rewrites_open};
use crate::{Mutant, Settings};
use bytes::Bytes;
use serde_json::Value;
use sio_codec::engineio::server::{Response, TEXT_BODY};
use sio_codec::engineio::{self, Message, Packet, PacketBuf, PacketType, v3};
use sio_codec::{DecodeConfig, Encode, EngineIo, Protocol, WireFormat};

/// What a GET's body is written for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poll<'a> {
    pub(crate) revision: EngineIo,
    /// The client takes binary as base64 text (`b64`, JSONP).
    pub(crate) b64: bool,
    /// The JSONP index of the request.
    pub(crate) jsonp: Option<&'a str>,
}

/// The answer to a GET (the handshake's included) as the mutant writes it; `pings` server
/// pings owed to an Engine.IO 3 client go in front (`v3-server-pings`).
pub(crate) fn get_response(
    settings: &Settings,
    poll: Poll<'_>,
    response: Response,
    pings: usize,
) -> Response {
    let body_defect = match settings.mutant {
        Mutant::DropLastPacket | Mutant::JsonpIgnored | Mutant::V3ServerPings => true,
        Mutant::RawBinaryOnPolling => poll.revision == EngineIo::V4,
        Mutant::Xhr2ForB64Clients | Mutant::V3ByteLengths => poll.revision == EngineIo::V3,
        _ => rewrites_open(settings),
    };
    if response.status != 200 || !body_defect {
        return response;
    }
    let Some(mut packets) = decode_get(poll, &response) else {
        return response;
    };
    if let [first, ..] = packets.as_mut_slice()
        && first.packet_type() == PacketType::Open
    {
        *first = announce(settings, first.clone());
    }
    if settings.has(Mutant::DropLastPacket) && packets.len() > 1 {
        packets.pop();
    }
    let ping = PacketBuf::from(&Packet::Ping(None));
    packets.splice(0..0, std::iter::repeat_n(ping, pings));
    let (content_type, body) = encode_get(settings, poll, &packets);
    let body = match poll.jsonp {
        Some(index) if content_type == TEXT_BODY && !settings.has(Mutant::JsonpIgnored) => {
            Bytes::from(jsonp_wrap(index, &String::from_utf8_lossy(&body)))
        }
        _ => body,
    };
    Response {
        content_type: Some(content_type),
        body,
        ..response
    }
}

/// The packets of a GET answer the session wrote.
fn decode_get(poll: Poll<'_>, response: &Response) -> Option<Vec<PacketBuf>> {
    let body = if poll.jsonp.is_some() && response.content_type == Some(TEXT_BODY) {
        Bytes::from(jsonp_unwrap(&response.body)?)
    } else {
        response.body.clone()
    };
    let protocol =
        Protocol::new(poll.revision).with_config(DecodeConfig::new().max_payload(usize::MAX));
    protocol
        .decode_body(body, response.content_type)
        .collect::<Result<_, _>>()
        .ok()
}

/// A GET body, with the encoding defects.
fn encode_get(settings: &Settings, poll: Poll<'_>, packets: &[PacketBuf]) -> (&'static str, Bytes) {
    let views: Vec<Packet<'_>> = packets.iter().map(PacketBuf::as_packet).collect();
    let has_binary = views
        .iter()
        .any(|p| matches!(p, Packet::Message(Message::Binary(_))));
    let b64 = poll.b64 && !settings.has(Mutant::Xhr2ForB64Clients);
    let xhr2 = poll.revision == EngineIo::V3 && has_binary && !b64;
    let mut body = Vec::new();
    match poll.revision {
        EngineIo::V4 if has_binary && settings.has(Mutant::RawBinaryOnPolling) => {
            for (i, view) in views.iter().enumerate() {
                if i > 0 {
                    body.push(engineio::RECORD_SEPARATOR);
                }
                match view {
                    Packet::Message(Message::Binary(bytes)) => body.extend_from_slice(bytes),
                    other => {
                        other.encode(WireFormat::Text, &mut body);
                    }
                }
            }
            (TEXT_BODY, Bytes::from(body))
        }
        EngineIo::V3 if !xhr2 && settings.has(Mutant::V3ByteLengths) => {
            for view in &views {
                let (_, bytes) = v3::V3(view).to_bytes(WireFormat::Text);
                body.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
                body.extend_from_slice(&bytes);
            }
            (TEXT_BODY, Bytes::from(body))
        }
        revision => match Protocol::new(revision).encode_body(&views, b64) {
            Ok(encoded) => encoded,
            // Engine.IO 4, a text that holds the record separator: written as is, as the
            // reference does.
            Err(_) => {
                for (i, view) in views.iter().enumerate() {
                    if i > 0 {
                        body.push(engineio::RECORD_SEPARATOR);
                    }
                    view.encode(WireFormat::Text, &mut body);
                }
                (TEXT_BODY, Bytes::from(body))
            }
        },
    }
}

/// Whether a GET answer is only the noop that releases a GET during the upgrade.
pub(crate) fn is_noop(poll: Poll<'_>, response: &Response) -> bool {
    decode_get(poll, response).is_some_and(
        |packets| matches!(&packets[..], [noop] if noop.packet_type() == PacketType::Noop),
    )
}

/// `___eio[<digits of j>]("<payload as a JSON string>");`, U+2028 and U+2029 escaped too.
fn jsonp_wrap(index: &str, payload: &str) -> String {
    let digits: String = index.chars().filter(char::is_ascii_digit).collect();
    let literal = Value::String(payload.to_owned())
        .to_string()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    format!("___eio[{digits}]({literal});")
}

/// The payload inside a JSONP answer.
fn jsonp_unwrap(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let literal = text.split_once('(')?.1.strip_suffix(");")?;
    serde_json::from_str(literal).ok()
}

/// The answer to a POST: `ok`, or an empty body (`post-without-ok`).
pub(crate) fn post_response(settings: &Settings, response: Response) -> Response {
    if settings.has(Mutant::PostWithoutOk) && response.status == 200 {
        Response {
            body: Bytes::new(),
            ..response
        }
    } else {
        response
    }
}

/// What `malformed-eio-kept` does with a POST body.
#[derive(Debug)]
pub(crate) enum Kept {
    /// Nothing: the body is fine (or the mutant is another).
    Body,
    /// The body cut before its first bad record, as a text payload (content type, bytes)
    /// for the session.
    Cut(&'static str, Bytes),
    /// Not one good record: the session does not see the POST.
    Nothing,
}

/// `malformed-eio-kept`: a POST body without its bad records.
pub(crate) fn post_body_kept(
    settings: &Settings,
    revision: EngineIo,
    body: &Bytes,
    octet_stream: bool,
    jsonp: bool,
) -> Kept {
    // JSONP forms are left to the session: the defect is in the plain payloads.
    if !settings.has(Mutant::MalformedEioKept) || jsonp {
        return Kept::Body;
    }
    let payload = body.clone();
    let protocol = Protocol::new(revision).with_config(DecodeConfig::new().max_payload(usize::MAX));
    let content_type = octet_stream.then_some(sio_codec::BINARY_BODY);
    let mut good = Vec::new();
    let mut bad = false;
    for packet in protocol.decode_body(payload, content_type) {
        match packet {
            Ok(packet) => good.push(packet),
            Err(_) => bad = true,
        }
    }
    if !bad {
        return Kept::Body;
    }
    if good.is_empty() {
        return Kept::Nothing;
    }
    let views: Vec<Packet<'_>> = good.iter().map(PacketBuf::as_packet).collect();
    // Binary kept as base64 text: the session reads text payloads of either revision.
    match protocol.encode_body(&views, true) {
        Ok((content_type, body)) => Kept::Cut(content_type, body),
        Err(_) => Kept::Nothing,
    }
}

/// A GET answer of `pings` pings, written by the server itself (`v3-server-pings`, while
/// the session's own answer is not there yet).
pub(crate) fn pings_response(poll: Poll<'_>, pings: usize) -> Response {
    let pings = vec![Packet::Ping(None); pings];
    let (content_type, body) = Protocol::new(poll.revision)
        .encode_body(&pings, poll.b64)
        .unwrap_or((TEXT_BODY, Bytes::new()));
    Response {
        status: 200,
        content_type: Some(content_type),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mutant: Mutant) -> Settings {
        Settings::with_mutant(mutant)
    }

    #[test]
    fn get_bodies_follow_the_defects() {
        let poll = Poll {
            revision: EngineIo::V4,
            b64: false,
            jsonp: None,
        };
        let response = |body: &'static [u8]| Response {
            status: 200,
            content_type: Some(TEXT_BODY),
            body: Bytes::from_static(body),
        };
        let clean = get_response(&settings(Mutant::None), poll, response(b"4a\x1e4b"), 0);
        assert_eq!(&clean.body[..], b"4a\x1e4b");
        let dropped = get_response(
            &settings(Mutant::DropLastPacket),
            poll,
            response(b"4a\x1e4b"),
            0,
        );
        assert_eq!(&dropped.body[..], b"4a");
        let raw = get_response(
            &settings(Mutant::RawBinaryOnPolling),
            poll,
            response(b"bAQI="),
            0,
        );
        assert_eq!(&raw.body[..], [1, 2]);
        let open = br#"0{"sid":"s","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":16384}"#;
        let unlimited = get_response(&settings(Mutant::NoMaxPayload), poll, response(open), 0);
        assert_eq!(
            &unlimited.body[..],
            br#"0{"sid":"s","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}"#
        );
        let v3 = Poll {
            revision: EngineIo::V3,
            b64: false,
            jsonp: Some("4"),
        };
        let jsonp = get_response(
            &settings(Mutant::V3ServerPings),
            v3,
            response(br#"___eio[4]("2:4a");"#),
            1,
        );
        assert_eq!(&jsonp.body[..], br#"___eio[4]("1:22:4a");"#);
        let plain = get_response(
            &settings(Mutant::JsonpIgnored),
            v3,
            response(br#"___eio[4]("2:4a");"#),
            0,
        );
        assert_eq!(&plain.body[..], b"2:4a");
        assert!(is_noop(v3, &response(br#"___eio[4]("1:6");"#)));
    }
}
