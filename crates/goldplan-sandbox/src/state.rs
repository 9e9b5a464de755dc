//! The sandbox's mutable world: merchants and their special merchants, platform certificates,
//! faults, the request log, callbacks and uploads, behind one lock. RSA operations never run
//! while the lock is held.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use goldplan::clock::{Clock, SystemClock};
use goldplan::credentials::{ApiV3Key, PrivateKey};
use goldplan::verify::PublicKeyVerifier;
use goldplan::x509::SerialNumber;
use zeroize::Zeroizing;

use crate::clock::SandboxClock;
use crate::clock::rfc3339_cst;
use crate::config::{KeyMode, ProtocolClock, Settings};
use crate::error::{Result, SandboxError};
use crate::identity::{Identities, PlatformIdentity, WechatSide};
use crate::model::{
    CallbackRecord, Fault, FaultTarget, MediaRecord, PlatformCertificateInfo, ProviderType,
    RequestRecord, SandboxInfo, SubMerchantInfo, SubMerchantState,
};
use crate::orders::Order;

/// Most entries kept in the request log.
const REQUEST_LOG_LEN: usize = 1000;

/// Most callbacks whose delivery records are kept. Beyond it the oldest finished ones are
/// forgotten (a sandbox that runs for days must not grow without bound); deliveries still
/// under way are always kept.
pub(crate) const CALLBACK_LOG_LEN: usize = 10_000;

/// The callbacks sent and their delivery records, by id, the oldest forgotten first.
#[derive(Default)]
pub(crate) struct CallbackLog {
    records: BTreeMap<String, CallbackRecord>,
    order: VecDeque<String>,
}

impl CallbackLog {
    /// Adds a record, then forgets the oldest finished ones beyond [`CALLBACK_LOG_LEN`].
    pub(crate) fn insert(&mut self, record: CallbackRecord) {
        self.order.push_back(record.id.clone());
        self.records.insert(record.id.clone(), record);
        let mut at = 0;
        while self.records.len() > CALLBACK_LOG_LEN && at < self.order.len() {
            let pending = self
                .order
                .get(at)
                .and_then(|id| self.records.get(id))
                .is_some_and(|r| r.status == crate::model::DeliveryStatus::Pending);
            if pending {
                at += 1;
            } else if let Some(id) = self.order.remove(at) {
                self.records.remove(&id);
            }
        }
    }

    /// The record of `id`.
    pub(crate) fn get(&self, id: &str) -> Option<&CallbackRecord> {
        self.records.get(id)
    }

    /// The record of `id`, to update.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut CallbackRecord> {
        self.records.get_mut(id)
    }

    /// Every record kept, by id.
    pub(crate) fn values(&self) -> impl Iterator<Item = &CallbackRecord> {
        self.records.values()
    }
}

/// Most request nonces remembered at once. Beyond it the oldest are forgotten early (a replay
/// of a forgotten one would pass), so that a flood of signed requests cannot grow memory.
const NONCE_LOG_LEN: usize = 100_000;

/// The request nonces seen inside the timestamp window, per merchant. Kept as SHA-256 digests,
/// so that a long `nonce_str` costs no more than a short one.
#[derive(Default)]
pub(crate) struct NonceLog {
    /// Digest of (mchid, nonce) → protocol time until which a replay would be accepted.
    until: HashMap<[u8; 32], i64>,
    /// The same digests in the order they were seen, for eviction.
    order: VecDeque<[u8; 32]>,
}

