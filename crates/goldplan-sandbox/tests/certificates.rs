//! `GET /v3/certificates`, public-key mode, rotation, expiry, migration and persistence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Resp, TestClient, paths, start, start_with};
use goldplan::certificates::{CertificateSet, validate_download};
use goldplan::credentials::ApiV3Key;
use goldplan::gold_plan::OperationType;
use goldplan::verify::{VerificationPolicy, WechatpayHeaders};
use goldplan_sandbox::{KeyMode, MerchantPatch, RotateRequest, SandboxConfig};
use serde_json::json;

fn download(c: &TestClient, r: &Resp, trusted: &CertificateSet) -> goldplan::Result<Vec<String>> {
    let headers =
        WechatpayHeaders::from_pairs(r.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))?;
    let key = ApiV3Key::new(&c.info.apiv3_key)?;
    let got = validate_download(
        &headers,
        &r.body,
        &key,
        trusted,
        None,
        &VerificationPolicy::default(),
    )?;
    Ok(got
        .certificates
        .iter()
        .map(|c| c.serial_hex().to_owned())
        .collect())
}

#[tokio::test]
async fn certificates_download_decrypts_and_self_verifies() {
    let (sb, c) = start().await;
    let r = c
        .send("GET", "/v3/certificates?algorithm_type=RSA", b"")
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let serials = download(&c, &r, &CertificateSet::default()).unwrap();
    assert_eq!(
        serials,
        vec![
            sb.info().unwrap().platform_certificates[0]
                .serial_no
                .clone()
        ]
    );
    let entry = &r.json()["data"][0];
    assert!(
        entry["effective_time"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert_eq!(
        entry["encrypt_certificate"]["associated_data"],
        "certificate"
    );
    assert_eq!(
        entry["encrypt_certificate"]["nonce"]
            .as_str()
            .unwrap()
            .len(),
        12
    );
    // Without query too; SM2 lists nothing; anything else is a parameter error.
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 200);
    assert_eq!(
        c.send("GET", "/v3/certificates?algorithm_type=SM2", b"")
            .await
            .json()["data"],
        json!([])
    );
    c.send("GET", "/v3/certificates?algorithm_type=DSA", b"")
        .await
        .assert_error(400, "PARAM_ERROR", "");
}

#[tokio::test]
async fn public_key_only_merchants_get_resource_not_exists() {
    let (sb, c) = start_with(SandboxConfig {
        mode: KeyMode::PublicKey,
        ..common::config()
    })
    .await;
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    r.assert_error(404, "RESOURCE_NOT_EXISTS", "无可用的平台证书");
    assert_eq!(
        r.header("wechatpay-serial").unwrap(),
        sb.info().unwrap().public_key_id
    );
    c.verify(&r).unwrap();
}

#[tokio::test]
async fn rotation_lists_both_then_the_old_one_retires() {
    let (sb, mut c) = start().await;
    let old = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    // The explicit immediate switch: the new certificate signs before any client has it.
    let out = sb
        .rotate_platform_certificate(RotateRequest {
            overlap_secs: Some(3600),
            sign_with_new: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_ne!(out.new_serial_no, old);
    assert_eq!(out.previous.len(), 1);
    assert_eq!(out.previous[0].serial_no, old);
    assert!(
        out.new_serial_no.len() == 40
            && out
                .new_serial_no
                .chars()
                .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_lowercase())
    );

    // A client that holds only the old certificate can still verify the list (signed by the
    // new one) because the list vouches for itself (spec §3.3 rule 2).
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(r.header("wechatpay-serial").unwrap(), out.new_serial_no);
    let mut serials = download(&c, &r, &CertificateSet::default()).unwrap();
    serials.sort();
    let mut expected = vec![old.clone(), out.new_serial_no.clone()];
    expected.sort();
    assert_eq!(serials, expected);
    assert!(
        c.verify(&r).is_err(),
        "the old set does not know the new signer"
    );
    c.refresh(&sb.info().unwrap());
    c.verify(&r).unwrap();

    // After the overlap the old certificate is gone.
    sb.advance_clock(3600).unwrap();
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(
        download(&c, &r, &CertificateSet::default()).unwrap(),
        vec![out.new_serial_no.clone()]
    );
    assert_eq!(sb.info().unwrap().platform_certificates.len(), 1);
}

#[tokio::test]
async fn rotation_can_keep_signing_with_the_old_one_and_expiry_is_immediate() {
    let (sb, c) = start().await;
    let old = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    // No lead time: the new certificate could sign at once, but the hand-over is staged.
    let out = sb
        .rotate_platform_certificate(RotateRequest {
            sign_with_new: Some(false),
            lead_secs: Some(0),
            ..Default::default()
        })
        .await
        .unwrap();
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(r.header("wechatpay-serial").unwrap(), old);
    sb.expire_platform_certificate(&old).unwrap();
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(r.header("wechatpay-serial").unwrap(), out.new_serial_no);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 1);
    // Expiring the last one leaves no certificate: 404, signed with the public key.
    sb.expire_platform_certificate(&out.new_serial_no).unwrap();
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    r.assert_error(404, "RESOURCE_NOT_EXISTS", "");
    assert!(
        r.header("wechatpay-serial")
            .unwrap()
            .starts_with("PUB_KEY_ID_")
    );
    assert!(sb.expire_platform_certificate("ABCDEF").is_err());
}

#[tokio::test]
async fn certificates_expire_with_the_clock_and_rotate_on_schedule() {
    let (sb, c) = start().await;
    sb.update_settings(&json!({"auto_rotate_after_secs": 86400, "rotation_overlap_secs": 60}))
        .unwrap();
    let first = sb.info().unwrap().platform_certificates[0]
        .serial_no
        .clone();
    assert_eq!(
        c.send("GET", paths::CERTIFICATES, b"").await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    sb.advance_clock(86400).unwrap();
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(
        r.json()["data"].as_array().unwrap().len(),
        2,
        "rotated on schedule"
    );
    // Listed first; it signs once its lead time (capped by the 60 s overlap) has passed,
    // when the first one retires.
    assert_eq!(r.header("wechatpay-serial").unwrap(), first);
    sb.advance_clock(61).unwrap();
    let r = c.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 1);
    assert_ne!(r.header("wechatpay-serial").unwrap(), first);

    // Past NotAfter (5 years) nothing is valid any more, unless the schedule keeps rotating.
    sb.update_settings(&json!({"auto_rotate_after_secs": null}))
        .unwrap();
    sb.advance_clock(6 * 365 * 86400).unwrap();
    c.send("GET", paths::CERTIFICATES, b"")
        .await
        .assert_error(404, "RESOURCE_NOT_EXISTS", "");
}

#[tokio::test]
async fn migration_to_the_public_key() {
    let (sb, mut c) = start_with(SandboxConfig {
        mode: KeyMode::Certificate,
        ..common::config()
    })
    .await;
    let info = sb.info().unwrap();
    let mchid = info.mchid.clone();
    c.wechatpay_serial = Some(info.public_key_id.clone());
    let body = json!({"sub_mchid": common::SUB, "operation_type": "OPEN"});
    // Before the switch the public key id is ignored.
    let r = c.ok("POST", paths::GOLD_PLAN, body.clone()).await;
    assert_eq!(
        r.header("wechatpay-serial").unwrap(),
        info.platform_certificates[0].serial_no
    );
    // During the switch responses follow Wechatpay-Serial.
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            mode: Some(KeyMode::Combined),
            callback_public_key_share: Some(0.2),
            ..Default::default()
        },
    )
    .unwrap();
    let r = c.ok("POST", paths::GOLD_PLAN, body.clone()).await;
    assert_eq!(r.header("wechatpay-serial").unwrap(), info.public_key_id);
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 200);
    // After it, certificates are gone for this merchant.
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            mode: Some(KeyMode::PublicKey),
            ..Default::default()
        },
    )
    .unwrap();
    c.send("GET", paths::CERTIFICATES, b"")
        .await
        .assert_error(404, "RESOURCE_NOT_EXISTS", "");
    assert_eq!(sb.info().unwrap().mode, KeyMode::PublicKey);
    assert!(
        sb.update_merchant(
            &mchid,
            MerchantPatch {
                callback_public_key_share: Some(1.5),
                ..Default::default()
            }
        )
        .is_err()
    );
}

