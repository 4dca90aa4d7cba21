//! The sans-IO Engine.IO server session, driven with synthetic requests, frames and instants.

use proptest::prelude::*;
use sio_codec::bytes::Bytes;
use sio_codec::engineio::server::{
    BINARY_BODY, CloseReason, Event, Frame, GetOutcome, Opening, Refusal, Request, Response, Route,
    ServerConfig, Session, TEXT_BODY, Target, Transport, classify,
};
use sio_codec::engineio::{self, Packet, v3};
use sio_codec::{DecodeConfig, EngineIo, Utf8Bytes};
use std::time::{Duration, Instant};

const SID: &str = "lv_VI97HAXpY6yYWAAAC";

fn config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.allow_eio3 = true;
    config
}

fn get(query: &str) -> Request<'_> {
    Request::from_query("GET", query)
}

fn post(query: &str) -> Request<'_> {
    Request::from_query("POST", query)
}

/// A polling session of `eio` (query extras in `extra`) and its open response.
fn polling(eio: &str, extra: &str, now: Instant) -> (Session, Response) {
    let query = format!("EIO={eio}&transport=polling{extra}");
    let (session, opening) = Session::accept(&config(), &get(&query), SID, now).unwrap();
    let Opening::Response(response) = opening else {
        panic!("{opening:?}")
    };
    (session, response)
}

fn websocket(eio: &str, now: Instant) -> (Session, Frame) {
    let query = format!("EIO={eio}&transport=websocket");
    let request = get(&query).with_websocket();
    let (session, opening) = Session::accept(&config(), &request, SID, now).unwrap();
    let Opening::Frame(frame) = opening else {
        panic!("{opening:?}")
    };
    (session, frame)
}

