//! The record separator cannot break v4 polling framing through the public API (issue 16).

use sio_codec::{
    DecodeConfig, ErrorKind,
    engineio::{self, Packet as EioPacket},
    socketio::{Namespace, Packet, RawJson},
};

/// The report: `Namespace::new("/a\x1eb")` was `Ok`, and an event on it, put in a v4 polling
/// body, decoded back as `[Text("2/a"), Err(InvalidBase64 @6)]`.
#[test]
fn rejects_a_namespace_that_would_split_a_polling_record() {
    assert_eq!(
        Namespace::new("/a\u{1e}b"),
        Err(ErrorKind::InvalidNamespace)
    );
    // What the constructors accept travels over polling and decodes back exactly, `?` included.
    for name in ["/a", "/a?b=1", "/a?b=1&c=/d", "/é😀", "/", "//"] {
        let namespace = Namespace::new(name).unwrap();
        let args = RawJson::new(r#"["e",1]"#).unwrap();
        let text = Packet::event(namespace, args, None).unwrap().to_text();
        let mut body = Vec::new();
        engineio::encode_payload(&[EioPacket::text(&text), EioPacket::Noop], &mut body).unwrap();
        let packets: Vec<_> = engineio::decode_payload(&body, &DecodeConfig::new())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(packets, [EioPacket::text(&text), EioPacket::Noop], "{name}");
        let decoded = Packet::decode_text(&text).unwrap();
        assert_eq!(decoded.namespace().as_str(), name, "{name}");
    }
}

/// A decoded namespace may hold the separator (the reference takes it from a WebSocket
/// frame); the payload encoder refuses to put it in a polling body.
#[test]
fn rejects_a_websocket_only_packet_in_a_polling_body() {
    let text = "2/a\u{1e}b,[\"e\"]";
    let packet = Packet::decode_text(text).unwrap();
    assert_eq!(packet.namespace().as_str(), "/a\u{1e}b");
    let mut body = Vec::new();
    let err = engineio::encode_payload(&[EioPacket::text(text)], &mut body).unwrap_err();
    assert_eq!(err.index(), 0);
    assert!(body.is_empty());
    let err = engineio::encode_payload(&[EioPacket::Ping(Some("\u{1e}"))], &mut body);
    assert_eq!(err.map_err(|e| e.index()), Err(0));
}
