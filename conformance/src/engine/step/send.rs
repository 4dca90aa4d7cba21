//! `send` steps: the Engine.IO packet or Socket.IO packet of the fixture, its templates
//! rendered, encoded for the connection (a Socket.IO packet with binary data becomes several
//! frames: the header and its attachments).

use crate::engine::{CaseState, StepFailure};
use crate::fixture::{EioData, EioPacket, Outbound, SioPacket};
use crate::matcher::interpolate_value;
use crate::wire;
use serde_json::Value;
use sio_codec::{engineio, socketio::OutFrame};

impl CaseState<'_> {
    /// Sends the payload of a `send` step on connection `name`: an Engine.IO packet, a
    /// Socket.IO packet (as its frames), or raw text or bytes as one frame or body.
    pub(super) async fn send(&mut self, name: &str, payload: &Outbound) -> Result<(), StepFailure> {
        match payload {
            Outbound::Eio(packet) => {
                let texts = self.eio_texts(std::slice::from_ref(packet))?;
                let view = eio_packet(packet, &texts[0]);
                self.conn(name)?
                    .send_packets(&[view])
                    .await
                    .map_err(StepFailure::new)
            }
            Outbound::Sio(packet) => {
                let frames = self.sio_frames(packet)?;
                let views: Vec<_> = frames
                    .iter()
                    .map(|f| match f {
                        OutFrame::Text(t) => engineio::Packet::text(t),
                        OutFrame::Binary(b) => engineio::Packet::binary(b),
                    })
                    .collect();
                self.conn(name)?
                    .send_packets(&views)
                    .await
                    .map_err(StepFailure::new)
            }
            Outbound::Text(t) => {
                let text = t
                    .render(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?;
                self.conn(name)?
                    .send_raw_text(text)
                    .await
                    .map_err(StepFailure::new)
            }
            Outbound::Binary(b) => self
                .conn(name)?
                .send_raw_binary(b.clone())
                .await
                .map_err(StepFailure::new),
        }
    }

    /// The frames of a fixture's Socket.IO packet: its `id` and `data` interpolated (a
    /// whole-string `"${ack_id}"` keeps the captured number), encoded by the codec; binary
    /// leaves become attachments, each a frame after the header.
    fn sio_frames(&self, packet: &SioPacket) -> Result<Vec<OutFrame>, StepFailure> {
        let mut object = serde_json::Map::new();
        object.insert("type".into(), Value::from(packet.kind as u8));
        object.insert("nsp".into(), Value::from(packet.nsp.clone()));
        if let Some(id) = &packet.id {
            let id = interpolate_value(id, &self.captures)
                .map_err(|e| StepFailure::harness(e.to_string()))?;
            object.insert("id".into(), id);
        }
        if let Some(data) = &packet.data {
            let data = interpolate_value(data, &self.captures)
                .map_err(|e| StepFailure::harness(e.to_string()))?;
            object.insert("data".into(), data);
        }
        let assembled =
            wire::sio_from_value(&Value::Object(object)).map_err(StepFailure::harness)?;
        Ok(assembled.frames().collect())
    }

    /// The text data of each packet with its template rendered (`None` for binary or no
    /// data), kept beside the packets for [`eio_packet`], which borrows from them.
    pub(super) fn eio_texts(
        &self,
        packets: &[EioPacket],
    ) -> Result<Vec<Option<String>>, StepFailure> {
        packets
            .iter()
            .map(|p| match &p.data {
                Some(EioData::Text(t)) => t
                    .render(&self.captures)
                    .map(Some)
                    .map_err(|e| StepFailure::harness(e.to_string())),
                _ => Ok(None),
            })
            .collect()
    }
}

/// A fixture packet as a codec packet; `text` is its rendered text data.
pub(super) fn eio_packet<'a>(
    packet: &'a EioPacket,
    text: &'a Option<String>,
) -> engineio::Packet<'a> {
    let text_data = text.as_deref();
    match packet.kind {
        crate::fixture::EioType::Open => {
            engineio::Packet::Open(engineio::Handshake::new("", &[], 0, 0, None))
        }
        crate::fixture::EioType::Close => engineio::Packet::Close,
        crate::fixture::EioType::Ping => engineio::Packet::Ping(text_data),
        crate::fixture::EioType::Pong => engineio::Packet::Pong(text_data),
        crate::fixture::EioType::Message => match &packet.data {
            Some(EioData::Binary(b)) => engineio::Packet::binary(b),
            _ => engineio::Packet::text(text_data.unwrap_or_default()),
        },
        crate::fixture::EioType::Upgrade => engineio::Packet::Upgrade,
        crate::fixture::EioType::Noop => engineio::Packet::Noop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::EioType;

    #[test]
    fn fixture_packets_become_codec_packets() {
        let packet = |kind, data| EioPacket { kind, data };
        let probe = Some("probe".to_owned());
        assert_eq!(
            eio_packet(&packet(EioType::Ping, None), &probe),
            engineio::Packet::Ping(Some("probe"))
        );
        assert_eq!(
            eio_packet(&packet(EioType::Pong, None), &None),
            engineio::Packet::Pong(None)
        );
        let hello = Some("hello".to_owned());
        assert_eq!(
            eio_packet(&packet(EioType::Message, None), &hello),
            engineio::Packet::text("hello")
        );
        let bytes = packet(EioType::Message, Some(EioData::Binary(vec![1, 2])));
        assert_eq!(eio_packet(&bytes, &None), engineio::Packet::binary(&[1, 2]));
        assert_eq!(
            eio_packet(&packet(EioType::Upgrade, None), &None),
            engineio::Packet::Upgrade
        );
    }
}
