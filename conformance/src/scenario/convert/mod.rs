//! Raw serde structs → typed model, checking what serde cannot: one action per step, which
//! keys go with which action, text-only patterns, packet payload shapes.

mod expect;
mod payload;

use serde_saphyr::Spanned;

use super::error::Sink;
use super::model::{Action, HttpRequest, Outbound, RequestBody, SpecRef, Step, Target};
use super::packet::EioPacket;
use super::raw::{RawAsync, RawBody, RawHttp, RawStep, RawUnordered, SpannedSteps};
use crate::matcher::Template;

/// Keys that select what a step does (`expect` is one only when alone).
const ACTIONS: &str =
    "http, await, ws_open, open, send, expect, expect_none, unordered, sleep, repeat, use, close";

/// Converts steps, reporting problems to a [`Sink`]; a step with problems is dropped.
pub(super) struct Converter<'s, 'f> {
    pub(super) sink: &'s mut Sink<'f>,
}

/// Where a step is, for messages.
#[derive(Clone, Copy)]
struct At {
    line: u64,
    column: u64,
}

impl Converter<'_, '_> {
    fn error(&mut self, at: At, message: impl Into<String>) {
        self.sink.error(at.line, at.column, message);
    }

    /// Reports each present key as not allowed in `context`.
    fn forbid(&mut self, at: At, keys: &[(&str, bool)], context: &str) {
        for (key, present) in keys {
            if *present {
                self.error(at, format!("`{key}` is not allowed {context}"));
            }
        }
    }

    pub(super) fn steps(&mut self, raw: SpannedSteps) -> Vec<Step> {
        raw.into_iter().filter_map(|step| self.step(step)).collect()
    }

