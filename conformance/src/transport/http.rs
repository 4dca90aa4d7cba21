//! A deliberately small HTTP/1.1 client: one connection per request, `Connection: close`.
//!
//! One connection per request keeps polling semantics obvious (a pending GET owns its socket)
//! and makes cancellation trivial: dropping the future drops the socket, and the server sees
//! the connection close, exactly as when a browser aborts an XHR.

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::TransportError;
use super::tls::{Connector, TransportStream};
use super::transcript::{Dir, Transcript, WireData, WireKind};

/// Default cap on a response body (the reference `maxHttpBufferSize` is 1 MB).
pub const DEFAULT_MAX_BODY: usize = 16 << 20;
/// Cap on the status line plus headers.
const MAX_HEAD: usize = 64 << 10;
/// Cap on one chunk-size or trailer line.
const MAX_LINE: usize = 8 << 10;
const MAX_HEADERS: usize = 128;

/// An HTTP request below the target (the target supplies host, port and extra headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method, sent verbatim (`GET`, `POST`, `OPTIONS`, …).
    pub method: String,
    /// Request target, e.g. `/socket.io/?EIO=4&transport=polling`.
    pub path_and_query: String,
    /// Headers, sent after the target's `--header`s. A `Host`, `Connection` or
    /// `Content-Length` given here replaces the client's default.
    pub headers: Vec<(String, String)>,
    /// Body; `Content-Length` is added when it is non-empty or the method is POST/PUT/PATCH.
    pub body: Bytes,
}