fn events(session: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn frames(session: &mut Session) -> Vec<Frame> {
    std::iter::from_fn(|| session.poll_frame()).collect()
}

fn answered(outcome: GetOutcome) -> Response {
    match outcome {
        GetOutcome::Answered(response) => response,
        GetOutcome::Parked => panic!("parked"),
    }
}

fn text(body: &str) -> Response {
    Response {
        status: 200,
        content_type: Some(TEXT_BODY),
        body: Bytes::copy_from_slice(body.as_bytes()),
    }
}

fn text_frame(text: &str) -> Frame {
    Frame::Text(Utf8Bytes::from(text))
}

fn refusal_body(response: &Response) -> (u16, String) {
    (
        response.status,
        String::from_utf8(response.body.to_vec()).unwrap(),
    )
}

#[test]
fn refuses_handshakes_in_the_reference_order() {
    use Refusal::*;
    let c = config();
    let refused = |method: &str, query: &str, ws: bool| {
        let mut request = Request::from_query(method, query);
        request.websocket = ws;
        classify(&c, &request).err()
    };
    assert_eq!(refused("GET", "EIO=4", false), Some(UnknownTransport));
    assert_eq!(
        refused("GET", "EIO=9&transport=abc&sid=x", false),
        Some(UnknownTransport)
    );
    assert_eq!(
        refused("GET", "EIO=4&transport=webtransport", false),
        Some(UnknownTransport)
    );
    assert_eq!(
        refused("POST", "EIO=9&transport=polling", false),
        Some(BadHandshakeMethod)
    );
    assert_eq!(
        refused("GET", "EIO=4&transport=websocket", false),
        Some(BadRequest)
    );
    assert_eq!(
        refused("GET", "EIO=4&transport=polling", true),
        Some(BadRequest)
    );
    assert_eq!(
        refused("GET", "transport=polling", false),
        Some(UnsupportedVersion)
    );
    assert_eq!(
        refused("GET", "EIO=abc&transport=polling", false),
        Some(UnsupportedVersion)
    );
    assert_eq!(
        classify(&c, &get("EIO=9&transport=polling&sid=x")),
        Ok(Target::Existing { sid: "x" })
    );
    assert_eq!(
        classify(&c, &get("EIO=3&transport=polling")),
        Ok(Target::Handshake {
            revision: EngineIo::V3,
            transport: Transport::Polling
        })
    );
    let no_v3 = ServerConfig::default();
    assert_eq!(
        classify(&no_v3, &get("EIO=3&transport=polling")),
        Err(UnsupportedVersion)
    );
    let mut no_polling = config();
    no_polling.polling = false;
    assert_eq!(
        classify(&no_polling, &get("EIO=4&transport=polling")),
        Err(UnknownTransport)
    );
    // Bodies and statuses.
    assert_eq!(
        refusal_body(&UnknownSid.polling_response()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#.into())
    );
    assert_eq!(
        refusal_body(&Forbidden.polling_response()),
        (403, r#"{"code":4,"message":"Forbidden"}"#.into())
    );
    assert_eq!(
        refusal_body(&UnknownTransport.websocket_response()),
        (400, "Transport unknown".into())
    );
    let codes: Vec<_> = [
        UnknownTransport,
        UnknownSid,
        BadHandshakeMethod,
        BadRequest,
        Forbidden,
        UnsupportedVersion,
    ]
    .map(Refusal::code)
    .into();
    assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
    // accept refuses the same way, and a request with a sid is no handshake.
    let now = Instant::now();
    assert_eq!(
        Session::accept(&c, &get("EIO=4&transport=polling&sid=x"), SID, now).err(),
        Some(UnknownSid)
    );
    assert_eq!(
        Session::accept(&c, &post("EIO=4&transport=polling"), SID, now).err(),
        Some(BadHandshakeMethod)
    );
}

#[test]
fn encodes_the_open_packet_per_revision_and_transport() {
    let now = Instant::now();
    let (session, response) = polling("4", "", now);
    assert_eq!(
        response,
        text(
            r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        )
    );
    assert_eq!(
        (session.revision(), session.transport(), session.sid()),
        (EngineIo::V4, Transport::Polling, SID)
    );
    let (_, response) = polling("3", "", now);
    assert_eq!(
        response,
        text(
            r#"118:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        )
    );
    let (session, frame) = websocket("4", now);
    assert_eq!(
        frame,
        text_frame(
            r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        )
    );
    assert_eq!(session.transport(), Transport::Websocket);
    let (_, frame) = websocket("3", now);
    assert!(matches!(frame, Frame::Text(t) if t.contains(r#""upgrades":[]"#)));
    // JSONP wraps the handshake; WebSocket disabled leaves no upgrade.
    let (_, response) = polling("3", "&j=0", now);
    assert_eq!(
        response.body,
        &br#"___eio[0]("118:0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");"#[..]
    );
    let mut c = config();
    c.websocket = false;
    c.max_payload_on_v3 = false;
    let (_, opening) = Session::accept(&c, &get("EIO=3&transport=polling"), "s", now).unwrap();
    assert_eq!(
        opening,
        Opening::Response(text(
            r#"67:0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        ))
    );
}

#[test]
fn roundtrips_messages_over_polling() {
    let now = Instant::now();
    let (mut session, _) = polling("4", "", now);
    let body = Bytes::from_static(b"4hello\x1e4w\xc3\xb6rld\x1ebAQID");
    let q = "EIO=4&transport=polling&sid=lv_VI97HAXpY6yYWAAAC";
    assert_eq!(session.route(&post(q)), Ok(Route::Post));
    let response = session.handle_post(&post(q), body.clone(), now);
    assert_eq!((response.status, &response.body[..]), (200, &b"ok"[..]));
    let received = events(&mut session);
    assert_eq!(
        received,
        [
            Event::Text("hello".into()),
            Event::Text("wörld".into()),
            Event::Binary(Bytes::from_static(&[1, 2, 3]))
        ]
    );
    // Zero-copy: the text is a view of the body.
    let Event::Text(hello) = &received[0] else {
        unreachable!()
    };
    assert_eq!(hello.as_bytes().as_ptr(), body[1..].as_ptr());
    session.send_text("hi");
    session.send_binary(Bytes::from_static(&[1, 2, 3]));
    assert_eq!(session.route(&get(q)), Ok(Route::Get));
    assert_eq!(answered(session.handle_get(&get(q))), text("4hi\x1ebAQID"));
    assert_eq!(
        session.route(&Request::from_query("PUT", q)),
        Ok(Route::Unsupported)
    );
}

#[test]
fn releases_the_parked_get_when_something_is_queued() {
    let now = Instant::now();
    let (mut session, _) = polling("4", "", now);
    let q = "EIO=4&transport=polling&sid=x";
    assert_eq!(session.handle_get(&get(q)), GetOutcome::Parked);
    assert_eq!(session.poll_get_response(), None);
    session.send_text("a");
    session.send_text("b");
    assert_eq!(session.poll_get_response(), Some(text("4a")));
    assert_eq!(session.poll_get_response(), None);
    // The second message waits for the next GET, answered at once.
    assert_eq!(answered(session.handle_get(&get(q))), text("4b"));
}

#[test]
fn a_held_batch_goes_out_together() {
    let now = Instant::now();
    let (mut session, _) = polling("4", "", now);
    let q = "EIO=4&transport=polling&sid=x";
    assert_eq!(session.handle_get(&get(q)), GetOutcome::Parked);
    session.hold();
    session.send_text("a");
    session.send_text("b");
    assert_eq!(session.poll_get_response(), None, "held");
    session.release();
    assert_eq!(session.poll_get_response(), Some(text("4a\x1e4b")));

    // Over WebSocket: no frame until the release.
    let (mut ws, _) = websocket("4", now);
    ws.hold();
    ws.send_text("a");
    assert_eq!(frames(&mut ws), []);
    ws.release();
    assert_eq!(frames(&mut ws), [text_frame("4a")]);

    // Closing releases what is held: the parked GET gets it, then the close.
    let (mut session, _) = polling("4", "", now);
    assert_eq!(session.handle_get(&get(q)), GetOutcome::Parked);
    session.hold();
    session.send_text("a");
    session.close();
    assert_eq!(session.poll_get_response(), Some(text("4a\x1e1")));
}

#[test]
fn refuses_a_second_get_and_closes() {
    let now = Instant::now();
    let (mut session, _) = polling("4", "", now);
    let q = "EIO=4&transport=polling&sid=x";
    assert_eq!(session.handle_get(&get(q)), GetOutcome::Parked);
    let second = answered(session.handle_get(&get(q)));
    assert_eq!((second.status, second.body.len()), (400, 0));
    assert_eq!(session.poll_get_response(), Some(text("1")));
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::DuplicateGet)]
    );
    assert_eq!(session.route(&get(q)), Err(Refusal::UnknownSid));
    assert_eq!(
        answered(session.handle_get(&get(q))),
        Refusal::UnknownSid.polling_response()
    );
    assert_eq!(session.poll_timeout(), None);
}

#[test]
fn closes_on_a_bad_post() {
    let now = Instant::now();
    let q = "EIO=4&transport=polling&sid=x";
    // A bad record: the packets before it are delivered, `200 ok`, then closed; the next
    // request is refused with 400.
    let (mut session, _) = polling("4", "", now);
    let response = session.handle_post(&post(q), Bytes::from_static(b"4a\x1e\x1e4b"), now);
    assert_eq!(response.status, 200);
    assert_eq!(
        events(&mut session),
        [
            Event::Text("a".into()),
            Event::Closed(CloseReason::ParseError)
        ]
    );
    let next = answered(session.handle_get(&get(q)));
    assert_eq!(refusal_body(&next).0, 400);
    // v4 with an octet-stream body: 400 and closed.
    let (mut session, _) = polling("4", "", now);
    let request = post(q).with_content_type(BINARY_BODY);
    let response = session.handle_post(&request, Bytes::from_static(b"4a"), now);
    assert_eq!((response.status, response.body.len()), (400, 0));
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::ParseError)]
    );
    // Over max_payload: 413, still open; exactly max_payload is fine.
    let mut c = config();
    c.max_payload = 3;
    let (mut session, _) = Session::accept(&c, &get("EIO=4&transport=polling"), SID, now).unwrap();
    let response = session.handle_post(&post(q), Bytes::from_static(b"4abc"), now);
    assert_eq!((response.status, response.body.len()), (413, 0));
    let response = session.handle_post(&post(q), Bytes::from_static(b"4ab"), now);
    assert_eq!(response.status, 200);
    assert_eq!(events(&mut session), [Event::Text("ab".into())]);
    // A second POST while one is in flight: 400 and closed.
    session.begin_post().unwrap();
    assert_eq!(
        session.begin_post(),
        Err(Response {
            status: 400,
            content_type: None,
            body: Bytes::new()
        })
    );
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::DuplicatePost)]
    );
}

