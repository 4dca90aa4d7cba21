//! HTTP long-polling: the handshake GET, the pending GET that carries the server's packets,
//! the POST that carries the client's, in the v4 (`\x1e`), v3 (`len:packet`, XHR2 binary) and
//! JSONP (`j=`) framings.

use super::Mutant;
use super::handshake::{self, Refusal, Target};
use super::http::{self, Query, ReadError, Request, Response};
use super::session::{CloseReason, Endpoint, PollRefusal, PollResult, Session, Transport};
use super::settings::Settings;
use bytes::Bytes;
use sio_codec::{
    BINARY_BODY, DecodeConfig, DecodeError, Encode, EngineIo, TEXT_BODY, WireFormat,
    engineio::{self, Message, PacketBuf, v3},
};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Answers one polling request (no answer when the client went away).
pub(crate) async fn serve(mut stream: TcpStream, request: Request, endpoint: &Arc<Endpoint>) {
    if let Some(response) = respond(&mut stream, &request, endpoint).await {
        let response = if endpoint.settings.has(Mutant::NoCors) {
            response.without_cors()
        } else {
            response
        };
        response.write(&mut stream).await;
    }
}

async fn respond(
    stream: &mut TcpStream,
    request: &Request,
    endpoint: &Arc<Endpoint>,
) -> Option<Response> {
    // CORS preflight (the contract enables CORS for any origin); without CORS, a preflight
    // is a handshake with a bad method, as in the reference without its `cors` option.
    // The requested headers are allowed (the `cors` middleware reflects them).
    if request.method == "OPTIONS" && !endpoint.settings.has(Mutant::NoCors) {
        let mut response = Response::empty(204)
            .with_header(
                "Access-Control-Allow-Methods",
                "GET,HEAD,PUT,PATCH,POST,DELETE",
            )
            .with_header("Vary", "Access-Control-Request-Headers");
        if let Some(headers) = request.header("access-control-request-headers") {
            response = response.with_header("Access-Control-Allow-Headers", headers);
        }
        return Some(response);
    }
    let jsonp = request.query.get("j");
    let session = match handshake::check(request, endpoint) {
        Ok(Target::New(eio)) => return Some(open(request, endpoint, eio)),
        Ok(Target::Existing(session)) => session,
        Err(Refusal::UnknownSid) if endpoint.settings.has(Mutant::UnknownSidOk) => {
            return Some(match request.method.as_str() {
                "POST" => ok(&endpoint.settings),
                _ => Response::new(200, TEXT_BODY, "1"),
            });
        }
        Err(refusal) => return Some(refusal.polling_response()),
    };
    match request.method.as_str() {
        "GET" => get(stream, &session, jsonp).await,
        "POST" => Some(post(stream, request, &session).await),
        _ => Some(Response::empty(500)),
    }
}

/// The handshake: a new session, answered with its open packet.
fn open(request: &Request, endpoint: &Arc<Endpoint>, eio: EngineIo) -> Response {
    let session = endpoint.open(eio, Transport::Polling, request.query.clone());
    let open = [handshake::open_packet(&session, true)];
    let response = encode(&session, &open, request.query.get("j"));
    session.start();
    response
}

/// A GET waits until there is something to send.
async fn get(
    stream: &mut TcpStream,
    session: &Arc<Session>,
    jsonp: Option<&str>,
) -> Option<Response> {
    match session.begin_poll() {
        Ok(()) => {}
        Err(PollRefusal::UnknownSid) => return Some(Refusal::UnknownSid.polling_response()),
        Err(PollRefusal::TransportMismatch) => return Some(Refusal::BadRequest.polling_response()),
        Err(PollRefusal::Duplicate) => return Some(Response::empty(400)),
    }
    tokio::select! {
        result = session.wait_poll() => {
            let packets = match result {
                PollResult::Packets(packets) => packets,
                PollResult::Noop => vec![PacketBuf::from(&engineio::Packet::Noop)],
            };
            Some(encode(session, &packets, jsonp))
        }
        () = client_gone(stream) => {
            // The reference treats an aborted GET as a transport error.
            session.abandon_poll();
            if !session.settings().has(Mutant::CancelledGetIgnored) {
                session.close(CloseReason::TransportClosed);
            }
            None
        }
    }
}

