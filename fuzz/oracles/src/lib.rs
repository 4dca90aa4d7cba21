//! Fuzz property bodies of `sio-codec`, shared by the cargo-fuzz targets in `fuzz/` and by
//! the corpus replay test `tests/corpus.rs` (which `cargo test --workspace` runs on stable).
//!
//! Each body takes the fuzzer's bytes and **asserts properties** with `assert!` /
//! `assert_eq!`: a violated property panics, which the fuzzer reports as a crash. Not
//! panicking is necessary but never sufficient (codec-style.md, anti-pattern 13): every
//! decode is followed by a re-encode (idempotence, exact `encoded_len`), a comparison of the
//! borrowed and owned decoders, and checks of error offsets and of the relations between
//! configurations.
//!
//! Only the codec's public API is used (this is another crate), so a property that fails
//! here fails for a user too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "fuzz bodies signal a violated property by panicking"
)]

use bytes::Bytes;
use serde_json::Value;
use sio_codec::{
    DecodeConfig, DecodeError, Encode, ErrorKind, FrameKind, Utf8Bytes, WireFormat,
    engineio::{self, Handshake, v3},
    socketio::{
        self, AckId, Assembled, Namespace, OutFrame, PacketType, Progress, RawJson, Reassembler,
    },
};
use std::{
    string::{String, ToString},
    vec,
    vec::Vec,
};

mod eio_client;
mod sio_client;

pub use eio_client::{EIO_CLIENT_MAX_STEPS, eio_client_session};
pub use sio_client::{SIO_CLIENT_MAX_STEPS, sio_client_connection};

/// The Engine.IO configurations every Engine.IO body runs under.
fn eio_configs() -> [DecodeConfig; 2] {
    [DecodeConfig::new(), DecodeConfig::strict()]
}

/// Every leniency switch on: accepts a superset of [`DecodeConfig::new`].
fn eio_lenient() -> DecodeConfig {
    DecodeConfig::new()
        .allow_trailing_data(true)
        .allow_lenient_base64(true)
}

fn check_offset(error: &DecodeError, len: usize, what: &str) {
    assert!(
        error.offset() <= len,
        "{what}: error offset {} past the end of the {len}-byte input ({error:?})",
        error.offset()
    );
}

fn agree<T: PartialEq + core::fmt::Debug>(
    borrowed: &Result<T, DecodeError>,
    owned: Result<T, DecodeError>,
    what: &str,
) {
    assert_eq!(
        borrowed, &owned,
        "{what}: borrowed and owned decoders disagree"
    );
}

// ---------------------------------------------------------------------------------------------
// eio_decode_text
// ---------------------------------------------------------------------------------------------

/// `eio_decode_text`: the input as one Engine.IO text packet (v4 and v3) and as a binary frame.
///
/// Properties, under [`DecodeConfig::new`] and [`DecodeConfig::strict`]:
/// - on `Ok(p)`: `encode(p)` has length `encoded_len(p)` (both wire formats) and decodes to
///   `p` under the same config *and* under strict (canonical output is strict-clean);
///   input that carries no base64 re-encodes byte for byte;
///   `PacketBuf::decode_text_with(&Utf8Bytes)` is `Ok` with `.as_packet() == p`, and
///   `PacketBuf::from(&p)` too;
/// - on `Err(e)`: `e.offset() <= input.len()`, and the owned decoder returns the same error;
/// - strict accepts a subset of the default with equal values, which accepts a subset of
///   every leniency switch on (equal values);
/// - v3 and v4 text decoding agree except for the `b4` / `b` base64 prefixes, which differ
///   by exactly one byte;
/// - `v3::decode_binary_frame` accepts exactly `0x04` + data and re-encodes byte for byte;
///   a v4 binary frame re-encodes byte for byte.
pub fn eio_decode_text(data: &[u8]) {
    if let Ok(text) = core::str::from_utf8(data) {
        let [default, strict] = eio_configs().map(|cfg| eio_text_v4(text, &cfg));
        if let Ok(p) = &strict {
            assert_eq!(default.as_ref().ok(), Some(p), "strict ⊄ default");
        }
        let lenient = eio_text_v4(text, &eio_lenient());
        if let Ok(p) = &default {
            assert_eq!(lenient.as_ref().ok(), Some(p), "default ⊄ lenient");
        }

        let [v3_default, v3_strict] = eio_configs().map(|cfg| eio_text_v3(text, &cfg));
        if let Ok(p) = &v3_strict {
            assert_eq!(v3_default.as_ref().ok(), Some(p), "v3: strict ⊄ default");
        }
        compare_v3_v4_text(text, &v3_default, &default);
    }
    eio_binary_frames(data);
}

/// Decodes `text` as a v4 packet and checks every per-packet property.
fn eio_text_v4<'a>(text: &'a str, cfg: &DecodeConfig) -> Result<engineio::Packet<'a>, DecodeError> {
    let result = engineio::Packet::decode_text_with(text, cfg);
    let owned = engineio::PacketBuf::decode_text_with(&Utf8Bytes::from(text), cfg);
    agree(
        &result,
        owned
            .as_ref()
            .map(engineio::PacketBuf::as_packet)
            .map_err(|e| *e),
        "eio v4 text",
    );
    match &result {
        Ok(p) => {
            let encoded = eio_reencode_v4(p, cfg);
            // Only base64 has several spellings; the trailing-data switch drops data.
            if !text.starts_with('b') && !cfg.allows_trailing_data() {
                assert_eq!(
                    encoded.as_slice(),
                    text.as_bytes(),
                    "eio v4: re-encode differs from the input"
                );
            }
        }
        Err(e) => check_offset(e, text.len(), "eio v4 text"),
    }
    result
}

/// Re-encodes a decoded v4 packet in both wire formats and checks the round trip; returns
/// the text encoding.
fn eio_reencode_v4(p: &engineio::Packet<'_>, cfg: &DecodeConfig) -> Vec<u8> {
    let (kind, bytes) = p.to_bytes(WireFormat::Text);
    assert_eq!(kind, FrameKind::Text, "eio v4: text encoding of {p:?}");
    assert_eq!(
        bytes.len(),
        p.encoded_len(WireFormat::Text),
        "eio v4: encoded_len(Text) of {p:?}"
    );
    let text = core::str::from_utf8(&bytes).expect("eio v4: the text encoding is UTF-8");
    for check in [*cfg, DecodeConfig::strict()] {
        let again = engineio::Packet::decode_text_with(text, &check);
        assert_eq!(again.as_ref(), Ok(p), "eio v4: decode(encode(p)) != p");
    }

    let (kind, frame) = p.to_bytes(WireFormat::Frames);
    assert_eq!(
        frame.len(),
        p.encoded_len(WireFormat::Frames),
        "eio v4: encoded_len(Frames) of {p:?}"
    );
    match kind {
        FrameKind::Binary => {
            assert_eq!(&engineio::Packet::from_binary_frame(&frame), p);
        }
        FrameKind::Text => {
            assert_eq!(
                frame, bytes,
                "eio v4: Frames and Text differ for a text packet"
            );
        }
    }

    let owned = engineio::PacketBuf::from(p);
    assert_eq!(&owned.as_packet(), p, "eio v4: PacketBuf::from(&p)");
    assert_eq!(owned.to_bytes(WireFormat::Text).1, bytes);
    bytes.to_vec()
}

/// Decodes `text` as a v3 packet and checks the v3 re-encoding.
fn eio_text_v3<'a>(text: &'a str, cfg: &DecodeConfig) -> Result<engineio::Packet<'a>, DecodeError> {
    let result = v3::decode_text(text, cfg);
    match &result {
        Ok(p) => {
            let (kind, bytes) = v3::V3(p).to_bytes(WireFormat::Text);
            assert_eq!(kind, FrameKind::Text);
            assert_eq!(
                bytes.len(),
                v3::V3(p).encoded_len(WireFormat::Text),
                "eio v3: encoded_len(Text) of {p:?}"
            );
            let again = core::str::from_utf8(&bytes).expect("eio v3: text encoding is UTF-8");
            for check in [*cfg, DecodeConfig::strict()] {
                assert_eq!(
                    v3::decode_text(again, &check).as_ref(),
                    Ok(p),
                    "eio v3: decode(encode(p)) != p"
                );
            }
            if !text.starts_with('b') && !cfg.allows_trailing_data() {
                assert_eq!(&bytes[..], text.as_bytes(), "eio v3: re-encode differs");
            }
            let (kind, frame) = v3::V3(p).to_bytes(WireFormat::Frames);
            assert_eq!(frame.len(), v3::V3(p).encoded_len(WireFormat::Frames));
            let from_frame = match kind {
                FrameKind::Binary => v3::decode_binary_frame(&frame, cfg),
                FrameKind::Text => {
                    v3::decode_text(core::str::from_utf8(&frame).expect("UTF-8"), cfg)
                }
            };
            assert_eq!(from_frame.as_ref(), Ok(p), "eio v3: Frames round trip");
        }
        Err(e) => check_offset(e, text.len(), "eio v3 text"),
    }
    result
}

