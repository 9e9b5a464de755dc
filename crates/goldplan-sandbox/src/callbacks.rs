//! Callback notifications (spec §4): an admin call sends a signed notification whose resource
//! is AES-256-GCM encrypted under the merchant's APIv3 key, follows WeChat's acknowledgement
//! rule (200/204 = done, anything else or a timeout = retry) with a compressed, bounded copy of
//! WeChat's retry schedule, and records every attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::rfc3339_cst;
use crate::config::KeyMode;
use crate::error::{Result, SandboxError};
use crate::model::{CallbackRecord, DeliveryAttempt, DeliveryStatus, FaultKind, FaultTarget};
use crate::signing::{new_request_id, sign_message};
use crate::state::{Shared, WechatKey};

/// WeChat's payment-notification retry delays in seconds (spec §4.3); the sandbox multiplies
/// them by `callback_time_scale`.
pub const WECHAT_RETRY_SCHEDULE_SECS: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

fn default_event_type() -> String {
    "TRANSACTION.SUCCESS".into()
}

/// Asks the sandbox to deliver one notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallbackRequest {
    /// Where to POST it (`http://` or `https://`).
    pub url: String,
    /// Merchant whose APIv3 key encrypts and whose key mode picks the signing key (default:
    /// the built-in provider).
    #[serde(default)]
    pub mchid: Option<String>,
    /// `event_type` (default `TRANSACTION.SUCCESS`).
    #[serde(default = "default_event_type")]
    pub event_type: String,
    /// `summary`, when wanted.
    #[serde(default)]
    pub summary: Option<String>,
    /// `resource.original_type` (default `transaction`).
    #[serde(default)]
    pub original_type: Option<String>,
    /// `resource.associated_data` (default: the original type).
    #[serde(default)]
    pub associated_data: Option<String>,
    /// The plaintext resource: a JSON object (serialised compactly) or a string sent verbatim.
    pub resource: Value,
    /// Most attempts (default: setting `callback_max_attempts`).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Explicit delays before the 2nd, 3rd, … attempt in milliseconds (default: WeChat's
    /// schedule times `callback_time_scale`).
    #[serde(default)]
    pub retry_delays_ms: Option<Vec<u64>>,
    /// Per-attempt timeout (default: setting `callback_timeout_ms`).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Over HTTP: answer only when delivery finished (succeeded or gave up).
    #[serde(default)]
    pub wait: bool,
}

impl CallbackRequest {
    /// A `TRANSACTION.SUCCESS` notification of `resource` to `url`, with default settings.
    pub fn new(url: impl Into<String>, resource: Value) -> CallbackRequest {
        CallbackRequest {
            url: url.into(),
            mchid: None,
            event_type: default_event_type(),
            summary: None,
            original_type: None,
            associated_data: None,
            resource,
            max_attempts: None,
            retry_delays_ms: None,
            timeout_ms: None,
            wait: false,
        }
    }
}

