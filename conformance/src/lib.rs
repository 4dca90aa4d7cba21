//! Conformance runner library: replays YAML fixtures against an Engine.IO / Socket.IO server.

pub mod cli;
pub mod codec_commands;
pub mod matcher;
pub mod scenario;
pub mod transport;
pub mod wire;
