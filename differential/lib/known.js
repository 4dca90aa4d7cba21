"use strict";
// The allow-list (known-differences.json): which divergences are our documented, deliberate
// departures from the reference. An entry matches a divergence when every field it sets
// matches; `condition` names a predicate below, evaluated on the case.

const fs = require("fs");
const path = require("path");
const { locate, units } = require("./site");
const { deepEqual } = require("./compare");

/** The characters Node's lenient base64 decoder reads (both alphabets, and the '=' that ends it). */
const BASE64_BYTES = /[A-Za-z0-9+/=_-]/;

/** `sio5-*` style globs on category names. */
function glob(pattern, name) {
  const re = new RegExp("^" + pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  return re.test(name);
}

/** Every text of a case's input (frames, body, packet), for the text predicates. */
function inputTexts(c) {
  const texts = [];
  const add = (v) => {
    if (typeof v === "string") texts.push(v);
    else if (Array.isArray(v)) v.forEach(add);
  };
  add(c.input.frames);
  add(c.input.frame);
  add(c.input.body);
  if (c.input.packet !== undefined) texts.push(JSON.stringify(c.input.packet) || "");
  return texts;
}

/** The deepest [ / { nesting in a text, outside JSON strings. */
function jsonDepth(text) {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") max = Math.max(max, ++depth);
    else if (c === "]" || c === "}") depth--;
  }
  return max;
}

/**
 * Nesting depth of a JSON value (arrays and objects count one level each; binary leaves,
 * {"$bin": …}, are objects, like the placeholders they stand for in the packet text).
 */
function valueDepth(v) {
  if (v === null || typeof v !== "object") return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  let max = 0;
  for (const x of children) max = Math.max(max, valueDepth(x));
  return 1 + max;
}

/** The deepest payload of a case: the reference's decoded packets, or the encoded packet. */
function caseDepth(c) {
  const values = [];
  if (c.js && Array.isArray(c.js.packets)) values.push(...c.js.packets.map((p) => p.data));
  if (c.input.packet !== undefined) values.push(c.input.packet.data);
  return Math.max(0, ...values.map(valueDepth));
}

const LONE_RAW = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether some string (key or value) inside `v` satisfies `pred`. */
function anyString(v, pred) {
  if (typeof v === "string") return pred(v);
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) return v.some((x) => anyString(x, pred));
  return Object.keys(v).some((k) => pred(k) || anyString(v[k], pred));
}

/**
 * The ack-id digit run of a Socket.IO packet text, found the way socket.io-parser's
 * decodeString finds it (whitespace counts as a digit there): `{run, start}` (UTF-16
 * index), or null.
 */
function ackIdRun(str) {
  let i = 0;
  const type = Number(str.charAt(0));
  if (type === 5 || type === 6) {
    while (str.charAt(++i) !== "-" && i != str.length) {}
  }
  if ("/" === str.charAt(i + 1)) {
    while (++i) {
      const c = str.charAt(i);
      if ("," === c || i === str.length) break;
    }
  }
  const next = str.charAt(i + 1);
  if ("" === next || Number(next) != next) return null;
  const start = i + 1;
  while (++i) {
    const c = str.charAt(i);
    if (Number(c) != c) {
      --i;
      break;
    }
    if (i === str.length) break;
  }
  return { run: str.substring(start, i + 1), start };
}

/** Every placeholder num in the input texts, as Number() reads it (for the hints). */
function placeholderNums(c) {
  return inputTexts(c).flatMap((t) => [...t.matchAll(/"num":\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g)].map((m) => Number(m[1])));
}

// ---------------------------------------------------------------------------------------
// The unit at the divergence (lib/site.js), seen as an Engine.IO packet, a Socket.IO
// packet or a base64 message.

/** The Engine.IO packet text of a unit (text frame, text record, XHR2 string record), or null. */
function eioText(u) {
  if (!u || u.broken) return null;
  if (u.kind === "eio-text" || u.kind === "eio4-record" || u.kind === "eio3-record") return u.text;
  if (u.kind === "xhr2-record" && u.marker === 0) return u.text;
  return null;
}

/**
 * The Socket.IO packet text of a unit: the frame itself (sio categories), or the data of an
 * Engine.IO text message (`4…`, stack categories). `{text, base}`: base is its byte offset
 * in the unit's packet.
 */
function sioText(c, u) {
  if (!u) return null;
  if (u.kind === "sio-text") return { text: u.text, base: 0 };
  if (!c.category.startsWith("stack")) return null;
  const p = eioText(u);
  return p !== null && p.startsWith("4") ? { text: p.slice(1), base: 1 } : null;
}

