//! [`SandboxControl`]: every admin operation as a Rust method. The admin HTTP API calls these
//! same methods, so in-process Rust tests need no HTTP to drive the sandbox.

use std::sync::Arc;
use std::time::Duration;

use goldplan::clock::{Clock, SystemClock};
use goldplan::x509::Certificate;

use crate::callbacks::CallbackRequest;
use crate::clock::SandboxClock;
use crate::config::{KeyMode, Settings};
use crate::error::{Result, SandboxError};
use crate::identity::WechatSide;
use crate::model::{
    CallbackRecord, ClockView, DeliveryStatus, Fault, MediaRecord, MerchantPatch,
    MerchantRegistration, MerchantView, OrderRef, PayOutcome, PayRequest, PlatformCertificateInfo,
    RequestRecord, RotateRequest, RotationOutcome, SandboxInfo, SubMerchantPatch,
    SubMerchantRegistration, SubMerchantState,
};
use crate::state::{Merchant, Shared};
use goldplan::payments::PartnerTransaction;

/// A cheap, cloneable handle on a running sandbox's state and admin operations.
#[derive(Clone)]
pub struct SandboxControl {
    pub(crate) app: Arc<Shared>,
}

impl std::fmt::Debug for SandboxControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxControl")
            .field("base_url", &self.app.base_url)
            .finish_non_exhaustive()
    }
}

/// `m` as the admin API shows it, with its WeChat Pay side (`side`) at sandbox time `now`.
fn view(m: &Merchant, side: &WechatSide, now: i64) -> MerchantView {
    MerchantView {
        public_key_id: side.public_key_id.clone(),
        public_key_pem: side.public_key.public_key_pem(),
        platform_certificates: side
            .certificate_info(now, m.mode)
            .into_iter()
            .filter(|c| c.active)
            .collect(),
        mchid: m.mchid.clone(),
        serial_no: m.serial_no.clone(),
        mode: m.mode,
        callback_public_key_share: m.callback_public_key_share,
        receipt_link: m.receipt_link.clone(),
        gold_plan_joined: m.gold_plan_joined,
        punished: m.punished,
        provider_type: m.provider_type,
        sub_mchids: m.sub_merchants.keys().cloned().collect(),
    }
}

fn check_sub_mchid(sub_mchid: &str) -> Result<()> {
    goldplan::gold_plan::validate_sub_mchid(sub_mchid)
        .map_err(|e| SandboxError::InvalidInput(e.to_string()))
}

