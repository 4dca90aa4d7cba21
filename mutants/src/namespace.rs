//! Socket.IO namespaces: their sockets, rooms and server ack ids, and the contract's event
//! handlers (docs/contract.md §3.2 and §3.4), each acting within the namespace the event
//! arrived on.

use super::Mutant;
use super::packet::{Args, Outgoing};
use super::session::Session;
use super::settings::Settings;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The namespaces of the contract; any other is refused.
pub(crate) const NAMES: [&str; 3] = ["/", "/custom", "/guarded"];

/// The namespace behind the middleware.
pub(crate) const GUARDED: &str = "/guarded";

/// A socket: one client's connection to one namespace.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) session: Arc<Session>,
    /// The CONNECT payload (v5) or the namespace query (v4).
    pub(crate) auth: Value,
}

/// One namespace.
#[derive(Debug)]
pub(crate) struct Namespace {
    pub(crate) name: &'static str,
    sockets: BTreeMap<String, Member>,
    rooms: BTreeMap<String, BTreeSet<String>>,
    /// The next server ack id (a per-namespace counter from 0, like the reference).
    next_ack: u64,
    /// Server ack ids not answered yet, with the socket they went to.
    pending_acks: BTreeSet<(String, u64)>,
}

/// What the caller must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Nothing,
    /// The socket left the namespace (server-side disconnect).
    LeaveNamespace,
    /// Close the whole Engine.IO session.
    CloseSession,
}

