//! The Socket.IO side of a client, without I/O: the counterpart of
//! [`server::Connection`](super::server::Connection). What arrives goes in through
//! [`Connection::handle_message`] (each Engine.IO message of the session, in order), what to
//! send comes out of [`Connection::poll_message`] (Engine.IO messages for the session's
//! outbox: [`engineio::client::Session::send_text`](crate::engineio::client::Session::send_text)
//! and `send_binary`), and what the application must see comes out of
//! [`Connection::poll_event`]. It is not tied to an Engine.IO session type: any transport
//! that carries Engine.IO messages in order will do.
//!
//! | call or arrival | state of the namespace | effect (the reference's, socket.io-client 4.x and 2.x) |
//! |---|---|---|
//! | [`Connection::new`], Socket.IO v4 | `/` | connecting: the v4 server joins `/` by itself, the client sends no CONNECT for it |
//! | [`Connection::connect`] | not connected | CONNECT sent (v5: `0/ns,{auth}`; v4: the credentials as the namespace's query, `0/ns?token=1,`); connecting |
//! | [`Connection::connect`] | connecting or connected | nothing (no second CONNECT) |
//! | CONNECT | connecting | connected: [`Event::Connected`] with the socket id (v5; v4 has none) |
//! | CONNECT_ERROR | connecting | refused: [`Event::ConnectError`] with the payload; the namespace may be connected again |
//! | EVENT, BINARY_EVENT | connected | [`Event::Message`] with the arguments and attachments; an ack id asks for [`Connection::ack`] |
//! | ACK, BINARY_ACK | connected, id from [`Connection::emit`] not answered yet | [`Event::Ack`] |
//! | ACK, BINARY_ACK | connected, any other id (or none) | [`Event::Error`] ([`Unexpected::Ack`]); nothing else changes **(reference: ignored)** |
//! | DISCONNECT | connecting or connected | [`Event::Disconnected`]; its ack ids are forgotten; it may be connected again |
//! | [`Connection::disconnect`] | connecting or connected | DISCONNECT sent; the namespace is left |
//! | any other packet | any | [`Event::Error`] ([`Unexpected::Packet`]); nothing else changes **(reference: ignored)** |
//! | a malformed packet, an unexpected attachment | any | [`Event::Close`] ([`CloseReason::ParseError`]): close the Engine.IO session; nothing more is handled |
//!
//! `emit` and `ack` need a connected namespace ([`Refused::NotJoined`] otherwise: the
//! reference buffers them until the CONNECT reply, which the caller can do by waiting for
//! [`Event::Connected`]).

pub use super::server::{CloseReason, Message, Refused};

use super::common::{self, AckIds};
use super::{AckId, Assembled, Namespace, OutFrame, Packet, PacketType, Progress, Reassembler};
use crate::{DecodeError, Protocol, SocketIo, Utf8Bytes};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::{String, ToString};

/// What the application must see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The server accepted the CONNECT to `namespace`.
    Connected {
        /// The namespace.
        namespace: String,
        /// The socket id the server gave (Socket.IO v5; v4 sends none).
        sid: Option<String>,
    },
    /// The server refused the CONNECT to `namespace` (CONNECT_ERROR).
    ConnectError {
        /// The namespace.
        namespace: String,
        /// The payload's JSON text (v5: an object with a `message`; v4: often a string).
        data: Option<Utf8Bytes>,
    },
    /// An event (EVENT or BINARY_EVENT) in a connected namespace.
    Message {
        /// The namespace.
        namespace: String,
        /// The packet with its attachments; its data is the arguments, the event name
        /// first.
        packet: Assembled,
        /// The server wants an answer: [`Connection::ack`] with this id.
        ack: Option<AckId>,
    },
    /// The server's answer to an [`Connection::emit`] that asked for one.
    Ack {
        /// The namespace.
        namespace: String,
        /// The id [`Connection::emit`] returned.
        id: AckId,
        /// The packet with its attachments; its data is the answer's arguments.
        packet: Assembled,
    },
    /// The server took the client out of `namespace` (DISCONNECT).
    Disconnected {
        /// The namespace.
        namespace: String,
    },
    /// A packet that has no place here was ignored; the connection goes on.
    Error(Unexpected),
    /// The Engine.IO session must close: nothing more is handled.
    Close(CloseReason),
}

/// A packet [`Connection`] ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unexpected {
    /// An ACK whose id was not handed out by [`Connection::emit`] in this namespace, was
    /// answered already, or is missing.
    Ack {
        /// The namespace.
        namespace: String,
        /// The id it carried.
        id: Option<AckId>,
    },
    /// A packet of this type for a namespace in a state that does not take it (an event for
    /// a namespace not connected, a CONNECT not asked for…).
    Packet {
        /// The namespace.
        namespace: String,
        /// The packet's type.
        packet_type: PacketType,
    },
}

/// The state of a namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Joined {
    /// The CONNECT went out (or, v4 `/`, the server joins it by itself).
    Connecting,
    /// The server accepted, with this socket id (v5).
    Connected(Option<String>),
}

