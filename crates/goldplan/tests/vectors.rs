//! Runs every shared vector in `tests/vectors/*.json` (the same files the Python, Node and C
//! suites read) against the Rust core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{read, vectors_dir};
use goldplan::aead;
use goldplan::certificates;
use goldplan::clock::ManualClock;
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::notification::NotificationParser;
use goldplan::receipt;
use goldplan::sensitive;
use goldplan::sign::{Authorization, RsaSigner, canonical_url, message_to_sign};
use goldplan::verify::{
    PublicKeyVerifier, VerificationPolicy, WechatpayHeaders, message_to_verify, verify_signed,
};
use goldplan::x509::{Certificate, CertificateSet};
use serde_json::Value;

fn load(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("{key} missing"))
}

fn header_pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// The vector files this suite covers; a file in the folder that is not listed fails the run.
const COVERED: [&str; 8] = [
    "aead.json",
    "authorization.json",
    "certificates.json",
    "messages.json",
    "notification.json",
    "receipt.json",
    "sensitive.json",
    "signing.json",
];

#[test]
fn every_vector_file_is_read_by_this_suite() {
    let present: BTreeSet<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = COVERED.iter().map(|s| s.to_string()).collect();
    assert_eq!(present, covered, "a vector file nobody reads is a defect");
}

