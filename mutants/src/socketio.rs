//! `/socket.io/`: Socket.IO v5 over Engine.IO v4 and v4 over Engine.IO v3 (the v4 mapping of
//! docs/contract.md §3.3): decoding and attachment reassembly per session, namespace
//! CONNECT / DISCONNECT, the `/guarded` middleware, the connect timeout, and the routing of
//! events and acks to the handlers of [`super::namespace`]. Like the reference, anything the
//! protocol does not allow closes the Engine.IO session.

use super::Mutant;
use super::http::Query;
use super::lock;
use super::namespace::{self, After, GUARDED, Member, NAMES, Namespace};
use super::packet::{Args, Outgoing};
use super::session::{App, CloseReason, Incoming, Session};
use super::settings::Settings;
use serde_json::{Value, json};
use sio_codec::{
    DecodeConfig,
    socketio::{Assembled, PacketType, Progress, Reassembler},
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The Socket.IO application (cheap to clone: the connect timeout task holds a clone).
#[derive(Debug, Clone)]
pub(crate) struct SocketIo {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Arc<Settings>,
    /// One lock for all Socket.IO state: a packet is handled, and every emit it causes is
    /// queued for all its recipients, before the next packet of any client (contract §3.4).
    io: Mutex<Io>,
}

#[derive(Debug)]
struct Io {
    /// By Engine.IO session id.
    clients: HashMap<String, Client>,
    /// One per name of [`NAMES`], in that order.
    namespaces: Vec<Namespace>,
}

/// The Socket.IO side of one Engine.IO session.
#[derive(Debug)]
struct Client {
    reassembler: Reassembler,
    /// Joined namespaces: name → socket id.
    sockets: BTreeMap<&'static str, String>,
    /// Namespace connections so far (the socket ids of the recycling mutant).
    connections: u64,
}

/// A packet the Socket.IO decoder refused.
#[derive(Debug)]
struct Malformed;

impl SocketIo {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        let namespaces = NAMES.iter().map(|name| Namespace::new(name)).collect();
        Self {
            inner: Arc::new(Inner {
                settings,
                io: Mutex::new(Io {
                    clients: HashMap::new(),
                    namespaces,
                }),
            }),
        }
    }

    fn settings(&self) -> &Settings {
        &self.inner.settings
    }
}

/// Whether `session` speaks Socket.IO v4 (over Engine.IO 3): the server joins it to `/` by
/// itself, credentials come as a query in the namespace, errors as a string.
fn socketio_v4(session: &Session) -> bool {
    session.protocol.socketio() == sio_codec::SocketIo::V4
}

impl App for SocketIo {
    fn on_open(&self, session: &Arc<Session>) {
        let settings = self.settings();
        let config = DecodeConfig::new().max_payload(settings.max_payload);
        {
            let mut io = lock(&self.inner.io);
            let client = Client {
                reassembler: session.protocol.with_config(config).reassembler(),
                sockets: BTreeMap::new(),
                connections: 0,
            };
            io.clients.insert(session.sid.clone(), client);
            // Socket.IO v4: the server joins the client to "/" by itself.
            if socketio_v4(session) && !settings.has(Mutant::V4NoAutoConnect) {
                io.connect(session, "/", json!({}), settings);
            }
        }
        if !settings.has(Mutant::NoConnectTimeout) {
            tokio::spawn(connect_timeout(self.clone(), Arc::clone(session)));
        }
    }

    fn on_message(&self, session: &Arc<Session>, message: Incoming) {
        let settings = self.settings();
        let after = lock(&self.inner.io).receive(session, message, settings);
        match after {
            Ok(After::CloseSession) => session.close(CloseReason::ProtocolError),
            Err(Malformed) if !settings.has(Mutant::MalformedSioKept) => {
                session.close(CloseReason::ProtocolError);
            }
            _ => {}
        }
    }

    fn on_close(&self, session: &Session) {
        let mut io = lock(&self.inner.io);
        if let Some(client) = io.clients.remove(&session.sid) {
            for (name, id) in client.sockets {
                if let Some(ns) = io.namespace(name) {
                    ns.remove(&id);
                }
            }
        }
    }
}

