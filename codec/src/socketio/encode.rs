//! Socket.IO packet encoding: `<type>[<n>-][<namespace>,][<id>][<JSON>]`, canonical.

use super::packet::{Packet, PacketBuf};
use crate::utf8_bytes::Utf8Bytes;
use bytes::{BufMut, BytesMut};

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

fn put_decimal<B: BufMut>(dst: &mut B, n: u64) {
    let mut buf = [0u8; 20];
    let len = decimal_len(n);
    let mut rest = n;
    for slot in buf[..len].iter_mut().rev() {
        // `rest % 10` is below 10.
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    dst.put_slice(&buf[..len]);
}

impl Packet<'_> {
    /// Bytes before the namespace: the type and, for binary types, `<count>-`.
    pub(crate) fn header_len_before_namespace(&self) -> usize {
        1 + self
            .attachments()
            .map_or(0, |n| decimal_len(u64::from(n)) + 1)
    }

    /// Exact number of bytes [`Packet::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        let namespace = self.namespace();
        self.header_len_before_namespace()
            + if namespace.is_root() {
                0
            } else {
                namespace.as_str().len() + 1
            }
            + self.id().map_or(0, |id| decimal_len(id.get()))
            + self.data().map_or(0, |d| d.as_str().len())
    }

    /// Appends the canonical text form (the reference encoder's output): `/` elided, the
    /// comma after any other namespace, no leading zeros, the JSON as given.
    ///
    /// ```
    /// use sio_codec::socketio::{AckId, Namespace, Packet, RawJson};
    /// let args = RawJson::new(r#"["project:delete",123]"#).unwrap();
    /// let packet = Packet::event(Namespace::new("/admin").unwrap(), args, AckId::new(456)).unwrap();
    /// let mut out = Vec::new();
    /// packet.encode(&mut out);
    /// assert_eq!(out, br#"2/admin,456["project:delete",123]"#);
    /// assert_eq!(out.len(), packet.encoded_len());
    /// ```
    pub fn encode<B: BufMut>(&self, dst: &mut B) {
        dst.put_u8(self.packet_type().digit());
        if let Some(n) = self.attachments() {
            put_decimal(dst, u64::from(n));
            dst.put_u8(b'-');
        }
        let namespace = self.namespace();
        if !namespace.is_root() {
            dst.put_slice(namespace.as_str().as_bytes());
            dst.put_u8(b',');
        }
        if let Some(id) = self.id() {
            put_decimal(dst, id.get());
        }
        if let Some(data) = self.data() {
            dst.put_slice(data.as_str().as_bytes());
        }
    }

    /// The text form in a new buffer of exactly the right size.
    pub fn to_text(&self) -> Utf8Bytes {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut buf);
        // Only UTF-8 pieces were written: anything else is a bug, loud in tests, an empty
        // text (never UB) in release.
        let text = Utf8Bytes::try_from(buf.freeze());
        debug_assert!(text.is_ok(), "the encoder wrote invalid UTF-8");
        text.unwrap_or_default()
    }
}

impl PacketBuf {
    /// Exact number of bytes [`PacketBuf::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        self.as_packet().encoded_len()
    }

    /// Appends the canonical text form; see [`Packet::encode`].
    pub fn encode<B: BufMut>(&self, dst: &mut B) {
        self.as_packet().encode(dst);
    }
}
