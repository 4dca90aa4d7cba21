//! Engine.IO packet and polling-payload benchmarks: ids `engineio/<op>/<case>` for
//! sio-codec and, with the `peers` feature, `engineioxide/<op>/<case>` for engineioxide-core
//! in the same run. Engine.IO decoding is L0 everywhere (the message text is not parsed).

mod common;

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use sio_benches::corpus::{self, Case, Kind};
use sio_codec::{
    DecodeConfig, Encode, Utf8Bytes, WireFormat,
    engineio::{self, Packet, PacketBuf, v3},
};
use std::hint::black_box;

fn throughput(case: &Case) -> Throughput {
    Throughput::Bytes(case.text.len() as u64)
}

/// One text packet: borrowed decode, owned decode, encode into a reused buffer and into a
/// fresh one.
fn packet(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let text = case.text.as_str();
    let frame = Utf8Bytes::from(case.text.clone());
    let packet = Packet::decode_text(text).expect("corpus case decodes");
    PacketBuf::decode_text(&frame).expect("corpus case decodes");
    let mut buf = BytesMut::with_capacity(packet.encoded_len(WireFormat::Text));
    packet.encode(WireFormat::Text, &mut buf);
    assert_eq!(&buf[..], text.as_bytes(), "canonical round trip");
    g.throughput(throughput(case));
    g.bench_with_input(BenchmarkId::new("decode", case.name), text, |b, text| {
        b.iter(|| Packet::decode_text(black_box(text)));
    });
    g.bench_with_input(
        BenchmarkId::new("decode_buf", case.name),
        &frame,
        |b, frame| b.iter(|| PacketBuf::decode_text(black_box(frame))),
    );
    g.bench_function(BenchmarkId::new("encode", case.name), |b| {
        b.iter(|| {
            buf.clear();
            black_box(&packet).encode(WireFormat::Text, &mut buf);
            black_box(buf.len())
        });
    });
    g.bench_function(BenchmarkId::new("encode_new", case.name), |b| {
        b.iter(|| black_box(&packet).to_bytes(WireFormat::Text));
    });
}

/// Counts the packets of an iterator of results, failing on an error.
fn drain<T, E: core::fmt::Debug>(packets: impl Iterator<Item = Result<T, E>>) -> usize {
    packets.fold(0, |n, p| {
        black_box(p.expect("packet"));
        n + 1
    })
}

/// A polling body: decode (borrowed, and owned for v4), and encode the decoded packets.
fn payload(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    let config = DecodeConfig::new();
    let body = case.text.as_bytes();
    let v4 = case.kind == Kind::EioPayloadV4;
    let decode = |body| -> Vec<Packet<'_>> {
        if v4 {
            engineio::decode_payload(body, &config).collect::<Result<_, _>>()
        } else {
            v3::decode_payload(body, v3::PayloadFormat::Text, &config).collect::<Result<_, _>>()
        }
        .expect("corpus payload decodes")
    };
    let packets = decode(body);
    assert_eq!(packets.len(), 100);
    let encode = move |packets: &[Packet<'_>], buf: &mut BytesMut| {
        if v4 {
            engineio::encode_payload(packets, buf).expect("decoded records hold no separator");
        } else {
            v3::encode_payload(packets, v3::PayloadFormat::Text, buf);
        }
    };
    let mut buf = BytesMut::with_capacity(body.len());
    encode(&packets, &mut buf);
    assert_eq!(&buf[..], body, "canonical round trip");

    g.throughput(throughput(case));
    g.bench_with_input(
        BenchmarkId::new("payload_decode", case.name),
        body,
        |b, body| {
            if v4 {
                b.iter(|| drain(engineio::decode_payload(black_box(body), &config)));
            } else {
                b.iter(|| {
                    drain(v3::decode_payload(
                        black_box(body),
                        v3::PayloadFormat::Text,
                        &config,
                    ))
                });
            }
        },
    );
    if v4 {
        let shared = Bytes::from(case.text.clone().into_bytes());
        g.bench_with_input(
            BenchmarkId::new("payload_decode_buf", case.name),
            &shared,
            |b, shared| {
                b.iter(|| {
                    drain(engineio::decode_payload_buf(
                        black_box(shared).clone(),
                        &config,
                    ))
                });
            },
        );
    }
    g.bench_function(BenchmarkId::new("payload_encode", case.name), |b| {
        b.iter(|| {
            buf.clear();
            encode(black_box(&packets), &mut buf);
            black_box(buf.len())
        });
    });
}

