//! Conformance runner for Engine.IO / Socket.IO servers: replays the built-in YAML suites
//! (the official suites ported, plus this project's) against a server and grades every case
//! instance, PASS, NON-STRICT, FAIL, ERROR, UNSUPPORTED or SKIPPED, with the spec quote and
//! the wire transcript when it is not PASS.
//!
//! Most users run the `conformance` binary (`conformance run --target URL`). This library is
//! for Rust server authors who want the same verdicts inside `cargo test`: build a [`Runner`]
//! (target, which cases, what the server lacks, deadlines, how to judge), `run()` it, and
//! assert on the [`Report`].
//!
//! ```
//! use sio_conformance::{ContractServer, Runner, Verdict};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Your server here; the built-in contract server stands in for it.
//! let server = ContractServer::start().await?;
//!
//! let report = Runner::new(server.url())
//!     .only("sio5/connect/**")
//!     .connect_timeout(Duration::from_secs(1))
//!     .run()
//!     .await?;
//! report.assert_conforms(); // panics with the findings and transcripts otherwise
//! assert_eq!(
//!     report.verdict("sio5/connect/main-namespace[transport=websocket]"),
//!     Some(Verdict::Pass)
//! );
//! assert!(report.summary().pass > 0);
//! server.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! The suites, probes and spec catalogue are built into the crate (see
//! [`Runner::fixtures`] to run your own). Everything besides [`Runner`], [`Report`] and the
//! types they use is internal to the `conformance` binary: hidden from these docs, public
//! only for this crate's tests, and free to change in any release.

mod api;
#[doc(hidden)]
pub mod baseline;
#[doc(hidden)]
pub mod commands;
#[doc(hidden)]
pub mod coverage;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod exit;
#[doc(hidden)]
pub mod expected;
#[doc(hidden)]
pub mod expr;
#[doc(hidden)]
pub mod fixture;
#[doc(hidden)]
pub mod hex;
#[doc(hidden)]
pub mod lint;
#[doc(hidden)]
pub mod matcher;
#[doc(hidden)]
pub mod preflight;
#[doc(hidden)]
pub mod profile;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod runner;
#[doc(hidden)]
pub mod server_process;
mod source_text;
#[doc(hidden)]
pub mod transport;
#[doc(hidden)]
pub mod wire;

pub use api::{Case, ContractServer, Error, Format, Report, Runner};

/// The crate README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
pub use engine::{Finding, Verdict};
pub use report::{Summary, Trace};
