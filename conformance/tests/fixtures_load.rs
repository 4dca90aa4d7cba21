//! The shipped conformance fixtures (`fixtures/conformance/`) load, and they port every case of
//! the official Engine.IO v4 (25), Engine.IO v3 (24) and Socket.IO v5 (32) test suites: each
//! official title below appears in some case's `official:` list, and every case has a spec
//! reference and a level.

use std::collections::BTreeSet;
use std::path::PathBuf;

use sio_conformance::fixture::{self, LoadOptions, SpecRef, Suite};

/// Mocha titles of `docs/engine.io-protocol/v4-test-suite/test-suite.js` (socketio/socket.io @
/// d2d753fe), without the root describe "Engine.IO protocol" that wraps them all.
const EIO4_OFFICIAL: [&str; 25] = [
    "handshake › HTTP long-polling › successfully opens a session",
    "handshake › HTTP long-polling › fails with an invalid 'EIO' query parameter",
    "handshake › HTTP long-polling › fails with an invalid 'transport' query parameter",
    "handshake › HTTP long-polling › fails with an invalid request method",
    "handshake › WebSocket › successfully opens a session",
    "handshake › WebSocket › fails with an invalid 'EIO' query parameter",
    "handshake › WebSocket › fails with an invalid 'transport' query parameter",
    "message › HTTP long-polling › sends and receives a payload containing one plain text packet",
    "message › HTTP long-polling › sends and receives a payload containing several plain text packets",
    "message › HTTP long-polling › sends and receives a payload containing plain text and binary packets",
    "message › HTTP long-polling › closes the session upon invalid packet format",
    "message › HTTP long-polling › closes the session upon duplicate poll requests",
    "message › HTTP long-polling › closes the session upon cancelled polling request",
    "message › WebSocket › sends and receives a plain text packet",
    "message › WebSocket › sends and receives a binary packet",
    "message › WebSocket › closes the session upon invalid packet format",
    "heartbeat › HTTP long-polling › sends ping/pong packets",
    "heartbeat › HTTP long-polling › closes the session upon ping timeout",
    "heartbeat › WebSocket › sends ping/pong packets",
    "heartbeat › WebSocket › closes the session upon ping timeout",
    "close › HTTP long-polling › forcefully closes the session",
    "close › WebSocket › forcefully closes the session",
    "upgrade › successfully upgrades from HTTP long-polling to WebSocket",
    "upgrade › ignores HTTP requests with same sid after upgrade",
    "upgrade › ignores WebSocket connection with same sid after upgrade",
];

/// Mocha titles of `docs/engine.io-protocol/v3-test-suite/test-suite.js` (socketio/socket.io, as
/// stored at 68efa280), without the root describe "Engine.IO protocol". The `it.skip` test
/// ("closes the session upon duplicate poll requests") is included: it is ported too.
const EIO3_OFFICIAL: [&str; 24] = [
    "handshake › HTTP long-polling › successfully opens a session",
    "handshake › HTTP long-polling › fails with an invalid 'transport' query parameter",
    "handshake › HTTP long-polling › fails with an invalid request method",
    "handshake › WebSocket › successfully opens a session",
    "handshake › WebSocket › fails with an invalid 'EIO' query parameter",
    "handshake › WebSocket › fails with an invalid 'transport' query parameter",
    "message › HTTP long-polling › sends and receives a payload containing one plain text packet",
    "message › HTTP long-polling › sends and receives a payload containing several plain text packets",
    "message › HTTP long-polling › sends and receives a payload containing plain text and binary packets (base64 encoded)",
    "message › HTTP long-polling › sends and receives a payload containing plain text and binary packets (binary)",
    "message › HTTP long-polling › closes the session upon invalid packet format",
    "message › HTTP long-polling › closes the session upon duplicate poll requests",
    "message › WebSocket › sends and receives a plain text packet",
    "message › WebSocket › sends and receives a binary packet",
    "message › WebSocket › closes the session upon invalid packet format",
    "heartbeat › HTTP long-polling › sends ping/pong packets",
    "heartbeat › HTTP long-polling › closes the session upon ping timeout",
    "heartbeat › WebSocket › sends ping/pong packets",
    "heartbeat › WebSocket › closes the session upon ping timeout",
    "close › HTTP long-polling › forcefully closes the session",
    "close › WebSocket › forcefully closes the session",
    "upgrade › successfully upgrades from HTTP long-polling to WebSocket",
    "upgrade › ignores HTTP requests with same sid after upgrade",
    "upgrade › ignores WebSocket connection with same sid after upgrade",
];

