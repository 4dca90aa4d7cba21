//! Conformance runner library: replays YAML fixtures against an Engine.IO / Socket.IO server.
//!
//! The `conformance` binary is a thin layer over this crate ([`cli`]); integration tests and
//! other tools can drive the same pieces directly:
//!
//! - [`scenario`] loads suites (typed YAML, every step with its `file:line`) and expands
//!   cases over the Engine.IO and transport axes;
//! - [`engine`] runs one case instance against a target and grades it;
//! - [`probe`] finds a server's capabilities and writes the profile `run --profile` reads;
//! - [`runner`] selects and schedules cases; [`report`] writes the console, JSON and JUnit
//!   reports;
//! - [`transport`] is the only I/O: HTTP/1.1, WebSocket and TLS with wire transcripts;
//! - [`wire`] turns packets into the golden-vector JSON shape and back.
//!
//! ```
//! use sio_conformance::{run_command::load_options, scenario::parse_suite};
//!
//! let suite = parse_suite(r##"
//! schema: conformance.fixture/v1
//! suite: demo
//! defaults: {path: /socket.io/, transports: [polling, websocket]}
//! cases:
//!   - id: connect
//!     title: CONNECT to the main namespace is accepted
//!     spec: {anchor: "#connect", quote: "The server MUST answer with a CONNECT packet."}
//!     steps:
//!       - open: {conn: c}
//!       - send: {conn: c, sio: {type: CONNECT}}
//!       - expect: {conn: c, sio: {type: CONNECT, data: {sid: {$type: string}}}}
//! "##, "demo.yaml".as_ref(), &load_options()).map_err(|e| e.to_string())?;
//!
//! let ids: Vec<_> = suite.instances.iter().map(|i| i.id.as_str()).collect();
//! assert_eq!(ids, ["demo/connect[transport=polling]", "demo/connect[transport=websocket]"]);
//! // Every step keeps its line: the `expect` is on line 12 of the text (line 1 is empty).
//! assert_eq!(suite.instances[0].steps[2].line, 12);
//! # Ok::<(), String>(())
//! ```

pub mod baseline;
pub mod cli;
pub mod codec_commands;
pub mod coverage;
pub mod diff;
pub mod engine;
pub mod expected;
pub mod explain;
pub mod expr;
pub mod html;
pub mod lint;
pub mod matcher;
pub mod mutants;
pub mod preflight;
pub mod probe;
pub mod record;
pub mod report;
pub mod run_command;
pub mod runner;
pub mod scenario;
pub mod server_process;
pub mod transport;
pub mod wire;
