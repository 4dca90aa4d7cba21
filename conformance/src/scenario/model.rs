//! The fixture data model the engine interprets: suites, cases, steps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::packet::{EioPacket, EioPacketPattern, SioPacket, SioPacketPattern};
use crate::expr::Expr;
use crate::matcher::{Pattern, Template};

/// The only `schema:` value this loader accepts.
pub const SCHEMA: &str = "conformance.fixture/v1";

/// One fixture file.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// The file it was loaded from: its name in this repository for a built-in suite
    /// (`fixtures/conformance/sio5.yaml`), else the path it was read from.
    pub file: PathBuf,
    /// The file's text, as parsed (excerpts in reports and `explain` come from it, so they show
    /// what ran even when the file changed since).
    pub source: Arc<str>,
    /// Line of the `suite:` key's value.
    pub line: u64,
    /// Case id prefix (`eio4`).
    pub suite: String,
    /// Human title.
    pub title: Option<String>,
    /// `spec.base_url`: where [`SpecRef::Anchor`] anchors point.
    pub spec_base_url: Option<String>,
    /// Suite-wide defaults.
    pub defaults: Defaults,
    /// Reusable step lists, by name (already checked, not expanded).
    pub fragments: BTreeMap<String, Fragment>,
    /// Cases as written (`use:` not expanded).
    pub cases: Vec<Case>,
    /// Runnable instances: fragments inlined, expanded over the transport axis, validated.
    pub instances: Vec<CaseInstance>,
}

/// `defaults:` of a suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// Target path (`/engine.io/`) that `query:` strings are appended to.
    pub path: Option<String>,
    /// Heartbeat handling.
    pub heartbeat: Heartbeat,
    /// Transport axis for cases with an `open` step.
    pub transports: Vec<Transport>,
    /// Level of cases that do not set one.
    pub level: Level,
    /// Deadline of steps that set no `within`.
    pub step_timeout: Option<Expr>,
    /// Capabilities every case of the suite needs.
    pub requires: Vec<String>,
    /// Engine.IO axis: the protocol revisions (3, 4) cases run on; `[4]` when unset.
    pub eio: Vec<u8>,
    /// The protocol layer the cases are about (`socketio` when unset).
    pub layer: Layer,
}

/// A named fragment (`fragments:`), inlined by `use:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    /// Line of the fragment's step list.
    pub line: u64,
    /// Its steps as written.
    pub steps: Vec<Step>,
}

/// A case as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Id within the suite (`handshake/polling-open`).
    pub id: String,
    /// Line where the case starts.
    pub line: u64,
    /// Human title.
    pub title: String,
    /// Titles of the official-suite tests this case expresses (`describe › it`).
    pub official: Vec<String>,
    /// Spec references.
    pub spec: Vec<SpecRef>,
    /// Level override.
    pub level: Option<Level>,
    /// Capabilities needed on top of the suite's.
    pub requires: Vec<String>,
    /// Probe cases (`conformance probe`): the capabilities a PASS demonstrates.
    pub provides: Vec<String>,
    /// Timing-sensitive: run alone.
    pub serial: bool,
    /// Transport axis override.
    pub transports: Option<Vec<Transport>>,
    /// Engine.IO axis override.
    pub eio: Option<Vec<u8>>,
    /// Heartbeat override.
    pub heartbeat: Option<Heartbeat>,
    /// Target path override (`/engine.io/`): where this case's `query:` requests go when the
    /// target URL names no path (a probe of the Engine.IO echo among Socket.IO probes).
    pub path: Option<String>,
    /// Layer override.
    pub layer: Option<Layer>,
    /// Steps as written.
    pub steps: Vec<Step>,
}

