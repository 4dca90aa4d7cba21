//! The application: the handlers of the behaviour contract (docs/contract.md §3) on the
//! Socket.IO connection of one client. Everything protocol is the session's; what is left
//! here is what any application writes: which namespaces exist, who is let in, what an event
//! does, and who is in which room.

use sio_codec::socketio::Data;
use sio_codec::socketio::server::{Auth, Connection, Event};
use std::collections::{HashMap, HashSet};

/// The token `/guarded` wants in the CONNECT payload (v4: in the namespace query).
const GUARDED_TOKEN: &str = "let-me-in";

/// One client's socket in one namespace.
#[derive(Debug)]
pub(crate) struct Socket {
    /// The socket id (the `sid` of the v5 CONNECT reply).
    pub(crate) id: String,
    auth: Data,
    rooms: HashSet<String>,
}

impl Socket {
    /// Whether an emit to `room` reaches this socket: every socket is in the room named by
    /// its id, as in the reference.
    pub(crate) fn in_room(&self, room: &str) -> bool {
        self.id == room || self.rooms.contains(room)
    }
}

/// Who an emit that goes beyond the sender reaches, within one namespace.
#[derive(Debug)]
pub(crate) enum Audience {
    /// Every socket of the namespace.
    All,
    /// Every socket but this one.
    AllBut(String),
    /// The sockets in this room.
    Room(String),
}

/// An emit to other clients, done once the sender's state is released.
#[derive(Debug)]
pub(crate) struct Delivery {
    /// The namespace.
    pub(crate) namespace: String,
    /// Who gets it.
    pub(crate) audience: Audience,
    /// The event name and arguments.
    pub(crate) args: Vec<Data>,
}

impl Delivery {
    /// Whether `socket` gets it.
    pub(crate) fn reaches(&self, socket: &Socket) -> bool {
        match &self.audience {
            Audience::All => true,
            Audience::AllBut(id) => socket.id != *id,
            Audience::Room(room) => socket.in_room(room),
        }
    }
}

/// The application state of one client: its sockets per namespace and what the handshake
/// showed (for `handshake-back`).
#[derive(Debug)]
pub(crate) struct App {
    /// Joined namespaces.
    pub(crate) sockets: HashMap<String, Socket>,
    query: Data,
}

impl App {
    /// A client whose handshake request had this query string.
    pub(crate) fn new(query: &str) -> Self {
        Self {
            sockets: HashMap::new(),
            query: query_object(query),
        }
    }

    /// Handles one event of the connection; emits to others are returned.
    pub(crate) fn handle(
        &mut self,
        sio: &mut Connection,
        event: Event,
        new_id: impl FnOnce() -> String,
    ) -> Option<Delivery> {
        match event {
            Event::ConnectRequest { namespace, auth } => {
                let auth = match auth {
                    Auth::Json(json) => serde_json::from_str(&json).unwrap_or(Data::Null),
                    Auth::Query(query) => query_object(&query),
                    Auth::None => Data::Object(Vec::new()),
                };
                let token = auth.get("token").and_then(Data::as_str);
                let refusal = match namespace.as_str() {
                    "/" | "/custom" => None,
                    "/guarded" if token == Some(GUARDED_TOKEN) => None,
                    "/guarded" => Some("invalid credential"),
                    _ => Some("Invalid namespace"),
                };
                if let Some(message) = refusal {
                    sio.reject(&namespace, message).ok();
                    return None;
                }
                let id = new_id();
                sio.accept(&namespace, &id).ok()?;
                emit(sio, &namespace, "auth", std::slice::from_ref(&auth));
                let rooms = HashSet::new();
                self.sockets.insert(namespace, Socket { id, auth, rooms });
                None
            }
            Event::Message {
                namespace,
                packet,
                ack,
            } => {
                let args = Data::arguments(&packet).ok()?;
                let (name, rest) = args.split_first()?;
                self.on_event(sio, namespace, name.as_str()?, rest, ack)
            }
            Event::Ack {
                namespace, packet, ..
            } => {
                let args = Data::arguments(&packet).ok()?;
                emit(sio, &namespace, "ack-back", &args);
                None
            }
            Event::Disconnected { namespace } => {
                self.sockets.remove(&namespace);
                None
            }
            // The caller closes the Engine.IO session.
            Event::Close(_) => None,
        }
    }

    /// A client event `name` with `args` in `namespace`.
    fn on_event(
        &mut self,
        sio: &mut Connection,
        namespace: String,
        name: &str,
        args: &[Data],
        ack: Option<sio_codec::socketio::AckId>,
    ) -> Option<Delivery> {
        let ns = namespace.as_str();
        let socket = self.sockets.get_mut(ns)?;
        let first = args.first().and_then(Data::as_str).map(str::to_owned);
        let delivery = |audience, event: &str, args: &[Data]| {
            Some(Delivery {
                namespace: namespace.clone(),
                audience,
                args: named(event, args),
            })
        };
        match name {
            "message" => emit(sio, ns, "message-back", args),
            "message-with-ack" => {
                if let Some(id) = ack {
                    sio.ack(ns, id, args).ok();
                }
            }
            "request-ack" => {
                sio.emit(ns, &named("request-ack", args), true).ok();
            }
            "disconnect-me" => {
                sio.disconnect(ns).ok();
                self.sockets.remove(ns);
            }
            "join" => {
                socket.rooms.insert(first.clone()?);
                emit(sio, ns, "joined", &args[..1]);
            }
            "leave" => {
                socket.rooms.remove(&first.clone()?);
                emit(sio, ns, "left", &args[..1]);
            }
            "emit-to-room" => return delivery(Audience::Room(first?), "room-message", args),
            "emit-all" => return delivery(Audience::All, "all-message", args),
            "broadcast" => {
                let sender = Audience::AllBut(socket.id.clone());
                return delivery(sender, "broadcast-message", args);
            }
            "emit-to" => return delivery(Audience::Room(first?), "direct-message", &args[1..]),
            "whoami" => emit(sio, ns, "whoami-back", &[Data::String(socket.id.clone())]),
            "handshake" => {
                let data = Data::Object(vec![
                    ("query".into(), self.query.clone()),
                    ("auth".into(), socket.auth.clone()),
                ]);
                emit(sio, ns, "handshake-back", &[data]);
            }
            "send-me" => emit(sio, ns, "message", args),
            _ => {}
        }
        None
    }
}

/// `[name, args...]`.
pub(crate) fn named(name: &str, args: &[Data]) -> Vec<Data> {
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(Data::String(name.into()));
    all.extend_from_slice(args);
    all
}

/// Emits `name` with `args` to this client (in a joined namespace; otherwise nothing).
pub(crate) fn emit(sio: &mut Connection, namespace: &str, name: &str, args: &[Data]) {
    sio.emit(namespace, &named(name, args), false).ok();
}

/// A query string as an object, name → percent-decoded value (`+` is a space; the last of
/// repeated names wins), as the reference shows `handshake.query`.
fn query_object(query: &str) -> Data {
    let mut entries: Vec<(String, Data)> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (percent_decode(name), Data::String(percent_decode(value)));
        match entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => entries.push((name, value)),
        }
    }
    Data::Object(entries)
}

fn percent_decode(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
        match (byte, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                bytes.push(decoded);
                rest = &tail[2..];
                continue;
            }
            (b'+', _) => bytes.push(b' '),
            _ => bytes.push(byte),
        }
        rest = tail;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
