//! The Socket.IO side of one client connection, on a server, without I/O: what arrives goes
//! in through [`Connection::handle_message`] (each Engine.IO message of the session, in
//! order), what to send comes out of [`Connection::poll_message`] (Engine.IO messages for the
//! session's outbox), what the application must decide or see comes out of
//! [`Connection::poll_event`], and time goes in through [`Connection::handle_timeout`].
//!
//! | arrives | state | effect (the reference's, socket.io 4.x and 2.x) |
//! |---|---|---|
//! | (the session opens) | Socket.IO v4 | `/` is requested at once: [`Event::ConnectRequest`]; the client sends no CONNECT for it |
//! | CONNECT | namespace not joined | [`Event::ConnectRequest`]; the application answers with [`Connection::accept`] (`40/ns,{"sid":…}`; v4: `40/ns`) or [`Connection::reject`] (`44/ns,{"message":…}`; v4: the message as a string) |
//! | CONNECT | namespace joined or being decided | the client broke the protocol: [`Event::Close`] |
//! | EVENT, BINARY_EVENT | namespace joined | [`Event::Message`] with the arguments and attachments; an ack id asks for [`Connection::ack`] |
//! | ACK, BINARY_ACK | namespace joined, id from [`Connection::emit`] | [`Event::Ack`]; an id never handed out is ignored (as the reference does) |
//! | DISCONNECT | namespace joined | the namespace is left: [`Event::Disconnected`] |
//! | anything | namespace not joined | [`Event::Close`]: the reference closes the session |
//! | CONNECT_ERROR | any | only the server sends it: [`Event::Close`] |
//! | a malformed packet, an unexpected attachment | any | [`Event::Close`] |
//! | (the connect timeout passes) | no namespace joined | [`Event::Close`] |
//!
//! Socket.IO v4 names carry the client's credentials as a query (`/admin?token=1`): the
//! namespace is the path, the query comes with the request as [`Auth::Query`]. Socket.IO v5
//! sends them as the CONNECT payload ([`Auth::Json`]).
//!
//! Sockets ids are the application's to choose (v5 sends them to the client; they must not
//! be the Engine.IO session id): [`Connection::accept`] takes one.

use super::common::{self, AckIds};
use super::{AckId, Assembled, OutFrame, PacketType, Progress, Reassembler};
use crate::{DecodeError, Protocol, SocketIo, Utf8Bytes};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::{String, ToString};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// An Engine.IO message of the session: what [`Connection::handle_message`] takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message: one Socket.IO packet.
    Text(Utf8Bytes),
    /// A binary message: an attachment of the binary packet before it.
    Binary(Bytes),
}

/// The credentials a client sends with a CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// None.
    None,
    /// Socket.IO v5: the CONNECT payload, a JSON object.
    Json(Utf8Bytes),
    /// Socket.IO v4: the query of the namespace (`token=1` of `/admin?token=1`).
    Query(String),
}

/// What the application must decide or see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The client asks to join `namespace`: answer with [`Connection::accept`] or
    /// [`Connection::reject`] (a middleware's decision).
    ConnectRequest {
        /// The namespace, without a v4 query.
        namespace: String,
        /// The credentials.
        auth: Auth,
    },
    /// An event (EVENT or BINARY_EVENT) in a joined namespace.
    Message {
        /// The namespace.
        namespace: String,
        /// The packet with its attachments; its data is the arguments, the event name
        /// first.
        packet: Assembled,
        /// The client wants an answer: [`Connection::ack`] with this id.
        ack: Option<AckId>,
    },
    /// The client's answer to an [`Connection::emit`] that asked for one.
    Ack {
        /// The namespace.
        namespace: String,
        /// The id [`Connection::emit`] returned.
        id: AckId,
        /// The packet with its attachments; its data is the answer's arguments.
        packet: Assembled,
    },
    /// The client left `namespace` (DISCONNECT).
    Disconnected {
        /// The namespace.
        namespace: String,
    },
    /// The Engine.IO session must close (the reference closes it): nothing more is handled.
    Close(CloseReason),
}

/// Why a connection must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// A packet did not decode (or an attachment came that no packet announced).
    ParseError,
    /// A packet the protocol does not allow here (for a namespace not joined, a second
    /// CONNECT, a CONNECT_ERROR from the client).
    ProtocolError,
    /// No namespace was joined within the connect timeout.
    ConnectTimeout,
}