/** The base64 text of a unit's packet (`b…` in v4, `b4…` in v3): `{data, base}`, or null. */
function base64Text(c, u) {
  const p = eioText(u);
  if (p === null) return null;
  if (/^(eio4|stack4)/.test(c.category)) return p.startsWith("b") ? { data: p.slice(1), base: 1 } : null;
  return p.startsWith("b4") ? { data: p.slice(2), base: 2 } : null;
}

/** Strict (canonical) base64, what the codec decodes by default: padding optional, no stray bits. */
function canonicalBase64(data) {
  const bare = data.replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1) return false;
  const pad = data.length - bare.length;
  if (pad > 0 && pad !== (4 - (bare.length % 4)) % 4) return false;
  return Buffer.from(bare, "base64").toString("base64").replace(/=+$/, "") === bare;
}

/** The reference's packets that came from unit `index`. */
function jsPacketsAt(c, index) {
  const at = c.js.at || [];
  return c.js.packets.filter((_, i) => at[i] === index);
}

/** Byte length of a string's UTF-8 form. */
const bytes = (s) => Buffer.byteLength(s);

/**
 * A valid Engine.IO handshake as our Handshake::parse (serde) reads it: a JSON object, a
 * string `sid`, an array of strings `upgrades`, integer (u64, plain digits) `pingInterval`
 * and `pingTimeout`, `maxPayload` absent, null or such an integer; each of these keys once;
 * no unpaired surrogate escape in those strings. Other keys are ignored.
 */
function validHandshake(data) {
  let v;
  try {
    v = JSON.parse(data);
  } catch (e) {
    return false;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  // the top-level members as written: key -> [value text…]
  const members = {};
  let depth = 0;
  let i = 0;
  let key = null;
  let valueStart = -1;
  const close = (at) => {
    if (key !== null) (members[key] = members[key] || []).push(data.slice(valueStart, at).trim());
    key = null;
  };
  while (i < data.length) {
    const ch = data[i];
    if (ch === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/s.exec(data.slice(i));
      if (depth === 1 && key === null && /^\s*:/.test(data.slice(i + m[0].length))) {
        key = JSON.parse(m[0]);
        valueStart = data.indexOf(":", i + m[0].length) + 1;
        i = valueStart;
        continue;
      }
      i += m[0].length;
      continue;
    }
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") {
      if (depth === 1) close(i);
      depth--;
    } else if (ch === "," && depth === 1) close(i);
    i++;
  }
  const u64 = (t) => /^(0|[1-9]\d*)$/.test(t) && BigInt(t) <= 18446744073709551615n;
  const one = (k) => (members[k] || []).length === 1;
  const noLone = (x) => !anyString(x, (s) => LONE_RAW.test(s));
  return (
    one("sid") && typeof v.sid === "string" && noLone(v.sid) &&
    one("upgrades") && Array.isArray(v.upgrades) && v.upgrades.every((u) => typeof u === "string") && noLone(v.upgrades) &&
    one("pingInterval") && u64(members.pingInterval[0]) &&
    one("pingTimeout") && u64(members.pingTimeout[0]) &&
    (members.maxPayload === undefined || (one("maxPayload") && (members.maxPayload[0] === "null" || u64(members.maxPayload[0]))))
  );
}

/**
 * The header of a Socket.IO packet text as socket.io-parser reads it: the attachment count
 * and where the JSON payload starts.
 */
function sioHeader(str) {
  let i = 0;
  let attachments = 0;
  const type = Number(str.charAt(0));
  if (type === 5 || type === 6) {
    const start = i + 1;
    while (str.charAt(++i) !== "-" && i != str.length) {}
    attachments = Number(str.substring(start, i));
  }
  if ("/" === str.charAt(i + 1)) {
    while (++i) {
      if ("," === str.charAt(i) || i === str.length) break;
    }
  }
  const next = str.charAt(i + 1);
  if ("" !== next && Number(next) == next) {
    while (++i) {
      const ch = str.charAt(i);
      if (Number(ch) != ch) {
        --i;
        break;
      }
      if (i === str.length) break;
    }
  }
  return { attachments, payload: i + 1 };
}

/** Base64 as Node reads it from a string V8 stores two bytes per unit: each unit cut to its low byte. */
const nodeTwoByteBase64 = (s) => Buffer.from(Array.from({ length: s.length }, (_, k) => String.fromCharCode(s.charCodeAt(k) & 0xff)).join(""), "base64");

