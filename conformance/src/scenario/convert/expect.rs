//! Expectations: connection `expect`, the `expect` of http/await/ws_open/open, timing.

use super::{At, Converter};
use crate::matcher::{Pattern, Template};
use crate::scenario::model::{
    Alternative, BodyExpect, Bound, Grade, Inbound, ResponseExpect, Since, Timing,
};
use crate::scenario::packet::{EioPacketPattern, EioType, SioPacketPattern};
use crate::scenario::raw::{
    RawBodyExpect, RawBound, RawEioPattern, RawExpect, RawSioPattern, RawTiming,
};

impl Converter<'_, '_> {
    pub(super) fn eio_pattern(&mut self, at: At, raw: RawEioPattern) -> EioPacketPattern {
        if let Some(data) = &raw.data {
            let message = raw.kind == EioType::Message;
            if let Some(problem) = data.text_problem(message) {
                self.error(at, format!("eio `data`: {problem}"));
            }
        }
        EioPacketPattern {
            kind: raw.kind,
            data: raw.data,
        }
    }

    pub(super) fn sio_pattern(raw: RawSioPattern) -> SioPacketPattern {
        SioPacketPattern {
            kind: raw.kind,
            nsp: raw
                .nsp
                .unwrap_or_else(|| Pattern::String(Template::literal_text("/"))),
            id: raw.id,
            data: raw.data,
        }
    }

    pub(super) fn conn_expect(&mut self, at: At, raw: RawExpect) -> Option<(String, Inbound)> {
        self.forbid(
            at,
            &[
                ("status", raw.status.is_some()),
                ("headers", raw.headers.is_some()),
                ("body", raw.body.is_some()),
                ("rejected", raw.rejected.is_some()),
                ("one_of", raw.one_of.is_some()),
                ("gather", raw.gather.is_some()),
                ("grade", raw.grade.is_some()),
                ("note", raw.note.is_some()),
            ],
            "in a connection `expect` (only with http, await, ws_open)",
        );
        let Some(conn) = raw.conn else {
            self.error(at, "a connection `expect` needs `conn`");
            return None;
        };
        let expected = match (raw.eio, raw.sio, raw.raw, raw.closed) {
            (Some(packet), None, None, None) => Inbound::Eio(self.eio_pattern(at, packet)),
            (None, Some(packet), None, None) => Inbound::Sio(Self::sio_pattern(packet)),
            (None, None, Some(raw_in), None) => match (raw_in.text, raw_in.hex) {
                (Some(text), None) => {
                    if let Some(problem) = text.text_problem(false) {
                        self.error(at, format!("`raw.text`: {problem}"));
                    }
                    Inbound::Text(text)
                }
                (None, Some(hex)) => Inbound::Binary(Pattern::Bin(self.hex(at, &hex)?)),
                _ => {
                    self.error(at, "`expect.raw` takes exactly one of `text`, `hex`");
                    return None;
                }
            },
            (None, None, None, Some(true)) => Inbound::Closed,
            (None, None, None, Some(false)) => {
                self.error(at, "`closed: false` expects nothing; remove it");
                return None;
            }
            _ => {
                self.error(
                    at,
                    "a connection `expect` takes exactly one of `eio`, `sio`, `raw`, `closed`",
                );
                return None;
            }
        };
        Some((conn, expected))
    }

    pub(super) fn open_expect(&mut self, at: At, raw: RawExpect) -> Option<EioPacketPattern> {
        self.forbid(
            at,
            &[
                ("conn", raw.conn.is_some()),
                ("sio", raw.sio.is_some()),
                ("raw", raw.raw.is_some()),
                ("closed", raw.closed.is_some()),
                ("status", raw.status.is_some()),
                ("headers", raw.headers.is_some()),
                ("body", raw.body.is_some()),
                ("rejected", raw.rejected.is_some()),
                ("one_of", raw.one_of.is_some()),
                ("gather", raw.gather.is_some()),
                ("grade", raw.grade.is_some()),
                ("note", raw.note.is_some()),
            ],
            "in the `expect` of `open` (it takes `eio:` for the handshake packet)",
        );
        match raw.eio {
            Some(packet) => Some(self.eio_pattern(at, packet)),
            None => {
                self.error(
                    at,
                    "the `expect` of `open` needs `eio:` (the handshake packet)",
                );
                None
            }
        }
    }

