//! The Rust side of the differential harness: one request per stdin line (NDJSON), one reply
//! per stdout line, in order. Requests and replies are described in `../README.md`
//! ("Driver protocol"). Frames are JSON strings (text) or `{"bin": "<hex>"}` (binary).
//!
//! Every op answers; a request the driver cannot even interpret gets `{"input_error": …}`
//! (the harness counts those as failures, they are never silently skipped).

use bytes::Bytes;
use serde_json::{Map, Value};
use sio_codec::{
    DecodeConfig, DecodeError, Encode, FrameKind, Utf8Bytes, WireFormat,
    engineio::{self, Handshake, v3},
    socketio::{OutFrame, Progress, Reassembler},
};
use sio_conformance::{
    commands::codec::{self as codec_commands, WireOptions},
    wire,
};
use std::io::{BufRead, Write};

thread_local! {
    /// The message of the last panic, recorded by the panic hook.
    static PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn main() {
    // A panic in the codec is a finding, not the end of the run: it becomes a `{"crash": …}`
    // reply (the harness reports it with the input). Aborts (stack overflow) still kill the
    // process; the harness then bisects the batch to find the input.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PANIC.with(|p| *p.borrow_mut() = format!("panicked at {location}: {payload}"));
    }));
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match parse_request(&line) {
            Ok(request) => {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(&request))) {
                    Ok(reply) => reply.unwrap_or_else(input_error),
                    Err(_) => crash(PANIC.with(|p| p.borrow().clone())),
                }
            }
            Err(e) => input_error(format!("request is not JSON: {e}")),
        };
        if writeln!(out, "{reply}").is_err() {
            break;
        }
    }
    let _ = out.flush();
}

