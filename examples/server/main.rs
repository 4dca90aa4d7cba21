//! A Socket.IO server on sio-codec's sans-IO sessions, with tokio, hyper (HTTP long-polling)
//! and tokio-tungstenite (WebSocket). It serves the behaviour contract (docs/contract.md):
//! Socket.IO at `/socket.io/`, a raw Engine.IO echo at `/engine.io/`.
//!
//! ```sh
//! HOST=127.0.0.1 PORT=3000 cargo run -p sio-examples --bin sio-example-server
//! ```
//!
//! The sessions do the protocol: [`Session`] (handshake, polling, upgrade, heartbeat, close)
//! and [`Connection`] (namespaces, acks, binary). What this file does is I/O: turn requests
//! and WebSocket messages into `handle_*` calls, write out what `poll_*` gives, sleep until
//! `poll_timeout`. Each client's state sits behind one lock; a task waits on its timers, a
//! parked GET or a WebSocket waits for [`Client::wake`].

mod contract;

use bytes::{Bytes, BytesMut};
use contract::{App, Delivery};
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sio_codec::Protocol;
use sio_codec::engineio::server::{
    self as eio, Frame, GetOutcome, Opening, Request, Route, ServerConfig, Session, Target,
};
use sio_codec::socketio::OutFrame;
use sio_codec::socketio::server::{self as sio, Connection, Message as SioMessage};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as WsMessage, handshake::derive_accept_key};

type Response = hyper::Response<Full<Bytes>>;

/// One endpoint (`/socket.io/` or `/engine.io/`) and its sessions by id.
#[derive(Debug)]
struct Endpoint {
    /// Socket.IO on top (else the Engine.IO echo).
    socketio: bool,
    config: ServerConfig,
    connect_timeout: Duration,
    clients: Mutex<HashMap<String, Arc<Client>>>,
}

/// One Engine.IO session with the application state above it.
#[derive(Debug)]
struct Client {
    state: Mutex<State>,
    /// Something changed: a parked GET may have its answer, a WebSocket frames to write, the
    /// timer a new deadline.
    wake: Notify,
}

#[derive(Debug)]
struct State {
    eio: Session,
    /// The Socket.IO connection and the contract's state (none on the echo endpoint).
    sio: Option<(Connection, App)>,
}

impl Client {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next WebSocket frame to write (the lock is not held while it is written).
    fn poll_frame(&self) -> Option<Frame> {
        self.lock().eio.poll_frame()
    }
}

impl Endpoint {
    fn lookup(&self, sid: &str) -> Option<Arc<Client>> {
        self.clients.lock().ok()?.get(sid).cloned()
    }

    /// Hands the session's events to the layers above, one at a time, and whatever a handler
    /// sends to other clients to them (with no two clients locked at once), until nothing is
    /// left; then wakes whoever waits on the client.
    fn pump(&self, client: &Arc<Client>) {
        loop {
            let (deliveries, more) = {
                let mut state = client.lock();
                let event = state.eio.poll_event();
                let deliveries = match &event {
                    Some(event) => self.on_event(&mut state, event),
                    None => Vec::new(),
                };
                if let Some(eio::Event::Closed(_)) = event {
                    self.clients
                        .lock()
                        .map(|mut c| c.remove(state.eio.sid()))
                        .ok();
                }
                (deliveries, event.is_some())
            };
            deliveries.iter().for_each(|d| self.deliver(d));
            if !more {
                break;
            }
        }
        client.wake.notify_waiters();
    }

    /// One Engine.IO event: the echo sends messages back, Socket.IO takes them.
    fn on_event(&self, state: &mut State, event: &eio::Event) -> Vec<Delivery> {
        let message = match event.clone() {
            eio::Event::Text(text) => SioMessage::Text(text),
            eio::Event::Binary(data) => SioMessage::Binary(data),
            eio::Event::Upgraded | eio::Event::Closed(_) => return Vec::new(),
        };
        match &mut state.sio {
            Some((sio, _)) => sio.handle_message(message),
            None => match message {
                SioMessage::Text(text) => state.eio.send_text(text),
                SioMessage::Binary(data) => state.eio.send_binary(data),
            },
        }
        state.socketio()
    }

