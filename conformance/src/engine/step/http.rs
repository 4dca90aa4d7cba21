//! HTTP long-polling steps (`http`, `await`): the request a step describes (path, query,
//! headers, a body of Engine.IO packets framed for the request's revision), the response
//! matched against its expectation and graded alternatives, and `gather`, which collects the
//! packets of one expectation over several GETs.

use super::send::eio_packet;
use crate::engine::conn::protocol_of;
use crate::engine::framing::Framing;
use crate::engine::{CaseState, StepFailure, actual};
use crate::fixture::{BodyExpect, Layer, RequestBody, ResponseExpect, Target as StepTarget};
use crate::matcher::{MatchOutcome, Pattern, match_parts};
use crate::transport::http::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::Value;
use sio_codec::Protocol;
use tokio::time::Instant;

impl CaseState<'_> {
    /// The path and query of a request target: a query on the suite's path, or a whole URL
    /// path, with its templates rendered.
    pub(super) fn path_and_query(&self, target: &StepTarget) -> Result<String, StepFailure> {
        match target {
            StepTarget::Query(q) => {
                let q = q
                    .render(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?;
                Ok(self.target.path_and_query(&q))
            }
            StepTarget::Url(u) => u
                .render(&self.captures)
                .map_err(|e| StepFailure::harness(e.to_string())),
        }
    }

    /// The HTTP request of an `http` step: its target and headers rendered, and its body,
    /// which is text, bytes, or Engine.IO packets encoded as one polling payload for the
    /// revision the query names (`EIO=3`: `len:packet` records; `EIO=4`: records separated
    /// by `\x1e`). The runner's POSTs are always text, so binary packets go base64; a packet
    /// the payload cannot carry is a harness error that says to send it another way.
    pub(super) fn build_request(
        &self,
        request: &crate::fixture::HttpRequest,
    ) -> Result<HttpRequest, StepFailure> {
        let path_and_query = self.path_and_query(&request.target)?;
        let body = match &request.body {
            None => Bytes::new(),
            Some(RequestBody::Text(t)) => Bytes::from(
                t.render(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?,
            ),
            Some(RequestBody::Bytes(b)) => Bytes::from(b.clone()),
            Some(RequestBody::Eio(packets)) => {
                let texts = self.eio_texts(packets)?;
                let views: Vec<_> = packets
                    .iter()
                    .zip(&texts)
                    .map(|(p, t)| eio_packet(p, t))
                    .collect();
                // Binary as base64 text: the runner's POSTs are text.
                let (_, body) = protocol_of(&path_and_query)
                    .encode_body(&views, true)
                    .map_err(|e| {
                        StepFailure::harness(format!("{e} (send it over WebSocket or as raw text)"))
                    })?;
                body
            }
        };
        let mut req = HttpRequest::new(request.method.clone(), path_and_query);
        req.body = body;
        for (name, value) in &request.headers {
            let value = value
                .render(&self.captures)
                .map_err(|e| StepFailure::harness(e.to_string()))?;
            req = req.with_header(name.clone(), value);
        }
        Ok(req)
    }

    /// Matches a response against an expectation and its graded alternatives.
    pub(super) fn match_response(
        &mut self,
        expect: &ResponseExpect,
        response: &HttpResponse,
        framing: &Framing,
    ) -> Result<(), StepFailure> {
        let outcome = self.match_response_parts(expect, response, framing, None);
        if !outcome.passed() {
            return Err(StepFailure::mismatch(
                format!("response {} did not match", response.status),
                &outcome,
            ));
        }
        if expect.one_of.is_empty() {
            return self.non_strict_notes(outcome);
        }
        let mut failures = Vec::new();
        for alternative in &expect.one_of {
            let outcome = self.match_response_parts(&alternative.expect, response, framing, None);
            if outcome.passed() {
                return match alternative.grade {
                    crate::fixture::Grade::Pass => self.non_strict_notes(outcome),
                    grade => Err(StepFailure {
                        grade: Some(grade),
                        actual: Some(format!("status {}", response.status)),
                        ..StepFailure::new(
                            alternative
                                .note
                                .clone()
                                .unwrap_or_else(|| "a graded alternative matched".into()),
                        )
                    }),
                };
            }
            if let MatchOutcome::Fail(m) = outcome {
                failures.extend(m.into_iter().map(|m| m.to_string()));
            }
        }
        Err(StepFailure {
            actual: Some(format!(
                "status {} body {:?}",
                response.status,
                String::from_utf8_lossy(&response.body)
            )),
            ..StepFailure::new(format!("no alternative matched: {}", failures.join("; ")))
        })
    }

    /// `gather`: the packets of `expect.body` may come in several responses to the same GET.
    /// Every response must match the status and headers; the GET is repeated until as many
    /// packets as expected have arrived (heartbeat `ping` and `noop` packets between them are
    /// left out unless the expectation lists such packets), then all of them are matched at
    /// once, so a lost, reordered, duplicated or corrupted packet fails like in one response.
    /// Needing more than one response is graded with the `gather` grade (batching is a SHOULD).
    pub(super) async fn gather(
        &mut self,
        expect: &ResponseExpect,
        req: &HttpRequest,
        first: HttpResponse,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let Some(BodyExpect::Eio(expected)) = &expect.body else {
            return Err(StepFailure::harness(
                "`gather` without `body: {eio: [...]}`",
            ));
        };
        let heartbeat_expected = expected.iter().any(|p| {
            matches!(
                p.kind,
                crate::fixture::EioType::Ping | crate::fixture::EioType::Noop
            )
        });
        let framing = Framing::of(&req.path_and_query);
        let head = ResponseExpect {
            body: None,
            gather: None,
            ..expect.clone()
        };
        let mut packets = Vec::new();
        let mut responses = 0;
        let mut response = first;
        loop {
            responses += 1;
            let outcome = self.match_response_parts(&head, &response, &framing, None);
            if !outcome.passed() {
                return Err(StepFailure::mismatch(
                    format!(
                        "response {} (GET {responses}) did not match",
                        response.status
                    ),
                    &outcome,
                ));
            }
            let body = actual::payload_value(&response.body, &framing, is_binary(&response));
            match self.without_upper_layer(body, framing.protocol) {
                Value::Array(items) => packets.extend(items.into_iter().filter(|packet| {
                    heartbeat_expected || !matches!(packet["type"].as_str(), Some("ping" | "noop"))
                })),
                // Not a payload: let the whole expectation say so for this response.
                _ => return self.match_response(&head_with_body(expect), &response, &framing),
            }
            if packets.len() >= expected.len() {
                break;
            }
            response = match tokio::time::timeout_at(
                deadline,
                self.client.send(req, &self.transcript, "http"),
            )
            .await
            {
                Ok(Ok(response)) => response,
                Ok(Err(e)) => {
                    return Err(StepFailure::new(format!(
                        "{} {} (GET {}): {e}",
                        req.method,
                        req.path_and_query,
                        responses + 1
                    )));
                }
                Err(_) => {
                    return Err(StepFailure {
                        expected: Some(format!("{} packets", expected.len())),
                        actual: Some(format!(
                            "{} packets in {responses} responses: {}",
                            packets.len(),
                            Value::Array(packets)
                        )),
                        ..StepFailure::new("not every packet arrived before the deadline")
                    });
                }
            };
        }
        let gathered = Value::Array(packets);
        let outcome = self.match_response_parts(expect, &response, &framing, Some(gathered));
        if !outcome.passed() {
            return Err(StepFailure::mismatch(
                format!("the packets of {responses} responses did not match"),
                &outcome,
            ));
        }
        match expect.gather {
            Some(grade) if responses > 1 && grade != crate::fixture::Grade::Pass => {
                Err(StepFailure {
                    grade: Some(grade),
                    actual: Some(format!("{responses} responses")),
                    ..StepFailure::new(format!(
                        "the {} packets came in {responses} responses instead of one",
                        expected.len()
                    ))
                })
            }
            _ => self.non_strict_notes(outcome),
        }
    }

    /// In an Engine.IO-level case, a decoded polling body without the Socket.IO packets (see
    /// [`Layer::Engineio`]).
    fn without_upper_layer(&self, packets: Value, protocol: Protocol) -> Value {
        if self.instance.layer == Layer::Engineio {
            strip_upper_layer(packets, protocol)
        } else {
            packets
        }
    }

    /// Matches the parts of a response an expectation names (status, headers, body) in one
    /// go, so that captures flow between them and a failure lists every part that differs.
    /// An Engine.IO body is decoded with `framing` (or is `gathered`, the packets of several
    /// responses) and, in an Engine.IO-level case, stripped of Socket.IO packets.
    fn match_response_parts(
        &mut self,
        expect: &ResponseExpect,
        response: &HttpResponse,
        framing: &Framing,
        gathered: Option<Value>,
    ) -> MatchOutcome {
        let status = Value::from(response.status);
        let headers: Vec<Value> = expect
            .headers
            .iter()
            .map(|(name, _)| actual::header(response, name))
            .collect();
        let header_paths: Vec<String> = expect
            .headers
            .iter()
            .map(|(name, _)| format!("/headers/{name}"))
            .collect();
        let body_pattern = expect.body.as_ref().map(BodyExpect::to_pattern);
        let body = expect.body.as_ref().map(|b| match b {
            BodyExpect::Text(_) => actual::body_text(response),
            BodyExpect::Json(_) => actual::body_json(response),
            BodyExpect::Eio(_) => {
                let packets = gathered.unwrap_or_else(|| {
                    actual::payload_value(&response.body, framing, is_binary(response))
                });
                self.without_upper_layer(packets, framing.protocol)
            }
        });
        let mut parts: Vec<(&str, &Pattern, &Value)> = Vec::new();
        if let Some(pattern) = &expect.status {
            parts.push(("/status", pattern, &status));
        }
        for (((_, pattern), value), path) in expect.headers.iter().zip(&headers).zip(&header_paths)
        {
            parts.push((path, pattern, value));
        }
        if let (Some(pattern), Some(body)) = (&body_pattern, &body) {
            parts.push(("/body", pattern, body));
        }
        match_parts(&parts, &mut self.captures)
    }
}

/// Sends an HTTP request. In an Engine.IO-level case a GET whose answer carried nothing but
/// Socket.IO packets (the automatic connection to "/" of a Socket.IO server, and what its
/// application sends on connection, see [`Layer::Engineio`]) is sent again at once, as a
/// client polls again: the step judges the first answer that carries Engine.IO traffic, and a
/// GET meant to be pending at the server is pending there. The caller bounds the time.
pub(super) async fn poll(
    client: &crate::transport::http::HttpClient,
    req: &HttpRequest,
    transcript: &crate::transport::transcript::Transcript,
    label: &str,
    engine_level: bool,
) -> Result<HttpResponse, String> {
    loop {
        let response = client
            .send(req, transcript, label)
            .await
            .map_err(|e| e.to_string())?;
        if !engine_level || req.method != "GET" || response.status != 200 {
            return Ok(response);
        }
        let framing = Framing::of(&req.path_and_query);
        let body = actual::payload_value(&response.body, &framing, is_binary(&response));
        let upper_only = matches!(&body, Value::Array(items) if !items.is_empty())
            && strip_upper_layer(body, framing.protocol) == Value::Array(Vec::new());
        if !upper_only {
            return Ok(response);
        }
    }
}

/// A decoded polling body without the messages that carry Socket.IO packets (of the
/// request's revision).
fn strip_upper_layer(packets: Value, protocol: Protocol) -> Value {
    match packets {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|packet| {
                    !(packet["type"] == "message"
                        && packet["data"].as_str().is_some_and(|text| {
                            crate::engine::conn::is_socketio_packet(protocol, text)
                        }))
                })
                .collect(),
        ),
        other => other,
    }
}