/// A request line. The recursion limit is lifted so that deeply nested payloads (the
/// harness probes the codec's 128-level bound) reach the codec instead of failing here.
fn parse_request(line: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(line);
    de.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

fn crash(message: String) -> String {
    let mut map = Map::new();
    map.insert("crash".into(), Value::String(message));
    Value::Object(map).to_string()
}

fn input_error(message: String) -> String {
    let mut map = Map::new();
    map.insert("input_error".into(), Value::String(message));
    Value::Object(map).to_string()
}

fn handle(request: &Value) -> Result<String, String> {
    let op = request
        .get("op")
        .and_then(Value::as_str)
        .ok_or("missing \"op\"")?;
    let version = request.get("v").and_then(Value::as_u64).unwrap_or(0);
    match op {
        "sio_decode" => sio_decode(request, version),
        "sio_encode" => sio_encode(request),
        "eio_decode" => eio_decode(request, version),
        "eio_payload_decode" => eio_payload_decode(request, version),
        "eio_encode" => eio_encode(request, version),
        "eio_payload_encode" => eio_payload_encode(request, version),
        "cli_decode" => cli_decode(request, version),
        other => Err(format!("unknown op {other:?}")),
    }
}

// ---------------------------------------------------------------------------------------
// Inputs

enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

fn frame(value: &Value) -> Result<Frame, String> {
    match value {
        Value::String(s) => Ok(Frame::Text(s.clone())),
        Value::Object(map) => match map.get("bin") {
            Some(Value::String(hex)) => wire::unhex(hex).map(Frame::Binary),
            _ => Err("a binary frame is {\"bin\": \"<hex>\"}".into()),
        },
        _ => Err("a frame is a string or {\"bin\": \"<hex>\"}".into()),
    }
}

fn frames(request: &Value) -> Result<Vec<Frame>, String> {
    request
        .get("frames")
        .and_then(Value::as_array)
        .ok_or("missing \"frames\"")?
        .iter()
        .map(frame)
        .collect()
}

/// The decoder configuration: the reference default for the Socket.IO revision (`sio_v4`:
/// parser 3.x payload rules), then the switches named in `"cfg"`.
fn config(request: &Value, sio_v4: bool) -> Result<DecodeConfig, String> {
    let mut config = if sio_v4 {
        DecodeConfig::socketio_v4()
    } else {
        DecodeConfig::new()
    };
    if let Some(switches) = request.get("cfg").and_then(Value::as_object) {
        for (name, value) in switches {
            let on = value.as_bool().ok_or("cfg switches are booleans")?;
            config = match name.as_str() {
                "allow_js_number_coercion" => config.allow_js_number_coercion(on),
                "allow_zero_attachments" => config.allow_zero_attachments(on),
                "allow_trailing_data" => config.allow_trailing_data(on),
                "allow_lenient_base64" => config.allow_lenient_base64(on),
                other => return Err(format!("unknown DecodeConfig switch {other:?}")),
            };
        }
    }
    Ok(config)
}

// ---------------------------------------------------------------------------------------
// Outputs

fn frame_value(kind: FrameKind, bytes: &[u8]) -> Result<Value, String> {
    Ok(match kind {
        FrameKind::Text => Value::String(
            std::str::from_utf8(bytes)
                .map_err(|e| format!("encoder produced a non-UTF-8 text frame: {e}"))?
                .to_owned(),
        ),
        FrameKind::Binary => bin(bytes),
    })
}

fn bin(bytes: &[u8]) -> Value {
    let mut map = Map::new();
    map.insert("bin".into(), Value::String(sio_conformance::hex::encode(bytes)));
    Value::Object(map)
}

/// The variant name of an error kind (`TooManyAttachments`), for the allow-list.
fn kind_name(e: &DecodeError) -> String {
    let debug = format!("{:?}", e.kind());
    debug
        .split(|c: char| c == ' ' || c == '{' || c == '(')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn error_value(e: &DecodeError, frame: usize) -> Value {
    let mut map = Map::new();
    map.insert("kind".into(), Value::String(kind_name(e)));
    map.insert("detail".into(), Value::String(e.to_string()));
    map.insert("offset".into(), Value::from(e.offset()));
    map.insert("frame".into(), Value::from(frame));
    Value::Object(map)
}

/// `{"packets": [<raw JSON>…], "error": …, "pending": …}`. Socket.IO packets are written
/// as the raw JSON text `wire::sio_to_json_text` produced (it keeps payloads verbatim, lone
/// surrogate escapes included), so they are spliced in rather than re-parsed.
///
/// A verbatim payload may hold raw line breaks as JSON whitespace (never inside a string:
/// that would not be valid JSON); they become spaces so that the reply stays on one line.
fn packets_reply(packets: &[String], error: Option<Value>, pending: bool) -> String {
    let mut out = String::from("{\"packets\":[");
    out.push_str(&packets.join(",").replace(['\n', '\r'], " "));
    out.push_str("],\"error\":");
    out.push_str(&error.unwrap_or(Value::Null).to_string());
    out.push_str(",\"pending\":");
    out.push_str(if pending { "true" } else { "false" });
    out.push('}');
    out
}

// ---------------------------------------------------------------------------------------
// Socket.IO

/// Decodes a sequence of Socket.IO frames (text packets and binary attachments) with one
/// `Reassembler`, stopping at the first error like the reference decoder (which throws).
fn sio_decode(request: &Value, version: u64) -> Result<String, String> {
    let config = config(request, version == 4)?;
    let mut reassembler = Reassembler::new(config);
    let mut packets = Vec::new();
    let mut error = None;
    for (i, f) in frames(request)?.into_iter().enumerate() {
        let progress = match f {
            Frame::Text(text) => reassembler.push_text(&Utf8Bytes::from(text)),
            Frame::Binary(bytes) => reassembler.push_binary(Bytes::from(bytes)),
        };
        match progress {
            Ok(Progress::Complete(assembled)) => packets.push(wire::sio_to_json_text(
                &assembled.packet().as_packet(),
                assembled.attachments(),
            )),
            Ok(Progress::NeedAttachments { .. }) => {}
            Err(e) => {
                error = Some(error_value(&e, i));
                break;
            }
        }
    }
    let pending = error.is_none() && reassembler.is_pending();
    Ok(packets_reply(&packets, error, pending))
}

/// Encodes a golden-vector shaped packet (`{"type":2,"nsp":"/","data":[…],"id":1}`, binary
/// leaves as `{"$bin":"<hex>"}`) with the conformance tool's `wire::sio_from_value`.
fn sio_encode(request: &Value) -> Result<String, String> {
    let packet = request.get("packet").ok_or("missing \"packet\"")?;
    let mut map = Map::new();
    match wire::sio_from_value(packet) {
        Ok(assembled) => {
            let frames: Vec<Value> = assembled
                .frames()
                .map(|f| match f {
                    OutFrame::Text(t) => Value::String(t.as_str().to_owned()),
                    OutFrame::Binary(b) => bin(&b),
                })
                .collect();
            map.insert("frames".into(), Value::Array(frames));
        }
        Err(e) => {
            map.insert("error".into(), Value::String(e));
        }
    }
    Ok(Value::Object(map).to_string())
}

// ---------------------------------------------------------------------------------------
// Engine.IO

fn eio_decode(request: &Value, version: u64) -> Result<String, String> {
    let config = config(request, false)?;
    let f = frame(request.get("frame").ok_or("missing \"frame\"")?)?;
    let decoded = match (&f, version) {
        (Frame::Text(text), 3) => v3::decode_text(text, &config),
        (Frame::Binary(bytes), 3) => v3::decode_binary_frame(bytes, &config),
        (Frame::Text(text), 4) => engineio::Packet::decode_text_with(text, &config),
        (Frame::Binary(bytes), 4) => Ok(engineio::Packet::from_binary_frame(bytes)),
        _ => return Err("\"v\" must be 3 or 4".into()),
    };
    Ok(match decoded {
        Ok(packet) => packets_reply(&[wire::eio_to_value(&packet).to_string()], None, false),
        Err(e) => packets_reply(&[], Some(error_value(&e, 0)), false),
    })
}

/// A polling body: a JSON string is a text body (v4, or v3 `len:` text), `{"bin": …}` a v3
/// XHR2 binary body (or, for v4, raw bytes that need not be UTF-8).
fn eio_payload_decode(request: &Value, version: u64) -> Result<String, String> {
    let config = config(request, false)?;
    let (body, format) = match frame(request.get("body").ok_or("missing \"body\"")?)? {
        Frame::Text(text) => (text.into_bytes(), v3::PayloadFormat::Text),
        Frame::Binary(bytes) => (bytes, v3::PayloadFormat::Binary),
    };
    let results: Vec<_> = match version {
        3 => v3::decode_payload(&body, format, &config).collect(),
        4 => engineio::decode_payload(&body, &config).collect(),
        _ => return Err("\"v\" must be 3 or 4".into()),
    };
    let mut packets = Vec::new();
    let mut error = None;
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(packet) => packets.push(wire::eio_to_value(&packet).to_string()),
            Err(e) => {
                error = Some(error_value(&e, i));
                break;
            }
        }
    }
    Ok(packets_reply(&packets, error, false))
}

