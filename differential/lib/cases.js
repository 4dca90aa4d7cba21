"use strict";
// The cases of the harness: one comparison each. `js` is the reference result (decode) or the
// reference encoder's output (encode); `request` is what the Rust driver gets. harness.js
// generates them; test/known.test.js builds its examples with the same functions.

const ref = require("./reference");
const site = require("./site");

const toBuf = (b) => (Buffer.isBuffer(b) ? b : b instanceof ArrayBuffer ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const wireFrame = (f) => (typeof f === "string" ? f : { bin: toBuf(f).toString("hex") });
const showFrame = (f) => (typeof f === "string" ? JSON.stringify(f) : `<${toBuf(f).toString("hex")}>`);

function sioDecodeCase(category, v, frames) {
  const bufs = frames.map((f) => (typeof f === "string" ? f : toBuf(f)));
  return {
    category,
    check: "decode",
    input: { frames: bufs },
    js: ref.sioDecode(v, bufs),
    request: { op: "sio_decode", v, frames: bufs.map(wireFrame) },
    prefix: true,
    frameIndex: true,
  };
}

function sioEncodeCase(category, v, packet, wire, jsFrames) {
  return {
    category,
    check: "encode",
    input: { packet: wire, sio: v },
    js: jsFrames.map(wireFrame),
    request: { op: "sio_encode", v, packet: wire },
  };
}

function eioDecodeCase(category, v, frame) {
  const f = typeof frame === "string" ? frame : toBuf(frame);
  return {
    category,
    check: "decode",
    input: { frame: f },
    js: ref.eioDecodePacket(v, f),
    request: { op: "eio_decode", v, frame: wireFrame(f) },
    prefix: false,
  };
}

function eioPayloadDecodeCase(category, v, body) {
  const b = typeof body === "string" ? body : toBuf(body);
  return {
    category,
    check: "decode",
    input: { body: b },
    js: v === 4 ? ref.eio4DecodePayload(b) : ref.eio3DecodePayload(b),
    request: { op: "eio_payload_decode", v, body: wireFrame(b) },
    // XHR2: the reference delivers nothing after a framing error (see README)
    prefix: typeof b === "string",
  };
}

const eioWirePacket = (p) => (p.data === undefined ? { type: p.type } : { type: p.type, data: typeof p.data === "string" ? p.data : { $bin: toBuf(p.data).toString("hex") } });

function eioEncodeCase(category, v, packet) {
  const ws = ref.eioEncodePacket(v, packet, true);
  const text = ref.eioEncodePacket(v, packet, false);
  return {
    category,
    check: "encode",
    input: { packet: eioWirePacket(packet), eio: v },
    js: [wireFrame(ws), wireFrame(text)],
    request: { op: "eio_encode", v, packet: eioWirePacket(packet) },
    frames: [ws, text],
  };
}

function eioPayloadEncodeCase(category, v, packets, binary, body) {
  return {
    category,
    check: "encode",
    input: { packets: packets.map(eioWirePacket), eio: v, format: binary ? "binary" : "text" },
    js: wireFrame(body),
    request: { op: "eio_payload_encode", v, format: binary ? "binary" : "text", packets: packets.map(eioWirePacket) },
  };
}

function stackCase(category, v, input) {
  const norm = input.payload
    ? { payload: true, body: typeof input.body === "string" ? input.body : toBuf(input.body) }
    : { payload: false, frames: input.frames.map((f) => (typeof f === "string" ? f : toBuf(f))) };
  const c = {
    category,
    check: "decode",
    input: norm.payload ? { body: norm.body } : { frames: norm.frames },
    js: ref.stackDecode(v, norm),
    request: norm.payload ? { op: "cli_decode", v, payload: true, frames: [wireFrame(norm.body)] } : { op: "cli_decode", v, frames: norm.frames.map(wireFrame) },
    prefix: norm.payload ? typeof norm.body === "string" : true,
  };
  // the record ends, for the driver to find the record our error is in (lib/site.js)
  if (norm.payload) c.request.cuts = site.cuts(c);
  return c;
}

module.exports = { toBuf, wireFrame, showFrame, sioDecodeCase, sioEncodeCase, eioDecodeCase, eioPayloadDecodeCase, eioWirePacket, eioEncodeCase, eioPayloadEncodeCase, stackCase };
