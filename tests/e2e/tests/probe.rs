//! `Client::probe` against the sandbox: what `goldplan doctor` and every binding's configuration
//! check report, for a working configuration in each key mode and for the usual mistakes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use goldplan::client::{ProbeReport, ProbeStatus};
use goldplan::credentials::{MerchantCredentials, PrivateKey};
use goldplan_e2e::*;
use goldplan_sandbox::KeyMode;

fn status(report: &ProbeReport, check: &str) -> ProbeStatus {
    report
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap_or_else(|| panic!("no {check} check in {report:?}"))
        .status
}

#[tokio::test]
async fn a_working_configuration_passes_every_check_in_each_mode() {
    for verification in Verification::ALL {
        let sandbox = start(verification.merchant_mode()).await;
        let client = client(&info(&sandbox), verification);
        let report = client.probe().await;
        assert!(report.is_ok(), "{verification:?}: {report:?}");
        for check in ["reachability", "signature", "clock_skew", "key_mode"] {
            assert_eq!(
                status(&report, check),
                ProbeStatus::Ok,
                "{verification:?} {check}"
            );
        }
        assert!(report.request_id.is_some());
        assert!(report.clock_skew_secs.is_some_and(|s| s.abs() < 5));
        // The probe's one request is a GET /v3/certificates; nothing of it is installed.
        assert_eq!(certificate_downloads(&sandbox), 1, "one request, no retry");
        assert_eq!(client.certificate_downloads().await, 0);
        assert!(client.platform_certificates().is_empty());
    }
}

#[tokio::test]
async fn a_certificate_client_of_a_public_key_merchant_is_told_to_configure_the_key() {
    let sandbox = start(KeyMode::PublicKey).await;
    let client = client(&info(&sandbox), Verification::Certificates);
    let report = client.probe().await;
    assert!(!report.is_ok());
    let key_mode = report
        .checks
        .iter()
        .find(|c| c.check == "key_mode")
        .unwrap();
    assert_eq!(key_mode.status, ProbeStatus::Fail);
    assert!(
        key_mode.fix.as_deref().unwrap().contains("public"),
        "{key_mode:?}"
    );
}

#[tokio::test]
async fn a_public_key_client_of_a_certificate_merchant_fails_the_key_mode_check() {
    let sandbox = start(KeyMode::Certificate).await;
    let client = client(&info(&sandbox), Verification::PublicKey);
    let report = client.probe().await;
    assert_eq!(status(&report, "signature"), ProbeStatus::Ok);
    assert_eq!(status(&report, "key_mode"), ProbeStatus::Fail, "{report:?}");
}

#[tokio::test]
async fn a_wrong_serial_is_a_refused_signature() {
    let sandbox = start(KeyMode::PublicKey).await;
    let info = info(&sandbox);
    let key = PrivateKey::from_pem(&info.private_key_pem).unwrap();
    let client = builder(&info, Verification::PublicKey)
        .credentials(MerchantCredentials::new(&info.mchid, "1234567890ABCDEF", key).unwrap())
        .build()
        .unwrap();
    let report = client.probe().await;
    assert_eq!(status(&report, "reachability"), ProbeStatus::Ok);
    assert_eq!(
        status(&report, "signature"),
        ProbeStatus::Fail,
        "{report:?}"
    );
    assert!(!report.is_ok());
}

#[tokio::test]
async fn an_unreachable_gateway_fails_reachability() {
    let sandbox = start(KeyMode::PublicKey).await;
    let info = info(&sandbox);
    // A port nothing listens on (the sandbox's own, after it is stopped).
    sandbox.shutdown().await.unwrap();
    let client = builder(&info, Verification::PublicKey).build().unwrap();
    let report = client.probe().await;
    assert_eq!(status(&report, "reachability"), ProbeStatus::Fail);
    assert_eq!(report.status, None);
}