/// Owned data of an Engine.IO packet description `{"type":"message","data":…}`.
enum Data {
    None,
    Text(String),
    Binary(Vec<u8>),
}

fn eio_data(value: &Value) -> Result<(engineio::PacketType, Data), String> {
    let name = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("an Engine.IO packet needs a \"type\" name")?;
    let packet_type =
        engineio::PacketType::from_name(name).ok_or(format!("unknown packet type {name:?}"))?;
    let data = match value.get("data") {
        None | Some(Value::Null) => Data::None,
        Some(Value::String(s)) => Data::Text(s.clone()),
        Some(Value::Object(map)) => match map.get("$bin") {
            Some(Value::String(hex)) => Data::Binary(wire::unhex(hex)?),
            _ => return Err("binary data is {\"$bin\": \"<hex>\"}".into()),
        },
        Some(_) => return Err("data is a string or {\"$bin\": …}".into()),
    };
    Ok((packet_type, data))
}

fn eio_packet(packet_type: engineio::PacketType, data: &Data) -> Result<engineio::Packet<'_>, String> {
    use engineio::{Packet, PacketType as T};
    let text = match data {
        Data::Text(s) => Some(s.as_str()),
        _ => None,
    };
    Ok(match (packet_type, data) {
        (T::Message, Data::Binary(bytes)) => Packet::binary(bytes),
        (_, Data::Binary(_)) => return Err("only messages carry binary".into()),
        (T::Open, _) => Packet::Open(
            Handshake::parse(text.unwrap_or_default()).ok_or("not a valid handshake")?,
        ),
        (T::Ping, _) => Packet::Ping(text),
        (T::Pong, _) => Packet::Pong(text),
        (T::Message, _) => Packet::text(text.unwrap_or_default()),
        (T::Close | T::Upgrade | T::Noop, Data::Text(_)) => {
            return Err("close / upgrade / noop carry no data".into());
        }
        (T::Close, _) => Packet::Close,
        (T::Upgrade, _) => Packet::Upgrade,
        (T::Noop, _) => Packet::Noop,
    })
}

