//! The conformance runner's behaviour contract (docs/contract.md, v2) on socketioxide.
//!
//! One HTTP server (hyper), two endpoints on the same port:
//!   /socket.io/  socketioxide with the namespaces `/`, `/custom` and `/guarded` (handlers.rs);
//!   /engine.io/  a raw engineioxide server that echoes every message.
//! Anything else gets an empty 404. CORS is open to any origin.
//!
//! Configuration from the environment: HOST (127.0.0.1), PORT (3000; 0 = any free port),
//! PING_INTERVAL (300) / PING_TIMEOUT (200) / CONNECT_TIMEOUT (1000) in milliseconds,
//! MAX_HTTP_BUFFER_SIZE (1000000) in bytes. stdout carries one line,
//! `listening on http://HOST:PORT` (the bound port); SIGTERM / SIGINT close the sessions and
//! exit with status 0.

mod args;
mod handlers;

use std::sync::Arc;
use std::time::Duration;

use engineioxide::config::EngineIoConfig;
use engineioxide::service::{EngineIoService, NotFoundService};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tower_http::cors::Cors;

/// The server settings (docs/contract.md §1).
struct Settings {
    host: String,
    port: u16,
    ping_interval: Duration,
    ping_timeout: Duration,
    connect_timeout: Duration,
    max_payload: u64,
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let millis = |name, default| number(name, default).map(Duration::from_millis);
        Ok(Settings {
            host: std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into()),
            port: number("PORT", 3000)?
                .try_into()
                .map_err(|_| "PORT must be 0..65535".to_string())?,
            ping_interval: millis("PING_INTERVAL", 300)?,
            ping_timeout: millis("PING_TIMEOUT", 200)?,
            connect_timeout: millis("CONNECT_TIMEOUT", 1000)?,
            max_payload: number("MAX_HTTP_BUFFER_SIZE", 1_000_000)?,
        })
    }
}

/// A non-negative integer from the environment; unset or empty = `default`.
fn number(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a non-negative integer, got {raw:?}")),
        _ => Ok(default),
    }
}

#[tokio::main]
async fn main() {
    let settings = Settings::from_env().unwrap_or_else(|message| {
        eprintln!("contract server: {message}");
        std::process::exit(2);
    });

    // /engine.io/: the echo. Requests outside its path go to the 404 service.
    let echo = Arc::new(handlers::Echo::default());
    let engine_config = EngineIoConfig::builder()
        .req_path("/engine.io")
        .ping_interval(settings.ping_interval)
        .ping_timeout(settings.ping_timeout)
        .max_payload(settings.max_payload)
        .ws_max_message_size(settings.max_payload as usize)
        .build();
    let echo_svc = EngineIoService::with_config_inner(NotFoundService, echo.clone(), engine_config);

    // /socket.io/: socketioxide in front of the echo (it passes on every other path).
    let (svc, io) = SocketIo::builder()
        .ping_interval(settings.ping_interval)
        .ping_timeout(settings.ping_timeout)
        .connect_timeout(settings.connect_timeout)
        .max_payload(settings.max_payload)
        .ws_max_message_size(settings.max_payload as usize)
        .build_with_inner_svc(echo_svc);
    handlers::register(&io);
    let svc = TowerToHyperService::new(Cors::permissive(svc));

    let listener = TcpListener::bind((settings.host.as_str(), settings.port))
        .await
        .unwrap_or_else(|err| {
            eprintln!(
                "contract server: cannot listen on {}:{}: {err}",
                settings.host, settings.port
            );
            std::process::exit(1);
        });
    let port = listener.local_addr().map_or(settings.port, |a| a.port());
    let host = match settings.host.contains(':') {
        true => format!("[{}]", settings.host),
        false => settings.host.clone(),
    };
    println!("listening on http://{host}:{port}");

    let mut sigterm = signal(SignalKind::terminate()).expect("SIGTERM handler");
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let svc = svc.clone();
                tokio::spawn(async move {
                    // Connection errors (clients going away) are not worth a log line.
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
                    conn.with_upgrades().await.ok();
                });
            }
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }

    // Stop: close every session (do not wait long for slow clients), then exit with 0.
    echo.close_all();
    tokio::time::timeout(Duration::from_secs(1), io.close())
        .await
        .ok();
}
