//! The `/v3/certificates` body: JSON, per-entry AES-256-GCM decryption under the APIv3 key,
//! certificate parsing, serial and validity checks (`parse_certificates_response`, spec §3.3).
//!
//! * `Raw`: the body as bytes (seeded with the committed download). Nobody without the APIv3
//!   key can make a ciphertext whose tag checks, so every certificate returned must be one the
//!   vectors encrypted: one of the known test certificates.
//! * `Entries`: entries the fuzzer shapes and the harness encrypts with the fixed key, then
//!   optionally tampers with. Invariant: a certificate is only returned when its AEAD tag
//!   checks (any tampered entry aborts the whole download), and each one returned is the
//!   certificate that was encrypted for it, under the serial it was listed with.
#![no_main]

mod common;

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use goldplan::aead;
use goldplan::certificates::parse_certificates_response;
use goldplan::credentials::ApiV3Key;
use goldplan::x509::{Certificate, SerialNumber};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    key: ApiV3Key,
    now: i64,
    certs: Vec<(String, String)>, // (PEM, serial hex)
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let c = common::json(common::CERTIFICATES_JSON);
    let certs = [
        common::PLATFORM_CERT,
        common::PLATFORM2_CERT,
        common::EXPIRED_CERT,
        common::MERCHANT_CERT,
    ]
    .iter()
    .map(|pem| {
        let serial = Certificate::from_pem(pem).unwrap().serial_hex().to_owned();
        ((*pem).to_owned(), serial)
    })
    .collect();
    Fixture {
        key: ApiV3Key::new(c["apiv3_key"].as_str().unwrap()).unwrap(),
        now: c["now"].as_i64().unwrap(),
        certs,
    }
});

#[derive(Arbitrary, Debug)]
enum Input {
    Raw { body: Vec<u8>, now_delta: i32 },
    Entries { entries: Vec<Entry>, now_delta: i32 },
}

#[derive(Arbitrary, Debug)]
struct Entry {
    /// Which test certificate to encrypt; past the last one, `other` is encrypted instead.
    cert: u8,
    other: String,
    /// The listed serial: the certificate's own when `None`.
    serial_no: Option<String>,
    nonce: String,
    associated_data: Option<String>,
    /// Tampering after encryption: flip a ciphertext bit / replace the ciphertext.
    flip: Option<(u16, u8)>,
    raw_ciphertext: Option<String>,
}

// Byte 0 even: the rest is a raw body (seeds: certificates.json's responses). Odd: a
// structured `Input`.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = if mode % 2 == 0 {
        Input::Raw {
            body: rest.to_vec(),
            now_delta: 0,
        }
    } else {
        match Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
            Ok(i) => i,
            Err(_) => return,
        }
    };
    let f = &*FIXTURE;
    match input {
        Input::Raw { body, now_delta } => {
            let now = f.now + i64::from(now_delta);
            if let Ok(d) = parse_certificates_response(&body, &f.key, now) {
                for c in d.certificates.iter() {
                    assert!(
                        f.certs.iter().any(|(_, s)| s == c.serial_hex()),
                        "a certificate no key holder encrypted was returned"
                    );
                    assert!(c.is_valid_at(now, 300));
                }
            }
        }
        Input::Entries { entries, now_delta } => entries_case(f, entries, now_delta),
    }
});

fn entries_case(f: &Fixture, entries: Vec<Entry>, now_delta: i32) {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let now = f.now + i64::from(now_delta);
    let mut data = Vec::new();
    let mut all_authentic = true;
    // (listed serial, plaintext) of each entry, in order.
    let mut expected = Vec::new();
    for e in &entries {
        let plaintext = match f.certs.get(e.cert as usize) {
            Some((pem, _)) => pem.clone(),
            None => e.other.clone(),
        };
        let listed = e.serial_no.clone().unwrap_or_else(|| {
            f.certs
                .get(e.cert as usize)
                .map(|(_, s)| s.clone())
                .unwrap_or_default()
        });
        let ad = e.associated_data.clone().unwrap_or_default();
        let Ok(mut ciphertext) = aead::encrypt(
            &f.key,
            ad.as_bytes(),
            e.nonce.as_bytes(),
            plaintext.as_bytes(),
        ) else {
            return; // a nonce that is not 12 bytes: no genuine sender makes one
        };
        if let Some((at, xor)) = e.flip {
            let mut raw = engine.decode(&ciphertext).unwrap();
            let i = at as usize % raw.len();
            raw[i] ^= xor;
            all_authentic &= xor == 0;
            ciphertext = engine.encode(raw);
        }
        if let Some(raw) = &e.raw_ciphertext {
            all_authentic = false;
            ciphertext = raw.clone();
        }
        let mut enc = serde_json::json!({
            "algorithm": aead::AEAD_AES_256_GCM, "nonce": e.nonce, "ciphertext": ciphertext,
        });
        if let Some(ad) = &e.associated_data {
            enc["associated_data"] = ad.clone().into();
        }
        data.push(serde_json::json!({
            "serial_no": listed, "effective_time": "2024-01-01T08:00:00+08:00",
            "expire_time": "2029-01-01T08:00:00+08:00", "encrypt_certificate": enc,
        }));
        expected.push((listed, plaintext));
    }
    let body = serde_json::json!({ "data": data }).to_string();
    let Ok(d) = parse_certificates_response(body.as_bytes(), &f.key, now) else {
        return;
    };
    assert!(
        all_authentic,
        "a download with a tampered entry was accepted"
    );
    for c in d.certificates.iter() {
        // Each certificate returned was encrypted for an entry listed under its own serial.
        let ok = expected.iter().any(|(listed, pem)| {
            SerialNumber::parse(listed).is_ok_and(|s| s == *c.serial())
                && Certificate::from_pem(pem).is_ok_and(|p| p.serial() == c.serial())
        });
        assert!(
            ok,
            "returned certificate {} was not encrypted under that serial",
            c.serial_hex()
        );
        assert!(c.is_valid_at(now, 300), "an expired certificate was kept");
    }
}
