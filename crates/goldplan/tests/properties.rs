//! Properties that must hold for every input, not just the vectors: signing round trips, any
//! flipped bit breaks a signature or an AEAD tag, nonce shape and uniformity, serial and
//! `check_code` comparison rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{NONCE, NOW, PLATFORM_SERIAL, Signed, apiv3_key, certificate_verifier, frozen, key};
use goldplan::ErrorKind;
use goldplan::aead;
use goldplan::clock::ManualClock;
use goldplan::credentials::MerchantCredentials;
use goldplan::receipt::{expected_check_code, verify_check_code};
use goldplan::sign::{
    Authorization, NONCE_LEN, RsaSigner, generate_nonce, message_to_sign, nonce_from,
    sign_request_blocking,
};
use goldplan::verify::{CertificateVerifier, PublicKeyVerifier, Verifier, verify_signed};
use goldplan::x509::SerialNumber;
use proptest::prelude::*;
use proptest::sample::Index;

const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn signer() -> &'static RsaSigner {
    static SIGNER: OnceLock<RsaSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let credentials = MerchantCredentials::new(
            common::MCHID,
            common::MERCHANT_SERIAL,
            key("merchant_test_key.pem"),
        )
        .unwrap();
        RsaSigner::new(credentials)
    })
}

/// The merchant's public key, as WeChat Pay holds it to check request signatures.
fn merchant_public_key() -> &'static PublicKeyVerifier {
    static KEY: OnceLock<PublicKeyVerifier> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem_text = common::read("keys/merchant_test_pubkey.pem");
        PublicKeyVerifier::from_pem("PUB_KEY_ID_MERCHANT", &pem_text).unwrap()
    })
}

fn platform() -> &'static (goldplan::credentials::PrivateKey, CertificateVerifier) {
    static PLATFORM: OnceLock<(goldplan::credentials::PrivateKey, CertificateVerifier)> =
        OnceLock::new();
    PLATFORM.get_or_init(|| (key("platform_test_key.pem"), certificate_verifier()))
}

/// A request-target that HTTP libraries send unchanged: path segments of RFC 3986 path
/// characters and `%XX` escapes (no `.`/`..` segment), then an optional query (a bare trailing
/// `?` included).
fn request_target() -> impl Strategy<Value = String> {
    "(/([A-Za-z0-9_~-]([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}){0,12})?){1,4}(\\?([A-Za-z0-9._~!$&()*+,;=:@/?-]|%[0-9A-F]{2}){0,40})?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Targets a URL parser would rewrite are refused, never signed in one form and sent in
    /// another.
    #[test]
    fn rewritten_targets_are_refused(
        prefix in "/[a-z]{0,5}",
        bad in prop::sample::select(vec!["\"", "<", ">", "{", "}", "`", "\\", " ", "/../", "/./", "%zz", "%g"]),
        suffix in "[a-z]{0,5}",
    ) {
        let target = format!("{prefix}{bad}{suffix}");
        prop_assert!(goldplan::sign::canonical_url(&target).is_err(), "{}", target);
    }
}

