//! The wire-level defects: what a mutant changes around the codec's sans-IO sessions. The
//! sessions (`sio_codec::engineio::server::Session`, `sio_codec::socketio::server::Connection`)
//! always do the right thing; a defect is a switch here, on what goes into them (a request
//! read more loosely, a frame or body left out), on their settings (timers and limits other
//! than the announced ones), or on what comes out of them (an open packet, a polling body, a
//! WebSocket frame or a Socket.IO packet rewritten). With [`Mutant::None`] every function
//! here leaves its input as it is, so the clean server is the sessions' behaviour, byte for
//! byte.

use crate::{Mutant, Settings};
use bytes::Bytes;
use serde_json::{Map, Value};
use sio_codec::engineio::server::{Frame, Request, Response, ServerConfig, TEXT_BODY};
use sio_codec::engineio::{self, Message, Packet, PacketBuf, PacketType, v3};
use sio_codec::socketio::{self, OutFrame};
use sio_codec::{DecodeConfig, Encode, EngineIo, Protocol, Utf8Bytes, WireFormat};
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
fn rewrites_open(settings: &Settings) -> bool {
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
fn announce(settings: &Settings, packet: PacketBuf) -> PacketBuf {
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

// ---------------------------------------------------------------------- polling

/// What a GET's body is written for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Poll<'a> {
    pub(crate) revision: EngineIo,
    /// The client takes binary as base64 text (`b64`, JSONP).
    pub(crate) b64: bool,
    /// The JSONP index of the request.
    pub(crate) jsonp: Option<&'a str>,
}

/// The answer to a GET (the handshake's included) as the mutant writes it; `pings` server
/// pings owed to an Engine.IO 3 client go in front (`v3-server-pings`).
pub(crate) fn get_response(
    settings: &Settings,
    poll: Poll<'_>,
    response: Response,
    pings: usize,
) -> Response {
    let body_defect = match settings.mutant {
        Mutant::DropLastPacket | Mutant::JsonpIgnored | Mutant::V3ServerPings => true,
        Mutant::RawBinaryOnPolling => poll.revision == EngineIo::V4,
        Mutant::Xhr2ForB64Clients | Mutant::V3ByteLengths => poll.revision == EngineIo::V3,
        _ => rewrites_open(settings),
    };
    if response.status != 200 || !body_defect {
        return response;
    }
    let Some(mut packets) = decode_get(poll, &response) else {
        return response;
    };
    if let [first, ..] = packets.as_mut_slice()
        && first.packet_type() == PacketType::Open
    {
        *first = announce(settings, first.clone());
    }
    if settings.has(Mutant::DropLastPacket) && packets.len() > 1 {
        packets.pop();
    }
    let ping = PacketBuf::from(&Packet::Ping(None));
    packets.splice(0..0, std::iter::repeat_n(ping, pings));
    let (content_type, body) = encode_get(settings, poll, &packets);
    let body = match poll.jsonp {
        Some(index) if content_type == TEXT_BODY && !settings.has(Mutant::JsonpIgnored) => {
            Bytes::from(jsonp_wrap(index, &String::from_utf8_lossy(&body)))
        }
        _ => body,
    };
    Response {
        content_type: Some(content_type),
        body,
        ..response
    }
}

/// The packets of a GET answer the session wrote.
fn decode_get(poll: Poll<'_>, response: &Response) -> Option<Vec<PacketBuf>> {
    let body = if poll.jsonp.is_some() && response.content_type == Some(TEXT_BODY) {
        Bytes::from(jsonp_unwrap(&response.body)?)
    } else {
        response.body.clone()
    };
    let protocol =
        Protocol::new(poll.revision).with_config(DecodeConfig::new().max_payload(usize::MAX));
    protocol
        .decode_body(body, response.content_type)
        .collect::<Result<_, _>>()
        .ok()
}

/// A GET body, with the encoding defects.
fn encode_get(settings: &Settings, poll: Poll<'_>, packets: &[PacketBuf]) -> (&'static str, Bytes) {
    let views: Vec<Packet<'_>> = packets.iter().map(PacketBuf::as_packet).collect();
    let has_binary = views
        .iter()
        .any(|p| matches!(p, Packet::Message(Message::Binary(_))));
    let b64 = poll.b64 && !settings.has(Mutant::Xhr2ForB64Clients);
    let xhr2 = poll.revision == EngineIo::V3 && has_binary && !b64;
    let mut body = Vec::new();
    match poll.revision {
        EngineIo::V4 if has_binary && settings.has(Mutant::RawBinaryOnPolling) => {
            for (i, view) in views.iter().enumerate() {
                if i > 0 {
                    body.push(engineio::RECORD_SEPARATOR);
                }
                match view {
                    Packet::Message(Message::Binary(bytes)) => body.extend_from_slice(bytes),
                    other => {
                        other.encode(WireFormat::Text, &mut body);
                    }
                }
            }
            (TEXT_BODY, Bytes::from(body))
        }
        EngineIo::V3 if !xhr2 && settings.has(Mutant::V3ByteLengths) => {
            for view in &views {
                let (_, bytes) = v3::V3(view).to_bytes(WireFormat::Text);
                body.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
                body.extend_from_slice(&bytes);
            }
            (TEXT_BODY, Bytes::from(body))
        }
        revision => match Protocol::new(revision).encode_body(&views, b64) {
            Ok(encoded) => encoded,
            // Engine.IO 4, a text that holds the record separator: written as is, as the
            // reference does.
            Err(_) => {
                for (i, view) in views.iter().enumerate() {
                    if i > 0 {
                        body.push(engineio::RECORD_SEPARATOR);
                    }
                    view.encode(WireFormat::Text, &mut body);
                }
                (TEXT_BODY, Bytes::from(body))
            }
        },
    }
}

/// Whether a GET answer is only the noop that releases a GET during the upgrade.
pub(crate) fn is_noop(poll: Poll<'_>, response: &Response) -> bool {
    decode_get(poll, response).is_some_and(
        |packets| matches!(&packets[..], [noop] if noop.packet_type() == PacketType::Noop),
    )
}

/// `___eio[<digits of j>]("<payload as a JSON string>");`, U+2028 and U+2029 escaped too.
fn jsonp_wrap(index: &str, payload: &str) -> String {
    let digits: String = index.chars().filter(char::is_ascii_digit).collect();
    let literal = Value::String(payload.to_owned())
        .to_string()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    format!("___eio[{digits}]({literal});")
}

/// The payload inside a JSONP answer.
fn jsonp_unwrap(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let literal = text.split_once('(')?.1.strip_suffix(");")?;
    serde_json::from_str(literal).ok()
}

/// The answer to a POST: `ok`, or an empty body (`post-without-ok`).
pub(crate) fn post_response(settings: &Settings, response: Response) -> Response {
    if settings.has(Mutant::PostWithoutOk) && response.status == 200 {
        Response {
            body: Bytes::new(),
            ..response
        }
    } else {
        response
    }
}

/// What `malformed-eio-kept` does with a POST body.
#[derive(Debug)]
pub(crate) enum Kept {
    /// Nothing: the body is fine (or the mutant is another).
    Body,
    /// The body cut before its first bad record, as a text payload (content type, bytes)
    /// for the session.
    Cut(&'static str, Bytes),
    /// Not one good record: the session does not see the POST.
    Nothing,
}

/// `malformed-eio-kept`: a POST body without its bad records.
pub(crate) fn post_body_kept(
    settings: &Settings,
    revision: EngineIo,
    body: &Bytes,
    octet_stream: bool,
    jsonp: bool,
) -> Kept {
    // JSONP forms are left to the session: the defect is in the plain payloads.
    if !settings.has(Mutant::MalformedEioKept) || jsonp {
        return Kept::Body;
    }
    let payload = body.clone();
    let protocol = Protocol::new(revision).with_config(DecodeConfig::new().max_payload(usize::MAX));
    let content_type = octet_stream.then_some(sio_codec::BINARY_BODY);
    let mut good = Vec::new();
    let mut bad = false;
    for packet in protocol.decode_body(payload, content_type) {
        match packet {
            Ok(packet) => good.push(packet),
            Err(_) => bad = true,
        }
    }
    if !bad {
        return Kept::Body;
    }
    if good.is_empty() {
        return Kept::Nothing;
    }
    let views: Vec<Packet<'_>> = good.iter().map(PacketBuf::as_packet).collect();
    // Binary kept as base64 text: the session reads text payloads of either revision.
    match protocol.encode_body(&views, true) {
        Ok((content_type, body)) => Kept::Cut(content_type, body),
        Err(_) => Kept::Nothing,
    }
}

/// A GET answer of `pings` pings, written by the server itself (`v3-server-pings`, while
/// the session's own answer is not there yet).
pub(crate) fn pings_response(poll: Poll<'_>, pings: usize) -> Response {
    let pings = vec![Packet::Ping(None); pings];
    let (content_type, body) = Protocol::new(poll.revision)
        .encode_body(&pings, poll.b64)
        .unwrap_or((TEXT_BODY, Bytes::new()));
    Response {
        status: 200,
        content_type: Some(content_type),
        body,
    }
}

// ---------------------------------------------------------------------- WebSocket

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

// ---------------------------------------------------------------------- Socket.IO

/// Whether the mutant rewrites the Socket.IO packets the server sends.
fn rewrites_socketio(settings: &Settings) -> bool {
    matches!(
        settings.mutant,
        Mutant::ConnectReplyWithoutSid
            | Mutant::AuthBeforeConnectReply
            | Mutant::ConnectErrorString
            | Mutant::V4ErrorObject
            | Mutant::AckDataNotArray
            | Mutant::AttachmentCountOffByOne
            | Mutant::NamespaceNotElided
            | Mutant::JsonWithSpaces
            | Mutant::AcksRoutedToMain
    )
}

/// The Socket.IO connection's messages, as the mutant writes them.
pub(crate) fn socketio_out(settings: &Settings, protocol: Protocol, frames: &mut [OutFrame]) {
    if !rewrites_socketio(settings) {
        return;
    }
    for frame in frames.iter_mut() {
        if let OutFrame::Text(text) = frame
            && let Some(rewritten) = socketio_packet(settings, protocol, text)
        {
            *text = Utf8Bytes::from(rewritten);
        }
    }
    // The `auth` event goes out before the CONNECT reply it follows.
    if settings.has(Mutant::AuthBeforeConnectReply)
        && let Some(reply) = frames.iter().position(
            |frame| matches!(frame, OutFrame::Text(text) if text.as_str().starts_with('0')),
        )
        && reply + 1 < frames.len()
    {
        frames.swap(reply, reply + 1);
    }
}

/// One packet text, rewritten (`None`: unchanged).
fn socketio_packet(settings: &Settings, protocol: Protocol, text: &Utf8Bytes) -> Option<String> {
    use socketio::PacketType as Sio;
    let buf = protocol.decode_socketio(text).ok()?;
    let packet = buf.as_packet();
    let kind = packet.packet_type();
    let mut namespace = packet.namespace().as_str().to_owned();
    let mut attachments = packet.attachments();
    let id = packet.id().map(|id| id.get());
    let mut data = packet.data().map(|data| data.as_str().to_owned());
    let v4 = protocol.socketio() == sio_codec::SocketIo::V4;
    let json = |value: &Value| socketio::to_js_json(value).ok();
    match (settings.mutant, kind) {
        (Mutant::ConnectReplyWithoutSid, Sio::Connect) if !v4 => data = None,
        (Mutant::ConnectErrorString, Sio::ConnectError) if !v4 => {
            let value: Value = serde_json::from_str(data.as_deref()?).ok()?;
            data = Some(json(value.get("message")?)?);
        }
        (Mutant::V4ErrorObject, Sio::ConnectError) if v4 => {
            let message: Value = serde_json::from_str(data.as_deref()?).ok()?;
            data = Some(json(&serde_json::json!({ "message": message }))?);
        }
        (Mutant::AckDataNotArray, Sio::Ack | Sio::BinaryAck) => {
            let Value::Array(items) = serde_json::from_str(data.as_deref()?).ok()? else {
                return None;
            };
            let object: Map<String, Value> = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect();
            data = Some(json(&Value::Object(object))?);
        }
        (Mutant::AttachmentCountOffByOne, _) => attachments = Some(attachments? + 1),
        (Mutant::NamespaceNotElided, _) if namespace == "/" => namespace = "/,".into(),
        (Mutant::JsonWithSpaces, _) => {
            let value: Value = serde_json::from_str(data.as_deref()?).ok()?;
            data = Some(serde_json::to_string_pretty(&value).ok()?);
        }
        (Mutant::AcksRoutedToMain, Sio::Ack | Sio::BinaryAck) => namespace = "/".into(),
        _ => return None,
    }
    // `<type>[<attachments>-][<namespace>,][<id>][<data>]`, `/` left out.
    let mut out = String::new();
    out.push(kind.digit() as char);
    if let Some(count) = attachments {
        out.push_str(&format!("{count}-"));
    }
    match namespace.as_str() {
        "/" => {}
        "/," => out.push_str("/,"),
        other => {
            out.push_str(other);
            out.push(',');
        }
    }
    if let Some(id) = id {
        out.push_str(&id.to_string());
    }
    out.push_str(data.as_deref().unwrap_or(""));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mutant: Mutant) -> Settings {
        Settings::with_mutant(mutant)
    }

    fn sio(mutant: Mutant, protocol: Protocol, texts: &[&str]) -> Vec<String> {
        let mut frames: Vec<OutFrame> = texts
            .iter()
            .map(|t| OutFrame::Text(Utf8Bytes::from(*t)))
            .collect();
        socketio_out(&settings(mutant), protocol, &mut frames);
        frames
            .iter()
            .map(|f| match f {
                OutFrame::Text(t) => t.as_str().to_owned(),
                OutFrame::Binary(b) => format!("<{}>", b.len()),
            })
            .collect()
    }

    #[test]
    fn socketio_defects_rewrite_the_packets() {
        let v5 = Protocol::new(EngineIo::V4);
        let v4 = Protocol::new(EngineIo::V3);
        let clean = [r#"0/custom,{"sid":"x"}"#, r#"2/custom,["auth",{}]"#];
        assert_eq!(sio(Mutant::None, v5, &clean), clean);
        assert_eq!(
            sio(Mutant::ConnectReplyWithoutSid, v5, &clean),
            ["0/custom,", r#"2/custom,["auth",{}]"#]
        );
        assert_eq!(
            sio(Mutant::AuthBeforeConnectReply, v5, &clean),
            [clean[1], clean[0]]
        );
        assert_eq!(
            sio(Mutant::ConnectErrorString, v5, &[r#"4{"message":"no"}"#]),
            [r#"4"no""#]
        );
        assert_eq!(
            sio(Mutant::V4ErrorObject, v4, &[r#"4/x,"no""#]),
            [r#"4/x,{"message":"no"}"#]
        );
        assert_eq!(
            sio(Mutant::AckDataNotArray, v5, &[r#"3/custom,7["a",1]"#]),
            [r#"3/custom,7{"0":"a","1":1}"#]
        );
        assert_eq!(
            sio(
                Mutant::AttachmentCountOffByOne,
                v5,
                &[r#"51-["a",{"_placeholder":true,"num":0}]"#]
            ),
            [r#"52-["a",{"_placeholder":true,"num":0}]"#]
        );
        assert_eq!(
            sio(Mutant::NamespaceNotElided, v5, &[r#"2["auth",{}]"#]),
            [r#"2/,["auth",{}]"#]
        );
        assert_eq!(
            sio(Mutant::JsonWithSpaces, v5, &[r#"2["auth",{}]"#]),
            ["2[\n  \"auth\",\n  {}\n]"]
        );
        assert_eq!(
            sio(Mutant::AcksRoutedToMain, v5, &[r#"3/custom,7["a"]"#]),
            [r#"37["a"]"#]
        );
    }

    #[test]
    fn get_bodies_follow_the_defects() {
        let poll = Poll {
            revision: EngineIo::V4,
            b64: false,
            jsonp: None,
        };
        let response = |body: &'static [u8]| Response {
            status: 200,
            content_type: Some(TEXT_BODY),
            body: Bytes::from_static(body),
        };
        let clean = get_response(&settings(Mutant::None), poll, response(b"4a\x1e4b"), 0);
        assert_eq!(&clean.body[..], b"4a\x1e4b");
        let dropped = get_response(
            &settings(Mutant::DropLastPacket),
            poll,
            response(b"4a\x1e4b"),
            0,
        );
        assert_eq!(&dropped.body[..], b"4a");
        let raw = get_response(
            &settings(Mutant::RawBinaryOnPolling),
            poll,
            response(b"bAQI="),
            0,
        );
        assert_eq!(&raw.body[..], [1, 2]);
        let open = br#"0{"sid":"s","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":16384}"#;
        let unlimited = get_response(&settings(Mutant::NoMaxPayload), poll, response(open), 0);
        assert_eq!(
            &unlimited.body[..],
            br#"0{"sid":"s","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}"#
        );
        let v3 = Poll {
            revision: EngineIo::V3,
            b64: false,
            jsonp: Some("4"),
        };
        let jsonp = get_response(
            &settings(Mutant::V3ServerPings),
            v3,
            response(br#"___eio[4]("2:4a");"#),
            1,
        );
        assert_eq!(&jsonp.body[..], br#"___eio[4]("1:22:4a");"#);
        let plain = get_response(
            &settings(Mutant::JsonpIgnored),
            v3,
            response(br#"___eio[4]("2:4a");"#),
            0,
        );
        assert_eq!(&plain.body[..], b"2:4a");
        assert!(is_noop(v3, &response(br#"___eio[4]("1:6");"#)));
    }
}
