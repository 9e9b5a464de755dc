//! A scripted WeChat Pay gateway as a `Transport`: it checks every request signature and
//! signs its answers like WeChat Pay, and plays faults queued by the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::certificates::encrypt_certificate_entry;
use goldplan::client::RetryPolicy;
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::http::{HttpRequest, HttpResponse, Transport, TransportFuture};
use goldplan::sign::{Authorization, message_to_sign, sign_base64};
use goldplan::verify::{PublicKeyVerifier, Verifier, message_to_verify};
use goldplan::x509::Certificate;
use goldplan::{Client, Error};

pub(crate) const MCHID: &str = "1900000100";
pub(crate) const SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD12345678";
pub(crate) const APIV3: &str = "0123456789abcdefghijklmnopqrstuv";
pub(crate) const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000000001";
pub(crate) const PRIMARY: &str = "http://127.0.0.1:9";
pub(crate) const BACKUP: &str = "http://127.0.0.2:9";

pub(crate) fn key_file(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/keys")
            .join(name),
    )
    .unwrap()
}

/// A signing identity of the fake WeChat Pay.
pub(crate) struct WechatKey {
    serial: String,
    key: PrivateKey,
    cert: Option<Certificate>,
}

pub(crate) fn platform(n: u8) -> WechatKey {
    let (k, c) = match n {
        1 => ("platform_test_key.pem", "platform_test_cert.pem"),
        _ => ("platform2_test_key.pem", "platform2_test_cert.pem"),
    };
    let cert = Certificate::from_pem(&key_file(c)).unwrap();
    WechatKey {
        serial: cert.serial_hex().to_owned(),
        key: PrivateKey::from_pem(&key_file(k)).unwrap(),
        cert: Some(cert),
    }
}

pub(crate) fn public_key_identity() -> WechatKey {
    WechatKey {
        serial: PUB_KEY_ID.to_owned(),
        key: PrivateKey::from_pem(&key_file("wechatpay_test_pubkey_key.pem")).unwrap(),
        cert: None,
    }
}

/// What the gateway does with the next matching request.
#[derive(Clone, Debug)]
pub(crate) enum Fault {
    Status(u16, &'static str),
    /// A status with a `Retry-After: <seconds>` header.
    StatusRetryAfter(u16, &'static str, u64),
    ConnectRefused,
    Timeout,
    BadSignature,
    SignWith(u8),
}

pub(crate) struct Gateway {
    /// Keys listed by /v3/certificates.
    pub(crate) listed: Mutex<Vec<u8>>,
    /// Which key signs ordinary responses: 1/2 platform certificates, 0 the public key.
    pub(crate) signing: Mutex<u8>,
    pub(crate) faults: Mutex<VecDeque<Fault>>,
    pub(crate) requests: Mutex<Vec<HttpRequest>>,
    pub(crate) downloads: AtomicUsize,
    pub(crate) merchant: PublicKeyVerifier,
    pub(crate) now: i64,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gateway")
    }
}

impl Gateway {
    pub(crate) fn new(signing: u8) -> Arc<Gateway> {
        let merchant = PublicKeyVerifier::from_pem(
            "PUB_KEY_ID_merchant",
            &key_file("merchant_test_pubkey.pem"),
        )
        .unwrap();
        Arc::new(Gateway {
            listed: Mutex::new(vec![1]),
            signing: Mutex::new(signing),
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            downloads: AtomicUsize::new(0),
            merchant,
            now: goldplan::clock::Clock::now(&goldplan::clock::SystemClock),
        })
    }

    pub(crate) fn push(&self, fault: Fault, times: usize) {
        let mut q = self.faults.lock().unwrap();
        for _ in 0..times {
            q.push_back(fault.clone());
        }
    }

    pub(crate) fn requests(&self) -> Vec<HttpRequest> {
        self.requests.lock().unwrap().clone()
    }

    pub(crate) fn business_requests(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| !r.url.contains("/v3/certificates"))
            .count()
    }

    fn identity(n: u8) -> WechatKey {
        if n == 0 {
            public_key_identity()
        } else {
            platform(n)
        }
    }