/// Resolves when the client closes its side of the connection (it sends nothing more after
/// its request; a client that keeps sending counts as gone after 64 KiB).
async fn client_gone(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    let mut extra = 0usize;
    while extra < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => extra += n,
        }
    }
}

/// A POST delivers its packets in order; a packet that does not decode closes the session
/// after the ones before it were delivered (answered `200 ok` all the same, like the
/// reference).
async fn post(stream: &mut TcpStream, request: &Request, session: &Arc<Session>) -> Response {
    match session.begin_post() {
        Ok(()) => {}
        Err(PollRefusal::TransportMismatch) => return Refusal::BadRequest.polling_response(),
        // A second POST while one is in flight (the session is closed now), as the reference.
        Err(PollRefusal::Duplicate) => return Response::empty(400),
        Err(PollRefusal::UnknownSid) => return Refusal::UnknownSid.polling_response(),
    }
    let response = read_and_deliver(stream, request, session).await;
    session.end_post();
    response
}

/// The body of an accepted POST: read, decoded, delivered.
async fn read_and_deliver(
    stream: &mut TcpStream,
    request: &Request,
    session: &Arc<Session>,
) -> Response {
    let settings = session.settings();
    if session.protocol.engineio() == EngineIo::V4 && request.is_octet_stream() {
        session.close(CloseReason::ParseError);
        return Response::empty(400);
    }
    let limit = settings.incoming_limit(false);
    let body = match http::read_body(stream, request, limit).await {
        Ok(body) => body,
        Err(ReadError::TooLarge) => return Response::empty(413),
        Err(_) => return Response::empty(400),
    };
    let protocol = session
        .protocol
        .with_config(DecodeConfig::new().max_payload(limit));
    let (bytes, binary) = if request.query.get("j").is_some() {
        // JSONP: a form with the payload in `d` (newlines escaped by the client).
        let form = Query::parse(&String::from_utf8_lossy(&body));
        let text = form.get("d").map(jsonp_unescape).unwrap_or_default();
        (Bytes::from(text), false)
    } else {
        (body, request.is_octet_stream())
    };
    // An XHR2 binary body by its content type (Engine.IO 3; a v4 one was refused above).
    deliver(
        session,
        protocol.decode_body(bytes, binary.then_some(BINARY_BODY)),
    );
    ok(settings)
}

fn deliver(session: &Arc<Session>, packets: impl Iterator<Item = Result<PacketBuf, DecodeError>>) {
    for packet in packets {
        match packet {
            Ok(packet) => session.receive(packet.as_packet(), false),
            Err(_) => {
                if !session.settings().has(Mutant::MalformedEioKept) {
                    session.close(CloseReason::ParseError);
                }
                return;
            }
        }
        if session.is_closed() {
            return;
        }
    }
}

/// `200 ok`, the answer to every accepted POST.
fn ok(settings: &Settings) -> Response {
    let body = if settings.has(Mutant::PostWithoutOk) {
        ""
    } else {
        "ok"
    };
    Response::new(200, "text/html", body)
}