/// The Socket.IO state of one client; see the [module documentation](self).
#[derive(Debug)]
pub struct Connection {
    protocol: Protocol,
    reassembler: Reassembler,
    namespaces: BTreeMap<String, Joined>,
    acks: AckIds,
    outbox: VecDeque<OutFrame>,
    events: VecDeque<Event>,
    closed: bool,
}

impl Connection {
    /// The Socket.IO side of a new Engine.IO session speaking `protocol`. Socket.IO v4
    /// connects `/` at once (its server joins it without a CONNECT).
    pub fn new(protocol: Protocol) -> Self {
        let mut namespaces = BTreeMap::new();
        if protocol.socketio() == SocketIo::V4 {
            namespaces.insert("/".to_string(), Joined::Connecting);
        }
        Self {
            protocol,
            reassembler: protocol.reassembler(),
            namespaces,
            acks: AckIds::default(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            closed: false,
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Whether `namespace` is connected.
    pub fn is_connected(&self, namespace: &str) -> bool {
        matches!(self.namespaces.get(namespace), Some(Joined::Connected(_)))
    }

    /// The socket id the server gave in `namespace` (v5, once connected).
    pub fn sid(&self, namespace: &str) -> Option<&str> {
        match self.namespaces.get(namespace) {
            Some(Joined::Connected(sid)) => sid.as_deref(),
            _ => None,
        }
    }

    /// Whether the connection is closed (an [`Event::Close`] was queued).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Asks to join `namespace` with `auth` (`None`: no credentials). Socket.IO v5 sends
    /// `auth` as the CONNECT payload (it must serialize as a JSON object); v4 as the query of
    /// the namespace (`/ns?key=value`, each value percent-encoded: strings as they are, other
    /// values as their JSON text). On v4 `/` is joined by the server by itself: connecting it
    /// sends nothing (its credentials would go in the Engine.IO request's query).
    ///
    /// # Errors
    /// [`Refused::Closed`]; [`Refused::InvalidValue`] for a namespace that is not one
    /// (`/…`, no `,`, no `?`) or credentials that are not an object.
    pub fn connect<T: serde::Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        auth: Option<&T>,
    ) -> Result<(), Refused> {
        if self.closed {
            return Err(Refused::Closed);
        }
        let invalid = |e: &dyn core::fmt::Display| Refused::InvalidValue(e.to_string());
        let ns = Namespace::new(namespace).map_err(|e| invalid(&e))?;
        if ns.query().is_some() {
            return Err(Refused::InvalidValue("a namespace has no '?'".into()));
        }
        if self.namespaces.contains_key(namespace) {
            return Ok(());
        }
        let auth = auth
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| invalid(&e))?;
        let auth = match auth {
            None => None,
            Some(serde_json::Value::Object(map)) => Some(map),
            Some(_) => return Err(Refused::InvalidValue("auth is not an object".into())),
        };
        let text = match self.protocol.socketio() {
            SocketIo::V5 => {
                let json = auth.map(|map| serde_json::Value::Object(map).to_string());
                let data = json
                    .as_deref()
                    .map(super::RawJson::new)
                    .transpose()
                    .map_err(|e| invalid(&e))?;
                Packet::connect(ns, data)
                    .map_err(|e| invalid(&e))?
                    .to_text()
            }
            SocketIo::V4 => {
                let query = auth.map(|map| query_string(&map)).unwrap_or_default();
                let with_query = if query.is_empty() {
                    namespace.to_string()
                } else {
                    alloc::format!("{namespace}?{query}")
                };
                let ns = Namespace::new(&with_query).map_err(|e| invalid(&e))?;
                Packet::connect(ns, None)
                    .map_err(|e| invalid(&e))?
                    .to_text()
            }
        };
        self.outbox.push_back(OutFrame::Text(text));
        self.namespaces
            .insert(namespace.to_string(), Joined::Connecting);
        Ok(())
    }

    /// Sends an event in `namespace`: `args` serializes as a JSON array, the event name
    /// first; binary leaves (`bytes::Bytes` with `bytes`' `serde` feature) become
    /// attachments. With `ack`, the server is
    /// asked to answer: the id to expect in [`Event::Ack`].
    ///
    /// # Errors
    /// [`Refused::NotJoined`] (not connected), [`Refused::Closed`],
    /// [`Refused::InvalidValue`].
    pub fn emit<T: serde::Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        args: &T,
        ack: bool,
    ) -> Result<Option<AckId>, Refused> {
        self.check_connected(namespace)?;
        let id = ack.then(|| self.acks.hand_out(namespace)).flatten();
        let assembled = common::typed(namespace, args, id, false)?;
        self.outbox.extend(assembled.frames());
        Ok(id)
    }

