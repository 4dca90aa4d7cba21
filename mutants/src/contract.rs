//! The application of `/socket.io/`: the handlers of the behaviour contract
//! (docs/contract.md §3) on the Socket.IO connection of one client, with the mutants that
//! are application bugs (who is let in, what an event does, who is in which room, who an
//! emit reaches). The protocol (namespaces, acks, binary) is the connection's.

use crate::{Mutant, Settings};
use serde_json::Value;
use sio_codec::socketio::server::{Auth, Connection, Event};
use sio_codec::socketio::{AckId, Assembled, Data, Namespace, OutFrame};
use std::collections::{HashMap, HashSet};

/// The namespaces of the contract; any other is refused.
const NAMES: [&str; 3] = ["/", "/custom", "/guarded"];

/// The namespace behind the middleware, and the token it wants (v4: in the query).
const GUARDED: &str = "/guarded";
const GUARDED_TOKEN: &str = "let-me-in";

/// One client's socket in one namespace.
#[derive(Debug)]
pub(crate) struct Socket {
    /// The socket id (the one the CONNECT reply announces, except for `socket-ids-recycled`).
    id: String,
    auth: Data,
    rooms: HashSet<String>,
    /// The client left the namespace with DISCONNECT, and a mutant keeps the socket:
    /// `rooms-after-disconnect` (it still gets emits) or `events-after-disconnect` (its
    /// events are still handled).
    left: bool,
}

impl Socket {
    /// Whether an emit to `room` reaches this socket: every socket is in the room named by
    /// its id, as in the reference.
    fn in_room(&self, room: &str) -> bool {
        self.id == room || self.rooms.contains(room)
    }
}

/// Who an emit that goes beyond the sender reaches, within a namespace.
#[derive(Debug, Clone)]
enum Audience {
    All,
    AllBut(String),
    Room(String),
    RoomBut(String, String),
}

/// An emit to other clients, done once the sender's state is released.
#[derive(Debug)]
pub(crate) struct Delivery {
    /// The namespace (none: every namespace, each socket in its own).
    namespace: Option<String>,
    audience: Audience,
    /// The event name and arguments.
    args: Vec<Data>,
    /// How many times each recipient gets it.
    times: usize,
}

/// What the endpoint must do after an event.
#[derive(Debug)]
pub(crate) enum Effect {
    Deliver(Delivery),
    /// Close the client's whole Engine.IO session.
    CloseSession,
}

/// The application state of one client.
#[derive(Debug)]
pub(crate) struct App {
    settings: std::sync::Arc<Settings>,
    /// The Engine.IO session id.
    sid: String,
    /// Joined namespaces (and those a mutant keeps after DISCONNECT).
    sockets: HashMap<String, Socket>,
    /// The handshake's query, for `handshake-back`.
    query: Data,
    /// CONNECT replies so far (the ids of `socket-ids-recycled`).
    connections: u64,
    /// `v4-no-auto-connect`: the v4 connection's own request for `/` was left unanswered.
    skipped_auto_connect: bool,
    /// Packets written without the connection (to a socket it no longer has).
    pub(crate) extra: Vec<OutFrame>,
}

impl App {
    /// A client with Engine.IO session `sid`, whose handshake had `query`.
    pub(crate) fn new(settings: std::sync::Arc<Settings>, sid: &str, query: Value) -> Self {
        Self {
            settings,
            sid: sid.to_owned(),
            sockets: HashMap::new(),
            query: serde_json::from_value(query).unwrap_or(Data::Null),
            connections: 0,
            skipped_auto_connect: false,
            extra: Vec::new(),
        }
    }

    fn has(&self, mutant: Mutant) -> bool {
        self.settings.has(mutant)
    }

