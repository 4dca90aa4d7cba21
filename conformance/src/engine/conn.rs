//! Connections of a running case: WebSocket or HTTP long-polling sessions, each with an
//! inbound queue fed the moment data arrives, so no frame is ever lost between steps.

use crate::scenario::Heartbeat;
use crate::transport::{
    Transcript,
    http::{HttpClient, HttpRequest},
    ws::{WsConnection, WsEvent},
};
use bytes::Bytes;
use sio_codec::{
    DecodeConfig, Encode, WireFormat,
    engineio::{self, PacketBuf},
};
use std::{collections::VecDeque, time::Duration};
use tokio::{sync::mpsc, task::JoinHandle, time::Instant};

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
}

impl Item {
    /// Arrival time.
    pub fn at(&self) -> Instant {
        match self {
            Self::Packet { at, .. } | Self::Malformed { at, .. } | Self::Closed { at, .. } => *at,
        }
    }

    /// A short human description, for failure reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Packet { packet, .. } => format!("{packet:?}"),
            Self::Malformed { error, .. } => format!("malformed data ({error})"),
            Self::Closed { detail, .. } => format!("connection closed ({detail})"),
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
        rx: mpsc::UnboundedReceiver<Item>,
        poller: JoinHandle<()>,
    },
}

/// A named connection of a case.
pub struct Conn {
    name: String,
    carrier: Carrier,
    heartbeat: Heartbeat,
    /// Items received but not yet consumed by a step.
    queue: VecDeque<Item>,
    closed: bool,
    transcript: Transcript,
}

impl Conn {
    /// A WebSocket connection.
    pub fn websocket(
        name: &str,
        ws: WsConnection,
        heartbeat: Heartbeat,
        transcript: &Transcript,
    ) -> Self {
        Self {
            name: name.to_owned(),
            carrier: Carrier::Ws(ws),
            heartbeat,
            queue: VecDeque::new(),
            closed: false,
            transcript: transcript.clone(),
        }
    }

    /// A polling session whose GETs run in a background task: each returned payload is split
    /// into packets and queued; with automatic heartbeat, pings are answered with a POSTed
    /// pong and never queued.
    pub fn polling(
        name: &str,
        client: HttpClient,
        path_and_query: String,
        heartbeat: Heartbeat,
        transcript: &Transcript,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let poller = tokio::spawn(poll_loop(
            client.clone(),
            path_and_query.clone(),
            heartbeat,
            transcript.clone(),
            name.to_owned(),
            tx,
        ));
        Self {
            name: name.to_owned(),
            carrier: Carrier::Polling {
                client,
                path_and_query,
                rx,
                poller,
            },
            heartbeat,
            queue: VecDeque::new(),
            closed: false,
            transcript: transcript.clone(),
        }
    }

    /// Whether the connection is a WebSocket.
    pub fn is_websocket(&self) -> bool {
        matches!(self.carrier, Carrier::Ws(_))
    }

