//! Key and certificate parsing from PEM and DER: the merchant private key (PKCS#8 / PKCS#1),
//! the WeChat Pay public key, X.509 certificates, certificate bundles and serial numbers.
//!
//! Invariants besides "no panic": a parsed private key is RSA 2048..=8192 bits and signs; a
//! parsed public key refuses a signature it did not make; a parsed certificate's serial parses
//! back to itself and finds it in a set; and a private-key error never quotes the input (the
//! key's base64 must not reach a log through an error message).
#![no_main]

use std::sync::Arc;

use goldplan::credentials::PrivateKey;
use goldplan::verify::{PublicKeyVerifier, Verifier};
use goldplan::x509::{Certificate, CertificateSet, SerialNumber};
use libfuzzer_sys::fuzz_target;

/// Byte 0 picks the parser; the rest is its text or DER (seeds: tests/vectors/keys). A
/// `PemBlock` input is `label\nDER`.
#[derive(Debug)]
enum Input {
    PrivatePem(String),
    Pkcs8Der(Vec<u8>),
    Pkcs1Der(Vec<u8>),
    /// A PEM block with this label around this DER: reaches the DER parsers through PEM.
    PemBlock {
        label: String,
        der: Vec<u8>,
    },
    PublicPem(String),
    PublicDer(Vec<u8>),
    CertificatePem(String),
    CertificateDer(Vec<u8>),
    Bundle(String),
    Serial(String),
}

fn input(data: &[u8]) -> Option<Input> {
    let (&mode, rest) = data.split_first()?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    let bytes = rest.to_vec();
    Some(match mode % 10 {
        0 => Input::PrivatePem(text()),
        1 => Input::Pkcs8Der(bytes),
        2 => Input::Pkcs1Der(bytes),
        3 => {
            let i = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let label = String::from_utf8_lossy(&rest[..i]).into_owned();
            Input::PemBlock {
                label,
                der: rest.get(i + 1..).unwrap_or_default().to_vec(),
            }
        }
        4 => Input::PublicPem(text()),
        5 => Input::PublicDer(bytes),
        6 => Input::CertificatePem(text()),
        7 => Input::CertificateDer(bytes),
        8 => Input::Bundle(text()),
        _ => Input::Serial(text()),
    })
}

fuzz_target!(|data: &[u8]| {
    if let Some(input) = input(data) {
        run(input);
    }
});

fn run(input: Input) {
    match input {
        Input::PrivatePem(text) => private(&text, PrivateKey::from_pem(&text)),
        Input::Pkcs8Der(der) => private("", PrivateKey::from_pkcs8_der(&der)),
        Input::Pkcs1Der(der) => private("", PrivateKey::from_pkcs1_der(&der)),
        Input::PemBlock { label, der } => {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
            let text = format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n");
            private(&text, PrivateKey::from_pem(&text));
            public(PublicKeyVerifier::from_pem("PUB_KEY_ID_01", &text));
            certificate(Certificate::from_pem(&text));
        }
        Input::PublicPem(text) => public(PublicKeyVerifier::from_pem("PUB_KEY_ID_01", &text)),
        Input::PublicDer(der) => public(PublicKeyVerifier::from_der("PUB_KEY_ID_01", &der)),
        Input::CertificatePem(text) => certificate(Certificate::from_pem(&text)),
        Input::CertificateDer(der) => {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
            certificate(Certificate::from_pem(&format!(
                "-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n"
            )));
        }
        Input::Bundle(text) => {
            if let Ok(set) = CertificateSet::from_pem_bundle(&text) {
                assert!(!set.is_empty());
                for c in set.iter() {
                    assert!(set.get(c.serial_hex()).is_some());
                }
            }
        }
        Input::Serial(text) => {
            if let Ok(s) = SerialNumber::parse(&text) {
                // Canonical form: upper-case hex, no leading zero, and it matches its source.
                assert!(s.matches(&text) && s.matches(s.as_str()));
                assert_eq!(SerialNumber::parse(s.as_str()).ok(), Some(s.clone()));
                assert!(s.as_str() == "0" || !s.as_str().starts_with('0'));
                assert!(
                    s.as_str()
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                );
            }
        }
    }
}

fn private(text: &str, parsed: goldplan::Result<PrivateKey>) {
    match parsed {
        Ok(key) => {
            assert!(
                (2048..=8192).contains(&key.bits()),
                "{} bits accepted",
                key.bits()
            );
            assert!(key.sign_sha256(b"m").is_ok());
        }
        Err(e) => {
            // No 16-character run of a base64 line of the input may appear in the message.
            let shown = e.to_string();
            for line in text.lines().filter(|l| !l.starts_with("-----")) {
                let chars: Vec<char> = line.trim().chars().collect();
                for w in chars.windows(16) {
                    let w: String = w.iter().collect();
                    let base64ish = w
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
                    assert!(
                        !base64ish || !shown.contains(&w),
                        "error quotes the key: {shown}"
                    );
                }
            }
        }
    }
}

fn public(parsed: goldplan::Result<PublicKeyVerifier>) {
    if let Ok(key) = parsed {
        assert!(key.verify(key.key_id(), b"message", &[0u8; 256]).is_err());
        assert!(
            key.verify("PUB_KEY_ID_02", b"message", &[0u8; 256])
                .is_err()
        );
    }
}

fn certificate(parsed: goldplan::Result<Certificate>) {
    if let Ok(c) = parsed {
        assert!(c.serial().matches(c.serial_hex()));
        let _ = c.info();
        let again =
            Certificate::from_pem(c.pem()).expect("a parsed certificate's PEM parses again");
        assert_eq!(again.serial(), c.serial());
        let set = CertificateSet::new([Arc::new(again)]);
        assert!(set.get(c.serial_hex()).is_some());
    }
}