/// Full mocha titles of `docs/socket.io-protocol/v5-test-suite/test-suite.js` (socketio/socket.io
/// @ d2d753fe).
const SIO5_OFFICIAL: [&str; 32] = [
    "Engine.IO protocol › handshake › HTTP long-polling › should successfully open a session",
    "Engine.IO protocol › handshake › HTTP long-polling › should fail with an invalid 'EIO' query parameter",
    "Engine.IO protocol › handshake › HTTP long-polling › should fail with an invalid 'transport' query parameter",
    "Engine.IO protocol › handshake › HTTP long-polling › should fail with an invalid request method",
    "Engine.IO protocol › handshake › WebSocket › should successfully open a session",
    "Engine.IO protocol › handshake › WebSocket › should fail with an invalid 'EIO' query parameter",
    "Engine.IO protocol › handshake › WebSocket › should fail with an invalid 'transport' query parameter",
    "Engine.IO protocol › heartbeat › HTTP long-polling › should send ping/pong packets",
    "Engine.IO protocol › heartbeat › HTTP long-polling › should close the session upon ping timeout",
    "Engine.IO protocol › heartbeat › WebSocket › should send ping/pong packets",
    "Engine.IO protocol › heartbeat › WebSocket › should close the session upon ping timeout",
    "Engine.IO protocol › close › HTTP long-polling › should forcefully close the session",
    "Engine.IO protocol › close › WebSocket › should forcefully close the session",
    "Engine.IO protocol › upgrade › should successfully upgrade from HTTP long-polling to WebSocket",
    "Engine.IO protocol › upgrade › should ignore HTTP requests with same sid after upgrade",
    "Engine.IO protocol › upgrade › should ignore WebSocket connection with same sid after upgrade",
    "Socket.IO protocol › connect › should allow connection to the main namespace",
    "Socket.IO protocol › connect › should allow connection to the main namespace with a payload",
    "Socket.IO protocol › connect › should allow connection to a custom namespace",
    "Socket.IO protocol › connect › should allow connection to a custom namespace with a payload",
    "Socket.IO protocol › connect › should disallow connection to an unknown namespace",
    "Socket.IO protocol › connect › should disallow connection with an invalid handshake",
    "Socket.IO protocol › connect › should close the connection if no handshake is received",
    "Socket.IO protocol › disconnect › should disconnect from the main namespace",
    "Socket.IO protocol › disconnect › should connect then disconnect from a custom namespace",
    "Socket.IO protocol › message › should send a plain-text packet",
    "Socket.IO protocol › message › should send a packet with binary attachments",
    "Socket.IO protocol › message › should send a plain-text packet with an ack",
    "Socket.IO protocol › message › should send a packet with binary attachments and an ack",
    "Socket.IO protocol › message › should close the connection upon invalid format (unknown packet type)",
    "Socket.IO protocol › message › should close the connection upon invalid format (invalid payload format)",
    "Socket.IO protocol › message › should close the connection upon invalid format (invalid ack id)",
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/conformance"
    ))
}

/// The loader options of `conformance run`: the default built-ins plus `connect_timeout`.
fn options() -> LoadOptions {
    let mut options = LoadOptions::default();
    options.builtins.push("connect_timeout".to_owned());
    options
}

fn load() -> Vec<Suite> {
    match fixture::load_dir_with(fixtures_dir(), &options()) {
        Ok(suites) => suites,
        Err(err) => panic!("the conformance fixtures do not load:\n{err}"),
    }
}

fn suite<'a>(suites: &'a [Suite], name: &str) -> &'a Suite {
    suites
        .iter()
        .find(|s| s.suite == name)
        .unwrap_or_else(|| panic!("no suite `{name}`"))
}

#[test]
fn the_three_official_suites() {
    let suites = load();
    for name in ["eio3", "eio4", "sio5"] {
        suite(&suites, name);
    }
    assert_eq!(
        suite(&suites, "eio3").defaults.path.as_deref(),
        Some("/engine.io/")
    );
    // Servers without Engine.IO v3 support skip the suite with `--without eio3`.
    assert_eq!(suite(&suites, "eio3").defaults.eio, [3]);
    for instance in &suite(&suites, "eio3").instances {
        assert_eq!(instance.requires[0], "eio3", "{}", instance.id);
    }
    assert_eq!(
        suite(&suites, "eio4").defaults.path.as_deref(),
        Some("/engine.io/")
    );
    assert_eq!(
        suite(&suites, "sio5").defaults.path.as_deref(),
        Some("/socket.io/")
    );
    for s in &suites {
        let base = s.spec_base_url.as_deref().unwrap_or_default();
        assert!(
            base.starts_with("https://github.com/socketio/socket.io/blob/d2d753fe/docs/"),
            "{}: spec.base_url {base:?}",
            s.suite
        );
    }
}

fn check_official(suite: &Suite, checklist: &[&str]) {
    let listed: Vec<&str> = suite
        .cases
        .iter()
        .flat_map(|c| c.official.iter().map(String::as_str))
        .collect();
    let missing: Vec<&&str> = checklist.iter().filter(|t| !listed.contains(t)).collect();
    assert!(
        missing.is_empty(),
        "{}: official tests with no case: {missing:#?}",
        suite.suite
    );
    // Every `official:` entry is a real title (no typo that would hide a missing port), and
    // each official test is ported once.
    let known: BTreeSet<&str> = checklist.iter().copied().collect();
    let unknown: Vec<&&str> = listed.iter().filter(|t| !known.contains(**t)).collect();
    assert!(
        unknown.is_empty(),
        "{}: `official:` titles not in the official suite: {unknown:#?}",
        suite.suite
    );
    let unique: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "{}: an official title is listed by two cases",
        suite.suite
    );
}