/// Whether a polling response is an XHR2 binary payload (by its content type).
fn is_binary(response: &HttpResponse) -> bool {
    actual::header(response, "content-type")
        .as_str()
        .is_some_and(|c| c.contains("octet-stream"))
}

/// `expect` without its `gather`, to report a response that is no payload at all.
fn head_with_body(expect: &ResponseExpect) -> ResponseExpect {
    ResponseExpect {
        gather: None,
        ..expect.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::conn::protocol_of;
    use serde_json::json;

    #[test]
    fn only_socketio_messages_are_stripped() {
        let v4 = protocol_of("/socket.io/?EIO=4&transport=polling");
        let packets = json!([
            {"type": "message", "data": "0{\"sid\":\"x\"}"},
            {"type": "message", "data": "hello"},
            {"type": "ping"},
            {"type": "message", "data": ""},
        ]);
        assert_eq!(
            strip_upper_layer(packets, v4),
            json!([
                {"type": "message", "data": "hello"},
                {"type": "ping"},
                {"type": "message", "data": ""},
            ])
        );
        // A body that is no payload (a string saying why) goes through.
        assert_eq!(strip_upper_layer(json!("<bad>"), v4), json!("<bad>"));
    }

    #[test]
    fn a_binary_payload_is_told_by_its_content_type() {
        let response = |content_type: &str| HttpResponse {
            status: 200,
            reason: "OK".into(),
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Bytes::new(),
        };
        assert!(is_binary(&response("application/octet-stream")));
        assert!(!is_binary(&response("text/plain; charset=UTF-8")));
    }
}
