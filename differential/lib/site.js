"use strict";
// Where a divergence happens: the unit of input (a frame, or one record of a polling body)
// at which one side erred or the two sides' packets first differ, which side that was, and
// (when we erred) the byte offset our error names. The allow-list's predicates (known.js)
// look at that unit only, so a quirk in one frame never excuses a divergence in another.
//
// Units are cut with OUR (strict) framing, the grammar the codec decodes by:
//   - frames (Socket.IO frame sequences, Engine.IO frames): one unit each;
//   - Engine.IO v4 polling body: records separated by \x1e;
//   - Engine.IO v3 text body: `<len>:<packet>`, len in UTF-16 units; a `0:` record yields no
//     packet and is no unit (neither decoder counts it);
//   - Engine.IO v3 XHR2 body: marker 0/1, digit bytes 0-9, 0xff, the packet.
// Where the framing breaks, the rest of the body is one last unit marked `broken`.
// Our error's unit is what the driver reports (`error.frame`: the frame, or the record
// index; for `conformance decode` the driver finds it by decoding prefixes cut at the
// `cuts` the harness sends, see driver/src/main.rs). The reference's units are counted the
// same way by lib/reference.js (`error.frame`, and `at[i]`: the unit of packet i's text).

const { deepEqual } = require("./compare");

/** Byte offset (UTF-8) of every UTF-16 index of `s`, plus one for the end. */
function byteOffsets(s) {
  const out = new Array(s.length + 1);
  let b = 0;
  for (let i = 0; i < s.length; i++) {
    out[i] = b;
    const u = s.charCodeAt(i);
    if (u < 0x80) b += 1;
    else if (u < 0x800) b += 2;
    else if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out[++i] = b + 2; // inside a pair: no character boundary
      b += 4;
    } else b += 3;
  }
  out[s.length] = b;
  return out;
}

/** The UTF-16 index of byte offset `byte` in `s` (the first index at or after it). */
function charIndex(s, byte) {
  const offs = byteOffsets(s);
  const i = offs.findIndex((b) => b >= byte);
  return i < 0 ? s.length : i;
}

/** Engine.IO v4 polling body: records separated by \x1e. */
function eio4Records(body) {
  const offs = byteOffsets(body);
  const out = [];
  let start = 0;
  for (const piece of body.split("\u001e")) {
    const end = start + piece.length;
    out.push({ kind: "eio4-record", start: offs[start], dataStart: offs[start], end: offs[end], text: piece });
    start = end + 1;
  }
  return out;
}

/** Engine.IO v3 text body, our grammar (codec/src/engineio/v3.rs next_text, parse_length). */
function eio3TextRecords(body) {
  const offs = byteOffsets(body);
  const out = [];
  let pos = 0;
  while (pos < body.length) {
    const colon = body.indexOf(":", pos);
    const len = colon < 0 ? "" : body.slice(pos, colon);
    // plain digits, or what Number() reads as a non-negative integer (the codec's default
    // allow_js_number_coercion, like the reference's `length != Number(length)` check)
    const units = len !== "" && colon >= 0 && Number.isSafeInteger(Number(len)) && Number(len) >= 0 ? Number(len) : -1;
    const dataStart = colon + 1;
    const end = dataStart + units;
    // take_utf16: the count may not end inside a surrogate pair
    const splitsPair = end > dataStart && end < body.length && (body.charCodeAt(end - 1) & 0xfc00) === 0xd800 && (body.charCodeAt(end) & 0xfc00) === 0xdc00;
    if (units < 0 || end > body.length || splitsPair) {
      out.push({ kind: "eio3-record", start: offs[pos], dataStart: colon < 0 ? offs[body.length] : offs[dataStart], end: offs[body.length], text: colon < 0 ? "" : body.slice(dataStart), lengthText: len, units, broken: true, splitsPair });
      return out;
    }
    if (units > 0) out.push({ kind: "eio3-record", start: offs[pos], dataStart: offs[dataStart], end: offs[end], text: body.slice(dataStart, end), lengthText: len });
    pos = end;
  }
  return out;
}

/** Engine.IO v3 XHR2 body, our grammar (codec/src/engineio/v3.rs next_binary). */
function xhr2Records(body) {
  const out = [];
  let pos = 0;
  while (pos < body.length) {
    const marker = body[pos];
    const term = body.indexOf(0xff, pos + 1);
    const digits = term < 0 ? null : body.subarray(pos + 1, term);
    const ok = (marker === 0 || marker === 1) && digits && digits.length > 0 && digits.length <= 310 && digits.every((d) => d <= 9);
    const len = ok ? Number(Array.from(digits).join("")) : -1;
    const end = term + 1 + len;
    if (!ok || end > body.length) {
      out.push({ kind: "xhr2-record", start: pos, dataStart: term < 0 ? body.length : term + 1, end: body.length, marker, bytes: body.subarray(term < 0 ? body.length : term + 1), broken: true });
      return out;
    }
    const bytes = body.subarray(term + 1, end);
    out.push({ kind: "xhr2-record", start: pos, dataStart: term + 1, end, marker, bytes, text: marker === 0 ? bytes.toString("utf8") : undefined });
    pos = end;
  }
  return out;
}

const eioVersion = (c) => (/^(eio4|stack4)/.test(c.category) ? 4 : 3);