/// Why [`Connection::accept`], [`Connection::reject`], [`Connection::emit`] or
/// [`Connection::ack`] did nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No CONNECT to this namespace waits for a decision.
    NotRequested,
    /// The namespace is not joined.
    NotJoined,
    /// The connection is closed.
    Closed,
    /// The value is no valid packet payload (it does not serialize, or an event is not an
    /// array starting with its name).
    InvalidValue(String),
}

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotRequested => f.write_str("no CONNECT to this namespace waits for a decision"),
            Self::NotJoined => f.write_str("the namespace is not joined"),
            Self::Closed => f.write_str("the connection is closed"),
            Self::InvalidValue(e) => write!(f, "not a valid packet payload: {e}"),
        }
    }
}

impl core::error::Error for Refused {}

/// The Socket.IO state of one client connection; see the [module documentation](self).
#[derive(Debug)]
pub struct Connection {
    protocol: Protocol,
    reassembler: Reassembler,
    /// Joined namespaces and their socket ids.
    joined: BTreeMap<String, String>,
    /// Namespaces whose CONNECT waits for the application.
    requested: BTreeSet<String>,
    /// Per namespace: the next ack id, and the ids handed out and not answered yet.
    acks: AckIds,
    outbox: VecDeque<OutFrame>,
    events: VecDeque<Event>,
    /// When the connection closes unless a namespace is joined by then.
    connect_deadline: Option<Instant>,
    closed: bool,
}

