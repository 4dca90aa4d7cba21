//! The preflight of `conformance run`: before any case, one Engine.IO handshake per path,
//! revision and transport the selected cases use, all at once and each bounded by the step
//! deadline (`--timeout`). One working handshake is enough to go on (a slow but working server
//! is never stopped here); when none works the run ends at once with what was tried and what
//! came back, instead of every case timing out on its own.

use crate::engine::RunSettings;
use crate::fixture::{CaseInstance, Transport};
use crate::transport::http::{HttpClient, HttpRequest};
use crate::transport::tls::Connector;
use crate::transport::{Transcript, TransportError, ws};
use std::time::Duration;

/// One handshake the preflight tries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attempt {
    /// Endpoint path (`/engine.io/`, or the `--target` path).
    pub path: String,
    /// Engine.IO revision (`EIO=`).
    pub eio: u8,
    /// `polling` or `websocket`.
    pub websocket: bool,
}

impl Attempt {
    /// `GET /path?EIO=4&transport=polling`.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "{}{}EIO={}&transport={}",
            self.path,
            if self.path.contains('?') { "&" } else { "?" },
            self.eio,
            if self.websocket {
                "websocket"
            } else {
                "polling"
            }
        )
    }
}

/// What came back for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An Engine.IO open packet.
    Handshake,
    /// No connection (refused, unresolvable, TLS failure).
    NoConnection(String),
    /// The connection was accepted but no complete answer came before the deadline.
    Silent(Duration),
    /// An answer that is not an Engine.IO handshake (another protocol, garbage, a 404 page).
    NotEngineIo(String),
    /// An Engine.IO error answer: the server speaks the protocol but refuses this handshake.
    Refused(String),
}

