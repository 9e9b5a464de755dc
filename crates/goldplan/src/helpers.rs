//! The protocol helpers every binding offers as plain functions (no client, no network), as
//! registry entries: each takes its arguments as one JSON object and answers JSON, through
//! [`crate::client::call_local_json`]. The typed Rust functions they wrap live in their own
//! modules ([`crate::receipt`], [`crate::sign`], [`crate::verify`], [`crate::certificates`]);
//! this module only states their JSON shape once, for every language.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::certificates::{DownloadedCertificates, validate_download};
use crate::clock::{Clock, ManualClock, SystemClock};
use crate::credentials::ApiV3Key;
use crate::error::{Error, Result};
use crate::receipt::{self, ReceiptParams};
use crate::verify::{MaxSkew, VerificationPolicy, WechatpayHeaders};
use crate::x509::{Certificate, CertificateSet};

/// The four values the receipt `check_code` is computed from, exactly as received.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckCodeArgs {
    /// The receipt link exactly as configured in the merchant portal.
    pub configured_link: String,
    /// `sub_mch_id` as received (raw, not decoded).
    pub sub_mch_id: String,
    /// `out_trade_no` as received (raw).
    pub out_trade_no: String,
    /// The order's `transaction_id`.
    pub transaction_id: String,
}

/// [`CheckCodeArgs`] and the `check_code` received.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCheckCodeArgs {
    /// The receipt link exactly as configured in the merchant portal.
    pub configured_link: String,
    /// `sub_mch_id` as received (raw, not decoded).
    pub sub_mch_id: String,
    /// `out_trade_no` as received (raw).
    pub out_trade_no: String,
    /// The order's `transaction_id`.
    pub transaction_id: String,
    /// The `check_code` received (any case).
    pub check_code: String,
}

/// A receipt page URL (or its query).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptQueryArgs {
    /// The URL the receipt page was opened with, or its query string.
    pub url: String,
}

/// A request target.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CanonicalUrlArgs {
    /// Path and query, percent-encoded.
    pub path_and_query: String,
}

/// The parts of a request signature's message.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageToSignArgs {
    /// HTTP method.
    pub method: String,
    /// The canonical URL (path and query) as sent.
    pub canonical_url: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The nonce.
    pub nonce: String,
    /// The body as sent (UTF-8 text; empty for none).
    #[serde(default)]
    pub body: String,
}

/// The parts of a response or callback signature's message.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageToVerifyArgs {
    /// `Wechatpay-Timestamp` as received.
    pub timestamp: String,
    /// `Wechatpay-Nonce` as received.
    pub nonce: String,
    /// The body as received (UTF-8 text; empty for none).
    #[serde(default)]
    pub body: String,
}

/// A `/v3/certificates` response and what to check it with.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecryptCertificatesArgs {
    /// The response headers as `[name, value]` pairs (names in any case).
    pub headers: Vec<(String, String)>,
    /// The response body exactly as received.
    pub body: String,
    /// The APIv3 key (32 characters).
    #[schemars(with = "String")]
    pub apiv3_key: Zeroizing<String>,
    /// PEM certificates already trusted (none on a first download).
    #[serde(default)]
    pub trusted_certificates: Vec<String>,
    /// Unix seconds to check validity and the signature's time window at (default: now).
    #[serde(default)]
    pub now: Option<i64>,
}

pub(crate) fn check_code_input(a: CheckCodeArgs) -> Result<String> {
    Ok(receipt::check_code_input(
        &a.configured_link,
        &a.sub_mch_id,
        &a.out_trade_no,
        &a.transaction_id,
    ))
}

pub(crate) fn expected_check_code(a: CheckCodeArgs) -> Result<String> {
    Ok(receipt::expected_check_code(
        &a.configured_link,
        &a.sub_mch_id,
        &a.out_trade_no,
        &a.transaction_id,
    ))
}

pub(crate) fn verify_check_code(a: VerifyCheckCodeArgs) -> Result<bool> {
    Ok(receipt::verify_check_code(
        &a.configured_link,
        &a.sub_mch_id,
        &a.out_trade_no,
        &a.transaction_id,
        &a.check_code,
    ))
}

pub(crate) fn parse_receipt_query(a: ReceiptQueryArgs) -> Result<ReceiptParams> {
    receipt::parse_receipt_query(&a.url)
}

pub(crate) fn canonical_url(a: CanonicalUrlArgs) -> Result<String> {
    crate::sign::canonical_url(&a.path_and_query)
}

pub(crate) fn message_to_sign(a: MessageToSignArgs) -> Result<String> {
    let message = crate::sign::message_to_sign(
        &a.method,
        &a.canonical_url,
        a.timestamp,
        &a.nonce,
        a.body.as_bytes(),
    )?;
    text(message)
}

pub(crate) fn message_to_verify(a: MessageToVerifyArgs) -> Result<String> {
    text(crate::verify::message_to_verify(
        &a.timestamp,
        &a.nonce,
        a.body.as_bytes(),
    ))
}

pub(crate) fn decrypt_certificates(a: DecryptCertificatesArgs) -> Result<DownloadedCertificates> {
    let headers = WechatpayHeaders::from_pairs(a.headers)?;
    let key = ApiV3Key::new(a.apiv3_key.as_bytes())?;
    let trusted = a
        .trusted_certificates
        .iter()
        .map(|pem| Certificate::from_pem(pem).map(Arc::new))
        .collect::<Result<Vec<_>>>()?;
    let clock: Arc<dyn Clock> = match a.now {
        Some(now) => Arc::new(ManualClock::new(now)),
        None => Arc::new(SystemClock),
    };
    let policy = VerificationPolicy::new(MaxSkew::DEFAULT, clock);
    validate_download(
        &headers,
        a.body.as_bytes(),
        &key,
        &CertificateSet::new(trusted),
        None,
        &policy,
    )
}

/// Both messages are built from text, so they are text.
fn text(message: Vec<u8>) -> Result<String> {
    String::from_utf8(message)
        .map_err(|_| Error::Internal("a message built from text is not text".into()))
}
