//! The JSON shapes of the admin API and of `sandbox.json`. The same types are taken and
//! returned by the methods of [`crate::SandboxControl`], so Rust tests and HTTP clients see
//! one model.

use serde::{Deserialize, Serialize};

use crate::config::KeyMode;

/// `sandbox.json`: everything a client (ours or another SDK) needs to talk to this sandbox.
/// Contains private keys: test material only (`Debug` redacts them).
#[derive(Clone, Serialize, Deserialize)]
pub struct SandboxInfo {
    /// Base URL of the gateway, e.g. `http://127.0.0.1:43123` (paths start with `/v3/`).
    pub base_url: String,
    /// Base URL of the admin API (`<base_url>/sandbox`).
    pub admin_url: String,
    /// The built-in service provider's merchant id.
    pub mchid: String,
    /// Its merchant API certificate serial (`serial_no` of `Authorization`).
    pub serial_no: String,
    /// Its merchant API private key, PKCS#8 PEM.
    pub private_key_pem: String,
    /// Its merchant API certificate, PEM.
    pub certificate_pem: String,
    /// Its 32-character APIv3 key.
    pub apiv3_key: String,
    /// The WeChat Pay public key id (`PUB_KEY_ID_…`).
    pub public_key_id: String,
    /// The WeChat Pay public key, SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
    /// The platform certificates currently listed by `GET /v3/certificates`.
    pub platform_certificates: Vec<PlatformCertificateInfo>,
    /// Special merchants registered for the built-in provider.
    pub sub_mchids: Vec<String>,
    /// Key mode of the built-in provider.
    pub mode: KeyMode,
    /// The AppID bound to the built-in provider: `sp_appid` of a prepay.
    #[serde(default)]
    pub sp_appid: String,
    /// The built-in provider's special merchants with their AppID and JSAPI permission.
    #[serde(default)]
    pub sub_merchants: Vec<SubMerchantInfo>,
    /// The simulated payers, one OpenID per AppID.
    #[serde(default)]
    pub users: Vec<SimulatedUser>,
}

/// A special merchant as `sandbox.json` lists it, for prepaying without guessing ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubMerchantInfo {
    /// Special merchant id.
    pub sub_mchid: String,
    /// The AppID bound to it: `sub_appid` of a prepay.
    pub sub_appid: String,
    /// Whether it may take JSAPI payments (otherwise a prepay answers `403 NO_AUTH`).
    pub jsapi: bool,
}

/// A simulated payer: the same person's OpenID under the provider's AppID and under the
/// special merchants' default AppID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatedUser {
    /// OpenID under `sp_appid` (`payer.sp_openid`).
    pub sp_openid: String,
    /// OpenID under the default `sub_appid` (`payer.sub_openid`).
    pub sub_openid: String,
}

/// Names one order (`POST /sandbox/v1/refund`, `/sandbox/v1/expire`, and the first form of
/// `/sandbox/v1/pay`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRef {
    /// The provider.
    pub sp_mchid: String,
    /// The special merchant the order belongs to.
    pub sub_mchid: String,
    /// The merchant order number.
    pub out_trade_no: String,
}

/// `POST /sandbox/v1/pay`: either the order (`sp_mchid`, `sub_mchid`, `out_trade_no`) or the
/// six values a page hands to `getBrandWCPayRequest`, which are checked like the WeChat
/// client would (pay-sign, live `prepay_id`, AppID of the payer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// The provider (first form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// The special merchant (first form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The merchant order number (first form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// `appId` (second form).
    #[serde(default, rename = "appId", skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `timeStamp`: 10 digits of Unix seconds (second form).
    #[serde(default, rename = "timeStamp", skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<String>,
    /// `nonceStr` (second form).
    #[serde(default, rename = "nonceStr", skip_serializing_if = "Option::is_none")]
    pub nonce_str: Option<String>,
    /// `package`: `prepay_id=…` (second form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// `signType`: `RSA` (second form).
    #[serde(default, rename = "signType", skip_serializing_if = "Option::is_none")]
    pub sign_type: Option<String>,
    /// `paySign` (second form).
    #[serde(default, rename = "paySign", skip_serializing_if = "Option::is_none")]
    pub pay_sign: Option<String>,
    /// `SUCCESS` (default), or `USER_CANCEL` / `INSUFFICIENT_FUNDS`, which leave the order
    /// `NOTPAY` and send no notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// The answer of `POST /sandbox/v1/pay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayOutcome {
    /// The order's state afterwards: `SUCCESS`, or `NOTPAY` for a failure outcome.
    pub trade_state: String,
    /// The failure outcome simulated, if any.
    pub outcome: Option<String>,
    /// The WeChat Pay order number assigned (28 digits); `null` when not paid.
    pub transaction_id: Option<String>,
    /// The Gold Plan receipt URL WeChat would load, with its `check_code`; `null` when no
    /// receipt link is configured or Gold Plan or the receipt switch is not open.
    pub receipt_url: Option<String>,
    /// The sandbox's stand-in of the Gold Plan page WeChat shows after this payment
    /// (`GET /sandbox/v1/gold-plan-page`); `null` when Gold Plan is not open for the special
    /// merchant or the payment failed.
    #[serde(default)]
    pub gold_plan_page_url: Option<String>,
    /// The payment notification queued to `notify_url` (see `/sandbox/callbacks/{id}`);
    /// `null` when none was sent (a failure outcome, or a `notify_url` that is not loopback).
    pub callback_id: Option<String>,
}

