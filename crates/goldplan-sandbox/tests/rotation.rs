//! Platform certificate rotation as WeChat Pay does it (issue 10): a new certificate is listed
//! for a lead time before it signs, an immediate switch is explicit, and a staged hand-over
//! (`sign_with_new: false`) stays staged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;

use common::{Resp, TestClient, paths, start_with};
use goldplan::certificates::{CertificateSet, validate_download};
use goldplan::credentials::ApiV3Key;
use goldplan::gold_plan::OperationType;
use goldplan::verify::{VerificationPolicy, WechatpayHeaders};
use goldplan_sandbox::{
    KeyMode, PlatformCertificateInfo, RotateRequest, SandboxConfig, SandboxHandle,
};
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
    let (status, answer) = admin_answer(c, method, path, body).await;
    assert_eq!(status, 200, "{method} {path}: {answer}");
    answer
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

/// Status of `serial` in an admin listing.
fn entry<'a>(list: &'a [PlatformCertificateInfo], serial: &str) -> &'a PlatformCertificateInfo {
    list.iter().find(|p| p.serial_no == serial).unwrap()
}

/// Issue: in certificate mode, expiring the signing certificate while its successor was still
/// in its lead time made the public key sign every answer, and a certificate-mode merchant
/// was never given the public key. The newest listed certificate signs instead, and the
/// expire answer says its lead time was cut short.
#[tokio::test]
async fn in_certificate_mode_an_expiry_before_the_lead_time_cuts_it_short() {
    let (sb, mut c) = certificate_mode().await;
    let info = sb.info().unwrap();
    let a = info.platform_certificates[0].serial_no.clone();
    // A certificate-mode client of the core, as a merchant would run it.
    let client = common::certificate_mode_client(&info);
    // B is listed and only signs after its lead time (5 days by default); A signs.
    let b = admin(
        &c,
        "POST",
        "/platform-certificates/rotate",
        json!({"sign_with_new": false}),
    )
    .await["new_serial_no"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .change_gold_plan_status(common::SUB, OperationType::Open, None)
        .await
        .unwrap();
    assert!(
        client
            .platform_certificates()
            .iter()
            .any(|p| p.serial_hex() == b),
        "the client downloaded B with A"
    );
    // A is expired through the admin API: B signs at once, and the answer says so.
    let answer: Vec<PlatformCertificateInfo> = serde_json::from_value(
        admin(
            &c,
            "POST",
            &format!("/platform-certificates/{a}/expire"),
            Value::Null,
        )
        .await,
    )
    .unwrap();
    assert_eq!(signing(&answer), vec![b.clone()]);
    assert!(entry(&answer, &b).lead_time_cut_short);
    assert!(entry(&answer, &b).active);
    assert!(!entry(&answer, &a).active && !entry(&answer, &a).lead_time_cut_short);
    // Every answer is signed by a listed certificate, and verifies against it.
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": common::SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.header("wechatpay-serial").unwrap(), b);
    assert_eq!(download(&c).await, BTreeSet::from([b.clone()]));
    c.refresh(&sb.info().unwrap());
    c.verify(&r).unwrap();
    client.close_advertising_show(common::SUB).await.unwrap();
    client
        .change_gold_plan_status(common::SUB, OperationType::Open, None)
        .await
        .unwrap();
    // Once the lead time has passed, B signs by the usual rule.
    sb.advance_clock(5 * DAY).unwrap();
    assert_eq!(answer_serial(&c).await, b);
    let listed = sb.platform_certificates();
    assert_eq!(signing(&listed), vec![b.clone()]);
    assert!(!entry(&listed, &b).lead_time_cut_short);
}

/// With two certificates in their lead time, the one listed first signs when the signer is
/// expired, keeps signing through later rotations, and is the one that signs by the usual rule
/// once its lead time has passed (answers never switch back and forth).
#[tokio::test]
async fn a_cut_short_lead_time_goes_to_the_certificate_listed_longest() {
    let (sb, c) = certificate_mode().await;
    let a = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    let staged = RotateRequest {
        sign_with_new: Some(false),
        ..RotateRequest::default()
    };
    let b = sb
        .rotate_platform_certificate(staged.clone())
        .await
        .unwrap()
        .new_serial_no;
    sb.advance_clock(DAY).unwrap();
    let cc = sb
        .rotate_platform_certificate(staged.clone())
        .await
        .unwrap()
        .new_serial_no;
    let listed = sb.expire_platform_certificate_listed(&a).unwrap();
    assert_eq!(signing(&listed), vec![b.clone()]);
    assert!(entry(&listed, &b).lead_time_cut_short);
    assert!(!entry(&listed, &cc).lead_time_cut_short);
    assert_eq!(answer_serial(&c).await, b);
    // A staged rotation keeps the certificate answering now.
    let d = sb
        .rotate_platform_certificate(staged)
        .await
        .unwrap()
        .new_serial_no;
    assert_eq!(answer_serial(&c).await, b);
    for _ in 0..5 {
        sb.advance_clock(DAY).unwrap();
        assert_eq!(answer_serial(&c).await, b);
    }
    assert!(!entry(&sb.platform_certificates(), &b).lead_time_cut_short);
    assert_ne!(answer_serial(&c).await, d);
}

/// Combined and public-key merchants hold the public key: for them it still signs until a
/// listed certificate has passed its lead time.
#[tokio::test]
async fn in_combined_mode_the_public_key_signs_until_the_lead_time_has_passed() {
    let (sb, c) = start_with(SandboxConfig {
        mode: KeyMode::Combined,
        ..common::config()
    })
    .await;
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
    let answer: Vec<PlatformCertificateInfo> = serde_json::from_value(
        admin(
            &c,
            "POST",
            &format!("/platform-certificates/{a}/expire"),
            Value::Null,
        )
        .await,
    )
    .unwrap();
    assert!(signing(&answer).is_empty());
    assert!(answer.iter().all(|p| !p.lead_time_cut_short));
    let public_key_id = sb.info().unwrap().public_key_id;
    assert_eq!(answer_serial(&c).await, public_key_id);
    sb.advance_clock(3600).unwrap();
    assert_eq!(answer_serial(&c).await, b);
}

/// A certificate-mode merchant has nothing but listed certificates to verify with: its last
/// one is not expired (rotate first).
#[tokio::test]
async fn the_last_listed_certificate_of_a_certificate_mode_merchant_is_not_expired() {
    let (sb, c) = certificate_mode().await;
    let a = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    let r = c
        .http
        .post(format!(
            "{}/sandbox/platform-certificates/{a}/expire",
            c.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], json!("INVALID_INPUT"));
    assert!(!body["message"].as_str().unwrap().contains(&a));
    assert_eq!(answer_serial(&c).await, a);
}

/// The admin API's answer to `method path` with `body`: (status, JSON body).
async fn admin_answer(c: &TestClient, method: &str, path: &str, body: Value) -> (u16, Value) {
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
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null),
    )
}

