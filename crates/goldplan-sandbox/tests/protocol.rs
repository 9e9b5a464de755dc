//! Request checking (spec §1, §7) and response signing (spec §2) of the sandbox gateway.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{Options, SUB, paths, start};
use goldplan::ErrorKind;
use goldplan_sandbox::{KeyMode, MerchantPatch, ProtocolClock};
use serde_json::json;

fn open_body() -> serde_json::Value {
    json!({"sub_mchid": SUB, "operation_type": "OPEN"})
}

#[tokio::test]
async fn a_valid_request_gets_a_signed_answer_with_request_id() {
    let (sb, c) = start().await;
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"sub_mchid": SUB}));
    assert_eq!(r.header("request-id").map(|s| s.len()), Some(32));
    assert_eq!(
        r.header("wechatpay-signature-type").as_deref(),
        Some("WECHATPAY2-SHA256-RSA2048")
    );
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let log = sb.requests();
    assert_eq!(log.last().unwrap().status, 200);
    assert_eq!(
        log.last().unwrap().mchid.as_deref(),
        Some(sb.info().unwrap().mchid.as_str())
    );
}

#[tokio::test]
async fn missing_accept_or_user_agent_is_invalid_request() {
    let (_sb, c) = start().await;
    for o in [
        Options {
            accept: Some(None),
            ..Options::default()
        },
        Options {
            user_agent: Some(None),
            ..Options::default()
        },
    ] {
        let r = c
            .send_with(
                "POST",
                paths::GOLD_PLAN,
                open_body().to_string().as_bytes(),
                o,
            )
            .await;
        r.assert_error(400, "INVALID_REQUEST", "Http头缺少Accept或User-Agent");
        c.verify(&r).expect("errors are signed too");
    }
}

#[tokio::test]
async fn authorization_problems_are_sign_errors_or_invalid_requests() {
    let (_sb, c) = start().await;
    let body = open_body().to_string();
    let send = |o: Options| c.send_with("POST", paths::GOLD_PLAN, body.as_bytes(), o);

    send(Options {
        authorization: Some(None),
        ..Options::default()
    })
    .await
    .assert_error(401, "SIGN_ERROR", "Authorization");
    send(Options {
        authorization: Some(Some("Bearer abc".into())),
        ..Options::default()
    })
    .await
    .assert_error(401, "SIGN_ERROR", "签名认证方式");
    send(Options {
        authorization: Some(Some("WECHATPAY2-SHA256-RSA2048 mchid=1900000100".into())),
        ..Options::default()
    })
    .await
    .assert_error(400, "INVALID_REQUEST", "Http头Authorization值格式错误");

    // Stale and future timestamps (the window is 300 s).
    for offset in [-301, 400] {
        send(Options {
            timestamp_offset: offset,
            ..Options::default()
        })
        .await
        .assert_error(401, "SIGN_ERROR", "时间戳");
    }
    let r = send(Options {
        timestamp_offset: -250,
        ..Options::default()
    })
    .await;
    assert_eq!(r.status, 200);

    // Body changed after signing.
    send(Options {
        tamper: true,
        ..Options::default()
    })
    .await
    .assert_error(401, "SIGN_ERROR", "签名错误");
}