#[test]
fn upgrades_to_websocket() {
    let t0 = Instant::now();
    let (mut session, _) = polling("4", "", t0);
    let q = "EIO=4&transport=polling&sid=x";
    let ws = get("EIO=4&transport=websocket&sid=x").with_websocket();
    assert_eq!(session.handle_get(&get(q)), GetOutcome::Parked);
    assert_eq!(session.route(&ws), Ok(Route::Websocket));
    assert!(session.handle_websocket(t0));
    assert!(session.is_upgrading());
    assert_eq!(session.route(&ws), Ok(Route::WebsocketRefused));
    assert!(!session.handle_websocket(t0));
    session.handle_frame(text_frame("2probe"), t0);
    assert_eq!(frames(&mut session), [text_frame("3probe")]);
    assert_eq!(session.poll_get_response(), Some(text("6")));
    // While probing, a message waits and GETs get a noop.
    session.send_text("queued");
    assert_eq!(answered(session.handle_get(&get(q))), text("6"));
    session.handle_frame(text_frame("5"), t0);
    assert_eq!(events(&mut session), [Event::Upgraded]);
    assert_eq!(session.transport(), Transport::Websocket);
    assert_eq!(frames(&mut session), [text_frame("4queued")]);
    session.send_binary(Bytes::from_static(&[1, 2]));
    assert_eq!(
        frames(&mut session),
        [Frame::Binary(Bytes::from_static(&[1, 2]))]
    );
    // Polling is over.
    assert_eq!(session.route(&get(q)), Err(Refusal::BadRequest));
    assert_eq!(
        answered(session.handle_get(&get(q))),
        Refusal::BadRequest.polling_response()
    );
    assert_eq!(
        session.handle_post(&post(q), Bytes::from_static(b"4a"), t0),
        Refusal::BadRequest.polling_response()
    );
    // Messages over the WebSocket, then its close ends the session.
    session.handle_frame(text_frame("4over ws"), t0);
    session.handle_frame(Frame::Binary(Bytes::from_static(&[9])), t0);
    session.handle_frame(Frame::Close(None), t0);
    assert_eq!(
        events(&mut session),
        [
            Event::Text("over ws".into()),
            Event::Binary(Bytes::from_static(&[9])),
            Event::Closed(CloseReason::TransportClosed)
        ]
    );
    assert_eq!(frames(&mut session), []);
}

