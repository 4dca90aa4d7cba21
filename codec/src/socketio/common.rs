//! What the server and the client [`Connection`](super::server::Connection)s share: ack ids
//! handed out per namespace, and typed events and acks with their attachments.

use super::server::Refused;
use super::{AckId, Assembled, Namespace};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};

/// Per namespace: the next ack id, and the ids handed out and not answered yet.
#[derive(Debug, Default)]
pub(crate) struct AckIds(BTreeMap<String, (u64, BTreeSet<u64>)>);

impl AckIds {
    /// A new id for an emit in `namespace` (`None` past [`AckId::MAX`]).
    pub(crate) fn hand_out(&mut self, namespace: &str) -> Option<AckId> {
        let (next, pending) = self.0.entry(namespace.to_string()).or_default();
        let id = AckId::new(*next)?;
        *next += 1;
        pending.insert(id.get());
        Some(id)
    }

    /// Whether `id` was handed out in `namespace` and not answered yet; it is answered now.
    pub(crate) fn answer(&mut self, namespace: &str, id: AckId) -> bool {
        self.0
            .get_mut(namespace)
            .is_some_and(|(_, pending)| pending.remove(&id.get()))
    }

    /// The namespace was left: its ids are forgotten.
    pub(crate) fn forget(&mut self, namespace: &str) {
        self.0.remove(namespace);
    }
}

/// An EVENT (`ack`: false) or ACK packet of `args` in `namespace`, with its attachments.
pub(crate) fn typed<T: serde::Serialize + ?Sized>(
    namespace: &str,
    args: &T,
    id: Option<AckId>,
    ack: bool,
) -> Result<Assembled, Refused> {
    let invalid = |e: &dyn core::fmt::Display| Refused::InvalidValue(e.to_string());
    let ns = Namespace::new(namespace).map_err(|e| invalid(&e))?;
    match (ack, id) {
        (true, Some(id)) => Assembled::ack(ns, args, id),
        _ => Assembled::event(ns, args, id),
    }
    .map_err(|e| invalid(&e))
}