impl Connection {
    /// The Socket.IO side of a session that opened at `now` with `protocol`; it closes when
    /// no namespace is joined within `connect_timeout` (the reference's default is 45 s).
    /// Socket.IO v4 requests `/` at once (the v4 client joins it without a CONNECT).
    pub fn new(protocol: Protocol, now: Instant, connect_timeout: Duration) -> Self {
        let mut connection = Self {
            protocol,
            reassembler: protocol.reassembler(),
            joined: BTreeMap::new(),
            requested: BTreeSet::new(),
            acks: AckIds::default(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            connect_deadline: now.checked_add(connect_timeout),
            closed: false,
        };
        if protocol.socketio() == SocketIo::V4 {
            connection.request("/", Auth::None);
        }
        connection
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The joined namespaces with their socket ids.
    pub fn namespaces(&self) -> impl Iterator<Item = (&str, &str)> {
        self.joined
            .iter()
            .map(|(ns, id)| (ns.as_str(), id.as_str()))
    }

    /// Whether the connection is closed (an [`Event::Close`] was queued).
    pub fn is_closed(&self) -> bool {
        self.closed
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
        let v4 = self.protocol.socketio() == SocketIo::V4;
        let name = if v4 {
            namespace.path()
        } else {
            namespace.as_str()
        }
        .to_string();
        let id = packet.id();
        let known = self.joined.contains_key(&name);
        match packet_type {
            PacketType::Connect if known || self.requested.contains(&name) => {
                self.close(CloseReason::ProtocolError);
            }
            PacketType::Connect => {
                let auth = match (v4, namespace.query(), packet.data()) {
                    (true, Some(query), _) => Auth::Query(query.to_string()),
                    (false, _, Some(data)) => {
                        Auth::Json(assembled.packet().text().slice_ref(data.as_str()))
                    }
                    _ => Auth::None,
                };
                self.request(&name, auth);
            }
            PacketType::Disconnect if known => {
                self.joined.remove(&name);
                self.acks.forget(&name);
                self.events
                    .push_back(Event::Disconnected { namespace: name });
            }
            PacketType::Event | PacketType::BinaryEvent if known => {
                self.events.push_back(Event::Message {
                    namespace: name,
                    packet: assembled,
                    ack: id,
                });
            }
            PacketType::Ack | PacketType::BinaryAck if known => {
                let Some(id) = id else { return };
                if self.acks.answer(&name, id) {
                    self.events.push_back(Event::Ack {
                        namespace: name,
                        id,
                        packet: assembled,
                    });
                }
            }
            _ => self.close(CloseReason::ProtocolError),
        }
    }

    fn request(&mut self, namespace: &str, auth: Auth) {
        self.requested.insert(namespace.to_string());
        self.events.push_back(Event::ConnectRequest {
            namespace: namespace.to_string(),
            auth,
        });
    }

    /// Lets the client into `namespace` as socket `socket_id`: the CONNECT reply (v5 with the
    /// socket id, which must differ from the Engine.IO session id).
    ///
    /// # Errors
    /// [`Refused::NotRequested`] when no CONNECT to it waits; [`Refused::Closed`].
    pub fn accept(&mut self, namespace: &str, socket_id: &str) -> Result<(), Refused> {
        self.decided(namespace)?;
        let reply = match self.protocol.socketio() {
            SocketIo::V4 => text_packet('0', namespace, None),
            SocketIo::V5 => {
                let sid = serde_json::json!({ "sid": socket_id }).to_string();
                text_packet('0', namespace, Some(&sid))
            }
        };
        self.outbox.push_back(reply);
        self.joined
            .insert(namespace.to_string(), socket_id.to_string());
        Ok(())
    }

    /// Refuses the client `namespace` with `message` (CONNECT_ERROR: v5 `{"message":…}`, v4
    /// the message as a JSON string).
    ///
    /// # Errors
    /// [`Refused::NotRequested`] when no CONNECT to it waits; [`Refused::Closed`].
    pub fn reject(&mut self, namespace: &str, message: &str) -> Result<(), Refused> {
        self.decided(namespace)?;
        let data = match self.protocol.socketio() {
            SocketIo::V4 => serde_json::Value::from(message),
            SocketIo::V5 => serde_json::json!({ "message": message }),
        };
        self.outbox
            .push_back(text_packet('4', namespace, Some(&data.to_string())));
        Ok(())
    }

    fn decided(&mut self, namespace: &str) -> Result<(), Refused> {
        if self.closed {
            Err(Refused::Closed)
        } else if self.requested.remove(namespace) {
            Ok(())
        } else {
            Err(Refused::NotRequested)
        }
    }

    /// Sends an event to the client in `namespace`: `args` serializes as a JSON array, the
    /// event name first; binary leaves (`bytes::Bytes`, with `bytes`' `serde` feature)
    /// become attachments. With `ack`, the client is asked to answer: the id to expect in
    /// [`Event::Ack`].
    ///
    /// # Errors
    /// [`Refused::NotJoined`], [`Refused::Closed`], [`Refused::InvalidValue`].
    pub fn emit<T: serde::Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        args: &T,
        ack: bool,
    ) -> Result<Option<AckId>, Refused> {
        self.check_joined(namespace)?;
        let id = ack.then(|| self.acks.hand_out(namespace)).flatten();
        let assembled = common::typed(namespace, args, id, false)?;
        self.outbox.extend(assembled.frames());
        Ok(id)
    }

    /// Answers the client's event `id` in `namespace` with `args` (a JSON array).
    ///
    /// # Errors
    /// [`Refused::NotJoined`], [`Refused::Closed`], [`Refused::InvalidValue`].
    pub fn ack<T: serde::Serialize + ?Sized>(
        &mut self,
        namespace: &str,
        id: AckId,
        args: &T,
    ) -> Result<(), Refused> {
        self.check_joined(namespace)?;
        let assembled = common::typed(namespace, args, Some(id), true)?;
        self.outbox.extend(assembled.frames());
        Ok(())
    }

    /// Takes the client out of `namespace` (DISCONNECT to the client).
    ///
    /// # Errors
    /// [`Refused::NotJoined`], [`Refused::Closed`].
    pub fn disconnect(&mut self, namespace: &str) -> Result<(), Refused> {
        self.check_joined(namespace)?;
        self.joined.remove(namespace);
        self.acks.forget(namespace);
        self.outbox.push_back(text_packet('1', namespace, None));
        Ok(())
    }

    fn check_joined(&self, namespace: &str) -> Result<(), Refused> {
        if self.closed {
            Err(Refused::Closed)
        } else if self.joined.contains_key(namespace) {
            Ok(())
        } else {
            Err(Refused::NotJoined)
        }
    }

    /// The next Engine.IO message to send (hand it to the session's outbox).
    pub fn poll_message(&mut self) -> Option<OutFrame> {
        self.outbox.pop_front()
    }

    /// The next thing the application must decide or see.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called next (the connect timeout, while
    /// no namespace is joined).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed || !self.joined.is_empty() {
            None
        } else {
            self.connect_deadline
        }
    }

    /// Time passed: the connection closes when no namespace was joined in time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(deadline) = self.poll_timeout()
            && now >= deadline
        {
            self.close(CloseReason::ConnectTimeout);
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if !self.closed {
            self.closed = true;
            self.outbox.clear();
            self.events.push_back(Event::Close(reason));
        }
    }
}