#[test]
fn abandons_an_upgrade() {
    let t0 = Instant::now();
    let q = "EIO=4&transport=polling&sid=x";
    let (mut session, _) = polling("4", "", t0);
    assert!(session.handle_websocket(t0));
    session.handle_frame(text_frame("2probe"), t0);
    session.handle_frame(text_frame("4early"), t0);
    assert_eq!(
        frames(&mut session),
        [text_frame("3probe"), Frame::Close(None)]
    );
    assert!(!session.is_upgrading());
    session.send_text("still polling");
    assert_eq!(
        answered(session.handle_get(&get(q))),
        text("4still polling")
    );
    // A new WebSocket may try again; the upgrade timeout fires at exactly its instant.
    let t1 = t0 + Duration::from_secs(1);
    assert!(session.handle_websocket(t1));
    let deadline = t1 + Duration::from_secs(10);
    assert_eq!(session.poll_timeout(), Some(deadline));
    session.handle_timeout(deadline - Duration::from_nanos(1));
    assert!(session.is_upgrading());
    session.handle_timeout(deadline);
    assert!(!session.is_upgrading());
    assert_eq!(frames(&mut session), [Frame::Close(None)]);
    assert!(!session.is_closed());
    assert_eq!(events(&mut session), []);
    // The WebSocket closing during the upgrade: polling goes on, nothing to write.
    assert!(session.handle_websocket(deadline));
    session.handle_frame(Frame::Close(None), deadline);
    assert!(!session.is_upgrading() && !session.is_closed());
    assert_eq!(frames(&mut session), []);
}

#[test]
fn pings_every_interval_and_times_out_v4() {
    let t0 = Instant::now();
    let q = "EIO=4&transport=polling&sid=x";
    let (mut session, _) = polling("4", "", t0);
    let interval = Duration::from_secs(25);
    let timeout = Duration::from_secs(20);
    assert_eq!(session.poll_timeout(), Some(t0 + interval));
    session.handle_timeout(t0 + interval - Duration::from_nanos(1));
    assert_eq!(answered_or_parked(&mut session, q), None);
    session.handle_timeout(t0 + interval);
    assert_eq!(session.poll_get_response(), Some(text("2")));
    assert_eq!(session.poll_timeout(), Some(t0 + interval + timeout));
    // The pong at +30 s restarts the interval from there.
    let t_pong = t0 + Duration::from_secs(30);
    session.handle_post(&post(q), Bytes::from_static(b"3"), t_pong);
    assert_eq!(session.poll_timeout(), Some(t_pong + interval));
    // An unsolicited pong is ignored.
    session.handle_post(&post(q), Bytes::from_static(b"3"), t_pong);
    assert!(!session.is_closed());
    let t_ping = t_pong + interval;
    session.handle_timeout(t_ping);
    assert_eq!(session.poll_get_response(), None);
    assert_eq!(answered(session.handle_get(&get(q))), text("2"));
    session.handle_timeout(t_ping + timeout - Duration::from_nanos(1));
    assert!(!session.is_closed());
    session.handle_timeout(t_ping + timeout);
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::PingTimeout)]
    );
    assert_eq!(answered(session.handle_get(&get(q))).status, 400);
}

