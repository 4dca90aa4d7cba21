//! Which session a request is for, checked in the reference's order (transport, sid,
//! method, WebSocket without upgrade, protocol version), and the open packet.

use super::Mutant;
use super::http::{Request, Response};
use super::session::{Endpoint, Session};
use sio_codec::EngineIo;
use sio_codec::engineio::{self, Handshake, PacketBuf};
use std::sync::Arc;

/// What a valid request is for.
#[derive(Debug)]
pub(crate) enum Target {
    /// A handshake: a new session of this revision.
    New(EngineIo),
    /// A request of an open session.
    Existing(Arc<Session>),
}

/// Why a request is refused: the reference's error codes and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownTransport,
    UnknownSid,
    BadHandshakeMethod,
    BadRequest,
    UnsupportedVersion,
}

impl Refusal {
    fn code(self) -> u8 {
        match self {
            Self::UnknownTransport => 0,
            Self::UnknownSid => 1,
            Self::BadHandshakeMethod => 2,
            Self::BadRequest => 3,
            Self::UnsupportedVersion => 5,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::UnknownTransport => "Transport unknown",
            Self::UnknownSid => "Session ID unknown",
            Self::BadHandshakeMethod => "Bad handshake method",
            Self::BadRequest => "Bad request",
            Self::UnsupportedVersion => "Unsupported protocol version",
        }
    }

    /// The answer to a polling request: `400 {"code":N,"message":"…"}`.
    pub(crate) fn polling_response(self) -> Response {
        Response::engine_error(400, self.code(), self.message())
    }

    /// The answer to a WebSocket upgrade request: a plain 400 with the message.
    pub(crate) fn websocket_response(self) -> Response {
        Response::new(400, "text/html", self.message())
    }
}

/// Checks a request against the endpoint's sessions.
pub(crate) fn check(request: &Request, endpoint: &Endpoint) -> Result<Target, Refusal> {
    let settings = &endpoint.settings;
    let websocket = request.is_websocket_upgrade();
    match request.query.get("transport") {
        Some("polling") if !websocket => {}
        Some("websocket") => {}
        Some("polling") => return Err(Refusal::BadRequest),
        _ => return Err(Refusal::UnknownTransport),
    }
    if let Some(sid) = request.query.get("sid") {
        return endpoint
            .find(sid)
            .map(Target::Existing)
            .ok_or(Refusal::UnknownSid);
    }
    if request.method != "GET" && !settings.has(Mutant::HandshakeAnyMethod) {
        return Err(Refusal::BadHandshakeMethod);
    }
    if request.query.get("transport") == Some("websocket") && !websocket {
        return Err(Refusal::BadRequest);
    }
    match request
        .query
        .get("EIO")
        .and_then(EngineIo::from_query_value)
    {
        Some(EngineIo::V3) if !settings.allow_eio3 => Err(Refusal::UnsupportedVersion),
        Some(eio) => Ok(Target::New(eio)),
        None if settings.has(Mutant::MissingEioAccepted) => Ok(Target::New(EngineIo::V4)),
        None => Err(Refusal::UnsupportedVersion),
    }
}

/// The open packet of `session`: `upgrades` is `["websocket"]` for a polling session.
pub(crate) fn open_packet(session: &Session, polling: bool) -> PacketBuf {
    let settings = session.settings();
    let upgrades: &[&str] = if polling || settings.has(Mutant::UpgradesOnWebsocket) {
        &["websocket"]
    } else {
        &[]
    };
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let max_payload = (!settings.has(Mutant::NoMaxPayload))
        .then(|| u64::try_from(settings.max_payload).unwrap_or(u64::MAX));
    let handshake = Handshake::new(
        &session.sid,
        upgrades,
        millis(settings.ping_interval),
        millis(settings.ping_timeout),
        max_payload,
    );
    PacketBuf::from(&engineio::Packet::Open(handshake))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Settings, echo::Echo};

    fn check_with(settings: Settings, head: &str) -> Result<Target, Refusal> {
        let endpoint = Endpoint::new(Arc::new(settings), Arc::new(Echo), false);
        let bytes = format!("{head} HTTP/1.1\r\nHost: x\r\n\r\n");
        let request = Request::parse(bytes.as_bytes()).unwrap().unwrap();
        check(&request, &endpoint)
    }

    fn check_clean(head: &str) -> Result<Target, Refusal> {
        check_with(Settings::default(), head)
    }

    #[test]
    fn requests_are_refused_in_the_reference_order() {
        use Refusal::*;
        let refused = |head: &str| check_clean(head).err();
        assert_eq!(refused("GET /e/?EIO=4"), Some(UnknownTransport));
        assert_eq!(
            refused("GET /e/?EIO=9&transport=abc&sid=x"),
            Some(UnknownTransport)
        );
        assert_eq!(
            refused("GET /e/?EIO=9&transport=polling&sid=x"),
            Some(UnknownSid)
        );
        assert_eq!(
            refused("POST /e/?EIO=9&transport=polling"),
            Some(BadHandshakeMethod)
        );
        assert_eq!(
            refused("GET /e/?EIO=4&transport=websocket"),
            Some(BadRequest)
        );
        assert_eq!(
            refused("GET /e/?transport=polling"),
            Some(UnsupportedVersion)
        );
        assert_eq!(
            refused("GET /e/?EIO=abc&transport=polling"),
            Some(UnsupportedVersion)
        );
        assert!(matches!(
            check_clean("GET /e/?EIO=3&transport=polling"),
            Ok(Target::New(EngineIo::V3))
        ));
        assert!(matches!(
            check_clean("GET /e/?EIO=4&transport=polling"),
            Ok(Target::New(EngineIo::V4))
        ));
        let no_v3 = Settings {
            allow_eio3: false,
            ..Settings::default()
        };
        assert_eq!(
            check_with(no_v3, "GET /e/?EIO=3&transport=polling").err(),
            Some(UnsupportedVersion)
        );
        let body = UnknownSid.polling_response().body;
        assert_eq!(&body[..], br#"{"code":1,"message":"Session ID unknown"}"#);
    }

    #[test]
    fn mutants_loosen_the_checks() {
        let any_method = Settings::with_mutant(Mutant::HandshakeAnyMethod);
        assert!(matches!(
            check_with(any_method, "PUT /e/?EIO=4&transport=polling"),
            Ok(Target::New(EngineIo::V4))
        ));
        let any_eio = Settings::with_mutant(Mutant::MissingEioAccepted);
        assert!(matches!(
            check_with(any_eio, "GET /e/?transport=polling"),
            Ok(Target::New(EngineIo::V4))
        ));
    }
}
