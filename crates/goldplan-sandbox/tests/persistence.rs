//! The state directory keeps the business state across restarts (`state.json`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{SUB, TestClient, paths, start_with};
use goldplan::credentials::{MerchantCredentials, PrivateKey};
use goldplan_sandbox::{
    KeyMode, MerchantPatch, MerchantRegistration, REOPEN_TOO_SOON, RotateRequest,
    STATE_FORMAT_VERSION, Sandbox, SandboxConfig, SandboxError, SandboxInfo,
    SubMerchantRegistration, Switch,
};
use serde_json::json;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/keys");
const EXTRA: &str = "1230000109";
const EXTRA_SUB: &str = "1230000200";
const CLOSED_SUB: &str = "1900000201";

fn config(dir: &std::path::Path) -> SandboxConfig {
    // No identities given: they are generated once, then loaded from identities.json.
    SandboxConfig {
        state_dir: Some(dir.to_owned()),
        ..SandboxConfig::default()
    }
}

fn written_info(dir: &std::path::Path) -> SandboxInfo {
    serde_json::from_str(&std::fs::read_to_string(dir.join("sandbox.json")).unwrap()).unwrap()
}

/// The extra merchant's client, verifying with the extra merchant's own WeChat Pay keys.
fn extra_client(c: &TestClient, view: &goldplan_sandbox::MerchantView) -> TestClient {
    let cert = std::fs::read_to_string(format!("{KEYS}/merchant_test_cert.pem")).unwrap();
    let key = std::fs::read_to_string(format!("{KEYS}/merchant_test_key.pem")).unwrap();
    let serial = goldplan::x509::Certificate::from_pem(&cert)
        .unwrap()
        .serial_hex()
        .to_owned();
    c.for_registered(
        MerchantCredentials::with_certificate(
            EXTRA,
            serial,
            PrivateKey::from_pem(&key).unwrap(),
            &cert,
        )
        .unwrap(),
        view,
    )
}

