//! The client's own cost per call: a full Gold Plan call (serialise, sign, build headers,
//! "send", verify, decode) over an in-memory transport, next to the RSA sign and verify it
//! must do anyway. Overhead = call − sign − verify.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use goldplan::Client;
use goldplan::clock::ManualClock;
use goldplan::credentials::{MerchantCredentials, PrivateKey};
use goldplan::http::{HttpRequest, HttpResponse, Transport, TransportFuture};
use goldplan::sign::sign_base64;
use goldplan::verify::{PublicKeyVerifier, Verifier, message_to_verify};

const NOW: i64 = 1_700_000_000;
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000000001";

fn key_file(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/keys")
            .join(name),
    )
    .unwrap()
}

/// Answers every request with the same correctly signed 204.
#[derive(Debug)]
struct Canned(HttpResponse);

impl Transport for Canned {
    fn send(&self, _request: HttpRequest) -> TransportFuture<'_> {
        let response = self.0.clone();
        Box::pin(async move { Ok(response) })
    }
}

fn canned() -> (Canned, Vec<u8>, Vec<u8>) {
    let wechat = PrivateKey::from_pem(&key_file("wechatpay_test_pubkey_key.pem")).unwrap();
    let nonce = "0123456789abcdef0123456789abcdef";
    let message = message_to_verify(&NOW.to_string(), nonce, b"");
    let signature = sign_base64(&wechat, &message).unwrap();
    let headers = vec![
        ("Request-ID".to_owned(), "bench".to_owned()),
        ("Wechatpay-Timestamp".to_owned(), NOW.to_string()),
        ("Wechatpay-Nonce".to_owned(), nonce.to_owned()),
        ("Wechatpay-Serial".to_owned(), PUB_KEY_ID.to_owned()),
        ("Wechatpay-Signature".to_owned(), signature.clone()),
        (
            "Wechatpay-Signature-Type".to_owned(),
            "WECHATPAY2-SHA256-RSA2048".to_owned(),
        ),
    ];
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .unwrap();
    (
        Canned(HttpResponse {
            status: 204,
            headers,
            body: Vec::new(),
        }),
        message,
        raw,
    )
}

fn bench(c: &mut Criterion) {
    let (transport, message, signature) = canned();
    let key = PrivateKey::from_pem(&key_file("merchant_test_key.pem")).unwrap();
    let creds = MerchantCredentials::new(
        "1900000100",
        "3775B6A45ACD588826D15E583A95F5DD12345678",
        PrivateKey::from_pem(&key_file("merchant_test_key.pem")).unwrap(),
    )
    .unwrap();
    let pk =
        PublicKeyVerifier::from_pem(PUB_KEY_ID, &key_file("wechatpay_test_pubkey.pem")).unwrap();
    let client = Client::builder()
        .credentials(creds)
        .wechatpay_public_key(
            PublicKeyVerifier::from_pem(PUB_KEY_ID, &key_file("wechatpay_test_pubkey.pem"))
                .unwrap(),
        )
        .base_url("http://127.0.0.1:9")
        .transport(Arc::new(transport))
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("client");
    group.bench_function("gold_plan_call_in_memory", |b| {
        b.iter(|| {
            runtime
                .block_on(client.close_advertising_show("1900000109"))
                .unwrap()
        })
    });
    let request_message = b"POST\n/v3/goldplan/merchants/close-advertising-show\n1700000000\n0123456789abcdef0123456789abcdef\n{\"sub_mchid\":\"1900000109\"}\n";
    group.bench_function("rsa_sign_alone", |b| {
        b.iter(|| key.sign_sha256(request_message).unwrap())
    });
    group.bench_function("rsa_verify_alone", |b| {
        b.iter(|| pk.verify(PUB_KEY_ID, &message, &signature).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