/// A fill source that repeats `bytes` forever.
fn cycling(bytes: Vec<u8>) -> impl FnMut(&mut [u8]) -> goldplan::Result<()> {
    let mut i = 0;
    move |buf: &mut [u8]| {
        for b in buf {
            *b = bytes[i % bytes.len()];
            i += 1;
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn signed_requests_verify_with_the_merchant_public_key(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        target in request_target(),
        method in prop::sample::select(vec!["GET", "post", "PUT", "Patch", "DELETE"]),
    ) {
        let signed =
            sign_request_blocking(signer(), &ManualClock::new(NOW), method, &target, &body)
                .unwrap();
        let auth = &signed.authorization;
        prop_assert_eq!(&signed.method, &method.to_ascii_uppercase());
        prop_assert_eq!(&signed.canonical_url, target.strip_suffix('?').unwrap_or(&target));
        prop_assert_eq!(auth.timestamp, NOW);
        let message =
            message_to_sign(&signed.method, &signed.canonical_url, NOW, &auth.nonce_str, &body).unwrap();
        let signature = STANDARD.decode(&auth.signature).unwrap();
        merchant_public_key().verify("PUB_KEY_ID_MERCHANT", &message, &signature).unwrap();
        // What a server parses back from the header is what was signed.
        prop_assert_eq!(&Authorization::parse(&auth.header_value().unwrap()).unwrap(), auth);
    }

    /// Whatever the fields hold, a header the client agrees to write is one a server reads
    /// back field for field (a value that cannot travel in it is refused instead).
    #[test]
    fn any_authorization_header_written_parses_back_to_its_fields(
        mchid in "[0-9a-z,=\" \t]{0,12}",
        nonce_str in "[0-9A-Z,=\" ]{0,12}",
        timestamp in any::<i64>(),
        serial_no in "[0-9A-F,=\" ]{0,12}",
        signature in "[A-Za-z0-9+/=, \"]{0,24}",
    ) {
        let auth = Authorization { mchid, nonce_str, timestamp, serial_no, signature };
        if let Ok(header) = auth.header_value() {
            prop_assert_eq!(Authorization::parse(&header).unwrap(), auth);
        }
    }

    #[test]
    fn any_single_bit_flip_of_a_response_body_is_rejected(
        body in prop::collection::vec(any::<u8>(), 1..1024),
        bit in any::<Index>(),
    ) {
        let (platform_key, verifier) = platform();
        let m = Signed::new(platform_key, PLATFORM_SERIAL, &NOW.to_string(), NONCE, &body);
        let headers = m.wechatpay_headers().unwrap();
        verify_signed(verifier, &frozen(NOW), &headers, &body).unwrap();
        let bit = bit.index(body.len() * 8);
        let mut flipped = body.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let err = verify_signed(verifier, &frozen(NOW), &headers, &flipped).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::SignatureInvalid);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aead_round_trips_and_any_flipped_ciphertext_byte_fails(
        plaintext in prop::collection::vec(any::<u8>(), 0..4096),
        associated_data in prop::collection::vec(any::<u8>(), 0..64),
        nonce in prop::array::uniform12(any::<u8>()),
        position in any::<Index>(),
        mask in 1..=255u8,
    ) {
        let key = apiv3_key();
        let sealed = aead::encrypt(&key, &associated_data, &nonce, &plaintext).unwrap();
        let opened = aead::decrypt(&key, &associated_data, &nonce, &sealed).unwrap();
        prop_assert_eq!(&opened[..], &plaintext[..]);

        let mut raw = STANDARD.decode(&sealed).unwrap();
        prop_assert_eq!(raw.len(), plaintext.len() + aead::TAG_LEN);
        let i = position.index(raw.len());
        raw[i] ^= mask;
        let err = aead::decrypt(&key, &associated_data, &nonce, &STANDARD.encode(&raw))
            .unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::Decryption);
        let other_aad = [associated_data.as_slice(), b"x"].concat();
        let err = aead::decrypt(&key, &other_aad, &nonce, &sealed).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::Decryption);
    }

    #[test]
    fn nonces_are_32_characters_of_the_alphabet_whatever_the_random_source(
        bytes in prop::collection::vec(any::<u8>(), 1..300),
    ) {
        match nonce_from(cycling(bytes.clone())) {
            Ok(nonce) => {
                prop_assert_eq!(nonce.len(), NONCE_LEN);
                prop_assert!(nonce.chars().all(|c| ALPHABET.contains(c)), "{}", nonce);
                // The same source gives the same nonce: nothing else feeds it.
                prop_assert_eq!(nonce_from(cycling(bytes.clone())).unwrap(), nonce);
            }
            // Only a source that never yields an unbiased byte may fail.
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Signing);
                prop_assert!(bytes.iter().all(|&b| b >= 248), "{:?}", bytes);
            }
        }
    }

    #[test]
    fn serials_compare_by_value_ignoring_leading_zeros_and_case(
        hex in "[0-9A-Fa-f]{1,40}",
        zeros in 0usize..6,
        digit in any::<Index>(),
        delta in 1u32..16,
    ) {
        let serial = SerialNumber::parse(&hex).unwrap();
        for rendering in [
            format!("{}{hex}", "0".repeat(zeros)),
            hex.to_ascii_uppercase(),
            hex.to_ascii_lowercase(),
        ] {
            prop_assert_eq!(&SerialNumber::parse(&rendering).unwrap(), &serial);
            prop_assert!(serial.matches(&rendering));
        }
        // Changing the value of any one digit gives another serial.
        let i = digit.index(hex.len());
        let old = hex.as_bytes()[i] as char;
        let new = char::from_digit((old.to_digit(16).unwrap() + delta) % 16, 16).unwrap();
        let other = format!("{}{new}{}", &hex[..i], &hex[i + 1..]);
        prop_assert!(!serial.matches(&other), "{} vs {}", hex, other);
    }

    #[test]
    fn check_codes_match_in_either_case_and_nothing_else(
        link in "https://[a-z]{1,12}\\.example\\.com(/[a-z]{0,8})?",
        sub_mch_id in "[0-9]{1,10}",
        out_trade_no in "[A-Za-z0-9_|*-]{1,32}",
        transaction_id in "42[0-9]{26}",
        other in "[0-9a-fA-F]{32}",
        case_mask in any::<u32>(),
    ) {
        let expected = expected_check_code(&link, &sub_mch_id, &out_trade_no, &transaction_id);
        let verify = |code: &str| {
            verify_check_code(&link, &sub_mch_id, &out_trade_no, &transaction_id, code)
        };
        let mixed: String = expected
            .chars()
            .enumerate()
            .map(|(i, c)| if case_mask >> i & 1 == 1 { c.to_ascii_uppercase() } else { c })
            .collect();
        for code in [expected.clone(), expected.to_ascii_uppercase(), mixed] {
            prop_assert!(verify(&code), "{}", code);
        }
        prop_assume!(!other.eq_ignore_ascii_case(&expected));
        prop_assert!(!verify(&other));
        // The check code of another order does not pass either.
        let next_order = format!("{out_trade_no}0");
        prop_assert!(!verify(&expected_check_code(
            &link,
            &sub_mch_id,
            &next_order,
            &transaction_id
        )));
    }
}