/** The units of a decode case's input, each `{index, kind, start, dataStart, end, text | bytes}`. */
function units(c) {
  if (c.input.frames) {
    const stackOrEio = c.category.startsWith("stack");
    return c.input.frames.map((f, index) => {
      const layer = stackOrEio ? "eio" : "sio";
      const u = typeof f === "string" ? { kind: `${layer}-text`, text: f } : { kind: `${layer}-binary`, bytes: f };
      return { index, start: 0, dataStart: 0, end: typeof f === "string" ? Buffer.byteLength(f) : f.length, ...u };
    });
  }
  if (c.input.frame !== undefined) {
    const f = c.input.frame;
    const u = typeof f === "string" ? { kind: "eio-text", text: f } : { kind: "eio-binary", bytes: f };
    return [{ index: 0, start: 0, dataStart: 0, end: typeof f === "string" ? Buffer.byteLength(f) : f.length, ...u }];
  }
  if (c.input.body !== undefined) {
    const b = c.input.body;
    const records = typeof b !== "string" ? xhr2Records(b) : eioVersion(c) === 4 ? eio4Records(b) : eio3TextRecords(b);
    return records.map((r, index) => ({ index, ...r }));
  }
  return [];
}

/** Where each record of a polling body ends (the driver's `cuts` for `conformance decode`). */
function cuts(c) {
  return units(c).map((u) => u.end);
}

/** The offset of our error, as the error names it (`at byte N` for `conformance decode`). */
function ourOffset(error) {
  if (!error) return null;
  if (typeof error.offset === "number") return error.offset;
  const m = /at byte (\d+)/.exec(String(error.detail || ""));
  return m ? Number(m[1]) : null;
}

/** Index of the first packet in which two packet lists differ (or the shorter length). */
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!deepEqual(a[i], b[i])) return i;
  return n;
}

/**
 * The site of divergence `d` of case `c`: `{direction, index, unit, offset, dataOffset,
 * packet}`. direction: "ours-error" (we refused where the reference went on), "js-error"
 * (the reference refused or crashed where we went on), "value" (both went on, a packet
 * differs), "encode", or "other" (driver failures, panics: never excused). index: the unit's
 * index; unit: that unit (null past the end); offset: our error's byte offset from the
 * unit's start; dataOffset: from the start of the unit's packet (after a record's length
 * prefix); packet: for "value", the index of the first differing packet; confined: for
 * "value", whether the packets differ at that unit only.
 */
function locate(c, d) {
  if (c.check === "encode") {
    const kind = c.input.sio !== undefined ? "sio-packet" : c.input.eio !== undefined ? "eio-packet" : "eio-payload";
    return { direction: ["encode-refused", "encode-driver-failure", "encode-bytes-differ"].includes(d.type) ? "encode" : "other", index: null, unit: { kind } };
  }
  if (!d.ours || !c.js) return { direction: "other", index: null, unit: null };
  const all = units(c);
  const js = c.js;
  const ours = d.ours;
  const jsAt = js.at || [];
  const end = all.length;
  const ourUnit = () => (ours.error && typeof ours.error.frame === "number" ? ours.error.frame : end);
  const jsUnit = () => (js.error && js.error.frame >= 0 ? js.error.frame : end);
  let direction;
  let index;
  let packet = null;
  const i = firstDifference(js.packets, ours.packets);
  const common = Math.min(js.packets.length, ours.packets.length);
  const valueAt = (k) => {
    packet = k;
    direction = "value";
    index = k < jsAt.length ? jsAt[k] : jsAt.length ? jsAt[jsAt.length - 1] + 1 : 0;
  };
  // A packet both sides delivered and that differs comes first, whatever happened later.
  if (i < common) valueAt(i);
  else if (d.type === "js-ok-ours-error" || d.type === "js-pending-ours-error") [direction, index] = ["ours-error", ourUnit()];
  else if (d.type === "js-error-ours-ok" || d.type === "js-error-ours-pending") [direction, index] = ["js-error", jsUnit()];
  else if (d.type === "error-at-another-frame") {
    if (ourUnit() < jsUnit()) [direction, index] = ["ours-error", ourUnit()];
    else [direction, index] = ["js-error", jsUnit()];
  } else if (d.type === "delivered-before-error-mismatch") {
    if (ours.packets.length < js.packets.length) [direction, index] = ["ours-error", ourUnit()];
    else [direction, index] = ["js-error", jsUnit()];
  } else if (d.type === "value-mismatch") valueAt(i);
  else return { direction: "other", index: null, unit: null };
  // A value site explains the divergence only if it is all of it: the same number of
  // packets, the differing ones all from that unit, and errors (if any) at the same unit.
  const confined =
    direction === "value" &&
    js.packets.length === ours.packets.length &&
    js.packets.every((p, k) => deepEqual(p, ours.packets[k]) || jsAt[k] === index) &&
    (!js.error || !ours.error || jsUnit() === ourUnit());
  const unit = all[index] || null;
  let offset = null;
  let dataOffset = null;
  if (direction === "ours-error" && unit) {
    const raw = ourOffset(ours.error);
    if (raw !== null) {
      // payload offsets are absolute in the body, frame offsets relative to the frame
      offset = c.input.body !== undefined ? raw - unit.start : raw;
      dataOffset = offset - (unit.dataStart - unit.start);
    }
  }
  return { direction, index, unit, offset, dataOffset, packet, confined };
}

module.exports = { byteOffsets, charIndex, units, cuts, locate, ourOffset, firstDifference, eio3TextRecords, eio4Records, xhr2Records };
