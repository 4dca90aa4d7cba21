//! Socket.IO packet benchmarks: ids `socketio/<op>/<case>` for sio-codec and, with the
//! `peers` feature, `socketioxide/<op>/<case>` for socketioxide's common parser in the same
//! run. Levels (`performance.md` §6.1): L0 = frame only, L1 = frame + full JSON validation,
//! L2 = frame + a dynamic JSON value.

mod common;

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use sio_benches::corpus::{self, Case, Kind};
use sio_codec::{
    Utf8Bytes,
    socketio::{Packet, PacketBuf, Progress, Reassembler},
};
use std::{borrow::Cow, hint::black_box};

fn bytes_of(case: &Case, with_attachments: bool) -> Throughput {
    let len = if with_attachments {
        case.total_len()
    } else {
        case.text.len()
    };
    Throughput::Bytes(len as u64)
}

/// Ours, L1: header + full JSON validation + payload shape, borrowed.
fn decode(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let text = case.text.as_str();
    Packet::decode_text(text).expect("corpus case decodes");
    g.throughput(bytes_of(case, false));
    g.bench_with_input(BenchmarkId::new("decode", case.name), text, |b, text| {
        b.iter(|| Packet::decode_text(black_box(text)));
    });
}

/// Ours, L1, owned: `PacketBuf` sharing the frame's `Utf8Bytes` (a refcount bump).
fn decode_buf(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let text = Utf8Bytes::from(case.text.clone());
    PacketBuf::decode_text(&text).expect("corpus case decodes");
    g.throughput(bytes_of(case, false));
    g.bench_with_input(
        BenchmarkId::new("decode_buf", case.name),
        &text,
        |b, text| {
            b.iter(|| PacketBuf::decode_text(black_box(text)));
        },
    );
}

/// Ours, L2: L1 plus the whole payload as a `serde_json::Value`.
fn decode_l2(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let text = case.text.as_str();
    g.throughput(bytes_of(case, false));
    g.bench_with_input(BenchmarkId::new("decode_l2", case.name), text, |b, text| {
        b.iter(|| {
            let packet = Packet::decode_text(black_box(text)).expect("decodes");
            packet
                .data()
                .map(|d| d.deserialize::<serde_json::Value>().expect("JSON"))
        });
    });
}

/// The typed arguments of the corpus's `bulk` events: `["bulk", {"items": [...]}]`.
mod typed {
    use serde::Deserialize;
    use std::borrow::Cow;

    /// The second argument; `T` is the item type of the case.
    #[derive(Deserialize)]
    pub(crate) struct Bulk<T> {
        pub(crate) items: Vec<T>,
    }

    /// An item of `medium_1k`. Free text is a `Cow` (borrowed from the frame unless it holds
    /// an escape); the tags are short enum-like words, borrowed as `&str` (an escape there
    /// would be a deserialization error, which is what a typed protocol wants).
    #[derive(Deserialize)]
    #[allow(dead_code)] // Read by no one: the benchmark measures building them.
    pub(crate) struct Item<'a> {
        pub(crate) id: u64,
        #[serde(borrow)]
        pub(crate) name: Cow<'a, str>,
        pub(crate) price: f64,
        pub(crate) qty: u32,
        pub(crate) active: bool,
        #[serde(borrow)]
        pub(crate) tags: Vec<&'a str>,
    }

    /// An item of `large_64k`.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub(crate) struct Record<'a> {
        pub(crate) id: u64,
        #[serde(borrow)]
        pub(crate) user: Cow<'a, str>,
        pub(crate) score: f64,
        pub(crate) ratio: f64,
        pub(crate) active: bool,
        pub(crate) parent: Option<u32>,
        #[serde(borrow)]
        pub(crate) tags: Vec<&'a str>,
        pub(crate) geo: Geo,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub(crate) struct Geo {
        pub(crate) lat: f64,
        pub(crate) lon: f64,
    }

    /// What an application does with a received event: validated decode (L1), then its
    /// arguments as its own types, strings borrowed from `text`.
    pub(crate) fn decode<'a, T: Deserialize<'a>>(text: &'a str) -> (&'a str, Bulk<T>) {
        let packet = sio_codec::socketio::Packet::decode_text(text).expect("decodes");
        packet
            .data()
            .expect("arguments")
            .deserialize()
            .expect("typed arguments")
    }
}

