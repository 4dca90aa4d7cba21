//! Command-line interface: argument definitions and dispatch to exit codes.

use crate::codec_commands::{self, WireOptions};
use clap::{Args, Parser, Subcommand};

/// Exit codes: never a count.
pub mod exit {
    /// Success: no unexpected failure.
    pub const OK: u8 = 0;
    /// At least one case failed.
    pub const FAILURES: u8 = 1;
    /// Usage error, invalid fixture, invalid input.
    pub const USAGE: u8 = 2;
    /// The target is unreachable, or the harness failed.
    pub const HARNESS: u8 = 3;
}

/// Conformance runner and codec tools for the Engine.IO / Socket.IO wire protocol.
#[derive(Debug, Parser)]
#[command(name = "conformance", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode frames, a polling payload or bare Socket.IO packets; print one JSON object per
    /// packet (the golden-vector `input` shape).
    Decode(WireArgs),
    /// Encode packets given as JSON (the golden-vector `input` shape); print the wire form.
    Encode(WireArgs),
}

/// Options of `decode` and `encode`.
#[derive(Debug, Args)]
pub struct WireArgs {
    /// Engine.IO revision.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(3..=4))]
    pub eio: u8,
    /// Socket.IO revision (payload rules); default 5 with --eio 4, 4 with --eio 3.
    #[arg(long, value_parser = clap::value_parser!(u8).range(4..=5))]
    pub sio: Option<u8>,
    /// The input (decode) or output (encode) is one HTTP long-polling body.
    #[arg(long, conflicts_with = "socketio")]
    pub payload: bool,
    /// Bare Socket.IO packets, without the Engine.IO message prefix `4`.
    #[arg(long)]
    pub socketio: bool,
    /// Frames (text, or `hex:…` for a binary frame) for decode; JSON packets for encode.
    /// Read from standard input when absent.
    pub inputs: Vec<String>,
}

impl WireArgs {
    fn options(&self) -> WireOptions {
        WireOptions {
            eio: self.eio,
            sio: self.sio.unwrap_or(if self.eio == 3 { 4 } else { 5 }),
            payload: self.payload,
            socketio: self.socketio,
        }
    }
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    let stdin = &mut std::io::stdin().lock();
    let stdout = &mut std::io::stdout().lock();
    let result = match &cli.command {
        Command::Decode(args) => {
            codec_commands::decode(args.options(), &args.inputs, stdin, stdout)
        }
        Command::Encode(args) => {
            codec_commands::encode(args.options(), &args.inputs, stdin, stdout)
        }
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("{}", e.0);
            exit::USAGE
        }
    }
}
