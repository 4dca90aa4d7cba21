//! The I/O the session asks for: one polling request on its own connection, a WebSocket, the
//! next frame, the timer.

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::header;
use hyper_util::rt::TokioIo;
use sio_codec::Utf8Bytes;
use sio_codec::engineio::client::{Frame, HttpRequest, Method};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub(crate) type Ws = WebSocketStream<TcpStream>;
pub(crate) type HttpAnswer = Result<(u16, Option<String>, Bytes), String>;

/// Polls with the old session id until the server answers "Session ID unknown" (code 1).
pub(crate) async fn forgotten(authority: &str, path: &str, sid: &str) -> Result<(), String> {
    loop {
        let request = HttpRequest {
            method: Method::Get,
            query: format!("EIO=4&transport=polling&sid={sid}"),
            content_type: None,
            body: Bytes::new(),
        };
        let (status, _, body) = http(authority.into(), path.into(), request).await?;
        if status == 400 && body.windows(8).any(|w| w == br#""code":1"#) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn join<T>(task: &mut Option<JoinHandle<Result<T, String>>>) -> Result<T, String> {
    let Some(handle) = task.as_mut() else {
        return std::future::pending().await;
    };
    let result = handle.await.map_err(|e| e.to_string()).and_then(|r| r);
    *task = None;
    result
}

pub(crate) async fn next_frame(ws: &mut Option<Box<Ws>>) -> Frame {
    let Some(ws) = ws.as_mut() else {
        return std::future::pending().await;
    };
    loop {
        return match ws.next().await {
            Some(Ok(WsMessage::Text(text))) => Frame::Text(Utf8Bytes::from(text.as_str())),
            Some(Ok(WsMessage::Binary(data))) => Frame::Binary(data),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
            Some(Ok(WsMessage::Close(_)) | Err(_)) | None => Frame::Close(None),
        };
    }
}

pub(crate) async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One polling request on its own connection.
pub(crate) async fn http(authority: String, path: String, request: HttpRequest) -> HttpAnswer {
    let fail = |e: &dyn std::fmt::Display| e.to_string();
    let stream = TcpStream::connect(&authority).await.map_err(|e| fail(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(&e))?;
    tokio::spawn(async move { connection.await.ok() });
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(format!("{path}?{}", request.query))
        .header(header::HOST, &authority);
    if let Some(content_type) = request.content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    let http = builder
        .body(Full::new(request.body))
        .map_err(|e| fail(&e))?;
    let response = sender.send_request(http).await.map_err(|e| fail(&e))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(&e))?
        .to_bytes();
    Ok((status, content_type, body))
}

pub(crate) async fn connect_websocket(authority: String, url: String) -> Result<Box<Ws>, String> {
    let stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Box::new(ws))
}
