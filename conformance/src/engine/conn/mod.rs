//! Connections of a running case: WebSocket or HTTP long-polling sessions, each with an
//! inbound queue fed the moment data arrives, so no frame is ever lost between steps.
//!
//! The queue is bounded (`--max-backlog-frames`, `--max-backlog-bytes`): what a server sends
//! beyond it while no step consumes is read and counted, not kept, and the next step that
//! waits on the connection fails with it ([`Item::Overflow`]).
mod decode;
mod poll;

pub(crate) use decode::{is_socketio_packet, payload_packets, protocol_of};
use decode::{is_upper_layer, payload, ws_item};
use poll::poll_loop;

use crate::fixture::Heartbeat;
use crate::transport::{
    Limits, Transcript,
    backlog::{self, BacklogReceiver, Overflow},
    http::{HttpClient, HttpRequest},
    ws::WsConnection,
};
use bytes::Bytes;
use sio_codec::{
    EngineIo, Protocol,
    engineio::{self, PacketBuf, client},
};
use std::{collections::VecDeque, time::Duration};
use tokio::{task::JoinHandle, time::Instant};

/// One thing that arrived on a connection.
#[derive(Debug, Clone)]
pub enum Item {
    /// An Engine.IO packet (decoded from a WebSocket frame or a polling payload record).
    Packet {
        /// Arrival time.
        at: Instant,
        /// The packet.
        packet: PacketBuf,
        /// The raw text of the frame/record (for `raw` expectations), `None` for binary.
        raw: Option<String>,
    },
    /// Data the server sent that is not a valid Engine.IO packet.
    Malformed {
        /// Arrival time.
        at: Instant,
        /// The decoder's verdict.
        error: String,
    },
    /// The connection or session ended.
    Closed {
        /// When it was noticed.
        at: Instant,
        /// How (close code, HTTP status...).
        detail: String,
    },
    /// More arrived than the backlog holds while no step consumed: `frames` items of `bytes`
    /// bytes in all were unconsumed (those past the cap were read and dropped).
    Overflow {
        /// When the step noticed.
        at: Instant,
        /// Items that arrived unconsumed (kept and dropped).
        frames: u64,
        /// Their bytes.
        bytes: u64,
        /// The cap that was exceeded.
        limits: Limits,
    },
}

impl Item {
    /// Arrival time.
    pub fn at(&self) -> Instant {
        match self {
            Self::Packet { at, .. }
            | Self::Malformed { at, .. }
            | Self::Closed { at, .. }
            | Self::Overflow { at, .. } => *at,
        }
    }

    /// The bytes an item holds, for the backlog caps.
    pub fn weight(&self) -> usize {
        match self {
            Self::Packet { raw: Some(raw), .. } => raw.len(),
            Self::Packet { packet, .. } => match packet.as_packet() {
                engineio::Packet::Message(engineio::Message::Text(t)) => t.len(),
                engineio::Packet::Message(engineio::Message::Binary(b)) => b.len(),
                _ => 1,
            },
            Self::Malformed { error, .. } => error.len(),
            Self::Closed { .. } | Self::Overflow { .. } => 0,
        }
    }

    /// A short human description, for failure reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Packet { packet, .. } => format!("{packet:?}"),
            Self::Malformed { error, .. } => format!("malformed data ({error})"),
            Self::Closed { detail, .. } => format!("connection closed ({detail})"),
            Self::Overflow {
                frames,
                bytes,
                limits,
                ..
            } => format!(
                "{frames} frames, {} arrived unconsumed, more than the backlog holds \
                 (--max-backlog-frames {}, --max-backlog-bytes {}): the rest was read and dropped",
                crate::transport::transcript::human_bytes(*bytes),
                limits.backlog_frames,
                limits.backlog_bytes
            ),
        }
    }
}

