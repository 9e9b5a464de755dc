//! Helpers shared by the integration tests and the benchmarks: the test keys of
//! `tests/vectors/keys/`, a frozen clock, and WeChat Pay's side of the protocol (signing
//! responses and building encrypted callbacks) so tests can produce fresh, valid messages and
//! then break exactly one thing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod gateway;

use std::path::PathBuf;
use std::sync::Arc;

use goldplan::aead;
use goldplan::clock::ManualClock;
use goldplan::credentials::{ApiV3Key, PrivateKey};
use goldplan::notification::NotificationParser;
use goldplan::sign::sign_base64;
use goldplan::verify::{
    CertificateVerifier, PublicKeyVerifier, VerificationPolicy, WechatpayHeaders, message_to_verify,
};
use goldplan::x509::{Certificate, CertificateSet};

/// The frozen "now" of the tests: 2026-06-01T00:00:00Z, when both platform certificates are
/// valid.
pub(crate) const NOW: i64 = 1_780_272_000;
/// Serial of `platform_test_cert.pem` (leading zero nibble, as Go renders it).
pub(crate) const PLATFORM_SERIAL: &str = "0ABC1234567890ABCDEF1234567890ABCDEF1234";
/// Serial of `platform2_test_cert.pem`.
pub(crate) const PLATFORM2_SERIAL: &str = "5DEA10EF55877E3CF6C33255C2E7DEFFF7E42700";
/// The id of the key pair `wechatpay_test_pubkey{,_key}.pem`.
pub(crate) const PUBKEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000000001";
/// The APIv3 key of the tests (32 ASCII bytes).
pub(crate) const APIV3_KEY: &str = "goldplanTEST0apiv3key0123456789z";
/// Merchant id of `merchant_test_cert.pem`.
pub(crate) const MCHID: &str = "1900000100";
/// Serial of `merchant_test_cert.pem`.
pub(crate) const MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD12345678";
/// A `Wechatpay-Nonce`.
pub(crate) const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
/// The decrypted resource of the test callback.
pub(crate) const PLAINTEXT: &str = r#"{"sp_mchid":"1900000100","sub_mchid":"1900000109","out_trade_no":"ORDER20240101","trade_state":"SUCCESS"}"#;

