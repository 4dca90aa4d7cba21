//! Opening a session: `ws_open` (a WebSocket upgrade, accepted or refused as expected) and
//! `open` (the Engine.IO handshake over the case's transport, its timers captured, and for
//! the `upgrade` transport the polling → WebSocket upgrade with its `ping probe` / `pong
//! probe` exchange).

use super::expect::overflow;
use crate::engine::conn::{payload_packets, protocol_of};
use crate::engine::{CaseState, Conn, Item, StepFailure};
use crate::fixture::{EioPacketPattern, Layer, ResponseExpect, Target as StepTarget, Transport};
use crate::matcher::match_value;
use crate::transport::{
    http::HttpRequest,
    ws::{self, WsConnect},
};
use crate::wire;
use serde_json::Value;
use sio_codec::engineio::{
    self,
    client::{self, ClientConfig, Frame, Method},
};
use std::time::Duration;
use tokio::time::Instant;

impl CaseState<'_> {
    /// `ws_open`: the WebSocket upgrade of connection `name` to `target`, with extra headers.
    /// With `expect: {rejected: true}` a refusal passes (an HTTP error, or a 101 closed at
    /// once); otherwise the upgrade must succeed (and match `expect.status`, 101) and the
    /// connection is registered.
    pub(super) async fn ws_open(
        &mut self,
        name: &str,
        target: &StepTarget,
        headers: &[(String, crate::matcher::Template)],
        expect: Option<&ResponseExpect>,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let path_and_query = self.path_and_query(target)?;
        let mut extra = Vec::new();
        for (header, value) in headers {
            extra.push((
                header.clone(),
                value
                    .render(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?,
            ));
        }
        let connect = ws::connect(
            self.client.connector(),
            &path_and_query,
            &extra,
            &self.transcript,
            name,
        );
        let result = tokio::time::timeout_at(deadline, connect)
            .await
            .map_err(|_| {
                StepFailure::new("no answer to the WebSocket upgrade before the deadline")
            })?
            .map_err(|e| StepFailure::new(format!("WebSocket upgrade: {e}")))?;
        let wants_rejection = expect.and_then(|e| e.rejected).unwrap_or(false);
        match result {
            WsConnect::Rejected { status, body, .. } => {
                if wants_rejection {
                    return Ok(());
                }
                Err(StepFailure {
                    expected: Some("101".into()),
                    actual: Some(format!("{status} {}", String::from_utf8_lossy(&body))),
                    ..StepFailure::new("the WebSocket upgrade was refused")
                })
            }
            WsConnect::Open(connection) => {
                let mut conn = Conn::websocket(
                    name,
                    connection,
                    self.instance.heartbeat,
                    protocol_of(&path_and_query),
                    &self.transcript,
                );
                conn.hide_upper_layer = self.instance.layer == Layer::Engineio;
                if wants_rejection {
                    // Accepted only if the server closes right away (101 then close).
                    return match conn.next(deadline).await {
                        Some(Item::Closed { .. }) => Ok(()),
                        Some(item) => Err(StepFailure {
                            expected: Some("an HTTP error or an immediate close".into()),
                            actual: Some(item.describe()),
                            ..StepFailure::new("the WebSocket was accepted")
                        }),
                        None => Err(StepFailure::new(
                            "the WebSocket stayed open until the deadline",
                        )),
                    };
                }
                if let Some(pattern) = expect.and_then(|e| e.status.as_ref()) {
                    let outcome = match_value(pattern, &Value::from(101), &mut self.captures);
                    if !outcome.passed() {
                        return Err(StepFailure::mismatch("upgrade status", &outcome));
                    }
                }
                self.conns.insert(name.to_owned(), conn);
                Ok(())
            }
        }
    }

    /// Opens and registers WebSocket connection `name` on the suite path with `query`.
    async fn open_websocket(
        &mut self,
        name: &str,
        query: &str,
        deadline: Instant,
    ) -> Result<&mut Conn, StepFailure> {
        let path = self.target.path_and_query(query);
        let target = StepTarget::Url(crate::matcher::Template::literal_text(&path));
        self.ws_open(name, &target, &[], None, deadline).await?;
        self.conn(name)
    }

    /// Transport-neutral session open.
    pub(super) async fn open(
        &mut self,
        name: &str,
        query: &str,
        expect: Option<&EioPacketPattern>,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let transport = self.instance.transport.unwrap_or(Transport::Websocket);
        let mut after_open = Vec::new();
        // The polling handshake's content type and body (the upgrade's client session reads it).
        let mut handshake_body = None;
        let handshake = match transport {
            Transport::Websocket => {
                let conn = self
                    .open_websocket(name, &format!("{query}&transport=websocket"), deadline)
                    .await?;
                let item = conn
                    .next(deadline)
                    .await
                    .ok_or_else(|| StepFailure::new("no open packet before the deadline"))?;
                item_packet(&item)?
            }
            Transport::Polling | Transport::Upgrade => {
                let path = self
                    .target
                    .path_and_query(&format!("{query}&transport=polling"));
                let response = tokio::time::timeout_at(
                    deadline,
                    self.client
                        .send(&HttpRequest::get(path.clone()), &self.transcript, name),
                )
                .await
                .map_err(|_| StepFailure::new("no handshake response before the deadline"))?
                .map_err(|e| StepFailure::new(format!("handshake: {e}")))?;
                if response.status != 200 {
                    return Err(StepFailure {
                        expected: Some("200".into()),
                        actual: Some(format!(
                            "{} {}",
                            response.status,
                            String::from_utf8_lossy(&response.body)
                        )),
                        ..StepFailure::new("the handshake was refused")
                    });
                }
                handshake_body = Some((
                    response.content_type().map(str::to_owned),
                    response.body.clone(),
                ));
                let mut packets =
                    payload_packets(&response.body, response.content_type(), protocol_of(&path))
                        .into_iter();
                let first = packets
                    .next()
                    .ok_or_else(|| StepFailure::new("empty handshake body"))?
                    .map_err(|e| StepFailure::new(format!("handshake body: {e}")))?;
                // Engine.IO v3 servers of the socket.io 2.x line glue the Socket.IO CONNECT
                // to the open packet: keep what follows for the connection.
                let at = Instant::now();
                after_open = packets
                    .map(|p| match p {
                        Ok(packet) => Item::Packet {
                            at,
                            packet,
                            raw: None,
                        },
                        Err(error) => Item::Malformed { at, error },
                    })
                    .collect();
                first
            }
        };
        let view = handshake.as_packet();
        if let Some(pattern) = expect {
            let outcome = match_value(
                &pattern.to_pattern(),
                &wire::eio_to_value(&view),
                &mut self.captures,
            );
            if !outcome.passed() {
                return Err(StepFailure::mismatch("handshake", &outcome));
            }
            self.non_strict_notes(outcome)?;
        }
        let engineio::Packet::Open(h) = view else {
            return Err(StepFailure {
                actual: Some(format!("{view:?}")),
                ..StepFailure::new("the first packet is not an open packet")
            });
        };
        for (key, value) in [
            ("sid", Value::from(h.sid())),
            ("ping_interval", Value::from(h.ping_interval())),
            ("ping_timeout", Value::from(h.ping_timeout())),
        ] {
            if !self.captures.contains(key) {
                self.captures.set(key, value);
            }
        }
        let sid = h.sid().to_owned();
        match transport {
            Transport::Websocket => Ok(()),
            Transport::Polling => {
                let path = self
                    .target
                    .path_and_query(&format!("{query}&transport=polling&sid={sid}"));
                let protocol = protocol_of(&path);
                let mut conn = Conn::polling(
                    name,
                    self.client.clone(),
                    path,
                    self.instance.heartbeat,
                    protocol,
                    Duration::from_millis(h.ping_interval()),
                    &self.transcript,
                );
                conn.hide_upper_layer = self.instance.layer == Layer::Engineio;
                conn.preload(after_open);
                self.conns.insert(name.to_owned(), conn);
                Ok(())
            }
            Transport::Upgrade => {
                let query = format!("{query}&transport=websocket&sid={sid}");
                let interval = Duration::from_millis(h.ping_interval());
                let (content_type, body) = handshake_body.unwrap_or_default();
                let revision = protocol_of(&query).engineio();
                let mut session = client::Session::new(ClientConfig::new(revision));
                // The runner sent the handshake GET itself, with the fixture's query: the
                // session takes its answer.
                let _ = session.poll_request();
                let now = Instant::now().into_std();
                session.handle_response(Method::Get, 200, content_type.as_deref(), body, now);
                if session.poll_websocket().is_none() {
                    let offered: Vec<&str> = session.upgrades().collect();
                    return Err(StepFailure {
                        actual: Some(format!("upgrades: {offered:?}")),
                        ..StepFailure::new("the open packet offers no WebSocket upgrade")
                    });
                }
                let conn = self.open_websocket(name, &query, deadline).await?;
                conn.start_client_pings(interval);
                upgrade(conn, session, deadline).await
            }
        }
    }
}

