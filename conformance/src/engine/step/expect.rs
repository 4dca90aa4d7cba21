//! `expect` steps: the next arrival on a connection matched against the expectation (an
//! Engine.IO or Socket.IO packet, a raw frame, the close), with Socket.IO packets reassembled
//! from their attachments first; and what every waiting step shares: the finding of a flood,
//! the notes of a NON-STRICT match.

use crate::engine::{CaseState, Finding, Item, StepFailure, Verdict, actual};
use crate::fixture::{Inbound, Step};
use crate::matcher::{MatchOutcome, binary_value, match_value};
use crate::wire;
use bytes::Bytes;
use serde_json::Value;
use sio_codec::{
    DecodeConfig, Protocol, Utf8Bytes,
    engineio::{self, Message},
    socketio::{Progress, Reassembler},
};
use tokio::time::Instant;

impl CaseState<'_> {
    /// `expect`: waits before `deadline` for the next item on connection `name` and matches
    /// it against `expected`. Items a close expectation must skip (the noop that releases a
    /// polling GET) are skipped; a Socket.IO expectation feeds messages to a reassembler until
    /// a packet is whole; a close, a flood or malformed data fail with what arrived. The
    /// arrival time is checked against the step's `timing`.
    pub(super) async fn expect(
        &mut self,
        step: &Step,
        name: &str,
        expected: &Inbound,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let within = deadline.saturating_duration_since(Instant::now());
        let protocol = self.conn(name)?.protocol();
        let mut reassembler = socketio_reassembler(protocol);
        loop {
            let conn_is_ws = self.conn(name)?.is_websocket();
            let Some(item) = self.next_item(name, deadline).await? else {
                let what = match expected {
                    Inbound::Closed => "the connection was still open",
                    _ => "nothing arrived",
                };
                return Err(StepFailure {
                    expected: Some(describe_inbound(expected)),
                    actual: Some(format!("{what} after {within:?}")),
                    ..StepFailure::new(what)
                });
            };
            let arrival = item.at();
            let actual = match (expected, &item) {
                (Inbound::Closed, Item::Closed { .. }) => {
                    return self.check_timing(step, arrival);
                }
                // A server closes a polling session (and may close a WebSocket) by sending
                // the Engine.IO `close` packet: that is the close.
                (Inbound::Closed, Item::Packet { packet, .. })
                    if packet.packet_type() == engineio::PacketType::Close =>
                {
                    return self.check_timing(step, arrival);
                }
                // On polling the close comes as `6\x1e1`: the noop only releases the pending
                // GET and says nothing.
                (Inbound::Closed, Item::Packet { packet, .. })
                    if packet.packet_type() == engineio::PacketType::Noop && !conn_is_ws =>
                {
                    continue;
                }
                (_, Item::Overflow { .. }) => {
                    return Err(overflow(&item, &describe_inbound(expected)));
                }
                (_, Item::Closed { detail, .. }) => {
                    return Err(StepFailure {
                        expected: Some(describe_inbound(expected)),
                        actual: Some(format!("connection closed ({detail})")),
                        ..StepFailure::new("the connection closed")
                    });
                }
                (_, Item::Malformed { error, .. }) => {
                    return Err(StepFailure::new(format!(
                        "the server sent malformed data: {error}"
                    )));
                }
                (Inbound::Closed, _) => {
                    return Err(StepFailure {
                        expected: Some("the connection to close".into()),
                        actual: Some(item.describe()),
                        ..StepFailure::new("data arrived instead of a close")
                    });
                }
                (Inbound::Eio(_), Item::Packet { packet, .. }) => {
                    wire::eio_to_value(&packet.as_packet())
                }
                (Inbound::Text(_), Item::Packet { raw, packet, .. }) => match raw {
                    Some(raw) => Value::String(raw.clone()),
                    None => wire::eio_to_value(&packet.as_packet()),
                },
                // A raw binary expectation wants a binary frame: a `b<base64>` text frame
                // carries the same bytes but is not what was asked for. The frame is compared
                // whole: in Engine.IO v3 that includes the `0x04` type byte in front of the
                // message (the decoder accepted the frame, so that is what was on the wire).
                (Inbound::Binary(_), Item::Packet { packet, raw, .. }) => {
                    match (raw, packet.as_packet()) {
                        (None, engineio::Packet::Message(Message::Binary(b))) => {
                            // The frame as the protocol encodes it: the decoder took it whole.
                            let (_, frame) = protocol.encode_frame(
                                &engineio::Packet::Message(Message::Binary(b)),
                                false,
                            );
                            binary_value(&frame)
                        }
                        (Some(text), _) => Value::String(text.clone()),
                        (None, other) => wire::eio_to_value(&other),
                    }
                }
                (Inbound::Sio(_), Item::Packet { packet, .. }) => {
                    let engineio::Packet::Message(message) = packet.as_packet() else {
                        return Err(StepFailure {
                            expected: Some(describe_inbound(expected)),
                            actual: Some(format!("Engine.IO {:?}", packet.as_packet())),
                            ..StepFailure::new("expected a Socket.IO packet")
                        });
                    };
                    match reassemble(&mut reassembler, message) {
                        Ok(None) => continue,
                        Ok(Some(value)) => value,
                        Err(e) => return Err(StepFailure::new(e)),
                    }
                }
            };
            let pattern = match expected {
                Inbound::Eio(p) => p.to_pattern(),
                Inbound::Sio(p) => p.to_pattern(),
                Inbound::Text(p) | Inbound::Binary(p) => p.clone(),
                // Every arm above that could meet a close expectation has returned.
                Inbound::Closed => {
                    return Err(StepFailure::harness("close expectation fell through"));
                }
            };
            let outcome = match_value(&pattern, &actual, &mut self.captures);
            if !outcome.passed() {
                return Err(StepFailure::mismatch("unexpected packet", &outcome));
            }
            self.check_timing(step, arrival)?;
            return self.non_strict_notes(outcome);
        }
    }

    /// Records the notes of a NON-STRICT match as a finding of the current step; the step
    /// itself goes on.
    pub(super) fn non_strict_notes(&mut self, outcome: MatchOutcome) -> Result<(), StepFailure> {
        if let MatchOutcome::NonStrict(notes) = outcome {
            let text: Vec<String> = notes.iter().map(ToString::to_string).collect();
            self.findings.push(Finding {
                verdict: Verdict::NonStrict,
                line: self.current_line,
                message: text.join("; "),
                expected: None,
                actual: None,
                timing: false,
                blocked_by: None,
            });
        }
        Ok(())
    }
}

