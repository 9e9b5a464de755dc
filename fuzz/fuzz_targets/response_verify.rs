//! `verify_signed` over a response's headers and raw body (spec §2), with fixed keys.
//!
//! Raw bytes would never carry a valid signature, so the input is a list of edits applied to a
//! GENUINE signed response from the committed vectors (N2 of notification.json, signed with the
//! WeChat Pay public key; the certificates.json response, signed with platform certificate #1).
//! Invariant: verification succeeds only when every signed part (timestamp, nonce, signature,
//! serial, body) is the genuine one and the clock is inside the 300 s window.
#![no_main]

mod common;

use std::sync::{Arc, LazyLock};

use arbitrary::Arbitrary;
use common::{Edit, Message, apply, json, signed_parts};
use goldplan::clock::ManualClock;
use goldplan::verify::{
    CertificateVerifier, CombinedVerifier, MaxSkew, PublicKeyVerifier, VerificationPolicy,
    WechatpayHeaders, verify_signed,
};
use goldplan::x509::{Certificate, CertificateSet};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    verifier: CombinedVerifier,
    genuine: [Message; 2],
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let n = json(common::NOTIFICATION_JSON);
    let key = PublicKeyVerifier::from_pem(
        n["public_key_id"].as_str().unwrap(),
        n["public_key_pem"].as_str().unwrap(),
    )
    .unwrap();
    let platform = Certificate::from_pem(common::PLATFORM_CERT).unwrap();
    let certificates = CertificateVerifier::new(CertificateSet::new([Arc::new(platform)]));
    let n2 = n["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "N2")
        .unwrap();
    let c = json(common::CERTIFICATES_JSON);
    Fixture {
        verifier: CombinedVerifier::new(Arc::new(key), Arc::new(certificates)),
        genuine: [
            Message::from_case(n2, n2["now"].as_i64().unwrap()),
            Message::from_case(&c["response"], c["now"].as_i64().unwrap()),
        ],
    }
});

#[derive(Arbitrary, Debug)]
struct Input {
    which: bool,
    edits: Vec<Edit>,
}

fuzz_target!(|input: Input| {
    let f = &*FIXTURE;
    let genuine = &f.genuine[usize::from(input.which)];
    let mut m = genuine.clone();
    apply(&mut m, &input.edits);
    let Ok(headers) = WechatpayHeaders::from_pairs(m.headers.iter().map(|(k, v)| (k, v))) else {
        return;
    };
    let policy = VerificationPolicy::new(MaxSkew::DEFAULT, Arc::new(ManualClock::new(m.now)));
    let result = verify_signed(&f.verifier, &policy, &headers, &m.body);
    if let Ok(verified) = result {
        assert_eq!(
            signed_parts(&m),
            signed_parts(genuine),
            "a mutated response verified as genuine"
        );
        assert!(
            (m.now - genuine.now).abs() < 300,
            "accepted outside the skew window"
        );
        assert_eq!(Some(&verified.serial), headers.serial.as_ref());
    }
});
