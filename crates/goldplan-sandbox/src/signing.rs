//! Signing what the sandbox sends as WeChat Pay (spec §2): responses and callbacks alike, with
//! the signature faults applied, and the `Request-ID`s it hands out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::sign::{generate_nonce, sign_base64};
use goldplan::verify::message_to_verify;

use crate::model::FaultKind;
use crate::state::WechatKey;

/// How far in the past a `stale_timestamp` fault puts the response timestamp.
const STALE_BY_SECS: i64 = 600;

/// A fresh `Request-ID`: 32 upper-case hex characters.
pub(crate) fn new_request_id() -> String {
    crate::identity::random_bytes::<16>()
        .map(hex::encode_upper)
        .unwrap_or_else(|_| "00000000000000000000000000000000".into())
}

/// Signed WeChat-style headers for `body`: `(timestamp, nonce, signature, serial)`.
pub(crate) struct SignedHeaders {
    pub(crate) timestamp: String,
    pub(crate) nonce: String,
    pub(crate) signature: String,
    pub(crate) serial: String,
}

/// Signs `ts\nnonce\nbody\n` with `key`, applying a signature fault if asked.
pub(crate) fn sign_message(
    key: &WechatKey,
    timestamp: i64,
    body: &[u8],
    fault: Option<FaultKind>,
) -> SignedHeaders {
    let timestamp = if fault == Some(FaultKind::StaleTimestamp) {
        timestamp - STALE_BY_SECS
    } else {
        timestamp
    }
    .to_string();
    let nonce = generate_nonce().unwrap_or_else(|_| new_request_id());
    let message = message_to_verify(&timestamp, &nonce, body);
    let mut signature = match sign_base64(&key.key, &message) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "signing a response failed");
            String::new()
        }
    };
    if fault == Some(FaultKind::BadSignature) {
        signature = corrupt(&signature);
    }
    let serial = if fault == Some(FaultKind::UnknownSerial) {
        crate::identity::random_bytes::<20>()
            .map(hex::encode_upper)
            .unwrap_or_else(|_| "0".repeat(40))
    } else {
        key.id.clone()
    };
    SignedHeaders {
        timestamp,
        nonce,
        signature,
        serial,
    }
}

/// A signature that is still valid base64 of the right length but does not verify.
fn corrupt(signature: &str) -> String {
    let mut raw = STANDARD.decode(signature).unwrap_or_default();
    if let Some(last) = raw.last_mut() {
        *last ^= 0x01;
    } else {
        raw = vec![0u8; 256];
    }
    STANDARD.encode(raw)
}
