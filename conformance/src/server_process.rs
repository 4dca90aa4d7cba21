//! `conformance run --exec CMD [--ready URL]`: the runner starts the server under test
//! itself, waits until it is ready, and stops it after the run.
//!
//! The command runs under `sh -c` in a process group of its own, so stopping it reaches
//! everything it started (an `npm start` and its `node`, a venv's `python`): SIGTERM to the
//! group, then SIGKILL if it has not exited after [`STOP_GRACE`]. Its output goes to a
//! temporary log, shown when it fails to start.

use crate::transport::{
    http::{HttpClient, HttpRequest},
    target::Target,
    tls::Connector,
    transcript::Transcript,
};
use std::{path::PathBuf, process::Stdio, time::Duration};
use tokio::{process::Child, time::Instant};

/// How long a stopped server gets to exit before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Pause between two readiness probes.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// Longest a single readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What tells that the server is ready.
#[derive(Debug, Clone)]
pub enum Readiness {
    /// This URL answers a GET with a 2xx status.
    Url {
        /// Scheme, host, port (and TLS settings).
        server: Target,
        /// What to request.
        path_and_query: String,
    },
    /// The target accepts TCP (and TLS) connections.
    Connect(Target),
}

/// A server started with `--exec`.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// The process group (the child's pid).
    group: u32,
    log: PathBuf,
}

impl Readiness {
    /// `Url` from a URL that may carry a query (`http://host:port/path?EIO=4&…`).
    pub fn url(url: &str) -> Result<Self, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let server = Target::parse(base, "/").map_err(|e| e.to_string())?;
        let path_and_query = if query.is_empty() {
            server.path.clone()
        } else {
            format!("{}?{query}", server.path)
        };
        Ok(Self::Url {
            server,
            path_and_query,
        })
    }
}

impl ServerProcess {
    /// Starts `command` and waits until `ready` holds, at most `deadline`. On failure the
    /// server is stopped and the error says why, with the end of its output.
    pub async fn start(
        command: &str,
        ready: &Readiness,
        deadline: Duration,
    ) -> Result<Self, String> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let log = std::env::temp_dir().join(format!(
            "conformance-exec-{}-{stamp}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start `{command}`: {e}"))?;
        let group = child.id().ok_or("the server exited at once")?;
        let mut server = Self { child, group, log };
        match server.wait_ready(ready, deadline).await {
            Ok(()) => Ok(server),
            Err(why) => {
                let output = server.output_tail();
                server.stop().await;
                Err(format!("{why}\n--- its output (last lines) ---\n{output}"))
            }
        }
    }

    async fn wait_ready(&mut self, ready: &Readiness, deadline: Duration) -> Result<(), String> {
        let until = Instant::now() + deadline;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the server exited before it was ready ({status})"));
            }
            let last = match tokio::time::timeout(PROBE_TIMEOUT, probe(ready)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => e,
                Err(_) => format!("no answer in {PROBE_TIMEOUT:?}"),
            };
            if Instant::now() + PROBE_EVERY > until {
                return Err(format!(
                    "the server was not ready after {deadline:?} (last probe: {last})"
                ));
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }

    /// The last lines of the server's output.
    fn output_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Stops the server's process group: SIGTERM, then SIGKILL after [`STOP_GRACE`].
    pub async fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal_group(self.group, "TERM").await;
            if tokio::time::timeout(STOP_GRACE, self.child.wait())
                .await
                .is_err()
            {
                signal_group(self.group, "KILL").await;
                let _ = self.child.wait().await;
            }
        }
        // Whatever the shell left behind in its group.
        signal_group(self.group, "KILL").await;
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Sends a signal to our child's process group, by its id, with kill(1).
async fn signal_group(group: u32, signal: &str) {
    let _ = tokio::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{group}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// Whether `target` accepts a TCP (and TLS) connection.
pub async fn accepts_connections(target: &Target) -> Result<(), String> {
    connects(target).await.map_err(|e| e.to_string())
}

/// Connects to `target` (TCP, then TLS for `https`) and lets go.
///
/// # Errors
/// The connection or the TLS handshake failed.
pub async fn connects(target: &Target) -> Result<(), crate::transport::TransportError> {
    Connector::new(target.clone())?.connect().await.map(drop)
}

/// Why a run cannot reach `target` (the `--target` text): nothing accepts the connection
/// (unreachable), or the TLS handshake fails (the server is there; its certificate is not
/// trusted, …).
#[must_use]
pub fn no_connection(target: &str, error: &crate::transport::TransportError) -> String {
    match error {
        crate::transport::TransportError::Tls { .. } => format!("target {target}: {error}"),
        _ => format!("target {target} unreachable: {error}"),
    }
}

async fn probe(ready: &Readiness) -> Result<(), String> {
    match ready {
        Readiness::Connect(target) => accepts_connections(target).await,
        Readiness::Url {
            server,
            path_and_query,
        } => {
            let connector = Connector::new(server.clone()).map_err(|e| e.to_string())?;
            let request = HttpRequest::get(path_and_query.clone());
            let response = HttpClient::new(connector)
                .send(&request, &Transcript::new(), "ready")
                .await
                .map_err(|e| e.to_string())?;
            if (200..300).contains(&response.status) {
                Ok(())
            } else {
                Err(format!(
                    "{} answered {}",
                    server.http_url(path_and_query),
                    response.status
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unused_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    #[tokio::test]
    async fn starts_waits_for_the_ready_url_and_stops_the_whole_group() {
        let port = unused_port();
        let ready = Readiness::url(&format!("http://127.0.0.1:{port}/?probe=1")).unwrap();
        // The shell runs python as a child (not exec'd): stopping must reach it too.
        let command = format!("python3 -m http.server {port} --bind 127.0.0.1; echo done");
        let server = ServerProcess::start(&command, &ready, Duration::from_secs(20))
            .await
            .expect("the server becomes ready");
        assert!(probe(&ready).await.is_ok());
        server.stop().await;
        assert!(probe(&ready).await.is_err(), "still answering after stop");
    }

    #[tokio::test]
    async fn a_server_that_exits_is_reported_with_its_output() {
        let target = Target::parse(&format!("http://127.0.0.1:{}", unused_port()), "/").unwrap();
        let err = ServerProcess::start(
            "echo starting up; exit 3",
            &Readiness::Connect(target),
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        assert!(err.contains("exited before it was ready"), "{err}");
        assert!(err.contains("starting up"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_never_listens_times_out_and_is_stopped() {
        let target = Target::parse(&format!("http://127.0.0.1:{}", unused_port()), "/").unwrap();
        let started = Instant::now();
        let err = ServerProcess::start(
            "sleep 30",
            &Readiness::Connect(target),
            Duration::from_millis(500),
        )
        .await
        .unwrap_err();
        assert!(err.contains("not ready after"), "{err}");
        // Stopped with SIGTERM, not after the 30 s sleep.
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