/// How a connection carries packets.
enum Carrier {
    Ws(WsConnection),
    Polling {
        client: HttpClient,
        /// `path?EIO=4&transport=polling&sid=…`.
        path_and_query: String,
        rx: BacklogReceiver<Item>,
        poller: JoinHandle<()>,
    },
}

/// A named connection of a case.
pub struct Conn {
    name: String,
    carrier: Carrier,
    heartbeat: Heartbeat,
    /// The protocol the connection speaks (from the `EIO` of its query, see [`protocol_of`]).
    protocol: Protocol,
    /// With automatic heartbeat, the client's side of it (the codec's): it answers v4
    /// pings, and sends the v3 client pings once it runs. It never gives up on a silent
    /// server: judging that is the cases' job.
    beat: Option<client::Heartbeat>,
    /// Items received but not yet consumed by a step.
    queue: VecDeque<Item>,
    /// Bytes of `queue` ([`Item::weight`]).
    queue_bytes: usize,
    /// What [`Conn::pump`] left out of `queue` because it was full.
    dropped: Overflow,
    limits: Limits,
    /// An Engine.IO-level case ([`crate::fixture::Layer::Engineio`]): messages that carry
    /// Socket.IO packets are left out (see [`is_upper_layer`]).
    pub(crate) hide_upper_layer: bool,
    closed: bool,
    transcript: Transcript,
}

impl Conn {
    /// A WebSocket connection.
    pub fn websocket(
        name: &str,
        ws: WsConnection,
        heartbeat: Heartbeat,
        protocol: Protocol,
        transcript: &Transcript,
    ) -> Self {
        Self {
            name: name.to_owned(),
            carrier: Carrier::Ws(ws),
            heartbeat,
            protocol,
            beat: automatic(heartbeat, protocol, None),
            queue: VecDeque::new(),
            queue_bytes: 0,
            dropped: Overflow::default(),
            limits: transcript.limits(),
            hide_upper_layer: false,
            closed: false,
            transcript: transcript.clone(),
        }
    }

    /// A polling session whose GETs run in a background task: each returned payload is split
    /// into packets and queued; with automatic heartbeat, v4 pings are answered with a POSTed
    /// pong and never queued, and v3 sessions get a client ping every `ping_interval`.
    pub fn polling(
        name: &str,
        client: HttpClient,
        path_and_query: String,
        heartbeat: Heartbeat,
        protocol: Protocol,
        ping_interval: Duration,
        transcript: &Transcript,
    ) -> Self {
        let limits = transcript.limits();
        let (tx, rx) = backlog::channel(limits.backlog_frames, limits.backlog_bytes);
        let poller = tokio::spawn(poll_loop(
            client.clone(),
            path_and_query.clone(),
            heartbeat,
            protocol,
            transcript.clone(),
            name.to_owned(),
            tx,
        ));
        let beat = automatic(heartbeat, protocol, Some(ping_interval));
        Self {
            name: name.to_owned(),
            carrier: Carrier::Polling {
                client,
                path_and_query,
                rx,
                poller,
            },
            heartbeat,
            protocol,
            beat,
            queue: VecDeque::new(),
            queue_bytes: 0,
            dropped: Overflow::default(),
            limits: transcript.limits(),
            hide_upper_layer: false,
            closed: false,
            transcript: transcript.clone(),
        }
    }

    /// Whether the connection is a WebSocket.
    pub fn is_websocket(&self) -> bool {
        matches!(self.carrier, Carrier::Ws(_))
    }

