//! Real sockets on 127.0.0.1 for the client's production transport: a tiny HTTP/1.1 server
//! (plain or TLS) that records every request it reads and answers with a script, one request
//! per connection. Nothing here ever connects anywhere but loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as it arrived on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub(crate) method: String,
    /// The request-target exactly as sent (origin form).
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Captured {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A complete HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn new(
        status: u16,
        headers: Vec<(String, String)>,
        body: impl Into<Vec<u8>>,
    ) -> Answer {
        Answer {
            status,
            headers,
            body: body.into(),
        }
    }

    fn to_bytes(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} Scripted\r\n", self.status).into_bytes();
        for (n, v) in &self.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        out.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

pub(crate) type Script = Arc<dyn Fn(&Captured) -> Answer + Send + Sync>;

/// What a server saw.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) requests: Mutex<Vec<Captured>>,
    /// TCP connections accepted.
    pub(crate) connections: AtomicUsize,
    /// TLS handshakes that failed (the client refused the certificate, ...).
    pub(crate) failed_handshakes: AtomicUsize,
}

impl Log {
    pub(crate) fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }
}

/// A running server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) log: Arc<Log>,
}

impl Server {
    pub(crate) fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Captured> {
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&buf[..n]);
        let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&pending[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let method = first.next()?.to_owned();
        let target = first.next()?.to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
        while pending.len() < end + 4 + length {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            pending.extend_from_slice(&buf[..n]);
        }
        return Some(Captured {
            method,
            target,
            headers,
            body: pending[end + 4..end + 4 + length].to_vec(),
        });
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    script: &Script,
    log: &Log,
    keep_alive: bool,
) {
    loop {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        log.requests.lock().unwrap().push(request.clone());
        let answer = script(&request);
        if stream
            .write_all(&answer.to_bytes(keep_alive))
            .await
            .is_err()
            || !keep_alive
        {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// A plain-HTTP server on 127.0.0.1 that closes each connection after one exchange.
pub(crate) async fn http_server(script: Script) -> Server {
    plain_server(script, false).await
}

/// A plain-HTTP server on 127.0.0.1 that keeps connections open for more requests.
pub(crate) async fn keep_alive_server(script: Script) -> Server {
    plain_server(script, true).await
}

async fn plain_server(script: Script, keep_alive: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Log::default());
    let shared = log.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            shared.connections.fetch_add(1, Ordering::SeqCst);
            let (script, log) = (script.clone(), shared.clone());
            tokio::spawn(async move { exchange(sock, &script, &log, keep_alive).await });
        }
    });
    Server { addr, log }
}

/// A certificate authority made for one test, and a server certificate it issued.
pub(crate) struct TestPki {
    /// The CA certificate, PEM: what a client must trust.
    pub(crate) ca_pem: String,
    /// The server's chain (leaf, then CA), DER.
    pub(crate) chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The server's key, PKCS#8 DER.
    pub(crate) key_der: Vec<u8>,
}

/// A fresh CA and a leaf certificate for `names` (DNS names or IP addresses) signed by it.
pub(crate) fn test_pki(names: &[&str]) -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "goldplan TLS test CA (never trust)");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    TestPki {
        ca_pem: ca_cert.pem(),
        chain: vec![leaf.der().clone(), ca_cert.der().clone()],
        key_der: leaf_key.serialize_der(),
    }
}

/// A TLS server (rustls, HTTP/1.1 only) on 127.0.0.1 presenting `pki`'s certificate.
pub(crate) async fn tls_server(pki: &TestPki, script: Script) -> Server {
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.clone().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Log::default());
    let shared = log.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            shared.connections.fetch_add(1, Ordering::SeqCst);
            let (script, log, acceptor) = (script.clone(), shared.clone(), acceptor.clone());
            tokio::spawn(async move {
                match acceptor.accept(sock).await {
                    Ok(tls) => exchange(tls, &script, &log, false).await,
                    Err(_) => {
                        log.failed_handshakes.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    Server { addr, log }
}
