//! The tamper matrix: start from a valid signed response and a valid callback, change exactly
//! one thing, and check that the change is rejected with the right `ErrorKind`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{
    NONCE, NOW, PLAINTEXT, PLATFORM_SERIAL, PLATFORM2_SERIAL, PUBKEY_ID, Resource, Signed,
    apiv3_key, certificate_verifier, frozen, key, pubkey_verifier, signed_callback,
};
use goldplan::ErrorKind;
use goldplan::credentials::{ApiV3Key, PrivateKey};
use goldplan::notification::{NotificationParser, ReplayGuard};
use goldplan::verify::{CombinedVerifier, Verifier, verify_signed};

const RESPONSE_BODY: &[u8] = br#"{"sub_mchid":"1900000109"}"#;
const REQUIRED: [&str; 4] = [
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Signature",
    "Wechatpay-Serial",
];

/// A kind of signed message, with the verifier that must accept it untouched.
struct Subject {
    name: &'static str,
    key: PrivateKey,
    serial: &'static str,
    /// A serial the verifier also holds, with a different key.
    other_known_serial: Option<&'static str>,
    body: Vec<u8>,
    verifier: Arc<dyn Verifier>,
    /// Run through `NotificationParser::parse` (verify + decrypt) rather than `verify_signed`.
    callback: bool,
}

impl Subject {
    fn sign(&self, timestamp: &str, body: &[u8]) -> Signed {
        Signed::new(&self.key, self.serial, timestamp, NONCE, body)
    }

    /// The subject's body at [`NOW`], signed by `key` and labelled `serial`.
    fn signed_as(&self, key: &PrivateKey, serial: &str) -> Signed {
        Signed::new(key, serial, &NOW.to_string(), NONCE, &self.body)
    }

    fn valid(&self) -> Signed {
        self.sign(&NOW.to_string(), &self.body)
    }

    fn check_at(&self, m: &Signed, now: i64) -> goldplan::Result<()> {
        if self.callback {
            let parser = NotificationParser::new(self.verifier.clone(), apiv3_key())
                .with_policy(frozen(now));
            let pairs = m.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            parser.parse(pairs, &m.body).map(drop)
        } else {
            verify_signed(
                self.verifier.as_ref(),
                &frozen(now),
                &m.wechatpay_headers()?,
                &m.body,
            )
            .map(drop)
        }
    }

    fn check(&self, m: &Signed) -> goldplan::Result<()> {
        self.check_at(m, NOW)
    }

    fn accepts(&self, m: &Signed, what: &str) {
        if let Err(e) = self.check(m) {
            panic!("{}: {what}: rejected: {e}", self.name);
        }
    }

    fn rejects(&self, m: &Signed, kind: ErrorKind, what: &str) {
        match self.check(m) {
            Ok(()) => panic!("{}: {what}: accepted", self.name),
            Err(e) => assert_eq!(e.kind(), kind, "{}: {what}: {e}", self.name),
        }
    }
}

/// A platform-certificate-signed API response, a public-key-signed callback, and the same
/// callback in combined (migration) mode.
fn subjects() -> Vec<Subject> {
    let pubkey = Arc::new(pubkey_verifier());
    let certificates = Arc::new(certificate_verifier());
    let callback_body = Resource::standard().callback_body();
    vec![
        Subject {
            name: "response",
            key: key("platform_test_key.pem"),
            serial: PLATFORM_SERIAL,
            other_known_serial: Some(PLATFORM2_SERIAL),
            body: RESPONSE_BODY.to_vec(),
            verifier: certificates.clone(),
            callback: false,
        },
        Subject {
            name: "callback",
            key: key("wechatpay_test_pubkey_key.pem"),
            serial: PUBKEY_ID,
            other_known_serial: None,
            body: callback_body.clone(),
            verifier: pubkey.clone(),
            callback: true,
        },
        Subject {
            name: "callback (combined mode)",
            key: key("wechatpay_test_pubkey_key.pem"),
            serial: PUBKEY_ID,
            other_known_serial: Some(PLATFORM_SERIAL),
            body: callback_body,
            verifier: Arc::new(CombinedVerifier::new(pubkey, certificates)),
            callback: true,
        },
    ]
}

