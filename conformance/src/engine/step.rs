//! Step execution.

use super::conn::{payload_packets, protocol_of};
use super::{CaseState, Conn, Finding, Item, StepFailure, Verdict, actual, grade};
use crate::matcher::{
    MatchOutcome, Pattern, binary_value, interpolate_value, match_parts, match_value,
};
use crate::scenario::{
    Action, BodyExpect, EioData, EioPacket, EioPacketPattern, Inbound, Layer, Outbound,
    RequestBody, ResponseExpect, Since, SioPacket, Step, Target as StepTarget, Transport,
};
use crate::transport::{
    http::{HttpRequest, HttpResponse},
    ws::{self, WsConnect},
};
use crate::wire;
use bytes::Bytes;
use serde_json::Value;
use sio_codec::{
    DecodeConfig, Protocol, Utf8Bytes,
    engineio::{self, Message},
    socketio::{OutFrame, Progress, Reassembler},
};
use std::{future::Future, pin::Pin, time::Duration};
use tokio::time::Instant;

type StepsFuture<'s> = Pin<Box<dyn Future<Output = Result<(), Finding>> + Send + 's>>;

/// How often the other connections of a case are pumped while a step waits on one.
const PUMP_EVERY: Duration = Duration::from_millis(50);

impl CaseState<'_> {
    /// Runs `steps` in order; `outer` caps every deadline (for `unordered`). A FAIL or ERROR
    /// ends the run; NON-STRICT findings are collected and the run goes on.
    pub(crate) fn run_steps<'s>(
        &'s mut self,
        steps: &'s [Step],
        outer: Option<Instant>,
    ) -> StepsFuture<'s> {
        Box::pin(async move {
            for step in steps {
                self.current_line = step.line;
                let start = Instant::now();
                let deadline = self.deadline(step, start)?;
                let deadline = outer.map_or(deadline, |o| o.min(deadline));
                if let Err(failure) = self.run_step(step, deadline).await {
                    let mut finding = grade(step.line, failure, self.level(step));
                    if matches!(finding.verdict, Verdict::Fail | Verdict::Error)
                        && let Some(setup) = setup_of(step)
                    {
                        finding.message = format!("blocked by {setup}: {}", finding.message);
                        finding.blocked_by = Some(setup);
                    }
                    match finding.verdict {
                        Verdict::Fail | Verdict::Error => return Err(finding),
                        Verdict::Pass => {}
                        _ => self.findings.push(finding),
                    }
                }
                let end = Instant::now();
                self.previous_end = end;
                if let Some(id) = &step.id {
                    self.step_ends.insert(id.clone(), end);
                }
            }
            Ok(())
        })
    }

    fn deadline(&self, step: &Step, start: Instant) -> Result<Instant, Finding> {
        let expr = step.within.as_ref().or(self.instance.step_timeout.as_ref());
        let timeout = match expr {
            Some(expr) => expr.eval(&self.captures).map_err(|e| {
                grade(
                    step.line,
                    StepFailure::harness(format!("deadline `{}`: {e}", expr.as_str())),
                    self.level(step),
                )
            })?,
            None => self.settings.timeout,
        };
        Ok(start + timeout)
    }

    async fn run_step(&mut self, step: &Step, deadline: Instant) -> Result<(), StepFailure> {
        match &step.action {
            Action::Http { request, expect } => {
                let req = self.build_request(request)?;
                if let Some(id) = &request.async_id {
                    let client = self.client.clone();
                    let transcript = self.transcript.clone();
                    let label = format!("http#{id}");
                    let sent = req.clone();
                    let engine_level = self.instance.layer == Layer::Engineio;
                    let handle = tokio::spawn(async move {
                        poll(&client, &sent, &transcript, &label, engine_level).await
                    });
                    self.pending.insert(id.clone(), (handle, req));
                    return Ok(());
                }
                let engine_level = self.instance.layer == Layer::Engineio;
                let response = tokio::time::timeout_at(
                    deadline,
                    poll(&self.client, &req, &self.transcript, "http", engine_level),
                )
                .await
                .map_err(|_| {
                    StepFailure::new(format!(
                        "no response to {} {} before the deadline",
                        req.method, req.path_and_query
                    ))
                })?
                .map_err(|e| {
                    StepFailure::new(format!("{} {}: {e}", req.method, req.path_and_query))
                })?;
                self.check_timing(step, Instant::now())?;
                match expect {
                    Some(expect) if expect.gather.is_some() => {
                        self.gather(expect, &req, response, deadline).await
                    }
                    Some(expect) => {
                        self.match_response(expect, &response, &Framing::of(&req.path_and_query))
                    }
                    None => Ok(()),
                }
            }
            Action::Await { id, expect } => {
                let (handle, req) = self
                    .pending
                    .remove(id)
                    .ok_or_else(|| StepFailure::harness(format!("no pending request `{id}`")))?;
                let framing = Framing::of(&req.path_and_query);
                let abort = handle.abort_handle();
                let response = match tokio::time::timeout_at(deadline, handle).await {
                    Err(_) => {
                        abort.abort();
                        return Err(StepFailure::new(format!(
                            "request `{id}` got no response before the deadline"
                        )));
                    }
                    Ok(Err(e)) => return Err(StepFailure::harness(format!("request `{id}`: {e}"))),
                    Ok(Ok(Err(e))) => return Err(StepFailure::new(format!("request `{id}`: {e}"))),
                    Ok(Ok(Ok(response))) => response,
                };
                self.check_timing(step, Instant::now())?;
                match expect {
                    Some(expect) => self.match_response(expect, &response, &framing),
                    None => Ok(()),
                }
            }
            Action::WsOpen {
                conn,
                target,
                headers,
                expect,
            } => {
                self.ws_open(conn, target, headers, expect.as_ref(), deadline)
                    .await
            }
            Action::Open {
                conn,
                query,
                expect,
            } => {
                let query = match query {
                    Some(q) => q
                        .render(&self.captures)
                        .map_err(|e| StepFailure::harness(e.to_string()))?,
                    None => format!("EIO={}", self.instance.eio),
                };
                self.open(conn, &query, expect.as_ref(), deadline).await
            }
            Action::Send { conn, payload } => self.send(conn, payload).await,
            Action::Expect { conn, expected } => self.expect(step, conn, expected, deadline).await,
            Action::ExpectNone { conn, duration } => {
                let quiet = duration
                    .eval(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?;
                match self.next_item(conn, Instant::now() + quiet).await? {
                    None => Ok(()),
                    Some(item @ Item::Overflow { .. }) => {
                        Err(overflow(&item, &format!("nothing for {quiet:?}")))
                    }
                    Some(item) => Err(StepFailure {
                        expected: Some(format!("nothing for {quiet:?}")),
                        actual: Some(item.describe()),
                        ..StepFailure::new("expected silence")
                    }),
                }
            }
            Action::Unordered { steps } => {
                self.run_steps(steps, Some(deadline))
                    .await
                    .map_err(|f| StepFailure {
                        grade: Some(match f.verdict {
                            Verdict::NonStrict => crate::scenario::Grade::NonStrict,
                            _ => crate::scenario::Grade::Fail,
                        }),
                        expected: f.expected,
                        actual: f.actual,
                        timing: f.timing,
                        harness: f.verdict == Verdict::Error,
                        ..StepFailure::new(format!("line {}: {}", f.line, f.message))
                    })
            }
            Action::Sleep { duration } => {
                let pause = duration
                    .eval(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?;
                self.idle_until(Instant::now() + pause).await;
                Ok(())
            }
            Action::Repeat { times, steps } => {
                for _ in 0..*times {
                    self.run_steps(steps, None).await.map_err(|f| StepFailure {
                        expected: f.expected,
                        actual: f.actual,
                        timing: f.timing,
                        harness: f.verdict == Verdict::Error,
                        ..StepFailure::new(format!("line {}: {}", f.line, f.message))
                    })?;
                }
                Ok(())
            }
            Action::Use { fragment } => Err(StepFailure::harness(format!(
                "fragment `{fragment}` was not expanded"
            ))),
            Action::Record { conn } => self.record(step, conn, deadline).await,
            Action::Close { conn, code } => {
                self.conn(conn)?.close(*code).await;
                Ok(())
            }
        }
    }

    /// The next item of connection `name` before `deadline` (`None`: nothing came, or the
    /// connection had already ended). Meanwhile the case's other connections are pumped every
    /// [`PUMP_EVERY`] ([`Conn::pump`]): however long a step waits on one connection, the
    /// others answer their pings and keep what arrives in order.
    async fn next_item(
        &mut self,
        name: &str,
        deadline: Instant,
    ) -> Result<Option<Item>, StepFailure> {
        loop {
            let slice = deadline.min(Instant::now() + PUMP_EVERY);
            let item = self.conn(name)?.next(slice).await;
            let now = Instant::now();
            // Back before the slice ended with nothing: the connection is over.
            if item.is_some() || now >= deadline || now < slice {
                return Ok(item);
            }
            self.pump(Some(name)).await;
        }
    }

    /// Waits until `deadline`, pumping every connection meanwhile (see `next_item`).
    async fn idle_until(&mut self, deadline: Instant) {
        loop {
            self.pump(None).await;
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.min(now + PUMP_EVERY)).await;
        }
    }

    /// Pumps every connection but `except`.
    async fn pump(&mut self, except: Option<&str>) {
        for (name, conn) in &mut self.conns {
            if Some(name.as_str()) != except {
                conn.pump().await;
            }
        }
    }

    fn conn(&mut self, name: &str) -> Result<&mut Conn, StepFailure> {
        self.conns
            .get_mut(name)
            .ok_or_else(|| StepFailure::harness(format!("no connection named `{name}`")))
    }

    fn path_and_query(&self, target: &StepTarget) -> Result<String, StepFailure> {
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

    fn build_request(
        &self,
        request: &crate::scenario::HttpRequest,
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

    fn eio_texts(&self, packets: &[EioPacket]) -> Result<Vec<Option<String>>, StepFailure> {
        packets
            .iter()
            .map(|p| match &p.data {
                Some(EioData::Text(t)) => t
                    .render(&self.captures)
                    .map(Some)
                    .map_err(|e| StepFailure::harness(e.to_string())),
                _ => Ok(None),
            })
            .collect()
    }

    fn check_timing(&self, step: &Step, arrival: Instant) -> Result<(), StepFailure> {
        let Some(timing) = &step.timing else {
            return Ok(());
        };
        let since = match &timing.since {
            Since::Previous => self.previous_end,
            Since::CaseStart => self.started,
            Since::Step(id) => *self
                .step_ends
                .get(id)
                .ok_or_else(|| StepFailure::harness(format!("no step `{id}` ran yet")))?,
        };
        let elapsed = arrival.saturating_duration_since(since);
        let eval = |e: &crate::expr::Expr| {
            e.eval(&self.captures)
                .map_err(|e| StepFailure::harness(e.to_string()))
        };
        if let Some(max) = &timing.max {
            let limit = eval(&max.at)?;
            if elapsed > limit {
                return Err(StepFailure {
                    grade: Some(max.grade),
                    timing: true,
                    expected: Some(format!("at most {} ({limit:?})", max.at.as_str())),
                    actual: Some(format!("{elapsed:?}")),
                    ..StepFailure::new("arrived too late")
                });
            }
        }
        if let Some(min) = &timing.min {
            let limit = eval(&min.at)?;
            if elapsed < limit {
                return Err(StepFailure {
                    grade: Some(min.grade),
                    timing: true,
                    expected: Some(format!("at least {} ({limit:?})", min.at.as_str())),
                    actual: Some(format!("{elapsed:?}")),
                    ..StepFailure::new("arrived too early")
                });
            }
        }
        Ok(())
    }

    /// Matches a response against an expectation and its graded alternatives.
    fn match_response(
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
                    crate::scenario::Grade::Pass => self.non_strict_notes(outcome),
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
    async fn gather(
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
                crate::scenario::EioType::Ping | crate::scenario::EioType::Noop
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
            Some(grade) if responses > 1 && grade != crate::scenario::Grade::Pass => {
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

    /// Records the notes of a NON-STRICT match as a finding of the current step; the step
    /// itself goes on.
    fn non_strict_notes(&mut self, outcome: MatchOutcome) -> Result<(), StepFailure> {
        if let MatchOutcome::NonStrict(notes) = outcome {
            let text: Vec<String> = notes.iter().map(ToString::to_string).collect();
            self.findings.push(Finding {
                verdict: Verdict::NonStrict,
                line: self.current_line,
                message: text.join("; "),
                expected: None,
                actual: None,
                timing: false,
                blocked_by: None,
            });
        }
        Ok(())
    }

    async fn ws_open(
        &mut self,
        name: &str,
        target: &StepTarget,
        headers: &[(String, crate::matcher::Template)],
        expect: Option<&ResponseExpect>,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let path_and_query = self.path_and_query(target)?;
        let mut extra = Vec::new();
        for (header, value) in headers {
            extra.push((
                header.clone(),
                value
                    .render(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?,
            ));
        }
        let connect = ws::connect(
            self.client.connector(),
            &path_and_query,
            &extra,
            &self.transcript,
            name,
        );
        let result = tokio::time::timeout_at(deadline, connect)
            .await
            .map_err(|_| {
                StepFailure::new("no answer to the WebSocket upgrade before the deadline")
            })?
            .map_err(|e| StepFailure::new(format!("WebSocket upgrade: {e}")))?;
        let wants_rejection = expect.and_then(|e| e.rejected).unwrap_or(false);
        match result {
            WsConnect::Rejected { status, body, .. } => {
                if wants_rejection {
                    return Ok(());
                }
                Err(StepFailure {
                    expected: Some("101".into()),
                    actual: Some(format!("{status} {}", String::from_utf8_lossy(&body))),
                    ..StepFailure::new("the WebSocket upgrade was refused")
                })
            }
            WsConnect::Open(connection) => {
                let mut conn = Conn::websocket(
                    name,
                    connection,
                    self.instance.heartbeat,
                    protocol_of(&path_and_query),
                    &self.transcript,
                );
                conn.hide_upper_layer = self.instance.layer == Layer::Engineio;
                if wants_rejection {
                    // Accepted only if the server closes right away (101 then close).
                    return match conn.next(deadline).await {
                        Some(Item::Closed { .. }) => Ok(()),
                        Some(item) => Err(StepFailure {
                            expected: Some("an HTTP error or an immediate close".into()),
                            actual: Some(item.describe()),
                            ..StepFailure::new("the WebSocket was accepted")
                        }),
                        None => Err(StepFailure::new(
                            "the WebSocket stayed open until the deadline",
                        )),
                    };
                }
                if let Some(pattern) = expect.and_then(|e| e.status.as_ref()) {
                    let outcome = match_value(pattern, &Value::from(101), &mut self.captures);
                    if !outcome.passed() {
                        return Err(StepFailure::mismatch("upgrade status", &outcome));
                    }
                }
                self.conns.insert(name.to_owned(), conn);
                Ok(())
            }
        }
    }

    /// Opens and registers WebSocket connection `name` on the suite path with `query`.
    async fn open_websocket(
        &mut self,
        name: &str,
        query: &str,
        deadline: Instant,
    ) -> Result<&mut Conn, StepFailure> {
        let path = self.target.path_and_query(query);
        let target = StepTarget::Url(crate::matcher::Template::literal_text(&path));
        self.ws_open(name, &target, &[], None, deadline).await?;
        self.conn(name)
    }

    /// Transport-neutral session open.
    async fn open(
        &mut self,
        name: &str,
        query: &str,
        expect: Option<&EioPacketPattern>,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let transport = self.instance.transport.unwrap_or(Transport::Websocket);
        let mut after_open = Vec::new();
        let handshake = match transport {
            Transport::Websocket => {
                let conn = self
                    .open_websocket(name, &format!("{query}&transport=websocket"), deadline)
                    .await?;
                let item = conn
                    .next(deadline)
                    .await
                    .ok_or_else(|| StepFailure::new("no open packet before the deadline"))?;
                item_packet(&item)?
            }
            Transport::Polling | Transport::Upgrade => {
                let path = self
                    .target
                    .path_and_query(&format!("{query}&transport=polling"));
                let response = tokio::time::timeout_at(
                    deadline,
                    self.client
                        .send(&HttpRequest::get(path.clone()), &self.transcript, name),
                )
                .await
                .map_err(|_| StepFailure::new("no handshake response before the deadline"))?
                .map_err(|e| StepFailure::new(format!("handshake: {e}")))?;
                if response.status != 200 {
                    return Err(StepFailure {
                        expected: Some("200".into()),
                        actual: Some(format!(
                            "{} {}",
                            response.status,
                            String::from_utf8_lossy(&response.body)
                        )),
                        ..StepFailure::new("the handshake was refused")
                    });
                }
                let mut packets =
                    payload_packets(&response.body, response.content_type(), protocol_of(&path))
                        .into_iter();
                let first = packets
                    .next()
                    .ok_or_else(|| StepFailure::new("empty handshake body"))?
                    .map_err(|e| StepFailure::new(format!("handshake body: {e}")))?;
                // Engine.IO v3 servers of the socket.io 2.x line glue the Socket.IO CONNECT
                // to the open packet: keep what follows for the connection.
                let at = Instant::now();
                after_open = packets
                    .map(|p| match p {
                        Ok(packet) => Item::Packet {
                            at,
                            packet,
                            raw: None,
                        },
                        Err(error) => Item::Malformed { at, error },
                    })
                    .collect();
                first
            }
        };
        let view = handshake.as_packet();
        if let Some(pattern) = expect {
            let outcome = match_value(
                &pattern.to_pattern(),
                &wire::eio_to_value(&view),
                &mut self.captures,
            );
            if !outcome.passed() {
                return Err(StepFailure::mismatch("handshake", &outcome));
            }
            self.non_strict_notes(outcome)?;
        }
        let engineio::Packet::Open(h) = view else {
            return Err(StepFailure {
                actual: Some(format!("{view:?}")),
                ..StepFailure::new("the first packet is not an open packet")
            });
        };
        for (key, value) in [
            ("sid", Value::from(h.sid())),
            ("ping_interval", Value::from(h.ping_interval())),
            ("ping_timeout", Value::from(h.ping_timeout())),
        ] {
            if !self.captures.contains(key) {
                self.captures.set(key, value);
            }
        }
        let sid = h.sid().to_owned();
        match transport {
            Transport::Websocket => Ok(()),
            Transport::Polling => {
                let path = self
                    .target
                    .path_and_query(&format!("{query}&transport=polling&sid={sid}"));
                let protocol = protocol_of(&path);
                let mut conn = Conn::polling(
                    name,
                    self.client.clone(),
                    path,
                    self.instance.heartbeat,
                    protocol,
                    Duration::from_millis(h.ping_interval()),
                    &self.transcript,
                );
                conn.hide_upper_layer = self.instance.layer == Layer::Engineio;
                conn.preload(after_open);
                self.conns.insert(name.to_owned(), conn);
                Ok(())
            }
            Transport::Upgrade => {
                let query = format!("{query}&transport=websocket&sid={sid}");
                let interval = Duration::from_millis(h.ping_interval());
                let conn = self.open_websocket(name, &query, deadline).await?;
                conn.start_client_pings(interval);
                conn.send_packets(&[engineio::Packet::Ping(Some("probe"))])
                    .await
                    .map_err(StepFailure::new)?;
                let item = conn.next(deadline).await.ok_or_else(|| {
                    StepFailure::new("no answer to the probe before the deadline")
                })?;
                let answer = item_packet(&item)?;
                if answer.as_packet() != engineio::Packet::Pong(Some("probe")) {
                    return Err(StepFailure {
                        expected: Some("Pong(\"probe\")".into()),
                        actual: Some(format!("{answer:?}")),
                        ..StepFailure::new("the upgrade probe was not answered")
                    });
                }
                conn.send_packets(&[engineio::Packet::Upgrade])
                    .await
                    .map_err(StepFailure::new)
            }
        }
    }

    async fn send(&mut self, name: &str, payload: &Outbound) -> Result<(), StepFailure> {
        match payload {
            Outbound::Eio(packet) => {
                let texts = self.eio_texts(std::slice::from_ref(packet))?;
                let view = eio_packet(packet, &texts[0]);
                self.conn(name)?
                    .send_packets(&[view])
                    .await
                    .map_err(StepFailure::new)
            }
            Outbound::Sio(packet) => {
                let frames = self.sio_frames(packet)?;
                let views: Vec<_> = frames
                    .iter()
                    .map(|f| match f {
                        OutFrame::Text(t) => engineio::Packet::text(t),
                        OutFrame::Binary(b) => engineio::Packet::binary(b),
                    })
                    .collect();
                self.conn(name)?
                    .send_packets(&views)
                    .await
                    .map_err(StepFailure::new)
            }
            Outbound::Text(t) => {
                let text = t
                    .render(&self.captures)
                    .map_err(|e| StepFailure::harness(e.to_string()))?;
                self.conn(name)?
                    .send_raw_text(text)
                    .await
                    .map_err(StepFailure::new)
            }
            Outbound::Binary(b) => self
                .conn(name)?
                .send_raw_binary(b.clone())
                .await
                .map_err(StepFailure::new),
        }
    }

    fn sio_frames(&self, packet: &SioPacket) -> Result<Vec<OutFrame>, StepFailure> {
        let mut object = serde_json::Map::new();
        object.insert("type".into(), Value::from(packet.kind as u8));
        object.insert("nsp".into(), Value::from(packet.nsp.clone()));
        if let Some(id) = &packet.id {
            let id = interpolate_value(id, &self.captures)
                .map_err(|e| StepFailure::harness(e.to_string()))?;
            object.insert("id".into(), id);
        }
        if let Some(data) = &packet.data {
            let data = interpolate_value(data, &self.captures)
                .map_err(|e| StepFailure::harness(e.to_string()))?;
            object.insert("data".into(), data);
        }
        let assembled =
            wire::sio_from_value(&Value::Object(object)).map_err(StepFailure::harness)?;
        Ok(assembled.frames().collect())
    }

    async fn expect(
        &mut self,
        step: &Step,
        name: &str,
        expected: &Inbound,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let within = deadline.saturating_duration_since(Instant::now());
        let protocol = self.conn(name)?.protocol();
        let mut reassembler = socketio_reassembler(protocol);
        loop {
            let conn_is_ws = self.conn(name)?.is_websocket();
            let Some(item) = self.next_item(name, deadline).await? else {
                let what = match expected {
                    Inbound::Closed => "the connection was still open",
                    _ => "nothing arrived",
                };
                return Err(StepFailure {
                    expected: Some(describe_inbound(expected)),
                    actual: Some(format!("{what} after {within:?}")),
                    ..StepFailure::new(what)
                });
            };
            let arrival = item.at();
            let actual = match (expected, &item) {
                (Inbound::Closed, Item::Closed { .. }) => {
                    return self.check_timing(step, arrival);
                }
                // A server closes a polling session (and may close a WebSocket) by sending
                // the Engine.IO `close` packet: that is the close.
                (Inbound::Closed, Item::Packet { packet, .. })
                    if packet.packet_type() == engineio::PacketType::Close =>
                {
                    return self.check_timing(step, arrival);
                }
                // On polling the close comes as `6\x1e1`: the noop only releases the pending
                // GET and says nothing.
                (Inbound::Closed, Item::Packet { packet, .. })
                    if packet.packet_type() == engineio::PacketType::Noop && !conn_is_ws =>
                {
                    continue;
                }
                (_, Item::Overflow { .. }) => {
                    return Err(overflow(&item, &describe_inbound(expected)));
                }
                (_, Item::Closed { detail, .. }) => {
                    return Err(StepFailure {
                        expected: Some(describe_inbound(expected)),
                        actual: Some(format!("connection closed ({detail})")),
                        ..StepFailure::new("the connection closed")
                    });
                }
                (_, Item::Malformed { error, .. }) => {
                    return Err(StepFailure::new(format!(
                        "the server sent malformed data: {error}"
                    )));
                }
                (Inbound::Closed, _) => {
                    return Err(StepFailure {
                        expected: Some("the connection to close".into()),
                        actual: Some(item.describe()),
                        ..StepFailure::new("data arrived instead of a close")
                    });
                }
                (Inbound::Eio(_), Item::Packet { packet, .. }) => {
                    wire::eio_to_value(&packet.as_packet())
                }
                (Inbound::Text(_), Item::Packet { raw, packet, .. }) => match raw {
                    Some(raw) => Value::String(raw.clone()),
                    None => wire::eio_to_value(&packet.as_packet()),
                },
                // A raw binary expectation wants a binary frame: a `b<base64>` text frame
                // carries the same bytes but is not what was asked for. The frame is compared
                // whole: in Engine.IO v3 that includes the `0x04` type byte in front of the
                // message (the decoder accepted the frame, so that is what was on the wire).
                (Inbound::Binary(_), Item::Packet { packet, raw, .. }) => {
                    match (raw, packet.as_packet()) {
                        (None, engineio::Packet::Message(Message::Binary(b))) => {
                            // The frame as the protocol encodes it: the decoder took it whole.
                            let (_, frame) = protocol.encode_frame(
                                &engineio::Packet::Message(Message::Binary(b)),
                                false,
                            );
                            binary_value(&frame)
                        }
                        (Some(text), _) => Value::String(text.clone()),
                        (None, other) => wire::eio_to_value(&other),
                    }
                }
                (Inbound::Sio(_), Item::Packet { packet, .. }) => {
                    let engineio::Packet::Message(message) = packet.as_packet() else {
                        return Err(StepFailure {
                            expected: Some(describe_inbound(expected)),
                            actual: Some(format!("Engine.IO {:?}", packet.as_packet())),
                            ..StepFailure::new("expected a Socket.IO packet")
                        });
                    };
                    match reassemble(&mut reassembler, message) {
                        Ok(None) => continue,
                        Ok(Some(value)) => value,
                        Err(e) => return Err(StepFailure::new(e)),
                    }
                }
            };
            let pattern = match expected {
                Inbound::Eio(p) => p.to_pattern(),
                Inbound::Sio(p) => p.to_pattern(),
                Inbound::Text(p) | Inbound::Binary(p) => p.clone(),
                // Every arm above that could meet a close expectation has returned.
                Inbound::Closed => {
                    return Err(StepFailure::harness("close expectation fell through"));
                }
            };
            let outcome = match_value(&pattern, &actual, &mut self.captures);
            if !outcome.passed() {
                return Err(StepFailure::mismatch("unexpected packet", &outcome));
            }
            self.check_timing(step, arrival)?;
            return self.non_strict_notes(outcome);
        }
    }
}

/// The finding of a step that meets a flood ([`Item::Overflow`]): a FAIL whatever the case's
/// level, a server must not send without end.
fn overflow(item: &Item, waiting_for: &str) -> StepFailure {
    let Item::Overflow { frames, bytes, .. } = item else {
        return StepFailure::harness("not an overflow");
    };
    StepFailure {
        expected: Some(waiting_for.to_owned()),
        actual: Some(item.describe()),
        grade: Some(crate::scenario::Grade::Fail),
        ..StepFailure::new(format!(
            "{frames} frames, {} arrived while waiting for {waiting_for}",
            crate::transport::transcript::human_bytes(*bytes)
        ))
    }
}

/// The Socket.IO reassembler of `expect: {sio: …}` and `record` on a connection that speaks
/// `protocol`: the payload rules of its Socket.IO revision (a v4 server's ERROR may carry
/// `null` or an array, its events any name), no attachment limit (a server may send as many
/// as it likes; the expectation judges them).
fn socketio_reassembler(protocol: Protocol) -> Reassembler {
    protocol
        .with_config(DecodeConfig::new().max_attachments(u32::MAX))
        .reassembler()
}

/// Feeds one Engine.IO message to a Socket.IO reassembler: `None` while attachments are
/// missing, then the packet as the actual value `expect: {sio: …}` matches.
fn reassemble(
    reassembler: &mut Reassembler,
    message: Message<'_>,
) -> Result<Option<Value>, String> {
    let progress = match message {
        Message::Text(t) => reassembler.push_text(&Utf8Bytes::from(t)),
        Message::Binary(b) => reassembler.push_binary(Bytes::from(b.into_owned())),
    };
    match progress {
        Ok(Progress::NeedAttachments { .. }) => Ok(None),
        Ok(Progress::Complete(a)) => actual::sio_value(&a.packet().as_packet(), a.attachments())
            .map(Some)
            .map_err(|e| format!("unrepresentable payload: {e}")),
        Err(e) => Err(format!("the server sent a malformed Socket.IO packet: {e}")),
    }
}

impl CaseState<'_> {
    /// `record`: takes the next item of `name` and keeps, for the recorder, the expectation
    /// that matches it: `closed`, a Socket.IO packet for a message that decodes as one
    /// (attachments reassembled), else the Engine.IO packet. Never fails on what arrives,
    /// only when nothing does.
    async fn record(
        &mut self,
        step: &Step,
        name: &str,
        deadline: Instant,
    ) -> Result<(), StepFailure> {
        let mut reassembler = socketio_reassembler(self.conn(name)?.protocol());
        loop {
            let Some(item) = self.next_item(name, deadline).await? else {
                return Err(StepFailure::new("nothing arrived to record"));
            };
            let (key, value) = match &item {
                Item::Closed { .. } => ("closed", Value::Bool(true)),
                Item::Overflow { .. } => return Err(overflow(&item, "something to record")),
                Item::Malformed { error, .. } => {
                    return Err(StepFailure::new(format!(
                        "the server sent malformed data: {error}"
                    )));
                }
                Item::Packet { packet, .. } => match packet.as_packet() {
                    engineio::Packet::Message(message) => {
                        match reassemble(&mut reassembler, message.clone()) {
                            Ok(None) => continue,
                            Ok(Some(value)) => ("sio", value),
                            // Not Socket.IO (a raw Engine.IO endpoint): the Engine.IO packet.
                            Err(_) => ("eio", wire::eio_to_value(&packet.as_packet())),
                        }
                    }
                    other => ("eio", wire::eio_to_value(&other)),
                },
            };
            let mut expectation = serde_json::Map::new();
            expectation.insert("conn".into(), Value::String(name.to_owned()));
            expectation.insert(key.into(), value);
            self.recorded.push((step.line, Value::Object(expectation)));
            return Ok(());
        }
    }
}

/// Sends an HTTP request. In an Engine.IO-level case a GET whose answer carried nothing but
/// Socket.IO packets (the automatic connection to "/" of a Socket.IO server, and what its
/// application sends on connection, see [`Layer::Engineio`]) is sent again at once, as a
/// client polls again: the step judges the first answer that carries Engine.IO traffic, and a
/// GET meant to be pending at the server is pending there. The caller bounds the time.
async fn poll(
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
                        && packet["data"]
                            .as_str()
                            .is_some_and(|text| super::conn::is_socketio_packet(protocol, text)))
                })
                .collect(),
        ),
        other => other,
    }
}

