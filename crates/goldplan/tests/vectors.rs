//! Runs every shared vector in `tests/vectors/*.json` (the same files the Python suite reads)
//! against the Rust core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{read, vectors_dir};
use goldplan::ErrorKind;
use goldplan::aead;
use goldplan::certificates;
use goldplan::clock::ManualClock;
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::notification::NotificationParser;
use goldplan::receipt;
use goldplan::sensitive;
use goldplan::sign::{Authorization, RsaSigner, canonical_url, message_to_sign};
use goldplan::verify::{
    CertificateVerifier, PublicKeyVerifier, VerificationPolicy, Verifier, WechatpayHeaders,
    message_to_verify, verify_signed,
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
const COVERED: [&str; 10] = [
    "aead.json",
    "authorization.json",
    "certificates.json",
    "messages.json",
    "notification.json",
    "payments.json",
    "receipt.json",
    "secret_sweep.json",
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
fn pay_sign_messages_have_the_exact_bytes_and_the_mistakes_differ() {
    let v = load("payments.json");
    let cases = v["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let text = |k: &str| case[k].as_str().unwrap();
        assert_eq!(text("package"), format!("prepay_id={}", text("prepay_id")));
        let message = goldplan::payments::pay_sign_message(
            text("app_id"),
            text("time_stamp"),
            text("nonce_str"),
            text("package"),
        );
        assert_eq!(message, text("message"), "{}", text("name"));
        assert_eq!(message.len() as u64, case["len"].as_u64().unwrap());
        assert_eq!(sha256_hex(message.as_bytes()), text("sha256"));
        for wrong in v["negative"].as_array().unwrap() {
            assert_ne!(wrong["message"].as_str().unwrap(), message);
            assert_eq!(
                sha256_hex(wrong["message"].as_str().unwrap().as_bytes()),
                wrong["sha256"].as_str().unwrap()
            );
        }
    }
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
                // The signed target is derived from the absolute URL the request goes to, never
                // taken from the expected value.
                let url = canonical_url(&target_of(s(case, "url"))).unwrap();
                assert_eq!(url, s(case, "canonical_url"), "{name}");
                message_to_sign(
                    s(case, "method"),
                    &url,
                    ts.parse().unwrap(),
                    s(case, "nonce"),
                    body,
                )
                .unwrap()
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

/// The origin-form request target (path, then `?query` when there is one) of an absolute URL.
fn target_of(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).unwrap();
    match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    }
}

#[test]
fn messages_cover_every_kind_and_derive_targets_from_urls() {
    let v = load("messages.json");
    let cases = list(&v, "cases");
    assert!(cases.len() >= 9);
    let requests: Vec<&Value> = cases.iter().filter(|c| s(c, "kind") == "request").collect();
    assert!(requests.len() >= 7);
    assert!(
        requests.iter().any(|c| s(c, "url").contains('?')),
        "a request with a query string"
    );
    // A target that differs from the expected one must not produce the expected message.
    let r1 = requests.iter().find(|c| s(c, "name") == "R1").unwrap();
    let other = canonical_url(&target_of(&format!("{}?x=1", s(r1, "url")))).unwrap();
    let message = message_to_sign(
        s(r1, "method"),
        &other,
        s(r1, "timestamp").parse().unwrap(),
        s(r1, "nonce"),
        s(r1, "body").as_bytes(),
    )
    .unwrap();
    assert_ne!(message, s(r1, "message").as_bytes());
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
    // The certificate's own key, selected by the certificate's serial.
    let certificate = Arc::new(Certificate::from_pem(&read(s(&v, "certificate"))).unwrap());
    assert!(certificate.serial().matches(s(&v, "serial_no")));
    let by_certificate = CertificateVerifier::new(CertificateSet::new([certificate]));
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
        if name == "P1" {
            // The pay-sign of PAYMENTS.md §2.5 is this very signature.
            let payments = load("payments.json");
            let p = &list(&payments, "cases")[0];
            let payment = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(goldplan::payments::request_payment(
                    &signer,
                    s(p, "app_id"),
                    s(p, "prepay_id"),
                    s(p, "time_stamp").parse().unwrap(),
                    s(p, "nonce_str"),
                ))
                .unwrap();
            assert_eq!(payment.pay_sign, expected);
            assert_eq!(payment.package, s(p, "package"));
            assert_eq!(payment.sign_type, "RSA");
        }
        let raw = STANDARD.decode(expected).unwrap();
        verifier.verify("PUB_KEY_ID_01", message, &raw).unwrap();
        by_certificate
            .verify(s(&v, "serial_no"), message, &raw)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The same OpenSSL signature over any other message does not verify, with either key.
        let mut other = message.to_vec();
        other.push(b'x');
        for err in [
            verifier.verify("PUB_KEY_ID_01", &other, &raw).unwrap_err(),
            by_certificate
                .verify(s(&v, "serial_no"), &other, &raw)
                .unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::SignatureInvalid, "{name}");
        }
    }
    // Every signature belongs to its own message only.
    let cases = list(&v, "cases");
    for (i, a) in cases.iter().enumerate() {
        let raw = STANDARD.decode(s(a, "signature")).unwrap();
        for (j, b) in cases.iter().enumerate() {
            if i != j && s(a, "message") != s(b, "message") {
                let err = by_certificate
                    .verify(s(&v, "serial_no"), s(b, "message").as_bytes(), &raw)
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::SignatureInvalid);
            }
        }
    }
}