fn flip(bytes: &[u8], index: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[index] ^= mask;
    out
}

#[test]
fn untouched_messages_verify() {
    for s in subjects() {
        s.accepts(&s.valid(), "untouched");
    }
    let m = Resource::standard().signed_callback();
    let n = common::parser().parse(m.headers, &m.body).unwrap();
    assert_eq!(n.plaintext(), PLAINTEXT);
    assert_eq!(n.serial, PUBKEY_ID);
    // The second platform certificate verifies what its own key signed.
    let s = &subjects()[0];
    let m = s.signed_as(&key("platform2_test_key.pem"), PLATFORM2_SERIAL);
    s.accepts(&m, "signed by platform certificate #2");
    // In combined mode a callback may be signed by a platform certificate instead.
    let s = &subjects()[2];
    let m = s.signed_as(&key("platform_test_key.pem"), PLATFORM_SERIAL);
    s.accepts(&m, "callback signed by a platform certificate");
}

#[test]
fn body_changes_are_signature_invalid() {
    for s in subjects() {
        let m = s.valid();
        let len = m.body.len();
        let mut bodies = Vec::new();
        for (index, position) in [(0, "first"), (len / 2, "middle"), (len - 1, "last")] {
            for mask in [0x01, 0x20, 0x80] {
                let what = format!("{position} body byte ^ {mask:#04x}");
                bodies.push((what, flip(&m.body, index, mask)));
            }
        }
        // The body is taken byte for byte: never trimmed, never normalised.
        bodies.push((
            "trailing newline added".into(),
            [&m.body, &b"\n"[..]].concat(),
        ));
        bodies.push(("leading space added".into(), [&b" "[..], &m.body].concat()));
        bodies.push(("last byte removed".into(), m.body[..len - 1].to_vec()));
        bodies.push(("body removed".into(), Vec::new()));
        s.rejects_bodies(&m, bodies);
    }
}

#[test]
fn every_body_byte_is_covered_by_the_signature() {
    for s in subjects() {
        let m = s.valid();
        let bodies = (0..m.body.len())
            .map(|i| (format!("body byte {i} ^ 0x01"), flip(&m.body, i, 0x01)))
            .collect();
        s.rejects_bodies(&m, bodies);
    }
}

impl Subject {
    /// Replaces the body, one candidate at a time, keeping the original signature.
    fn rejects_bodies(&self, m: &Signed, bodies: Vec<(String, Vec<u8>)>) {
        for (what, body) in bodies {
            self.rejects(&m.with_body(body), ErrorKind::SignatureInvalid, &what);
        }
    }

    /// Replaces one header at a time and expects each replacement to fail with its kind.
    fn rejects_headers(&self, m: &Signed, changes: &[(&str, String, ErrorKind)]) {
        for (name, value, kind) in changes {
            self.rejects(
                &m.with_header(name, value),
                *kind,
                &format!("{name}: {value:?}"),
            );
        }
    }
}

#[test]
fn signed_header_changes_are_rejected() {
    use ErrorKind::{SignatureInvalid, UnknownSerial};
    for s in subjects() {
        let m = s.valid();
        let mut nonce = NONCE.to_owned();
        nonce.replace_range(0..1, "6");
        let mut changes = vec![
            (
                "Wechatpay-Timestamp",
                (NOW + 1).to_string(),
                SignatureInvalid,
            ),
            (
                "Wechatpay-Timestamp",
                (NOW - 1).to_string(),
                SignatureInvalid,
            ),
            ("Wechatpay-Nonce", nonce, SignatureInvalid),
            (
                "Wechatpay-Nonce",
                NONCE.to_ascii_lowercase(),
                SignatureInvalid,
            ),
            ("Wechatpay-Nonce", format!("{NONCE}0"), SignatureInvalid),
        ];
        for unknown in [
            "1234ABCD",
            "0ABC1234567890ABCDEF1234567890ABCDEF1235",
            "PUB_KEY_ID_0114232134912410000000000000000002",
            "not-a-serial",
        ] {
            changes.push(("Wechatpay-Serial", unknown.into(), UnknownSerial));
        }
        // A key the verifier holds, but not the one that signed.
        if let Some(other) = s.other_known_serial {
            changes.push(("Wechatpay-Serial", other.into(), SignatureInvalid));
        }
        s.rejects_headers(&m, &changes);
    }
}