    /// Handles one event of the connection.
    pub(crate) fn handle(
        &mut self,
        sio: &mut Connection,
        event: Event,
        new_id: impl FnOnce() -> String,
    ) -> Option<Effect> {
        match event {
            Event::ConnectRequest { namespace, auth } => {
                self.connect(sio, namespace, auth, new_id);
                None
            }
            Event::Message {
                namespace,
                packet,
                ack,
            } => self.message(sio, &namespace, &packet, ack),
            Event::Ack {
                namespace, packet, ..
            } => {
                let ignored = self.has(Mutant::ServerAckIgnored)
                    || (self.has(Mutant::AcksRoutedToMain) && namespace != "/");
                if !ignored {
                    let args = Data::arguments(&packet).ok()?;
                    self.emit(sio, &namespace, "ack-back", &args);
                }
                None
            }
            Event::Disconnected { namespace } => {
                let keep = self.has(Mutant::RoomsAfterDisconnect)
                    || self.has(Mutant::EventsAfterDisconnect);
                match self.sockets.get_mut(&namespace) {
                    Some(socket) if keep => socket.left = true,
                    _ => drop(self.sockets.remove(&namespace)),
                }
                self.has(Mutant::ClientDisconnectClosesSession)
                    .then_some(Effect::CloseSession)
            }
            // The endpoint closes the Engine.IO session.
            Event::Close(_) => None,
        }
    }

    /// A client event that the connection would refuse, for a namespace the client left:
    /// handled all the same by `events-after-disconnect` (`None`: not such a packet).
    pub(crate) fn left_namespace_event(
        &mut self,
        sio: &mut Connection,
        packet: &Assembled,
    ) -> Option<Option<Effect>> {
        if !self.has(Mutant::EventsAfterDisconnect) {
            return None;
        }
        let view = packet.packet().as_packet();
        let namespace = view.namespace().as_str().to_owned();
        let event = matches!(
            view.packet_type(),
            sio_codec::socketio::PacketType::Event | sio_codec::socketio::PacketType::BinaryEvent
        );
        if !event || !self.sockets.get(&namespace).is_some_and(|s| s.left) {
            return None;
        }
        Some(self.message(sio, &namespace, packet, None))
    }

    /// A CONNECT: refused for an unknown namespace or by the `/guarded` middleware,
    /// otherwise the reply, then the `auth` event.
    fn connect(
        &mut self,
        sio: &mut Connection,
        namespace: String,
        auth: Auth,
        new_id: impl FnOnce() -> String,
    ) {
        let v4 = sio.protocol().socketio() == sio_codec::SocketIo::V4;
        if v4 && namespace == "/" && self.has(Mutant::V4NoAutoConnect) && !self.skipped_auto_connect
        {
            self.skipped_auto_connect = true;
            return;
        }
        let (name, auth) = match auth {
            Auth::Json(json) => (namespace.clone(), serde_json::from_str(&json).ok()),
            Auth::Query(query) if self.has(Mutant::V4QueryKeptInNamespace) => {
                (format!("{namespace}?{query}"), None)
            }
            Auth::Query(query) => {
                let query = crate::http::Query::parse(&query).to_json();
                (namespace.clone(), serde_json::from_value(query).ok())
            }
            Auth::None => (namespace.clone(), None),
        };
        let auth = auth.unwrap_or_else(|| Data::Object(Vec::new()));
        let token = auth.get("token").and_then(Data::as_str);
        let let_in = token == Some(GUARDED_TOKEN) || self.has(Mutant::GuardedOpen);
        let refusal = match name.as_str() {
            GUARDED if !let_in => Some("invalid credential"),
            name if NAMES.contains(&name) => None,
            _ => Some("Invalid namespace"),
        };
        if let Some(message) = refusal {
            sio.reject(&namespace, message).ok();
            return;
        }
        self.connections += 1;
        let id = if self.has(Mutant::SocketIdIsEngineSid) {
            self.sid.clone()
        } else {
            new_id()
        };
        // The recycling mutant only announces the recycled id: inside, sockets keep distinct
        // ids, so that the clients of cases running in parallel do not replace each other.
        let announced = if self.has(Mutant::SocketIdsRecycled) {
            format!("recycled-id-{:08}", self.connections)
        } else {
            id.clone()
        };
        if sio.accept(&namespace, &announced).is_err() {
            return;
        }
        self.emit(sio, &namespace, "auth", std::slice::from_ref(&auth));
        let rooms = HashSet::new();
        let left = false;
        self.sockets.insert(
            namespace,
            Socket {
                id,
                auth,
                rooms,
                left,
            },
        );
    }