/// Closes a session that joined no namespace within the connect timeout.
async fn connect_timeout(app: SocketIo, session: Arc<Session>) {
    tokio::select! {
        () = tokio::time::sleep(app.settings().connect_timeout) => {}
        () = session.closed() => return,
    }
    let idle = lock(&app.inner.io)
        .clients
        .get(&session.sid)
        .is_some_and(|client| client.sockets.is_empty());
    if idle {
        session.close(CloseReason::ConnectTimeout);
    }
}

impl Io {
    fn namespace(&mut self, name: &str) -> Option<&mut Namespace> {
        self.namespaces.iter_mut().find(|ns| ns.name == name)
    }

    /// Feeds one Engine.IO message to the session's decoder; a complete packet is handled.
    fn receive(
        &mut self,
        session: &Arc<Session>,
        message: Incoming,
        settings: &Settings,
    ) -> Result<After, Malformed> {
        let Some(client) = self.clients.get_mut(&session.sid) else {
            return Ok(After::Nothing);
        };
        let progress = match message {
            // A `4` without data is no Socket.IO packet (the reference closes).
            Incoming::Text(text) if text.is_empty() => return Err(Malformed),
            Incoming::Text(text) => client.reassembler.push_text(&text),
            Incoming::Binary(bytes) => client.reassembler.push_binary(bytes),
        };
        match progress {
            Ok(Progress::Complete(packet)) => Ok(self.dispatch(session, &packet, settings)),
            Ok(Progress::NeedAttachments { .. }) => Ok(After::Nothing),
            Err(_) => Err(Malformed),
        }
    }

    /// Handles one complete packet.
    fn dispatch(
        &mut self,
        session: &Arc<Session>,
        assembled: &Assembled,
        settings: &Settings,
    ) -> After {
        let packet = assembled.packet().as_packet();
        let nsp = packet.namespace();
        // Protocol v4 carries credentials as a query in the namespace: `/custom?token=abc`.
        let (name, query) = if socketio_v4(session) && !settings.has(Mutant::V4QueryKeptInNamespace)
        {
            (nsp.path(), nsp.query())
        } else {
            (nsp.as_str(), None)
        };
        let joined = self
            .clients
            .get(&session.sid)
            .and_then(|client| client.sockets.iter().find(|(n, _)| **n == name))
            .map(|(n, id)| (*n, id.clone()));
        let args = || Args::from_packet(&packet, assembled.attachments());
        match (packet.packet_type(), joined) {
            // A second CONNECT to a joined namespace closes the connection.
            (PacketType::Connect, Some(_)) => After::CloseSession,
            (PacketType::Connect, None) => {
                let auth = match (socketio_v4(session), packet.data()) {
                    (true, _) => query.map_or_else(|| json!({}), |q| Query::parse(q).to_json()),
                    (false, Some(data)) => {
                        serde_json::from_str(data.as_str()).unwrap_or_else(|_| json!({}))
                    }
                    (false, None) => json!({}),
                };
                self.connect(session, name, auth, settings);
                After::Nothing
            }
            (PacketType::Disconnect, Some((name, id))) => {
                if settings.has(Mutant::EventsAfterDisconnect) {
                    // Out of the namespace, but its packets still reach the handlers.
                    if let Some(ns) = self.namespace(name) {
                        ns.remove(&id);
                    }
                } else if settings.has(Mutant::RoomsAfterDisconnect) {
                    // Its packets are refused, but the namespace keeps the socket.
                    if let Some(client) = self.clients.get_mut(&session.sid) {
                        client.sockets.remove(name);
                    }
                } else {
                    self.leave(session, name, &id);
                }
                if settings.has(Mutant::ClientDisconnectClosesSession) {
                    After::CloseSession
                } else {
                    After::Nothing
                }
            }
            (PacketType::Event | PacketType::BinaryEvent, Some((name, id))) => {
                let Some(args) = args() else {
                    // `42` without payload: accepted, nothing happens (reference).
                    return After::Nothing;
                };
                let Some(event) = args.first_str().map(str::to_owned) else {
                    return After::Nothing;
                };
                let ack = packet.id().map(|id| id.get());
                let Some(index) = NAMES.iter().position(|n| *n == name) else {
                    return After::Nothing;
                };
                let after = namespace::handle_event(
                    &mut self.namespaces,
                    index,
                    &id,
                    &event,
                    args.rest(),
                    ack,
                    settings,
                );
                if after == After::LeaveNamespace {
                    self.leave(session, name, &id);
                }
                after
            }
            (PacketType::Ack | PacketType::BinaryAck, Some((name, id))) => {
                let args = args().unwrap_or_default();
                let name = if settings.has(Mutant::AcksRoutedToMain) {
                    "/"
                } else {
                    name
                };
                if let Some(ns) = self.namespace(name) {
                    namespace::handle_ack(ns, &id, packet.id().map(|id| id.get()), &args, settings);
                }
                After::Nothing
            }
            // Packets for a namespace the client has not joined, and a client-sent
            // CONNECT_ERROR, close the connection.
            _ => After::CloseSession,
        }
    }

