//! The production transport over real TLS on 127.0.0.1: a rustls server with a certificate
//! issued by a CA made for the test. The default client must refuse it (no trusted root vouches
//! for it), a client whose transport trusts that CA must succeed, redirects are never followed,
//! and plain http is refused for any host but loopback before a connection could be made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{NONCE, NOW, PUBKEY_ID};
use goldplan::client::RetryPolicy;
use goldplan::clock::ManualClock;
use goldplan::http::ReqwestTransport;
use goldplan::sign::{Authorization, message_to_sign};
use goldplan::verify::{PublicKeyVerifier, Verifier};
use goldplan::{Client, ClientBuilder, ErrorKind};
use wire::{Answer, Captured, Script, http_server, test_pki, tls_server};

const QUERY_TARGET: &str = "/v3/pay/transactions/id/4200000000000000001?mchid=1900000100";

/// A client in public-key mode with the clock frozen at [`NOW`] and one attempt per call.
fn builder(base: &str) -> ClientBuilder {
    Client::builder()
        .credentials(common::gateway::credentials())
        .wechatpay_public_key(common::pubkey_verifier())
        .base_url(base)
        .clock(Arc::new(ManualClock::new(NOW)))
        .timeout(Duration::from_secs(20))
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
}

/// Answers every request `200` with `body`, signed by the WeChat Pay test public key at [`NOW`].
fn signed_ok(body: &'static str) -> Script {
    Arc::new(move |_: &Captured| {
        let signed = common::Signed::new(
            &common::key("wechatpay_test_pubkey_key.pem"),
            PUBKEY_ID,
            &NOW.to_string(),
            NONCE,
            body.as_bytes(),
        );
        let mut headers = signed.headers;
        headers.push(("Content-Type".into(), "application/json".into()));
        Answer::new(200, headers, body)
    })
}