/// Parks a GET and gives the answer if one came at once (un-parking by a send is not
/// needed by the callers).
fn answered_or_parked(session: &mut Session, q: &str) -> Option<Response> {
    match session.handle_get(&get(q)) {
        GetOutcome::Answered(response) => Some(response),
        GetOutcome::Parked => None,
    }
}

#[test]
fn answers_client_pings_and_times_out_v3() {
    let t0 = Instant::now();
    let q = "EIO=3&transport=polling&sid=x";
    let (mut session, _) = polling("3", "&b64=1", t0);
    let silence = Duration::from_secs(45);
    assert_eq!(session.poll_timeout(), Some(t0 + silence));
    let t1 = t0 + Duration::from_secs(10);
    session.handle_post(&post(q), Bytes::from_static(b"6:2hello"), t1);
    // The data is not echoed (reference).
    assert_eq!(answered(session.handle_get(&get(q))), text("1:3"));
    assert_eq!(session.poll_timeout(), Some(t1 + silence));
    session.handle_timeout(t1 + silence - Duration::from_nanos(1));
    assert!(!session.is_closed());
    session.handle_timeout(t1 + silence);
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::PingTimeout)]
    );
}

#[test]
fn closes_on_a_wrong_heartbeat_direction() {
    let t0 = Instant::now();
    let (mut v4, _) = polling("4", "", t0);
    v4.handle_post(
        &post("EIO=4&transport=polling&sid=x"),
        Bytes::from_static(b"2"),
        t0,
    );
    assert_eq!(events(&mut v4), [Event::Closed(CloseReason::ProtocolError)]);
    let (mut v3, _) = polling("3", "", t0);
    v3.handle_post(
        &post("EIO=3&transport=polling&sid=x"),
        Bytes::from_static(b"1:3"),
        t0,
    );
    assert_eq!(events(&mut v3), [Event::Closed(CloseReason::ProtocolError)]);
    // Over WebSocket too.
    let (mut ws, _) = websocket("4", t0);
    ws.handle_frame(text_frame("2"), t0);
    assert_eq!(events(&mut ws), [Event::Closed(CloseReason::ProtocolError)]);
    assert_eq!(frames(&mut ws), [Frame::Close(None)]);
}

#[test]
fn closes_on_client_request_over_polling() {
    let t0 = Instant::now();
    let q = "EIO=4&transport=polling&sid=x";
    let (mut session, _) = polling("4", "", t0);
    assert_eq!(session.handle_get(&get(q)), GetOutcome::Parked);
    let response = session.handle_post(&post(q), Bytes::from_static(b"1"), t0);
    assert_eq!(response.status, 200);
    assert_eq!(session.poll_get_response(), Some(text("6")));
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::ClientRequest)]
    );
    session.send_text("dropped");
    assert_eq!(session.poll_get_response(), None);
    assert_eq!(session.route(&get(q)), Err(Refusal::UnknownSid));
    // v3: `1:6`.
    let (mut session, _) = polling("3", "", t0);
    assert_eq!(
        session.handle_get(&get("EIO=3&transport=polling&sid=x")),
        GetOutcome::Parked
    );
    session.handle_post(
        &post("EIO=3&transport=polling&sid=x"),
        Bytes::from_static(b"1:1"),
        t0,
    );
    assert_eq!(session.poll_get_response(), Some(text("1:6")));
}

#[test]
fn closes_from_the_server_side() {
    let t0 = Instant::now();
    let (mut session, _) = polling("4", "", t0);
    assert_eq!(
        session.handle_get(&get("EIO=4&transport=polling&sid=x")),
        GetOutcome::Parked
    );
    session.close();
    assert_eq!(session.poll_get_response(), Some(text("1")));
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::ServerClose)]
    );
    let (mut session, _) = websocket("4", t0);
    session.send_text("last");
    session.close();
    session.close();
    assert_eq!(
        frames(&mut session),
        [text_frame("4last"), Frame::Close(None)]
    );
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::ServerClose)]
    );
}

