//! `sio-load`: the echo round trips per second a Socket.IO server sustains and their latency,
//! from N concurrent WebSocket clients built on sio-codec's sans-IO client sessions
//! (`engineio::client::Session`, `socketio::client::Connection`). Every server that implements
//! the behaviour contract (docs/contract.md: `message-with-ack` is answered with an ACK of its
//! arguments) can be measured; `benches/load.sh` runs it against the example server,
//! socketioxide, Node socket.io and python-socketio.
//!
//! ```text
//! sio-load URL [--clients N] [--seconds S] [--warmup S] [--payload BYTES]
//!     N clients (default 1) connect `/` over WebSocket, then each emits `message-with-ack`
//!     and waits for its ACK, again and again, for S seconds (default 5) after a warm-up
//!     (default 1 s). Prints one line: clients, round trips per second, p50 and p99 in µs.
//! sio-load URL --idle N [--hold S]
//!     Opens N connections (`/` connected), prints `idle N connected` once all are, and holds
//!     them S seconds (default 5) answering the server's pings; then closes them.
//! sio-load --null-server PORT
//!     A server that does nothing but answer (the open packet, the CONNECT, each
//!     `message-with-ack` by string slicing): the load generator's own ceiling.
//! ```
//!
//! Every step has a deadline: a client that cannot connect or gets no ACK in 10 s fails the
//! run (exit 1), so a stuck server does not hang it.

use futures_util::{SinkExt, StreamExt};
use sio_codec::Protocol;
use sio_codec::engineio::client::{ClientConfig, Event as Eio, Frame, Session, Transport};
use sio_codec::socketio::OutFrame;
use sio_codec::socketio::client::{Connection, Event, Message};
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest any step may take.
const STEP: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One client: its WebSocket, the two sessions above it, and its one timer.
struct Client {
    ws: Ws,
    eio: Session,
    sio: Connection,
    /// Armed for the earliest of the session's timer and the step's deadline; moved only
    /// when that comes earlier (re-registering a timer for every round trip would make the
    /// load generator, not the server, the bottleneck).
    timer: Pin<Box<Sleep>>,
}

/// What the client waits for.
enum Wanted {
    /// Nothing: the sessions just run (heartbeats) until the caller's timeout.
    Nothing,
    Connected,
    Ack(sio_codec::socketio::AckId),
}

impl Client {
    /// Opens a WebSocket-only session to `base` (`http://host:port`) and connects `/`.
    async fn connect(base: &str) -> Result<Self, String> {
        let mut config = ClientConfig::default();
        config.transport = Transport::Websocket;
        let mut eio = Session::new(config);
        let query = eio.poll_websocket().ok_or("no WebSocket to open")?;
        let url = format!("{}/socket.io/?{query}", base.replacen("http", "ws", 1));
        let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
            .await
            .map_err(|_| "WebSocket handshake timed out")?
            .map_err(|e| format!("WebSocket: {e}"))?;
        eio.handle_websocket_open(Instant::now());
        let sio = Connection::new(Protocol::V4);
        let timer = Box::pin(tokio::time::sleep(STEP));
        let mut client = Self {
            ws,
            eio,
            sio,
            timer,
        };
        client.until(Wanted::Connected, |c| c.eio.is_open()).await?;
        Ok(client)
    }

    /// Emits `message-with-ack` with `payload` and waits for its ACK.
    async fn round_trip(&mut self, payload: &str) -> Result<(), String> {
        let id = self
            .sio
            .emit("/", &("message-with-ack", payload), true)
            .map_err(|e| e.to_string())?
            .ok_or("no ack id")?;
        self.until(Wanted::Ack(id), |_| true).await
    }

    /// Drives the sessions until `wanted` happened (`ready` says when to send the CONNECT).
    async fn until(&mut self, wanted: Wanted, ready: fn(&Self) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + STEP;
        let mut connect_sent = false;
        loop {
            if let Wanted::Connected = wanted
                && !connect_sent
                && ready(self)
            {
                self.sio
                    .connect::<()>("/", None)
                    .map_err(|e| e.to_string())?;
                connect_sent = true;
            }
            while let Some(out) = self.sio.poll_message() {
                match out {
                    OutFrame::Text(text) => self.eio.send_text(text),
                    OutFrame::Binary(data) => self.eio.send_binary(data),
                }
            }
            while let Some(frame) = self.eio.poll_frame() {
                let message = match frame {
                    Frame::Text(text) => WsMessage::Text(text.as_str().into()),
                    Frame::Binary(data) => WsMessage::Binary(data),
                    Frame::Close(_) => return Err("the session closed".into()),
                };
                self.ws.send(message).await.map_err(|e| e.to_string())?;
            }
            let wake = self.eio.poll_timeout().unwrap_or(deadline).min(deadline);
            if wake < self.timer.deadline().into_std() {
                self.timer.as_mut().reset(wake.into());
            }
            tokio::select! {
                message = self.ws.next() => {
                    let frame = match message {
                        Some(Ok(WsMessage::Text(text))) => Frame::Text(text.as_str().into()),
                        Some(Ok(WsMessage::Binary(data))) => Frame::Binary(data),
                        Some(Ok(_)) => continue,
                        Some(Err(_)) | None => Frame::Close(None),
                    };
                    self.eio.handle_frame(frame, Instant::now());
                }
                () = &mut self.timer => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err("no answer within 10 s".into());
                    }
                    self.eio.handle_timeout(now);
                    // Far away: the next turn arms it for what is due then.
                    self.timer.as_mut().reset((now + STEP * 360).into());
                }
            }
            while let Some(event) = self.eio.poll_event() {
                match event {
                    Eio::Text(text) => self.sio.handle_message(Message::Text(text)),
                    Eio::Binary(data) => self.sio.handle_message(Message::Binary(data)),
                    Eio::Closed(reason) => return Err(format!("closed: {reason:?}")),
                    Eio::Open | Eio::Upgraded | Eio::UpgradeFailed => {}
                }
            }
            let mut done = false;
            while let Some(event) = self.sio.poll_event() {
                done |= match (&wanted, event) {
                    (Wanted::Connected, Event::Connected { .. }) => true,
                    (Wanted::Ack(want), Event::Ack { id, .. }) => id == *want,
                    (_, Event::ConnectError { .. }) => return Err("CONNECT refused".into()),
                    (_, Event::Close(reason)) => return Err(format!("closed: {reason:?}")),
                    _ => false,
                };
            }
            if done {
                return Ok(());
            }
        }
    }

    async fn close(mut self) {
        self.eio.close();
        while let Some(Frame::Text(text)) = self.eio.poll_frame() {
            self.ws
                .send(WsMessage::Text(text.as_str().into()))
                .await
                .ok();
        }
        self.ws.close(None).await.ok();
    }
}

