//! The WebSocket side: the `101`, then frames in to the session and the session's frames
//! out.

use crate::clients::{Client, Endpoint};
use crate::{Response, status};
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper_util::rt::TokioIo;
use sio_codec::engineio::server::Frame;
use std::sync::Arc;
use std::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as WsMessage, handshake::derive_accept_key};

/// Answers `101` and runs the WebSocket: the session's (`attached`), or one closed at once.
pub(crate) fn upgrade(
    http: &mut hyper::Request<Incoming>,
    key: Option<String>,
    endpoint: Arc<Endpoint>,
    client: Arc<Client>,
    first: Option<Frame>,
    attached: bool,
) -> Response {
    let Some(key) = key else { return status(400) };
    let on_upgrade = hyper::upgrade::on(http);
    let max = endpoint.config.max_payload;
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        // Room for one message over the limit: the session closes with 1009 for it. Small
        // buffers: an idle connection costs about 12 KiB instead of 130 KiB with tungstenite's
        // default 128 KiB read buffer (they grow for large messages).
        let config = WebSocketConfig::default()
            .max_message_size(Some(max + 64))
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let io = TokioIo::new(upgraded);
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        if attached {
            websocket(ws, &endpoint, &client, first).await;
        } else {
            let mut ws = ws;
            ws.close(None).await.ok();
        }
    });
    let mut response = status(101);
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// Drives one WebSocket: frames in to the session, the session's frames out, until the
/// session closes it or the peer goes away.
async fn websocket<S>(
    mut ws: WebSocketStream<S>,
    endpoint: &Arc<Endpoint>,
    client: &Arc<Client>,
    first: Option<Frame>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Some(first) = first
        && write(&mut ws, first).await.is_err()
    {
        return;
    }
    loop {
        let woken = client.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        loop {
            let Some(frame) = client.poll_frame() else {
                break;
            };
            let end = matches!(frame, Frame::Close(_));
            if write(&mut ws, frame).await.is_err() || end {
                return;
            }
        }
        tokio::select! {
            message = ws.next() => {
                let frame = match message {
                    Some(Ok(WsMessage::Text(text))) => Frame::Text(text.as_str().into()),
                    Some(Ok(WsMessage::Binary(data))) => Frame::Binary(data),
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => Frame::Close(None),
                };
                let gone = matches!(frame, Frame::Close(_));
                client.lock().eio.handle_frame(frame, Instant::now());
                endpoint.pump(client);
                if gone {
                    while let Some(frame) = client.poll_frame() {
                        if write(&mut ws, frame).await.is_err() {
                            break;
                        }
                    }
                    return;
                }
            }
            () = &mut woken => {}
        }
    }
}

async fn write<S>(ws: &mut WebSocketStream<S>, frame: Frame) -> Result<(), ()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let message = match frame {
        Frame::Text(text) => WsMessage::Text(text.as_str().into()),
        Frame::Binary(data) => WsMessage::Binary(data),
        Frame::Close(code) => {
            let frame = code.map(|code| CloseFrame {
                code: code.into(),
                reason: "".into(),
            });
            ws.close(frame).await.ok();
            return Ok(());
        }
    };
    ws.send(message).await.map_err(|_| ())
}