#[test]
fn messages_have_the_exact_bytes() {
    let v = load("messages.json");
    for case in list(&v, "cases") {
        let name = s(case, "name");
        let ts = s(case, "timestamp");
        let body = s(case, "body").as_bytes();
        let message = match s(case, "kind") {
            "request" => {
                let url = canonical_url(s(case, "canonical_url")).unwrap();
                assert_eq!(url, s(case, "canonical_url"), "{name}");
                message_to_sign(
                    s(case, "method"),
                    &url,
                    ts.parse().unwrap(),
                    s(case, "nonce"),
                    body,
                )
            }
            "response" => message_to_verify(ts, s(case, "nonce"), body),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(message, s(case, "message").as_bytes(), "{name}");
        assert_eq!(
            message.len() as u64,
            case["len"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(sha256_hex(&message), s(case, "sha256"), "{name}");
    }
}

fn merchant_key(v: &Value, field: &str) -> PrivateKey {
    PrivateKey::from_pem(&read(s(v, field))).unwrap()
}

#[test]
fn signatures_equal_openssl_for_pkcs8_and_pkcs1_keys() {
    let v = load("signing.json");
    let pkcs8 = merchant_key(&v, "key_pkcs8");
    let pkcs1 = merchant_key(&v, "key_pkcs1");
    let verifier =
        PublicKeyVerifier::from_pem("PUB_KEY_ID_01", &read(s(&v, "public_key"))).unwrap();
    let creds = MerchantCredentials::with_certificate(
        "1900000100",
        s(&v, "serial_no"),
        merchant_key(&v, "key_pkcs8"),
        &read(s(&v, "certificate")),
    )
    .unwrap();
    let signer = RsaSigner::new(creds);
    assert!(list(&v, "cases").len() >= 9);
    for case in list(&v, "cases") {
        let name = s(case, "name");
        let message = s(case, "message").as_bytes();
        assert_eq!(sha256_hex(message), s(case, "sha256"), "{name}");
        let expected = s(case, "signature");
        assert_eq!(
            goldplan::sign::sign_base64(&pkcs8, message).unwrap(),
            expected,
            "{name}"
        );
        assert_eq!(
            goldplan::sign::sign_base64(&pkcs1, message).unwrap(),
            expected,
            "{name}"
        );
        assert_eq!(signer.sign_blocking(message).unwrap(), expected, "{name}");
        use goldplan::verify::Verifier;
        verifier
            .verify(
                "PUB_KEY_ID_01",
                message,
                &STANDARD.decode(expected).unwrap(),
            )
            .unwrap();
    }
}

#[test]
fn authorization_headers_are_byte_exact() {
    let v = load("authorization.json");
    let key = merchant_key(&v, "private_key");
    for case in list(&v, "cases") {
        let name = s(case, "name");
        let signature = if s(case, "signature") == "SIG" {
            "SIG".to_owned()
        } else {
            let sig = goldplan::sign::sign_base64(&key, s(case, "message").as_bytes()).unwrap();
            assert_eq!(sig, s(case, "signature"), "{name}");
            sig
        };
        let auth = Authorization {
            mchid: s(case, "mchid").into(),
            nonce_str: s(case, "nonce").into(),
            timestamp: s(case, "timestamp").parse().unwrap(),
            serial_no: s(case, "serial_no").into(),
            signature,
        };
        assert_eq!(auth.header_value(), s(case, "expected"), "{name}");
        assert_eq!(
            Authorization::parse(s(case, "expected")).unwrap(),
            auth,
            "{name}"
        );
    }
}

#[test]
fn aead_vectors_decrypt_encrypt_and_reject_tampering() {
    let v = load("aead.json");
    let key = ApiV3Key::new(s(&v, "key")).unwrap();
    for case in list(&v, "cases") {
        let name = s(case, "name");
        let aad = s(case, "associated_data").as_bytes();
        let nonce = s(case, "nonce").as_bytes();
        let plain = aead::decrypt(&key, aad, nonce, s(case, "ciphertext")).unwrap();
        assert_eq!(&plain[..], s(case, "plaintext").as_bytes(), "{name}");
        let ct = aead::encrypt(&key, aad, nonce, s(case, "plaintext").as_bytes()).unwrap();
        assert_eq!(ct, s(case, "ciphertext"), "{name}");
    }
    assert!(list(&v, "negative").len() >= 5);
    for case in list(&v, "negative") {
        let name = s(case, "name");
        let key = case["key"]
            .as_str()
            .map_or(key.clone(), |k| ApiV3Key::new(k).unwrap());
        let err = aead::decrypt(
            &key,
            s(case, "associated_data").as_bytes(),
            s(case, "nonce").as_bytes(),
            s(case, "ciphertext"),
        )
        .unwrap_err();
        assert_eq!(err.kind().as_str(), s(case, "expect_error"), "{name}");
    }
}

fn notification_parser(v: &Value, now: i64) -> NotificationParser {
    let pk = PublicKeyVerifier::from_pem(s(v, "public_key_id"), s(v, "public_key_pem")).unwrap();
    NotificationParser::new(Arc::new(pk), ApiV3Key::new(s(v, "apiv3_key")).unwrap()).with_policy(
        VerificationPolicy::with_clock(Arc::new(ManualClock::new(now))),
    )
}

#[test]
fn notification_vectors_verify_and_decrypt() {
    let v = load("notification.json");
    for case in list(&v, "cases") {
        let name = s(case, "name");
        let now = case["now"].as_i64().unwrap();
        let headers = header_pairs(&case["headers"]);
        let body = s(case, "body").as_bytes();
        let expect = &case["expect"];
        assert_eq!(expect["valid"], Value::Bool(true), "{name}");
        match s(case, "kind") {
            "notification" => {
                let n = notification_parser(&v, now).parse(headers, body).unwrap();
                assert_eq!(n.id, s(expect, "id"), "{name}");
                assert_eq!(n.event_type, s(expect, "event_type"), "{name}");
                assert_eq!(n.resource_type, s(expect, "resource_type"), "{name}");
                assert_eq!(n.create_time, s(expect, "create_time"), "{name}");
                assert_eq!(n.summary.as_deref(), expect["summary"].as_str(), "{name}");
                assert_eq!(
                    n.original_type.as_deref(),
                    expect["original_type"].as_str(),
                    "{name}"
                );
                assert_eq!(n.plaintext(), s(expect, "plaintext"), "{name}");
                assert_eq!(n.serial, s(&v, "public_key_id"));
                let decoded: Value = n.decode().unwrap();
                assert_eq!(decoded["trade_state"], "SUCCESS");
            }
            "response" => {
                let pk =
                    PublicKeyVerifier::from_pem(s(&v, "public_key_id"), s(&v, "public_key_pem"))
                        .unwrap();
                let policy = VerificationPolicy::with_clock(Arc::new(ManualClock::new(now)));
                let h = WechatpayHeaders::from_pairs(headers).unwrap();
                let verified = verify_signed(&pk, &policy, &h, body).unwrap();
                assert_eq!(verified.timestamp, 1_700_000_000);
            }
            other => panic!("unknown kind {other}"),
        }
    }
    assert!(list(&v, "negative").len() >= 8);
    for case in list(&v, "negative") {
        let name = s(case, "name");
        let now = case["now"].as_i64().unwrap();
        let mut parser = notification_parser(&v, now);
        if let Some(key) = case["apiv3_key"].as_str() {
            let pk = PublicKeyVerifier::from_pem(s(&v, "public_key_id"), s(&v, "public_key_pem"))
                .unwrap();
            parser = NotificationParser::new(Arc::new(pk), ApiV3Key::new(key).unwrap())
                .with_policy(VerificationPolicy::with_clock(Arc::new(ManualClock::new(
                    now,
                ))));
        }
        let err = parser
            .parse(header_pairs(&case["headers"]), s(case, "body").as_bytes())
            .unwrap_err();
        assert_eq!(
            err.kind().as_str(),
            s(case, "expect_error"),
            "{name}: {err}"
        );
    }
}

#[test]
fn sensitive_vectors_decrypt_and_round_trip() {
    let v = load("sensitive.json");
    let key = merchant_key(&v, "private_key");
    let max = v["max_plaintext_len"].as_u64().unwrap() as usize;
    assert_eq!(max, sensitive::MAX_PLAINTEXT_LEN_RSA2048);
    let pk = PublicKeyVerifier::from_pem("PUB_KEY_ID_1", &read(s(&v, "public_key"))).unwrap();
    let enc = sensitive::EncryptionKey::from_public_key(&pk).unwrap();
    assert_eq!(enc.max_plaintext_len(), max);
    for case in list(&v, "cases") {
        let name = s(case, "name");
        let plain = sensitive::decrypt(&key, s(case, "ciphertext")).unwrap();
        assert_eq!(plain.as_str(), s(case, "plaintext"), "{name}");
        let again = enc.encrypt(s(case, "plaintext")).unwrap();
        assert_ne!(again, s(case, "ciphertext"), "OAEP is randomised");
        assert_eq!(
            sensitive::decrypt(&key, &again).unwrap().as_str(),
            s(case, "plaintext")
        );
    }
    let too_long = "x".repeat(max + 1);
    assert_eq!(
        enc.encrypt(&too_long).unwrap_err().kind().as_str(),
        "invalid_input"
    );
    assert_eq!(enc.encrypt("").unwrap(), "");
}

#[test]
fn receipt_vectors() {
    let v = load("receipt.json");
    let check = |case: &Value| {
        let link = s(case, "configured_link");
        let (sub, order, tid) = (
            s(case, "sub_mch_id"),
            s(case, "out_trade_no"),
            s(case, "transaction_id"),
        );
        assert_eq!(
            receipt::check_code_input(link, sub, order, tid),
            s(case, "string_to_hash")
        );
        assert_eq!(
            receipt::expected_check_code(link, sub, order, tid),
            s(case, "expected_check_code")
        );
        receipt::verify_check_code(link, sub, order, tid, s(case, "check_code"))
    };
    for case in list(&v, "cases") {
        assert!(check(case), "{}", s(case, "name"));
    }
    for case in list(&v, "negative") {
        assert!(!check(case), "{}", s(case, "name"));
    }
    for case in list(&v, "urls") {
        let name = s(case, "name");
        let p = receipt::parse_receipt_query(s(case, "url")).unwrap();
        for (field, got) in [
            ("sub_mch_id", &p.sub_mch_id),
            ("out_trade_no", &p.out_trade_no),
            ("check_code", &p.check_code),
        ] {
            assert_eq!(got.raw, s(&case[field], "raw"), "{name} {field}");
            assert_eq!(got.decoded, s(&case[field], "decoded"), "{name} {field}");
        }
    }
}

fn download_policy(v: &Value) -> VerificationPolicy {
    VerificationPolicy::with_clock(Arc::new(ManualClock::new(v["now"].as_i64().unwrap())))
}

#[test]
fn certificate_download_is_decrypted_matched_and_verified() {
    let v = load("certificates.json");
    let key = ApiV3Key::new(s(&v, "apiv3_key")).unwrap();
    let policy = download_policy(&v);
    let response = &v["response"];
    let headers = WechatpayHeaders::from_pairs(header_pairs(&response["headers"])).unwrap();
    let got = certificates::validate_download(
        &headers,
        s(response, "body").as_bytes(),
        &key,
        &CertificateSet::default(),
        None,
        &policy,
    )
    .unwrap();
    assert!(got.dropped.is_empty());
    for e in list(&v, "expect") {
        let cert = got.certificates.get(s(e, "serial_no")).unwrap();
        assert_eq!(cert.serial_hex(), s(e, "serial_no"));
        assert_eq!(cert.not_before(), e["not_before_unix"].as_i64().unwrap());
        assert_eq!(cert.not_after(), e["not_after_unix"].as_i64().unwrap());
        let on_disk = Certificate::from_pem(&read(s(e, "certificate"))).unwrap();
        assert_eq!(on_disk.public_key_der(), cert.public_key_der());
    }
    assert_eq!(
        got.certificates.newest().unwrap().serial_hex(),
        s(&v, "newest_serial")
    );

    for case in list(&v, "negative") {
        let name = s(case, "name");
        let r = &case["response"];
        let headers = WechatpayHeaders::from_pairs(header_pairs(&r["headers"])).unwrap();
        let trusted = CertificateSet::new(
            case["trusted_certificates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Arc::new(Certificate::from_pem(&read(p.as_str().unwrap())).unwrap())),
        );
        let result = certificates::validate_download(
            &headers,
            s(r, "body").as_bytes(),
            &key,
            &trusted,
            None,
            &policy,
        );
        match case["expect_error"].as_str() {
            Some(kind) => {
                assert_eq!(result.unwrap_err().kind().as_str(), kind, "{name}");
            }
            None => {
                let got = result.unwrap();
                let serials: Vec<&str> = got.certificates.iter().map(|c| c.serial_hex()).collect();
                let expected: Vec<&str> = list(case, "expect_serials")
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                assert_eq!(serials, expected, "{name}");
                assert_eq!(got.dropped.len(), 1, "{name}");
            }
        }
    }
}