impl HttpRequest {
    /// Request without headers or body.
    pub fn new(method: impl Into<String>, path_and_query: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path_and_query: path_and_query.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `GET path_and_query`.
    pub fn get(path_and_query: impl Into<String>) -> Self {
        Self::new("GET", path_and_query)
    }

    /// `POST path_and_query` with a body.
    pub fn post(path_and_query: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            ..Self::new("POST", path_and_query)
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase as sent.
    pub reason: String,
    /// Headers in wire order, names as sent (non-UTF-8 values are converted lossily).
    pub headers: Vec<(String, String)>,
    /// Decoded body (chunked encoding removed).
    pub body: Bytes,
}

impl HttpResponse {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The body as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// Sends [`HttpRequest`]s to one target. Cloning is cheap, so a clone can be moved into a task
/// for an `async: true` request.
#[derive(Debug, Clone)]
pub struct HttpClient {
    connector: Connector,
    max_body: usize,
}

impl HttpClient {
    /// Client with the default body limit ([`DEFAULT_MAX_BODY`]).
    pub fn new(connector: Connector) -> Self {
        Self {
            connector,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Sets the body limit; a larger response fails with [`TransportError::BodyTooLarge`].
    #[must_use]
    pub fn with_max_body(mut self, limit: usize) -> Self {
        self.max_body = limit;
        self
    }

    /// The connector (and through it the target).
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Sends one request on a fresh connection and reads the whole response.
    ///
    /// No deadline is applied beyond the connect timeout: wrap the call in
    /// `tokio::time::timeout`. Dropping the future at any point closes the connection and
    /// records a `tcp_close` note, so an abandoned long-poll is visible in the transcript.
    pub async fn send(
        &self,
        req: &HttpRequest,
        transcript: &Transcript,
        conn: &str,
    ) -> Result<HttpResponse, TransportError> {
        let wire = self.request_bytes(req)?;
        let summary = format!("{} {}", req.method, req.path_and_query);
        let mut stream = match self.connector.connect().await {
            Ok(s) => s,
            Err(e) => {
                transcript.note(conn, format!("{summary}: {e}"));
                return Err(e);
            }
        };
        let mut guard = CancelGuard {
            transcript,
            conn,
            armed: true,
        };
        // Stamp the request when it starts leaving, so a fast answer never sorts before it.
        let sent_at = Instant::now();
        let result = match write_all(&mut stream, &wire).await {
            Ok(()) => {
                let data = WireData::from_body(&req.body);
                let (dir, kind) = (Dir::Tx, WireKind::HttpRequest);
                transcript.record(sent_at, conn, dir, kind, data, Some(summary));
                let head_only = req.method.eq_ignore_ascii_case("HEAD");
                read_response(&mut stream, head_only, self.max_body).await
            }
            Err(e) => Err(e),
        };
        guard.armed = false;
        let at = Instant::now();
        match result {
            Ok(response) => {
                let detail = match response.content_type() {
                    Some(ct) => format!("{} {ct}", response.status),
                    None => response.status.to_string(),
                };
                let data = WireData::from_body(&response.body);
                let kind = WireKind::HttpResponse;
                transcript.record(at, conn, Dir::Rx, kind, data, Some(detail));
                Ok(response)
            }
            Err(e) => {
                let (kind, data) = (WireKind::TcpClose, WireData::None);
                transcript.record(at, conn, Dir::Rx, kind, data, Some(e.to_string()));
                Err(e)
            }
        }
    }

    fn request_bytes(&self, req: &HttpRequest) -> Result<Vec<u8>, TransportError> {
        let target = self.connector.target();
        let bad = |what: &str| TransportError::InvalidRequest(format!("CR or LF in {what}"));
        let has_crlf = |s: &str| s.contains(['\r', '\n']);
        if has_crlf(&req.method) || req.method.contains(' ') || req.method.is_empty() {
            return Err(TransportError::InvalidRequest(format!(
                "bad method {:?}",
                req.method
            )));
        }
        if has_crlf(&req.path_and_query) {
            return Err(bad("request target"));
        }
        let extra = target.headers.iter().chain(&req.headers);
        let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path_and_query);
        let given = |name: &str| {
            target
                .headers
                .iter()
                .chain(&req.headers)
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !given("host") {
            head.push_str(&format!("Host: {}\r\n", target.host_header()));
        }
        for (name, value) in extra {
            if has_crlf(name) || has_crlf(value) {
                return Err(bad("header"));
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !given("connection") {
            head.push_str("Connection: close\r\n");
        }
        let wants_length =
            !req.body.is_empty() || matches!(req.method.as_str(), "POST" | "PUT" | "PATCH");
        if wants_length && !given("content-length") && !given("transfer-encoding") {
            head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&req.body);
        Ok(bytes)
    }
}

/// Records the cancellation when the request future is dropped mid-flight.
struct CancelGuard<'a> {
    transcript: &'a Transcript,
    conn: &'a str,
    armed: bool,
}

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.transcript.record(
                Instant::now(),
                self.conn,
                Dir::Tx,
                WireKind::TcpClose,
                WireData::None,
                Some("request cancelled: connection closed by the runner".to_owned()),
            );
        }
    }
}

/// Writes the request (head and body in one buffer, so small requests leave in one segment).
async fn write_all(stream: &mut TransportStream, bytes: &[u8]) -> Result<(), TransportError> {
    let io = |source| TransportError::Io {
        during: "write request",
        source,
    };
    stream.write_all(bytes).await.map_err(io)?;
    stream.flush().await.map_err(io)
}

/// Reads one response head and its body.
async fn read_response(
    stream: &mut TransportStream,
    head_only: bool,
    max_body: usize,
) -> Result<HttpResponse, TransportError> {
    let mut reader = Reader {
        stream,
        buf: BytesMut::with_capacity(8 << 10),
    };
    let (status, reason, headers) = reader.read_head().await?;
    let body = if head_only || matches!(status, 101 | 204 | 304) {
        Bytes::new()
    } else if is_chunked(&headers) {
        reader.read_chunked(max_body).await?
    } else if let Some(len) = content_length(&headers)? {
        if len > max_body {
            return Err(TransportError::BodyTooLarge { limit: max_body });
        }
        reader.read_exact(len).await?
    } else {
        reader.read_to_eof(max_body).await?
    };
    Ok(HttpResponse {
        status,
        reason,
        headers,
        body,
    })
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    // Only the last transfer coding decides the framing (RFC 9112 6.3).
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(','))
        .last()
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"))
}

fn content_length(headers: &[(String, String)]) -> Result<Option<usize>, TransportError> {
    let mut found = None;
    for (_, v) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        let n = v
            .trim()
            .parse::<usize>()
            .map_err(|_| TransportError::MalformedResponse(format!("Content-Length {v:?}")))?;
        if found.is_some_and(|f| f != n) {
            return Err(TransportError::MalformedResponse(
                "conflicting Content-Length".into(),
            ));
        }
        found = Some(n);
    }
    Ok(found)
}

struct Reader<'a> {
    stream: &'a mut TransportStream,
    buf: BytesMut,
}

