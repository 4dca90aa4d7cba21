//! The reader task of an HTTP long-polling connection.

use super::Item;
use super::decode::{payload, payload_packets, wants_base64};
use crate::fixture::Heartbeat;
use crate::transport::{
    Transcript,
    backlog::BacklogSender,
    http::{HttpClient, HttpRequest},
};
use sio_codec::{
    Encode, EngineIo, Protocol, WireFormat,
    engineio::{self, PacketBuf, client},
};
use std::time::Duration;
use tokio::time::Instant;

/// The long-polling loop of one session: GET until the session ends, queue what arrives.
pub(super) async fn poll_loop(
    client: HttpClient,
    path_and_query: String,
    heartbeat: Heartbeat,
    protocol: Protocol,
    transcript: Transcript,
    name: String,
    tx: BacklogSender<Item>,
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
                    let _ = tx.send_always(
                        Item::Closed {
                            at: Instant::now(),
                            detail: format!("GET failed: {e}"),
                        },
                        0,
                    );
                    return;
                }
                Err(_) => {
                    let _ = tx.send_always(
                        Item::Closed {
                            at: Instant::now(),
                            detail: "GET pending for 120 s".into(),
                        },
                        0,
                    );
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
            let _ = tx.send_always(Item::Closed { at, detail }, 0);
            return;
        }
        // A v3 client that sent `b64=1` has no XHR2: it can read text payloads only, so a
        // binary one is data it cannot use, whatever it carries.
        if protocol.engineio() == EngineIo::V3
            && wants_base64(&path_and_query)
            && response
                .content_type()
                .is_some_and(|c| c.contains("octet-stream"))
        {
            let error = "an XHR2 binary payload to a client that sent b64=1 (it reads text \
                         payloads only)"
                .to_owned();
            let item = Item::Malformed { at, error };
            let weight = item.weight();
            if tx.send(item, weight).is_err() {
                return;
            }
        }
        let mut ended = false;
        let mut pongs = Vec::new();
        // v4 servers ping; the codec's client heartbeat answers (v3 servers only answer the
        // client's pings, which the connection sends).
        let mut beat =
            (heartbeat == Heartbeat::Auto && protocol.engineio() == EngineIo::V4).then(|| {
                let mut beat = client::Heartbeat::new(EngineIo::V4);
                beat.start(Duration::ZERO, None, at.into_std());
                beat
            });
        for record in payload_packets(&response.body, response.content_type(), protocol) {
            let item = match record {
                Ok(packet) => {
                    let view = packet.as_packet();
                    let heard = beat
                        .as_mut()
                        .map(|beat| beat.handle_packet(&view, at.into_std()));
                    if let Some(client::Heard::Answer(pong)) = heard {
                        pongs.push(pong);
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
            let weight = item.weight();
            if tx.send(item, weight).is_err() {
                return;
            }
        }
        let views: Vec<_> = pongs.iter().map(PacketBuf::as_packet).collect();
        // The pongs echo pings decoded from polling records: they never hold a separator.
        if let (false, Ok(body)) = (views.is_empty(), payload(protocol, &views)) {
            let post = HttpRequest::post(path_and_query.clone(), body)
                .with_header("Content-Type", "text/plain;charset=UTF-8");
            let _ = client.send(&post, &transcript, &name).await;
        }
        if ended {
            return;
        }
    }
}
