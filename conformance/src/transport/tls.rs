//! TCP connect with a deadline, and TLS (tokio-rustls, ring provider) for `https` / `wss`.
//!
//! The same [`TransportStream`] carries HTTP requests and WebSocket sessions.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::{WebPkiServerVerifier, verify_server_name};
use tokio_rustls::rustls::crypto::{
    WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
};

use super::{Target, TransportError};

/// Default deadline for TCP connect plus TLS handshake.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected socket, plain or TLS.
#[derive(Debug)]
pub enum TransportStream {
    /// `http` / `ws`.
    Plain(TcpStream),
    /// `https` / `wss` (boxed: the TLS state is large).
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for TransportStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for TransportStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Opens connections to one [`Target`]. Build it once per run: the TLS configuration (root
/// store, CA file) is prepared here and shared. Cloning is cheap.
#[derive(Clone)]
pub struct Connector {
    target: Arc<Target>,
    tls: Option<TlsConnector>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `TlsConnector` has no Debug; its configuration is derived from the target anyway.
        f.debug_struct("Connector")
            .field("target", &self.target)
            .field("tls", &self.tls.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl Connector {
    /// Prepares connections to `target`; for `https` this loads the webpki roots and the
    /// target's CA file, or installs the accept-anything verifier when `insecure` is set.
    pub fn new(target: Target) -> Result<Self, TransportError> {
        let tls = if target.scheme.is_tls() {
            Some(TlsConnector::from(Arc::new(client_config(&target)?)))
        } else {
            None
        };
        Ok(Self {
            target: Arc::new(target),
            tls,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        })
    }

    /// Sets the deadline for TCP connect plus TLS handshake.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The target connections go to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Connects (and performs the TLS handshake) within the connect deadline.
    pub async fn connect(&self) -> Result<TransportStream, TransportError> {
        let deadline = tokio::time::Instant::now() + self.connect_timeout;
        let addr = self.target.authority();
        let host = self.target.host.as_str();
        let tcp = tokio::time::timeout_at(deadline, TcpStream::connect((host, self.target.port)))
            .await
            .map_err(|_| TransportError::Timeout {
                during: "tcp connect",
                after: self.connect_timeout,
            })?
            .map_err(|source| match source.kind() {
                io::ErrorKind::ConnectionRefused => {
                    TransportError::ConnectRefused { addr: addr.clone() }
                }
                _ => TransportError::Connect {
                    addr: addr.clone(),
                    source,
                },
            })?;
        // Engine.IO packets are tiny and latency is measured: do not let Nagle batch them.
        let _ = tcp.set_nodelay(true);
        let Some(tls) = &self.tls else {
            return Ok(TransportStream::Plain(tcp));
        };
        let name = ServerName::try_from(host.to_owned()).map_err(|e| TransportError::Tls {
            addr: addr.clone(),
            message: e.to_string(),
        })?;
        let stream = tokio::time::timeout_at(deadline, tls.connect(name, tcp))
            .await
            .map_err(|_| TransportError::Timeout {
                during: "tls handshake",
                after: self.connect_timeout,
            })?
            .map_err(|e| TransportError::Tls {
                addr,
                message: handshake_failure(&e, host, self.target.ca_file.as_deref()),
            })?;
        Ok(TransportStream::Tls(Box::new(stream)))
    }
}

fn client_config(target: &Target) -> Result<ClientConfig, TransportError> {
    // An explicit provider, so a second rustls backend elsewhere in the build cannot make
    // `ClientConfig::builder()` panic for want of a process default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls {
            addr: target.authority(),
            message: e.to_string(),
        })?;
    let mut config = if target.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert { algorithms }))
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier(target)?))
            .with_no_client_auth()
    };
    // Engine.IO needs HTTP/1.1 (polling and the WebSocket upgrade); never negotiate h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The verifier of a run without `--insecure`: the web PKI roots plus the `--ca-file`
/// certificates, each of which also pins itself as a server certificate.
fn verifier(target: &Target) -> Result<PinnedOrWebPki, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let pinned = match &target.ca_file {
        Some(path) => add_ca_file(&mut roots, path)?,
        None => Vec::new(),
    };
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| TransportError::Tls {
            addr: target.authority(),
            message: e.to_string(),
        })?;
    Ok(PinnedOrWebPki {
        webpki,
        pinned,
        algorithms,
    })
}

