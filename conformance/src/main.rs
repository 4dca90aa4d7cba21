//! `conformance`: see `conformance --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    quiet_on_closed_stdout();
    let cli = sio_conformance::commands::Cli::parse();
    std::process::ExitCode::from(sio_conformance::commands::run(cli))
}

/// `conformance list | head`: once the reader has gone, printing fails (Rust ignores SIGPIPE,
/// so `println!` panics). End quietly with the status a process killed by SIGPIPE has, as
/// other command-line tools do, instead of a panic message and a backtrace.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
