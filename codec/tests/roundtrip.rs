//! Property tests over the public API: encode → decode round trips, exact `encoded_len`,
//! borrowed vs owned agreement, idempotence on arbitrary input, payload splitting.

use proptest::prelude::*;
use sio_codec::{
    DecodeConfig, Encode, Utf8Bytes, WireFormat,
    bytes::Bytes,
    engineio::{self, Handshake, v3},
    socketio::{self, AckId, Namespace, PacketType, Progress, RawJson, Reassembler},
};

fn eio_packet() -> impl Strategy<Value = engineio::Packet<'static>> {
    let text = || ".{0,12}".prop_map(|s: String| &*Box::leak(s.into_boxed_str()));
    let some_text = || ".{1,12}".prop_map(|s: String| &*Box::leak(s.into_boxed_str()));
    prop_oneof![
        (
            "[A-Za-z0-9_-]{1,20}",
            any::<u32>(),
            any::<u32>(),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(sid, i, t, m)| engineio::Packet::Open(Handshake::new(
                &sid,
                &["websocket"],
                i.into(),
                t.into(),
                m.map(u64::from)
            ))),
        Just(engineio::Packet::Close),
        proptest::option::of(some_text()).prop_map(engineio::Packet::Ping),
        proptest::option::of(some_text()).prop_map(engineio::Packet::Pong),
        text().prop_map(engineio::Packet::text),
        proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| engineio::Packet::binary(Box::leak(b.into_boxed_slice()))),
        Just(engineio::Packet::Upgrade),
        Just(engineio::Packet::Noop),
    ]
}

fn decode_eio(bytes: &[u8], kind: sio_codec::FrameKind) -> engineio::Packet<'_> {
    match kind {
        sio_codec::FrameKind::Text => {
            engineio::Packet::decode_text(std::str::from_utf8(bytes).unwrap()).unwrap()
        }
        sio_codec::FrameKind::Binary => engineio::Packet::from_binary_frame(bytes),
    }
}

/// JSON values of every shape, as text.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        ".{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::vec(("[a-z_]{1,6}", inner), 0..4)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A payload valid for `packet_type` under the v5 rules (or none).
fn sio_data(packet_type: PacketType) -> BoxedStrategy<Option<String>> {
    let args = (
        prop_oneof![
            "[a-z:-]{1,10}".prop_map(serde_json::Value::from),
            any::<u16>().prop_map(serde_json::Value::from)
        ],
        proptest::collection::vec(json_value(), 0..3),
    )
        .prop_map(|(name, mut rest)| {
            rest.insert(0, name);
            Some(serde_json::Value::from(rest).to_string())
        });
    let array = proptest::collection::vec(json_value(), 0..3)
        .prop_map(|v| Some(serde_json::Value::from(v).to_string()));
    let object = proptest::collection::vec(("[a-z]{1,5}", json_value()), 0..3)
        .prop_map(|kv| Some(serde_json::Value::Object(kv.into_iter().collect()).to_string()));
    match packet_type {
        PacketType::Connect => prop_oneof![Just(None), object].boxed(),
        PacketType::Disconnect => Just(None).boxed(),
        PacketType::Event | PacketType::BinaryEvent => prop_oneof![Just(None), args].boxed(),
        PacketType::Ack | PacketType::BinaryAck => prop_oneof![Just(None), array].boxed(),
        PacketType::ConnectError => prop_oneof![
            Just(None),
            object,
            ".{0,8}".prop_map(|s| Some(serde_json::Value::from(s).to_string()))
        ]
        .boxed(),
    }
}

#[derive(Debug, Clone)]
struct SioCase {
    packet_type: PacketType,
    namespace: String,
    id: Option<u64>,
    data: Option<String>,
    attachments: u32,
}

