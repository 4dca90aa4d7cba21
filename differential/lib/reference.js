"use strict";
// The JavaScript reference parsers, wrapped so that every call returns a plain result:
// `{packets: [normalized…], error: null | {message, frame}, pending}`, the same shape the
// Rust driver answers with. Normalized values are JSON-able: binary as {"$bin": "<hex>"}.

const sio5 = require("socket.io-parser"); // 4.2.7: Socket.IO protocol v5
const sio4 = require("socket.io-parser-v3"); // 3.4.5: Socket.IO protocol v4
const eio4 = require("engine.io-parser"); // 5.2.3: Engine.IO v4
const eio3 = require("engine.io-parser-v2"); // 2.2.1: Engine.IO v3

const { isBinary } = require("./gen");

function hex(b) {
  return Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b.buffer ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b).toString("hex");
}

/** A decoded/encodable JS value as JSON-able data: binary → {"$bin"}, undefined marked. */
function normValue(v) {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v !== "object") {
    if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  }
  if (isBinary(v)) return { $bin: hex(v) };
  if (Array.isArray(v)) return v.map(normValue);
  const out = {};
  for (const k of Object.keys(v)) out[k] = normValue(v[k]);
  return out;
}

/**
 * The wire-format JSON our encoder takes for a JS value: what JSON.stringify would write,
 * with binary leaves as {"$bin": "<hex>"}. Returns the JSON text.
 */
function toWireJson(value) {
  return JSON.stringify(value, function (key, v) {
    const original = this[key];
    if (original !== null && typeof original === "object" && isBinary(original)) return { $bin: hex(original) };
    return v;
  });
}

/** A Socket.IO packet as the harness compares it. Binary types are folded into 2 / 3. */
function normSioPacket(p) {
  const out = { type: p.type === 5 ? 2 : p.type === 6 ? 3 : p.type, nsp: p.nsp };
  if (p.id !== undefined) out.id = Number.isNaN(p.id) ? "NaN" : p.id;
  if (p.data !== undefined) out.data = normValue(p.data);
  return out;
}

/** Does `Number(str.charAt(0))` name a packet type in parser 3.x? (else it yields ERROR) */
function v3TypeKnown(str) {
  return sio4.types[Number(str.charAt(0))] != null;
}

// ---------------------------------------------------------------------------------------
// Socket.IO

/** Feeds `frames` (strings and Buffers) to a fresh reference decoder. */
function sioDecode(version, frames) {
  const decoder = version === 5 ? new sio5.Decoder() : new sio4.Decoder();
  const packets = [];
  const at = [];
  let marks = [];
  let textFrame = -1;
  decoder.on("decoded", (p) => {
    packets.push(normSioPacket(p));
    at.push(textFrame);
  });
  let error = null;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (typeof f === "string") textFrame = i;
    if (version === 4 && typeof f === "string" && !v3TypeKnown(f) && !decoder.reconstructor) {
      marks.push("v3-unknown-type-error-packet");
    }
    try {
      decoder.add(f);
    } catch (e) {
      error = { message: e.message, frame: i };
      break;
    }
  }
  const pending = !error && !!decoder.reconstructor;
  return { packets, at, error, pending, marks };
}

/** The reference encoder's frames for an application packet: [text, ...attachments]. */
function sioEncode(version, packet) {
  if (version === 5) return new sio5.Encoder().encode(packet);
  let out;
  new sio4.Encoder().encode(packet, (frames) => (out = frames));
  return out;
}

// ---------------------------------------------------------------------------------------
// Engine.IO

const NO_DATA_TYPES = ["close", "upgrade", "noop"];

/**
 * An Engine.IO packet as compared. `message` without data (`4`) has data "" (our decoder's
 * Message::Text("")); the data after close / upgrade / noop is dropped (we never keep it,
 * the server never reads it; accepting it at all is the `allow_trailing_data` switch).
 */
function normEioPacket(p) {
  const type = p.type === undefined ? "(no type)" : p.type;
  const out = { type };
  if (NO_DATA_TYPES.includes(type)) return out;
  if (p.data !== undefined) out.data = isBinary(p.data) ? { $bin: hex(p.data) } : p.data;
  else if (type === "message") out.data = "";
  return out;
}

const isErrorPacket = (p) => p.type === "error" && p.data === "parser error";

function eioDecodePacket(version, frame) {
  const p = version === 4 ? eio4.decodePacket(frame, "nodebuffer") : eio3.decodePacket(frame, undefined, false);
  if (isErrorPacket(p)) return { packets: [], at: [], error: { message: "parser error", frame: 0 }, pending: false, marks: [] };
  return { packets: [normEioPacket(p)], at: [0], error: null, pending: false, marks: marksOf(p) };
}

