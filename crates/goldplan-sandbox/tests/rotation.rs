//! Platform certificate rotation as WeChat Pay does it (issue 10): a new certificate is listed
//! for a lead time before it signs, an immediate switch is explicit, and a staged hand-over
//! (`sign_with_new: false`) stays staged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;

use common::{Resp, TestClient, paths, start_with};
use goldplan::certificates::{CertificateSet, validate_download};
use goldplan::credentials::ApiV3Key;
use goldplan::verify::{VerificationPolicy, WechatpayHeaders};
use goldplan_sandbox::{KeyMode, PlatformCertificateInfo, SandboxConfig, SandboxHandle};
use serde_json::{Value, json};

const DAY: i64 = 86_400;

async fn certificate_mode() -> (SandboxHandle, TestClient) {
    start_with(SandboxConfig {
        mode: KeyMode::Certificate,
        ..common::config()
    })
    .await
}

async fn admin(c: &TestClient, method: &str, path: &str, body: Value) -> Value {
    let r = c
        .http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/sandbox{path}", c.base_url),
        )
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{method} {path}");
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null)
}

fn signing(list: &[PlatformCertificateInfo]) -> Vec<String> {
    list.iter()
        .filter(|p| p.signing)
        .map(|p| p.serial_no.clone())
        .collect()
}

/// The serial that signed a Gold Plan answer.
async fn answer_serial(c: &TestClient) -> String {
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": common::SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, 200);
    r.header("wechatpay-serial").unwrap()
}