#[test]
fn every_official_engine_io_v4_test_is_ported() {
    let suites = load();
    check_official(suite(&suites, "eio4"), &EIO4_OFFICIAL);
}

#[test]
fn every_official_engine_io_v3_test_is_ported() {
    let suites = load();
    check_official(suite(&suites, "eio3"), &EIO3_OFFICIAL);
}

#[test]
fn every_official_socket_io_v5_test_is_ported() {
    let suites = load();
    check_official(suite(&suites, "sio5"), &SIO5_OFFICIAL);
}

#[test]
fn every_case_has_a_spec_quote_and_a_level() {
    // Requirement ids name a statement of the catalogue (`conformance coverage`).
    let spec_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/spec"));
    let catalogue = sio_conformance::coverage::load_spec(&spec_dir).expect("fixtures/spec loads");
    let catalogued = |id: &str| {
        id.split_once(':').is_some_and(|(document, statement)| {
            catalogue
                .catalogues
                .iter()
                .filter(|c| c.document == document)
                .any(|c| c.statements.iter().any(|s| s.id == statement))
        })
    };
    for suite in load() {
        for case in &suite.cases {
            let at = format!(
                "{}/{} ({}:{})",
                suite.suite,
                case.id,
                suite.file.display(),
                case.line
            );
            assert!(!case.spec.is_empty(), "{at}: no spec reference");
            for spec in &case.spec {
                match spec {
                    SpecRef::Anchor { anchor, quote } => {
                        assert!(
                            anchor.contains('#'),
                            "{at}: anchor {anchor:?} has no fragment"
                        );
                        assert!(
                            quote.as_deref().is_some_and(|q| !q.trim().is_empty()),
                            "{at}: spec anchor {anchor} has no quote"
                        );
                    }
                    SpecRef::Requirement(id) => assert!(
                        catalogued(id),
                        "{at}: requirement id {id} names no statement of fixtures/spec/"
                    ),
                }
            }
            assert!(case.level.is_some(), "{at}: no explicit `level:`");
            // Ports of an official suite name the test they port; our own suites (sio5x)
            // port nothing.
            if ["eio3", "eio4", "sio5"].contains(&suite.suite.as_str()) {
                assert!(!case.official.is_empty(), "{at}: no `official:` title");
            }
        }
    }
}

#[test]
fn instances_expand_as_documented() {
    let suites = load();
    let eio3 = suite(&suites, "eio3");
    let eio4 = suite(&suites, "eio4");
    let sio5 = suite(&suites, "sio5");
    // The EIO v3 cases are transport-specific too (raw HTTP / WebSocket steps): one instance
    // each, every request with `EIO=3`.
    assert_eq!(eio3.cases.len(), 24);
    assert_eq!(eio3.instances.len(), 24);
    assert_eq!(eio4.cases.len(), 25);
    assert_eq!(sio5.cases.len(), 32);
    // The EIO v4 cases are transport-specific (raw HTTP / WebSocket steps): one instance each.
    assert_eq!(eio4.instances.len(), 25);
    // The Socket.IO-level cases that work on both transports run on both (16 cases × 2), the
    // other 16 once.
    assert_eq!(sio5.instances.len(), 48);
    let ids: BTreeSet<&str> = sio5.instances.iter().map(|i| i.id.as_str()).collect();
    for id in [
        "sio5/connect/main-namespace[transport=websocket]",
        "sio5/connect/main-namespace[transport=polling]",
        "sio5/message/binary-attachments-with-ack[transport=polling]",
        "sio5/connect/invalid-handshake[transport=websocket]",
        "sio5/eio/heartbeat/polling-ping-pong[transport=polling]",
        "sio5/eio/handshake/polling-open",
    ] {
        assert!(ids.contains(id), "no instance {id}: {ids:#?}");
    }
    // Over polling too: the engine drops the noop that releases the pending GET before the
    // close packet.
    assert!(ids.contains("sio5/connect/invalid-handshake[transport=polling]"));
    // The Engine.IO cases that need WebSocket only stay so.
    assert!(!ids.contains("sio5/eio/close/websocket[transport=polling]"));
}

/// The capability probes load, each case shows something, and together they cover every
/// capability a suite case requires (else `run --profile` could not mark it missing).
#[test]
fn the_probes_cover_every_required_capability() {
    let file = fixtures_dir().join("../probe/capabilities.yaml");
    let probes = fixture::load_suite_with(&file, &options())
        .unwrap_or_else(|err| panic!("the probes do not load:\n{err}"));
    let mut shown: Vec<&str> = Vec::new();
    for case in &probes.cases {
        assert!(
            !case.provides.is_empty(),
            "probe {} provides nothing",
            case.id
        );
        shown.extend(case.provides.iter().map(String::as_str));
    }
    for suite in load() {
        for instance in &suite.instances {
            for capability in &instance.requires {
                assert!(
                    shown.contains(&capability.as_str()),
                    "{} requires `{capability}`, which no probe shows",
                    instance.id
                );
            }
        }
    }
}
