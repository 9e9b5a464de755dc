//! The client's side of certificate rotation: when a call needs certificates, downloading
//! `/v3/certificates` for the [`CertificateManager`], and the scheduled refresh task.

use std::sync::Arc;
use std::time::Duration;

use super::certificate_manager::{Obtained, RefreshTrigger};
use super::retry::Outgoing;
use super::store::{CertificateStore, Lease, StoredDownload};
use super::{CERTIFICATES_PATH, Client};
use crate::certificates;
use crate::error::{Error, Result};
use crate::verify::WechatpayHeaders;
use crate::x509::CertificateSet;

/// How long the certificate store may take to answer before a process goes its own way.
const STORE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a refresh lease is held: longer than a download with its retries takes.
const REFRESH_LEASE: Duration = Duration::from_secs(30);
/// How long a process with no certificate at all waits for another's publication.
const WAIT_FOR_PUBLICATION: Duration = Duration::from_secs(5);
/// How often it looks for that publication meanwhile (a read of one Redis hash: cheap, and
/// the wait is what a new process's first call pays).
const PUBLICATION_POLL: Duration = Duration::from_millis(25);
/// The response headers a stored download keeps: what its signature needs, and the Request-ID.
const SIGNED_HEADERS: [&str; 6] = [
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature",
    "Wechatpay-Signature-Type",
    "Request-ID",
];

/// `future`, or a transport error when the store takes longer than `limit`.
async fn within<T>(
    limit: Duration,
    future: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| {
            Err(Error::Certificate(format!(
                "the certificate store did not answer within {} ms",
                limit.as_millis()
            )))
        })
}

