//! The server under test, as given by `--target`, `--header`, `--insecure` and `--ca-file`.
//!
//! The URL is parsed by hand: only `http` / `https` with an authority and an optional path are
//! accepted, which is all the runner needs (the `url` crate would pull in a large unicode stack).

use std::fmt;
use std::path::PathBuf;

/// URL scheme of a target. WebSocket URLs are derived from it (`ws` / `wss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain TCP.
    Http,
    /// TLS.
    Https,
}

impl Scheme {
    /// Port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    /// Whether connections use TLS.
    pub fn is_tls(self) -> bool {
        self == Self::Https
    }
}

/// A parsed `--target`, plus the connection options that apply to every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or IP address, IPv6 without brackets (`::1`).
    pub host: String,
    /// TCP port (the scheme's default when the URL has none).
    pub port: u16,
    /// Path prefix of the server, always starting and ending with `/` (e.g. `/socket.io/`).
    pub path: String,
    /// Extra headers sent with every HTTP request and WebSocket upgrade (`--header`).
    pub headers: Vec<(String, String)>,
    /// Accept any server certificate (`--insecure`).
    pub insecure: bool,
    /// PEM file whose certificates are trusted in addition to the webpki roots (`--ca-file`).
    pub ca_file: Option<PathBuf>,
}

/// Why a `--target` URL or `--header` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Scheme other than `http://` / `https://` (or none at all).
    UnsupportedScheme(String),
    /// Nothing between `://` and the path.
    MissingHost,
    /// Userinfo, bad IPv6 literal, or a character that cannot appear in a host.
    InvalidHost(String),
    /// Port that is not a number in 1..=65535.
    InvalidPort(String),
    /// Fragments are meaningless for the runner; query strings belong to the fixtures.
    UnexpectedSuffix(String),
    /// `--header` without `Name: value` shape.
    InvalidHeader(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedScheme(s) => {
                write!(
                    f,
                    "target URL must start with http:// or https:// (got {s:?})"
                )
            }
            Self::MissingHost => write!(f, "target URL has no host"),
            Self::InvalidHost(h) => write!(f, "invalid host in target URL: {h:?}"),
            Self::InvalidPort(p) => write!(f, "invalid port in target URL: {p:?}"),
            Self::UnexpectedSuffix(s) => write!(
                f,
                "target URL must not contain a query or fragment ({s:?}); fixtures supply queries"
            ),
            Self::InvalidHeader(h) => {
                write!(f, "invalid --header {h:?}: expected 'Name: value'")
            }
        }
    }
}

impl std::error::Error for TargetError {}

impl Target {
    /// Parses `http(s)://host[:port][/path]`. `default_path` (e.g. `/socket.io/`) is used when the
    /// URL has no path or just `/`. The stored path always ends with `/` because the reference
    /// server matches by prefix *including* the slash (`/engine.io?…` is not handled at all).
    pub fn parse(url: &str, default_path: &str) -> Result<Self, TargetError> {
        let url = url.trim();
        let (scheme, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (Scheme::Https, rest)
        } else {
            let shown = url.split("://").next().unwrap_or(url);
            return Err(TargetError::UnsupportedScheme(shown.to_owned()));
        };
        if let Some(i) = rest.find(['?', '#']) {
            return Err(TargetError::UnexpectedSuffix(rest[i..].to_owned()));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (host, port) = split_authority(authority)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n != 0 => n,
                _ => return Err(TargetError::InvalidPort(p.to_owned())),
            },
        };
        let path = if path.is_empty() || path == "/" {
            default_path
        } else {
            path
        };
        Ok(Self {
            scheme,
            host,
            port,
            path: normalize_path(path),
            headers: Vec::new(),
            insecure: false,
            ca_file: None,
        })
    }

    /// Adds a `--header 'Name: value'` argument.
    pub fn add_header_arg(&mut self, arg: &str) -> Result<(), TargetError> {
        let invalid = || TargetError::InvalidHeader(arg.to_owned());
        let (name, value) = arg.split_once(':').ok_or_else(invalid)?;
        let name = name.trim();
        // RFC 9110 token characters only: anything else would corrupt the request head.
        let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(is_token) || value.contains(['\r', '\n']) {
            return Err(invalid());
        }
        self.headers
            .push((name.to_owned(), value.trim().to_owned()));
        Ok(())
    }

    /// `host` as written in a URL or `Host` header: IPv6 literals in brackets.
    pub fn host_for_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// Value of the `Host` header: the port is omitted when it is the scheme's default.
    pub fn host_header(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host_for_url()
        } else {
            format!("{}:{}", self.host_for_url(), self.port)
        }
    }

    /// `host:port` for messages and socket addresses (IPv6 in brackets).
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host_for_url(), self.port)
    }

    /// Request target below the server path: `path_and_query("EIO=4&transport=polling")` gives
    /// `/socket.io/?EIO=4&transport=polling`. An empty query gives just the path.
    pub fn path_and_query(&self, query: &str) -> String {
        let query = query.strip_prefix('?').unwrap_or(query);
        if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{query}", self.path)
        }
    }

    /// Absolute `http(s)://` URL for a request target from [`Target::path_and_query`].
    pub fn http_url(&self, path_and_query: &str) -> String {
        let scheme = if self.scheme.is_tls() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}{path_and_query}", self.authority())
    }

    /// Absolute `ws(s)://` URL for a request target from [`Target::path_and_query`].
    pub fn ws_url(&self, path_and_query: &str) -> String {
        let scheme = if self.scheme.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}{path_and_query}", self.authority())
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `host[:port]` / `[v6][:port]`; returns the host without brackets.
fn split_authority(authority: &str) -> Result<(String, Option<&str>), TargetError> {
    if authority.is_empty() {
        return Err(TargetError::MissingHost);
    }
    if authority.contains('@') {
        return Err(TargetError::InvalidHost(authority.to_owned()));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| TargetError::InvalidHost(authority.to_owned()))?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(TargetError::InvalidHost(authority.to_owned()));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| TargetError::InvalidHost(authority.to_owned()))?,
            ),
        };
        (v6.to_owned(), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
        if host.is_empty() {
            return Err(TargetError::MissingHost);
        }
        if !host.chars().all(host_char) {
            return Err(TargetError::InvalidHost(host.to_owned()));
        }
        (host.to_ascii_lowercase(), port)
    };
    Ok((host, port))
}

