//! The WebSocket transport: WebSocket-only sessions and the upgrade of a polling session,
//! frames into the Engine.IO session (`handle_frame`), its frames out (`poll_frame`), with
//! the WebSocket defects of the mutant around it (see [`crate::tamper`]).

use crate::endpoint::{Client, Endpoint};
use crate::http::{Request, Response};
use crate::{Mutant, tamper};
use futures_util::{SinkExt, StreamExt};
use sio_codec::EngineIo;
use sio_codec::engineio::server::{
    self as session, Frame, Opening, Refusal, Route, Target, Transport,
};
use std::sync::Arc;
use std::time::Instant;
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

type Ws = WebSocketStream<TcpStream>;

/// What the WebSocket is for, once the request is accepted.
enum Plan {
    /// A WebSocket-only session of this revision.
    Open(EngineIo),
    /// The upgrade of this polling session.
    Attach(Arc<Client>),
    /// One the session cannot take: `101`, then closed (or kept, by the mutant).
    Refuse(Arc<Client>),
}

/// Answers a WebSocket upgrade request and runs the connection until it ends.
pub(crate) async fn serve(mut stream: TcpStream, request: Request, endpoint: &Arc<Endpoint>) {
    let settings = &endpoint.settings;
    let mut req = request.session_request();
    tamper::request(settings, &mut req);
    let config = tamper::session_config(settings, EngineIo::V4);
    let refused = |refusal: Refusal| Response::from_session(refusal.websocket_response());
    let plan = match session::classify(&config, &req) {
        Ok(Target::Handshake { revision, .. }) => Plan::Open(revision),
        Ok(Target::Existing { sid }) => {
            let Some(client) = endpoint.lookup(sid) else {
                return refused(Refusal::UnknownSid).write(&mut stream).await;
            };
            let route = client.lock().eio.route(&req);
            match route {
                Ok(Route::Websocket) => Plan::Attach(client),
                Ok(Route::WebsocketRefused) => Plan::Refuse(client),
                Ok(_) => return refused(Refusal::BadRequest).write(&mut stream).await,
                Err(refusal) => return refused(refusal).write(&mut stream).await,
            }
        }
        Err(refusal) => return refused(refusal).write(&mut stream).await,
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
    let limit = settings.incoming_limit(true);
    let ws_config = if limit == usize::MAX {
        WebSocketConfig::default()
    } else {
        WebSocketConfig::default()
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit))
    };
    let mut ws = WebSocketStream::from_partially_read(
        stream,
        request.leftover.clone(),
        Role::Server,
        Some(ws_config),
    )
    .await;
    match plan {
        Plan::Open(revision) => match endpoint.open(&req, &request.query, revision) {
            Ok((client, Opening::Frame(first))) => {
                let first = tamper::open_frame(settings, revision, first);
                run(ws, endpoint, &client, Some(first)).await;
            }
            // A WebSocket handshake opens on WebSocket.
            Ok((client, Opening::Response(_))) => {
                client.lock().eio.close();
                endpoint.pump(&client);
                let _ = ws.close(None).await;
            }
            Err(_) => {
                let _ = ws.close(None).await;
            }
        },
        Plan::Attach(client) => {
            let attached = client.lock().eio.handle_websocket(Instant::now());
            endpoint.pump(&client);
            if attached {
                run(ws, endpoint, &client, None).await;
            } else {
                let _ = ws.close(None).await;
            }
        }
        Plan::Refuse(client) if settings.has(Mutant::SecondWebsocketAccepted) => {
            // Kept open and never read for the session: it ends with the client or the session.
            let closed = client.wait_until(|state| state.eio.is_closed().then_some(()));
            tokio::select! {
                () = drain(&mut ws) => {}
                () = closed => {}
            }
        }
        Plan::Refuse(_) => {
            let _ = ws.close(None).await;
        }
    }
}

/// Reads and discards frames until the client goes away.
async fn drain(ws: &mut Ws) {
    while let Some(Ok(_)) = ws.next().await {}
}

/// The session's WebSocket: frames in to the session, the session's frames out, until the
/// session closes it (its close frame) or the client goes away.
async fn run(ws: Ws, endpoint: &Arc<Endpoint>, client: &Arc<Client>, first: Option<Frame>) {
    let settings = &endpoint.settings;
    let revision = client.lock().eio.revision();
    let (mut sink, mut source) = ws.split();
    let mut pending: Vec<Frame> = first.into_iter().collect();
    // Bounded by the connection: every round writes what is queued and handles one frame or
    // one wake; it ends when the client goes away or the session closes the WebSocket.
    loop {
        let woken = client.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (frames, pings) = {
            let mut state = client.lock();
            pending.extend(std::iter::from_fn(|| state.eio.poll_frame()));
            let on_websocket = state.eio.transport() == Transport::Websocket;
            let pings = if on_websocket { state.take_pings() } else { 0 };
            (std::mem::take(&mut pending), pings)
        };
        let frames = tamper::frames_out(settings, revision, endpoint.socket_io, frames, pings);
        match write(&mut sink, frames).await {
            Written::Open => {}
            Written::Closed => return,
            Written::Failed => {
                client
                    .lock()
                    .eio
                    .handle_frame(Frame::Close(None), Instant::now());
                endpoint.pump(client);
                return;
            }
        }
        tokio::select! {
            message = source.next() => {
                let too_large = matches!(message, Some(Err(WsError::Capacity(_))));
                let frame = match message {
                    Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().into()),
                    Some(Ok(Message::Binary(data))) => Frame::Binary(data),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => Frame::Close(None),
                };
                if too_large {
                    // The reference's `ws` closes with 1009 for a message over the limit.
                    let close = CloseFrame { code: CloseCode::Size, reason: "".into() };
                    let _ = sink.send(Message::Close(Some(close))).await;
                }
                let gone = matches!(frame, Frame::Close(_));
                {
                    let mut state = client.lock();
                    let on_websocket = state.eio.transport() == Transport::Websocket;
                    if tamper::frame_kept(settings, revision, &frame, on_websocket) {
                        state.eio.handle_frame(frame, Instant::now());
                    }
                }
                endpoint.pump(client);
                if gone {
                    // What the session still writes (nothing once the WebSocket is gone).
                    let frames: Vec<Frame> = {
                        let mut state = client.lock();
                        std::iter::from_fn(|| state.eio.poll_frame()).collect()
                    };
                    let frames = tamper::frames_out(settings, revision, endpoint.socket_io, frames, 0);
                    let _ = write(&mut sink, frames).await;
                    return;
                }
            }
            () = &mut woken => {}
        }
    }
}

/// How a write ended.
enum Written {
    /// Everything written, the WebSocket goes on.
    Open,
    /// A close frame went out: the WebSocket is finished.
    Closed,
    /// The client is gone.
    Failed,
}

async fn write<S>(sink: &mut S, frames: Vec<Frame>) -> Written
where
    S: futures_util::Sink<Message, Error = WsError> + Unpin,
{
    if frames.is_empty() {
        return Written::Open;
    }
    for frame in frames {
        let message = match frame {
            Frame::Text(text) => Message::Text(text.as_str().into()),
            Frame::Binary(data) => Message::Binary(data),
            Frame::Close(code) => {
                let close = code.map(|code| CloseFrame {
                    code: code.into(),
                    reason: "".into(),
                });
                let _ = sink.send(Message::Close(close)).await;
                return Written::Closed;
            }
        };
        if sink.feed(message).await.is_err() {
            return Written::Failed;
        }
    }
    if sink.flush().await.is_err() {
        return Written::Failed;
    }
    Written::Open
}
