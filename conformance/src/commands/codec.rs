//! `conformance decode` and `conformance encode`: the codec on the command line.
//!
//! Inputs are frames: a text argument is one text frame (or polling record), `hex:0102…` is
//! one binary frame. With no arguments, standard input is read: one frame per line, or the
//! whole input as one polling body with `--payload`.

use crate::hex;
use crate::wire::{eio_to_value, sio_from_value, sio_to_json_text, unhex};
use bytes::Bytes;
use clap::Args;
use serde_json::Value;
use sio_codec::{
    BINARY_BODY, DecodeError, EngineIo, FrameKind, Protocol, SocketIo, TEXT_BODY, Utf8Bytes,
    engineio::{self, Message},
    socketio::{OutFrame, Progress, Reassembler},
};
use std::io::Write;

/// Options of `decode` and `encode`.
#[derive(Debug, Args)]
pub struct WireArgs {
    /// Engine.IO revision.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(3..=4))]
    pub eio: u8,
    /// Socket.IO revision (payload rules); default 5 with --eio 4, 4 with --eio 3.
    #[arg(long, value_parser = clap::value_parser!(u8).range(4..=5))]
    pub sio: Option<u8>,
    /// The input (decode) or output (encode) is one HTTP long-polling body.
    #[arg(long, conflicts_with = "socketio")]
    pub payload: bool,
    /// Bare Socket.IO packets, without the Engine.IO message prefix `4`.
    #[arg(long, conflicts_with = "engineio")]
    pub socketio: bool,
    /// Decode the Engine.IO layer only (messages are not decoded as Socket.IO packets).
    #[arg(long)]
    pub engineio: bool,
    /// Frames (text, or `hex:…` for a binary frame) for decode; JSON packets for encode.
    /// Read from standard input when absent.
    pub inputs: Vec<String>,
}

impl WireArgs {
    pub(super) fn options(&self) -> WireOptions {
        WireOptions {
            eio: self.eio,
            sio: self.sio.unwrap_or(if self.eio == 3 { 4 } else { 5 }),
            payload: self.payload,
            socketio: self.socketio,
            engineio: self.engineio,
        }
    }
}

/// Options shared by both commands.
#[derive(Clone, Copy, Debug)]
pub struct WireOptions {
    /// Engine.IO revision: 3 or 4.
    pub eio: u8,
    /// Socket.IO revision: 4 or 5 (payload rules).
    pub sio: u8,
    /// The input/output is one HTTP long-polling body.
    pub payload: bool,
    /// The input/output is bare Socket.IO packets (no Engine.IO `4` prefix).
    pub socketio: bool,
    /// Decode only the Engine.IO layer: messages are printed as Engine.IO packets.
    pub engineio: bool,
}

impl WireOptions {
    /// The protocol these options name: every decode and encode goes through it.
    fn protocol(&self) -> Protocol {
        let engineio = if self.eio == 3 {
            EngineIo::V3
        } else {
            EngineIo::V4
        };
        let socketio = if self.sio == 4 {
            SocketIo::V4
        } else {
            SocketIo::V5
        };
        Protocol::new(engineio).with_socketio(socketio)
    }
}

/// A command failure: the message for stderr (exit code 2).
#[derive(Debug)]
pub struct CommandError(pub String);

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        Self(format!("i/o error: {e}"))
    }
}

/// One input frame.
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

fn parse_frame(input: &str) -> Result<Frame, CommandError> {
    match input.strip_prefix("hex:") {
        Some(h) => unhex(h.trim()).map(Frame::Binary).map_err(CommandError),
        None => Ok(Frame::Text(input.to_owned())),
    }
}

/// Decodes `inputs` (or `stdin` when empty) and writes one JSON object per packet.
pub fn decode(
    options: WireOptions,
    inputs: &[String],
    stdin: &mut dyn std::io::Read,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let protocol = options.protocol();
    let mut stream = Stream {
        input: 0,
        reassembler: protocol.reassembler(),
        protocol,
        options,
        out,
    };
    if options.payload {
        let body = match inputs {
            [one] => one.clone(),
            [] => {
                let mut text = String::new();
                stdin.read_to_string(&mut text)?;
                text.trim_end_matches('\n').to_owned()
            }
            _ => return Err(CommandError("--payload takes one body".into())),
        };
        stream.payload(parse_frame(&body)?)?;
    } else {
        let mut lines = Vec::new();
        if inputs.is_empty() {
            let mut text = String::new();
            stdin.read_to_string(&mut text)?;
            lines.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
        for input in inputs.iter().chain(&lines) {
            stream.frame(parse_frame(input)?)?;
        }
    }
    if stream.reassembler.is_pending() {
        return Err(CommandError(
            "incomplete binary packet: attachments are missing".into(),
        ));
    }
    Ok(())
}

struct Stream<'o> {
    /// Address of the current input buffer, to report absolute offsets for packets nested
    /// in it (a Socket.IO packet inside an Engine.IO frame or polling body).
    input: usize,
    reassembler: Reassembler,
    protocol: Protocol,
    options: WireOptions,
    out: &'o mut dyn Write,
}

