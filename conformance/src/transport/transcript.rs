//! Per-case wire transcript (design 3.11): every HTTP request/response and WebSocket frame/close,
//! with its time since the case started. Serialised as JSONL for `--trace` and the reports, and
//! rendered as text for the console.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use serde::ser::{Serialize, SerializeMap, Serializer};
use tokio::time::Instant;

/// Direction of an event, seen from the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Sent by the runner (`"tx"`).
    Tx,
    /// Received from the server (`"rx"`).
    Rx,
    /// Neither: an observation or annotation (`"note"`).
    Note,
}

impl Dir {
    /// JSONL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tx => "tx",
            Self::Rx => "rx",
            Self::Note => "note",
        }
    }

    fn arrow(self) -> &'static str {
        match self {
            Self::Tx => "->",
            Self::Rx => "<-",
            Self::Note => "--",
        }
    }
}

/// What happened on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind {
    /// HTTP request (`"http_req"`); detail is `METHOD path?query`.
    HttpRequest,
    /// HTTP response (`"http_resp"`); detail is `status content-type`.
    HttpResponse,
    /// WebSocket upgrade request (tx) or its `101` answer (rx) (`"ws_open"`).
    WsOpen,
    /// WebSocket text frame (`"ws_text"`).
    WsText,
    /// WebSocket binary frame (`"ws_binary"`).
    WsBinary,
    /// WebSocket close frame (`"ws_close"`); detail is `code=…`.
    WsClose,
    /// TCP connection ended (`"tcp_close"`): EOF, reset, cancellation or protocol error.
    TcpClose,
    /// Free-form annotation (`"note"`).
    Note,
}

impl WireKind {
    /// JSONL spelling (design 3.11).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpRequest => "http_req",
            Self::HttpResponse => "http_resp",
            Self::WsOpen => "ws_open",
            Self::WsText => "ws_text",
            Self::WsBinary => "ws_binary",
            Self::WsClose => "ws_close",
            Self::TcpClose => "tcp_close",
            Self::Note => "note",
        }
    }
}

/// Payload of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireData {
    /// No payload (the key is left out of the JSON).
    None,
    /// Text, serialised as `"data"`.
    Text(String),
    /// Bytes, serialised as lowercase `"hex"`.
    Bytes(Bytes),
}

impl WireData {
    /// Text when `bytes` is valid UTF-8 (HTTP bodies usually are), bytes otherwise.
    pub fn from_body(bytes: &Bytes) -> Self {
        if bytes.is_empty() {
            Self::None
        } else {
            match std::str::from_utf8(bytes) {
                Ok(s) => Self::Text(s.to_owned()),
                Err(_) => Self::Bytes(bytes.clone()),
            }
        }
    }
}

/// One transcript line.
#[derive(Debug, Clone, PartialEq)]
pub struct WireEvent {
    /// Milliseconds since the transcript started.
    pub t_ms: f64,
    /// Connection label chosen by the caller (`"ws"`, `"poll"`, `"post"`, …).
    pub conn: String,
    /// Direction.
    pub dir: Dir,
    /// Event kind.
    pub kind: WireKind,
    /// Payload.
    pub data: WireData,
    /// Short summary (`"GET /socket.io/?EIO=4…"`, `"200 text/plain"`, `"code=1005"`).
    pub detail: Option<String>,
}

impl Serialize for WireEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        // 0.1 ms resolution is plenty and keeps the lines short.
        map.serialize_entry("t_ms", &((self.t_ms * 10.0).round() / 10.0))?;
        map.serialize_entry("conn", &self.conn)?;
        map.serialize_entry("dir", self.dir.as_str())?;
        map.serialize_entry("kind", self.kind.as_str())?;
        match &self.data {
            WireData::None => {}
            WireData::Text(s) => map.serialize_entry("data", s)?,
            WireData::Bytes(b) => map.serialize_entry("hex", &hex(b))?,
        }
        if let Some(d) = &self.detail {
            map.serialize_entry("detail", d)?;
        }
        map.end()
    }
}