#[tokio::test]
async fn unknown_merchant_and_wrong_serial_are_rejected() {
    let (_sb, c) = start().await;
    let body = open_body().to_string();
    let good = c.authorization("POST", paths::GOLD_PLAN, body.as_bytes(), c.clock.now());
    let other_mchid = good.replace("mchid=\"1900000100\"", "mchid=\"1900009999\"");
    c.send_with(
        "POST",
        paths::GOLD_PLAN,
        body.as_bytes(),
        Options {
            authorization: Some(Some(other_mchid)),
            ..Options::default()
        },
    )
    .await
    .assert_error(401, "SIGN_ERROR", "商户号不存在");

    let serial = c.info.serial_no.clone();
    let wrong = good.replace(&serial, "0123456789ABCDEF0123456789ABCDEF01234567");
    c.send_with(
        "POST",
        paths::GOLD_PLAN,
        body.as_bytes(),
        Options {
            authorization: Some(Some(wrong)),
            ..Options::default()
        },
    )
    .await
    .assert_error(401, "SIGN_ERROR", "证书序列号");

    // The serial is compared numerically: lower case and a leading zero are the same serial.
    let lower = good.replace(&serial, &format!("0{}", serial.to_ascii_lowercase()));
    let r = c
        .send_with(
            "POST",
            paths::GOLD_PLAN,
            body.as_bytes(),
            Options {
                authorization: Some(Some(lower)),
                ..Options::default()
            },
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_both_signed() {
    let (_sb, c) = start().await;
    let r = c.send("GET", "/v3/nothing/here", b"").await;
    r.assert_error(404, "NOT_FOUND", "");
    c.verify(&r).unwrap();
    // open-advertising-show is PATCH only; the others are POST only.
    let r = c
        .json("POST", paths::OPEN_AD, json!({"sub_mchid": SUB}))
        .await;
    assert_eq!(r.status, 405);
    c.verify(&r).unwrap();
    // Every 405 names the method the path takes (RFC 9110 §15.5.6).
    assert_eq!(r.header("allow").as_deref(), Some("PATCH"));
    let r = c.json("PATCH", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    let r = c.send("POST", paths::CERTIFICATES, b"").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    let r = c.send("GET", paths::UPLOAD, b"").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    // Other answers carry none.
    let r = c.send("GET", "/v3/nothing/here", b"").await;
    assert_eq!(r.header("allow"), None);
}

#[tokio::test]
async fn a_replayed_request_is_refused_inside_the_timestamp_window() {
    let (sb, c) = start().await;
    let body = open_body().to_string();
    // One signed request, sent twice byte for byte.
    let auth = c.authorization("POST", paths::GOLD_PLAN, body.as_bytes(), c.clock.now());
    let replay = Options {
        authorization: Some(Some(auth)),
        ..Options::default()
    };
    let first = c
        .send_with("POST", paths::GOLD_PLAN, body.as_bytes(), replay.clone())
        .await;
    assert_eq!(first.status, 200);
    let second = c
        .send_with("POST", paths::GOLD_PLAN, body.as_bytes(), replay.clone())
        .await;
    second.assert_error(401, "SIGN_ERROR", "随机串已使用");
    c.verify(&second).unwrap();
    // A request whose signature does not verify does not use up its nonce: the genuine one
    // with the same nonce still goes through.
    let auth = c.authorization("POST", paths::GOLD_PLAN, body.as_bytes(), c.clock.now());
    let genuine = Options {
        authorization: Some(Some(auth)),
        ..Options::default()
    };
    let forged = c
        .send_with(
            "POST",
            paths::GOLD_PLAN,
            body.as_bytes(),
            Options {
                tamper: true,
                ..genuine.clone()
            },
        )
        .await;
    forged.assert_error(401, "SIGN_ERROR", "签名错误");
    let r = c
        .send_with("POST", paths::GOLD_PLAN, body.as_bytes(), genuine)
        .await;
    assert_eq!(r.status, 200);
    // Fresh nonces keep working.
    assert_eq!(
        c.json("POST", paths::GOLD_PLAN, open_body()).await.status,
        200
    );
    assert_eq!(sb.requests().iter().filter(|r| r.status == 401).count(), 2);
}

#[tokio::test]
async fn invalid_json_is_param_error_with_detail() {
    let (_sb, c) = start().await;
    let r = c.send("POST", paths::GOLD_PLAN, b"{not json").await;
    r.assert_error(400, "PARAM_ERROR", "参数错误");
    assert_eq!(r.json()["detail"]["location"], "body");
    c.verify(&r).unwrap();
    let r = c
        .json("POST", paths::GOLD_PLAN, json!({"operation_type": "OPEN"}))
        .await;
    r.assert_error(400, "PARAM_ERROR", "");
    assert_eq!(r.json()["detail"]["field"], "/sub_mchid");
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "MAYBE"}),
        )
        .await;
    assert_eq!(r.json()["detail"]["field"], "/operation_type");
    assert_eq!(r.json()["detail"]["value"], "MAYBE");
    assert_eq!(r.json()["detail"]["issue"], "value not in enumeration");
    let r = c
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": "1".repeat(33), "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(r.json()["detail"]["field"], "/sub_mchid");
}