    /// Answers the server's event `id` in `namespace` with `args` (a JSON array).
    ///
    /// # Errors
    /// [`Refused::NotJoined`], [`Refused::Closed`], [`Refused::InvalidValue`].
    pub fn ack<T: serde::Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        id: AckId,
        args: &T,
    ) -> Result<(), Refused> {
        self.check_connected(namespace)?;
        let assembled = common::typed(namespace, args, Some(id), true)?;
        self.outbox.extend(assembled.frames());
        Ok(())
    }

    /// Leaves `namespace` (DISCONNECT to the server); its pending acks are forgotten.
    ///
    /// # Errors
    /// [`Refused::NotJoined`] when it is neither connected nor connecting,
    /// [`Refused::Closed`].
    pub fn disconnect(&mut self, namespace: &str) -> Result<(), Refused> {
        if self.closed {
            return Err(Refused::Closed);
        }
        if self.namespaces.remove(namespace).is_none() {
            return Err(Refused::NotJoined);
        }
        self.acks.forget(namespace);
        let ns = Namespace::new(namespace).map_err(|e| Refused::InvalidValue(e.to_string()))?;
        self.outbox
            .push_back(OutFrame::Text(Packet::disconnect(ns).to_text()));
        Ok(())
    }

    fn check_connected(&self, namespace: &str) -> Result<(), Refused> {
        if self.closed {
            Err(Refused::Closed)
        } else if self.is_connected(namespace) {
            Ok(())
        } else {
            Err(Refused::NotJoined)
        }
    }

    /// Handles one Engine.IO message of the session, in order.
    pub fn handle_message(&mut self, message: Message) {
        if self.closed {
            return;
        }
        let progress = match message {
            Message::Text(text) => self.reassembler.push_text(&text),
            Message::Binary(bytes) => self.reassembler.push_binary(bytes),
        };
        match progress {
            Ok(Progress::Complete(packet)) => self.dispatch(packet),
            Ok(Progress::NeedAttachments { .. }) => {}
            Err(DecodeError { .. }) => self.close(CloseReason::ParseError),
        }
    }

    fn dispatch(&mut self, assembled: Assembled) {
        let packet = assembled.packet().as_packet();
        let packet_type = packet.packet_type();
        let namespace = packet.namespace();
        let name = if self.protocol.socketio() == SocketIo::V4 {
            namespace.path()
        } else {
            namespace.as_str()
        }
        .to_string();
        let id = packet.id();
        let state = self.namespaces.get(&name).cloned();
        let event = match (packet_type, state) {
            (PacketType::Connect, Some(Joined::Connecting)) => {
                #[derive(serde::Deserialize)]
                struct Reply {
                    sid: String,
                }
                let sid = packet
                    .data()
                    .and_then(|data| data.deserialize::<Reply>().ok())
                    .map(|reply| reply.sid);
                self.namespaces
                    .insert(name.clone(), Joined::Connected(sid.clone()));
                Event::Connected {
                    namespace: name,
                    sid,
                }
            }
            (PacketType::ConnectError, Some(Joined::Connecting)) => {
                self.namespaces.remove(&name);
                let data = packet
                    .data()
                    .map(|data| assembled.packet().text().slice_ref(data.as_str()));
                Event::ConnectError {
                    namespace: name,
                    data,
                }
            }
            (PacketType::Disconnect, Some(_)) => {
                self.namespaces.remove(&name);
                self.acks.forget(&name);
                Event::Disconnected { namespace: name }
            }
            (PacketType::Event | PacketType::BinaryEvent, Some(Joined::Connected(_))) => {
                Event::Message {
                    namespace: name,
                    packet: assembled,
                    ack: id,
                }
            }
            (PacketType::Ack | PacketType::BinaryAck, Some(Joined::Connected(_))) => match id {
                Some(id) if self.acks.answer(&name, id) => Event::Ack {
                    namespace: name,
                    id,
                    packet: assembled,
                },
                _ => Event::Error(Unexpected::Ack {
                    namespace: name,
                    id,
                }),
            },
            _ => Event::Error(Unexpected::Packet {
                namespace: name,
                packet_type,
            }),
        };
        self.events.push_back(event);
    }

    /// The next Engine.IO message to send (hand it to the session).
    pub fn poll_message(&mut self) -> Option<OutFrame> {
        self.outbox.pop_front()
    }

    /// The next thing the application must see.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn close(&mut self, reason: CloseReason) {
        if !self.closed {
            self.closed = true;
            self.outbox.clear();
            self.events.push_back(Event::Close(reason));
        }
    }
}

/// `key=value&…` of a JSON object, as `encodeURIComponent` writes each part: strings as
/// they are, other values as their JSON text.
fn query_string(map: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut query = String::new();
    for (key, value) in map {
        if !query.is_empty() {
            query.push('&');
        }
        percent_encode(key, &mut query);
        query.push('=');
        match value {
            serde_json::Value::String(s) => percent_encode(s, &mut query),
            other => percent_encode(&other.to_string(), &mut query),
        }
    }
    query
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as `%XX` of its
/// UTF-8 bytes.
fn percent_encode(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&alloc::format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_uri_components() {
        let map = serde_json::json!({"n": 1, "token": "a b&c", "é": true});
        let serde_json::Value::Object(map) = map else {
            unreachable!()
        };
        assert_eq!(query_string(&map), "n=1&token=a%20b%26c&%C3%A9=true");
    }
}
