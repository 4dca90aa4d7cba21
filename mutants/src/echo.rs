//! `/engine.io/`: the raw Engine.IO echo of the contract (§2.1): every message goes back
//! unchanged, text as text, binary as binary.

use super::session::{App, Incoming, Session};
use sio_codec::engineio::{self, PacketBuf};
use std::sync::Arc;

/// The echo application.
#[derive(Debug, Default)]
pub(crate) struct Echo;

impl App for Echo {
    fn on_open(&self, _session: &Arc<Session>) {}

    fn on_message(&self, session: &Arc<Session>, message: Incoming) {
        let packet = match message {
            Incoming::Text(text) => PacketBuf::from(&engineio::Packet::text(&text)),
            Incoming::Binary(bytes) => PacketBuf::from_binary_frame(bytes),
        };
        session.send([packet]);
    }

    fn on_close(&self, _session: &Session) {}
}