fn normalize_path(path: &str) -> String {
    let mut p = String::with_capacity(path.len() + 2);
    if !path.starts_with('/') {
        p.push('/');
    }
    p.push_str(path);
    if !p.ends_with('/') {
        p.push('/');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let t = Target::parse("http://127.0.0.1:3000", "/socket.io/").unwrap();
        assert_eq!(
            (t.scheme, t.host.as_str(), t.port),
            (Scheme::Http, "127.0.0.1", 3000)
        );
        assert_eq!(t.path, "/socket.io/");

        let t = Target::parse("https://Example.com/", "/engine.io/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("example.com", 443, "/engine.io/")
        );
        assert_eq!(t.host_header(), "example.com");

        let t = Target::parse("http://[::1]:8080/custom", "/socket.io/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/custom/")
        );
        assert_eq!(t.host_header(), "[::1]:8080");
        assert_eq!(
            t.ws_url(&t.path_and_query("EIO=4&transport=websocket")),
            "ws://[::1]:8080/custom/?EIO=4&transport=websocket"
        );

        let t = Target::parse("http://localhost", "/socket.io/").unwrap();
        assert_eq!((t.port, t.authority()), (80, "localhost:80".to_owned()));
        assert_eq!(
            t.http_url(&t.path_and_query("")),
            "http://localhost:80/socket.io/"
        );
        assert_eq!(t.path_and_query("?EIO=3"), "/socket.io/?EIO=3");
    }

    #[test]
    fn rejects_bad_urls() {
        let p = |u: &str| Target::parse(u, "/socket.io/").unwrap_err();
        assert!(matches!(p("ws://x"), TargetError::UnsupportedScheme(_)));
        assert!(matches!(
            p("localhost:3000"),
            TargetError::UnsupportedScheme(_)
        ));
        assert_eq!(p("http://"), TargetError::MissingHost);
        assert_eq!(p("http://:80/"), TargetError::MissingHost);
        assert!(matches!(p("http://h:0"), TargetError::InvalidPort(_)));
        assert!(matches!(p("http://h:99999"), TargetError::InvalidPort(_)));
        assert!(matches!(p("http://u@h"), TargetError::InvalidHost(_)));
        assert!(matches!(p("http://[zz]:1"), TargetError::InvalidHost(_)));
        assert!(matches!(
            p("http://h/x?EIO=4"),
            TargetError::UnexpectedSuffix(_)
        ));
        assert!(p("ftp://h").to_string().contains("http://"));
    }

    #[test]
    fn header_args() {
        let mut t = Target::parse("http://h", "/socket.io/").unwrap();
        t.add_header_arg("Authorization: Bearer x:y").unwrap();
        assert_eq!(
            t.headers,
            vec![("Authorization".to_owned(), "Bearer x:y".to_owned())]
        );
        assert!(t.add_header_arg("no colon").is_err());
        assert!(t.add_header_arg("Bad Name: v").is_err());
        assert!(t.add_header_arg("X: a\r\nInjected: 1").is_err());
    }
}