/**
 * The predicates of the allow-list, `(case, divergence, site) -> bool`. Each looks at the
 * unit the site names (lib/site.js) and nothing else; `direction`, `units`, `our_error` and
 * `categories` are checked before, from the entry.
 */
const CONDITIONS = {
  /**
   * The Socket.IO text at the unit has an ack-id run (whitespace included, as the reference
   * reads it) that Number() puts above 2^53-1, our error names its first byte, and the kind
   * fits the spelling: AckIdOverflow for plain digits, InvalidAckId for a run with whitespace.
   */
  ackIdAboveMaxSafe: (c, d, s) => {
    const t = sioText(c, s.unit);
    const r = t && ackIdRun(t.text);
    if (!r || !(Number(r.run) > Number.MAX_SAFE_INTEGER)) return false;
    if (s.dataOffset - t.base !== bytes(t.text.slice(0, r.start))) return false;
    return /^\d+$/.test(r.run) ? d.ourKind === "AckIdOverflow" : d.ourKind === "InvalidAckId";
  },
  /** The ack-id run at the unit is one Number() reads as NaN; our error names its first byte. */
  jsNaNAckId: (c, d, s) => {
    const t = sioText(c, s.unit);
    const r = t && ackIdRun(t.text);
    return !!r && Number.isNaN(Number(r.run)) && s.dataOffset - t.base === bytes(t.text.slice(0, r.start));
  },
  /**
   * The Socket.IO text at the unit (the reference's own test: Number() of its first
   * character names no packet type in parser 3.x), our error at its first byte, and the
   * reference delivered an ERROR packet ("parser error…") for that unit.
   */
  v3UnknownTypeErrorPacket: (c, d, s) => {
    const t = sioText(c, s.unit);
    if (!t || require("./reference").sio4.types[Number(t.text.charAt(0))] != null || s.dataOffset !== t.base) return false;
    return jsPacketsAt(c, s.index).some((p) => p.type === 4 && typeof p.data === "string" && p.data.startsWith("parser error"));
  },
  /**
   * The unit is a v3 packet that carries binary but is no message: a text `b` followed by
   * another type than 4 (or by nothing), a binary frame / XHR2 binary record whose type byte
   * is not 4 (or that is empty); our error names the type (Empty: the empty data), and the
   * reference delivered a non-message or type-less packet for that unit.
   */
  v3BinaryNonMessage: (c, d, s) => {
    const u = s.unit;
    if (!u || u.broken) return false;
    let ok = false;
    const p = eioText(u);
    if (p !== null) ok = p.startsWith("b") && (p.length === 1 ? s.dataOffset === 0 : p[1] !== "4" && s.dataOffset === 1) && d.ourKind === "UnknownPacketType";
    else if (u.kind === "eio-binary" || (u.kind === "xhr2-record" && u.marker === 1)) {
      ok = u.bytes.length === 0 ? d.ourKind === "Empty" && s.dataOffset === 0 : u.bytes[0] !== 4 && d.ourKind === "UnknownPacketType" && s.dataOffset === 0;
    }
    return ok && jsPacketsAt(c, s.index).some((q) => q.type !== "message");
  },
  /**
   * The XHR2 record at the unit breaks our record grammar where the reference's framing is
   * lenient: InvalidLength at the record's start for a marker byte other than 0/1, a digit
   * byte above 9 or no digit byte at all (with a terminator after at most 310 bytes: without
   * one the reference fails too), or TruncatedPayload at the data
   * of a well-formed header whose length runs past the body (the reference slices short).
   */
  xhr2Lenient: (c, d, s) => {
    const u = s.unit;
    if (!u || u.kind !== "xhr2-record" || !u.broken) return false;
    const body = c.input.body;
    const term = body.indexOf(0xff, u.start + 1);
    if (term < 0) return false; // no terminator: an error for both
    const digits = body.subarray(u.start + 1, term);
    if (digits.length > 310) return false; // an error for both
    const markerOk = u.marker === 0 || u.marker === 1;
    const digitsOk = digits.length > 0 && digits.every((x) => x <= 9);
    if (d.ourKind === "InvalidLength") return s.offset === 0 && !(markerOk && digitsOk);
    if (d.ourKind === "TruncatedPayload") return markerOk && digitsOk && s.offset === term + 1 - u.start && term + 1 + Number(Array.from(digits).join("")) > body.length;
    return false;
  },
  /**
   * The unit is an open packet (`0…`), our error names its data, and that data is not a
   * handshake Handshake::parse takes (see validHandshake); the reference delivered an open
   * packet for that unit.
   */
  invalidHandshake: (c, d, s) => {
    const p = eioText(s.unit);
    return p !== null && p.startsWith("0") && s.dataOffset === 1 && !validHandshake(p.slice(1)) && jsPacketsAt(c, s.index).some((q) => q.type === "open");
  },
  /** The unit is a close / upgrade / noop packet with data, our error names the data's first byte. */
  trailingData: (c, d, s) => {
    const p = eioText(s.unit);
    return p !== null && /^[156]./s.test(p) && s.dataOffset === 1 && jsPacketsAt(c, s.index).some((q) => ["close", "upgrade", "noop"].includes(q.type));
  },
  /**
   * The unit is a base64 message whose text is not canonical base64, and our error names the
   * start of the base64 text. (The entry's switch then checks that lenient decoding matches.)
   */
  lenientBase64: (c, d, s) => {
    const b = base64Text(c, s.unit);
    return !!b && s.dataOffset === b.base && !canonicalBase64(b.data);
  },
  /**
   * With allow_lenient_base64 on: the first differing packet comes from a base64 message
   * holding a character above U+00FF whose low byte is a base64 character, the reference's
   * bytes are Node's two-byte reading of the text (every UTF-16 unit cut to its low byte)
   * and ours are the text with those characters skipped.
   */
  nonLatin1Base64: (c, d, s) => {
    const b = base64Text(c, s.unit);
    if (!b || s.packet === null) return false;
    const units = Array.from({ length: b.data.length }, (_, k) => b.data.charCodeAt(k));
    if (!units.some((x) => x > 0xff && BASE64_BYTES.test(String.fromCharCode(x & 0xff)))) return false;
    const hex = (s2) => Buffer.from(s2, "base64").toString("hex");
    const js = c.js.packets[s.packet];
    const ours = d.ours.packets[s.packet];
    return (
      !!js && !!ours && js.type === "message" && ours.type === "message" &&
      deepEqual(js.data, { $bin: nodeTwoByteBase64(b.data).toString("hex") }) &&
      deepEqual(ours.data, { $bin: hex(b.data.replace(/[^\x00-\xff]/g, "")) })
    );
  },
  /**
   * The unit is an attachment (binary frame, XHR2 binary record, base64 message), and the
   * packet it completes (the last Socket.IO text before it) has a placeholder whose num is a
   * number but not an integer.
   */
  nonIntegerPlaceholderNum: (c, d, s) => {
    const u = s.unit;
    const attachment = u.kind === "sio-binary" || u.kind === "eio-binary" || (u.kind === "xhr2-record" && u.marker === 1 && !u.broken) || !!base64Text(c, u);
    if (!attachment) return false;
    const all = units(c);
    for (let k = Math.min(s.index, all.length - 1); k >= 0; k--) {
      const t = sioText(c, all[k]);
      if (!t) continue;
      const h = sioHeader(t.text);
      let payload;
      try {
        payload = JSON.parse(t.text.slice(h.payload));
      } catch (e) {
        return false;
      }
      const bad = (v) =>
        v !== null && typeof v === "object" &&
        (v._placeholder === true && typeof v.num === "number" && !Number.isInteger(v.num) ? true : Object.values(v).some(bad));
      return bad(payload);
    }
    return false;
  },
  /**
   * Encoding: the packet's namespace holds the v4 polling record separator, which
   * `Namespace::new` refuses (the driver's reply names the namespace).
   */
  namespaceRecordSeparator: (c, d, s) =>
    s.direction === "encode" &&
    c.input.sio !== undefined &&
    typeof c.input.packet.nsp === "string" &&
    c.input.packet.nsp.includes("\u001e") &&
    /^"nsp": invalid namespace$/.test(String(d.detail)),
  /**
   * Encoding: the packet holds an unpaired surrogate (namespace, key or string). Decoding: an
   * EIO3 text record whose length prefix ends between the halves of a surrogate pair
   * (TruncatedPayload at its data), or an XHR2 string record holding a UTF-8-encoded
   * surrogate (ED A0-BF …; InvalidUtf8 at that byte).
   */
  loneSurrogate: (c, d, s) => {
    // the driver cannot even read the request: JSON cannot carry the surrogate to serde_json
    if (s.direction === "encode") return c.input.sio !== undefined && anyString(c.input.packet, (x) => LONE_RAW.test(x)) && /surrogate|hex escape/.test(String(d.detail));
    const u = s.unit;
    if (!u) return false;
    if (d.ourKind === "TruncatedPayload" && u.kind === "eio3-record") return !!u.splitsPair && s.dataOffset === 0;
    if (d.ourKind === "InvalidUtf8" && u.kind === "xhr2-record" && u.marker === 0 && !u.broken) {
      return u.bytes[s.dataOffset] === 0xed && u.bytes[s.dataOffset + 1] >= 0xa0 && u.bytes[s.dataOffset + 1] <= 0xbf;
    }
    return false;
  },
  /**
   * The reference crashed (TypeError reading 'base64' of undefined) at a unit that is a
   * message without data (`4`); we delivered what it delivered before, then for that unit
   * the CONNECT packet Number('') reads (`{"type":0,"nsp":"/"}`). What follows the crash has
   * nothing to be compared with.
   */
  jsTypeError: (c, d, s) =>
    !!c.js.error && c.js.error.message === "Cannot read properties of undefined (reading 'base64')" &&
    eioText(s.unit) === "4" && c.js.packets.every((p, i) => deepEqual(p, d.ours.packets[i])) &&
    deepEqual(d.ours.packets[c.js.packets.length], { type: 0, nsp: "/" }),
};

