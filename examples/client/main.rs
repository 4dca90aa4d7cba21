//! `sio-example-client URL`: a Socket.IO client on sio-codec's sans-IO client sessions
//! (`engineio::client::Session` and `socketio::client::Connection`), with tokio, hyper and
//! tokio-tungstenite for the I/O. It checks a server that implements the behaviour contract
//! (docs/contract.md §3.2): it opens over polling and upgrades to WebSocket, connects `/`,
//! emits `message-with-ack` and checks the ACK echoes the arguments, emits `message` with a
//! binary argument and checks `message-back` echoes the bytes, connects `/custom` (and
//! checks an ack there), lets heartbeats pass and checks the session still answers, and
//! reconnects (closes the session, checks the server forgot it, opens a new one, connects `/`
//! again). One line per step; exit 0 when every step passed, 1 with the reason otherwise.
//! Every step has a deadline (5 s), so nothing hangs.
//!
//! The sessions own the protocol; this file only moves bytes: each HTTP request the Engine.IO
//! session asks for runs as its own task (one GET and one POST at most), the WebSocket is
//! read in the same loop, and the session's timer is a `sleep_until`.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::header;
use hyper_util::rt::TokioIo;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use sio_codec::engineio::client::{
    ClientConfig, CloseReason, Event as Eio, Frame, HttpRequest, Method, Session,
};
use sio_codec::socketio::OutFrame;
use sio_codec::socketio::client::{Connection, Event, Message};
use sio_codec::{Protocol, Utf8Bytes};
use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long each step may take.
const STEP: Duration = Duration::from_secs(5);

type Ws = WebSocketStream<TcpStream>;
type HttpAnswer = Result<(u16, Option<String>, Bytes), String>;

/// A byte string for serde: the codec turns it into a binary attachment.
struct Binary<'a>(&'a [u8]);

impl Serialize for Binary<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// What woke the loop up.
enum Io {
    Get(HttpAnswer),
    Post(HttpAnswer),
    Websocket(Result<Box<Ws>, String>),
    Frame(Frame),
    Timer,
}

/// One Engine.IO session with its Socket.IO connection, and the I/O in flight.
struct Client {
    authority: String,
    path: String,
    eio: Session,
    sio: Connection,
    get: Option<JoinHandle<HttpAnswer>>,
    post: Option<JoinHandle<HttpAnswer>>,
    connecting: Option<JoinHandle<Result<Box<Ws>, String>>>,
    ws: Option<Box<Ws>>,
    opened: bool,
    upgraded: bool,
    upgrade_failed: bool,
    closed: Option<CloseReason>,
    /// The last I/O error, for the report.
    error: Option<String>,
    events: VecDeque<Event>,
}

impl Client {
    fn new(authority: &str, path: &str) -> Self {
        Self {
            authority: authority.into(),
            path: path.into(),
            eio: Session::new(ClientConfig::default()),
            sio: Connection::new(Protocol::V4),
            get: None,
            post: None,
            connecting: None,
            ws: None,
            opened: false,
            upgraded: false,
            upgrade_failed: false,
            closed: None,
            error: None,
            events: VecDeque::new(),
        }
    }

    /// Moves everything the sessions have to say, starts the I/O they ask for, writes the
    /// WebSocket frames.
    async fn drive(&mut self) {
        loop {
            let mut moved = false;
            while let Some(event) = self.eio.poll_event() {
                moved = true;
                match event {
                    Eio::Open => self.opened = true,
                    Eio::Text(text) => self.sio.handle_message(Message::Text(text)),
                    Eio::Binary(data) => self.sio.handle_message(Message::Binary(data)),
                    Eio::Upgraded => self.upgraded = true,
                    Eio::UpgradeFailed => self.upgrade_failed = true,
                    Eio::Closed(reason) => self.closed = Some(reason),
                }
            }
            while let Some(frame) = self.sio.poll_message() {
                moved = true;
                match frame {
                    OutFrame::Text(text) => self.eio.send_text(text),
                    OutFrame::Binary(data) => self.eio.send_binary(data),
                }
            }
            while let Some(event) = self.sio.poll_event() {
                moved = true;
                if matches!(event, Event::Close(_)) {
                    self.eio.close();
                }
                self.events.push_back(event);
            }
            while let Some(request) = self.eio.poll_request() {
                moved = true;
                let method = request.method;
                let task = tokio::spawn(http(self.authority.clone(), self.path.clone(), request));
                match method {
                    Method::Get => self.get = Some(task),
                    Method::Post => self.post = Some(task),
                }
            }
            if let Some(query) = self.eio.poll_websocket() {
                moved = true;
                let url = format!("ws://{}{}?{query}", self.authority, self.path);
                self.connecting =
                    Some(tokio::spawn(connect_websocket(self.authority.clone(), url)));
            }
            while let Some(frame) = self.eio.poll_frame() {
                moved = true;
                self.write(frame).await;
            }
            if !moved {
                return;
            }
        }
    }