#[test]
fn carries_binary_over_v3_polling() {
    let t0 = Instant::now();
    let q = "EIO=3&transport=polling&sid=x";
    // XHR2 for a client that takes binary.
    let (mut session, _) = polling("3", "", t0);
    session.send_text("a");
    session.send_binary(Bytes::from_static(&[1, 2, 3]));
    let response = answered(session.handle_get(&get(q)));
    assert_eq!(response.content_type, Some(BINARY_BODY));
    assert_eq!(
        &response.body[..],
        [0, 2, 0xff, b'4', b'a', 1, 4, 0xff, 4, 1, 2, 3]
    );
    // Text only: the text payload.
    session.send_text("b");
    assert_eq!(answered(session.handle_get(&get(q))), text("2:4b"));
    // An XHR2 POST: binary is a view of the body.
    let body = Bytes::from_static(&[1, 3, 0xff, 4, 7, 8, 0, 2, 0xff, b'4', b'z']);
    let request = post(q).with_content_type(BINARY_BODY);
    assert_eq!(session.handle_post(&request, body.clone(), t0).status, 200);
    let received = events(&mut session);
    assert_eq!(
        received,
        [
            Event::Binary(Bytes::from_static(&[7, 8])),
            Event::Text("z".into())
        ]
    );
    let Event::Binary(data) = &received[0] else {
        unreachable!()
    };
    assert_eq!(data.as_ptr(), body[4..].as_ptr());
    // b64: base64 text records.
    let (mut session, _) = polling("3", "&b64=1", t0);
    session.send_binary(Bytes::from_static(&[1, 2, 3]));
    assert_eq!(answered(session.handle_get(&get(q))), text("6:b4AQID"));
    let body = Bytes::from_static(b"6:b4AQID4:4abc");
    session.handle_post(&post(q), body.clone(), t0);
    let received = events(&mut session);
    let Some(Event::Text(abc)) = received.get(1) else {
        panic!("{received:?}")
    };
    assert_eq!(
        abc.as_bytes().as_ptr(),
        body[11..].as_ptr(),
        "a view of the body"
    );
    session.handle_post(&post(q), Bytes::from_static(b"6:b4AQID"), t0);
    assert_eq!(
        events(&mut session),
        [Event::Binary(Bytes::from_static(&[1, 2, 3]))]
    );
}

#[test]
fn carries_binary_as_base64_records_over_v4_polling() {
    let t0 = Instant::now();
    let q = "EIO=4&transport=polling&sid=x";
    let (mut session, _) = polling("4", "", t0);
    session.send_binary(Bytes::from_static(&[1, 2, 3, 4]));
    assert_eq!(answered(session.handle_get(&get(q))), text("bAQIDBA=="));
    session.handle_post(&post(q), Bytes::from_static(b"bAQIDBA=="), t0);
    assert_eq!(
        events(&mut session),
        [Event::Binary(Bytes::from_static(&[1, 2, 3, 4]))]
    );
}

#[test]
fn carries_binary_frames_over_websocket() {
    let t0 = Instant::now();
    let (mut v3, _) = websocket("3", t0);
    v3.send_binary(Bytes::from_static(&[1, 2]));
    assert_eq!(
        frames(&mut v3),
        [Frame::Binary(Bytes::from_static(&[4, 1, 2]))]
    );
    v3.handle_frame(Frame::Binary(Bytes::from_static(&[4, 9])), t0);
    v3.handle_frame(text_frame("2"), t0);
    assert_eq!(events(&mut v3), [Event::Binary(Bytes::from_static(&[9]))]);
    assert_eq!(frames(&mut v3), [text_frame("3")]);
    // A frame over max_payload: close 1009.
    let mut c = config();
    c.max_payload = 2;
    let request = get("EIO=4&transport=websocket").with_websocket();
    let (mut v4, _) = Session::accept(&c, &request, SID, t0).unwrap();
    v4.handle_frame(Frame::Binary(Bytes::from_static(&[1, 2, 3])), t0);
    assert_eq!(frames(&mut v4), [Frame::Close(Some(1009))]);
    assert_eq!(
        events(&mut v4),
        [Event::Closed(CloseReason::TransportClosed)]
    );
    // A bad frame: parse error.
    let (mut v4, _) = websocket("4", t0);
    v4.handle_frame(text_frame("7"), t0);
    assert_eq!(events(&mut v4), [Event::Closed(CloseReason::ParseError)]);
}

