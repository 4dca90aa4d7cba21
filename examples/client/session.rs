//! The client's session: the Engine.IO session and the Socket.IO connection, and the I/O they
//! ask for, in one loop (`Client::turn`).

use crate::STEP;
use crate::io::{HttpAnswer, Ws, connect_websocket, http, join, next_frame, sleep_until};
use futures_util::SinkExt;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use sio_codec::Protocol;
use sio_codec::engineio::client::{
    ClientConfig, CloseReason, Event as Eio, Frame, Method, Session,
};
use sio_codec::socketio::OutFrame;
use sio_codec::socketio::client::{Connection, Event, Message};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// What woke the loop up.
enum Io {
    Get(HttpAnswer),
    Post(HttpAnswer),
    Websocket(Result<Box<Ws>, String>),
    Frame(Frame),
    Timer,
}

/// One Engine.IO session with its Socket.IO connection, and the I/O in flight.
pub(crate) struct Client {
    pub(crate) authority: String,
    pub(crate) path: String,
    pub(crate) eio: Session,
    pub(crate) sio: Connection,
    pub(crate) get: Option<JoinHandle<HttpAnswer>>,
    pub(crate) post: Option<JoinHandle<HttpAnswer>>,
    pub(crate) connecting: Option<JoinHandle<Result<Box<Ws>, String>>>,
    pub(crate) ws: Option<Box<Ws>>,
    pub(crate) opened: bool,
    pub(crate) upgraded: bool,
    pub(crate) upgrade_failed: bool,
    pub(crate) closed: Option<CloseReason>,
    /// The last I/O error, for the report.
    pub(crate) error: Option<String>,
    pub(crate) events: VecDeque<Event>,
}

impl Client {
    pub(crate) fn new(authority: &str, path: &str) -> Self {
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
    pub(crate) async fn drive(&mut self) {
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

    pub(crate) async fn write(&mut self, frame: Frame) {
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
    pub(crate) async fn wait(&mut self) {
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

    pub(crate) fn answer(&mut self, method: Method, answer: HttpAnswer, now: Instant) {
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
    pub(crate) async fn until<T>(
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
    pub(crate) fn take<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> Option<T> {
        let (index, value) = self
            .events
            .iter()
            .enumerate()
            .find_map(|(i, event)| pick(event).map(|value| (i, value)))?;
        self.events.remove(index);
        Some(value)
    }

    /// Connects `namespace`; its socket id.
    pub(crate) async fn connect(&mut self, namespace: &str) -> Result<String, String> {
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
    pub(crate) async fn ack_echo(&mut self, namespace: &str) -> Result<String, String> {
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
    pub(crate) async fn binary_echo(&mut self) -> Result<String, String> {
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
    pub(crate) async fn idle(&mut self, duration: Duration) -> Result<(), String> {
        let until = Instant::now() + duration;
        self.until(|_| (Instant::now() >= until).then_some(Ok(())))
            .await
    }

    /// Closes the session (`1` to the server) and waits for what carries it to go out.
    pub(crate) async fn close(&mut self) {
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

/// A byte string for serde: the codec turns it into a binary attachment.
pub(crate) struct Binary<'a>(&'a [u8]);

impl Serialize for Binary<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// The JSON arguments of a packet (placeholders left in place).
pub(crate) fn arguments(packet: &sio_codec::socketio::Assembled) -> Result<Value, String> {
    let view = packet.packet().as_packet();
    let data = view.data().ok_or("no arguments")?;
    serde_json::from_str(data.as_str()).map_err(|e| e.to_string())
}
