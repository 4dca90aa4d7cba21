//! `sio_client_connection`: the Socket.IO client [`Connection`] driven by a sequence of
//! steps.

use crate::{Blob, Steps};
use bytes::Bytes;
use sio_codec::{
    Protocol, SocketIo,
    socketio::{
        AckId, OutFrame, PacketType, Progress,
        client::{Connection, Event, Message, Refused},
    },
};
use std::{
    collections::{BTreeMap, BTreeSet},
    format,
    string::String,
    vec::Vec,
};

/// The most steps one `sio_client_connection` input drives.
pub const SIO_CLIENT_MAX_STEPS: usize = 256;

/// Server packets of fixed text (the namespaced ones of every type come from the steps).
const SERVER_PACKETS: [&str; 16] = [
    "0",
    r#"0{"sid":"x"}"#,
    r#"0/a,{"sid":"y"}"#,
    "0/a?x=1,",
    "1",
    r#"4{"message":"no"}"#,
    r#"4"not authorized""#,
    r#"2["e",1]"#,
    r#"21["e"]"#,
    r#"30["r"]"#,
    r#"3["r"]"#,
    r#"51-["b",{"_placeholder":true,"num":0}]"#,
    r#"62-0[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    "",
    "9",
    r#"2/b,["e"]"#,
];

const NAMESPACES: [&str; 3] = ["/", "/a", "/b"];

const PLACEHOLDER: &str = r#"{"_placeholder":true,"num":0}"#;

/// The state of a namespace as the steps saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Joined {
    Connecting,
    Connected,
}

/// `ns,` before a packet's data (nothing for `/`).
fn prefix(ns: &str) -> String {
    if ns == "/" {
        String::new()
    } else {
        format!("{ns},")
    }
}

/// What a packet the client sends must be: its type, namespace (path) and id.
type Expected = (PacketType, String, Option<u64>);

