//! Test-only helpers: start a sandbox in-process and talk to it with requests signed by the
//! protocol core (`goldplan::sign`), verifying answers with `goldplan::verify`. Our real client
//! is written elsewhere; this is just enough HTTP to drive the sandbox.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::{Arc, OnceLock};

use goldplan::clock::{Clock, SystemClock};
use goldplan::credentials::{MerchantCredentials, PrivateKey};
use goldplan::sign::{Authorization, RsaSigner, generate_nonce, message_to_sign};
use goldplan::verify::{
    CertificateVerifier, CombinedVerifier, PublicKeyVerifier, VerificationPolicy, Verified,
    WechatpayHeaders, verify_signed,
};
use goldplan::x509::{Certificate, CertificateSet};
use goldplan_sandbox::{
    Identities, MerchantView, Sandbox, SandboxConfig, SandboxHandle, SandboxInfo,
};

pub const USER_AGENT: &str = "goldplan-sandbox-tests/0.1";

/// Identities generated once per test binary (RSA key generation is the slow part).
pub fn identities() -> Identities {
    static IDS: OnceLock<Identities> = OnceLock::new();
    IDS.get_or_init(|| Identities::generate(SystemClock.now(), 5 * 365 * 24 * 3600).unwrap())
        .clone()
}

pub fn config() -> SandboxConfig {
    SandboxConfig {
        identities: Some(identities()),
        ..SandboxConfig::default()
    }
}

pub async fn start() -> (SandboxHandle, TestClient) {
    start_with(config()).await
}

pub async fn start_with(config: SandboxConfig) -> (SandboxHandle, TestClient) {
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = TestClient::new(&sandbox.info().unwrap());
    (sandbox, client)
}

/// A signed-request helper for one merchant.
pub struct TestClient {
    pub http: reqwest::Client,
    pub base_url: String,
    pub signer: RsaSigner,
    pub info: SandboxInfo,
    pub verifier: CombinedVerifier,
    /// Value of the request header `Wechatpay-Serial` (none by default).
    pub wechatpay_serial: Option<String>,
    /// The clock used for request timestamps and for checking response timestamps.
    pub clock: Arc<dyn Clock>,
}

/// What can be changed about one request.
#[derive(Clone, Default)]
pub struct Options {
    pub accept: Option<Option<String>>,
    pub user_agent: Option<Option<String>>,
    pub authorization: Option<Option<String>>,
    pub timestamp_offset: i64,
    pub wechatpay_serial: Option<String>,
    pub content_type: Option<String>,
    /// Sign these bytes instead of the body (e.g. the media `meta`).
    pub signed_body: Option<Vec<u8>>,
    /// Change the body after signing.
    pub tamper: bool,
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// Asserts a WeChat error answer.
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.code(), code, "{}", String::from_utf8_lossy(&self.body));
        assert!(
            self.message().contains(message),
            "expected message containing {message:?}, got {:?}",
            self.message()
        );
    }
}

pub fn credentials(info: &SandboxInfo) -> MerchantCredentials {
    MerchantCredentials::with_certificate(
        info.mchid.clone(),
        info.serial_no.clone(),
        PrivateKey::from_pem(&info.private_key_pem).unwrap(),
        &info.certificate_pem,
    )
    .unwrap()
}

/// A certificate-mode client of the core for the sandbox's merchant, as a merchant would run
/// it: it downloads and verifies the platform certificates itself.
pub fn certificate_mode_client(info: &SandboxInfo) -> goldplan::Client {
    goldplan::Client::builder()
        .credentials(credentials(info))
        .apiv3_key(goldplan::credentials::ApiV3Key::new(&info.apiv3_key).unwrap())
        .base_url(info.base_url.clone())
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap()
}

pub fn verifier_for(info: &SandboxInfo) -> CombinedVerifier {
    let certs = info
        .platform_certificates
        .iter()
        .map(|c| Arc::new(Certificate::from_pem(&c.certificate_pem).unwrap()));
    CombinedVerifier::new(
        Arc::new(
            PublicKeyVerifier::from_pem(info.public_key_id.clone(), &info.public_key_pem).unwrap(),
        ),
        Arc::new(CertificateVerifier::new(CertificateSet::new(certs))),
    )
}

/// A verifier holding `view`'s own WeChat Pay keys (each merchant has its own).
pub fn verifier_for_merchant(view: &MerchantView) -> CombinedVerifier {
    let certs = view
        .platform_certificates
        .iter()
        .map(|c| Arc::new(Certificate::from_pem(&c.certificate_pem).unwrap()));
    CombinedVerifier::new(
        Arc::new(
            PublicKeyVerifier::from_pem(view.public_key_id.clone(), &view.public_key_pem).unwrap(),
        ),
        Arc::new(CertificateVerifier::new(CertificateSet::new(certs))),
    )
}

