//! `conformance run --ca-file` end to end against a TLS server that presents a self-signed
//! certificate made with `openssl req -x509` (issue 15): the file that holds the certificate
//! lets the handshake through (preflight then finds no Engine.IO, which is this server's
//! truth), another file stops it with the sentence that says what to pass.

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/transport/testdata")
        .join(name)
}

/// A TLS server on 127.0.0.1 with `self-signed.pem` that answers every request with a 404.
async fn not_engine_io_over_tls() -> u16 {
    let cert = CertificateDer::from_pem_file(testdata("self-signed.pem")).unwrap();
    let key = PrivateKeyDer::from_pem_file(testdata("self-signed.key")).unwrap();
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
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        concat!(
                            "HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n",
                            "connection: close\r\n\r\nnot here\n"
                        )
                        .as_bytes(),
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn run(port: u16, extra: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .current_dir(std::env::temp_dir())
        .args(["run", "--target", &format!("https://127.0.0.1:{port}")])
        .args(["--timeout", "2s"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn ca_file_with_the_self_signed_server_certificate_gets_through_the_handshake() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let port = runtime.block_on(not_engine_io_over_tls());
    let pinned = testdata("self-signed.pem");
    let other = testdata("other-self-signed.pem");

    for extra in [
        vec!["--ca-file", pinned.to_str().unwrap()],
        vec!["--insecure"],
    ] {
        let output = run(port, &extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("it does not speak Engine.IO"),
            "{extra:?}: {stderr}"
        );
        assert!(stderr.contains("not Engine.IO: 404"), "{extra:?}: {stderr}");
        assert!(!stderr.contains("TLS with"), "{extra:?}: {stderr}");
    }

    // The run's reachability check (a TCP connect and TLS handshake before preflight) stops
    // it, with the sentence.
    let output = run(port, &["--ca-file", other.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            ": TLS with 127.0.0.1:{port} failed: the server's certificate is self-signed or \
             signed by an unknown CA (trusted are the web PKI roots and {}): pass --ca-file PEM \
             with the server's certificate or its CA, or pass --insecure to skip certificate \
             checks\n",
            other.display()
        )),
        "{stderr}"
    );
}
