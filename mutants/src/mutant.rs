//! The deliberate defects. Each [`Mutant`] switches on exactly one defect of the built-in
//! server; [`Mutant::None`] is the clean server. The doc line of each variant is also its
//! description in `conformance mutants list` and in the kill matrix; `=> must` / `=> should`
//! is its [`Severity`].

/// How bad a defect is, which decides what must catch it in the kill matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The defect breaks a MUST / MUST NOT of the Engine.IO or Socket.IO protocol documents,
    /// an assertion of the official test suites, or a behaviour of the contract
    /// (docs/contract.md): a default run (`conformance run` without `--strict`) must FAIL it.
    Must,
    /// A SHOULD-level detail, or an encoding or timing where the reference's choice is one
    /// of several legitimate ones: a NON-STRICT finding (seen with `--strict`) is enough.
    Should,
}

impl Severity {
    /// `must` / `should`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
        }
    }
}

/// `must` / `should` in the list below.
macro_rules! severity {
    (must) => {
        Severity::Must
    };
    (should) => {
        Severity::Should
    };
}

/// Declares the enum, its names, descriptions and severities from one list (the doc comment
/// of a variant is its description, so the two cannot drift apart).
macro_rules! mutants {
    ($( #[doc = $doc:literal] $variant:ident = $name:literal => $severity:ident, )*) => {
        /// One deliberate defect of the built-in server.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Mutant {
            $( #[doc = $doc] $variant, )*
        }

        impl Mutant {
            /// Every mutant, the clean server ([`Mutant::None`]) first.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The command-line name (`--mutant NAME`).
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }

            /// One line: what is wrong with this mutant.
            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $doc.trim()),* }
            }

            /// What must catch the defect (the clean server's is meaningless).
            pub const fn severity(self) -> Severity {
                match self { $(Self::$variant => severity!($severity)),* }
            }
        }
    };
}

