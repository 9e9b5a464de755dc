//! The async WeChat Pay APIv3 client: signs every request, verifies every 2xx response,
//! rotates platform certificates, retries within bounds, and offers the typed Gold Plan calls.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use zeroize::Zeroizing;

use crate::certificates::{self, CertificateSet, SerialNumber};
use crate::clock::{Clock, SystemClock};
use crate::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use crate::error::{ApiError, Error, ErrorKind, Result};
use crate::gold_plan::{
    ChangeCustomPageStatusRequest, ChangeCustomPageStatusResponse, ChangeGoldPlanStatusRequest,
    ChangeGoldPlanStatusResponse, CloseAdvertisingShowRequest, GoldPlanRequest, IndustryType,
    OpenAdvertisingShowRequest, OperationPayScene, OperationType,
    SetAdvertisingIndustryFilterRequest,
};
use crate::http::{
    HttpRequest, HttpResponse, ReqwestTransport, Transport, TransportConfig, validate_base_url,
};
use crate::media::{self, MediaUploadResponse};
use crate::notification::{Notification, NotificationParser, ReplayGuard};
use crate::sensitive::{self, EncryptionKey};
use crate::sign::{RsaSigner, Signer, canonical_url, normalize_method, sign_request};
use crate::verify::{
    CertificateVerifier, CombinedVerifier, PublicKeyVerifier, VerificationPolicy, Verified,
    Verifier, WechatpayHeaders, verify_signed,
};

/// The primary WeChat Pay host.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host, tried once when the primary cannot be reached.
pub const DEFAULT_BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";
/// Path of the platform certificate download (RSA only).
pub const CERTIFICATES_PATH: &str = "/v3/certificates?algorithm_type=RSA";

/// The SDK version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Bounded retries with exponential back-off and full jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts per call, the first included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// First back-off delay (default 200 ms); doubles per attempt.
    pub base_delay: Duration,
    /// Longest back-off delay (default 5 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_delay);
        // Full jitter: uniform in [cap/2, cap], so concurrent clients spread out.
        cap / 2 + cap.mul_f64(random_unit() / 2.0)
    }
}

/// A uniform number in [0, 1) from the OS generator (0.5 if it fails: jitter is best-effort).
fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    match aws_lc_rs::rand::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

/// When platform certificates are downloaded.
#[derive(Debug, Clone)]
pub struct RefreshPolicy {
    /// Scheduled refresh interval (default 12 h, jittered ±10 %; allowed 1 h – 48 h).
    pub interval: Duration,
    /// Least time between two downloads triggered by unknown serials (default 60 s).
    pub min_interval: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> RefreshPolicy {
        RefreshPolicy {
            interval: Duration::from_secs(12 * 3600),
            min_interval: Duration::from_secs(60),
        }
    }
}

/// Per-call options for [`Client::request_with`].
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Whether the call may be sent again after an ambiguous failure (5xx, timeout, reset).
    /// `None`: GET, PUT and DELETE are, POST and PATCH are not.
    pub idempotent: Option<bool>,
    /// Overrides `Wechatpay-Serial` (set it to the key used for encrypted fields).
    pub wechatpay_serial: Option<String>,
}

/// A verified 2xx response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status (200, 202 or 204 in practice).
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
    /// `Request-ID`.
    pub request_id: Option<String>,
    /// The serial or key id whose signature was verified.
    pub serial: String,
}

impl Response {
    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body)
            .map_err(|_| Error::Decode("the response body is not UTF-8".into()))
    }

    /// Decodes the JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Decode(format!(
                "unexpected response body{}: {e}",
                self.request_id
                    .as_deref()
                    .map(|id| format!(" (Request-ID {})", crate::error::Untrusted(id, 128)))
                    .unwrap_or_default()
            ))
        })
    }

    /// First value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The result of a typed call, with the `Request-ID` to quote to WeChat Pay support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<T> {
    /// The decoded result.
    pub data: T,
    /// `Request-ID`.
    pub request_id: Option<String>,
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    signer: Option<Arc<dyn Signer>>,
    private_key: Option<Arc<PrivateKey>>,
    apiv3_key: Option<ApiV3Key>,
    public_key: Option<PublicKeyVerifier>,
    platform_certificates: Option<bool>,
    initial_certificates: Option<CertificateSet>,
    base_url: String,
    backup_url: Option<String>,
    transport: Option<Arc<dyn Transport>>,
    transport_config: TransportConfig,
    retry: RetryPolicy,
    refresh: RefreshPolicy,
    clock: Arc<dyn Clock>,
    max_skew_secs: i64,
    user_agent_suffix: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("signer", &self.signer)
            .field("public_key", &self.public_key)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            signer: None,
            private_key: None,
            apiv3_key: None,
            public_key: None,
            platform_certificates: None,
            initial_certificates: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            backup_url: Some(DEFAULT_BACKUP_URL.to_owned()),
            transport: None,
            transport_config: TransportConfig::default(),
            retry: RetryPolicy::default(),
            refresh: RefreshPolicy::default(),
            clock: Arc::new(SystemClock),
            max_skew_secs: crate::verify::DEFAULT_MAX_SKEW_SECS,
            user_agent_suffix: None,
        }
    }
}

