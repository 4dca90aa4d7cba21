//! Options several commands share: the server under test, which cases run, how the runner
//! talks to a server.

use clap::Args;

/// What selects and shapes a run, the same on `run`, `diff` and `record`: which cases, how
/// the runner talks to the server, when the run stops.
#[derive(Debug, Clone, Args)]
pub struct RunOptions {
    /// Which cases run.
    #[command(flatten)]
    pub select: SelectArgs,
    /// How the runner talks to the server.
    #[command(flatten)]
    pub client: ClientArgs,
    /// Stop the run after this long (like SIGINT/SIGTERM: the cases not run are ERROR, the
    /// reports are written and marked interrupted, exit 5).
    #[arg(long, value_name = "DURATION")]
    pub max_run_duration: Option<String>,
    /// After this many cases in a row got no response at all, the target is lost: the rest
    /// are ERROR (0: never).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub lost_after: usize,
}

/// Which cases run (`run`, `diff`, `record`).
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Only these suites (comma-separated: eio4,sio5).
    #[arg(long, value_delimiter = ',')]
    pub suite: Vec<String>,
    /// Only instances on these Engine.IO revisions (comma-separated: 3,4); a server that does
    /// not speak one at all is better described by `--without eio3` (UNSUPPORTED, not SKIPPED).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u8).range(3..=4))]
    pub eio: Vec<u8>,
    /// Only cases whose id matches this glob (`*` within a segment, `**` across); repeatable.
    #[arg(long)]
    pub run: Vec<String>,
    /// Skip cases whose id matches this glob; repeatable.
    #[arg(long)]
    pub skip: Vec<String>,
    /// The target lacks this contract capability: cases requiring it are UNSUPPORTED (with
    /// `diff`: neither server has it, and those cases are not compared).
    #[arg(long, value_name = "CAPABILITY")]
    pub without: Vec<String>,
    /// A profile written by `conformance probe`: its unsupported capabilities count as
    /// `--without`.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<std::path::PathBuf>,
}

impl SelectArgs {
    /// The selection these options describe (`--profile` is read by the runner).
    #[must_use]
    pub fn selection(&self) -> crate::runner::Selection {
        crate::runner::Selection {
            suites: self.suite.clone(),
            eio: self.eio.clone(),
            run: self.run.clone(),
            skip: self.skip.clone(),
            without: self.without.clone(),
        }
    }
}

/// The server under test (`run`, `probe`, `record`).
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The server: `http://host:port` or `https://…`, optionally with a path that replaces
    /// the suites' default paths (`/engine.io/`, `/socket.io/`).
    #[arg(long)]
    pub target: String,
    /// Start the server under test with this shell command before the run and stop it (its
    /// whole process group) after; it must listen where `--target` points.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// With `--exec`: the server is ready when this URL answers a GET with 2xx (default: when
    /// the target accepts connections).
    #[arg(long, value_name = "URL", requires = "exec")]
    pub ready: Option<String>,
    /// With `--exec`: the longest wait for the server to be ready.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub ready_timeout: String,
}

/// How the runner talks to a server: headers, TLS, deadlines, parallelism.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Extra request header `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long)]
    pub insecure: bool,
    /// Trust the certificates of this PEM file in addition to the web PKI roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Default deadline of a step.
    #[arg(long, default_value = "5s")]
    pub timeout: String,
    /// Tolerance added to every timing window (`${slack}`).
    #[arg(long, default_value = "150ms")]
    pub timing_slack: String,
    /// Upper bound of the server's connect timeout (`${connect_timeout}`): the time a server
    /// gives a client to join a namespace.
    #[arg(long, default_value = "45s")]
    pub connect_timeout: String,
    /// Longest a single case may run.
    #[arg(long, default_value = "120s")]
    pub max_case_duration: String,
    /// Cases run at once (timing-sensitive cases always run alone).
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Transcript bound: events kept in full from the start of a case (the ones between the
    /// head and the tail are counted, not kept).
    #[arg(long, default_value_t = 1000, value_name = "EVENTS")]
    pub transcript_head: usize,
    /// Transcript bound: events kept in full from the end of a case.
    #[arg(long, default_value_t = 1000, value_name = "EVENTS")]
    pub transcript_tail: usize,
    /// Transcript bound: bytes the kept events of a case may hold (half head, half tail).
    #[arg(long, default_value = "4MiB", value_parser = parse_size, value_name = "SIZE")]
    pub transcript_max_bytes: usize,
    /// Transcript bound: data of one event kept in the transcript (matching sees it all).
    #[arg(long, default_value = "64KiB", value_parser = parse_size, value_name = "SIZE")]
    pub transcript_max_data: usize,
    /// Transcript bound: bytes the transcripts of the whole run may hold together; beyond, a
    /// case keeps its first 20 events (data cut to 1 KiB) and what fits of its last ones.
    #[arg(long, default_value = "32MiB", value_parser = parse_size, value_name = "SIZE")]
    pub transcript_run_bytes: usize,
    /// Frames of one connection received and not consumed by a step; beyond, they are read
    /// and dropped, and the next step waiting on it fails with the flood.
    #[arg(long, default_value_t = 10_000, value_name = "FRAMES")]
    pub max_backlog_frames: usize,
    /// Bytes of those frames.
    #[arg(long, default_value = "4MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_backlog_bytes: usize,
}

impl ClientArgs {
    /// The memory bounds these options set.
    pub fn limits(&self) -> crate::transport::Limits {
        crate::transport::Limits {
            head: self.transcript_head,
            tail: self.transcript_tail,
            max_bytes: self.transcript_max_bytes,
            max_data: self.transcript_max_data,
            run_bytes: self.transcript_run_bytes,
            backlog_frames: self.max_backlog_frames,
            backlog_bytes: self.max_backlog_bytes,
        }
    }
}

/// A size: bytes, or a number with `KiB`, `MiB` or `GiB`.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" | "K" | "k" => 10,
        "MiB" | "M" => 20,
        "GiB" | "G" => 30,
        other => return Err(format!("unknown unit {other:?} (B, KiB, MiB, GiB)")),
    };
    let n: usize = number.parse().map_err(|e| format!("{e}"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| "too large".to_owned())
}