mutants! {
    /// No defect: the clean server, which passes every case.
    None = "none" => must,

    // ---------------------------------------------------------------- Engine.IO handshake
    /// A handshake with POST or PUT instead of GET opens a session.
    HandshakeAnyMethod = "handshake-any-method" => must,
    /// A request without `EIO` (or with an unknown value) is served as Engine.IO v4.
    MissingEioAccepted = "missing-eio-accepted" => must,
    /// The open packet has no `maxPayload`.
    NoMaxPayload = "no-max-payload" => must,
    /// The open packet of a WebSocket-only session offers the `websocket` upgrade.
    UpgradesOnWebsocket = "upgrades-on-websocket" => must,
    /// A request for an unknown session id is answered 200 (a close packet, or `ok`).
    UnknownSidOk = "unknown-sid-ok" => must,
    /// A POST is answered 200 with an empty body instead of `ok`.
    PostWithoutOk = "post-without-ok" => must,
    /// Polling responses carry no CORS headers, and a CORS preflight (`OPTIONS`) is refused as a bad handshake.
    NoCors = "no-cors" => must,
    /// A polling POST larger than the announced `maxPayload` is accepted (no 413).
    MaxPayloadIgnoredOnPolling = "max-payload-ignored-on-polling" => should,
    /// A WebSocket message larger than the announced `maxPayload` is accepted (no close 1009).
    MaxPayloadIgnoredOnWebsocket = "max-payload-ignored-on-websocket" => should,

    // ---------------------------------------------------------------- Engine.IO polling
    /// A second concurrent GET is not refused: both wait for data.
    ConcurrentGet = "concurrent-get" => must,
    /// A second POST while one is still in flight is accepted (no 400, the session stays open).
    ConcurrentPostAccepted = "concurrent-post-accepted" => must,
    /// A GET response carrying several packets loses the last one.
    DropLastPacket = "drop-last-packet" => must,
    /// A pending GET aborted by the client leaves the session open.
    CancelledGetIgnored = "cancelled-get-ignored" => must,
    /// An Engine.IO packet that does not decode (POST body or frame) does not close the session.
    MalformedEioKept = "malformed-eio-kept" => must,
    /// A close packet sent over WebSocket is ignored (as the reference does).
    CloseIgnoredOnWebsocket = "close-ignored-on-websocket" => should,
    /// Binary messages go out over WebSocket as `b<base64>` text frames.
    BinaryAsTextOnWebsocket = "binary-as-text-on-websocket" => must,
    /// Packets queued together go out over WebSocket in one text frame, `\x1e`-separated.
    BatchedWebsocketFrames = "batched-websocket-frames" => must,
    /// Engine.IO v4 polling sends binary messages as raw bytes instead of `b` + base64.
    RawBinaryOnPolling = "raw-binary-on-polling" => must,
    /// Engine.IO v3 polling sends XHR2 binary payloads even to clients that asked for `b64=1`.
    Xhr2ForB64Clients = "xhr2-for-b64-clients" => must,

    // ---------------------------------------------------------------- heartbeat
    /// The server never sends a ping (Engine.IO v4).
    NeverPing = "never-ping" => must,
    /// Pings come at twice the announced `pingInterval`.
    SlowPing = "slow-ping" => must,
    /// A ping that gets no pong never closes the session.
    PongTimeoutIgnored = "pong-timeout-ignored" => must,
    /// A missing pong closes the session `pingInterval + pingTimeout` after the ping, not `pingTimeout`.
    LatePingTimeout = "late-ping-timeout" => must,
    /// Engine.IO v3 sessions get server pings too (the v4 heartbeat direction).
    V3ServerPings = "v3-server-pings" => must,

    // ---------------------------------------------------------------- upgrade
    /// The upgrade probe `2probe` is not answered with `3probe`.
    NoProbeAnswer = "no-probe-answer" => must,
    /// The pending GET is not released with a noop while the upgrade is probed.
    NoNoopOnUpgrade = "no-noop-on-upgrade" => must,
    /// Polling requests are still answered after the session upgraded to WebSocket.
    PollingAfterUpgrade = "polling-after-upgrade" => must,
    /// A second WebSocket for an already upgraded session is accepted and kept open.
    SecondWebsocketAccepted = "second-websocket-accepted" => must,

    // ---------------------------------------------------------------- Engine.IO v3 framing
    /// Engine.IO v3 payload lengths count UTF-8 bytes instead of UTF-16 code units.
    V3ByteLengths = "v3-byte-lengths" => must,
    /// Engine.IO v3 binary WebSocket frames lack the `0x04` type byte.
    V3NoBinaryTypeByte = "v3-no-binary-type-byte" => must,
    /// The JSONP parameter `j` is ignored: plain payloads instead of `___eio[j]("…");`.
    JsonpIgnored = "jsonp-ignored" => must,

    // ---------------------------------------------------------------- Socket.IO connect
    /// The socket id in the CONNECT reply is the Engine.IO session id.
    SocketIdIsEngineSid = "socket-id-is-engine-sid" => must,
    /// The CONNECT reply carries no `{"sid": …}` payload (Socket.IO v5).
    ConnectReplyWithoutSid = "connect-reply-without-sid" => must,
    /// The `auth` event is sent before the CONNECT reply.
    AuthBeforeConnectReply = "auth-before-connect-reply" => must,
    /// The Socket.IO v5 CONNECT_ERROR payload is a string (the v4 form) instead of an object.
    ConnectErrorString = "connect-error-string" => must,
    /// The Socket.IO v4 ERROR payload is an object (what the reference sends) instead of a string.
    V4ErrorObject = "v4-error-object" => should,
    /// The `/guarded` middleware lets every CONNECT in.
    GuardedOpen = "guarded-open" => must,
    /// A session that joins no namespace is never closed (no connect timeout).
    NoConnectTimeout = "no-connect-timeout" => must,
    /// Socket.IO v4 clients are not joined to `/` automatically.
    V4NoAutoConnect = "v4-no-auto-connect" => must,
    /// The query of a Socket.IO v4 namespace (`/custom?token=abc`) is kept in its name.
    V4QueryKeptInNamespace = "v4-query-kept-in-namespace" => must,

    // ---------------------------------------------------------------- Socket.IO packets
    /// An ACK carries the client's ack id plus one.
    WrongAckId = "wrong-ack-id" => must,
    /// An ACK repeats the event name in front of the arguments.
    AckWithEventName = "ack-with-event-name" => must,
    /// An ACK's arguments are an object keyed by position (`{"0":…}`, what `JSON.stringify(arguments)` gives) instead of an array.
    AckDataNotArray = "ack-data-not-array" => must,
    /// The client's ACK of a server ack request is ignored (no `ack-back`).
    ServerAckIgnored = "server-ack-ignored" => must,
    /// Binary packets announce one attachment more than they carry.
    AttachmentCountOffByOne = "attachment-count-off-by-one" => must,
    /// Binary arguments are inlined as `{"type":"Buffer","data":[…]}` instead of placeholders.
    PlaceholdersNotUsed = "placeholders-not-used" => must,
    /// Socket.IO attachments go out over WebSocket as `b<base64>` text frames (Engine.IO 3 and 4).
    AttachmentsAsTextOnWebsocket = "attachments-as-text-on-websocket" => must,
    /// Acks of a custom namespace are routed to `/`: ACKs go out on `/`, client ACKs are looked up in `/`.
    AcksRoutedToMain = "acks-routed-to-main" => must,
    /// `message` is echoed twice.
    EchoTwice = "echo-twice" => must,
    /// The main namespace is written explicitly (`42/,[…]`) instead of being left out.
    NamespaceNotElided = "namespace-not-elided" => should,
    /// JSON payloads are written with spaces and newlines (pretty-printed).
    JsonWithSpaces = "json-with-spaces" => should,
    /// A Socket.IO packet that does not decode does not close the connection.
    MalformedSioKept = "malformed-sio-kept" => must,

    // ---------------------------------------------------------------- Socket.IO sessions
    /// A client DISCONNECT from one namespace closes the whole Engine.IO session.
    ClientDisconnectClosesSession = "client-disconnect-closes-session" => must,
    /// The server-side disconnect (`disconnect-me`) closes the whole Engine.IO session.
    ServerDisconnectClosesSession = "server-disconnect-closes-session" => must,
    /// A broadcast also reaches its sender.
    BroadcastIncludesSender = "broadcast-includes-sender" => must,
    /// `emit-all` reaches the sockets of every namespace, not only its own.
    EmitAllCrossesNamespaces = "emit-all-crosses-namespaces" => must,
    /// An emit to a room reaches every socket of the namespace.
    RoomEmitToAll = "room-emit-to-all" => must,
    /// `leave` answers `left` but the socket stays in the room.
    LeaveIgnored = "leave-ignored" => must,
    /// An emit to a room skips the sender even when it is a member (`socket.to(room)`).
    RoomEmitSkipsSender = "room-emit-skips-sender" => must,
    /// Rooms are shared by all namespaces: an emit to room R also reaches R's members in the others.
    RoomsShareNamespaces = "rooms-share-namespaces" => must,
    /// The handshake query seen by the application lacks the client's own parameters.
    HandshakeQueryIncomplete = "handshake-query-incomplete" => must,
    /// Packets for a namespace the client left with DISCONNECT are still handled.
    EventsAfterDisconnect = "events-after-disconnect" => must,
    /// A socket that left its namespace with DISCONNECT still gets the namespace's room emits and broadcasts.
    RoomsAfterDisconnect = "rooms-after-disconnect" => must,
    /// `leave` of one room takes the socket out of all its rooms.
    LeaveDropsAllRooms = "leave-drops-all-rooms" => must,
    /// Room emits, `emit-all` and broadcasts reach every recipient twice.
    RoomEmitsTwice = "room-emits-twice" => must,
    /// The socket ids of CONNECT replies come from a counter per Engine.IO session, so live sockets of different clients get the same id.
    SocketIdsRecycled = "socket-ids-recycled" => must,
}

