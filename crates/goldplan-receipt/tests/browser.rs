//! The tester in a real Chromium against receipt pages that follow the contract and pages that
//! break one rule each: each broken page fails for its own reason and for no other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use goldplan_receipt::{ReceiptReport, Rule, TestOptions, TesterError, test_receipt};

const SUB_MCH_ID: &str = "1900000109";
const OUT_TRADE_NO: &str = "RECEIPT_TEST_0001";
const TRANSACTION_ID: &str = "4200000985202612081441826014";

/// A receipt page in the variant the path names. The good one verifies `check_code` for the
/// one order it knows and answers `SHOW_OFFICIAL_PAGE` otherwise.
async fn receipt(
    State(base): State<String>,
    Path(variant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Html<String> {
    let link = format!("{base}/receipt/{variant}");
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let verified = get("out_trade_no") == OUT_TRADE_NO
        && goldplan::receipt::verify_check_code(
            &link,
            get("sub_mch_id"),
            get("out_trade_no"),
            TRANSACTION_ID,
            get("check_code"),
        );
    let style = if verified || variant == "no-check-code" {
        "SHOW_CUSTOM_PAGE"
    } else {
        "SHOW_OFFICIAL_PAGE"
    };
    let message = match variant.as_str() {
        "object-message" => format!("{{action: 'onIframeReady', displayStyle: '{style}'}}"),
        _ => format!("JSON.stringify({{action: 'onIframeReady', displayStyle: '{style}'}})"),
    };
    let target = match variant.as_str() {
        "wrong-origin" => "'https://pay.weixin.qq.com'",
        "any-origin" => "'*'",
        _ => "'https://payapp.weixin.qq.com'",
    };
    let delay = if variant == "too-slow" { 3400 } else { 0 };
    let jump = if variant == "http-jump-out" {
        "http"
    } else {
        "https"
    };
    let script = if variant == "no-wechat-script" {
        String::new()
    } else {
        "<script src=\"https://wx.gtimg.com/pay_h5/goldplan/js/jgoldplan-1.0.0.js\"></script>"
            .to_owned()
    };
    let broken = if variant == "broken-image" {
        format!("<img src=\"{base}/missing.png\" alt=\"\">")
    } else {
        String::new()
    };
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8">{script}</head>
<body style="font-size:16px"><h3>小票 {variant}</h3>{broken}
<button type="button" onclick="parent.postMessage(JSON.stringify({{action:'jumpOut',jumpOutUrl:'{jump}://shop.example/orders/1'}}),{target})">查看订单</button>
<script>setTimeout(() => parent.postMessage({message}, {target}), {delay});</script>
</body></html>"#
    ))
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let app = Router::new()
        .route("/receipt/{variant}", get(receipt))
        .with_state(base.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The same pages over TLS at `https://localhost:PORT`, with a self-signed certificate.
async fn serve_https() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let app = Router::new()
        .route("/receipt/{variant}", get(receipt))
        .with_state(base.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(socket).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    base
}

async fn test(variant: &str, screenshot: Option<std::path::PathBuf>) -> ReceiptReport {
    test_at(&serve().await, variant, screenshot).await
}

async fn test_at(
    base: &str,
    variant: &str,
    screenshot: Option<std::path::PathBuf>,
) -> ReceiptReport {
    let options = TestOptions {
        sub_mch_id: SUB_MCH_ID.into(),
        out_trade_no: Some(OUT_TRADE_NO.into()),
        transaction_id: Some(TRANSACTION_ID.into()),
        screenshot,
        ..TestOptions::default()
    };
    match test_receipt(&format!("{base}/receipt/{variant}"), &options).await {
        Ok(report) => report,
        Err(e) => panic!("the tester could not run (is Chromium installed?): {e}"),
    }
}

fn failed(report: &ReceiptReport) -> Vec<Rule> {
    report.failed_rules().map(|r| r.rule).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_that_follows_the_contract_passes_with_a_screenshot() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("gold-plan-page.png");
    let report = test("good", Some(png.clone())).await;
    assert!(report.passed, "{}", report.to_text());
    assert_eq!(report.display_style.as_deref(), Some("SHOW_CUSTOM_PAGE"));
    assert_eq!(report.shown, "merchant receipt");
    let ready = report.ready_ms.unwrap();
    assert!(ready < 3000);
    assert_eq!(report.margin_ms, Some(3000 - ready as i64));
    assert_eq!(report.jump_out_urls, ["https://shop.example/orders/1"]);
    assert_eq!(report.rules.len(), Rule::ALL.len());
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    // The document the CLI prints with --json names every rule.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rules"][0]["rule"], "ready_in_time");
    assert_eq!(json["passed"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_on_https_localhost_with_a_self_signed_certificate_is_tested() {
    let report = test_at(&serve_https().await, "good", None).await;
    assert!(report.passed, "{}", report.to_text());
    assert!(
        report.url.starts_with("https://localhost:"),
        "{}",
        report.url
    );
    assert_eq!(report.display_style.as_deref(), Some("SHOW_CUSTOM_PAGE"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_that_answers_after_three_seconds_fails_on_time() {
    let report = test("too-slow", None).await;
    assert_eq!(failed(&report), [Rule::ReadyInTime], "{}", report.to_text());
    assert_eq!(report.shown, "无法获取订单信息");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_posted_as_an_object_is_ignored_like_wechat_does() {
    let report = test("object-message", None).await;
    assert_eq!(
        failed(&report),
        [Rule::ReadyInTime, Rule::JsonStringMessage],
        "{}",
        report.to_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_to_another_origin_or_to_any_origin_fail_the_origin_rule() {
    let report = test("wrong-origin", None).await;
    assert_eq!(
        failed(&report),
        [Rule::ReadyInTime, Rule::DocumentedOrigin],
        "{}",
        report.to_text()
    );
    let detail = &report.rules[3].detail;
    assert!(detail.contains("https://pay.weixin.qq.com"), "{detail}");
    let report = test("any-origin", None).await;
    assert_eq!(
        failed(&report),
        [Rule::DocumentedOrigin],
        "{}",
        report.to_text()
    );
    assert!(report.rules[3].detail.contains("\"*\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_that_shows_the_order_for_a_wrong_check_code_fails() {
    let report = test("no-check-code", None).await;
    assert_eq!(
        failed(&report),
        [Rule::ChecksCheckCode],
        "{}",
        report.to_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jump_out_to_http_fails() {
    let report = test("http-jump-out", None).await;
    assert_eq!(
        failed(&report),
        [Rule::JumpOutHttps],
        "{}",
        report.to_text()
    );
    assert_eq!(report.jump_out_urls, ["http://shop.example/orders/1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_without_wechats_script_or_with_a_missing_image_fails() {
    let report = test("no-wechat-script", None).await;
    assert_eq!(
        failed(&report),
        [Rule::LoadsWechatScript],
        "{}",
        report.to_text()
    );
    let report = test("broken-image", None).await;
    assert_eq!(
        failed(&report),
        [Rule::SubResourcesLoad],
        "{}",
        report.to_text()
    );
    assert!(report.failed_resources[0].url.ends_with("/missing.png"));
    assert_eq!(report.failed_resources[0].error, "HTTP 404");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_chromium_the_tester_says_how_to_install_it() {
    let options = TestOptions {
        chromium: Some("/nonexistent/chromium".into()),
        ..TestOptions::default()
    };
    let e = test_receipt("http://127.0.0.1:9/receipt", &options)
        .await
        .err();
    assert!(matches!(e, Some(TesterError::ChromiumMissing)));
    let text = e.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("apt-get install chromium") && text.contains("GOLDPLAN_CHROMIUM"));
}
