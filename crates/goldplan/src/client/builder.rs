//! [`ClientBuilder`]: every setting of a client, checked once when it is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{
    CertificateManager, CertificateStore, Client, DEFAULT_BACKUP_URL, DEFAULT_BASE_URL, Process,
    RateLimiter, RefreshPolicy, RetryPolicy, Settings, VERSION,
};
use crate::clock::{Clock, SystemClock};
use crate::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use crate::error::{Error, Result};
use crate::http::{ReqwestTransport, Transport, TransportConfig, validate_base_url};
use crate::sign::{RsaSigner, Signer};
use crate::verify::{PublicKeyVerifier, VerificationPolicy};
use crate::x509::CertificateSet;

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
    certificate_store: Option<Arc<dyn CertificateStore>>,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
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
            certificate_store: None,
            rate_limiter: None,
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
    /// [`crate::ErrorKind::Transport`] naming the limit, before more than this is held in memory.
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

    /// Shares platform certificate downloads with the other processes of a fleet through
    /// `store` (see [`CertificateStore`]): one download per merchant per refresh period, and at
    /// most one per storm interval on unknown serials, across every process using the store.
    /// Without it (the default) this process downloads its own. Ignored in public-key mode.
    pub fn certificate_store(mut self, store: Arc<dyn CertificateStore>) -> ClientBuilder {
        self.certificate_store = Some(store);
        self
    }

    /// Takes a token from `limiter` before every request (retries included), under this
    /// provider's merchant id: every client and process that uses the same limiter shares its
    /// rate (see [`RateLimiter`]). Default: no limit but the gateway's.
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> ClientBuilder {
        self.rate_limiter = Some(limiter);
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
        self.refresh.validate()?;
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
            Arc::new(CertificateManager::new(
                self.initial_certificates.unwrap_or_default(),
                self.refresh,
            ))
        });
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
        let rate = self
            .rate_limiter
            .map(|limiter| super::rate_limit::SharedRate {
                key: signer.mchid().to_owned(),
                limiter,
            });
        let settings = Settings {
            signer,
            private_key: self.private_key,
            apiv3_key: self.apiv3_key,
            public_key,
            transport_config,
            hosts,
            retry: self.retry,
            policy: VerificationPolicy::new(max_skew, self.clock.clone()),
            clock: self.clock,
            user_agent,
            certificate_store: self.certificate_store,
            rate,
        };
        let process = Process::new(&settings, transport, certificates);
        Ok(Client {
            settings: Arc::new(settings),
            process: Arc::new(process),
        })
    }
}