#[tokio::test]
async fn the_response_key_follows_mode_and_requested_serial() {
    let (sb, mut c) = start().await;
    let info = sb.info().unwrap();
    let cert_serial = info.platform_certificates[0].serial_no.clone();
    let mchid = info.mchid.clone();
    let signer_of = |r: &common::Resp| r.header("wechatpay-serial").unwrap();

    // Combined (the default): the request's Wechatpay-Serial selects the key.
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(signer_of(&r), cert_serial);
    c.wechatpay_serial = Some(info.public_key_id.clone());
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(signer_of(&r), info.public_key_id);
    // Errors too.
    let r = c.send("POST", paths::GOLD_PLAN, b"[]").await;
    assert_eq!(signer_of(&r), info.public_key_id);
    c.verify(&r).unwrap();

    // Certificate mode: always the platform certificate.
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            mode: Some(KeyMode::Certificate),
            ..Default::default()
        },
    )
    .unwrap();
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(signer_of(&r), cert_serial);

    // Public-key mode: always the public key, whatever the request says.
    sb.update_merchant(
        &mchid,
        MerchantPatch {
            mode: Some(KeyMode::PublicKey),
            ..Default::default()
        },
    )
    .unwrap();
    c.wechatpay_serial = Some(cert_serial.clone());
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(signer_of(&r), info.public_key_id);
    c.wechatpay_serial = None;
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(signer_of(&r), info.public_key_id);
}

#[tokio::test]
async fn a_204_is_signed_over_the_empty_body() {
    let (_sb, c) = start().await;
    c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    let r = c
        .ok("POST", paths::CLOSE_AD, json!({"sub_mchid": SUB}))
        .await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    assert!(r.header("content-type").is_none());
}

#[tokio::test]
async fn the_sandbox_clock_drives_protocol_time_only_when_asked() {
    let (sb, mut c) = start().await;
    sb.advance_clock(3600).unwrap();
    // Protocol on the system clock (default): a wall-clock client still works.
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(r.status, 200);
    // Protocol on the sandbox clock: the wall-clock client is an hour late...
    sb.update_settings(&json!({"protocol_clock": "sandbox"}))
        .unwrap();
    assert_eq!(sb.settings().protocol_clock, ProtocolClock::Sandbox);
    let r = c.json("POST", paths::GOLD_PLAN, open_body()).await;
    r.assert_error(401, "SIGN_ERROR", "时间戳");
    assert_eq!(c.verify(&r).unwrap_err().kind(), ErrorKind::ClockSkew);
    // ... and a client sharing the sandbox clock is on time.
    c.clock = sb.clock();
    let r = c.ok("POST", paths::GOLD_PLAN, open_body()).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_skew_window_is_configurable() {
    let (sb, c) = start().await;
    sb.update_settings(&json!({"max_skew_secs": 10})).unwrap();
    let r = c
        .send_with(
            "POST",
            paths::GOLD_PLAN,
            open_body().to_string().as_bytes(),
            Options {
                timestamp_offset: -20,
                ..Options::default()
            },
        )
        .await;
    r.assert_error(401, "SIGN_ERROR", "时间戳");
}

#[tokio::test]
async fn header_names_are_written_in_wechat_casing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (sb, _c) = start().await;
    let mut tcp = tokio::net::TcpStream::connect(sb.local_addr())
        .await
        .unwrap();
    tcp.write_all(b"GET /v3/certificates HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await.unwrap();
    for name in [
        "Wechatpay-Timestamp:",
        "Wechatpay-Nonce:",
        "Wechatpay-Signature:",
        "Wechatpay-Serial:",
        "Wechatpay-Signature-Type:",
        "Request-Id:",
    ] {
        assert!(raw.contains(name), "{name} missing in {raw}");
    }
}