/// A runnable case: one per Engine.IO revision of the case's `eio` axis, times one per transport
/// for cases with an `open` step.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseInstance {
    /// Full id: `suite/case`, `suite/case[transport=websocket]`, or with an `eio` axis of two
    /// values `suite/case[eio=3,transport=websocket]`.
    pub id: String,
    /// Id without the axis part: `suite/case` (for baselines that ignore the axis).
    pub case_id: String,
    /// Suite name.
    pub suite: String,
    /// Case title.
    pub title: String,
    /// Effective level (case, else suite default).
    pub level: Level,
    /// Spec references of the case.
    pub spec: Vec<SpecRef>,
    /// `spec.base_url` of the suite.
    pub spec_base_url: Option<String>,
    /// Official-suite titles.
    pub official: Vec<String>,
    /// Capabilities, deduplicated, in order: the Engine.IO revision (`eio3`, `eio4`), the
    /// transports of an `open` step (`polling`, `websocket`), then the suite's and the case's.
    pub requires: Vec<String>,
    /// Probe cases: the capabilities a PASS demonstrates.
    pub provides: Vec<String>,
    /// Run alone.
    pub serial: bool,
    /// Effective heartbeat mode.
    pub heartbeat: Heartbeat,
    /// Transport for `open` steps; `None` when the case has no `open` step.
    pub transport: Option<Transport>,
    /// Engine.IO revision of this instance (`${eio}`; the default `open` query is `EIO=${eio}`).
    pub eio: u8,
    /// Target path: the case's, else the suite's.
    pub path: Option<String>,
    /// The protocol layer the case is about.
    pub layer: Layer,
    /// Suite default step deadline.
    pub step_timeout: Option<Expr>,
    /// Steps with every `use:` inlined (no [`Action::Use`] remains).
    pub steps: Vec<Step>,
    /// Fixture file (see [`Suite::file`]).
    pub file: PathBuf,
    /// The fixture file's text ([`Suite::source`]).
    pub source: Arc<str>,
    /// Line where the case starts.
    pub line: u64,
}

/// Requirement level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// A violation is FAIL.
    Must,
    /// A violation is NON-STRICT.
    Should,
    /// De-facto behaviour of the reference implementation; a violation is NON-STRICT.
    Reference,
    /// Recorded, never judged.
    Info,
}

/// The protocol layer a case is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Engine.IO. Run against a Socket.IO server's real path, the Socket.IO layer speaks on
    /// its own: an Engine.IO v3 session is joined to "/" at once (a `40` message, in the
    /// handshake body or right after it), and the application may greet the new socket (the
    /// contract's `auth` event). Messages that carry a valid Socket.IO packet are upper-layer
    /// traffic here: the engine leaves them out of what the steps see, on connections and in
    /// polling bodies (a GET that carried nothing else is sent again), as it leaves out
    /// heartbeats; the transcript keeps them. The case judges the Engine.IO behaviour alone:
    /// every other packet still counts, and the Engine.IO cases' own messages (`hello`) are
    /// no Socket.IO packets.
    Engineio,
    /// Socket.IO: every packet counts.
    Socketio,
}

/// Heartbeat handling by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Heartbeat {
    /// The engine answers pings and hides them, their pongs and `noop` packets from `expect`.
    Auto,
    /// Pings reach the steps; nobody answers them automatically.
    Manual,
}

/// Transport axis value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// HTTP long-polling only.
    Polling,
    /// WebSocket from the start.
    Websocket,
    /// Polling handshake, then upgrade to WebSocket.
    Upgrade,
}

impl Transport {
    /// The fixture spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::Websocket => "websocket",
            Self::Upgrade => "upgrade",
        }
    }
}

/// Grade attached to an alternative or a timing bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// Counts as PASS.
    Pass,
    /// Counts as NON-STRICT.
    NonStrict,
    /// Counts as FAIL.
    Fail,
}

/// Where a requirement is stated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecRef {
    /// A requirement id of a catalogue (`eio4:polling.single-get`).
    Requirement(String),
    /// An anchor in the suite's `spec.base_url` document, with the quoted sentence.
    Anchor {
        /// `#handshake`.
        anchor: String,
        /// The sentence, verbatim.
        quote: Option<String>,
    },
}

