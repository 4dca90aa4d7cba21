//! The 19-case benchmark corpus of `performance.md` §6.2, built deterministically.
//!
//! Every case has the exact byte size of the design table. Where the table only describes the
//! content ("a realistic object array"), the generator below defines it: a fixed-seed
//! xorshift generator fills the values and the last element is padded with `x` to hit the
//! size. The same bytes are written to `benches/corpus/manifest.json` (`gen-corpus`) for the
//! Node harness, and a test keeps the file in sync with this module.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use core::fmt::Write as _;

/// What a case is decoded as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Socket.IO packet (the data of an Engine.IO message), maybe with binary attachments.
    Sio,
    /// One Engine.IO v4 text packet (a WebSocket text frame).
    Eio,
    /// An Engine.IO v4 polling body (packets joined by `\x1e`).
    EioPayloadV4,
    /// An Engine.IO v3 polling body (`<utf16 length>:<packet>` records).
    EioPayloadV3,
}

impl Kind {
    /// The name used in the manifest.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sio => "sio",
            Self::Eio => "eio",
            Self::EioPayloadV4 => "eio_payload_v4",
            Self::EioPayloadV3 => "eio_payload_v3",
        }
    }
}

/// One corpus entry.
#[derive(Clone, Debug)]
pub struct Case {
    /// Stable name, used as the last part of every benchmark id.
    pub name: &'static str,
    /// How to decode it.
    pub kind: Kind,
    /// The text frame (or polling body).
    pub text: String,
    /// Binary attachments that follow a binary Socket.IO packet, in order.
    pub attachments: Vec<Vec<u8>>,
}

impl Case {
    /// Total input bytes: the text plus every attachment (the throughput of a decode).
    pub fn total_len(&self) -> usize {
        self.text.len() + self.attachments.iter().map(Vec::len).sum::<usize>()
    }

    /// Whether the case carries binary attachments.
    pub fn is_binary(&self) -> bool {
        !self.attachments.is_empty()
    }
}

/// Case names in the order of the design table.
pub const NAMES: [&str; 19] = [
    "tiny_event",
    "event_ns_ack",
    "ack",
    "connect_auth",
    "disconnect_ns",
    "unicode_event",
    "medium_1k",
    "large_64k",
    "large_string_64k",
    "bin_event_1",
    "bin_event_3",
    "bin_ack_1",
    "eio_ping",
    "eio_probe",
    "eio_msg_tiny",
    "eio_msg_64k",
    "eio_b64_1k",
    "payload_v4_100",
    "payload_v3_100",
];

/// The byte sizes of the design table (text, then each attachment).
pub const SIZES: [(&str, usize, &[usize]); 19] = [
    ("tiny_event", 22, &[]),
    ("event_ns_ack", 57, &[]),
    ("ack", 38, &[]),
    ("connect_auth", 26, &[]),
    ("disconnect_ns", 8, &[]),
    ("unicode_event", 68, &[]),
    ("medium_1k", 1036, &[]),
    ("large_64k", 65570, &[]),
    ("large_string_64k", 65548, &[]),
    ("bin_event_1", 67, &[1024]),
    ("bin_event_3", 118, &[16, 1024, 65536]),
    ("bin_ack_1", 42, &[256]),
    ("eio_ping", 1, &[]),
    ("eio_probe", 6, &[]),
    ("eio_msg_tiny", 23, &[]),
    ("eio_msg_64k", 65571, &[]),
    ("eio_b64_1k", 1369, &[]),
    ("payload_v4_100", 4317, &[]),
    ("payload_v3_100", 3918, &[]),
];

/// Every case, in table order.
pub fn all() -> Vec<Case> {
    NAMES.iter().map(|name| case(name)).collect()
}

/// The cases of one kind, in table order.
pub fn of_kind(kind: Kind) -> Vec<Case> {
    all().into_iter().filter(|c| c.kind == kind).collect()
}

