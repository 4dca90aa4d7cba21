"use strict";
// The allow-list's predicates, entry by entry: for each, real divergences it must excuse
// (the reference's result computed here, our reply as the driver gave it) and made-up
// divergences just outside its scope (another frame or record, another direction, another
// error kind or offset, an input the documented difference does not cover) that no entry may
// excuse. Run: node --test differential/test/  (scripts/differential.sh does, and with
// DIFFERENTIAL_DRIVER set it also checks that the recorded replies are what the driver says).

const test = require("node:test");
const assert = require("node:assert/strict");
const C = require("../lib/cases");
const { KnownDifferences, validHandshake, canonicalBase64 } = require("../lib/known");
const { compareDecode, compareFrames } = require("../lib/compare");
const site = require("../lib/site");
const { Driver } = require("../lib/driver");

const known = new KnownDifferences();
const B = (hex) => Buffer.from(hex, "hex");

// Our replies, in the driver's shapes (detail: the ErrorKind's Display, codec/src/error.rs).
const DISPLAY = {
  AckIdOverflow: "ack id above 2^53 - 1", Empty: "empty packet", InvalidAckId: "invalid ack id", InvalidBase64: "invalid base64",
  InvalidHandshake: "invalid handshake", InvalidJson: "invalid JSON", InvalidLength: "invalid length prefix",
  InvalidPlaceholder: "placeholder refers to no attachment", InvalidUtf8: "invalid UTF-8",
  TruncatedPayload: "payload shorter than its length prefix", UnexpectedData: "unexpected data after the packet type",
};
const err = (kind, offset, frame, detail) => ({ kind, detail: `${detail || DISPLAY[kind]} at byte ${offset}`, offset, frame });
const ours = (packets, error = null) => ({ packets, error, pending: false });
const cli = (lines, detail, frame) => ({ lines: lines.map((l) => JSON.stringify(l)), error: detail ? { kind: "Cli", detail, frame } : null, pending: false });

/** The entry that explains case `c` when we answer `reply` (null: none), and the divergence. */
function explain(c, reply) {
  const d = c.check === "encode" ? compareFrames(c.js, reply) : compareDecode(c.js, reply, { prefix: c.prefix, frameIndex: c.frameIndex });
  assert.ok(d, "the example must be a divergence");
  const e = known.match(c, d);
  return { id: e ? e.id : null, d };
}

/**
 * Examples per entry. `real: true` marks replies recorded from the driver (checked against
 * it when DIFFERENTIAL_DRIVER is set); `expect` is the entry that must explain the
 * divergence, or null when none may.
 */