impl ClientBuilder {
    /// Signs with the merchant's in-memory private key (also used to decrypt sensitive fields).
    pub fn credentials(mut self, credentials: MerchantCredentials) -> ClientBuilder {
        self.private_key = Some(Arc::clone(credentials.private_key()));
        self.signer = Some(Arc::new(RsaSigner::new(credentials)));
        self
    }

    /// Signs with any [`Signer`] (KMS, HSM, remote service).
    pub fn signer(mut self, signer: Arc<dyn Signer>) -> ClientBuilder {
        self.signer = Some(signer);
        self
    }

    /// The APIv3 key (required for certificate downloads and callbacks).
    pub fn apiv3_key(mut self, key: ApiV3Key) -> ClientBuilder {
        self.apiv3_key = Some(key);
        self
    }

    /// Verifies with the WeChat Pay public key. Alone, this is public-key mode (no certificate
    /// downloads); with [`ClientBuilder::platform_certificates`]`(true)` it is combined mode.
    pub fn wechatpay_public_key(mut self, public_key: PublicKeyVerifier) -> ClientBuilder {
        self.public_key = Some(public_key);
        self
    }

    /// Whether to download and rotate platform certificates. Default: yes unless a public key
    /// is configured.
    pub fn platform_certificates(mut self, enabled: bool) -> ClientBuilder {
        self.platform_certificates = Some(enabled);
        self
    }

    /// Platform certificates to start with (downloads still refresh them when enabled).
    pub fn initial_certificates(mut self, set: CertificateSet) -> ClientBuilder {
        self.initial_certificates = Some(set);
        self
    }

    /// The gateway (default `https://api.mch.weixin.qq.com`); plain http only for loopback.
    /// Setting it clears the backup host unless [`ClientBuilder::backup_url`] follows.
    pub fn base_url(mut self, url: impl Into<String>) -> ClientBuilder {
        self.base_url = url.into();
        self.backup_url = None;
        self
    }

    /// The backup gateway tried once when the primary cannot be reached (`None` disables).
    pub fn backup_url(mut self, url: Option<String>) -> ClientBuilder {
        self.backup_url = url;
        self
    }

    /// Connection timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.transport_config.connect_timeout = timeout;
        self
    }

    /// Total timeout per HTTP exchange (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.transport_config.timeout = timeout;
        self
    }

    /// Sends every request through this proxy.
    pub fn proxy(mut self, proxy_url: impl Into<String>) -> ClientBuilder {
        self.transport_config.proxy = Some(proxy_url.into());
        self
    }

    /// Largest response body read, in bytes (default 4 MiB,
    /// [`crate::http::DEFAULT_MAX_RESPONSE_BODY`]); a larger answer fails with
    /// [`ErrorKind::Transport`] naming the limit, before more than this is held in memory.
    pub fn max_response_body(mut self, bytes: usize) -> ClientBuilder {
        self.transport_config.max_response_body = bytes;
        self
    }

    /// Uses a caller-built reqwest client; its own timeouts, proxy and TLS settings apply (the
    /// builder's `timeout`, `connect_timeout` and `proxy` are then ignored).
    pub fn http_client(mut self, client: reqwest::Client) -> ClientBuilder {
        self.transport = Some(Arc::new(ReqwestTransport::from_client(client)));
        self
    }

    /// Uses a custom transport, e.g. one [`ReqwestTransport`] shared by the clients of many
    /// merchants so they share a connection pool. The builder's `timeout`, `connect_timeout`
    /// and `proxy` are then ignored: configure the transport instead.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> ClientBuilder {
        self.transport = Some(transport);
        self
    }

    /// Retry budget and back-off.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> ClientBuilder {
        self.retry = retry;
        self
    }

    /// Certificate refresh intervals.
    pub fn refresh_policy(mut self, refresh: RefreshPolicy) -> ClientBuilder {
        self.refresh = refresh;
        self
    }

    /// The clock for timestamps and skew checks (tests, simulated time).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> ClientBuilder {
        self.clock = clock;
        self
    }

    /// Maximum clock skew accepted on responses (default 300 s).
    pub fn max_skew_secs(mut self, secs: i64) -> ClientBuilder {
        self.max_skew_secs = secs;
        self
    }

    /// Appended to the User-Agent, e.g. `Python/0.1.0` from a binding.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> ClientBuilder {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client> {
        let signer = self.signer.ok_or_else(|| {
            Error::Configuration("no merchant credentials or signer configured".into())
        })?;
        let mut hosts = vec![validate_base_url(&self.base_url)?];
        if let Some(backup) = &self.backup_url {
            hosts.push(validate_base_url(backup)?);
        }
        let max_skew = crate::verify::MaxSkew::from_secs(self.max_skew_secs)?;
        if self.retry.max_attempts == 0 {
            return Err(Error::Configuration(
                "max_attempts must be at least 1".into(),
            ));
        }
        let hour = Duration::from_secs(3600);
        if self.refresh.interval < hour || self.refresh.interval > 48 * hour {
            return Err(Error::Configuration(
                "the certificate refresh interval must be between 1 h and 48 h".into(),
            ));
        }
        let use_certificates = self
            .platform_certificates
            .unwrap_or(self.public_key.is_none());
        if !use_certificates && self.public_key.is_none() {
            return Err(Error::Configuration(
                "no way to verify responses: configure the WeChat Pay public key or enable \
                 platform certificates"
                    .into(),
            ));
        }
        if use_certificates && self.apiv3_key.is_none() {
            return Err(Error::Configuration(
                "platform certificates need the APIv3 key to decrypt them".into(),
            ));
        }
        let public_key = self.public_key.map(Arc::new);
        let certificates = use_certificates.then(|| {
            Arc::new(CertificateVerifier::new(
                self.initial_certificates.unwrap_or_default(),
            ))
        });
        let verifier: Arc<dyn Verifier> = match (&public_key, &certificates) {
            (Some(pk), Some(certs)) => Arc::new(CombinedVerifier::new(pk.clone(), certs.clone())),
            (Some(pk), None) => pk.clone(),
            (None, Some(certs)) => certs.clone(),
            (None, None) => {
                return Err(Error::Configuration("no verifier configured".into()));
            }
        };
        let (transport, transport_config): (Arc<dyn Transport>, _) = match self.transport {
            Some(t) => (t, None),
            None => (
                Arc::new(ReqwestTransport::new(&self.transport_config)?),
                Some(self.transport_config),
            ),
        };
        let mut user_agent = format!(
            "WechatPay-Rust/{VERSION} ({}/{}) Rust/{}",
            std::env::consts::OS,
            std::env::consts::ARCH,
            env!("GOLDPLAN_RUSTC_VERSION")
        );
        if let Some(suffix) = &self.user_agent_suffix {
            user_agent.push(' ');
            user_agent.push_str(suffix);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                signer,
                private_key: self.private_key,
                apiv3_key: self.apiv3_key,
                verifier,
                public_key,
                certificates,
                transport,
                transport_config,
                hosts,
                retry: self.retry,
                refresh: self.refresh,
                policy: VerificationPolicy::new(max_skew, self.clock.clone()),
                clock: self.clock,
                user_agent,
                refresh_state: tokio::sync::Mutex::new(RefreshState::default()),
            }),
        })
    }
}