    /// An EVENT of the client in `namespace`.
    fn message(
        &mut self,
        sio: &mut Connection,
        namespace: &str,
        packet: &Assembled,
        ack: Option<AckId>,
    ) -> Option<Effect> {
        let args = Data::arguments(packet).ok()?;
        let (name, args) = args.split_first()?;
        let name = name.as_str()?;
        let id = self.sockets.get(namespace)?.id.clone();
        let first = args.first().and_then(Data::as_str).map(str::to_owned);
        let ns = namespace;
        let deliver = |audience, event: &str, args: &[Data], settings: &Settings| {
            let across = settings.has(Mutant::RoomsShareNamespaces)
                && matches!(audience, Audience::Room(_) | Audience::RoomBut(..));
            let times = if settings.has(Mutant::RoomEmitsTwice) {
                2
            } else {
                1
            };
            Some(Effect::Deliver(Delivery {
                namespace: (!across).then(|| ns.to_owned()),
                audience,
                args: named(event, args),
                times,
            }))
        };
        match name {
            "message" => {
                self.emit(sio, ns, "message-back", args);
                if self.has(Mutant::EchoTwice) {
                    self.emit(sio, ns, "message-back", args);
                }
            }
            "message-with-ack" => {
                let id = ack?;
                let id = if self.has(Mutant::WrongAckId) {
                    AckId::new(id.get() + 1)?
                } else {
                    id
                };
                let args = if self.has(Mutant::AckWithEventName) {
                    named(name, args)
                } else {
                    args.to_vec()
                };
                sio.ack(ns, id, &self.outgoing(&args)).ok();
            }
            "request-ack" => {
                let args = self.outgoing(&named("request-ack", args));
                sio.emit(ns, &args, true).ok();
            }
            "disconnect-me" => {
                sio.disconnect(ns).ok();
                self.sockets.remove(ns);
                if self.has(Mutant::ServerDisconnectClosesSession) {
                    return Some(Effect::CloseSession);
                }
            }
            "join" => {
                let socket = self.sockets.get_mut(ns)?;
                socket.rooms.insert(first.clone()?);
                self.emit(sio, ns, "joined", &args[..1]);
            }
            "leave" => {
                let room = first.clone()?;
                let (drop_all, ignored) = (
                    self.has(Mutant::LeaveDropsAllRooms),
                    self.has(Mutant::LeaveIgnored),
                );
                let socket = self.sockets.get_mut(ns)?;
                if drop_all {
                    socket.rooms.clear();
                } else if !ignored {
                    socket.rooms.remove(&room);
                }
                self.emit(sio, ns, "left", &args[..1]);
            }
            "emit-to-room" => {
                let room = first?;
                let audience = if self.has(Mutant::RoomEmitToAll) {
                    Audience::All
                } else if self.has(Mutant::RoomEmitSkipsSender) {
                    Audience::RoomBut(room, id)
                } else {
                    Audience::Room(room)
                };
                return deliver(audience, "room-message", args, &self.settings);
            }
            "emit-all" => {
                let mut effect = deliver(Audience::All, "all-message", args, &self.settings);
                if self.has(Mutant::EmitAllCrossesNamespaces)
                    && let Some(Effect::Deliver(delivery)) = &mut effect
                {
                    delivery.namespace = None;
                }
                return effect;
            }
            "broadcast" => {
                let audience = if self.has(Mutant::BroadcastIncludesSender) {
                    Audience::All
                } else {
                    Audience::AllBut(id)
                };
                return deliver(audience, "broadcast-message", args, &self.settings);
            }
            "emit-to" => {
                let audience = Audience::Room(first?);
                let args = args.get(1..).unwrap_or_default();
                let mut effect = deliver(audience, "direct-message", args, &self.settings);
                if let Some(Effect::Deliver(delivery)) = &mut effect {
                    delivery.namespace = Some(ns.to_owned());
                    delivery.times = 1;
                }
                return effect;
            }
            "whoami" => self.emit(sio, ns, "whoami-back", &[Data::String(id)]),
            "handshake" => {
                let mut query = self.query.clone();
                if self.has(Mutant::HandshakeQueryIncomplete)
                    && let Data::Object(entries) = &mut query
                {
                    entries.retain(|(key, _)| key == "EIO" || key == "transport");
                }
                let auth = self.sockets.get(ns)?.auth.clone();
                let data = Data::Object(vec![("query".into(), query), ("auth".into(), auth)]);
                self.emit(sio, ns, "handshake-back", &[data]);
            }
            "send-me" => self.emit(sio, ns, "message", args),
            // Anything else (and a room that is not a string) is ignored, like the reference.
            _ => {}
        }
        None
    }

