//! Platform certificates against the real sandbox: a rotation and an expiry in the middle of a
//! stream of concurrent calls, the migration of a merchant from certificates to the public key,
//! and the bound on downloads under a storm of unknown serials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goldplan::client::RefreshPolicy;
use goldplan::gold_plan::{CHANGE_GOLD_PLAN_STATUS, OperationType};
use goldplan::{Client, ErrorKind, RequestOptions};
use goldplan_e2e::*;
use goldplan_sandbox::{Fault, FaultKind, KeyMode, MerchantPatch, RotateRequest};
use serde_json::json;
use tokio::task::JoinSet;

/// Waits until `counter` reaches `target`; panics if the stream stops making progress.
async fn wait_for(counter: &AtomicUsize, target: usize) {
    for _ in 0..3000 {
        if counter.load(Ordering::SeqCst) >= target {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the stream of calls stalled at {} (waiting for {target})",
        counter.load(Ordering::SeqCst)
    );
}

/// One call of the stream: the three operations that keep the sandbox state valid, in turn.
async fn stream_call(client: &Client, i: usize) -> goldplan::Result<()> {
    match i % 3 {
        0 => client.close_advertising_show(SUB).await.map(drop),
        1 => client.open_advertising_show(SUB, None).await.map(drop),
        _ => client
            .change_gold_plan_status(SUB, OperationType::Open, None)
            .await
            .map(drop),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_expiry_in_the_middle_of_a_stream_fail_no_call() {
    const WORKERS: usize = 8;
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let client = client(&info, Verification::Certificates);
    let old = signing_serial(&sandbox);
    open_gold_plan(&client).await;
    assert_eq!(client.verifier().accept_serial(), Some(old.clone()));

    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut workers = JoinSet::new();
    for w in 0..WORKERS {
        let (client, done, stop, failures) =
            (client.clone(), done.clone(), stop.clone(), failures.clone());
        workers.spawn(async move {
            let mut i = w;
            // Bounded: the controller stops the stream long before this.
            while !stop.load(Ordering::SeqCst) && i < 100_000 {
                if let Err(e) = stream_call(&client, i).await {
                    failures.lock().unwrap().push(format!("{}: {e}", e.kind()));
                }
                done.fetch_add(1, Ordering::SeqCst);
                i += WORKERS;
            }
        });
    }

    // 50 calls, a rotation (the new certificate signs at once), 50 more, the old certificate
    // expires, 100 more.
    wait_for(&done, 50).await;
    let rotated = sandbox
        .rotate_platform_certificate(RotateRequest {
            sign_with_new: Some(true),
            ..RotateRequest::default()
        })
        .await
        .unwrap();
    let new = rotated.new_serial_no;
    let mark = done.load(Ordering::SeqCst);
    wait_for(&done, mark + 50).await;
    sandbox.expire_platform_certificate(&old).unwrap();
    let mark = done.load(Ordering::SeqCst);
    wait_for(&done, mark + 100).await;
    stop.store(true, Ordering::SeqCst);
    while let Some(joined) = workers.join_next().await {
        joined.unwrap();
    }

    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "failed calls: {failures:?}");
    let total = done.load(Ordering::SeqCst);
    assert!(total >= 200, "{total} calls");
    let log = requests_to(&sandbox, GOLD_PLAN_PATHS);
    assert_eq!(log.len(), total + 1, "no call needed a retry");
    assert!(log.iter().all(|r| r.status / 100 == 2), "{log:?}");
    let by_new = log
        .iter()
        .filter(|r| r.wechatpay_serial.as_deref() == Some(new.as_str()))
        .count();
    assert!(
        by_new >= 100,
        "only {by_new} of {total} answers signed by the new certificate"
    );
    assert!(log.iter().all(|r| {
        [Some(old.as_str()), Some(new.as_str())].contains(&r.wechatpay_serial.as_deref())
    }));

    // One download at start, one when the new serial first appeared: the whole concurrent
    // stream shared it.
    assert_eq!(certificate_downloads(&sandbox), 2);
    assert_eq!(client.certificate_downloads().await, 2);
    // The client now advertises the new certificate, and keeps the old one until it expires.
    assert_eq!(client.verifier().accept_serial(), Some(new.clone()));
    let held: Vec<String> = client
        .platform_certificates()
        .iter()
        .map(|c| c.serial_hex().to_owned())
        .collect();
    assert!(held.contains(&new) && held.contains(&old), "{held:?}");
}

/// A repeatable call through the generic request, returning the key that signed the answer.
async fn signed_by(client: &Client) -> goldplan::Result<String> {
    let response = client
        .request_json(
            "POST",
            CHANGE_GOLD_PLAN_STATUS.path,
            &json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
            &RequestOptions::default(),
        )
        .await?;
    Ok(response.serial)
}

#[tokio::test]
async fn migration_from_certificates_to_the_public_key() {
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let certificate = signing_serial(&sandbox);
    let public_key = info.public_key_id.clone();
    let cert_only = client(&info, Verification::Certificates);
    let combined = client(&info, Verification::Combined);
    let key_only = client(&info, Verification::PublicKey);

    // 1. Certificate mode: everything is signed with the platform certificate, which a
    //    public-key-only client cannot verify.
    assert_eq!(signed_by(&cert_only).await.unwrap(), certificate);
    assert_eq!(signed_by(&combined).await.unwrap(), certificate);
    let err = signed_by(&key_only).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownSerial, "{err}");
    assert_eq!(key_only.certificate_downloads().await, 0);

    // 2. Migrating: answers follow the serial each client advertises.
    sandbox
        .update_merchant(
            &info.mchid,
            MerchantPatch {
                mode: Some(KeyMode::Combined),
                callback_public_key_share: Some(0.5),
                ..MerchantPatch::default()
            },
        )
        .unwrap();
    assert_eq!(signed_by(&cert_only).await.unwrap(), certificate);
    assert_eq!(signed_by(&combined).await.unwrap(), public_key);
    assert_eq!(signed_by(&key_only).await.unwrap(), public_key);

    // 3. Public key only: the certificate list is gone.
    sandbox
        .update_merchant(
            &info.mchid,
            MerchantPatch {
                mode: Some(KeyMode::PublicKey),
                ..MerchantPatch::default()
            },
        )
        .unwrap();
    assert_eq!(signed_by(&combined).await.unwrap(), public_key);
    assert_eq!(signed_by(&key_only).await.unwrap(), public_key);
    let downloads = certificate_downloads(&sandbox);
    let err = signed_by(&cert_only).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownSerial, "{err}");
    assert_eq!(
        certificate_downloads(&sandbox),
        downloads,
        "a public key id never triggers a certificate download"
    );
    let err = cert_only.refresh_certificates().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoPlatformCertificate, "{err}");
    assert!(err.request_id().is_some());
    assert!(err.to_string().contains("public key"), "{err}");
    assert_eq!(
        cert_only.platform_certificates().len(),
        1,
        "a failed refresh keeps the certificates held"
    );

    // The combined client survives the same refresh failure.
    let err = combined.refresh_certificates().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoPlatformCertificate, "{err}");
    assert_eq!(signed_by(&combined).await.unwrap(), public_key);

    // A combined client configured only now works too, trying the download once.
    let late = client(&info, Verification::Combined);
    let downloads = certificate_downloads(&sandbox);
    for _ in 0..3 {
        assert_eq!(signed_by(&late).await.unwrap(), public_key);
    }
    assert_eq!(certificate_downloads(&sandbox), downloads + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_unknown_serials_costs_at_most_one_download() {
    const STORM: u32 = 40;
    let sandbox = start(KeyMode::Certificate).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    open_gold_plan(&client).await;
    assert_eq!(certificate_downloads(&sandbox), 1);

    for storm in 0..2 {
        sandbox
            .inject_fault(
                Fault::new(FaultKind::UnknownSerial)
                    .times(STORM)
                    .on_path(GOLD_PLAN_PATHS),
            )
            .unwrap();
        let mut calls = JoinSet::new();
        for _ in 0..STORM {
            let client = client.clone();
            calls.spawn(async move {
                client
                    .change_gold_plan_status(SUB, OperationType::Open, None)
                    .await
            });
        }
        while let Some(joined) = calls.join_next().await {
            let err = joined.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnknownSerial, "{err}");
        }
        assert!(
            sandbox.faults().is_empty(),
            "each call was sent exactly once"
        );
        // The first storm costs one download; the second falls in the same interval.
        assert_eq!(certificate_downloads(&sandbox), 2, "after storm {storm}");
    }
    assert_eq!(client.certificate_downloads().await, 2);
    open_gold_plan(&client).await;
}