fn failed(e: DecodeError) -> CommandError {
    CommandError(e.to_string())
}

impl Stream<'_> {
    fn frame(&mut self, frame: Frame) -> Result<(), CommandError> {
        match frame {
            Frame::Text(text) if self.options.socketio => {
                self.input = text.as_ptr() as usize;
                self.sio_text(&text)
            }
            Frame::Binary(bytes) if self.options.socketio => self.sio_binary(Bytes::from(bytes)),
            Frame::Text(text) => {
                // `Utf8Bytes::from(String)` keeps the allocation: offsets stay the frame's.
                let frame = Utf8Bytes::from(text);
                self.input = frame.as_ptr() as usize;
                let packet = self.protocol.decode_text_frame(&frame).map_err(failed)?;
                self.eio(packet.as_packet())
            }
            Frame::Binary(bytes) => {
                let packet = self
                    .protocol
                    .decode_binary_frame(Bytes::from(bytes))
                    .map_err(failed)?;
                self.eio(packet.as_packet())
            }
        }
    }

    fn payload(&mut self, body: Frame) -> Result<(), CommandError> {
        // A hex body is Engine.IO 3's XHR2 layout; text is the revision's text layout.
        let (bytes, content_type) = match body {
            Frame::Text(text) => (Bytes::from(text), TEXT_BODY),
            Frame::Binary(bytes) => (Bytes::from(bytes), BINARY_BODY),
        };
        self.input = bytes.as_ptr() as usize;
        for packet in self.protocol.decode_body(bytes, Some(content_type)) {
            self.eio(packet.map_err(failed)?.as_packet())?;
        }
        Ok(())
    }

    fn eio(&mut self, packet: engineio::Packet<'_>) -> Result<(), CommandError> {
        if self.options.engineio {
            return Ok(writeln!(self.out, "{}", eio_to_value(&packet))?);
        }
        match packet {
            engineio::Packet::Message(Message::Text(text)) => self.sio_text(text),
            engineio::Packet::Message(Message::Binary(bytes)) => {
                self.sio_binary(Bytes::from(bytes.into_owned()))
            }
            other => Ok(writeln!(self.out, "{}", eio_to_value(&other))?),
        }
    }

    fn sio_text(&mut self, text: &str) -> Result<(), CommandError> {
        let base = (text.as_ptr() as usize).saturating_sub(self.input);
        let progress = self
            .reassembler
            .push_text(&Utf8Bytes::from(text))
            .map_err(|e| failed(DecodeError::new(e.kind(), e.offset() + base)))?;
        self.progress(progress)
    }

    fn sio_binary(&mut self, bytes: Bytes) -> Result<(), CommandError> {
        let progress = self.reassembler.push_binary(bytes).map_err(failed)?;
        self.progress(progress)
    }

    fn progress(&mut self, progress: Progress) -> Result<(), CommandError> {
        if let Progress::Complete(assembled) = progress {
            let text = sio_to_json_text(&assembled.packet().as_packet(), assembled.attachments());
            writeln!(self.out, "{text}")?;
        }
        Ok(())
    }
}

