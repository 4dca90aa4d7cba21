//! The corpus decodes and re-encodes byte for byte with sio-codec, and the committed
//! `corpus/manifest.json` (read by the Node harness) is what the generator produces.

use bytes::Bytes;
use sio_benches::corpus::{self, Kind};
use sio_codec::{
    DecodeConfig, Encode, Utf8Bytes, WireFormat, engineio,
    socketio::{self, Progress, Reassembler},
};

#[test]
fn manifest_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/manifest.json");
    let committed = std::fs::read_to_string(path).expect("corpus/manifest.json exists");
    assert!(
        committed == corpus::manifest_json(),
        "corpus/manifest.json is stale: run `cargo run -p sio-benches --bin gen-corpus`"
    );
}

#[test]
fn every_case_round_trips_through_the_codec() {
    let config = DecodeConfig::new();
    for case in corpus::all() {
        let text = case.text.as_str();
        let mut out = Vec::new();
        match case.kind {
            Kind::Sio => {
                let packet = socketio::Packet::decode_text(text).unwrap();
                assert_eq!(
                    packet.attachments().unwrap_or(0) as usize,
                    case.attachments.len()
                );
                packet.encode(&mut out);
                if case.is_binary() {
                    let mut reassembler = Reassembler::default();
                    let mut progress = reassembler.push_text(&Utf8Bytes::from(text)).unwrap();
                    for attachment in &case.attachments {
                        progress = reassembler
                            .push_binary(Bytes::from(attachment.clone()))
                            .unwrap();
                    }
                    assert!(matches!(progress, Progress::Complete(_)), "{}", case.name);
                }
            }
            Kind::Eio => {
                engineio::Packet::decode_text(text)
                    .unwrap()
                    .encode(WireFormat::Text, &mut out);
            }
            Kind::EioPayloadV4 => {
                let packets: Vec<_> = engineio::decode_payload(text.as_bytes(), &config)
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(packets.len(), 100);
                engineio::encode_payload(&packets, &mut out).unwrap();
            }
            Kind::EioPayloadV3 => {
                let format = engineio::v3::PayloadFormat::Text;
                let packets: Vec<_> =
                    engineio::v3::decode_payload(text.as_bytes(), format, &config)
                        .collect::<Result<_, _>>()
                        .unwrap();
                assert_eq!(packets.len(), 100);
                engineio::v3::encode_payload(&packets, format, &mut out);
            }
        }
        assert_eq!(out, text.as_bytes(), "{}", case.name);
    }
}
