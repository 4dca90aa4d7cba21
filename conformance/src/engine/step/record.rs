//! `record` steps (`conformance record`): the next arrival kept as the expectation that
//! matches it.

use super::expect::{overflow, reassemble, socketio_reassembler};
use crate::engine::{CaseState, Item, StepFailure};
use crate::fixture::Step;
use crate::wire;
use serde_json::Value;
use sio_codec::engineio;
use tokio::time::Instant;

impl CaseState<'_> {
    /// `record`: takes the next item of `name` and keeps, for the recorder, the expectation
    /// that matches it: `closed`, a Socket.IO packet for a message that decodes as one
    /// (attachments reassembled), else the Engine.IO packet. Never fails on what arrives,
    /// only when nothing does.
    pub(super) async fn record(
        &mut self,
        step: &Step,
        name: &str,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let mut reassembler = socketio_reassembler(self.conn(name)?.protocol());
        loop {
            let Some(item) = self.next_item(name, deadline).await? else {
                return Err(StepFailure::new("nothing arrived to record"));
            };
            let (key, value) = match &item {
                Item::Closed { .. } => ("closed", Value::Bool(true)),
                Item::Overflow { .. } => return Err(overflow(&item, "something to record")),
                Item::Malformed { error, .. } => {
                    return Err(StepFailure::new(format!(
                        "the server sent malformed data: {error}"
                    )));
                }
                Item::Packet { packet, .. } => match packet.as_packet() {
                    engineio::Packet::Message(message) => {
                        match reassemble(&mut reassembler, message.clone()) {
                            Ok(None) => continue,
                            Ok(Some(value)) => ("sio", value),
                            // Not Socket.IO (a raw Engine.IO endpoint): the Engine.IO packet.
                            Err(_) => ("eio", wire::eio_to_value(&packet.as_packet())),
                        }
                    }
                    other => ("eio", wire::eio_to_value(&other)),
                },
            };
            let mut expectation = serde_json::Map::new();
            expectation.insert("conn".into(), Value::String(name.to_owned()));
            expectation.insert(key.into(), value);
            self.recorded.push((step.line, Value::Object(expectation)));
            return Ok(());
        }
    }
}
