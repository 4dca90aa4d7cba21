//! Heap allocations per operation, counted by a `#[global_allocator]` (thread-local counters,
//! so parallel tests do not disturb each other). Zero-copy is asserted here, independent of
//! timing noise. What the codec does today (sio-codec at the time of writing):
//!
//! - decoding a text Socket.IO packet, borrowed or as `PacketBuf`: 0 allocations (the
//!   validating scanner keeps the nesting of the first 64 levels in a register; only deeper
//!   JSON spills, one byte per level); the input is never copied;
//! - reassembling a binary packet: 1 allocation, the `Vec<Bytes>` of attachments (exactly
//!   the attachment count); each attachment `Bytes` is kept, not copied;
//! - Engine.IO text packets: 0; a base64 (`b…`) packet: 1 (the decoded bytes), and 2 for the
//!   owned `PacketBuf` (`Bytes::from(Vec)` with spare capacity allocates a shared header);
//! - encoding into a reused buffer: 0.
//!
//! Counts are taken in the steady state: each operation runs once before it is measured.
//! (The very first clone of a `Bytes` built from a `Vec`/`String` allocates its shared header
//! once; that is the `bytes` crate, reported as "first call" below.)
//!
//! `cargo test -p sio-benches --test allocations -- --nocapture --test-threads 1` prints the
//! tables.
#![allow(unsafe_code)] // the counting allocator

use bytes::{Bytes, BytesMut};
use sio_benches::corpus::{self, Kind};
use sio_codec::{
    DecodeConfig, Encode, Utf8Bytes, WireFormat, engineio,
    socketio::{self, Progress, Reassembler},
};
use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    hint::black_box,
};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static REALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>, by: u64) {
    // `try_with`: the allocator may run while the thread's locals are being torn down.
    let _ = counter.try_with(|c| c.set(c.get() + by));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are const-initialised thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, layout.size() as u64);
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS, 1);
        bump(&BYTES, layout.size() as u64);
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&REALLOCS, 1);
        bump(&BYTES, new_size.saturating_sub(layout.size()) as u64);
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations, reallocations and bytes requested by one call of `f`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Count {
    allocs: u64,
    reallocs: u64,
    bytes: u64,
}

fn read() -> Count {
    Count {
        allocs: ALLOCS.with(Cell::get),
        reallocs: REALLOCS.with(Cell::get),
        bytes: BYTES.with(Cell::get),
    }
}

fn count<T>(mut f: impl FnMut() -> T) -> Count {
    let before = read();
    // Dropping the output is part of the operation (it frees, never allocates).
    black_box(f());
    let after = read();
    Count {
        allocs: after.allocs - before.allocs,
        reallocs: after.reallocs - before.reallocs,
        bytes: after.bytes - before.bytes,
    }
}

/// (first call, steady state) of `f`.
fn first_and_steady<T>(mut f: impl FnMut() -> T) -> (Count, Count) {
    let first = count(&mut f);
    let _ = count(&mut f);
    (first, count(&mut f))
}

fn row(op: &str, case: &str, (first, steady): (Count, Count)) {
    println!(
        "| {op} | {case} | {} | {} | {} | {} |",
        first.allocs, steady.allocs, steady.reallocs, steady.bytes
    );
}

fn header(title: &str) {
    println!(
        "\n{title}\n\n| op | case | allocs (first call) | allocs/op | reallocs/op | bytes/op |"
    );
    println!("|---|---|---|---|---|---|");
}

const ZERO: Count = Count {
    allocs: 0,
    reallocs: 0,
    bytes: 0,
};