    pub(super) fn response_expect(
        &mut self,
        at: At,
        raw: RawExpect,
        ws: bool,
        alternative: bool,
    ) -> ResponseExpect {
        self.forbid(
            at,
            &[
                ("conn", raw.conn.is_some()),
                ("eio", raw.eio.is_some()),
                ("sio", raw.sio.is_some()),
                ("raw", raw.raw.is_some()),
                ("closed", raw.closed.is_some()),
            ],
            "in the `expect` of http, await or ws_open (a connection `expect` is its own step)",
        );
        if alternative {
            self.forbid(
                at,
                &[
                    ("within", raw.within.is_some()),
                    ("timing", raw.timing.is_some()),
                    ("spec", raw.spec.is_some()),
                    ("one_of", raw.one_of.is_some()),
                    ("gather", raw.gather.is_some()),
                ],
                "inside a `one_of` alternative",
            );
        } else {
            self.forbid(
                at,
                &[("grade", raw.grade.is_some()), ("note", raw.note.is_some())],
                "outside a `one_of` alternative",
            );
        }
        if raw.gather.is_some()
            && (ws
                || raw.one_of.is_some()
                || !matches!(raw.body, Some(RawBodyExpect { eio: Some(_), .. })))
        {
            self.error(
                at,
                "`gather` needs `body: {eio: [...]}` on an http GET, without `one_of`",
            );
        }
        if ws {
            self.forbid(
                at,
                &[("body", raw.body.is_some())],
                "in the `expect` of ws_open",
            );
        } else {
            self.forbid(
                at,
                &[("rejected", raw.rejected.is_some())],
                "outside ws_open (an HTTP error is `status:`)",
            );
        }
        let headers: Vec<(String, Pattern)> = raw.headers.unwrap_or_default().into_iter().collect();
        for (name, _) in &headers {
            if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
                self.error(
                    at,
                    format!(
                        "expected header names are lower-case: `{}`",
                        name.to_ascii_lowercase()
                    ),
                );
            }
        }
        let body = raw.body.and_then(|body| self.body_expect(at, body));
        let one_of = raw
            .one_of
            .unwrap_or_default()
            .into_iter()
            .map(|alternative| {
                let grade = alternative.grade.unwrap_or(Grade::Pass);
                let note = alternative.note.clone();
                Alternative {
                    expect: self.response_expect(at, alternative, ws, true),
                    grade,
                    note,
                }
            })
            .collect();
        ResponseExpect {
            status: raw.status,
            headers,
            body,
            rejected: raw.rejected,
            one_of,
            gather: raw.gather,
        }
    }

    pub(super) fn body_expect(&mut self, at: At, raw: RawBodyExpect) -> Option<BodyExpect> {
        match (raw.text, raw.eio, raw.json) {
            (Some(text), None, None) => {
                if let Some(problem) = text.text_problem(false) {
                    self.error(at, format!("`body.text`: {problem}"));
                }
                Some(BodyExpect::Text(text))
            }
            (None, Some(packets), None) => Some(BodyExpect::Eio(
                packets
                    .into_iter()
                    .map(|packet| self.eio_pattern(at, packet))
                    .collect(),
            )),
            (None, None, Some(json)) => Some(BodyExpect::Json(json)),
            _ => {
                self.error(
                    at,
                    "expected `body` takes exactly one of `text`, `eio`, `json`",
                );
                None
            }
        }
    }

    pub(super) fn timing(&mut self, raw: RawTiming) -> Timing {
        let bound = |raw: RawBound| match raw {
            RawBound::Plain(at) => Bound {
                at,
                grade: Grade::Fail,
            },
            RawBound::Full(full) => Bound {
                at: full.at,
                grade: full.grade.unwrap_or(Grade::Fail),
            },
        };
        let since = match raw.since.as_deref() {
            None | Some("previous") => Since::Previous,
            Some("case-start") => Since::CaseStart,
            Some(id) => Since::Step(id.to_owned()),
        };
        Timing {
            since,
            min: raw.min.map(bound),
            max: raw.max.map(bound),
        }
    }
}