impl Reader<'_> {
    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    async fn fill(&mut self) -> Result<usize, TransportError> {
        self.buf.reserve(8 << 10);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(n) => Ok(n),
            // A TLS peer that closes without close_notify: treat like a plain EOF, since a
            // `Connection: close` response may legitimately end that way.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
            Err(source) => Err(TransportError::Io {
                during: "read response",
                source,
            }),
        }
    }

    async fn read_head(&mut self) -> Result<(u16, String, Vec<(String, String)>), TransportError> {
        loop {
            if !self.buf.is_empty() {
                let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Response::new(&mut storage);
                let status = parsed
                    .parse(&self.buf)
                    .map_err(|e| TransportError::MalformedResponse(e.to_string()))?;
                if let httparse::Status::Complete(len) = status {
                    let code = parsed.code.unwrap_or(0);
                    let reason = parsed.reason.unwrap_or("").to_owned();
                    let headers = parsed
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    self.buf.advance(len);
                    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
                    if (100..200).contains(&code) && code != 101 {
                        continue;
                    }
                    return Ok((code, reason, headers));
                }
            }
            if self.buf.len() > MAX_HEAD {
                return Err(TransportError::MalformedResponse(format!(
                    "response head larger than {MAX_HEAD} bytes"
                )));
            }
            if self.fill().await? == 0 {
                return Err(if self.buf.is_empty() {
                    TransportError::ClosedBeforeResponse
                } else {
                    TransportError::MalformedResponse("connection closed inside the head".into())
                });
            }
        }
    }

    async fn read_exact(&mut self, len: usize) -> Result<Bytes, TransportError> {
        while self.buf.len() < len {
            if self.fill().await? == 0 {
                return Err(TransportError::MalformedResponse(format!(
                    "body truncated: got {} of {len} bytes",
                    self.buf.len()
                )));
            }
        }
        Ok(self.buf.split_to(len).freeze())
    }

    async fn read_to_eof(&mut self, max: usize) -> Result<Bytes, TransportError> {
        loop {
            if self.buf.len() > max {
                return Err(TransportError::BodyTooLarge { limit: max });
            }
            if self.fill().await? == 0 {
                return Ok(self.buf.split().freeze());
            }
        }
    }

    async fn read_line(&mut self) -> Result<Bytes, TransportError> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(i).freeze();
                self.buf.advance(2);
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(TransportError::MalformedResponse(
                    "chunk line too long".into(),
                ));
            }
            if self.fill().await? == 0 {
                return Err(TransportError::MalformedResponse(
                    "chunked body truncated".into(),
                ));
            }
        }
    }

    async fn read_chunked(&mut self, max: usize) -> Result<Bytes, TransportError> {
        let mut body = BytesMut::new();
        loop {
            let line = self.read_line().await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| {
                    usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16).ok()
                })
                .ok_or_else(|| {
                    TransportError::MalformedResponse(format!(
                        "bad chunk size line {:?}",
                        String::from_utf8_lossy(&line)
                    ))
                })?;
            if size == 0 {
                // Trailer section: header lines up to an empty line; the runner ignores them.
                while !self.read_line().await?.is_empty() {}
                return Ok(body.freeze());
            }
            if body.len().saturating_add(size) > max {
                return Err(TransportError::BodyTooLarge { limit: max });
            }
            let chunk = self.read_exact(size + 2).await?;
            if !chunk.ends_with(b"\r\n") {
                return Err(TransportError::MalformedResponse(
                    "chunk not followed by CRLF".into(),
                ));
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

#[cfg(test)]
mod tests;