#[test]
fn signature_changes_are_rejected() {
    for s in subjects() {
        let m = s.valid();
        let signature = m.header("Wechatpay-Signature").to_owned();
        let raw = STANDARD.decode(&signature).unwrap();
        assert_eq!(raw.len(), 256);
        let mut forged: Vec<String> = [0, 128, 255]
            .iter()
            .map(|&i| STANDARD.encode(flip(&raw, i, 0x01)))
            .collect();
        forged.push(STANDARD.encode(&raw[..255]));
        // Not standard, padded base64.
        let unpadded = signature.trim_end_matches('=');
        assert_ne!(unpadded, signature, "a 256-byte signature ends in padding");
        forged.push(unpadded.into());
        forged.push("%%%%".into());
        forged.push(format!("{}*{}", &signature[..100], &signature[101..]));
        let url_safe = signature.replace('+', "-").replace('/', "_");
        if url_safe != signature {
            forged.push(url_safe);
        }
        let changes: Vec<_> = forged
            .into_iter()
            .map(|f| ("Wechatpay-Signature", f, ErrorKind::SignatureInvalid))
            .collect();
        s.rejects_headers(&m, &changes);
    }
}

#[test]
fn signature_probes_are_flagged_and_never_succeed() {
    for s in subjects() {
        let m = s.valid();
        let real = m.header("Wechatpay-Signature").to_owned();
        for probe in [
            "WECHATPAY/SIGNTEST/abc".to_owned(),
            format!("WECHATPAY/SIGNTEST/{real}"),
        ] {
            let err = s
                .check(&m.with_header("Wechatpay-Signature", &probe))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SignatureProbe, "{}: {err}", s.name);
            assert!(err.is_signature_probe());
            let ack = goldplan::notification::Acknowledgement::for_error(&err);
            assert_eq!(
                ack.status, 401,
                "{}: a probe must not be acknowledged",
                s.name
            );
        }
    }
}

#[test]
fn the_clock_window_is_300_seconds_exclusive() {
    for s in subjects() {
        for offset in [299, -299, 0] {
            s.accepts(
                &s.sign(&(NOW + offset).to_string(), &s.body),
                &format!("timestamp now{offset:+}"),
            );
        }
        for offset in [300, -300, 3600, -86_400] {
            s.rejects(
                &s.sign(&(NOW + offset).to_string(), &s.body),
                ErrorKind::ClockSkew,
                &format!("timestamp now{offset:+}"),
            );
        }
        // The same message, seen by a host whose clock is 300 s ahead or behind.
        let m = s.valid();
        for now in [NOW + 300, NOW - 300] {
            let err = s.check_at(&m, now).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ClockSkew, "{}", s.name);
        }
        s.check_at(&m, NOW + 299).unwrap();
    }
}

#[test]
fn non_numeric_timestamps_are_invalid_headers() {
    for s in subjects() {
        for ts in [
            "17802720O0",
            "-1780272000",
            "+1780272000",
            "1780272000.0",
            "1.78e9",
            "0x6A1CBC00",
            "99999999999999999999",
        ] {
            s.rejects(
                &s.sign(ts, &s.body),
                ErrorKind::InvalidHeader,
                &format!("timestamp {ts:?}"),
            );
        }
    }
}

#[test]
fn each_required_header_missing_or_empty_is_missing_header() {
    for s in subjects() {
        let m = s.valid();
        for name in REQUIRED {
            s.rejects(
                &m.without_header(name),
                ErrorKind::MissingHeader,
                &format!("{name} absent"),
            );
            s.rejects_headers(&m, &[(name, String::new(), ErrorKind::MissingHeader)]);
        }
        // Request-ID and the signature type are optional.
        s.accepts(&m.without_header("Request-ID"), "no Request-ID");
        s.accepts(
            &m.without_header("Wechatpay-Signature-Type"),
            "no signature type (defaults to RSA)",
        );
    }
}