    fn step(&mut self, raw: Spanned<RawStep>) -> Option<Step> {
        let at = At {
            line: raw.referenced.line(),
            column: raw.referenced.column(),
        };
        let RawStep {
            id,
            level,
            note,
            fixed_duration,
            within,
            timing,
            spec,
            when,
            http,
            await_id,
            ws_open,
            open,
            send,
            mut expect,
            expect_none,
            unordered,
            sleep,
            repeat,
            steps,
            use_fragment,
            close,
            record,
        } = raw.value;

        let present: Vec<&str> = [
            ("http", http.is_some()),
            ("await", await_id.is_some()),
            ("ws_open", ws_open.is_some()),
            ("open", open.is_some()),
            ("send", send.is_some()),
            ("expect_none", expect_none.is_some()),
            ("unordered", unordered.is_some()),
            ("sleep", sleep.is_some()),
            ("repeat", repeat.is_some()),
            ("use", use_fragment.is_some()),
            ("close", close.is_some()),
            ("record", record.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, is)| is.then_some(key))
        .collect();
        let kind = match present.as_slice() {
            [] if expect.is_some() => "expect",
            [] => {
                self.error(at, format!("a step needs one action key ({ACTIONS})"));
                return None;
            }
            [one] => one,
            [first, second, ..] => {
                self.error(
                    at,
                    format!("a step has exactly one action, found `{first}` and `{second}`"),
                );
                return None;
            }
        };
        if steps.is_some() && kind != "repeat" {
            self.error(
                at,
                "`steps` belongs to `repeat` (use `unordered: {steps: […]}` for groups)",
            );
        }
        if expect.is_some() && !matches!(kind, "expect" | "http" | "await" | "ws_open" | "open") {
            self.error(at, format!("`expect` cannot be combined with `{kind}`"));
            expect = None;
        }
        if kind == "use" {
            self.forbid(
                at,
                &[
                    ("id", id.is_some()),
                    ("level", level.is_some()),
                    ("within", within.is_some()),
                    ("timing", timing.is_some()),
                    ("spec", spec.is_some()),
                    ("fixed_duration", fixed_duration.is_some()),
                ],
                "on a `use` step (put it on the fragment's steps)",
            );
        }
        if kind == "sleep" || kind == "repeat" || kind == "send" || kind == "expect_none" {
            self.forbid(
                at,
                &[("within", within.is_some())],
                &format!("on a `{kind}` step"),
            );
        }
        if !matches!(
            kind,
            "http" | "await" | "ws_open" | "open" | "expect" | "use"
        ) {
            self.forbid(
                at,
                &[("timing", timing.is_some())],
                &format!("on a `{kind}` step"),
            );
        }

        // `within`, `timing` and `spec` may sit on the step or inside its `expect`.
        let mut within = within;
        let mut timing = timing;
        let mut spec: Vec<SpecRef> = spec.map(|many| many.0).unwrap_or_default();
        if let Some(inner) = expect.as_mut() {
            if let Some(inner_within) = inner.within.take() {
                if within.is_some() {
                    self.error(at, "`within` is given both on the step and in its `expect`");
                }
                within = Some(inner_within);
            }
            if let Some(inner_timing) = inner.timing.take() {
                if timing.is_some() {
                    self.error(at, "`timing` is given both on the step and in its `expect`");
                }
                timing = Some(inner_timing);
            }
            spec.extend(inner.spec.take().map(|many| many.0).unwrap_or_default());
        }

        let action = match kind {
            "http" => {
                let raw_http = http?;
                let expect = expect.map(|raw| self.response_expect(at, raw, false, false));
                let request = self.http_request(at, raw_http, id.as_deref())?;
                if request.async_id.is_some() && expect.is_some() {
                    self.error(
                        at,
                        "an async request has no `expect`; put it on the matching `await` step",
                    );
                }
                if expect.as_ref().is_some_and(|e| e.gather.is_some()) && request.method != "GET" {
                    self.error(at, "`gather` repeats the request: only on a GET");
                }
                Action::Http { request, expect }
            }
            "await" => {
                let expect = expect.map(|raw| self.response_expect(at, raw, false, false));
                if expect.as_ref().is_some_and(|e| e.gather.is_some()) {
                    self.error(at, "`gather` repeats the request: only on an `http` GET");
                }
                Action::Await {
                    id: await_id?,
                    expect,
                }
            }
            "ws_open" => {
                let raw_ws = ws_open?;
                Action::WsOpen {
                    conn: raw_ws.conn,
                    target: self.target(at, raw_ws.query, raw_ws.url),
                    headers: raw_ws.headers.into_iter().collect(),
                    expect: expect.map(|raw| self.response_expect(at, raw, true, false)),
                }
            }
            "open" => {
                let raw_open = open?;
                Action::Open {
                    conn: raw_open.conn,
                    query: raw_open.query,
                    expect: expect.and_then(|raw| self.open_expect(at, raw)),
                }
            }
            "send" => {
                let raw_send = send?;
                let payload = match (raw_send.eio, raw_send.sio, raw_send.raw) {
                    (Some(packet), None, None) => Outbound::Eio(self.eio_packet(at, packet)?),
                    (None, Some(packet), None) => Outbound::Sio(self.sio_packet(at, packet)?),
                    (None, None, Some(raw_out)) => match (raw_out.text, raw_out.hex) {
                        (Some(text), None) => Outbound::Text(text),
                        (None, Some(hex)) => Outbound::Binary(self.hex(at, &hex)?),
                        _ => {
                            self.error(at, "`send.raw` takes exactly one of `text`, `hex`");
                            return None;
                        }
                    },
                    _ => {
                        self.error(at, "`send` takes exactly one of `eio`, `sio`, `raw`");
                        return None;
                    }
                };
                Action::Send {
                    conn: raw_send.conn,
                    payload,
                }
            }
            "expect" => {
                let (conn, expected) = self.conn_expect(at, expect?)?;
                Action::Expect { conn, expected }
            }
            "expect_none" => {
                let raw_none = expect_none?;
                Action::ExpectNone {
                    conn: raw_none.conn,
                    duration: raw_none.duration,
                }
            }
            "unordered" => {
                let children = match unordered? {
                    RawUnordered::Steps(children) => children,
                    RawUnordered::Full(full) => {
                        if let Some(group_within) = full.within {
                            if within.is_some() {
                                self.error(
                                    at,
                                    "`within` is given both on the step and in `unordered`",
                                );
                            }
                            within = Some(group_within);
                        }
                        full.steps
                    }
                };
                let children = self.steps(children);
                if children.is_empty() {
                    self.error(at, "`unordered` needs at least one step");
                }
                for child in &children {
                    if !matches!(child.action, Action::Expect { .. } | Action::Await { .. }) {
                        self.sink.error(
                            child.line,
                            child.column,
                            "only `expect` and `await` steps can be unordered",
                        );
                    }
                }
                Action::Unordered { steps: children }
            }
            "sleep" => Action::Sleep { duration: sleep? },
            "repeat" => {
                let times = repeat?;
                if times == 0 {
                    self.error(at, "`repeat` needs at least 1 iteration");
                }
                let Some(body) = steps else {
                    self.error(at, "`repeat` needs `steps: […]`");
                    return None;
                };
                Action::Repeat {
                    times,
                    steps: self.steps(body),
                }
            }
            "use" => Action::Use {
                fragment: use_fragment?,
            },
            "record" => Action::Record { conn: record?.conn },
            "close" => {
                let raw_close = close?;
                Action::Close {
                    conn: raw_close.conn,
                    code: raw_close.code,
                }
            }
            _ => return None,
        };
        let timing = timing.map(|raw| self.timing(raw));
        let when_eio = when.map(|when| when.eio.0);
        if let Some(values) = &when_eio {
            self.eio_values(at.line, at.column, "when.eio", values);
        }
        Some(Step {
            line: at.line,
            column: at.column,
            included_from: Vec::new(),
            setup: None,
            id,
            level,
            note,
            fixed_duration,
            within,
            timing,
            spec,
            when_eio,
            action,
        })
    }