#[tokio::test]
async fn the_state_directory_keeps_identities_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = || SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        ..SandboxConfig::default()
    };
    let (sb, _) = start_with(config()).await;
    let first = sb.info().unwrap();
    sb.shutdown().await.unwrap();
    let written: goldplan_sandbox::SandboxInfo =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sandbox.json")).unwrap())
            .unwrap();
    assert_eq!(written.serial_no, first.serial_no);
    assert_eq!(written.base_url, first.base_url);
    let (sb, c) = start_with(config()).await;
    let second = sb.info().unwrap();
    assert_eq!(second.serial_no, first.serial_no);
    assert_eq!(second.apiv3_key, first.apiv3_key);
    assert_eq!(second.public_key_id, first.public_key_id);
    assert_eq!(second.platform_certificates, first.platform_certificates);
    let r = c
        .ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": common::SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, 200);
    // Rotation rewrites sandbox.json.
    sb.rotate_platform_certificate(RotateRequest::default())
        .await
        .unwrap();
    let written: goldplan_sandbox::SandboxInfo =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sandbox.json")).unwrap())
            .unwrap();
    assert_eq!(written.platform_certificates.len(), 2);
}

#[tokio::test]
async fn a_rotation_after_advancing_the_clock_is_trusted_by_a_wall_clock_client() {
    let (sb, _c) = start_with(SandboxConfig {
        mode: KeyMode::Certificate,
        ..common::config()
    })
    .await;
    let info = sb.info().unwrap();
    let client = common::certificate_mode_client(&info);
    client
        .change_gold_plan_status(common::SUB, OperationType::Open, None)
        .await
        .unwrap();

    // Business time moves 30 days on; the client keeps the wall clock.
    sb.advance_clock(30 * 86400).unwrap();
    let rotation = sb
        .rotate_platform_certificate(RotateRequest {
            sign_with_new: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let cert = sb
        .platform_certificates()
        .into_iter()
        .find(|p| p.serial_no == rotation.new_serial_no)
        .unwrap();
    assert!(cert.active && cert.signing);
    client.refresh_certificates().await.unwrap();
    assert!(
        client
            .platform_certificates()
            .iter()
            .any(|p| p.serial_hex() == rotation.new_serial_no),
        "the new certificate is valid by the wall clock"
    );
    // Answers are now signed with the new certificate.
    client.close_advertising_show(common::SUB).await.unwrap();
    // Still the sandbox's newest certificate: the schedule does not see it as 30 days old.
    sb.update_settings(&json!({"auto_rotate_after_secs": 86400}))
        .unwrap();
    client.close_advertising_show(common::SUB).await.unwrap();
    assert_eq!(sb.platform_certificates().len(), 2, "no extra rotation");
}
