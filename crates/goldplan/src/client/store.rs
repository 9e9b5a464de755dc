//! Platform certificates shared by the processes of a fleet: the [`CertificateStore`]
//! plug-in point, and the in-process [`MemoryCertificateStore`].
//!
//! Without a store every process of a fleet (PHP-FPM workers, service instances) downloads
//! every merchant's certificates on its own schedule and again on every unknown serial. A
//! store keeps the last `/v3/certificates` answer of each merchant exactly as WeChat Pay sent
//! it (still encrypted with the APIv3 key, still signed) and two leases: whose turn it is to
//! download, and the fleet-wide gate on downloads that unknown serials trigger.
//!
//! What a store holds is never trusted as such: each process decrypts a stored answer with its
//! own APIv3 key and verifies WeChat Pay's signature before it trusts a certificate in it, so
//! a shared or poisoned store cannot inject one. A store that fails or answers slowly only
//! costs the process its own download; a call never fails because of the store.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::redact::Rejected;

/// The future a store method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// A platform certificate download as WeChat Pay answered it: the headers that carry its
/// signature (`Wechatpay-Timestamp`, `-Nonce`, `-Serial`, `-Signature`, `-Signature-Type`,
/// `Request-ID`) and the body, still encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDownload {
    /// Header names and values, as received.
    pub headers: Vec<(String, String)>,
    /// The JSON body, as received.
    pub body: String,
}

/// The right a lease grants, for one merchant across the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lease {
    /// To download because the held set is missing or older than the refresh interval: held
    /// while the download runs, so that the others wait for its publication.
    Refresh,
    /// To download because a message named an unknown serial: held for the whole storm
    /// interval, so that the fleet makes at most one such download per interval.
    UnknownSerial,
}

impl Lease {
    /// The lease's name in a store's keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Lease::Refresh => "refresh",
            Lease::UnknownSerial => "unknown_serial",
        }
    }
}

/// Where the processes of a fleet share platform certificate downloads.
///
/// Implementations must be cheap to call and bounded in time (the client also puts a timeout
/// around every call); errors are reported, never retried by the store itself.
pub trait CertificateStore: Send + Sync + fmt::Debug {
    /// The newest download published for `mchid`, with its version (a number that grows with
    /// every publication).
    fn latest<'a>(&'a self, mchid: &'a str) -> StoreFuture<'a, Option<(u64, StoredDownload)>>;

    /// Publishes a download for `mchid`; returns its version. Versions must keep growing even
    /// when the store loses its data (a restart): processes remember the version they
    /// installed and ignore older ones. The publisher's clock in milliseconds, or one more than
    /// the previous version if that is larger, does it.
    fn publish<'a>(&'a self, mchid: &'a str, download: &'a StoredDownload) -> StoreFuture<'a, u64>;

    /// Takes `lease` for `mchid` for `ttl` if nobody holds it: `true` when this process is the
    /// one to download. A lease expires by itself, so a holder that dies blocks nobody.
    fn try_lease<'a>(
        &'a self,
        mchid: &'a str,
        lease: Lease,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// The newest version this store has heard of for `mchid` without asking anyone (from a
    /// change feed, e.g. Redis pub/sub), or `None` when it cannot tell. Called on every call
    /// of a client, so it must not block; a version newer than the one installed makes the
    /// client load the publication.
    fn version_hint(&self, mchid: &str) -> Option<u64> {
        let _ = mchid;
        None
    }
}

/// A store inside one process: clients of the same merchant share downloads and the storm
/// gate (tests, and several clients per merchant in one service). Clients without a store
/// keep their own downloads, as before.
#[derive(Debug, Default)]
pub struct MemoryCertificateStore {
    downloads: RwLock<HashMap<String, (u64, StoredDownload)>>,
    leases: Mutex<HashMap<(String, Lease), Instant>>,
}

impl MemoryCertificateStore {
    /// An empty store.
    pub fn new() -> MemoryCertificateStore {
        MemoryCertificateStore::default()
    }
}

impl CertificateStore for MemoryCertificateStore {
    fn latest<'a>(&'a self, mchid: &'a str) -> StoreFuture<'a, Option<(u64, StoredDownload)>> {
        let found = self
            .downloads
            .read()
            .map_err(|_| poisoned())
            .map(|map| map.get(mchid).cloned());
        Box::pin(async move { found })
    }

    fn publish<'a>(&'a self, mchid: &'a str, download: &'a StoredDownload) -> StoreFuture<'a, u64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let version = self
            .downloads
            .write()
            .map_err(|_| poisoned())
            .map(|mut map| {
                let version = map.get(mchid).map_or(now, |(v, _)| (v + 1).max(now));
                map.insert(mchid.to_owned(), (version, download.clone()));
                version
            });
        Box::pin(async move { version })
    }

    fn try_lease<'a>(
        &'a self,
        mchid: &'a str,
        lease: Lease,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let taken = self.leases.lock().map_err(|_| poisoned()).map(|mut map| {
            let now = Instant::now();
            let key = (mchid.to_owned(), lease);
            match map.get(&key) {
                Some(until) if *until > now => false,
                _ => {
                    map.insert(key, now + ttl);
                    true
                }
            }
        });
        Box::pin(async move { taken })
    }

    fn version_hint(&self, mchid: &str) -> Option<u64> {
        self.downloads
            .read()
            .ok()
            .and_then(|map| map.get(mchid).map(|(v, _)| *v))
    }
}

