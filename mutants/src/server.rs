//! The TCP server: accepts connections, reads one request each and hands it to the polling or
//! WebSocket transport of the endpoint its path names (`/engine.io/` echo, `/socket.io/`).

use super::endpoint::Endpoint;
use super::http::{self, ReadError, Response};
use super::settings::Settings;
use super::{polling, websocket};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running built-in server; stopping it (or dropping the handle) closes every session.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes every session and waits for the accept loop to end.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds `addr` (port 0 = any free port) and serves in the background on the current
/// tokio runtime.
///
/// # Errors
/// The address cannot be bound.
pub async fn start(addr: &str, settings: Settings) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let settings = Arc::new(settings);
    let endpoints = Endpoints {
        engine_io: Endpoint::new(Arc::clone(&settings), false),
        socket_io: Endpoint::new(Arc::clone(&settings), true),
    };
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(accept_loop(listener, Arc::new(endpoints), stopped));
    Ok(RunningServer { addr, stop, task })
}

#[derive(Debug)]
struct Endpoints {
    engine_io: Arc<Endpoint>,
    socket_io: Arc<Endpoint>,
}

async fn accept_loop(
    listener: TcpListener,
    endpoints: Arc<Endpoints>,
    mut stop: oneshot::Receiver<()>,
) {
    // Bounded by `stop` (sent, or dropped with the handle).
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, Arc::clone(&endpoints)));
                }
                // Out of file descriptors and the like: wait a little instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = &mut stop => break,
        }
    }
    endpoints.engine_io.close_all();
    endpoints.socket_io.close_all();
}

/// One TCP connection: one request.
async fn connection(mut stream: TcpStream, endpoints: Arc<Endpoints>) {
    let request = match http::read_request(&mut stream).await {
        Ok(request) => request,
        Err(ReadError::Malformed) => return Response::empty(400).write(&mut stream).await,
        Err(_) => return,
    };
    // Both endpoints are matched as path prefixes including the trailing slash.
    let endpoint = if request.path.starts_with("/engine.io/") {
        &endpoints.engine_io
    } else if request.path.starts_with("/socket.io/") {
        &endpoints.socket_io
    } else {
        return Response::new(404, "text/plain", "Not Found")
            .write(&mut stream)
            .await;
    };
    if request.is_websocket_upgrade() {
        websocket::serve(stream, request, endpoint).await;
    } else {
        polling::serve(stream, request, endpoint).await;
    }
}