/// v3 and v4 share the packet grammar; only the base64 prefix differs (`b4…` vs `b…`).
fn compare_v3_v4_text(
    text: &str,
    v3_result: &Result<engineio::Packet<'_>, DecodeError>,
    v4_result: &Result<engineio::Packet<'_>, DecodeError>,
) {
    if !text.starts_with('b') {
        assert_eq!(
            v3_result, v4_result,
            "v3 and v4 decode a non-base64 packet differently"
        );
    } else if let Some(base64) = text.strip_prefix("b4") {
        let mut v4_text = String::with_capacity(text.len() - 1);
        v4_text.push('b');
        v4_text.push_str(base64);
        let v4_equivalent = engineio::Packet::decode_text(&v4_text)
            .map_err(|e| DecodeError::new(e.kind(), e.offset() + 1));
        assert_eq!(v3_result, &v4_equivalent, "v3 `b4…` and v4 `b…` disagree");
    }
}

fn eio_binary_frames(data: &[u8]) {
    for cfg in eio_configs() {
        match v3::decode_binary_frame(data, &cfg) {
            Ok(p) => {
                assert_eq!(
                    data.first(),
                    Some(&4),
                    "v3 binary frame without 0x04 accepted"
                );
                let (kind, bytes) = v3::V3(&p).to_bytes(WireFormat::Frames);
                assert_eq!(kind, FrameKind::Binary);
                assert_eq!(&bytes[..], data, "v3 binary frame: re-encode differs");
                assert_eq!(bytes.len(), v3::V3(&p).encoded_len(WireFormat::Frames));
            }
            Err(e) => {
                check_offset(&e, data.len(), "v3 binary frame");
                assert_ne!(
                    data.first(),
                    Some(&4),
                    "v3 binary frame 0x04… refused: {e:?}"
                );
            }
        }
    }
    let p = engineio::Packet::from_binary_frame(data);
    // The checked path delivers the same message, and refuses a frame over the limit.
    let at_limit = DecodeConfig::new().max_payload(data.len());
    assert_eq!(
        engineio::Packet::decode_binary_frame(data, &at_limit).as_ref(),
        Ok(&p),
        "v4 decode_binary_frame"
    );
    if let Some(max) = data.len().checked_sub(1) {
        let below = DecodeConfig::new().max_payload(max);
        let refused = engineio::Packet::decode_binary_frame(data, &below).map_err(|e| e.kind());
        assert_eq!(
            refused,
            Err(ErrorKind::PayloadTooLarge { max }),
            "v4 binary frame over max_payload"
        );
    }
    let (kind, bytes) = p.to_bytes(WireFormat::Frames);
    assert_eq!((kind, &bytes[..]), (FrameKind::Binary, data));
    assert_eq!(p.encoded_len(WireFormat::Frames), data.len());
    eio_reencode_v4(&p, &DecodeConfig::new());
}

// ---------------------------------------------------------------------------------------------
// eio_decode_payload
// ---------------------------------------------------------------------------------------------

/// `eio_decode_payload`: the input as an HTTP long-polling body: v4 (`\x1e`-separated) and
/// v3 in both framings (`<len>:<packet>` text and XHR2 binary).
///
/// Properties, under [`DecodeConfig::new`] and [`DecodeConfig::strict`]:
/// - the iterator yields packets, then at most one error, then ends; error offsets lie
///   within the body;
/// - v4: `decode_payload_buf` agrees item by item with `decode_payload`; item `i` is the
///   decode of the `i`-th `\x1e`-separated record (an independent split), errors are that
///   record's error shifted by its start; a record without base64 re-encodes byte for
///   byte; a packet limit truncates the same sequence with `TooManyPackets` at the first
///   record past the limit;
/// - the packets decoded before any error re-encode (`encode_payload`, length
///   `payload_len`) into a body that decodes, without error, to the same packets;
/// - a body strict decodes without error decodes to the same packets under the default.
pub fn eio_decode_payload(data: &[u8]) {
    for cfg in eio_configs() {
        let unlimited = v4_payload(data, &cfg);
        let limit = 3;
        let limited = v4_payload(data, &cfg.max_packets(limit));
        check_packet_limit(data, &unlimited, &limited, limit);
    }
    let [default, strict] = eio_configs().map(|cfg| v4_payload(data, &cfg));
    if strict.iter().all(Result::is_ok) {
        assert_eq!(default, strict, "v4 payload: strict ⊄ default");
    }

    for format in [v3::PayloadFormat::Text, v3::PayloadFormat::Binary] {
        let [default, strict] = eio_configs().map(|cfg| v3_payload(data, format, &cfg));
        if strict.iter().all(Result::is_ok) {
            assert_eq!(default, strict, "v3 {format:?} payload: strict ⊄ default");
        }
    }
}

type Items<'a> = Vec<Result<engineio::Packet<'a>, DecodeError>>;

/// Packets, then at most one error at the end.
fn check_sequence(items: &Items<'_>, len: usize, what: &str) {
    if let Some(at) = items.iter().position(Result::is_err) {
        assert_eq!(
            at + 1,
            items.len(),
            "{what}: items after an error: {items:?}"
        );
        if let Some(Err(e)) = items.last() {
            check_offset(e, len, what);
        }
    }
}

fn ok_prefix<'a>(items: &Items<'a>) -> Vec<engineio::Packet<'a>> {
    items
        .iter()
        .map_while(|r| r.as_ref().ok().cloned())
        .collect()
}

fn v4_payload<'a>(body: &'a [u8], cfg: &DecodeConfig) -> Items<'a> {
    let items: Items<'a> = engineio::decode_payload(body, cfg).collect();
    assert!(
        !items.is_empty(),
        "v4 payload: a body yields at least one item"
    );
    check_sequence(&items, body.len(), "v4 payload");

    let owned: Vec<_> = engineio::decode_payload_buf(Bytes::copy_from_slice(body), cfg).collect();
    assert_eq!(
        owned.len(),
        items.len(),
        "v4 payload: owned iterator length"
    );
    for (borrowed, owned) in items.iter().zip(&owned) {
        agree(
            borrowed,
            owned
                .as_ref()
                .map(engineio::PacketBuf::as_packet)
                .map_err(|e| *e),
            "v4 payload",
        );
    }

    // Oracle: split on RS independently and decode each record on its own.
    let mut start = 0;
    for (i, record) in body.split(|&b| b == engineio::RECORD_SEPARATOR).enumerate() {
        let Some(item) = items.get(i) else { break };
        let limit_error = matches!(
            item,
            Err(e) if matches!(e.kind(), ErrorKind::TooManyPackets { .. } | ErrorKind::PayloadTooLarge { .. })
        );
        if !limit_error {
            let expected = core::str::from_utf8(record)
                .map_err(|e| DecodeError::new(ErrorKind::InvalidUtf8, start + e.valid_up_to()))
                .and_then(|text| {
                    engineio::Packet::decode_text_with(text, cfg)
                        .map_err(|e| DecodeError::new(e.kind(), e.offset() + start))
                });
            assert_eq!(
                item, &expected,
                "v4 payload: record {i} decodes differently alone"
            );
            if let Ok(p) = item
                && record.first() != Some(&b'b')
            {
                let (_, bytes) = p.to_bytes(WireFormat::Text);
                assert_eq!(
                    &bytes[..],
                    record,
                    "v4 payload: record {i} re-encodes differently"
                );
            }
        }
        start += record.len() + 1;
    }
    if items.iter().all(Result::is_ok) {
        let records = body
            .iter()
            .filter(|&&b| b == engineio::RECORD_SEPARATOR)
            .count()
            + 1;
        assert_eq!(items.len(), records, "v4 payload: a record went missing");
    }

    let packets = ok_prefix(&items);
    if !packets.is_empty() {
        let mut out = Vec::new();
        // Decoded records never hold the separator the body was split on.
        let encoded = engineio::encode_payload(&packets, &mut out);
        assert_eq!(encoded, Ok(()), "v4 encode_payload refused decoded packets");
        assert_eq!(out.len(), engineio::payload_len(&packets), "v4 payload_len");
        let again: Result<Vec<_>, _> = engineio::decode_payload(&out, cfg).collect();
        assert_eq!(
            again.as_ref(),
            Ok(&packets),
            "v4 payload: decode(encode(ps)) != ps"
        );
        if items.iter().all(Result::is_ok)
            && !packets
                .iter()
                .any(|p| matches!(p, engineio::Packet::Message(engineio::Message::Binary(_))))
        {
            assert_eq!(out, body, "v4 payload without base64: re-encode differs");
        }
    }
    items
}

/// The limited iterator is the unlimited one cut at `limit` packets.
fn check_packet_limit(body: &[u8], unlimited: &Items<'_>, limited: &Items<'_>, limit: usize) {
    if unlimited.len() <= limit {
        assert_eq!(limited, unlimited, "a packet limit changed a short payload");
        return;
    }
    assert_eq!(limited.len(), limit + 1, "packet limit: item count");
    assert_eq!(
        limited[..limit],
        unlimited[..limit],
        "packet limit: the first packets"
    );
    let start = body
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == engineio::RECORD_SEPARATOR)
        .nth(limit - 1)
        .map(|(i, _)| i + 1)
        .expect("more records than the limit");
    assert_eq!(
        limited[limit],
        Err(DecodeError::new(
            ErrorKind::TooManyPackets { max: limit },
            start
        )),
        "packet limit: the error"
    );
}