pub(crate) fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// A file of `tests/vectors/`, e.g. `keys/platform_test_key.pem`.
pub(crate) fn read(rel: &str) -> String {
    std::fs::read_to_string(vectors_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A private key of `tests/vectors/keys/`.
pub(crate) fn key(file: &str) -> PrivateKey {
    PrivateKey::from_pem(&read(&format!("keys/{file}"))).unwrap()
}

pub(crate) fn certificate(file: &str) -> Arc<Certificate> {
    Arc::new(Certificate::from_pem(&read(&format!("keys/{file}"))).unwrap())
}

/// Both platform certificates.
pub(crate) fn certificate_verifier() -> CertificateVerifier {
    CertificateVerifier::new(CertificateSet::new([
        certificate("platform_test_cert.pem"),
        certificate("platform2_test_cert.pem"),
    ]))
}

/// The WeChat Pay public key `PUB_KEY_ID_…0001`.
pub(crate) fn pubkey_verifier() -> PublicKeyVerifier {
    PublicKeyVerifier::from_pem(PUBKEY_ID, &read("keys/wechatpay_test_pubkey.pem")).unwrap()
}

pub(crate) fn apiv3_key() -> ApiV3Key {
    ApiV3Key::new(APIV3_KEY).unwrap()
}

/// The default 300 s window with the clock frozen at `now`.
pub(crate) fn frozen(now: i64) -> VerificationPolicy {
    VerificationPolicy::with_clock(Arc::new(ManualClock::new(now)))
}

/// A callback parser in public-key mode, clock frozen at [`NOW`].
pub(crate) fn parser() -> NotificationParser {
    NotificationParser::new(Arc::new(pubkey_verifier()), apiv3_key()).with_policy(frozen(NOW))
}

/// A signed message as WeChat Pay sends it: header pairs in wire spelling and the raw body.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Signed {
    /// Signs `timestamp\nnonce\nbody\n` with `key` and labels it with `serial`, the way WeChat
    /// Pay signs responses and callbacks.
    pub(crate) fn new(
        key: &PrivateKey,
        serial: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Signed {
        let signature = sign_base64(key, &message_to_verify(timestamp, nonce, body)).unwrap();
        Signed {
            headers: vec![
                ("Wechatpay-Timestamp".into(), timestamp.into()),
                ("Wechatpay-Nonce".into(), nonce.into()),
                ("Wechatpay-Signature".into(), signature),
                ("Wechatpay-Serial".into(), serial.into()),
                (
                    "Wechatpay-Signature-Type".into(),
                    "WECHATPAY2-SHA256-RSA2048".into(),
                ),
                (
                    "Request-ID".into(),
                    "08F78BB5AF0610D302A4C1B8AC0128F5".into(),
                ),
            ],
            body: body.to_vec(),
        }
    }

    /// The value of header `name` (canonical spelling).
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no header {name}"))
    }

    /// A copy with header `name` set to `value` (added when absent).
    pub(crate) fn with_header(&self, name: &str, value: &str) -> Signed {
        let mut out = self.without_header(name);
        out.headers.push((name.into(), value.into()));
        out
    }

    /// A copy without header `name`.
    pub(crate) fn without_header(&self, name: &str) -> Signed {
        let mut out = self.clone();
        out.headers.retain(|(n, _)| n != name);
        out
    }

    /// A copy with another body (and the old signature).
    pub(crate) fn with_body(&self, body: impl Into<Vec<u8>>) -> Signed {
        Signed {
            headers: self.headers.clone(),
            body: body.into(),
        }
    }

    pub(crate) fn wechatpay_headers(&self) -> goldplan::Result<WechatpayHeaders> {
        WechatpayHeaders::from_pairs(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }
}

/// The `resource` object of a callback: `plaintext` sealed under `key`.
pub(crate) fn resource(
    key: &ApiV3Key,
    associated_data: &str,
    nonce: &str,
    plaintext: &str,
) -> Resource {
    Resource {
        algorithm: aead::AEAD_AES_256_GCM.into(),
        ciphertext: aead::encrypt(
            key,
            associated_data.as_bytes(),
            nonce.as_bytes(),
            plaintext.as_bytes(),
        )
        .unwrap(),
        associated_data: associated_data.into(),
        nonce: nonce.into(),
    }
}

/// The encrypted `resource` of a callback, field by field, so tests can alter one.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub(crate) algorithm: String,
    pub(crate) ciphertext: String,
    pub(crate) associated_data: String,
    pub(crate) nonce: String,
}

impl Resource {
    /// The test callback's resource: [`PLAINTEXT`] under [`APIV3_KEY`].
    pub(crate) fn standard() -> Resource {
        resource(&apiv3_key(), "transaction", "fJ3kQ9pL2xZ7", PLAINTEXT)
    }

    /// The callback body carrying this resource, compact JSON as WeChat Pay sends it.
    pub(crate) fn callback_body(&self) -> Vec<u8> {
        serde_json::json!({
            "id": "EV-2026060100000000000001",
            "create_time": "2026-06-01T08:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": self.algorithm,
                "ciphertext": self.ciphertext,
                "associated_data": self.associated_data,
                "nonce": self.nonce,
            }
        })
        .to_string()
        .into_bytes()
    }

    /// The callback carrying this resource, signed with the WeChat Pay test public key's
    /// private half at [`NOW`].
    pub(crate) fn signed_callback(&self) -> Signed {
        signed_callback(&self.callback_body())
    }
}

/// `body` signed as a callback in public-key mode at [`NOW`].
pub(crate) fn signed_callback(body: &[u8]) -> Signed {
    Signed::new(
        &key("wechatpay_test_pubkey_key.pem"),
        PUBKEY_ID,
        &NOW.to_string(),
        NONCE,
        body,
    )
}