#[test]
fn generated_nonces_are_well_formed_and_distinct() {
    let nonces: std::collections::BTreeSet<String> =
        (0..256).map(|_| generate_nonce().unwrap()).collect();
    assert_eq!(nonces.len(), 256);
    for n in &nonces {
        assert_eq!(n.len(), NONCE_LEN);
        assert!(n.chars().all(|c| ALPHABET.contains(c)), "{n}");
    }
}

/// SplitMix64: a fixed-seed stand-in for the OS random generator, so the statistic below is
/// the same on every run.
fn splitmix64(seed: u64) -> impl FnMut(&mut [u8]) -> goldplan::Result<()> {
    let mut state = seed;
    move |buf: &mut [u8]| {
        for chunk in buf.chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// Pearson's chi-square statistic of character counts against the uniform distribution.
fn chi_square(text: impl Iterator<Item = char>) -> f64 {
    let mut counts = [0u64; 62];
    let mut total = 0u64;
    for c in text {
        counts[ALPHABET.find(c).unwrap()] += 1;
        total += 1;
    }
    let expected = total as f64 / 62.0;
    counts
        .iter()
        .map(|&n| (n as f64 - expected).powi(2) / expected)
        .sum()
}

#[test]
fn nonce_characters_are_not_grossly_biased() {
    // 61 degrees of freedom: the statistic averages 61 with a standard deviation of 11 for a
    // uniform generator, so 130 is more than six deviations away (this sample scores 57). A
    // plain `byte % 62` (the wechatpay-go mapping, no rejection) makes the first 8 characters
    // 25 % likelier and scores about 1030 on the same random bytes.
    const BOUND: f64 = 130.0;
    let draws = 4096;
    let mut fill = splitmix64(0x676f_6c64_706c_616e);
    let sampled: String = (0..draws).map(|_| nonce_from(&mut fill).unwrap()).collect();
    let ours = chi_square(sampled.chars());
    assert!(ours < BOUND, "chi-square {ours:.1} over {draws} nonces");

    // The same random bytes mapped without rejection sampling fail the bound: the check has
    // the power to see the bias it guards against.
    let mut fill = splitmix64(0x676f_6c64_706c_616e);
    let mut raw = vec![0u8; draws * NONCE_LEN];
    fill(&mut raw).unwrap();
    let naive = raw
        .iter()
        .map(|b| ALPHABET.as_bytes()[usize::from(b % 62)] as char);
    let biased = chi_square(naive);
    assert!(biased > BOUND, "modulo mapping scored only {biased:.1}");
}