fn v3_payload<'a>(body: &'a [u8], format: v3::PayloadFormat, cfg: &DecodeConfig) -> Items<'a> {
    let items: Items<'a> = v3::decode_payload(body, format, cfg).collect();
    check_sequence(&items, body.len(), "v3 payload");
    let packets = ok_prefix(&items);
    let mut out = Vec::new();
    v3::encode_payload(&packets, format, &mut out);
    assert_eq!(
        out.len(),
        v3::payload_len(&packets, format),
        "v3 payload_len"
    );
    if packets.is_empty() && format == v3::PayloadFormat::Binary {
        assert!(out.is_empty(), "v3 XHR2: no packets is an empty body");
    } else {
        let again: Result<Vec<_>, _> = v3::decode_payload(&out, format, cfg).collect();
        assert_eq!(
            again.as_ref(),
            Ok(&packets),
            "v3 {format:?} payload: decode(encode(ps)) != ps"
        );
    }
    items
}

// ---------------------------------------------------------------------------------------------
// sio_decode_text
// ---------------------------------------------------------------------------------------------

/// `sio_decode_text`: the input as one Socket.IO text packet.
///
/// Properties, under [`DecodeConfig::new`], [`DecodeConfig::strict`] and
/// [`DecodeConfig::socketio_v4`]:
/// - on `Ok(p)`: `to_text()` (length `encoded_len()`) decodes to `p` under the same config
///   and with JS number coercion off (canonical output needs no quirk); `PacketBuf`
///   (decoded, or built with `From`) agrees; the public constructors accept `p`'s parts and
///   rebuild `p`;
/// - on `Err(e)`: offset within the input, same error from `PacketBuf`;
/// - strict accepts a subset of the default; the default accepts a subset of the v4 rules
///   and of `allow_zero_attachments` (with equal values).
pub fn sio_decode_text(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let default = sio_text(text, &DecodeConfig::new());
    let strict = sio_text(text, &DecodeConfig::strict());
    let v4 = sio_text(text, &DecodeConfig::socketio_v4());
    let zero = sio_text(text, &DecodeConfig::new().allow_zero_attachments(true));
    if let Ok(p) = &strict {
        assert!(
            default.is_ok(),
            "strict ⊄ default: strict gave {p:?}, default {default:?}"
        );
    }
    if let Ok(p) = &default {
        assert_eq!(v4.as_ref().ok(), Some(p), "default (v5 rules) ⊄ v4 rules");
        assert_eq!(
            zero.as_ref().ok(),
            Some(p),
            "default ⊄ allow_zero_attachments"
        );
    }
}

/// JSON validation wherever the text falls in the fast validator's 64-byte blocks:
/// [`RawJson::new`] says the same of the text (short texts go to the scalar scanner) and of
/// the text behind 128 to 191 spaces (always the fast validator, at every alignment). With
/// debug assertions on (`scripts/fuzz-smoke.sh` builds with them), every validation of 128
/// bytes or more also checks the fast validator against the scalar scanner on the same text.
///
/// Input: one byte choosing the padding (modulo 64), then the text.
pub fn sio_json_validate(data: &[u8]) {
    let Some((&shift, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = core::str::from_utf8(rest) else {
        return;
    };
    let padded = format!("{}{text}", " ".repeat(128 + usize::from(shift % 64)));
    assert_eq!(
        RawJson::new(&padded).is_ok(),
        RawJson::new(text).is_ok(),
        "validity changed by leading whitespace: {text:?}"
    );
}

fn sio_text<'a>(text: &'a str, cfg: &DecodeConfig) -> Result<socketio::Packet<'a>, DecodeError> {
    let result = socketio::Packet::decode_text_with(text, cfg);
    let owned = socketio::PacketBuf::decode_text_with(&Utf8Bytes::from(text), cfg);
    agree(
        &result,
        owned
            .as_ref()
            .map(socketio::PacketBuf::as_packet)
            .map_err(|e| *e),
        "sio text",
    );
    match &result {
        Ok(p) => check_sio_packet(p, cfg),
        Err(e) => check_offset(e, text.len(), "sio text"),
    }
    result
}

/// Every property of one valid Socket.IO packet under `cfg` (whose payload rules it obeys).
fn check_sio_packet(p: &socketio::Packet<'_>, cfg: &DecodeConfig) {
    let text = p.to_text();
    assert_eq!(text.len(), p.encoded_len(), "sio encoded_len of {p:?}");
    let mut written = Vec::new();
    p.encode(&mut written);
    assert_eq!(written.as_slice(), text.as_bytes(), "sio encode vs to_text");

    for check in [*cfg, cfg.allow_js_number_coercion(false)] {
        let again = socketio::Packet::decode_text_with(&text, &check);
        assert_eq!(
            again.as_ref(),
            Ok(p),
            "sio: decode(to_text(p)) != p for {text:?} (coercion {})",
            check.allows_js_number_coercion()
        );
    }
    let decoded_buf = socketio::PacketBuf::decode_text_with(&text, cfg).expect("canonical text");
    assert_eq!(&decoded_buf.as_packet(), p, "sio PacketBuf::decode_text");
    let built = socketio::PacketBuf::from(p);
    assert_eq!(&built.as_packet(), p, "sio PacketBuf::from(&p)");
    assert_eq!(built.text(), &text, "sio PacketBuf::from(&p).text()");
    assert_eq!(built.encoded_len(), text.len());

    // The constructors accept every decoded packet: decoding cannot produce a value the
    // public API could not build. One exception: a namespace holding the polling record
    // separator, which the decoder takes from a WebSocket frame (as the reference does) and
    // `Namespace::new` refuses (it could not travel over polling).
    let namespace = p.namespace();
    let expected = if namespace.as_str().contains('\u{1e}') {
        Err(ErrorKind::InvalidNamespace)
    } else {
        Ok(namespace)
    };
    assert_eq!(
        Namespace::new(namespace.as_str()),
        expected,
        "sio namespace"
    );
    if let Some(data) = p.data() {
        assert_eq!(RawJson::new(data.as_str()), Ok(data), "sio RawJson");
    }
    let rebuilt = socketio::Packet::new_with(
        p.packet_type(),
        namespace,
        p.id(),
        p.data(),
        p.attachments().unwrap_or(0),
        cfg,
    );
    assert_eq!(rebuilt.as_ref(), Ok(p), "sio Packet::new_with(parts of p)");

    // Carried in an Engine.IO message.
    let (_, frame) = engineio::Packet::text(&text).to_bytes(WireFormat::Text);
    let frame = core::str::from_utf8(&frame).expect("UTF-8");
    assert_eq!(
        engineio::Packet::decode_text(frame),
        Ok(engineio::Packet::text(&text))
    );
}

// ---------------------------------------------------------------------------------------------
// sio_reassemble
// ---------------------------------------------------------------------------------------------

/// `sio_reassemble`: a stream of frames fed to a [`Reassembler`].
///
/// Input: byte 0 selects the configuration (bits 0–1: `max_attachments` 1, 2, 3 or 10;
/// bit 2: `allow_zero_attachments`; bit 3: v4 payload rules; bit 4: JS number coercion off);
/// then frames, each a header byte (bit 7: binary; bits 0–6: length, 127 = a big-endian u16
/// length follows) and that many bytes (fewer at the end of the input). At most 64 frames;
/// a text frame that is not UTF-8 is skipped.
///
/// Properties: the reassembler behaves like a small model of the reference decoder state
/// (text while pending → `UnexpectedText`; binary while idle → `UnexpectedBinary`; a text
/// packet decodes like `PacketBuf::decode_text_with`; a binary packet waits for exactly its
/// count, `remaining` counts down, the count never exceeds `max_attachments`; completion
/// matches `Assembled::new`, placeholder errors included); `is_pending` matches the model
/// after every frame. On `Complete(a)`: the attachments are the frames pushed, not copied;
/// their count is the packet's; the header of `a.frames()` decodes to
/// `a.packet().as_packet()`, followed by exactly the attachments; the canonical re-encoding
/// reassembles to the same packet; every placeholder resolves with `replace_placeholders`.
pub fn sio_reassemble(data: &[u8]) {
    let Some((&flags, _)) = data.split_first() else {
        return;
    };
    let cfg = reassemble_config(flags);
    let input = Bytes::copy_from_slice(data);
    let mut reassembler = Reassembler::new(cfg);
    let mut pending: Option<(socketio::PacketBuf, Vec<Bytes>)> = None;
    for (binary, frame) in split_frames(&input) {
        if binary {
            let got = reassembler.push_binary(frame.clone());
            match pending.take() {
                None => assert_eq!(
                    got.map(|_| ()),
                    Err(DecodeError::new(ErrorKind::UnexpectedBinary, 0)),
                    "binary frame without a pending packet"
                ),
                Some((packet, mut attachments)) => {
                    attachments.push(frame);
                    let count = attachment_count(&packet);
                    if attachments.len() < count {
                        let remaining = u32::try_from(count - attachments.len()).expect("small");
                        assert!(
                            matches!(got, Ok(Progress::NeedAttachments { remaining: r }) if r == remaining),
                            "expected {remaining} more attachments, got {got:?}"
                        );
                        pending = Some((packet, attachments));
                    } else {
                        expect_complete(got, packet, &attachments, &cfg);
                    }
                }
            }
        } else {
            let Ok(text) = Utf8Bytes::try_from(frame) else {
                continue;
            };
            let got = reassembler.push_text(&text);
            if pending.take().is_some() {
                assert_eq!(
                    got.map(|_| ()),
                    Err(DecodeError::new(ErrorKind::UnexpectedText, 0)),
                    "text frame while attachments were pending"
                );
            } else {
                match socketio::PacketBuf::decode_text_with(&text, &cfg) {
                    Err(e) => assert_eq!(got.map(|_| ()), Err(e), "reassembler decode error"),
                    Ok(packet) => {
                        let count = attachment_count(&packet);
                        assert!(
                            count <= cfg.attachments_limit() as usize,
                            "attachment limit {} not enforced: {count}",
                            cfg.attachments_limit()
                        );
                        if count == 0 {
                            expect_complete(got, packet, &[], &cfg);
                        } else {
                            let remaining = u32::try_from(count).expect("small");
                            assert!(
                                matches!(got, Ok(Progress::NeedAttachments { remaining: r }) if r == remaining),
                                "expected NeedAttachments {{ remaining: {remaining} }}, got {got:?}"
                            );
                            pending = Some((packet, Vec::new()));
                        }
                    }
                }
            }
        }
        assert_eq!(reassembler.is_pending(), pending.is_some(), "is_pending");
    }
}