    async fn write(&mut self, frame: Frame) {
        let Some(ws) = self.ws.as_mut() else { return };
        let message = match frame {
            Frame::Text(text) => WsMessage::Text(text.as_str().into()),
            Frame::Binary(data) => WsMessage::Binary(data),
            Frame::Close(_) => {
                ws.close(None).await.ok();
                self.ws = None;
                return;
            }
        };
        if ws.send(message).await.is_err() {
            self.ws = None;
            self.eio.handle_frame(Frame::Close(None), Instant::now());
        }
    }

    /// Waits for the next I/O and hands it to the session.
    async fn wait(&mut self) {
        let timer = self.eio.poll_timeout().map(tokio::time::Instant::from_std);
        let Self {
            get,
            post,
            connecting,
            ws,
            ..
        } = self;
        let io = tokio::select! {
            answer = join(get) => Io::Get(answer),
            answer = join(post) => Io::Post(answer),
            ws = join(connecting) => Io::Websocket(ws),
            frame = next_frame(ws) => Io::Frame(frame),
            () = sleep_until(timer) => Io::Timer,
        };
        let now = Instant::now();
        match io {
            Io::Get(answer) => self.answer(Method::Get, answer, now),
            Io::Post(answer) => self.answer(Method::Post, answer, now),
            Io::Websocket(Ok(ws)) => {
                self.ws = Some(ws);
                self.eio.handle_websocket_open(now);
            }
            Io::Websocket(Err(error)) => {
                self.error = Some(error);
                self.eio.handle_frame(Frame::Close(None), now);
            }
            Io::Frame(frame) => {
                if matches!(frame, Frame::Close(_)) {
                    self.ws = None;
                }
                self.eio.handle_frame(frame, now);
            }
            Io::Timer => self.eio.handle_timeout(now),
        }
    }

    fn answer(&mut self, method: Method, answer: HttpAnswer, now: Instant) {
        match answer {
            Ok((status, content_type, body)) => {
                self.eio
                    .handle_response(method, status, content_type.as_deref(), body, now);
            }
            Err(error) => {
                self.error = Some(error);
                self.eio.handle_request_failed(method);
            }
        }
    }

    /// Runs the session until `found` gives an answer (or the session ends).
    async fn until<T>(
        &mut self,
        mut found: impl FnMut(&mut Self) -> Option<Result<T, String>>,
    ) -> Result<T, String> {
        loop {
            self.drive().await;
            if let Some(result) = found(self) {
                return result;
            }
            if let Some(reason) = self.closed {
                let error = self.error.as_deref().unwrap_or("");
                return Err(format!("the session closed ({reason:?}) {error}"));
            }
            self.wait().await;
        }
    }

    /// The first queued Socket.IO event `pick` takes.
    fn take<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> Option<T> {
        let (index, value) = self
            .events
            .iter()
            .enumerate()
            .find_map(|(i, event)| pick(event).map(|value| (i, value)))?;
        self.events.remove(index);
        Some(value)
    }

    /// Connects `namespace`; its socket id.
    async fn connect(&mut self, namespace: &str) -> Result<String, String> {
        self.sio
            .connect::<()>(namespace, None)
            .map_err(|e| e.to_string())?;
        self.until(|c| {
            c.take(|event| match event {
                Event::Connected { namespace: ns, sid } if ns == namespace => {
                    Some(sid.clone().ok_or_else(|| "no socket id".to_string()))
                }
                Event::ConnectError {
                    namespace: ns,
                    data,
                } if ns == namespace => Some(Err(format!("refused: {data:?}"))),
                _ => None,
            })
        })
        .await
    }