/// Why a certificate download is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshTrigger {
    /// The caller asked for it: always downloads.
    Forced,
    /// None held yet, or the held set is older than the refresh interval.
    Stale,
    /// A message named a serial we do not hold: at most one such download per `min_interval`,
    /// so a storm of forged serials cannot turn into a storm of downloads.
    UnknownSerial,
}

#[derive(Debug, Default)]
struct RefreshState {
    /// When the last download was attempted (monotonic).
    last_attempt: Option<Instant>,
    /// When the last download triggered by an unknown serial was attempted.
    last_on_demand: Option<Instant>,
    /// When the last download succeeded (monotonic).
    last_success: Option<Instant>,
    /// Why the last download failed, if it did.
    last_error: Option<DownloadFailure>,
    /// Downloads performed (for diagnostics and tests).
    downloads: u64,
}

/// Why the last certificate download failed, kept for the callers that arrive before the next
/// download is allowed.
#[derive(Debug, Clone)]
enum DownloadFailure {
    /// `404 RESOURCE_NOT_EXISTS`: the merchant has no platform certificate (its Request-ID).
    NoPlatformCertificate(Option<String>),
    /// Any other failure.
    Other(String),
}

impl DownloadFailure {
    fn of(e: &Error) -> DownloadFailure {
        match e {
            Error::NoPlatformCertificate { request_id } => {
                DownloadFailure::NoPlatformCertificate(request_id.clone())
            }
            other => DownloadFailure::Other(other.to_string()),
        }
    }

    /// The error for a caller that finds no certificate while downloads are rate-limited.
    fn to_error(&self) -> Error {
        match self {
            DownloadFailure::NoPlatformCertificate(request_id) => Error::NoPlatformCertificate {
                request_id: request_id.clone(),
            },
            DownloadFailure::Other(e) => Error::Certificate(format!(
                "no platform certificate yet; the last download failed: {e}"
            )),
        }
    }
}

struct Inner {
    signer: Arc<dyn Signer>,
    private_key: Option<Arc<PrivateKey>>,
    apiv3_key: Option<ApiV3Key>,
    verifier: Arc<dyn Verifier>,
    public_key: Option<Arc<PublicKeyVerifier>>,
    certificates: Option<Arc<CertificateVerifier>>,
    transport: Arc<dyn Transport>,
    /// How the default transport was built (`None` for a caller-supplied transport).
    transport_config: Option<TransportConfig>,
    hosts: Vec<String>,
    retry: RetryPolicy,
    refresh: RefreshPolicy,
    policy: VerificationPolicy,
    clock: Arc<dyn Clock>,
    user_agent: String,
    refresh_state: tokio::sync::Mutex<RefreshState>,
}