/// The polling → WebSocket upgrade of the `upgrade` transport, as the codec's client session
/// does it: `2probe` on the WebSocket, and once `3probe` is back, `5`. Anything else in
/// answer to the probe fails the step.
async fn upgrade(
    conn: &mut Conn,
    mut session: client::Session,
    deadline: Instant,
) -> Result<(), StepFailure> {
    session.handle_websocket_open(Instant::now().into_std());
    let mut answer = None;
    // Bounded: the session ends the upgrade at the first frame after the probe.
    loop {
        while let Some(frame) = session.poll_frame() {
            let sent = match frame {
                Frame::Text(text) => conn.send_raw_text(text.as_str().to_owned()).await,
                Frame::Binary(data) => conn.send_raw_binary(data.to_vec()).await,
                // The session gives this WebSocket up: the step fails below.
                Frame::Close(_) => Ok(()),
            };
            sent.map_err(StepFailure::new)?;
        }
        while let Some(event) = session.poll_event() {
            match event {
                client::Event::Upgraded => return Ok(()),
                client::Event::UpgradeFailed | client::Event::Closed(_) => {
                    return Err(StepFailure {
                        expected: Some("Pong(\"probe\")".into()),
                        actual: answer,
                        ..StepFailure::new("the upgrade probe was not answered")
                    });
                }
                _ => {}
            }
        }
        let item = conn
            .next(deadline)
            .await
            .ok_or_else(|| StepFailure::new("no answer to the probe before the deadline"))?;
        if let Item::Overflow { .. } = item {
            return Err(overflow(&item, "the answer to the probe"));
        }
        answer = Some(item.describe());
        let frame = match &item {
            Item::Packet {
                raw: Some(text), ..
            } => Frame::Text(text.as_str().into()),
            Item::Packet { packet, .. } => {
                let (_, bytes) = conn.protocol().encode_frame(&packet.as_packet(), false);
                Frame::Binary(bytes)
            }
            // Not a packet: the upgrade is over.
            _ => Frame::Close(None),
        };
        session.handle_frame(frame, Instant::now().into_std());
    }
}

/// The Engine.IO packet of an item, or the step failure of anything else.
fn item_packet(item: &Item) -> Result<engineio::PacketBuf, StepFailure> {
    match item {
        Item::Packet { packet, .. } => Ok(packet.clone()),
        // A flood before the packet: the finding is the flood, with the backlog's limits.
        Item::Overflow { .. } => Err(overflow(item, "an Engine.IO packet")),
        other => Err(StepFailure::new(format!(
            "expected an Engine.IO packet, got {}",
            other.describe()
        ))),
    }
}
