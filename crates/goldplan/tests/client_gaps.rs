//! Client behaviours that had no test: the Content-Type check and the signature requirement on
//! 2xx answers, fail-over to the backup host over real sockets, a tampered certificate download
//! keeping the old set, and one transport shared by the clients of a registry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::gateway::{Fault, Gateway, certificate_client, credentials};
use common::{NONCE, NOW, PUBKEY_ID};
use goldplan::client::RetryPolicy;
use goldplan::clock::ManualClock;
use goldplan::credentials::{MerchantCredentials, PrivateKey};
use goldplan::http::{HttpRequest, ReqwestTransport, Transport, TransportConfig, TransportFuture};
use goldplan::sign::Authorization;
use goldplan::{Client, ClientBuilder, ClientRegistry, ErrorKind, RequestOptions};
use wire::{Answer, Captured, Script, http_server, keep_alive_server};

const TARGET: &str = "/v3/goldplan/merchants/changegoldplanstatus";
const BODY: &[u8] = br#"{"sub_mchid":"1900000109","operation_type":"OPEN"}"#;

/// Public-key mode, clock frozen at [`NOW`], quick retries.
fn builder(base: &str) -> ClientBuilder {
    Client::builder()
        .credentials(credentials())
        .wechatpay_public_key(common::pubkey_verifier())
        .base_url(base)
        .clock(Arc::new(ManualClock::new(NOW)))
        .timeout(Duration::from_secs(20))
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        })
}

/// `status` with `body`, signed by the WeChat Pay test public key, with these extra headers.
fn signed(status: u16, body: &'static str, extra: &[(&str, &str)]) -> Script {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Arc::new(move |_: &Captured| {
        let s = common::Signed::new(
            &common::key("wechatpay_test_pubkey_key.pem"),
            PUBKEY_ID,
            &NOW.to_string(),
            NONCE,
            body.as_bytes(),
        );
        let mut headers = s.headers;
        headers.extend(extra.iter().cloned());
        Answer::new(status, headers, body)
    })
}

