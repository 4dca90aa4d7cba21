"use strict";
// Hand-picked MALFORMED / edge inputs: every row of protocol.md 2.4's decoder edge table, the
// Engine.IO rows of 1.3/1.4/1.12, and inputs aimed at JavaScript coercion, JSON.parse and
// placeholder quirks. They run in every malformed category, whatever the count.
// A frame is a string (text) or `B("hex")` (binary).

const B = (hex) => Buffer.from(hex.replace(/\s+/g, ""), "hex");
const PH = (n) => `{"_placeholder":true,"num":${n}}`;
const nest = (d, inner = "1") => "[".repeat(d) + inner + "]".repeat(d);

/** Socket.IO frame sequences (bare packets, no Engine.IO prefix); both v5 and v4 run them. */
const SIO = [
  // protocol.md 2.4 table
  ["0"], ["0{}"], ["0/admin"], ["0/admin?token=123,"], ["0[]"], ["0null"], ['0"str"'],
  ["1{}"], ["1/admin,{}"], ["2[]"], ["2[1]"], ['2[null,"bar"]'], ['2[true,"foo"]'], ["2{}"], ['2"str"'],
  ['2["connect"]'], ['2["disconnect","123"]'], ['2["newListener"]'], ['2["connect_error"]'], ['2["disconnecting"]'],
  ['2["removeListener"]'], ['2["error"]'], ["2"], ["2/admin"], ["2/admin,"], ["2123"], ['2abc["a"]'],
  ['2admin,["a"]'], ['2 ["a"]'], ["3[]"], ["312"], ["012"], ["15"], ["1/admin,5"], ['4"Not authorized"'],
  ['4{"message":"x"}'], ["4[]"], ["4null"], ['442["some","data"'], ["5"], ["51"], ["5a-"], ["51.23-"], ["5-1-"],
  ['50-["a"]'], ['5-["a"]'], ['511-["a"]'], ["7"], ["9"], ["a"], ["-"], [""], [" "],
  [`51-["a",${PH(0)}]`, B("01")],
  // attachment counts through Number()
  [`5 1-["a",${PH(0)}]`, B("01")], [`51 -["a",${PH(0)}]`, B("01")], [`50x1-["a",${PH(0)}]`, B("01")],
  [`50X1-["a",${PH(0)}]`, B("01")], [`50b1-["a",${PH(0)}]`, B("01")], [`50o1-["a",${PH(0)}]`, B("01")],
  [`50x+1-["a",${PH(0)}]`, B("01")], [`50x-1-["a",${PH(0)}]`, B("01")], [`50b+1-["a",${PH(0)}]`, B("01")],
  [`51e0-["a",${PH(0)}]`, B("01")], [`51.0-["a",${PH(0)}]`, B("01")], [`51.-["a",${PH(0)}]`, B("01")],
  [`5.1e1-["a",${PH(0)}]`, B("01")], [`5+1-["a",${PH(0)}]`, B("01")], [`5\u00a01-["a",${PH(0)}]`, B("01")],
  [`5\ufeff1-["a",${PH(0)}]`, B("01")], [`5\u180e1-["a",${PH(0)}]`, B("01")], [`5Infinity-["a",${PH(0)}]`, B("01")],
  [`501-["a",${PH(0)}]`, B("01")], [`510-["a",${PH(0)}]`, ...Array.from({ length: 10 }, () => B("01"))],
  [`50x0a-["a",${PH(0)}]`, ...Array.from({ length: 10 }, () => B("01"))],
  // ack ids: whitespace counts as a digit, NaN ids, the 2^53 boundary, leading zeros
  ['2 1 ["a"]'], ['21 2["x"]'], ['2\t["a"]'], ['2\n["a"]'], ['2\u00a0["a"]'], ['2\u2028["a"]'], ['2\ufeff["a"]'],
  ['2\u180e["a"]'], ['2/admin, ["a"]'], ["2 "], ["2  "], ['200["a"]'], ['2007["a"]'], ['29007199254740991["x"]'],
  ['29007199254740992["x"]'], ['29007199254740993["x"]'], ['2123456789012345678901["x"]'],
  ['2 9007199254740993["x"]'], ['2000000000000000000001["x"]'],
  // the type character
  ["\t"], ["\n"], ["\u00a0"], [" {}"], ['\u2028{"a":1}'], ["\ufeff"], ["\u180e"], ["😀"], ["\u0000"], ["07"], ["0 "],
  // JSON.parse vs serde_json
  ['2["a"] '], ['2["a"]\n'], ['2 ["a"] '], ['2["a",]'], ["2['a']"], ['2["\\ud800"]'], ['2["\\udc00"]'],
  ['2["a","\\ud83d\\ude00"]'], ['2["a","\\ud800\\u0041"]'], ['2["a","\\u0000"]'], ['2["a"]x'], ['2["a"]["b"]'],
  ['2["a",-0]'], ['2["a",1E5]'], ['2["a",01]'], ['2["a",.5]'], ['2["a",+1]'], ["2[-1]"], ["2[1.5]"], ["2[-0]"],
  ["2[1e400]"], ["2[-1e400]"], ['2["a",1e400]'], ["2[1e308]"], ["2[4.9e-325]"], ['2["a",123456789012345678901234567890]'],
  ['2["a"\u2028]'], ['2["a",\u00a01]'], ['2["a",\t1]'], ['2["a\u2028"]'], ['2["a\u0001"]'], ['0{"a":1,"a":2}'],
  ['2["a",{"__proto__":{"x":1}}]'], ['0{"__proto__":[]}'], ['2["a","\\x41"]'], ['2["a","\\u00"]'],
  // payload shapes
  ['4["a"]'], ["41"], ["4true"], ['0"x"'], ["0 {}"], ["1 "], ["3{}"], ['3"x"'], ['6-["a"]'], ['61-[]'],
  // namespaces
  ['2/,["a"]'], ["2/"], ["0/"], ['2/a/b,["a"]'], ['2/admin?x=1,["a"]'], ['2/admin,,["a"]'], ['2//,["a"]'],
  ['2/admin,1["a"]'], ['2/ad min,["a"]'], ["0/\u0000,"], ['2/admin 1["a"]'],
  // placeholders
  [`51-["a",{"_placeholder":true,"num":0.5}]`, B("01")], [`51-["a",{"_placeholder":true,"num":-1}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":"0"}]`, B("01")], [`51-["a",{"_placeholder":true,"num":1}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":1e0}]`, B("01")], [`51-["a",{"_placeholder":true,"num":0.0}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":-0}]`, B("01")], [`51-["a",{"_placeholder":true,"num":1e-400}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":1e400}]`, B("01")], [`51-["a",{"_placeholder":true}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":null}]`, B("01")], [`51-["a",{"_placeholder":"true","num":5}]`, B("01")],
  [`51-["a",{"_placeholder":1,"num":5}]`, B("01")], [`52-["a",${PH(0)}]`, B("01"), B("02")],
  [`51-["a",{"_placeholder":true,"num":0,"_placeholder":false}]`, B("01")],
  [`51-["a",{"_placeholder":false,"_placeholder":true,"num":0}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":0,"num":7}]`, B("01")],
  [`51-["a",{"_placeholder":true,"num":0,"x":${PH(9)}}]`, B("01")],
  [`51-["a",{"x":${PH(9)},"_placeholder":true,"num":0}]`, B("01")],
  [`51-["a",{"__proto__":${PH(0)}}]`, B("01")], [`51-[${PH(0)}]`, B("01")], [`51-["a"]`, B("01")],
  [`51-["a",[${PH(0)},${PH(0)}]]`, B("01")], [`61-${PH(0)}`, B("01")], [`61-[${PH(0)}]`, B("01")],
  [`51-0{}`, B("01")], [`51-/admin,7["a",${PH(0)}]`, B("")], ['2["p",{"_placeholder":true,"num":0}]'],
  ['2["p",{"_placeholder":true,"num":0.5}]'], ['0{"_placeholder":true,"num":0}'],
  // JSON nesting around the documented limit of 128 levels (arrays count from the payload)
  [`2["a",${nest(126)}]`], [`2["a",${nest(127)}]`], [`2["a",${nest(128)}]`], [`2["a",${nest(129)}]`], [`2["a",${nest(1000)}]`],
  [`0${'{"a":'.repeat(128)}1${"}".repeat(128)}`], [`0${'{"a":'.repeat(129)}1${"}".repeat(129)}`],
  [`3${nest(128, "")}`], [`3${nest(129, "")}`],
  [`51-["a",${PH(0)},${nest(125)}]`, B("01")], [`51-["a",${PH(0)},${nest(126)}]`, B("01")],
  [`51-["a",${PH(0)},${nest(127)}]`, B("01")], [`51-["a",${PH(0)},${nest(128)}]`, B("01")],
  [`51-["a",${PH(0)},${nest(129)}]`, B("01")], [`51-["a",${nest(126, PH(0))}]`, B("01")],
  [`51-["a",${nest(127, PH(0))}]`, B("01")], [`51-["a",${nest(200, PH(0))}]`, B("01")],
  // stream order
  ['2["a"]', B("01")], [`51-["a",${PH(0)}]`, '2["b"]'], [`51-["a",${PH(0)}]`], [B("01")],
  [`52-["a",${PH(0)},${PH(1)}]`, B("01")], [`51-["a",${PH(0)}]`, B("01"), B("02")],
  [`51-["a",${PH(0)}]`, B(""), '2["b"]'], ['2["a"]', '3[]', "0"],
];

