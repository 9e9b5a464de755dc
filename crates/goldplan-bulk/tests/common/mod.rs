//! Test support: an in-process sandbox with registered special merchants and a client for it
//! whose own retries are off (the runner retries).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::OnceLock;
use std::time::Duration;

use goldplan::Client;
use goldplan::client::RetryPolicy;
use goldplan::clock::{Clock, SystemClock};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::verify::PublicKeyVerifier;
use goldplan_sandbox::{
    Identities, KeyMode, Sandbox, SandboxConfig, SandboxHandle, Settings, SubMerchantRegistration,
};

pub fn identities() -> Identities {
    static IDS: OnceLock<Identities> = OnceLock::new();
    IDS.get_or_init(|| Identities::generate(SystemClock.now(), 5 * 365 * 24 * 3600).unwrap())
        .clone()
}

/// Special merchant ids `1900100000 + i`.
pub fn sub_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{}", 1_900_100_000 + i)).collect()
}

/// A sandbox in public-key mode with `subs` registered (each with a receipt link, so the
/// receipt switch exists) and `settings`.
pub async fn sandbox(subs: &[String], settings: Settings) -> SandboxHandle {
    let sb = Sandbox::start(SandboxConfig {
        identities: Some(identities()),
        mode: KeyMode::PublicKey,
        sub_mchids: vec![],
        settings,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let mchid = sb.info().unwrap().mchid;
    for s in subs {
        sb.add_sub_merchant(
            &mchid,
            SubMerchantRegistration {
                sub_mchid: s.clone(),
                receipt_link: Some("https://example.com/receipt".into()),
            },
        )
        .unwrap();
    }
    sb
}

pub fn client(sb: &SandboxHandle) -> Client {
    let info = sb.info().unwrap();
    let key = PrivateKey::from_pem(&info.private_key_pem).unwrap();
    let creds = MerchantCredentials::with_certificate(
        &info.mchid,
        &info.serial_no,
        key,
        &info.certificate_pem,
    )
    .unwrap();
    Client::builder()
        .credentials(creds)
        .apiv3_key(ApiV3Key::new(&info.apiv3_key).unwrap())
        .base_url(&info.base_url)
        .timeout(Duration::from_secs(10))
        .wechatpay_public_key(
            PublicKeyVerifier::from_pem(&info.public_key_id, &info.public_key_pem).unwrap(),
        )
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        })
        .build()
        .unwrap()
}

/// Successful Gold Plan requests in the sandbox log, per (sub_mchid, path, operation_type).
pub fn accepted(sb: &SandboxHandle) -> std::collections::HashMap<(String, String), usize> {
    let mut counts = std::collections::HashMap::new();
    for r in sb.requests() {
        if !r.path.starts_with("/v3/goldplan/") || !(200..300).contains(&r.status) {
            continue;
        }
        let body: serde_json::Value =
            serde_json::from_str(r.body.as_deref().unwrap_or("{}")).unwrap_or_default();
        let sub = body["sub_mchid"].as_str().unwrap_or_default().to_owned();
        *counts.entry((sub, r.path.clone())).or_insert(0) += 1;
    }
    counts
}