    /// A CONNECT: refused for an unknown namespace or by the `/guarded` middleware,
    /// otherwise the reply, then the `auth` event.
    fn connect(&mut self, session: &Arc<Session>, name: &str, auth: Value, settings: &Settings) {
        let v4 = socketio_v4(session);
        let allowed =
            auth.get("token") == Some(&json!("let-me-in")) || settings.has(Mutant::GuardedOpen);
        let refusal = match NAMES.iter().find(|n| **n == name) {
            None => Some("Invalid namespace"),
            Some(&GUARDED) if !allowed => Some("invalid credential"),
            Some(_) => None,
        };
        if let Some(message) = refusal {
            // v5: an object with `message`; v4: the reason as a string.
            let object = if v4 {
                settings.has(Mutant::V4ErrorObject)
            } else {
                !settings.has(Mutant::ConnectErrorString)
            };
            let data = if object {
                json!({"message": message})
            } else {
                json!(message)
            };
            session.send(Outgoing::connect_error(name, data).frames(settings));
            return;
        }
        let Some(ns) = self.namespaces.iter_mut().find(|ns| ns.name == name) else {
            return;
        };
        let connections = self.clients.get_mut(&session.sid).map(|client| {
            client.connections += 1;
            client.connections
        });
        let id = if settings.has(Mutant::SocketIdIsEngineSid) {
            session.sid.clone()
        } else {
            super::ids::new_id()
        };
        // The recycling mutant only announces the recycled id: inside, sockets keep distinct
        // keys, so that the clients of cases running in parallel do not replace each other.
        let announced = if settings.has(Mutant::SocketIdsRecycled) {
            format!("recycled-id-{:08}", connections.unwrap_or_default())
        } else {
            id.clone()
        };
        let reply_data = (!v4 && !settings.has(Mutant::ConnectReplyWithoutSid))
            .then(|| json!({"sid": announced}));
        let reply = Outgoing::connect(ns.name, reply_data).frames(settings);
        let auth_event =
            Outgoing::event(ns.name, "auth", &Args::new(vec![auth.clone()]), None).frames(settings);
        if settings.has(Mutant::AuthBeforeConnectReply) {
            session.send(auth_event.into_iter().chain(reply));
        } else {
            session.send(reply.into_iter().chain(auth_event));
        }
        let member = Member {
            session: Arc::clone(session),
            auth,
        };
        let ns_name = ns.name;
        ns.join(id.clone(), member);
        if let Some(client) = self.clients.get_mut(&session.sid) {
            client.sockets.insert(ns_name, id);
        }
    }

    /// Socket `id` leaves namespace `name`.
    fn leave(&mut self, session: &Session, name: &str, id: &str) {
        if let Some(ns) = self.namespace(name) {
            ns.remove(id);
        }
        if let Some(client) = self.clients.get_mut(&session.sid) {
            client.sockets.remove(name);
        }
    }
}