    fn signed(&self, status: u16, body: &str, signer: u8, corrupt: bool) -> HttpResponse {
        let id = Gateway::identity(signer);
        let ts = self.now.to_string();
        let nonce = "n0nce".repeat(6);
        let mut sig =
            sign_base64(&id.key, &message_to_verify(&ts, &nonce, body.as_bytes())).unwrap();
        if corrupt {
            sig = STANDARD.encode([7u8; 256]);
        }
        let mut headers = vec![
            (
                "Request-ID".to_owned(),
                format!("req-{}", self.requests.lock().unwrap().len()),
            ),
            ("wechatpay-timestamp".to_owned(), ts),
            ("Wechatpay-Nonce".to_owned(), nonce),
            ("Wechatpay-Serial".to_owned(), id.serial.clone()),
            ("Wechatpay-Signature".to_owned(), sig),
            (
                "Wechatpay-Signature-Type".to_owned(),
                "WECHATPAY2-SHA256-RSA2048".to_owned(),
            ),
        ];
        if !body.is_empty() {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn answer(&self, req: &HttpRequest) -> goldplan::Result<HttpResponse> {
        // Every request must carry a valid merchant signature over exactly the sent bytes.
        let auth = req
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .unwrap();
        let auth = Authorization::parse(&auth.1).unwrap();
        assert_eq!(auth.mchid, MCHID);
        assert_eq!(auth.serial_no, SERIAL);
        let path = req
            .url
            .split_once("127.0.0.")
            .unwrap()
            .1
            .split_once('/')
            .map(|(_, p)| format!("/{p}"))
            .unwrap();
        let signed_body = if path == "/v3/merchant/media/upload" {
            let text = String::from_utf8_lossy(&req.body).to_string();
            let meta = text
                .split("\r\n\r\n")
                .nth(1)
                .unwrap()
                .split("\r\n")
                .next()
                .unwrap()
                .to_owned();
            meta.into_bytes()
        } else {
            req.body.clone()
        };
        let msg = message_to_sign(
            &req.method,
            &path,
            auth.timestamp,
            &auth.nonce_str,
            &signed_body,
        )
        .unwrap();
        self.merchant
            .verify(
                "PUB_KEY_ID_merchant",
                &msg,
                &STANDARD.decode(&auth.signature).unwrap(),
            )
            .expect("the client's request signature must verify");
        for h in ["Accept", "User-Agent"] {
            assert!(req.headers.iter().any(|(n, _)| n == h), "missing {h}");
        }

        let signer = *self.signing.lock().unwrap();
        let fault = self.faults.lock().unwrap().pop_front();
        match fault {
            Some(Fault::ConnectRefused) if req.url.starts_with(PRIMARY) => {
                return Err(Error::Transport {
                    message: "connection refused".into(),
                    before_response: true,
                    source: None,
                });
            }
            Some(Fault::ConnectRefused) => {}
            Some(Fault::Timeout) => return Err(Error::Timeout("scripted".into())),
            Some(Fault::Status(status, body)) => {
                return Ok(HttpResponse {
                    status,
                    headers: vec![("Request-ID".into(), "err-1".into())],
                    body: body.as_bytes().to_vec(),
                });
            }
            Some(Fault::StatusRetryAfter(status, body, secs)) => {
                return Ok(HttpResponse {
                    status,
                    headers: vec![
                        ("Request-ID".into(), "err-1".into()),
                        ("Retry-After".into(), secs.to_string()),
                    ],
                    body: body.as_bytes().to_vec(),
                });
            }
            Some(Fault::BadSignature) => return Ok(self.answer_ok(&path, signer, true)),
            Some(Fault::SignWith(n)) => return Ok(self.answer_ok(&path, n, false)),
            None => {}
        }
        Ok(self.answer_ok(&path, signer, false))
    }

    fn answer_ok(&self, path: &str, signer: u8, corrupt: bool) -> HttpResponse {
        match path {
            "/v3/certificates?algorithm_type=RSA" => {
                self.downloads.fetch_add(1, Ordering::SeqCst);
                let key = ApiV3Key::new(APIV3).unwrap();
                let data: Vec<_> = self
                    .listed
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|n| {
                        let id = platform(*n);
                        encrypt_certificate_entry(
                            id.cert.as_ref().unwrap(),
                            &key,
                            "abcdefghijkl",
                            "2024-01-01T08:00:00+08:00",
                            "2029-01-01T08:00:00+08:00",
                        )
                        .unwrap()
                    })
                    .collect();
                let body = serde_json::json!({ "data": data }).to_string();
                // The list is signed by the newest listed certificate (it may be new to the client).
                let signer = *self.listed.lock().unwrap().last().unwrap();
                self.signed(200, &body, signer, corrupt)
            }
            "/v3/goldplan/merchants/changegoldplanstatus"
            | "/v3/goldplan/merchants/changecustompagestatus" => {
                self.signed(200, r#"{"sub_mchid":"1900000109"}"#, signer, corrupt)
            }
            "/v3/merchant/media/upload" => {
                self.signed(200, r#"{"media_id":"m-1"}"#, signer, corrupt)
            }
            _ => self.signed(204, "", signer, corrupt),
        }
    }
}

impl Transport for Gateway {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        self.requests.lock().unwrap().push(request.clone());
        let result = self.answer(&request);
        Box::pin(async move { result })
    }
}

pub(crate) fn credentials() -> MerchantCredentials {
    MerchantCredentials::new(
        MCHID,
        SERIAL,
        PrivateKey::from_pem(&key_file("merchant_test_key.pem")).unwrap(),
    )
    .unwrap()
}

pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

pub(crate) fn certificate_client(gw: &Arc<Gateway>) -> Client {
    Client::builder()
        .credentials(credentials())
        .apiv3_key(ApiV3Key::new(APIV3).unwrap())
        .base_url(PRIMARY)
        .backup_url(Some(BACKUP.to_owned()))
        .transport(gw.clone())
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

pub(crate) fn public_key_client(gw: &Arc<Gateway>, certificates_too: bool) -> Client {
    let pk =
        PublicKeyVerifier::from_pem(PUB_KEY_ID, &key_file("wechatpay_test_pubkey.pem")).unwrap();
    Client::builder()
        .credentials(credentials())
        .apiv3_key(ApiV3Key::new(APIV3).unwrap())
        .wechatpay_public_key(pk)
        .platform_certificates(certificates_too)
        .base_url(PRIMARY)
        .transport(gw.clone())
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

pub(crate) fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