#[test]
fn duplicated_headers_are_invalid() {
    for s in subjects() {
        let m = s.valid();
        for name in REQUIRED.iter().chain(&["Wechatpay-Signature-Type"]) {
            let value = m.header(name).to_owned();
            for (spelling, second) in [
                (name.to_string(), value.clone()),
                (name.to_ascii_lowercase(), value.clone()),
                (
                    format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_")),
                    value.clone(),
                ),
                (name.to_string(), format!("{value}0")),
            ] {
                let mut twice = m.clone();
                twice.headers.push((spelling.clone(), second));
                s.rejects(
                    &twice,
                    ErrorKind::InvalidHeader,
                    &format!("{name} repeated as {spelling}"),
                );
            }
        }
    }
}

#[test]
fn other_signature_types_are_unsupported() {
    for s in subjects() {
        let changes: Vec<_> = [
            "WECHATPAY2-SM2-WITH-SM3",
            "WECHATPAY2-SHA256-RSA4096",
            "RSA",
        ]
        .into_iter()
        .map(|t| {
            let kind = ErrorKind::UnsupportedSignatureType;
            ("Wechatpay-Signature-Type", t.to_owned(), kind)
        })
        .collect();
        s.rejects_headers(&s.valid(), &changes);
    }
}

#[test]
fn certificate_serials_compare_numerically_but_key_ids_exactly() {
    let s = &subjects()[0];
    for rendering in [
        PLATFORM_SERIAL.trim_start_matches('0').to_owned(),
        format!("000{PLATFORM_SERIAL}"),
        PLATFORM_SERIAL.to_ascii_lowercase(),
    ] {
        let m = s.signed_as(&s.key, &rendering);
        s.accepts(&m, &format!("serial rendered {rendering}"));
    }
    let s = &subjects()[1];
    let m = s.valid();
    s.rejects(
        &m.with_header("Wechatpay-Serial", &PUBKEY_ID.to_ascii_lowercase()),
        ErrorKind::UnknownSerial,
        "lower-case public key id",
    );
}

#[test]
fn header_names_match_in_any_case_and_cgi_spelling() {
    let spellings: [fn(&str) -> String; 4] = [
        |n| n.to_ascii_lowercase(),
        |n| n.to_ascii_uppercase(),
        |n| format!("HTTP_{}", n.to_ascii_uppercase().replace('-', "_")),
        |n| {
            n.chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        },
    ];
    for s in subjects() {
        let m = s.valid();
        for spell in spellings {
            let mut renamed = m.clone();
            for (name, _) in &mut renamed.headers {
                *name = spell(name);
            }
            s.accepts(
                &renamed,
                &format!("header names like {}", renamed.headers[0].0),
            );
        }
    }
}

#[test]
fn an_empty_body_is_signed_as_an_empty_line() {
    let s = &subjects()[0];
    let m = s.sign(&NOW.to_string(), b"");
    s.accepts(&m, "204 with an empty body");
    let message = format!("{NOW}\n{NONCE}\n\n");
    let raw = STANDARD.decode(m.header("Wechatpay-Signature")).unwrap();
    s.verifier
        .verify(PLATFORM_SERIAL, message.as_bytes(), &raw)
        .unwrap();
    let bodies = ["\n", " ", "{}"]
        .map(|b| (format!("empty-body signature on {b:?}"), b.into()))
        .into();
    s.rejects_bodies(&m, bodies);
    // A callback must have a body: an empty one verifies, then fails to decode.
    let s = &subjects()[1];
    s.rejects(
        &s.sign(&NOW.to_string(), b""),
        ErrorKind::Decode,
        "callback with an empty body",
    );
}

#[test]
fn verification_errors_carry_the_serial_and_request_id() {
    for s in subjects() {
        let m = s.valid();
        let err = s.check(&m.with_body(b"{}".to_vec())).unwrap_err();
        assert_eq!(err.request_id(), Some(m.header("Request-ID")), "{}", s.name);
        let goldplan::Error::Verification(v) = &err else {
            panic!("{}: {err:?}", s.name);
        };
        assert_eq!(v.serial.as_deref(), Some(s.serial), "{}", s.name);
    }
}

