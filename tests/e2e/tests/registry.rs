//! Many merchants in one process: a `ClientRegistry` holding the built-in provider and a
//! second provider registered with its own key, APIv3 key and key mode, called concurrently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use goldplan::client::ClientRegistry;
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::gold_plan::{IndustryType, OperationType};
use goldplan::{Client, ErrorKind};
use goldplan_e2e::*;
use goldplan_sandbox::{KeyMode, MerchantRegistration, RsaIdentity, SandboxControl, Switch};
use tokio::task::JoinSet;

const SECOND: &str = "1230000109";
const SECOND_SERIAL: &str = "5E1F0C2B3A4D5E6F708192A3B4C5D6E7F8091A2B";
const SECOND_APIV3: &str = "e2e0second0provider0apiv3key0xyz";
const SECOND_SUB: &str = "1230000200";
const CALLS: usize = 40;

fn second_client(sandbox: &SandboxControl, key: &RsaIdentity, apiv3: &str) -> Client {
    let credentials = MerchantCredentials::new(
        SECOND,
        SECOND_SERIAL,
        PrivateKey::from_pem(key.private_key_pem()).unwrap(),
    )
    .unwrap();
    Client::builder()
        .credentials(credentials)
        .apiv3_key(ApiV3Key::new(apiv3).unwrap())
        .base_url(sandbox.base_url())
        .retry_policy(fast_retries(3))
        .build()
        .unwrap()
}

/// One call of the mixed load: the operations that keep an open merchant open, in turn.
async fn mixed_call(client: &Client, sub: &str, i: usize) -> goldplan::Result<()> {
    match i % 4 {
        0 => client
            .change_gold_plan_status(sub, OperationType::Open, None)
            .await
            .map(drop),
        1 => client
            .set_advertising_industry_filter(sub, vec![IndustryType::Software])
            .await
            .map(drop),
        2 => client.open_advertising_show(sub, None).await.map(drop),
        _ => client.close_advertising_show(sub).await.map(drop),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_serves_two_merchants_concurrently() {
    assert_eq!(SECOND_APIV3.len(), 32);
    let sandbox = start(KeyMode::Combined).await;
    let info = info(&sandbox);
    let key = tokio::task::spawn_blocking(RsaIdentity::generate)
        .await
        .unwrap()
        .unwrap();
    sandbox
        .register_merchant(MerchantRegistration {
            mchid: SECOND.into(),
            serial_no: Some(SECOND_SERIAL.into()),
            public_key_pem: Some(key.public_key_pem()),
            certificate_pem: None,
            apiv3_key: SECOND_APIV3.into(),
            mode: Some(KeyMode::Certificate),
            sub_mchids: vec![SECOND_SUB.into()],
        })
        .unwrap();

    let registry = Arc::new(ClientRegistry::new());
    registry.insert(client(&info, Verification::PublicKey));
    registry.insert(second_client(&sandbox, &key, SECOND_APIV3));
    let mut mchids = registry.mchids();
    mchids.sort();
    assert_eq!(mchids, [SECOND.to_owned(), info.mchid.clone()]);
    let merchants = [(info.mchid.clone(), SUB), (SECOND.to_owned(), SECOND_SUB)];

    for (mchid, sub) in &merchants {
        let client = registry.get(mchid).unwrap();
        mixed_call(&client, sub, 0).await.unwrap();
    }
    let mut calls = JoinSet::new();
    for i in 0..CALLS {
        let (mchid, sub) = merchants[i % 2].clone();
        let registry = registry.clone();
        calls.spawn(async move {
            let client = registry.get(&mchid).unwrap();
            mixed_call(&client, sub, i / 2).await
        });
    }
    while let Some(joined) = calls.join_next().await {
        joined.unwrap().unwrap();
    }

    // Each merchant's calls were authenticated as that merchant and answered with the key its
    // mode selects; only the certificate-mode merchant downloaded certificates, once.
    // The second merchant's own platform certificate: each merchant has its own.
    let certificate = sandbox
        .platform_certificates_of(SECOND)
        .unwrap()
        .into_iter()
        .find(|c| c.signing)
        .map(|c| c.serial_no)
        .unwrap();
    for (mchid, sub) in &merchants {
        let log: Vec<_> = requests_to(&sandbox, GOLD_PLAN_PATHS)
            .into_iter()
            .filter(|r| r.mchid.as_deref() == Some(mchid.as_str()))
            .collect();
        assert_eq!(log.len(), CALLS / 2 + 1, "{mchid}");
        assert!(log.iter().all(|r| r.status / 100 == 2), "{log:?}");
        let expected = if mchid == SECOND {
            certificate.as_str()
        } else {
            info.public_key_id.as_str()
        };
        assert!(
            log.iter()
                .all(|r| r.wechatpay_serial.as_deref() == Some(expected)),
            "{mchid}: {log:?}"
        );
        let st = sandbox.sub_merchant(mchid, sub).unwrap();
        assert_eq!(st.gold_plan, Switch::Open);
        assert_eq!(st.advertising_industry_filters, ["SOFTWARE"]);
        let downloads = requests_to(&sandbox, "/v3/certificates")
            .into_iter()
            .filter(|r| r.mchid.as_deref() == Some(mchid.as_str()))
            .count();
        assert_eq!(downloads, usize::from(mchid == SECOND), "{mchid}");
    }

    // A provider cannot act on another provider's special merchant.
    for (mchid, other_sub) in [(info.mchid.as_str(), SECOND_SUB), (SECOND, SUB)] {
        let client = registry.get(mchid).unwrap();
        let err = client.close_advertising_show(other_sub).await.unwrap_err();
        assert_api_error(
            &sandbox,
            &err,
            400,
            "INVALID_REQUEST",
            "特约商户信息逻辑错误",
        );
    }

    // Certificates are encrypted under each merchant's own APIv3 key.
    let wrong = second_client(&sandbox, &key, &info.apiv3_key);
    let err = wrong.refresh_certificates().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decryption, "{err}");
    assert!(wrong.platform_certificates().is_empty());

    assert!(registry.remove(SECOND).is_some());
    assert!(registry.get(SECOND).is_none());
    assert_eq!(registry.mchids(), [info.mchid]);
}