/// One packet in both forms: `frames` (WebSocket: binary frames) and `text` (polling / b64).
fn eio_encode(request: &Value, version: u64) -> Result<String, String> {
    let (packet_type, data) = eio_data(request.get("packet").ok_or("missing \"packet\"")?)?;
    let mut map = Map::new();
    match eio_packet(packet_type, &data) {
        Ok(packet) => {
            for (name, format) in [("frame", WireFormat::Frames), ("text", WireFormat::Text)] {
                let (kind, bytes) = match version {
                    3 => v3::V3(&packet).to_bytes(format),
                    4 => packet.to_bytes(format),
                    _ => return Err("\"v\" must be 3 or 4".into()),
                };
                map.insert(name.into(), frame_value(kind, &bytes)?);
            }
        }
        Err(e) => {
            map.insert("error".into(), Value::String(e));
        }
    }
    Ok(Value::Object(map).to_string())
}

fn eio_payload_encode(request: &Value, version: u64) -> Result<String, String> {
    let descriptions = request
        .get("packets")
        .and_then(Value::as_array)
        .ok_or("missing \"packets\"")?
        .iter()
        .map(eio_data)
        .collect::<Result<Vec<_>, _>>()?;
    let mut map = Map::new();
    let packets: Result<Vec<_>, _> = descriptions
        .iter()
        .map(|(t, d)| eio_packet(*t, d))
        .collect();
    let packets = match packets {
        Ok(p) => p,
        Err(e) => {
            map.insert("error".into(), Value::String(e));
            return Ok(Value::Object(map).to_string());
        }
    };
    let binary = request.get("format").and_then(Value::as_str) == Some("binary");
    let mut body = Vec::new();
    let kind = match (version, binary) {
        (4, false) => {
            // A text holding `\x1e` would split its record (the reference writes it anyway):
            // a deliberate difference, reported as our error.
            if let Err(e) = engineio::encode_payload(&packets, &mut body) {
                map.insert("error".into(), Value::String(e.to_string()));
                return Ok(Value::Object(map).to_string());
            }
            FrameKind::Text
        }
        (3, false) => {
            v3::encode_payload(&packets, v3::PayloadFormat::Text, &mut body);
            FrameKind::Text
        }
        (3, true) => {
            v3::encode_payload(&packets, v3::PayloadFormat::Binary, &mut body);
            FrameKind::Binary
        }
        _ => return Err("payload encoding: v4 text, v3 text or v3 binary".into()),
    };
    map.insert("body".into(), frame_value(kind, &body)?);
    Ok(Value::Object(map).to_string())
}

// ---------------------------------------------------------------------------------------
// The `conformance decode` command itself