fn poisoned() -> Error {
    Error::Internal("the certificate store's lock was poisoned".into())
}

/// Makes a store from a configuration value such as `redis://127.0.0.1:6379/0`.
pub type StoreFactory = fn(&str) -> Result<Arc<dyn CertificateStore>>;

static FACTORIES: Schemes<StoreFactory> = Schemes::new();

/// Factories by URL scheme: how a host plugs a store engine into the core, which knows none.
pub(crate) struct Schemes<F>(RwLock<Vec<(&'static str, F)>>);

impl<F: Copy> Schemes<F> {
    pub(crate) const fn new() -> Schemes<F> {
        Schemes(RwLock::new(Vec::new()))
    }

    /// Registers `factory` for `scheme`, replacing an earlier one.
    pub(crate) fn register(&self, scheme: &'static str, factory: F) {
        if let Ok(mut factories) = self.0.write() {
            factories.retain(|(s, _)| *s != scheme);
            factories.push((scheme, factory));
        }
    }

    /// The factory for `url`'s scheme (`redis` of `redis://…`).
    pub(crate) fn find(&self, url: &str) -> Option<F> {
        let scheme = url.split_once("://").map(|(s, _)| s)?;
        let factories = self.0.read().ok()?;
        factories
            .iter()
            .find(|(s, _)| *s == scheme)
            .map(|(_, factory)| *factory)
    }

    /// The registered schemes, for an error message.
    pub(crate) fn schemes(&self) -> Vec<&'static str> {
        self.0
            .read()
            .map(|f| f.iter().map(|(s, _)| *s).collect())
            .unwrap_or_default()
    }
}

/// Makes stores of URL scheme `scheme` (`"redis"`) available to [`open_store`], hence to the
/// `certificate_store` setting of every language. The core knows no store engine; a host
/// (`goldplan-host` registers Redis) plugs one in. A second registration replaces the first.
pub fn register_store_scheme(scheme: &'static str, factory: StoreFactory) {
    FACTORIES.register(scheme, factory);
}

/// The store a `certificate_store` setting names: `memory` (this process only) or a URL whose
/// scheme was registered with [`register_store_scheme`].
pub fn open_store(setting: &str) -> Result<Arc<dyn CertificateStore>> {
    if setting == "memory" {
        return Ok(Arc::new(MemoryCertificateStore::new()));
    }
    match FACTORIES.find(setting) {
        Some(factory) => factory(setting),
        None => {
            let known = FACTORIES.schemes();
            Err(Error::Configuration(format!(
                "certificate_store must be `memory` or a URL of a registered store ({}); got {}",
                if known.is_empty() {
                    "none in this build".to_owned()
                } else {
                    known.join(", ")
                },
                Rejected(setting)
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn the_memory_store_versions_publications_and_expires_leases() {
        let store = MemoryCertificateStore::new();
        assert!(store.latest("1900000001").await.unwrap().is_none());
        let download = StoredDownload {
            headers: vec![("Request-ID".into(), "r1".into())],
            body: "{}".into(),
        };
        let first = store.publish("1900000001", &download).await.unwrap();
        let second = store.publish("1900000001", &download).await.unwrap();
        assert!(
            second > first && first > 1_600_000_000_000,
            "{first} {second}"
        );
        assert_eq!(store.version_hint("1900000001"), Some(second));
        assert_eq!(store.latest("1900000001").await.unwrap().unwrap().0, second);

        let ttl = Duration::from_millis(50);
        assert!(
            store
                .try_lease("1900000001", Lease::Refresh, ttl)
                .await
                .unwrap()
        );
        assert!(
            !store
                .try_lease("1900000001", Lease::Refresh, ttl)
                .await
                .unwrap()
        );
        // Leases are per merchant and per purpose.
        assert!(
            store
                .try_lease("1900000002", Lease::Refresh, ttl)
                .await
                .unwrap()
        );
        assert!(
            store
                .try_lease("1900000001", Lease::UnknownSerial, ttl)
                .await
                .unwrap()
        );
        std::thread::sleep(ttl);
        assert!(
            store
                .try_lease("1900000001", Lease::Refresh, ttl)
                .await
                .unwrap()
        );
    }

    #[test]
    fn an_unknown_store_is_refused_without_echoing_the_setting() {
        let e = open_store("ftp://user:secret-password@example/0").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Configuration);
        assert!(!e.to_string().contains("secret-password"), "{e}");
        assert!(open_store("memory").is_ok());
    }
}