/// Encodes the packets described by JSON `inputs` (or by `stdin`: one or more JSON values,
/// arrays of packets allowed) and writes the wire form.
pub fn encode(
    options: WireOptions,
    inputs: &[String],
    stdin: &mut dyn std::io::Read,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let mut text = inputs.join("\n");
    if inputs.is_empty() {
        stdin.read_to_string(&mut text)?;
    }
    let mut packets = Vec::new();
    for value in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        match value.map_err(|e| CommandError(format!("invalid JSON input: {e}")))? {
            Value::Array(items) => packets.extend(items),
            one => packets.push(one),
        }
    }
    let mut frames = Vec::new();
    for packet in &packets {
        let assembled = sio_from_value(packet)
            .map_err(|e| CommandError(format!("{packet}: {e}\n  ({})", crate::wire::SIO_SHAPE)))?;
        frames.extend(assembled.frames());
    }
    let protocol = options.protocol();
    if options.socketio {
        for frame in frames {
            match frame {
                OutFrame::Text(t) => writeln!(out, "{t}")?,
                OutFrame::Binary(b) => writeln!(out, "hex:{}", hex::encode(&b))?,
            }
        }
        return Ok(());
    }
    let eio: Vec<engineio::Packet<'_>> = frames
        .iter()
        .map(|f| match f {
            OutFrame::Text(t) => engineio::Packet::text(t),
            OutFrame::Binary(b) => engineio::Packet::binary(b),
        })
        .collect();
    if options.payload {
        // The text layout (binary as base64), printable on a terminal.
        let (_, body) = protocol
            .encode_body(&eio, true)
            .map_err(|e| CommandError(format!("cannot encode a v4 polling payload: {e}")))?;
        out.write_all(&body)?;
        writeln!(out)?;
        return Ok(());
    }
    for packet in &eio {
        match protocol.encode_frame(packet, false) {
            (FrameKind::Text, bytes) => {
                out.write_all(&bytes)?;
                writeln!(out)?;
            }
            (FrameKind::Binary, bytes) => writeln!(out, "hex:{}", hex::encode(&bytes))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: WireOptions = WireOptions {
        eio: 4,
        sio: 5,
        payload: false,
        socketio: false,
        engineio: false,
    };

    type Command = fn(
        WireOptions,
        &[String],
        &mut dyn std::io::Read,
        &mut dyn Write,
    ) -> Result<(), CommandError>;

    fn run(f: Command, options: WireOptions, inputs: &[&str]) -> Result<String, String> {
        let inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        f(options, &inputs, &mut std::io::empty(), &mut out).map_err(|e| e.0)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn decodes_websocket_frames_with_attachments() {
        let out = run(
            decode,
            V4,
            &[
                r#"451-["baz",{"_placeholder":true,"num":0}]"#,
                "hex:01020304",
                "2probe",
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "{\"type\":5,\"nsp\":\"/\",\"data\":[\"baz\",{\"$bin\":\"01020304\"}],\"attachments\":1}\n{\"type\":\"ping\",\"data\":\"probe\"}\n"
        );
    }

    #[test]
    fn decodes_v3_payloads() {
        let options = WireOptions {
            eio: 3,
            sio: 4,
            payload: true,
            ..V4
        };
        let out = run(
            decode,
            options,
            &["43:451-[\"hello\",{\"_placeholder\":true,\"num\":0}]6:b4AQID"],
        )
        .unwrap();
        assert_eq!(
            out,
            "{\"type\":5,\"nsp\":\"/\",\"data\":[\"hello\",{\"$bin\":\"010203\"}],\"attachments\":1}\n"
        );
    }

    #[test]
    fn decodes_the_engineio_layer_only() {
        let options = WireOptions {
            eio: 3,
            payload: true,
            engineio: true,
            ..V4
        };
        let out = run(decode, options, &["6:4hello3:4\u{1f600}"]).unwrap();
        assert_eq!(
            out,
            "{\"type\":\"message\",\"data\":\"hello\"}\n{\"type\":\"message\",\"data\":\"\u{1f600}\"}\n"
        );
    }

    #[test]
    fn reports_errors_with_offsets() {
        assert_eq!(
            run(decode, V4, &["42[\"a\",]"]).unwrap_err(),
            "invalid JSON at byte 7"
        );
        let options = WireOptions {
            payload: true,
            ..V4
        };
        assert_eq!(
            run(decode, options, &["40\u{1e}"]).unwrap_err(),
            "empty packet at byte 3"
        );
        assert!(run(decode, V4, &[r#"451-["a",{"_placeholder":true,"num":0}]"#]).is_err());
    }

    #[test]
    fn encodes_frames_and_payloads() {
        let input = r#"{"type":2,"nsp":"/admin","data":["baz",{"$bin":"0102"}],"id":3}"#;
        assert_eq!(
            run(encode, V4, &[input]).unwrap(),
            "451-/admin,3[\"baz\",{\"_placeholder\":true,\"num\":0}]\nhex:0102\n"
        );
        let options = WireOptions {
            eio: 3,
            sio: 4,
            ..V4
        };
        assert_eq!(
            run(encode, options, &[input]).unwrap().lines().nth(1),
            Some("hex:040102")
        );
        let options = WireOptions {
            payload: true,
            ..V4
        };
        assert_eq!(
            run(encode, options, &[input]).unwrap(),
            "451-/admin,3[\"baz\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQI=\n"
        );
    }
}
