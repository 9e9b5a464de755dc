//! Callback parsing: `NotificationParser::parse` = header check + signature + envelope JSON +
//! AES-256-GCM decryption (spec §4.2), with the WeChat Pay test public key and APIv3 key.
//!
//! Two modes, because a random body never carries a valid signature:
//! * `Tamper`: edits applied to the genuine callback N1 (notification.json). Invariant: it only
//!   parses when every signed part is untouched, and then yields exactly N1's plaintext.
//! * `Signed`: an envelope the fuzzer shapes, which the harness encrypts (or not) and SIGNS with
//!   the test key, so parsing gets past the signature and the fuzzer reaches the envelope parser
//!   and the AEAD path. Invariant: plaintext only when the AEAD tag checks, i.e. exactly the
//!   bytes the harness encrypted, under the untouched nonce / associated data / ciphertext.
#![no_main]

mod common;

use std::sync::{Arc, LazyLock};

use arbitrary::Arbitrary;
use common::{Edit, Message, apply, json, signed_parts};
use goldplan::aead;
use goldplan::clock::ManualClock;
use goldplan::credentials::{ApiV3Key, PrivateKey};
use goldplan::notification::NotificationParser;
use goldplan::verify::{MaxSkew, PublicKeyVerifier, VerificationPolicy, message_to_verify};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

struct Fixture {
    parser: NotificationParser,
    key_id: String,
    apiv3_key: ApiV3Key,
    signing_key: PrivateKey,
    genuine: Message,
    plaintext: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let n = json(common::NOTIFICATION_JSON);
    let key_id = n["public_key_id"].as_str().unwrap().to_owned();
    let verifier = PublicKeyVerifier::from_pem(&key_id, n["public_key_pem"].as_str().unwrap());
    let apiv3_key = ApiV3Key::new(n["apiv3_key"].as_str().unwrap()).unwrap();
    let n1 = n["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "N1")
        .unwrap();
    let policy = VerificationPolicy::new(MaxSkew::DEFAULT, Arc::new(ManualClock::new(NOW)));
    Fixture {
        parser: NotificationParser::new(Arc::new(verifier.unwrap()), apiv3_key.clone())
            .with_policy(policy),
        key_id,
        apiv3_key,
        signing_key: PrivateKey::from_pem(common::WECHATPAY_KEY).unwrap(),
        genuine: Message::from_case(n1, NOW),
        plaintext: n1["expect"]["plaintext"].as_str().unwrap().to_owned(),
    }
});

#[derive(Arbitrary, Debug)]
enum Input {
    Tamper(Vec<Edit>),
    Signed(Envelope),
}

#[derive(Arbitrary, Debug)]
struct Envelope {
    id: String,
    event_type: String,
    algorithm: Option<String>,
    nonce: String,
    associated_data: Option<String>,
    plaintext: Vec<u8>,
    /// When set, the ciphertext is this text instead of a real encryption.
    raw_ciphertext: Option<String>,
    /// Flips one bit of the real ciphertext (after encryption, before base64).
    flip: Option<(u16, u8)>,
    /// Appended to the body after the JSON (trailing garbage).
    trailer: String,
    /// Headers of the signed callback other than the four required ones.
    extra_headers: Vec<(String, String)>,
}

fuzz_target!(|input: Input| {
    let f = &*FIXTURE;
    match input {
        Input::Tamper(edits) => {
            let mut m = f.genuine.clone();
            apply(&mut m, &edits);
            let parser = f.parser.clone().with_policy(VerificationPolicy::new(
                MaxSkew::DEFAULT,
                Arc::new(ManualClock::new(m.now)),
            ));
            if let Ok(n) = parser.parse(m.headers.iter().map(|(k, v)| (k, v)), &m.body) {
                assert_eq!(
                    signed_parts(&m),
                    signed_parts(&f.genuine),
                    "tampered callback parsed"
                );
                assert_eq!(n.plaintext(), f.plaintext);
            }
        }
        Input::Signed(e) => signed(f, e),
    }
});

fn signed(f: &Fixture, e: Envelope) {
    let algorithm = e
        .algorithm
        .unwrap_or_else(|| aead::AEAD_AES_256_GCM.to_owned());
    let ad = e.associated_data.clone().unwrap_or_default();
    // What a genuine sender (holding the APIv3 key) would produce for this plaintext.
    let sealed = aead::encrypt(
        &f.apiv3_key,
        ad.as_bytes(),
        e.nonce.as_bytes(),
        &e.plaintext,
    );
    let mut authentic = e.raw_ciphertext.is_none() && e.flip.is_none();
    let ciphertext = match (&e.raw_ciphertext, &sealed) {
        (Some(raw), _) => raw.clone(),
        (None, Ok(ct)) => match e.flip {
            Some((at, xor)) => {
                use base64::Engine;
                let engine = base64::engine::general_purpose::STANDARD;
                let mut raw = engine.decode(ct).unwrap();
                let i = at as usize % raw.len();
                raw[i] ^= xor;
                authentic |= xor == 0;
                engine.encode(raw)
            }
            None => ct.clone(),
        },
        (None, Err(_)) => return, // nonce not 12 bytes: nothing a genuine sender could send
    };
    let mut resource = serde_json::json!({
        "algorithm": algorithm, "ciphertext": ciphertext, "nonce": e.nonce,
    });
    if let Some(ad) = &e.associated_data {
        resource["associated_data"] = ad.clone().into();
    }
    let body = serde_json::json!({
        "id": e.id, "create_time": "2024-01-01T12:00:00+08:00", "event_type": e.event_type,
        "resource_type": "encrypt-resource", "resource": resource,
    });
    let mut body = body.to_string().into_bytes();
    body.extend_from_slice(e.trailer.as_bytes());
    let (ts, nonce) = (NOW.to_string(), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
    let signature =
        goldplan::sign::sign_base64(&f.signing_key, &message_to_verify(&ts, nonce, &body)).unwrap();
    let mut headers = vec![
        ("Wechatpay-Timestamp".to_owned(), ts),
        ("Wechatpay-Nonce".to_owned(), nonce.to_owned()),
        ("Wechatpay-Serial".to_owned(), f.key_id.clone()),
        ("Wechatpay-Signature".to_owned(), signature),
    ];
    headers.extend(e.extra_headers);
    if let Ok(n) = f.parser.parse(headers, &body) {
        assert!(authentic, "a resource whose tag cannot check was decrypted");
        assert_eq!(algorithm, aead::AEAD_AES_256_GCM);
        assert_eq!(
            n.plaintext().as_bytes(),
            &e.plaintext[..],
            "plaintext differs"
        );
        assert_eq!(n.id, e.id);
    }
}
