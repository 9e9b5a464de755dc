//! The admin API over HTTP, extra merchants with their own keys, and start-up options.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{SUB, paths, start};
use goldplan::credentials::{MerchantCredentials, PrivateKey};
use goldplan_sandbox::{Sandbox, SandboxConfig, SandboxError};
use serde_json::{Value, json};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/keys");

async fn admin(c: &common::TestClient, method: &str, path: &str, body: Value) -> (u16, Value) {
    let r = c
        .http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/sandbox{path}", c.base_url),
        )
        .header("content-type", "application/json")
        .body(if body.is_null() {
            String::new()
        } else {
            body.to_string()
        })
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn admin_http_mirrors_the_control_methods() {
    let (sb, c) = start().await;
    assert_eq!(
        admin(&c, "GET", "/health", Value::Null).await,
        (200, json!({"ok": true}))
    );
    let (s, info) = admin(&c, "GET", "/info", Value::Null).await;
    assert_eq!(s, 200);
    assert_eq!(info["serial_no"], sb.info().unwrap().serial_no);

    let (s, settings) = admin(&c, "PATCH", "/settings", json!({"reopen_wait_secs": 5})).await;
    assert_eq!((s, settings["reopen_wait_secs"].clone()), (200, json!(5)));
    assert_eq!(
        admin(&c, "PATCH", "/settings", json!({"bogus": 1})).await.0,
        400
    );

    let (_, clock) = admin(&c, "POST", "/clock/advance", json!({"seconds": 60})).await;
    assert_eq!(clock["offset_secs"], 60);
    assert_eq!(
        admin(&c, "POST", "/clock/reset", Value::Null).await.1["offset_secs"],
        0
    );

    let mchid = sb.info().unwrap().mchid;
    let (s, sub) = admin(
        &c,
        "POST",
        &format!("/merchants/{mchid}/sub-merchants"),
        json!({"sub_mchid": "1900000200", "receipt_link": "https://r.example.com/"}),
    )
    .await;
    assert_eq!((s, sub["gold_plan"].clone()), (200, json!("CLOSE")));
    c.ok(
        "POST",
        paths::GOLD_PLAN,
        json!({"sub_mchid": "1900000200", "operation_type": "OPEN"}),
    )
    .await;
    let (_, state) = admin(
        &c,
        "GET",
        &format!("/merchants/{mchid}/sub-merchants/1900000200"),
        Value::Null,
    )
    .await;
    assert_eq!(state["gold_plan"], "OPEN");
    assert_eq!(state["pay_scenes"], json!(["JSAPI"]));
    assert_eq!(
        admin(
            &c,
            "GET",
            &format!("/merchants/{mchid}/sub-merchants/nope"),
            Value::Null
        )
        .await
        .0,
        404
    );

    let (s, _) = admin(
        &c,
        "PATCH",
        &format!("/merchants/{mchid}"),
        json!({"mode": "public_key"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        sb.info().unwrap().mode,
        goldplan_sandbox::KeyMode::PublicKey
    );

    let (s, faults) = admin(
        &c,
        "POST",
        "/faults",
        json!({"kind": "system_error", "count": 2, "path": paths::GOLD_PLAN}),
    )
    .await;
    assert_eq!((s, faults[0]["count"].clone()), (200, json!(2)));
    assert_eq!(
        c.json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "OPEN"})
        )
        .await
        .status,
        500
    );
    admin(&c, "DELETE", "/faults", Value::Null).await;
    assert!(sb.faults().is_empty());

    let (s, rot) = admin(
        &c,
        "POST",
        "/platform-certificates/rotate",
        json!({"overlap_secs": 10}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, certs) = admin(&c, "GET", "/platform-certificates", Value::Null).await;
    assert_eq!(certs.as_array().unwrap().len(), 2);
    let old = rot["previous"][0]["serial_no"].as_str().unwrap().to_owned();
    let (s, certs) = admin(
        &c,
        "POST",
        &format!("/platform-certificates/{old}/expire"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        certs
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["active"] == true)
            .count(),
        1
    );

    let (_, log) = admin(&c, "GET", "/requests", Value::Null).await;
    assert!(!log.as_array().unwrap().is_empty());
    assert_eq!(admin(&c, "GET", "/no-such-thing", Value::Null).await.0, 404);
    assert_eq!(
        admin(
            &c,
            "POST",
            "/callbacks",
            json!({"url": "not a url", "resource": {}})
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn extra_merchants_use_their_own_keys() {
    let (sb, c) = start().await;
    let cert = std::fs::read_to_string(format!("{KEYS}/merchant_test_cert.pem")).unwrap();
    let key = std::fs::read_to_string(format!("{KEYS}/merchant_test_key.pem")).unwrap();
    let view = sb
        .register_merchant(goldplan_sandbox::MerchantRegistration {
            mchid: "1230000109".into(),
            serial_no: None,
            public_key_pem: None,
            certificate_pem: Some(cert.clone()),
            apiv3_key: "0123456789abcdefghijklmnopqrstuv".into(),
            mode: Some(goldplan_sandbox::KeyMode::PublicKey),
            sub_mchids: vec!["1230000200".into()],
        })
        .unwrap();
    let creds = MerchantCredentials::with_certificate(
        "1230000109",
        view.serial_no.clone(),
        PrivateKey::from_pem(&key).unwrap(),
        &cert,
    )
    .unwrap();
    let other = c.for_registered(creds, &view);
    let r = other
        .ok(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": "1230000200", "operation_type": "OPEN"}),
        )
        .await;
    // Its own WeChat Pay public key, not the built-in provider's.
    assert_eq!(r.header("wechatpay-serial").unwrap(), view.public_key_id);
    assert_ne!(view.public_key_id, sb.info().unwrap().public_key_id);
    // Special merchants belong to their provider.
    other
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
        )
        .await
        .assert_error(400, "INVALID_REQUEST", "特约商户信息逻辑错误");
    assert!(
        sb.register_merchant(goldplan_sandbox::MerchantRegistration {
            mchid: "1230000109".into(),
            serial_no: None,
            public_key_pem: None,
            certificate_pem: Some(cert),
            apiv3_key: "0123456789abcdefghijklmnopqrstuv".into(),
            mode: None,
            sub_mchids: vec![],
        })
        .is_err()
    );
    // Registration by public key needs the serial.
    let pubkey = std::fs::read_to_string(format!("{KEYS}/merchant_test_pubkey.pem")).unwrap();
    let (s, _) = admin(&c, "POST", "/merchants", json!({"mchid": "1230000110", "public_key_pem": pubkey, "apiv3_key": "0123456789abcdefghijklmnopqrstuv"})).await;
    assert_eq!(s, 400);
    let (s, v) = admin(&c, "POST", "/merchants", json!({"mchid": "1230000110", "serial_no": "ABC123", "public_key_pem": pubkey, "apiv3_key": "0123456789abcdefghijklmnopqrstuv"})).await;
    assert_eq!((s, v["mode"].clone()), (200, json!("combined")));
    assert_eq!(sb.merchants().len(), 3);
}

async fn start_on_all_interfaces() -> goldplan_sandbox::SandboxHandle {
    Sandbox::start(SandboxConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        allow_non_loopback: true,
        ..common::config()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn non_loopback_binding_needs_the_explicit_flag() {
    let err = Sandbox::start(SandboxConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..common::config()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SandboxError::Config(_)), "{err}");
    let sb = start_on_all_interfaces().await;
    assert!(sb.base_url().starts_with("http://127.0.0.1:"));
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (sb, c) = start().await;
    let url = format!("{}/sandbox/health", sb.base_url());
    assert!(c.http.get(&url).send().await.is_ok());
    sb.shutdown().await.unwrap();
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
}

/// A non-loopback address of this machine, if it has one (UDP connect sends nothing).
fn local_non_loopback_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.254:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn the_admin_api_refuses_non_loopback_callers() {
    let Some(ip) = local_non_loopback_ip() else {
        eprintln!("no non-loopback interface: nothing to check");
        return;
    };
    let sb = start_on_all_interfaces().await;
    let port = sb.local_addr().port();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    assert_eq!(
        get(format!("http://{ip}:{port}/sandbox/health"))
            .await
            .status(),
        403
    );
    assert_eq!(
        get(format!("http://127.0.0.1:{port}/sandbox/health"))
            .await
            .status(),
        200
    );
    // The gateway itself answers (signed) from anywhere once non-loopback binding was allowed:
    // 400 here because reqwest sends no User-Agent.
    let api = get(format!("http://{ip}:{port}/v3/certificates")).await;
    assert_eq!(api.status(), 400);
    assert!(api.headers().contains_key("wechatpay-signature"));
    sb.shutdown().await.unwrap();
}

#[tokio::test]
async fn start_refuses_settings_that_would_break_handlers() {
    let bad = [
        json!({"rate_limit": {"max_requests": 1, "window_secs": 0}}),
        json!({"callback_time_scale": -1.0}),
        json!({"max_upload_bytes": u64::MAX}),
    ];
    for patch in bad {
        let mut settings = serde_json::to_value(goldplan_sandbox::Settings::default()).unwrap();
        for (k, v) in patch.as_object().unwrap() {
            settings[k] = v.clone();
        }
        let settings: goldplan_sandbox::Settings = serde_json::from_value(settings).unwrap();
        let err = Sandbox::start(SandboxConfig {
            settings,
            ..common::config()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, SandboxError::Config(_)), "{patch}: {err}");
    }
    // NaN cannot be written in JSON.
    let err = Sandbox::start(SandboxConfig {
        settings: goldplan_sandbox::Settings {
            callback_time_scale: f64::NAN,
            ..Default::default()
        },
        ..common::config()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SandboxError::Config(_)), "{err}");
}

#[tokio::test]
async fn an_upload_limit_beyond_the_bound_is_refused() {
    let (sb, c) = start().await;
    for huge in [json!(u64::MAX), json!(100 * 1024 * 1024 + 1)] {
        let (s, v) = admin(&c, "PATCH", "/settings", json!({"max_upload_bytes": huge})).await;
        assert_eq!(s, 400, "{v}");
    }
    assert_eq!(
        sb.settings().max_upload_bytes,
        goldplan_sandbox::Settings::default().max_upload_bytes
    );
    // The gateway keeps answering uploads.
    let r = c.send("POST", paths::UPLOAD, b"").await;
    assert_eq!(r.status, 400);
}

/// Sends a raw admin request; returns the status.
async fn raw_admin(
    c: &common::TestClient,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> u16 {
    let mut req = c.http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}/sandbox{path}", c.base_url),
    );
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn admin_bodies_must_be_json() {
    let (sb, c) = start().await;
    let fault = r#"{"kind":"system_error"}"#;
    // What a web page can send to 127.0.0.1 without a CORS preflight is refused; JSON (with
    // parameters, any case) is accepted.
    for (content_type, status) in [
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/json", 200),
        ("Application/JSON; charset=utf-8", 200),
    ] {
        let headers = [("content-type", content_type)];
        let s = raw_admin(&c, "POST", "/faults", &headers, fault).await;
        assert_eq!(s, status, "{content_type}");
    }
    assert_eq!(sb.faults().len(), 2);
    assert_eq!(raw_admin(&c, "POST", "/faults", &[], fault).await, 415);
    let s = raw_admin(
        &c,
        "PATCH",
        "/settings",
        &[("content-type", "text/plain")],
        r#"{"max_skew_secs":1}"#,
    )
    .await;
    assert_eq!(s, 415);
    assert_eq!(sb.faults().len(), 2);
    assert_eq!(sb.settings().max_skew_secs, 300);
    // Body-less calls and reads need no header.
    assert_eq!(raw_admin(&c, "DELETE", "/faults", &[], "").await, 200);
    assert_eq!(raw_admin(&c, "POST", "/clock/reset", &[], "").await, 200);
    assert_eq!(raw_admin(&c, "GET", "/settings", &[], "").await, 200);
}

#[tokio::test]
async fn the_admin_api_answers_loopback_names_only() {
    let (_sb, c) = start().await;
    let port = c.base_url.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("127.0.0.1:{port}"),
        "127.0.0.1".to_owned(),
        format!("localhost:{port}"),
        "LOCALHOST".to_owned(),
        format!("[::1]:{port}"),
    ] {
        let s = raw_admin(&c, "GET", "/info", &[("host", &host)], "").await;
        assert_eq!(s, 200, "{host}");
    }
    // A DNS name re-bound to 127.0.0.1 by an attacker's page, and malformed values.
    for host in [
        format!("attacker.example:{port}"),
        "attacker.example".to_owned(),
        "localhost.attacker.example".to_owned(),
        "127.0.0.1.nip.io".to_owned(),
        "[::1".to_owned(),
        "127.0.0.1:".to_owned(),
        "127.0.0.1:80x".to_owned(),
    ] {
        let s = raw_admin(&c, "GET", "/info", &[("host", &host)], "").await;
        assert_eq!(s, 403, "{host}");
    }
    // A web page of another origin, even addressing 127.0.0.1.
    let json = ("content-type", "application/json");
    for origin in ["http://attacker.example", "null"] {
        let s = raw_admin(&c, "POST", "/clock/reset", &[("origin", origin), json], "").await;
        assert_eq!(s, 403, "{origin}");
    }
    let local = format!("http://localhost:{port}");
    let s = raw_admin(&c, "POST", "/clock/reset", &[("origin", &local), json], "").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn merchant_registrations_with_bad_input_answer_400_not_500() {
    let (sb, c) = start().await;
    let pubkey = std::fs::read_to_string(format!("{KEYS}/merchant_test_pubkey.pem")).unwrap();
    let key = "0123456789abcdefghijklmnopqrstuv";
    for (body, what) in [
        (
            json!({"mchid": "1230000111", "serial_no": "NOT-HEX", "public_key_pem": pubkey, "apiv3_key": key}),
            "non-hex serial",
        ),
        (
            json!({"mchid": "1230000111", "serial_no": "ABC123", "public_key_pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "apiv3_key": key}),
            "bad public key",
        ),
        (
            json!({"mchid": "1230000111", "certificate_pem": "not a certificate", "apiv3_key": key}),
            "bad certificate",
        ),
        (
            json!({"mchid": "1230000111", "serial_no": "ABC123", "public_key_pem": pubkey, "apiv3_key": "short"}),
            "short APIv3 key",
        ),
    ] {
        let (s, v) = admin(&c, "POST", "/merchants", body).await;
        assert_eq!(
            (s, v["code"].clone()),
            (400, json!("INVALID_INPUT")),
            "{what}: {v}"
        );
        assert!(
            !v.to_string().contains("short"),
            "the APIv3 key is never echoed"
        );
    }
    assert_eq!(sb.merchants().len(), 1);
}

/// Sends `head` (a complete request head) on a fresh connection; returns the status code.
async fn raw_status(c: &common::TestClient, head: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = c.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 12];
    stream.read_exact(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[9..12]).parse().unwrap()
}

#[tokio::test]
async fn the_admin_api_refuses_two_host_headers_and_foreign_absolute_targets() {
    let (_sb, c) = start().await;
    let port = c.base_url.rsplit(':').next().unwrap().to_owned();
    let ok = raw_status(
        &c,
        &format!(
            "GET /sandbox/info HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(ok, 200);
    // Two Host headers, in either order: never "the first one wins".
    for (a, b) in [
        (format!("127.0.0.1:{port}"), "attacker.example".to_owned()),
        ("attacker.example".to_owned(), format!("127.0.0.1:{port}")),
        (format!("127.0.0.1:{port}"), format!("localhost:{port}")),
    ] {
        let head = format!(
            "GET /sandbox/info HTTP/1.1\r\nHost: {a}\r\nHost: {b}\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(raw_status(&c, &head).await, 403, "{a} + {b}");
    }
    // An absolute-form target names the host that counts; a foreign one is refused even with
    // a loopback Host header, a loopback one is accepted.
    for (target, status) in [
        (format!("http://attacker.example:{port}/sandbox/info"), 403),
        ("http://attacker.example/sandbox/info".to_owned(), 403),
        (format!("http://user@127.0.0.1:{port}/sandbox/info"), 403),
        (format!("http://127.0.0.1:{port}/sandbox/info"), 200),
        (format!("http://localhost:{port}/sandbox/info"), 200),
    ] {
        let head =
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        assert_eq!(raw_status(&c, &head).await, status, "{target}");
    }
}

#[tokio::test]
async fn each_provider_has_its_own_wechat_pay_keys() {
    use goldplan_sandbox::{KeyMode, MerchantRegistration, RotateRequest};
    let (sb, x) = start().await;
    let cert = std::fs::read_to_string(format!("{KEYS}/merchant_test_cert.pem")).unwrap();
    let key = std::fs::read_to_string(format!("{KEYS}/merchant_test_key.pem")).unwrap();
    let y_view = sb
        .register_merchant(MerchantRegistration {
            mchid: "1230000109".into(),
            serial_no: None,
            public_key_pem: None,
            certificate_pem: Some(cert.clone()),
            apiv3_key: "0123456789abcdefghijklmnopqrstuv".into(),
            mode: Some(KeyMode::Certificate),
            sub_mchids: vec!["1230000200".into()],
        })
        .unwrap();
    let y = x.for_registered(
        MerchantCredentials::with_certificate(
            "1230000109",
            y_view.serial_no.clone(),
            PrivateKey::from_pem(&key).unwrap(),
            &cert,
        )
        .unwrap(),
        &y_view,
    );
    let x_info = sb.info().unwrap();
    let x_serials: Vec<_> = x_info
        .platform_certificates
        .iter()
        .map(|p| &p.serial_no)
        .collect();
    let y_serials: Vec<_> = y_view
        .platform_certificates
        .iter()
        .map(|p| &p.serial_no)
        .collect();
    assert_eq!(y_serials.len(), 1);
    assert!(x_serials.iter().all(|s| !y_serials.contains(s)));
    assert_ne!(x_info.public_key_id, y_view.public_key_id);

    // Y's answers verify with Y's keys only; X's with X's keys only.
    let y_answer = y
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": "1230000200", "operation_type": "OPEN"}),
        )
        .await;
    assert_eq!(y_answer.status, 200);
    assert_eq!(
        y_answer.header("wechatpay-serial").as_ref(),
        Some(y_serials[0])
    );
    y.verify(&y_answer).unwrap();
    let err = x.verify(&y_answer).unwrap_err();
    assert_eq!(err.kind(), goldplan::ErrorKind::UnknownSerial, "{err}");
    let x_answer = x
        .json(
            "POST",
            paths::GOLD_PLAN,
            json!({"sub_mchid": SUB, "operation_type": "OPEN"}),
        )
        .await;
    x.verify(&x_answer).unwrap();
    assert!(y.verify(&x_answer).is_err());
    // Not just different names: X's platform key, even under Y's serial, does not verify Y's
    // answer.
    let x_cert =
        goldplan::x509::Certificate::from_pem(&x_info.platform_certificates[0].certificate_pem)
            .unwrap();
    let x_key_as_y = goldplan::verify::PublicKeyVerifier::from_der(
        y_serials[0].clone(),
        x_cert.public_key_der(),
    )
    .unwrap();
    let headers = goldplan::verify::WechatpayHeaders::from_pairs(
        y_answer
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice())),
    )
    .unwrap();
    let err = goldplan::verify::verify_signed(
        &x_key_as_y,
        &goldplan::verify::VerificationPolicy::default(),
        &headers,
        &y_answer.body,
    )
    .unwrap_err();
    assert_eq!(err.kind(), goldplan::ErrorKind::SignatureInvalid, "{err}");

    // Y's certificate list holds Y's certificates only, and Y rotates on its own.
    let listed = y.send("GET", paths::CERTIFICATES, b"").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed.json()["data"][0]["serial_no"].as_str(),
        Some(y_serials[0].as_str())
    );
    let rotated = sb
        .rotate_platform_certificate(RotateRequest {
            mchid: Some("1230000109".into()),
            ..RotateRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(sb.platform_certificates().len(), 1, "X's list is untouched");
    let y_now = sb.platform_certificates_of("1230000109").unwrap();
    assert_eq!(y_now.len(), 2);
    assert!(y_now.iter().any(|p| p.serial_no == rotated.new_serial_no));
    assert!(sb.platform_certificates_of("999").is_err());
}