fn reassemble_config(flags: u8) -> DecodeConfig {
    let base = if flags & 8 != 0 {
        DecodeConfig::socketio_v4()
    } else {
        DecodeConfig::new()
    };
    base.max_attachments([1, 2, 3, 10][usize::from(flags & 3)])
        .allow_zero_attachments(flags & 4 != 0)
        .allow_js_number_coercion(flags & 16 == 0)
}

/// The frames after the flags byte, as zero-copy slices of `input`.
fn split_frames(input: &Bytes) -> Vec<(bool, Bytes)> {
    let mut frames = Vec::new();
    let mut pos = 1;
    while pos < input.len() && frames.len() < 64 {
        let header = input[pos];
        pos += 1;
        let mut len = usize::from(header & 0x7f);
        if len == 127 {
            let hi = input.get(pos).copied().unwrap_or(0);
            let lo = input.get(pos + 1).copied().unwrap_or(0);
            len = usize::from(u16::from_be_bytes([hi, lo]));
            pos = (pos + 2).min(input.len());
        }
        let end = (pos + len).min(input.len());
        frames.push((header & 0x80 != 0, input.slice(pos..end)));
        pos = end;
    }
    frames
}

fn attachment_count(packet: &socketio::PacketBuf) -> usize {
    packet.as_packet().attachments().unwrap_or(0) as usize
}

fn expect_complete(
    got: Result<Progress, DecodeError>,
    packet: socketio::PacketBuf,
    attachments: &[Bytes],
    cfg: &DecodeConfig,
) {
    let text_len = packet.text().len();
    match (got, Assembled::new(packet, attachments.to_vec())) {
        (Ok(Progress::Complete(assembled)), Ok(expected)) => {
            assert_eq!(assembled, expected, "reassembled packet");
            for (kept, pushed) in assembled.attachments().iter().zip(attachments) {
                assert_eq!(kept.as_ptr(), pushed.as_ptr(), "attachment copied");
            }
            check_assembled(&assembled, cfg);
        }
        (Err(e), Err(kind)) => {
            assert_eq!(e.kind(), kind, "reassembler and Assembled::new disagree");
            check_offset(&e, text_len, "reassembler");
        }
        (got, expected) => {
            panic!("reassembler gave {got:?}, Assembled::new {expected:?}")
        }
    }
}

/// Every property of a complete packet with its attachments.
fn check_assembled(assembled: &Assembled, cfg: &DecodeConfig) {
    let packet = assembled.packet().as_packet();
    let count = packet.attachments().unwrap_or(0) as usize;
    assert_eq!(assembled.attachments().len(), count, "attachment count");
    assert!(
        count <= cfg.attachments_limit() as usize,
        "attachment limit"
    );

    let frames: Vec<OutFrame> = assembled.frames().collect();
    assert_eq!(frames.len(), 1 + count, "frames(): header + attachments");
    let OutFrame::Text(header) = &frames[0] else {
        panic!("frames() does not start with the text header: {frames:?}")
    };
    assert_eq!(
        socketio::Packet::decode_text_with(header, cfg),
        Ok(packet),
        "frames() header"
    );
    for (frame, attachment) in frames[1..].iter().zip(assembled.attachments()) {
        assert_eq!(
            frame,
            &OutFrame::Binary(attachment.clone()),
            "frames() attachment"
        );
    }

    // The canonical form reassembles to the same thing.
    let canonical = packet.to_text();
    let mut again = Reassembler::new(*cfg);
    let mut progress = again.push_text(&canonical);
    for attachment in assembled.attachments() {
        progress = again.push_binary(attachment.clone());
    }
    match progress {
        Ok(Progress::Complete(b)) => {
            assert_eq!(
                b.packet().as_packet(),
                packet,
                "canonical reassembly: packet"
            );
            assert_eq!(b.attachments(), assembled.attachments());
        }
        other => panic!("canonical form {canonical:?} does not reassemble: {other:?}"),
    }

    check_placeholders_resolve(&packet, count);
}

/// `replace_placeholders` follows the reassembler's placeholder rules: a payload the
/// reassembler accepted has only resolvable placeholders.
fn check_placeholders_resolve(packet: &socketio::Packet<'_>, count: usize) {
    let (Some(_), Some(data)) = (packet.attachments(), packet.data()) else {
        return;
    };
    // serde_json refuses some JSON that JavaScript reads and the reassembler accepts: numbers
    // beyond f64 (`1e400`, a 400-digit integer: Infinity in JavaScript) and nesting past its
    // recursion limit. Such a payload has no `Value` for `replace_placeholders` to work on.
    let Ok(mut value) = data.deserialize::<Value>() else {
        return;
    };
    let resolved =
        socketio::replace_placeholders(&mut value, &mut |n| (n < count).then(|| Value::from(n)));
    assert_eq!(
        resolved,
        Ok(()),
        "replace_placeholders refuses a payload the reassembler accepted: {}",
        data.as_str()
    );
}

// ---------------------------------------------------------------------------------------------
// sio_roundtrip_structured
// ---------------------------------------------------------------------------------------------

/// Reads structured choices from fuzzer bytes; exhausted input reads as zeros.
struct Source<'a>(&'a [u8]);

impl Source<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = self.byte();
        }
        u64::from_le_bytes(bytes)
    }

    fn pick<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.below(options.len())]
    }
}

const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

const WORDS: [&str; 18] = [
    "",
    "a",
    "message",
    "error",
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
    "_placeholder",
    "num",
    "\u{1e}",
    "é😀",
    "\"\\/",
    "\n\t",
    "12",
    "-",
];

const NAMESPACE_CHARS: [&str; 12] = [
    "/", "a", ",", "?", "=", "1", " ", "é", "[", "\"", "{", "\u{1e}",
];

fn gen_value(src: &mut Source<'_>, depth: u8) -> Value {
    let kinds = if depth == 0 { 7 } else { 9 };
    match src.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(src.byte() & 1 == 1),
        2 => Value::from(i64::from(src.byte()) - 16),
        3 => Value::from(src.u64()),
        4 => {
            let f = f64::from_bits(src.u64());
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        5 => Value::from(src.pick(&WORDS)),
        6 => placeholder(src),
        7 => Value::Array(
            (0..src.below(4))
                .map(|_| gen_value(src, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..src.below(4))
                .map(|_| (src.pick(&WORDS).to_string(), gen_value(src, depth - 1)))
                .collect(),
        ),
    }
}

/// `{"_placeholder":true,"num":N}` with N an integer, a float or out of range.
fn placeholder(src: &mut Source<'_>) -> Value {
    let num = match src.below(4) {
        0 => Value::from(src.below(4)),
        1 => Value::from(src.below(4) as f64),
        2 => Value::from(0.5),
        _ => Value::from(i64::from(src.byte()) - 128),
    };
    let mut map = serde_json::Map::new();
    map.insert("_placeholder".to_string(), Value::Bool(true));
    map.insert("num".to_string(), num);
    Value::Object(map)
}

/// A payload meant to be valid for `packet_type` (modulo the reserved-name choice).
fn gen_payload(src: &mut Source<'_>, packet_type: PacketType) -> Option<Value> {
    let rest = |src: &mut Source<'_>| -> Vec<Value> {
        (0..src.below(4)).map(|_| gen_value(src, 2)).collect()
    };
    match packet_type {
        PacketType::Disconnect => None,
        PacketType::Connect => Some(match src.below(2) {
            0 => Value::Object(serde_json::Map::new()),
            _ => gen_object(src),
        }),
        PacketType::ConnectError => Some(match src.below(2) {
            0 => Value::from(src.pick(&WORDS)),
            _ => gen_object(src),
        }),
        PacketType::Event | PacketType::BinaryEvent => {
            let name = match src.below(3) {
                0 => Value::from(i64::from(src.byte())),
                _ => Value::from(src.pick(&WORDS)),
            };
            let mut args = vec![name];
            args.extend(rest(src));
            Some(Value::Array(args))
        }
        PacketType::Ack | PacketType::BinaryAck => Some(Value::Array(rest(src))),
    }
}