#[derive(Debug)]
struct Inner {
    start: Instant,
    events: Mutex<Vec<WireEvent>>,
}

/// Shared, append-only event log of one case. Cloning is cheap; all clones write to one log.
#[derive(Debug, Clone)]
pub struct Transcript {
    inner: Arc<Inner>,
}

impl Default for Transcript {
    fn default() -> Self {
        Self::new()
    }
}

impl Transcript {
    /// Starts a transcript now.
    pub fn new() -> Self {
        Self::starting_at(Instant::now())
    }

    /// Starts a transcript at a given instant (e.g. the case start).
    pub fn starting_at(start: Instant) -> Self {
        Self {
            inner: Arc::new(Inner {
                start,
                events: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The instant `t_ms` is measured from.
    pub fn start(&self) -> Instant {
        self.inner.start
    }

    /// Records an event that happened at `at`.
    pub fn record(
        &self,
        at: Instant,
        conn: &str,
        dir: Dir,
        kind: WireKind,
        data: WireData,
        detail: Option<String>,
    ) {
        let t_ms = at.saturating_duration_since(self.inner.start).as_secs_f64() * 1000.0;
        let event = WireEvent {
            t_ms,
            conn: conn.to_owned(),
            dir,
            kind,
            data,
            detail,
        };
        // A panic elsewhere must not cost us the transcript, so poisoning is ignored.
        let mut events = self
            .inner
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Tasks record concurrently and may be a little late: keep the log sorted by time
        // (stable for equal times). Almost always this is a plain push.
        let pos = events
            .iter()
            .rposition(|e| e.t_ms <= t_ms)
            .map_or(0, |i| i + 1);
        events.insert(pos, event);
    }

    /// Records a free-form note now.
    pub fn note(&self, conn: &str, text: impl Into<String>) {
        self.record(
            Instant::now(),
            conn,
            Dir::Note,
            WireKind::Note,
            WireData::Text(text.into()),
            None,
        );
    }

    /// Snapshot of all events so far, in time order.
    pub fn events(&self) -> Vec<WireEvent> {
        self.inner
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Number of events so far.
    pub fn len(&self) -> usize {
        self.inner
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One JSON object per line, each line terminated by `\n`.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in self.events() {
            // Serialising a map of strings and numbers cannot fail; skip rather than panic.
            if let Ok(line) = serde_json::to_string(&e) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// Console rendering, one line per event: `+12.4ms   ws   <- ws_text "3probe"`.
    pub fn render_text(&self) -> String {
        const MAX_TEXT: usize = 200;
        const MAX_HEX: usize = 64;
        let events = self.events();
        let width = events
            .iter()
            .map(|e| e.conn.len())
            .max()
            .unwrap_or(0)
            .max(3);
        let mut out = String::new();
        for e in &events {
            let time = format!("+{:.1}ms", e.t_ms);
            let _ = write!(
                out,
                "{time:<9} {:<width$} {} {}",
                e.conn,
                e.dir.arrow(),
                e.kind.as_str()
            );
            if let Some(d) = &e.detail {
                let _ = write!(out, " {}", escape(d, MAX_TEXT));
            }
            match &e.data {
                WireData::None => {}
                WireData::Text(s) => {
                    let _ = write!(out, " \"{}\"", escape(s, MAX_TEXT));
                }
                WireData::Bytes(b) => {
                    let shown = &b[..b.len().min(MAX_HEX)];
                    let _ = write!(out, " <{}", hex(shown));
                    if b.len() > MAX_HEX {
                        let _ = write!(out, "…> ({} bytes)", b.len());
                    } else {
                        out.push('>');
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Lowercase hex without separators.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Escapes control characters (`\x1e` is the EIO4 record separator and must stay visible) and
/// truncates after `max` bytes with the total size appended.
fn escape(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 16);
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf8() > max {
            let _ = write!(out, "…({} bytes)", s.len());
            break;
        }
        used += c.len_utf8();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jsonl_shape() {
        let start = Instant::now();
        let t = Transcript::starting_at(start);
        let at = start + Duration::from_micros(12_420);
        t.record(
            at,
            "ws",
            Dir::Rx,
            WireKind::WsText,
            WireData::Text("3probe".into()),
            None,
        );
        t.record(
            at + Duration::from_millis(1),
            "ws",
            Dir::Rx,
            WireKind::WsBinary,
            WireData::Bytes(Bytes::from_static(&[1, 2, 0xff])),
            None,
        );
        t.record(
            start,
            "poll",
            Dir::Tx,
            WireKind::HttpRequest,
            WireData::None,
            Some("GET /socket.io/?EIO=4&transport=polling".into()),
        );
        t.record(
            at + Duration::from_millis(2),
            "ws",
            Dir::Rx,
            WireKind::WsClose,
            WireData::None,
            Some("code=1005".into()),
        );
        let lines: Vec<String> = t.to_jsonl().lines().map(str::to_owned).collect();
        assert_eq!(
            lines,
            [
                r#"{"t_ms":0.0,"conn":"poll","dir":"tx","kind":"http_req","detail":"GET /socket.io/?EIO=4&transport=polling"}"#,
                r#"{"t_ms":12.4,"conn":"ws","dir":"rx","kind":"ws_text","data":"3probe"}"#,
                r#"{"t_ms":13.4,"conn":"ws","dir":"rx","kind":"ws_binary","hex":"0102ff"}"#,
                r#"{"t_ms":14.4,"conn":"ws","dir":"rx","kind":"ws_close","detail":"code=1005"}"#,
            ]
        );
    }

    #[test]
    fn text_rendering_escapes_and_truncates() {
        let start = Instant::now();
        let t = Transcript::starting_at(start);
        let at = start + Duration::from_micros(12_400);
        t.record(
            at,
            "ws",
            Dir::Rx,
            WireKind::WsText,
            WireData::Text("3probe".into()),
            None,
        );
        t.record(
            at,
            "poll",
            Dir::Rx,
            WireKind::HttpResponse,
            WireData::Text("4a\u{1e}4b\"".into()),
            Some("200 text/plain".into()),
        );
        t.record(
            at,
            "ws",
            Dir::Tx,
            WireKind::WsText,
            WireData::Text("x".repeat(300)),
            None,
        );
        t.record(
            at,
            "ws",
            Dir::Rx,
            WireKind::WsBinary,
            WireData::Bytes(Bytes::from(vec![0xab; 100])),
            None,
        );
        let text = t.render_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r#"+12.4ms   ws   <- ws_text "3probe""#);
        assert_eq!(
            lines[1],
            r#"+12.4ms   poll <- http_resp 200 text/plain "4a\x1e4b\"""#
        );
        assert!(
            lines[2].ends_with(&format!("{}…(300 bytes)\"", "x".repeat(200))),
            "{}",
            lines[2]
        );
        assert!(lines[3].ends_with("…> (100 bytes)"), "{}", lines[3]);
    }

    #[test]
    fn late_records_are_sorted_and_clones_share() {
        let start = Instant::now();
        let t = Transcript::starting_at(start);
        let t2 = t.clone();
        t.record(
            start + Duration::from_millis(5),
            "a",
            Dir::Note,
            WireKind::Note,
            WireData::None,
            None,
        );
        t2.record(
            start + Duration::from_millis(1),
            "b",
            Dir::Note,
            WireKind::Note,
            WireData::None,
            None,
        );
        let conns: Vec<String> = t.events().into_iter().map(|e| e.conn).collect();
        assert_eq!(conns, ["b", "a"]);
        assert_eq!(t.len(), 2);
    }
}