const EXAMPLES = {
  "ack-id-above-2^53-1": [
    { real: true, expect: "ack-id-above-2^53-1", name: "plain digits above 2^53-1: AckIdOverflow at the run",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['29007199254740993["x"]']),
      reply: ours([], err("AckIdOverflow", 1, 0)) },
    { real: true, expect: "ack-id-above-2^53-1", name: "a run with whitespace: InvalidAckId",
      c: () => C.sioDecodeCase("sio4-malformed", 4, ['2 9007199254740993["x"]']),
      reply: ours([], err("InvalidAckId", 1, 0)) },
    { real: true, expect: "ack-id-above-2^53-1", name: "stack: the second frame",
      c: () => C.stackCase("stack4", 4, { frames: ["42[1]", '429007199254740993["x"]'] }),
      reply: cli([{ type: 2, nsp: "/", data: [1] }], "ack id above 2^53 - 1 at byte 2", 1) },
    { expect: null, name: "our error in another frame than the big id",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['2["a"]', '29007199254740993["x"]']),
      reply: ours([], err("AckIdOverflow", 1, 0)) },
    { expect: null, name: "an id within 2^53-1 refused",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['29007199254740991["x"]']),
      reply: ours([], err("AckIdOverflow", 1, 0)) },
    { expect: null, name: "another error kind at the run",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['29007199254740993["x"]']),
      reply: ours([], err("InvalidJson", 1, 0)) },
    { expect: null, name: "AckIdOverflow for a run with whitespace (kind does not fit the spelling)",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['2 9007199254740993["x"]']),
      reply: ours([], err("AckIdOverflow", 1, 0)) },
    { expect: null, name: "our error at another offset than the run",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['29007199254740993["x"]']),
      reply: ours([], err("AckIdOverflow", 18, 0)) },
    { expect: null, name: "accepting the big id with another value (the rule is that we refuse)",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['29007199254740993["x"]']),
      reply: ours([{ type: 2, nsp: "/", id: 9007199254740994, data: ["x"] }]) },
  ],
  "namespace-record-separator": [
    { real: true, expect: "namespace-record-separator", name: "encode: a namespace holding \\x1e is refused",
      c: () => C.sioEncodeCase("sio5-valid", 5, null, { type: 2, nsp: "/a\u001eb", data: ["x"] }, ['2/a\u001eb,["x"]']),
      reply: { error: '"nsp": invalid namespace' } },
    { expect: null, name: "a namespace without \\x1e refused",
      c: () => C.sioEncodeCase("sio5-valid", 5, null, { type: 2, nsp: "/ab", data: ["x"] }, ['2/ab,["x"]']),
      reply: { error: '"nsp": invalid namespace' } },
    { expect: null, name: "another refusal of a packet whose namespace holds \\x1e",
      c: () => C.sioEncodeCase("sio5-valid", 5, null, { type: 2, nsp: "/a\u001eb", data: ["x"] }, ['2/a\u001eb,["x"]']),
      reply: { error: "invalid packet: invalid JSON" } },
    { expect: null, name: "bytes that differ for a packet holding \\x1e in its data",
      c: () => C.sioEncodeCase("sio5-valid", 5, null, { type: 2, nsp: "/", data: ["a\u001eb"] }, ['2["a\\u001eb"]']),
      reply: { frames: ['2["a\\u001eB"]'] } },
  ],
  "lone-surrogates": [
    { expect: "lone-surrogates", name: "encode: a packet holding a lone surrogate cannot reach the driver",
      c: () => ({ category: "sio5-valid", check: "encode", input: { packet: { type: 2, nsp: "/", data: ["a\ud800"] }, sio: 5 }, js: ['2["a\\ud800"]'] }),
      reply: { input_error: "request is not JSON: unexpected end of hex escape at line 1 column 70" } },
    { real: true, expect: "lone-surrogates", name: "EIO3 length ending between the halves of a surrogate pair",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, "2:4😀"),
      reply: ours([], err("TruncatedPayload", 2, 0)) },
    { real: true, expect: "lone-surrogates", name: "the same in the second record",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, "1:52:4😀"),
      reply: ours([{ type: "upgrade" }], err("TruncatedPayload", 5, 1)) },
    { real: true, expect: "lone-surrogates", name: "XHR2 string record with a UTF-8-encoded surrogate",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0004ff34eda080")),
      reply: ours([], err("InvalidUtf8", 4, 0)) },
    { expect: null, name: "a lone surrogate in one frame, a value mismatch in another",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['2["\\ud800"]', '2["a"]']),
      reply: ours([{ type: 2, nsp: "/", data: ["\ud800"] }, { type: 2, nsp: "/", data: ["b"] }]) },
    { expect: null, name: "TruncatedPayload in the record before the one that splits a pair",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, "1:52:4😀"),
      reply: ours([], err("TruncatedPayload", 2, 0)) },
    { expect: null, name: "TruncatedPayload for a record that splits nothing",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, "1:53:4😀"),
      reply: ours([{ type: "upgrade" }], err("TruncatedPayload", 5, 1)) },
    { expect: null, name: "another error kind at the encoded surrogate",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0004ff34eda080")),
      reply: ours([], err("InvalidLength", 4, 0)) },
    { expect: null, name: "InvalidUtf8 on a byte that is no surrogate",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0004ff34eda080")),
      reply: ours([], err("InvalidUtf8", 3, 0)) },
    { expect: null, name: "encode: a driver failure for a packet without a lone surrogate",
      c: () => ({ category: "sio5-valid", check: "encode", input: { packet: { type: 2, nsp: "/", data: ["a"] }, sio: 5 }, js: ['2["a"]'] }),
      reply: { input_error: "request is not JSON: unexpected end of hex escape at line 1 column 70" } },
    { expect: null, name: "encode: different bytes for a packet with a lone surrogate",
      c: () => ({ category: "sio5-valid", check: "encode", input: { packet: { type: 2, nsp: "/", data: ["a\ud800"] }, sio: 5 }, js: ['2["a\\ud800"]'] }),
      reply: { frames: ['2["a\\ud801"]'] } },
  ],
  "nan-ack-id": [
    { real: true, expect: "nan-ack-id", name: "a run Number() reads as NaN",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['21 2["x"]']),
      reply: ours([], err("InvalidAckId", 1, 0)) },
    { real: true, expect: "nan-ack-id", name: "stack: after a namespace",
      c: () => C.stackCase("stack3", 3, { frames: ["43/a,1 2[1]"] }),
      reply: cli([], "invalid ack id at byte 5", 0) },
    { expect: null, name: "InvalidAckId for an id Number() reads",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['212["x"]']),
      reply: ours([], err("InvalidAckId", 1, 0)) },
    { expect: null, name: "our error in the frame before the NaN id",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['2["a"]', '21 2["x"]']),
      reply: ours([], err("InvalidAckId", 1, 0)) },
    { expect: null, name: "our error at another offset",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['21 2["x"]']),
      reply: ours([], err("InvalidAckId", 4, 0)) },
    { expect: null, name: "another error kind",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['21 2["x"]']),
      reply: ours([], err("InvalidJson", 1, 0)) },
  ],
  "eio-trailing-data": [
    { real: true, expect: "eio-trailing-data", name: "close with data",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "1xyz"),
      reply: ours([], err("UnexpectedData", 1, 0)) },
    { real: true, expect: "eio-trailing-data", name: "the second record of a v4 body",
      c: () => C.eioPayloadDecodeCase("eio4-malformed", 4, "4a\u001e1x"),
      reply: ours([{ type: "message", data: "a" }], err("UnexpectedData", 4, 1)) },
    { expect: null, name: "our error on the message record, not the close",
      c: () => C.eioPayloadDecodeCase("eio4-malformed", 4, "4a\u001e1x"),
      reply: ours([], err("UnexpectedData", 1, 0)) },
    { expect: null, name: "UnexpectedData on a message",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "4xyz"),
      reply: ours([], err("UnexpectedData", 1, 0)) },
    { expect: null, name: "our error at another offset",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "1xyz"),
      reply: ours([], err("UnexpectedData", 2, 0)) },
    { expect: null, name: "another error kind",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "1xyz"),
      reply: ours([], err("InvalidHandshake", 1, 0)) },
  ],
  "lenient-base64-two-byte-strings": [
    { expect: "lenient-base64-two-byte-strings", name: "with allow_lenient_base64: 'Ł' read as 'A' by Node, skipped by us",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "bQUJDŁŁ"),
      reply: ours([{ type: "message", data: { $bin: "414243" } }]) },
    { expect: "lenient-base64-two-byte-strings", name: "an emoji's high half read as '=' (v3 record)",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, "1:59:b4QUI😀JD"),
      reply: ours([{ type: "upgrade" }, { type: "message", data: { $bin: "414209" } }]) },
    { expect: null, name: "a value mismatch in a record without such a character, one in a later record",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, "6:b4QUJD2:4Ł"),
      reply: ours([{ type: "message", data: { $bin: "41424344" } }, { type: "message", data: "Ł" }]) },
    { expect: null, name: "bytes that are not the text with those characters skipped",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "bQUJDŁŁ"),
      reply: ours([{ type: "message", data: { $bin: "4142" } }]) },
    { expect: null, name: "a base64 text with a character above U+00FF whose low byte is not base64",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "bQUJDĀ"),
      reply: ours([{ type: "message", data: { $bin: "41" } }]) },
    { expect: "lenient-base64", name: "refusing it (strict default) is lenient-base64's, checked with the switch",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "bQUJDŁŁ"),
      reply: ours([], err("InvalidBase64", 1, 0)) },
  ],
  "lenient-base64": [
    { real: true, expect: "lenient-base64", name: "characters outside the alphabet",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "b!!!"),
      reply: ours([], err("InvalidBase64", 1, 0)) },
    { real: true, expect: "lenient-base64", name: "the second record",
      c: () => C.eioPayloadDecodeCase("eio4-malformed", 4, "bAQID\u001eb!!!"),
      reply: ours([{ type: "message", data: { $bin: "010203" } }], err("InvalidBase64", 7, 1)) },
    { real: true, expect: "lenient-base64", name: "stack: an attachment with stray padding",
      c: () => C.stackCase("stack4", 4, { payload: true, body: '451-["a",{"_placeholder":true,"num":0}]\u001ebAQ=D' }),
      reply: cli([], "invalid base64 at byte 41", 1) },
    { expect: null, name: "canonical base64 refused",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "bAQID"),
      reply: ours([], err("InvalidBase64", 1, 0)) },
    { expect: null, name: "our error on the valid record before the lenient one",
      c: () => C.eioPayloadDecodeCase("eio4-malformed", 4, "bAQID\u001eb!!!"),
      reply: ours([], err("InvalidBase64", 1, 0)) },
    { expect: null, name: "our error at another offset",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "b!!!"),
      reply: ours([], err("InvalidBase64", 2, 0)) },
    { expect: null, name: "another error kind",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "b!!!"),
      reply: ours([], err("InvalidUtf8", 1, 0)) },
  ],
  "eio3-binary-non-message": [
    { real: true, expect: "eio3-binary-non-message", name: "'b' with another type than 4",
      c: () => C.eioDecodeCase("eio3-malformed", 3, "b1AQ=="),
      reply: ours([], err("UnknownPacketType", 1, 0, "unknown packet type '1'")) },
    { real: true, expect: "eio3-binary-non-message", name: "a binary frame of type 1",
      c: () => C.eioDecodeCase("eio3-malformed", 3, B("0102")),
      reply: ours([], err("UnknownPacketType", 0, 0, "unknown packet type '\\u{1}'")) },
    { real: true, expect: "eio3-binary-non-message", name: "an empty binary frame",
      c: () => C.eioDecodeCase("eio3-malformed", 3, B("")),
      reply: ours([], err("Empty", 0, 0)) },
    { real: true, expect: "eio3-binary-non-message", name: "stack: the attachment frame",
      c: () => C.stackCase("stack3", 3, { frames: ['451-["a",{"_placeholder":true,"num":0}]', B("0101")] }),
      reply: cli([], "unknown packet type '\\u{1}' at byte 0", 1) },
    { expect: null, name: "a binary message ('b4') refused",
      c: () => C.eioDecodeCase("eio3-malformed", 3, "b4AQ=="),
      reply: ours([], err("UnknownPacketType", 1, 0, "unknown packet type '4'")) },
    { expect: null, name: "Empty for a frame that is not empty",
      c: () => C.eioDecodeCase("eio3-malformed", 3, B("0102")),
      reply: ours([], err("Empty", 0, 0)) },
    { expect: null, name: "our error on the text frame before the attachment",
      c: () => C.stackCase("stack3", 3, { frames: ['451-["a",{"_placeholder":true,"num":0}]', B("0101")] }),
      reply: cli([], "unknown packet type '5' at byte 0", 0) },
  ],
  "xhr2-lenient-framing": [
    { real: true, expect: "xhr2-lenient-framing", name: "a marker byte other than 0/1",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0201ff32")),
      reply: ours([], err("InvalidLength", 0, 0)) },
    { real: true, expect: "xhr2-lenient-framing", name: "a length past the body",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0005ff34")),
      reply: ours([], err("TruncatedPayload", 3, 0)) },
    { real: true, expect: "xhr2-lenient-framing", name: "the second record truncated",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0001ff340005ff34")),
      reply: ours([{ type: "message", data: "" }], err("TruncatedPayload", 7, 1)) },
    { expect: null, name: "accepting it with another value (the rule is that we refuse)",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0201ff32")),
      reply: ours([{ type: "message", data: "2" }]) },
    { expect: null, name: "TruncatedPayload on the complete record before the truncated one",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0001ff340005ff34")),
      reply: ours([], err("TruncatedPayload", 3, 0)) },
    { expect: null, name: "InvalidLength for a well-formed record",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0001ff34")),
      reply: ours([], err("InvalidLength", 0, 0)) },
    { expect: null, name: "another error kind at the bad marker",
      c: () => C.eioPayloadDecodeCase("eio3-malformed", 3, B("0201ff32")),
      reply: ours([], err("UnknownPacketType", 0, 0)) },
  ],
  "sio4-unknown-type-error-packet": [
    { real: true, expect: "sio4-unknown-type-error-packet", name: "type 7",
      c: () => C.sioDecodeCase("sio4-malformed", 4, ["7"]),
      reply: ours([], err("UnknownPacketType", 0, 0, "unknown packet type '7'")) },
    { real: true, expect: "sio4-unknown-type-error-packet", name: "the second frame",
      c: () => C.sioDecodeCase("sio4-malformed", 4, ['2["a"]', "7"]),
      reply: ours([{ type: 2, nsp: "/", data: ["a"] }], err("UnknownPacketType", 0, 1, "unknown packet type '7'")) },
    { real: true, expect: "sio4-unknown-type-error-packet", name: "stack: inside an EIO message",
      c: () => C.stackCase("stack3", 3, { frames: ["47"] }),
      reply: cli([], "unknown packet type '7' at byte 1", 0) },
    { expect: null, name: "our error on the frame before",
      c: () => C.sioDecodeCase("sio4-malformed", 4, ['2["a"]', "7"]),
      reply: ours([], err("UnknownPacketType", 0, 0)) },
    { expect: null, name: "our error at another offset",
      c: () => C.sioDecodeCase("sio4-malformed", 4, ["7"]),
      reply: ours([], err("UnknownPacketType", 1, 0)) },
    { expect: null, name: "a known type refused with that kind",
      c: () => C.sioDecodeCase("sio4-malformed", 4, ['2["a"]']),
      reply: ours([], err("UnknownPacketType", 0, 0)) },
  ],
  "eio-open-handshake": [
    { real: true, expect: "eio-open-handshake", name: "an empty object",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "0{}"),
      reply: ours([], err("InvalidHandshake", 1, 0)) },
    { real: true, expect: "eio-open-handshake", name: "an integer field spelled as a float",
      c: () => C.eioDecodeCase("eio3-malformed", 3, '0{"sid":"a","upgrades":[],"pingInterval":1.0,"pingTimeout":1}'),
      reply: ours([], err("InvalidHandshake", 1, 0)) },
    { real: true, expect: "eio-open-handshake", name: "the second record",
      c: () => C.eioPayloadDecodeCase("eio4-malformed", 4, '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}\u001e0{}'),
      reply: ours([{ type: "open", data: '{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}' }], err("InvalidHandshake", 71, 1)) },
    { expect: null, name: "a valid handshake refused",
      c: () => C.eioDecodeCase("eio4-malformed", 4, '0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'),
      reply: ours([], err("InvalidHandshake", 1, 0)) },
    { expect: null, name: "the valid first record refused (the invalid one comes later)",
      c: () => C.eioPayloadDecodeCase("eio4-malformed", 4, '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}\u001e0{}'),
      reply: ours([], err("InvalidHandshake", 1, 0)) },
    { expect: null, name: "another error kind",
      c: () => C.eioDecodeCase("eio4-malformed", 4, "0{}"),
      reply: ours([], err("InvalidJson", 1, 0)) },
  ],
  "placeholder-non-integer-num": [
    { real: true, expect: "placeholder-non-integer-num", name: "num 0.5",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['51-["a",{"_placeholder":true,"num":0.5}]', B("01")]),
      reply: ours([], err("InvalidPlaceholder", 3, 1)) },
    { real: true, expect: "placeholder-non-integer-num", name: "stack",
      c: () => C.stackCase("stack4", 4, { frames: ['451-["a",{"_placeholder":true,"num":0.5}]', B("01")] }),
      reply: cli([], "placeholder refers to no attachment at byte 3", 1) },
    { expect: null, name: "an integer num refused",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['51-["a",{"_placeholder":true,"num":0}]', B("01")]),
      reply: ours([], err("InvalidPlaceholder", 3, 1)) },
    { expect: null, name: "the packet before the one with num 0.5 refused",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['51-["a",{"_placeholder":true,"num":0}]', B("01"), '51-["a",{"_placeholder":true,"num":0.5}]', B("01")]),
      reply: ours([], err("InvalidPlaceholder", 3, 1)) },
    { expect: null, name: "another error kind",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['51-["a",{"_placeholder":true,"num":0.5}]', B("01")]),
      reply: ours([], err("InvalidJson", 3, 1)) },
    { expect: null, name: "our error on the packet text, not on the attachment",
      c: () => C.sioDecodeCase("sio5-malformed", 5, ['51-["a",{"_placeholder":true,"num":0.5}]', B("01")]),
      reply: ours([], err("InvalidPlaceholder", 3, 0)) },
  ],
  "reference-crash-on-message-without-data": [
    { real: true, expect: "reference-crash-on-message-without-data", name: "'4' alone",
      c: () => C.stackCase("stack4", 4, { frames: ["4"] }),
      reply: cli([{ type: 0, nsp: "/" }]) },
    { real: true, expect: "reference-crash-on-message-without-data", name: "v3 body '1:4'",
      c: () => C.stackCase("stack3", 3, { payload: true, body: "1:4" }),
      reply: cli([{ type: 0, nsp: "/" }]) },
    { real: true, expect: "reference-crash-on-message-without-data", name: "our later error is not compared",
      c: () => C.stackCase("stack4", 4, { frames: ["4", B("16c4")] }),
      reply: cli([{ type: 0, nsp: "/" }], "binary attachment without a pending binary packet at byte 0", 1) },
    { real: true, expect: "reference-crash-on-message-without-data", name: "after a packet both delivered",
      c: () => C.stackCase("stack4", 4, { frames: ['42["a"]', "4"] }),
      reply: cli([{ type: 2, nsp: "/", data: ["a"] }, { type: 0, nsp: "/" }]) },
    { expect: null, name: "a value mismatch in the frame before the crash",
      c: () => C.stackCase("stack4", 4, { frames: ['42["a"]', "4"] }),
      reply: cli([{ type: 2, nsp: "/", data: ["b"] }, { type: 0, nsp: "/" }]) },
    { expect: null, name: "something else than CONNECT for the message without data",
      c: () => C.stackCase("stack4", 4, { frames: ["4"] }),
      reply: cli([{ type: 2, nsp: "/", data: [] }]) },
  ],
};