/// `sio_client_connection`: one Socket.IO client [`Connection`] driven by a sequence of
/// steps.
///
/// Input: a first byte chooses the protocol (bit 0: Socket.IO v4 over Engine.IO 3, else v5
/// over 4), then steps until the bytes run out or [`SIO_CLIENT_MAX_STEPS`]; the step's kind
/// is its first byte modulo 9:
///
/// | kind | step | argument bytes |
/// |---|---|---|
/// | 0 | a server packet of a table | 1 |
/// | 1 | a server text of raw bytes (lossy UTF-8) | length (0–31), bytes |
/// | 2 | a server attachment (in or out of order) | length (0–3), bytes |
/// | 3 | `connect` a namespace (`/`, `/a`, `/b`; bit 2: with auth; bit 3: auth not an object, refused unless joined already) | 1 |
/// | 4 | `emit` in a namespace (bit 2: asking for an ack; bit 3: with a binary argument) | 1 |
/// | 5 | `ack` a server event (the namespace and the id from the argument) | 2 |
/// | 6 | `disconnect` a namespace | 1 |
/// | 7 | a server packet for a namespace: CONNECT (v5 with a sid), CONNECT_ERROR, DISCONNECT, EVENT, EVENT with an ack id, BINARY_EVENT (its attachment comes by step 2) | 1 |
/// | 8 | a server ACK (bit 2: BINARY_ACK with its attachment right after) for an id handed out in the namespace and not answered (or, bit 3 or none pending, any small id) | 2 |
///
/// After every step the events and messages are drained and checked against a model of the
/// namespaces (connecting, connected) and of the ack ids handed out:
/// - no panic; `Close` once at most, last, exactly when `is_closed`; after it no event, no
///   message, every call refused with `Closed`;
/// - `Connected` and `ConnectError` only for a namespace connecting; `Message` and `Ack` only
///   for one connected, `Disconnected` only for one joined; `is_connected` agrees with the
///   model;
/// - `Ack` only for an id `emit` handed out in that namespace and not answered yet (nor
///   forgotten by a disconnect), at most once; `emit` hands out an id exactly when asked
///   and never one it handed out before in that namespace since it was joined;
/// - calls succeed exactly when the model says (`NotJoined` otherwise), and each sends what
///   it must, nothing more: `connect` one CONNECT when the namespace was not joined,
///   `emit` one EVENT (BINARY_EVENT with its attachment) with the id handed out, `ack` one
///   ACK with the id, `disconnect` one DISCONNECT; incoming packets make the client send
///   nothing; everything sent reassembles on the server's side.
pub fn sio_client_connection(data: &[u8]) {
    let mut steps = Steps::new(data, SIO_CLIENT_MAX_STEPS);
    let Some(header) = steps.next_kind() else {
        return;
    };
    let protocol = if header & 1 != 0 {
        Protocol::V3
    } else {
        Protocol::V4
    };
    let v4 = protocol.socketio() == SocketIo::V4;
    let mut c = Connection::new(protocol);
    let mut server = protocol.reassembler();
    let mut model: BTreeMap<String, Joined> = BTreeMap::new();
    if v4 {
        model.insert("/".into(), Joined::Connecting);
    }
    // Ack ids pending an answer, and every id handed out in each namespace since its join.
    let mut pending: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut handed_out: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut closes = 0;

    while let Some(kind) = steps.next_kind() {
        let was_closed = c.is_closed();
        let before = model.clone();
        let mut expected: Vec<Expected> = Vec::new();
        let check_refusal = |result: &Result<(), Refused>, joined: bool| {
            if was_closed {
                assert_eq!(*result, Err(Refused::Closed), "a call after the close");
            } else if joined {
                assert_eq!(*result, Ok(()), "a call refused");
            } else {
                assert_eq!(*result, Err(Refused::NotJoined), "a call on no namespace");
            }
        };
        match kind % 9 {
            0 => c.handle_message(Message::Text(steps.pick(&SERVER_PACKETS).into())),
            1 => {
                let len = usize::from(steps.byte() % 32);
                let text = String::from_utf8_lossy(steps.take(len));
                c.handle_message(Message::Text(text.as_ref().into()));
            }
            2 => {
                let len = usize::from(steps.byte() % 4);
                c.handle_message(Message::Binary(Bytes::copy_from_slice(steps.take(len))));
            }
            3 => {
                let arg = steps.byte();
                let ns = NAMESPACES[usize::from(arg & 3) % 3];
                let result = if arg & 8 != 0 {
                    c.connect(ns, Some(&1))
                } else if arg & 4 != 0 {
                    c.connect(ns, Some(&serde_json::json!({"token": "a b", "n": 1})))
                } else {
                    c.connect::<()>(ns, None)
                };
                if was_closed {
                    assert_eq!(result, Err(Refused::Closed), "a call after the close");
                } else if arg & 8 != 0 && !before.contains_key(ns) {
                    assert!(
                        matches!(result, Err(Refused::InvalidValue(_))),
                        "auth not an object: {result:?}"
                    );
                } else {
                    assert_eq!(result, Ok(()), "connect refused");
                    if !model.contains_key(ns) {
                        model.insert(ns.into(), Joined::Connecting);
                        expected.push((PacketType::Connect, ns.into(), None));
                    }
                }
            }
            4 => {
                let arg = steps.byte();
                let ns = NAMESPACES[usize::from(arg & 3) % 3];
                let ack = arg & 4 != 0;
                let binary = arg & 8 != 0;
                let result = if binary {
                    c.emit(ns, &("e", Blob(b"\x01\x02")), ack)
                } else {
                    c.emit(ns, &("e", 1), ack)
                };
                let connected = before.get(ns) == Some(&Joined::Connected);
                match result {
                    Ok(id) => {
                        assert!(!was_closed && connected, "emit in {ns} accepted");
                        assert_eq!(id.is_some(), ack, "an ack id exactly when asked");
                        let packet_type = if binary {
                            PacketType::BinaryEvent
                        } else {
                            PacketType::Event
                        };
                        let id = id.map(AckId::get);
                        if let Some(id) = id {
                            assert!(
                                handed_out.insert((ns.into(), id)),
                                "ack id {ns} {id} handed out twice"
                            );
                            pending.insert((ns.into(), id));
                        }
                        expected.push((packet_type, ns.into(), id));
                    }
                    Err(e) => check_refusal(&Err(e), connected),
                }
            }
            5 => {
                let ns = steps.pick(&NAMESPACES);
                let id = u64::from(steps.byte() % 4);
                let result = c.ack(ns, AckId::new(id).expect("a small id"), &("r",));
                let connected = before.get(ns) == Some(&Joined::Connected);
                check_refusal(&result, connected);
                if result.is_ok() {
                    expected.push((PacketType::Ack, ns.into(), Some(id)));
                }
            }
            6 => {
                let ns = steps.pick(&NAMESPACES);
                let result = c.disconnect(ns);
                check_refusal(&result, before.contains_key(ns));
                if result.is_ok() {
                    model.remove(ns);
                    pending.retain(|(n, _)| n != ns);
                    handed_out.retain(|(n, _)| n != ns);
                    expected.push((PacketType::Disconnect, ns.into(), None));
                }
            }
            7 => {
                let arg = steps.byte();
                let ns = NAMESPACES[usize::from(arg & 3) % 3];
                let p = prefix(ns);
                let text = match (arg >> 2) % 6 {
                    0 if v4 => format!("0{p}"),
                    0 => format!(r#"0{p}{{"sid":"s{arg}"}}"#),
                    1 => format!(r#"4{p}{{"message":"no"}}"#),
                    2 => format!("1{p}"),
                    3 => format!(r#"2{p}["e",1]"#),
                    4 => format!(r#"2{p}{}["e"]"#, arg >> 5),
                    _ => format!(r#"51-{p}["b",{PLACEHOLDER}]"#),
                };
                c.handle_message(Message::Text(text.into()));
            }
            _ => {
                let arg = steps.byte();
                let pick = usize::from(steps.byte());
                let ns = NAMESPACES[usize::from(arg & 3) % 3];
                let ids: Vec<u64> = pending
                    .iter()
                    .filter(|(n, _)| n == ns)
                    .map(|&(_, id)| id)
                    .collect();
                let id = if arg & 8 != 0 || ids.is_empty() {
                    u64::from(arg >> 4)
                } else {
                    ids[pick % ids.len()]
                };
                let p = prefix(ns);
                if arg & 4 != 0 {
                    let text = format!("61-{p}{id}[{PLACEHOLDER}]");
                    c.handle_message(Message::Text(text.into()));
                    c.handle_message(Message::Binary(Bytes::from_static(b"\xff")));
                } else {
                    c.handle_message(Message::Text(format!(r#"3{p}{id}["r"]"#).into()));
                }
            }
        }

        let mut closed_now = false;
        while let Some(event) = c.poll_event() {
            assert_eq!(closes, 0, "{event:?} after the close");
            assert!(!was_closed, "{event:?} from a closed connection");
            match event {
                Event::Close(_) => {
                    closes += 1;
                    closed_now = true;
                }
                Event::Connected { namespace, sid } => {
                    assert_eq!(
                        model.get(&namespace),
                        Some(&Joined::Connecting),
                        "Connected to {namespace}, not connecting"
                    );
                    assert_eq!(
                        c.sid(&namespace),
                        sid.as_deref(),
                        "the socket id of {namespace}"
                    );
                    model.insert(namespace, Joined::Connected);
                }
                Event::ConnectError { namespace, .. } => {
                    assert_eq!(
                        model.remove(&namespace),
                        Some(Joined::Connecting),
                        "ConnectError for {namespace}, not connecting"
                    );
                }
                Event::Disconnected { namespace } => {
                    assert!(
                        model.remove(&namespace).is_some(),
                        "{namespace} left unjoined"
                    );
                    pending.retain(|(n, _)| *n != namespace);
                    handed_out.retain(|(n, _)| *n != namespace);
                }
                Event::Message { namespace, .. } => {
                    assert_eq!(
                        model.get(&namespace),
                        Some(&Joined::Connected),
                        "a message in {namespace}, not connected"
                    );
                }
                Event::Ack { namespace, id, .. } => {
                    assert_eq!(
                        model.get(&namespace),
                        Some(&Joined::Connected),
                        "an ack in {namespace}, not connected"
                    );
                    assert!(
                        pending.remove(&(namespace.clone(), id.get())),
                        "an ack for {namespace} {id:?} never handed out or already heard"
                    );
                }
                Event::Error(_) => {}
            }
        }
        assert!(closes <= 1, "closed twice");
        assert_eq!(closes == 1, c.is_closed(), "Close iff is_closed");
        for ns in NAMESPACES {
            assert_eq!(
                c.is_connected(ns),
                model.get(ns) == Some(&Joined::Connected),
                "is_connected({ns}) against the model {model:?}"
            );
        }
        if c.is_closed() {
            assert!(
                c.poll_message().is_none(),
                "a message at or after the close"
            );
            assert!(
                closed_now || expected.is_empty(),
                "a call accepted after the close"
            );
            continue;
        }
        let mut sent: Vec<Expected> = Vec::new();
        while let Some(frame) = c.poll_message() {
            let progress = match frame {
                OutFrame::Text(text) => server.push_text(&text),
                OutFrame::Binary(data) => server.push_binary(data),
            };
            match progress {
                Ok(Progress::Complete(assembled)) => {
                    let packet = assembled.packet().as_packet();
                    sent.push((
                        packet.packet_type(),
                        packet.namespace().path().into(),
                        packet.id().map(AckId::get),
                    ));
                }
                Ok(Progress::NeedAttachments { .. }) => {}
                Err(e) => panic!("the server cannot read what the client sent: {e:?}"),
            }
        }
        assert_eq!(sent, expected, "what the client sent");
    }
}