/// The reference's JSONP unescaping: `\n` (backslash, n) becomes a newline, `\\n` stays.
fn jsonp_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("\\\\n") {
            out.push_str("\\\\n");
            rest = &rest[3..];
        } else if rest.starts_with("\\n") {
            out.push('\n');
            rest = &rest[2..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Encodes a polling response body: v4 `\x1e`-separated records; v3 `len:packet` text or,
/// for a client without `b64` and a batch with binary, an XHR2 binary payload; JSONP wraps
/// the text payload as `___eio[j]("…");`.
fn encode(session: &Session, packets: &[PacketBuf], jsonp: Option<&str>) -> Response {
    let settings = session.settings();
    let packets = match packets {
        [kept @ .., _] if !kept.is_empty() && settings.has(Mutant::DropLastPacket) => kept,
        all => all,
    };
    let views: Vec<engineio::Packet<'_>> = packets.iter().map(PacketBuf::as_packet).collect();
    let has_binary = views
        .iter()
        .any(|p| matches!(p, engineio::Packet::Message(Message::Binary(_))));
    // The mutant writes XHR2 binary bodies to `b64` clients too.
    let b64 = session.b64 && !settings.has(Mutant::Xhr2ForB64Clients);
    let xhr2 = session.protocol.engineio() == EngineIo::V3 && has_binary && !b64;
    let mut body = Vec::new();
    let content_type = match session.protocol.engineio() {
        EngineIo::V4 if has_binary && settings.has(Mutant::RawBinaryOnPolling) => {
            for (i, view) in views.iter().enumerate() {
                if i > 0 {
                    body.push(0x1e);
                }
                match view {
                    engineio::Packet::Message(Message::Binary(bytes)) => {
                        body.extend_from_slice(bytes);
                    }
                    other => join_records(std::slice::from_ref(other), &mut body),
                }
            }
            TEXT_BODY
        }
        EngineIo::V3 if !xhr2 && settings.has(Mutant::V3ByteLengths) => {
            for view in &views {
                let (_, bytes) = v3::V3(view).to_bytes(WireFormat::Text);
                body.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
                body.extend_from_slice(&bytes);
            }
            TEXT_BODY
        }
        _ => match session.protocol.encode_body(&views, b64) {
            Ok((content_type, bytes)) => {
                body.extend_from_slice(&bytes);
                content_type
            }
            // Engine.IO 4, a text that holds the record separator: written as is.
            Err(_) => {
                join_records(&views, &mut body);
                TEXT_BODY
            }
        },
    };
    match jsonp {
        Some(index) if content_type == TEXT_BODY && !settings.has(Mutant::JsonpIgnored) => {
            Response::new(
                200,
                TEXT_BODY,
                jsonp_wrap(index, &String::from_utf8_lossy(&body)),
            )
        }
        _ => Response::new(200, content_type, Bytes::from(body)),
    }
    .with_header("Cache-Control", "no-store")
}

/// A v4 polling body, as the reference server writes it: a text that holds the record
/// separator (it came over WebSocket) goes in as is, although the body then decodes as other
/// packets; the codec's encoder refuses that.
fn join_records(packets: &[engineio::Packet<'_>], body: &mut Vec<u8>) {
    if engineio::encode_payload(packets, body).is_err() {
        for (i, packet) in packets.iter().enumerate() {
            if i > 0 {
                body.push(engineio::RECORD_SEPARATOR);
            }
            packet.encode(WireFormat::Text, body);
        }
    }
}

/// `___eio[<digits of j>]("<payload as a JSON string>");`, U+2028 and U+2029 escaped too.
fn jsonp_wrap(index: &str, payload: &str) -> String {
    let digits: String = index.chars().filter(char::is_ascii_digit).collect();
    let literal = serde_json::Value::String(payload.to_owned())
        .to_string()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    format!("___eio[{digits}]({literal});")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonp_unescapes_like_the_reference() {
        assert_eq!(jsonp_unescape("4:4a\\nb"), "4:4a\nb");
        assert_eq!(jsonp_unescape("a\\\\nb"), "a\\\\nb");
        assert_eq!(jsonp_unescape("é\\x\\"), "é\\x\\");
    }

    #[test]
    fn jsonp_wraps_a_json_string() {
        assert_eq!(jsonp_wrap("0", "6:4hello"), r#"___eio[0]("6:4hello");"#);
        assert_eq!(
            jsonp_wrap("a1b2", "2:4\n\u{2028}"),
            "___eio[12](\"2:4\\n\\u2028\");"
        );
    }
}