fn gen_object(src: &mut Source<'_>) -> Value {
    Value::Object(
        (0..src.below(4))
            .map(|_| (src.pick(&WORDS).to_string(), gen_value(src, 2)))
            .collect(),
    )
}

/// The payload rules of socket.io-parser (`isPayloadValid`), written independently of the
/// codec's single-pass checker.
fn shape_ok(packet_type: PacketType, value: &Value, v4: bool) -> bool {
    let js_object = matches!(value, Value::Object(_) | Value::Array(_) | Value::Null);
    match packet_type {
        PacketType::Connect if v4 => js_object,
        PacketType::Connect => value.is_object(),
        PacketType::Disconnect => false,
        PacketType::Event | PacketType::BinaryEvent => match value.as_array().map(|a| a.first()) {
            Some(Some(Value::Number(_))) => true,
            Some(Some(Value::String(name))) => v4 || !RESERVED_EVENTS.contains(&name.as_str()),
            _ => false,
        },
        PacketType::Ack | PacketType::BinaryAck => value.is_array(),
        PacketType::ConnectError if v4 => js_object || value.is_string(),
        PacketType::ConnectError => value.is_object() || value.is_string(),
    }
}

/// Placeholder rules of the reference `reconstructPacket` (integer `num` in range), on a
/// `Value`: placeholder objects are not looked into.
fn placeholders_ok(value: &Value, count: usize) -> bool {
    match value {
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => map
            .get("num")
            .and_then(Value::as_f64)
            .is_some_and(|n| n >= 0.0 && n < count as f64 && n.fract() == 0.0),
        Value::Object(map) => map.values().all(|v| placeholders_ok(v, count)),
        Value::Array(items) => items.iter().all(|v| placeholders_ok(v, count)),
        _ => true,
    }
}

/// `sio_roundtrip_structured`: misuse resistance. The input chooses a packet type, a
/// namespace (from a small alphabet, valid or not), an ack id (around 2^53), a JSON payload
/// (`serde_json` output of a small value meant for the type, or of any value; compact,
/// pretty, or with surrounding whitespace, all of which `RawJson::new` accepts) and an
/// attachment count, then builds the packet with the public constructors.
///
/// Properties: each constructor accepts exactly what an independent model of the rules
/// allows (`Namespace::new`: starts with `/`, no `,`; `AckId::new`: ≤ 2^53 − 1;
/// `Packet::new_with`: count ≥ 1 and ≤ the limit for binary types, 0 otherwise, payload
/// shape per type and protocol version); every packet they build encodes to text that
/// decodes back to it (see `sio_decode_text` for the per-packet checks); a binary packet
/// with placeholders pairs with attachments (`Assembled::new`) exactly when every
/// placeholder is in range, and its frames reassemble to the same value.
pub fn sio_roundtrip_structured(data: &[u8]) {
    let mut src = Source(data);
    let v4 = src.byte() & 1 == 1;
    let cfg = if v4 {
        DecodeConfig::socketio_v4()
    } else {
        DecodeConfig::new()
    };
    let packet_type =
        PacketType::from_digit(b'0' + u8::try_from(src.below(7)).expect("small")).expect("0..6");

    let namespace_text: String = match src.below(3) {
        0 => "/".to_string(),
        1 => src
            .pick(&[
                "/admin",
                "/chat?token=abc",
                "/12",
                "/a/b",
                "/é😀",
                "//",
                "/x y",
            ])
            .to_string(),
        _ => (0..src.below(6))
            .map(|_| src.pick(&NAMESPACE_CHARS))
            .collect(),
    };
    let namespace = Namespace::new(&namespace_text);
    let valid_namespace =
        namespace_text.starts_with('/') && !namespace_text.contains([',', '\u{1e}']);
    assert_eq!(
        namespace.is_ok(),
        valid_namespace,
        "Namespace::new({namespace_text:?})"
    );
    let namespace = namespace.unwrap_or(Namespace::ROOT);

    let id = match src.below(4) {
        0 => None,
        1 => Some(u64::from(src.byte())),
        2 => Some(src.u64() >> src.below(64)),
        _ => Some(AckId::MAX.get() + u64::from(src.byte() & 1)),
    }
    .and_then(|raw| {
        let id = AckId::new(raw);
        assert_eq!(id.is_some(), raw < (1 << 53), "AckId::new({raw})");
        assert!(id.is_none_or(|id| id.get() == raw));
        id
    });

    let value = match src.below(4) {
        0 => None,
        1 => Some(gen_value(&mut src, 2)),
        _ => gen_payload(&mut src, packet_type),
    };
    let json = value.as_ref().map(|v| {
        let compact = serde_json::to_string(v).expect("a Value serializes");
        match src.below(4) {
            0 | 1 => compact,
            2 => serde_json::to_string_pretty(v).expect("a Value serializes"),
            _ => {
                let pad = src.pick(&[" ", "\n", "\t", "\r\n "]);
                match src.below(3) {
                    0 => [pad, &compact].concat(),
                    1 => [&compact, pad].concat(),
                    _ => [pad, &compact, pad].concat(),
                }
            }
        }
    });
    let raw = json
        .as_deref()
        .map(|j| RawJson::new(j).expect("serde_json output is JSON"));

    let limit = cfg.attachments_limit();
    let count = if packet_type.is_binary() {
        match src.below(4) {
            0 => 0,
            1 => limit + 1,
            _ => 1 + u32::from(src.byte()) % limit,
        }
    } else if src.below(8) == 7 {
        1
    } else {
        0
    };

    let count_ok = if packet_type.is_binary() {
        (1..=limit).contains(&count)
    } else {
        count == 0
    };
    let shape = value.as_ref().is_none_or(|v| shape_ok(packet_type, v, v4));
    let built = socketio::Packet::new_with(packet_type, namespace, id, raw, count, &cfg);
    let expected = if !count_ok {
        Err(ErrorKind::InvalidAttachmentCount)
    } else if !shape {
        Err(ErrorKind::InvalidPayload { expected: "" })
    } else {
        Ok(())
    };
    match (&built, expected) {
        (Ok(_), Ok(())) => {}
        (Err(kind), Err(ErrorKind::InvalidPayload { .. })) => assert!(
            matches!(kind, ErrorKind::InvalidPayload { .. }),
            "Packet::new_with: {kind:?} for a bad payload"
        ),
        (Err(kind), Err(expected)) => assert_eq!(*kind, expected, "Packet::new_with"),
        (got, expected) => panic!(
            "Packet::new_with({packet_type:?}, {namespace:?}, {id:?}, {json:?}, {count}) = \
             {got:?}, model says {expected:?}"
        ),
    }
    let Ok(packet) = built else { return };
    assert_eq!(packet.packet_type(), packet_type);
    assert_eq!(packet.namespace(), namespace);
    assert_eq!(packet.id(), id);
    assert_eq!(packet.data(), raw);
    assert_eq!(
        packet.attachments(),
        packet_type.is_binary().then_some(count)
    );
    check_convenience_constructors(&packet, &cfg);
    check_sio_packet(&packet, &cfg);

    if packet_type.is_binary() {
        let attachments: Vec<Bytes> = (0..count)
            .map(|n| {
                Bytes::from(vec![
                    u8::try_from(n % 256).expect("small");
                    (n % 3) as usize
                ])
            })
            .collect();
        let placeholders = value
            .as_ref()
            .is_none_or(|v| placeholders_ok(v, count as usize));
        let assembled = Assembled::new(socketio::PacketBuf::from(&packet), attachments.clone());
        assert_eq!(
            assembled.is_ok(),
            placeholders,
            "Assembled::new for {json:?} with {count} attachments: {assembled:?}"
        );
        if let Ok(assembled) = assembled {
            let mut reassembler = Reassembler::new(cfg);
            let mut last = None;
            for frame in assembled.frames() {
                last = Some(match frame {
                    OutFrame::Text(text) => reassembler.push_text(&text),
                    OutFrame::Binary(bytes) => reassembler.push_binary(bytes),
                });
            }
            match last {
                Some(Ok(Progress::Complete(again))) => assert_eq!(again, assembled),
                other => panic!("frames() of {assembled:?} do not reassemble: {other:?}"),
            }
            check_assembled(&assembled, &cfg);
        }
    }
}

/// `connect` / `disconnect` / `event` / `ack` build what `new` builds (they use the v5 rules).
fn check_convenience_constructors(packet: &socketio::Packet<'_>, cfg: &DecodeConfig) {
    if cfg.is_socketio_v4() {
        return;
    }
    let namespace = packet.namespace();
    let via = match (packet.packet_type(), packet.id(), packet.data()) {
        (PacketType::Connect, None, auth) => socketio::Packet::connect(namespace, auth),
        (PacketType::Disconnect, None, None) => Ok(socketio::Packet::disconnect(namespace)),
        (PacketType::Event, id, Some(args)) => socketio::Packet::event(namespace, args, id),
        (PacketType::Ack, Some(id), Some(args)) => socketio::Packet::ack(namespace, args, id),
        _ => return,
    };
    assert_eq!(via.as_ref(), Ok(packet), "convenience constructor");
}

