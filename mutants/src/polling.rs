//! HTTP long-polling: requests into the Engine.IO session (`classify`, `route`,
//! `handle_get`, `handle_post`), its answers out, with the polling defects of the mutant
//! around it (see [`crate::tamper`] for those that rewrite bytes).

use crate::endpoint::{Client, Endpoint};
use crate::http::{self, ReadError, Request, Response};
use crate::tamper::{self, Poll};
use crate::{Mutant, Settings};
use bytes::Bytes;
use sio_codec::engineio::server::{self as session, GetOutcome, Opening, Refusal, Route, Target};
use sio_codec::engineio::{Packet, server::TEXT_BODY};
use sio_codec::{EngineIo, Protocol};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Answers one polling request (no answer when the client went away).
pub(crate) async fn serve(mut stream: TcpStream, request: Request, endpoint: &Arc<Endpoint>) {
    if let Some(response) = respond(&mut stream, &request, endpoint).await {
        let response = if endpoint.settings.has(Mutant::NoCors) {
            response.without_cors()
        } else {
            response
        };
        response.write(&mut stream).await;
    }
}

async fn respond(
    stream: &mut TcpStream,
    request: &Request,
    endpoint: &Arc<Endpoint>,
) -> Option<Response> {
    let settings = &endpoint.settings;
    // CORS preflight (the contract enables CORS for any origin); without CORS, a preflight
    // is a handshake with a bad method, as in the reference without its `cors` option.
    // The requested headers are allowed (the `cors` middleware reflects them).
    if request.method == "OPTIONS" && !settings.has(Mutant::NoCors) {
        let mut response = Response::empty(204)
            .with_header(
                "Access-Control-Allow-Methods",
                "GET,HEAD,PUT,PATCH,POST,DELETE",
            )
            .with_header("Vary", "Access-Control-Request-Headers");
        if let Some(headers) = request.header("access-control-request-headers") {
            response = response.with_header("Access-Control-Allow-Headers", headers);
        }
        return Some(response);
    }
    let mut req = request.session_request();
    tamper::request(settings, &mut req);
    let config = tamper::session_config(settings, EngineIo::V4);
    let client = match session::classify(&config, &req) {
        Ok(Target::Handshake { revision, .. }) => {
            return Some(handshake(endpoint, request, &req, revision));
        }
        Ok(Target::Existing { sid }) => endpoint.lookup(sid),
        Err(refusal) => return Some(refused(refusal)),
    };
    let Some(client) = client else {
        if settings.has(Mutant::UnknownSidOk) {
            return Some(match req.method {
                "POST" => Response::from_session(ok()),
                _ => Response::new(200, TEXT_BODY, "1"),
            });
        }
        return Some(refused(Refusal::UnknownSid));
    };
    let route = client.lock().eio.route(&req);
    match route {
        Ok(Route::Get) => get(stream, endpoint, &client, &req).await,
        Ok(Route::Post) => Some(post(stream, request, endpoint, &client, &req).await),
        Ok(Route::Unsupported) => Some(Response::from_session(Route::unsupported_response())),
        // Not a WebSocket upgrade: the session never says so for a polling request.
        Ok(Route::Websocket | Route::WebsocketRefused) => Some(refused(Refusal::BadRequest)),
        Err(Refusal::BadRequest) if settings.has(Mutant::PollingAfterUpgrade) => {
            Some(after_upgrade(&client, &req))
        }
        Err(refusal) => Some(refused(refusal)),
    }
}

fn refused(refusal: Refusal) -> Response {
    Response::from_session(refusal.polling_response())
}

/// The handshake: a new session, answered with its open packet.
fn handshake(
    endpoint: &Arc<Endpoint>,
    request: &Request,
    req: &session::Request<'_>,
    revision: EngineIo,
) -> Response {
    match endpoint.open(req, &request.query, revision) {
        Ok((client, Opening::Response(response))) => {
            let b64 = client.lock().b64;
            let poll = Poll {
                revision,
                b64,
                jsonp: req.jsonp,
            };
            get_answer(&endpoint.settings, poll, response, 0)
        }
        // A polling handshake opens on polling.
        Ok((_, Opening::Frame(_))) => Response::empty(500),
        Err(refusal) => refused(refusal),
    }
}

/// A GET's answer as the client gets it.
fn get_answer(
    settings: &Settings,
    poll: Poll<'_>,
    response: session::Response,
    pings: usize,
) -> Response {
    let ok = response.status == 200;
    let response = Response::from_session(tamper::get_response(settings, poll, response, pings));
    if ok {
        response.with_header("Cache-Control", "no-store")
    } else {
        response
    }
}

/// `polling-after-upgrade`: polling requests of an upgraded session are still answered (a
/// GET with a noop, a POST with `ok`, its packets dropped).
fn after_upgrade(client: &Client, req: &session::Request<'_>) -> Response {
    let state = client.lock();
    if req.method != "GET" {
        return Response::from_session(ok());
    }
    let protocol = Protocol::new(state.eio.revision());
    match protocol.encode_body(&[Packet::Noop], state.b64) {
        Ok((content_type, body)) => Response::new(200, content_type, body),
        Err(_) => Response::empty(500),
    }
}