impl std::fmt::Debug for SandboxInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxInfo")
            .field("base_url", &self.base_url)
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("private_key_pem", &"<redacted>")
            .field("apiv3_key", &"<redacted>")
            .field("public_key_id", &self.public_key_id)
            .field("platform_certificates", &self.platform_certificates.len())
            .field("sub_mchids", &self.sub_mchids)
            .field("mode", &self.mode)
            .field("sp_appid", &self.sp_appid)
            .field("sub_merchants", &self.sub_merchants)
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

/// One platform certificate as listed in `sandbox.json` and by the admin API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlatformCertificateInfo {
    /// Upper-case hex serial.
    pub serial_no: String,
    /// NotBefore, RFC 3339 (+08:00).
    pub effective_time: String,
    /// NotAfter, RFC 3339 (+08:00).
    pub expire_time: String,
    /// The certificate PEM.
    pub certificate_pem: String,
    /// Whether responses are currently signed with it.
    pub signing: bool,
    /// Whether it is listed (not retired, inside its validity window).
    pub active: bool,
    /// When the sandbox stops listing it (Unix seconds on the sandbox clock), if scheduled.
    pub retire_at: Option<i64>,
    /// From when it may sign (Unix seconds on the sandbox clock): a rotation's lead time.
    #[serde(default)]
    pub signs_from: i64,
    /// Whether it signs although its lead time (`signs_from`) has not passed: its merchant is
    /// in certificate mode, the certificate that signed was expired and no other listed one
    /// had passed its lead time. A certificate-mode client only ever meets listed
    /// certificates, so the listed one whose lead time ends first signs at once rather than
    /// the public key.
    #[serde(default)]
    pub lead_time_cut_short: bool,
    /// Whether it is listed (`active`) and signs only because time has carried every
    /// certificate of its merchant past its end (NotAfter or retirement) and the merchant is in
    /// certificate mode: a certificate-mode client has nothing else to verify answers with, so
    /// the one listed last stays listed until a rotation.
    #[serde(default)]
    pub held_over: bool,
}

/// Kind of service provider (spec §8: only ordinary providers and channel partners may call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProviderType {
    /// 普通服务商.
    #[default]
    Ordinary,
    /// 渠道商.
    Channel,
    /// Bank / institution provider: Gold Plan calls are refused.
    Institution,
}

/// Registers an extra merchant (service provider) so users can test their own keys.
/// `Debug` redacts the APIv3 key.
#[derive(Clone, Serialize, Deserialize)]
pub struct MerchantRegistration {
    /// Merchant id (digits).
    pub mchid: String,
    /// The merchant API certificate serial its requests carry. Optional when
    /// `certificate_pem` is given (taken from the certificate).
    #[serde(default)]
    pub serial_no: Option<String>,
    /// The merchant's API public key (SPKI PEM), or ...
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// ... its API certificate (PEM).
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// 32-character APIv3 key used for certificates and callbacks.
    pub apiv3_key: String,
    /// Key mode (default `combined`).
    #[serde(default)]
    pub mode: Option<KeyMode>,
    /// Special merchants to register at once.
    #[serde(default)]
    pub sub_mchids: Vec<String>,
}

impl std::fmt::Debug for MerchantRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantRegistration")
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("apiv3_key", &"<redacted>")
            .field("mode", &self.mode)
            .field("sub_mchids", &self.sub_mchids)
            .finish_non_exhaustive()
    }
}

