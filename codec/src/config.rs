//! Decoding limits and the switches that make the decoder stricter than the reference.

/// Limits and acceptance rules shared by every decoder.
///
/// The default mirrors the JavaScript reference parsers (engine.io-parser 5.x and
/// socket.io-parser 4.2.7) including their input quirks, so a server built on this crate
/// accepts exactly what the Node reference accepts. [`DecodeConfig::strict`] turns every quirk
/// off. Each `allow_*` switch documents the reference behaviour it reproduces.
///
/// Deliberate departures that no switch re-enables, because they would lose or invent data:
/// ack ids above 2^53 - 1 are [`AckIdOverflow`](crate::ErrorKind::AckIdOverflow) (JavaScript
/// rounds them), and a placeholder whose `num` is not an integer is
/// [`InvalidPlaceholder`](crate::ErrorKind::InvalidPlaceholder) (JavaScript delivers
/// `undefined`). The full list, checked against the reference parsers on every CI run, is in
/// `differential/README.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeConfig {
    max_attachments: u32,
    max_payload: usize,
    max_packets: usize,
    socketio_v4: bool,
    allow_js_number_coercion: bool,
    allow_zero_attachments: bool,
    allow_trailing_data: bool,
    allow_lenient_base64: bool,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DecodeConfig {
    /// The reference behaviour (Socket.IO v5 payload rules).
    pub const fn new() -> Self {
        Self {
            max_attachments: 10,
            max_payload: 1_000_000,
            max_packets: usize::MAX,
            socketio_v4: false,
            allow_js_number_coercion: true,
            allow_zero_attachments: false,
            allow_trailing_data: false,
            allow_lenient_base64: false,
        }
    }

    /// No reference quirk accepted: only input our encoder could have produced (modulo JSON
    /// whitespace and the namespace comma) decodes.
    pub const fn strict() -> Self {
        Self::new().allow_js_number_coercion(false)
    }

    /// The rules of socket.io-parser 3.x (Socket.IO protocol v4, carried over Engine.IO v3):
    /// no reserved event names, CONNECT accepts any JSON object or array or `null`, and
    /// CONNECT_ERROR a string, object, array or `null` (`typeof` string or object).
    pub const fn socketio_v4() -> Self {
        let mut cfg = Self::new();
        cfg.socketio_v4 = true;
        cfg
    }

    /// The same with the Socket.IO v4 payload rules on or off ([`DecodeConfig::socketio_v4`]).
    pub(crate) const fn with_socketio_v4(mut self, v4: bool) -> Self {
        self.socketio_v4 = v4;
        self
    }

    /// Maximum attachments of one binary packet (socket.io-parser `maxAttachments`, default 10).
    #[must_use]
    pub const fn max_attachments(mut self, max: u32) -> Self {
        self.max_attachments = max;
        self
    }

    /// Maximum size in bytes of one packet, frame or polling body (engine.io
    /// `maxHttpBufferSize`, default 1 000 000). Larger input is
    /// [`PayloadTooLarge`](crate::ErrorKind::PayloadTooLarge).
    #[must_use]
    pub const fn max_payload(mut self, max: usize) -> Self {
        self.max_payload = max;
        self
    }

    /// Maximum packets in one polling payload. Unbounded by default (like the reference):
    /// `max_payload` already bounds the work.
    #[must_use]
    pub const fn max_packets(mut self, max: usize) -> Self {
        self.max_packets = max;
        self
    }

    /// Accept the JavaScript `Number()` spellings the reference parser lets through where it
    /// expects digits: an attachment count written ` 1`, `0x1`, `1e0` or `1.0`; whitespace
    /// inside an ack id (`2 ["a"]` has id 0); an empty Socket.IO packet or one whose type
    /// character is whitespace (decoded as CONNECT `/`); a length prefix ` 6` or `06` in
    /// Engine.IO v3 payloads. On by default.
    #[must_use]
    pub const fn allow_js_number_coercion(mut self, allow: bool) -> Self {
        self.allow_js_number_coercion = allow;
        self
    }

    /// Accept binary packets that announce zero attachments (`50-["a"]`), as
    /// socket.io-parser up to 4.2.6 did. Off by default, like 4.2.7.
    #[must_use]
    pub const fn allow_zero_attachments(mut self, allow: bool) -> Self {
        self.allow_zero_attachments = allow;
        self
    }

    /// Accept and discard data after an Engine.IO `close`, `upgrade` or `noop` type
    /// (`1xyz`), as the reference does: it decodes the data and never reads it. Off by
    /// default because the data would be dropped; the error is
    /// [`UnexpectedData`](crate::ErrorKind::UnexpectedData).
    #[must_use]
    pub const fn allow_trailing_data(mut self, allow: bool) -> Self {
        self.allow_trailing_data = allow;
        self
    }

    /// Decode base64 the way Node's `Buffer.from(s, "base64")` does: characters outside the
    /// alphabet are skipped, padding is optional, the URL-safe alphabet is accepted and
    /// decoding stops at the first `=`. Off by default: `b!!!` is
    /// [`InvalidBase64`](crate::ErrorKind::InvalidBase64) instead of an empty message.
    #[must_use]
    pub const fn allow_lenient_base64(mut self, allow: bool) -> Self {
        self.allow_lenient_base64 = allow;
        self
    }

    /// The size check shared by every decoder: the first byte past the limit is the offset.
    pub(crate) const fn check_size(&self, len: usize) -> Result<(), crate::DecodeError> {
        if len > self.max_payload {
            let kind = crate::ErrorKind::PayloadTooLarge {
                max: self.max_payload,
            };
            return Err(crate::DecodeError::new(kind, self.max_payload));
        }
        Ok(())
    }

    /// The attachment limit.
    pub const fn attachments_limit(&self) -> u32 {
        self.max_attachments
    }

    /// The size limit in bytes.
    pub const fn payload_limit(&self) -> usize {
        self.max_payload
    }

    /// The packets-per-payload limit.
    pub const fn packets_limit(&self) -> usize {
        self.max_packets
    }

    /// Whether Socket.IO v4 (socket.io-parser 3.x) payload rules apply.
    pub const fn is_socketio_v4(&self) -> bool {
        self.socketio_v4
    }

    /// Whether JavaScript number coercion is accepted.
    pub const fn allows_js_number_coercion(&self) -> bool {
        self.allow_js_number_coercion
    }

    /// Whether zero-attachment binary packets are accepted.
    pub const fn allows_zero_attachments(&self) -> bool {
        self.allow_zero_attachments
    }

    /// Whether trailing data after data-less Engine.IO types is accepted.
    pub const fn allows_trailing_data(&self) -> bool {
        self.allow_trailing_data
    }

    /// Whether Node's lenient base64 is accepted.
    pub const fn allows_lenient_base64(&self) -> bool {
        self.allow_lenient_base64
    }
}
