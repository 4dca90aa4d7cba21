//! Conformance runner library: replays YAML fixtures against an Engine.IO / Socket.IO server.

pub mod cli;
pub mod codec_commands;
pub mod engine;
pub mod expr;
pub mod matcher;
pub mod report;
pub mod run_command;
pub mod runner;
pub mod scenario;
pub mod transport;
pub mod wire;
