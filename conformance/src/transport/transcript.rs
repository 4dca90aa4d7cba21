//! Per-case wire transcript (design 3.11): every HTTP request/response and WebSocket frame/close,
//! with its time since the case started. Serialised as JSONL for `--trace` and the reports, and
//! rendered as text for the console.
//!
//! Bounded (see [`Limits`]): a case keeps its first and last events in full and counts the
//! ones in between, which a marker event says wherever the transcript is shown; each event's
//! data is cut beyond a cap, with its original length in the detail. Only the transcript is
//! cut: the engine matches the items it receives, never the transcript.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
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
            WireData::Bytes(b) => map.serialize_entry("hex", &crate::hex::encode(b))?,
        }
        if let Some(d) = &self.detail {
            map.serialize_entry("detail", d)?;
        }
        map.end()
    }
}

/// Memory bounds of a case: its transcript and, per connection, what arrived and was not
/// consumed yet (the `run` flags `--transcript-head`, `--transcript-tail`,
/// `--transcript-max-bytes`, `--transcript-max-data`, `--transcript-run-bytes`,
/// `--max-backlog-frames` and
/// `--max-backlog-bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events kept in full from the start of a case.
    pub head: usize,
    /// Events kept in full from the end of a case.
    pub tail: usize,
    /// Bytes of data the kept events of a case may hold (half for the head, half for the tail).
    pub max_bytes: usize,
    /// Data of one event kept in the transcript; the rest is cut (matching sees it all).
    pub max_data: usize,
    /// Bytes the transcripts of a whole run may hold together; beyond, a case keeps its first
    /// 20 events (data cut to 1 KiB) and as many of its last ones as fit.
    pub run_bytes: usize,
    /// Items of one connection received and not consumed by a step.
    pub backlog_frames: usize,
    /// Bytes of those items.
    pub backlog_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            head: 1000,
            tail: 1000,
            max_bytes: 4 << 20,
            max_data: 64 << 10,
            run_bytes: 32 << 20,
            backlog_frames: 10_000,
            backlog_bytes: 4 << 20,
        }
    }
}

/// The bounds [`Transcript::new`] uses: the command line's, once set.
static DEFAULT_LIMITS: std::sync::RwLock<Option<Limits>> = std::sync::RwLock::new(None);

impl Limits {
    /// Makes `self` the bounds of every transcript [`Transcript::new`] starts from now on (the
    /// command line sets them once, before anything runs).
    pub fn set_default(self) {
        *DEFAULT_LIMITS
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(self);
    }

    /// The bounds set with [`Limits::set_default`], else the defaults.
    pub fn current() -> Self {
        DEFAULT_LIMITS
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or_default()
    }
}

/// The bounded log: the head as it came, then a ring of the latest events.
#[derive(Debug, Default)]
struct Log {
    head: Vec<WireEvent>,
    head_bytes: usize,
    /// Set once the head is full: every later event goes to the tail.
    head_full: bool,
    tail: VecDeque<WireEvent>,
    tail_bytes: usize,
    omitted_events: u64,
    omitted_bytes: u64,
}

/// Bytes an event holds (its data, detail and label).
fn weight(e: &WireEvent) -> usize {
    let data = match &e.data {
        WireData::None => 0,
        WireData::Text(s) => s.len(),
        WireData::Bytes(b) => b.len(),
    };
    data + e.detail.as_ref().map_or(0, String::len) + e.conn.len()
}

/// `12 B`, `3.4 KiB`, `45.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1 << 20 {
        format!("{:.1} KiB", f / 1024.0)
    } else if n < 1 << 30 {
        format!("{:.1} MiB", f / f64::from(1u32 << 20))
    } else {
        format!("{:.1} GiB", f / f64::from(1u32 << 30))
    }
}

/// Cuts `data` to `max` bytes; returns the original length when it did.
fn truncate(data: &mut WireData, max: usize) -> Option<usize> {
    match data {
        WireData::Text(s) if s.len() > max => {
            let len = s.len();
            let mut cut = max;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            // A fresh allocation: truncating in place would keep the whole buffer.
            *s = s[..cut].to_owned();
            Some(len)
        }
        WireData::Bytes(b) if b.len() > max => {
            let len = b.len();
            // A copy: a slice would keep the whole buffer alive.
            *b = Bytes::copy_from_slice(&b[..max]);
            Some(len)
        }
        _ => None,
    }
}

/// Bytes the events of every transcript alive hold (see [`Limits::run_bytes`]).
static RUN_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Events a case keeps whatever the run's budget, their data cut to `ALWAYS_KEPT_DATA`.
const ALWAYS_KEPT: usize = 20;
const ALWAYS_KEPT_DATA: usize = 1024;