/**
 * Features of an input that often explain a divergence, shown next to unexplained ones so
 * that one root cause forms one group in the report.
 */
function hints(c) {
  const texts = inputTexts(c);
  const out = [];
  const depth = caseDepth(c);
  if (depth >= 120) out.push(`JSON depth ${depth}`);
  const numbers = texts.flatMap((t) => t.match(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g) || []);
  if (numbers.some((n) => !Number.isFinite(Number(n)))) out.push("number beyond f64 range");
  const nums = placeholderNums(c);
  if (nums.some((n) => !Number.isInteger(n))) out.push("non-integer placeholder num");
  if (texts.some((t) => /0[xXbBoO][+-]/.test(t))) out.push("sign after a 0x/0b/0o prefix");
  if (texts.some((t) => /(^|\u001e|\d:)b[^\u001e]*[^\x00-\x7f]/.test(t)) && !c.input.frames) out.push("non-ASCII in base64 text");
  return out.join(", ");
}

const DIRECTIONS = ["ours-error", "js-error", "value", "encode"];

class KnownDifferences {
  constructor(file) {
    this.file = file || path.join(__dirname, "..", "known-differences.json");
    const doc = JSON.parse(fs.readFileSync(this.file, "utf8"));
    this.entries = doc.differences;
    for (const e of this.entries) {
      const bad = (why) => new Error(`${this.file}: entry ${e.id || "?"}: ${why}`);
      for (const field of ["id", "categories", "checks", "divergence", "direction", "units", "condition", "reason", "documented_in"]) {
        if (e[field] === undefined) throw bad(`lacks "${field}"`);
      }
      if (!CONDITIONS[e.condition]) throw bad(`unknown condition ${e.condition}`);
      for (const dir of e.direction) if (!DIRECTIONS.includes(dir)) throw bad(`unknown direction ${dir}`);
      // our error kind is part of an entry exactly when the entry excuses an error of ours
      if (e.direction.includes("ours-error") !== Array.isArray(e.our_error)) throw bad(`"our_error" goes with (and only with) direction "ours-error"`);
    }
    this.hits = Object.fromEntries(this.entries.map((e) => [e.id, 0]));
    /** Every switch the allow-list names: the codec configured like the reference. */
    this.allSwitches = Object.assign({}, ...this.entries.map((e) => e.switch || {}));
  }

  /**
   * The first entry explaining divergence `d` of case `c`, or null. An entry explains it
   * when the case's category and check, the divergence type, the site (lib/site.js: the
   * direction, the unit's kind, and for an error of ours its kind) and the entry's predicate,
   * evaluated on that unit, all match.
   */
  match(c, d, { withoutSwitch = false } = {}) {
    const s = locate(c, d);
    for (const e of this.entries) {
      if (withoutSwitch && e.switch) continue;
      if (!e.categories.some((p) => glob(p, c.category))) continue;
      if (!e.checks.includes(c.check)) continue;
      if (!e.divergence.includes(d.type)) continue;
      if (!e.direction.includes(s.direction)) continue;
      if (!s.unit || !e.units.includes(s.unit.kind)) continue;
      if (s.direction === "value" && !s.confined) continue;
      if (s.direction === "ours-error" && !e.our_error.includes(d.ourKind)) continue;
      if (!CONDITIONS[e.condition](c, d, s)) continue;
      return e;
    }
    return null;
  }
}

module.exports = { KnownDifferences, CONDITIONS, jsonDepth, glob, hints, validHandshake, canonicalBase64, ackIdRun, sioHeader };