fn idempotent() -> RequestOptions {
    RequestOptions {
        idempotent: Some(true),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_signed_2xx_with_a_body_must_be_json() {
    let body = r#"{"sub_mchid":"1900000109"}"#;
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
    ] {
        let server = http_server(signed(200, body, &[("Content-Type", content_type)])).await;
        let client = builder(&server.http_url()).build().unwrap();
        let response = client
            .request_with("POST", TARGET, Some(BODY), &idempotent())
            .await
            .unwrap_or_else(|e| panic!("{content_type}: {e}"));
        assert_eq!(response.text().unwrap(), body);
    }
    for content_type in [Some("text/html"), Some("text/plain"), Some("json"), None] {
        let extra: Vec<(&str, &str)> = content_type.iter().map(|c| ("Content-Type", *c)).collect();
        let server = http_server(signed(200, body, &extra)).await;
        let client = builder(&server.http_url()).build().unwrap();
        let err = client
            .request_with("POST", TARGET, Some(BODY), &idempotent())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{content_type:?}: {err}");
        assert!(err.to_string().contains("Content-Type"), "{err}");
        assert!(
            err.to_string().contains("08F78BB5AF0610D302A4C1B8AC0128F5"),
            "the Request-ID is quoted: {err}"
        );
        assert!(!err.is_retryable());
        assert_eq!(
            server.log.requests().len(),
            1,
            "{content_type:?}: the outcome is unknown, the call is not sent again"
        );
    }
    // An empty signed answer needs no Content-Type.
    let server = http_server(signed(204, "", &[])).await;
    let client = builder(&server.http_url()).build().unwrap();
    let response = client
        .request(
            "PATCH",
            "/v3/goldplan/merchants/open-advertising-show",
            Some(BODY),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn an_unsigned_2xx_is_refused_and_not_sent_again() {
    for (status, body) in [(200, r#"{"sub_mchid":"1900000109"}"#), (204, "")] {
        let server = http_server(Arc::new(move |_: &Captured| {
            Answer::new(
                status,
                vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("Request-ID".into(), "unsigned-1".into()),
                ],
                body,
            )
        }))
        .await;
        let client = builder(&server.http_url()).build().unwrap();
        let err = client
            .request_with("POST", TARGET, Some(BODY), &idempotent())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingHeader, "{status}: {err}");
        assert!(err.kind().is_verification_failure());
        assert_eq!(err.request_id(), Some("unsigned-1"), "{err}");
        assert!(!err.is_retryable());
        assert_eq!(server.log.requests().len(), 1, "{status}");
    }
}

/// A loopback address where nothing listens (connection refused).
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn an_unreachable_primary_fails_over_to_the_backup_over_real_sockets() {
    let backup = http_server(signed(
        200,
        r#"{"sub_mchid":"1900000109"}"#,
        &[("Content-Type", "application/json")],
    ))
    .await;
    let client = builder(&closed_port().await)
        .backup_url(Some(backup.http_url()))
        .retry_policy(RetryPolicy {
            // No retry budget at all: the fail-over is not a retry.
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    // A POST is not idempotent, but a refused connection means nothing was sent.
    let response = client.request("POST", TARGET, Some(BODY)).await.unwrap();
    assert_eq!(response.status, 200);
    let requests = backup.log.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.target, TARGET);
    assert_eq!(request.body, BODY);
    assert!(
        request
            .header("User-Agent")
            .unwrap()
            .ends_with(" (Retried-V1)"),
        "{:?}",
        request.header("User-Agent")
    );
    assert_eq!(
        Authorization::parse(request.header("Authorization").unwrap())
            .unwrap()
            .mchid,
        common::MCHID
    );
    // The next call tries the primary first again, and fails over again.
    client.request("POST", TARGET, Some(BODY)).await.unwrap();
    assert_eq!(backup.log.requests().len(), 2);

    // Both unreachable: one transport error, retryable, after exactly one fail-over.
    let client = builder(&closed_port().await)
        .backup_url(Some(closed_port().await))
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let err = client
        .request("POST", TARGET, Some(BODY))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_primary_that_answers_is_never_failed_over() {
    let primary = http_server(Arc::new(|_: &Captured| {
        Answer::new(
            500,
            vec![("Content-Type".into(), "application/json".into())],
            r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#,
        )
    }))
    .await;
    let backup = http_server(signed(200, "{}", &[("Content-Type", "application/json")])).await;
    let client = builder(&primary.http_url())
        .backup_url(Some(backup.http_url()))
        .build()
        .unwrap();
    // A POST that reached the primary: its outcome is unknown, it is neither repeated nor sent
    // to the backup.
    let err = client
        .request("POST", TARGET, Some(BODY))
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 500);
    assert_eq!(primary.log.requests().len(), 1);
    // An idempotent call is retried on the primary (3 attempts), never on the backup.
    let err = client
        .request_with("POST", TARGET, Some(BODY), &idempotent())
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().status, 500);
    assert_eq!(primary.log.requests().len(), 4);
    assert!(backup.log.requests().is_empty());
}

/// Passes every exchange to the gateway, but while `active`, alters one byte of the body of
/// a certificate download after WeChat Pay signed it.
#[derive(Debug)]
struct TamperCertificates {
    inner: Arc<Gateway>,
    active: AtomicBool,
}

impl Transport for TamperCertificates {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        let download = request.url.contains("/v3/certificates");
        Box::pin(async move {
            let mut response = self.inner.send(request).await?;
            if download && self.active.load(Ordering::SeqCst) {
                let text = String::from_utf8(response.body).unwrap();
                // Inside the first ciphertext: base64 stays base64.
                let at = text.find("\"ciphertext\":\"").unwrap() + 20;
                let mut bytes = text.into_bytes();
                bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
                response.body = bytes;
            }
            Ok(response)
        })
    }
}

fn serials(client: &Client) -> Vec<String> {
    let mut s: Vec<String> = client
        .platform_certificates()
        .iter()
        .map(|c| c.serial_hex().to_owned())
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn a_tampered_certificate_download_keeps_the_certificates_in_force() {
    let gw = Gateway::new(1);
    let tamper = Arc::new(TamperCertificates {
        inner: gw.clone(),
        active: AtomicBool::new(false),
    });
    let client = Client::builder()
        .credentials(credentials())
        .apiv3_key(goldplan::credentials::ApiV3Key::new(common::gateway::APIV3).unwrap())
        .base_url(common::gateway::PRIMARY)
        .transport(tamper.clone())
        .retry_policy(common::gateway::fast_retries())
        .build()
        .unwrap();
    client.close_advertising_show("1900000109").await.unwrap();
    let before = serials(&client);
    assert_eq!(before, vec![common::PLATFORM_SERIAL.to_owned()]);

    // WeChat Pay now lists a second certificate, but the list arrives altered in transit
    // (after signing), then with a signature that does not verify.
    gw.listed.lock().unwrap().push(2);
    tamper.active.store(true, Ordering::SeqCst);
    let err = client.refresh_certificates().await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::SignatureInvalid | ErrorKind::Decryption
        ),
        "{err}"
    );
    assert_eq!(serials(&client), before, "the old set stays in force");
    tamper.active.store(false, Ordering::SeqCst);
    gw.push(Fault::BadSignature, 1);
    let err = client.refresh_certificates().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignatureInvalid, "{err}");
    assert_eq!(serials(&client), before, "the old set stays in force");
    assert_eq!(client.certificate_downloads().await, 3);

    // Business calls carry on, verified with the certificate still held.
    client.close_advertising_show("1900000109").await.unwrap();
    // An honest download then adds the new certificate.
    client.refresh_certificates().await.unwrap();
    let mut both = vec![
        common::PLATFORM_SERIAL.to_owned(),
        common::PLATFORM2_SERIAL.to_owned(),
    ];
    both.sort();
    assert_eq!(serials(&client), both);

    // The same through the gateway's own client helper: a tampered first refresh after a good
    // one never empties the set.
    let gw = Gateway::new(1);
    let client = certificate_client(&gw);
    client.close_advertising_show("1900000109").await.unwrap();
    gw.push(Fault::BadSignature, 1);
    client.refresh_certificates().await.unwrap_err();
    assert_eq!(client.platform_certificates().len(), 1);
}

