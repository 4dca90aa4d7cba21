//! The encoding interface shared by Engine.IO packet types.

use bytes::{Bytes, BytesMut};

/// How binary messages are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireFormat {
    /// Everything as text: binary becomes a `b<base64>` record (polling, or WebSocket with
    /// `b64=1`).
    Text,
    /// Binary messages as binary frames (WebSocket).
    Frames,
}

/// Whether an encoded packet is sent as a text or a binary frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// A text frame (valid UTF-8).
    Text,
    /// A binary frame.
    Binary,
}

/// Encoding into any [`bytes::BufMut`]. Infallible: values are valid by construction.
pub trait Encode {
    /// Exact number of bytes [`Encode::encode`] writes.
    fn encoded_len(&self, format: WireFormat) -> usize;

    /// Appends the wire form to `dst` and says which kind of frame it is.
    fn encode<B: bytes::BufMut>(&self, format: WireFormat, dst: &mut B) -> FrameKind;

    /// The wire form in a new buffer of exactly the right size.
    fn to_bytes(&self, format: WireFormat) -> (FrameKind, Bytes) {
        let mut buf = BytesMut::with_capacity(self.encoded_len(format));
        let kind = self.encode(format, &mut buf);
        (kind, buf.freeze())
    }
}