/// Signs a callback whose resource was altered after encryption, so that only decryption can
/// notice.
fn callback_with(alter: impl FnOnce(&mut Resource)) -> Signed {
    let mut r = Resource::standard();
    alter(&mut r);
    r.signed_callback()
}

fn decoded_ciphertext() -> Vec<u8> {
    STANDARD.decode(Resource::standard().ciphertext).unwrap()
}

#[test]
fn altered_resources_fail_decryption() {
    let ct = decoded_ciphertext();
    let mut cases: Vec<(String, Signed)> = vec![
        (
            "associated_data altered".into(),
            callback_with(|r| r.associated_data = "transactioN".into()),
        ),
        (
            "associated_data removed".into(),
            callback_with(|r| r.associated_data.clear()),
        ),
        (
            "nonce altered".into(),
            callback_with(|r| r.nonce = "fJ3kQ9pL2xZ8".into()),
        ),
        (
            "nonce of 11 bytes".into(),
            callback_with(|r| r.nonce = "fJ3kQ9pL2xZ".into()),
        ),
        (
            "nonce of 13 bytes".into(),
            callback_with(|r| r.nonce = "fJ3kQ9pL2xZ77".into()),
        ),
        ("nonce empty".into(), callback_with(|r| r.nonce.clear())),
        (
            "ciphertext truncated by one byte".into(),
            callback_with(|r| r.ciphertext = STANDARD.encode(&ct[..ct.len() - 1])),
        ),
        (
            "ciphertext shorter than the tag".into(),
            callback_with(|r| r.ciphertext = STANDARD.encode(&ct[..15])),
        ),
        (
            "ciphertext empty".into(),
            callback_with(|r| r.ciphertext.clear()),
        ),
        (
            "ciphertext not base64".into(),
            callback_with(|r| r.ciphertext = format!("*{}", &r.ciphertext[1..])),
        ),
        (
            "algorithm AEAD_AES_128_GCM".into(),
            callback_with(|r| r.algorithm = "AEAD_AES_128_GCM".into()),
        ),
        (
            "algorithm in lower case".into(),
            callback_with(|r| r.algorithm = r.algorithm.to_ascii_lowercase()),
        ),
        (
            "algorithm empty".into(),
            callback_with(|r| r.algorithm.clear()),
        ),
    ];
    for index in [0, ct.len() / 2, ct.len() - 17, ct.len() - 1] {
        let flipped = STANDARD.encode(flip(&ct, index, 0x01));
        cases.push((
            format!("ciphertext byte {index} of {} flipped", ct.len()),
            callback_with(|r| r.ciphertext = flipped),
        ));
    }
    for (what, m) in &cases {
        let err = common::parser()
            .parse(m.headers.clone(), &m.body)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decryption, "{what}: {err}");
        assert_eq!(
            goldplan::notification::Acknowledgement::for_error(&err).status,
            400
        );
    }

    // The untouched callback under another APIv3 key.
    let m = Resource::standard().signed_callback();
    for other in [
        "goldplanTEST0apiv3key0123456789Z",
        "0123456789abcdefghijklmnopqrstuv",
    ] {
        let parser =
            NotificationParser::new(Arc::new(pubkey_verifier()), ApiV3Key::new(other).unwrap())
                .with_policy(frozen(NOW));
        let err = parser.parse(m.headers.clone(), &m.body).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Decryption,
            "APIv3 key {other}: {err}"
        );
    }
}