#[test]
fn authorization_headers_are_byte_exact() {
    let v = load("authorization.json");
    let key = merchant_key(&v, "private_key");
    assert!(list(&v, "cases").len() >= 2);
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
        assert_eq!(auth.header_value().unwrap(), s(case, "expected"), "{name}");
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
    assert!(list(&v, "cases").len() >= 3);
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
    assert!(list(&v, "cases").len() >= 6);
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
                // What every binding hands out: the core's serialisation.
                let shown = serde_json::to_value(&n).unwrap();
                for field in [
                    "id",
                    "event_type",
                    "resource_type",
                    "create_time",
                    "plaintext",
                ] {
                    assert_eq!(shown[field], expect[field], "{name}: {field}");
                }
                assert_eq!(shown["resource"], decoded, "{name}");
                assert_eq!(shown["serial"], s(&v, "public_key_id"), "{name}");
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
    assert!(list(&v, "cases").len() >= 3);
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
    assert!(list(&v, "cases").len() >= 4);
    for case in list(&v, "cases") {
        assert_eq!(case["valid"], Value::Bool(true), "{}", s(case, "name"));
        assert!(check(case), "{}", s(case, "name"));
    }
    assert!(list(&v, "negative").len() >= 2);
    for case in list(&v, "negative") {
        assert_eq!(case["valid"], Value::Bool(false), "{}", s(case, "name"));
        assert!(!check(case), "{}", s(case, "name"));
    }
    assert!(!list(&v, "urls").is_empty());
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
    assert!(
        list(&v, "trusted_certificates").is_empty(),
        "a first download"
    );
    let expect = list(&v, "expect");
    assert!(expect.len() >= 2);
    assert_eq!(got.certificates.len(), expect.len());
    for e in expect {
        let cert = got.certificates.get(s(e, "serial_no")).unwrap();
        assert_eq!(cert.serial_hex(), s(e, "serial_no"));
        assert_eq!(cert.not_before(), e["not_before_unix"].as_i64().unwrap());
        assert_eq!(cert.not_after(), e["not_after_unix"].as_i64().unwrap());
        for (field, unix) in [
            ("not_before", cert.not_before()),
            ("not_after", cert.not_after()),
        ] {
            assert_eq!(goldplan::x509::format_unix_rfc3339(unix), s(e, field));
            let parsed = time::OffsetDateTime::parse(
                s(e, field),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            assert_eq!(parsed.unix_timestamp(), unix, "{field}");
        }
        // The certificate kept is the file's certificate, byte for byte (the SDK keeps the
        // PEM without its trailing newline).
        let on_disk = read(s(e, "certificate"));
        assert_eq!(cert.pem(), on_disk.trim_end(), "{}", s(e, "serial_no"));
        assert_eq!(
            Certificate::from_pem(&on_disk).unwrap().public_key_der(),
            cert.public_key_der()
        );
    }
    // What every binding hands out for a download: the core's serialisation.
    let shown = serde_json::to_value(&got).unwrap();
    assert_eq!(shown["dropped"], serde_json::json!([]));
    let shown_list = shown["certificates"].as_array().unwrap();
    assert_eq!(shown_list.len(), expect.len());
    for e in expect {
        let c = shown_list
            .iter()
            .find(|c| c["serial_no"] == e["serial_no"])
            .unwrap();
        for field in [
            "not_before",
            "not_after",
            "not_before_unix",
            "not_after_unix",
        ] {
            assert_eq!(c[field], e[field], "{field}");
        }
    }
    assert!(shown["newest_serial"].is_string());
    // Each listed entry decrypts to the exact bytes of its PEM file.
    let body: Value = serde_json::from_str(s(response, "body")).unwrap();
    let entries = list(&body, "data");
    assert_eq!(entries.len(), expect.len());
    for entry in entries {
        let listed = s(entry, "serial_no");
        let e = expect
            .iter()
            .find(|e| {
                goldplan::x509::SerialNumber::parse(s(e, "serial_no"))
                    .unwrap()
                    .matches(listed)
            })
            .unwrap_or_else(|| panic!("listed {listed} is not expected"));
        let enc = &entry["encrypt_certificate"];
        let plain = aead::decrypt(
            &key,
            s(enc, "associated_data").as_bytes(),
            s(enc, "nonce").as_bytes(),
            s(enc, "ciphertext"),
        )
        .unwrap();
        assert_eq!(&plain[..], read(s(e, "certificate")).as_bytes(), "{listed}");
    }
    assert_eq!(
        got.certificates.newest().unwrap().serial_hex(),
        s(&v, "newest_serial")
    );

    let negative = list(&v, "negative");
    assert!(negative.len() >= 5);
    let mut kinds: BTreeSet<&str> = BTreeSet::new();
    for case in negative {
        let name = s(case, "name");
        kinds.insert(case["expect_error"].as_str().unwrap_or("none"));
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
    assert_eq!(
        kinds,
        BTreeSet::from([
            "certificate",
            "decode",
            "decryption",
            "none",
            "signature_invalid"
        ])
    );
}

/// Fails when `shown` holds a window of the sweep's secrets.
fn assert_no_secret(what: &str, shown: &str, sweep: &Value) {
    let window = usize::try_from(sweep["window"].as_u64().unwrap()).unwrap();
    for secret in list(sweep, "must_not_appear") {
        let chars: Vec<char> = secret.as_str().unwrap().chars().collect();
        for piece in chars.windows(window) {
            let piece: String = piece.iter().collect();
            assert!(
                !shown.contains(&piece),
                "{what}: {piece:?} echoed in {shown}"
            );
        }
    }
}

/// Each secret in each configuration field of `ClientConfig` (JSON, then the client built from
/// it), and in the arguments of the typed constructors: no error shows any of it.
#[test]
fn secret_sweep_no_setting_echoes_a_misplaced_secret() {
    use goldplan::config::ClientConfig;

    let sweep = load("secret_sweep.json");
    let notification = load("notification.json");
    let keys = vectors_dir().join("keys");
    let valid = serde_json::json!({
        "base_url": "http://127.0.0.1:9",
        "mchid": "1900000100",
        "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "private_key": keys.join("merchant_test_key.pem"),
        "apiv3_key": s(&notification, "apiv3_key"),
        "public_key_id": s(&notification, "public_key_id"),
        "public_key": s(&notification, "public_key_pem"),
        "mode": "public_key",
    });
    ClientConfig::from_json(&valid.to_string(), None)
        .unwrap()
        .build()
        .unwrap();
    let pem = read("keys/merchant_test_key.pem");
    let mut checked = 0;
    for (name, value) in sweep["values"].as_object().unwrap() {
        let value = value.as_str().unwrap();
        for field in list(&sweep, "fields") {
            let field = field.as_str().unwrap();
            let what = format!("{field} given {name}");
            let outcome = if field == "config_path" {
                ClientConfig::from_file(value).map(|_| ())
            } else {
                let mut config = valid.clone();
                config[field] = Value::from(value);
                ClientConfig::from_json(&config.to_string(), None)
                    .and_then(|c| c.build().map(|_| ()))
            };
            if let Err(e) = outcome {
                assert_no_secret(&what, &format!("{e} {e:?} {:?}", e.report()), &sweep);
                checked += 1;
            }
        }
        let key = || PrivateKey::from_pem(&pem).unwrap();
        let typed = [
            MerchantCredentials::new(value, "3775B6A45ACD588826D15E583A95F5DD", key()).map(|_| ()),
            MerchantCredentials::new("1900000100", value, key()).map(|_| ()),
            PublicKeyVerifier::from_pem(value, s(&notification, "public_key_pem")).map(|_| ()),
            PrivateKey::from_pem(value).map(|_| ()),
            ApiV3Key::new(value).map(|_| ()),
            goldplan::http::validate_base_url(value).map(|_| ()),
        ];
        for outcome in typed {
            if let Err(e) = outcome {
                assert_no_secret(name, &format!("{e} {e:?}"), &sweep);
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 50,
        "only {checked} misplaced secrets were refused"
    );
}