    /// Sends Engine.IO packets: one frame each on WebSocket, one POST for all on polling.
    pub async fn send_packets(&mut self, packets: &[engineio::Packet<'_>]) -> Result<(), String> {
        match &mut self.carrier {
            Carrier::Ws(ws) => {
                for packet in packets {
                    let (kind, bytes) = packet.to_bytes(WireFormat::Frames);
                    send_frame(ws, kind, bytes).await?;
                }
                Ok(())
            }
            Carrier::Polling { .. } => {
                let mut body = Vec::new();
                engineio::encode_payload(packets, &mut body);
                self.post(Bytes::from(body)).await
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

    /// The next item before `deadline` (`None` on timeout), answering pings when the
    /// heartbeat is automatic.
    pub async fn next(&mut self, deadline: Instant) -> Option<Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            let item = match &mut self.carrier {
                Carrier::Ws(ws) => match tokio::time::timeout_at(deadline, ws.recv()).await {
                    Err(_) => return None,
                    Ok(None) if self.closed => return None,
                    Ok(None) => Item::Closed {
                        at: Instant::now(),
                        detail: "connection ended".into(),
                    },
                    Ok(Some((at, event))) => ws_item(at, event),
                },
                Carrier::Polling { rx, .. } => {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Err(_) => return None,
                        Ok(None) => {
                            // The poller stopped after reporting the end; stay closed.
                            if self.closed {
                                return None;
                            }
                            self.closed = true;
                            Item::Closed {
                                at: Instant::now(),
                                detail: "session ended".into(),
                            }
                        }
                        Ok(Some(item)) => item,
                    }
                }
            };
            if let Item::Closed { .. } = item {
                self.closed = true;
            }
            if self.answer_ping(&item).await {
                continue;
            }
            return Some(item);
        }
    }

    /// Answers a server ping on a WebSocket in automatic mode; `true` when `item` was one.
    async fn answer_ping(&mut self, item: &Item) -> bool {
        if self.heartbeat != Heartbeat::Auto {
            return false;
        }
        let Item::Packet { packet, .. } = item else {
            return false;
        };
        let engineio::Packet::Ping(data) = packet.as_packet() else {
            return false;
        };
        if let Carrier::Ws(ws) = &mut self.carrier {
            let pong = engineio::Packet::Pong(data);
            let (kind, bytes) = pong.to_bytes(WireFormat::Frames);
            let _ = send_frame(ws, kind, bytes).await;
        }
        true
    }

    /// Puts an item back at the front of the queue (a step looked at it but did not own it).
    pub fn unread(&mut self, item: Item) {
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

/// Decodes one WebSocket event into an item (Engine.IO v4 framing).
fn ws_item(at: Instant, event: WsEvent) -> Item {
    match event {
        WsEvent::Text(text) => {
            let utf8 = sio_codec::Utf8Bytes::from(text.as_str());
            match PacketBuf::decode_text_with(&utf8, &DecodeConfig::new().max_payload(usize::MAX)) {
                Ok(packet) => Item::Packet {
                    at,
                    packet,
                    raw: Some(text),
                },
                Err(e) => Item::Malformed {
                    at,
                    error: format!("{e} in text frame {text:?}"),
                },
            }
        }
        WsEvent::Binary(bytes) => Item::Packet {
            at,
            packet: PacketBuf::from_binary_frame(bytes),
            raw: None,
        },
        WsEvent::Closed { code, reason } => Item::Closed {
            at,
            detail: match code {
                Some(code) => format!("close code {code} {reason}"),
                None if reason.is_empty() => "close frame without status (1005)".into(),
                None => reason,
            },
        },
    }
}

/// The long-polling loop of one session: GET until the session ends, queue what arrives.
async fn poll_loop(
    client: HttpClient,
    path_and_query: String,
    heartbeat: Heartbeat,
    transcript: Transcript,
    name: String,
    tx: mpsc::UnboundedSender<Item>,
) {
    // A GET that stays pending longer than any sane heartbeat interval means the server is
    // stuck; report it as the end of the session instead of hanging the case.
    const MAX_POLL: Duration = Duration::from_secs(120);
    loop {
        let request = HttpRequest::get(path_and_query.clone());
        let response =
            match tokio::time::timeout(MAX_POLL, client.send(&request, &transcript, &name)).await {
                Ok(Ok(response)) => response,
                Ok(Err(e)) => {
                    let _ = tx.send(Item::Closed {
                        at: Instant::now(),
                        detail: format!("GET failed: {e}"),
                    });
                    return;
                }
                Err(_) => {
                    let _ = tx.send(Item::Closed {
                        at: Instant::now(),
                        detail: "GET pending for 120 s".into(),
                    });
                    return;
                }
            };
        let at = Instant::now();
        if response.status != 200 {
            let detail = format!(
                "GET answered {} {}",
                response.status,
                response.text().unwrap_or_default()
            );
            let _ = tx.send(Item::Closed { at, detail });
            return;
        }
        let mut ended = false;
        let mut pongs = Vec::new();
        for record in engineio::decode_payload_buf(
            response.body.clone(),
            &DecodeConfig::new().max_payload(usize::MAX),
        ) {
            let item = match record {
                Ok(packet) => {
                    let view = packet.as_packet();
                    if let (Heartbeat::Auto, engineio::Packet::Ping(data)) = (heartbeat, &view) {
                        pongs.push(PacketBuf::from(&engineio::Packet::Pong(*data)));
                        continue;
                    }
                    ended |= matches!(view, engineio::Packet::Close);
                    let (_, text) = packet.to_bytes(WireFormat::Text);
                    let raw = String::from_utf8(text.to_vec()).ok();
                    Item::Packet { at, packet, raw }
                }
                Err(e) => Item::Malformed {
                    at,
                    error: format!("{e} in polling payload"),
                },
            };
            if tx.send(item).is_err() {
                return;
            }
        }
        if !pongs.is_empty() {
            let views: Vec<_> = pongs.iter().map(PacketBuf::as_packet).collect();
            let mut body = Vec::new();
            engineio::encode_payload(&views, &mut body);
            let post = HttpRequest::post(path_and_query.clone(), Bytes::from(body))
                .with_header("Content-Type", "text/plain;charset=UTF-8");
            let _ = client.send(&post, &transcript, &name).await;
        }
        if ended {
            return;
        }
    }
}
