//! The WebSocket defects: frames from the client dropped, frames to it rewritten.

use crate::{Mutant, Settings};
use sio_codec::engineio::PacketType;
use sio_codec::engineio::server::Frame;
use sio_codec::{EngineIo, Protocol, Utf8Bytes};

/// Whether a frame from the client reaches the session: a frame that does not decode
/// (`malformed-eio-kept`) or a close packet on the WebSocket transport
/// (`close-ignored-on-websocket`) is dropped by those mutants.
pub(crate) fn frame_kept(
    settings: &Settings,
    revision: EngineIo,
    frame: &Frame,
    transport_is_websocket: bool,
) -> bool {
    let drops_close = settings.has(Mutant::CloseIgnoredOnWebsocket) && transport_is_websocket;
    if !settings.has(Mutant::MalformedEioKept) && !drops_close {
        return true;
    }
    let protocol = Protocol::new(revision);
    let decoded = match frame {
        Frame::Text(text) => protocol.decode_text_frame(text),
        Frame::Binary(data) => protocol.decode_binary_frame(data.clone()),
        Frame::Close(_) => return true,
    };
    match decoded {
        Err(_) => !settings.has(Mutant::MalformedEioKept),
        Ok(packet) => !(drops_close && packet.packet_type() == PacketType::Close),
    }
}

/// The frames the session gives, as the mutant writes them; `pings` server pings owed to
/// an Engine.IO 3 client go first.
pub(crate) fn frames_out(
    settings: &Settings,
    revision: EngineIo,
    socket_io: bool,
    frames: Vec<Frame>,
    pings: usize,
) -> Vec<Frame> {
    let protocol = Protocol::new(revision);
    let v3 = revision == EngineIo::V3;
    let ping = Frame::Text(Utf8Bytes::from("2"));
    let mut out: Vec<Frame> = std::iter::repeat_n(ping, pings).collect();
    for frame in frames {
        let frame = match frame {
            Frame::Text(text)
                if settings.has(Mutant::NoProbeAnswer) && text.as_str() == "3probe" =>
            {
                continue;
            }
            Frame::Binary(data)
                if (settings.has(Mutant::BinaryAsTextOnWebsocket) && !v3)
                    || (settings.has(Mutant::AttachmentsAsTextOnWebsocket) && socket_io) =>
            {
                match protocol.decode_binary_frame(data.clone()) {
                    Ok(packet) => {
                        let (_, text) = protocol.encode_frame(&packet.as_packet(), true);
                        match Utf8Bytes::try_from(text) {
                            Ok(text) => Frame::Text(text),
                            Err(_) => Frame::Binary(data),
                        }
                    }
                    Err(_) => Frame::Binary(data),
                }
            }
            Frame::Binary(data) if v3 && settings.has(Mutant::V3NoBinaryTypeByte) => {
                Frame::Binary(data.slice(1.min(data.len())..))
            }
            other => other,
        };
        match (out.last_mut(), frame) {
            (Some(Frame::Text(previous)), Frame::Text(text))
                if settings.has(Mutant::BatchedWebsocketFrames) =>
            {
                *previous = Utf8Bytes::from(format!("{}\x1e{}", previous.as_str(), text.as_str()));
            }
            (_, frame) => out.push(frame),
        }
    }
    out
}
