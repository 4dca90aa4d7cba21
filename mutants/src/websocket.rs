//! The WebSocket transport: WebSocket-only sessions, and the upgrade of a polling session
//! (`2probe` → `3probe`, the pending GET released with a noop, `5`, then the outbox flushed
//! to the WebSocket).

use super::Mutant;
use super::handshake::{self, Target};
use super::http::{Request, Response};
use super::session::{CloseReason, Endpoint, Session, Transport};
use futures_util::{SinkExt, StreamExt};
use sio_codec::{
    DecodeConfig, Encode, EngineIo, FrameKind, WireFormat,
    engineio::{self, PacketBuf},
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        Error as WsError, Message,
        handshake::derive_accept_key,
        protocol::{CloseFrame, Role, WebSocketConfig, frame::coding::CloseCode},
    },
};

/// How long a WebSocket may take to complete an upgrade (the reference's `upgradeTimeout`).
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<TcpStream>;

/// Answers a WebSocket upgrade request and runs the connection until it ends.
pub(crate) async fn serve(mut stream: TcpStream, request: Request, endpoint: &Arc<Endpoint>) {
    let target = match handshake::check(&request, endpoint) {
        Ok(target) => target,
        Err(refusal) => return refusal.websocket_response().write(&mut stream).await,
    };
    let Some(key) = request.header("sec-websocket-key") else {
        return Response::new(400, "text/html", "Bad request")
            .write(&mut stream)
            .await;
    };
    let accept = derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let limit = endpoint.settings.incoming_limit(true);
    let config = if limit == usize::MAX {
        WebSocketConfig::default()
    } else {
        WebSocketConfig::default()
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit))
    };
    let mut ws =
        WebSocketStream::from_partially_read(stream, request.leftover, Role::Server, Some(config))
            .await;
    match target {
        Target::New(eio) => {
            let session = endpoint.open(eio, Transport::Websocket, request.query);
            let open = handshake::open_packet(&session, false);
            if ws.send(frame(&session, &open)).await.is_err() {
                session.close(CloseReason::TransportClosed);
                return;
            }
            session.start();
            run(ws, &session).await;
        }
        Target::Existing(session) if session.attach_websocket() => upgrade(ws, &session).await,
        Target::Existing(session) if session.settings().has(Mutant::SecondWebsocketAccepted) => {
            // Kept open and never read for the session: it ends with the client or the session.
            tokio::select! {
                () = drain(&mut ws) => {}
                () = session.closed() => {}
            }
        }
        // A second WebSocket, or one for a session that cannot be upgraded: 101, then closed.
        Target::Existing(_) => {
            let _ = ws.close(None).await;
        }
    }
}

/// Reads and discards frames until the client goes away.
async fn drain(ws: &mut Ws) {
    while let Some(Ok(_)) = ws.next().await {}
}

/// The upgrade of a polling session: only the probe and `upgrade` are allowed until the
/// upgrade completes; anything else closes this WebSocket and polling goes on.
async fn upgrade(mut ws: Ws, session: &Arc<Session>) {
    let deadline = tokio::time::sleep(UPGRADE_TIMEOUT);
    tokio::pin!(deadline);
    // Bounded by UPGRADE_TIMEOUT.
    loop {
        let packet = tokio::select! {
            message = ws.next() => decode(session, message),
            () = session.closed() => break,
            () = &mut deadline => break,
        };
        match packet {
            Ok(Some(packet))
                if packet.as_packet().is_probe()
                    && packet.packet_type() == engineio::PacketType::Ping =>
            {
                if !session.settings().has(Mutant::NoProbeAnswer) {
                    let pong = PacketBuf::from(&engineio::Packet::Pong(Some("probe")));
                    if ws.send(frame(session, &pong)).await.is_err() {
                        break;
                    }
                }
                session.probed();
            }
            Ok(Some(packet)) if packet.packet_type() == engineio::PacketType::Upgrade => {
                if session.upgraded() {
                    return run(ws, session).await;
                }
                break;
            }
            Ok(None) => {}
            _ => break,
        }
    }
    session.upgrade_failed();
    let _ = ws.close(None).await;
}