impl TestClient {
    pub fn new(info: &SandboxInfo) -> TestClient {
        TestClient {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base_url: info.base_url.clone(),
            signer: RsaSigner::new(credentials(info)),
            info: info.clone(),
            verifier: verifier_for(info),
            wechatpay_serial: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Same sandbox, another merchant's credentials.
    pub fn for_merchant(&self, creds: MerchantCredentials) -> TestClient {
        TestClient {
            http: self.http.clone(),
            base_url: self.base_url.clone(),
            signer: RsaSigner::new(creds),
            info: self.info.clone(),
            verifier: self.verifier.clone(),
            wechatpay_serial: self.wechatpay_serial.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Same sandbox, a registered merchant's credentials, verifying with its own WeChat Pay
    /// keys.
    pub fn for_registered(&self, creds: MerchantCredentials, view: &MerchantView) -> TestClient {
        TestClient {
            verifier: verifier_for_merchant(view),
            ..self.for_merchant(creds)
        }
    }

    /// Re-reads the platform certificates (after a rotation).
    pub fn refresh(&mut self, info: &SandboxInfo) {
        self.verifier = verifier_for(info);
    }

    pub fn authorization(&self, method: &str, path: &str, body: &[u8], ts: i64) -> String {
        let nonce = generate_nonce().unwrap();
        let msg = message_to_sign(method, path, ts, &nonce, body).unwrap();
        Authorization {
            mchid: self.signer.credentials().mchid().to_owned(),
            nonce_str: nonce,
            timestamp: ts,
            serial_no: self.signer.credentials().serial_no().to_owned(),
            signature: self.signer.sign_blocking(&msg).unwrap(),
        }
        .header_value()
        .unwrap()
    }

    /// A correctly signed request, for tests that need the raw reqwest result.
    pub fn signed(&self, method: &str, path: &str, body: &[u8]) -> reqwest::RequestBuilder {
        let auth = self.authorization(method, path, body, self.clock.now());
        self.http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", self.base_url, path),
            )
            .header("Accept", "application/json")
            .header("User-Agent", USER_AGENT)
            .header("Authorization", auth)
            .body(body.to_vec())
    }

    pub async fn send(&self, method: &str, path: &str, body: &[u8]) -> Resp {
        self.send_with(method, path, body, Options::default()).await
    }

    pub async fn json(&self, method: &str, path: &str, value: serde_json::Value) -> Resp {
        self.send(method, path, value.to_string().as_bytes()).await
    }

    pub async fn send_with(&self, method: &str, path: &str, body: &[u8], o: Options) -> Resp {
        let ts = self.clock.now() + o.timestamp_offset;
        let signed = o.signed_body.clone().unwrap_or_else(|| body.to_vec());
        let auth = self.authorization(method, path, &signed, ts);
        let mut req = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{}", self.base_url, path),
        );
        let accept = o.accept.clone().unwrap_or(Some("application/json".into()));
        let ua = o.user_agent.clone().unwrap_or(Some(USER_AGENT.into()));
        let auth = o.authorization.clone().unwrap_or(Some(auth));
        // reqwest adds `Accept: */*` when none is set; an empty value counts as missing.
        req = req.header("Accept", accept.unwrap_or_default());
        if let Some(v) = ua {
            req = req.header("User-Agent", v);
        }
        if let Some(v) = auth {
            req = req.header("Authorization", v);
        }
        if let Some(s) = o
            .wechatpay_serial
            .clone()
            .or_else(|| self.wechatpay_serial.clone())
        {
            req = req.header("Wechatpay-Serial", s);
        }
        req = req.header(
            "Content-Type",
            o.content_type
                .clone()
                .unwrap_or_else(|| "application/json".into()),
        );
        let mut body = body.to_vec();
        if o.tamper {
            body.push(b' ');
        }
        let resp = req.body(body).send().await.unwrap();
        read(resp).await
    }

    /// Verifies a response the way spec §2 says (every response here, errors included).
    pub fn verify(&self, resp: &Resp) -> goldplan::Result<Verified> {
        let headers = WechatpayHeaders::from_pairs(
            resp.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
        )?;
        verify_signed(
            &self.verifier,
            &VerificationPolicy::with_clock(self.clock.clone()),
            &headers,
            &resp.body,
        )
    }

    /// Sends and asserts the response verifies; returns it.
    pub async fn ok(&self, method: &str, path: &str, value: serde_json::Value) -> Resp {
        let r = self.json(method, path, value).await;
        self.verify(&r).expect("response signature");
        r
    }
}

pub async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let body = resp.bytes().await.unwrap().to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

pub mod paths {
    pub const GOLD_PLAN: &str = "/v3/goldplan/merchants/changegoldplanstatus";
    pub const CUSTOM_PAGE: &str = "/v3/goldplan/merchants/changecustompagestatus";
    pub const FILTER: &str = "/v3/goldplan/merchants/set-advertising-industry-filter";
    pub const OPEN_AD: &str = "/v3/goldplan/merchants/open-advertising-show";
    pub const CLOSE_AD: &str = "/v3/goldplan/merchants/close-advertising-show";
    pub const CERTIFICATES: &str = "/v3/certificates";
    pub const UPLOAD: &str = "/v3/merchant/media/upload";
}

pub const SUB: &str = goldplan_sandbox::DEFAULT_SUB_MCHID;