#[test]
fn signed_but_malformed_callbacks_are_decode_errors() {
    let r = Resource::standard();
    let valid: serde_json::Value = serde_json::from_slice(&r.callback_body()).unwrap();
    let without = |path: &[&str]| {
        let mut v = valid.clone();
        let (last, parents) = path.split_last().unwrap();
        let mut obj = &mut v;
        for p in parents {
            obj = &mut obj[*p];
        }
        obj.as_object_mut().unwrap().remove(*last).unwrap();
        v.to_string().into_bytes()
    };
    let non_utf8_plaintext = Resource {
        ciphertext: goldplan::aead::encrypt(
            &apiv3_key(),
            b"transaction",
            b"fJ3kQ9pL2xZ7",
            &[0xff, 0xfe, 0x00],
        )
        .unwrap(),
        ..Resource::standard()
    };
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"SUCCESS".to_vec()),
        ("a JSON array", b"[1,2,3]".to_vec()),
        ("truncated JSON", r.callback_body()[..100].to_vec()),
        ("no id", without(&["id"])),
        ("no resource", without(&["resource"])),
        (
            "no resource.ciphertext",
            without(&["resource", "ciphertext"]),
        ),
        ("no resource.nonce", without(&["resource", "nonce"])),
        ("no resource.algorithm", without(&["resource", "algorithm"])),
        (
            "resource that decrypts to non-UTF-8",
            non_utf8_plaintext.callback_body(),
        ),
    ];
    for (what, body) in bodies {
        let m = signed_callback(&body);
        let err = common::parser().parse(m.headers, &m.body).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{what}: {err}");
    }
    // associated_data is optional: absent means empty.
    let no_aad = goldplan::aead::encrypt(&apiv3_key(), b"", b"fJ3kQ9pL2xZ7", PLAINTEXT.as_bytes());
    let mut v = valid.clone();
    v["resource"]["ciphertext"] = no_aad.unwrap().into();
    v["resource"]
        .as_object_mut()
        .unwrap()
        .remove("associated_data");
    let m = signed_callback(v.to_string().as_bytes());
    let n = common::parser().parse(m.headers, &m.body).unwrap();
    assert_eq!(n.plaintext(), PLAINTEXT);
}

#[test]
fn oversized_callbacks_are_refused_before_verification() {
    let limit = goldplan::notification::MAX_NOTIFICATION_BODY;
    let too_big = vec![b' '; limit + 1];
    let m = signed_callback(&too_big);
    let err = common::parser().parse(m.headers, &m.body).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        goldplan::notification::Acknowledgement::for_error(&err).status,
        400
    );
    // At the limit the size is fine: the signature is checked, then the (blank) body is not
    // a notification.
    let m = signed_callback(&too_big[..limit]);
    let err = common::parser().parse(m.headers, &m.body).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
}

/// Remembers ids and counts how often it was asked.
#[derive(Debug, Default)]
struct MemoryGuard {
    seen: std::sync::Mutex<Vec<String>>,
}

impl ReplayGuard for MemoryGuard {
    fn is_duplicate(&self, id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap();
        let duplicate = seen.iter().any(|s| s == id);
        seen.push(id.to_owned());
        duplicate
    }
}

#[test]
fn replays_are_reported_and_acknowledged_as_handled() {
    let guard = Arc::new(MemoryGuard::default());
    let parser = common::parser().with_replay_guard(guard.clone());
    let m = Resource::standard().signed_callback();
    let first = parser.parse(m.headers.clone(), &m.body).unwrap();
    assert_eq!(first.plaintext(), PLAINTEXT);
    let err = parser.parse(m.headers.clone(), &m.body).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replay, "{err}");
    let ack = goldplan::notification::Acknowledgement::for_error(&err);
    assert_eq!((ack.status, ack.body.as_str()), (200, ""));

    // Forged or undecryptable callbacks never reach the guard.
    let asked = guard.seen.lock().unwrap().len();
    let forged = m.with_body(flip(&m.body, 10, 0x01));
    assert_eq!(
        parser
            .parse(forged.headers, &forged.body)
            .unwrap_err()
            .kind(),
        ErrorKind::SignatureInvalid
    );
    let undecryptable = callback_with(|r| r.nonce = "000000000000".into());
    assert_eq!(
        parser
            .parse(undecryptable.headers, &undecryptable.body)
            .unwrap_err()
            .kind(),
        ErrorKind::Decryption
    );
    assert_eq!(guard.seen.lock().unwrap().len(), asked);
}

/// 16-character pieces of a PEM body: none may show up in an error or a `Debug` string.
fn pem_fragments(pem_text: &str) -> Vec<String> {
    let body: String = pem_text.lines().filter(|l| !l.contains("-----")).collect();
    let chars: Vec<char> = body.chars().collect();
    chars.chunks_exact(16).map(|c| c.iter().collect()).collect()
}

fn assert_shows_none_of(shown: &str, secrets: &[String], what: &str) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !shown.contains(secret.as_str()),
            "{what} shows {secret:?}: {shown}"
        );
    }
}