/// The attempts the cases to run need: each distinct (path, revision, transport).
#[must_use]
pub fn attempts<'a>(
    instances: impl IntoIterator<Item = &'a CaseInstance>,
    settings: &RunSettings,
) -> Vec<Attempt> {
    let mut out: Vec<Attempt> = instances
        .into_iter()
        .map(|i| Attempt {
            path: match &i.path {
                Some(path) if !settings.explicit_path => path.clone(),
                _ => settings.target.path.clone(),
            },
            eio: i.eio,
            websocket: i.transport == Some(Transport::Websocket),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Judges a polling handshake answer.
#[must_use]
pub fn judge_polling(status: u16, body: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(body);
    let shown: String = text.chars().take(80).collect();
    if status == 200 {
        // v4: `0{…}`; v3: `<len>:0{…}` (or binary framing `\0…\xff0{…}`).
        let open = text.find("0{").filter(|&at| {
            let prefix = &text[..at];
            prefix.is_empty()
                || prefix.ends_with(':')
                || body.first().is_some_and(|b| *b == 0 || *b == 1)
        });
        if open.is_some_and(|at| text[at + 1..].contains("\"sid\"")) {
            return Outcome::Handshake;
        }
        return Outcome::NotEngineIo(format!("200 with body {shown:?}"));
    }
    if text.contains("\"code\"") && text.contains("\"message\"") {
        Outcome::Refused(format!("{status} {shown}"))
    } else {
        Outcome::NotEngineIo(format!("{status} with body {shown:?}"))
    }
}

/// Judges the first WebSocket message.
#[must_use]
pub fn judge_ws_text(text: &str) -> Outcome {
    if text.starts_with("0{") && text.contains("\"sid\"") {
        Outcome::Handshake
    } else {
        Outcome::NotEngineIo(format!(
            "first message {:?}",
            text.chars().take(80).collect::<String>()
        ))
    }
}

fn from_error(error: &TransportError) -> Outcome {
    match error {
        TransportError::Timeout {
            during: "tcp connect",
            ..
        }
        | TransportError::ConnectRefused { .. }
        | TransportError::Connect { .. }
        | TransportError::Tls { .. }
        | TransportError::CaFile { .. } => Outcome::NoConnection(error.to_string()),
        TransportError::Timeout { after, .. } => Outcome::Silent(*after),
        _ => Outcome::NotEngineIo(error.to_string()),
    }
}

async fn try_once(settings: &RunSettings, attempt: &Attempt) -> Outcome {
    let mut target = settings.target.clone();
    target.path.clone_from(&attempt.path);
    let connector = match Connector::new(target) {
        Ok(c) => c,
        Err(e) => return Outcome::NoConnection(e.to_string()),
    };
    let transcript = Transcript::new();
    let query = format!(
        "EIO={}&transport={}",
        attempt.eio,
        if attempt.websocket {
            "websocket"
        } else {
            "polling"
        }
    );
    let path_and_query = connector.target().path_and_query(&query);
    if attempt.websocket {
        let conn =
            match ws::connect(&connector, &path_and_query, &[], &transcript, "preflight").await {
                Ok(ws::WsConnect::Open(conn)) => conn,
                Ok(ws::WsConnect::Rejected { status: 200, .. }) => {
                    return Outcome::NotEngineIo("200 to a WebSocket upgrade".into());
                }
                Ok(ws::WsConnect::Rejected { status, body, .. }) => {
                    return judge_polling(status, &body);
                }
                Err(e) => return from_error(&e),
            };
        let mut conn = conn;
        match conn.recv().await {
            Some((_, ws::WsEvent::Text(text))) => judge_ws_text(&text),
            Some((_, ws::WsEvent::Binary(_))) => {
                Outcome::NotEngineIo("a binary first message".into())
            }
            Some((_, ws::WsEvent::Closed { code, reason })) => {
                Outcome::NotEngineIo(format!("closed before the open packet ({code:?} {reason})"))
            }
            None => Outcome::NotEngineIo("closed before the open packet".into()),
        }
    } else {
        let request = HttpRequest::get(path_and_query);
        match HttpClient::new(connector)
            .send(&request, &transcript, "preflight")
            .await
        {
            Ok(response) => judge_polling(response.status, &response.body),
            Err(e) => from_error(&e),
        }
    }
}

/// Tries every attempt at once, each bounded by `deadline`. `Ok` as soon as one handshake
/// works; `Err` with every attempt and its outcome when none does.
///
/// # Errors
/// No attempt got an Engine.IO handshake.
pub async fn run(
    settings: &RunSettings,
    attempts: &[Attempt],
    deadline: Duration,
) -> Result<(), Vec<(Attempt, Outcome)>> {
    if attempts.is_empty() {
        return Ok(());
    }
    let mut set = tokio::task::JoinSet::new();
    for attempt in attempts {
        let settings = settings.clone();
        let attempt = attempt.clone();
        set.spawn(async move {
            let outcome = tokio::time::timeout(deadline, try_once(&settings, &attempt))
                .await
                .unwrap_or(Outcome::Silent(deadline));
            (attempt, outcome)
        });
    }
    let mut failed = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((attempt, outcome)) = joined {
            if outcome == Outcome::Handshake {
                set.abort_all();
                return Ok(());
            }
            failed.push((attempt, outcome));
        }
    }
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    Err(failed)
}

/// The diagnosis of a failed preflight: one headline and one line per attempt.
#[must_use]
pub fn diagnose(target: &str, failed: &[(Attempt, Outcome)]) -> String {
    let all = |f: fn(&Outcome) -> bool| failed.iter().all(|(_, o)| f(o));
    let headline = if all(|o| matches!(o, Outcome::NoConnection(_))) {
        "nothing answers (no connection)"
    } else if all(|o| matches!(o, Outcome::NoConnection(_) | Outcome::Silent(_))) {
        "nothing answers (connections accepted, no complete answer before the deadline)"
    } else if failed.iter().any(|(_, o)| matches!(o, Outcome::Refused(_))) {
        "it refuses every handshake"
    } else {
        "it does not speak Engine.IO"
    };
    let mut text = format!(
        "error: preflight: target {target}: {headline}; no Engine.IO handshake worked, so no case runs\n"
    );
    for (attempt, outcome) in failed {
        let what = match outcome {
            Outcome::Handshake => "handshake".to_owned(),
            Outcome::NoConnection(e) => format!("no connection: {e}"),
            Outcome::Silent(after) => format!("no complete answer within {after:?}"),
            Outcome::NotEngineIo(e) => format!("not Engine.IO: {e}"),
            Outcome::Refused(e) => format!("refused: {e}"),
        };
        text.push_str(&format!("  tried GET {}: {what}\n", attempt.describe()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::target::Target;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn settings(url: &str) -> RunSettings {
        RunSettings {
            target: Target::parse(url, "/").expect("target"),
            explicit_path: false,
            timeout: Duration::from_millis(500),
            slack: Duration::ZERO,
            connect_timeout: Duration::from_millis(500),
            max_case_duration: Duration::from_secs(5),
        }
    }

    fn polling(eio: u8) -> Attempt {
        Attempt {
            path: "/engine.io/".into(),
            eio,
            websocket: false,
        }
    }

    #[test]
    fn judges_answers() {
        assert_eq!(
            judge_polling(200, br#"0{"sid":"a","upgrades":[]}"#),
            Outcome::Handshake
        );
        assert_eq!(
            judge_polling(200, br#"96:0{"sid":"a","upgrades":[]}"#),
            Outcome::Handshake
        );
        assert!(matches!(
            judge_polling(
                400,
                br#"{"code":5,"message":"Unsupported protocol version"}"#
            ),
            Outcome::Refused(_)
        ));
        assert!(matches!(
            judge_polling(200, b"<html>hello</html>"),
            Outcome::NotEngineIo(_)
        ));
        assert!(matches!(
            judge_polling(404, b"Not Found"),
            Outcome::NotEngineIo(_)
        ));
        assert_eq!(judge_ws_text(r#"0{"sid":"x"}"#), Outcome::Handshake);
        assert!(matches!(judge_ws_text("hello"), Outcome::NotEngineIo(_)));
    }

    #[test]
    fn diagnoses_the_kind_of_failure() {
        let silent = diagnose(
            "t",
            &[(polling(4), Outcome::Silent(Duration::from_secs(1)))],
        );
        assert!(silent.contains("nothing answers"), "{silent}");
        assert!(silent.contains("tried GET /engine.io/?EIO=4&transport=polling"));
        let refused = diagnose(
            "t",
            &[
                (polling(3), Outcome::Refused("400".into())),
                (polling(4), Outcome::NotEngineIo("404".into())),
            ],
        );
        assert!(refused.contains("refuses every handshake"), "{refused}");
        let garbage = diagnose("t", &[(polling(4), Outcome::NotEngineIo("x".into()))]);
        assert!(garbage.contains("does not speak Engine.IO"), "{garbage}");
    }

    /// A server that answers each connection with `answer` (or nothing when empty).
    async fn serve(answer: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 2048];
                    let _ = socket.read(&mut buf).await;
                    if !answer.is_empty() {
                        let _ = socket.write_all(answer).await;
                        let _ = socket.shutdown().await;
                    }
                    tokio::time::sleep(Duration::from_secs(3)).await;
                });
            }
        });
        format!("http://127.0.0.1:{port}")
    }

    #[tokio::test]
    async fn a_handshake_passes_and_silence_fails_within_the_deadline() {
        let good = serve(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 30\r\nConnection: close\r\n\r\n0{\"sid\":\"abc\",\"upgrades\":[]}  ").await;
        assert_eq!(
            run(&settings(&good), &[polling(4)], Duration::from_secs(2)).await,
            Ok(())
        );

        let silent = serve(b"").await;
        let started = std::time::Instant::now();
        let failed = run(
            &settings(&silent),
            &[polling(4), polling(3)],
            Duration::from_millis(300),
        )
        .await
        .expect_err("silent target");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(failed.len(), 2);
        assert!(
            failed.iter().all(|(_, o)| matches!(o, Outcome::Silent(_))),
            "{failed:?}"
        );

        let garbage = serve(b"SSH-2.0-OpenSSH_9.6\r\n").await;
        let failed = run(&settings(&garbage), &[polling(4)], Duration::from_secs(2))
            .await
            .expect_err("garbage");
        assert!(matches!(failed[0].1, Outcome::NotEngineIo(_)), "{failed:?}");
    }
}
