//! The `open` packet's JSON: session id, upgrades and heartbeat timers.

use alloc::{borrow::Cow, string::String, vec::Vec};
use core::fmt;
use serde::{Deserialize, Serialize};

/// The handshake a server sends in its `open` packet.
///
/// The JSON text is kept as received, so fields this crate does not know (WebTransport
/// options, vendor extensions) survive a decode/encode round trip byte for byte; the known
/// fields are parsed into typed accessors. Key order and spacing are whatever the server sent
/// (the reference emits `sid, upgrades, pingInterval, pingTimeout, maxPayload`; python-engineio
/// another order), so compare handshakes by field, not by bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Handshake<'a> {
    json: Cow<'a, str>,
    sid: Cow<'a, str>,
    upgrades: Vec<Cow<'a, str>>,
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields<'a> {
    #[serde(borrow)]
    sid: Cow<'a, str>,
    upgrades: Vec<Cow<'a, str>>,
    ping_interval: u64,
    ping_timeout: u64,
    #[serde(default)]
    max_payload: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewFields<'s> {
    sid: &'s str,
    upgrades: &'s [&'s str],
    ping_interval: u64,
    ping_timeout: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_payload: Option<u64>,
}

impl<'a> Handshake<'a> {
    /// Builds a handshake with the reference key order (`maxPayload` omitted when `None`, as
    /// Engine.IO v3 servers do).
    pub fn new(
        sid: &str,
        upgrades: &[&str],
        ping_interval: u64,
        ping_timeout: u64,
        max_payload: Option<u64>,
    ) -> Handshake<'static> {
        let fields = NewFields {
            sid,
            upgrades,
            ping_interval,
            ping_timeout,
            max_payload,
        };
        // Serializing strings and integers into a String cannot fail (loud in tests if it did).
        let json = serde_json::to_string(&fields);
        debug_assert!(json.is_ok(), "the open packet's fields did not serialize");
        let json = json.unwrap_or_default();
        Handshake {
            json: Cow::Owned(json),
            sid: Cow::Owned(sid.into()),
            upgrades: upgrades
                .iter()
                .map(|u| Cow::Owned(String::from(*u)))
                .collect(),
            ping_interval,
            ping_timeout,
            max_payload,
        }
    }

    /// Parses the JSON data of an `open` packet. `None` when it is not a JSON object with a
    /// string `sid`, a string array `upgrades` and integer `pingInterval` / `pingTimeout`
    /// (and an integer `maxPayload` when present).
    pub fn parse(json: &'a str) -> Option<Self> {
        let fields: Fields<'a> = serde_json::from_str(json).ok()?;
        Some(Self {
            json: Cow::Borrowed(json),
            sid: fields.sid,
            upgrades: fields.upgrades,
            ping_interval: fields.ping_interval,
            ping_timeout: fields.ping_timeout,
            max_payload: fields.max_payload,
        })
    }

    /// The JSON text exactly as received (or as built by [`Handshake::new`]).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The session id: opaque, used as `sid` in every later request.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// Transports the client may upgrade to.
    pub fn upgrades(&self) -> impl Iterator<Item = &str> {
        self.upgrades.iter().map(|u| &**u)
    }

    /// Milliseconds between server pings (v4) or expected client pings (v3).
    pub fn ping_interval(&self) -> u64 {
        self.ping_interval
    }

    /// Milliseconds the peer waits for a pong.
    pub fn ping_timeout(&self) -> u64 {
        self.ping_timeout
    }

    /// The server's maximum accepted payload in bytes (absent from v3 servers).
    pub fn max_payload(&self) -> Option<u64> {
        self.max_payload
    }

    /// A copy that owns its text.
    pub fn into_owned(self) -> Handshake<'static> {
        Handshake {
            json: Cow::Owned(self.json.into_owned()),
            sid: Cow::Owned(self.sid.into_owned()),
            upgrades: self
                .upgrades
                .into_iter()
                .map(|u| Cow::Owned(u.into_owned()))
                .collect(),
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            max_payload: self.max_payload,
        }
    }
}

impl fmt::Debug for Handshake<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handshake({})", self.json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_reference_handshake_and_keeps_unknown_fields() {
        let json = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000,"x":[1]}"#;
        let h = Handshake::parse(json).unwrap();
        assert_eq!(h.sid(), "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(h.upgrades().collect::<Vec<_>>(), ["websocket"]);
        assert_eq!((h.ping_interval(), h.ping_timeout()), (25000, 20000));
        assert_eq!(h.max_payload(), Some(1_000_000));
        assert_eq!(h.json(), json);
    }

    #[test]
    fn rejects_handshake_without_sid() {
        assert!(Handshake::parse(r#"{"upgrades":[],"pingInterval":1,"pingTimeout":1}"#).is_none());
        assert!(
            Handshake::parse(r#"{"sid":1,"upgrades":[],"pingInterval":1,"pingTimeout":1}"#)
                .is_none()
        );
    }

    #[test]
    fn encodes_in_reference_key_order() {
        let h = Handshake::new("abc", &["websocket"], 300, 200, Some(1_000_000));
        assert_eq!(
            h.json(),
            r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        );
        assert_eq!(
            Handshake::new("a", &[], 1, 2, None).json(),
            r#"{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2}"#
        );
    }
}
