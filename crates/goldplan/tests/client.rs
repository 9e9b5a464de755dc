//! Client behaviour against a scripted in-process gateway (a `Transport` that checks our
//! signatures and signs its answers like WeChat Pay), so that retries, fail-over, rotation and
//! the forged-serial storm bound are tested exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::gateway::*;
use goldplan::client::{RefreshPolicy, RetryPolicy};
use goldplan::credentials::{ApiV3Key, PrivateKey};
use goldplan::gold_plan::{IndustryType, OperationPayScene, OperationType};
use goldplan::verify::PublicKeyVerifier;
use goldplan::{Client, ErrorKind, RequestOptions};

#[tokio::test]
async fn first_call_downloads_certificates_then_every_call_is_signed_and_verified() {
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    let reply = client
        .change_gold_plan_status(
            "1900000109",
            OperationType::Open,
            Some(OperationPayScene::Jsapi),
        )
        .await
        .unwrap();
    assert_eq!(reply.data.sub_mchid, "1900000109");
    assert!(reply.request_id.is_some());
    client.close_advertising_show("1900000109").await.unwrap();
    client
        .set_advertising_industry_filter(
            "1900000109",
            vec![IndustryType::Software, IndustryType::Potography],
        )
        .await
        .unwrap();
    client
        .open_advertising_show("1900000109", None)
        .await
        .unwrap();
    client
        .change_custom_page_status("1900000109", OperationType::Close)
        .await
        .unwrap();
    assert_eq!(gw.downloads.load(Ordering::SeqCst), 1);

    let reqs = gw.requests();
    let first = &reqs[0];
    assert!(first.url.ends_with("/v3/certificates?algorithm_type=RSA"));
    assert_eq!(
        header(first, "Wechatpay-Serial"),
        None,
        "no key is known before the first download"
    );
    let call = &reqs[1];
    assert_eq!(call.method, "POST");
    assert_eq!(
        call.body,
        br#"{"sub_mchid":"1900000109","operation_type":"OPEN","operation_pay_scene":"JSAPI"}"#
    );
    assert_eq!(header(call, "Accept"), Some("application/json"));
    assert_eq!(header(call, "Content-Type"), Some("application/json"));
    assert_eq!(
        header(call, "Wechatpay-Serial"),
        Some("0ABC1234567890ABCDEF1234567890ABCDEF1234")
    );
    assert!(
        header(call, "User-Agent")
            .unwrap()
            .starts_with("WechatPay-Rust/")
    );
    let open = reqs
        .iter()
        .find(|r| r.url.ends_with("open-advertising-show"))
        .unwrap();
    assert_eq!(open.method, "PATCH");
    assert_eq!(open.body, br#"{"sub_mchid":"1900000109"}"#);
}

#[tokio::test]
async fn tampered_responses_are_rejected_even_when_empty() {
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    client.close_advertising_show("1").await.unwrap();
    gw.push(Fault::BadSignature, 1);
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignatureInvalid);
    assert!(
        err.request_id().is_some(),
        "verification errors carry the Request-ID"
    );
    gw.push(Fault::BadSignature, 1);
    let err = client
        .change_gold_plan_status("1", OperationType::Open, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignatureInvalid);
    // Never retried: the outcome is unknown.
    assert_eq!(gw.business_requests(), 3);
}