#[tokio::test]
async fn one_reqwest_transport_serves_every_client_of_a_registry() {
    let server = keep_alive_server(signed(
        200,
        r#"{"sub_mchid":"1900000109"}"#,
        &[("Content-Type", "application/json")],
    ))
    .await;
    let shared = Arc::new(ReqwestTransport::new(&TransportConfig::default()).unwrap());
    let registry = ClientRegistry::new();
    let key_pem = common::read("keys/merchant_test_key.pem");
    for mchid in ["1900000100", "1900000200", "1900000300"] {
        let credentials = MerchantCredentials::new(
            mchid,
            common::MERCHANT_SERIAL,
            PrivateKey::from_pem(&key_pem).unwrap(),
        )
        .unwrap();
        let client = builder(&server.http_url())
            .credentials(credentials)
            .transport(shared.clone())
            .build()
            .unwrap();
        registry.insert(client);
    }
    assert_eq!(
        Arc::strong_count(&shared),
        4,
        "the registry's clients hold the one transport"
    );
    let mut mchids = registry.mchids();
    mchids.sort();
    assert_eq!(mchids, ["1900000100", "1900000200", "1900000300"]);
    for round in 0..2 {
        for mchid in &mchids {
            let client = registry.get(mchid).unwrap();
            let reply = client
                .request("POST", TARGET, Some(BODY))
                .await
                .unwrap_or_else(|e| panic!("{mchid} round {round}: {e}"));
            assert_eq!(reply.status, 200);
        }
    }
    let requests = server.log.requests();
    let signed_by: Vec<String> = requests
        .iter()
        .map(|r| {
            Authorization::parse(r.header("Authorization").unwrap())
                .unwrap()
                .mchid
        })
        .collect();
    assert_eq!(
        signed_by,
        [
            "1900000100",
            "1900000200",
            "1900000300",
            "1900000100",
            "1900000200",
            "1900000300"
        ],
        "each merchant signs its own requests"
    );
    assert_eq!(
        server.log.connections.load(Ordering::SeqCst),
        1,
        "one connection pool: sequential calls of three merchants reuse one connection"
    );

    // Without sharing, each client opens its own connection.
    let own = keep_alive_server(signed(200, "{}", &[("Content-Type", "application/json")])).await;
    for _ in 0..2 {
        builder(&own.http_url())
            .build()
            .unwrap()
            .request("POST", TARGET, Some(BODY))
            .await
            .unwrap();
    }
    assert_eq!(own.log.connections.load(Ordering::SeqCst), 2);

    // Removing a client leaves the others and the transport working.
    assert!(registry.remove("1900000200").is_some());
    assert!(registry.get("1900000200").is_none());
    registry
        .get("1900000300")
        .unwrap()
        .request("POST", TARGET, Some(BODY))
        .await
        .unwrap();
    assert_eq!(server.log.connections.load(Ordering::SeqCst), 1);
}