/// Changes to a merchant; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantPatch {
    /// New key mode (the certificate → public key migration is `certificate` → `combined` →
    /// `public_key`).
    #[serde(default)]
    pub mode: Option<KeyMode>,
    /// In `combined` mode, the share (0.0–1.0) of callbacks signed with the public key.
    #[serde(default)]
    pub callback_public_key_share: Option<f64>,
    /// Provider-level merchant receipt link (商家小票链接); an empty string removes it.
    #[serde(default)]
    pub receipt_link: Option<String>,
    /// Whether the provider joined Gold Plan in the partner portal.
    #[serde(default)]
    pub gold_plan_joined: Option<bool>,
    /// Whether the provider is being punished (服务商被处罚中).
    #[serde(default)]
    pub punished: Option<bool>,
    /// Provider type.
    #[serde(default)]
    pub provider_type: Option<ProviderType>,
}

/// A merchant as the admin API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MerchantView {
    /// Merchant id.
    pub mchid: String,
    /// Merchant certificate serial.
    pub serial_no: String,
    /// Key mode.
    pub mode: KeyMode,
    /// Share of callbacks signed with the public key in `combined` mode.
    pub callback_public_key_share: f64,
    /// Provider-level receipt link.
    pub receipt_link: Option<String>,
    /// Joined Gold Plan.
    pub gold_plan_joined: bool,
    /// Punished.
    pub punished: bool,
    /// Provider type.
    pub provider_type: ProviderType,
    /// Registered special merchants.
    pub sub_mchids: Vec<String>,
    /// The id of this merchant's own WeChat Pay public key (`PUB_KEY_ID_…`).
    #[serde(default)]
    pub public_key_id: String,
    /// This merchant's own WeChat Pay public key, SubjectPublicKeyInfo PEM.
    #[serde(default)]
    pub public_key_pem: String,
    /// This merchant's own platform certificates currently listed by `GET /v3/certificates`.
    #[serde(default)]
    pub platform_certificates: Vec<PlatformCertificateInfo>,
}

/// Registers a special merchant (特约商户) under a provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SubMerchantRegistration {
    /// Special merchant id (1–32 characters).
    pub sub_mchid: String,
    /// Per-merchant receipt link.
    #[serde(default)]
    pub receipt_link: Option<String>,
}

/// Changes to a special merchant; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubMerchantPatch {
    /// Per-merchant receipt link; an empty string removes it.
    #[serde(default)]
    pub receipt_link: Option<String>,
    /// Whether the special merchant is being punished (特约商户被处罚中).
    #[serde(default)]
    pub punished: Option<bool>,
    /// The AppID bound to the special merchant (`sub_appid` of a prepay).
    #[serde(default)]
    pub sub_appid: Option<String>,
    /// Whether the special merchant may take JSAPI payments (off: `403 NO_AUTH`).
    #[serde(default)]
    pub jsapi: Option<bool>,
}

/// An OPEN/CLOSE switch as WeChat spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Switch {
    /// On.
    #[serde(rename = "OPEN")]
    Open,
    /// Off.
    #[serde(rename = "CLOSE")]
    #[default]
    Close,
}

/// The Gold Plan state of one (provider, special merchant) pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubMerchantState {
    /// Special merchant id.
    pub sub_mchid: String,
    /// Per-merchant receipt link.
    pub receipt_link: Option<String>,
    /// Punished.
    pub punished: bool,
    /// Gold Plan switch: OPEN while at least one pay scene is open.
    pub gold_plan: Switch,
    /// Open pay scenes: `JSAPI` and/or `MINIPROGRAM`.
    pub pay_scenes: Vec<String>,
    /// When Gold Plan was last opened (sandbox clock).
    pub opened_at: Option<i64>,
    /// When Gold Plan was last closed (sandbox clock); re-opening waits `reopen_wait_secs`.
    pub closed_at: Option<i64>,
    /// Merchant receipt switch (商家小票).
    pub custom_page: Switch,
    /// Industry filter tags, as last set (verbatim, duplicates kept).
    pub advertising_industry_filters: Vec<String>,
    /// Advertising show switch.
    pub advertising_show: Switch,
    /// The AppID bound to the special merchant (`sub_appid` of a prepay).
    #[serde(default = "default_sub_appid")]
    pub sub_appid: String,
    /// Whether the special merchant may take JSAPI payments (off: `403 NO_AUTH`).
    #[serde(default = "enabled")]
    pub jsapi: bool,
}