const LONE_RAW = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function marksOf(p) {
  const marks = [];
  if (typeof p.data === "string" && LONE_RAW.test(p.data)) marks.push("lone-surrogate");
  if (p.type !== "message" && p.data !== undefined && isBinary(p.data)) marks.push("v3-binary-non-message");
  if (p.type === undefined) marks.push("v3-no-type");
  return marks;
}

/** `eio4` polling body (string). */
function eio4DecodePayload(body) {
  const packets = [];
  let error = null;
  const marks = [];
  const at = [];
  const decoded = eio4.decodePayload(body, "nodebuffer");
  decoded.forEach((p, i) => {
    if (isErrorPacket(p)) error = { message: "parser error", frame: i };
    else {
      packets.push(normEioPacket(p));
      at.push(i);
    }
  });
  return { packets, at, error, pending: false, marks };
}

/**
 * `eio3` polling body: a string (`len:` text) or a Buffer (XHR2). Records are counted the
 * way both decoders count them: every XHR2 record, every text record but `0:` (no packet).
 */
function eio3DecodePayload(body) {
  const packets = [];
  const at = [];
  let error = null;
  const marks = [];
  let i = 0;
  eio3.decodePayload(body, undefined, (p) => {
    if (error) return false;
    if (isErrorPacket(p)) {
      error = { message: "parser error", frame: i };
      return false;
    }
    marks.push(...marksOf(p));
    packets.push(normEioPacket(p));
    at.push(i);
    i++;
    return true;
  });
  return { packets, at, error, pending: false, marks };
}

function sync(fn) {
  let out;
  fn((v) => (out = v));
  return out;
}

function eioEncodePacket(version, packet, supportsBinary) {
  return version === 4
    ? sync((cb) => eio4.encodePacket(packet, supportsBinary, cb))
    : sync((cb) => eio3.encodePacket(packet, supportsBinary, false, cb));
}

function eio4EncodePayload(packets) {
  return sync((cb) => eio4.encodePayload(packets, cb));
}

function eio3EncodePayload(packets, binary) {
  return binary ? sync((cb) => eio3.encodePayloadAsBinary(packets, cb)) : sync((cb) => eio3.encodePayload(packets, false, cb));
}

// ---------------------------------------------------------------------------------------
// The whole stack: Engine.IO frames (or one polling body) carrying Socket.IO packets, as
// the reference server chains the two parsers (engine.io delivers each message's data to
// the socket.io decoder; anything thrown closes the connection).

function stackDecode(eioVersion, input) {
  const sioVersion = eioVersion === 4 ? 5 : 4;
  const decoder = sioVersion === 5 ? new sio5.Decoder() : new sio4.Decoder();
  const out = [];
  const at = [];
  const marks = [];
  let textUnit = -1;
  decoder.on("decoded", (p) => {
    out.push(normSioPacket(p));
    at.push(textUnit);
  });
  let error = null;
  const feed = (p, i) => {
    if (isErrorPacket(p)) {
      error = { message: "engine.io parser error", frame: i };
      return false;
    }
    marks.push(...marksOf(p));
    if (p.type !== "message") {
      out.push(normEioPacket(p));
      at.push(i);
      return true;
    }
    if (typeof p.data === "string") textUnit = i;
    if (sioVersion === 4 && typeof p.data === "string" && !v3TypeKnown(p.data) && !decoder.reconstructor) {
      marks.push("v3-unknown-type-error-packet");
    }
    try {
      decoder.add(p.data);
    } catch (e) {
      error = { message: e.message, frame: i };
      return false;
    }
    return true;
  };
  if (input.payload) {
    if (eioVersion === 4) {
      eio4.decodePayload(input.body, "nodebuffer").every((p, i) => feed(p, i));
    } else {
      let i = 0;
      eio3.decodePayload(input.body, undefined, (p) => (error ? false : feed(p, i++)));
    }
  } else {
    input.frames.every((f, i) =>
      feed(eioVersion === 4 ? eio4.decodePacket(f, "nodebuffer") : eio3.decodePacket(f, undefined, false), i)
    );
  }
  if (!error && decoder.reconstructor) error = { message: "incomplete binary packet", frame: -1 };
  return { packets: out, at, error, pending: false, marks };
}

module.exports = {
  sio5,
  sio4,
  eio4,
  eio3,
  hex,
  normValue,
  normSioPacket,
  normEioPacket,
  toWireJson,
  sioDecode,
  sioEncode,
  eioDecodePacket,
  eio4DecodePayload,
  eio3DecodePayload,
  eioEncodePacket,
  eio4EncodePayload,
  eio3EncodePayload,
  stackDecode,
};