impl NonceLog {
    /// Records `nonce` for `mchid` and says whether it is new: false when the same merchant
    /// used it before and that request's timestamp is still inside the window at `now`.
    pub(crate) fn first_use(&mut self, mchid: &str, nonce: &str, until: i64, now: i64) -> bool {
        // Forget what the timestamp check refuses by itself anyway. Entries are in arrival
        // order, not expiry order; a later-expiring one at the front only delays the rest.
        while let Some(front) = self.order.front() {
            let expired = self.until.get(front).is_none_or(|u| *u < now);
            if !expired && self.order.len() < NONCE_LOG_LEN {
                break;
            }
            if let Some(old) = self.order.pop_front() {
                self.until.remove(&old);
            }
        }
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        // The length prefix keeps ("12", "3…") and ("1", "23…") apart.
        ctx.update(&(mchid.len() as u64).to_be_bytes());
        ctx.update(mchid.as_bytes());
        ctx.update(nonce.as_bytes());
        let mut key = [0u8; 32];
        // A SHA-256 digest is always 32 bytes, so the lengths match and this cannot panic.
        key.copy_from_slice(ctx.finish().as_ref());
        match self.until.get_mut(&key) {
            Some(previous) if *previous >= now => false,
            Some(previous) => {
                *previous = until;
                true
            }
            None => {
                self.until.insert(key, until);
                self.order.push_back(key);
                true
            }
        }
    }
}

/// A service provider known to the gateway.
pub(crate) struct Merchant {
    pub(crate) mchid: String,
    pub(crate) serial_no: String,
    pub(crate) verifier: Arc<PublicKeyVerifier>,
    pub(crate) apiv3_key: ApiV3Key,
    /// The APIv3 key as given, kept for `state.json` (the core's key type does not give its
    /// bytes back).
    pub(crate) apiv3_key_text: Zeroizing<String>,
    pub(crate) mode: KeyMode,
    pub(crate) callback_public_key_share: f64,
    pub(crate) receipt_link: Option<String>,
    pub(crate) gold_plan_joined: bool,
    pub(crate) punished: bool,
    pub(crate) provider_type: ProviderType,
    pub(crate) sub_merchants: BTreeMap<String, SubMerchantState>,
    /// (window start, calls in window) of the Gold Plan rate limit.
    pub(crate) rate_window: (i64, u32),
}

impl Merchant {
    pub(crate) fn new(
        mchid: String,
        serial_no: String,
        public_key_der: &[u8],
        apiv3_key: &str,
        mode: KeyMode,
    ) -> Result<Merchant> {
        // The core's public-key verifier doubles as the merchant key holder; requests are
        // routed to it after their serial was matched numerically.
        let verifier = PublicKeyVerifier::from_der(serial_no.clone(), public_key_der)?;
        Ok(Merchant {
            mchid,
            serial_no,
            verifier: Arc::new(verifier),
            apiv3_key: ApiV3Key::new(apiv3_key.as_bytes())?,
            apiv3_key_text: Zeroizing::new(apiv3_key.to_owned()),
            mode,
            callback_public_key_share: 0.0,
            receipt_link: None,
            gold_plan_joined: true,
            punished: false,
            provider_type: ProviderType::Ordinary,
            sub_merchants: BTreeMap::new(),
            rate_window: (0, 0),
        })
    }
}

impl Merchant {
    /// Takes over `previous`'s business state (mode, flags, receipt link, special merchants)
    /// while keeping this merchant's key.
    pub(crate) fn adopt_business_state(&mut self, previous: Merchant) {
        self.mode = previous.mode;
        self.callback_public_key_share = previous.callback_public_key_share;
        self.receipt_link = previous.receipt_link;
        self.gold_plan_joined = previous.gold_plan_joined;
        self.punished = previous.punished;
        self.provider_type = previous.provider_type;
        self.sub_merchants = previous.sub_merchants;
    }

    /// The special merchant `sub_mchid`, registered (with a fresh state) if it is new.
    pub(crate) fn ensure_sub(&mut self, sub_mchid: &str) -> &mut SubMerchantState {
        self.sub_merchants
            .entry(sub_mchid.to_owned())
            .or_insert_with(|| SubMerchantState {
                sub_mchid: sub_mchid.to_owned(),
                ..SubMerchantState::default()
            })
    }
}

/// A WeChat Pay key ready to sign: the id that goes into `Wechatpay-Serial`, and the key.
#[derive(Clone)]
pub(crate) struct WechatKey {
    pub(crate) id: String,
    pub(crate) key: Arc<PrivateKey>,
}