fn link(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

impl SandboxControl {
    /// Base URL of the gateway (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// The content of `sandbox.json`.
    pub fn info(&self) -> Result<SandboxInfo> {
        self.app.lock().info(&self.app.base_url, self.app.now())
    }

    /// The sandbox clock (a [`goldplan::clock::Clock`]); a Rust client may share it.
    pub fn clock(&self) -> Arc<SandboxClock> {
        self.app.clock.clone()
    }

    /// The sandbox time and its offset from the system clock.
    pub fn clock_view(&self) -> ClockView {
        ClockView {
            now: self.app.now(),
            offset_secs: self.app.clock.offset(),
        }
    }

    /// Moves the sandbox clock forward by `seconds`.
    pub fn advance_clock(&self, seconds: i64) -> Result<ClockView> {
        if seconds < 0 {
            return Err(SandboxError::InvalidInput(
                "the sandbox clock only moves forward (use reset)".into(),
            ));
        }
        self.app.clock.advance(seconds);
        self.app.persist()?;
        Ok(self.clock_view())
    }

    /// Puts the sandbox clock back on system time.
    pub fn reset_clock(&self) -> Result<ClockView> {
        self.app.clock.reset();
        self.app.persist()?;
        Ok(self.clock_view())
    }

    /// The current run-time settings.
    pub fn settings(&self) -> Settings {
        self.app.lock().settings.clone()
    }

    /// Changes the settings named in `patch` (a JSON object, e.g.
    /// `{"rate_limit": {"max_requests": 5, "window_secs": 1}}`).
    pub fn update_settings(&self, patch: &serde_json::Value) -> Result<Settings> {
        let next = {
            let mut st = self.app.lock();
            let next = st
                .settings
                .patched(patch)
                .map_err(SandboxError::InvalidInput)?;
            st.settings = next.clone();
            next
        };
        self.app.persist_state()?;
        Ok(next)
    }

    /// Registers an extra merchant with its own key, so users can test their own
    /// credentials.
    pub fn register_merchant(&self, r: MerchantRegistration) -> Result<MerchantView> {
        if r.mchid.is_empty() || r.mchid.len() > 32 || !r.mchid.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SandboxError::InvalidInput(
                "mchid must be 1 to 32 digits".into(),
            ));
        }
        // Everything below checks what the caller sent: a failure is their input's fault
        // (400), never the sandbox's (500).
        let invalid = |what: &str, e: goldplan::Error| {
            SandboxError::InvalidInput(format!("{what} is not valid: {e}"))
        };
        let (serial_no, der) = match (&r.certificate_pem, &r.public_key_pem) {
            (Some(cert), _) => {
                let cert =
                    Certificate::from_pem(cert).map_err(|e| invalid("certificate_pem", e))?;
                (
                    r.serial_no
                        .clone()
                        .unwrap_or_else(|| cert.serial_hex().to_owned()),
                    cert.public_key_der().to_vec(),
                )
            }
            (None, Some(pem_text)) => {
                let der = goldplan::verify::PublicKeyVerifier::from_pem("PUB_KEY_ID_0", pem_text)
                    .map_err(|e| invalid("public_key_pem", e))?
                    .public_key_der()
                    .to_vec();
                let serial = r.serial_no.clone().ok_or_else(|| {
                    SandboxError::InvalidInput("serial_no is required with public_key_pem".into())
                })?;
                (serial, der)
            }
            (None, None) => {
                return Err(SandboxError::InvalidInput(
                    "give certificate_pem or public_key_pem".into(),
                ));
            }
        };
        goldplan::x509::SerialNumber::parse(&serial_no).map_err(|_| {
            SandboxError::InvalidInput("serial_no is not a hexadecimal certificate serial".into())
        })?;
        if r.apiv3_key.len() != 32 {
            // Said here without the key itself: it is a secret.
            return Err(SandboxError::InvalidInput(format!(
                "apiv3_key must be 32 bytes, not {}",
                r.apiv3_key.len()
            )));
        }
        for sub in &r.sub_mchids {
            check_sub_mchid(sub)?;
        }
        let mut merchant = Merchant::new(
            r.mchid.clone(),
            serial_no.to_ascii_uppercase(),
            &der,
            &r.apiv3_key,
            r.mode.unwrap_or(KeyMode::Combined),
        )?;
        for sub in &r.sub_mchids {
            merchant.ensure_sub(sub);
        }
        if self.app.lock().merchants.contains_key(&r.mchid) {
            return Err(SandboxError::InvalidInput(format!(
                "merchant {} is already registered",
                r.mchid
            )));
        }
        // Its own platform certificate and public key, as on the real gateway: generated
        // here (two RSA keys, a fraction of a second) outside the lock.
        let now = self.app.now();
        let validity = self.settings().certificate_validity_secs;
        let side = WechatSide::generate(now, SystemClock.now(), validity)?;
        let shown = view(&merchant, &side, now);
        {
            let mut st = self.app.lock();
            // Checked again: another registration may have won the race meanwhile.
            if st.merchants.contains_key(&r.mchid) {
                return Err(SandboxError::InvalidInput(format!(
                    "merchant {} is already registered",
                    r.mchid
                )));
            }
            st.sides.insert(r.mchid.clone(), side);
            st.merchants.insert(r.mchid, merchant);
        }
        self.app.persist_state()?;
        Ok(shown)
    }

    /// Every merchant.
    pub fn merchants(&self) -> Vec<MerchantView> {
        let now = self.app.now();
        let st = self.app.lock();
        st.merchants
            .values()
            .map(|m| view(m, st.side(Some(&m.mchid)), now))
            .collect()
    }

    /// One merchant, with its own WeChat Pay public key and platform certificates.
    pub fn merchant(&self, mchid: &str) -> Result<MerchantView> {
        let now = self.app.now();
        let st = self.app.lock();
        Ok(view(st.merchant(mchid)?, st.side(Some(mchid)), now))
    }

    /// Changes a merchant: key mode (the migration to the public key), callback share,
    /// provider receipt link, provider flags.
    ///
    /// A switch to certificate mode is refused (`InvalidInput`; rotate first) while the
    /// merchant has no listed platform certificate: a certificate-mode client could verify
    /// no answer. Once in certificate mode, a listed certificate always signs (see
    /// [`PlatformCertificateInfo::held_over`]).
    pub fn update_merchant(&self, mchid: &str, patch: MerchantPatch) -> Result<MerchantView> {
        if let Some(share) = patch.callback_public_key_share
            && !(0.0..=1.0).contains(&share)
        {
            return Err(SandboxError::InvalidInput(
                "callback_public_key_share must be between 0 and 1".into(),
            ));
        }
        let now = self.app.now();
        let shown = {
            let mut st = self.app.lock();
            // Checked before anything changes, so a refused patch changes nothing.
            let current = st.merchant(mchid)?.mode;
            if patch.mode == Some(KeyMode::Certificate)
                && current != KeyMode::Certificate
                && !st
                    .side(Some(mchid))
                    .platform
                    .iter()
                    .any(|p| p.is_active(now))
            {
                // A certificate-mode client verifies answers with listed certificates only:
                // without one, it could verify nothing.
                return Err(SandboxError::InvalidInput(
                    "the merchant has no listed platform certificate to switch to certificate                      mode with; rotate first"
                        .into(),
                ));
            }
            let m = st.merchant_mut(mchid)?;
            if let Some(mode) = patch.mode {
                m.mode = mode;
            }
            if let Some(share) = patch.callback_public_key_share {
                m.callback_public_key_share = share;
            }
            if let Some(l) = patch.receipt_link {
                m.receipt_link = link(l);
            }
            if let Some(j) = patch.gold_plan_joined {
                m.gold_plan_joined = j;
            }
            if let Some(p) = patch.punished {
                m.punished = p;
            }
            if let Some(t) = patch.provider_type {
                m.provider_type = t;
            }
            let m = st.merchant(mchid)?;
            view(m, st.side(Some(mchid)), now)
        };
        self.app.persist()?;
        Ok(shown)
    }

    /// Registers a special merchant under `mchid` (idempotent; an existing one keeps its
    /// state and gets the receipt link if one is given).
    pub fn add_sub_merchant(
        &self,
        mchid: &str,
        r: SubMerchantRegistration,
    ) -> Result<SubMerchantState> {
        check_sub_mchid(&r.sub_mchid)?;
        let state = {
            let mut st = self.app.lock();
            let m = st.merchant_mut(mchid)?;
            let sub = m.ensure_sub(&r.sub_mchid);
            if let Some(l) = r.receipt_link {
                sub.receipt_link = link(l);
            }
            sub.clone()
        };
        self.app.persist()?;
        Ok(state)
    }

    /// The Gold Plan state of one special merchant.
    pub fn sub_merchant(&self, mchid: &str, sub_mchid: &str) -> Result<SubMerchantState> {
        self.app
            .lock()
            .merchant(mchid)?
            .sub_merchants
            .get(sub_mchid)
            .cloned()
            .ok_or_else(|| SandboxError::NotFound(format!("special merchant {sub_mchid}")))
    }

    /// Changes a special merchant's receipt link, punishment flag, AppID or JSAPI permission.
    pub fn update_sub_merchant(
        &self,
        mchid: &str,
        sub_mchid: &str,
        patch: SubMerchantPatch,
    ) -> Result<SubMerchantState> {
        let state = {
            let mut st = self.app.lock();
            let sub = st
                .merchant_mut(mchid)?
                .sub_merchants
                .get_mut(sub_mchid)
                .ok_or_else(|| SandboxError::NotFound(format!("special merchant {sub_mchid}")))?;
            if let Some(l) = patch.receipt_link {
                sub.receipt_link = link(l);
            }
            if let Some(p) = patch.punished {
                sub.punished = p;
            }
            if let Some(a) = patch.sub_appid {
                let n = a.chars().count();
                if n == 0 || n > goldplan::payments::MAX_ID_LEN {
                    return Err(SandboxError::InvalidInput(
                        "sub_appid must be 1 to 32 characters".into(),
                    ));
                }
                sub.sub_appid = a;
            }
            if let Some(j) = patch.jsapi {
                sub.jsapi = j;
            }
            sub.clone()
        };
        self.app.persist_state()?;
        Ok(state)
    }

    /// Every platform certificate ever issued to the built-in provider, with its status.
    pub fn platform_certificates(&self) -> Vec<PlatformCertificateInfo> {
        let now = self.app.now();
        let st = self.app.lock();
        let mode = st.mode_of(&st.primary_mchid);
        st.identities.wechat.certificate_info(now, mode)
    }

    /// Every platform certificate ever issued to `mchid` (each merchant has its own).
    pub fn platform_certificates_of(&self, mchid: &str) -> Result<Vec<PlatformCertificateInfo>> {
        let now = self.app.now();
        let st = self.app.lock();
        let mode = st.merchant(mchid)?.mode;
        Ok(st.side(Some(mchid)).certificate_info(now, mode))
    }

    /// Issues a new platform certificate; the previous ones stay listed for the overlap. By
    /// default the new one signs after the lead time (see [`RotateRequest::sign_with_new`]).
    pub async fn rotate_platform_certificate(
        &self,
        request: RotateRequest,
    ) -> Result<RotationOutcome> {
        crate::certs::rotate(&self.app, &request).await
    }

    /// Makes an active platform certificate sign from now on, whatever its lead time (the
    /// explicit end of a staged hand-over, or a switch back).
    pub fn sign_with_platform_certificate(&self, serial_no: &str) -> Result<()> {
        crate::certs::switch(&self.app, serial_no)
    }

    /// Retires a platform certificate now (no longer listed, no longer signing). See
    /// [`SandboxControl::expire_platform_certificate_listed`].
    pub fn expire_platform_certificate(&self, serial_no: &str) -> Result<()> {
        crate::certs::expire(&self.app, serial_no).map(drop)
    }

    /// Retires a platform certificate now (no longer listed, no longer signing) and returns
    /// every certificate of the merchant that held it, as the admin API answers.
    ///
    /// A merchant in certificate mode only ever sees listed certificates: its last listed one
    /// cannot be expired (`InvalidInput`; rotate first), and when the certificate signing goes
    /// before any other has passed its lead time, the listed one whose lead time ends first
    /// (the new one of the rotation under way) signs its answers at once; that entry then has
    /// `signing` and
    /// [`lead_time_cut_short`](PlatformCertificateInfo::lead_time_cut_short) set. Merchants in
    /// the other modes get the public key until a lead time has passed.
    pub fn expire_platform_certificate_listed(
        &self,
        serial_no: &str,
    ) -> Result<Vec<PlatformCertificateInfo>> {
        crate::certs::expire(&self.app, serial_no)
    }

    /// Queues a fault for the next `fault.count` matching requests.
    pub fn inject_fault(&self, fault: Fault) -> Result<()> {
        if fault.count == 0 {
            return Err(SandboxError::InvalidInput(
                "count must be at least 1".into(),
            ));
        }
        if fault.target == crate::model::FaultTarget::Callback
            && !(fault.kind.is_response_fault()
                && fault.kind != crate::model::FaultKind::TruncatedBody)
        {
            return Err(SandboxError::InvalidInput(
                "callback faults are bad_signature, unknown_serial and stale_timestamp".into(),
            ));
        }
        self.app.lock().faults.push(fault);
        Ok(())
    }

    /// The queued faults with their remaining counts.
    pub fn faults(&self) -> Vec<Fault> {
        self.app.lock().faults.clone()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.app.lock().faults.clear();
    }

    /// Sends a notification; returns its record (final when `request.wait`).
    pub async fn send_callback(&self, request: CallbackRequest) -> Result<CallbackRecord> {
        crate::callbacks::send(&self.app, request).await
    }

    /// Every callback with its attempts.
    pub fn callbacks(&self) -> Vec<CallbackRecord> {
        self.app.lock().callbacks.values().cloned().collect()
    }

    /// One callback.
    pub fn callback(&self, id: &str) -> Result<CallbackRecord> {
        self.app
            .lock()
            .callbacks
            .get(id)
            .cloned()
            .ok_or_else(|| SandboxError::NotFound(format!("callback {id}")))
    }

    /// Waits (polling) until the callback is delivered or has failed, at most `timeout`.
    pub async fn wait_for_callback(&self, id: &str, timeout: Duration) -> Result<CallbackRecord> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let record = self.callback(id)?;
            if record.status != DeliveryStatus::Pending || tokio::time::Instant::now() >= deadline {
                return Ok(record);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The request log (oldest first, at most 1000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.lock().requests.iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.app.lock().requests.clear();
    }

    /// Simulates the payer paying an unpaid order (PAYMENTS.md §7.4), named directly or by the
    /// six front-end values (checked like the WeChat client would). On success the order is
    /// `SUCCESS` with its ids assigned and the payment notification is queued to a loopback
    /// `notify_url`; a failure leaves the order unchanged
    /// ([`SandboxError::PaymentRefused`] with the reason).
    pub async fn pay(&self, request: PayRequest) -> Result<PayOutcome> {
        crate::payments::pay(&self.app, request).await
    }

    /// The Gold Plan page WeChat shows after `order` was paid: `None` when Gold Plan is not
    /// open for its special merchant; without receipt when the receipt switch is off or no
    /// receipt link is configured. An unpaid order has none
    /// ([`SandboxError::PaymentRefused`], `ORDER_NOT_PAID`).
    pub fn gold_plan_page(
        &self,
        order: &OrderRef,
    ) -> Result<Option<goldplan_receipt::gold_plan_page::GoldPlanPage>> {
        crate::payments::paid_order_page(&self.app, order)
    }

    /// Moves a paid order to `REFUND` (for query tests); idempotent.
    pub fn refund(&self, order: &OrderRef) -> Result<PartnerTransaction> {
        crate::payments::refund(&self.app, order)
    }

    /// Makes an unpaid order's `time_expire` pass now: it can no longer be paid, and a
    /// re-prepay answers `403 TRADE_ERROR`. Advancing the clock past `time_expire` has the
    /// same effect.
    pub fn expire_order(&self, order: &OrderRef) -> Result<PartnerTransaction> {
        crate::payments::expire(&self.app, order)
    }

    /// An order as the order query (E2) would answer it.
    pub fn order(&self, order: &OrderRef) -> Result<PartnerTransaction> {
        crate::payments::order(&self.app, order)
    }

    /// An uploaded file's record.
    pub fn media(&self, media_id: &str) -> Result<MediaRecord> {
        self.app
            .lock()
            .media
            .get(media_id)
            .cloned()
            .ok_or_else(|| SandboxError::NotFound(format!("media {media_id}")))
    }
}
