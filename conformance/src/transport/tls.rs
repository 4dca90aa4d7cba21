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
use tokio_rustls::rustls::crypto::{
    WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, RootCertStore};

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
                message: e.to_string(),
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
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = &target.ca_file {
            add_ca_file(&mut roots, path)?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // Engine.IO needs HTTP/1.1 (polling and the WebSocket upgrade); never negotiate h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn add_ca_file(roots: &mut RootCertStore, path: &std::path::Path) -> Result<(), TransportError> {
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
    for cert in certs {
        roots.add(cert).map_err(|e| err(e.to_string()))?;
    }
    Ok(())
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
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::pki_types::PrivateKeyDer;

    // A test CA and a leaf for `localhost` / 127.0.0.1 signed by it, valid until 2126.
    const CA_PEM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/transport/testdata/ca.pem");
    const LEAF_PEM: &[u8] = include_bytes!("testdata/leaf.pem");
    const LEAF_KEY: &[u8] = include_bytes!("testdata/leaf.key");
    const LIMIT: Duration = Duration::from_secs(10);

    /// TLS server on 127.0.0.1 that answers one read with `pong`.
    async fn tls_server() -> u16 {
        let cert = CertificateDer::from_pem_slice(LEAF_PEM).unwrap();
        let key = PrivateKeyDer::from_pem_slice(LEAF_KEY).unwrap();
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(tcp).await {
                        let mut buf = [0u8; 4];
                        if tls.read_exact(&mut buf).await.is_ok() {
                            let _ = tls.write_all(b"pong").await;
                            let _ = tls.shutdown().await;
                        }
                    }
                });
            }
        });
        port
    }

    async fn roundtrip(target: Target) -> Result<Vec<u8>, TransportError> {
        let mut s = Connector::new(target)?.connect().await?;
        s.write_all(b"ping").await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        Ok(out)
    }

    #[tokio::test]
    async fn tls_insecure_default_and_ca_file() {
        tokio::time::timeout(LIMIT, async {
            let port = tls_server().await;
            let url = format!("https://127.0.0.1:{port}");
            let base = Target::parse(&url, "/socket.io/").unwrap();

            let err = roundtrip(base.clone()).await.unwrap_err();
            assert!(matches!(err, TransportError::Tls { .. }), "{err}");
            assert!(err.to_string().contains("certificate"), "{err}");

            let insecure = Target {
                insecure: true,
                ..base.clone()
            };
            assert_eq!(roundtrip(insecure).await.unwrap(), b"pong");

            let with_ca = Target {
                ca_file: Some(CA_PEM.into()),
                ..base.clone()
            };
            assert_eq!(roundtrip(with_ca).await.unwrap(), b"pong");

            let missing = Target {
                ca_file: Some("/nonexistent/ca.pem".into()),
                ..base
            };
            assert!(matches!(
                Connector::new(missing),
                Err(TransportError::CaFile { .. })
            ));
        })
        .await
        .unwrap();
    }
}