fn ec_p256_pkcs8_pem() -> String {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    pem::encode(&pem::Pem::new("PRIVATE KEY", doc.as_ref()))
}

#[test]
fn unusable_private_keys_are_configuration_errors_that_quote_nothing() {
    let merchant = common::read("keys/merchant_test_key.pem");
    let rsa1024 = common::read("keys/rsa1024_test_key.pem");
    let encrypted = common::read("keys/merchant_test_key_encrypted.pem");
    let ec = ec_p256_pkcs8_pem();
    let mut der = pem::parse(&merchant).unwrap().into_contents();
    der[200] ^= 0x01; // inside the modulus: the key no longer matches its private exponent
    let corrupted = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not PEM", "apiclient_key".into()),
        (
            "PEM of garbage",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
        ),
        ("corrupted DER", corrupted.clone()),
        ("cut in half", merchant[..merchant.len() / 2].to_owned()),
        (
            "a blank line inside the block",
            merchant.replacen('\n', "\n\n", 3).replacen("\n\n", "\n", 1),
        ),
        (
            "a character that is not base64",
            merchant.replacen("\nMII", "\n!II", 1),
        ),
        (
            "on one line, then a blank line",
            format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n\n-----END PRIVATE KEY-----\n",
                pem_fragments(&merchant).concat()
            ),
        ),
        (
            "PKCS#8 under the PKCS#1 label",
            merchant.replace("PRIVATE KEY", "RSA PRIVATE KEY"),
        ),
        (
            "a public key",
            common::read("keys/merchant_test_pubkey.pem"),
        ),
        ("a certificate", common::read("keys/merchant_test_cert.pem")),
        ("EC P-256", ec.clone()),
        ("RSA-1024", rsa1024.clone()),
        ("encrypted PKCS#8", encrypted.clone()),
    ];
    let secrets: Vec<String> = [&merchant, &corrupted, &rsa1024, &encrypted, &ec]
        .iter()
        .flat_map(|p| pem_fragments(p))
        .collect();
    for (what, text) in &cases {
        let err = PrivateKey::from_pem(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{what}: {err}");
        assert_shows_none_of(&format!("{err} {err:?}"), &secrets, what);
    }
    let err = PrivateKey::from_pem(&encrypted).unwrap_err();
    assert!(err.to_string().contains("encrypted"), "{err}");
    // The DER entry points refuse the same keys.
    let ec_der = pem::parse(&ec).unwrap().into_contents();
    let rsa1024_der = pem::parse(&rsa1024).unwrap().into_contents();
    for der in [&ec_der, &rsa1024_der] {
        assert_eq!(
            PrivateKey::from_pkcs8_der(der).unwrap_err().kind(),
            ErrorKind::Configuration
        );
        assert_eq!(
            PrivateKey::from_pkcs1_der(der).unwrap_err().kind(),
            ErrorKind::Configuration
        );
    }
    // A WeChat Pay public key must be RSA too.
    let ec_spki = {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &ec_der).unwrap();
        pair.public_key().as_der().unwrap().as_ref().to_vec()
    };
    let err = goldplan::verify::PublicKeyVerifier::from_der(PUBKEY_ID, &ec_spki).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
}

