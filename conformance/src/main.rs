//! `conformance`: see `conformance --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = sio_conformance::cli::Cli::parse();
    std::process::ExitCode::from(sio_conformance::cli::run(cli))
}