// ---------------------------------------------------------------------------------------------
// eio_handshake_json
// ---------------------------------------------------------------------------------------------

/// The handshake keys the codec types, as untyped JSON values.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct KnownHandshakeKeys {
    sid: Value,
    upgrades: Value,
    ping_interval: Value,
    ping_timeout: Value,
    #[serde(default)]
    max_payload: Option<Value>,
}

/// `eio_handshake_json`: the input as the JSON of an Engine.IO `open` packet (`0` + input).
///
/// Properties: the packet decodes exactly when `Handshake::parse` accepts the JSON (else
/// `InvalidHandshake` at byte 1); on success the packet re-encodes to the input byte for
/// byte, `PacketBuf` agrees, the typed fields equal the same keys read as untyped
/// `serde_json::Value`s, and `Handshake::new` with those fields produces JSON that parses back to
/// the same fields.
pub fn eio_handshake_json(data: &[u8]) {
    let Ok(json) = core::str::from_utf8(data) else {
        return;
    };
    let mut frame = String::with_capacity(1 + json.len());
    frame.push('0');
    frame.push_str(json);
    let parsed = Handshake::parse(json);
    let decoded = engineio::Packet::decode_text(&frame);
    let owned = engineio::PacketBuf::decode_text(&Utf8Bytes::from(frame.as_str()));
    agree(
        &decoded,
        owned
            .as_ref()
            .map(engineio::PacketBuf::as_packet)
            .map_err(|e| *e),
        "handshake",
    );
    let handshake = match (parsed, decoded) {
        (Some(h), Ok(engineio::Packet::Open(decoded))) => {
            assert_eq!(h, decoded, "Handshake::parse vs decode_text");
            h
        }
        (None, Err(e)) => {
            assert_eq!(e, DecodeError::new(ErrorKind::InvalidHandshake, 1));
            return;
        }
        (parsed, decoded) => panic!("Handshake::parse gave {parsed:?}, decode_text {decoded:?}"),
    };

    let (_, bytes) = engineio::Packet::Open(handshake.clone()).to_bytes(WireFormat::Text);
    assert_eq!(&bytes[..], frame.as_bytes(), "handshake: re-encode differs");
    assert_eq!(handshake.json(), json);
    assert_eq!(handshake.clone().into_owned(), handshake, "into_owned");

    // Oracle: the known keys read as generic JSON values, everything else skipped as the
    // codec skips it (unknown values may be JSON no `Value` holds, e.g. `1e999`).
    let known: KnownHandshakeKeys =
        serde_json::from_str(json).expect("an accepted handshake has the known keys");
    assert_eq!(known.sid.as_str(), Some(handshake.sid()), "sid");
    let upgrades: Vec<&str> = handshake.upgrades().collect();
    let known_upgrades: Option<Vec<&str>> = known
        .upgrades
        .as_array()
        .and_then(|a| a.iter().map(Value::as_str).collect());
    assert_eq!(known_upgrades.as_ref(), Some(&upgrades), "upgrades");
    assert_eq!(
        known.ping_interval.as_u64(),
        Some(handshake.ping_interval())
    );
    assert_eq!(known.ping_timeout.as_u64(), Some(handshake.ping_timeout()));
    assert_eq!(
        known.max_payload.as_ref().and_then(Value::as_u64),
        handshake.max_payload(),
        "maxPayload"
    );

    let built = Handshake::new(
        handshake.sid(),
        &upgrades,
        handshake.ping_interval(),
        handshake.ping_timeout(),
        handshake.max_payload(),
    );
    let again = Handshake::parse(built.json()).expect("Handshake::new output parses");
    assert_eq!(again, built, "Handshake::new round trip");
    assert_eq!(again.sid(), handshake.sid());
    assert!(again.upgrades().eq(handshake.upgrades()));
    assert_eq!(again.ping_interval(), handshake.ping_interval());
    assert_eq!(again.ping_timeout(), handshake.ping_timeout());
    assert_eq!(again.max_payload(), handshake.max_payload());
}

// ---------------------------------------------------------------------------------------------
// Step decoding for the session bodies
// ---------------------------------------------------------------------------------------------

/// The fuzzer's bytes read front to back by a step decoder: a byte chooses the step, the
/// bytes after it are its arguments. Running out ends the run (an argument read past the
/// end is 0).
struct Steps<'a> {
    data: &'a [u8],
    taken: usize,
    max: usize,
}

impl<'a> Steps<'a> {
    fn new(data: &'a [u8], max: usize) -> Self {
        Self {
            data,
            taken: 0,
            max,
        }
    }

    /// The next step's kind byte, or `None` when the bytes ran out or `max` steps were
    /// taken.
    fn next_kind(&mut self) -> Option<u8> {
        if self.taken == self.max || self.data.is_empty() {
            return None;
        }
        self.taken += 1;
        Some(self.byte())
    }

    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.data.split_first().unwrap_or((&0, &[]));
        self.data = rest;
        first
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// Up to `n` bytes (fewer at the end).
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[usize::from(self.byte()) % table.len()]
    }
}

// ---------------------------------------------------------------------------------------------
// eio_server_session
// ---------------------------------------------------------------------------------------------

/// The most steps one `eio_server_session` input drives.
pub const EIO_SESSION_MAX_STEPS: usize = 256;

/// Packets the `eio_server_session` steps post and put in WebSocket frames (`4m…` is not
/// among them: `m<N>` names the server's messages).
const EIO_CLIENT_PACKETS: [&str; 16] = [
    "2probe", "5", "3", "2", "1", "6", "4hi", "4", "0", "3probe", "2x", "b4AQI=", "bAQI=",
    "4\u{e9}", "7", "",
];