pub(crate) struct State {
    pub(crate) settings: Settings,
    /// The built-in provider's keys, and its WeChat Pay side (`identities.wechat`).
    pub(crate) identities: Identities,
    /// The WeChat Pay side of every registered merchant (the built-in one's is in
    /// `identities`).
    pub(crate) sides: BTreeMap<String, WechatSide>,
    pub(crate) primary_mchid: String,
    pub(crate) merchants: BTreeMap<String, Merchant>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) requests: VecDeque<RequestRecord>,
    pub(crate) callbacks: CallbackLog,
    pub(crate) media: BTreeMap<String, MediaRecord>,
    /// Request nonces inside the timestamp window (replay detection).
    pub(crate) nonces: NonceLog,
    /// Partner JSAPI orders by (`sp_mchid`, `out_trade_no`).
    pub(crate) orders: BTreeMap<(String, String), Order>,
    /// The last `transaction_id` sequence number handed out.
    pub(crate) payment_seq: u64,
}

impl WechatSide {
    /// The platform certificate responses are signed with at `now`: the designated one while
    /// it is active and its lead time has passed; otherwise, among the active certificates
    /// whose lead time has passed, the one that became able to sign last. Never one that
    /// clients have not had its lead time to download: with none, the public key signs.
    pub(crate) fn signing_certificate(&self, now: i64) -> Option<&PlatformIdentity> {
        let usable = || {
            self.platform
                .iter()
                .filter(|p| p.is_active(now) && now >= p.signs_from)
        };
        usable()
            .find(|p| p.serial_no() == self.signing_serial)
            .or_else(|| usable().max_by_key(|p| (p.signs_from, p.issued_at)))
    }

    /// The platform certificate a merchant in `mode` is answered with at `now`: the
    /// [`signing certificate`](WechatSide::signing_certificate). When none has passed its lead
    /// time, a merchant in certificate mode, who was never given the public key, gets a listed
    /// certificate instead, its lead time cut short (see [`WechatSide::lead_time_cut_short`]).
    /// The other modes fall back to the public key.
    ///
    /// In certificate mode it is `None` only for a side without any certificate: when time
    /// has carried every certificate past its listing, the [held-over](WechatSide::held_over)
    /// one signs.
    pub(crate) fn signer(&self, mode: KeyMode, now: i64) -> Option<&PlatformIdentity> {
        self.signing_certificate(now).or_else(|| match mode {
            KeyMode::Certificate => self
                .closest_to_signing(now)
                .or_else(|| self.held_over(mode, now)),
            KeyMode::Combined | KeyMode::PublicKey => None,
        })
    }

    /// The certificate a merchant in `mode` still finds listed, and is answered with, although
    /// time has carried it past its end: only in certificate mode, only when no certificate is
    /// active any more, and then the one whose listing ended last (the one its client most
    /// likely holds). A certificate-mode client has no other key to verify answers with, so
    /// the sandbox never leaves it without a listed certificate. A clock change is not refused
    /// for it: time also passes on the wall clock, which nothing can refuse, and business time
    /// running ahead of a client on the wall clock is what the sandbox clock is for; for that
    /// client the certificate is usually still valid. A rotation ends the hold-over (the new
    /// certificate is listed and signs at once).
    pub(crate) fn held_over(&self, mode: KeyMode, now: i64) -> Option<&PlatformIdentity> {
        if mode != KeyMode::Certificate || self.platform.iter().any(|p| p.is_active(now)) {
            return None;
        }
        self.platform
            .iter()
            .max_by_key(|p| (p.listed_until(), p.issued_at))
    }

    /// Whether `p` (one of this side's certificates) is listed to a merchant in `mode` at
    /// `now`: active, or [held over](WechatSide::held_over).
    pub(crate) fn is_listed(&self, p: &PlatformIdentity, mode: KeyMode, now: i64) -> bool {
        p.is_active(now)
            || self
                .held_over(mode, now)
                .is_some_and(|h| h.serial_no() == p.serial_no())
    }

