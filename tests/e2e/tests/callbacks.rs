//! Callbacks end to end: the sandbox delivers signed, encrypted notifications to a local HTTP
//! receiver that parses them with `Client::parse_notification` and answers with the SDK's
//! `Acknowledgement`; the sandbox records what each attempt was answered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use goldplan::notification::Acknowledgement;
use goldplan::{Client, ErrorKind};
use goldplan_e2e::*;
use goldplan_sandbox::{
    CallbackRecord, CallbackRequest, DeliveryStatus, Fault, FaultKind, KeyMode, MerchantPatch,
    SandboxControl,
};
use serde_json::json;

/// What the receiver made of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted {
        id: String,
        event_type: String,
        serial: String,
        plaintext: String,
    },
    Rejected(ErrorKind),
}

#[derive(Clone)]
struct Receiver {
    client: Client,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
}

/// The merchant's notify_url handler: raw headers and body in, acknowledgement out.
async fn notify(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let parsed = receiver.client.parse_notification(pairs, &body, None).await;
    let (outcome, ack) = match parsed {
        Ok(n) => (
            Outcome::Accepted {
                id: n.id.clone(),
                event_type: n.event_type.clone(),
                serial: n.serial.clone(),
                plaintext: n.plaintext().to_owned(),
            },
            Acknowledgement::success(),
        ),
        Err(e) => (Outcome::Rejected(e.kind()), Acknowledgement::for_error(&e)),
    };
    receiver.outcomes.lock().unwrap().push(outcome);
    let status = StatusCode::from_u16(ack.status).unwrap();
    if ack.body.is_empty() {
        status.into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            ack.body,
        )
            .into_response()
    }
}

