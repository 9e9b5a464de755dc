//! The async WeChat Pay APIv3 client: signs every request, verifies every 2xx response,
//! rotates platform certificates, retries within bounds, and offers the typed Gold Plan calls.
//!
//! One file per concept:
//!
//! * `builder` — [`ClientBuilder`]: checking a configuration and building a client;
//! * `exchange` — one verified call: sign, send (with `retry`), verify;
//! * `retry` — [`RetryPolicy`], back-off, fail-over to the backup host;
//! * `certificate_manager` — [`CertificateManager`]: trusted platform certificates, refresh
//!   policy and state, single-flight; `refresh` drives it over HTTP;
//! * `gold_plan`, `media`, `sensitive`, `notification` — the typed services;
//! * `operation` — [`Operation`] and [`Client::call_json`], the JSON surface of every binding;
//! * `probe` — [`Client::probe`], a configuration check against the gateway;
//! * `registry` — [`ClientRegistry`], clients of many merchants;
//! * `store` — [`CertificateStore`]: certificate downloads shared by the processes of a fleet;
//! * `rate_limit` — [`RateLimiter`]: the provider's request rate, shared by a fleet;
//! * `response` — [`Response`], [`Reply`], [`RequestOptions`].
//!
//! A [`Client`] is immutable settings shared by every copy plus the state of one process
//! (connections, certificate refresh state). [`Client::with_new_connections`] keeps the first
//! and makes the second anew, which is what a child process needs after `fork()`.

mod builder;
mod certificate_manager;
mod exchange;
mod gold_plan;
mod media;
mod notification;
mod operation;
mod payments;
mod probe;
mod rate_limit;
mod refresh;
mod registry;
mod response;
mod retry;
mod sensitive;
mod store;

use std::fmt;
use std::sync::Arc;

pub use builder::ClientBuilder;
pub use certificate_manager::{CertificateManager, RefreshPolicy};
pub use operation::{JsonReply, Operation, call_local_json, operations_json};
pub use probe::{ProbeCheck, ProbeReport, ProbeStatus};
pub use rate_limit::{
    MAX_RATE_WAIT, MemoryRateLimiter, RateLimitSettings, RateLimiter, RateLimiterFactory,
    open_rate_limiter, register_rate_limiter_scheme,
};
pub use registry::ClientRegistry;
pub use response::{Reply, RequestOptions, Response};
pub use retry::RetryPolicy;
pub use sensitive::SensitiveCiphertext;
pub use store::{
    CertificateStore, Lease, MemoryCertificateStore, StoreFactory, StoreFuture, StoredDownload,
    open_store, register_store_scheme,
};

use crate::clock::Clock;
use crate::credentials::{ApiV3Key, PrivateKey};
use crate::error::Result;
use crate::http::{ReqwestTransport, Transport, TransportConfig};
use crate::sign::Signer;
use crate::verify::{CombinedVerifier, PublicKeyVerifier, VerificationPolicy, Verifier};
use crate::x509::CertificateSet;

/// The primary WeChat Pay host.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host, tried once when the primary cannot be reached.
pub const DEFAULT_BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";
/// Path of the platform certificate download (RSA only).
pub const CERTIFICATES_PATH: &str = "/v3/certificates?algorithm_type=RSA";

/// The SDK version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every copy of a client shares and never changes: who signs, which keys verify, where
/// to send, and the policies.
struct Settings {
    signer: Arc<dyn Signer>,
    private_key: Option<Arc<PrivateKey>>,
    apiv3_key: Option<ApiV3Key>,
    public_key: Option<Arc<PublicKeyVerifier>>,
    /// How the default transport was built (`None` for a caller-supplied transport).
    transport_config: Option<TransportConfig>,
    hosts: Vec<String>,
    retry: RetryPolicy,
    policy: VerificationPolicy,
    clock: Arc<dyn Clock>,
    user_agent: String,
    /// Where the fleet shares certificate downloads (none: this process downloads its own).
    certificate_store: Option<Arc<dyn CertificateStore>>,
    /// The request rate every request waits for (none: unlimited).
    rate: Option<rate_limit::SharedRate>,
}

/// What belongs to one process: the connections and the certificate refresh state.
struct Process {
    transport: Arc<dyn Transport>,
    certificates: Option<Arc<CertificateManager>>,
    verifier: Arc<dyn Verifier>,
}

impl Process {
    fn new(
        settings: &Settings,
        transport: Arc<dyn Transport>,
        certificates: Option<Arc<CertificateManager>>,
    ) -> Process {
        let verifier: Arc<dyn Verifier> = match (&settings.public_key, &certificates) {
            (Some(pk), Some(certs)) => Arc::new(CombinedVerifier::new(pk.clone(), certs.clone())),
            (Some(pk), None) => pk.clone(),
            (None, Some(certs)) => certs.clone(),
            // The builder refuses a configuration without either.
            (None, None) => Arc::new(crate::verify::CertificateVerifier::default()),
        };
        Process {
            transport,
            certificates,
            verifier,
        }
    }
}

/// The WeChat Pay APIv3 client for one merchant. Cheap to clone (shared state); safe to use
/// from many tasks at once.
#[derive(Clone)]
pub struct Client {
    settings: Arc<Settings>,
    process: Arc<Process>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.settings.signer.mchid())
            .field("serial_no", &self.settings.signer.serial_no())
            .field("hosts", &self.settings.hosts)
            .field("verifier", &self.process.verifier)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with the same settings, keys and currently trusted platform certificates, but
    /// its own HTTP connection pool and certificate refresh state.
    ///
    /// For a child process after `fork()`: the parent's pooled connections (shared sockets)
    /// and the tasks that drive them (on a runtime that does not exist in the child) must not
    /// be used there. A caller-supplied transport is kept as is.
    pub fn with_new_connections(&self) -> Result<Client> {
        let transport: Arc<dyn Transport> = match &self.settings.transport_config {
            Some(config) => Arc::new(ReqwestTransport::new(config)?),
            None => self.process.transport.clone(),
        };
        let certificates = self
            .process
            .certificates
            .as_ref()
            .map(|m| Arc::new(m.for_new_process()));
        Ok(Client {
            settings: self.settings.clone(),
            process: Arc::new(Process::new(&self.settings, transport, certificates)),
        })
    }

    /// Caller merchant id.
    pub fn mchid(&self) -> &str {
        self.settings.signer.mchid()
    }

    /// The User-Agent sent with every request.
    pub fn user_agent(&self) -> &str {
        &self.settings.user_agent
    }

    /// The verifier used for responses and callbacks.
    pub fn verifier(&self) -> Arc<dyn Verifier> {
        self.process.verifier.clone()
    }

    /// The certificate manager (`None` in public-key mode).
    pub fn certificate_manager(&self) -> Option<&Arc<CertificateManager>> {
        self.process.certificates.as_ref()
    }

    /// The platform certificates currently trusted (empty in public-key mode).
    pub fn platform_certificates(&self) -> Arc<CertificateSet> {
        match &self.process.certificates {
            Some(c) => c.certificates(),
            None => Arc::new(CertificateSet::default()),
        }
    }

    /// Number of certificate downloads performed so far.
    pub async fn certificate_downloads(&self) -> u64 {
        match &self.process.certificates {
            Some(c) => c.downloads().await,
            None => 0,
        }
    }
}