    /// Every certificate listed to a merchant in `mode` at `now` (see
    /// [`WechatSide::is_listed`]).
    pub(crate) fn listed(
        &self,
        mode: KeyMode,
        now: i64,
    ) -> impl Iterator<Item = &PlatformIdentity> {
        let held = self.held_over(mode, now).map(|h| h.serial_no().to_owned());
        self.platform
            .iter()
            .filter(move |p| p.is_active(now) || held.as_deref() == Some(p.serial_no()))
    }

    /// Among the listed certificates, the one whose lead time ends first (the newest listed
    /// one when a single rotation is under way; of several, the one listed longest, which
    /// clients most likely hold). It is also the one `signing_certificate` picks once that
    /// lead time has passed, so answers do not switch back and forth.
    fn closest_to_signing(&self, now: i64) -> Option<&PlatformIdentity> {
        self.platform
            .iter()
            .filter(|p| p.is_active(now))
            .min_by_key(|p| (p.signs_from, std::cmp::Reverse(p.issued_at)))
    }

    /// The certificate that answers certificate-mode merchants at `now` before its lead time
    /// has passed (none signs by the usual rule, yet one is listed), if any.
    pub(crate) fn lead_time_cut_short(&self, now: i64) -> Option<&PlatformIdentity> {
        self.signer(KeyMode::Certificate, now)
            .filter(|p| now < p.signs_from)
    }

    pub(crate) fn public_key(&self) -> WechatKey {
        WechatKey {
            id: self.public_key_id.clone(),
            key: self.public_key.private_key().clone(),
        }
    }

    /// The key an answer to a merchant in `mode` is signed with: the public key when
    /// `use_public`, otherwise the [`signer`](WechatSide::signer), which in certificate mode
    /// is always a listed certificate. Without a signer the public key signs.
    pub(crate) fn wechat_key(&self, use_public: bool, mode: KeyMode, now: i64) -> WechatKey {
        if use_public {
            return self.public_key();
        }
        match self.signer(mode, now) {
            Some(cert) => WechatKey {
                id: cert.serial_no().to_owned(),
                key: cert.key().private_key().clone(),
            },
            None => self.public_key(),
        }
    }

    /// Every certificate with its status, as seen by the merchant owning this side (in
    /// `mode`).
    pub(crate) fn certificate_info(&self, now: i64, mode: KeyMode) -> Vec<PlatformCertificateInfo> {
        let signing = self.signer(mode, now).map(|p| p.serial_no().to_owned());
        let held = self.held_over(mode, now).map(|p| p.serial_no().to_owned());
        self.platform
            .iter()
            .map(|p| {
                let signing = signing.as_deref() == Some(p.serial_no());
                let held_over = held.as_deref() == Some(p.serial_no());
                PlatformCertificateInfo {
                    serial_no: p.serial_no().to_owned(),
                    effective_time: rfc3339_cst(p.certificate().not_before()),
                    expire_time: rfc3339_cst(p.certificate().not_after()),
                    certificate_pem: p.certificate().pem().to_owned() + "\n",
                    signing,
                    active: p.is_active(now) || held_over,
                    retire_at: p.retire_at,
                    signs_from: p.signs_from,
                    lead_time_cut_short: signing && now < p.signs_from,
                    held_over,
                }
            })
            .collect()
    }

    /// Index of the platform certificate with `serial` (numeric comparison), if it is here.
    pub(crate) fn platform_index(&self, serial: &SerialNumber) -> Option<usize> {
        self.platform
            .iter()
            .position(|p| p.certificate().serial() == serial)
    }
}

impl State {
    /// The WeChat Pay side of `mchid`; the built-in provider's for it, for an unknown merchant
    /// and for a request whose merchant is not known (yet).
    pub(crate) fn side(&self, mchid: Option<&str>) -> &WechatSide {
        mchid
            .and_then(|m| self.sides.get(m))
            .unwrap_or(&self.identities.wechat)
    }