    /// Sends a namespace-wide or room emit to every client it reaches, the sender included.
    fn deliver(&self, delivery: &Delivery) {
        let clients: Vec<_> = match self.clients.lock() {
            Ok(clients) => clients.values().cloned().collect(),
            Err(_) => return,
        };
        for client in clients {
            let mut state = client.lock();
            let State { eio, sio } = &mut *state;
            let Some((sio, app)) = sio else { continue };
            let ns = delivery.namespace.as_str();
            if app.sockets.get(ns).is_some_and(|s| delivery.reaches(s)) {
                sio.emit(ns, &delivery.args, false).ok();
                flush(eio, sio);
                drop(state);
                client.wake.notify_waiters();
            }
        }
    }

    /// A new session for a handshake, its timers running.
    fn open(
        self: &Arc<Self>,
        request: &Request<'_>,
        query: &str,
    ) -> Result<(Arc<Client>, Opening), eio::Refusal> {
        let now = Instant::now();
        let sid = random_id();
        let (session, opening) = Session::accept(&self.config, request, &sid, now)?;
        let sio = self.socketio.then(|| {
            let protocol = Protocol::new(session.revision());
            (
                Connection::new(protocol, now, self.connect_timeout),
                App::new(query),
            )
        });
        let client = Arc::new(Client {
            state: Mutex::new(State { eio: session, sio }),
            wake: Notify::new(),
        });
        if let Ok(mut clients) = self.clients.lock() {
            clients.insert(sid, client.clone());
        }
        // Socket.IO v4 joins `/` by itself: its CONNECT reply is queued after the open packet.
        self.socketio_events(&client);
        tokio::spawn(timers(self.clone(), client.clone()));
        Ok((client, opening))
    }

    /// What the Socket.IO connection has to say without a message (v4's `/`, a timeout).
    fn socketio_events(&self, client: &Arc<Client>) {
        let deliveries = client.lock().socketio();
        deliveries.iter().for_each(|d| self.deliver(d));
        self.pump(client);
    }
}

impl State {
    /// The Socket.IO connection's events to the application, its messages into the
    /// session's outbox; a connection that must close closes the session.
    fn socketio(&mut self) -> Vec<Delivery> {
        let Some((sio, app)) = &mut self.sio else {
            return Vec::new();
        };
        let mut deliveries = Vec::new();
        while let Some(event) = sio.poll_event() {
            if let sio::Event::Close(reason) = event {
                self.eio.close_with(match reason {
                    sio::CloseReason::ParseError => eio::CloseReason::ParseError,
                    _ => eio::CloseReason::ProtocolError,
                });
            } else {
                deliveries.extend(app.handle(sio, event, random_id));
            }
        }
        flush(&mut self.eio, sio);
        deliveries
    }
}

/// The Socket.IO connection's messages go into the session's outbox, together: a packet
/// and its attachments, a CONNECT reply and the event after it, answer one GET.
fn flush(eio: &mut Session, sio: &mut Connection) {
    eio.hold();
    while let Some(frame) = sio.poll_message() {
        match frame {
            OutFrame::Text(text) => eio.send_text(text),
            OutFrame::Binary(data) => eio.send_binary(data),
        }
    }
    eio.release();
}

/// The two endpoints of the server.
#[derive(Clone, Debug)]
struct Endpoints {
    socketio: Arc<Endpoint>,
    echo: Arc<Endpoint>,
}