/// Regression: a client configured for platform certificates only, for a merchant that has
/// none (every merchant created since about 2024-10), used to send each call anyway and then
/// report an unknown `PUB_KEY_ID_…` serial, leaving the outcome of an executed call unknown
/// and hiding the download's `404 RESOURCE_NOT_EXISTS`. It must say "configure the public key"
/// and send nothing it cannot verify.
#[tokio::test]
async fn a_certificate_client_of_a_public_key_merchant_is_told_before_anything_is_sent() {
    let sandbox = start(KeyMode::PublicKey).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    let mut errors = Vec::new();
    for _ in 0..2 {
        errors.push(
            client
                .change_gold_plan_status(SUB, OperationType::Open, None)
                .await
                .unwrap_err(),
        );
    }
    errors.push(client.close_advertising_show(SUB).await.unwrap_err());
    errors.push(client.upload_image("logo.png", b"image").await.unwrap_err());
    errors.push(client.encrypt_sensitive("13800138000").await.unwrap_err());
    let download = requests_to(&sandbox, "/v3/certificates");
    assert_eq!(download.len(), 1, "downloads stay rate-limited");
    for err in &errors {
        assert_eq!(err.kind(), ErrorKind::NoPlatformCertificate, "{err}");
        assert!(err.to_string().contains("public key"), "{err}");
        assert_eq!(
            err.request_id().map(str::to_ascii_uppercase),
            Some(download[0].request_id.to_ascii_uppercase()),
            "the Request-ID of the 404"
        );
    }
    assert_eq!(
        sandbox.requests().len(),
        1,
        "nothing but the download was sent: {:?}",
        sandbox.requests()
    );
}