/// `eio_server_session`: one Engine.IO server [`Session`](engineio::server::Session) driven
/// by a sequence of steps.
///
/// Input: a first byte chooses the session (bit 0: v3, else v4; bit 1: opened over
/// WebSocket, else polling; bit 2: `b64=1` in the handshake), then steps until the bytes run
/// out or [`EIO_SESSION_MAX_STEPS`]; the step's kind is its first byte modulo 15:
///
/// | kind | step | argument bytes |
/// |---|---|---|
/// | 0 | polling GET | — |
/// | 1 | the parked GET aborted (when one is parked) | — |
/// | 2 | POST of 1–3 packets of a table, in the revision's payload format | count, one per packet |
/// | 3 | POST of raw bytes (bit 4 of the length byte: `application/octet-stream`) | length (0–15), bytes |
/// | 4 | `begin_post` (bit 0 of the argument: then `abort_post`) | 1 |
/// | 5 | a WebSocket arrives (`handle_websocket`) | — |
/// | 6 | a text frame holding a packet of the table (when a WebSocket is open) | 1 |
/// | 7 | the WebSocket closes (`Frame::Close`) | — |
/// | 8 | a binary frame of raw bytes | length (0–7), bytes |
/// | 9 | time passes: big-endian u16 milliseconds; due timers fire | 2 |
/// | 10 | the application sends 1–4 text messages `m0`, `m1`… | 1 |
/// | 11 | the application closes the session | — |
/// | 12 | `route` of a request (bits 0–1 modulo 3: GET, POST, PUT; bit 2: `transport=websocket`; bit 3: an upgrade) | 1 |
/// | 13 | a text frame of raw bytes (lossy UTF-8) | length (0–15), bytes |
/// | 14 | `close_with` a reason (ClientRequest, ProtocolError, ServerClose) | 1 |
///
/// Instants are the origin plus the accumulated durations; the real clock is read once.
/// After every step the GET answers, frames and events are drained and checked:
/// - no GET answer without a GET: at most one GET parked, `poll_get_response` only for a
///   parked one, and a parked GET is answered when the session closes;
/// - the `m<N>` messages come out (GET bodies and WebSocket frames, across an upgrade) in
///   order, each once, without gaps, never one not sent;
/// - nothing is held back while it could go out: while the session is open on WebSocket or
///   with a GET parked, every message sent so far is out;
/// - none is lost at the close: unless the client asked to close (the outbox is dropped,
///   see the module table) or the parked GET was aborted, a session that closes with a GET
///   parked or on WebSocket has sent every message by the end of that step;
/// - events: one [`Closed`](engineio::server::Event::Closed) at most, last, and exactly when
///   `is_closed`; [`Upgraded`](engineio::server::Event::Upgraded) at most once, before it,
///   only for an attached WebSocket, and the transport is then WebSocket;
/// - nothing after the close: no event, no frame, no `200` GET answer, no timer; `route` says
///   `UnknownSid`;
/// - frames go out only to an open WebSocket; a due timer moves on once handled.
pub fn eio_server_session(data: &[u8]) {
    use engineio::server::{
        CloseReason, Event, Frame, GetOutcome, Opening, Refusal, Request, Route, ServerConfig,
        Session, Transport,
    };
    use std::time::{Duration, Instant};

    let mut steps = Steps::new(data, EIO_SESSION_MAX_STEPS);
    let Some(header) = steps.next_kind() else {
        return;
    };
    let v3 = header & 1 != 0;
    let over_websocket = header & 2 != 0;
    let b64 = header & 4 != 0;
    #[allow(
        clippy::field_reassign_with_default,
        reason = "the public API: ServerConfig is non_exhaustive outside the crate"
    )]
    let config = {
        let mut config = ServerConfig::default();
        config.allow_eio3 = true;
        config
    };
    let eio = if v3 { "3" } else { "4" };
    let handshake = std::format!(
        "EIO={eio}&transport={}{}",
        if over_websocket {
            "websocket"
        } else {
            "polling"
        },
        if b64 { "&b64=1" } else { "" }
    );
    let mut request = Request::from_query("GET", &handshake);
    if over_websocket {
        request = request.with_websocket();
    }
    let t0 = Instant::now();
    let (mut session, opening) =
        Session::accept(&config, &request, "fuzz", t0).expect("a valid handshake is accepted");
    assert_eq!(
        matches!(opening, Opening::Frame(_)),
        over_websocket,
        "opening"
    );
    let query = std::format!("EIO={eio}&transport=polling&sid=fuzz");
    let get = Request::from_query("GET", &query);
    let post = Request::from_query("POST", &query);
    let post_binary = post.with_content_type("application/octet-stream");

    let mut now = t0;
    let mut ws_open = over_websocket;
    let mut next_id = 0u64; // messages sent: m0 .. m{next_id - 1}
    let mut delivered = 0u64; // messages out: m0 .. m{delivered - 1}
    let mut parked = 0usize;
    let mut closed_seen = false;
    let mut upgraded = false;

    while let Some(kind) = steps.next_kind() {
        let was_closed = session.is_closed();
        let was_websocket = !was_closed && session.transport() == Transport::Websocket;
        let was_parked = parked > 0;
        let was_upgrading = session.is_upgrading();
        let mut aborted = false;
        let mut answers = Vec::new();
        match kind % 15 {
            0 => match session.handle_get(&get) {
                GetOutcome::Answered(r) => answers.push(r),
                GetOutcome::Parked => {
                    assert_eq!(parked, 0, "two GETs parked");
                    assert!(!was_closed, "a GET parked by a closed session");
                    parked = 1;
                }
            },
            1 => {
                if parked > 0 {
                    session.handle_get_aborted();
                    parked = 0;
                    aborted = true;
                }
            }
            2 => {
                let count = 1 + usize::from(steps.byte() % 3);
                let packets: Vec<&str> = (0..count)
                    .map(|_| steps.pick(&EIO_CLIENT_PACKETS))
                    .collect();
                let body = if v3 {
                    packets
                        .iter()
                        .map(|p| std::format!("{}:{p}", p.encode_utf16().count()))
                        .collect::<String>()
                } else {
                    packets.join("\u{1e}")
                };
                let r = session.handle_post(&post, Bytes::from(body), now);
                assert!(matches!(r.status, 200 | 400 | 413), "POST answered {r:?}");
            }
            3 => {
                let len = steps.byte();
                let body = Bytes::copy_from_slice(steps.take(usize::from(len % 16)));
                let request = if len & 0x10 != 0 { &post_binary } else { &post };
                let r = session.handle_post(request, body, now);
                assert!(matches!(r.status, 200 | 400 | 413), "POST answered {r:?}");
            }
            4 => {
                let abort = steps.byte() & 1 != 0;
                if session.begin_post().is_ok() && abort {
                    session.abort_post();
                }
            }
            5 => {
                if session.handle_websocket(now) {
                    assert!(!ws_open, "a second WebSocket attached");
                    assert!(
                        !was_closed && session.is_upgrading(),
                        "attached, not upgrading"
                    );
                    ws_open = true;
                }
            }
            6 | 7 | 8 | 13 => {
                let frame = match kind % 15 {
                    6 => Frame::Text(steps.pick(&EIO_CLIENT_PACKETS).into()),
                    7 => Frame::Close(None),
                    8 => {
                        let len = usize::from(steps.byte() % 8);
                        Frame::Binary(Bytes::copy_from_slice(steps.take(len)))
                    }
                    _ => {
                        let len = usize::from(steps.byte() % 16);
                        Frame::Text(String::from_utf8_lossy(steps.take(len)).as_ref().into())
                    }
                };
                // Frames come only on an open WebSocket.
                if ws_open {
                    if matches!(frame, Frame::Close(_)) {
                        ws_open = false;
                    }
                    session.handle_frame(frame, now);
                }
            }
            9 => {
                now += Duration::from_millis(u64::from(steps.u16()));
                let mut fired = 0;
                while let Some(at) = session.poll_timeout() {
                    if at > now {
                        break;
                    }
                    session.handle_timeout(at);
                    assert!(
                        session.poll_timeout().is_none_or(|next| next > at),
                        "a due timer handled at {at:?} is still due"
                    );
                    fired += 1;
                    assert!(fired <= 64, "timers keep firing");
                }
            }
            10 => {
                // Sometimes as one held batch (`hold` / `release`).
                let arg = steps.byte();
                let held = arg & 4 != 0;
                if held {
                    session.hold();
                }
                for _ in 0..=arg % 4 {
                    session.send_text(std::format!("m{next_id}"));
                    if !was_closed {
                        next_id += 1;
                    }
                }
                if held {
                    assert!(
                        was_closed || session.poll_get_response().is_none(),
                        "a held batch answered a GET before its release"
                    );
                    session.release();
                }
            }
            11 => session.close(),
            12 => {
                let arg = steps.byte();
                let method = ["GET", "POST", "PUT"][usize::from(arg & 3) % 3];
                let transport = if arg & 4 != 0 { "websocket" } else { "polling" };
                let q = std::format!("EIO={eio}&transport={transport}&sid=fuzz");
                let mut request = Request::from_query(method, &q);
                if arg & 8 != 0 {
                    request = request.with_websocket();
                }
                let route = session.route(&request);
                if was_closed {
                    assert_eq!(route, Err(Refusal::UnknownSid), "route after the close");
                } else if request.websocket {
                    assert_eq!(
                        route == Ok(Route::Websocket),
                        !session.is_upgrading() && session.transport() == Transport::Polling,
                        "route of a WebSocket: {route:?}"
                    );
                }
            }
            _ => {
                let reason = [
                    CloseReason::ClientRequest,
                    CloseReason::ProtocolError,
                    CloseReason::ServerClose,
                ][usize::from(steps.byte() % 3)];
                session.close_with(reason);
            }
        }

        // Drain: GET answers, frames, events.
        while let Some(r) = session.poll_get_response() {
            assert!(parked > 0, "an answer for no GET");
            parked -= 1;
            answers.push(r);
        }
        let mut out = Vec::new();
        for r in &answers {
            if r.status == 200 {
                assert!(!was_closed, "a GET answered 200 after the close: {r:?}");
                out.extend(eio_message_ids(v3, r));
            }
        }
        for frame in core::iter::from_fn(|| session.poll_frame()) {
            assert!(!was_closed, "a frame after the close: {frame:?}");
            assert!(ws_open, "a frame for no WebSocket: {frame:?}");
            if matches!(frame, Frame::Close(_)) {
                ws_open = false;
            }
            out.extend(eio_frame_id(&frame));
        }
        for id in out {
            assert_eq!(
                id, delivered,
                "m{id} out where m{delivered} is next (sent: {next_id})"
            );
            delivered += 1;
        }
        assert!(delivered <= next_id, "a message never sent came out");
        let mut closed_now = None;
        while let Some(event) = session.poll_event() {
            assert!(!closed_seen, "{event:?} after the close");
            match event {
                Event::Closed(reason) => {
                    closed_seen = true;
                    closed_now = Some(reason);
                }
                Event::Upgraded => {
                    assert!(!upgraded, "upgraded twice");
                    assert!(was_upgrading, "upgraded without an attached WebSocket");
                    assert_eq!(session.transport(), Transport::Websocket, "upgraded");
                    upgraded = true;
                }
                Event::Text(_) | Event::Binary(_) => {}
            }
        }
        assert_eq!(closed_seen, session.is_closed(), "Closed iff is_closed");
        assert!(parked <= 1, "two GETs parked");
        if session.is_closed() {
            assert_eq!(parked, 0, "a parked GET left unanswered at the close");
            assert_eq!(session.poll_timeout(), None, "a timer after the close");
        } else if session.transport() == Transport::Websocket || parked > 0 {
            assert_eq!(
                delivered,
                next_id,
                "messages held back (transport {:?}, GET parked: {})",
                session.transport(),
                parked > 0
            );
        }
        if let Some(reason) = closed_now
            && reason != CloseReason::ClientRequest
            && (was_websocket || (was_parked && !aborted))
        {
            assert_eq!(
                delivered, next_id,
                "messages lost at the close ({reason:?})"
            );
        }
    }
}