#[test]
fn speaks_jsonp() {
    let t0 = Instant::now();
    let q = "EIO=3&transport=polling&sid=x&j=1";
    let (mut session, _) = polling("3", "&j=1", t0);
    session.send_text("a\"b");
    assert_eq!(
        answered(session.handle_get(&get(q))),
        text(r#"___eio[1]("4:4a\"b");"#)
    );
    let body = Bytes::from_static(b"d=4%3A4a%5Cnb");
    session.handle_post(&post(q), body, t0);
    assert_eq!(events(&mut session), [Event::Text("a\nb".into())]);
}

#[test]
fn closes_when_the_parked_get_is_aborted() {
    let t0 = Instant::now();
    let (mut session, _) = polling("4", "", t0);
    session.handle_get_aborted();
    assert!(!session.is_closed());
    assert_eq!(
        session.handle_get(&get("EIO=4&transport=polling&sid=x")),
        GetOutcome::Parked
    );
    session.handle_get_aborted();
    assert_eq!(session.poll_get_response(), None);
    assert_eq!(
        events(&mut session),
        [Event::Closed(CloseReason::TransportClosed)]
    );
}

#[test]
fn routes_requests_of_a_websocket_session() {
    let t0 = Instant::now();
    let (session, _) = websocket("4", t0);
    let ws = get("EIO=4&transport=websocket&sid=x").with_websocket();
    assert_eq!(session.route(&ws), Ok(Route::WebsocketRefused));
    assert_eq!(
        session.route(&get("EIO=4&transport=polling&sid=x")),
        Err(Refusal::BadRequest)
    );
    // A polling session refuses `transport=websocket` without an upgrade.
    let (session, _) = polling("4", "", t0);
    assert_eq!(
        session.route(&get("EIO=4&transport=websocket&sid=x")),
        Err(Refusal::BadRequest)
    );
    assert_eq!(
        Request::from_query("GET", "?EIO=4&EIO=3&sid=a&j=2&b64=1&x=y"),
        Request {
            method: "GET",
            eio: Some("3"),
            sid: Some("a"),
            jsonp: Some("2"),
            b64: Some("1"),
            ..Request::default()
        }
    );
}

#[test]
fn sends_base64_frames_to_b64_clients_after_an_upgrade() {
    let t0 = Instant::now();
    let (mut session, _) = polling("3", "&b64=1", t0);
    assert!(session.handle_websocket(t0));
    session.handle_frame(text_frame("5"), t0);
    assert_eq!(events(&mut session), [Event::Upgraded]);
    session.send_binary(Bytes::from_static(&[1, 2, 3]));
    assert_eq!(frames(&mut session), [text_frame("b4AQID")]);
}

// ---------------------------------------------------------------------- property test

#[derive(Clone, Debug)]
enum Step {
    Get,
    AbortGet,
    Post(Vec<u8>),
    BeginPost,
    Websocket,
    Frame(Frame),
    Advance(u64),
    Send,
    Close,
}

fn step() -> impl Strategy<Value = Step> {
    let packet = prop_oneof![
        Just("2probe".to_owned()),
        Just("5".to_owned()),
        Just("3".to_owned()),
        Just("2".to_owned()),
        Just("1".to_owned()),
        Just("6".to_owned()),
        "4[a-z]{0,3}",
        "[0-9b][A-Za-z0-9]{0,3}",
    ];
    prop_oneof![
        4 => Just(Step::Get),
        1 => Just(Step::AbortGet),
        3 => proptest::collection::vec(packet.clone(), 1..3)
            .prop_map(|p| Step::Post(p.join("\x1e").into_bytes())),
        1 => proptest::collection::vec(any::<u8>(), 0..8).prop_map(Step::Post),
        1 => Just(Step::BeginPost),
        2 => Just(Step::Websocket),
        3 => packet.prop_map(|p| Step::Frame(Frame::Text(p.into()))),
        1 => Just(Step::Frame(Frame::Close(None))),
        1 => proptest::collection::vec(any::<u8>(), 0..4)
            .prop_map(|b| Step::Frame(Frame::Binary(b.into()))),
        3 => (0u64..30_000).prop_map(Step::Advance),
        4 => Just(Step::Send),
        1 => Just(Step::Close),
    ]
}

/// The `m<N>` messages a GET body or frame carries.
fn sent_ids(revision: EngineIo, body: &Response) -> Vec<u64> {
    let config = DecodeConfig::new().max_payload(usize::MAX);
    let packets: Vec<_> = match (revision, body.content_type) {
        (EngineIo::V4, _) => engineio::decode_payload(&body.body, &config)
            .map(|p| p.unwrap().as_packet_owned())
            .collect(),
        (EngineIo::V3, Some(BINARY_BODY)) => {
            v3::decode_payload(&body.body, v3::PayloadFormat::Binary, &config)
                .map(|p| p.unwrap().as_packet_owned())
                .collect()
        }
        (EngineIo::V3, _) => v3::decode_payload(&body.body, v3::PayloadFormat::Text, &config)
            .map(|p| p.unwrap().as_packet_owned())
            .collect(),
    };
    packets.iter().filter_map(message_id).collect()
}

trait Owned {
    fn as_packet_owned(&self) -> Option<String>;
}

impl Owned for Packet<'_> {
    fn as_packet_owned(&self) -> Option<String> {
        match self {
            Packet::Message(engineio::Message::Text(t)) => Some((*t).to_owned()),
            _ => None,
        }
    }
}

