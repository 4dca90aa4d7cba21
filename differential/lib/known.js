"use strict";
// The allow-list (known-differences.json): which divergences are our documented, deliberate
// departures from the reference. An entry matches a divergence when every field it sets
// matches; `condition` names a predicate below, evaluated on the case.

const fs = require("fs");
const path = require("path");

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

const LONE_ESCAPE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;
const LONE_RAW = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Strict XHR2 framing (markers 0/1, digit bytes 0–9, no truncation): true if the body breaks it. */
function xhr2NeedsLeniency(body) {
  let pos = 0;
  while (pos < body.length) {
    const marker = body[pos];
    if (marker !== 0 && marker !== 1) return true;
    const end = body.indexOf(0xff, pos + 1);
    if (end < 0) return false; // a missing terminator is an error for both
    const digits = body.subarray(pos + 1, end);
    if (digits.some((d) => d > 9)) return true;
    const len = Number(Array.from(digits).join(""));
    if (end + 1 + len > body.length) return true;
    pos = end + 1 + len;
  }
  return false;
}

/** Whether some string (key or value) inside `v` satisfies `pred`. */
function anyString(v, pred) {
  if (typeof v === "string") return pred(v);
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) return v.some((x) => anyString(x, pred));
  return Object.keys(v).some((k) => pred(k) || anyString(v[k], pred));
}

/**
 * The ack-id digit run of a Socket.IO packet text, found the way socket.io-parser's
 * decodeString finds it (whitespace counts as a digit there), or null.
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
  return str.substring(start, i + 1);
}

/** Number() of every ack-id run in the input's Socket.IO texts (EIO `4` prefix removed). */
function ackIds(c) {
  const texts = [];
  for (const f of c.input.frames || []) {
    if (typeof f !== "string") continue;
    texts.push(c.category.startsWith("stack") ? (f.startsWith("4") ? f.slice(1) : null) : f);
  }
  return texts.filter((t) => t !== null).map(ackIdRun).filter((r) => r !== null).map(Number);
}

/** Every placeholder num in the input texts, as Number() reads it. */
function placeholderNums(c) {
  return inputTexts(c).flatMap((t) => [...t.matchAll(/"num":\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g)].map((m) => Number(m[1])));
}

/** The characters Node's lenient base64 decoder reads (both alphabets, and the '=' that ends it). */
const BASE64_BYTES = /[A-Za-z0-9+/=_-]/;

const CONDITIONS = {
  /** The input or the reference's decoded value holds an unpaired UTF-16 surrogate. */
  loneSurrogate: (c) =>
    inputTexts(c).some((t) => LONE_ESCAPE.test(t) || LONE_RAW.test(t)) ||
    (!!c.js && Array.isArray(c.js.packets) && anyString(c.js.packets, (s) => LONE_RAW.test(s))) ||
    (!!c.js && c.js.marks.includes("lone-surrogate")) ||
    // an XHR2 string record holding a UTF-8-encoded surrogate (what engine.io-parser 2.x
    // writes for one; its decoder reads it back as U+FFFD)
    (Buffer.isBuffer(c.input.body) && /\xed[\xa0-\xbf]/.test(c.input.body.toString("latin1"))),
  /**
   * An ack id above 2^53-1: we said AckIdOverflow (raised for nothing else), or the
   * reference decoded such an id (rounded by Number()) where we said InvalidAckId.
   */
  ackIdAboveMaxSafe: (c, d) =>
    d.ourKind === "AckIdOverflow" ||
    (!!c.js && c.js.packets.some((p) => typeof p.id === "number" && p.id > Number.MAX_SAFE_INTEGER)) ||
    ackIds(c).some((id) => id > Number.MAX_SAFE_INTEGER),
  /** The reference decoded an ack id that Number() turned into NaN. */
  jsNaNAckId: (c) => (!!c.js && c.js.packets.some((p) => p.id === "NaN")) || ackIds(c).some(Number.isNaN),
  /** socket.io-parser 3.x turned an unknown packet type into an ERROR packet. */
  v3UnknownTypeErrorPacket: (c) => !!c.js && c.js.marks.includes("v3-unknown-type-error-packet"),
  /** engine.io-parser 2.x produced a non-message binary packet or one without a type. */
  v3BinaryNonMessage: (c) => !!c.js && (c.js.marks.includes("v3-binary-non-message") || c.js.marks.includes("v3-no-type")),
  /** An XHR2 body only the lenient reference framing reads. */
  xhr2Lenient: (c) => Buffer.isBuffer(c.input.body) && xhr2NeedsLeniency(c.input.body),
  /**
   * A base64 (`b…`) text holds a character above U+00FF whose low byte Node would read as
   * base64 (V8 stores such strings two bytes per unit and Node's decoder truncates each unit
   * to its low byte; any other character is skipped either way).
   */
  nonLatin1Base64: (c) =>
    inputTexts(c).some((t) =>
      (t.match(/(?:^|\u001e|\d:)b[^\u001e]*/g) || []).some((segment) => {
        for (let i = 0; i < segment.length; i++) {
          const unit = segment.charCodeAt(i);
          if (unit > 0xff && BASE64_BYTES.test(String.fromCharCode(unit & 0xff))) return true;
        }
        return false;
      })
    ),
  /** A placeholder's num is a number but not an integer. */
  nonIntegerPlaceholderNum: (c) => placeholderNums(c).some((n) => !Number.isInteger(n)),
  /** The reference crashed with a TypeError rather than rejecting the input. */
  jsTypeError: (c) => !!c.js && !!c.js.error && /^Cannot read properties of undefined/.test(c.js.error.message),
  /** The reference decoded an Engine.IO open packet (any data). */
  jsOpenPacket: (c) => !!c.js && c.js.packets.some((p) => p.type === "open"),
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

class KnownDifferences {
  constructor(file) {
    this.file = file || path.join(__dirname, "..", "known-differences.json");
    const doc = JSON.parse(fs.readFileSync(this.file, "utf8"));
    this.entries = doc.differences;
    for (const e of this.entries) {
      for (const field of ["id", "categories", "divergence", "reason", "documented_in"]) {
        if (e[field] === undefined) throw new Error(`${this.file}: entry ${e.id || "?"} lacks "${field}"`);
      }
      if (e.condition && !CONDITIONS[e.condition]) throw new Error(`${this.file}: entry ${e.id}: unknown condition ${e.condition}`);
    }
    this.hits = Object.fromEntries(this.entries.map((e) => [e.id, 0]));
    /** Every switch the allow-list names: the codec configured like the reference. */
    this.allSwitches = Object.assign({}, ...this.entries.map((e) => e.switch || {}));
  }

  /** The first entry explaining divergence `d` of case `c`, or null. */
  match(c, d, { withoutSwitch = false } = {}) {
    for (const e of this.entries) {
      if (withoutSwitch && e.switch) continue;
      if (!e.categories.some((p) => glob(p, c.category))) continue;
      if (e.checks && !e.checks.includes(c.check)) continue;
      if (!e.divergence.includes(d.type)) continue;
      if (e.our_error && !e.our_error.includes(d.ourKind)) continue;
      if (e.condition && !CONDITIONS[e.condition](c, d)) continue;
      return e;
    }
    return null;
  }
}

module.exports = { KnownDifferences, CONDITIONS, jsonDepth, glob, hints };