    /// The WeChat Pay side of the registered merchant `mchid`.
    pub(crate) fn side_mut(&mut self, mchid: &str) -> Result<&mut WechatSide> {
        if mchid == self.primary_mchid {
            return Ok(&mut self.identities.wechat);
        }
        self.sides
            .get_mut(mchid)
            .ok_or_else(|| SandboxError::NotFound(format!("merchant {mchid}")))
    }

    /// The key mode of the merchant owning the WeChat Pay side of `mchid` (combined for a
    /// side without a merchant, like an unknown caller).
    pub(crate) fn mode_of(&self, mchid: &str) -> KeyMode {
        self.merchants
            .get(mchid)
            .map_or(KeyMode::Combined, |m| m.mode)
    }

    /// The merchant whose WeChat Pay side holds the platform certificate `serial`, and its
    /// index there.
    pub(crate) fn platform_owner(&self, serial: &str) -> Result<(String, usize)> {
        let wanted = SerialNumber::parse(serial)
            .map_err(|_| SandboxError::InvalidInput("not a hex certificate serial".into()))?;
        std::iter::once((&self.primary_mchid, &self.identities.wechat))
            .chain(self.sides.iter())
            .find_map(|(mchid, side)| side.platform_index(&wanted).map(|i| (mchid.clone(), i)))
            .ok_or_else(|| SandboxError::NotFound("no such platform certificate".into()))
    }

    /// Spec §2.4/§2.6/§3.6, with the keys of the caller's own WeChat Pay side: public-key mode
    /// signs with the public key; combined mode (and an unknown caller) follows the request's
    /// `Wechatpay-Serial`; certificate mode uses the platform certificate, and never the
    /// public key (see [`WechatSide::wechat_key`]).
    pub(crate) fn response_key(
        &self,
        mchid: Option<&str>,
        mode: Option<KeyMode>,
        requested_serial: Option<&str>,
        now: i64,
    ) -> WechatKey {
        let side = self.side(mchid);
        let wants_public = requested_serial == Some(side.public_key_id.as_str());
        let mode = mode.unwrap_or(KeyMode::Combined);
        let use_public = match mode {
            KeyMode::PublicKey => true,
            KeyMode::Combined => wants_public,
            KeyMode::Certificate => false,
        };
        side.wechat_key(use_public, mode, now)
    }

    /// Consumes one use of the first queued fault matching the request.
    pub(crate) fn take_fault(
        &mut self,
        target: FaultTarget,
        method: &str,
        path: &str,
    ) -> Option<Fault> {
        let pos = self
            .faults
            .iter()
            .position(|f| f.matches(target, method, path))?;
        let fault = self.faults.get_mut(pos)?;
        fault.count -= 1;
        let taken = fault.clone();
        if fault.count == 0 {
            self.faults.remove(pos);
        }
        Some(taken)
    }

    pub(crate) fn log_request(&mut self, record: RequestRecord) {
        if self.requests.len() >= REQUEST_LOG_LEN {
            self.requests.pop_front();
        }
        self.requests.push_back(record);
    }

    pub(crate) fn merchant(&self, mchid: &str) -> Result<&Merchant> {
        self.merchants
            .get(mchid)
            .ok_or_else(|| SandboxError::NotFound(format!("merchant {mchid}")))
    }

    pub(crate) fn merchant_mut(&mut self, mchid: &str) -> Result<&mut Merchant> {
        self.merchants
            .get_mut(mchid)
            .ok_or_else(|| SandboxError::NotFound(format!("merchant {mchid}")))
    }