/// A Socket.IO text packet `<type>[<namespace>,][data]` (the namespace left out for `/`).
fn text_packet(digit: char, namespace: &str, data: Option<&str>) -> OutFrame {
    let mut text = String::new();
    text.push(digit);
    if namespace != "/" {
        text.push_str(namespace);
        text.push(',');
    }
    if let Some(data) = data {
        text.push_str(data);
    }
    OutFrame::Text(Utf8Bytes::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn text(s: &str) -> Message {
        Message::Text(Utf8Bytes::from(s))
    }

    fn sent(connection: &mut Connection) -> Vec<String> {
        core::iter::from_fn(|| connection.poll_message())
            .map(|frame| match frame {
                OutFrame::Text(t) => t.as_str().to_string(),
                OutFrame::Binary(b) => alloc::format!("<{}>", b.len()),
            })
            .collect()
    }

    fn events(connection: &mut Connection) -> Vec<Event> {
        core::iter::from_fn(|| connection.poll_event()).collect()
    }

    fn v5(now: Instant) -> Connection {
        Connection::new(Protocol::V4, now, Duration::from_secs(45))
    }

    #[test]
    fn v5_connect_accept_event_and_ack() {
        let now = Instant::now();
        let mut c = v5(now);
        assert!(
            events(&mut c).is_empty(),
            "v5 waits for the client's CONNECT"
        );
        c.handle_message(text(r#"0/admin,{"token":"1"}"#));
        assert_eq!(
            events(&mut c),
            [Event::ConnectRequest {
                namespace: "/admin".into(),
                auth: Auth::Json(Utf8Bytes::from(r#"{"token":"1"}"#)),
            }]
        );
        c.accept("/admin", "s1").unwrap();
        assert_eq!(sent(&mut c), [r#"0/admin,{"sid":"s1"}"#]);
        assert_eq!(c.namespaces().collect::<Vec<_>>(), [("/admin", "s1")]);

        c.handle_message(text(r#"2/admin,7["hi",1]"#));
        let [
            Event::Message {
                namespace,
                packet,
                ack,
            },
        ] = &events(&mut c)[..]
        else {
            panic!("one message")
        };
        assert_eq!((namespace.as_str(), *ack), ("/admin", AckId::new(7)));
        assert_eq!(
            packet.packet().as_packet().data().unwrap().as_str(),
            r#"["hi",1]"#
        );
        c.ack("/admin", AckId::new(7).unwrap(), &("ok",)).unwrap();
        assert_eq!(sent(&mut c), [r#"3/admin,7["ok"]"#]);

        // Server → client with an ack: ids count from 0 per namespace; only those are heard.
        let id = c.emit("/admin", &("ping", 1), true).unwrap().unwrap();
        assert_eq!(id.get(), 0);
        assert_eq!(sent(&mut c), [r#"2/admin,0["ping",1]"#]);
        c.handle_message(text(r#"3/admin,5["stray"]"#));
        assert!(
            events(&mut c).is_empty(),
            "an id never handed out is ignored"
        );
        c.handle_message(text(r#"3/admin,0["pong"]"#));
        assert!(matches!(&events(&mut c)[..], [Event::Ack { id, .. }] if id.get() == 0));
        c.handle_message(text(r#"3/admin,0["twice"]"#));
        assert!(events(&mut c).is_empty(), "an answer is heard once");
    }

    #[test]
    fn v5_rejection_and_disconnects() {
        let now = Instant::now();
        let mut c = v5(now);
        c.handle_message(text("0/guarded,"));
        events(&mut c);
        c.reject("/guarded", "invalid credential").unwrap();
        assert_eq!(
            sent(&mut c),
            [r#"4/guarded,{"message":"invalid credential"}"#]
        );
        assert_eq!(c.accept("/guarded", "x"), Err(Refused::NotRequested));
        // Joined, then left by the client, then by the server.
        c.handle_message(text("0"));
        events(&mut c);
        c.accept("/", "s2").unwrap();
        c.handle_message(text("1"));
        assert_eq!(
            events(&mut c),
            [Event::Disconnected {
                namespace: "/".into()
            }]
        );
        assert_eq!(c.emit("/", &("x",), false), Err(Refused::NotJoined));
        c.handle_message(text("0"));
        events(&mut c);
        c.accept("/", "s3").unwrap();
        c.disconnect("/").unwrap();
        assert_eq!(sent(&mut c), [r#"0{"sid":"s2"}"#, r#"0{"sid":"s3"}"#, "1"]);
    }

    #[test]
    fn v4_joins_root_by_itself_and_reads_credentials_from_the_query() {
        let now = Instant::now();
        let mut c = Connection::new(Protocol::V3, now, Duration::from_secs(45));
        assert_eq!(
            events(&mut c),
            [Event::ConnectRequest {
                namespace: "/".into(),
                auth: Auth::None
            }]
        );
        c.accept("/", "ignored in v4").unwrap();
        c.handle_message(text("0/custom?token=abc"));
        assert_eq!(
            events(&mut c),
            [Event::ConnectRequest {
                namespace: "/custom".into(),
                auth: Auth::Query("token=abc".into()),
            }]
        );
        c.accept("/custom", "x").unwrap();
        c.handle_message(text("0/nope"));
        events(&mut c);
        c.reject("/nope", "Invalid namespace").unwrap();
        assert_eq!(
            sent(&mut c),
            ["0", "0/custom,", r#"4/nope,"Invalid namespace""#]
        );
        // v4 has no reserved event names.
        c.handle_message(text(r#"2/custom,["connect"]"#));
        assert!(matches!(&events(&mut c)[..], [Event::Message { .. }]));
    }

    #[test]
    fn binary_events_wait_for_their_attachments() {
        let now = Instant::now();
        let mut c = v5(now);
        c.handle_message(text("0"));
        events(&mut c);
        c.accept("/", "s").unwrap();
        let attachment = Bytes::from_static(&[1, 2, 3]);
        c.handle_message(text(r#"51-["up",{"_placeholder":true,"num":0}]"#));
        assert!(events(&mut c).is_empty());
        c.handle_message(Message::Binary(attachment.clone()));
        let [Event::Message { packet, .. }] = &events(&mut c)[..] else {
            panic!("the event, complete")
        };
        assert_eq!(
            packet.attachments()[0].as_ptr(),
            attachment.as_ptr(),
            "not copied"
        );
        // And out: binary leaves become attachments.
        c.emit("/", &("file", Bytes::from_static(&[9])), false)
            .unwrap();
        assert_eq!(
            sent(&mut c),
            [
                r#"0{"sid":"s"}"#,
                r#"51-["file",{"_placeholder":true,"num":0}]"#,
                "<1>"
            ]
        );
    }

    #[test]
    fn protocol_errors_close_the_connection() {
        let now = Instant::now();
        for (setup, bad) in [
            (None, r#"2["not joined"]"#),
            (Some("/"), "0"),                             // a second CONNECT
            (Some("/"), r#"4{"message":"from client"}"#), // CONNECT_ERROR from the client
            (Some("/"), "2[\"unterminated\""),            // malformed
            (Some("/"), r#"2["connect"]"#),               // reserved name (v5)
        ] {
            let mut c = v5(now);
            if let Some(ns) = setup {
                c.handle_message(text("0"));
                events(&mut c);
                c.accept(ns, "s").unwrap();
                sent(&mut c);
            }
            c.handle_message(text(bad));
            let closed = events(&mut c);
            assert!(matches!(closed[..], [Event::Close(_)]), "{bad}: {closed:?}");
            assert!(c.is_closed());
            c.handle_message(text(r#"2["after"]"#));
            assert!(events(&mut c).is_empty(), "nothing after the close");
            assert_eq!(c.emit("/", &("x",), false), Err(Refused::Closed));
        }
        // An attachment nobody announced.
        let mut c = v5(now);
        c.handle_message(Message::Binary(Bytes::from_static(&[1])));
        assert_eq!(events(&mut c), [Event::Close(CloseReason::ParseError)]);
    }

    // Random sequences of everything: the fuzz body `sio_server_connection` of `sio-fuzz-oracles`
    // (cargo-fuzz target, corpus replay and a proptest in fuzz/oracles/tests/corpus.rs).

    #[test]
    fn the_connect_timeout_closes_an_idle_connection_only() {
        let t0 = Instant::now();
        let timeout = Duration::from_secs(45);
        let mut idle = v5(t0);
        assert_eq!(idle.poll_timeout(), Some(t0 + timeout));
        idle.handle_timeout(t0 + timeout - Duration::from_millis(1));
        assert!(!idle.is_closed());
        idle.handle_timeout(t0 + timeout);
        assert_eq!(
            events(&mut idle),
            [Event::Close(CloseReason::ConnectTimeout)]
        );
        assert_eq!(idle.poll_timeout(), None);

        let mut joined = v5(t0);
        joined.handle_message(text("0"));
        events(&mut joined);
        joined.accept("/", "s").unwrap();
        assert_eq!(joined.poll_timeout(), None);
        joined.handle_timeout(t0 + timeout * 2);
        assert!(!joined.is_closed());
    }
}