#[test]
fn socketio_text_decoding_allocates_nothing() {
    header("Socket.IO text decode (ours)");
    for case in corpus::of_kind(Kind::Sio) {
        let text = case.text.as_str();
        let borrowed = first_and_steady(|| socketio::Packet::decode_text(black_box(text)));
        row("socketio/decode", case.name, borrowed);
        assert_eq!(borrowed.1, ZERO, "borrowed decode of {}", case.name);
        assert_eq!(borrowed.0, borrowed.1, "nothing is cached by a first call");

        // A frame as a WebSocket library hands it over: `Bytes` from a `Vec`.
        let frame = Utf8Bytes::try_from(Bytes::from(case.text.clone().into_bytes())).unwrap();
        let owned = first_and_steady(|| socketio::PacketBuf::decode_text(black_box(&frame)));
        row("socketio/decode_buf", case.name, owned);
        assert_eq!(owned.1, ZERO, "PacketBuf decode of {}", case.name);
        assert!(
            owned.0.allocs <= owned.1.allocs + 1,
            "the first clone promotes the Bytes once"
        );

        if !case.is_binary() {
            let l2 = first_and_steady(|| {
                socketio::Packet::decode_text(black_box(text))
                    .unwrap()
                    .data()
                    .map(|d| d.deserialize::<serde_json::Value>().unwrap())
            });
            row("socketio/decode_l2 (Value, informative)", case.name, l2);
        }
    }
}

#[test]
fn reassembly_allocates_one_vec_per_binary_packet() {
    header("Socket.IO binary reassembly (ours)");
    for case in corpus::of_kind(Kind::Sio)
        .into_iter()
        .filter(|c| c.is_binary())
    {
        let header = Utf8Bytes::from(case.text.clone());
        let attachments: Vec<Bytes> = case.attachments.iter().cloned().map(Bytes::from).collect();
        let mut reassembler = Reassembler::default();
        let counts = first_and_steady(|| {
            let mut progress = reassembler.push_text(&header).unwrap();
            for attachment in &attachments {
                progress = reassembler.push_binary(attachment.clone()).unwrap();
            }
            let Progress::Complete(assembled) = progress else {
                panic!("incomplete")
            };
            // The attachments are the very buffers that were pushed.
            for (kept, pushed) in assembled.attachments().iter().zip(&attachments) {
                assert_eq!(kept.as_ptr(), pushed.as_ptr());
            }
            assembled
        });
        row("socketio/reassemble", case.name, counts);
        // One Vec<Bytes> of exactly the attachment count, nothing else.
        let vec_bytes = (attachments.len() * size_of::<Bytes>()) as u64;
        let expected = Count {
            allocs: 1,
            reallocs: 0,
            bytes: vec_bytes,
        };
        assert_eq!(counts.1, expected, "{}", case.name);
    }
}

#[test]
fn encoding_into_a_reused_buffer_allocates_nothing() {
    header("Encode (ours)");
    for case in corpus::of_kind(Kind::Sio) {
        let packet = socketio::Packet::decode_text(&case.text).unwrap();
        let mut buf = BytesMut::with_capacity(case.text.len());
        let counts = first_and_steady(|| {
            buf.clear();
            packet.encode(&mut buf);
        });
        row("socketio/encode", case.name, counts);
        assert_eq!(counts.1, ZERO, "{}", case.name);
        let fresh = first_and_steady(|| packet.to_text());
        row("socketio/to_text (fresh buffer)", case.name, fresh);
    }
    for case in corpus::of_kind(Kind::Eio) {
        let packet = engineio::Packet::decode_text(&case.text).unwrap();
        let mut buf = BytesMut::with_capacity(case.text.len());
        let counts = first_and_steady(|| {
            buf.clear();
            packet.encode(WireFormat::Text, &mut buf);
        });
        row("engineio/encode", case.name, counts);
        assert_eq!(counts.1, ZERO, "{}", case.name);
    }
}