    pub(crate) fn info(&self, base_url: &str, now: i64) -> Result<SandboxInfo> {
        let primary = self.merchant(&self.primary_mchid)?;
        let id = &self.identities;
        Ok(SandboxInfo {
            base_url: base_url.to_owned(),
            admin_url: format!("{base_url}/sandbox"),
            mchid: primary.mchid.clone(),
            serial_no: id.merchant_serial_no.clone(),
            private_key_pem: id.merchant_key.private_key_pem().to_owned(),
            certificate_pem: id.merchant_certificate_pem.clone(),
            apiv3_key: id.apiv3_key.to_string(),
            public_key_id: id.wechat.public_key_id.clone(),
            public_key_pem: id.wechat.public_key.public_key_pem(),
            platform_certificates: id
                .wechat
                .certificate_info(now, primary.mode)
                .into_iter()
                .filter(|c| c.active)
                .collect(),
            sub_mchids: primary.sub_merchants.keys().cloned().collect(),
            mode: primary.mode,
            sp_appid: crate::config::DEFAULT_SP_APPID.to_owned(),
            sub_merchants: primary
                .sub_merchants
                .values()
                .map(|s| SubMerchantInfo {
                    sub_mchid: s.sub_mchid.clone(),
                    sub_appid: s.sub_appid.clone(),
                    jsapi: s.jsapi,
                })
                .collect(),
            users: crate::orders::users(),
        })
    }
}

/// Everything shared by the gateway, the admin API and the handle.
pub(crate) struct Shared {
    pub(crate) clock: Arc<SandboxClock>,
    pub(crate) state: Mutex<State>,
    pub(crate) base_url: String,
    pub(crate) state_dir: Option<PathBuf>,
    /// The open lock file of `state_dir` while this sandbox owns it; `None` once it stopped
    /// (or without a state directory).
    pub(crate) state_dir_lock: Mutex<Option<std::fs::File>>,
    pub(crate) http: reqwest::Client,
    /// Set while a scheduled rotation generates its key, so concurrent requests do not
    /// rotate twice.
    pub(crate) rotating: std::sync::atomic::AtomicBool,
    /// Serialises writes to the state directory.
    pub(crate) persist_turn: Mutex<()>,
    /// Group commit of `state.json`: every change that must become durable takes a ticket
    /// after it is made ...
    pub(crate) persist_requested: std::sync::atomic::AtomicU64,
    /// ... and a write that captured the state after ticket `n` was taken makes every ticket
    /// up to `n` durable, so the callers waiting behind it need no write of their own.
    pub(crate) persist_durable: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way that
        // matters for a simulator; keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Business time (24-hour rule, certificate validity, rotation, rate limit).
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Protocol time (request timestamp window, response and callback timestamps).
    pub(crate) fn protocol_now(&self, settings: &Settings) -> i64 {
        match settings.protocol_clock {
            ProtocolClock::System => SystemClock.now(),
            ProtocolClock::Sandbox => self.clock.now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeliveryStatus;

    fn record(id: usize, status: DeliveryStatus) -> CallbackRecord {
        CallbackRecord {
            id: format!("cb-{id}"),
            url: "http://127.0.0.1:9/notify".into(),
            mchid: "1900000100".into(),
            event_type: "TRANSACTION.SUCCESS".into(),
            body: "{}".into(),
            status,
            attempts: Vec::new(),
        }
    }

    #[test]
    fn the_callback_log_forgets_the_oldest_finished_deliveries_only() {
        let mut log = CallbackLog::default();
        log.insert(record(0, DeliveryStatus::Pending));
        for id in 1..CALLBACK_LOG_LEN + 5 {
            log.insert(record(id, DeliveryStatus::Delivered));
        }
        assert_eq!(log.values().count(), CALLBACK_LOG_LEN);
        // The delivery still under way is kept; the oldest finished ones made room.
        assert!(log.get("cb-0").is_some());
        assert!((1..=5).all(|id| log.get(&format!("cb-{id}")).is_none()));
        assert!(log.get("cb-6").is_some());
        assert!(log.get(&format!("cb-{}", CALLBACK_LOG_LEN + 4)).is_some());
        // Once it finished, it goes in its turn like the others.
        if let Some(r) = log.get_mut("cb-0") {
            r.status = DeliveryStatus::Failed;
        }
        log.insert(record(CALLBACK_LOG_LEN + 5, DeliveryStatus::Delivered));
        assert!(log.get("cb-0").is_none());
        assert_eq!(log.values().count(), CALLBACK_LOG_LEN);
    }
}
