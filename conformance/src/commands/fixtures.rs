//! `conformance fixtures`: the files built into the binary, listed or exported.

use crate::exit;
use crate::fixture::builtin::{export, files, revision};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `conformance fixtures`.
#[derive(Debug, Args)]
pub struct FixturesArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: FixturesCommand,
}

/// The subcommands of `conformance fixtures`.
#[derive(Debug, Subcommand)]
pub enum FixturesCommand {
    /// Write the built-in files (suites, probes, spec catalogue, contract) into DIR, under
    /// their paths in the repository (`DIR/fixtures/conformance/*.yaml`, …), to edit or
    /// extend; run them with `--fixtures DIR/fixtures/conformance`.
    Export(ExportArgs),
    /// List the built-in files and the suite revision.
    List,
}

/// Options of `conformance fixtures export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The directory to write into (created when missing).
    pub dir: PathBuf,
    /// Overwrite files that exist (otherwise an existing file is an error and nothing is
    /// written).
    #[arg(long)]
    pub force: bool,
}

/// `conformance fixtures`.
pub fn fixtures(args: &FixturesArgs) -> u8 {
    match &args.command {
        FixturesCommand::List => {
            println!("revision {}", revision());
            for f in files() {
                println!("{:>8}  {}", f.text.len(), f.path);
            }
            exit::OK
        }
        FixturesCommand::Export(args) => match export(&args.dir, args.force) {
            Ok(written) => {
                println!(
                    "wrote {} built-in files (revision {}) into {}",
                    written.len(),
                    revision(),
                    args.dir.display()
                );
                println!(
                    "run them with: conformance run --target URL --fixtures {}",
                    args.dir.join("fixtures/conformance").display()
                );
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::USAGE
            }
        },
    }
}
