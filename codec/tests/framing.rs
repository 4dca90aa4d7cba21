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

/// Socket.IO errors count in the Socket.IO text; `in_frame` gives the byte in the WebSocket
/// frame or the polling body the caller holds (the report: one byte off in a frame, the
/// record's start to add by hand in a body, and push_binary pointing into the earlier text).
#[test]
fn reports_socketio_errors_at_their_byte_in_the_frame() {
    use sio_codec::{
        Utf8Bytes,
        bytes::Bytes,
        engineio::{Message, PacketBuf as EioPacketBuf},
        socketio::{PacketBuf, Reassembler},
    };
    fn sio_text<'a>(packet: &EioPacket<'a>) -> &'a str {
        match packet {
            EioPacket::Message(Message::Text(text)) => text,
            other => panic!("{other:?}"),
        }
    }
    // A WebSocket frame: the ack id starts at byte 2 of the frame.
    let frame = r#"429007199254740992["x"]"#;
    let text = sio_text(&EioPacket::decode_text(frame).unwrap());
    let err = Packet::decode_text(text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AckIdOverflow);
    assert_eq!(err.in_frame(text, frame.as_bytes()).offset(), 2);
    assert_eq!(&frame[2..3], "9");

    // A v4 polling body: the same packet as the second record.
    let body = format!("4hello\u{1e}42/chat,{}", &frame[2..]);
    let at = body.find("9007").unwrap();
    let packets: Vec<_> = engineio::decode_payload(body.as_bytes(), &DecodeConfig::new())
        .collect::<Result<_, _>>()
        .unwrap();
    let text = sio_text(&packets[1]);
    let err = Packet::decode_text(text).unwrap_err();
    assert_eq!(err.in_frame(text, body.as_bytes()).offset(), at);

    // The owned forms share the body's buffer: the same call works on them.
    let body = Bytes::from(body);
    let owned: Vec<_> = engineio::decode_payload_buf(body.clone(), &DecodeConfig::new())
        .collect::<Result<_, _>>()
        .unwrap();
    let text: &Utf8Bytes = owned[1].text().unwrap();
    let err = PacketBuf::decode_text(text).unwrap_err();
    assert_eq!(err.in_frame(text, &body).offset(), at);
    let err = Reassembler::default().push_text(text).unwrap_err();
    assert_eq!(err.in_frame(text, &body).offset(), at);

    // An invalid placeholder, found by push_binary, points into the binary packet's text.
    let frame = Utf8Bytes::from(r#"451-["a",{"_placeholder":true,"num":3}]"#);
    let text = EioPacketBuf::decode_text(&frame)
        .unwrap()
        .text()
        .unwrap()
        .clone();
    let mut reassembler = Reassembler::default();
    reassembler.push_text(&text).unwrap();
    let err = reassembler
        .push_binary(Bytes::from_static(&[1]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPlaceholder);
    assert_eq!(err.in_frame(&text, frame.as_bytes()).offset(), 4);
    assert_eq!(&frame[4..5], "[");
}
