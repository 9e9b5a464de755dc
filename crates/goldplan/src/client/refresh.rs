//! The client's side of certificate rotation: when a call needs certificates, downloading
//! `/v3/certificates` for the [`CertificateManager`], and the scheduled refresh task.

use super::certificate_manager::RefreshTrigger;
use super::retry::Outgoing;
use super::{CERTIFICATES_PATH, Client};
use crate::certificates;
use crate::error::{Error, Result};
use crate::verify::WechatpayHeaders;
use crate::x509::CertificateSet;

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

    /// Asks the manager for a refresh of this kind; returns whether a download happened.
    pub(super) async fn refresh_if_allowed(&self, trigger: RefreshTrigger) -> Result<bool> {
        let Some(manager) = &self.process.certificates else {
            return Ok(false);
        };
        manager
            .refresh(trigger, |trusted| async move {
                self.download_certificates(&trusted).await
            })
            .await
    }

    /// Downloads, decrypts and verifies the certificate list (spec §3.3) and returns the set
    /// to trust from now on: the new certificates plus the old ones still valid, because
    /// WeChat Pay may still sign with them.
    async fn download_certificates(&self, trusted: &CertificateSet) -> Result<CertificateSet> {
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
        Ok(merged)
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