fn message_id(text: &Option<String>) -> Option<u64> {
    text.as_deref()?.strip_prefix('m')?.parse().ok()
}

fn frame_id(frame: &Frame) -> Option<u64> {
    match frame {
        Frame::Text(t) => t.strip_prefix("4m")?.parse().ok(),
        _ => None,
    }
}

proptest! {
    #[test]
    fn never_misbehaves(
        v3 in any::<bool>(),
        over_websocket in any::<bool>(),
        b64 in any::<bool>(),
        steps in proptest::collection::vec(step(), 0..60),
    ) {
        let t0 = Instant::now();
        let (eio, revision) = if v3 { ("3", EngineIo::V3) } else { ("4", EngineIo::V4) };
        let q = format!("EIO={eio}&transport=polling&sid=x");
        let (mut session, mut ws_open) = if over_websocket {
            (websocket(eio, t0).0, true)
        } else {
            let extra = if b64 { "&b64=1" } else { "" };
            (polling(eio, extra, t0).0, false)
        };
        let mut now = t0;
        let mut next_id = 0u64;
        let mut delivered: Vec<u64> = Vec::new();
        let mut parked = 0usize;
        let mut closed_seen = false;
        for step in steps {
            let mut answers = Vec::new();
            match step {
                Step::Get => match session.handle_get(&get(&q)) {
                    GetOutcome::Answered(r) => answers.push(r),
                    GetOutcome::Parked => {
                        prop_assert_eq!(parked, 0, "two GETs parked");
                        parked += 1;
                    }
                },
                Step::AbortGet => {
                    if parked > 0 && !session.is_closed() {
                        // Only a GET still waiting can be aborted.
                        session.handle_get_aborted();
                        parked = 0;
                    }
                }
                Step::Post(body) => {
                    let r = session.handle_post(&post(&q), body.into(), now);
                    prop_assert!(matches!(r.status, 200 | 400 | 413));
                }
                Step::BeginPost => { let _ = session.begin_post(); }
                Step::Websocket => {
                    if session.handle_websocket(now) {
                        ws_open = true;
                    }
                }
                Step::Frame(frame) => {
                    if ws_open {
                        if matches!(frame, Frame::Close(_)) {
                            ws_open = false;
                        }
                        session.handle_frame(frame, now);
                    }
                }
                Step::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    while let Some(at) = session.poll_timeout() {
                        if at > now { break; }
                        session.handle_timeout(at);
                    }
                }
                Step::Send => {
                    session.send_text(format!("m{next_id}"));
                    next_id += 1;
                }
                Step::Close => session.close(),
            }
            while let Some(r) = session.poll_get_response() {
                prop_assert!(parked > 0, "an answer for no GET");
                parked -= 1;
                answers.push(r);
            }
            for r in &answers {
                if r.status == 200 {
                    prop_assert!(!closed_seen, "a GET answered after the close");
                    delivered.extend(sent_ids(revision, r));
                }
            }
            for frame in std::iter::from_fn(|| session.poll_frame()) {
                prop_assert!(!closed_seen || matches!(frame, Frame::Close(_)));
                if matches!(frame, Frame::Close(_)) {
                    ws_open = false;
                }
                delivered.extend(frame_id(&frame));
            }
            for event in std::iter::from_fn(|| session.poll_event()) {
                prop_assert!(!closed_seen, "an event after the close");
                if matches!(event, Event::Closed(_)) {
                    closed_seen = true;
                }
            }
            prop_assert_eq!(closed_seen, session.is_closed());
            if session.is_closed() {
                parked = 0;
            }
        }
        prop_assert!(delivered.windows(2).all(|w| w[0] < w[1]), "{:?}", delivered);
        prop_assert!(delivered.iter().all(|&id| id < next_id));
    }
}

/// A refusal is an error too: `?` takes it into `Box<dyn Error>`, and its text says which.
#[test]
fn a_refusal_is_an_error_with_the_reference_message() {
    fn open() -> Result<(), Box<dyn std::error::Error>> {
        let request = Request::from_query("GET", "EIO=9&transport=polling");
        Session::accept(&ServerConfig::default(), &request, "x", Instant::now())?;
        Ok(())
    }
    let error = open().expect_err("EIO=9 is refused");
    assert_eq!(
        error.to_string(),
        "Unsupported protocol version (Engine.IO error 5)"
    );
}
