//! The sans-IO client sessions driven against the sans-IO server sessions, in memory: the
//! Engine.IO client against `engineio::server::Session` (handshakes, polling, the upgrade,
//! heartbeats with time steps, closes), the Socket.IO client against
//! `socketio::server::Connection` (connect, auth, connect errors, acks both ways, binary,
//! disconnects).

use proptest::prelude::*;
use sio_codec::bytes::Bytes;
use sio_codec::engineio::client::{
    self, ClientConfig, CloseReason as ClientClose, Event as CEvent, HttpRequest, Method,
};
use sio_codec::engineio::server::{
    self, CloseReason as ServerClose, Event as SEvent, Frame, GetOutcome, Opening, Request, Route,
    ServerConfig, Transport,
};
use sio_codec::socketio::client::{self as sio_client, Unexpected};
use sio_codec::socketio::server::{self as sio_server, Auth};
use sio_codec::socketio::{AckId, OutFrame};
use sio_codec::{EngineIo, Protocol, Utf8Bytes};
use std::time::{Duration, Instant};

const SID: &str = "lv_VI97HAXpY6yYWAAAC";

// ---------------------------------------------------------------------- Engine.IO harness

/// A client session wired to a server session in memory.
struct Pair {
    client: client::Session,
    server: Option<server::Session>,
    config: ServerConfig,
    now: Instant,
    /// The client's GET is parked at the server.
    parked: bool,
    /// The client's WebSocket is connected to the server.
    ws: bool,
    /// Whether `pump` opens the WebSockets the client asks for.
    open_websockets: bool,
    client_events: Vec<CEvent>,
    server_events: Vec<SEvent>,
}

