//! Criterion benchmarks of the protocol core: what a request, a response and a callback cost.
//!
//! `cargo bench -p goldplan --bench protocol -- --noplot` (or `cargo make bench`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{NONCE, NOW, PLATFORM_SERIAL, Resource, Signed, apiv3_key, frozen, key};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use goldplan::aead;
use goldplan::clock::ManualClock;
use goldplan::credentials::MerchantCredentials;
use goldplan::sign::{RsaSigner, message_to_sign, sign_request_blocking};
use goldplan::verify::{Verifier, verify_signed};

/// The R1 request of spec §10.1.
const PATH: &str = "/v3/goldplan/merchants/changegoldplanstatus";
const BODY: &[u8] =
    br#"{"sub_mchid":"1900000109","operation_type":"OPEN","operation_pay_scene":"JSAPI"}"#;

fn requests(c: &mut Criterion) {
    let credentials = MerchantCredentials::new(
        common::MCHID,
        common::MERCHANT_SERIAL,
        key("merchant_test_key.pem"),
    )
    .unwrap();
    let signer = RsaSigner::new(credentials);
    let clock = ManualClock::new(NOW);
    c.bench_function("request/authorization_header", |b| {
        b.iter(|| {
            let signed =
                sign_request_blocking(&signer, &clock, "POST", black_box(PATH), black_box(BODY))
                    .unwrap();
            signed.authorization.header_value().unwrap()
        })
    });
    let message = message_to_sign("POST", PATH, NOW, NONCE, BODY).unwrap();
    let private_key = signer.credentials().private_key().clone();
    c.bench_function("rsa2048/sign", |b| {
        b.iter(|| private_key.sign_sha256(black_box(&message)).unwrap())
    });
}

fn responses(c: &mut Criterion) {
    let verifier = common::certificate_verifier();
    let policy = frozen(NOW);
    let body = br#"{"sub_mchid":"1900000109"}"#;
    let m = Signed::new(
        &key("platform_test_key.pem"),
        PLATFORM_SERIAL,
        &NOW.to_string(),
        NONCE,
        body,
    );
    let headers = m.wechatpay_headers().unwrap();
    c.bench_function("response/verify_signed", |b| {
        b.iter(|| verify_signed(&verifier, &policy, black_box(&headers), black_box(body)).unwrap())
    });
    let message = goldplan::verify::message_to_verify(&NOW.to_string(), NONCE, body);
    let signature = STANDARD.decode(m.header("Wechatpay-Signature")).unwrap();
    c.bench_function("rsa2048/verify", |b| {
        b.iter(|| {
            verifier
                .verify(PLATFORM_SERIAL, black_box(&message), black_box(&signature))
                .unwrap()
        })
    });
}

fn callbacks(c: &mut Criterion) {
    let parser = common::parser();
    let m = Resource::standard().signed_callback();
    c.bench_function("callback/parse_and_decrypt", |b| {
        b.iter(|| {
            let headers = black_box(&m.headers).iter();
            let pairs = headers.map(|(n, v)| (n.as_str(), v.as_str()));
            parser.parse(pairs, black_box(&m.body)).unwrap()
        })
    });

    // A platform certificate as `/v3/certificates` carries it.
    let pem_text = common::read("keys/platform_test_cert.pem");
    let key = apiv3_key();
    let ciphertext =
        aead::encrypt(&key, b"certificate", b"q8Zr2LmN4pXa", pem_text.as_bytes()).unwrap();
    let mut group = c.benchmark_group("aead");
    group.throughput(Throughput::Bytes(pem_text.len() as u64));
    group.bench_function("decrypt_certificate", |b| {
        b.iter(|| {
            aead::decrypt(
                &key,
                b"certificate",
                b"q8Zr2LmN4pXa",
                black_box(&ciphertext),
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the figures are stable to a few percent and `cargo make bench` stays quick.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = requests, responses, callbacks
}
criterion_main!(benches);