impl Client {
    /// Makes sure certificates are loaded (first call) and not older than the refresh
    /// interval (lazy refresh). Failures are logged: the old set stays in force and
    /// verification reports what is missing. Except one: a merchant without platform
    /// certificates (`404 RESOURCE_NOT_EXISTS`) when no public key is configured either. Then
    /// no answer could ever be verified, so nothing is sent and the caller is told to configure
    /// the public key.
    pub(super) async fn ensure_certificates(&self) -> Result<()> {
        let Some(manager) = &self.process.certificates else {
            return Ok(());
        };
        // Another process of the fleet may have downloaded a rotation: installing it costs a
        // store read when announced, and nothing otherwise.
        self.install_announced_certificates().await;
        if manager.certificates().is_empty() {
            // Nothing can verify a certificate-signed answer yet: this call waits for a download.
            if let Err(e) = self.refresh_if_allowed(RefreshTrigger::Stale).await {
                if self.settings.public_key.is_none() && manager.certificates().is_empty() {
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
        if manager.is_stale()
            && let Err(e) = self.refresh_if_allowed(RefreshTrigger::Stale).await
        {
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

    /// Asks the manager for a refresh of this kind; returns whether a set was installed.
    pub(super) async fn refresh_if_allowed(&self, trigger: RefreshTrigger) -> Result<bool> {
        let Some(manager) = &self.process.certificates else {
            return Ok(false);
        };
        manager
            .refresh(trigger, |trusted| async move {
                match &self.settings.certificate_store {
                    Some(store) => self.obtain_through_store(store, trigger, &trusted).await,
                    None => Ok(Obtained {
                        set: self.download_certificates(&trusted).await?.0,
                        age: Duration::ZERO,
                    }),
                }
            })
            .await
    }

    /// Installs a download another process published, when the store announces one this
    /// process has not installed yet. Never downloads, never fails a call.
    pub(super) async fn install_announced_certificates(&self) {
        let (Some(store), Some(manager)) =
            (&self.settings.certificate_store, &self.process.certificates)
        else {
            return;
        };
        if store
            .version_hint(self.mchid())
            .is_none_or(|v| v <= manager.store_version())
        {
            return;
        }
        if let Err(e) = self.refresh_if_allowed(RefreshTrigger::Published).await {
            tracing::warn!(error = %e, "an announced certificate download could not be installed");
        }
    }

    /// A refresh when the fleet shares downloads: first what another process published (each
    /// trigger decides whether that is enough), then a download by whoever takes the lease.
    /// Whatever goes wrong with the store, the process downloads for itself.
    async fn obtain_through_store(
        &self,
        store: &Arc<dyn CertificateStore>,
        trigger: RefreshTrigger,
        trusted: &CertificateSet,
    ) -> Result<Obtained> {
        let Some(manager) = &self.process.certificates else {
            return Err(Error::Internal(
                "certificate refresh without a manager".into(),
            ));
        };
        let mut base = trusted.clone();
        match self.read_publication(store, manager.store_version()).await {
            Ok(Some((version, obtained))) => {
                manager.set_store_version(version);
                let fresh = obtained.age < manager.policy().interval;
                let cures = obtained
                    .set
                    .iter()
                    .any(|c| !trusted.iter().any(|t| t.serial_hex() == c.serial_hex()));
                match trigger {
                    RefreshTrigger::Published => return Ok(obtained),
                    RefreshTrigger::Stale if fresh => return Ok(obtained),
                    RefreshTrigger::UnknownSerial if cures => return Ok(obtained),
                    _ => base = obtained.set,
                }
            }
            Ok(None) if trigger == RefreshTrigger::Published => {
                return Err(Error::Certificate(
                    "the store announced a certificate download that it does not hold".into(),
                ));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "certificate store unavailable; downloading for this process");
                return self.download_for_fleet(None, &base).await;
            }
        }
        let (lease, ttl) = match trigger {
            RefreshTrigger::UnknownSerial => (Lease::UnknownSerial, manager.policy().min_interval),
            _ => (Lease::Refresh, REFRESH_LEASE),
        };
        match within(STORE_TIMEOUT, store.try_lease(self.mchid(), lease, ttl)).await {
            Ok(true) => self.download_for_fleet(Some(store), &base).await,
            Err(e) => {
                tracing::warn!(error = %e, "certificate store unavailable; downloading for this process");
                self.download_for_fleet(None, &base).await
            }
            // A forced refresh is the caller's explicit request: it downloads regardless.
            Ok(false) if trigger == RefreshTrigger::Forced => {
                self.download_for_fleet(Some(store), &base).await
            }
            Ok(false) if base.is_empty() || trigger == RefreshTrigger::UnknownSerial => {
                // Another process holds the lease and is downloading: wait for its
                // publication (a new serial is usually a rotation it is fetching). With nothing
                // to verify with at all, download for this process if none came (the holder
                // may have died); an unknown serial keeps the set held (the fleet's one
                // download for this storm interval is the holder's). The manager's own gate
                // lets a process wait like this at most once per storm interval.
                let deadline = tokio::time::Instant::now() + WAIT_FOR_PUBLICATION;
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(PUBLICATION_POLL).await;
                    if let Ok(Some((version, obtained))) =
                        self.read_publication(store, manager.store_version()).await
                    {
                        manager.set_store_version(version);
                        return Ok(obtained);
                    }
                }
                if base.is_empty() {
                    self.download_for_fleet(None, &base).await
                } else {
                    Ok(Obtained {
                        set: base,
                        age: Duration::ZERO,
                    })
                }
            }
            // Another process is downloading (or did, in this storm interval): keep what is
            // held; its publication is installed when announced or at the next refresh.
            Ok(false) => Ok(Obtained {
                set: base,
                age: Duration::ZERO,
            }),
        }
    }

    /// The store's download newer than `installed`, decrypted with this process's APIv3 key
    /// and its signature verified, with its version; `None` when there is none. A stored
    /// answer that does not decrypt or verify is refused (logged) and counts as none.
    async fn read_publication(
        &self,
        store: &Arc<dyn CertificateStore>,
        installed: u64,
    ) -> Result<Option<(u64, Obtained)>> {
        let Some((version, stored)) = within(STORE_TIMEOUT, store.latest(self.mchid())).await?
        else {
            return Ok(None);
        };
        if version <= installed {
            return Ok(None);
        }
        match self.validate_stored(&stored) {
            Ok(obtained) => Ok(Some((version, obtained))),
            Err(e) => {
                // Seen and refused: not read again on every call (a poisoned entry would cost
                // each call a store read); a genuine publication comes with a newer version.
                if let Some(manager) = &self.process.certificates {
                    manager.set_store_version(version);
                }
                tracing::warn!(
                    error = %e,
                    version,
                    "refused a stored certificate download (not encrypted with this APIv3 key, \
                     or not signed by WeChat Pay)"
                );
                Ok(None)
            }
        }
    }

    /// Decrypts and verifies a stored download, merged with the certificates held.
    fn validate_stored(&self, stored: &StoredDownload) -> Result<Obtained> {
        let key = self.settings.apiv3_key.as_ref().ok_or_else(|| {
            Error::Configuration("platform certificates need the APIv3 key".into())
        })?;
        let headers = WechatpayHeaders::from_pairs(
            stored
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        )?;
        let trusted = self.platform_certificates();
        let now = self.settings.clock.now();
        let (downloaded, signed_at) = certificates::validate_stored_download(
            &headers,
            stored.body.as_bytes(),
            key,
            &trusted,
            self.settings.public_key.as_deref(),
            now,
        )?;
        let age = u64::try_from(now.saturating_sub(signed_at)).unwrap_or(0);
        Ok(Obtained {
            set: downloaded.certificates.union(&trusted.retain_valid(now)),
            age: Duration::from_secs(age),
        })
    }

    /// Downloads for this process and, with a store, publishes the answer as received for the
    /// rest of the fleet (a failed publication is logged: this process has its certificates).
    async fn download_for_fleet(
        &self,
        store: Option<&Arc<dyn CertificateStore>>,
        trusted: &CertificateSet,
    ) -> Result<Obtained> {
        let (set, stored) = self.download_certificates(trusted).await?;
        if let Some(store) = store {
            match within(STORE_TIMEOUT, store.publish(self.mchid(), &stored)).await {
                Ok(version) => {
                    if let Some(manager) = &self.process.certificates {
                        manager.set_store_version(version);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not publish the certificate download"),
            }
        }
        Ok(Obtained {
            set,
            age: Duration::ZERO,
        })
    }

    /// Downloads, decrypts and verifies the certificate list (spec §3.3) and returns the set
    /// to trust from now on (the new certificates plus the old ones still valid, because
    /// WeChat Pay may still sign with them) and the answer as received, for a store.
    async fn download_certificates(
        &self,
        trusted: &CertificateSet,
    ) -> Result<(CertificateSet, StoredDownload)> {
        let key = self.settings.apiv3_key.as_ref().ok_or_else(|| {
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
                wechatpay_serial: self.process.verifier.accept_serial(),
                idempotent: true,
                verify: false,
            })
            .await?;
        let request_id = response.request_id();
        let headers = WechatpayHeaders::from_pairs(
            response
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        )?;
        let downloaded = certificates::validate_download(
            &headers,
            &response.body,
            key,
            trusted,
            self.settings.public_key.as_deref(),
            &self.settings.policy,
        )?;
        let now = self.settings.clock.now();
        let merged = downloaded.certificates.union(&trusted.retain_valid(now));
        tracing::info!(
            serials = ?merged.iter().map(|c| c.serial_hex().to_owned()).collect::<Vec<_>>(),
            dropped = downloaded.dropped.len(),
            request_id = request_id.as_deref().unwrap_or(""),
            "platform certificates refreshed"
        );
        let stored = StoredDownload {
            headers: response
                .headers
                .iter()
                .filter(|(name, _)| SIGNED_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            body: String::from_utf8_lossy(&response.body).into_owned(),
        };
        Ok((merged, stored))
    }

    /// A future that refreshes platform certificates every `interval` (±10 % jitter) until
    /// dropped. Spawn it on your runtime; it is a no-op in public-key mode.
    pub fn certificate_refresh_task(
        &self,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let client = self.clone();
        async move {
            let Some(manager) = client.process.certificates.clone() else {
                return;
            };
            loop {
                tokio::time::sleep(manager.next_scheduled_delay()).await;
                if let Err(e) = client.refresh_if_allowed(RefreshTrigger::Stale).await {
                    tracing::warn!(error = %e, "scheduled certificate refresh failed");
                }
            }
        }
    }
}