/// Waits for the session's next deadline and hands the time in, until the session closes.
async fn timers(endpoint: Arc<Endpoint>, client: Arc<Client>) {
    loop {
        let woken = client.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let deadline = {
            let state = client.lock();
            if state.eio.is_closed() {
                return;
            }
            let sio = state.sio.as_ref().and_then(|(sio, _)| sio.poll_timeout());
            [state.eio.poll_timeout(), sio].into_iter().flatten().min()
        };
        let Some(deadline) = deadline else {
            woken.await;
            continue;
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline.into()) => {
                let now = Instant::now();
                {
                    let mut state = client.lock();
                    state.eio.handle_timeout(now);
                    if let Some((sio, _)) = &mut state.sio {
                        sio.handle_timeout(now);
                    }
                }
                endpoint.socketio_events(&client);
            }
            () = &mut woken => {}
        }
    }
}

/// Every HTTP request: the endpoint by path, then the session's answer.
async fn serve(
    endpoints: Endpoints,
    request: hyper::Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    let path = request.uri().path();
    let endpoint = if path.starts_with("/socket.io/") {
        endpoints.socketio
    } else if path.starts_with("/engine.io/") {
        endpoints.echo
    } else {
        return Ok(status(404));
    };
    if request.method() == hyper::Method::OPTIONS {
        // The CORS preflight: any origin, the headers it asks for.
        let mut response = status(204);
        if let Some(asked) = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        return Ok(response);
    }
    Ok(http_request(endpoint, request).await)
}

async fn http_request(endpoint: Arc<Endpoint>, mut http: hyper::Request<Incoming>) -> Response {
    let query = http.uri().query().unwrap_or("").to_owned();
    let method = http.method().as_str().to_owned();
    let header = |name| {
        http.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let websocket = header(header::UPGRADE).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let content_type = header(header::CONTENT_TYPE).map(str::to_owned);
    let key = header(header::SEC_WEBSOCKET_KEY).map(str::to_owned);
    let mut request = Request::from_query(&method, &query);
    request.websocket = websocket;
    request.content_type = content_type.as_deref();

    let target = match eio::classify(&endpoint.config, &request) {
        Ok(target) => target,
        Err(refusal) if websocket => return respond(refusal.websocket_response()),
        Err(refusal) => return respond(refusal.polling_response()),
    };
    let (client, route) = match target {
        Target::Handshake { .. } => match endpoint.open(&request, &query) {
            Ok((client, Opening::Response(response))) => {
                endpoint.pump(&client);
                return respond(response);
            }
            Ok((client, Opening::Frame(first))) => {
                return upgrade(&mut http, key, endpoint, client, Some(first), true);
            }
            Err(refusal) => return respond(refusal.polling_response()),
        },
        Target::Existing { sid } => {
            let Some(client) = endpoint.lookup(sid) else {
                let refusal = eio::Refusal::UnknownSid;
                return respond(if websocket {
                    refusal.websocket_response()
                } else {
                    refusal.polling_response()
                });
            };
            let route = client.lock().eio.route(&request);
            match route {
                Ok(route) => (client, route),
                Err(refusal) => return respond(refusal.polling_response()),
            }
        }
    };
    match route {
        Route::Get => get(&endpoint, &client, &request).await,
        Route::Post => {
            let begun = client.lock().eio.begin_post();
            if let Err(response) = begun {
                endpoint.pump(&client);
                return respond(response);
            }
            let body = read_body(http.into_body(), endpoint.config.max_payload).await;
            let response = {
                let mut state = client.lock();
                match body {
                    Some(body) => state.eio.handle_post(&request, body, Instant::now()),
                    None => {
                        state.eio.abort_post();
                        return status(400);
                    }
                }
            };
            endpoint.pump(&client);
            respond(response)
        }
        Route::Websocket => {
            let attached = client.lock().eio.handle_websocket(Instant::now());
            upgrade(&mut http, key, endpoint, client, None, attached)
        }
        Route::WebsocketRefused => upgrade(&mut http, key, endpoint, client, None, false),
        Route::Unsupported => respond(Route::unsupported_response()),
    }
}

/// A polling GET: answered now, or parked until the session has its answer. A client that
/// goes away while parked aborts it (the guard's drop).
async fn get(endpoint: &Arc<Endpoint>, client: &Arc<Client>, request: &Request<'_>) -> Response {
    let outcome = client.lock().eio.handle_get(request);
    endpoint.pump(client);
    if let GetOutcome::Answered(response) = outcome {
        return respond(response);
    }
    struct Parked<'a>(&'a Endpoint, &'a Arc<Client>, bool);
    impl Drop for Parked<'_> {
        fn drop(&mut self) {
            if self.2 {
                self.1.lock().eio.handle_get_aborted();
                self.0.pump(self.1);
            }
        }
    }
    let mut parked = Parked(endpoint, client, true);
    loop {
        let woken = client.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if let Some(response) = client.lock().eio.poll_get_response() {
            parked.2 = false;
            return respond(response);
        }
        woken.await;
    }
}