/// A GET: answered now, or parked until the session has its answer. A client that goes
/// away while parked aborts it.
async fn get(
    stream: &mut TcpStream,
    endpoint: &Arc<Endpoint>,
    client: &Arc<Client>,
    req: &session::Request<'_>,
) -> Option<Response> {
    let settings = &endpoint.settings;
    let parked_here = AtomicBool::new(false);
    let answer = async {
        if settings.has(Mutant::ConcurrentGet) {
            // Not refused: it waits until the other GET has its answer.
            client
                .wait_until(|state| (!state.get_parked || state.eio.is_closed()).then_some(()))
                .await;
        }
        let outcome = {
            let mut state = client.lock();
            let outcome = if std::mem::take(&mut state.get_orphaned) {
                GetOutcome::Parked
            } else {
                state.eio.handle_get(req)
            };
            if outcome == GetOutcome::Parked {
                state.get_parked = true;
                parked_here.store(true, Ordering::Relaxed);
            }
            outcome
        };
        endpoint.pump(client);
        let response = match outcome {
            GetOutcome::Answered(response) => response,
            GetOutcome::Parked => {
                client
                    .wait_until(|state| {
                        if let Some(response) = state.eio.poll_get_response() {
                            state.get_parked = false;
                            parked_here.store(false, Ordering::Relaxed);
                            return Some(response);
                        }
                        // `v3-server-pings`: a ping owed answers the GET; the session's
                        // parked GET is handed to the next one.
                        if state.owed_pings == 0 {
                            return None;
                        }
                        state.get_orphaned = true;
                        parked_here.store(false, Ordering::Relaxed);
                        let poll = state.poll(req.jsonp);
                        Some(tamper::pings_response(poll, state.take_pings()))
                    })
                    .await
            }
        };
        let poll = client.lock().poll(req.jsonp);
        if settings.has(Mutant::NoNoopOnUpgrade) && tamper::is_noop(poll, &response) {
            // Released only once the upgrade is over, not by the probe.
            client
                .wait_until(|state| {
                    (!state.eio.is_upgrading() || state.eio.is_closed()).then_some(())
                })
                .await;
        }
        response
    };
    tokio::select! {
        response = answer => {
            let mut state = client.lock();
            let poll = state.poll(req.jsonp);
            let pings = if response.status == 200 { state.take_pings() } else { 0 };
            Some(get_answer(settings, poll, response, pings))
        }
        () = client_gone(stream) => {
            if parked_here.load(Ordering::Relaxed) {
                let mut state = client.lock();
                if settings.has(Mutant::CancelledGetIgnored) {
                    state.get_orphaned = true;
                } else {
                    state.get_parked = false;
                    state.eio.handle_get_aborted();
                }
                drop(state);
                endpoint.pump(client);
            }
            None
        }
    }
}

/// Resolves when the client closes its side of the connection (it sends nothing more after
/// its request; a client that keeps sending counts as gone after 64 KiB).
async fn client_gone(stream: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    let mut extra = 0usize;
    while extra < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => extra += n,
        }
    }
}

/// A POST: its body read (at most the limit), then handed to the session.
async fn post(
    stream: &mut TcpStream,
    request: &Request,
    endpoint: &Arc<Endpoint>,
    client: &Arc<Client>,
    req: &session::Request<'_>,
) -> Response {
    let settings = &endpoint.settings;
    // `concurrent-post-accepted`: the session is not told that a body is being read, so a
    // second POST meanwhile is not refused.
    let tracked = !settings.has(Mutant::ConcurrentPostAccepted);
    if tracked {
        let begun = client.lock().eio.begin_post();
        if let Err(response) = begun {
            endpoint.pump(client);
            return Response::from_session(response);
        }
    }
    let revision = client.lock().eio.revision();
    let body = if revision == EngineIo::V4 && request.is_octet_stream() {
        // Refused by the session whatever the body: not read.
        Bytes::new()
    } else {
        match http::read_body(stream, request, settings.incoming_limit(false)).await {
            Ok(body) => body,
            Err(error) => {
                if tracked {
                    client.lock().eio.abort_post();
                }
                let status = if matches!(error, ReadError::TooLarge) {
                    413
                } else {
                    400
                };
                return Response::empty(status);
            }
        }
    };
    let kept = tamper::post_body_kept(
        settings,
        revision,
        &body,
        request.is_octet_stream(),
        req.jsonp.is_some(),
    );
    let (req, body) = match kept {
        tamper::Kept::Body => (*req, body),
        tamper::Kept::Cut(content_type, kept) => {
            let req = session::Request {
                content_type: Some(content_type),
                ..*req
            };
            (req, kept)
        }
        tamper::Kept::Nothing => {
            if tracked {
                client.lock().eio.abort_post();
            }
            return Response::from_session(tamper::post_response(settings, ok()));
        }
    };
    let response = client.lock().eio.handle_post(&req, body, Instant::now());
    endpoint.pump(client);
    Response::from_session(tamper::post_response(settings, response))
}

/// `200 ok`, the session's answer to a POST.
fn ok() -> session::Response {
    session::Response {
        status: 200,
        content_type: Some(session::TEXT_HTML),
        body: Bytes::from_static(b"ok"),
    }
}