/** Engine.IO single frames; v4 and v3 both run them (`b4…` matters for v3). */
const EIO_FRAMES = [
  "", "0", "0{}", '0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2}', "0x", "1", "1xyz", "1 ", "2", "2probe",
  "3", "3probe", "4", "4hello", "4 ", "5", "5x", "6", "6x", "7", "a", " ", "-1", "b", "bAQID", "bAQIDBA==", "bAQIDBA",
  "bAQIDBA=", "b!!!", "bAQ ID", "bAQ=ID", "b-_8", "b_-8", "bA", "bAA=", "bAB=", "bAA", "b====", "b=", "bAQ\nID",
  "b4AQID", "b4", "b4!!!", "b1AQID", "b0", "b7AQ==", "bx", "b4AQIDBA==", "b4A", "\u00004", "44", "4\u001e",
  "4\ud83d\ude00", "\ufeff4", "٤", "０",
  B(""), B("01"), B("04"), B("0401"), B("07"), B("0001"), B("ff"),
];

/** Engine.IO v4 polling bodies (text). */
const EIO4_PAYLOADS = [
  "4hello\u001e2\u001e4world", "4hello\u001e", "\u001e4hello", "4a\u001e\u001e4b", "", "\u001e", "6\u001e1",
  "4hello\u001ebAQIDBA==", "b!!!\u001e4x", "7\u001e4x", "4x\u001e7", "4x\u001e1xyz\u001e4y", "b\u001eb", "0\u001e4",
  "4\u001e4", "2probe\u001e3probe", "\u001e\u001e",
];