    /// Emits `message-with-ack` in `namespace` and checks the ACK's arguments.
    async fn ack_echo(&mut self, namespace: &str) -> Result<String, String> {
        let args = json!([1, "2", {"3": [true]}, null]);
        let mut event = vec![json!("message-with-ack")];
        event.extend(args.as_array().cloned().unwrap_or_default());
        let id = self
            .sio
            .emit(namespace, &event, true)
            .map_err(|e| e.to_string())?
            .ok_or("no ack id")?;
        let answer = self
            .until(|c| {
                c.take(|event| match event {
                    Event::Ack {
                        id: got, packet, ..
                    } if *got == id => Some(Ok(arguments(packet))),
                    _ => None,
                })
            })
            .await??;
        if answer == args {
            Ok(format!("ack {id} with {answer}"))
        } else {
            Err(format!("ack {id} carried {answer}, expected {args}"))
        }
    }

    /// Emits `message` with a binary argument and checks `message-back` has the same bytes.
    async fn binary_echo(&mut self) -> Result<String, String> {
        let data: Vec<u8> = (0..=255u8).chain([0x1e, 0, 0xff]).collect();
        self.sio
            .emit("/", &("message", Binary(&data), "text"), false)
            .map_err(|e| e.to_string())?;
        let (args, attachments) = self
            .until(|c| {
                c.take(|event| match event {
                    Event::Message {
                        namespace, packet, ..
                    } if namespace == "/"
                        && arguments(packet).map(|a| a[0] == "message-back") == Ok(true) =>
                    {
                        Some(Ok((arguments(packet), packet.attachments().to_vec())))
                    }
                    _ => None,
                })
            })
            .await?;
        let expected = json!(["message-back", {"_placeholder": true, "num": 0}, "text"]);
        if args? != expected {
            return Err(format!("message-back's arguments differ from {expected}"));
        }
        match attachments.as_slice() {
            [bytes] if bytes[..] == data[..] => {
                Ok(format!("{} bytes back, identical", bytes.len()))
            }
            other => Err(format!("message-back's attachments differ: {other:?}")),
        }
    }

    /// Lets the session run for `duration` (the heartbeat keeps it open).
    async fn idle(&mut self, duration: Duration) -> Result<(), String> {
        let until = Instant::now() + duration;
        self.until(|_| (Instant::now() >= until).then_some(Ok(())))
            .await
    }

    /// Closes the session (`1` to the server) and waits for what carries it to go out.
    async fn close(&mut self) {
        self.eio.close();
        self.drive().await;
        if let Some(post) = self.post.take() {
            let _ = tokio::time::timeout(STEP, post).await;
        }
        if let Some(mut ws) = self.ws.take() {
            ws.close(None).await.ok();
        }
    }
}