    /// Emits `name` with `args` to this client in `namespace` (nothing when it is not
    /// joined).
    fn emit(&self, sio: &mut Connection, namespace: &str, name: &str, args: &[Data]) {
        sio.emit(namespace, &self.outgoing(&named(name, args)), false)
            .ok();
    }

    /// Arguments as the server writes them: binary as attachments, or inlined as what
    /// `JSON.stringify` makes of a Node Buffer (`placeholders-not-used`).
    fn outgoing(&self, args: &[Data]) -> Vec<Data> {
        if self.has(Mutant::PlaceholdersNotUsed) {
            args.iter().map(inline_buffers).collect()
        } else {
            args.to_vec()
        }
    }

    /// Hands a delivery to this client's sockets it reaches.
    pub(crate) fn receive(&mut self, sio: &mut Connection, delivery: &Delivery) {
        let settings = std::sync::Arc::clone(&self.settings);
        let args = self.outgoing(&delivery.args);
        for (namespace, socket) in &self.sockets {
            let in_namespace = delivery.namespace.as_ref().is_none_or(|ns| ns == namespace);
            let reachable = !socket.left || settings.has(Mutant::RoomsAfterDisconnect);
            let reached = match &delivery.audience {
                Audience::All => true,
                Audience::AllBut(id) => socket.id != *id,
                Audience::Room(room) => socket.in_room(room),
                Audience::RoomBut(room, id) => socket.in_room(room) && socket.id != *id,
            };
            if !(in_namespace && reachable && reached) {
                continue;
            }
            for _ in 0..delivery.times {
                if socket.left {
                    // The connection no longer has the socket: written here.
                    let Ok(ns) = Namespace::new(namespace) else {
                        continue;
                    };
                    if let Ok(packet) = Assembled::event(ns, &args, None) {
                        self.extra.extend(packet.frames());
                    }
                } else {
                    sio.emit(namespace, &args, false).ok();
                }
            }
        }
    }
}

/// `[name, args...]`.
fn named(name: &str, args: &[Data]) -> Vec<Data> {
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(Data::String(name.into()));
    all.extend_from_slice(args);
    all
}

/// Binary leaves as `{"type":"Buffer","data":[…]}`.
fn inline_buffers(data: &Data) -> Data {
    match data {
        Data::Binary(bytes) => Data::Object(vec![
            ("type".into(), Data::String("Buffer".into())),
            (
                "data".into(),
                Data::Array(bytes.iter().map(|b| Data::Number((*b).into())).collect()),
            ),
        ]),
        Data::Array(items) => Data::Array(items.iter().map(inline_buffers).collect()),
        Data::Object(entries) => Data::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), inline_buffers(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}
