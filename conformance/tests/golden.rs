//! `conformance decode` / `encode` agree with every golden vector of the reference encoders
//! (`fixtures/codec/socketio-packets.json`, cases with an `input` object).

use serde::Deserialize;
use serde_json::{Value, value::RawValue};
use sio_conformance::commands::codec::{WireOptions, decode, encode};
use std::path::PathBuf;

#[derive(Deserialize)]
struct Case {
    name: String,
    sio: u8,
    wire: String,
    #[serde(default)]
    attachments_hex: Vec<String>,
    /// Raw: one input (S26) holds a lone surrogate, which `Value` cannot represent.
    input: Option<Box<RawValue>>,
}

impl Case {
    fn input(&self) -> Option<Value> {
        serde_json::from_str(self.input.as_ref()?.get()).ok()
    }
}

fn golden() -> Vec<Case> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/codec/socketio-packets.json");
    let text = std::fs::read_to_string(path).unwrap();
    let all: Vec<Case> = serde_json::from_str(&text).unwrap();
    all.into_iter().filter(|c| c.input.is_some()).collect()
}

fn options(case: &Case) -> WireOptions {
    let v4 = case.sio == 4;
    WireOptions {
        eio: if v4 { 3 } else { 4 },
        sio: if v4 { 4 } else { 5 },
        payload: false,
        socketio: true,
        engineio: false,
    }
}

type Command = fn(
    WireOptions,
    &[String],
    &mut dyn std::io::Read,
    &mut dyn std::io::Write,
) -> Result<(), sio_conformance::commands::codec::CommandError>;

fn run(f: Command, options: WireOptions, inputs: &[String]) -> String {
    let mut out = Vec::new();
    if let Err(e) = f(options, inputs, &mut std::io::empty(), &mut out) {
        panic!("{inputs:?}: {}", e.0);
    }
    String::from_utf8(out).unwrap()
}

/// The wire lines `encode --socketio` prints for a case: the text, then `hex:` attachments.
fn wire_lines(case: &Case) -> Vec<String> {
    let mut lines = vec![case.wire.clone()];
    lines.extend(case.attachments_hex.iter().map(|hex| format!("hex:{hex}")));
    lines
}

#[test]
fn encoding_every_golden_input_gives_the_reference_bytes() {
    let cases = golden();
    assert_eq!(cases.len(), 63);
    let mut encoded = 0;
    for case in &cases {
        let name = &case.name;
        // The input of S26 holds a lone surrogate, which no Rust string can carry; its wire
        // form round-trips in the decode test below.
        let Some(input) = case.input() else {
            assert!(case.wire.contains(r"\ud800"), "{name}: unreadable input");
            continue;
        };
        let input = input.to_string();
        encoded += 1;
        let out = run(encode, options(case), &[input]);
        let got: Vec<&str> = out.lines().collect();
        assert_eq!(got, wire_lines(case), "{name}");
    }
    assert_eq!(encoded, 62);
}

#[test]
fn decoding_every_golden_vector_gives_the_input_back() {
    for case in golden() {
        let name = &case.name;
        let out = run(decode, options(&case), &wire_lines(&case));
        let line = out.lines().next().unwrap();
        let decoded: Result<Value, _> = serde_json::from_str(line);
        let Ok(mut decoded) = decoded else {
            // Lone surrogates: compare the text, which keeps the escape verbatim.
            assert!(line.contains(r#""\ud800""#), "{name}: {line}");
            continue;
        };
        // The reference decoder hands binary packets to the app as EVENT / ACK.
        let object = decoded.as_object_mut().unwrap();
        if object.remove("attachments").is_some() {
            let t = object["type"].as_u64().unwrap();
            object.insert("type".into(), Value::from(t - 3));
        }
        let input = case.input().unwrap();
        assert!(
            numbers_equal(&decoded, &input),
            "{name}: decoded {decoded}, input {input}"
        );
    }
}

/// JSON equality with numbers compared as values (`1` == `1.0`, as the reference sees them).
fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| numbers_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| numbers_equal(v, w)))
        }
        _ => a == b,
    }
}