/// Cuts the data of `event` to `max` bytes and says so in its detail.
fn cut(event: &mut WireEvent, max: usize) {
    if let Some(len) = truncate(&mut event.data, max) {
        let note = format!("[data cut to {max} of {len} bytes]");
        event.detail = Some(match event.detail.take() {
            // Cut again (the run's budget): the original length is already said.
            Some(d) if d.contains("[data cut to ") => d,
            Some(d) => format!("{d} {note}"),
            None => note,
        });
    }
}

#[derive(Debug)]
struct Inner {
    start: Instant,
    limits: Limits,
    log: Mutex<Log>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let log = self.log.get_mut().unwrap_or_else(PoisonError::into_inner);
        RUN_BYTES.fetch_sub(log.head_bytes + log.tail_bytes, Ordering::Relaxed);
    }
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
        Self::with_limits(start, Limits::current())
    }

    /// Starts a transcript at `start` with the given bounds.
    pub fn with_limits(start: Instant, limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                start,
                limits,
                log: Mutex::new(Log::default()),
            }),
        }
    }

    /// The bounds of this transcript and of the connections that record into it.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Events and bytes left out between the head and the tail so far.
    pub fn omitted(&self) -> (u64, u64) {
        let log = self.log();
        (log.omitted_events, log.omitted_bytes)
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        // A panic elsewhere must not cost us the transcript, so poisoning is ignored.
        self.inner
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        let limits = self.inner.limits;
        let mut event = WireEvent {
            t_ms,
            conn: conn.to_owned(),
            dir,
            kind,
            data,
            detail,
        };
        cut(&mut event, limits.max_data);
        let mut size = weight(&event);
        let mut log = self.log();
        let log = &mut *log;
        // Tasks record concurrently and may be a little late: keep the log sorted by time
        // (stable for equal times). Almost always this is a plain push.
        if !log.head_full
            && log.head.len() < limits.head
            && log.head_bytes + size <= limits.max_bytes / 2
        {
            // The run's budget spent (earlier cases were flooded): a case still keeps its
            // first few events, their data cut short.
            let run_full = RUN_BYTES.load(Ordering::Relaxed) + size > limits.run_bytes;
            if run_full && log.head.len() < ALWAYS_KEPT {
                cut(&mut event, ALWAYS_KEPT_DATA);
                size = weight(&event);
            }
            if !run_full || log.head.len() < ALWAYS_KEPT {
                let pos = sorted_position(log.head.iter(), t_ms);
                log.head.insert(pos, event);
                log.head_bytes += size;
                RUN_BYTES.fetch_add(size, Ordering::Relaxed);
                return;
            }
        }
        log.head_full = true;
        let pos = sorted_position(log.tail.iter(), t_ms);
        log.tail.insert(pos, event);
        log.tail_bytes += size;
        RUN_BYTES.fetch_add(size, Ordering::Relaxed);
        while log.tail.len() > limits.tail
            || log.tail_bytes > limits.max_bytes / 2
            || RUN_BYTES.load(Ordering::Relaxed) > limits.run_bytes
        {
            let Some(old) = log.tail.pop_front() else {
                break;
            };
            let w = weight(&old);
            log.tail_bytes -= w;
            RUN_BYTES.fetch_sub(w, Ordering::Relaxed);
            log.omitted_events += 1;
            log.omitted_bytes += w as u64;
        }
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

    /// Snapshot of the kept events, in time order: the head, then (when events were left out)
    /// a note saying how many and how many bytes, then the tail.
    pub fn events(&self) -> Vec<WireEvent> {
        let log = self.log();
        let mut out = Vec::with_capacity(log.head.len() + log.tail.len() + 1);
        out.extend(log.head.iter().cloned());
        if log.omitted_events > 0 {
            let t_ms = log.tail.front().or(log.head.last()).map_or(0.0, |e| e.t_ms);
            out.push(WireEvent {
                t_ms,
                conn: "…".into(),
                dir: Dir::Note,
                kind: WireKind::Note,
                data: WireData::Text(format!(
                    "… {} events, {} left out (transcript bounds: first {}, last {}) …",
                    log.omitted_events,
                    human_bytes(log.omitted_bytes),
                    self.inner.limits.head,
                    self.inner.limits.tail
                )),
                detail: None,
            });
        }
        out.extend(log.tail.iter().cloned());
        out
    }

    /// Number of events kept (with the marker of the left-out ones, if any).
    pub fn len(&self) -> usize {
        let log = self.log();
        log.head.len() + log.tail.len() + usize::from(log.omitted_events > 0)
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
                    let _ = write!(out, " <{}", crate::hex::encode(shown));
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

/// Where an event at `t_ms` goes in a log kept in time order: after every event at or before
/// it (stable for equal times). Tasks record concurrently and may be a little late, so this is
/// almost always the end.
fn sorted_position<'a>(
    mut events: impl DoubleEndedIterator<Item = &'a WireEvent> + ExactSizeIterator,
    t_ms: f64,
) -> usize {
    events.rposition(|e| e.t_ms <= t_ms).map_or(0, |i| i + 1)
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
mod tests;
