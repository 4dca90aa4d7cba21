//! Language-neutral vectors from `fixtures/codec/` (format: `fixtures/README.md`): golden
//! encodings from the reference encoders, rejection vectors for every malformed-input rule,
//! and every frame captured from the reference server. Each case is decoded, checked against
//! its expected verdict, re-encoded byte for byte when canonical, and its decoded form is
//! pinned in one insta snapshot per fixture file.

use serde::Deserialize;
use sio_codec::{
    DecodeConfig, DecodeError, Encode, Utf8Bytes, WireFormat,
    bytes::Bytes,
    engineio::{self, Message, v3},
    socketio::{self, OutFrame, Progress, Reassembler},
};
use std::{fmt::Write as _, fs, path::PathBuf};

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Expect {
    /// `"ok"`.
    Ok(#[allow(dead_code)] String),
    Error {
        error: String,
        #[serde(default)]
        offset: Option<usize>,
    },
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    eio: Option<u8>,
    #[serde(default)]
    sio: Option<u8>,
    #[serde(default)]
    frame: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    wire: Option<String>,
    #[serde(default)]
    wire_hex: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_hex: Option<String>,
    #[serde(default)]
    attachments_hex: Vec<String>,
    #[serde(default)]
    packets: Option<usize>,
    #[serde(default)]
    canonical: bool,
    #[serde(default = "ok")]
    expect: Expect,
}

fn ok() -> Expect {
    Expect::Ok("ok".into())
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/codec")
}

fn load(file: &str) -> Vec<Case> {
    let path = fixtures_dir().join(file);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config(case: &Case) -> DecodeConfig {
    if case.sio == Some(4) || case.eio == Some(3) {
        DecodeConfig::socketio_v4()
    } else {
        DecodeConfig::new()
    }
}

fn kind_name(e: &DecodeError) -> String {
    let debug = format!("{:?}", e.kind());
    debug
        .split([' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Checks the verdict; returns a one-line description of the outcome for the snapshot.
fn verdict<T: std::fmt::Debug>(case: &Case, result: &Result<T, DecodeError>) -> String {
    match (&case.expect, result) {
        (Expect::Ok(_), Ok(value)) => format!("{value:?}"),
        (Expect::Ok(_), Err(e)) => panic!("{} ({}): expected ok, got {e}", case.name, case.source),
        (Expect::Error { error, offset }, Err(e)) => {
            assert_eq!(
                &kind_name(e),
                error,
                "{} ({}): wrong error kind ({e})",
                case.name,
                case.source
            );
            if let Some(offset) = offset {
                assert_eq!(
                    e.offset(),
                    *offset,
                    "{} ({}): wrong offset ({e})",
                    case.name,
                    case.source
                );
            }
            format!("Err({:?} @ {})", e.kind(), e.offset())
        }
        (Expect::Error { error, .. }, Ok(value)) => {
            panic!(
                "{} ({}): expected {error}, decoded {value:?}",
                case.name, case.source
            )
        }
    }
}

fn eio_text(packet: &engineio::Packet<'_>, v3: bool) -> Vec<u8> {
    let (_, bytes) = if v3 {
        v3::V3(packet).to_bytes(WireFormat::Text)
    } else {
        packet.to_bytes(WireFormat::Text)
    };
    bytes.to_vec()
}

#[test]
fn engineio_packets() {
    let mut snapshot = String::new();
    for case in load("engineio-packets.json") {
        let cfg = config(&case);
        let v3 = case.eio == Some(3);
        let binary = case.frame.as_deref() == Some("binary");
        let bytes = case
            .wire_hex
            .as_deref()
            .map(unhex)
            .unwrap_or_else(|| case.wire.clone().unwrap_or_default().into_bytes());
        let result = match (binary, v3) {
            (true, true) => v3::decode_binary_frame(&bytes, &cfg),
            (true, false) => Ok(engineio::Packet::from_binary_frame(&bytes)),
            (false, _) => {
                let text = std::str::from_utf8(&bytes).unwrap();
                if v3 {
                    v3::decode_text(text, &cfg)
                } else {
                    engineio::Packet::decode_text_with(text, &cfg)
                }
            }
        };
        let line = verdict(&case, &result);
        if let (true, Ok(packet)) = (case.canonical, &result) {
            let format = if binary {
                WireFormat::Frames
            } else {
                WireFormat::Text
            };
            let (_, encoded) = if v3 {
                v3::V3(packet).to_bytes(format)
            } else {
                packet.to_bytes(format)
            };
            assert_eq!(
                encoded.to_vec(),
                bytes,
                "{}: re-encoding differs",
                case.name
            );
            let owned = (!binary && !v3).then(|| {
                engineio::PacketBuf::decode_text_with(
                    &Utf8Bytes::try_from(Bytes::from(bytes.clone())).unwrap(),
                    &cfg,
                )
                .unwrap()
            });
            if let Some(owned) = owned {
                assert_eq!(
                    &owned.as_packet(),
                    packet,
                    "{}: owned form differs",
                    case.name
                );
            }
        }
        writeln!(snapshot, "{}: {line}", case.name).unwrap();
    }
    insta::assert_snapshot!(snapshot);
}

#[test]
fn engineio_payloads() {
    let mut snapshot = String::new();
    for case in load("engineio-payloads.json") {
        let cfg = config(&case);
        let body = case
            .body_hex
            .as_deref()
            .map(unhex)
            .unwrap_or_else(|| case.body.clone().unwrap_or_default().into_bytes());
        let v3 = case.eio == Some(3);
        let format = if case.format.as_deref() == Some("xhr2") {
            v3::PayloadFormat::Binary
        } else {
            v3::PayloadFormat::Text
        };
        let items: Vec<_> = if v3 {
            v3::decode_payload(&body, format, &cfg).collect()
        } else {
            engineio::decode_payload(&body, &cfg).collect()
        };
        let packets: Vec<_> = items
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect();
        let error = items.iter().find_map(|r| r.as_ref().err().copied());
        if let Some(n) = case.packets {
            assert_eq!(packets.len(), n, "{}: packet count", case.name);
        }
        let line = verdict(&case, &error.map_or(Ok(packets.clone()), Err));
        if case.canonical && error.is_none() {
            let mut out = Vec::new();
            if v3 {
                v3::encode_payload(&packets, format, &mut out)
            } else {
                engineio::encode_payload(&packets, &mut out).unwrap()
            }
            assert_eq!(out, body, "{}: re-encoding differs", case.name);
        }
        let shown = if error.is_some() {
            format!("{packets:?} then {line}")
        } else {
            line
        };
        writeln!(snapshot, "{}: {shown}", case.name).unwrap();
    }
    insta::assert_snapshot!(snapshot);
}

#[test]
fn socketio_packets() {
    let mut snapshot = String::new();
    for case in load("socketio-packets.json") {
        let cfg = config(&case);
        let wire = case.wire.clone().unwrap_or_default();
        let attachments: Vec<Bytes> = case
            .attachments_hex
            .iter()
            .map(|h| Bytes::from(unhex(h)))
            .collect();
        let mut reassembler = Reassembler::new(cfg);
        let result = reassembler
            .push_text(&Utf8Bytes::from(wire.as_str()))
            .and_then(|mut progress| {
                for attachment in &attachments {
                    progress = reassembler.push_binary(attachment.clone())?;
                }
                Ok(progress)
            });
        let assembled = match result {
            Ok(Progress::Complete(a)) => Ok(a),
            Ok(Progress::NeedAttachments { remaining }) => {
                panic!("{}: {remaining} attachments missing", case.name)
            }
            Err(e) => Err(e),
        };
        let line = verdict(&case, &assembled);
        if let (true, Ok(assembled)) = (case.canonical, &assembled) {
            let frames: Vec<_> = assembled.frames().collect();
            assert_eq!(
                frames[0],
                OutFrame::Text(Utf8Bytes::from(wire.as_str())),
                "{}: re-encoding differs",
                case.name
            );
            assert_eq!(
                frames[1..]
                    .iter()
                    .map(|f| match f {
                        OutFrame::Binary(b) => b.clone(),
                        OutFrame::Text(_) => panic!(),
                    })
                    .collect::<Vec<_>>(),
                attachments
            );
            let borrowed = socketio::Packet::decode_text_with(&wire, &cfg).unwrap();
            assert_eq!(
                borrowed,
                assembled.packet().as_packet(),
                "{}: owned form differs",
                case.name
            );
        }
        writeln!(snapshot, "{}: {line}", case.name).unwrap();
    }
    insta::assert_snapshot!(snapshot);
}

/// Every Engine.IO frame captured from the reference server decodes, re-encodes byte for
/// byte, and (on `/socket.io/`) its Socket.IO layer decodes and reassembles.
#[test]
fn reference_transcripts() {
    let mut snapshot = String::new();
    let mut reassemblers: std::collections::HashMap<String, Reassembler> = Default::default();
    for case in load("transcripts.json") {
        let cfg = config(&case);
        let v3 = case.eio == Some(3);
        let bytes = case
            .wire_hex
            .as_deref()
            .map(unhex)
            .unwrap_or_else(|| case.wire.clone().unwrap_or_default().into_bytes());
        let kind = case.kind.as_deref().unwrap_or_default();
        let packets: Result<Vec<engineio::Packet<'_>>, DecodeError> = match kind {
            "ws-binary" if v3 => v3::decode_binary_frame(&bytes, &cfg).map(|p| vec![p]),
            "ws-binary" => Ok(vec![engineio::Packet::from_binary_frame(&bytes)]),
            "ws-text" => {
                let text = std::str::from_utf8(&bytes).unwrap();
                if v3 {
                    v3::decode_text(text, &cfg)
                } else {
                    engineio::Packet::decode_text_with(text, &cfg)
                }
                .map(|p| vec![p])
            }
            "polling-body" if v3 => {
                let format = if case.format.as_deref() == Some("xhr2") {
                    v3::PayloadFormat::Binary
                } else {
                    v3::PayloadFormat::Text
                };
                v3::decode_payload(&bytes, format, &cfg).collect()
            }
            "polling-body" => engineio::decode_payload(&bytes, &cfg).collect(),
            other => panic!("{}: unknown kind {other}", case.name),
        };
        let mut line = verdict(&case, &packets);
        if let Ok(packets) = &packets {
            // Re-encode: frames and payloads the server or our hand-written client produced
            // are canonical.
            let reencoded = match kind {
                "ws-binary" => {
                    let (_, b) = if v3 {
                        v3::V3(&packets[0]).to_bytes(WireFormat::Frames)
                    } else {
                        packets[0].to_bytes(WireFormat::Frames)
                    };
                    b.to_vec()
                }
                "ws-text" => eio_text(&packets[0], v3),
                _ if v3 => {
                    let format = if case.format.as_deref() == Some("xhr2") {
                        v3::PayloadFormat::Binary
                    } else {
                        v3::PayloadFormat::Text
                    };
                    let mut out = Vec::new();
                    v3::encode_payload(packets, format, &mut out);
                    out
                }
                _ => {
                    let mut out = Vec::new();
                    engineio::encode_payload(packets, &mut out).unwrap();
                    out
                }
            };
            assert_eq!(
                reencoded, bytes,
                "{} ({}): re-encoding differs",
                case.name, case.source
            );
            if case.path.as_deref() == Some("/socket.io/") {
                let key = format!(
                    "{}:{}:{}",
                    case.source.split(':').next().unwrap_or_default(),
                    case.channel.as_deref().unwrap_or_default(),
                    case.dir.as_deref().unwrap_or_default()
                );
                let reassembler = reassemblers
                    .entry(key)
                    .or_insert_with(|| Reassembler::new(cfg));
                for packet in packets {
                    let progress = match packet {
                        engineio::Packet::Message(Message::Text(t)) => {
                            reassembler.push_text(&Utf8Bytes::from(*t))
                        }
                        engineio::Packet::Message(Message::Binary(b)) => {
                            reassembler.push_binary(Bytes::from(b.to_vec()))
                        }
                        _ => continue,
                    };
                    match progress {
                        Ok(Progress::Complete(a)) => {
                            write!(line, " => {a:?}").unwrap();
                            let frames: Vec<_> = a.frames().collect();
                            let OutFrame::Text(text) = &frames[0] else {
                                panic!()
                            };
                            assert_eq!(
                                socketio::Packet::decode_text_with(text, &cfg).unwrap(),
                                a.packet().as_packet()
                            );
                        }
                        Ok(Progress::NeedAttachments { remaining }) => {
                            write!(line, " => (waiting for {remaining})").unwrap()
                        }
                        Err(e) => {
                            write!(line, " => socket.io Err({:?} @ {})", e.kind(), e.offset())
                                .unwrap()
                        }
                    }
                }
            }
        }
        writeln!(snapshot, "{}: {line}", case.name).unwrap();
    }
    insta::assert_snapshot!(snapshot);
}