test("every entry of known-differences.json has examples both ways", () => {
  for (const e of known.entries) {
    const list = EXAMPLES[e.id] || [];
    assert.ok(list.some((x) => x.expect === e.id), `${e.id}: no example it excuses`);
    assert.ok(list.some((x) => x.expect === null), `${e.id}: no made-up divergence it must not excuse`);
  }
  for (const id of Object.keys(EXAMPLES)) assert.ok(known.entries.some((e) => e.id === id), `examples for unknown entry ${id}`);
});

for (const [id, list] of Object.entries(EXAMPLES)) {
  test(id, async (t) => {
    for (const x of list) {
      await t.test(`${x.expect ? "excused" : "not excused"}: ${x.name}`, () => {
        const c = x.c();
        const { id: got, d } = explain(c, x.reply);
        const where = JSON.stringify(site.locate(c, d), (k, v) => (k === "unit" && v ? v.kind : v));
        assert.equal(got, x.expect, `${d.type} at ${where}`);
      });
    }
  });
}

test("validHandshake reads a handshake as Handshake::parse does", () => {
  assert.ok(validHandshake('{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2}'));
  assert.ok(validHandshake('{"sid":"a","upgrades":["websocket"],"pingInterval":1,"pingTimeout":2,"maxPayload":null,"x":[1,{"y":2}]}'));
  assert.ok(validHandshake(' {"pingTimeout":2,"upgrades":[],"sid":"a\\u00e9","pingInterval":18446744073709551615} '));
  assert.ok(!validHandshake('{"sid":"a","upgrades":[],"pingInterval":1e3,"pingTimeout":2}'));
  assert.ok(!validHandshake('{"sid":"a","upgrades":[],"pingInterval":-1,"pingTimeout":2}'));
  assert.ok(!validHandshake('{"sid":"a","upgrades":[],"pingInterval":18446744073709551616,"pingTimeout":2}'));
  assert.ok(!validHandshake('{"sid":"a","sid":"b","upgrades":[],"pingInterval":1,"pingTimeout":2}'));
  assert.ok(!validHandshake('{"sid":1,"upgrades":[],"pingInterval":1,"pingTimeout":2}'));
  assert.ok(!validHandshake('{"sid":"a","upgrades":[1],"pingInterval":1,"pingTimeout":2}'));
  assert.ok(!validHandshake('{"sid":"a","upgrades":[],"pingInterval":1}'));
  assert.ok(!validHandshake('{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":"1"}'));
  assert.ok(!validHandshake('{"sid":"\\ud800","upgrades":[],"pingInterval":1,"pingTimeout":2}'));
  assert.ok(!validHandshake("[]"));
  assert.ok(!validHandshake(""));
});

