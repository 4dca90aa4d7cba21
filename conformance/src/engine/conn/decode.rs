//! What the wire of a connection means to the runner: the protocol named by a request's
//! query, polling bodies and WebSocket events decoded into [`Item`]s (leniently: the runner
//! judges what a server sends, it does not protect itself from it), and which messages are
//! Socket.IO traffic rather than Engine.IO test messages.

use super::Item;
use crate::transport::ws::WsEvent;
use bytes::Bytes;
use sio_codec::{
    BINARY_BODY, DecodeConfig, Protocol,
    engineio::{self, PacketBuf},
};
use tokio::time::Instant;

/// The protocol of a connection or request of the runner, from the `EIO` parameter of its
/// query: Engine.IO 3 with Socket.IO v4 for `EIO=3`, else Engine.IO 4 with Socket.IO v5 (also
/// when `EIO` is missing or names no revision: the cases that send such a query expect the
/// server to refuse it). What the server sends decodes leniently ([`lenient`]).
pub(crate) fn protocol_of(path_and_query: &str) -> Protocol {
    let query = path_and_query
        .split_once('?')
        .map_or("", |(_, query)| query);
    Protocol::from_query(query)
        .unwrap_or(Protocol::V4)
        .with_config(lenient())
}

/// Encodes packets as one polling body (binary as base64 text). A v4 packet whose text holds
/// the record separator cannot go in one.
pub(super) fn payload(
    protocol: Protocol,
    packets: &[engineio::Packet<'_>],
) -> Result<Bytes, String> {
    protocol
        .encode_body(packets, true)
        .map(|(_, body)| body)
        .map_err(|e| e.to_string())
}

/// Whether `item` is an Engine.IO text message carrying a Socket.IO packet (`40`,
/// `42["auth",{}]`): what a Socket.IO server and its application send on their own, such as
/// the automatic connection of an Engine.IO v3 session to the main namespace.
pub(super) fn is_upper_layer(protocol: Protocol, item: &Item) -> bool {
    match item {
        Item::Packet { packet, .. } => match packet.as_packet() {
            engineio::Packet::Message(engineio::Message::Text(text)) => {
                is_socketio_packet(protocol, text)
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether `text` (the data of an Engine.IO message) is a valid Socket.IO packet. (The
/// Engine.IO cases' own messages, `hello`, `test1`, …, are not; nor is an empty message,
/// which the reference parser would read as a CONNECT.)
/// By the Socket.IO rules of `protocol`: v4 packets that v5 refuses (an ERROR with an array,
/// an event named `connect`) are Socket.IO traffic of a v4 server too.
pub(crate) fn is_socketio_packet(protocol: Protocol, text: &str) -> bool {
    let config = protocol.config();
    !text.is_empty() && sio_codec::socketio::Packet::decode_text_with(text, &config).is_ok()
}

/// The decoder settings for what servers send: no size limit (the runner is not the one
/// protecting itself), reference acceptance rules otherwise.
fn lenient() -> DecodeConfig {
    DecodeConfig::new().max_payload(usize::MAX)
}

/// Decodes one WebSocket event into an item.
pub(super) fn ws_item(at: Instant, event: WsEvent, protocol: Protocol) -> Item {
    match event {
        WsEvent::Text(text) => {
            match protocol.decode_text_frame(&sio_codec::Utf8Bytes::from(text.as_str())) {
                Ok(packet) => Item::Packet {
                    at,
                    packet,
                    raw: Some(text),
                },
                Err(e) => Item::Malformed {
                    at,
                    error: format!("{e} in text frame {text:?}"),
                },
            }
        }
        WsEvent::Binary(bytes) => match protocol.decode_binary_frame(bytes) {
            Ok(packet) => Item::Packet {
                at,
                packet,
                raw: None,
            },
            Err(e) => Item::Malformed {
                at,
                error: format!("{e} in binary frame"),
            },
        },
        WsEvent::Closed { code, reason } => Item::Closed {
            at,
            detail: match code {
                Some(code) => format!("close code {code} {reason}"),
                None if reason.is_empty() => "close frame without status (1005)".into(),
                None => reason,
            },
        },
    }
}

/// The packets of one polling response body (v3 bodies by their content type: XHR2 binary
/// when it names `octet-stream`).
pub(crate) fn payload_packets(
    body: &Bytes,
    content_type: Option<&str>,
    protocol: Protocol,
) -> Vec<Result<PacketBuf, String>> {
    let binary = content_type.is_some_and(|c| c.contains("octet-stream"));
    protocol
        .decode_body(body.clone(), binary.then_some(BINARY_BODY))
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

/// Whether a polling request's query has `b64=1` (an Engine.IO v3 client without XHR2).
pub(super) fn wants_base64(path_and_query: &str) -> bool {
    path_and_query
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair == "b64=1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sio_codec::EngineIo;

    #[test]
    fn b64_is_read_from_the_query_only() {
        assert!(wants_base64(
            "/socket.io/?EIO=3&transport=polling&b64=1&sid=x"
        ));
        assert!(wants_base64("/engine.io/?b64=1"));
        assert!(!wants_base64("/engine.io/?EIO=3&transport=polling&sid=x"));
        assert!(!wants_base64("/engine.io/?EIO=3&xb64=1"));
        assert!(!wants_base64("/b64=1/?EIO=3"));
    }

    #[test]
    fn the_protocol_comes_from_the_eio_of_the_query() {
        let eio = |path: &str| protocol_of(path).engineio();
        assert_eq!(eio("/socket.io/?EIO=3&transport=polling"), EngineIo::V3);
        assert_eq!(
            eio("/socket.io/?transport=websocket&EIO=3&sid=x"),
            EngineIo::V3
        );
        assert_eq!(eio("/engine.io/?EIO=4&transport=polling"), EngineIo::V4);
        // No revision, or one no server has: the v4 framing (the server is to refuse it).
        for path in [
            "/engine.io/?transport=polling",
            "/engine.io/?EIO=5",
            "/EIO=3",
        ] {
            assert_eq!(eio(path), EngineIo::V4, "{path}");
        }
        assert!(protocol_of("/?EIO=3").config().is_socketio_v4());
        assert!(!protocol_of("/?EIO=4").config().is_socketio_v4());
        // What servers send is not held to a size limit.
        assert_eq!(protocol_of("/?EIO=3").config().payload_limit(), usize::MAX);
    }

    #[test]
    fn socketio_packets_are_told_from_engineio_test_messages() {
        let (v4, v3) = (protocol_of("/?EIO=4"), protocol_of("/?EIO=3"));
        for text in ["0", "0{\"sid\":\"x\"}", "2[\"auth\",{}]", "0/custom,", "1"] {
            assert!(is_socketio_packet(v4, text), "{text}");
            assert!(is_socketio_packet(v3, text), "{text}");
        }
        for text in ["hello", "test1", "a\nb", "probe", ""] {
            assert!(!is_socketio_packet(v4, text), "{text:?}");
            assert!(!is_socketio_packet(v3, text), "{text:?}");
        }
        // Socket.IO v4 (Engine.IO 3) allows what v5 refuses: an ERROR with an array, an event
        // named like a v5 reserved event.
        for text in ["4[\"denied\"]", "2[\"connect\"]"] {
            assert!(is_socketio_packet(v3, text), "{text}");
            assert!(!is_socketio_packet(v4, text), "{text}");
        }
    }
}
