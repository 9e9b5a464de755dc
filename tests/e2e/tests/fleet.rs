//! A fleet sharing platform certificate downloads through Redis: clients that each have their
//! own store object and connections (as separate processes do) against one sandbox and one
//! `redis-server`. Downloads are counted where they arrive: the sandbox's request log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use goldplan::Client;
use goldplan::client::{CertificateStore, RefreshPolicy};
use goldplan::gold_plan::OperationType;
use goldplan_e2e::*;
use goldplan_redis::RedisCertificateStore;
use goldplan_sandbox::KeyMode;

/// A client of the built-in merchant with a store of its own on `redis` (its own connection,
/// as in another process).
fn fleet_client(info: &goldplan_sandbox::SandboxInfo, redis: &RedisServer, prefix: &str) -> Client {
    let store = RedisCertificateStore::open(&redis.url())
        .unwrap()
        .with_prefix(prefix);
    builder(info, Verification::Certificates)
        .certificate_store(Arc::new(store))
        .build()
        .unwrap()
}

async fn open(client: &Client) -> goldplan::Result<()> {
    client
        .change_gold_plan_status(SUB, OperationType::Open, None)
        .await
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_downloads_once_per_merchant_and_once_per_rotation() {
    let redis = RedisServer::start();
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let fleet: Vec<Client> = (0..6).map(|_| fleet_client(&info, &redis, "t1")).collect();

    // Every member's first call at once: one downloads, the others install its publication.
    let calls = fleet.iter().map(open);
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(
        certificate_downloads(&sandbox),
        1,
        "one download for the whole fleet"
    );
    let first = signing_serial(&sandbox);
    for client in &fleet {
        assert_eq!(client.verifier().accept_serial(), Some(first.clone()));
    }

    // A rotation whose new certificate signs at once: the first member to meet the new serial
    // downloads; the others take its publication (announced, or read when they meet it too).
    let rotated = rotate_signing_now(&sandbox).await;
    for client in &fleet {
        open(client).await.unwrap();
    }
    assert_eq!(
        certificate_downloads(&sandbox),
        2,
        "one more download for the rotation"
    );
    for client in &fleet {
        assert!(
            client
                .platform_certificates()
                .iter()
                .any(|c| c.serial_hex() == rotated)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_certificate_this_apiv3_key_did_not_encrypt_is_never_trusted() {
    let redis = RedisServer::start();
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let first = fleet_client(&info, &redis, "t2");
    open(&first).await.unwrap();
    assert_eq!(certificate_downloads(&sandbox), 1);

    // Whoever can write to Redis replaces each listed certificate by one of their own (here
    // another sandbox's), encrypted under a key of their own, and publishes it as newer.
    let other = start(KeyMode::Certificate).await;
    let foreign = other.platform_certificates()[0].certificate_pem.clone();
    let store = RedisCertificateStore::open(&redis.url())
        .unwrap()
        .with_prefix("t2");
    let (_, genuine) = store.latest(&info.mchid).await.unwrap().unwrap();
    let mut body: serde_json::Value = serde_json::from_str(&genuine.body).unwrap();
    let wrong_key =
        goldplan::credentials::ApiV3Key::new("wrongwrongwrongwrongwrongwrong32").unwrap();
    for entry in body["data"].as_array_mut().unwrap() {
        let resource = &mut entry["encrypt_certificate"];
        let nonce = resource["nonce"].as_str().unwrap().to_owned();
        let ad = resource["associated_data"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        resource["ciphertext"] = serde_json::Value::String(
            goldplan::aead::encrypt(
                &wrong_key,
                ad.as_bytes(),
                nonce.as_bytes(),
                foreign.as_bytes(),
            )
            .unwrap(),
        );
    }
    let poisoned = goldplan::client::StoredDownload {
        headers: genuine.headers.clone(),
        body: body.to_string(),
    };
    store.publish(&info.mchid, &poisoned).await.unwrap();

    // A new member refuses it and downloads for itself; nothing of the poison is trusted.
    let victim = fleet_client(&info, &redis, "t2");
    open(&victim).await.unwrap();
    assert_eq!(certificate_downloads(&sandbox), 2);
    let trusted: Vec<String> = victim
        .platform_certificates()
        .iter()
        .map(|c| c.pem().to_owned())
        .collect();
    assert_eq!(trusted.len(), 1);
    assert_ne!(trusted[0], foreign);
    assert_eq!(
        victim.verifier().accept_serial(),
        Some(signing_serial(&sandbox))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_every_client_keeps_working_and_shares_again_after_a_restart() {
    let mut redis = RedisServer::start();
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let fleet: Vec<Client> = (0..3).map(|_| fleet_client(&info, &redis, "t3")).collect();
    for client in &fleet {
        open(client).await.unwrap();
    }
    assert_eq!(certificate_downloads(&sandbox), 1);

    redis.kill();
    // Calls go on; a client that starts now downloads for itself.
    for client in &fleet {
        open(client).await.unwrap();
    }
    let newcomer = fleet_client(&info, &redis, "t3");
    open(&newcomer).await.unwrap();
    assert_eq!(
        certificate_downloads(&sandbox),
        2,
        "the newcomer downloaded alone"
    );

    // Redis comes back empty; the next rotation is shared again.
    redis.restart();
    let rotated = rotate_signing_now(&sandbox).await;
    let before = certificate_downloads(&sandbox);
    for client in fleet.iter().chain([&newcomer]) {
        open(client).await.unwrap();
        assert!(
            client
                .platform_certificates()
                .iter()
                .any(|c| c.serial_hex() == rotated)
        );
    }
    assert_eq!(
        certificate_downloads(&sandbox) - before,
        1,
        "one download for the rotation across the fleet once Redis is back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_unknown_serials_across_the_fleet_costs_one_download() {
    let redis = RedisServer::start();
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let fleet: Vec<Client> = (0..5)
        .map(|_| {
            let store = RedisCertificateStore::open(&redis.url())
                .unwrap()
                .with_prefix("t4");
            builder(&info, Verification::Certificates)
                .certificate_store(Arc::new(store))
                .refresh_policy(RefreshPolicy {
                    min_interval: Duration::from_secs(60),
                    ..RefreshPolicy::default()
                })
                .build()
                .unwrap()
        })
        .collect();
    for client in &fleet {
        open(client).await.unwrap();
    }
    assert_eq!(certificate_downloads(&sandbox), 1);

    // Callbacks naming serials nobody holds, 10 per member.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (i, client) in fleet.iter().enumerate() {
        for j in 0..10 {
            let headers = [
                ("Wechatpay-Timestamp".to_owned(), now.to_string()),
                ("Wechatpay-Nonce".to_owned(), format!("nonce-{i}-{j}")),
                (
                    "Wechatpay-Serial".to_owned(),
                    format!("{:040X}", 0xF00D_0000_u64 + (i * 10 + j) as u64),
                ),
                ("Wechatpay-Signature".to_owned(), "c2lnbmF0dXJl".to_owned()),
            ];
            let outcome = client
                .parse_notification(
                    headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
                    b"{}",
                    None,
                )
                .await;
            assert!(outcome.is_err());
        }
    }
    assert_eq!(
        certificate_downloads(&sandbox),
        2,
        "50 forged serials over 5 members: one download in the storm interval"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_store_setting_of_a_configuration_file_shares_downloads() {
    goldplan_host::register_certificate_stores();
    let redis = RedisServer::start();
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    // What every language reads: a sandbox.json with `certificate_store` added.
    let mut config = serde_json::to_value(&info).unwrap();
    config["certificate_store"] = serde_json::Value::String(redis.url());
    config["mode"] = serde_json::Value::String("certificate".into());
    let text = config.to_string();
    for _ in 0..3 {
        let client = goldplan::config::ClientConfig::from_json(&text, None)
            .unwrap()
            .build()
            .unwrap();
        open(&client).await.unwrap();
    }
    assert_eq!(certificate_downloads(&sandbox), 1);

    // An engine nobody registered is a configuration error that does not show the URL.
    config["certificate_store"] =
        serde_json::Value::String("memcached://:hunter2@127.0.0.1/".into());
    let e = goldplan::config::ClientConfig::from_json(&config.to_string(), None)
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), goldplan::ErrorKind::Configuration);
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_bucket_is_shared_and_outlives_its_users() {
    use goldplan::client::RateLimiter;
    use goldplan_redis::RedisRateLimiter;
    let redis = RedisServer::start();
    let worker = RedisRateLimiter::open(&redis.url(), 20.0, 2)
        .unwrap()
        .with_prefix("t6");
    assert_eq!(
        worker.try_acquire("1900000100").await.unwrap(),
        Duration::ZERO
    );
    assert_eq!(
        worker.try_acquire("1900000100").await.unwrap(),
        Duration::ZERO
    );
    drop(worker);
    // Another process (another limiter object) finds the bucket the first one emptied.
    let other = RedisRateLimiter::open(&redis.url(), 20.0, 2)
        .unwrap()
        .with_prefix("t6");
    let wait = other.try_acquire("1900000100").await.unwrap();
    assert!(
        wait > Duration::from_millis(20) && wait <= Duration::from_millis(50),
        "{wait:?}"
    );
    // Buckets are per provider.
    assert_eq!(
        other.try_acquire("1900000200").await.unwrap(),
        Duration::ZERO
    );
    tokio::time::sleep(wait).await;
    assert_eq!(
        other.try_acquire("1900000100").await.unwrap(),
        Duration::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_one_member_publishes_reaches_the_others_without_a_new_serial() {
    let redis = RedisServer::start();
    let sandbox = start(KeyMode::Certificate).await;
    let info = info(&sandbox);
    let (a, b) = (
        fleet_client(&info, &redis, "t7"),
        fleet_client(&info, &redis, "t7"),
    );
    open(&a).await.unwrap();
    open(&b).await.unwrap();
    assert_eq!(certificate_downloads(&sandbox), 1);

    // A new certificate is listed but does not sign yet, so B never meets its serial; A
    // downloads the list now and publishes it.
    let new = sandbox
        .rotate_platform_certificate(goldplan_sandbox::RotateRequest::default())
        .await
        .unwrap()
        .new_serial_no;
    a.refresh_certificates().await.unwrap();
    assert_eq!(certificate_downloads(&sandbox), 2);
    let holds_new = |c: &Client| {
        c.platform_certificates()
            .iter()
            .any(|x| x.serial_hex() == new)
    };
    assert!(holds_new(&a));

    // B learns of the publication (pub/sub, or the poll) and installs it on its next call.
    let mut installed = false;
    for _ in 0..100 {
        open(&b).await.unwrap();
        if holds_new(&b) {
            installed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        installed,
        "the announced download never reached the other member"
    );
    assert_eq!(
        certificate_downloads(&sandbox),
        2,
        "B downloaded nothing itself"
    );
}