/// `clients` clients doing round trips for `warmup + seconds`; the latencies (µs) of those
/// that started after the warm-up.
async fn echo(base: &str, clients: usize, warmup: Duration, seconds: Duration, payload: usize) {
    let payload: String = "x".repeat(payload);
    let start = Instant::now() + warmup + Duration::from_millis(200);
    let end = start + seconds;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (base, payload) = (base.to_owned(), payload.clone());
            tokio::spawn(async move {
                let mut client = Client::connect(&base).await?;
                let mut latencies = Vec::new();
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    client.round_trip(&payload).await?;
                    if sent >= start {
                        let micros = sent.elapsed().as_micros();
                        latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                }
                client.close().await;
                Ok::<_, String>(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(latencies)) => all.extend(latencies),
            Ok(Err(e)) => fail(&e),
            Err(e) => fail(&e.to_string()),
        }
    }
    all.sort_unstable();
    let quantile = |q: f64| {
        let index = ((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1));
        all.get(index).copied().unwrap_or(0)
    };
    println!(
        "clients {clients} round_trips_per_s {:.0} p50_us {} p99_us {}",
        all.len() as f64 / seconds.as_secs_f64(),
        quantile(0.50),
        quantile(0.99),
    );
}

/// `count` idle connections, opened 100 at a time, held for `hold`.
async fn idle(base: &str, count: usize, hold: Duration) {
    let mut clients = Vec::with_capacity(count);
    let mut pending = Vec::new();
    for i in 0..count {
        let base = base.to_owned();
        pending.push(tokio::spawn(async move { Client::connect(&base).await }));
        if pending.len() == 100 || i + 1 == count {
            for task in pending.drain(..) {
                match task.await {
                    Ok(Ok(client)) => clients.push(client),
                    Ok(Err(e)) => fail(&e),
                    Err(e) => fail(&e.to_string()),
                }
            }
        }
    }
    println!("idle {count} connected");
    // Each connection answers the server's pings on its own task while the server is measured.
    let holders: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                tokio::time::timeout(hold, client.until(Wanted::Nothing, |_| false))
                    .await
                    .ok();
                client.close().await;
            })
        })
        .collect();
    for holder in holders {
        holder.await.ok();
    }
}

/// The ceiling: a WebSocket server that answers without decoding.
async fn null_server(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let open = r#"0{"sid":"null","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
            if ws.send(WsMessage::Text(open.into())).await.is_err() {
                return;
            }
            while let Some(Ok(WsMessage::Text(text))) = ws.next().await {
                let reply = if text.starts_with("40") {
                    r#"40{"sid":"s"}"#.to_owned()
                } else if let Some(rest) = text.strip_prefix("42")
                    && let Some((id, args)) = rest.split_once(r#"["message-with-ack","#)
                {
                    format!("43{id}[{args}")
                } else {
                    continue;
                };
                if ws.send(WsMessage::Text(reply.into())).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn fail(message: &str) -> ! {
    eprintln!("sio-load: {message}");
    std::process::exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        let at = args.iter().position(|a| a == name)?;
        let value = args
            .get(at + 1)
            .unwrap_or_else(|| fail(&format!("{name} needs a value")));
        Some(
            value
                .parse::<f64>()
                .unwrap_or_else(|_| fail(&format!("{name}: not a number"))),
        )
    };
    let seconds = |name, default| Duration::from_secs_f64(value(name).unwrap_or(default));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    if let Some(port) = value("--null-server") {
        let result = runtime.block_on(null_server(port as u16));
        return result.unwrap_or_else(|e| fail(&e.to_string()));
    }
    let Some(base) = args.first().filter(|a| a.starts_with("http://")) else {
        fail(
            "usage: sio-load http://HOST:PORT [--clients N] [--seconds S] [--warmup S] [--payload BYTES] | --idle N [--hold S] | --null-server PORT",
        )
    };
    let base = base.trim_end_matches('/');
    if let Some(count) = value("--idle") {
        runtime.block_on(idle(base, count as usize, seconds("--hold", 5.0)));
        return;
    }
    let clients = value("--clients").unwrap_or(1.0) as usize;
    let payload = value("--payload").unwrap_or(16.0) as usize;
    let (warmup, run) = (seconds("--warmup", 1.0), seconds("--seconds", 5.0));
    runtime.block_on(echo(base, clients, warmup, run, payload));
}
