//! What the server and the client sessions both write and read: WebSocket frames of a
//! revision, and polling bodies with the reference's bytes where the codec's encoder refuses.
//! Both go through [`Protocol`]; this is only the sessions' shape of it ([`Frame`]).

use super::server::Frame;
use crate::engineio::{self, Packet, PacketBuf};
use crate::protocol::TEXT_BODY;
use crate::{
    DecodeConfig, DecodeError, Encode, EngineIo, ErrorKind, FrameKind, Protocol, Utf8Bytes,
    WireFormat,
};
use alloc::vec::Vec;
use bytes::Bytes;

/// The protocol of a session's revision, with its limits.
pub(crate) fn protocol(revision: EngineIo, config: &DecodeConfig) -> Protocol {
    Protocol::new(revision).with_config(*config)
}

/// The WebSocket frame of a packet: binary as a binary frame (v3 with the `0x04` type
/// byte), or as base64 text when `b64`.
pub(crate) fn frame(revision: EngineIo, b64: bool, packet: &PacketBuf) -> Frame {
    match protocol(revision, &DecodeConfig::new()).encode_frame(&packet.as_packet(), b64) {
        (FrameKind::Binary, bytes) => Frame::Binary(bytes),
        // The encoders write text packets as UTF-8.
        (FrameKind::Text, bytes) => {
            Utf8Bytes::try_from(bytes).map_or(Frame::Close(None), Frame::Text)
        }
    }
}

/// Decodes a WebSocket text or binary frame (not a close) with the revision's rules.
pub(crate) fn decode_frame(
    revision: EngineIo,
    frame: Frame,
    config: &DecodeConfig,
) -> Result<PacketBuf, DecodeError> {
    let protocol = protocol(revision, config);
    match frame {
        Frame::Text(text) => protocol.decode_text_frame(&text),
        Frame::Binary(bytes) => protocol.decode_binary_frame(bytes),
        Frame::Close(_) => Err(DecodeError::new(ErrorKind::Empty, 0)),
    }
}

/// A polling body of `packets` with its content type: [`Protocol::encode_body`], except that
/// a v4 text holding the record separator (possible only for a text that came or goes over
/// WebSocket) is written as is. NOTE(compat): both references (engine.io's server and
/// engine.io-client) join the records without checking; the codec's encoder refuses.
pub(crate) fn encode_body(
    revision: EngineIo,
    b64: bool,
    packets: &[PacketBuf],
) -> (&'static str, Bytes) {
    let views: Vec<Packet<'_>> = packets.iter().map(PacketBuf::as_packet).collect();
    protocol(revision, &DecodeConfig::new())
        .encode_body(&views, b64)
        .unwrap_or_else(|_| {
            let mut body = Vec::new();
            for (i, view) in views.iter().enumerate() {
                if i > 0 {
                    body.push(engineio::RECORD_SEPARATOR);
                }
                view.encode(WireFormat::Text, &mut body);
            }
            (TEXT_BODY, Bytes::from(body))
        })
}