fn ours(c: &mut Criterion) {
    let mut g = c.benchmark_group("engineio");
    for case in corpus::all() {
        match case.kind {
            Kind::Eio => packet(&mut g, &case),
            Kind::EioPayloadV4 | Kind::EioPayloadV3 => payload(&mut g, &case),
            Kind::Sio => {}
        }
    }
    g.finish();
}

#[cfg(feature = "peers")]
mod peers {
    //! engineioxide-core 0.2.3 (feature `v3`), public API only. Its payload decoder and
    //! encoder are async streams over an `http_body::Body`; with an in-memory `Full` body
    //! every poll is ready, so `now_or_never` drives them without an executor.

    use super::{BenchmarkGroup, BenchmarkId, Case, Criterion, WallTime, throughput};
    use bytes::Bytes;
    use engineioxide_core::{Packet, PacketBuf, ProtocolVersion, Str, payload};
    use futures_util::{FutureExt as _, StreamExt as _};
    use http_body_util::Full;
    use sio_benches::corpus::{self, Kind};
    use std::hint::black_box;

    const MAX_PAYLOAD: u64 = 1_000_000;

    fn packet(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let text = Str::from(case.text.clone());
        let packet = Packet::parse(ProtocolVersion::V4, text.clone()).expect("parses");
        assert_eq!(String::from(packet.clone()), case.text, "round trip");
        g.throughput(throughput(case));
        g.bench_function(BenchmarkId::new("decode", case.name), |b| {
            b.iter(|| Packet::parse(ProtocolVersion::V4, black_box(&text).clone()));
        });
        g.bench_function(BenchmarkId::new("encode", case.name), |b| {
            b.iter(|| String::from(black_box(&packet).clone()));
        });
    }

    /// Feeds every decoded packet of `body` to `sink`.
    fn decode(body: &Bytes, protocol: ProtocolVersion, mut sink: impl FnMut(Packet)) {
        let stream = payload::decoder(Full::new(body.clone()), None, protocol, MAX_PAYLOAD);
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream
            .next()
            .now_or_never()
            .expect("in-memory body is ready")
        {
            sink(item.expect("packet"));
        }
    }

    fn encode(packets: &[Packet], protocol: ProtocolVersion) -> Bytes {
        let rx = futures_util::stream::iter(
            packets
                .iter()
                .map(|p| std::iter::once(p.clone()).collect::<PacketBuf>()),
        );
        payload::encoder(rx, protocol, false, MAX_PAYLOAD)
            .now_or_never()
            .expect("ready")
            .data
    }

    fn payload(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
        let protocol = if case.kind == Kind::EioPayloadV4 {
            ProtocolVersion::V4
        } else {
            ProtocolVersion::V3
        };
        let body = Bytes::from(case.text.clone().into_bytes());
        let mut packets = Vec::new();
        decode(&body, protocol, |p| packets.push(p));
        assert_eq!(packets.len(), 100);
        assert_eq!(encode(&packets, protocol), body, "round trip");
        g.throughput(throughput(case));
        g.bench_function(BenchmarkId::new("payload_decode", case.name), |b| {
            b.iter(|| {
                let mut count = 0;
                decode(black_box(&body), protocol, |p| {
                    black_box(p);
                    count += 1;
                });
                count
            });
        });
        g.bench_function(BenchmarkId::new("payload_encode", case.name), |b| {
            b.iter(|| encode(black_box(&packets), protocol));
        });
    }

    pub(super) fn run(c: &mut Criterion) {
        let mut g = c.benchmark_group("engineioxide");
        for case in corpus::all() {
            match case.kind {
                Kind::Eio => packet(&mut g, &case),
                Kind::EioPayloadV4 | Kind::EioPayloadV3 => payload(&mut g, &case),
                Kind::Sio => {}
            }
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