/// One step, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based line of the step in the suite file (from serde-saphyr's `Spanned`).
    pub line: u64,
    /// 1-based column of the step.
    pub column: u64,
    /// Lines of the `use:` steps that inlined this step, outermost first (empty when the step
    /// is written in the case itself).
    pub included_from: Vec<u64>,
    /// The fragment this step was inlined from (the outermost one, `None` for a step written
    /// in the case): a setup step shared by many cases. When it fails, the case is blocked by
    /// its setup rather than caught in its own behaviour, and the report says so.
    pub setup: Option<String>,
    /// Step id (for `timing.since`, `await`, and per-step baselines).
    pub id: Option<String>,
    /// Level override for this step.
    pub level: Option<Level>,
    /// Free text.
    pub note: Option<String>,
    /// `fixed_duration: <why>`: the literal durations of this step (`sleep: 20ms`,
    /// `within: 20ms`) are deliberate, for this reason; `conformance lint` flags a literal
    /// duration without one (durations normally derive from captured timers and `${slack}`).
    pub fixed_duration: Option<String>,
    /// Deadline from the step's start (falls back to the suite's `step_timeout`).
    pub within: Option<Expr>,
    /// Timing window for the awaited item.
    pub timing: Option<Timing>,
    /// Spec references of this step.
    pub spec: Vec<SpecRef>,
    /// `when: {eio: …}`: the Engine.IO revisions this step is kept for (`None`: all).
    pub when_eio: Option<Vec<u8>>,
    /// What the step does.
    pub action: Action,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// One HTTP request; when it is not async, `expect` applies to its response.
    Http {
        /// The request.
        request: HttpRequest,
        /// Expected response (never set on async requests: their expectation is on the
        /// `await` step).
        expect: Option<ResponseExpect>,
    },
    /// Wait for an async HTTP request started earlier.
    Await {
        /// The `async` id of that request.
        id: String,
        /// Expected response.
        expect: Option<ResponseExpect>,
    },
    /// WebSocket connection attempt.
    WsOpen {
        /// Connection name.
        conn: String,
        /// Query or full path.
        target: Target,
        /// Extra request headers.
        headers: Vec<(String, Template)>,
        /// `{status: 101}`, `{rejected: true}`, or alternatives.
        expect: Option<ResponseExpect>,
    },
    /// Transport-neutral session open, expanded by the engine per [`CaseInstance::transport`].
    Open {
        /// Connection name.
        conn: String,
        /// Handshake query (`EIO=${eio}` when unset); the engine adds `transport=…`.
        query: Option<Template>,
        /// Pattern for the handshake (open) packet.
        expect: Option<EioPacketPattern>,
    },
    /// Send one item on a connection.
    Send {
        /// Connection name.
        conn: String,
        /// What to send.
        payload: Outbound,
    },
    /// Consume the next inbound item of a connection and match it.
    Expect {
        /// Connection name.
        conn: String,
        /// What must arrive.
        expected: Inbound,
    },
    /// Nothing may arrive on the connection for a while.
    ExpectNone {
        /// Connection name.
        conn: String,
        /// How long.
        duration: Expr,
    },
    /// All child steps (`expect` or `await`) must complete, in any order.
    Unordered {
        /// The children.
        steps: Vec<Step>,
    },
    /// Fixed wait.
    Sleep {
        /// How long.
        duration: Expr,
    },
    /// Run the child steps `times` times.
    Repeat {
        /// Iterations (at least 1).
        times: u32,
        /// The body.
        steps: Vec<Step>,
    },
    /// Inline a fragment (only in [`Case::steps`] and [`Fragment::steps`]).
    Use {
        /// Fragment name.
        fragment: String,
    },
    /// Draft step of `conformance record`: take the next item of the connection and record
    /// it (the recorder turns it into an `expect`); never graded.
    Record {
        /// Connection name.
        conn: String,
    },
    /// Client-side close of a connection.
    Close {
        /// Connection name.
        conn: String,
        /// WebSocket close code.
        code: Option<u16>,
    },
}

/// An HTTP request step.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// Method (upper case), `GET` by default.
    pub method: String,
    /// Query or full path.
    pub target: Target,
    /// Request headers, in fixture order.
    pub headers: Vec<(String, Template)>,
    /// Request body.
    pub body: Option<RequestBody>,
    /// When set, the request runs in the background under this id until `await`ed.
    pub async_id: Option<String>,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Appended to the suite path after `?` (`EIO=4&transport=polling`); may be empty.
    Query(Template),
    /// A full path with its query (`/engine.io/?EIO=4`), replacing the suite path.
    Url(Template),
}

