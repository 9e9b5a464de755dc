//! Callbacks: signed, encrypted notifications, WeChat's acknowledgement rule, the retry
//! schedule, the gradual public-key switch and callback faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::start;
use goldplan::ErrorKind;
use goldplan::credentials::ApiV3Key;
use goldplan::notification::NotificationParser;
use goldplan_sandbox::{CallbackRequest, DeliveryStatus, Fault, FaultKind, KeyMode, MerchantPatch};
use serde_json::json;

/// Headers and body of one received notification.
type Seen = (Vec<(String, String)>, Vec<u8>);

#[derive(Default)]
struct Receiver {
    /// Statuses to answer, in order (200 once exhausted); `0` means "hang for 2 s".
    script: Mutex<VecDeque<u16>>,
    seen: Mutex<Vec<Seen>>,
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    r.seen.lock().unwrap().push((
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body.to_vec(),
    ));
    let status = r.script.lock().unwrap().pop_front().unwrap_or(200);
    if status == 0 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        return (StatusCode::OK, String::new());
    }
    let code = StatusCode::from_u16(status).unwrap();
    if code.is_success() {
        (code, String::new())
    } else {
        (code, r#"{"code":"FAIL","message":"try again"}"#.into())
    }
}

async fn receiver(script: &[u16]) -> (String, Arc<Receiver>) {
    let state = Arc::new(Receiver::default());
    state.script.lock().unwrap().extend(script.iter().copied());
    let app = axum::Router::new()
        .route("/notify", axum::routing::post(receive))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

fn request(url: &str) -> CallbackRequest {
    CallbackRequest {
        wait: true,
        summary: Some("支付成功".into()),
        ..CallbackRequest::new(
            url,
            json!({"sp_mchid": "1900000100", "sub_mchid": "1900000109", "out_trade_no": "ORDER1", "trade_state": "SUCCESS"}),
        )
    }
}

fn parser(c: &common::TestClient) -> NotificationParser {
    NotificationParser::new(
        Arc::new(c.verifier.clone()),
        ApiV3Key::new(&c.info.apiv3_key).unwrap(),
    )
}

#[tokio::test]
async fn a_notification_verifies_and_decrypts_with_the_core_parser() {
    let (sb, c) = start().await;
    let (url, rx) = receiver(&[]).await;
    let rec = sb.send_callback(request(&url)).await.unwrap();
    assert_eq!(rec.status, DeliveryStatus::Delivered);
    assert_eq!(rec.attempts.len(), 1);
    assert_eq!(rec.attempts[0].status, Some(200));
    let seen = rx.seen.lock().unwrap();
    let (headers, body) = &seen[0];
    assert_eq!(body, rec.body.as_bytes());
    let n = parser(&c)
        .parse(
            headers.iter().map(|(a, b)| (a.as_str(), b.as_bytes())),
            body,
        )
        .unwrap();
    assert_eq!(n.id, rec.id);
    assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(n.summary.as_deref(), Some("支付成功"));
    assert_eq!(n.original_type.as_deref(), Some("transaction"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(n.plaintext()).unwrap()["out_trade_no"],
        "ORDER1"
    );
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "wechatpay-signature-type" && v == "WECHATPAY2-SHA256-RSA2048")
    );
}

#[tokio::test]
async fn failures_and_timeouts_are_retried_on_a_compressed_schedule() {
    let (sb, _c) = start().await;
    // 500, 404, 302 and a hang are all failures; 204 acknowledges.
    let (url, rx) = receiver(&[500, 404, 302, 0, 204]).await;
    let rec = sb
        .send_callback(CallbackRequest {
            timeout_ms: Some(300),
            max_attempts: Some(6),
            ..request(&url)
        })
        .await
        .unwrap();
    assert_eq!(rec.status, DeliveryStatus::Delivered);
    let statuses: Vec<_> = rec.attempts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        vec![Some(500), Some(404), Some(302), None, Some(204)]
    );
    assert_eq!(rec.attempts[3].error.as_deref(), Some("timed out"));
    assert!(rec.attempts.iter().map(|a| a.attempt).eq(1..=5));
    // 15 s, 15 s, 30 s, 3 min scaled by 0.001 = 15, 15, 30, 180 ms between attempts.
    let gap = rec.attempts[4].sent_at_ms - rec.attempts[3].sent_at_ms;
    assert!(gap >= 180, "gap {gap}");
    // Every attempt carries the same notification, freshly signed.
    let seen = rx.seen.lock().unwrap();
    assert!(seen.iter().all(|(_, b)| b == rec.body.as_bytes()));
}