/// What a failing `step` blocks the case on, when it is setup rather than the case's own
/// behaviour: a step inlined from a fragment, or the session handshake of `open`.
fn setup_of(step: &Step) -> Option<String> {
    match (&step.setup, &step.action) {
        (Some(fragment), _) => Some(format!("setup `{fragment}`")),
        (None, Action::Open { .. }) => Some("the session handshake (`open`)".to_owned()),
        _ => None,
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

fn describe_inbound(expected: &Inbound) -> String {
    match expected {
        Inbound::Eio(p) => p.to_pattern().to_string(),
        Inbound::Sio(p) => p.to_pattern().to_string(),
        Inbound::Text(p) | Inbound::Binary(p) => p.to_string(),
        Inbound::Closed => "the connection to close".into(),
    }
}

fn item_packet(item: &Item) -> Result<engineio::PacketBuf, StepFailure> {
    match item {
        Item::Packet { packet, .. } => Ok(packet.clone()),
        other => Err(StepFailure::new(format!(
            "expected an Engine.IO packet, got {}",
            other.describe()
        ))),
    }
}

/// How a polling response body carries its payload, from the request's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Framing {
    /// The protocol of the request (`EIO=3`: `len:packet` or XHR2 binary payloads), see
    /// [`protocol_of`].
    pub(crate) protocol: Protocol,
    /// JSONP (`j=<index>`): the payload is wrapped as `___eio[<index>]("<payload>");`.
    pub(crate) jsonp: Option<String>,
}

impl Framing {
    pub(crate) fn of(path_and_query: &str) -> Self {
        let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
        Self {
            protocol: protocol_of(path_and_query),
            jsonp: query
                .split('&')
                .find_map(|pair| pair.strip_prefix("j="))
                .map(str::to_owned),
        }
    }
}

/// A fixture packet as a codec packet; `text` is its rendered text data.
fn eio_packet<'a>(packet: &'a EioPacket, text: &'a Option<String>) -> engineio::Packet<'a> {
    let text_data = text.as_deref();
    match packet.kind {
        crate::scenario::EioType::Open => {
            engineio::Packet::Open(engineio::Handshake::new("", &[], 0, 0, None))
        }
        crate::scenario::EioType::Close => engineio::Packet::Close,
        crate::scenario::EioType::Ping => engineio::Packet::Ping(text_data),
        crate::scenario::EioType::Pong => engineio::Packet::Pong(text_data),
        crate::scenario::EioType::Message => match &packet.data {
            Some(EioData::Binary(b)) => engineio::Packet::binary(b),
            _ => engineio::Packet::text(text_data.unwrap_or_default()),
        },
        crate::scenario::EioType::Upgrade => engineio::Packet::Upgrade,
        crate::scenario::EioType::Noop => engineio::Packet::Noop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socketio_packets_reassemble_by_the_connection_revision() {
        let v3 = || socketio_reassembler(protocol_of("/socket.io/?EIO=3&transport=websocket"));
        let v4 = || socketio_reassembler(protocol_of("/socket.io/?EIO=4&transport=websocket"));
        // Socket.IO v4 (over Engine.IO 3): an ERROR may carry null or an array, an event any
        // name; Socket.IO v5 refuses all three.
        for text in ["4null", r#"4["denied"]"#, r#"2["connect"]"#] {
            let text = Utf8Bytes::from(text);
            assert!(v3().push_text(&text).is_ok(), "{text}");
            assert!(v4().push_text(&text).is_err(), "{text}");
        }
        // No attachment limit on either.
        let placeholders: Vec<String> = (0..20)
            .map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#))
            .collect();
        let header = format!(r#"520-["a",{}]"#, placeholders.join(","));
        let header = Utf8Bytes::from(header.as_str());
        for mut reassembler in [v3(), v4()] {
            let progress = reassembler.push_text(&header).unwrap();
            assert!(
                matches!(progress, Progress::NeedAttachments { remaining: 20 }),
                "{progress:?}"
            );
        }
    }
}
