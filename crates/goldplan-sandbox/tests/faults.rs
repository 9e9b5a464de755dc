//! Fault injection: every kind, counts and matching.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{SUB, paths, start};
use goldplan::ErrorKind;
use goldplan_sandbox::{Fault, FaultKind};
use serde_json::json;

fn body() -> serde_json::Value {
    json!({"sub_mchid": SUB, "operation_type": "OPEN"})
}

#[tokio::test]
async fn error_faults_answer_without_processing() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    sb.inject_fault(Fault::new(FaultKind::SystemError)).unwrap();
    sb.inject_fault(Fault::new(FaultKind::TooManyRequests))
        .unwrap();
    sb.inject_fault(Fault::new(FaultKind::RateLimited)).unwrap();
    let r = c.json("POST", paths::GOLD_PLAN, body()).await;
    r.assert_error(500, "SYSTEM_ERROR", "系统错误");
    c.verify(&r).unwrap();
    let r = c.json("POST", paths::GOLD_PLAN, body()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), "RATELIMIT_EXCEEDED");
    let r = c.json("POST", paths::GOLD_PLAN, body()).await;
    r.assert_error(400, "INVALID_REQUEST", "命中频率限制");
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().gold_plan,
        goldplan_sandbox::Switch::Close
    );
    assert_eq!(c.json("POST", paths::GOLD_PLAN, body()).await.status, 200);
    let faults: Vec<_> = sb.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        vec![
            Some(FaultKind::SystemError),
            Some(FaultKind::TooManyRequests),
            Some(FaultKind::RateLimited),
            None
        ]
    );
}

#[tokio::test]
async fn faults_apply_to_n_matching_requests_only() {
    let (sb, c) = start().await;
    sb.inject_fault(
        Fault::new(FaultKind::SystemError)
            .times(2)
            .on_path(paths::CERTIFICATES)
            .on_method("GET"),
    )
    .unwrap();
    assert_eq!(
        c.json("POST", paths::GOLD_PLAN, body()).await.status,
        200,
        "other paths unaffected"
    );
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 500);
    assert_eq!(sb.faults()[0].count, 1);
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 500);
    assert!(sb.faults().is_empty());
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 200);
    // Prefix match.
    sb.inject_fault(Fault::new(FaultKind::SystemError).on_path("/v3/goldplan/*"))
        .unwrap();
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 200);
    assert_eq!(c.json("POST", paths::GOLD_PLAN, body()).await.status, 500);
    sb.inject_fault(Fault::new(FaultKind::SystemError)).unwrap();
    sb.clear_faults();
    assert_eq!(c.json("POST", paths::GOLD_PLAN, body()).await.status, 200);
    assert!(
        sb.inject_fault(Fault::new(FaultKind::Delay).times(0))
            .is_err()
    );
}

#[tokio::test]
async fn delay_then_normal_processing() {
    let (sb, c) = start().await;
    sb.inject_fault(Fault::new(FaultKind::Delay).with_delay_ms(300))
        .unwrap();
    let t = Instant::now();
    let r = c.ok("POST", paths::GOLD_PLAN, body()).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn connection_reset_gives_a_transport_error() {
    let (sb, c) = start().await;
    let mchid = sb.info().unwrap().mchid;
    sb.inject_fault(Fault::new(FaultKind::ConnectionReset))
        .unwrap();
    let err = c
        .signed("POST", paths::GOLD_PLAN, body().to_string().as_bytes())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(
        sb.sub_merchant(&mchid, SUB).unwrap().gold_plan,
        goldplan_sandbox::Switch::Close
    );
    assert_eq!(sb.requests().last().unwrap().status, 0);
    // The server keeps serving.
    assert_eq!(c.json("POST", paths::GOLD_PLAN, body()).await.status, 200);
}

#[tokio::test]
async fn truncated_body_fails_while_reading() {
    let (sb, c) = start().await;
    sb.inject_fault(Fault::new(FaultKind::TruncatedBody))
        .unwrap();
    let resp = c
        .signed("GET", paths::CERTIFICATES, b"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let full: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(full > 100);
    assert!(resp.bytes().await.is_err(), "the body must end early");
    assert_eq!(c.send("GET", paths::CERTIFICATES, b"").await.status, 200);
}

#[tokio::test]
async fn signature_faults_fail_verification_with_the_right_kind() {
    let (sb, c) = start().await;
    for (kind, expected) in [
        (FaultKind::BadSignature, ErrorKind::SignatureInvalid),
        (FaultKind::UnknownSerial, ErrorKind::UnknownSerial),
        (FaultKind::StaleTimestamp, ErrorKind::ClockSkew),
    ] {
        sb.inject_fault(Fault::new(kind)).unwrap();
        let r = c.json("POST", paths::GOLD_PLAN, body()).await;
        assert_eq!(r.status, 200, "processed normally");
        assert_eq!(c.verify(&r).unwrap_err().kind(), expected, "{kind:?}");
        c.verify(&c.json("POST", paths::GOLD_PLAN, body()).await)
            .unwrap();
    }
    // Response faults apply to 204s too.
    c.ok("POST", paths::GOLD_PLAN, body()).await;
    sb.inject_fault(Fault::new(FaultKind::BadSignature))
        .unwrap();
    let r = c
        .json("POST", paths::CLOSE_AD, json!({"sub_mchid": SUB}))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        c.verify(&r).unwrap_err().kind(),
        ErrorKind::SignatureInvalid
    );
}