/// What a client downloading `GET /v3/certificates` gets (the list vouches for itself).
async fn download(c: &TestClient) -> BTreeSet<String> {
    let r: Resp = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(r.status, 200);
    let headers =
        WechatpayHeaders::from_pairs(r.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
            .unwrap();
    validate_download(
        &headers,
        &r.body,
        &ApiV3Key::new(&c.info.apiv3_key).unwrap(),
        &CertificateSet::default(),
        None,
        &VerificationPolicy::default(),
    )
    .unwrap()
    .certificates
    .iter()
    .map(|c| c.serial_hex().to_owned())
    .collect()
}

/// Issue 10, point 1, over the admin API exactly as reported.
#[tokio::test]
async fn a_staged_hand_over_stays_staged_after_the_designated_signer_retires() {
    let (sb, c) = certificate_mode().await;
    let a = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    // 1. B is listed, A still signs.
    let staged = json!({"sign_with_new": false, "overlap_secs": 60});
    let b = admin(&c, "POST", "/platform-certificates/rotate", staged.clone()).await;
    let b = b["new_serial_no"].as_str().unwrap().to_owned();
    assert_eq!(signing(&sb.platform_certificates()), vec![a.clone()]);
    assert_eq!(answer_serial(&c).await, a);
    // 2. A retires; B, listed for the whole overlap, signs.
    admin(&c, "POST", "/clock/advance", json!({"seconds": 61})).await;
    assert_eq!(signing(&sb.platform_certificates()), vec![b.clone()]);
    assert_eq!(answer_serial(&c).await, b);
    // 3. C is listed; B keeps signing (it was C before the fix).
    let third = admin(&c, "POST", "/platform-certificates/rotate", staged).await;
    let cc = third["new_serial_no"].as_str().unwrap().to_owned();
    assert_eq!(third["previous"][0]["serial_no"], json!(b));
    assert_eq!(third["previous"][0]["signing"], json!(true));
    let listed: Vec<PlatformCertificateInfo> =
        serde_json::from_value(admin(&c, "GET", "/platform-certificates", Value::Null).await)
            .unwrap();
    assert_eq!(signing(&listed), vec![b.clone()]);
    assert!(listed.iter().any(|p| p.serial_no == cc && !p.signing));
    assert_eq!(answer_serial(&c).await, b);
    // An explicit switch ends the staging at once.
    admin(
        &c,
        "POST",
        &format!("/platform-certificates/{cc}/sign"),
        Value::Null,
    )
    .await;
    assert_eq!(answer_serial(&c).await, cc);
}

#[tokio::test]
async fn the_designation_never_moves_to_a_certificate_listed_for_less_than_its_lead_time() {
    let (sb, c) = certificate_mode().await;
    let a = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    let b = admin(
        &c,
        "POST",
        "/platform-certificates/rotate",
        json!({"sign_with_new": false, "lead_secs": 3600, "overlap_secs": 7200}),
    )
    .await["new_serial_no"]
        .as_str()
        .unwrap()
        .to_owned();
    // A is expired at once: B has been listed for less than its lead time, so no client can
    // be expected to hold it. The public key signs (as when no certificate is active).
    sb.expire_platform_certificate(&a).unwrap();
    assert!(signing(&sb.platform_certificates()).is_empty());
    let public_key_id = sb.info().unwrap().public_key_id;
    assert_eq!(answer_serial(&c).await, public_key_id);
    // Once the lead time has passed, B signs.
    sb.advance_clock(3600).unwrap();
    assert_eq!(answer_serial(&c).await, b);
}

#[tokio::test]
async fn by_default_a_new_certificate_is_listed_before_it_signs() {
    let (sb, c) = certificate_mode().await;
    let settings = sb.settings();
    assert_eq!(settings.rotation_lead_secs, 5 * DAY);
    assert_eq!(settings.rotation_overlap_secs, 10 * DAY);
    let old = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    let rotated = admin(&c, "POST", "/platform-certificates/rotate", json!({})).await;
    let new = rotated["new_serial_no"].as_str().unwrap().to_owned();
    assert_eq!(
        download(&c).await,
        BTreeSet::from([old.clone(), new.clone()])
    );
    assert_eq!(answer_serial(&c).await, old, "listed, not signing yet");
    sb.advance_clock(5 * DAY - 1).unwrap();
    assert_eq!(answer_serial(&c).await, old);
    sb.advance_clock(1).unwrap();
    assert_eq!(answer_serial(&c).await, new, "signs after the lead time");
    assert_eq!(
        download(&c).await,
        BTreeSet::from([old.clone(), new.clone()]),
        "the old one stays listed for the overlap"
    );
    sb.advance_clock(5 * DAY).unwrap();
    assert_eq!(download(&c).await, BTreeSet::from([new.clone()]));
    // The immediate switch stays available.
    let now = admin(
        &c,
        "POST",
        "/platform-certificates/rotate",
        json!({"sign_with_new": true}),
    )
    .await;
    assert_eq!(
        answer_serial(&c).await,
        now["new_serial_no"].as_str().unwrap()
    );
}

/// A client like the official Go SDK: downloads the certificate list on a schedule (here every
/// `refresh_every` simulated seconds) and never on an unknown serial. Runs `days` of simulated
/// time under the automatic rotation schedule; returns the serials it met without holding
/// them.
async fn schedule_only_client(lead_secs: i64, refresh_every: i64, days: i64) -> Vec<String> {
    let (sb, c) = certificate_mode().await;
    sb.update_settings(&json!({
        "auto_rotate_after_secs": 20 * DAY,
        "rotation_lead_secs": lead_secs,
    }))
    .unwrap();
    let step = 6 * 3600;
    let mut held = download(&c).await;
    let mut last_refresh = sb.clock_view().now;
    let mut unknown = Vec::new();
    let mut rotations = 0;
    let mut listed = held.len();
    for _ in 0..(days * DAY / step) {
        sb.advance_clock(step).unwrap();
        let now = sb.clock_view().now;
        if now - last_refresh >= refresh_every {
            held = download(&c).await;
            last_refresh = now;
        }
        let serial = answer_serial(&c).await;
        if !held.contains(&serial) {
            unknown.push(serial);
        }
        let count = sb.platform_certificates().len();
        if count > listed {
            rotations += count - listed;
            listed = count;
        }
    }
    assert!(rotations >= 2, "the schedule rotated {rotations} times");
    unknown
}

#[tokio::test]
async fn a_schedule_only_client_never_meets_an_unknown_serial_in_the_default_mode() {
    // Refreshing once per lead time (5 days) is enough, whether or not the refreshes line up
    // with the rotations (every 20 days).
    assert_eq!(
        schedule_only_client(5 * DAY, 5 * DAY, 50).await,
        Vec::<String>::new()
    );
    assert_eq!(
        schedule_only_client(5 * DAY, 3 * DAY, 50).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_schedule_only_client_meets_unknown_serials_when_rotations_switch_at_once() {
    // Lead time 0: what every rotation did before (and `sign_with_new: true` still does).
    // Refreshes every 3 days never line up with the 20-day rotations.
    let unknown = schedule_only_client(0, 3 * DAY, 50).await;
    assert!(!unknown.is_empty());
}