/// Ours, typed: `decode` + `RawJson::deserialize` into the structs of [`typed`] (the whole
/// decoded value is returned, so building and dropping it are both timed).
fn decode_typed(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let text = case.text.as_str();
    let items = text.matches(r#"{"id":"#).count();
    g.throughput(bytes_of(case, false));
    let id = BenchmarkId::new("typed", case.name);
    match case.name {
        "medium_1k" => {
            let (event, bulk) = typed::decode::<typed::Item<'_>>(text);
            assert_eq!((event, bulk.items.len()), ("bulk", items));
            assert!(
                bulk.items
                    .iter()
                    .all(|i| matches!(i.name, Cow::Borrowed(_)))
            );
            g.bench_with_input(id, text, |b, text| {
                b.iter(|| typed::decode::<typed::Item<'_>>(black_box(text)));
            });
        }
        "large_64k" => {
            let (event, bulk) = typed::decode::<typed::Record<'_>>(text);
            assert_eq!((event, bulk.items.len()), ("bulk", items));
            assert!(
                bulk.items
                    .iter()
                    .all(|i| matches!(i.user, Cow::Borrowed(_)))
            );
            g.bench_with_input(id, text, |b, text| {
                b.iter(|| typed::decode::<typed::Record<'_>>(black_box(text)));
            });
        }
        _ => {}
    }
}

/// Ours: a binary packet and its attachments through the `Reassembler` (attachments kept as
/// the `Bytes` they arrived in; placeholders checked).
fn reassemble(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let header = Utf8Bytes::from(case.text.clone());
    let attachments: Vec<Bytes> = case.attachments.iter().cloned().map(Bytes::from).collect();
    let mut reassembler = Reassembler::default();
    let mut run = move || -> Progress {
        let mut progress = reassembler.push_text(black_box(&header)).expect("header");
        for attachment in &attachments {
            progress = reassembler
                .push_binary(black_box(attachment.clone()))
                .expect("attachment");
        }
        progress
    };
    assert!(matches!(run(), Progress::Complete(_)));
    g.throughput(bytes_of(case, true));
    g.bench_function(BenchmarkId::new("reassemble", case.name), |b| {
        b.iter(&mut run)
    });
}

/// Ours: encode from raw JSON into a reused `BytesMut` (the payload is copied once).
fn encode(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let packet = Packet::decode_text(&case.text).expect("decodes");
    let mut buf = BytesMut::with_capacity(packet.encoded_len());
    packet.encode(&mut buf);
    assert_eq!(&buf[..], case.text.as_bytes(), "canonical round trip");
    g.throughput(bytes_of(case, false));
    g.bench_function(BenchmarkId::new("encode", case.name), |b| {
        b.iter(|| {
            buf.clear();
            black_box(&packet).encode(&mut buf);
            black_box(buf.len())
        });
    });
}

/// The Engine.IO `4` and the Socket.IO header of `received`, written to `buf`; the payload
/// as a refcounted view of the received frame. Returns the header length and the payload.
fn vectored(received: &PacketBuf, buf: &mut [u8; 128]) -> (usize, Option<Utf8Bytes>) {
    let view = received.as_packet();
    let header = Packet::new(
        view.packet_type(),
        view.namespace(),
        view.id(),
        None,
        view.attachments().unwrap_or(0),
    )
    .expect("header");
    buf[0] = b'4';
    let mut rest = &mut buf[1..];
    header.encode(&mut rest);
    let len = 128 - rest.len();
    (len, received.data_bytes())
}

/// Ours, zero-copy encode of a received packet (public API composition): the Engine.IO `4`
/// and the Socket.IO header go to a stack buffer, the payload stays a refcounted
/// `Utf8Bytes` view of the frame, ready for a vectored write. No payload byte is copied.
fn encode_vectored(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let text = Utf8Bytes::from(case.text.clone());
    let received = PacketBuf::decode_text(&text).expect("decodes");
    let mut buf = [0u8; 128];
    let (len, payload) = vectored(&received, &mut buf);
    let mut joined = buf[1..len].to_vec();
    joined.extend_from_slice(payload.as_deref().unwrap_or_default().as_bytes());
    assert_eq!(joined, case.text.as_bytes(), "vectored round trip");
    g.throughput(bytes_of(case, false));
    g.bench_function(BenchmarkId::new("encode_vectored", case.name), |b| {
        b.iter(|| {
            let (len, payload) = vectored(black_box(&received), &mut buf);
            black_box(&buf[..len]);
            payload
        });
    });
}

/// Reference point, not a codec operation: serde_json validating the JSON part alone with
/// `IgnoredAny` (what any serde-based L1 costs at least).
fn baseline(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let Some(json) = json_part(case) else { return };
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("serde_ignored_any", case.name),
        json,
        |b, json| {
            b.iter(|| serde_json::from_str::<serde::de::IgnoredAny>(black_box(json)).is_ok());
        },
    );
}

/// The cases measured against the SIMD validators (`peers`): a tiny event, a medium and a
/// large object array, and a large string, the JSON shapes where validation speed differs.
#[cfg(feature = "peers")]
const SIMD_CASES: [&str; 4] = ["tiny_event", "medium_1k", "large_64k", "large_string_64k"];

/// The JSON part of a Socket.IO packet, as `baseline` cuts it: from the first `[` or `{`
/// (the event payload our `decode` validates).
fn json_part(case: &Case) -> Option<&str> {
    case.text.find(['[', '{']).map(|start| &case.text[start..])
}

/// The limit baseline (feature `peers`): the fastest JSON validators we know of, on the same
/// JSON as `serde_ignored_any`. Both validate fully (syntax, escapes, control characters;
/// simd-json UTF-8 as well, which our `&str` input already guarantees).
#[cfg(feature = "peers")]
fn simd_baselines(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    use serde::de::IgnoredAny;
    let Some(json) = json_part(case) else { return };
    // sonic-rs: its serde `IgnoredAny` path is `skip_one(checked = true)`, a SIMD skip that
    // validates what it skips (the unchecked skip is its `get_unchecked`, not used here). Its
    // SIMD width is chosen at compile time: SSE2 on the default x86-64 target, AVX2 only with
    // `-C target-cpu` (not set here: it would change every benchmark of the run).
    assert!(
        sonic_rs::from_str::<IgnoredAny>(json).is_ok(),
        "sonic-rs accepts"
    );
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("sonic_rs_validate", case.name),
        json,
        |b, json| b.iter(|| sonic_rs::from_str::<IgnoredAny>(black_box(json)).is_ok()),
    );
    // simd-json parses in place (it unescapes strings into the input), so it needs a mutable
    // copy: the copy into a reused, padded buffer is made INSIDE the timed loop (a receiver
    // holding a shared, immutable frame pays it too; `fill_tape` would make the same copy
    // internally). simd-json picks AVX2 at run time. `fill_tape_padded` then fills a reused tape with reused buffers: no
    // allocation per iteration, the fastest full validation simd-json offers.
    let len = json.len();
    let mut input = vec![0u8; len + simd_json::INPUT_PADDING];
    let mut buffers = simd_json::Buffers::new(len);
    let mut spare = simd_json::Tape::null().reset();
    let mut validate = move |json: &str| -> bool {
        input[..len].copy_from_slice(json.as_bytes());
        // The tape borrows `input` for one call; `reset` empties it and ends the borrow.
        let mut tape = std::mem::replace(&mut spare, simd_json::Tape(Vec::new())).reset();
        let ok = simd_json::fill_tape_padded(&mut input, len, &mut buffers, &mut tape).is_ok();
        spare = tape.reset();
        ok
    };
    assert!(validate(json), "simd-json accepts");
    g.bench_with_input(
        BenchmarkId::new("simd_json_validate", case.name),
        json,
        |b, json| b.iter(|| validate(black_box(json))),
    );
}

fn ours(c: &mut Criterion) {
    let mut g = c.benchmark_group("socketio");
    for case in corpus::of_kind(Kind::Sio) {
        decode(&mut g, &case);
        decode_buf(&mut g, &case);
        if case.is_binary() {
            reassemble(&mut g, &case);
        } else {
            decode_l2(&mut g, &case);
            decode_typed(&mut g, &case);
        }
        encode(&mut g, &case);
        encode_vectored(&mut g, &case);
    }
    g.finish();
    let mut g = c.benchmark_group("baseline");
    for case in corpus::of_kind(Kind::Sio) {
        baseline(&mut g, &case);
        #[cfg(feature = "peers")]
        if SIMD_CASES.contains(&case.name) {
            simd_baselines(&mut g, &case);
        }
    }
    g.finish();
}

#[cfg(feature = "peers")]
mod peers {
    //! socketioxide-parser-common 0.17.3 / socketioxide-core 0.20.0, used through their
    //! public API only. One `ParseConfig` and one `ParserState` are reused (the partial packet
    //! is taken on completion), and the input `Str` is a refcount-bumped clone per iteration.

    use super::{BenchmarkGroup, BenchmarkId, Case, Criterion, WallTime, bytes_of};
    use bytes::Bytes;
    use serde::de::IgnoredAny;
    use sio_benches::corpus::{self, Kind};
    use socketioxide_core::{
        Str, Value,
        packet::{Packet, PacketData},
        parser::{Parse, ParseConfig, ParseError, ParserState},
    };
    use socketioxide_parser_common::CommonParser;
    use std::hint::black_box;

    struct Input {
        text: Str,
        attachments: Vec<Bytes>,
        config: ParseConfig,
        state: ParserState,
    }

    impl Input {
        fn new(case: &Case) -> Self {
            Self {
                text: Str::from(case.text.clone()),
                attachments: case.attachments.iter().cloned().map(Bytes::from).collect(),
                config: ParseConfig::default(),
                state: ParserState::default(),
            }
        }

        /// L0: `decode_str`, then `decode_bin` per attachment (which copies it).
        fn lazy(&self) -> Packet {
            let parser = CommonParser;
            match parser.decode_str(&self.config, &self.state, self.text.clone()) {
                Ok(packet) => packet,
                Err(ParseError::NeedsMoreBinaryData) => {
                    for attachment in &self.attachments {
                        match parser.decode_bin(&self.config, &self.state, attachment.clone()) {
                            Ok(packet) => return packet,
                            Err(ParseError::NeedsMoreBinaryData) => {}
                            Err(e) => panic!("decode_bin: {e}"),
                        }
                    }
                    panic!("attachments missing")
                }
                Err(e) => panic!("decode_str: {e}"),
            }
        }

        /// L1: L0 + `read_event` + `decode_value::<IgnoredAny>` (connect: `decode_default`).
        fn validate(&self) -> Packet {
            let mut packet = self.lazy();
            visit::<IgnoredAny>(&mut packet);
            packet
        }

        /// L2: L0 + `decode_value::<serde_json::Value>` (the first argument materialized,
        /// the rest validated).
        fn dom(&self) -> (Packet, Option<serde_json::Value>) {
            let mut packet = self.lazy();
            let value = visit::<serde_json::Value>(&mut packet);
            (packet, value)
        }
    }

    fn visit<T: for<'de> serde::Deserialize<'de>>(packet: &mut Packet) -> Option<T> {
        let parser = CommonParser;
        match &mut packet.inner {
            PacketData::Event(value, _) | PacketData::BinaryEvent(value, _) => {
                black_box(parser.read_event(value).expect("event name"));
                Some(parser.decode_value::<T>(value, true).expect("valid"))
            }
            PacketData::EventAck(value, _) | PacketData::BinaryAck(value, _) => {
                Some(parser.decode_value::<T>(value, false).expect("valid"))
            }
            PacketData::Connect(Some(value)) => {
                Some(parser.decode_default::<T>(Some(value)).expect("valid"))
            }
            _ => None,
        }
    }

    fn decode(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let input = Input::new(case);
        input.validate();
        g.throughput(bytes_of(case, true));
        g.bench_function(BenchmarkId::new("decode_l0", case.name), |b| {
            b.iter(|| black_box(&input).lazy());
        });
        g.bench_function(BenchmarkId::new("decode_l1", case.name), |b| {
            b.iter(|| black_box(&input).validate());
        });
        if !case.is_binary() {
            g.bench_function(BenchmarkId::new("decode_l2", case.name), |b| {
                b.iter(|| black_box(&input).dom());
            });
        }
    }

    /// From raw: the decoded packet (payload as a `Str`) re-serialized by `encode`.
    fn encode(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let packet = Input::new(case).lazy();
        match CommonParser.encode(packet.clone()) {
            Value::Str(text, _) => assert_eq!(text.as_str(), case.text, "round trip"),
            Value::Bytes(_) => panic!("text expected"),
        }
        g.throughput(bytes_of(case, false));
        g.bench_function(BenchmarkId::new("encode", case.name), |b| {
            b.iter(|| CommonParser.encode(black_box(&packet).clone()));
        });
    }

    pub(super) fn run(c: &mut Criterion) {
        let mut g = c.benchmark_group("socketioxide");
        for case in corpus::of_kind(Kind::Sio) {
            decode(&mut g, &case);
            encode(&mut g, &case);
        }
        g.finish();
    }
}

#[cfg(feature = "peers")]
fn peers(c: &mut Criterion) {
    peers::run(c);
}

#[cfg(not(feature = "peers"))]
fn peers(_: &mut Criterion) {}

fn main() {
    let mut criterion = common::config().configure_from_args();
    ours(&mut criterion);
    peers(&mut criterion);
    criterion.final_summary();
}
