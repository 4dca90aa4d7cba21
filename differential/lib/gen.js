"use strict";
// Generators of VALID inputs: JSON values, namespaces, ack ids, Socket.IO packets (as the
// JavaScript objects an application hands to the reference encoder) and Engine.IO packets.

const RESERVED_EVENTS = [
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
];

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** One code point (as a string) from a weighted mix of character classes. */
function genChar(rng, opts = {}) {
  for (;;) {
    const c = rng.weighted([
      [40, () => rng.pick("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")],
      [12, () => rng.pick(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")],
      [8, () => String.fromCharCode(rng.pick([rng.int(0x20), 0x7f, 0x1e, 0x0a, 0x0d, 0x09, 0x08, 0x0c, 0x00]))],
      [5, () => rng.pick(["\u2028", "\u2029", "\ufeff", "\u00a0", "\ufffd", "\uffff", "\ufffe", "\u0085", "\u200b", "\u3000"])],
      [12, () => {
        // BMP outside the surrogate range
        const cp = rng.range(0x80, 0xffff - 0x800);
        return String.fromCharCode(cp >= 0xd800 ? cp + 0x800 : cp);
      }],
      [6, () => rng.pick(["é", "ö", "€", "房", "间", "ß", "Ω", "ж", "ע", "ب"])],
      [10, () => String.fromCodePoint(rng.chance(0.5) ? rng.range(0x1f300, 0x1faff) : rng.range(0x10000, 0x10ffff))],
      [opts.loneSurrogates ? 0.4 : 0, () => String.fromCharCode(rng.range(0xd800, 0xdfff))],
    ]);
    if (opts.exclude && opts.exclude.includes(c)) continue;
    return c;
  }
}

function genString(rng, opts = {}) {
  const len = rng.weighted([
    [30, () => rng.range(0, 3)],
    [50, () => rng.range(4, 12)],
    [15, () => rng.range(13, 40)],
    [5, () => rng.range(41, 200)],
  ]);
  let s = "";
  for (let i = 0; i < len; i++) s += genChar(rng, opts);
  return s;
}

const SPECIAL_NUMBERS = [
  0, -0, 1, -1, 1.5, 0.1, 0.2, 0.3, 1e21, 1e20, 1e-7, 1e-6, 123e-20, 5e-324, -5e-324,
  Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, MAX_SAFE, -MAX_SAFE, MAX_SAFE + 1,
  MAX_SAFE + 2, 2 ** 64, 2 ** 63, 18446744073709552000, 1.7976931348623157e308, 4.35, 0.000001,
  1e300, 123456789012345680000, 9.999999999999999e20, 1e-323, 2.2250738585072014e-308,
];

function genNumber(rng, opts = {}) {
  return rng.weighted([
    [30, () => rng.range(-100, 100)],
    [15, () => rng.range(-(2 ** 31), 2 ** 31)],
    [10, () => rng.int(MAX_SAFE) * (rng.chance(0.5) ? 1 : -1)],
    [15, () => rng.pick(SPECIAL_NUMBERS)],
    [15, () => rng.double()],
    [10, () => Math.round(rng.float() * 10 ** rng.range(0, 6)) / 10 ** rng.range(0, 6)],
    [5, () => rng.range(0, 1000) * 10 ** rng.range(-30, 30)],
    // NaN / ±Infinity stringify to null in both encoders
    [opts.nonFinite ? 1 : 0, () => rng.pick([NaN, Infinity, -Infinity])],
  ]);
}

function genKey(rng) {
  for (;;) {
    const k = rng.weighted([
      [60, () => genString(rng)],
      [20, () => rng.pick(["a", "b", "message", "data", "id", "_placeholder", "num", "toJSON", "type", "nsp"])],
      [10, () => String(rng.range(0, 20))], // integer-like keys: JS orders them first
      [10, () => rng.pick(["", " ", "0", "-1", "01", "1.5", "4294967295", "4294967294"])],
    ]);
    // "__proto__" would change the prototype when assigned; "$bin" is the wire format's
    // binary marker (`{"$bin": "<hex>"}`) and cannot be an ordinary key there.
    if (k !== "__proto__" && k !== "$bin") return k;
  }
}

/**
 * A random JSON-able value. `opts.binary`: a function returning a binary leaf, or null.
 * `opts.undef`: allow `undefined` (dropped in objects, null in arrays by both encoders).
 */
function genValue(rng, depth, opts = {}) {
  const leafOnly = depth <= 0;
  return rng.weighted([
    [6, null],
    [4, true],
    [4, false],
    [20, () => genNumber(rng, opts)],
    [25, () => genString(rng, opts)],
    [leafOnly ? 0 : 15, () => genArray(rng, depth - 1, opts)],
    [leafOnly ? 0 : 15, () => genObject(rng, depth - 1, opts)],
    [opts.undef ? 1 : 0, undefined],
    [opts.placeholders ? 1 : 0, () => ({ _placeholder: true, num: rng.range(0, 3) })],
  ]);
}

function genArray(rng, depth, opts) {
  const n = rng.weighted([[20, 0], [50, () => rng.range(1, 3)], [30, () => rng.range(4, 8)]]);
  const out = [];
  for (let i = 0; i < n; i++) out.push(genValue(rng, depth, opts));
  return out;
}

function genObject(rng, depth, opts) {
  const n = rng.weighted([[20, 0], [50, () => rng.range(1, 3)], [30, () => rng.range(4, 8)]]);
  const out = {};
  for (let i = 0; i < n; i++) out[genKey(rng)] = genValue(rng, depth, opts);
  return out;
}

/** A value nested `depth` levels deep (arrays or objects), for the nesting limit. */
function genDeep(rng, depth) {
  let v = rng.pick([1, "x", null, []]);
  for (let i = 1; i < depth; i++) v = rng.chance(0.5) ? [v] : { k: v };
  return v;
}

/** A binary leaf: usually a Buffer, sometimes another binary type the encoders accept. */
function genBinary(rng, opts = {}) {
  const n = rng.weighted([[15, 0], [50, () => rng.range(1, 8)], [30, () => rng.range(9, 64)], [5, () => rng.range(65, 600)]]);
  const buf = rng.bytes(n);
  if (!opts.plainBuffers && rng.chance(0.1)) {
    return rng.pick([
      () => new Uint8Array(buf),
      () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length),
    ])();
  }
  return buf;
}

/** Inserts `leaf` at a random place inside the array/object tree `root` (mutates it). */
function insertLeaf(rng, root, leaf) {
  let node = root;
  for (;;) {
    const children = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    const containers = children.filter((k) => node[k] !== null && typeof node[k] === "object" && !isBinary(node[k]));
    if (containers.length && rng.chance(0.4)) {
      node = node[rng.pick(containers)];
      continue;
    }
    if (Array.isArray(node)) {
      // never in front of the event name (index 0 of the root array)
      const lo = node === root ? 1 : 0;
      node.splice(rng.range(lo, node.length), 0, leaf);
    } else {
      let k = genKey(rng);
      while (k in node) k += "_";
      node[k] = leaf;
    }
    return;
  }
}

function isBinary(v) {
  return Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function genNamespace(rng, v4) {
  if (rng.chance(0.45)) return "/";
  const name = rng.weighted([
    [30, () => rng.pick(["/admin", "/chat", "/a", "/123", "/0", "/a/b", "/房间", "/😀", "/-", "//", "/ ", "/a b"])],
    [50, () => "/" + genString(rng, { exclude: [","] })],
    [20, () => "/" + String(rng.range(0, 99999))],
  ]);
  if (v4 && rng.chance(0.3)) {
    const q = [];
    for (let i = rng.range(1, 3); i > 0; i--) q.push(`${genString(rng, { exclude: [",", "&", "="] })}=${genString(rng, { exclude: [","] })}`);
    return `${name}?${q.join("&")}`;
  }
  return name;
}

function genAckId(rng) {
  return rng.weighted([
    [15, 0],
    [50, () => rng.range(1, 1000)],
    [20, () => rng.int(MAX_SAFE + 1)],
    [10, MAX_SAFE],
    [5, () => MAX_SAFE - rng.range(1, 1000)],
  ]);
}

function genEventName(rng, v4, opts) {
  for (;;) {
    const name = rng.weighted([
      [70, () => genString(rng, opts)],
      [10, () => rng.pick(["message", "chat message", "error", "connecting", "ping", "upload", "_placeholder"])],
      [15, () => genNumber(rng)],
      [5, ""],
    ]);
    // Reserved names are invalid for the v5 decoder, and the conformance tool's encoder
    // applies v5 payload rules for v4 too (see README); the malformed categories try them.
    if (typeof name === "string" && RESERVED_EVENTS.includes(name)) continue;
    if (typeof name === "number" && !Number.isFinite(name)) continue;
    return name;
  }
}

/**
 * A VALID Socket.IO packet as an application gives it to the encoder:
 * `{type, nsp, id?, data?}` with binary leaves. `v4` = Socket.IO protocol v4 (parser 3.x),
 * where binary packets must carry type 5/6 themselves.
 */
function genSioPacket(rng, v4, opts = {}) {
  const valueOpts = {
    loneSurrogates: !!opts.loneSurrogates,
    undef: rng.chance(0.05),
    placeholders: rng.chance(0.03),
    nonFinite: rng.chance(0.03),
  };
  const depth = rng.weighted([[30, 1], [40, 2], [25, 4], [5, 6]]);
  const kind = rng.weighted([
    [9, "connect"],
    [5, "disconnect"],
    [30, "event"],
    [16, "ack"],
    [10, "connect_error"],
    [18, "binary_event"],
    [12, "binary_ack"],
  ]);
  const p = { type: 0, nsp: genNamespace(rng, v4) };
  const maybeId = (prob) => {
    if (rng.chance(prob)) p.id = genAckId(rng);
  };
  switch (kind) {
    case "connect":
      p.type = 0;
      if (rng.chance(0.5)) p.data = genObject(rng, depth, valueOpts);
      maybeId(0.05);
      break;
    case "disconnect":
      p.type = 1;
      maybeId(0.05);
      break;
    case "connect_error":
      p.type = 4;
      if (rng.chance(v4 ? 0.6 : 0.3)) {
        p.data = genString(rng, valueOpts);
      } else {
        p.data = { message: genString(rng, valueOpts) };
        if (rng.chance(0.5)) p.data.data = genValue(rng, depth, valueOpts);
      }
      maybeId(0.05);
      break;
    case "event":
    case "binary_event": {
      p.type = 2;
      if (kind === "event" && rng.chance(0.03)) {
        maybeId(0.3); // EVENT without payload (`2`, `2/admin,`): accepted by both decoders
        break;
      }
      p.data = [genEventName(rng, v4, valueOpts), ...genArray(rng, depth, valueOpts)];
      maybeId(0.5);
      break;
    }
    case "ack":
    case "binary_ack":
      p.type = 3;
      p.data = genArray(rng, depth, valueOpts);
      p.id = genAckId(rng);
      break;
  }
  if (opts.deep && p.data !== undefined && typeof p.data === "object") {
    const deep = genDeep(rng, opts.deep);
    if (Array.isArray(p.data)) p.data.push(deep);
    else p.data.deep = deep;
  }
  if (kind === "binary_event" || kind === "binary_ack") {
    const n = rng.weighted([[50, 1], [25, 2], [15, 3], [6, 4], [4, 5]]);
    let last = null;
    for (let i = 0; i < n; i++) {
      // the same buffer twice gives two attachments (S45)
      const leaf = last && rng.chance(0.1) ? last : genBinary(rng);
      insertLeaf(rng, p.data, leaf);
      last = leaf;
    }
    if (v4) p.type = kind === "binary_event" ? 5 : 6;
  }
  return p;
}

/** A handshake JSON text as the reference server writes it (key order sid, upgrades, …). */
function genHandshake(rng, v3) {
  const sid = rng.chance(0.9)
    ? Buffer.from(rng.bytes(15)).toString("base64").replace(/\//g, "_").replace(/\+/g, "-")
    : genString(rng);
  const hs = {
    sid,
    upgrades: rng.pick([[], ["websocket"], ["websocket", "webtransport"]]),
    pingInterval: rng.pick([25000, 300, rng.range(0, 2 ** 31)]),
    pingTimeout: rng.pick([20000, 5000, 200, rng.range(0, 2 ** 31)]),
  };
  if (!v3 || rng.chance(0.2)) hs.maxPayload = rng.pick([1000000, 1e8, rng.range(0, 2 ** 31)]);
  return JSON.stringify(hs);
}

/**
 * A VALID Engine.IO packet `{type, data?}` (data: string or Buffer). `noRS`: no U+001E in
 * text (it would split an EIO4 polling payload).
 */
function genEioPacket(rng, v3, opts = {}) {
  const strOpts = { exclude: opts.noRS ? ["\u001e"] : [] };
  return rng.weighted([
    [4, () => ({ type: "open", data: genHandshake(rng, v3) })],
    [4, () => ({ type: "close" })],
    [8, () => rng.weighted([[40, { type: "ping" }], [40, { type: "ping", data: "probe" }], [20, () => ({ type: "ping", data: genString(rng, strOpts) || "x" })]])],
    [8, () => rng.weighted([[40, { type: "pong" }], [40, { type: "pong", data: "probe" }], [20, () => ({ type: "pong", data: genString(rng, strOpts) || "x" })]])],
    [45, () => ({ type: "message", data: genString(rng, strOpts) })],
    [23, () => ({ type: "message", data: genBinary(rng, { plainBuffers: true }) })],
    [4, () => ({ type: "upgrade" })],
    [4, () => ({ type: "noop" })],
  ]);
}

module.exports = {
  RESERVED_EVENTS,
  genChar,
  genString,
  genNumber,
  genValue,
  genArray,
  genObject,
  genDeep,
  genBinary,
  genNamespace,
  genAckId,
  genSioPacket,
  genEioPacket,
  genHandshake,
  isBinary,
};