impl Namespace {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            sockets: BTreeMap::new(),
            rooms: BTreeMap::new(),
            next_ack: 0,
            pending_acks: BTreeSet::new(),
        }
    }

    /// Adds a socket.
    pub(crate) fn join(&mut self, id: String, member: Member) {
        self.sockets.insert(id, member);
    }

    /// Removes a socket with its rooms and pending acks.
    pub(crate) fn remove(&mut self, id: &str) {
        self.sockets.remove(id);
        for members in self.rooms.values_mut() {
            members.remove(id);
        }
        self.rooms.retain(|_, members| !members.is_empty());
        self.pending_acks.retain(|(socket, _)| socket != id);
    }

    /// Sends `packet` to the sockets `ids` of this namespace (unknown ids are skipped).
    fn send<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a String>,
        packet: &Outgoing,
        settings: &Settings,
    ) {
        let frames = packet.frames(settings);
        for id in ids {
            if let Some(member) = self.sockets.get(id) {
                member.session.send(frames.iter().cloned());
            }
        }
    }

    /// Delivers a room emit, `emit-all` or broadcast (twice with the mutant).
    fn deliver<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a String> + Clone,
        packet: &Outgoing,
        settings: &Settings,
    ) {
        self.send(ids.clone(), packet, settings);
        if settings.has(Mutant::RoomEmitsTwice) {
            self.send(ids, packet, settings);
        }
    }

    /// Emits event `name` to one socket.
    fn emit(&self, id: &str, name: &str, args: &Args, settings: &Settings) {
        let packet = Outgoing::event(self.name, name, args, None);
        self.send([&id.to_owned()], &packet, settings);
    }

    /// Every socket id.
    fn everyone(&self) -> Vec<String> {
        self.sockets.keys().cloned().collect()
    }

    /// The socket ids in `room`.
    fn members(&self, room: &str) -> Vec<String> {
        self.rooms
            .get(room)
            .map(|members| members.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Runs the contract's handler for event `event` sent by socket `id` of namespace `index`.
pub(crate) fn handle_event(
    namespaces: &mut [Namespace],
    index: usize,
    id: &str,
    event: &str,
    args: Args,
    ack: Option<u64>,
    settings: &Settings,
) -> After {
    let ns = &mut namespaces[index];
    let name = ns.name;
    let room = args.first_str().map(str::to_owned);
    match (event, room) {
        ("message", _) => {
            ns.emit(id, "message-back", &args, settings);
            if settings.has(Mutant::EchoTwice) {
                ns.emit(id, "message-back", &args, settings);
            }
        }
        ("message-with-ack", _) => {
            if let Some(ack) = ack {
                let ack = if settings.has(Mutant::WrongAckId) {
                    ack + 1
                } else {
                    ack
                };
                let args = if settings.has(Mutant::AckWithEventName) {
                    args.prepend(Value::from(event))
                } else {
                    args
                };
                let nsp = if settings.has(Mutant::AcksRoutedToMain) {
                    "/"
                } else {
                    name
                };
                ns.send([&id.to_owned()], &Outgoing::ack(nsp, ack, &args), settings);
            }
        }
        ("request-ack", _) => {
            let ack = ns.next_ack;
            ns.next_ack += 1;
            ns.pending_acks.insert((id.to_owned(), ack));
            let packet = Outgoing::event(name, "request-ack", &args, Some(ack));
            ns.send([&id.to_owned()], &packet, settings);
        }
        ("disconnect-me", _) => {
            ns.send([&id.to_owned()], &Outgoing::disconnect(name), settings);
            return if settings.has(Mutant::ServerDisconnectClosesSession) {
                After::CloseSession
            } else {
                After::LeaveNamespace
            };
        }
        ("join", Some(room)) => {
            ns.rooms
                .entry(room.clone())
                .or_default()
                .insert(id.to_owned());
            ns.emit(id, "joined", &Args::new(vec![Value::from(room)]), settings);
        }
        ("leave", Some(room)) => {
            if settings.has(Mutant::LeaveDropsAllRooms) {
                for members in ns.rooms.values_mut() {
                    members.remove(id);
                }
            } else if !settings.has(Mutant::LeaveIgnored)
                && let Some(members) = ns.rooms.get_mut(&room)
            {
                members.remove(id);
            }
            ns.emit(id, "left", &Args::new(vec![Value::from(room)]), settings);
        }
        ("emit-to-room", Some(room)) => {
            let mut members = if settings.has(Mutant::RoomEmitToAll) {
                ns.everyone()
            } else {
                ns.members(&room)
            };
            if settings.has(Mutant::RoomEmitSkipsSender) {
                members.retain(|member| member != id);
            }
            let packet = Outgoing::event(name, "room-message", &args, None);
            ns.deliver(&members, &packet, settings);
            if settings.has(Mutant::RoomsShareNamespaces) {
                for other in namespaces.iter().filter(|other| other.name != name) {
                    let packet = Outgoing::event(other.name, "room-message", &args, None);
                    other.send(&other.members(&room), &packet, settings);
                }
            }
        }
        ("emit-all", _) => {
            let packet = Outgoing::event(name, "all-message", &args, None);
            if settings.has(Mutant::EmitAllCrossesNamespaces) {
                for ns in namespaces.iter() {
                    ns.deliver(&ns.everyone(), &packet, settings);
                }
            } else {
                ns.deliver(&ns.everyone(), &packet, settings);
            }
        }
        ("broadcast", _) => {
            let mut others = ns.everyone();
            if !settings.has(Mutant::BroadcastIncludesSender) {
                others.retain(|other| other != id);
            }
            let packet = Outgoing::event(name, "broadcast-message", &args, None);
            ns.deliver(&others, &packet, settings);
        }
        ("emit-to", Some(target)) => {
            let packet = Outgoing::event(name, "direct-message", &args.rest(), None);
            ns.send([&target], &packet, settings);
        }
        ("whoami", _) => ns.emit(
            id,
            "whoami-back",
            &Args::new(vec![Value::from(id)]),
            settings,
        ),
        ("handshake", _) => {
            if let Some(member) = ns.sockets.get(id) {
                let mut query = member.session.query.to_json();
                if settings.has(Mutant::HandshakeQueryIncomplete)
                    && let Value::Object(map) = &mut query
                {
                    map.retain(|key, _| key == "EIO" || key == "transport");
                }
                let data = json!({"query": query, "auth": member.auth});
                ns.emit(id, "handshake-back", &Args::new(vec![data]), settings);
            }
        }
        ("send-me", _) => ns.emit(id, "message", &args, settings),
        // Anything else (and a room that is not a string) is ignored, like the reference.
        _ => {}
    }
    After::Nothing
}

/// The client acknowledged server ack `ack` of namespace `index`: `ack-back` with the ack's
/// arguments, once per id; unknown or repeated ids are ignored.
pub(crate) fn handle_ack(
    ns: &mut Namespace,
    id: &str,
    ack: Option<u64>,
    args: &Args,
    settings: &Settings,
) {
    let Some(ack) = ack else { return };
    if ns.pending_acks.remove(&(id.to_owned(), ack)) && !settings.has(Mutant::ServerAckIgnored) {
        ns.emit(id, "ack-back", args, settings);
    }
}