/** Engine.IO v3 text payloads. */
const EIO3_TEXT_PAYLOADS = [
  "6:4hello", "0:", "", "01:2", " 1:2", "1 :2", "0x1:2", "0x+1:2", "0b+1:2", "+1:2", "1.0:2", "1e0:2", "1.:2", ".1e1:2",
  "1:b", "2:b4", "2:bx", "3:b1A", "1:2x:2", "5:4a", "2:4😀", "3:4😀", "4:4😀", "1:", ":", "1:2:", "6:4hello0:",
  "0:0:", "10:b4AQIDBA==", "1\u00a0:2", "\u30001:2", "\ufeff1:2", "\t1:2", "1\n:2", "-1:2", "Infinity:2", "00:",
  "2:4€", "6:4hello2:4€", "3:4😀3:4😀", "2:b4", "4:b4AQ", "5:b4!!!", "1:7", "1:a", "2:1x", "1:0",
  "9007199254740993:4", "99999999999999999999999:4", "6:4hello1", "6:4hello:", "12:4hello",
];

/** Engine.IO v3 XHR2 binary payloads. */
const EIO3_BINARY_PAYLOADS = [
  B("00 06 ff 34 68 65 6c 6c 6f 01 05 ff 04 01 02 03 04"), B("00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04"),
  B(""), B("02 01 ff 32"), B("00 05 ff 34"), B("00 01 ff 32 00 0a ff"), B("00 0c ff 34 68 65 6c 6c 6f 20 77 6f 72 6c 64"),
  B("01 01 ff 01"), B("01 02 ff 01 01"), B("01 00 ff"), B("00 00 ff"), B("01 01 ff 04"), B("00 01 ff 34"),
  B("00 ff 34"), B("00 01"), B("00"), B("01"), B("ff"), B("00 01 ff 32 05 01 ff 32"), B("00 02 ff 34 c3"),
  B("00 04 ff 34 ed a0 80"), B("00 03 ff 34 c3 a9"), B("00 02 ff 62 34"), B("00 06 ff 62 34 41 51 3d 3d"),
  B("00 06 ff 62 31 41 51 3d 3d"), B("00 01 00 ff 34 30 30 30 30 30 30 30 30 30"), B(`00 ${"00 ".repeat(311)} ff`),
  B(`00 ${"00 ".repeat(309)} 01 ff 34`), B("03 01 ff 32"), B("00 0a 0a ff 34"),
];

