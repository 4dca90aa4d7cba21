//! Engine.IO v4 packet encoding.

use super::{Message, Packet, PacketBuf};
use crate::{Encode, FrameKind, WireFormat, b64};
use bytes::BufMut;

/// Bytes after the type digit (or after `b`) for text-carried packets.
fn data_len(packet: &Packet<'_>) -> usize {
    match packet {
        Packet::Open(h) => h.json().len(),
        Packet::Ping(d) | Packet::Pong(d) => d.map_or(0, str::len),
        Packet::Message(Message::Text(t)) => t.len(),
        Packet::Message(Message::Binary(b)) => b64::encoded_len(b.len()),
        Packet::Close | Packet::Upgrade | Packet::Noop => 0,
    }
}

impl Encode for Packet<'_> {
    fn encoded_len(&self, format: WireFormat) -> usize {
        match (self, format) {
            (Self::Message(Message::Binary(b)), WireFormat::Frames) => b.len(),
            _ => 1 + data_len(self),
        }
    }

    fn encode<B: BufMut>(&self, format: WireFormat, dst: &mut B) -> FrameKind {
        match self {
            Self::Message(Message::Binary(b)) => match format {
                WireFormat::Frames => {
                    dst.put_slice(b);
                    return FrameKind::Binary;
                }
                WireFormat::Text => {
                    dst.put_u8(b'b');
                    b64::put(dst, b);
                }
            },
            _ => {
                dst.put_u8(self.packet_type().digit());
                match self {
                    Self::Open(h) => dst.put_slice(h.json().as_bytes()),
                    Self::Ping(Some(d)) | Self::Pong(Some(d)) => dst.put_slice(d.as_bytes()),
                    Self::Message(Message::Text(t)) => dst.put_slice(t.as_bytes()),
                    _ => {}
                }
            }
        }
        FrameKind::Text
    }
}

impl Encode for PacketBuf {
    fn encoded_len(&self, format: WireFormat) -> usize {
        self.as_packet().encoded_len(format)
    }

    fn encode<B: BufMut>(&self, format: WireFormat, dst: &mut B) -> FrameKind {
        self.as_packet().encode(format, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engineio::Handshake;

    fn text(p: &Packet<'_>) -> alloc::vec::Vec<u8> {
        let (kind, bytes) = p.to_bytes(WireFormat::Text);
        assert_eq!(kind, FrameKind::Text);
        assert_eq!(bytes.len(), p.encoded_len(WireFormat::Text));
        bytes.to_vec()
    }

    #[test]
    fn encodes_reference_vectors() {
        assert_eq!(text(&Packet::Close), b"1");
        assert_eq!(text(&Packet::Ping(Some("probe"))), b"2probe");
        assert_eq!(text(&Packet::text("hello")), b"4hello");
        assert_eq!(text(&Packet::text("")), b"4");
        assert_eq!(text(&Packet::binary(&[1, 2, 3, 4])), b"bAQIDBA==");
        assert_eq!(text(&Packet::binary(&[])), b"b");
        let open = Packet::Open(Handshake::new("s", &[], 1, 2, None));
        assert_eq!(
            text(&open),
            br#"0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2}"#
        );
    }

    #[test]
    fn encodes_binary_as_a_raw_frame() {
        let (kind, bytes) = Packet::binary(&[1, 2]).to_bytes(WireFormat::Frames);
        assert_eq!((kind, &bytes[..]), (FrameKind::Binary, &[1u8, 2][..]));
    }
}