/// One case by name.
///
/// # Panics
/// On a name that is not in [`NAMES`].
pub fn case(name: &str) -> Case {
    let sio = |name, text: String| Case {
        name,
        kind: Kind::Sio,
        text,
        attachments: Vec::new(),
    };
    let eio = |name, text: String| Case {
        name,
        kind: Kind::Eio,
        text,
        attachments: Vec::new(),
    };
    match name {
        "tiny_event" => sio("tiny_event", TINY_EVENT.into()),
        "event_ns_ack" => sio(
            "event_ns_ack",
            r#"2/admin,13["update",{"id":42,"tags":["a","b"],"ok":true}]"#.into(),
        ),
        "ack" => sio("ack", r#"313[{"status":200,"ts":1700000000000}]"#.into()),
        "connect_auth" => sio("connect_auth", r#"0/admin,{"token":"abc123"}"#.into()),
        "disconnect_ns" => sio("disconnect_ns", "1/admin,".into()),
        // Raw non-ASCII (é, ö, ✓), `\u` escapes and an escaped surrogate pair (U+1F600).
        "unicode_event" => sio(
            "unicode_event",
            r#"2["unicode",{"text":"héllo wörld ✓","esc":"\u00e9\ud83d\ude00"}]"#.into(),
        ),
        "medium_1k" => sio("medium_1k", bulk(1036, false)),
        "large_64k" => sio("large_64k", bulk(65570, true)),
        "large_string_64k" => sio(
            "large_string_64k",
            format!(r#"2["blob","{}"]"#, "a".repeat(65536)),
        ),
        "bin_event_1" => Case {
            name: "bin_event_1",
            kind: Kind::Sio,
            text: format!(
                r#"51-["upload",{{"name":"f.png","data":{}}}]"#,
                placeholder(0)
            ),
            attachments: vec![bytes(1, 1024)],
        },
        "bin_event_3" => Case {
            name: "bin_event_3",
            kind: Kind::Sio,
            text: format!(
                r#"53-/files,7["multi",{},{{"a":{}}},[{}]]"#,
                placeholder(0),
                placeholder(1),
                placeholder(2)
            ),
            attachments: vec![bytes(2, 16), bytes(3, 1024), bytes(4, 65536)],
        },
        "bin_ack_1" => Case {
            name: "bin_ack_1",
            kind: Kind::Sio,
            text: format!("61-/files,7[{}]", placeholder(0)),
            attachments: vec![bytes(5, 256)],
        },
        "eio_ping" => eio("eio_ping", "2".into()),
        "eio_probe" => eio("eio_probe", "3probe".into()),
        "eio_msg_tiny" => eio("eio_msg_tiny", format!("4{TINY_EVENT}")),
        "eio_msg_64k" => eio("eio_msg_64k", format!("4{}", bulk(65570, true))),
        "eio_b64_1k" => eio(
            "eio_b64_1k",
            format!("b{}", STANDARD.encode(bytes(6, 1024))),
        ),
        "payload_v4_100" => Case {
            name: "payload_v4_100",
            kind: Kind::EioPayloadV4,
            text: padded(4317, payload_v4),
            attachments: Vec::new(),
        },
        "payload_v3_100" => Case {
            name: "payload_v3_100",
            kind: Kind::EioPayloadV3,
            text: padded(3918, payload_v3),
            attachments: Vec::new(),
        },
        other => panic!("unknown corpus case {other:?}"),
    }
}

const TINY_EVENT: &str = r#"2["chat",{"msg":"hi"}]"#;

fn placeholder(num: usize) -> String {
    format!(r#"{{"_placeholder":true,"num":{num}}}"#)
}

/// xorshift64*: tiny, fixed-seed, good enough to vary values.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `len` pseudo-random bytes.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| (rng.next() >> 56) as u8).collect()
}

const COLORS: [&str; 5] = ["red", "green", "blue", "black", "white"];
const SIZES_TAG: [&str; 4] = ["s", "m", "l", "xl"];
const USERS: [&str; 6] = ["zoë", "jürgen", "ana", "日本", "李雷", "océane"];
const WORDS: [&str; 5] = ["naïve", "ß", "ümlaut", "東京", "ok"];

/// One array item of `bulk`, a pure function of `i` (and `pad` extra `x` in a string).
fn item(i: u64, rich: bool, pad: usize) -> String {
    let mut rng = Rng::new(0x5eed ^ (i << 8) ^ u64::from(rich));
    let pad = "x".repeat(pad);
    if rich {
        let user = USERS[rng.below(6) as usize];
        let score = rng.below(20_000) as i64 - 10_000;
        let ratio = rng.below(999) + 1;
        let active = rng.below(2) == 0;
        let parent = if rng.below(3) == 0 {
            "null".to_string()
        } else {
            rng.below(1000).to_string()
        };
        let (w1, w2) = (WORDS[rng.below(5) as usize], WORDS[rng.below(5) as usize]);
        let (lat, lon) = (rng.below(180_000_000), rng.below(360_000_000));
        format!(
            r#"{{"id":{i},"user":"{user}-{i}{pad}","score":{}.{:02},"ratio":{ratio}e-4,"active":{active},"parent":{parent},"tags":["{w1}","{w2}"],"geo":{{"lat":{}.{:06},"lon":{}.{:06}}}}}"#,
            score / 100,
            score.unsigned_abs() % 100,
            lat / 1_000_000,
            lat % 1_000_000,
            lon / 1_000_000,
            lon % 1_000_000,
        )
    } else {
        let price = rng.below(10_000);
        let qty = rng.below(20);
        let active = rng.below(4) != 0;
        let (c, s) = (
            COLORS[rng.below(5) as usize],
            SIZES_TAG[rng.below(4) as usize],
        );
        format!(
            r#"{{"id":{i},"name":"item-{i}{pad}","price":{}.{:02},"qty":{qty},"active":{active},"tags":["{c}","{s}"]}}"#,
            price / 100,
            price % 100
        )
    }
}

/// `2["bulk",{"items":[…]}]` of exactly `target` bytes.
fn bulk(target: usize, rich: bool) -> String {
    const HEAD: &str = r#"2["bulk",{"items":["#;
    const TAIL: &str = "]}]";
    let mut items: Vec<String> = Vec::new();
    let mut len = HEAD.len() + TAIL.len();
    loop {
        let next = item(items.len() as u64, rich, 0);
        let add = next.len() + usize::from(!items.is_empty());
        if len + add > target {
            break;
        }
        len += add;
        items.push(next);
    }
    // Fill the gap (smaller than one item) inside the last item's name.
    let last = items.len() as u64 - 1;
    if let Some(slot) = items.last_mut() {
        *slot = item(last, rich, target - len);
    }
    let out = format!("{HEAD}{}{TAIL}", items.join(","));
    assert_eq!(out.len(), target, "bulk generator");
    out
}

/// Calls `build(pad)` with growing padding until the output is exactly `target` bytes.
fn padded(target: usize, build: fn(usize) -> String) -> String {
    (0..4096)
        .map(build)
        .find(|s| s.len() == target)
        .unwrap_or_else(|| panic!("no padding reaches {target} bytes"))
}

/// The 100 packets shared by both payload cases: mostly events, some pongs, 4 binary.
/// `v3` adds non-BMP characters. The last event carries `pad` extra characters.
fn payload_packets(pad: usize, v3: bool) -> Vec<String> {
    payload_records(100, pad, v3)
}

/// `count` packets of the payload cases' mix (the first 100 are those of the corpus). The
/// packet at index 99 carries `pad` extra characters (if it is an event).
fn payload_records(count: u64, pad: usize, v3: bool) -> Vec<String> {
    let mut rng = Rng::new(if v3 { 33 } else { 44 });
    (0..count)
        .map(|i| {
            if i % 25 == 12 {
                let len = 24 + rng.below(16) as usize;
                let data = STANDARD.encode(bytes(100 + i, len));
                if v3 {
                    format!("b4{data}")
                } else {
                    format!("b{data}")
                }
            } else if i % 8 == 7 {
                "3".to_string()
            } else {
                let extra = if i == 99 {
                    "x".repeat(pad)
                } else {
                    String::new()
                };
                let user = USERS[rng.below(6) as usize];
                let n = rng.below(1000);
                let emoji = if v3 && i % 3 == 0 { "😀" } else { "" };
                if v3 {
                    format!(r#"42["chat",{{"u":"{user}","msg":"hi {i}{emoji}{extra}"}}]"#)
                } else {
                    format!(r#"42["chat",{{"u":"{user}","n":{n},"msg":"hi {i}{extra}"}}]"#)
                }
            }
        })
        .collect()
}

fn payload_v4(pad: usize) -> String {
    payload_packets(pad, false).join("\u{1e}")
}

fn payload_v3(pad: usize) -> String {
    let mut out = String::new();
    for packet in payload_packets(pad, true) {
        let units = packet.encode_utf16().count();
        let _ = write!(out, "{units}:{packet}");
    }
    out
}

/// Inputs of the scaling benchmarks (`benches/scaling.rs`): the corpus's shapes, grown.
pub mod scaling {
    use super::{bytes, payload_records, placeholder};

    /// A Socket.IO event `2["bulk",{"items":[…]}]` of exactly `len` bytes (≥ 200), made of
    /// the items of `large_64k` (numbers, non-ASCII strings, nested objects).
    pub fn event(len: usize) -> String {
        super::bulk(len, true)
    }

    /// A binary event `<count>-["files",[<placeholder 0>,…]]` and its `count` attachments of
    /// 16 bytes each.
    pub fn binary_event(count: usize) -> (String, Vec<Vec<u8>>) {
        let placeholders: Vec<String> = (0..count).map(placeholder).collect();
        let text = format!(r#"5{count}-["files",[{}]]"#, placeholders.join(","));
        let attachments = (0..count).map(|i| bytes(1000 + i as u64, 16)).collect();
        (text, attachments)
    }

    /// An Engine.IO v4 polling body of `count` records, the mix of `payload_v4_100`
    /// (events, a pong every 8th, a base64 binary message every 25th).
    pub fn payload_v4(count: u64) -> String {
        payload_records(count, 0, false).join("\u{1e}")
    }
}

/// The corpus as the JSON manifest shared with the Node harness: text as JSON strings,
/// attachments as base64. Written by hand so the key order does not depend on serde_json's
/// `preserve_order` feature (which workspace feature unification may switch on).
pub fn manifest_json() -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::from(
        "{\n  \"generator\": \"cargo run -p sio-benches --bin gen-corpus\",\n  \"cases\": [\n",
    );
    let cases = all();
    for (i, c) in cases.iter().enumerate() {
        let attachments: Vec<String> = c
            .attachments
            .iter()
            .map(|a| quote(&STANDARD.encode(a)))
            .collect();
        let _ = write!(
            out,
            "    {{\"name\": {}, \"kind\": {}, \"bytes\": {}, \"attachments\": [{}],\n     \"text\": {}}}{}\n",
            quote(c.name),
            quote(c.kind.as_str()),
            c.text.len(),
            attachments.join(", "),
            quote(&c.text),
            if i + 1 < cases.len() { "," } else { "" },
        );
    }
    out.push_str("  ]\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_design_table() {
        for (name, text_len, attachments) in SIZES {
            let c = case(name);
            assert_eq!(c.text.len(), text_len, "{name}");
            let lens: Vec<usize> = c.attachments.iter().map(Vec::len).collect();
            assert_eq!(lens, attachments, "{name}");
        }
        assert_eq!(all().len(), 19);
    }

    #[test]
    fn manifest_is_valid_json_with_every_case() {
        let manifest: serde_json::Value = serde_json::from_str(&manifest_json()).unwrap();
        let cases = manifest["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 19);
        for (entry, c) in cases.iter().zip(all()) {
            assert_eq!(entry["name"], c.name);
            assert_eq!(entry["text"].as_str().unwrap(), c.text);
            assert_eq!(entry["bytes"], c.text.len());
        }
    }
}
