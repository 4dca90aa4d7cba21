//! A Socket.IO server on sio-codec's sans-IO sessions, with tokio, hyper (HTTP long-polling)
//! and tokio-tungstenite (WebSocket). It serves the behaviour contract (docs/contract.md):
//! Socket.IO at `/socket.io/`, a raw Engine.IO echo at `/engine.io/`.
//!
//! ```sh
//! HOST=127.0.0.1 PORT=3000 cargo run -p sio-examples --bin sio-example-server
//! ```
//!
//! The sessions do the protocol: [`Session`](eio::Session) (handshake, polling, upgrade, heartbeat, close)
//! and [`Connection`](sio_codec::socketio::server::Connection) (namespaces, acks, binary). What this program does is I/O: turn requests
//! (this file) and WebSocket messages (`websocket.rs`) into `handle_*` calls, write out what
//! `poll_*` gives, sleep until `poll_timeout` (`clients.rs`). Each client's state sits behind
//! one lock; a task waits on its timers, a parked GET or a WebSocket waits for
//! [`Client::wake`]. The application is `contract.rs`.

mod clients;
mod contract;
mod websocket;

use bytes::{Bytes, BytesMut};
use clients::{Client, Endpoint};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sio_codec::engineio::server::{
    self as eio, GetOutcome, Opening, Request, Route, ServerConfig, Target,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use websocket::upgrade;

type Response = hyper::Response<Full<Bytes>>;

/// The two endpoints of the server.
#[derive(Clone, Debug)]
struct Endpoints {
    socketio: Arc<Endpoint>,
    echo: Arc<Endpoint>,
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
