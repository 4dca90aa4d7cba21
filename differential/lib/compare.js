"use strict";
// Comparison of a reference result with the driver's answer, and the normalization of our
// side into the same shape as lib/reference.js produces.

const { normValue } = require("./reference");

/** JSON-value equality: numbers by value (so 0 and -0 are equal), objects by key set. */
function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

/** One packet line of ours: Socket.IO (numeric type) or Engine.IO (type name). */
function normOurPacket(p) {
  if (typeof p.type === "number") {
    const out = { type: p.type === 5 ? 2 : p.type === 6 ? 3 : p.type, nsp: p.nsp };
    if (p.id !== undefined) out.id = p.id;
    if (p.data !== undefined) out.data = normValue(p.data);
    return out;
  }
  const out = { type: p.type };
  if (p.data !== undefined) out.data = p.data;
  return out;
}

/** Our ErrorKind from a `conformance decode` message (`error: <Display> at byte N`). */
const KIND_BY_MESSAGE = [
  [/^empty packet/, "Empty"],
  [/^unknown packet type/, "UnknownPacketType"],
  [/^invalid UTF-8/, "InvalidUtf8"],
  [/^invalid base64/, "InvalidBase64"],
  [/^invalid handshake/, "InvalidHandshake"],
  [/^unexpected data after/, "UnexpectedData"],
  [/^invalid length prefix/, "InvalidLength"],
  [/^payload shorter than/, "TruncatedPayload"],
  [/^invalid namespace/, "InvalidNamespace"],
  [/^invalid attachment count/, "InvalidAttachmentCount"],
  [/^more than \d+ attachments/, "TooManyAttachments"],
  [/^invalid ack id/, "InvalidAckId"],
  [/^ack id above/, "AckIdOverflow"],
  [/^invalid JSON/, "InvalidJson"],
  [/^invalid payload/, "InvalidPayload"],
  [/^payload larger/, "PayloadTooLarge"],
  [/^more than \d+ packets/, "TooManyPackets"],
  [/^text packet while/, "UnexpectedText"],
  [/^binary attachment without/, "UnexpectedBinary"],
  [/^placeholder refers/, "InvalidPlaceholder"],
  [/^incomplete binary packet/, "Incomplete"],
];

function ourKind(error) {
  if (!error) return null;
  if (error.kind !== "Cli") return error.kind;
  const msg = String(error.detail).replace(/^error: /, "");
  const hit = KIND_BY_MESSAGE.find(([re]) => re.test(msg));
  return hit ? hit[1] : "Cli";
}

function state(result) {
  if (result.error) return "error";
  if (result.pending) return "pending";
  return "ok";
}

/**
 * Compares a reference result with a driver reply. `prefix`: the packets delivered before
 * an error are compared too (polling payloads and frame streams deliver them). Returns null
 * when they agree, else a divergence `{type, js, ours}`.
 */
function compareDecode(js, reply, { prefix, frameIndex = false }) {
  if (reply.crash) return { type: "ours-panicked", jsState: state(js), oursState: "panic", detail: reply.crash };
  if (reply.input_error) return { type: "driver-input-error", jsState: state(js), oursState: "input-error", detail: reply.input_error };
  if (reply.lines) {
    // `conformance decode` output: one JSON object per line
    const packets = [];
    for (const line of reply.lines) {
      try {
        packets.push(JSON.parse(line));
      } catch (e) {
        return { type: "cli-output-not-one-json-object-per-line", jsState: state(js), oursState: "broken-output", detail: line };
      }
    }
    reply = { ...reply, packets };
  }
  const ours = {
    packets: reply.packets.map(normOurPacket),
    error: reply.error,
    pending: reply.pending,
  };
  const jsState = state(js);
  const oursState = state(ours);
  const base = { jsState, oursState, ourKind: ourKind(ours.error), jsError: js.error && js.error.message, ours };
  if (jsState !== oursState) return { type: `js-${jsState}-ours-${oursState}`, ...base };
  // A stream of frames fails at the same frame on both sides (a server closes the
  // connection at that point). Payload records are compared through what they delivered.
  if (frameIndex && jsState === "error" && js.error.frame !== ours.error.frame && ours.error.frame !== undefined) {
    return { type: "error-at-another-frame", ...base };
  }
  const comparePackets = jsState === "ok" || prefix;
  if (comparePackets && !deepEqual(js.packets, ours.packets)) {
    const diagnosis = js.packets.length === ours.packets.length ? diagnoseValues(js.packets, ours.packets) : null;
    return { type: jsState === "ok" ? "value-mismatch" : "delivered-before-error-mismatch", diagnosis, ...base };
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Diagnosis: a short root-cause hint attached to value / byte mismatches, so that thousands
// of divergences with one cause show up as one group.

/** Distance in units in the last place between two doubles (Infinity if signs differ). */
function ulps(a, b) {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.sign(a) !== Math.sign(b)) return Infinity;
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, Math.abs(a));
  view.setFloat64(8, Math.abs(b));
  return Math.abs(Number(view.getBigUint64(0) - view.getBigUint64(8)));
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Encoded texts that differ only in number spellings: "numbers differ (max N ulp)". */
function diagnoseText(a, b) {
  if (typeof a !== "string" || typeof b !== "string") return null;
  if (a.replace(NUMBER, "#") !== b.replace(NUMBER, "#")) return null;
  const na = a.match(NUMBER) || [];
  const nb = b.match(NUMBER) || [];
  let max = 0;
  na.forEach((x, i) => (max = Math.max(max, ulps(Number(x), Number(nb[i])))));
  return `only number spellings differ (max ${max} ulp)`;
}

/** The leaf differences between two normalized values. */
function leafDiffs(a, b, out = []) {
  if (deepEqual(a, b)) return out;
  const isObj = (v) => v !== null && typeof v === "object";
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b) && !("$bin" in a) && !("$bin" in b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) leafDiffs(a[k], b[k], out);
    return out;
  }
  out.push([a, b]);
  return out;
}

function diagnoseValues(js, ours) {
  const diffs = leafDiffs(js, ours);
  if (!diffs.length) return null;
  if (diffs.every(([a, b]) => typeof a === "number" && typeof b === "number")) {
    return `only numbers differ (max ${Math.max(...diffs.map(([a, b]) => ulps(a, b)))} ulp)`;
  }
  if (diffs.every(([a, b]) => a && b && typeof a === "object" && "$bin" in a && "_placeholder" in b)) {
    return "a placeholder the decoder accepted is left unresolved in the output";
  }
  return null;
}

/** Encoded frames: identical text and identical attachment bytes. */
function compareFrames(expected, reply) {
  if (reply.crash) return { type: "encode-panicked", detail: reply.crash };
  if (reply.input_error) return { type: "encode-driver-failure", detail: reply.input_error };
  if (reply.error) return { type: "encode-refused", detail: reply.error };
  const got = reply.frames !== undefined ? reply.frames : reply.body !== undefined ? reply.body : [reply.frame, reply.text];
  if (!deepEqual(expected, got)) {
    const first = (v) => (Array.isArray(v) ? v[0] : v);
    return { type: "encode-bytes-differ", diagnosis: diagnoseText(first(expected), first(got)) };
  }
  return null;
}

module.exports = { deepEqual, normOurPacket, ourKind, state, compareDecode, compareFrames };
