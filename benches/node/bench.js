// Node reference parsers on the shared corpus (../corpus/manifest.json, written by
// `cargo run -p sio-benches --bin gen-corpus`). Prints one JSON object: benchmark id ->
// median nanoseconds per operation. Ids are `node/<op>/<case>`:
//
//   sio_decode    socket.io-parser 4.2.7 Decoder.add (text, then each attachment Buffer); L2
//                 (JSON.parse builds the whole value). One long-lived Decoder per case.
//   sio_encode    Encoder.encode of the decoded packet object (JSON.stringify: typed encode).
//   eio_decode    engine.io-parser 5.2.3 decodePacket        eio_encode   encodePacket
//   eio3_decode   engine.io-parser 2.2.1 decodePacket (v3)
//   payload_decode / payload_encode   decodePayload / encodePayload (5.2.3 for v4, 2.2.1 for v3)
//
// Timing mirrors the criterion settings: 0.3 s warm-up, then 30 samples over ~1.2 s, each a
// batch of iterations sized during warm-up; the reported value is the median sample.
//
// Usage: node bench.js [substring-filter] > results.json

"use strict";

const fs = require("fs");
const path = require("path");
const { Decoder, Encoder, PacketType } = require("socket.io-parser");
const eio = require("engine.io-parser");
const eio3 = require("engine.io-parser-v3");

const WARM_UP_NS = 300e6;
const MEASURE_NS = 1200e6;
const SAMPLES = 30;

const filter = process.argv[2] || "";
const manifest = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "corpus", "manifest.json"), "utf8"),
);

let sink; // keeps results observable
const now = () => process.hrtime.bigint();

function bench(id, fn) {
  if (!id.includes(filter)) return;
  // Warm-up: double the batch until one batch takes >= 1 ms, keep running for 0.3 s.
  let batch = 1;
  let perIter = 0;
  const warmStart = now();
  for (;;) {
    const t0 = now();
    for (let i = 0; i < batch; i++) sink = fn();
    const elapsed = Number(now() - t0);
    perIter = elapsed / batch;
    if (elapsed < 1e6) batch *= 2;
    if (Number(now() - warmStart) >= WARM_UP_NS) break;
  }
  const iters = Math.max(1, Math.round(MEASURE_NS / SAMPLES / Math.max(perIter, 0.1)));
  const samples = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = now();
    for (let i = 0; i < iters; i++) sink = fn();
    samples.push(Number(now() - t0) / iters);
  }
  samples.sort((a, b) => a - b);
  const median = (samples[(SAMPLES - 1) >> 1] + samples[SAMPLES >> 1]) / 2;
  results[id] = Math.round(median * 100) / 100;
  process.stderr.write(`${id}: ${results[id]} ns\n`);
}

const results = {};

for (const c of manifest.cases) {
  const text = c.text;
  const attachments = c.attachments.map((b64) => Buffer.from(b64, "base64"));
  switch (c.kind) {
    case "sio": {
      const decoder = new Decoder();
      let last;
      decoder.on("decoded", (packet) => {
        last = packet;
      });
      const decode = () => {
        decoder.add(text);
        for (const a of attachments) decoder.add(a);
        return last;
      };
      const decoded = decode();
      if (!decoded) throw new Error(`${c.name}: not decoded`);
      bench(`node/sio_decode/${c.name}`, decode);

      // What an emit hands the encoder: EVENT/ACK with Buffers inside (binary detected).
      const type =
        decoded.type === PacketType.BINARY_EVENT
          ? PacketType.EVENT
          : decoded.type === PacketType.BINARY_ACK
            ? PacketType.ACK
            : decoded.type;
      const packet = { type, nsp: decoded.nsp, id: decoded.id, data: decoded.data };
      const encoder = new Encoder();
      const encoded = encoder.encode(packet);
      if (encoded.length !== 1 + attachments.length) throw new Error(`${c.name}: encode`);
      bench(`node/sio_encode/${c.name}`, () => encoder.encode(packet));
      break;
    }
    case "eio": {
      const packet = eio.decodePacket(text);
      let out;
      eio.encodePacket(packet, false, (s) => {
        out = s;
      });
      if (out !== text) throw new Error(`${c.name}: eio round trip`);
      bench(`node/eio_decode/${c.name}`, () => eio.decodePacket(text));
      bench(`node/eio_encode/${c.name}`, () => {
        let r;
        eio.encodePacket(packet, false, (s) => {
          r = s;
        });
        return r;
      });
      if (!text.startsWith("b")) {
        // v3 writes binary as `b4<base64>`; the v4 `b<base64>` record has no v3 meaning.
        bench(`node/eio3_decode/${c.name}`, () => eio3.decodePacket(text));
      }
      break;
    }
    case "eio_payload_v4": {
      const packets = eio.decodePayload(text);
      if (packets.length !== 100 || packets.some((p) => p.type === "error")) {
        throw new Error(`${c.name}: v4 payload`);
      }
      let out;
      eio.encodePayload(packets, (s) => {
        out = s;
      });
      if (out !== text) throw new Error(`${c.name}: v4 payload round trip`);
      bench(`node/payload_decode/${c.name}`, () => eio.decodePayload(text));
      bench(`node/payload_encode/${c.name}`, () => {
        let r;
        eio.encodePayload(packets, (s) => {
          r = s;
        });
        return r;
      });
      break;
    }
    case "eio_payload_v3": {
      const decodeV3 = () => {
        const packets = [];
        eio3.decodePayload(text, (packet) => {
          packets.push(packet);
        });
        return packets;
      };
      const packets = decodeV3();
      if (packets.length !== 100 || packets.some((p) => p.type === "error")) {
        throw new Error(`${c.name}: v3 payload`);
      }
      let out;
      eio3.encodePayload(packets, false, (s) => {
        out = s;
      });
      if (out !== text) throw new Error(`${c.name}: v3 payload round trip`);
      bench(`node/payload_decode/${c.name}`, decodeV3);
      bench(`node/payload_encode/${c.name}`, () => {
        let r;
        eio3.encodePayload(packets, false, (s) => {
          r = s;
        });
        return r;
      });
      break;
    }
    default:
      throw new Error(`unknown kind ${c.kind}`);
  }
}

function version(name) {
  const file = path.join(__dirname, "node_modules", name, "package.json");
  return JSON.parse(fs.readFileSync(file, "utf8")).version;
}

process.stdout.write(
  JSON.stringify(
    {
      node: process.version,
      "socket.io-parser": version("socket.io-parser"),
      "engine.io-parser": version("engine.io-parser"),
      "engine.io-parser-v3": version("engine.io-parser-v3"),
      median_ns: results,
    },
    null,
    2,
  ) + "\n",
);
if (sink === null) process.stderr.write("(sink)\n");
