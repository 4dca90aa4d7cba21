//! Tests of `transport::http`.

use super::*;
use crate::transport::Target;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const LIMIT: Duration = Duration::from_secs(10);

/// Reads one request head (and a body announced by Content-Length) from a raw socket.
async fn read_request(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            return req;
        }
        req.extend_from_slice(&buf[..n]);
        if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&req[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
            if req.len() >= end + 4 + len {
                return req;
            }
        }
    }
}

/// One-shot raw server: answers the first request with `parts` (written separately, to
/// exercise partial reads), then closes. Yields the request bytes it received.
async fn serve_once(parts: Vec<&'static [u8]>) -> (HttpClient, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let req = read_request(&mut s).await;
        for p in parts {
            s.write_all(p).await.unwrap();
            s.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        req
    });
    (client_for(port), server)
}

fn client_for(port: u16) -> HttpClient {
    let mut target = Target::parse(&format!("http://127.0.0.1:{port}"), "/socket.io/").unwrap();
    target.add_header_arg("X-Extra: yes").unwrap();
    HttpClient::new(Connector::new(target).unwrap())
}

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test timed out")
}

#[tokio::test]
async fn content_length_body() {
    bounded(async {
            let (client, server) = serve_once(vec![
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Len",
                b"gth: 2\r\n\r\no",
                b"k",
            ])
            .await;
            let t = Transcript::new();
            let req = HttpRequest::post("/socket.io/?EIO=4&transport=polling&sid=x", "4hello")
                .with_header("Content-Type", "text/plain;charset=UTF-8");
            let resp = client.send(&req, &t, "post").await.unwrap();
            assert_eq!((resp.status, resp.reason.as_str(), resp.text()), (200, "OK", Some("ok")));
            assert_eq!(resp.content_type(), Some("text/html"));

            let sent = String::from_utf8(server.await.unwrap()).unwrap();
            let port = client.connector().target().port;
            assert_eq!(
                sent,
                format!(
                    "POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
                     X-Extra: yes\r\nContent-Type: text/plain;charset=UTF-8\r\nConnection: close\r\n\
                     Content-Length: 6\r\n\r\n4hello"
                )
            );
            let jsonl = t.to_jsonl();
            let lines: Vec<&str> = jsonl.lines().collect();
            assert_eq!(lines.len(), 2, "{jsonl}");
            assert!(lines[0].contains(r#""conn":"post","dir":"tx","kind":"http_req","data":"4hello","detail":"POST /socket.io/?EIO=4&transport=polling&sid=x""#), "{jsonl}");
            assert!(lines[1].contains(r#""dir":"rx","kind":"http_resp","data":"ok","detail":"200 text/html""#), "{jsonl}");
        })
        .await;
}

#[tokio::test]
async fn chunked_body_with_extensions_and_trailers() {
    bounded(async {
        let (client, _server) = serve_once(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"5;ext=1\r\nhel",
            b"lo\r\n6\r\n world\r\n",
            b"0\r\nX-Trailer: 1\r\n\r\n",
        ])
        .await;
        let resp = client
            .send(&HttpRequest::get("/socket.io/"), &Transcript::new(), "poll")
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.text(), Some("hello world"));
    })
    .await;
}

#[tokio::test]
async fn eof_delimited_body() {
    bounded(async {
        let (client, _server) = serve_once(vec![
            b"HTTP/1.1 400 Bad Request\r\n\r\n{\"code\":1,",
            b"\"message\":\"Session ID unknown\"}",
        ])
        .await;
        let resp = client
            .send(&HttpRequest::get("/socket.io/"), &Transcript::new(), "poll")
            .await
            .unwrap();
        assert_eq!(resp.status, 400);
        assert_eq!(
            resp.text(),
            Some(r#"{"code":1,"message":"Session ID unknown"}"#)
        );
    })
    .await;
}

#[tokio::test]
async fn body_over_limit_is_an_error() {
    bounded(async {
            let cases: [&'static [u8]; 3] = [
                b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n\r\nhello world",
            ];
            for case in cases {
                let (client, _server) = serve_once(vec![case]).await;
                let client = client.with_max_body(10);
                let err = client.send(&HttpRequest::get("/x/"), &Transcript::new(), "poll").await.unwrap_err();
                assert!(matches!(err, TransportError::BodyTooLarge { limit: 10 }), "{err}");
            }
        })
        .await;
}

#[tokio::test]
async fn malformed_and_truncated_responses() {
    bounded(async {
        let cases: [(&'static [u8], &str); 4] = [
            (b"", "before sending a response"),
            (b"garbage\r\n\r\n", "malformed"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
                "truncated: got 2 of 5",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
        ];
        for (answer, expected) in cases {
            let (client, _server) = serve_once(vec![answer]).await;
            let t = Transcript::new();
            let err = client
                .send(&HttpRequest::get("/x/"), &t, "poll")
                .await
                .unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
            assert!(t.to_jsonl().contains(r#""kind":"tcp_close""#));
        }
    })
    .await;
}

#[tokio::test]
async fn connection_refused() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let t = Transcript::new();
        let err = client_for(port)
            .send(&HttpRequest::get("/x/"), &t, "poll")
            .await
            .unwrap_err();
        assert!(
            matches!(err, TransportError::ConnectRefused { .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("127.0.0.1:{port} refused")),
            "{err}"
        );
        assert_eq!(t.len(), 1, "connect failure is noted");
    })
    .await;
}

#[tokio::test]
async fn dropped_pending_request_closes_the_connection() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // A server that never answers (a pending long-poll) and reports when the client
        // goes away.
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let req = read_request(&mut s).await;
            assert!(req.starts_with(b"GET /socket.io/?EIO=4"));
            let mut buf = [0u8; 16];
            s.read(&mut buf).await.unwrap()
        });
        let client = client_for(port);
        let t = Transcript::new();
        let req = HttpRequest::get("/socket.io/?EIO=4&transport=polling");
        let pending =
            tokio::time::timeout(Duration::from_millis(200), client.send(&req, &t, "poll")).await;
        assert!(pending.is_err(), "request should still be pending");
        assert_eq!(
            server.await.unwrap(),
            0,
            "server sees EOF once the future is dropped"
        );
        let jsonl = t.to_jsonl();
        assert!(
            jsonl.contains(r#""dir":"tx","kind":"tcp_close","detail":"request cancelled"#),
            "{jsonl}"
        );
    })
    .await;
}

#[test]
fn header_defaults_can_be_overridden_and_injection_is_refused() {
    let client = client_for(8080);
    let req = HttpRequest::new("OPTIONS", "/s/")
        .with_header("host", "evil")
        .with_header("Connection", "keep-alive");
    let head = String::from_utf8(client.request_bytes(&req).unwrap()).unwrap();
    assert_eq!(
        head,
        "OPTIONS /s/ HTTP/1.1\r\nX-Extra: yes\r\nhost: evil\r\nConnection: keep-alive\r\n\r\n"
    );
    let bad = HttpRequest::get("/s/").with_header("X", "a\r\nB: c");
    assert!(matches!(
        client.request_bytes(&bad),
        Err(TransportError::InvalidRequest(_))
    ));
    assert!(client.request_bytes(&HttpRequest::get("/s/\r\n")).is_err());
}