/// Body of an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// Text as is.
    Text(Template),
    /// Bytes as is.
    Bytes(Vec<u8>),
    /// Engine.IO packets, encoded by the engine as a polling payload.
    Eio(Vec<EioPacket>),
}

/// Expectation on an HTTP response (`http`, `await`) or a WebSocket handshake (`ws_open`).
///
/// All given parts must match; when `one_of` is non-empty, one alternative must match too,
/// and its grade applies.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseExpect {
    /// Status code pattern (the actual is a JSON number).
    pub status: Option<Pattern>,
    /// Header patterns by lower-case name (the actual is the header's string value).
    pub headers: Vec<(String, Pattern)>,
    /// Body expectation.
    pub body: Option<BodyExpect>,
    /// `ws_open` only: `true` accepts an HTTP error status or a 101 followed by an immediate
    /// close; `false` requires an open connection.
    pub rejected: Option<bool>,
    /// Alternatives.
    pub one_of: Vec<Alternative>,
    /// `gather: GRADE` (an `http` GET with `body: {eio: [...]}`): the server may spread the
    /// expected packets over several responses, so the engine repeats the GET until as many
    /// packets as expected have arrived (or the deadline passes) and matches all of them, in
    /// order, byte for byte. When more than one response was needed, the step gets this grade
    /// (batching is a SHOULD); lost, reordered, duplicated or corrupted packets still fail.
    pub gather: Option<Grade>,
}

/// One graded alternative of a [`ResponseExpect`].
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// What this alternative expects.
    pub expect: ResponseExpect,
    /// Grade when this alternative is the one that matched (PASS by default).
    pub grade: Grade,
    /// Why this alternative exists.
    pub note: Option<String>,
}

/// Expected HTTP body.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyExpect {
    /// The body as UTF-8 text (the actual is a JSON string).
    Text(Pattern),
    /// The body decoded as a polling payload; the actual is the array of packet objects (see
    /// [`EioPacketPattern`]); match with [`BodyExpect::to_pattern`].
    Eio(Vec<EioPacketPattern>),
    /// The body parsed as JSON.
    Json(Pattern),
}

impl BodyExpect {
    /// The pattern to match against the actual body value.
    #[must_use]
    pub fn to_pattern(&self) -> Pattern {
        match self {
            Self::Text(pattern) | Self::Json(pattern) => pattern.clone(),
            Self::Eio(packets) => {
                Pattern::Array(packets.iter().map(EioPacketPattern::to_pattern).collect())
            }
        }
    }
}

/// What `send` sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// An Engine.IO packet, encoded for the connection's transport.
    Eio(EioPacket),
    /// A Socket.IO packet, encoded (with attachments) and wrapped in Engine.IO message packets.
    Sio(SioPacket),
    /// A raw text frame / polling body, no encoding (malformed input).
    Text(Template),
    /// A raw binary frame / polling body.
    Binary(Vec<u8>),
}

/// What `expect` waits for on a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// The next Engine.IO packet.
    Eio(EioPacketPattern),
    /// The next Socket.IO packet (attachments reassembled).
    Sio(SioPacketPattern),
    /// The next raw text frame / packet text (a JSON string).
    Text(Pattern),
    /// The next raw binary frame (a binary leaf): the whole frame, so in Engine.IO v3 with
    /// its `0x04` type byte.
    Binary(Pattern),
    /// The connection closes (or is closed) before anything else arrives.
    Closed,
}

/// `timing:` of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Start of the measurement.
    pub since: Since,
    /// Earliest acceptable arrival.
    pub min: Option<Bound>,
    /// Latest acceptable arrival.
    pub max: Option<Bound>,
}

/// One end of a timing window.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The limit, measured from [`Timing::since`].
    pub at: Expr,
    /// Grade when the limit is crossed (FAIL by default).
    pub grade: Grade,
}

/// Start of a timing measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// End of the previous step (the default).
    Previous,
    /// Start of the case.
    CaseStart,
    /// End of the latest run of the step with this id.
    Step(String),
}