test("canonicalBase64 is the codec's strict reading", () => {
  for (const s of ["", "AQID", "AQ", "AQ==", "AQI", "AQI="]) assert.ok(canonicalBase64(s), s);
  for (const s of ["A", "AR", "AQ=", "AQ===", "AQI==", "A-_B", "AQ ID", "AQ==AQ==", "!!!"]) assert.ok(!canonicalBase64(s), s);
});

test("units and cuts: our framing of polling bodies", () => {
  const v3 = site.units({ category: "eio3-malformed", input: { body: "1:50:4:4é😀2:6" } });
  assert.deepEqual(v3.map((u) => [u.start, u.dataStart, u.end, u.text, !!u.broken]), [
    [0, 2, 3, "5", false],
    [5, 7, 14, "4é😀", false], // "0:" yields no unit; é is 2 bytes, 😀 4 bytes and 2 units
    [14, 16, 17, "6", true],
  ]);
  const v4 = site.units({ category: "stack4", input: { body: "4é\u001e2" } });
  assert.deepEqual(site.cuts({ category: "stack4", input: { body: "4é\u001e2" } }), [3, 5]);
  assert.deepEqual(v4.map((u) => u.text), ["4é", "2"]);
  const x = site.units({ category: "eio3-malformed", input: { body: B("0001ff340101ff0402") } });
  assert.deepEqual(x.map((u) => [u.marker, u.start, u.end, !!u.broken]), [[0, 0, 4, false], [1, 4, 8, false], [2, 8, 9, true]]);
});

// The recorded replies above are what the driver answers (skipped without a driver).
const driverPath = process.env.DIFFERENTIAL_DRIVER;
test("recorded replies are the driver's", { skip: !driverPath && "DIFFERENTIAL_DRIVER is not set" }, () => {
  const real = Object.values(EXAMPLES).flat().filter((x) => x.real);
  const cases = real.map((x) => x.c());
  const replies = new Driver(driverPath).run(cases.map((c) => c.request));
  real.forEach((x, i) => {
    const norm = (r) => JSON.parse(JSON.stringify(r));
    assert.deepEqual(norm(replies[i]), norm(x.reply), `${x.name}: ${JSON.stringify(cases[i].request)}`);
  });
});