/// Runs `conformance decode` (`commands::codec::decode`) in-process on whole Engine.IO
/// frames (or one polling body with `"payload": true`): the Engine.IO layer, the Socket.IO
/// layer and attachment reassembly exactly as the CLI chains them. Replies with the lines it
/// printed (the packets delivered) and its error message, if any.
fn cli_decode(request: &Value, version: u64) -> Result<String, String> {
    let eio = u8::try_from(version).map_err(|_| "\"v\" must be 3 or 4")?;
    if eio != 3 && eio != 4 {
        return Err("\"v\" must be 3 or 4".into());
    }
    let payload = request.get("payload").and_then(Value::as_bool) == Some(true);
    let options = WireOptions {
        eio,
        sio: if eio == 3 { 4 } else { 5 },
        payload,
        socketio: false,
        engineio: false,
    };
    let inputs: Vec<String> = frames(request)?
        .into_iter()
        .map(|f| match f {
            Frame::Text(text) => text,
            Frame::Binary(bytes) => format!("hex:{}", sio_conformance::hex::encode(&bytes)),
        })
        .collect();
    let mut out = Vec::new();
    let result = codec_commands::decode(options, &inputs, &mut std::io::empty(), &mut out);
    let printed = String::from_utf8(out).map_err(|e| format!("non-UTF-8 output: {e}"))?;
    // The command's message names no frame or record; the allow-list needs the unit where
    // the error happened, so it is found by decoding ever longer prefixes of the input.
    let unit = match &result {
        Err(e) if !payload || request.get("cuts").is_some() => {
            Some(failing_unit(options, &inputs, request, &e.0)?)
        }
        _ => None,
    };
    // The lines go back as strings: the harness checks that each is one JSON object (the
    // command's documented output), then compares them.
    let lines: Vec<Value> = printed.lines().map(|l| Value::String(l.to_owned())).collect();
    let mut map = Map::new();
    map.insert("lines".into(), Value::Array(lines));
    let error = result.err().map(|e| {
        let mut map = Map::new();
        map.insert("kind".into(), Value::String("Cli".into()));
        map.insert("detail".into(), Value::String(e.0));
        map.insert("frame".into(), Value::from(unit));
        Value::Object(map)
    });
    map.insert("error".into(), error.unwrap_or(Value::Null));
    map.insert("pending".into(), Value::Bool(false));
    Ok(Value::Object(map).to_string())
}

/// The message of the check `commands::codec::decode` makes after the last input.
const PENDING_AT_END: &str = "incomplete binary packet";

/// The unit (frame, or payload record) where `conformance decode` failed with `message`
/// (reported as the error's `"frame"`; for a polling body only when the request has `"cuts"`):
/// the smallest `k` such that decoding the first `k + 1` frames (or the body up to the end
/// of record `k`, at the byte offsets the harness sends as `"cuts"`) fails with an error
/// other than the end-of-input check for missing attachments. That check itself is the
/// unit after the last one (the number of frames / cuts), like the reference's
/// "incomplete binary packet"; an error after the last cut is the last unit.
fn failing_unit(
    options: WireOptions,
    inputs: &[String],
    request: &Value,
    message: &str,
) -> Result<usize, String> {
    let fails = |prefix: &[String]| {
        let mut sink = Vec::new();
        match codec_commands::decode(options, prefix, &mut std::io::empty(), &mut sink) {
            Ok(()) => false,
            Err(e) => !e.0.starts_with(PENDING_AT_END),
        }
    };
    let prefixes: Vec<Vec<String>> = if options.payload {
        let cuts = request
            .get("cuts")
            .and_then(Value::as_array)
            .ok_or("\"cuts\" is an array of record ends")?;
        let body = frame(&request["frames"][0])?;
        cuts.iter()
            .map(|cut| {
                let cut = cut.as_u64().ok_or("cuts are byte offsets")? as usize;
                Ok(vec![match &body {
                    Frame::Text(text) => text
                        .get(..cut)
                        .ok_or(format!("cut {cut} is not a character boundary"))?
                        .to_owned(),
                    Frame::Binary(bytes) => format!(
                        "hex:{}",
                        sio_conformance::hex::encode(bytes.get(..cut).ok_or(format!("cut {cut} is beyond the body"))?)
                    ),
                }])
            })
            .collect::<Result<_, String>>()?
    } else {
        (1..=inputs.len()).map(|k| inputs[..k].to_vec()).collect()
    };
    if message.starts_with(PENDING_AT_END) {
        return Ok(prefixes.len());
    }
    Ok(prefixes
        .iter()
        .position(|p| fails(p))
        .unwrap_or(prefixes.len().saturating_sub(1)))
}
