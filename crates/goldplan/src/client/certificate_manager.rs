//! The certificate manager: the platform certificates a client trusts, when they are
//! downloaded again (scheduled, lazily when stale, on an unknown serial), and the single-flight
//! and rate limit that keep a storm of forged serials from becoming a storm of downloads.
//!
//! It knows nothing of HTTP: the client hands it a download future when a refresh is due.
//! Times are `tokio::time::Instant`, so tests drive the schedule with tokio's paused clock.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::verify::{Verifier, verify_with_set};
use crate::x509::{CertificateSet, SerialNumber};

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

impl RefreshPolicy {
    /// Checks the bounds the client accepts.
    pub(crate) fn validate(&self) -> Result<()> {
        let hour = Duration::from_secs(3600);
        if self.interval < hour || self.interval > 48 * hour {
            return Err(Error::Configuration(
                "the certificate refresh interval must be between 1 h and 48 h".into(),
            ));
        }
        Ok(())
    }
}

/// Why a certificate download is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshTrigger {
    /// The caller asked for it: always downloads.
    Forced,
    /// None held yet, or the held set is older than the refresh interval.
    Stale,
    /// A message named a serial we do not hold: at most one such download per `min_interval`,
    /// so a storm of forged serials cannot turn into a storm of downloads.
    UnknownSerial,
    /// The certificate store announced a download this process has not installed: it is read
    /// from the store, never downloaded, and no gate applies.
    Published,
}

/// A set of certificates to trust, and how old the download it came from is (a download
/// another process made and published may be hours old; the refresh schedule counts from it).
pub(crate) struct Obtained {
    pub(crate) set: CertificateSet,
    pub(crate) age: Duration,
}

#[derive(Debug, Default)]
struct RefreshState {
    /// When the last download was attempted.
    last_attempt: Option<Instant>,
    /// When the last download triggered by an unknown serial was attempted.
    last_on_demand: Option<Instant>,
    /// When the last download succeeded.
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

/// The trusted platform certificates of one client in one process, and their refresh state.
///
/// The set is swapped atomically: verifiers see the old set or the new one, never a mixture.
/// Concurrent refreshes are single-flight: late callers wait for the running download and then
/// find it done. After `fork()` a child gets a new manager seeded with the parent's set
/// ([`CertificateManager::for_new_process`]), because the refresh lock may have been held by a
/// parent thread that does not exist in the child.
pub struct CertificateManager {
    trusted: ArcSwap<CertificateSet>,
    policy: RefreshPolicy,
    state: tokio::sync::Mutex<RefreshState>,
    /// The certificate store's version of the download installed last (0: none from a store).
    store_version: AtomicU64,
}

impl fmt::Debug for CertificateManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.trusted.load();
        f.debug_struct("CertificateManager")
            .field(
                "serials",
                &set.iter().map(|c| c.serial_hex()).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl CertificateManager {
    /// A manager trusting `initial` (possibly empty) and refreshing by `policy`.
    pub fn new(initial: CertificateSet, policy: RefreshPolicy) -> CertificateManager {
        CertificateManager {
            trusted: ArcSwap::from_pointee(initial),
            policy,
            state: tokio::sync::Mutex::new(RefreshState::default()),
            store_version: AtomicU64::new(0),
        }
    }

    /// A manager for a child process: the same trusted set and policy, fresh refresh state.
    pub fn for_new_process(&self) -> CertificateManager {
        CertificateManager {
            trusted: ArcSwap::new(self.trusted.load_full()),
            policy: self.policy.clone(),
            state: tokio::sync::Mutex::new(RefreshState::default()),
            store_version: AtomicU64::new(self.store_version.load(Ordering::Relaxed)),
        }
    }

    /// The certificate store's version of the download installed last (0: none).
    pub(crate) fn store_version(&self) -> u64 {
        self.store_version.load(Ordering::Relaxed)
    }

    /// Records that the store's download `version` is installed.
    pub(crate) fn set_store_version(&self, version: u64) {
        self.store_version.fetch_max(version, Ordering::Relaxed);
    }

    /// The certificates trusted now.
    pub fn certificates(&self) -> Arc<CertificateSet> {
        self.trusted.load_full()
    }

    /// The refresh policy.
    pub fn policy(&self) -> &RefreshPolicy {
        &self.policy
    }

    /// Number of downloads attempted so far.
    pub async fn downloads(&self) -> u64 {
        self.state.lock().await.downloads
    }

    /// Whether a download triggered by a verification failure on `serial` could help: only a
    /// well-formed certificate serial can be cured by downloading certificates.
    pub(crate) fn may_cure(serial: Option<&str>) -> bool {
        serial.is_some_and(|s| SerialNumber::parse(s).is_ok())
    }

    /// Whether the held set is older than the refresh interval (or was never downloaded).
    /// Never waits: while a refresh runs, the current set is fresh enough.
    pub(crate) fn is_stale(&self) -> bool {
        match self.state.try_lock() {
            Ok(state) => state
                .last_success
                .is_none_or(|t| t.elapsed() >= self.policy.interval),
            Err(_) => false,
        }
    }

    /// Single-flight refresh: runs `download` unless the trigger's rate limit forbids it, and
    /// installs what it returns. Returns whether a download happened. While downloads are
    /// rate-limited and no certificate is held, the last failure is reported again.
    pub(crate) async fn refresh<F, Fut>(&self, trigger: RefreshTrigger, download: F) -> Result<bool>
    where
        F: FnOnce(Arc<CertificateSet>) -> Fut,
        Fut: Future<Output = Result<Obtained>>,
    {
        let mut state = self.state.lock().await;
        if trigger == RefreshTrigger::Published {
            let obtained = download(self.certificates()).await?;
            self.install(&mut state, obtained);
            return Ok(true);
        }
        let gate = match trigger {
            RefreshTrigger::Forced | RefreshTrigger::Published => None,
            RefreshTrigger::Stale => state.last_attempt,
            RefreshTrigger::UnknownSerial => state.last_on_demand,
        };
        if gate.is_some_and(|last| last.elapsed() < self.policy.min_interval) {
            return match &state.last_error {
                Some(failure) if self.trusted.load().is_empty() => Err(failure.to_error()),
                _ => Ok(false),
            };
        }
        let now = Instant::now();
        if trigger == RefreshTrigger::UnknownSerial {
            state.last_on_demand = Some(now);
        }
        state.last_attempt = Some(now);
        state.downloads += 1;
        match download(self.certificates()).await {
            Ok(obtained) => {
                self.install(&mut state, obtained);
                Ok(true)
            }
            Err(e) => {
                state.last_error = Some(DownloadFailure::of(&e));
                Err(e)
            }
        }
    }

    /// Trusts `obtained` from now on; the set is as fresh as the download it came from.
    fn install(&self, state: &mut RefreshState, obtained: Obtained) {
        self.trusted.store(Arc::new(obtained.set));
        let now = Instant::now();
        state.last_success = Some(now.checked_sub(obtained.age).unwrap_or(now));
        state.last_error = None;
    }

    /// The delay before the next scheduled refresh: the interval with ±10 % jitter, so that
    /// many clients started together do not download together.
    pub(crate) fn next_scheduled_delay(&self) -> Duration {
        self.policy
            .interval
            .mul_f64(0.9 + 0.2 * super::retry::random_unit())
    }
}

impl Verifier for CertificateManager {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()> {
        verify_with_set(&self.trusted.load(), serial, message, signature)
    }

    fn accept_serial(&self) -> Option<String> {
        self.trusted
            .load()
            .newest()
            .map(|c| c.serial_hex().to_owned())
    }
}
