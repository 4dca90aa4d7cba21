//! The wire-level defects: what a mutant changes around the codec's sans-IO sessions. The
//! sessions (`sio_codec::engineio::server::Session`, `sio_codec::socketio::server::Connection`)
//! always do the right thing; a defect is a switch here, on what goes into them (a request
//! read more loosely, a frame or body left out), on their settings (timers and limits other
//! than the announced ones), or on what comes out of them (an open packet, a polling body, a
//! WebSocket frame or a Socket.IO packet rewritten). With [`Mutant::None`] every function
//! here leaves its input as it is, so the clean server is the sessions' behaviour, byte for
//! byte.

mod polling;
mod socketio;
mod websocket;

pub(crate) use polling::{
    Kept, Poll, get_response, is_noop, pings_response, post_body_kept, post_response,
};
pub(crate) use socketio::socketio_out;
pub(crate) use websocket::{frame_kept, frames_out};

use crate::{Mutant, Settings};
use serde_json::Value;
use sio_codec::engineio::server::{Frame, Request, ServerConfig};
use sio_codec::engineio::{PacketBuf, PacketType};
use sio_codec::{Encode, EngineIo, Protocol, Utf8Bytes, WireFormat};
use std::time::Duration;

/// Long enough to never come during a run: the timer of a defect that never fires.
const NEVER: Duration = Duration::from_secs(24 * 3600);

// ---------------------------------------------------------------------- settings

/// The session's settings for a client of `revision`. They differ from what the open packet
/// announces (the [`Settings`]) only for the heartbeat and `maxPayload` defects; the open
/// packet is then rewritten by [`announce`].
pub(crate) fn session_config(settings: &Settings, revision: EngineIo) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.ping_interval = settings.ping_interval;
    config.ping_timeout = settings.ping_timeout;
    config.max_payload = settings.max_payload;
    config.allow_eio3 = settings.allow_eio3;
    let v4 = revision == EngineIo::V4;
    match settings.mutant {
        Mutant::NeverPing if v4 => config.ping_interval = NEVER,
        Mutant::SlowPing if v4 => config.ping_interval = settings.ping_interval.saturating_mul(2),
        Mutant::LatePingTimeout if v4 => {
            config.ping_timeout = settings.ping_interval.saturating_add(settings.ping_timeout);
        }
        // v4: a ping's pong; v3: the client's ping.
        Mutant::PongTimeoutIgnored => config.ping_timeout = NEVER,
        // The other transport's limit is applied by the transport (see `incoming_limit`).
        Mutant::MaxPayloadIgnoredOnPolling | Mutant::MaxPayloadIgnoredOnWebsocket => {
            config.max_payload = usize::MAX;
        }
        _ => {}
    }
    config
}

/// The connect timeout of the Socket.IO connection.
pub(crate) fn connect_timeout(settings: &Settings) -> Duration {
    if settings.has(Mutant::NoConnectTimeout) {
        NEVER
    } else {
        settings.connect_timeout
    }
}

/// A handshake request read more loosely than the session reads it: any method, or a
/// missing or unknown `EIO` taken as `4`.
pub(crate) fn request(settings: &Settings, request: &mut Request<'_>) {
    if request.sid.is_some() {
        return;
    }
    if settings.has(Mutant::HandshakeAnyMethod) {
        request.method = "GET";
    }
    let known = matches!(request.eio, Some("3" | "4"));
    if settings.has(Mutant::MissingEioAccepted) && !known {
        request.eio = Some("4");
    }
}

// ---------------------------------------------------------------------- open packet

/// Whether the mutant changes the open packet.
pub(super) fn rewrites_open(settings: &Settings) -> bool {
    matches!(
        settings.mutant,
        Mutant::NoMaxPayload
            | Mutant::UpgradesOnWebsocket
            | Mutant::NeverPing
            | Mutant::SlowPing
            | Mutant::LatePingTimeout
            | Mutant::PongTimeoutIgnored
            | Mutant::MaxPayloadIgnoredOnPolling
            | Mutant::MaxPayloadIgnoredOnWebsocket
    )
}

/// The open packet as the mutant writes it: the [`Settings`]' timers and limit (whatever the
/// session runs with), no `maxPayload`, or `upgrades` on a WebSocket-only session.
pub(super) fn announce(settings: &Settings, packet: PacketBuf) -> PacketBuf {
    if packet.packet_type() != PacketType::Open {
        return packet;
    }
    let (_, text) = packet.as_packet().to_bytes(WireFormat::Text);
    let json = text.get(1..).unwrap_or_default();
    let Ok(Value::Object(mut open)) = serde_json::from_slice::<Value>(json) else {
        return packet;
    };
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    open.insert("pingInterval".into(), millis(settings.ping_interval).into());
    open.insert("pingTimeout".into(), millis(settings.ping_timeout).into());
    if settings.has(Mutant::NoMaxPayload) {
        open.remove("maxPayload");
    } else if open.contains_key("maxPayload") {
        open.insert("maxPayload".into(), settings.max_payload.into());
    }
    if settings.has(Mutant::UpgradesOnWebsocket) {
        open.insert("upgrades".into(), Value::from(vec!["websocket"]));
    }
    let text = Utf8Bytes::from(format!("0{}", Value::Object(open)));
    PacketBuf::decode_text(&text).unwrap_or(packet)
}

/// The first WebSocket frame of a WebSocket-only session.
pub(crate) fn open_frame(settings: &Settings, revision: EngineIo, frame: Frame) -> Frame {
    match frame {
        Frame::Text(text) if rewrites_open(settings) => {
            let protocol = Protocol::new(revision);
            match protocol.decode_text_frame(&text) {
                Ok(packet) => {
                    let packet = announce(settings, packet);
                    let (_, bytes) = packet.as_packet().to_bytes(WireFormat::Text);
                    Utf8Bytes::try_from(bytes).map_or(Frame::Text(text), Frame::Text)
                }
                Err(_) => Frame::Text(text),
            }
        }
        other => other,
    }
}
