//! How a polling response body carries its payload, read from the request's query: the
//! Engine.IO revision (`EIO=3`: `len:packet` records or XHR2 binary; `EIO=4`: records
//! separated by `\x1e`) and JSONP (`j=<index>`). Both the step executor (to decode a
//! response) and the actual values of the matcher ([`super::actual`]) need it.

use super::conn::protocol_of;
use sio_codec::Protocol;

/// How a polling response body carries its payload, from the request's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Framing {
    /// The protocol of the request (`EIO=3`: `len:packet` or XHR2 binary payloads), see
    /// [`protocol_of`].
    pub(crate) protocol: Protocol,
    /// JSONP (`j=<index>`): the payload is wrapped as `___eio[<index>]("<payload>");`.
    pub(crate) jsonp: Option<String>,
}

impl Framing {
    /// The framing of a request to `path_and_query`.
    pub(crate) fn of(path_and_query: &str) -> Self {
        let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
        Self {
            protocol: protocol_of(path_and_query),
            jsonp: query
                .split('&')
                .find_map(|pair| pair.strip_prefix("j="))
                .map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sio_codec::EngineIo;

    #[test]
    fn the_revision_and_jsonp_come_from_the_query() {
        let v3 = Framing::of("/engine.io/?EIO=3&transport=polling&j=2&sid=abc");
        assert_eq!(v3.protocol.engineio(), EngineIo::V3);
        assert_eq!(v3.jsonp.as_deref(), Some("2"));
        let v4 = Framing::of("/engine.io/?EIO=4&transport=polling");
        assert_eq!(v4.protocol.engineio(), EngineIo::V4);
        assert_eq!(v4.jsonp, None);
        // `j=` only as a whole parameter, and never from the path.
        assert_eq!(Framing::of("/j=1/?EIO=4&xj=3").jsonp, None);
    }
}