#[tokio::test]
async fn server_errors_are_retried_only_when_safe() {
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    client.close_advertising_show("1").await.unwrap();
    let before = gw.business_requests();
    gw.push(
        Fault::Status(500, r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#),
        2,
    );
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(gw.business_requests() - before, 3, "two 500s then success");

    gw.push(
        Fault::Status(500, r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#),
        3,
    );
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.api().unwrap().code, "SYSTEM_ERROR");
    assert!(err.is_retryable());

    // A generic POST is not known to be idempotent: one attempt only.
    let before = gw.business_requests();
    gw.push(
        Fault::Status(500, r#"{"code":"SYSTEM_ERROR","message":"x"}"#),
        1,
    );
    let err = client
        .request("POST", "/v3/some/other", Some(b"{}"))
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 500);
    assert_eq!(gw.business_requests() - before, 1);
    gw.push(Fault::Timeout, 1);
    let err = client
        .request("POST", "/v3/some/other", Some(b"{}"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(gw.business_requests() - before, 2);

    // 202 means accepted but not processed yet: an idempotent call is repeated.
    let before = gw.business_requests();
    gw.push(Fault::Status(202, ""), 2);
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(gw.business_requests() - before, 3);

    // Rate limiting means "not accepted": retried even for a POST.
    gw.push(
        Fault::Status(
            400,
            r#"{"code":"INVALID_REQUEST","message":"命中频率限制"}"#,
        ),
        1,
    );
    gw.push(
        Fault::Status(429, r#"{"code":"RATELIMIT_EXCEEDED","message":"x"}"#),
        1,
    );
    client
        .request("POST", "/v3/some/other", Some(b"{}"))
        .await
        .unwrap();

    // Retry-After within the back-off budget is waited for; beyond it the error is handed back
    // at once (still retryable) instead of hammering a server that asked for patience.
    let before = gw.business_requests();
    gw.push(
        Fault::StatusRetryAfter(429, r#"{"code":"RATELIMIT_EXCEEDED","message":"x"}"#, 0),
        1,
    );
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(gw.business_requests() - before, 2);
    gw.push(
        Fault::StatusRetryAfter(503, r#"{"code":"SERVICE_UNAVAILABLE","message":"x"}"#, 120),
        1,
    );
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.api().unwrap().status, 503);
    assert!(err.is_retryable());
    assert_eq!(gw.business_requests() - before, 3);

    // Business errors are final and carry everything WeChat said.
    gw.push(Fault::Status(400, r#"{"code":"INVALID_REQUEST","message":"特约商户未开通点金计划","detail":{"field":"/sub_mchid"}}"#), 1);
    let err = client.open_advertising_show("1", None).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.status, api.code.as_str()), (400, "INVALID_REQUEST"));
    assert_eq!(api.message, "特约商户未开通点金计划");
    assert_eq!(api.request_id.as_deref(), Some("err-1"));
    assert!(api.detail.is_some());
    gw.push(Fault::Status(502, "<html>bad gateway</html>"), 3);
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.api().unwrap().raw_body, "<html>bad gateway</html>");
}

#[tokio::test]
async fn unreachable_primary_fails_over_once_to_the_backup_host() {
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    client.close_advertising_show("1").await.unwrap();
    gw.push(Fault::ConnectRefused, 1);
    client.close_advertising_show("1").await.unwrap();
    let reqs = gw.requests();
    let last = reqs.last().unwrap();
    assert!(last.url.starts_with(BACKUP));
    assert!(
        header(last, "User-Agent")
            .unwrap()
            .ends_with(" (Retried-V1)")
    );
    let prev = &reqs[reqs.len() - 2];
    assert!(prev.url.starts_with(PRIMARY));
    assert_ne!(
        header(prev, "Authorization"),
        header(last, "Authorization"),
        "re-signed"
    );
}

#[tokio::test]
async fn rotation_mid_stream_has_zero_failures() {
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    for i in 0..10 {
        if i == 5 {
            // WeChat lists the new certificate and starts signing with it.
            gw.listed.lock().unwrap().push(2);
            *gw.signing.lock().unwrap() = 2;
        }
        client.close_advertising_show("1").await.unwrap();
    }
    assert_eq!(gw.downloads.load(Ordering::SeqCst), 2);
    let serials: Vec<String> = client
        .platform_certificates()
        .iter()
        .map(|c| c.serial_hex().to_owned())
        .collect();
    assert_eq!(
        serials.len(),
        2,
        "the old certificate stays until it expires: {serials:?}"
    );
    // The newest certificate is now advertised.
    let last = gw.requests().last().cloned().unwrap();
    assert_eq!(
        header(&last, "Wechatpay-Serial"),
        Some("5DEA10EF55877E3CF6C33255C2E7DEFFF7E42700")
    );
}

#[tokio::test]
async fn a_storm_of_forged_serials_causes_at_most_one_download() {
    let gw = Gateway::new(1);
    let client = Client::builder()
        .credentials(credentials())
        .apiv3_key(ApiV3Key::new(APIV3).unwrap())
        .base_url(PRIMARY)
        .transport(gw.clone())
        .retry_policy(fast_retries())
        .refresh_policy(RefreshPolicy {
            interval: Duration::from_secs(3600),
            min_interval: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    client.close_advertising_show("1").await.unwrap();
    assert_eq!(gw.downloads.load(Ordering::SeqCst), 1);
    // Responses signed by a certificate the list never contains (one more for the refresh).
    gw.push(Fault::SignWith(2), 51);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let c = client.clone();
        tasks.push(tokio::spawn(
            async move { c.close_advertising_show("1").await },
        ));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap().unwrap_err().kind(),
            ErrorKind::UnknownSerial
        );
    }
    assert_eq!(
        gw.downloads.load(Ordering::SeqCst),
        2,
        "one refresh for the whole storm"
    );
}

#[tokio::test]
async fn no_platform_certificate_tells_the_user_to_use_the_public_key() {
    let gw = Gateway::new(1);
    gw.push(Fault::Status(404, r#"{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。"}"#), 1);
    let client = certificate_client(&gw);
    let err = client.refresh_certificates().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoPlatformCertificate);
    assert!(err.to_string().contains("public key"));
}

#[tokio::test]
async fn public_key_mode_never_downloads_and_advertises_the_key_id() {
    let gw = Gateway::new(0);
    let client = public_key_client(&gw, false);
    client.close_advertising_show("1").await.unwrap();
    client
        .change_gold_plan_status("1", OperationType::Close, None)
        .await
        .unwrap();
    assert_eq!(gw.downloads.load(Ordering::SeqCst), 0);
    assert!(
        gw.requests()
            .iter()
            .all(|r| header(r, "Wechatpay-Serial") == Some(PUB_KEY_ID))
    );
    // A certificate-signed response is from an unknown key in pure public-key mode.
    gw.push(Fault::SignWith(1), 1);
    assert_eq!(
        client.close_advertising_show("1").await.unwrap_err().kind(),
        ErrorKind::UnknownSerial
    );
}

#[tokio::test]
async fn combined_mode_accepts_both_keys_during_migration() {
    let gw = Gateway::new(0);
    let client = public_key_client(&gw, true);
    client.close_advertising_show("1").await.unwrap();
    gw.push(Fault::SignWith(1), 1);
    client.close_advertising_show("1").await.unwrap();
    assert!(
        gw.requests()
            .iter()
            .filter(|r| !r.url.contains("certificates"))
            .all(|r| header(r, "Wechatpay-Serial") == Some(PUB_KEY_ID))
    );
}

#[tokio::test]
async fn invalid_input_is_rejected_before_anything_is_sent() {
    let gw = Gateway::new(0);
    let client = public_key_client(&gw, false);
    let too_many = vec![IndustryType::Food; 4];
    assert_eq!(
        client
            .set_advertising_industry_filter("1", vec![])
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        client
            .open_advertising_show("1", Some(too_many))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        client
            .close_advertising_show(&"9".repeat(33))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        client
            .request("TRACE", "/v3/x", None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        client
            .request("GET", "v3/x", None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert!(gw.requests().is_empty());
}

#[tokio::test]
async fn generic_request_media_upload_and_sensitive_fields() {
    let gw = Gateway::new(0);
    let client = public_key_client(&gw, false);
    let r = client
        .request("GET", "/v3/anything?x=1", None)
        .await
        .unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(r.serial, PUB_KEY_ID);
    let last = gw.requests().last().cloned().unwrap();
    assert!(last.url.ends_with("/v3/anything?x=1"));
    assert_eq!(
        header(&last, "Content-Type"),
        None,
        "no body, no content type"
    );

    let up = client
        .upload_image("logo.png", b"hello wechatpay")
        .await
        .unwrap();
    assert_eq!(up.data.media_id, "m-1");
    let sent = gw.requests().last().cloned().unwrap();
    assert!(
        header(&sent, "Content-Type")
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );

    let encrypted = client.encrypt_sensitive("张三").await.unwrap();
    assert_eq!(encrypted.wechatpay_serial, PUB_KEY_ID);
    let ciphertext = encrypted.ciphertext;
    let wechat_side = PrivateKey::from_pem(&key_file("wechatpay_test_pubkey_key.pem")).unwrap();
    assert_eq!(
        goldplan::sensitive::decrypt(&wechat_side, &ciphertext)
            .unwrap()
            .as_str(),
        "张三"
    );
    let r = client
        .request_with(
            "POST",
            "/v3/x",
            Some(b"{}"),
            &RequestOptions {
                wechatpay_serial: Some(encrypted.wechatpay_serial.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn configuration_errors_are_typed() {
    let gw = Gateway::new(0);
    let base = || {
        Client::builder()
            .credentials(credentials())
            .transport(gw.clone())
    };
    assert_eq!(
        base().build().unwrap_err().kind(),
        ErrorKind::Configuration,
        "certificates need the APIv3 key"
    );
    let err = base()
        .apiv3_key(ApiV3Key::new(APIV3).unwrap())
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("loopback"));
    assert!(Client::builder().build().is_err());
    let err = base()
        .apiv3_key(ApiV3Key::new(APIV3).unwrap())
        .platform_certificates(false)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    for skew in [0, -5, 100_000] {
        let err = base()
            .apiv3_key(ApiV3Key::new(APIV3).unwrap())
            .max_skew_secs(skew)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "skew {skew}");
    }
}

fn reqwest_client(base: &str, proxy: Option<String>, timeout: Duration) -> Client {
    let pk =
        PublicKeyVerifier::from_pem(PUB_KEY_ID, &key_file("wechatpay_test_pubkey.pem")).unwrap();
    let mut b = Client::builder()
        .credentials(credentials())
        .wechatpay_public_key(pk)
        .base_url(base)
        .timeout(timeout)
        .connect_timeout(timeout)
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..fast_retries()
        });
    if let Some(p) = proxy {
        b = b.proxy(p);
    }
    b.build().unwrap()
}

#[tokio::test]
async fn real_sockets_timeouts_refusals_and_proxies() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A server that accepts and never answers: a timeout, not retried for a POST.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let client = reqwest_client(
        &format!("http://{silent_addr}"),
        None,
        Duration::from_millis(300),
    );
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // A header the HTTP layer refuses is an input error, not a network failure to retry.
    let options = RequestOptions {
        wechatpay_serial: Some("PUB_KEY_ID_1\r\nX-Injected: 1".into()),
        ..Default::default()
    };
    let err = client
        .request_with("GET", "/v3/x", None, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!err.is_retryable());

    // Nothing listens: a connect error, which is safe to retry.
    let refused = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let client = reqwest_client(&format!("http://{refused}"), None, Duration::from_secs(2));
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.is_retryable());

    // A configured proxy receives the request in absolute form; its 502 becomes an API error.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let seen_by_proxy = seen.clone();
    tokio::spawn(async move {
        let (mut sock, _) = proxy.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = sock.read(&mut buf).await.unwrap();
        *seen_by_proxy.lock().unwrap() = String::from_utf8_lossy(&buf[..n]).into_owned();
        sock.write_all(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 9\r\nConnection: close\r\n\r\nproxy 502",
        )
        .await
        .unwrap();
    });
    let client = reqwest_client(
        "http://127.0.0.1:1",
        Some(format!("http://{proxy_addr}")),
        Duration::from_secs(2),
    );
    let err = client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.api().unwrap().status, 502);
    assert_eq!(err.api().unwrap().raw_body, "proxy 502");
    let request = seen.lock().unwrap().clone();
    assert!(
        request
            .starts_with("POST http://127.0.0.1:1/v3/goldplan/merchants/close-advertising-show "),
        "{request}"
    );

    let bad = Client::builder()
        .credentials(credentials())
        .wechatpay_public_key(
            PublicKeyVerifier::from_pem(PUB_KEY_ID, &key_file("wechatpay_test_pubkey.pem"))
                .unwrap(),
        )
        .proxy("::not a url::")
        .build()
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Configuration);
}

/// A keep-alive HTTP/1.1 server answering every request `500`; counts connections.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = vec![0u8; 8192];
                loop {
                    let Ok(n) = sock.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&pending).to_string();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if pending.len() < end + 4 + length {
                        continue;
                    }
                    pending.drain(..end + 4 + length);
                    let body = r#"{"code":"SYSTEM_ERROR","message":"x"}"#;
                    let answer = format!(
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), connections)
}

#[tokio::test]
async fn with_new_connections_keeps_keys_and_opens_a_new_pool() {
    let (base, connections) = counting_server().await;
    let client = reqwest_client(&base, None, Duration::from_secs(5));
    for _ in 0..2 {
        let err = client.close_advertising_show("1").await.unwrap_err();
        assert_eq!(err.api().unwrap().status, 500);
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "keep-alive reuses one connection"
    );

    let fresh = client.with_new_connections().unwrap();
    assert_eq!(fresh.mchid(), client.mchid());
    assert_eq!(fresh.user_agent(), client.user_agent());
    assert_eq!(
        fresh.verifier().accept_serial().as_deref(),
        Some(PUB_KEY_ID)
    );
    let err = fresh.close_advertising_show("1").await.unwrap_err();
    assert_eq!(err.api().unwrap().status, 500);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "the new client has its own pool"
    );
    // The original keeps working on its own connection.
    client.close_advertising_show("1").await.unwrap_err();
    assert_eq!(connections.load(Ordering::SeqCst), 2);

    // A caller-supplied transport is kept, and so are the platform certificates held.
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    client.close_advertising_show("1900000109").await.unwrap();
    let fresh = client.with_new_connections().unwrap();
    assert_eq!(
        fresh.platform_certificates().len(),
        client.platform_certificates().len()
    );
    fresh.close_advertising_show("1900000109").await.unwrap();
    assert_eq!(gw.business_requests(), 2);
}
