//! The HTTP/1.1 the server needs: read one request head (and body), write one response. One
//! request per connection (`Connection: close`), which is what the runner sends.

use bytes::Bytes;
use sio_codec::engineio::server as session;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its head or body.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request head.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Query,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
    /// Bytes read after the head (the start of the body).
    pub(crate) leftover: Vec<u8>,
}

impl Request {
    /// First value of a header (by lower-case name).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request asks for a WebSocket upgrade.
    pub(crate) fn is_websocket_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }

    /// Whether the body is declared as `application/octet-stream`.
    pub(crate) fn is_octet_stream(&self) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.to_ascii_lowercase().contains("octet-stream"))
    }

    /// What the Engine.IO session reads of the request (the query's values decoded, the
    /// last of a repeated name).
    pub(crate) fn session_request(&self) -> session::Request<'_> {
        let query = &self.query;
        let mut request = session::Request::from_query(&self.method, "");
        request.websocket = self.is_websocket_upgrade();
        request.eio = query.get("EIO");
        request.transport = query.get("transport");
        request.sid = query.get("sid");
        request.b64 = query.get("b64");
        request.jsonp = query.get("j");
        request.content_type = self.header("content-type");
        request
    }
}

/// Query parameters in order; lookups take the last value (as the reference does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

impl Query {
    /// Parses `a=1&b=%20`: `+` is a space, `%XX` a byte (URLSearchParams rules).
    pub(crate) fn parse(text: &str) -> Self {
        Self(
            text.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (form_decode(name), form_decode(value))
                })
                .collect(),
        )
    }

    /// The last value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters as a JSON object (name → string, last value wins).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, value) in &self.0 {
            map.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
        serde_json::Value::Object(map)
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; invalid
/// escapes stay as they are and invalid UTF-8 is replaced.
pub(crate) fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(hex_pair);
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte of two hex digits.
fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    let value = digit(*pair.first()?)? * 16 + digit(*pair.get(1)?)?;
    u8::try_from(value).ok()
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client went away or sent nothing in time.
    Gone,
    /// Not HTTP, or a head over the limit.
    Malformed,
    /// A body over the limit (the request is answered 413).
    TooLarge,
}

/// Reads one request head.
pub(crate) async fn read_request(stream: &mut TcpStream) -> Result<Request, ReadError> {
    tokio::time::timeout(READ_TIMEOUT, read_head(stream))
        .await
        .unwrap_or(Err(ReadError::Gone))
}

async fn read_head(stream: &mut TcpStream) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    // Bounded: every round adds at least one byte and the head is capped at MAX_HEAD.
    loop {
        let n = stream.read(&mut chunk).await.map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return Err(ReadError::Gone);
        }
        buf.extend_from_slice(&chunk[..n]);
        match Request::parse(&buf)? {
            Some(request) => return Ok(request),
            None if buf.len() < MAX_HEAD => {}
            None => return Err(ReadError::Malformed),
        }
    }
}

impl Request {
    /// Parses a request head from the bytes read so far: `None` while it is incomplete.
    pub(crate) fn parse(buf: &[u8]) -> Result<Option<Self>, ReadError> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        let len = match parsed.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(ReadError::Malformed),
        };
        let target = parsed.path.unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Ok(Some(Self {
            method: parsed.method.unwrap_or("GET").to_owned(),
            path: path.to_owned(),
            query: Query::parse(query),
            headers: parsed
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8_lossy(h.value).trim().to_owned();
                    (h.name.to_ascii_lowercase(), value)
                })
                .collect(),
            leftover: buf[len..].to_vec(),
        }))
    }
}