#[test]
fn bad_apiv3_keys_ciphertexts_and_nonces_are_typed_errors_that_quote_nothing() {
    let mut secrets = vec![common::APIV3_KEY.to_owned(), PLAINTEXT.to_owned()];
    for bad in [
        &common::APIV3_KEY[..31],
        &format!("{}0", common::APIV3_KEY),
        &format!("{}é", &common::APIV3_KEY[..31]), // 32 characters, 33 bytes
        "",
    ] {
        secrets.push(bad.to_owned());
        let err = ApiV3Key::new(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{} bytes", bad.len());
        assert_shows_none_of(&format!("{err} {err:?}"), &secrets, "APIv3 key");
    }

    let apiv3 = apiv3_key();
    let r = Resource::standard();
    let mut errors = Vec::new();
    for nonce in [
        "",
        "fJ3kQ9pL2xZ",
        "fJ3kQ9pL2xZ77",
        "fJ3kQ9pL2xZ7fJ3kQ9pL2xZ7",
    ] {
        let err = goldplan::aead::decrypt(&apiv3, b"transaction", nonce.as_bytes(), &r.ciphertext)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decryption, "nonce {nonce:?}");
        errors.push(err);
        let err = goldplan::aead::encrypt(&apiv3, b"", nonce.as_bytes(), b"x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Encryption, "nonce {nonce:?}");
        errors.push(err);
    }
    for not_base64 in ["not base64!", "AAAA=AAAA", &r.ciphertext.replace('=', "")] {
        if not_base64 == r.ciphertext {
            continue;
        }
        let err = goldplan::aead::decrypt(&apiv3, b"transaction", b"fJ3kQ9pL2xZ7", not_base64)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decryption, "{not_base64}");
        errors.push(err);
    }
    let other = ApiV3Key::new("0123456789abcdefghijklmnopqrstuv").unwrap();
    let err = goldplan::aead::decrypt(&other, b"transaction", b"fJ3kQ9pL2xZ7", &r.ciphertext)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decryption);
    errors.push(err);
    let merchant = key("merchant_test_key.pem");
    let err = goldplan::sensitive::decrypt(&merchant, "not base64!").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decryption);
    errors.push(err);
    secrets.push("0123456789abcdefghijklmnopqrstuv".into());
    for err in &errors {
        assert_shows_none_of(&format!("{err} {err:?}"), &secrets, "crypto error");
    }
}

#[test]
fn decode_errors_do_not_quote_the_decrypted_resource() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Amount {
        total: u64,
        payer_total: u64,
    }
    for plaintext in [
        r#"{"total":"SECRET-AMOUNT-4242","payer_total":1}"#,
        r#"{"total":1,"payer_total":1,"x":"SECRET-AMOUNT-4242"#,
        r#"{"total":1,"SECRET-AMOUNT-4242":1}"#,
    ] {
        let m = common::resource(&apiv3_key(), "transaction", "fJ3kQ9pL2xZ7", plaintext)
            .signed_callback();
        let notification = common::parser().parse(m.headers, &m.body).unwrap();
        let err = notification.decode::<Amount>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET-AMOUNT"), "{shown}");
        assert!(shown.contains("TRANSACTION.SUCCESS"), "{shown}");
    }
}

#[test]
fn debug_output_never_shows_secrets_or_plaintext() {
    use goldplan::credentials::MerchantCredentials;
    use goldplan::sign::RsaSigner;
    let pem_text = common::read("keys/merchant_test_key.pem");
    let mut secrets = pem_fragments(&pem_text);
    secrets
        .extend([common::APIV3_KEY, PLAINTEXT, "ORDER20240101", "trade_state"].map(String::from));
    let credentials = MerchantCredentials::with_certificate(
        common::MCHID,
        common::MERCHANT_SERIAL,
        PrivateKey::from_pem(&pem_text).unwrap(),
        &common::read("keys/merchant_test_cert.pem"),
    )
    .unwrap();
    let parser = common::parser();
    let m = Resource::standard().signed_callback();
    let notification = parser.parse(m.headers, &m.body).unwrap();
    assert_eq!(notification.plaintext(), PLAINTEXT);

    let private_key = PrivateKey::from_pem(&pem_text).unwrap();
    let apiv3 = apiv3_key();
    let signer = RsaSigner::new(credentials.clone());
    let shown: [(&str, String, &str); 6] = [
        ("PrivateKey", format!("{private_key:?}"), "RSA-2048"),
        ("ApiV3Key", format!("{apiv3:?}"), "redacted"),
        (
            "MerchantCredentials",
            format!("{credentials:#?}"),
            common::MCHID,
        ),
        ("RsaSigner", format!("{signer:#?}"), common::MERCHANT_SERIAL),
        ("NotificationParser", format!("{parser:#?}"), PUBKEY_ID),
        (
            "Notification",
            format!("{notification:#?}"),
            "EV-2026060100000000000001",
        ),
    ];
    for (what, text, useful) in &shown {
        assert_shows_none_of(text, &secrets, what);
        assert!(
            text.contains(useful),
            "{what} should still show {useful}: {text}"
        );
    }
}