    /// Checks an `eio` list: non-empty, only 3 and 4.
    pub(super) fn eio_values(&mut self, line: u64, column: u64, key: &str, values: &[u8]) {
        if values.is_empty() {
            self.sink
                .error(line, column, format!("`{key}` must not be empty"));
        }
        if let Some(bad) = values.iter().find(|value| !matches!(value, 3 | 4)) {
            self.sink.error(
                line,
                column,
                format!("`{key}`: Engine.IO revision {bad} is not supported (3 or 4)"),
            );
        }
    }

    fn http_request(&mut self, at: At, raw: RawHttp, step_id: Option<&str>) -> Option<HttpRequest> {
        let method = raw.method.unwrap_or_else(|| "GET".to_owned());
        if method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_uppercase()) {
            self.error(
                at,
                format!("HTTP method `{method}` must be upper-case letters (GET, POST, ...)"),
            );
        }
        let async_id = match raw.async_id {
            None | Some(RawAsync::Flag(false)) => None,
            Some(RawAsync::Id(id)) => Some(id),
            Some(RawAsync::Flag(true)) => match step_id {
                Some(id) => Some(id.to_owned()),
                None => {
                    self.error(
                        at,
                        "`async: true` needs a step `id` (or write `async: <id>`)",
                    );
                    None
                }
            },
        };
        let body = match raw.body {
            None => None,
            Some(body) => Some(self.request_body(at, body)?),
        };
        Some(HttpRequest {
            method,
            target: self.target(at, raw.query, raw.url),
            headers: raw.headers.into_iter().collect(),
            body,
            async_id,
        })
    }

    fn target(&mut self, at: At, query: Option<Template>, url: Option<Template>) -> Target {
        match (query, url) {
            (Some(query), None) => Target::Query(query),
            (None, Some(url)) => Target::Url(url),
            (None, None) => Target::Query(Template::literal_text("")),
            (Some(query), Some(_)) => {
                self.error(at, "give either `query` or `url`, not both");
                Target::Query(query)
            }
        }
    }

    fn request_body(&mut self, at: At, raw: RawBody) -> Option<RequestBody> {
        match (raw.text, raw.hex, raw.eio) {
            (Some(text), None, None) => Some(RequestBody::Text(text)),
            (None, Some(hex), None) => self.hex(at, &hex).map(RequestBody::Bytes),
            (None, None, Some(packets)) => {
                let packets: Vec<EioPacket> = packets
                    .into_iter()
                    .filter_map(|packet| self.eio_packet(at, packet))
                    .collect();
                Some(RequestBody::Eio(packets))
            }
            _ => {
                self.error(at, "`body` takes exactly one of `text`, `hex`, `eio`");
                None
            }
        }
    }

    fn hex(&mut self, at: At, text: &str) -> Option<Vec<u8>> {
        crate::hex::decode(text)
            .map_err(|message| self.error(at, format!("`hex`: {message}")))
            .ok()
    }
}

/// Whether an id is a usable slug: `[A-Za-z0-9_.-]` segments separated by `/`.
pub(super) fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
        })
}