#[tokio::test]
async fn business_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (sb, c) = start_with(config(dir.path())).await;
    let mchid = sb.info().unwrap().mchid;

    // Gold Plan open with filters, advertising and the receipt on the default special merchant.
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            receipt_link: Some("https://receipt.example.com/r".into()),
            mode: Some(KeyMode::Certificate),
            ..Default::default()
        },
    )
    .unwrap();
    c.ok(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
    )
    .await;
    c.ok(
        "POST",
        paths::CUSTOM_PAGE,
        json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
    )
    .await;
    let r = c
        .ok(
            "POST",
            paths::FILTER,
            json!({"sub_mchid": SUB, "advertising_industry_filters": ["E_COMMERCE", "POTOGRAPHY"]}),
        )
        .await;
    assert_eq!(r.status, 204);
    c.ok("PATCH", paths::OPEN_AD, json!({"sub_mchid": SUB}))
        .await;

    // A second special merchant opened and closed: the 24-hour rule must outlive the restart.
    sb.add_sub_merchant(
        &mchid,
        SubMerchantRegistration {
            sub_mchid: CLOSED_SUB.into(),
            receipt_link: Some("https://sub.example.com/".into()),
        },
    )
    .unwrap();
    c.ok(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": CLOSED_SUB, "operation_type": "OPEN"}),
    )
    .await;
    c.ok(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": CLOSED_SUB, "operation_type": "CLOSE"}),
    )
    .await;

    // An extra merchant with its own key, and Gold Plan opened through it.
    let cert = std::fs::read_to_string(format!("{KEYS}/merchant_test_cert.pem")).unwrap();
    sb.register_merchant(MerchantRegistration {
        mchid: EXTRA.into(),
        serial_no: None,
        public_key_pem: None,
        certificate_pem: Some(cert),
        apiv3_key: "0123456789abcdefghijklmnopqrstuv".into(),
        mode: Some(KeyMode::PublicKey),
        sub_mchids: vec![EXTRA_SUB.into()],
    })
    .unwrap();
    let extra_view = sb.merchant(EXTRA).unwrap();
    extra_client(&c, &extra_view)
        .ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": EXTRA_SUB, "operation_type": "OPEN"}),
        )
        .await;

    // Settings, a rotation that keeps signing with the old certificate, the clock.
    sb.update_settings(&json!({"max_upload_bytes": 1024, "rotation_overlap_secs": 7 * 86400}))
        .unwrap();
    let rotation = sb
        .rotate_platform_certificate(RotateRequest {
            sign_with_new: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    sb.advance_clock(3600).unwrap();

    let before_info = sb.info().unwrap();
    let before_merchants = sb.merchants();
    let before_sub = sb.sub_merchant(&mchid, SUB).unwrap();
    let before_closed = sb.sub_merchant(&mchid, CLOSED_SUB).unwrap();
    let before_extra_sub = sb.sub_merchant(EXTRA, EXTRA_SUB).unwrap();
    let before_settings = sb.settings();
    let before_certs = sb.platform_certificates();
    sb.shutdown().await.unwrap();

    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(state["format_version"], json!(STATE_FORMAT_VERSION));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["state.json", "identities.json", "sandbox.json"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{file} must be readable by the owner only");
        }
    }

    // Same directory, fresh process state.
    let sb = Sandbox::start(config(dir.path())).await.unwrap();
    assert!(
        sb.clock_view().offset_secs >= 3600,
        "the clock offset is restored"
    );
    assert_eq!(sb.settings(), before_settings);
    let after_merchants = sb.merchants();
    assert_eq!(
        serde_json::to_value(&after_merchants).unwrap(),
        serde_json::to_value(&before_merchants).unwrap()
    );
    assert_eq!(sb.sub_merchant(&mchid, SUB).unwrap(), before_sub);
    assert_eq!(before_sub.gold_plan, Switch::Open);
    assert_eq!(before_sub.custom_page, Switch::Open);
    assert_eq!(before_sub.advertising_show, Switch::Open);
    assert_eq!(
        before_sub.advertising_industry_filters,
        vec!["E_COMMERCE", "POTOGRAPHY"]
    );
    assert_eq!(sb.sub_merchant(&mchid, CLOSED_SUB).unwrap(), before_closed);
    assert!(before_closed.closed_at.is_some());
    assert_eq!(sb.sub_merchant(EXTRA, EXTRA_SUB).unwrap(), before_extra_sub);
    assert_eq!(sb.platform_certificates(), before_certs);
    assert!(
        sb.platform_certificates()
            .iter()
            .any(|p| p.serial_no == rotation.new_serial_no && !p.signing),
        "the rotation's choice of signing certificate is kept"
    );

    // A client configured from the new sandbox.json verifies the answers.
    let info = written_info(dir.path());
    assert_ne!(info.base_url, "");
    assert_eq!(info.base_url, sb.base_url());
    assert_eq!(info.serial_no, before_info.serial_no);
    assert_eq!(
        info.platform_certificates,
        before_info.platform_certificates
    );
    assert_eq!(info.mode, KeyMode::Certificate);
    let c = TestClient::new(&info);
    let r = c
        .ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("wechatpay-serial").unwrap(),
        before_certs.iter().find(|p| p.signing).unwrap().serial_no
    );

    // The 24-hour rule still counts from the close before the restart.
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": CLOSED_SUB, "operation_type": "OPEN"}),
        )
        .await;
    r.assert_error(400, "INVALID_REQUEST", REOPEN_TOO_SOON);
    c.verify(&r).unwrap();
    sb.advance_clock(24 * 3600 - 3600).unwrap();
    let r = c
        .ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": CLOSED_SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.status, 200);

    // The extra merchant still authenticates with its own key and gets public-key answers.
    // Its WeChat Pay side (public key, platform certificate) came back from `state.json`: the
    // keys it held before the restart still verify.
    let r = extra_client(&c, &extra_view)
        .ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": EXTRA_SUB, "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(
        r.header("wechatpay-serial").unwrap(),
        extra_view.public_key_id
    );
    assert_ne!(extra_view.public_key_id, info.public_key_id);
    sb.shutdown().await.unwrap();
}