/// The WebSocket is the session's transport: packets in both directions until either side
/// ends.
async fn run(ws: Ws, session: &Arc<Session>) {
    let (mut sink, mut source) = ws.split();
    // Bounded by the connection: every round handles a frame or a batch of the outbox, and
    // ends when the client goes away or the session closes.
    loop {
        tokio::select! {
            message = source.next() => {
                let too_large = matches!(message, Some(Err(WsError::Capacity(_))));
                match decode(session, message) {
                    Ok(Some(packet)) => session.receive(packet.as_packet(), true),
                    Ok(None) => {}
                    Err(Bad::Malformed) => {
                        if !session.settings().has(Mutant::MalformedEioKept) {
                            session.close(CloseReason::ParseError);
                        }
                    }
                    Err(Bad::Gone) => {
                        if too_large {
                            let close = CloseFrame { code: CloseCode::Size, reason: "".into() };
                            let _ = sink.send(Message::Close(Some(close))).await;
                        }
                        session.close(CloseReason::TransportClosed);
                        return;
                    }
                }
            }
            (packets, closed) = session.wait_outbox() => {
                let mut frames: Vec<Message> = packets.iter().map(|p| frame(session, p)).collect();
                if session.settings().has(Mutant::BatchedWebsocketFrames) {
                    frames = batched(frames);
                }
                for message in frames {
                    if sink.feed(message).await.is_err() {
                        session.close(CloseReason::TransportClosed);
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    session.close(CloseReason::TransportClosed);
                    return;
                }
                if closed {
                    let _ = sink.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    }
}

/// The mutant's batching: consecutive text frames joined into one, `\x1e`-separated.
fn batched(frames: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(frames.len());
    for message in frames {
        match (out.last_mut(), message) {
            (Some(Message::Text(previous)), Message::Text(text)) => {
                *previous = format!("{}\x1e{}", previous.as_str(), text.as_str()).into();
            }
            (_, message) => out.push(message),
        }
    }
    out
}

/// A frame that is not a packet.
enum Bad {
    /// Not a valid Engine.IO packet.
    Malformed,
    /// The connection ended (close frame, error, end of stream).
    Gone,
}

/// Decodes one WebSocket message: `Ok(None)` for control frames.
fn decode(
    session: &Session,
    message: Option<Result<Message, WsError>>,
) -> Result<Option<PacketBuf>, Bad> {
    // The size limit is the WebSocket's too: larger frames never get here.
    let protocol = session
        .protocol
        .with_config(DecodeConfig::new().max_payload(session.settings().incoming_limit(true)));
    let packet = match message {
        Some(Ok(Message::Text(text))) => {
            protocol.decode_text_frame(&sio_codec::Utf8Bytes::from(text.as_str()))
        }
        Some(Ok(Message::Binary(bytes))) => protocol.decode_binary_frame(bytes),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => return Ok(None),
        Some(Ok(Message::Close(_)) | Err(_)) | None => return Err(Bad::Gone),
    };
    packet.map(Some).map_err(|_| Bad::Malformed)
}

/// The WebSocket frame of a packet: binary as a binary frame (v3: with the `0x04` type
/// byte), or as base64 text for `b64` clients.
fn frame(session: &Session, packet: &PacketBuf) -> Message {
    let settings = session.settings();
    let format = if session.b64
        || (session.protocol.engineio() == EngineIo::V4
            && settings.has(Mutant::BinaryAsTextOnWebsocket))
        || (session.is_socket_io() && settings.has(Mutant::AttachmentsAsTextOnWebsocket))
    {
        WireFormat::Text
    } else {
        WireFormat::Frames
    };
    let view = packet.as_packet();
    let (kind, bytes) = if session.protocol.engineio() == EngineIo::V3
        && settings.has(Mutant::V3NoBinaryTypeByte)
    {
        // Binary frames as Engine.IO 4 writes them.
        view.to_bytes(format)
    } else {
        session
            .protocol
            .encode_frame(&view, format == WireFormat::Text)
    };
    match kind {
        FrameKind::Binary => Message::Binary(bytes),
        // The encoders write text packets as UTF-8.
        FrameKind::Text => match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(bytes) {
            Ok(text) => Message::Text(text),
            Err(_) => Message::Close(None),
        },
    }
}