/// Issue: with its last certificate expired in combined mode, a merchant could still be
/// switched to certificate mode, and its answers were then signed with the retired,
/// unlisted certificate, which its client could never verify. The switch waits for a
/// rotation.
#[tokio::test]
async fn a_merchant_without_a_listed_certificate_is_not_switched_to_certificate_mode() {
    let (sb, mut c) = start_with(SandboxConfig {
        mode: KeyMode::Combined,
        ..common::config()
    })
    .await;
    let info = sb.info().unwrap();
    let a = info.platform_certificates[0].serial_no.clone();
    admin(
        &c,
        "POST",
        &format!("/platform-certificates/{a}/expire"),
        Value::Null,
    )
    .await;
    let to_certificate = json!({"mode": "certificate"});
    let merchant = format!("/merchants/{}", info.mchid);
    let (status, body) = admin_answer(&c, "PATCH", &merchant, to_certificate.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], json!("INVALID_INPUT"), "{body}");
    assert!(body["message"].as_str().unwrap().contains("rotate first"));
    assert_eq!(
        sb.info().unwrap().mode,
        KeyMode::Combined,
        "nothing changed"
    );
    // After a rotation the switch goes through, and answers are signed by a listed
    // certificate.
    let b = admin(&c, "POST", "/platform-certificates/rotate", json!({})).await["new_serial_no"]
        .as_str()
        .unwrap()
        .to_owned();
    admin(&c, "PATCH", &merchant, to_certificate).await;
    assert_eq!(sb.info().unwrap().mode, KeyMode::Certificate);
    assert_eq!(download(&c).await, BTreeSet::from([b.clone()]));
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": common::SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.header("wechatpay-serial").unwrap(), b);
    c.refresh(&sb.info().unwrap());
    c.verify(&r).unwrap();
}