    /// The protocol the connection speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Sends Engine.IO packets: one frame each on WebSocket, one POST for all on polling.
    pub async fn send_packets(&mut self, packets: &[engineio::Packet<'_>]) -> Result<(), String> {
        match &mut self.carrier {
            Carrier::Ws(ws) => {
                for packet in packets {
                    let (kind, bytes) = self.protocol.encode_frame(packet, false);
                    send_frame(ws, kind, bytes).await?;
                }
                Ok(())
            }
            Carrier::Polling { .. } => {
                let body = payload(self.protocol, packets)?;
                self.post(body).await
            }
        }
    }

    /// Sends raw text (a WebSocket text frame, or a POST body).
    pub async fn send_raw_text(&mut self, text: String) -> Result<(), String> {
        match &mut self.carrier {
            Carrier::Ws(ws) => ws.send_text(text).await.map_err(|e| e.to_string()),
            Carrier::Polling { .. } => self.post(Bytes::from(text)).await,
        }
    }

    /// Sends raw bytes (a WebSocket binary frame, or a POST body).
    pub async fn send_raw_binary(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        match &mut self.carrier {
            Carrier::Ws(ws) => ws.send_binary(bytes).await.map_err(|e| e.to_string()),
            Carrier::Polling { .. } => self.post(Bytes::from(bytes)).await,
        }
    }

    async fn post(&mut self, body: Bytes) -> Result<(), String> {
        let Carrier::Polling {
            client,
            path_and_query,
            ..
        } = &self.carrier
        else {
            return Err("not a polling session".into());
        };
        let request = HttpRequest::post(path_and_query.clone(), body)
            .with_header("Content-Type", "text/plain;charset=UTF-8");
        let response = client
            .send(&request, &self.transcript, &self.name)
            .await
            .map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!(
                "POST answered {} {}",
                response.status,
                response.text().unwrap_or_default()
            ));
        }
        Ok(())
    }

    /// Client-side close: a WebSocket close frame, or stopping the poller.
    pub async fn close(&mut self, code: Option<u16>) {
        match &mut self.carrier {
            Carrier::Ws(ws) => {
                // Closing an already-closed socket is fine: the goal is a closed connection.
                let _ = ws.close(code).await;
            }
            Carrier::Polling { poller, .. } => poller.abort(),
        }
        self.closed = true;
    }

    /// The next item before `deadline` (`None` on timeout). With automatic heartbeat it
    /// answers v4 server pings, sends v3 client pings when they are due, and hides both
    /// kinds of heartbeat packets.
    pub async fn next(&mut self, deadline: Instant) -> Option<Item> {
        loop {
            if let Some(overflow) = self.take_overflow() {
                return Some(overflow);
            }
            if let Some(item) = self.pop() {
                return Some(item);
            }
            let wake = self
                .beat
                .as_ref()
                .and_then(client::Heartbeat::poll_timeout)
                .map_or(deadline, |due| Instant::from_std(due).min(deadline));
            let received = match &mut self.carrier {
                Carrier::Ws(ws) => tokio::time::timeout_at(wake, ws.recv())
                    .await
                    .map(|event| event.map(|(at, event)| ws_item(at, event, self.protocol))),
                Carrier::Polling { rx, .. } => tokio::time::timeout_at(wake, rx.recv()).await,
            };
            let item = match received {
                Err(_) => {
                    if self.ping_due() {
                        self.send_client_ping().await;
                        continue;
                    }
                    return None;
                }
                // The reader or the poller stopped after reporting the end; stay closed.
                Ok(None) if self.closed => return None,
                Ok(None) => Item::Closed {
                    at: Instant::now(),
                    detail: "connection ended".into(),
                },
                Ok(Some(item)) => item,
            };
            if let Item::Closed { .. } = item {
                self.closed = true;
            }
            self.learn_ping_interval(&item);
            if self.answer_heartbeat(&item).await || self.upper_layer(&item) {
                continue;
            }
            return Some(item);
        }
    }

    /// Takes in, without waiting, what has already arrived: in automatic heartbeat mode
    /// server pings are answered (and a due v3 client ping is sent), everything else is
    /// queued for [`Conn::next`]. While a step waits on one connection, the case pumps the
    /// others, so that a long wait cannot make the server time them out.
    pub async fn pump(&mut self) {
        if self.heartbeat != Heartbeat::Auto || self.closed {
            return;
        }
        if self.ping_due() {
            self.send_client_ping().await;
        }
        // Polling sessions need nothing more: their poller answers pings itself.
        while let Carrier::Ws(ws) = &mut self.carrier {
            let Ok((at, event)) = ws.try_recv() else {
                return;
            };
            let item = ws_item(at, event, self.protocol);
            self.learn_ping_interval(&item);
            if self.answer_heartbeat(&item).await || self.upper_layer(&item) {
                continue;
            }
            let closed = matches!(item, Item::Closed { .. });
            self.push(item);
            if closed {
                self.closed = true;
                return;
            }
        }
    }

    /// Queues an item unless the queue is full (then it is counted as left out); the end of
    /// the connection is always queued.
    fn push(&mut self, item: Item) {
        let weight = item.weight();
        let closed = matches!(item, Item::Closed { .. });
        let full = self.queue.len() >= self.limits.backlog_frames.max(1)
            || (!self.queue.is_empty() && self.queue_bytes + weight > self.limits.backlog_bytes);
        if full && !closed {
            self.dropped.frames += 1;
            self.dropped.bytes += weight as u64;
            return;
        }
        self.queue_bytes += weight;
        self.queue.push_back(item);
    }

    fn pop(&mut self) -> Option<Item> {
        let item = self.queue.pop_front()?;
        self.queue_bytes = self.queue_bytes.saturating_sub(item.weight());
        Some(item)
    }

    /// Items and bytes received and not consumed yet (the queue and the channel from the
    /// reader or the poller).
    pub fn backlog(&self) -> (usize, usize) {
        let (frames, bytes) = match &self.carrier {
            Carrier::Ws(ws) => ws.held(),
            Carrier::Polling { rx, .. } => rx.held(),
        };
        (self.queue.len() + frames, self.queue_bytes + bytes)
    }

    /// An [`Item::Overflow`] when the reader, the poller or [`Conn::pump`] left items out since
    /// the last call: how many arrived unconsumed in all, the kept ones included.
    fn take_overflow(&mut self) -> Option<Item> {
        let channel = match &self.carrier {
            Carrier::Ws(ws) => ws.take_overflow(),
            Carrier::Polling { rx, .. } => rx.take_overflow(),
        }
        .unwrap_or_default();
        let local = std::mem::take(&mut self.dropped);
        let (frames, bytes) = (channel.frames + local.frames, channel.bytes + local.bytes);
        if frames == 0 {
            return None;
        }
        let (held_frames, held_bytes) = self.backlog();
        Some(Item::Overflow {
            at: Instant::now(),
            frames: frames + held_frames as u64,
            bytes: bytes + held_bytes as u64,
            limits: self.limits,
        })
    }

    fn ping_due(&self) -> bool {
        !self.closed
            && self
                .beat
                .as_ref()
                .and_then(client::Heartbeat::poll_timeout)
                .is_some_and(|due| Instant::from_std(due) <= Instant::now())
    }

    /// Sends the v3 client ping that is due (the heartbeat schedules the next one).
    async fn send_client_ping(&mut self) {
        let now = Instant::now().into_std();
        if let Some(client::Due::Ping(ping)) =
            self.beat.as_mut().and_then(|b| b.handle_timeout(now))
        {
            // A failed ping shows up as the end of the connection on the next read.
            let _ = self.send_packets(&[ping.as_packet()]).await;
        }
    }

    /// A v3 WebSocket learns its ping interval from the open packet.
    fn learn_ping_interval(&mut self, item: &Item) {
        if let Item::Packet { packet, .. } = item
            && let engineio::Packet::Open(handshake) = packet.as_packet()
        {
            self.start_client_pings(Duration::from_millis(handshake.ping_interval()));
        }
    }

    /// Engine.IO v3 with automatic heartbeat: ping every `interval` from now on (a session
    /// upgraded from polling never sees the open packet on its WebSocket).
    pub fn start_client_pings(&mut self, interval: Duration) {
        if self.protocol.engineio() != EngineIo::V3 {
            return;
        }
        if let Some(beat) = self.beat.as_mut().filter(|beat| !beat.is_running()) {
            beat.start(interval, None, Instant::now().into_std());
        }
    }

    /// In automatic mode: answers a v4 server ping (WebSocket; the poller answers polling
    /// pings itself), swallows the server's pong to a v3 client ping (both as the codec's
    /// client heartbeat says), and drops `noop` packets, which carry nothing for a client
    /// (servers send them to end a poll, and some, python-engineio, also over a freshly
    /// upgraded WebSocket). `true` when `item` was such traffic.
    async fn answer_heartbeat(&mut self, item: &Item) -> bool {
        let Some(beat) = self.beat.as_mut() else {
            return false;
        };
        let Item::Packet { packet, .. } = item else {
            return false;
        };
        let view = packet.as_packet();
        match beat.handle_packet(&view, item.at().into_std()) {
            client::Heard::Answer(answer) => {
                if let Carrier::Ws(ws) = &mut self.carrier {
                    let (kind, bytes) = self.protocol.encode_frame(&answer.as_packet(), false);
                    let _ = send_frame(ws, kind, bytes).await;
                }
                true
            }
            client::Heard::Heartbeat => true,
            client::Heard::Other => matches!(view, engineio::Packet::Noop),
        }
    }

    /// Queues items that arrived before the connection existed (with the handshake).
    pub fn preload(&mut self, items: Vec<Item>) {
        let hide = self.hide_upper_layer;
        for item in items {
            if !(hide && is_upper_layer(self.protocol, &item)) {
                self.queue_bytes += item.weight();
                self.queue.push_back(item);
            }
        }
    }

    /// Whether `item` is Socket.IO traffic that an Engine.IO-level case leaves out.
    fn upper_layer(&self, item: &Item) -> bool {
        self.hide_upper_layer && is_upper_layer(self.protocol, item)
    }

    /// Puts an item back at the front of the queue (a step looked at it but did not own it).
    pub fn unread(&mut self, item: Item) {
        self.queue_bytes += item.weight();
        self.queue.push_front(item);
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("name", &self.name)
            .field("websocket", &self.is_websocket())
            .field("queued", &self.queue.len())
            .field("closed", &self.closed)
            .finish()
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Carrier::Polling { poller, .. } = &self.carrier {
            poller.abort();
        }
    }
}