/// The finding of a step that meets a flood ([`Item::Overflow`]): a FAIL whatever the case's
/// level, a server must not send without end.
pub(super) fn overflow(item: &Item, waiting_for: &str) -> StepFailure {
    let Item::Overflow { frames, bytes, .. } = item else {
        return StepFailure::harness("not an overflow");
    };
    StepFailure {
        expected: Some(waiting_for.to_owned()),
        actual: Some(item.describe()),
        grade: Some(crate::fixture::Grade::Fail),
        ..StepFailure::new(format!(
            "{frames} frames, {} arrived while waiting for {waiting_for}",
            crate::transport::transcript::human_bytes(*bytes)
        ))
    }
}

/// The Socket.IO reassembler of `expect: {sio: …}` and `record` on a connection that speaks
/// `protocol`: the payload rules of its Socket.IO revision (a v4 server's ERROR may carry
/// `null` or an array, its events any name), no attachment limit (a server may send as many
/// as it likes; the expectation judges them).
pub(super) fn socketio_reassembler(protocol: Protocol) -> Reassembler {
    protocol
        .with_config(DecodeConfig::new().max_attachments(u32::MAX))
        .reassembler()
}

/// Feeds one Engine.IO message to a Socket.IO reassembler: `None` while attachments are
/// missing, then the packet as the actual value `expect: {sio: …}` matches.
pub(super) fn reassemble(
    reassembler: &mut Reassembler,
    message: Message<'_>,
) -> Result<Option<Value>, String> {
    let progress = match message {
        Message::Text(t) => reassembler.push_text(&Utf8Bytes::from(t)),
        Message::Binary(b) => reassembler.push_binary(Bytes::from(b.into_owned())),
    };
    match progress {
        Ok(Progress::NeedAttachments { .. }) => Ok(None),
        Ok(Progress::Complete(a)) => actual::sio_value(&a.packet().as_packet(), a.attachments())
            .map(Some)
            .map_err(|e| format!("unrepresentable payload: {e}")),
        Err(e) => Err(format!("the server sent a malformed Socket.IO packet: {e}")),
    }
}

/// What an expectation waits for, as findings say it.
fn describe_inbound(expected: &Inbound) -> String {
    match expected {
        Inbound::Eio(p) => p.to_pattern().to_string(),
        Inbound::Sio(p) => p.to_pattern().to_string(),
        Inbound::Text(p) | Inbound::Binary(p) => p.to_string(),
        Inbound::Closed => "the connection to close".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::conn::protocol_of;

    #[test]
    fn socketio_packets_reassemble_by_the_connection_revision() {
        let v3 = || socketio_reassembler(protocol_of("/socket.io/?EIO=3&transport=websocket"));
        let v4 = || socketio_reassembler(protocol_of("/socket.io/?EIO=4&transport=websocket"));
        // Socket.IO v4 (over Engine.IO 3): an ERROR may carry null or an array, an event any
        // name; Socket.IO v5 refuses all three.
        for text in ["4null", r#"4["denied"]"#, r#"2["connect"]"#] {
            let text = Utf8Bytes::from(text);
            assert!(v3().push_text(&text).is_ok(), "{text}");
            assert!(v4().push_text(&text).is_err(), "{text}");
        }
        // No attachment limit on either.
        let placeholders: Vec<String> = (0..20)
            .map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#))
            .collect();
        let header = format!(r#"520-["a",{}]"#, placeholders.join(","));
        let header = Utf8Bytes::from(header.as_str());
        for mut reassembler in [v3(), v4()] {
            let progress = reassembler.push_text(&header).unwrap();
            assert!(
                matches!(progress, Progress::NeedAttachments { remaining: 20 }),
                "{progress:?}"
            );
        }
    }
}