fn uuid_like() -> Result<String> {
    let b = crate::identity::random_bytes::<16>()?;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// Encrypts, records and starts delivering; with `wait`, returns when delivery finished.
pub(crate) async fn send(app: &Arc<Shared>, request: CallbackRequest) -> Result<CallbackRecord> {
    let url = reqwest::Url::parse(&request.url)
        .map_err(|e| SandboxError::InvalidInput(format!("invalid callback url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SandboxError::InvalidInput(
            "callback url must be http(s)".into(),
        ));
    }
    if url.host_str().is_some_and(|h| {
        let h = h.to_ascii_lowercase();
        h.ends_with("weixin.qq.com") || h.ends_with("wechatpay.cn")
    }) {
        return Err(SandboxError::InvalidInput(
            "the sandbox never talks to WeChat Pay hosts".into(),
        ));
    }
    if request.timeout_ms.is_some_and(|ms| ms == 0 || ms > 60_000) {
        return Err(SandboxError::InvalidInput(
            "timeout_ms must be 1 to 60000".into(),
        ));
    }
    let (mchid, key, settings) = {
        let st = app.lock();
        let mchid = request
            .mchid
            .clone()
            .unwrap_or_else(|| st.primary_mchid.clone());
        let key = st.merchant(&mchid)?.apiv3_key.clone();
        (mchid, key, st.settings.clone())
    };
    let plaintext = match &request.resource {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let original_type = request
        .original_type
        .clone()
        .unwrap_or_else(|| "transaction".into());
    let associated_data = request
        .associated_data
        .clone()
        .unwrap_or_else(|| original_type.clone());
    let nonce: String = goldplan::sign::generate_nonce()?.chars().take(12).collect();
    let ciphertext = goldplan::aead::encrypt(
        &key,
        associated_data.as_bytes(),
        nonce.as_bytes(),
        plaintext.as_bytes(),
    )?;
    let id = uuid_like()?;
    let mut envelope = serde_json::json!({
        "id": id,
        "create_time": rfc3339_cst(app.now()),
        "resource_type": "encrypt-resource",
        "event_type": request.event_type,
        "resource": {
            "original_type": original_type,
            "algorithm": goldplan::aead::AEAD_AES_256_GCM,
            "ciphertext": ciphertext,
            "associated_data": associated_data,
            "nonce": nonce,
        }
    });
    if let (Some(summary), Some(obj)) = (&request.summary, envelope.as_object_mut()) {
        obj.insert("summary".into(), Value::String(summary.clone()));
    }
    let record = CallbackRecord {
        id: id.clone(),
        url: request.url.clone(),
        mchid: mchid.clone(),
        event_type: request.event_type.clone(),
        body: envelope.to_string(),
        status: DeliveryStatus::Pending,
        attempts: Vec::new(),
    };
    app.lock().callbacks.insert(record.clone());
    let max_attempts = request
        .max_attempts
        .unwrap_or(settings.callback_max_attempts)
        .clamp(1, 16);
    let delays: Vec<Duration> = match &request.retry_delays_ms {
        Some(d) => d.iter().map(|ms| Duration::from_millis(*ms)).collect(),
        None => WECHAT_RETRY_SCHEDULE_SECS
            .iter()
            .map(|s| {
                Duration::try_from_secs_f64(*s as f64 * settings.callback_time_scale)
                    .unwrap_or_default()
            })
            .collect(),
    };
    let timeout = Duration::from_millis(request.timeout_ms.unwrap_or(settings.callback_timeout_ms));
    let task = tokio::spawn(deliver(
        app.clone(),
        Delivery {
            id: id.clone(),
            url,
            mchid,
            body: record.body.clone(),
            max_attempts,
            delays,
            timeout,
        },
    ));
    if request.wait {
        task.await
            .map_err(|e| SandboxError::Identity(format!("callback task failed: {e}")))?;
    }
    let snapshot = app.lock().callbacks.get(&id).cloned();
    snapshot.ok_or_else(|| SandboxError::NotFound(format!("callback {id}")))
}

struct Delivery {
    id: String,
    url: reqwest::Url,
    mchid: String,
    body: String,
    max_attempts: u32,
    delays: Vec<Duration>,
    timeout: Duration,
}

/// The key for one callback attempt: certificate mode → platform certificate, public-key
/// mode → public key, combined → the public key with probability `callback_public_key_share`.
fn callback_key(app: &Shared, mchid: &str) -> (WechatKey, i64) {
    let st = app.lock();
    let now = app.now();
    // The mode decides which key signs; an unknown merchant gets the same one as its
    // answers (`State::mode_of`), and never the public key by chance.
    let mode = st.mode_of(mchid);
    let share = st
        .merchants
        .get(mchid)
        .map_or(0.0, |m| m.callback_public_key_share);
    let use_public = match mode {
        KeyMode::PublicKey => true,
        KeyMode::Certificate => false,
        KeyMode::Combined => random_unit() < share,
    };
    let key = st.side(Some(mchid)).wechat_key(use_public, mode, now);
    (key, app.protocol_now(&st.settings))
}

/// A uniform number in [0, 1).
fn random_unit() -> f64 {
    crate::identity::random_bytes::<8>()
        .map(|b| (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64)
        .unwrap_or(0.0)
}

/// Most bytes of a receiver's answer body the sandbox reads; a longer answer is a failed
/// attempt. WeChat Pay's receivers answer with nothing or a short JSON object.
pub const MAX_CALLBACK_ANSWER_BYTES: usize = 64 * 1024;

/// How many characters of the answer an attempt record keeps.
const ANSWER_KEPT_CHARS: usize = 256;

/// Why an attempt failed, as recorded in [`DeliveryAttempt::error`].
fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else {
        format!("transport error: {e}")
    }
}

/// Reads the answer body chunk by chunk, at most [`MAX_CALLBACK_ANSWER_BYTES`] (the
/// per-attempt timeout set on the request also bounds this read). Returns what was read and,
/// when the body did not arrive whole, why.
async fn read_answer(mut resp: reqwest::Response) -> (String, Option<String>) {
    let mut body: Vec<u8> = Vec::new();
    let error = loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len().saturating_add(chunk.len()) > MAX_CALLBACK_ANSWER_BYTES {
                    // Stop reading here: dropping the response closes the connection, so an
                    // endless answer costs at most the cap plus one chunk.
                    let room = MAX_CALLBACK_ANSWER_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                    break Some(format!(
                        "answer body larger than {MAX_CALLBACK_ANSWER_BYTES} bytes"
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break None,
            Err(e) => break Some(format!("reading the answer body: {}", transport_error(&e))),
        }
    };
    (String::from_utf8_lossy(&body).into_owned(), error)
}

async fn deliver(app: Arc<Shared>, d: Delivery) {
    let mut delivered = false;
    for attempt in 1..=d.max_attempts {
        if attempt > 1 {
            let delay = d
                .delays
                .get(attempt as usize - 2)
                .or(d.delays.last())
                .copied()
                .unwrap_or_default();
            tokio::time::sleep(delay).await;
        }
        let (key, now) = callback_key(&app, &d.mchid);
        let fault = app
            .lock()
            .take_fault(FaultTarget::Callback, "POST", d.url.path())
            .map(|f| f.kind)
            .filter(|k| k.is_response_fault() && *k != FaultKind::TruncatedBody);
        let signed = sign_message(&key, now, d.body.as_bytes(), fault);
        let started = Instant::now();
        let sent_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let result = app
            .http
            .post(d.url.clone())
            .timeout(d.timeout)
            .header("content-type", "application/json")
            .header("user-agent", "Mozilla/4.0 (goldplan-sandbox callback)")
            .header("request-id", new_request_id())
            .header("wechatpay-timestamp", &signed.timestamp)
            .header("wechatpay-nonce", &signed.nonce)
            .header("wechatpay-signature", &signed.signature)
            .header("wechatpay-serial", &signed.serial)
            .header("wechatpay-signature-type", goldplan::sign::AUTH_SCHEME)
            .body(d.body.clone())
            .send()
            .await;
        let (status, error, response_body) = match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let (text, error) = read_answer(resp).await;
                (
                    Some(status),
                    error,
                    Some(text.chars().take(ANSWER_KEPT_CHARS).collect()),
                )
            }
            Err(e) => (None, Some(transport_error(&e)), None),
        };
        // An answer only acknowledges when it arrived whole: a 200 whose body timed out, broke
        // off or ran past the cap is a failed attempt (spec §4.3, and the README).
        let acknowledged = error.is_none() && matches!(status, Some(200 | 204));
        let record = DeliveryAttempt {
            attempt,
            sent_at_ms,
            wechatpay_serial: signed.serial,
            wechatpay_timestamp: signed.timestamp,
            fault,
            status,
            error,
            response_body,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            acknowledged,
        };
        if let Some(r) = app.lock().callbacks.get_mut(&d.id) {
            r.attempts.push(record);
            if acknowledged {
                r.status = DeliveryStatus::Delivered;
            }
        }
        if acknowledged {
            delivered = true;
            break;
        }
    }
    if !delivered && let Some(r) = app.lock().callbacks.get_mut(&d.id) {
        r.status = DeliveryStatus::Failed;
    }
}

#[cfg(test)]
mod tests {
    use goldplan::clock::{Clock, SystemClock};

    use super::*;
    use crate::identity::Identities;
    use crate::model::RotateRequest;
    use crate::{Sandbox, SandboxConfig};

    /// Issue: a callback for a merchant the sandbox does not know took it for one in
    /// certificate mode, while its answers (`State::mode_of`) took it for one in combined mode,
    /// so the two were signed with different keys whenever no certificate had passed its lead
    /// time.
    #[tokio::test]
    async fn an_unknown_merchant_gets_callbacks_and_answers_signed_alike() {
        let sandbox = Sandbox::start(SandboxConfig {
            identities: Some(Identities::generate(SystemClock.now(), 86_400 * 365).unwrap()),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let a = sandbox.info().unwrap().platform_certificates[0]
            .serial_no
            .clone();
        // B is in its lead time and A is gone: nothing signs by the usual rule.
        sandbox
            .rotate_platform_certificate(RotateRequest {
                sign_with_new: Some(false),
                lead_secs: Some(3600),
                overlap_secs: Some(7200),
                ..RotateRequest::default()
            })
            .await
            .unwrap();
        sandbox.expire_platform_certificate(&a).unwrap();
        let app = sandbox.control().app;
        let unknown = "1900009999";
        let (callback, _) = callback_key(&app, unknown);
        let answer = app
            .lock()
            .response_key(Some(unknown), None, None, app.now());
        assert_eq!(callback.id, answer.id);
        assert_eq!(callback.id, sandbox.info().unwrap().public_key_id);
    }
}