/// Issue: once the sandbox clock had carried every certificate of a certificate-mode merchant
/// past its end, nothing was listed (`GET /v3/certificates` answered 404) while answers were
/// signed with the unlisted certificate issued last, so a client starting then could verify
/// nothing. The certificate listed last is held over: listed and signing until a rotation.
#[tokio::test]
async fn in_certificate_mode_the_certificate_listed_last_outlives_its_end_until_a_rotation() {
    let (sb, c) = certificate_mode().await;
    let info = sb.info().unwrap();
    let a = info.platform_certificates[0].serial_no.clone();
    // B signs at once and ends in two days; A retires after a minute.
    let b = admin(
        &c,
        "POST",
        "/platform-certificates/rotate",
        json!({"sign_with_new": true, "validity_secs": 2 * DAY, "overlap_secs": 60}),
    )
    .await["new_serial_no"]
        .as_str()
        .unwrap()
        .to_owned();
    admin(&c, "POST", "/clock/advance", json!({"seconds": 3 * DAY})).await;
    // B is held over: listed, signing, and said to be held over.
    assert_eq!(download(&c).await, BTreeSet::from([b.clone()]));
    let listed = sb.platform_certificates();
    assert!(entry(&listed, &b).active && entry(&listed, &b).held_over);
    assert_eq!(signing(&listed), vec![b.clone()]);
    assert!(!entry(&listed, &a).active && !entry(&listed, &a).held_over);
    let shown = sb.info().unwrap().platform_certificates;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].serial_no, b);
    // A certificate-mode client starting now (on the wall clock, for which B is still
    // valid) downloads B and verifies the answers.
    let client = common::certificate_mode_client(&info);
    client
        .change_gold_plan_status(common::SUB, OperationType::Open, None)
        .await
        .unwrap();
    assert_eq!(answer_serial(&c).await, b);
    // It is the last listed one: not expired.
    let (status, body) = admin_answer(
        &c,
        "POST",
        &format!("/platform-certificates/{b}/expire"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // Expiring A again, long retired, leaves B the one held over.
    admin(
        &c,
        "POST",
        &format!("/platform-certificates/{a}/expire"),
        Value::Null,
    )
    .await;
    assert_eq!(download(&c).await, BTreeSet::from([b.clone()]));
    assert_eq!(answer_serial(&c).await, b);
    // A rotation ends the hold-over: the new certificate is the only one listed and signs.
    let d = sb
        .rotate_platform_certificate(RotateRequest::default())
        .await
        .unwrap()
        .new_serial_no;
    assert_eq!(download(&c).await, BTreeSet::from([d.clone()]));
    assert_eq!(answer_serial(&c).await, d);
    assert!(!entry(&sb.platform_certificates(), &b).held_over);
    client
        .change_gold_plan_status(common::SUB, OperationType::Open, None)
        .await
        .unwrap();
}

/// Combined-mode merchants hold the public key: nothing is held over for them.
#[tokio::test]
async fn in_combined_mode_no_certificate_outlives_its_end() {
    let (sb, c) = start_with(SandboxConfig {
        mode: KeyMode::Combined,
        ..common::config()
    })
    .await;
    sb.advance_clock(6 * 365 * DAY).unwrap();
    assert!(
        sb.platform_certificates()
            .iter()
            .all(|p| !p.active && !p.held_over && !p.signing)
    );
    assert_eq!(answer_serial(&c).await, sb.info().unwrap().public_key_id);
}

/// Issue: a rotation whose certificate would end past what X.509 can express (a huge validity,
/// or the sandbox clock advanced far ahead) failed with a 500 (overflow); it is a 400 now.
#[tokio::test]
async fn rotations_ending_out_of_range_are_refused_with_a_400() {
    let (sb, c) = certificate_mode().await;
    let rotate = |body: Value| {
        c.http
            .post(format!(
                "{}/sandbox/platform-certificates/rotate",
                c.base_url
            ))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    for validity in [i64::MAX, 9_000 * 365 * DAY] {
        let r = rotate(json!({"validity_secs": validity})).await.unwrap();
        assert_eq!(r.status(), 400, "validity {validity}");
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(body["code"], json!("INVALID_INPUT"), "{body}");
        assert!(body["message"].as_str().unwrap().contains("9999"), "{body}");
    }
    // Far ahead (8 000 years, then as far as the clock goes): even the default 5-year
    // validity ends out of range.
    for seconds in [8_000 * 365 * DAY, i64::MAX] {
        admin(&c, "POST", "/clock/advance", json!({"seconds": seconds})).await;
        let r = rotate(json!({})).await.unwrap();
        assert_eq!(r.status(), 400, "clock advanced by {seconds}");
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(body["code"], json!("INVALID_INPUT"), "{body}");
    }
    assert_eq!(sb.platform_certificates().len(), 1, "nothing was issued");
    // Back on time, rotations work again.
    sb.reset_clock().unwrap();
    admin(&c, "POST", "/platform-certificates/rotate", json!({})).await;
    assert_eq!(sb.platform_certificates().len(), 2);
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