/// Polls with the old session id until the server answers "Session ID unknown" (code 1).
async fn forgotten(authority: &str, path: &str, sid: &str) -> Result<(), String> {
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

/// The JSON arguments of a packet (placeholders left in place).
fn arguments(packet: &sio_codec::socketio::Assembled) -> Result<Value, String> {
    let view = packet.packet().as_packet();
    let data = view.data().ok_or("no arguments")?;
    serde_json::from_str(data.as_str()).map_err(|e| e.to_string())
}

async fn join<T>(task: &mut Option<JoinHandle<Result<T, String>>>) -> Result<T, String> {
    let Some(handle) = task.as_mut() else {
        return std::future::pending().await;
    };
    let result = handle.await.map_err(|e| e.to_string()).and_then(|r| r);
    *task = None;
    result
}

async fn next_frame(ws: &mut Option<Box<Ws>>) -> Frame {
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

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One polling request on its own connection.
async fn http(authority: String, path: String, request: HttpRequest) -> HttpAnswer {
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

async fn connect_websocket(authority: String, url: String) -> Result<Box<Ws>, String> {
    let stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Box::new(ws))
}

/// Runs one step with its deadline and prints its line.
async fn step<T>(
    name: &str,
    work: impl Future<Output = Result<T, String>>,
    detail: impl FnOnce(&T) -> String,
) -> Result<T, String> {
    let result = match tokio::time::timeout(STEP, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {STEP:?}")),
    };
    match &result {
        Ok(value) => println!("ok    {name}: {}", detail(value)),
        Err(reason) => println!("FAIL  {name}: {reason}"),
    }
    result.map_err(|reason| format!("{name}: {reason}"))
}

/// Opens a session over polling and upgrades it to WebSocket; the Engine.IO sid.
async fn open(client: &mut Client, steps: &mut usize) -> Result<String, String> {
    let sid = step(
        "open over polling",
        client.until(|c| {
            c.opened
                .then(|| Ok(c.eio.sid().unwrap_or_default().to_string()))
        }),
        |sid| format!("Engine.IO sid {sid}"),
    )
    .await?;
    let interval = client.eio.ping_interval();
    step(
        "upgrade to WebSocket",
        client.until(|c| {
            if c.upgraded {
                Some(Ok(()))
            } else {
                c.upgrade_failed.then(|| Err("the upgrade failed".into()))
            }
        }),
        |()| format!("upgraded (server pings every {interval:?})"),
    )
    .await?;
    *steps += 2;
    Ok(sid)
}

async fn run(url: &str) -> Result<usize, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = match rest.split_once('/') {
        Some((authority, path)) if !path.trim_end_matches('/').is_empty() => {
            let path = format!("/{}/", path.trim_end_matches('/'));
            (authority.to_string(), path)
        }
        Some((authority, _)) => (authority.to_string(), "/socket.io/".to_string()),
        None => (rest.to_string(), "/socket.io/".to_string()),
    };
    let mut steps = 0;
    let mut client = Client::new(&authority, &path);
    let eio_sid = open(&mut client, &mut steps).await?;
    let first = step("connect /", client.connect("/"), |sid| {
        format!("socket id {sid}")
    })
    .await?;
    step("message-with-ack", client.ack_echo("/"), Clone::clone).await?;
    step("binary message", client.binary_echo(), Clone::clone).await?;
    step("connect /custom", client.connect("/custom"), |sid| {
        format!("socket id {sid}")
    })
    .await?;
    step(
        "message-with-ack in /custom",
        client.ack_echo("/custom"),
        Clone::clone,
    )
    .await?;
    // Three heartbeats (pingInterval + pingTimeout is the longest the server waits for a
    // pong), then the session must still answer.
    let quiet = ((client.eio.ping_interval() + client.eio.ping_timeout()) * 3).min(STEP / 2);
    step(
        "heartbeat",
        async {
            client.idle(quiet).await?;
            client.ack_echo("/").await
        },
        |_| format!("still open after {quiet:?}"),
    )
    .await?;
    steps += 6;

    step(
        "close",
        async {
            client.close().await;
            forgotten(&authority, &path, &eio_sid).await
        },
        |()| format!("the server forgot session {eio_sid}"),
    )
    .await?;
    let mut client = Client::new(&authority, &path);
    let new_sid = open(&mut client, &mut steps).await?;
    if new_sid == eio_sid {
        return Err(format!(
            "reconnect: the new session has the old sid {eio_sid}"
        ));
    }
    let reconnect = async {
        let sid = client.connect("/").await?;
        if sid == first {
            return Err(format!("the old socket id {sid}"));
        }
        Ok(sid)
    };
    step("reconnect /", reconnect, |sid| format!("socket id {sid}")).await?;
    step(
        "message-with-ack after reconnecting",
        client.ack_echo("/"),
        Clone::clone,
    )
    .await?;
    tokio::time::timeout(STEP, client.close()).await.ok();
    steps += 3;
    Ok(steps)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: sio-example-client http://HOST:PORT[/socket.io/]");
        std::process::exit(2);
    };
    match run(&url).await {
        Ok(steps) => println!("all {steps} steps passed"),
        Err(reason) => {
            println!("failed: {reason}");
            std::process::exit(1);
        }
    }
}