/** Whole-stack Engine.IO frame sequences (v4: EIO4 frames carrying Socket.IO v5). */
const STACK4 = [
  ["4"], ["40"], ["4 "], ['42["a"]'], [`451-["a",${PH(0)}]`, B("01")], ["41"], ["4"], ["4\t"], ["40/admin,"],
  ['42["a"]', B("01")], [`451-["a",${PH(0)}]`, "2"], [`451-["a",${PH(0)}]`, "4"], ["2", "3", "6"], ["1xyz"],
  ["bAQID"], [`451-["a",${PH(0)}]`, "bAQID"],
];
const STACK4_PAYLOADS = ["4\u001e40", "40\u001e4", `451-["a",${PH(0)}]\u001ebAQID`, `451-["a",${PH(0)}]\u001e`, "4", "2\u001e4"];

/** Whole-stack Engine.IO v3 frames (carrying Socket.IO v4). */
const STACK3 = [
  ["4"], ["40"], ["4 "], ['42["a"]'], [`451-["a",${PH(0)}]`, B("0401")], [`451-["a",${PH(0)}]`, B("0101")],
  [`451-["a",${PH(0)}]`, "b4AQID"], [`451-["a",${PH(0)}]`, "b1AQID"], ["47"], ["4a"], ['42["connect"]'], ["40null"],
];
const STACK3_PAYLOADS = [
  "1:4", "2:40", "2:4 ", `${`451-["a",${PH(0)}]`.length}:451-["a",${PH(0)}]6:b4AQID`, "2:47", "0:",
  B("00 01 ff 34"), B("00 02 ff 34 30"), B("00 1f ff"), B("01 01 ff 04"),
];

module.exports = { B, SIO, EIO_FRAMES, EIO4_PAYLOADS, EIO3_TEXT_PAYLOADS, EIO3_BINARY_PAYLOADS, STACK4, STACK4_PAYLOADS, STACK3, STACK3_PAYLOADS };
