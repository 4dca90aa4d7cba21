//! `sio-example-client URL`: a Socket.IO client on sio-codec's sans-IO client sessions
//! (`engineio::client::Session` and `socketio::client::Connection`), with tokio, hyper and
//! tokio-tungstenite for the I/O. It checks a server that implements the behaviour contract
//! (docs/contract.md §3.2): it opens over polling and upgrades to WebSocket, connects `/`,
//! emits `message-with-ack` and checks the ACK echoes the arguments, emits `message` with a
//! binary argument and checks `message-back` echoes the bytes, connects `/custom` (and
//! checks an ack there), lets heartbeats pass and checks the session still answers, and
//! reconnects (closes the session, checks the server forgot it, opens a new one, connects `/`
//! again). One line per step; exit 0 when every step passed, 1 with the reason otherwise.
//! Every step has a deadline (5 s), so nothing hangs.
//!
//! The sessions own the protocol; the program only moves bytes: each HTTP request the
//! Engine.IO session asks for runs as its own task (one GET and one POST at most, `io.rs`),
//! the WebSocket is read in the same loop (`session.rs`), and the session's timer is a
//! `sleep_until`. This file is the scenario.

mod io;
mod session;

use io::forgotten;
use session::Client;
use std::time::Duration;

/// How long each step may take.
pub(crate) const STEP: Duration = Duration::from_secs(5);

/// Runs one step with its deadline and prints its line.
async fn step<T>(
    name: &str,
    work: impl Future<Output = Result<T, String>>,
    detail: impl FnOnce(&T) -> String,
) -> Result<T, String> {
    let result = match tokio::time::timeout(STEP, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {STEP:?}")),
    };
    match &result {
        Ok(value) => println!("ok    {name}: {}", detail(value)),
        Err(reason) => println!("FAIL  {name}: {reason}"),
    }
    result.map_err(|reason| format!("{name}: {reason}"))
}

/// Opens a session over polling and upgrades it to WebSocket; the Engine.IO sid.
async fn open(client: &mut Client, steps: &mut usize) -> Result<String, String> {
    let sid = step(
        "open over polling",
        client.until(|c| {
            c.opened
                .then(|| Ok(c.eio.sid().unwrap_or_default().to_string()))
        }),
        |sid| format!("Engine.IO sid {sid}"),
    )
    .await?;
    let interval = client.eio.ping_interval();
    step(
        "upgrade to WebSocket",
        client.until(|c| {
            if c.upgraded {
                Some(Ok(()))
            } else {
                c.upgrade_failed.then(|| Err("the upgrade failed".into()))
            }
        }),
        |()| format!("upgraded (server pings every {interval:?})"),
    )
    .await?;
    *steps += 2;
    Ok(sid)
}

async fn run(url: &str) -> Result<usize, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = match rest.split_once('/') {
        Some((authority, path)) if !path.trim_end_matches('/').is_empty() => {
            let path = format!("/{}/", path.trim_end_matches('/'));
            (authority.to_string(), path)
        }
        Some((authority, _)) => (authority.to_string(), "/socket.io/".to_string()),
        None => (rest.to_string(), "/socket.io/".to_string()),
    };
    let mut steps = 0;
    let mut client = Client::new(&authority, &path);
    let eio_sid = open(&mut client, &mut steps).await?;
    let first = step("connect /", client.connect("/"), |sid| {
        format!("socket id {sid}")
    })
    .await?;
    step("message-with-ack", client.ack_echo("/"), Clone::clone).await?;
    step("binary message", client.binary_echo(), Clone::clone).await?;
    step("connect /custom", client.connect("/custom"), |sid| {
        format!("socket id {sid}")
    })
    .await?;
    step(
        "message-with-ack in /custom",
        client.ack_echo("/custom"),
        Clone::clone,
    )
    .await?;
    // Three heartbeats (pingInterval + pingTimeout is the longest the server waits for a
    // pong), then the session must still answer.
    let quiet = ((client.eio.ping_interval() + client.eio.ping_timeout()) * 3).min(STEP / 2);
    step(
        "heartbeat",
        async {
            client.idle(quiet).await?;
            client.ack_echo("/").await
        },
        |_| format!("still open after {quiet:?}"),
    )
    .await?;
    steps += 6;

    step(
        "close",
        async {
            client.close().await;
            forgotten(&authority, &path, &eio_sid).await
        },
        |()| format!("the server forgot session {eio_sid}"),
    )
    .await?;
    let mut client = Client::new(&authority, &path);
    let new_sid = open(&mut client, &mut steps).await?;
    if new_sid == eio_sid {
        return Err(format!(
            "reconnect: the new session has the old sid {eio_sid}"
        ));
    }
    let reconnect = async {
        let sid = client.connect("/").await?;
        if sid == first {
            return Err(format!("the old socket id {sid}"));
        }
        Ok(sid)
    };
    step("reconnect /", reconnect, |sid| format!("socket id {sid}")).await?;
    step(
        "message-with-ack after reconnecting",
        client.ack_echo("/"),
        Clone::clone,
    )
    .await?;
    tokio::time::timeout(STEP, client.close()).await.ok();
    steps += 3;
    Ok(steps)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: sio-example-client http://HOST:PORT[/socket.io/]");
        std::process::exit(2);
    };
    match run(&url).await {
        Ok(steps) => println!("all {steps} steps passed"),
        Err(reason) => {
            println!("failed: {reason}");
            std::process::exit(1);
        }
    }
}