/// The largest refused body that is still read to its end before the 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Reads the body announced by `Content-Length` (none without it), refusing more than
/// `limit` bytes (read and dropped).
pub(crate) async fn read_body(
    stream: &mut TcpStream,
    request: &Request,
    limit: usize,
) -> Result<Bytes, ReadError> {
    let length = match request.header("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| ReadError::Malformed)?,
    };
    if length > limit {
        // Read the body anyway (up to a sane bound): closing with unread data would reset the
        // connection, and the client would never see the 413.
        if length <= DRAIN_LIMIT {
            let unread = length.saturating_sub(request.leftover.len());
            let drain = async {
                let mut chunk = [0u8; 8192];
                let mut left = unread;
                // Bounded: each round reads at least one byte, up to `unread`.
                while left > 0 {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            };
            let _ = tokio::time::timeout(READ_TIMEOUT, drain).await;
        }
        return Err(ReadError::TooLarge);
    }
    let mut body = request.leftover.clone();
    body.truncate(length);
    let mut chunk = [0u8; 8192];
    let read = async {
        // Bounded: each round adds at least one byte, up to `length`.
        while body.len() < length {
            let n = stream.read(&mut chunk).await.map_err(|_| ReadError::Gone)?;
            if n == 0 {
                return Err(ReadError::Gone);
            }
            let take = n.min(length - body.len());
            body.extend_from_slice(&chunk[..take]);
        }
        Ok(())
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .unwrap_or(Err(ReadError::Gone))?;
    Ok(Bytes::from(body))
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
    /// `Access-Control-Allow-Origin: *` goes out (the contract enables CORS for any origin).
    pub(crate) cors: bool,
}

impl Response {
    /// A response with a body of `content_type`.
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: body.into(),
            cors: true,
        }
    }

    /// The Engine.IO session's answer.
    pub(crate) fn from_session(response: session::Response) -> Self {
        match response.content_type {
            Some(content_type) => Self::new(response.status, content_type, response.body),
            None => Self::empty(response.status),
        }
    }

    /// A response without a body.
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            cors: true,
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The same response without any CORS header (`no-cors`).
    pub(crate) fn without_cors(mut self) -> Self {
        self.cors = false;
        self.headers
            .retain(|(name, _)| !name.to_ascii_lowercase().starts_with("access-control-"));
        self
    }

    /// The bytes on the wire (CORS for any origin, as the contract requires).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        if self.cors {
            head.push_str("Access-Control-Allow-Origin: *\r\n");
        }
        head.push_str("Connection: close\r\n\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// Writes the response and closes the connection (errors mean the client is gone).
    pub(crate) async fn write(&self, stream: &mut TcpStream) {
        let _ = stream.write_all(&self.to_bytes()).await;
        let _ = stream.shutdown().await;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        _ => "Internal Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_like_urlsearchparams() {
        let query = Query::parse("EIO=4&a=1&a=2&name=hello+w%C3%B6rld&bad=%zz&flag");
        assert_eq!(query.get("EIO"), Some("4"));
        assert_eq!(query.get("a"), Some("2"));
        assert_eq!(query.get("name"), Some("hello wörld"));
        assert_eq!(query.get("bad"), Some("%zz"));
        assert_eq!(query.get("flag"), Some(""));
        assert_eq!(query.get("missing"), None);
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%4"), "%4");
        assert_eq!(query.to_json()["a"], "2");
    }

    #[test]
    fn request_heads_parse_when_complete() {
        let head = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: WebSocket\r\n";
        assert!(matches!(Request::parse(head), Ok(None)));
        let mut full = head.to_vec();
        full.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\nbody");
        let request = Request::parse(&full).unwrap().unwrap();
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("GET", "/socket.io/")
        );
        assert_eq!(request.query.get("transport"), Some("websocket"));
        assert!(request.is_websocket_upgrade() && request.is_octet_stream());
        assert_eq!(request.leftover, b"body");
        assert!(matches!(
            Request::parse(b"\x00\x01 nonsense\r\n\r\n"),
            Err(ReadError::Malformed)
        ));
    }

    #[test]
    fn responses_carry_length_cors_and_close() {
        let text = String::from_utf8(
            Response::from_session(session::Refusal::UnknownSid.polling_response()).to_bytes(),
        )
        .unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(text.contains("Content-Type: application/json\r\n"));
        assert!(text.contains("Access-Control-Allow-Origin: *\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"code\":1,\"message\":\"Session ID unknown\"}"));
        let bare = Response::empty(204)
            .with_header("Access-Control-Allow-Methods", "GET,POST")
            .without_cors();
        let text = String::from_utf8(bare.to_bytes()).unwrap();
        assert!(
            !text.to_ascii_lowercase().contains("access-control-"),
            "{text}"
        );
        assert!(text.ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n"));
    }
}