/// Reads a POST body, at most one byte over `max`: the session answers a longer one `413`.
async fn read_body(mut body: Incoming, max: usize) -> Option<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.ok()?.into_data() {
            let room = (max + 1).saturating_sub(buf.len());
            buf.extend_from_slice(&data[..data.len().min(room)]);
            if buf.len() > max {
                break;
            }
        }
    }
    Some(buf.freeze())
}

/// Answers `101` and runs the WebSocket: the session's (`attached`), or one closed at once.
fn upgrade(
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

/// A session's answer as an HTTP response.
fn respond(response: eio::Response) -> Response {
    let mut http = hyper::Response::new(Full::new(response.body));
    *http.status_mut() = hyper::StatusCode::from_u16(response.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(content_type) = response.content_type {
        let value = HeaderValue::from_static(content_type);
        http.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    cors(http)
}

fn status(code: u16) -> Response {
    respond(eio::Response {
        status: code,
        content_type: None,
        body: Bytes::new(),
    })
}

/// CORS for any origin, as the contract asks.
fn cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
    );
    response
}

/// 20 URL-safe random characters (session and socket ids; a counter makes repeats
/// impossible within a run).
fn random_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one(count);
    let mut bits = u128::from(random) | u128::from(count) << 64;
    (0..20)
        .map(|_| {
            let c = ALPHABET[(bits & 63) as usize] as char;
            bits >>= 6;
            c
        })
        .collect()
}

/// A setting from the environment, in milliseconds or bytes.
fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value.trim().parse().unwrap_or_else(|_| {
            eprintln!("sio-example-server: {name} must be a non-negative integer, got {value:?}");
            std::process::exit(2)
        }),
        _ => default,
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = setting("PORT", 3000);
    let mut config = ServerConfig::default();
    config.ping_interval = Duration::from_millis(setting("PING_INTERVAL", 300));
    config.ping_timeout = Duration::from_millis(setting("PING_TIMEOUT", 200));
    config.max_payload =
        usize::try_from(setting("MAX_HTTP_BUFFER_SIZE", 1_000_000)).unwrap_or(usize::MAX);
    config.allow_eio3 = std::env::var("ALLOW_EIO3").is_ok_and(|v| v == "1");
    let connect_timeout = Duration::from_millis(setting("CONNECT_TIMEOUT", 1000));
    let endpoint = |socketio| {
        Arc::new(Endpoint {
            socketio,
            config: config.clone(),
            connect_timeout,
            clients: Mutex::default(),
        })
    };
    let endpoints = Endpoints {
        socketio: endpoint(true),
        echo: endpoint(false),
    };

    let listener = TcpListener::bind((host.as_str(), u16::try_from(port).unwrap_or(0))).await?;
    let address = listener.local_addr()?;
    println!("listening on http://{address}");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let endpoints = endpoints.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| serve(endpoints.clone(), request));
                    let connection = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades();
                    connection.await.ok();
                });
            }
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    // Close every session (a parked GET gets `1`, a WebSocket its close frame), then leave.
    for endpoint in [endpoints.socketio, endpoints.echo] {
        let clients: Vec<_> = endpoint
            .clients
            .lock()
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        for client in clients {
            client.lock().eio.close();
            endpoint.pump(&client);
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}
