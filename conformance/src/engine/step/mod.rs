//! Step execution: [`CaseState::run_steps`] runs a case's steps in order, each against its
//! deadline, and grades what goes wrong ([`grade`]: FAIL, NON-STRICT or ERROR by the case's
//! level and the step's own grades). What a step does lives by concern:
//!
//! - `http`: HTTP long-polling exchanges (`http`, `await`): the request built from the
//!   fixture, the response matched, `gather` over several GETs;
//! - `handshake`: opening a session (`open`, `ws_open`): the Engine.IO handshake over
//!   polling or WebSocket, and the polling → WebSocket upgrade with its `probe`;
//! - `send`: what a client sends (`send`): Engine.IO packets and Socket.IO packets framed
//!   for the wire;
//! - `expect`: what a client waits for (`expect`): matching an arrival, Socket.IO
//!   reassembly, floods and closes;
//! - `record`: `record` steps, which keep what arrived for `conformance record`.
//!
//! How a polling body is framed (Engine.IO revision, JSONP) is [`Framing`].

mod expect;
mod handshake;
mod http;
mod record;
mod send;

use self::expect::overflow;
use self::http::poll;
use crate::engine::framing::Framing;
use crate::engine::{CaseState, Conn, Finding, Item, StepFailure, Verdict, grade};
use crate::fixture::{Action, Layer, Since, Step};
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

    /// The deadline of `step` started at `start`: its `within`, else the suite's
    /// `step_timeout`, else the run's `--timeout`; an expression that does not evaluate is
    /// the step's ERROR.
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

    /// Runs one step before `deadline`: dispatches on its action to the module that does it
    /// (see the module documentation). `Err` is what went wrong, graded by the caller;
    /// `unordered` and `repeat` run their inner steps through [`Self::run_steps`] and report
    /// an inner failure with the inner step's line in front.
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
                            Verdict::NonStrict => crate::fixture::Grade::NonStrict,
                            _ => crate::fixture::Grade::Fail,
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

    /// Connection `name`, opened by an earlier `open` or `ws_open` (the loader checks that it
    /// is; a missing one is a harness error).
    fn conn(&mut self, name: &str) -> Result<&mut Conn, StepFailure> {
        self.conns
            .get_mut(name)
            .ok_or_else(|| StepFailure::harness(format!("no connection named `{name}`")))
    }

    /// Checks the arrival time of what `step` waited for against its `timing` window:
    /// `arrival` minus the reference point (the previous step's end, the case's start, or a
    /// named step's end) must be within `min`..`max`, each bound failing with its own grade
    /// (a late heartbeat may be only NON-STRICT).
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