/// The `m<N>` messages a `200` GET body carries, in order (the body must decode).
fn eio_message_ids(v3: bool, response: &engineio::server::Response) -> Vec<u64> {
    let config = DecodeConfig::new().max_payload(usize::MAX);
    let mut ids = Vec::new();
    let mut text = |packet: engineio::Packet<'_>| {
        if let engineio::Packet::Message(engineio::Message::Text(t)) = packet
            && let Some(id) = t.strip_prefix('m').and_then(|n| n.parse().ok())
        {
            ids.push(id);
        }
    };
    if !v3 {
        for packet in engineio::decode_payload(&response.body, &config) {
            text(packet.expect("a GET body decodes"));
        }
    } else {
        let format = if response.content_type == Some(engineio::server::BINARY_BODY) {
            v3::PayloadFormat::Binary
        } else {
            v3::PayloadFormat::Text
        };
        for packet in v3::decode_payload(&response.body, format, &config) {
            text(packet.expect("a GET body decodes"));
        }
    }
    ids
}

/// The `m<N>` message a WebSocket frame carries.
fn eio_frame_id(frame: &engineio::server::Frame) -> Option<u64> {
    match frame {
        engineio::server::Frame::Text(t) => t.strip_prefix("4m")?.parse().ok(),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// sio_server_connection
// ---------------------------------------------------------------------------------------------

/// The most steps one `sio_server_connection` input drives.
pub const SIO_CONNECTION_MAX_STEPS: usize = 256;

/// Client packets the `sio_server_connection` steps send.
const SIO_CLIENT_PACKETS: [&str; 20] = [
    "0",
    "0/a,",
    r#"0/a,{"t":1}"#,
    "1",
    "1/a,",
    r#"2["e",1]"#,
    r#"2/a,3["e"]"#,
    r#"3/a,0["r"]"#,
    r#"30["r"]"#,
    r#"31["r"]"#,
    r#"51-["b",{"_placeholder":true,"num":0}]"#,
    r#"4{"message":"x"}"#,
    "",
    "9",
    r#"2["connect"]"#,
    "0/a?x=1",
    r#"61-0["r",{"_placeholder":true,"num":0}]"#,
    r#"61-/a,1["r",{"_placeholder":true,"num":0}]"#,
    "0/b,",
    r#"2/b,["e"]"#,
];

const SIO_NAMESPACES: [&str; 3] = ["/", "/a", "/b"];

/// Bytes that serialize as bytes (an attachment of an emitted event).
struct Blob(&'static [u8]);

impl serde::Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// `sio_server_connection`: one Socket.IO server
/// [`Connection`](socketio::server::Connection) driven by a sequence of steps.
///
/// Input: a first byte chooses the protocol (bit 0: Socket.IO v4 over Engine.IO v3, else
/// v5 over v4), then steps until the bytes run out or [`SIO_CONNECTION_MAX_STEPS`]; the
/// step's kind is its first byte modulo 9:
///
/// | kind | step | argument bytes |
/// |---|---|---|
/// | 0 | a client packet of a table | 1 |
/// | 1 | a client text of raw bytes (lossy UTF-8) | length (0–31), bytes |
/// | 2 | a client attachment | length (0–3), bytes |
/// | 3 | `accept` a namespace (`/`, `/a`, `/b`) | 1 |
/// | 4 | `reject` a namespace | 1 |
/// | 5 | `emit` in a namespace (bits 0–1 modulo 3; bit 2: asking for an ack; bit 3: with a binary argument) | 1 |
/// | 6 | `disconnect` a namespace | 1 |
/// | 7 | time passes: big-endian u16 milliseconds, then `handle_timeout` | 2 |
/// | 8 | `ack` a client's event (the namespace and the id from the argument) | 2 |
///
/// The connect timeout is 45 s from the origin; instants are the origin plus the accumulated
/// durations. After every step the events and messages are drained and checked (the
/// invariants of the module's property test): no panic; one `Close` at most, and nothing
/// after it (no event, no message, every call refused with `Closed`, no timer); `is_closed`
/// exactly after it; an `Ack` only for an id `emit` handed out in that namespace and not yet
/// answered or dropped by a disconnect, and `emit` never hands out an id twice; `Message`,
/// `Ack` and `Disconnected` only for a namespace joined before the step, `ConnectRequest`
/// only for one not joined; every message out reassembles on the client side.
pub fn sio_server_connection(data: &[u8]) {
    use sio_codec::Protocol;
    use socketio::server::{Connection, Event, Message, Refused};
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    let mut steps = Steps::new(data, SIO_CONNECTION_MAX_STEPS);
    let Some(header) = steps.next_kind() else {
        return;
    };
    let protocol = if header & 1 != 0 {
        Protocol::V3
    } else {
        Protocol::V4
    };
    let t0 = Instant::now();
    let mut now = t0;
    let mut c = Connection::new(protocol, t0, Duration::from_secs(45));
    // The client's view of what the server sends.
    let mut client = protocol.reassembler();
    let mut handed_out: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut closes = 0;

    while let Some(kind) = steps.next_kind() {
        let was_closed = c.is_closed();
        let joined_before: BTreeSet<String> = c.namespaces().map(|(ns, _)| ns.into()).collect();
        let refused = |result: Result<(), Refused>| {
            if was_closed {
                assert_eq!(result, Err(Refused::Closed), "a call after the close");
            }
        };
        match kind % 9 {
            0 => c.handle_message(Message::Text(steps.pick(&SIO_CLIENT_PACKETS).into())),
            1 => {
                let len = usize::from(steps.byte() % 32);
                let text = String::from_utf8_lossy(steps.take(len));
                c.handle_message(Message::Text(text.as_ref().into()));
            }
            2 => {
                let len = usize::from(steps.byte() % 4);
                c.handle_message(Message::Binary(Bytes::copy_from_slice(steps.take(len))));
            }
            3 => refused(c.accept(steps.pick(&SIO_NAMESPACES), "sock")),
            4 => refused(c.reject(steps.pick(&SIO_NAMESPACES), "no")),
            5 => {
                let arg = steps.byte();
                let ns = SIO_NAMESPACES[usize::from(arg & 3) % 3];
                let ack = arg & 4 != 0;
                let result = if arg & 8 != 0 {
                    c.emit(ns, &("e", Blob(b"\x01\x02")), ack)
                } else {
                    c.emit(ns, &("e", 1), ack)
                };
                match result {
                    Ok(Some(id)) => {
                        assert!(ack, "an ack id for an emit without ack");
                        assert!(
                            handed_out.insert((ns.into(), id.get())),
                            "ack id {ns} {id:?} handed out twice"
                        );
                    }
                    Ok(None) => assert!(!ack, "no ack id for an emit with ack"),
                    Err(e) => refused(Err(e)),
                }
            }
            6 => {
                let ns = steps.pick(&SIO_NAMESPACES);
                let result = c.disconnect(ns);
                if result.is_ok() {
                    handed_out.retain(|(n, _)| n != ns);
                }
                refused(result);
            }
            7 => {
                now += Duration::from_millis(u64::from(steps.u16()));
                c.handle_timeout(now);
                if let Some(at) = c.poll_timeout() {
                    assert!(at > now, "a due connect timeout was not handled");
                }
            }
            _ => {
                let ns = steps.pick(&SIO_NAMESPACES);
                let id = AckId::new(u64::from(steps.byte() % 4)).expect("a small id");
                refused(c.ack(ns, id, &("r",)));
            }
        }

        let mut closed_now = false;
        while let Some(event) = c.poll_event() {
            assert_eq!(closes, 0, "{event:?} after the close");
            match event {
                Event::Close(_) => {
                    closes += 1;
                    closed_now = true;
                }
                Event::Ack { namespace, id, .. } => {
                    assert!(joined_before.contains(&namespace), "an ack for {namespace}");
                    assert!(
                        handed_out.remove(&(namespace.clone(), id.get())),
                        "an ack for {namespace} {id:?} never handed out or already heard"
                    );
                }
                Event::Disconnected { namespace } => {
                    assert!(
                        joined_before.contains(&namespace),
                        "{namespace} left unjoined"
                    );
                    handed_out.retain(|(n, _)| *n != namespace);
                }
                Event::Message { namespace, .. } => {
                    assert!(
                        joined_before.contains(&namespace),
                        "a message in {namespace}"
                    );
                }
                Event::ConnectRequest { namespace, .. } => {
                    assert!(
                        !joined_before.contains(&namespace),
                        "a CONNECT to {namespace} while joined"
                    );
                }
            }
        }
        assert!(closes <= 1, "closed twice");
        assert_eq!(closes == 1, c.is_closed(), "Close iff is_closed");
        if c.is_closed() {
            assert!(c.poll_message().is_none(), "a message after the close");
            assert_eq!(c.poll_timeout(), None, "a timer after the close");
            if !closed_now {
                assert_eq!(
                    c.namespaces().count(),
                    joined_before.len(),
                    "the namespaces changed after the close"
                );
            }
        }
        while let Some(frame) = c.poll_message() {
            let progress = match frame {
                OutFrame::Text(text) => client.push_text(&text),
                OutFrame::Binary(data) => client.push_binary(data),
            };
            assert!(
                progress.is_ok(),
                "the client cannot read what the server sent: {progress:?}"
            );
        }
    }
}