impl Pair {
    fn new(client: ClientConfig, mut config: ServerConfig) -> Self {
        config.allow_eio3 = true;
        config.ping_interval = Duration::from_millis(300);
        config.ping_timeout = Duration::from_millis(200);
        Self {
            client: client::Session::new(client),
            server: None,
            config,
            now: Instant::now(),
            parked: false,
            ws: false,
            open_websockets: true,
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    fn server(&mut self) -> &mut server::Session {
        self.server.as_mut().expect("the handshake happened")
    }

    /// One polling request of the client, answered by the server (or parked there).
    fn request(&mut self, request: HttpRequest) {
        let now = self.now;
        let mut http = Request::from_query(request.method.as_str(), &request.query);
        if let Some(content_type) = request.content_type {
            http = http.with_content_type(content_type);
        }
        let Some(server) = self.server.as_mut() else {
            let (server, opening) = server::Session::accept(&self.config, &http, SID, now)
                .expect("the client's handshake is valid");
            let Opening::Response(response) = opening else {
                panic!("{opening:?}")
            };
            self.server = Some(server);
            self.client.handle_response(
                request.method,
                response.status,
                response.content_type,
                response.body,
                now,
            );
            return;
        };
        let response = match request.method {
            Method::Get => {
                assert!(!self.parked, "a second GET while one is in flight");
                if let Err(refusal) = server.route(&http) {
                    refusal.polling_response()
                } else {
                    match server.handle_get(&http) {
                        GetOutcome::Answered(response) => response,
                        GetOutcome::Parked => {
                            self.parked = true;
                            return;
                        }
                    }
                }
            }
            Method::Post => match server.route(&http) {
                Ok(Route::Post) => server.handle_post(&http, request.body, now),
                Ok(route) => panic!("{route:?}"),
                Err(refusal) => refusal.polling_response(),
            },
        };
        self.client.handle_response(
            request.method,
            response.status,
            response.content_type,
            response.body,
            now,
        );
    }

    /// The client asks for a WebSocket: the handshake, or the upgrade.
    fn open_websocket(&mut self, query: &str) {
        let now = self.now;
        let http = Request::from_query("GET", query).with_websocket();
        match self.server.as_mut() {
            None => {
                let (server, opening) = server::Session::accept(&self.config, &http, SID, now)
                    .expect("the client's WebSocket handshake is valid");
                let Opening::Frame(frame) = opening else {
                    panic!("{opening:?}")
                };
                self.server = Some(server);
                self.ws = true;
                self.client.handle_websocket_open(now);
                self.client.handle_frame(frame, now);
            }
            Some(server) => {
                assert_eq!(server.route(&http), Ok(Route::Websocket), "{query}");
                assert!(server.handle_websocket(now));
                self.ws = true;
                self.client.handle_websocket_open(now);
            }
        }
    }

    /// One step of everything that can move; `false` when nothing did.
    fn step(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        while let Some(request) = self.client.poll_request() {
            self.request(request);
            moved = true;
        }
        if self.parked
            && let Some(response) = self.server().poll_get_response()
        {
            self.parked = false;
            self.client.handle_response(
                Method::Get,
                response.status,
                response.content_type,
                response.body,
                now,
            );
            moved = true;
        }
        if self.open_websockets
            && let Some(query) = self.client.poll_websocket()
        {
            self.open_websocket(&query);
            moved = true;
        }
        while let Some(frame) = self.client.poll_frame() {
            moved = true;
            if !self.ws {
                continue;
            }
            if matches!(frame, Frame::Close(_)) {
                self.ws = false;
            }
            self.server().handle_frame(frame, now);
        }
        if let Some(server) = self.server.as_mut() {
            while let Some(frame) = server.poll_frame() {
                moved = true;
                if !self.ws {
                    continue;
                }
                if matches!(frame, Frame::Close(_)) {
                    self.ws = false;
                }
                self.client.handle_frame(frame, now);
            }
            self.server_events
                .extend(std::iter::from_fn(|| server.poll_event()));
        }
        self.client_events
            .extend(std::iter::from_fn(|| self.client.poll_event()));
        moved
    }

    fn pump(&mut self) {
        for _ in 0..100 {
            if !self.step() {
                return;
            }
        }
        panic!("the sessions do not settle");
    }

    /// Time goes to `at`; both sides' timers run, then everything moves.
    fn advance(&mut self, at: Instant) {
        self.now = at;
        self.client.handle_timeout(at);
        if let Some(server) = self.server.as_mut() {
            server.handle_timeout(at);
        }
        self.pump();
    }

    /// The next timer of either side.
    fn next_timer(&self) -> Option<Instant> {
        let server = self.server.as_ref().and_then(server::Session::poll_timeout);
        match (self.client.poll_timeout(), server) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn client_texts(&self) -> Vec<String> {
        texts_of(self.client_events.iter().filter_map(|e| match e {
            CEvent::Text(t) => Some(t.as_str()),
            _ => None,
        }))
    }

    fn server_texts(&self) -> Vec<String> {
        texts_of(self.server_events.iter().filter_map(|e| match e {
            SEvent::Text(t) => Some(t.as_str()),
            _ => None,
        }))
    }
}

fn texts_of<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    texts.map(String::from).collect()
}

fn polling_config(revision: EngineIo) -> ClientConfig {
    ClientConfig::new(revision)
}

#[test]
fn polling_handshake_exposes_the_open_packet() {
    for revision in [EngineIo::V3, EngineIo::V4] {
        let mut pair = Pair::new(
            polling_config(revision).with_upgrade(false),
            ServerConfig::default(),
        );
        let handshake = pair.client.poll_request().expect("the handshake");
        assert_eq!(handshake.method, Method::Get);
        assert_eq!(
            handshake.query,
            format!("EIO={}&transport=polling", revision.number())
        );
        pair.request(handshake);
        pair.pump();
        assert_eq!(pair.client_events, [CEvent::Open]);
        assert_eq!(pair.client.sid(), Some(SID));
        assert_eq!(pair.client.ping_interval(), Duration::from_millis(300));
        assert_eq!(pair.client.ping_timeout(), Duration::from_millis(200));
        assert_eq!(pair.client.max_payload(), Some(1_000_000));
        assert_eq!(pair.client.upgrades().collect::<Vec<_>>(), ["websocket"]);
        assert_eq!(pair.client.transport(), Transport::Polling);
        assert!(pair.parked, "{revision:?}: a GET waits at the server");
        assert!(pair.client.poll_websocket().is_none(), "upgrade is off");
    }
}

#[test]
fn polling_carries_text_and_binary_both_ways_in_every_body_format() {
    // v4 records (binary as base64), v3 `len:` text with b64, v3 XHR2 binary bodies.
    for (revision, b64) in [
        (EngineIo::V4, false),
        (EngineIo::V3, true),
        (EngineIo::V3, false),
    ] {
        let config = polling_config(revision).with_upgrade(false).with_b64(b64);
        let mut pair = Pair::new(config, ServerConfig::default());
        pair.pump();
        pair.client.send_text("héllo");
        pair.client
            .send_binary(Bytes::from_static(&[0, 1, 0x1e, 0xff]));
        pair.client.send_text("");
        pair.pump();
        assert_eq!(
            pair.server_events,
            [
                SEvent::Text("héllo".into()),
                SEvent::Binary(Bytes::from_static(&[0, 1, 0x1e, 0xff])),
                SEvent::Text("".into()),
            ],
            "{revision:?} b64={b64}"
        );
        pair.server().send_binary(Bytes::from_static(&[9, 8]));
        pair.server().send_text("back");
        pair.pump();
        assert_eq!(
            pair.client_events[1..],
            [
                CEvent::Binary(Bytes::from_static(&[9, 8])),
                CEvent::Text("back".into())
            ],
            "{revision:?} b64={b64}"
        );
    }
}

#[test]
fn posts_batch_the_outbox_one_at_a_time() {
    let mut pair = Pair::new(
        polling_config(EngineIo::V4).with_upgrade(false),
        ServerConfig::default(),
    );
    pair.pump();
    pair.client.send_text("a");
    pair.client.send_text("b");
    let post = pair.client.poll_request().expect("a POST");
    assert_eq!(post.method, Method::Post);
    assert_eq!(&post.body[..], b"4a\x1e4b");
    assert_eq!(post.content_type, Some(client::TEXT_BODY));
    pair.client.send_text("c");
    assert!(
        pair.client.poll_request().is_none(),
        "one POST in flight, one GET parked"
    );
    pair.request(post);
    let next = pair.client.poll_request().expect("the next POST");
    assert_eq!(&next.body[..], b"4c");
    // v3 bodies: `len:` records.
    let mut v3 = Pair::new(
        polling_config(EngineIo::V3).with_upgrade(false),
        ServerConfig::default(),
    );
    v3.pump();
    v3.client.send_text("é");
    let post = v3.client.poll_request().expect("a POST");
    assert_eq!(&post.body[..], "2:4é".as_bytes());
    assert_eq!(post.query, format!("EIO=3&transport=polling&sid={SID}"));
}

#[test]
fn v4_posts_stay_within_the_servers_max_payload() {
    let mut server = ServerConfig::default();
    server.max_payload = 25;
    let mut pair = Pair::new(polling_config(EngineIo::V4).with_upgrade(false), server);
    pair.pump();
    assert_eq!(pair.client.max_payload(), Some(25));
    let texts: Vec<String> = (0..7).map(|i| format!("message-{i}")).collect();
    for text in &texts {
        pair.client.send_text(text.clone());
    }
    // Two records (21 bytes) fit, three (32) do not: the server would answer 413.
    let first = pair.client.poll_request().expect("a POST");
    assert_eq!(&first.body[..], b"4message-0\x1e4message-1");
    pair.request(first);
    pair.pump();
    assert!(!pair.client.is_closed(), "{:?}", pair.client_events);
    assert_eq!(pair.server_texts(), texts);
}

#[test]
fn upgrades_to_websocket_without_losing_or_reordering_anything() {
    for revision in [EngineIo::V3, EngineIo::V4] {
        let mut pair = Pair::new(polling_config(revision), ServerConfig::default());
        pair.open_websockets = false;
        pair.pump();
        assert!(pair.parked);
        pair.client.send_text("m0");
        pair.server().send_text("s0");
        pair.pump();

        // The WebSocket opens; the client probes while polling goes on.
        let query = pair.client.poll_websocket().expect("the upgrade");
        assert_eq!(
            query,
            format!("EIO={}&transport=websocket&sid={SID}", revision.number())
        );
        pair.open_websocket(&query);
        assert!(pair.client.is_upgrading());
        let probe = pair.client.poll_frame().expect("2probe");
        assert_eq!(probe, Frame::Text("2probe".into()));
        pair.client.send_text("m1");
        let post = pair
            .client
            .poll_request()
            .expect("m1 still goes over polling");
        assert_eq!(post.method, Method::Post);
        pair.request(post);

        // The server answers the probe and releases the parked GET (held here for now).
        let now = pair.now;
        pair.server().handle_frame(probe, now);
        let pong = pair.server().poll_frame().expect("3probe");
        let released = pair.server().poll_get_response().expect("the GET released");
        pair.parked = false;
        pair.server().send_text("s1");

        // 3probe: the client pauses polling; what it sends now waits.
        pair.client.handle_frame(pong, now);
        pair.client.send_text("m2");
        assert!(pair.client.poll_request().is_none(), "polling is paused");
        assert!(
            pair.client.poll_frame().is_none(),
            "no 5 before the GET is back"
        );

        // The GET comes back: 5, then the outbox, on the WebSocket.
        pair.client.handle_response(
            Method::Get,
            released.status,
            released.content_type,
            released.body,
            now,
        );
        assert_eq!(
            pair.client_events,
            [CEvent::Open, CEvent::Text("s0".into())]
        );
        assert_eq!(pair.client.poll_event(), Some(CEvent::Upgraded));
        assert_eq!(pair.client.transport(), Transport::Websocket);
        let frames: Vec<Frame> = std::iter::from_fn(|| pair.client.poll_frame()).collect();
        assert_eq!(frames, [Frame::Text("5".into()), Frame::Text("4m2".into())]);
        for frame in frames {
            pair.server().handle_frame(frame, now);
        }
        pair.client.send_text("m3");
        pair.server().send_text("s2");
        pair.pump();
        assert!(
            pair.client.poll_request().is_none(),
            "no polling after the upgrade"
        );
        assert_eq!(
            pair.server_texts(),
            ["m0", "m1", "m2", "m3"],
            "{revision:?}"
        );
        assert!(pair.server_events.contains(&SEvent::Upgraded));
        assert_eq!(pair.client_texts(), ["s0", "s1", "s2"], "{revision:?}");
        assert_eq!(pair.server().transport(), Transport::Websocket);
    }
}

#[test]
fn an_upgrade_in_one_go_keeps_the_order_of_a_busy_outbox() {
    for revision in [EngineIo::V3, EngineIo::V4] {
        let mut pair = Pair::new(polling_config(revision), ServerConfig::default());
        for i in 0..5 {
            pair.client.send_text(format!("m{i}"));
            if let Some(server) = pair.server.as_mut() {
                server.send_text(format!("s{i}"));
            }
            pair.step();
        }
        pair.pump();
        for i in 5..10 {
            pair.client.send_text(format!("m{i}"));
            pair.server().send_text(format!("s{i}"));
        }
        pair.pump();
        assert_eq!(
            pair.client.transport(),
            Transport::Websocket,
            "{revision:?}"
        );
        let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
        assert_eq!(pair.server_texts(), expected, "{revision:?}");
        // The server's messages: those sent before the handshake was answered are lost with
        // the session that did not exist yet; the rest arrive in order.
        let got = pair.client_texts();
        let expected: Vec<String> = (10 - got.len()..10).map(|i| format!("s{i}")).collect();
        assert_eq!(got, expected, "{revision:?}");
        assert!(got.len() >= 9, "{got:?}");
    }
}

#[test]
fn a_failed_upgrade_leaves_polling_running() {
    let mut pair = Pair::new(polling_config(EngineIo::V4), ServerConfig::default());
    pair.open_websockets = false;
    pair.pump();
    let query = pair.client.poll_websocket().expect("the upgrade");
    pair.open_websocket(&query);
    let now = pair.now;
    // Not 3probe: the WebSocket is closed, polling goes on.
    pair.client.handle_frame(Frame::Text("4early".into()), now);
    assert_eq!(pair.client.poll_frame(), Some(Frame::Text("2probe".into())));
    assert_eq!(pair.client.poll_frame(), Some(Frame::Close(None)));
    assert!(!pair.client.is_upgrading());
    pair.ws = false;
    pair.client.send_text("still polling");
    pair.pump();
    assert!(pair.client_events.contains(&CEvent::UpgradeFailed));
    assert_eq!(pair.server_texts(), ["still polling"]);
    assert!(pair.client.poll_websocket().is_none(), "no second attempt");
    // A WebSocket that could not be opened at all.
    let mut pair = Pair::new(polling_config(EngineIo::V4), ServerConfig::default());
    pair.open_websockets = false;
    pair.pump();
    pair.client.poll_websocket().expect("the upgrade");
    pair.client.handle_frame(Frame::Close(None), pair.now);
    assert_eq!(pair.client.poll_event(), Some(CEvent::UpgradeFailed));
    assert!(pair.client.poll_frame().is_none());
}

#[test]
fn websocket_only_sessions_open_with_the_first_frame() {
    for revision in [EngineIo::V3, EngineIo::V4] {
        let config = ClientConfig::new(revision).with_transport(Transport::Websocket);
        let mut pair = Pair::new(config, ServerConfig::default());
        assert!(pair.client.poll_request().is_none(), "no polling");
        pair.pump();
        assert_eq!(pair.client_events, [CEvent::Open], "{revision:?}");
        assert_eq!(pair.client.transport(), Transport::Websocket);
        assert_eq!(pair.client.upgrades().count(), 0);
        pair.client.send_binary(Bytes::from_static(&[1, 2]));
        pair.server().send_binary(Bytes::from_static(&[3]));
        pair.pump();
        assert_eq!(
            pair.server_events,
            [SEvent::Binary(Bytes::from_static(&[1, 2]))]
        );
        assert_eq!(
            pair.client_events[1],
            CEvent::Binary(Bytes::from_static(&[3]))
        );
    }
}

/// Regression (found by the `eio_client_session` fuzz target): a WebSocket-only session
/// whose WebSocket cannot be opened closes (it was taken for a failed upgrade and stayed
/// opening forever, without a timer).
#[test]
fn websocket_only_sessions_close_when_the_websocket_fails() {
    for revision in [EngineIo::V3, EngineIo::V4] {
        let now = Instant::now();
        let config = ClientConfig::new(revision).with_transport(Transport::Websocket);
        let mut session = client::Session::new(config);
        assert!(
            session.poll_websocket().is_some(),
            "the handshake's WebSocket"
        );
        session.handle_frame(Frame::Close(None), now);
        assert!(session.is_closed(), "{revision:?}");
        assert_eq!(
            session.poll_event(),
            Some(CEvent::Closed(ClientClose::TransportClosed))
        );
        assert_eq!(session.poll_event(), None);
        assert_eq!(
            session.poll_frame(),
            None,
            "no close frame for a WebSocket never open"
        );
        assert_eq!(session.poll_websocket(), None);
        assert_eq!(session.poll_timeout(), None);
    }
}

#[test]
fn v4_heartbeat_answers_pings_and_times_out_a_silent_server() {
    for upgrade in [false, true] {
        let mut pair = Pair::new(
            polling_config(EngineIo::V4).with_upgrade(upgrade),
            ServerConfig::default(),
        );
        pair.pump();
        let start = pair.now;
        // Three seconds of pings (every 300 ms): both sides stay open.
        while pair.now < start + Duration::from_secs(3) {
            let at = pair.next_timer().expect("a timer");
            pair.advance(at);
        }
        assert!(
            pair.client.is_open(),
            "upgrade={upgrade}: {:?}",
            pair.client_events
        );
        assert!(!pair.server().is_closed(), "{:?}", pair.server_events);
        assert_eq!(
            pair.client.transport(),
            if upgrade {
                Transport::Websocket
            } else {
                Transport::Polling
            }
        );
        // The server goes silent: the client gives up pingInterval + pingTimeout after the
        // last packet it heard, not a millisecond earlier.
        let deadline = pair.client.poll_timeout().expect("the heartbeat deadline");
        pair.client
            .handle_timeout(deadline - Duration::from_millis(1));
        assert!(pair.client.is_open());
        pair.client.handle_timeout(deadline);
        assert!(pair.client.is_closed());
        let events: Vec<CEvent> = std::iter::from_fn(|| pair.client.poll_event()).collect();
        assert_eq!(events, [CEvent::Closed(ClientClose::PingTimeout)]);
        assert_eq!(pair.client.poll_timeout(), None);
    }
}

#[test]
fn v3_heartbeat_pings_from_the_client_and_times_out_a_missing_pong() {
    for upgrade in [false, true] {
        let mut pair = Pair::new(
            polling_config(EngineIo::V3).with_upgrade(upgrade),
            ServerConfig::default(),
        );
        pair.pump();
        let open = pair.now;
        assert_eq!(
            pair.client.poll_timeout(),
            Some(open + Duration::from_millis(300))
        );
        let start = pair.now;
        // The server closes a v3 session without client pings after 500 ms: three seconds
        // of client pings keep it open.
        while pair.now < start + Duration::from_secs(3) {
            let at = pair.next_timer().expect("a timer");
            pair.advance(at);
        }
        assert!(pair.client.is_open(), "{:?}", pair.client_events);
        assert!(!pair.server().is_closed(), "{:?}", pair.server_events);
        // The next ping goes out and nobody answers: closed pingTimeout after it.
        let ping_at = pair.client.poll_timeout().expect("the next ping");
        pair.client.handle_timeout(ping_at);
        let sent =
            pair.client
                .poll_request()
                .map(|r| r.body)
                .or_else(|| match pair.client.poll_frame() {
                    Some(Frame::Text(t)) => Some(Bytes::copy_from_slice(t.as_bytes())),
                    _ => None,
                });
        let sent = sent.expect("the ping goes out");
        assert!(sent.ends_with(b"2"), "{sent:?}");
        let pong_by = pair.client.poll_timeout().expect("the pong's deadline");
        assert_eq!(pong_by, ping_at + Duration::from_millis(200));
        pair.client
            .handle_timeout(pong_by - Duration::from_millis(1));
        assert!(pair.client.is_open());
        pair.client.handle_timeout(pong_by);
        assert_eq!(
            pair.client.poll_event(),
            Some(CEvent::Closed(ClientClose::PingTimeout))
        );
    }
}

#[test]
fn closes_from_either_side_on_either_transport() {
    for upgrade in [false, true] {
        // The client closes: `1` reaches the server.
        let mut pair = Pair::new(
            polling_config(EngineIo::V4).with_upgrade(upgrade),
            ServerConfig::default(),
        );
        pair.pump();
        pair.client.send_text("last words");
        pair.client.close();
        pair.pump();
        assert_eq!(
            pair.client_events.last(),
            Some(&CEvent::Closed(ClientClose::ClientClose))
        );
        assert_eq!(pair.server_texts(), ["last words"], "upgrade={upgrade}");
        assert_eq!(
            pair.server_events.last(),
            Some(&SEvent::Closed(ServerClose::ClientRequest)),
            "upgrade={upgrade}"
        );
        assert!(pair.client.poll_request().is_none());
        pair.client.send_text("dropped");
        assert!(pair.client.poll_request().is_none() && pair.client.poll_frame().is_none());

        // The server closes.
        let mut pair = Pair::new(
            polling_config(EngineIo::V4).with_upgrade(upgrade),
            ServerConfig::default(),
        );
        pair.pump();
        pair.server().send_text("bye");
        pair.pump();
        pair.server().close();
        pair.pump();
        let expected = if upgrade {
            ClientClose::TransportClosed // a WebSocket ends with a close frame
        } else {
            ClientClose::ServerClose // the parked GET carries `1`
        };
        assert_eq!(
            pair.client_events.last(),
            Some(&CEvent::Closed(expected)),
            "upgrade={upgrade}"
        );
        assert_eq!(pair.client_texts(), ["bye"]);
        assert_eq!(
            pair.client_events
                .iter()
                .filter(|e| matches!(e, CEvent::Closed(_)))
                .count(),
            1
        );
    }
}

#[test]
fn refused_and_malformed_handshakes_close_without_panicking() {
    let now = Instant::now();
    let open = |status, body: &'static [u8]| {
        let mut session = client::Session::new(ClientConfig::default());
        session.poll_request().expect("the handshake");
        session.handle_response(
            Method::Get,
            status,
            Some(client::TEXT_BODY),
            Bytes::from_static(body),
            now,
        );
        std::iter::from_fn(|| session.poll_event()).collect::<Vec<_>>()
    };
    assert_eq!(
        open(
            400,
            br#"{"code":5,"message":"Unsupported protocol version"}"#
        ),
        [CEvent::Closed(ClientClose::HttpStatus(400))]
    );
    for body in [&b""[..], b"4hello", b"0{}", b"0{\"sid\":1}"] {
        assert_eq!(
            open(200, body),
            [CEvent::Closed(ClientClose::BadHandshake)],
            "{body:?}"
        );
    }
    // A session the server forgot: the next GET is refused, the client closes.
    let mut pair = Pair::new(
        polling_config(EngineIo::V4).with_upgrade(false),
        ServerConfig::default(),
    );
    pair.pump();
    let get = Request::from_query("GET", "EIO=4&transport=polling");
    pair.server().handle_get(&get); // a second GET: the server closes the session
    pair.pump();
    assert!(pair.client.is_closed(), "{:?}", pair.client_events);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the server answers, in whatever order, the client never panics, gives one
    /// Closed at most and nothing after it.
    #[test]
    fn arbitrary_answers_never_panic(
        revision in prop_oneof![Just(EngineIo::V3), Just(EngineIo::V4)],
        steps in proptest::collection::vec(
            (0u8..10, proptest::collection::vec(any::<u8>(), 0..40), 0u64..1000),
            0..20,
        ),
    ) {
        let mut session = client::Session::new(ClientConfig::new(revision));
        let t0 = Instant::now();
        let mut events = Vec::new();
        for (kind, bytes, millis) in steps {
            let now = t0 + Duration::from_millis(millis);
            let body = Bytes::from(bytes.clone());
            let text = Utf8Bytes::from(String::from_utf8_lossy(&bytes).into_owned());
            match kind {
                0 => { session.poll_request(); }
                1 => session.handle_response(Method::Get, 200, Some(client::TEXT_BODY), body, now),
                2 => session.handle_response(Method::Get, 200, Some(client::BINARY_BODY), body, now),
                3 => session.handle_response(
                    Method::Get,
                    200,
                    None,
                    Bytes::from_static(br#"0{"sid":"x","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}"#),
                    now,
                ),
                4 => { session.poll_websocket(); session.handle_websocket_open(now); }
                8 => {
                    // Any timers, up to u64::MAX milliseconds.
                    let number = |i: usize| {
                        bytes.get(i..i + 8).map_or(u64::MAX, |b| u64::from_le_bytes(b.try_into().unwrap()))
                    };
                    let open = format!(
                        r#"0{{"sid":"x","upgrades":[],"pingInterval":{},"pingTimeout":{}}}"#,
                        number(0),
                        number(8)
                    );
                    session.handle_response(Method::Get, 200, None, Bytes::from(open), now);
                }
                5 => session.handle_frame(Frame::Text(text), now),
                6 => session.handle_frame(Frame::Binary(body), now),
                _ => {
                    session.handle_timeout(now);
                    session.handle_timeout(now + Duration::from_secs(u64::from(u32::MAX)));
                }
            }
            session.send_text("x");
            while session.poll_frame().is_some() {}
            events.extend(std::iter::from_fn(|| session.poll_event()));
        }
        let closed = events.iter().position(|e| matches!(e, CEvent::Closed(_)));
        if let Some(at) = closed {
            prop_assert_eq!(at, events.len() - 1, "{:?}", events);
        }
    }
}

// ---------------------------------------------------------------------- Socket.IO

/// Moves every message between the two connections until neither has one; the server's
/// application accepts every CONNECT (as socket `s-<namespace>`) except `/random`.
fn relay(
    client: &mut sio_client::Connection,
    server: &mut sio_server::Connection,
) -> (Vec<sio_client::Event>, Vec<sio_server::Event>) {
    let (mut client_events, mut server_events) = (Vec::new(), Vec::new());
    loop {
        let mut moved = false;
        while let Some(frame) = client.poll_message() {
            server.handle_message(message(frame));
            moved = true;
        }
        while let Some(event) = server.poll_event() {
            if let sio_server::Event::ConnectRequest { namespace, .. } = &event {
                if namespace == "/random" {
                    server.reject(namespace, "Invalid namespace").unwrap();
                } else {
                    server.accept(namespace, &format!("s-{namespace}")).unwrap();
                }
            }
            server_events.push(event);
            moved = true;
        }
        while let Some(frame) = server.poll_message() {
            client.handle_message(message(frame));
            moved = true;
        }
        client_events.extend(std::iter::from_fn(|| client.poll_event()));
        if !moved {
            return (client_events, server_events);
        }
    }
}

fn message(frame: OutFrame) -> sio_server::Message {
    match frame {
        OutFrame::Text(text) => sio_server::Message::Text(text),
        OutFrame::Binary(bytes) => sio_server::Message::Binary(bytes),
    }
}

fn args_of(packet: &sio_codec::socketio::Assembled) -> String {
    packet
        .packet()
        .as_packet()
        .data()
        .map(|d| d.as_str().to_string())
        .unwrap_or_default()
}

fn pair(protocol: Protocol) -> (sio_client::Connection, sio_server::Connection) {
    let server = sio_server::Connection::new(protocol, Instant::now(), Duration::from_secs(45));
    (sio_client::Connection::new(protocol), server)
}

#[test]
fn v5_connects_with_auth_and_gets_the_socket_id() {
    let (mut client, mut server) = pair(Protocol::V4);
    client
        .connect("/", Some(&serde_json::json!({"token": "123"})))
        .unwrap();
    client.connect::<()>("/custom", None).unwrap();
    client.connect::<()>("/custom", None).unwrap(); // no second CONNECT
    let (client_events, server_events) = relay(&mut client, &mut server);
    assert_eq!(
        server_events,
        [
            sio_server::Event::ConnectRequest {
                namespace: "/".into(),
                auth: Auth::Json(r#"{"token":"123"}"#.into())
            },
            sio_server::Event::ConnectRequest {
                namespace: "/custom".into(),
                auth: Auth::None
            },
        ]
    );
    assert_eq!(
        client_events,
        [
            sio_client::Event::Connected {
                namespace: "/".into(),
                sid: Some("s-/".into())
            },
            sio_client::Event::Connected {
                namespace: "/custom".into(),
                sid: Some("s-/custom".into())
            },
        ]
    );
    assert_eq!(client.sid("/custom"), Some("s-/custom"));
    assert!(
        client.connect("/", Some(&"not an object")).is_ok(),
        "already connected"
    );
    assert!(matches!(
        client.connect("/other", Some(&"not an object")),
        Err(sio_client::Refused::InvalidValue(_))
    ));
    assert!(matches!(
        client.connect::<()>("nope", None),
        Err(sio_client::Refused::InvalidValue(_))
    ));
}

#[test]
fn v4_joins_root_by_itself_and_sends_credentials_as_a_query() {
    let (mut client, mut server) = pair(Protocol::V3);
    client.connect::<()>("/", None).unwrap(); // the server joins / by itself: nothing sent
    client
        .connect("/custom", Some(&serde_json::json!({"token": "a b"})))
        .unwrap();
    let (client_events, server_events) = relay(&mut client, &mut server);
    assert_eq!(
        server_events,
        [
            sio_server::Event::ConnectRequest {
                namespace: "/".into(),
                auth: Auth::None
            },
            sio_server::Event::ConnectRequest {
                namespace: "/custom".into(),
                auth: Auth::Query("token=a%20b".into())
            },
        ]
    );
    assert_eq!(
        client_events,
        [
            sio_client::Event::Connected {
                namespace: "/".into(),
                sid: None
            },
            sio_client::Event::Connected {
                namespace: "/custom".into(),
                sid: None
            },
        ]
    );
}

#[test]
fn connect_errors_carry_the_payload_and_allow_a_retry() {
    for (protocol, data) in [
        (Protocol::V4, r#"{"message":"Invalid namespace"}"#),
        (Protocol::V3, r#""Invalid namespace""#),
    ] {
        let (mut client, mut server) = pair(protocol);
        client.connect::<()>("/random", None).unwrap();
        let (client_events, _) = relay(&mut client, &mut server);
        assert_eq!(
            client_events.last(),
            Some(&sio_client::Event::ConnectError {
                namespace: "/random".into(),
                data: Some(data.into())
            }),
            "{protocol:?}"
        );
        assert!(!client.is_connected("/random"));
        assert_eq!(
            client.emit("/random", &("x",), false),
            Err(sio_client::Refused::NotJoined)
        );
        // Refused, not stuck: a new CONNECT goes out.
        client.connect::<()>("/random", None).unwrap();
        assert!(client.poll_message().is_some());
    }
}

#[test]
fn emits_with_acks_both_ways_and_unknown_acks_are_errors() {
    for protocol in [Protocol::V3, Protocol::V4] {
        let (mut client, mut server) = pair(protocol);
        client.connect::<()>("/", None).unwrap();
        relay(&mut client, &mut server);
        let first = client
            .emit("/", &("message-with-ack", 1, "2"), true)
            .unwrap();
        let second = client.emit("/", &("message-with-ack", 3), true).unwrap();
        assert_eq!((first, second), (AckId::new(0), AckId::new(1)));
        assert_eq!(client.emit("/", &("no-ack",), false), Ok(None));
        let (_, server_events) = relay(&mut client, &mut server);
        // The server's application acks with the arguments, in reverse order.
        let mut requests = Vec::new();
        for event in &server_events {
            if let sio_server::Event::Message { packet, ack, .. } = event {
                requests.push((*ack, args_of(packet)));
            }
        }
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2], (None, r#"["no-ack"]"#.to_string()));
        for (ack, args) in requests[..2].iter().rev() {
            let id = ack.expect("an ack id");
            let value: serde_json::Value = serde_json::from_str(args).unwrap();
            server
                .ack("/", id, &value.as_array().unwrap()[1..])
                .unwrap();
        }
        // An ack nobody asked for, and a second answer to the first id.
        server.ack("/", AckId::new(99).unwrap(), &[1]).unwrap();
        server.ack("/", first.unwrap(), &[1]).unwrap();
        let (client_events, _) = relay(&mut client, &mut server);
        let acks: Vec<(AckId, String)> = client_events
            .iter()
            .filter_map(|e| match e {
                sio_client::Event::Ack { id, packet, .. } => Some((*id, args_of(packet))),
                _ => None,
            })
            .collect();
        assert_eq!(
            acks,
            [
                (second.unwrap(), "[3]".to_string()),
                (first.unwrap(), r#"[1,"2"]"#.to_string())
            ],
            "{protocol:?}"
        );
        assert_eq!(
            client_events[2..],
            [
                sio_client::Event::Error(Unexpected::Ack {
                    namespace: "/".into(),
                    id: AckId::new(99)
                }),
                sio_client::Event::Error(Unexpected::Ack {
                    namespace: "/".into(),
                    id: first
                }),
            ]
        );
        assert!(!client.is_closed());

        // The server asks, the client answers.
        let id = server.emit("/", &("request-ack", "ping?"), true).unwrap();
        let (client_events, _) = relay(&mut client, &mut server);
        let [
            sio_client::Event::Message {
                ack: Some(asked),
                packet,
                ..
            },
        ] = &client_events[..]
        else {
            panic!("{client_events:?}")
        };
        assert_eq!(args_of(packet), r#"["request-ack","ping?"]"#);
        client.ack("/", *asked, &("pong!",)).unwrap();
        let (_, server_events) = relay(&mut client, &mut server);
        let [
            sio_server::Event::Ack {
                id: answered,
                packet,
                ..
            },
        ] = &server_events[..]
        else {
            panic!("{server_events:?}")
        };
        assert_eq!(
            (Some(*answered), args_of(packet)),
            (id, r#"["pong!"]"#.into())
        );
    }
}

#[test]
fn binary_arguments_travel_as_attachments_both_ways() {
    for protocol in [Protocol::V3, Protocol::V4] {
        let (mut client, mut server) = pair(protocol);
        client.connect::<()>("/custom", None).unwrap();
        relay(&mut client, &mut server);
        let data = Bytes::from_static(&[1, 2, 3, 0xff]);
        let frames_before = client.emit("/custom", &("message", data.clone()), false);
        assert_eq!(frames_before, Ok(None));
        let (_, server_events) = relay(&mut client, &mut server);
        let Some(sio_server::Event::Message { packet, .. }) = server_events.last() else {
            panic!("{server_events:?}")
        };
        assert_eq!(packet.attachments(), std::slice::from_ref(&data));
        // The echo: a binary event back, reassembled on the client.
        server
            .emit("/custom", &("message-back", data.clone()), false)
            .unwrap();
        let (client_events, _) = relay(&mut client, &mut server);
        let [
            sio_client::Event::Message {
                namespace, packet, ..
            },
        ] = &client_events[..]
        else {
            panic!("{client_events:?}")
        };
        assert_eq!(namespace, "/custom");
        assert_eq!(packet.attachments(), [data]);
        assert_eq!(
            args_of(packet),
            r#"["message-back",{"_placeholder":true,"num":0}]"#
        );
    }
}

#[test]
fn disconnects_both_ways_and_parse_errors_close() {
    let (mut client, mut server) = pair(Protocol::V4);
    client.connect::<()>("/", None).unwrap();
    client.connect::<()>("/custom", None).unwrap();
    relay(&mut client, &mut server);
    client.disconnect("/custom").unwrap();
    assert_eq!(
        client.disconnect("/custom"),
        Err(sio_client::Refused::NotJoined)
    );
    let (_, server_events) = relay(&mut client, &mut server);
    assert_eq!(
        server_events,
        [sio_server::Event::Disconnected {
            namespace: "/custom".into()
        }]
    );
    server.disconnect("/").unwrap();
    let (client_events, _) = relay(&mut client, &mut server);
    assert_eq!(
        client_events,
        [sio_client::Event::Disconnected {
            namespace: "/".into()
        }]
    );
    assert!(!client.is_connected("/"));
    // Packets for a namespace not connected are errors, not the end.
    client.handle_message(sio_server::Message::Text(r#"2/x,["a"]"#.into()));
    assert_eq!(
        client.poll_event(),
        Some(sio_client::Event::Error(Unexpected::Packet {
            namespace: "/x".into(),
            packet_type: sio_codec::socketio::PacketType::Event
        }))
    );
    // A malformed packet closes; nothing after.
    client.handle_message(sio_server::Message::Text("2[\"unterminated\"".into()));
    assert_eq!(
        client.poll_event(),
        Some(sio_client::Event::Close(
            sio_client::CloseReason::ParseError
        ))
    );
    client.handle_message(sio_server::Message::Text(r#"0{"sid":"x"}"#.into()));
    assert_eq!(client.poll_event(), None);
    assert_eq!(
        client.emit("/", &("x",), false),
        Err(sio_client::Refused::Closed)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any sequence of server messages: no panic, acks heard only for ids handed out, each
    /// once, and nothing after a close.
    #[test]
    fn arbitrary_server_messages_never_panic(
        v4 in any::<bool>(),
        messages in proptest::collection::vec(
            prop_oneof![
                "[0-6][0-9]{0,2}-?(/[a-z]{0,3},)?[0-9]{0,2}(\\[\"a\",1\\]|\\{\"sid\":\"s\"\\}|\\[\\{\"_placeholder\":true,\"num\":0\\}\\])?".prop_map(|s| (true, s)),
                "[a-z]{0,3}".prop_map(|s| (false, s)),
            ],
            0..30,
        ),
    ) {
        let protocol = if v4 { Protocol::V3 } else { Protocol::V4 };
        let mut client = sio_client::Connection::new(protocol);
        client.connect::<()>("/", None).unwrap();
        client.connect::<()>("/a", None).unwrap();
        let mut handed_out = std::collections::BTreeSet::new();
        let mut heard = std::collections::BTreeSet::new();
        let mut closed = false;
        for (text, s) in messages {
            if !client.is_closed() {
                for ns in ["/", "/a"] {
                    if let Ok(Some(id)) = client.emit(ns, &("e",), true) {
                        handed_out.insert((ns.to_string(), id));
                    }
                }
            }
            let message = if text {
                sio_server::Message::Text(Utf8Bytes::from(s))
            } else {
                sio_server::Message::Binary(Bytes::from(s.into_bytes()))
            };
            client.handle_message(message);
            while let Some(event) = client.poll_event() {
                prop_assert!(!closed, "an event after the close: {:?}", event);
                match event {
                    sio_client::Event::Ack { namespace, id, .. } => {
                        prop_assert!(handed_out.contains(&(namespace.clone(), id)));
                        prop_assert!(heard.insert((namespace, id)), "heard twice");
                    }
                    sio_client::Event::Close(_) => closed = true,
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn huge_server_timers_are_clamped_not_overflowed() {
    let now = Instant::now();
    let mut session = client::Session::new(ClientConfig::new(EngineIo::V4));
    session.poll_request().expect("the handshake");
    let open = format!(
        r#"0{{"sid":"x","upgrades":[],"pingInterval":{max},"pingTimeout":{max}}}"#,
        max = u64::MAX
    );
    session.handle_response(Method::Get, 200, None, Bytes::from(open), now);
    let js_max = Duration::from_millis((1 << 31) - 1); // JavaScript's longest timer
    assert_eq!(session.ping_interval(), js_max);
    assert_eq!(session.ping_timeout(), js_max);
    // v4: silence is allowed for pingInterval + pingTimeout.
    assert_eq!(session.poll_timeout(), Some(now + js_max * 2));
    session.handle_timeout(now + js_max * 2);
    assert!(session.is_closed());
}