fn default_sub_appid() -> String {
    crate::config::DEFAULT_SUB_APPID.to_owned()
}

fn enabled() -> bool {
    true
}

impl Default for SubMerchantState {
    fn default() -> SubMerchantState {
        SubMerchantState {
            sub_mchid: String::new(),
            receipt_link: None,
            punished: false,
            gold_plan: Switch::Close,
            pay_scenes: Vec::new(),
            opened_at: None,
            closed_at: None,
            custom_page: Switch::Close,
            advertising_industry_filters: Vec::new(),
            advertising_show: Switch::Close,
            sub_appid: default_sub_appid(),
            jsapi: true,
        }
    }
}

/// Faults the sandbox can inject (spec §7 and transport failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// `500 SYSTEM_ERROR` (nothing is processed).
    SystemError,
    /// `429 RATELIMIT_EXCEEDED` (nothing is processed).
    TooManyRequests,
    /// `400 INVALID_REQUEST` "命中频率限制" (nothing is processed).
    RateLimited,
    /// Waits `delay_ms`, then processes the request normally.
    Delay,
    /// Resets the TCP connection without answering (nothing is processed).
    ConnectionReset,
    /// Processes the request, then sends only half of the body and closes the connection.
    TruncatedBody,
    /// Processes the request; the response signature does not verify.
    BadSignature,
    /// Processes the request; `Wechatpay-Serial` names a key nobody knows (signature valid).
    UnknownSerial,
    /// Processes the request; the response is signed correctly but with a timestamp 10 minutes
    /// in the past.
    StaleTimestamp,
}

impl FaultKind {
    /// Whether the fault applies to the response of a processed request (as opposed to
    /// replacing the processing).
    pub fn is_response_fault(self) -> bool {
        matches!(
            self,
            FaultKind::TruncatedBody
                | FaultKind::BadSignature
                | FaultKind::UnknownSerial
                | FaultKind::StaleTimestamp
        )
    }
}

/// What a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// Requests to the `/v3/…` API.
    #[default]
    Api,
    /// Callback deliveries (only `bad_signature`, `unknown_serial`, `stale_timestamp`).
    Callback,
}

fn one() -> u32 {
    1
}

/// A fault for the next `count` matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests it applies to (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// Only requests with this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests with this path; a trailing `*` matches a prefix (any when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// For `delay`: how long, in milliseconds (at most 60000).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// API requests (default) or callback deliveries.
    #[serde(default)]
    pub target: FaultTarget,
}

impl Fault {
    /// A fault of `kind` for the next request.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            count: 1,
            method: None,
            path: None,
            delay_ms: None,
            target: FaultTarget::Api,
        }
    }

    /// Applies to the next `count` matching requests.
    pub fn times(mut self, count: u32) -> Fault {
        self.count = count;
        self
    }

    /// Only for requests to `path` (a trailing `*` matches a prefix).
    pub fn on_path(mut self, path: impl Into<String>) -> Fault {
        self.path = Some(path.into());
        self
    }

    /// Only for requests with `method`.
    pub fn on_method(mut self, method: impl Into<String>) -> Fault {
        self.method = Some(method.into());
        self
    }

    /// The delay of a `delay` fault.
    pub fn with_delay_ms(mut self, ms: u64) -> Fault {
        self.delay_ms = Some(ms);
        self
    }

    /// Applies to callback deliveries instead of API requests.
    pub fn for_callbacks(mut self) -> Fault {
        self.target = FaultTarget::Callback;
        self
    }

    pub(crate) fn matches(&self, target: FaultTarget, method: &str, path: &str) -> bool {
        self.count > 0
            && self.target == target
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path
                .as_deref()
                .is_none_or(|p| match p.strip_suffix('*') {
                    Some(prefix) => path.starts_with(prefix),
                    None => p == path,
                })
    }
}

/// One request the gateway answered (the request log, newest last, at most 1000 kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The `Request-ID` answered.
    pub request_id: String,
    /// Protocol-clock Unix seconds.
    pub at: i64,
    /// HTTP method.
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// The authenticated merchant, when authentication got that far.
    pub mchid: Option<String>,
    /// HTTP status answered (0 for a connection reset).
    pub status: u16,
    /// WeChat error code answered, if any.
    pub code: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<FaultKind>,
    /// Serial or key id that signed the response.
    pub wechatpay_serial: Option<String>,
    /// The body of an API call as received (UTF-8 text up to 64 KiB; uploads and
    /// certificate downloads are not kept).
    #[serde(default)]
    pub body: Option<String>,
}