#[test]
fn engineio_decoding_allocates_only_for_base64() {
    header("Engine.IO decode (ours)");
    let config = DecodeConfig::new();
    for case in corpus::all() {
        let text = case.text.as_str();
        let base64_packets = match case.kind {
            Kind::Eio => {
                let borrowed = first_and_steady(|| engineio::Packet::decode_text(black_box(text)));
                row("engineio/decode", case.name, borrowed);
                let frame = Utf8Bytes::from(case.text.clone());
                let owned = first_and_steady(|| engineio::PacketBuf::decode_text(&frame));
                row("engineio/decode_buf", case.name, owned);
                let base64 = u64::from(text.starts_with('b'));
                assert_eq!(borrowed.1.allocs, base64, "{}", case.name);
                // Owned base64: the decoded Vec, plus the shared header `Bytes::from(Vec)`
                // allocates when the Vec has spare capacity.
                assert_eq!(owned.1.allocs, 2 * base64, "{}", case.name);
                continue;
            }
            Kind::EioPayloadV4 | Kind::EioPayloadV3 => text
                .split(['\u{1e}', ':'])
                .filter(|p| p.starts_with('b'))
                .count() as u64,
            Kind::Sio => continue,
        };
        let body = text.as_bytes();
        let counts = if case.kind == Kind::EioPayloadV4 {
            let shared = Bytes::from(case.text.clone().into_bytes());
            let owned = first_and_steady(|| {
                engineio::decode_payload_buf(shared.clone(), &config)
                    .fold(0, |n, p| n + usize::from(p.is_ok()))
            });
            row("engineio/payload_decode_buf", case.name, owned);
            first_and_steady(|| {
                engineio::decode_payload(black_box(body), &config)
                    .fold(0, |n, p| n + usize::from(p.is_ok()))
            })
        } else {
            first_and_steady(|| {
                engineio::v3::decode_payload(
                    black_box(body),
                    engineio::v3::PayloadFormat::Text,
                    &config,
                )
                .fold(0, |n, p| n + usize::from(p.is_ok()))
            })
        };
        row("engineio/payload_decode", case.name, counts);
        assert_eq!(counts.1.allocs, base64_packets, "{}", case.name);
        assert_eq!(base64_packets, 4);
    }
}

/// The peers' counts for comparison (informative, no assertion).
#[cfg(feature = "peers")]
#[test]
fn peers_allocation_counts() {
    use engineioxide_core::{Packet as EPacket, ProtocolVersion};
    use serde::de::IgnoredAny;
    use socketioxide_core::{
        Str,
        packet::PacketData,
        parser::{Parse, ParseConfig, ParseError, ParserState},
    };
    use socketioxide_parser_common::CommonParser;

    header("socketioxide / engineioxide decode (peers, informative)");
    let config = ParseConfig::default();
    let state = ParserState::default();
    for case in corpus::of_kind(Kind::Sio) {
        let text = Str::from(case.text.clone());
        let attachments: Vec<Bytes> = case.attachments.iter().cloned().map(Bytes::from).collect();
        let lazy = || match CommonParser.decode_str(&config, &state, text.clone()) {
            Ok(packet) => packet,
            Err(ParseError::NeedsMoreBinaryData) => attachments
                .iter()
                .find_map(|a| CommonParser.decode_bin(&config, &state, a.clone()).ok())
                .unwrap(),
            Err(e) => panic!("{e}"),
        };
        row("socketioxide/decode_l0", case.name, first_and_steady(lazy));
        let validate = || {
            let mut packet = lazy();
            match &mut packet.inner {
                PacketData::Event(v, _) | PacketData::BinaryEvent(v, _) => {
                    black_box(CommonParser.read_event(v).unwrap());
                    let _: IgnoredAny = CommonParser.decode_value(v, true).unwrap();
                }
                PacketData::EventAck(v, _) | PacketData::BinaryAck(v, _) => {
                    let _: IgnoredAny = CommonParser.decode_value(v, false).unwrap();
                }
                PacketData::Connect(Some(v)) => {
                    let _: IgnoredAny = CommonParser.decode_default(Some(v)).unwrap();
                }
                _ => {}
            }
            packet
        };
        row(
            "socketioxide/decode_l1",
            case.name,
            first_and_steady(validate),
        );
    }
    for case in corpus::of_kind(Kind::Eio) {
        let text = Str::from(case.text.clone());
        let counts = first_and_steady(|| EPacket::parse(ProtocolVersion::V4, text.clone()));
        row("engineioxide/decode", case.name, counts);
    }
}
