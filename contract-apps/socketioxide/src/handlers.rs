//! The application: the Socket.IO handlers of contract v2 (docs/contract.md §3, §3.4) and the
//! raw Engine.IO echo (§2.1).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use engineioxide::handler::EngineIoHandler;
use engineioxide::{DisconnectReason, Socket as EioSocket, Str};
use serde_json::{Map, Value as Json, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::Sid;

use crate::args::Args;

/// The token `/guarded` wants in the CONNECT payload (`{"token":"let-me-in"}`).
const GUARDED_TOKEN: &str = "let-me-in";

/// Registers the namespaces `/`, `/custom` and `/guarded`; no other namespace exists.
pub fn register(io: &SocketIo) {
    io.ns("/", on_connect);
    io.ns("/custom", on_connect);
    io.ns("/guarded", on_connect.with(guard));
}

/// The middleware of `/guarded`: its error message becomes the CONNECT_ERROR's `message`.
async fn guard(Data(auth): Data<Json>) -> Result<(), &'static str> {
    match auth.get("token").and_then(Json::as_str) {
        Some(GUARDED_TOKEN) => Ok(()),
        _ => Err("invalid credential"),
    }
}

/// Runs once a CONNECT is accepted. socketioxide has already sent the CONNECT reply (it calls
/// this handler after), so `auth` is the first packet of the namespace after it.
///
/// `auth` is the CONNECT payload; socketioxide gives `{}` when there is none.
async fn on_connect(s: SocketRef, Data(auth): Data<Json>) {
    // auth-echo
    s.emit("auth", &auth).ok();

    // handshake-echo: what the application sees of the handshake, computed once.
    let handshake = json!({ "query": query_object(s.req_parts().uri.query()), "auth": auth });

    // --- contract v1 (§3.2) -------------------------------------------------------------------
    // sio-echo / binary-echo: the same arguments back, binary as binary.
    s.on("message", async |s: SocketRef, Data(args): Data<Args>| {
        s.emit("message-back", &args).ok();
    });
    // sio-ack-echo: ACK with the event's arguments (nothing when the event has no ack id).
    s.on(
        "message-with-ack",
        async |Data(args): Data<Args>, ack: AckSender| {
            ack.send(&args).ok();
        },
    );
    // server-emit-with-ack: the same event back with a server ack id; the client's ACK
    // arguments come back as `ack-back`.
    s.on(
        "request-ack",
        async |s: SocketRef, Data(args): Data<Args>| {
            let Ok(ack) = s.emit_with_ack::<_, Args>("request-ack", &args) else {
                return;
            };
            if let Ok(reply) = ack.await {
                s.emit("ack-back", &reply).ok();
            }
        },
    );
    // server-disconnect: leave this namespace only (`41…`); the session stays open.
    s.on("disconnect-me", async |s: SocketRef| {
        s.disconnect().ok();
    });

    // --- contract v2 (§3.4): everything acts within this namespace ---------------------------
    // A client ack id on these events is ignored: no handler takes an AckSender.

    // rooms: the membership change is synchronous with the local adapter, so it is effective
    // before `joined` / `left` goes out. A first argument that is no string: ignored.
    s.on("join", async |s: SocketRef, Data(room): Data<String>| {
        s.join(room.clone());
        s.emit("joined", &room).ok();
    });
    s.on("leave", async |s: SocketRef, Data(room): Data<String>| {
        s.leave(room.clone());
        s.emit("left", &room).ok();
    });
    // `within` (unlike `to`) includes the sender when it is a member. `room-message` carries the
    // room name then the payload: exactly the event's arguments.
    s.on(
        "emit-to-room",
        async |s: SocketRef, Data(args): Data<Args>| {
            if let Some(room) = args.first_str() {
                s.within(room.to_owned())
                    .emit("room-message", &args)
                    .await
                    .ok();
            }
        },
    );

    // broadcast: every socket of the namespace (the sender included), or all but the sender.
    s.on(
        "emit-all",
        async |s: SocketRef, io: SocketIo, Data(args): Data<Args>| {
            if let Some(nsp) = io.of(s.ns()) {
                nsp.emit("all-message", &args).await.ok();
            }
        },
    );
    s.on("broadcast", async |s: SocketRef, Data(args): Data<Args>| {
        s.broadcast().emit("broadcast-message", &args).await.ok();
    });

    // emit-to-socket: socketioxide puts no socket in a room named after its id, so look the
    // socket up in this namespace. An unknown or malformed id reaches nobody.
    s.on(
        "emit-to",
        async |s: SocketRef, io: SocketIo, Data(args): Data<Args>| {
            let target = args
                .first_str()
                .and_then(|id| id.parse::<Sid>().ok())
                .and_then(|sid| io.of(s.ns())?.get_socket(sid));
            if let Some(target) = target {
                target.emit("direct-message", &args.rest()).ok();
            }
        },
    );

    // whoami: the socket id, i.e. the `sid` of this namespace's CONNECT reply.
    s.on("whoami", async |s: SocketRef| {
        s.emit("whoami-back", &s.id.to_string()).ok();
    });
    s.on("handshake", async move |s: SocketRef| {
        s.emit("handshake-back", &handshake).ok();
    });
    // server-send: socketioxide has no `send` shorthand; socket.io's is an emit of `message`.
    s.on("send-me", async |s: SocketRef, Data(args): Data<Args>| {
        s.emit("message", &args).ok();
    });
}

/// The query string of the handshake request as an object, name → percent-decoded value
/// (`+` is a space, as in a form; the last of repeated names wins).
fn query_object(query: Option<&str>) -> Map<String, Json> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), Json::String(percent_decode(value)))
        })
        .collect()
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

/// `/engine.io/`: a raw Engine.IO server that sends every message back unchanged. It keeps its
/// sessions so that a shutdown can close them.
#[derive(Debug, Default)]
pub struct Echo {
    sessions: Mutex<HashMap<Sid, Arc<EioSocket<()>>>>,
}

impl Echo {
    /// Closes every open session (the server is stopping).
    pub fn close_all(&self) {
        // Take them out first: closing calls `on_disconnect`, which takes the lock.
        let sessions = std::mem::take(&mut *self.sessions.lock().unwrap());
        for socket in sessions.into_values() {
            socket.close(DisconnectReason::ClosingServer);
        }
    }
}

impl EngineIoHandler for Echo {
    type Data = ();

    fn on_connect(self: Arc<Self>, socket: Arc<EioSocket<()>>) {
        self.sessions.lock().unwrap().insert(socket.id, socket);
    }

    fn on_disconnect(&self, socket: Arc<EioSocket<()>>, _reason: DisconnectReason) {
        self.sessions.lock().unwrap().remove(&socket.id);
    }

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<EioSocket<()>>) {
        socket.emit(msg).ok();
    }

    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<EioSocket<()>>) {
        socket.emit_binary(data).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_object_decodes_names_and_values() {
        let query = query_object(Some("EIO=4&color=te%61l&a+b=c+d&empty=&flag&x=%zz"));
        assert_eq!(
            Json::Object(query),
            json!({"EIO": "4", "color": "teal", "a b": "c d", "empty": "", "flag": "", "x": "%zz"})
        );
        assert!(query_object(None).is_empty());
    }
}