async fn send_frame(
    ws: &mut WsConnection,
    kind: sio_codec::FrameKind,
    bytes: Bytes,
) -> Result<(), String> {
    let sent = match kind {
        sio_codec::FrameKind::Text => match String::from_utf8(bytes.to_vec()) {
            Ok(text) => ws.send_text(text).await,
            Err(_) => return Err("encoder produced non-UTF-8 text".into()),
        },
        sio_codec::FrameKind::Binary => ws.send_binary(bytes).await,
    };
    sent.map_err(|e| e.to_string())
}

/// The codec's client heartbeat for a connection with automatic heartbeat: running at once
/// for v4 (it answers pings, it has no timer of its own here), and for v3 when the ping
/// interval is known (else from the open packet, see [`Conn::start_client_pings`]).
fn automatic(
    heartbeat: Heartbeat,
    protocol: Protocol,
    v3_interval: Option<Duration>,
) -> Option<client::Heartbeat> {
    if heartbeat != Heartbeat::Auto {
        return None;
    }
    let mut beat = client::Heartbeat::new(protocol.engineio());
    let now = Instant::now().into_std();
    match (protocol.engineio(), v3_interval) {
        (EngineIo::V4, _) => beat.start(Duration::ZERO, None, now),
        (EngineIo::V3, Some(interval)) => beat.start(interval, None, now),
        (EngineIo::V3, None) => {}
    }
    Some(beat)
}
