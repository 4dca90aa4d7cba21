//! Tests of `transport::tls`.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;

// A test CA and a leaf for `localhost` / 127.0.0.1 signed by it, valid until 2126.
const CA_PEM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/transport/testdata/ca.pem");
const LEAF_PEM: &[u8] = include_bytes!("../testdata/leaf.pem");
const LEAF_KEY: &[u8] = include_bytes!("../testdata/leaf.key");
// Two self-signed certificates for 127.0.0.1 made as people make them (`CA:TRUE`), valid
// until 2126: `openssl req -x509 -newkey rsa:2048 -nodes -keyout self-signed.key
// -out self-signed.pem -days 36500 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`.
const SELF_SIGNED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/transport/testdata/self-signed.pem"
);
const SELF_SIGNED_PEM: &[u8] = include_bytes!("../testdata/self-signed.pem");
const SELF_SIGNED_KEY: &[u8] = include_bytes!("../testdata/self-signed.key");
const OTHER_PEM: &[u8] = include_bytes!("../testdata/other-self-signed.pem");
const OTHER_KEY: &[u8] = include_bytes!("../testdata/other-self-signed.key");
const LIMIT: Duration = Duration::from_secs(10);

/// TLS server on 127.0.0.1 (leaf of the test CA) that answers one read with `pong`.
async fn tls_server() -> u16 {
    serve(LEAF_PEM, LEAF_KEY).await
}

/// TLS server on 127.0.0.1 presenting `cert_pem` and signing with `key_pem` (which need not
/// be the certificate's key) that answers one read with `pong`.
async fn serve(cert_pem: &[u8], key_pem: &[u8]) -> u16 {
    /// Presents one certificate with any key: rustls' own setters refuse a mismatch.
    #[derive(Debug)]
    struct Fixed(Arc<rustls::sign::CertifiedKey>);
    impl rustls::server::ResolvesServerCert for Fixed {
        fn resolve(
            &self,
            _: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = CertificateDer::from_pem_slice(cert_pem).unwrap();
    let key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::from_pem_slice(key_pem).unwrap())
        .unwrap();
    let certified = rustls::sign::CertifiedKey::new(vec![cert], key);
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(Arc::new(certified))));
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
        assert_eq!(
            err.to_string(),
            format!(
                "TLS with 127.0.0.1:{port} failed: the server's certificate is self-signed \
                     or signed by an unknown CA (trusted are the web PKI roots): pass --ca-file \
                     PEM with the server's certificate or its CA, or pass --insecure to skip \
                     certificate checks"
            )
        );

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

fn target(host: &str, port: u16, ca_file: Option<&str>) -> Target {
    Target {
        ca_file: ca_file.map(Into::into),
        ..Target::parse(&format!("https://{host}:{port}"), "/socket.io/").unwrap()
    }
}

#[tokio::test]
async fn ca_file_pins_the_self_signed_certificate_the_server_presents() {
    tokio::time::timeout(LIMIT, async {
        let port = serve(SELF_SIGNED_PEM, SELF_SIGNED_KEY).await;
        let pinned = target("127.0.0.1", port, Some(SELF_SIGNED));
        assert_eq!(roundtrip(pinned).await.unwrap(), b"pong");

        // Without the file: refused, and the sentence says what to pass.
        let err = roundtrip(target("127.0.0.1", port, None))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("self-signed or signed by an unknown CA"),
            "{err}"
        );
        assert!(
            err.contains("--ca-file PEM with the server's certificate"),
            "{err}"
        );

        let insecure = Target {
            insecure: true,
            ..target("127.0.0.1", port, None)
        };
        assert_eq!(roundtrip(insecure).await.unwrap(), b"pong");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_pinned_certificate_must_name_the_target_host() {
    tokio::time::timeout(LIMIT, async {
        let port = serve(SELF_SIGNED_PEM, SELF_SIGNED_KEY).await;
        let err = roundtrip(target("localhost", port, Some(SELF_SIGNED)))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Tls { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "TLS with localhost:{port} failed: the server's certificate is not valid \
                     for localhost (it names 127.0.0.1): use a --target host it names, or \
                     pass --insecure to skip certificate checks"
            )
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn another_self_signed_certificate_is_still_refused() {
    tokio::time::timeout(LIMIT, async {
        let port = serve(OTHER_PEM, OTHER_KEY).await;
        let err = roundtrip(target("127.0.0.1", port, Some(SELF_SIGNED)))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Tls { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "TLS with 127.0.0.1:{port} failed: the server's certificate is self-signed \
                     or signed by an unknown CA (trusted are the web PKI roots and \
                     {SELF_SIGNED}): pass --ca-file PEM with the server's certificate or its \
                     CA, or pass --insecure to skip certificate checks"
            )
        );
        // A CA file that holds both: the pin is per certificate.
        let both = std::env::temp_dir().join(format!("sio-pins-{}.pem", std::process::id()));
        std::fs::write(&both, [SELF_SIGNED_PEM, OTHER_PEM].concat()).unwrap();
        let with_both = target("127.0.0.1", port, Some(both.to_str().unwrap()));
        assert_eq!(roundtrip(with_both).await.unwrap(), b"pong");
        let _ = std::fs::remove_file(&both);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_server_without_the_pinned_certificate_key_is_refused() {
    tokio::time::timeout(LIMIT, async {
        // Presents the pinned certificate but signs the handshake with another key.
        let port = serve(SELF_SIGNED_PEM, OTHER_KEY).await;
        let err = roundtrip(target("127.0.0.1", port, Some(SELF_SIGNED)))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Tls { .. }), "{err}");
        assert!(err.to_string().contains("BadSignature"), "{err}");
    })
    .await
    .unwrap();
}

#[test]
fn expired_certificates_are_explained() {
    let verifier = verifier(&target("127.0.0.1", 443, Some(SELF_SIGNED))).unwrap();
    let cert = CertificateDer::from_pem_slice(SELF_SIGNED_PEM).unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    // 2200-01-01 00:00:00 UTC, after the test certificates' end in 2126.
    let later = UnixTime::since_unix_epoch(Duration::from_secs(7_258_118_400));
    let Err(rustls::Error::InvalidCertificate(e)) =
        verifier.verify_server_cert(&cert, &[], &name, &[], later)
    else {
        panic!("an expired pinned certificate was accepted");
    };
    let sentence = certificate_failure(&e, "127.0.0.1", None).unwrap();
    assert!(
        sentence.starts_with("the server's certificate expired on 2126-"),
        "{sentence}"
    );
    assert!(
        sentence.ends_with(
            " (it is 2200-01-01 00:00:00 UTC now): renew it, or pass --insecure to skip \
                 certificate checks"
        ),
        "{sentence}"
    );
    assert_eq!(
        utc(UnixTime::since_unix_epoch(Duration::from_secs(951_827_696))),
        "2000-02-29 12:34:56 UTC"
    );
}