impl Mutant {
    /// The mutant called `name` (`clean` is another name of [`Mutant::None`]).
    pub fn from_name(name: &str) -> Option<Self> {
        if name == "clean" {
            return Some(Self::None);
        }
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// Whether the defect sends packets to clients that did not ask for them from a case
    /// that runs in parallel with others (an emit to a room reaching every socket): such a
    /// mutant would also break whatever case runs at the same time, so the matrix runs its
    /// cases one at a time. (Namespace-wide emits are in `serial` cases already.)
    pub fn reaches_other_clients(self) -> bool {
        self == Self::RoomEmitToAll
    }

    /// Every real mutant (the clean server left out).
    pub fn defects() -> impl Iterator<Item = Self> {
        Self::ALL.iter().copied().filter(|m| *m != Self::None)
    }
}

impl std::fmt::Display for Mutant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &mutant in Mutant::ALL {
            let name = mutant.name();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
            assert_eq!(Mutant::from_name(name), Some(mutant));
            let description = mutant.description();
            assert!(!description.is_empty() && !description.contains('\n'));
        }
        assert_eq!(Mutant::from_name("clean"), Some(Mutant::None));
        assert_eq!(Mutant::from_name("nope"), None);
        assert!(Mutant::defects().count() >= 25);
        assert!(Mutant::defects().any(|m| m.severity() == Severity::Must));
        assert!(Mutant::defects().any(|m| m.severity() == Severity::Should));
        assert_eq!(Severity::Should.name(), "should");
    }
}