#[tokio::test]
async fn delivery_gives_up_after_the_bounded_number_of_attempts() {
    let (sb, _c) = start().await;
    let (url, rx) = receiver(&[500; 10]).await;
    let rec = sb
        .send_callback(CallbackRequest {
            retry_delays_ms: Some(vec![1]),
            ..request(&url)
        })
        .await
        .unwrap();
    assert_eq!(rec.status, DeliveryStatus::Failed);
    assert_eq!(rec.attempts.len(), 5, "callback_max_attempts defaults to 5");
    assert_eq!(rx.seen.lock().unwrap().len(), 5);
    assert_eq!(sb.callback(&rec.id).unwrap().attempts.len(), 5);

    // Without waiting, the record is pending first and can be awaited.
    let (url, _rx) = receiver(&[]).await;
    let rec = sb
        .send_callback(CallbackRequest {
            wait: false,
            ..request(&url)
        })
        .await
        .unwrap();
    let done = sb
        .wait_for_callback(&rec.id, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(done.status, DeliveryStatus::Delivered);
    assert!(
        sb.send_callback(request("ftp://example.com/x"))
            .await
            .is_err()
    );
    assert!(
        sb.send_callback(request("https://api.mch.weixin.qq.com/notify"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn callback_keys_follow_the_migration_share() {
    let (sb, c) = start().await;
    let info = sb.info().unwrap();
    let (url, rx) = receiver(&[]).await;
    let ctl = sb.control();
    let serial_of = |_: &goldplan_sandbox::SandboxHandle, url: String| {
        let ctl = ctl.clone();
        async move {
            ctl.send_callback(request(&url)).await.unwrap().attempts[0]
                .wechatpay_serial
                .clone()
        }
    };
    // Combined with share 0: certificate; share 1: public key; public-key mode: public key.
    assert_eq!(
        serial_of(&sb, url.clone()).await,
        info.platform_certificates[0].serial_no
    );
    sb.update_merchant(
        &info.mchid,
        MerchantPatch {
            callback_public_key_share: Some(1.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(serial_of(&sb, url.clone()).await, info.public_key_id);
    sb.update_merchant(
        &info.mchid,
        MerchantPatch {
            callback_public_key_share: Some(0.5),
            ..Default::default()
        },
    )
    .unwrap();
    let mut public = 0;
    for _ in 0..40 {
        if serial_of(&sb, url.clone()).await == info.public_key_id {
            public += 1;
        }
    }
    assert!(
        (5..=35).contains(&public),
        "about half signed with the public key: {public}"
    );
    sb.update_merchant(
        &info.mchid,
        MerchantPatch {
            mode: Some(KeyMode::Certificate),
            callback_public_key_share: Some(1.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        serial_of(&sb, url.clone()).await,
        info.platform_certificates[0].serial_no
    );
    // Both kinds verify with a combined verifier.
    let p = parser(&c);
    for (headers, body) in rx.seen.lock().unwrap().iter() {
        p.parse(
            headers.iter().map(|(a, b)| (a.as_str(), b.as_bytes())),
            body,
        )
        .unwrap();
    }
}

#[tokio::test]
async fn callback_faults_make_the_notification_fail_verification() {
    let (sb, c) = start().await;
    let (url, rx) = receiver(&[]).await;
    for kind in [
        FaultKind::BadSignature,
        FaultKind::UnknownSerial,
        FaultKind::StaleTimestamp,
    ] {
        sb.inject_fault(Fault::new(kind).for_callbacks()).unwrap();
        let rec = sb.send_callback(request(&url)).await.unwrap();
        assert_eq!(rec.attempts[0].fault, Some(kind));
    }
    assert!(
        sb.inject_fault(Fault::new(FaultKind::SystemError).for_callbacks())
            .is_err()
    );
    let p = parser(&c);
    let kinds: Vec<_> = rx
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(h, b)| {
            p.parse(h.iter().map(|(a, v)| (a.as_str(), v.as_bytes())), b)
                .unwrap_err()
                .kind()
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ErrorKind::SignatureInvalid,
            ErrorKind::UnknownSerial,
            ErrorKind::ClockSkew
        ]
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_does_not_acknowledge() {
    let (sb, _c) = start().await;
    // The redirect target answers 200 to any method (a followed 302 turns POST into GET);
    // the sandbox must neither follow the redirect nor count it as delivered.
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new()
        .route(
            "/ok",
            axum::routing::any(move || {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { StatusCode::OK }
            }),
        )
        .route(
            "/moved",
            axum::routing::post(|| async { (StatusCode::FOUND, [("location", "/ok")]) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/moved", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let rec = sb
        .send_callback(CallbackRequest {
            max_attempts: Some(2),
            retry_delays_ms: Some(vec![1]),
            ..request(&url)
        })
        .await
        .unwrap();
    assert_eq!(rec.status, DeliveryStatus::Failed);
    let statuses: Vec<_> = rec.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(302), Some(302)]);
    assert!(rec.attempts.iter().all(|a| !a.acknowledged));
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect target was never contacted"
    );
}

#[tokio::test]
async fn callback_headers_are_spelled_as_wechat_pay_spells_them() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (sb, _c) = start().await;
    // A raw receiver sees the header names exactly as sent (HTTP libraries lower-case them).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let seen = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 16 * 1024];
        let n = sock.read(&mut buf).await.unwrap();
        sock.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let rec = sb.send_callback(request(&url)).await.unwrap();
    let raw = seen.await.unwrap();
    for name in [
        "Wechatpay-Timestamp:",
        "Wechatpay-Nonce:",
        "Wechatpay-Signature:",
        "Wechatpay-Serial:",
        "Wechatpay-Signature-Type:",
    ] {
        assert!(raw.contains(name), "{name} missing in {raw}");
    }
    assert_eq!(rec.status, DeliveryStatus::Delivered);
}

/// A raw receiver: reads each request head (and its declared body), then runs `answer` on the
/// socket. Returns the notify URL.
async fn raw_receiver<F, Fut>(answer: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The head, then as many body bytes as it declares.
                loop {
                    let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let declared = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + declared {
                            break;
                        }
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                answer(stream).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn an_endless_answer_is_read_up_to_the_cap_and_fails_the_attempt() {
    use tokio::io::AsyncWriteExt;
    let (sb, _c) = start().await;
    // 200 with a chunked body that never ends. Reading it whole would grow without bound (and
    // end only with the 60 s timeout); the sandbox stops at the cap instead.
    let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = written.clone();
    let url = raw_receiver(move |mut stream| {
        let counter = counter.clone();
        async move {
            if stream
                .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
            while stream.write_all(chunk.as_bytes()).await.is_ok() {
                counter.fetch_add(0x4000, std::sync::atomic::Ordering::SeqCst);
            }
        }
    })
    .await;
    let rec = sb
        .send_callback(CallbackRequest {
            max_attempts: Some(1),
            timeout_ms: Some(60_000),
            ..request(&url)
        })
        .await
        .unwrap();
    assert_eq!(rec.status, DeliveryStatus::Failed);
    let attempt = &rec.attempts[0];
    assert_eq!(attempt.status, Some(200));
    assert!(!attempt.acknowledged);
    assert_eq!(
        attempt.error.as_deref(),
        Some(
            format!(
                "answer body larger than {} bytes",
                goldplan_sandbox::MAX_CALLBACK_ANSWER_BYTES
            )
            .as_str()
        )
    );
    assert!(attempt.response_body.as_ref().unwrap().chars().count() <= 256);
    assert!(written.load(std::sync::atomic::Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn an_answer_whose_body_times_out_is_a_failed_attempt() {
    use tokio::io::AsyncWriteExt;
    let (sb, _c) = start().await;
    // 200 promising 100 bytes, 10 sent, then silence while the connection stays open.
    let url = raw_receiver(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            .await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(stream);
    })
    .await;
    let rec = sb
        .send_callback(CallbackRequest {
            max_attempts: Some(2),
            retry_delays_ms: Some(vec![1]),
            timeout_ms: Some(300),
            ..request(&url)
        })
        .await
        .unwrap();
    assert_eq!(rec.status, DeliveryStatus::Failed);
    assert_eq!(rec.attempts.len(), 2, "a timed-out answer is retried");
    for attempt in &rec.attempts {
        assert_eq!(attempt.status, Some(200));
        assert!(!attempt.acknowledged);
        assert_eq!(
            attempt.error.as_deref(),
            Some("reading the answer body: timed out")
        );
    }
}

#[tokio::test]
async fn a_per_request_callback_timeout_is_bounded() {
    let (sb, _c) = start().await;
    for timeout_ms in [0, 60_001, u64::MAX] {
        let err = sb
            .send_callback(CallbackRequest {
                timeout_ms: Some(timeout_ms),
                ..request("http://127.0.0.1:9/notify")
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{timeout_ms}");
    }
}