fn sio_case() -> impl Strategy<Value = SioCase> {
    (0u8..7)
        .prop_map(|d| PacketType::from_digit(b'0' + d).unwrap())
        .prop_flat_map(|packet_type| {
            (
                Just(packet_type),
                prop_oneof![Just("/".to_string()), "/[a-z0-9é?=&_-]{1,10}"],
                proptest::option::of(0u64..=AckId::MAX.get()),
                sio_data(packet_type),
                if packet_type.is_binary() {
                    (1u32..=10).boxed()
                } else {
                    Just(0u32).boxed()
                },
            )
        })
        .prop_map(|(packet_type, namespace, id, data, attachments)| SioCase {
            packet_type,
            namespace,
            id,
            data,
            attachments,
        })
}

impl SioCase {
    fn packet(&self) -> socketio::Packet<'_> {
        socketio::Packet::new(
            self.packet_type,
            Namespace::new(&self.namespace).unwrap(),
            self.id.and_then(AckId::new),
            self.data.as_deref().map(|d| RawJson::new(d).unwrap()),
            self.attachments,
        )
        .unwrap()
    }
}

proptest! {
    #[test]
    fn roundtrips_engineio_v4(packet in eio_packet()) {
        for format in [WireFormat::Text, WireFormat::Frames] {
            let (kind, bytes) = packet.to_bytes(format);
            prop_assert_eq!(bytes.len(), packet.encoded_len(format));
            prop_assert_eq!(&decode_eio(&bytes, kind), &packet);
        }
    }

    #[test]
    fn roundtrips_engineio_v3(packet in eio_packet()) {
        let cfg = DecodeConfig::new();
        for format in [WireFormat::Text, WireFormat::Frames] {
            let (kind, bytes) = v3::V3(&packet).to_bytes(format);
            prop_assert_eq!(bytes.len(), v3::V3(&packet).encoded_len(format));
            let decoded = match kind {
                sio_codec::FrameKind::Text => v3::decode_text(std::str::from_utf8(&bytes).unwrap(), &cfg),
                sio_codec::FrameKind::Binary => v3::decode_binary_frame(&bytes, &cfg),
            };
            prop_assert_eq!(decoded.unwrap(), packet.clone());
        }
    }

    #[test]
    fn roundtrips_payloads(packets in proptest::collection::vec(eio_packet(), 0..8)) {
        // The v4 separator may not occur inside text: JSON never contains it raw, and the
        // encoder refuses a packet that holds it.
        let v4_ok = packets.iter().all(|p| !matches!(p, engineio::Packet::Message(engineio::Message::Text(t)) if t.contains('\u{1e}'))
            && !matches!(p, engineio::Packet::Ping(Some(t)) | engineio::Packet::Pong(Some(t)) if t.contains('\u{1e}')));
        let cfg = DecodeConfig::new();
        let mut body = Vec::new();
        let encoded = engineio::encode_payload(&packets, &mut body);
        prop_assert_eq!(encoded.is_ok(), v4_ok);
        if v4_ok && !packets.is_empty() {
            prop_assert_eq!(body.len(), engineio::payload_len(&packets));
            let decoded: Vec<_> = engineio::decode_payload(&body, &cfg).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&decoded, &packets);
            let owned: Vec<_> = engineio::decode_payload_buf(Bytes::from(body.clone()), &cfg).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(owned.iter().map(|p| p.as_packet()).collect::<Vec<_>>(), packets.clone());
        }
        for format in [v3::PayloadFormat::Text, v3::PayloadFormat::Binary] {
            if packets.is_empty() && format == v3::PayloadFormat::Binary {
                continue;
            }
            let mut body = Vec::new();
            v3::encode_payload(&packets, format, &mut body);
            prop_assert_eq!(body.len(), v3::payload_len(&packets, format));
            let decoded: Vec<_> = v3::decode_payload(&body, format, &cfg).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&decoded, &packets);
        }
    }

    #[test]
    fn roundtrips_socketio(case in sio_case()) {
        let packet = case.packet();
        let text = packet.to_text();
        prop_assert_eq!(text.len(), packet.encoded_len());
        let decoded = socketio::Packet::decode_text(&text).unwrap();
        prop_assert_eq!(decoded, packet);
        let owned = socketio::PacketBuf::decode_text(&text).unwrap();
        prop_assert_eq!(owned.as_packet(), packet);
        let copied = socketio::PacketBuf::from(&packet);
        prop_assert_eq!(copied.as_packet(), packet);
    }

    #[test]
    fn decoding_arbitrary_text_is_idempotent(s in ".{0,40}|[0-6][0-9/a-z,\\[\\]{}\"-]{0,30}") {
        for cfg in [DecodeConfig::new(), DecodeConfig::strict(), DecodeConfig::socketio_v4()] {
            if let Ok(p) = socketio::Packet::decode_text_with(&s, &cfg) {
                let again = p.to_text();
                prop_assert_eq!(socketio::Packet::decode_text_with(&again, &cfg).unwrap(), p);
                let owned = socketio::PacketBuf::decode_text_with(&Utf8Bytes::from(s.as_str()), &cfg).unwrap();
                prop_assert_eq!(owned.as_packet(), p);
            }
            if let Ok(p) = engineio::Packet::decode_text_with(&s, &cfg) {
                let (kind, bytes) = p.to_bytes(WireFormat::Text);
                prop_assert_eq!(decode_eio(&bytes, kind), p.clone());
                let owned = engineio::PacketBuf::decode_text_with(&Utf8Bytes::from(s.as_str()), &cfg).unwrap();
                prop_assert_eq!(owned.as_packet(), p);
            }
        }
        // Strict accepts a subset of the default.
        if socketio::Packet::decode_text_with(&s, &DecodeConfig::strict()).is_ok() {
            prop_assert!(socketio::Packet::decode_text(&s).is_ok());
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let cfg = DecodeConfig::new();
        for result in engineio::decode_payload(&body, &cfg) {
            if let Err(e) = result { prop_assert!(e.offset() <= body.len()); }
        }
        for format in [v3::PayloadFormat::Text, v3::PayloadFormat::Binary] {
            for result in v3::decode_payload(&body, format, &cfg) {
                if let Err(e) = result { prop_assert!(e.offset() <= body.len()); }
            }
        }
        let _ = v3::decode_binary_frame(&body, &cfg);
    }

    /// Polling GET boundaries are not significant: a binary event whose attachments arrive
    /// in a later payload reassembles exactly as when everything comes in one body.
    #[test]
    fn payload_split_at_any_point_reassembles_the_same(
        attachments in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 1..5),
        split in 0usize..6,
    ) {
        let placeholders: Vec<String> = (0..attachments.len()).map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#)).collect();
        let header = format!("5{}-[\"up\",{}]", attachments.len(), placeholders.join(","));
        let mut packets = vec![engineio::Packet::text(&header)];
        packets.extend(attachments.iter().map(|a| engineio::Packet::binary(a)));
        let split = split.min(packets.len() - 1) + 1;
        let feed = |bodies: &[&[engineio::Packet<'_>]]| {
            let mut reassembler = Reassembler::default();
            let mut done = Vec::new();
            for chunk in bodies {
                let mut body = Vec::new();
                engineio::encode_payload(chunk, &mut body).unwrap();
                for packet in engineio::decode_payload_buf(Bytes::from(body), &DecodeConfig::new()) {
                    let packet = packet.unwrap();
                    let progress = match (packet.text(), packet.binary()) {
                        (Some(text), _) => reassembler.push_text(text).unwrap(),
                        (_, Some(bin)) => reassembler.push_binary(bin.clone()).unwrap(),
                        _ => unreachable!(),
                    };
                    if let Progress::Complete(a) = progress { done.push(a); }
                }
            }
            done
        };
        let whole = feed(&[&packets]);
        let (a, b) = packets.split_at(split);
        let parts = if b.is_empty() { feed(&[a]) } else { feed(&[a, b]) };
        prop_assert_eq!(whole.len(), 1);
        prop_assert_eq!(whole, parts);
    }
}