/// The WeChat Pay APIv3 client for one merchant. Cheap to clone (shared state); safe to use
/// from many tasks at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.inner.signer.mchid())
            .field("serial_no", &self.inner.signer.serial_no())
            .field("hosts", &self.inner.hosts)
            .field("verifier", &self.inner.verifier)
            .finish_non_exhaustive()
    }
}

/// What one attempt to send ended with, when it was not a verified success.
enum AttemptFailure {
    /// Try again (after back-off, possibly on the backup host), not sooner than the server's
    /// `Retry-After` when it gave one.
    Retry(Error, Option<Duration>),
    /// Give up with this error.
    Fail(Error),
}

struct Outgoing<'a> {
    method: String,
    canonical_url: String,
    signed_body: &'a [u8],
    wire_body: &'a [u8],
    content_type: Option<&'a str>,
    wechatpay_serial: Option<String>,
    idempotent: bool,
    verify: bool,
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with the same credentials, keys, platform certificates and policies, but its
    /// own HTTP connection pool and refresh state.
    ///
    /// For a child process after `fork()`: the parent's pooled connections (shared sockets)
    /// and the tasks that drive them (on a runtime that does not exist in the child) must not
    /// be used there. A caller-supplied transport is kept as is.
    pub fn with_new_connections(&self) -> Result<Client> {
        let inner = &self.inner;
        let transport: Arc<dyn Transport> = match &inner.transport_config {
            Some(config) => Arc::new(ReqwestTransport::new(config)?),
            None => inner.transport.clone(),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                signer: inner.signer.clone(),
                private_key: inner.private_key.clone(),
                apiv3_key: inner.apiv3_key.clone(),
                verifier: inner.verifier.clone(),
                public_key: inner.public_key.clone(),
                certificates: inner.certificates.clone(),
                transport,
                transport_config: inner.transport_config.clone(),
                hosts: inner.hosts.clone(),
                retry: inner.retry.clone(),
                refresh: inner.refresh.clone(),
                policy: inner.policy.clone(),
                clock: inner.clock.clone(),
                user_agent: inner.user_agent.clone(),
                refresh_state: tokio::sync::Mutex::new(RefreshState::default()),
            }),
        })
    }

    /// Caller merchant id.
    pub fn mchid(&self) -> &str {
        self.inner.signer.mchid()
    }

    /// The User-Agent sent with every request.
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// The verifier used for responses and callbacks.
    pub fn verifier(&self) -> Arc<dyn Verifier> {
        self.inner.verifier.clone()
    }

    /// The platform certificates currently trusted (empty in public-key mode).
    pub fn platform_certificates(&self) -> Arc<CertificateSet> {
        match &self.inner.certificates {
            Some(c) => c.certificates(),
            None => Arc::new(CertificateSet::default()),
        }
    }

    /// Number of certificate downloads performed so far.
    pub async fn certificate_downloads(&self) -> u64 {
        self.inner.refresh_state.lock().await.downloads
    }

    /// Sends a signed request to any APIv3 endpoint and returns the verified response.
    /// `body` is sent (and signed) byte for byte; `path_and_query` is the origin-form target.
    pub async fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        self.request_with(method, path_and_query, body, &RequestOptions::default())
            .await
    }

    /// [`Client::request`] with per-call options.
    pub async fn request_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&[u8]>,
        options: &RequestOptions,
    ) -> Result<Response> {
        let method = normalize_method(method)?;
        let body = body.unwrap_or_default();
        let idempotent = options
            .idempotent
            .unwrap_or(matches!(method.as_str(), "GET" | "PUT" | "DELETE"));
        let outgoing = Outgoing {
            canonical_url: canonical_url(path_and_query)?,
            method,
            signed_body: body,
            wire_body: body,
            content_type: (!body.is_empty()).then_some("application/json"),
            wechatpay_serial: options.wechatpay_serial.clone(),
            idempotent,
            verify: true,
        };
        self.execute(outgoing).await
    }

    /// Serialises `body` once, then signs and sends exactly those bytes.
    pub async fn request_json<B: Serialize + ?Sized>(
        &self,
        method: &str,
        path_and_query: &str,
        body: &B,
        options: &RequestOptions,
    ) -> Result<Response> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the body: {e}")))?;
        self.request_with(method, path_and_query, Some(&bytes), options)
            .await
    }

    /// Sends with retries, then verifies the 2xx response (verification failures are never
    /// retried: the outcome of the call is unknown).
    async fn execute(&self, out: Outgoing<'_>) -> Result<Response> {
        let span = tracing::info_span!(
            "wechatpay.request",
            method = %out.method,
            path = %out.canonical_url,
            mchid = %self.mchid(),
        );
        async move {
            if out.verify && out.wechatpay_serial.is_none() {
                self.ensure_certificates().await?;
            }
            let response = self.send_with_retries(&out).await?;
            let request_id = response.header("Request-ID").map(str::to_owned);
            let serial = if out.verify {
                self.verify_response(&response).await?.serial
            } else {
                String::new()
            };
            Ok(Response {
                status: response.status,
                headers: response.headers,
                body: response.body,
                request_id,
                serial,
            })
        }
        .instrument(span)
        .await
    }

    /// Sends until a 2xx response arrives or the retry rules say stop.
    async fn send_with_retries(&self, out: &Outgoing<'_>) -> Result<HttpResponse> {
        let max = self.inner.retry.max_attempts;
        let mut host = 0usize;
        let mut attempt = 0u32;
        let mut failed_over = false;
        loop {
            attempt += 1;
            match self.attempt(out, host, attempt).await {
                Ok(response) => return Ok(response),
                Err(AttemptFailure::Fail(e)) => return Err(e),
                Err(AttemptFailure::Retry(e, retry_after)) => {
                    let unreachable = matches!(
                        e,
                        Error::Transport {
                            before_response: true,
                            ..
                        }
                    );
                    if unreachable && !failed_over && self.inner.hosts.len() > 1 {
                        // Spec §1.5: once, to the backup host, re-signed.
                        failed_over = true;
                        host = 1;
                        tracing::warn!(attempt, error = %e, "primary host unreachable; failing over to the backup host");
                        continue;
                    }
                    if attempt >= max {
                        return Err(e);
                    }
                    let delay = match retry_after {
                        // The server asks for more patience than the retry budget allows:
                        // hand the (retryable) error back instead of hammering it.
                        Some(wait) if wait > self.inner.retry.max_delay => return Err(e),
                        Some(wait) => wait.max(self.inner.retry.delay(attempt - 1)),
                        None => self.inner.retry.delay(attempt - 1),
                    };
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %e,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        out: &Outgoing<'_>,
        host: usize,
        attempt: u32,
    ) -> std::result::Result<HttpResponse, AttemptFailure> {
        let fail = AttemptFailure::Fail;
        // Signed immediately before sending, so a retry never reuses a stale timestamp.
        let signed = sign_request(
            self.inner.signer.as_ref(),
            self.inner.clock.as_ref(),
            &out.method,
            &out.canonical_url,
            out.signed_body,
        )
        .await
        .map_err(fail)?;
        let mut user_agent = self.inner.user_agent.clone();
        if host > 0 {
            user_agent.push_str(" (Retried-V1)");
        }
        let mut headers = vec![
            ("Accept".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), user_agent),
            (
                "Authorization".to_owned(),
                signed.authorization.header_value(),
            ),
        ];
        if let Some(ct) = out.content_type {
            headers.push(("Content-Type".to_owned(), ct.to_owned()));
        }
        let serial = out
            .wechatpay_serial
            .clone()
            .or_else(|| self.inner.verifier.accept_serial());
        if let Some(serial) = &serial {
            headers.push(("Wechatpay-Serial".to_owned(), serial.clone()));
        }
        let base = self.inner.hosts.get(host).map_or("", String::as_str);
        let request = HttpRequest {
            method: out.method.clone(),
            url: format!("{base}{}", signed.canonical_url),
            headers,
            body: out.wire_body.to_vec(),
        };
        let started = Instant::now();
        let result = self.inner.transport.send(request).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(attempt, latency_ms, error = %e, "exchange failed");
                let safe = e.is_retryable() || (out.idempotent && is_ambiguous(&e));
                return Err(if safe {
                    AttemptFailure::Retry(e, None)
                } else {
                    AttemptFailure::Fail(e)
                });
            }
        };
        let request_id = response.header("Request-ID").map(str::to_owned);
        tracing::debug!(
            attempt,
            status = response.status,
            request_id = request_id.as_deref().unwrap_or(""),
            wechatpay_serial = serial.as_deref().unwrap_or(""),
            latency_ms,
            "response received"
        );
        if response.status == 202 && out.idempotent {
            // Spec §7.1: accepted but not processed yet; repeat the same request (re-signed).
            let retry_after = retry_after(&response);
            return Err(AttemptFailure::Retry(
                Error::from(ApiError::from_response(202, request_id, &response.body)),
                retry_after,
            ));
        }
        if (200..300).contains(&response.status) {
            return Ok(response);
        }
        let api = ApiError::from_response(response.status, request_id, &response.body);
        if api.status == 404
            && api.code == "RESOURCE_NOT_EXISTS"
            && out.canonical_url.starts_with("/v3/certificates")
        {
            return Err(fail(Error::NoPlatformCertificate {
                request_id: api.request_id,
            }));
        }
        // Rate limiting means "not accepted": safe to repeat whatever the operation.
        let retry = api.is_rate_limited() || (out.idempotent && api.is_retryable());
        let e = Error::from(api);
        Err(if retry {
            AttemptFailure::Retry(e, retry_after(&response))
        } else {
            AttemptFailure::Fail(e)
        })
    }

    /// Verifies a 2xx response (spec §2), refreshing certificates once on an unknown
    /// certificate serial. The outcome of a call whose response fails here is unknown.
    async fn verify_response(&self, response: &HttpResponse) -> Result<Verified> {
        let headers = WechatpayHeaders::from_pairs(
            response
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        )?;
        let verified = self.verify_with_refresh(&headers, &response.body).await?;
        if !response.body.is_empty() {
            let ct = response.header("Content-Type").unwrap_or("");
            if !ct
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
            {
                return Err(Error::Decode(format!(
                    "a signed response has Content-Type {ct:?}, expected application/json{}",
                    verified
                        .request_id
                        .as_deref()
                        .map(|id| format!(" (Request-ID {})", crate::error::Untrusted(id, 128)))
                        .unwrap_or_default()
                )));
            }
        }
        Ok(verified)
    }

    async fn verify_with_refresh(
        &self,
        headers: &WechatpayHeaders,
        body: &[u8],
    ) -> Result<Verified> {
        let policy = &self.inner.policy;
        match verify_signed(self.inner.verifier.as_ref(), policy, headers, body) {
            Err(e) if self.should_refresh_for(&e, headers.serial.as_deref()) => {
                if let Err(refresh) = self.refresh_if_allowed(RefreshTrigger::UnknownSerial).await {
                    tracing::warn!(error = %refresh, "certificate refresh after an unknown serial failed");
                }
                verify_signed(self.inner.verifier.as_ref(), policy, headers, body)
            }
            other => other,
        }
    }

    fn should_refresh_for(&self, e: &Error, serial: Option<&str>) -> bool {
        // Only a well-formed certificate serial can be cured by downloading certificates.
        e.kind() == ErrorKind::UnknownSerial
            && self.inner.certificates.is_some()
            && serial.is_some_and(|s| SerialNumber::parse(s).is_ok())
    }

    /// Makes sure certificates are loaded (first call) and not older than the refresh
    /// interval (lazy refresh). Failures are logged: the old set stays in force and
    /// verification reports what is missing. Except one: a merchant without platform
    /// certificates (`404 RESOURCE_NOT_EXISTS`) when no public key is configured either. Then
    /// no answer could ever be verified, so nothing is sent and the caller is told to configure
    /// the public key.
    async fn ensure_certificates(&self) -> Result<()> {
        let Some(certs) = &self.inner.certificates else {
            return Ok(());
        };
        if certs.certificates().is_empty() {
            // Nothing can verify a certificate-signed answer yet: this call waits for a download.
            if let Err(e) = self.refresh_if_allowed(RefreshTrigger::Stale).await {
                if self.inner.public_key.is_none() && certs.certificates().is_empty() {
                    // No key at all could verify the answer: fail before anything is sent,
                    // rather than execute the call and report its outcome as unknown.
                    return Err(e);
                }
                tracing::warn!(error = %e, "platform certificate download failed");
            }
            return Ok(());
        }
        // A set is held. Never wait behind a refresh that is already running (a slow gateway
        // or a storm of forged callback serials must not stall business calls): the current
        // set stays in force until the new one is swapped in.
        let stale = match self.inner.refresh_state.try_lock() {
            Ok(state) => state
                .last_success
                .is_none_or(|t| t.elapsed() >= self.inner.refresh.interval),
            Err(_) => false,
        };
        if stale && let Err(e) = self.refresh_if_allowed(RefreshTrigger::Stale).await {
            tracing::warn!(error = %e, "scheduled platform certificate refresh failed; keeping the current set");
        }
        Ok(())
    }

    /// Downloads platform certificates now (single-flight; not rate-limited).
    pub async fn refresh_certificates(&self) -> Result<()> {
        self.refresh_if_allowed(RefreshTrigger::Forced)
            .await
            .map(|_| ())
    }

    /// Single-flight refresh: concurrent callers wait for the same download, then find it done.
    /// Unless forced, downloads of the same trigger are at least `min_interval` apart.
    /// Returns whether a download happened.
    async fn refresh_if_allowed(&self, trigger: RefreshTrigger) -> Result<bool> {
        let Some(certs) = self.inner.certificates.clone() else {
            return Ok(false);
        };
        let mut state = self.inner.refresh_state.lock().await;
        let gate = match trigger {
            RefreshTrigger::Forced => None,
            RefreshTrigger::Stale => state.last_attempt,
            RefreshTrigger::UnknownSerial => state.last_on_demand,
        };
        if gate.is_some_and(|last| last.elapsed() < self.inner.refresh.min_interval) {
            return match &state.last_error {
                Some(failure) if certs.certificates().is_empty() => Err(failure.to_error()),
                _ => Ok(false),
            };
        }
        if trigger == RefreshTrigger::UnknownSerial {
            state.last_on_demand = Some(Instant::now());
        }
        state.last_attempt = Some(Instant::now());
        state.downloads += 1;
        match self.download_certificates(&certs).await {
            Ok(()) => {
                state.last_success = Some(Instant::now());
                state.last_error = None;
                Ok(true)
            }
            Err(e) => {
                state.last_error = Some(DownloadFailure::of(&e));
                Err(e)
            }
        }
    }

    async fn download_certificates(&self, certs: &CertificateVerifier) -> Result<()> {
        let key = self.inner.apiv3_key.as_ref().ok_or_else(|| {
            Error::Configuration("platform certificates need the APIv3 key".into())
        })?;
        let response = self
            .send_with_retries(&Outgoing {
                method: "GET".to_owned(),
                canonical_url: CERTIFICATES_PATH.to_owned(),
                signed_body: b"",
                wire_body: b"",
                content_type: None,
                // Before the first download no key is known; afterwards advertise as usual.
                wechatpay_serial: self.inner.verifier.accept_serial(),
                idempotent: true,
                verify: false,
            })
            .await?;
        let request_id = response.header("Request-ID").map(str::to_owned);
        let headers = WechatpayHeaders::from_pairs(
            response
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        )?;
        let trusted = certs.certificates();
        let downloaded = certificates::validate_download(
            &headers,
            &response.body,
            key,
            &trusted,
            self.inner.public_key.as_deref(),
            &self.inner.policy,
        )?;
        // Old certificates stay until they expire: WeChat may still sign with them.
        let now = self.inner.clock.now();
        let merged = downloaded.certificates.union(&trusted.retain_valid(now));
        tracing::info!(
            serials = ?merged.iter().map(|c| c.serial_hex().to_owned()).collect::<Vec<_>>(),
            dropped = downloaded.dropped.len(),
            request_id = request_id.as_deref().unwrap_or(""),
            "platform certificates refreshed"
        );
        certs.replace(merged);
        Ok(())
    }

    /// A future that refreshes platform certificates every `interval` (±10 % jitter) until
    /// dropped. Spawn it on your runtime; it is a no-op in public-key mode.
    pub fn certificate_refresh_task(
        &self,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let client = self.clone();
        async move {
            if client.inner.certificates.is_none() {
                return;
            }
            loop {
                let base = client.inner.refresh.interval;
                let jitter = base.mul_f64(0.9 + 0.2 * random_unit());
                tokio::time::sleep(jitter).await;
                if let Err(e) = client.refresh_if_allowed(RefreshTrigger::Stale).await {
                    tracing::warn!(error = %e, "scheduled certificate refresh failed");
                }
            }
        }
    }

    /// The key to encrypt sensitive fields with: the public key when configured, else the
    /// newest platform certificate. Its `wechatpay_serial()` must go into `Wechatpay-Serial`.
    pub async fn encryption_key(&self) -> Result<EncryptionKey> {
        if let Some(pk) = &self.inner.public_key {
            return EncryptionKey::from_public_key(pk);
        }
        self.ensure_certificates().await?;
        let set = self.platform_certificates();
        let newest = set
            .newest()
            .ok_or_else(|| Error::Certificate("no platform certificate to encrypt with".into()))?;
        EncryptionKey::from_certificate(newest)
    }

    /// Encrypts a sensitive field; returns the ciphertext and the `Wechatpay-Serial` to send.
    pub async fn encrypt_sensitive(&self, plaintext: &str) -> Result<(String, String)> {
        let key = self.encryption_key().await?;
        Ok((key.encrypt(plaintext)?, key.wechatpay_serial().to_owned()))
    }

    /// Decrypts a sensitive field of a response with the merchant private key.
    pub fn decrypt_sensitive(&self, ciphertext: &str) -> Result<Zeroizing<String>> {
        let key = self.inner.private_key.as_ref().ok_or_else(|| {
            Error::Configuration(
                "decrypting sensitive fields needs the merchant private key (not a remote signer)"
                    .into(),
            )
        })?;
        sensitive::decrypt(key, ciphertext)
    }

    /// A callback parser bound to this client's verifier, APIv3 key and clock.
    pub fn notification_parser(&self) -> Result<NotificationParser> {
        let key =
            self.inner.apiv3_key.clone().ok_or_else(|| {
                Error::Configuration("parsing callbacks needs the APIv3 key".into())
            })?;
        Ok(NotificationParser::new(self.inner.verifier.clone(), key)
            .with_policy(self.inner.policy.clone()))
    }

    /// Verifies and decrypts a callback (spec §4.2), refreshing certificates once when it is
    /// signed by a certificate this client does not hold yet.
    pub async fn parse_notification<N, V>(
        &self,
        headers: impl IntoIterator<Item = (N, V)>,
        body: &[u8],
        replay_guard: Option<Arc<dyn ReplayGuard>>,
    ) -> Result<Notification>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let pairs: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_vec()))
            .collect();
        let mut parser = self.notification_parser()?;
        if let Some(guard) = replay_guard {
            parser = parser.with_replay_guard(guard);
        }
        match parser.parse(pairs.iter().map(|(n, v)| (n, v)), body) {
            Err(e) if self.should_refresh_for(&e, serial_of(&e)) => {
                if let Err(refresh) = self.refresh_if_allowed(RefreshTrigger::UnknownSerial).await {
                    tracing::warn!(error = %refresh, "certificate refresh for a callback failed");
                }
                parser.parse(pairs.iter().map(|(n, v)| (n, v)), body)
            }
            other => other,
        }
    }

    /// Uploads an image (spec §6) and returns its `media_id`.
    pub async fn upload_image(
        &self,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Reply<MediaUploadResponse>> {
        let boundary = format!("goldplan-{}", crate::sign::generate_nonce()?);
        let upload = media::build_image_upload(filename, bytes, &boundary)?;
        let response = self
            .execute(Outgoing {
                method: "POST".to_owned(),
                canonical_url: media::MEDIA_UPLOAD_PATH.to_owned(),
                signed_body: upload.meta_json.as_bytes(),
                wire_body: &upload.body,
                content_type: Some(&upload.content_type),
                wechatpay_serial: None,
                // The same image uploaded twice yields the same media: safe to repeat.
                idempotent: true,
                verify: true,
            })
            .await?;
        reply(&response)
    }

    async fn gold_plan<R: GoldPlanRequest>(&self, request: &R) -> Result<Response> {
        request.validate()?;
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the body: {e}")))?;
        let endpoint = R::ENDPOINT;
        self.execute(Outgoing {
            method: endpoint.method.to_owned(),
            canonical_url: endpoint.path.to_owned(),
            signed_body: &body,
            wire_body: &body,
            content_type: Some("application/json"),
            wechatpay_serial: None,
            // All five Gold Plan operations are idempotent state setters (spec §7.4).
            idempotent: true,
            verify: true,
        })
        .await
    }

    /// 点金计划管理: opens or closes Gold Plan for a special merchant. Without a scene the
    /// server applies JSAPI only.
    pub async fn change_gold_plan_status(
        &self,
        sub_mchid: &str,
        operation_type: OperationType,
        operation_pay_scene: Option<OperationPayScene>,
    ) -> Result<Reply<ChangeGoldPlanStatusResponse>> {
        let response = self
            .gold_plan(&ChangeGoldPlanStatusRequest {
                sub_mchid: sub_mchid.to_owned(),
                operation_type,
                operation_pay_scene,
            })
            .await?;
        reply(&response)
    }

    /// 商家小票管理: turns the merchant receipt on or off for a special merchant.
    pub async fn change_custom_page_status(
        &self,
        sub_mchid: &str,
        operation_type: OperationType,
    ) -> Result<Reply<ChangeCustomPageStatusResponse>> {
        let response = self
            .gold_plan(&ChangeCustomPageStatusRequest {
                sub_mchid: sub_mchid.to_owned(),
                operation_type,
            })
            .await?;
        reply(&response)
    }

    /// 同业过滤标签管理: replaces the industry filter (1 to 3 tags).
    pub async fn set_advertising_industry_filter(
        &self,
        sub_mchid: &str,
        filters: Vec<IndustryType>,
    ) -> Result<Reply<()>> {
        let response = self
            .gold_plan(&SetAdvertisingIndustryFilterRequest {
                sub_mchid: sub_mchid.to_owned(),
                advertising_industry_filters: filters,
            })
            .await?;
        Ok(empty_reply(&response))
    }

    /// 开通广告展示: turns ad display on, optionally with up to 3 industry filters.
    pub async fn open_advertising_show(
        &self,
        sub_mchid: &str,
        filters: Option<Vec<IndustryType>>,
    ) -> Result<Reply<()>> {
        let response = self
            .gold_plan(&OpenAdvertisingShowRequest {
                sub_mchid: sub_mchid.to_owned(),
                advertising_industry_filters: filters,
            })
            .await?;
        Ok(empty_reply(&response))
    }

    /// 关闭广告展示: turns ad display off.
    pub async fn close_advertising_show(&self, sub_mchid: &str) -> Result<Reply<()>> {
        let response = self
            .gold_plan(&CloseAdvertisingShowRequest {
                sub_mchid: sub_mchid.to_owned(),
            })
            .await?;
        Ok(empty_reply(&response))
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by WeChat Pay and is ignored).
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    response
        .header("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn serial_of(e: &Error) -> Option<&str> {
    match e {
        Error::Verification(v) => v.serial.as_deref(),
        _ => None,
    }
}

fn is_ambiguous(e: &Error) -> bool {
    matches!(
        e,
        Error::Timeout(_)
            | Error::Transport {
                before_response: false,
                ..
            }
    )
}

fn reply<T: DeserializeOwned>(response: &Response) -> Result<Reply<T>> {
    Ok(Reply {
        data: response.json()?,
        request_id: response.request_id.clone(),
    })
}

fn empty_reply(response: &Response) -> Reply<()> {
    Reply {
        data: (),
        request_id: response.request_id.clone(),
    }
}

/// Clients for many merchants in one process, keyed by mchid. No process globals: create one
/// registry and share it.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: RwLock<HashMap<String, Client>>,
}

impl ClientRegistry {
    /// An empty registry.
    pub fn new() -> ClientRegistry {
        ClientRegistry::default()
    }

    /// Adds or replaces the client for its mchid.
    pub fn insert(&self, client: Client) {
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.insert(client.mchid().to_owned(), client);
    }

    /// The client for `mchid`.
    pub fn get(&self, mchid: &str) -> Option<Client> {
        let map = self.clients.read().unwrap_or_else(|p| p.into_inner());
        map.get(mchid).cloned()
    }

    /// Removes the client for `mchid`.
    pub fn remove(&self, mchid: &str) -> Option<Client> {
        let mut map = self.clients.write().unwrap_or_else(|p| p.into_inner());
        map.remove(mchid)
    }

    /// The merchant ids held.
    pub fn mchids(&self) -> Vec<String> {
        let map = self.clients.read().unwrap_or_else(|p| p.into_inner());
        map.keys().cloned().collect()
    }
}