/// Serves [`notify`] for `client` on 127.0.0.1; returns the notify URL and the outcomes.
async fn receiver(client: Client) -> (String, Arc<Mutex<Vec<Outcome>>>) {
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/notify", axum::routing::post(notify))
        .with_state(Receiver {
            client,
            outcomes: outcomes.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, outcomes)
}

fn payment(order: &str) -> serde_json::Value {
    json!({"sp_mchid": "1900000100", "sub_mchid": SUB, "out_trade_no": order, "trade_state": "SUCCESS", "payer_total": 1, "attach": PLAINTEXT_MARKER})
}

/// Sends one notification of `resource` and waits until delivery finished (at most
/// `attempts` attempts, 1 ms apart).
async fn deliver(
    sandbox: &SandboxControl,
    url: &str,
    resource: serde_json::Value,
    attempts: u32,
) -> CallbackRecord {
    let mut request = CallbackRequest::new(url, resource);
    request.summary = Some("支付成功".into());
    request.max_attempts = Some(attempts);
    request.retry_delays_ms = Some(vec![1]);
    request.wait = true;
    let record = sandbox.send_callback(request).await.unwrap();
    assert_ne!(record.status, DeliveryStatus::Pending);
    record
}

/// The outcome expected for an accepted delivery of `record`.
fn accepted(record: &CallbackRecord, serial: &str, resource: &serde_json::Value) -> Outcome {
    Outcome::Accepted {
        id: record.id.clone(),
        event_type: "TRANSACTION.SUCCESS".into(),
        serial: serial.to_owned(),
        plaintext: resource.to_string(),
    }
}

/// Asserts a delivery acknowledged by its first attempt, signed by `serial`.
fn assert_delivered_at_once(record: &CallbackRecord, serial: &str) {
    assert_eq!(record.status, DeliveryStatus::Delivered, "{record:?}");
    assert_eq!(record.attempts.len(), 1, "{record:?}");
    let attempt = &record.attempts[0];
    assert_eq!(attempt.status, Some(200));
    assert!(attempt.acknowledged);
    assert_eq!(attempt.wechatpay_serial, serial);
    assert_eq!(attempt.response_body.as_deref(), Some(""));
}

/// Asserts a refused attempt: 401 and the SDK's failure body naming the error kind.
fn assert_refused(record: &CallbackRecord, attempt: usize, kind: ErrorKind) {
    let a = &record.attempts[attempt];
    assert_eq!(a.status, Some(401), "{a:?}");
    assert!(!a.acknowledged);
    let body: serde_json::Value =
        serde_json::from_str(a.response_body.as_deref().unwrap_or_default()).unwrap();
    assert_eq!(body, json!({"code": "FAIL", "message": kind.as_str()}));
}

#[tokio::test]
async fn certificate_signed_callbacks_are_verified_and_decrypted() {
    let sandbox = start(KeyMode::Certificate).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    let (url, outcomes) = receiver(client.clone()).await;
    let resource = payment("ORDER-CERT-1");
    let record = deliver(&sandbox, &url, resource.clone(), 3).await;
    let serial = signing_serial(&sandbox);
    assert_delivered_at_once(&record, &serial);
    assert_eq!(
        *outcomes.lock().unwrap(),
        [accepted(&record, &serial, &resource)]
    );
    // The client had no certificate yet: the callback's serial made it download them.
    assert_eq!(client.certificate_downloads().await, 1);
}

#[tokio::test]
async fn combined_mode_callbacks_are_signed_by_either_key() {
    let sandbox = start(KeyMode::Combined).await;
    let info = info(&sandbox);
    let certificate = signing_serial(&sandbox);
    let (combined_url, combined) = receiver(client(&info, Verification::Combined)).await;
    let (key_url, key_only) = receiver(client(&info, Verification::PublicKey)).await;
    let (cert_url, cert_only) = receiver(client(&info, Verification::Certificates)).await;
    let share = |share| MerchantPatch {
        callback_public_key_share: Some(share),
        ..MerchantPatch::default()
    };

    // Before the switch starts: certificate-signed.
    sandbox.update_merchant(&info.mchid, share(0.0)).unwrap();
    let first = payment("ORDER-MIGRATE-1");
    let by_certificate = deliver(&sandbox, &combined_url, first.clone(), 2).await;
    assert_delivered_at_once(&by_certificate, &certificate);

    // Switched completely: public-key-signed.
    sandbox.update_merchant(&info.mchid, share(1.0)).unwrap();
    let second = payment("ORDER-MIGRATE-2");
    let by_key = deliver(&sandbox, &combined_url, second.clone(), 2).await;
    assert_delivered_at_once(&by_key, &info.public_key_id);
    assert_eq!(
        *combined.lock().unwrap(),
        [
            accepted(&by_certificate, &certificate, &first),
            accepted(&by_key, &info.public_key_id, &second)
        ]
    );
    let to_key_only = deliver(&sandbox, &key_url, second.clone(), 2).await;
    assert_delivered_at_once(&to_key_only, &info.public_key_id);
    assert_eq!(
        *key_only.lock().unwrap(),
        [accepted(&to_key_only, &info.public_key_id, &second)]
    );

    // A receiver that only knows certificates refuses every attempt; WeChat gives up.
    let refused = deliver(&sandbox, &cert_url, second, 2).await;
    assert_eq!(refused.status, DeliveryStatus::Failed);
    assert_eq!(refused.attempts.len(), 2);
    for attempt in 0..2 {
        assert_refused(&refused, attempt, ErrorKind::UnknownSerial);
    }
    assert_eq!(
        *cert_only.lock().unwrap(),
        vec![Outcome::Rejected(ErrorKind::UnknownSerial); 2]
    );
}

#[tokio::test]
async fn tampered_callbacks_are_refused_then_redelivered() {
    let sandbox = start(KeyMode::Certificate).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    client.refresh_certificates().await.unwrap();
    let serial = signing_serial(&sandbox);
    let (url, outcomes) = receiver(client).await;
    let cases = [
        (FaultKind::BadSignature, ErrorKind::SignatureInvalid),
        (FaultKind::StaleTimestamp, ErrorKind::ClockSkew),
        (FaultKind::UnknownSerial, ErrorKind::UnknownSerial),
    ];
    for (n, (fault, kind)) in cases.into_iter().enumerate() {
        sandbox
            .inject_fault(Fault::new(fault).for_callbacks())
            .unwrap();
        let resource = payment(&format!("ORDER-TAMPER-{n}"));
        let record = deliver(&sandbox, &url, resource.clone(), 3).await;
        assert_eq!(record.status, DeliveryStatus::Delivered, "{fault:?}");
        assert_eq!(record.attempts.len(), 2, "{fault:?}");
        assert_eq!(record.attempts[0].fault, Some(fault));
        assert_refused(&record, 0, kind);
        assert_eq!(record.attempts[1].fault, None);
        assert!(record.attempts[1].acknowledged);
        let mut seen = outcomes.lock().unwrap();
        assert_eq!(
            *seen,
            [
                Outcome::Rejected(kind),
                accepted(&record, &serial, &resource)
            ],
            "{fault:?}"
        );
        seen.clear();
    }
}

#[tokio::test]
async fn a_signature_probe_is_never_acknowledged() {
    // The sandbox cannot send WeChat Pay's `WECHATPAY/SIGNTEST/` probes, so replay a delivered
    // body with a probe signature, the way WeChat Pay would send one.
    let sandbox = start(KeyMode::Certificate).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    let (url, outcomes) = receiver(client).await;
    let record = deliver(&sandbox, &url, payment("ORDER-PROBE"), 1).await;
    assert_eq!(record.status, DeliveryStatus::Delivered);
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let answer = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Wechatpay-Timestamp", timestamp.to_string())
        .header("Wechatpay-Nonce", "fJ3kQ9pL2xZ7fJ3kQ9pL2xZ7fJ3kQ9pL")
        .header("Wechatpay-Serial", signing_serial(&sandbox))
        .header("Wechatpay-Signature", "WECHATPAY/SIGNTEST/AAAA")
        .header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
        .body(record.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    let body: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert_eq!(body, json!({"code": "FAIL", "message": "signature_probe"}));
    assert_eq!(
        outcomes.lock().unwrap().last(),
        Some(&Outcome::Rejected(ErrorKind::SignatureProbe))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_forged_callback_serials_costs_at_most_one_download() {
    const STORM: u32 = 20;
    let sandbox = start(KeyMode::Certificate).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    client.refresh_certificates().await.unwrap();
    let (url, outcomes) = receiver(client).await;
    sandbox
        .inject_fault(
            Fault::new(FaultKind::UnknownSerial)
                .times(STORM)
                .for_callbacks(),
        )
        .unwrap();
    let mut deliveries = tokio::task::JoinSet::new();
    for i in 0..STORM {
        let (control, url) = (sandbox.control(), url.clone());
        deliveries.spawn(async move {
            deliver(&control, &url, payment(&format!("ORDER-STORM-{i}")), 1).await
        });
    }
    while let Some(joined) = deliveries.join_next().await {
        let record = joined.unwrap();
        assert_eq!(record.status, DeliveryStatus::Failed);
        assert_refused(&record, 0, ErrorKind::UnknownSerial);
    }
    assert_eq!(
        *outcomes.lock().unwrap(),
        vec![Outcome::Rejected(ErrorKind::UnknownSerial); STORM as usize]
    );
    // One download at start, at most one more for the whole storm.
    assert_eq!(certificate_downloads(&sandbox), 2);
}