/// Rotation options; absent fields use the settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RotateRequest {
    /// Merchant whose platform certificate rotates (default: the built-in provider).
    #[serde(default)]
    pub mchid: Option<String>,
    /// Validity of the new certificate.
    #[serde(default)]
    pub validity_secs: Option<i64>,
    /// How long the previous certificates stay listed.
    #[serde(default)]
    pub overlap_secs: Option<i64>,
    /// How long the new certificate is listed before it signs (default: setting
    /// `rotation_lead_secs`); never more than the overlap.
    #[serde(default)]
    pub lead_secs: Option<i64>,
    /// When signing moves to the new certificate:
    /// - absent (the default): after the lead time, as WeChat Pay does;
    /// - `true`: at once (to test a client's refresh on an unknown serial);
    /// - `false`: not by itself — the certificate signing now keeps signing until it is
    ///   switched explicitly, retires or expires; the designation then moves to a certificate
    ///   listed for at least its lead time.
    #[serde(default)]
    pub sign_with_new: Option<bool>,
}

/// Result of a rotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotationOutcome {
    /// Serial of the new certificate.
    pub new_serial_no: String,
    /// Certificates that were active before, with the time they retire.
    pub previous: Vec<PlatformCertificateInfo>,
}

/// A stored media upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaRecord {
    /// The `media_id` returned.
    pub media_id: String,
    /// Uploading merchant.
    pub mchid: String,
    /// `meta.filename`.
    pub filename: String,
    /// `meta.sha256` (lower-case).
    pub sha256: String,
    /// File size in bytes.
    pub size: usize,
    /// Sandbox-clock time of the upload.
    pub uploaded_at: i64,
}

/// The sandbox clock as the admin API shows it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ClockView {
    /// Sandbox time, Unix seconds.
    pub now: i64,
    /// Seconds ahead of the system clock.
    pub offset_secs: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let reg = MerchantRegistration {
            mchid: "1".into(),
            serial_no: None,
            public_key_pem: None,
            certificate_pem: None,
            apiv3_key: "0123456789abcdefghijklmnopqrstuv".into(),
            mode: None,
            sub_mchids: vec![],
        };
        assert!(!format!("{reg:?}").contains("0123456789abcdef"));
        let info = SandboxInfo {
            base_url: String::new(),
            admin_url: String::new(),
            mchid: "1".into(),
            serial_no: "AB".into(),
            private_key_pem: "-----BEGIN PRIVATE KEY-----SECRET".into(),
            certificate_pem: String::new(),
            apiv3_key: "0123456789abcdefghijklmnopqrstuv".into(),
            public_key_id: "PUB_KEY_ID_1".into(),
            public_key_pem: String::new(),
            platform_certificates: vec![],
            sub_mchids: vec![],
            mode: KeyMode::Combined,
            sp_appid: String::new(),
            sub_merchants: vec![],
            users: vec![],
        };
        let shown = format!("{info:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("0123456789abcdef"),
            "{shown}"
        );
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Still trying.
    Pending,
    /// Acknowledged with 200 or 204.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// System time of sending, Unix milliseconds.
    pub sent_at_ms: i64,
    /// `Wechatpay-Serial` sent (a certificate serial or the public key id).
    pub wechatpay_serial: String,
    /// `Wechatpay-Timestamp` sent.
    pub wechatpay_timestamp: String,
    /// Fault applied to this attempt, if any.
    pub fault: Option<FaultKind>,
    /// HTTP status of the answer (none when no answer head arrived).
    pub status: Option<u16>,
    /// Why the attempt failed before a whole answer arrived, if it did: a transport error, a
    /// timeout (also while reading the answer body), or an answer body larger than
    /// [`crate::MAX_CALLBACK_ANSWER_BYTES`]. An attempt with an error is never acknowledged.
    pub error: Option<String>,
    /// First 256 characters of the answer body.
    pub response_body: Option<String>,
    /// How long the attempt took.
    pub duration_ms: u64,
    /// Whether the answer acknowledged the notification (200 or 204).
    pub acknowledged: bool,
}

/// A notification and its delivery history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallbackRecord {
    /// Notification id (also the body's `id`).
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Merchant.
    pub mchid: String,
    /// `event_type`.
    pub event_type: String,
    /// The exact body sent (identical on every attempt).
    pub body: String,
    /// Current status.
    pub status: DeliveryStatus,
    /// Every attempt so far.
    pub attempts: Vec<DeliveryAttempt>,
}
