"use strict";
// Mutations that turn valid encodings into MALFORMED / edge inputs. Text is mutated per code
// point (never splitting a surrogate pair), so every mutated text is still valid Unicode and
// its UTF-8 form is what both decoders see.

/** Single characters inserted or substituted (the set plus JS-coercion bait). */
const ALPHABET = [
  ..."-,/[]{}\" 0123456789ab",
  "\u001e", "x", "X", "o", "e", "E", ".", "+", ":", "\\", "_", "?", "&", "=", "'", "n", "u", "t", "f",
  "\t", "\n", "\r", "\u000b", "\u000c", "\u00a0", "\u2028", "\u2029", "\ufeff", "\u3000", "\u180e",
  "é", "😀", "\u0000",
];

/** Multi-character tokens: placeholders, numbers JS reads differently, reserved names… */
const TOKENS = [
  '"_placeholder":true', '{"_placeholder":true,"num":0}', '{"_placeholder":true,"num":1}', '"num":',
  '"num":0.5', '"num":-1', '"num":"0"', '"num":1e0', '"num":null', '"_placeholder":false',
  "1e400", "-1e400", "-0", "1e21", "0.1", "5e-324", "null", "true", "[]", "{}", '""',
  '"connect"', '"disconnect"', '"newListener"', '"error"', '"connect_error"',
  "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0000", "\\u001e", "\\/", "\\x41",
  "0x", "0x1", "0b1", "0o7", "1e1", "1.0", "1.", ".5", "+1", "Infinity", "NaN",
  "9007199254740991", "9007199254740992", "9007199254740993", "99999999999999999999", "00",
  "/admin,", "/admin", "/", ",", "1-", "0-", "2-", "10-", "11-", "-", " ", "  ", "\t", "\ufeff",
  "b", "4", "2probe", "3probe", "b4", "AQID", "AQ==", "====", "!!!", "_-", ":",
];

/** A random code point index (in `cps`) for an edit. */
function pos(rng, cps, inclusive) {
  return rng.int(cps.length + (inclusive ? 1 : 0));
}

/** Applies 1–3 random edits to `text`. */
function mutateText(rng, text, extraTokens = []) {
  let cps = Array.from(text);
  const tokens = extraTokens.length ? [...TOKENS, ...extraTokens] : TOKENS;
  const edits = rng.weighted([[60, 1], [30, 2], [10, 3]]);
  for (let e = 0; e < edits; e++) {
    const op = rng.weighted([
      [20, "delete"],
      [20, "insert"],
      [15, "replace"],
      [10, "truncate"],
      [12, "token"],
      [8, "duplicate"],
      [5, "swap"],
      [5, "delete-run"],
      [5, "digit-bump"],
    ]);
    switch (op) {
      case "delete":
        if (cps.length) cps.splice(pos(rng, cps), 1);
        break;
      case "insert":
        cps.splice(pos(rng, cps, true), 0, rng.pick(ALPHABET));
        break;
      case "replace":
        if (cps.length) cps[pos(rng, cps)] = rng.pick(ALPHABET);
        break;
      case "truncate":
        cps = cps.slice(0, pos(rng, cps, true));
        break;
      case "token":
        cps.splice(pos(rng, cps, true), 0, ...Array.from(rng.pick(tokens)));
        break;
      case "duplicate": {
        if (!cps.length) break;
        const a = pos(rng, cps);
        const b = Math.min(cps.length, a + rng.range(1, 8));
        cps.splice(b, 0, ...cps.slice(a, b));
        break;
      }
      case "swap": {
        if (cps.length < 2) break;
        const a = rng.int(cps.length - 1);
        [cps[a], cps[a + 1]] = [cps[a + 1], cps[a]];
        break;
      }
      case "delete-run": {
        if (!cps.length) break;
        const a = pos(rng, cps);
        cps.splice(a, rng.range(1, 6));
        break;
      }
      case "digit-bump": {
        // change a digit run (counts, ids, lengths) to a nearby or extreme value
        const s = cps.join("");
        const runs = [...s.matchAll(/\d+/g)];
        if (!runs.length) break;
        const m = rng.pick(runs);
        const n = Number(m[0]);
        const repl = String(rng.pick([n + 1, Math.max(0, n - 1), 0, 10, 11, n * 10, "9007199254740993", "0" + m[0]]));
        cps = Array.from(s.slice(0, m.index) + repl + s.slice(m.index + m[0].length));
        break;
      }
    }
  }
  return cps.join("");
}

/** Applies 1–2 random edits to a byte buffer (binary frames, XHR2 bodies). */
function mutateBytes(rng, buf) {
  let b = Array.from(buf);
  const edits = rng.weighted([[70, 1], [30, 2]]);
  for (let e = 0; e < edits; e++) {
    const op = rng.weighted([
      [20, "delete"],
      [20, "insert"],
      [20, "replace"],
      [15, "truncate"],
      [10, "append"],
      [15, "special"],
    ]);
    const byte = () => rng.weighted([[40, () => rng.int(256)], [30, () => rng.int(12)], [15, 0xff], [15, () => rng.pick([0, 1, 2, 4, 0x34, 0x62])]]);
    const p = (inclusive) => rng.int(b.length + (inclusive ? 1 : 0));
    switch (op) {
      case "delete":
        if (b.length) b.splice(p(), 1);
        break;
      case "insert":
        b.splice(p(true), 0, byte());
        break;
      case "replace":
        if (b.length) b[p()] = byte();
        break;
      case "truncate":
        b = b.slice(0, p(true));
        break;
      case "append":
        b.push(...Array.from({ length: rng.range(1, 6) }, byte));
        break;
      case "special":
        // a whole extra XHR2 record header, or an invalid UTF-8 byte
        b.splice(p(true), 0, ...rng.pick([[0, 1, 0xff], [1, 1, 0xff], [2, 1, 0xff], [0, 12, 0xff], [0xc3], [0xed, 0xa0, 0x80], [0xff]]));
        break;
    }
  }
  return Buffer.from(b);
}

/**
 * Mutates a Socket.IO frame sequence [text, ...attachments]: the text, the attachment
 * list (missing, extra, reordered, a text frame in between), or both.
 */
function mutateSioFrames(rng, frames) {
  let out = frames.slice();
  const what = rng.weighted([[65, "text"], [20, "attachments"], [15, "both"]]);
  if (what !== "attachments") out[0] = mutateText(rng, out[0]);
  if (what !== "text") {
    const op = rng.weighted([
      [25, "drop"],
      [25, "extra"],
      [15, "text-between"],
      [10, "swap"],
      [10, "binary-first"],
      [15, "second-packet"],
    ]);
    switch (op) {
      case "drop":
        if (out.length > 1) out.splice(rng.range(1, out.length - 1), 1);
        break;
      case "extra":
        out.splice(rng.range(1, out.length), 0, rng.bytes(rng.range(0, 4)));
        break;
      case "text-between":
        out.splice(rng.range(1, out.length), 0, rng.pick(['2["a"]', "0", "", out[0]]));
        break;
      case "swap":
        if (out.length > 2) [out[1], out[2]] = [out[2], out[1]];
        break;
      case "binary-first":
        out.unshift(rng.bytes(rng.range(0, 3)));
        break;
      case "second-packet":
        out.push(...frames);
        break;
    }
  }
  return out;
}

module.exports = { ALPHABET, TOKENS, mutateText, mutateBytes, mutateSioFrames };