/// Adds the certificates of `path` to `roots` and returns them.
fn add_ca_file(
    roots: &mut RootCertStore,
    path: &std::path::Path,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let err = |message: String| TransportError::CaFile {
        path: path.display().to_string(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate found".to_owned()));
    }
    for cert in &certs {
        roots.add(cert.clone()).map_err(|e| err(e.to_string()))?;
    }
    Ok(certs)
}

/// Full webpki verification (web PKI roots plus the `--ca-file` certificates as trust anchors),
/// and one exception, as curl's `--cacert` has: the server's own certificate is accepted when
/// it is byte-identical to a certificate of the file and webpki refused it only for what a
/// self-signed certificate is. `openssl req -x509` marks its certificate `CA:TRUE`, which webpki
/// refuses as an end entity (`CaUsedAsEndEntity`); a self-signed certificate without `CA:TRUE`
/// passes webpki as its own trust anchor, and `UnknownIssuer` is let through to the pin too.
/// webpki finds both after it has checked the validity period, so an expired pinned
/// certificate is still refused; its extended key usage (checked after `CaUsedAsEndEntity`) is
/// not. A pinned certificate must still name the target host (in its subjectAltName, as webpki
/// does: the common name is not read), and the handshake signatures are checked against it,
/// so the server must hold its key.
#[derive(Debug)]
struct PinnedOrWebPki {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(e))
                if is_untrusted_issuer(&e)
                    && self
                        .pinned
                        .iter()
                        .any(|pin| pin.as_ref() == end_entity.as_ref()) =>
            {
                verify_server_name(&ParsedCertificate::try_from(end_entity)?, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            result => result,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The refusals of a self-signed server certificate: no trusted issuer, or (openssl's kind) a
/// CA certificate as the end entity. rustls passes webpki's `CaUsedAsEndEntity` on as an opaque
/// `Other` error whose text is the variant name; the pinning tests notice if that changes.
fn is_untrusted_issuer(error: &CertificateError) -> bool {
    match error {
        CertificateError::UnknownIssuer => true,
        CertificateError::Other(other) => other.0.to_string() == "CaUsedAsEndEntity",
        _ => false,
    }
}

/// One sentence for a failed TLS handshake with `host`: what is wrong with the certificate and
/// what to do about it; other failures keep the rustls (or I/O) text.
fn handshake_failure(error: &io::Error, host: &str, ca_file: Option<&std::path::Path>) -> String {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(e)) => certificate_failure(e, host, ca_file)
            .unwrap_or_else(|| rustls::Error::InvalidCertificate(e.clone()).to_string()),
        Some(other) => other.to_string(),
        None => error.to_string(),
    }
}

fn certificate_failure(
    error: &CertificateError,
    host: &str,
    ca_file: Option<&std::path::Path>,
) -> Option<String> {
    const INSECURE: &str = "or pass --insecure to skip certificate checks";
    Some(match error {
        e if is_untrusted_issuer(e) => {
            let trusted = match ca_file {
                Some(path) => format!("the web PKI roots and {}", path.display()),
                None => "the web PKI roots".to_owned(),
            };
            format!(
                "the server's certificate is self-signed or signed by an unknown CA (trusted \
                 are {trusted}): pass --ca-file PEM with the server's certificate or its CA, \
                 {INSECURE}"
            )
        }
        CertificateError::NotValidForName => format!(
            "the server's certificate is not valid for {host}: use a --target host it \
             names, {INSECURE}"
        ),
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names = if presented.is_empty() {
                "no name in a subjectAltName (the common name is not read)".to_owned()
            } else {
                presented
                    .iter()
                    .map(|name| presented_name(name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "the server's certificate is not valid for {host} (it names {names}): use a \
                 --target host it names, {INSECURE}"
            )
        }
        CertificateError::Expired => {
            format!("the server's certificate has expired: renew it, {INSECURE}")
        }
        CertificateError::ExpiredContext { time, not_after } => format!(
            "the server's certificate expired on {} (it is {} now): renew it, {INSECURE}",
            utc(*not_after),
            utc(*time)
        ),
        CertificateError::NotValidYet => {
            format!("the server's certificate is not valid yet: check the clocks, {INSECURE}")
        }
        CertificateError::NotValidYetContext { time, not_before } => format!(
            "the server's certificate is valid only from {} (it is {} now): check the clocks, \
             {INSECURE}",
            utc(*not_before),
            utc(*time)
        ),
        _ => return None,
    })
}

/// `DnsName("localhost")` / `IpAddress(127.0.0.1)` (webpki's debug text) as the bare name.
fn presented_name(name: &str) -> &str {
    ["DnsName(\"", "IpAddress("]
        .iter()
        .zip(["\")", ")"])
        .find_map(|(open, close)| name.strip_prefix(open)?.strip_suffix(close))
        .unwrap_or(name)
}

/// `YYYY-MM-DD HH:MM:SS UTC` (days to civil date: Howard Hinnant's algorithm).
fn utc(time: UnixTime) -> String {
    let secs = time.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days.cast_signed() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `--insecure`: any certificate chain and name are accepted, but the handshake signatures are
/// still checked, so the peer must hold the key of the certificate it presents.
#[derive(Debug)]
struct AcceptAnyCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests;