async fn start_error(dir: &std::path::Path) -> SandboxError {
    let config = SandboxConfig {
        state_dir: Some(dir.to_owned()),
        identities: Some(common::identities()),
        ..SandboxConfig::default()
    };
    match Sandbox::start(config).await {
        Ok(_) => panic!("the sandbox started despite a bad state file"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_corrupt_state_file_is_a_typed_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, "{\"format_version\": 1, \"merchants\": [").unwrap();
    match start_error(dir.path()).await {
        SandboxError::CorruptState { path: p, .. } => assert_eq!(p, path),
        other => panic!("expected CorruptState, got {other:?}"),
    }
    let e = start_error(dir.path()).await;
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{\"format_version\": 1, \"merchants\": ["
    );

    std::fs::write(&path, "[1, 2]").unwrap();
    assert!(matches!(
        start_error(dir.path()).await,
        SandboxError::CorruptState { .. }
    ));
}

#[tokio::test]
async fn a_newer_state_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, "{\"format_version\": 999, \"anything\": true}").unwrap();
    match start_error(dir.path()).await {
        SandboxError::StateFormatTooNew {
            path: p,
            found,
            supported,
        } => {
            assert_eq!(p, path);
            assert_eq!(found, 999);
            assert_eq!(supported, STATE_FORMAT_VERSION);
        }
        other => panic!("expected StateFormatTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn stored_settings_are_checked_on_start() {
    let dir = tempfile::tempdir().unwrap();
    Sandbox::start(config(dir.path()))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    let path = dir.path().join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    state["settings"]["rate_limit"] = json!({"max_requests": 1, "window_secs": 0});
    std::fs::write(&path, state.to_string()).unwrap();
    match start_error(dir.path()).await {
        SandboxError::CorruptState { path: p, reason } => {
            assert_eq!(p, path);
            assert!(reason.contains("rate_limit"), "{reason}");
        }
        other => panic!("expected CorruptState, got {other:?}"),
    }
}

/// Group commit keeps the durability promise: concurrent writes share fsyncs, yet every write
/// that was answered is in the `state.json` on disk at that moment (read without a stop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_concurrent_write_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (sb, c) = start_with(config(dir.path())).await;
    let mchid = sb.info().unwrap().mchid;
    let subs: Vec<String> = (0..24).map(|i| format!("19000003{i:02}")).collect();
    for sub in &subs {
        sb.add_sub_merchant(
            &mchid,
            SubMerchantRegistration {
                sub_mchid: sub.clone(),
                receipt_link: None,
            },
        )
        .unwrap();
    }
    let calls = subs.iter().map(|sub| {
        c.ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": sub, "operation_type": "OPEN"}),
        )
    });
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.status, 200, "{}", r.json());
    }

    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    let merchant = on_disk["merchants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mchid"] == mchid.as_str())
        .unwrap();
    for sub in &subs {
        let stored = merchant["sub_merchants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sub_mchid"] == sub.as_str())
            .unwrap_or_else(|| panic!("{sub} is not in state.json"));
        assert_eq!(stored["gold_plan"], "OPEN", "{sub}: {stored}");
    }
    sb.shutdown().await.unwrap();
}

/// Issue: two sandboxes could run on one state directory and overwrite each other's files.
/// The directory is locked while a sandbox runs; the lock goes with `shutdown` or a drop.
#[tokio::test]
async fn a_state_directory_serves_one_sandbox_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let on_dir = || SandboxConfig {
        state_dir: Some(dir.path().to_owned()),
        ..common::config()
    };
    let first = Sandbox::start(on_dir()).await.unwrap();
    let state_before = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    let refused = match Sandbox::start(on_dir()).await {
        Ok(_) => panic!("a second sandbox started on a directory in use"),
        Err(e) => e,
    };
    assert!(
        matches!(&refused, SandboxError::StateDirInUse { path } if path == dir.path()),
        "{refused:?}"
    );
    assert!(
        refused
            .to_string()
            .contains(&dir.path().display().to_string()),
        "{refused}"
    );
    assert_eq!(refused.code(), "STATE_DIR_IN_USE");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("state.json")).unwrap(),
        state_before,
        "the refused sandbox wrote nothing"
    );
    // After a stop the directory is free; a control handle kept from the stopped sandbox no
    // longer writes into it (it belongs to the next sandbox now).
    let stale = first.control();
    first.shutdown().await.unwrap();
    let second = Sandbox::start(on_dir()).await.unwrap();
    stale.advance_clock(3600).unwrap();
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(stored["clock_offset_secs"], json!(0));
    assert!(matches!(
        Sandbox::start(on_dir()).await,
        Err(SandboxError::StateDirInUse { .. })
    ));
    // Dropping the handle releases it as well.
    drop(second);
    Sandbox::start(on_dir())
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
}
