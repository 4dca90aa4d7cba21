//! `conformance mutants`: the built-in contract server with one deliberate defect, and the
//! kill matrix.
//!
//! `conformance mutants serve --mutant NAME` runs the server of the `sio-mutants` crate
//! (tokio + this repository's codec), which implements the contract of docs/contract.md and
//! behaves like the reference server, except for one deliberate defect ([`Mutant`]).
//! `--mutant none` is the clean server, which passes every case. `conformance mutants matrix`
//! runs every suite against every mutant and writes which cases kill which mutant (FAIL at
//! default strictness) and which only see it with `--strict` (NON-STRICT): a `must` mutant
//! that no case FAILs, or a `should` mutant that no case sees, is a hole in the suites
//! ([`matrix`]).

pub mod matrix;

pub use sio_mutants::{Mutant, Settings, Severity, server};

use crate::exit;
// The name parser is the library's (`ContractServer::with_mutant` takes names too).
pub use crate::api::parse_mutant;
use clap::{Args, Subcommand};
use std::future::Future;

/// Options of `mutants`.
#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MutantsCommand,
}

/// The subcommands of `mutants`.
#[derive(Debug, Subcommand)]
pub enum MutantsCommand {
    /// Run the built-in contract server with one deliberate defect (`none`: the clean server).
    Serve(ServeArgs),
    /// Run every suite against every mutant and write the kill matrix (markdown).
    Matrix(matrix::MatrixArgs),
    /// List the mutants and their defects.
    List,
}

/// Options of `mutants serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The defect (`none` or `clean` for the clean server; `mutants list` shows them all).
    #[arg(long, default_value = "none", value_parser = parse_mutant)]
    pub mutant: Mutant,
    /// Port to listen on (0: any free port); default `PORT` from the environment, else 3000.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on; default `HOST` from the environment, else 127.0.0.1.
    #[arg(long)]
    pub host: Option<String>,
}

/// `conformance mutants …`.
pub fn run(args: &MutantsArgs) -> u8 {
    match &args.command {
        MutantsCommand::Serve(serve_args) => serve(serve_args),
        MutantsCommand::Matrix(matrix_args) => matrix::matrix(matrix_args),
        MutantsCommand::List => {
            for mutant in Mutant::ALL {
                println!(
                    "{:<34} {:<6} {}",
                    mutant.name(),
                    mutant.severity().name(),
                    mutant.description()
                );
            }
            exit::OK
        }
    }
}

/// `mutants serve`: listen, print `listening on http://HOST:PORT`, serve until SIGTERM or
/// SIGINT, then close every session and exit 0.
fn serve(args: &ServeArgs) -> u8 {
    let settings = match Settings::from_env(args.mutant) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let host = args
        .host
        .clone()
        .or_else(|| std::env::var("HOST").ok())
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = match args.port {
        Some(port) => port,
        None => match std::env::var("PORT").map(|p| p.parse::<u16>()) {
            Err(_) => 3000,
            Ok(Ok(port)) => port,
            Ok(Err(e)) => {
                eprintln!("error: PORT: {e}");
                return exit::USAGE;
            }
        },
    };
    crate::commands::common::block_on(async {
        let stopped = stop_signal();
        let server = match server::start(&format!("{host}:{port}"), settings).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("error: cannot listen on {host}:{port}: {e}");
                return exit::HARNESS;
            }
        };
        println!("listening on http://{host}:{}", server.addr().port());
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        stopped.await;
        server.stop().await;
        exit::OK
    })
}

/// Installs the SIGTERM and SIGINT handlers at once (before the server says it listens, so
/// that an early signal is not fatal); the future resolves on either.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match handlers {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
