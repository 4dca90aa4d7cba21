//! Exit codes of the `conformance` commands, never a count. The library reports them too
//! ([`crate::Report::exit_code`]), so they live below the commands, where both reach them.

/// Success: no unexpected failure.
pub const OK: u8 = 0;
/// At least one case failed.
pub const FAILURES: u8 = 1;
/// Usage error, invalid fixture, invalid input.
pub const USAGE: u8 = 2;
/// The target is unreachable, or the harness failed.
pub const HARNESS: u8 = 3;
/// `--known-failing`: no new failure, but an entry went stale (its cases pass now).
pub const STALE_BASELINE: u8 = 4;
/// The run was stopped (SIGINT, SIGTERM, `--max-run-duration`) before its end.
pub const INTERRUPTED: u8 = 5;