/// A reqwest client that trusts only `ca_pem`, with redirects off like the default transport.
fn trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The error and every source under it, as one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(" | ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The request carries a merchant signature over exactly what arrived on the wire.
fn assert_signed_as_sent(request: &Captured) {
    let auth = Authorization::parse(request.header("Authorization").unwrap()).unwrap();
    assert_eq!(auth.mchid, common::MCHID);
    assert_eq!(auth.serial_no, common::MERCHANT_SERIAL);
    assert_eq!(auth.timestamp, NOW, "the client's clock signs the request");
    let message = message_to_sign(
        &request.method,
        &request.target,
        auth.timestamp,
        &auth.nonce_str,
        &request.body,
    )
    .unwrap();
    let merchant = PublicKeyVerifier::from_pem(
        "PUB_KEY_ID_merchant",
        &common::read("keys/merchant_test_pubkey.pem"),
    )
    .unwrap();
    merchant
        .verify(
            "PUB_KEY_ID_merchant",
            &message,
            &STANDARD.decode(&auth.signature).unwrap(),
        )
        .expect("the request signature covers what was sent");
}

#[tokio::test]
async fn the_default_transport_refuses_a_certificate_no_trusted_root_vouches_for() {
    let pki = test_pki(&["127.0.0.1", "localhost"]);
    let server = tls_server(&pki, signed_ok(r#"{"ok":true}"#)).await;
    let client = builder(&server.https_url()).build().unwrap();

    let err = client.request("GET", QUERY_TARGET, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(
        err.is_retryable(),
        "no request left the process: safe to send again ({err})"
    );
    // The message a user reads names the certificate problem, not just "error sending request".
    let shown = err.to_string();
    assert!(
        shown.contains("certificate") && shown.contains("UnknownIssuer"),
        "{shown}"
    );
    assert!(chain(&err).contains("UnknownIssuer"), "{}", chain(&err));
    assert!(
        server.log.requests().is_empty(),
        "nothing is sent over a connection whose certificate was refused"
    );
}

#[tokio::test]
async fn a_transport_that_trusts_the_ca_succeeds_over_tls() {
    let pki = test_pki(&["127.0.0.1", "localhost"]);
    let server = tls_server(
        &pki,
        signed_ok(r#"{"transaction_id":"4200000000000000001"}"#),
    )
    .await;

    // Both ways of handing the client a transport: a reqwest client, or a ReqwestTransport.
    let by_http_client = builder(&server.https_url())
        .http_client(trusting(&pki.ca_pem))
        .build()
        .unwrap();
    let by_transport = builder(&server.https_url())
        .transport(Arc::new(ReqwestTransport::from_client(trusting(
            &pki.ca_pem,
        ))))
        .build()
        .unwrap();
    for client in [by_http_client, by_transport] {
        let response = client.request("GET", QUERY_TARGET, None).await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.serial, PUBKEY_ID);
        assert_eq!(
            response.json::<serde_json::Value>().unwrap()["transaction_id"],
            "4200000000000000001"
        );
        let body = br#"{"sub_mchid":"1900000109"}"#;
        client
            .request(
                "POST",
                "/v3/goldplan/merchants/changegoldplanstatus",
                Some(body),
            )
            .await
            .unwrap();
    }

    let requests = server.log.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(
        server
            .log
            .failed_handshakes
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    for request in &requests {
        assert_signed_as_sent(request);
        assert_eq!(request.header("Wechatpay-Serial"), Some(PUBKEY_ID));
    }
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].target, QUERY_TARGET);
    assert!(requests[0].body.is_empty());
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].body, br#"{"sub_mchid":"1900000109"}"#);
    assert_eq!(requests[1].header("Content-Type"), Some("application/json"));
}

#[tokio::test]
async fn a_trusted_certificate_for_another_name_is_refused() {
    let pki = test_pki(&["api.mch.weixin.qq.example"]);
    let server = tls_server(&pki, signed_ok(r#"{"ok":true}"#)).await;
    let client = builder(&server.https_url())
        .http_client(trusting(&pki.ca_pem))
        .build()
        .unwrap();
    let err = client.request("GET", QUERY_TARGET, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(
        err.to_string()
            .contains("certificate not valid for name \"127.0.0.1\""),
        "{err}"
    );
    assert!(server.log.requests().is_empty());
}

/// A server that redirects every request to `location`.
fn redirect(status: u16, location: String) -> Script {
    Arc::new(move |_: &Captured| {
        Answer::new(
            status,
            vec![
                ("Location".into(), location.clone()),
                ("Request-ID".into(), "redirect-1".into()),
            ],
            "",
        )
    })
}

#[tokio::test]
async fn a_redirect_is_an_error_and_is_never_followed() {
    // Where a followed redirect would land: it must never see a request.
    let elsewhere = http_server(signed_ok(r#"{"ok":true}"#)).await;
    for (status, method, body) in [
        (302, "GET", None),
        (301, "GET", None),
        (307, "POST", Some(&br#"{"sub_mchid":"1900000109"}"#[..])),
        (308, "PATCH", Some(&br#"{"sub_mchid":"1900000109"}"#[..])),
    ] {
        let origin = http_server(redirect(
            status,
            format!("{}/v3/goldplan/merchants/elsewhere", elsewhere.http_url()),
        ))
        .await;
        // The default transport, with retries allowed: a redirect is not retried either.
        let client = builder(&origin.http_url())
            .retry_policy(RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
            })
            .build()
            .unwrap();
        let err = client
            .request_with(
                method,
                "/v3/goldplan/merchants/changegoldplanstatus",
                body,
                &goldplan::RequestOptions {
                    idempotent: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        let api = err.api().unwrap_or_else(|| panic!("{status}: {err}"));
        assert_eq!(api.status, status);
        assert_eq!(api.request_id.as_deref(), Some("redirect-1"));
        assert!(!err.is_retryable(), "{status}");
        assert_eq!(origin.log.requests().len(), 1, "{status}: sent once");
    }
    assert!(
        elsewhere.log.requests().is_empty(),
        "no redirect was followed"
    );
    assert_eq!(
        elsewhere
            .log
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn plain_http_is_refused_for_any_host_but_loopback_before_connecting() {
    // Refused when the client is built: no client exists that could connect. These addresses
    // are never contacted (a build error happens before any transport exists).
    for base in [
        "http://api.mch.weixin.qq.com",
        "http://10.255.255.1",
        "http://10.255.255.1:8080",
        "http://0.0.0.0:80",
        "http://[::ffff:10.0.0.1]",
        "http://localhost.example:80",
        "http://127.0.0.1.example",
    ] {
        let err = builder(base).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{base}");
        assert!(err.to_string().contains("loopback"), "{base}: {err}");
        // Also as the backup host behind an https primary.
        let err = builder("https://api.mch.weixin.qq.com")
            .backup_url(Some(base.to_owned()))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "backup {base}");
    }
    // Loopback in every spelling is allowed.
    for base in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        builder(base).build().unwrap();
    }

    // A request path cannot move the request to another host: it must start with '/', and one
    // that looks like an authority (`//host/...`) is still sent to the configured loopback host.
    let local = http_server(signed_ok(r#"{"ok":true}"#)).await;
    let client = builder(&local.http_url()).build().unwrap();
    // (127.0.0.2 stands for "another host": were the check broken, nothing would leave the
    // machine.)
    for path in ["@127.0.0.2/v3/x", "http://127.0.0.2/v3/x", "127.0.0.2/v3/x"] {
        let err = client.request("GET", path, None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{path}");
    }
    assert_eq!(
        local
            .log
            .connections
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "refused before connecting"
    );
    let response = client
        .request("GET", "//127.0.0.2/v3/x", None)
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let requests = local.log.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].target, "//127.0.0.2/v3/x");
    assert_eq!(
        requests[0].header("Host"),
        Some(local.addr.to_string().as_str())
    );
    assert_signed_as_sent(&requests[0]);
}