/// The sandbox's own rotation schedule over five simulated years, with the client sharing the
/// sandbox clock: each new certificate is picked up on first sight, and an expired one is
/// dropped from the client's set at the next download.
#[tokio::test]
async fn scheduled_rotations_over_five_years_on_a_shared_clock() {
    let sandbox = start(KeyMode::Certificate).await;
    sandbox
        // Lead time 0: each scheduled certificate signs as soon as it is issued, so the client
        // meets it on first sight (the sandbox's default lists it for 5 days first).
        .update_settings(&json!({"protocol_clock": "sandbox", "auto_rotate_after_secs": 3600, "rotation_lead_secs": 0}))
        .unwrap();
    // Rotations hours or years apart happen within one real second here, so the rate limit
    // on downloads (real time) is lifted.
    let client = builder(&info(&sandbox), Verification::Certificates)
        .clock(sandbox.clock())
        .refresh_policy(RefreshPolicy {
            interval: Duration::from_secs(3600),
            min_interval: Duration::ZERO,
        })
        .build()
        .unwrap();
    let first = signing_serial(&sandbox);
    let held = |client: &Client| -> Vec<String> {
        client
            .platform_certificates()
            .iter()
            .map(|c| c.serial_hex().to_owned())
            .collect()
    };
    open_gold_plan(&client).await;
    assert_eq!(held(&client), std::slice::from_ref(&first));

    // An hour later the next request finds the schedule due: a second certificate signs.
    sandbox.advance_clock(3600).unwrap();
    open_gold_plan(&client).await;
    let second = signing_serial(&sandbox);
    assert_ne!(second, first);
    assert_eq!(client.verifier().accept_serial(), Some(second.clone()));
    assert_eq!(held(&client).len(), 2, "the first stays until it expires");

    // Five years on, the first has expired and a third signs.
    sandbox.advance_clock(5 * 365 * 24 * 3600).unwrap();
    open_gold_plan(&client).await;
    let third = signing_serial(&sandbox);
    let mut expected = vec![second, third.clone()];
    expected.sort();
    let mut now_held = held(&client);
    now_held.sort();
    assert_eq!(now_held, expected, "the expired certificate is dropped");
    assert_eq!(client.verifier().accept_serial(), Some(third));
    assert_eq!(certificate_downloads(&sandbox), 3);
}

async fn open_gold_plan(client: &Client) {
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .unwrap();
}
