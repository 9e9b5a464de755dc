//! Platform certificates (平台证书): turning a `GET /v3/certificates` response into validated
//! certificates (spec §3.2–§3.4). The certificates themselves are [`crate::x509`] types; keeping
//! them trusted and fresh is the client's certificate manager.

use std::sync::Arc;

use serde::Deserialize;

use crate::aead::{self, EncryptedResource};
use crate::credentials::ApiV3Key;
use crate::error::{Error, Result, Untrusted};
use crate::verify::{
    CertificateVerifier, PublicKeyVerifier, VerificationPolicy, Verifier, WechatpayHeaders,
    verify_signed,
};
use crate::x509::{Certificate, VALIDITY_TOLERANCE_SECS};
// Kept at their old paths for callers of earlier versions; the types live in `x509`.
pub use crate::x509::{CertificateInfo, CertificateSet, SerialNumber, format_unix_rfc3339};

/// One entry of the `/v3/certificates` response as listed (before decryption).
#[derive(Debug, Clone, Deserialize)]
pub struct CertificateEntry {
    /// The serial WeChat lists for the certificate.
    pub serial_no: String,
    /// Start of validity (RFC 3339).
    pub effective_time: String,
    /// End of validity (RFC 3339).
    pub expire_time: String,
    /// The PEM, encrypted under the APIv3 key.
    pub encrypt_certificate: EncryptedResource,
}

#[derive(Deserialize)]
struct CertificatesBody {
    data: Vec<CertificateEntry>,
}

/// An entry that was listed but not kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct DroppedCertificate {
    /// The serial as listed.
    pub serial_no: String,
    /// Why it was dropped.
    pub reason: String,
}

/// The outcome of decrypting and validating a `/v3/certificates` body.
#[derive(Debug, Clone)]
pub struct DownloadedCertificates {
    /// Certificates that decrypted, whose serial matched the listing, and that are valid now.
    pub certificates: CertificateSet,
    /// Entries that were discarded (serial mismatch, expired, not yet valid).
    pub dropped: Vec<DroppedCertificate>,
}

/// [`DownloadedCertificates`] as data.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct DownloadedCertificatesShown<'a> {
    /// The certificates kept.
    certificates: Vec<CertificateInfo>,
    /// The entries dropped, and why.
    dropped: &'a [DroppedCertificate],
    /// The serial of the newest certificate kept.
    newest_serial: Option<&'a str>,
}

impl serde::Serialize for DownloadedCertificates {
    /// `{certificates: [CertificateInfo…], dropped: [{serial_no, reason}…], newest_serial}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        DownloadedCertificatesShown {
            certificates: self.certificates.iter().map(|c| c.info()).collect(),
            dropped: &self.dropped,
            newest_serial: self.certificates.newest().map(|c| c.serial_hex()),
        }
        .serialize(s)
    }
}

impl schemars::JsonSchema for DownloadedCertificates {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DownloadedCertificates".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        DownloadedCertificatesShown::json_schema(generator)
    }
}

/// Decrypts and validates a `/v3/certificates` response body (spec §3.3 rules 1, 3, 4, 5).
///
/// Any entry that fails to decrypt aborts the whole refresh (the AEAD tag under the APIv3 key is
/// what authenticates the contents). Entries whose certificate serial differs from the listed
/// `serial_no`, or that are not valid at `now` (± 5 min), are dropped and reported. An empty
/// result is an error. The response *signature* is checked separately by the caller against the
/// union of trusted and new certificates (rule 2; see [`crate::verify`]).
pub fn parse_certificates_response(
    body: &[u8],
    apiv3_key: &ApiV3Key,
    now: i64,
) -> Result<DownloadedCertificates> {
    let parsed: CertificatesBody = serde_json::from_slice(body)
        .map_err(|e| Error::Decode(format!("invalid /v3/certificates body: {e}")))?;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for entry in parsed.data {
        // Spec §3.1: every member of encrypt_certificate is required in a certificate entry.
        if entry.encrypt_certificate.associated_data.is_none() {
            return Err(Error::Decode(format!(
                "certificate entry {} lacks encrypt_certificate.associated_data",
                Untrusted(&entry.serial_no, 128)
            )));
        }
        let pem_bytes = entry.encrypt_certificate.decrypt(apiv3_key)?;
        let pem_text = std::str::from_utf8(&pem_bytes).map_err(|_| {
            Error::Certificate(format!(
                "certificate {} decrypted to non-UTF-8 data",
                Untrusted(&entry.serial_no, 128)
            ))
        })?;
        let cert = Certificate::from_pem(pem_text)?;
        if !cert.serial().matches(&entry.serial_no) {
            tracing::warn!(
                listed = %Untrusted(&entry.serial_no, 128),
                actual = %cert.serial_hex(),
                "dropping a platform certificate whose serial differs from the listing"
            );
            dropped.push(DroppedCertificate {
                serial_no: entry.serial_no,
                reason: format!("the certificate's own serial is {}", cert.serial_hex()),
            });
            continue;
        }
        if !cert.is_valid_at(now, VALIDITY_TOLERANCE_SECS) {
            dropped.push(DroppedCertificate {
                serial_no: entry.serial_no,
                reason: format!(
                    "not valid now (valid from {} to {})",
                    cert.not_before(),
                    cert.not_after()
                ),
            });
            continue;
        }
        kept.push(Arc::new(cert));
    }
    if kept.is_empty() {
        return Err(Error::Certificate(format!(
            "the certificate download holds no usable certificate ({} dropped)",
            dropped.len()
        )));
    }
    Ok(DownloadedCertificates {
        certificates: CertificateSet::new(kept),
        dropped,
    })
}

/// The whole of spec §3.3 for one `/v3/certificates` response: decrypt and validate the
/// entries ([`parse_certificates_response`]), then verify the response signature against the
/// union of the `trusted` certificates, the newly decrypted ones and, in combined mode, the
/// WeChat Pay public key. On the very first download `trusted` is empty and the list vouches
/// for itself through the AEAD tag under the APIv3 key.
pub fn validate_download(
    headers: &WechatpayHeaders,
    body: &[u8],
    apiv3_key: &ApiV3Key,
    trusted: &CertificateSet,
    public_key: Option<&PublicKeyVerifier>,
    policy: &VerificationPolicy,
) -> Result<DownloadedCertificates> {
    let downloaded = parse_certificates_response(body, apiv3_key, policy.clock.now())?;
    let union = UnionVerifier {
        certificates: CertificateVerifier::new(trusted.union(&downloaded.certificates)),
        public_key,
    };
    verify_signed(&union, policy, headers, body)?;
    Ok(downloaded)
}

/// [`validate_download`] for an answer kept by a certificate store and read back later: the
/// same decryption with `apiv3_key` and the same signature check, except that the signature's
/// timestamp is not compared with now (a stored answer is old by nature). Its authenticity is
/// the signature and the AEAD tag under this process's own APIv3 key, which a store cannot
/// forge; what it lists is still checked against `now` for validity. Returns the certificates
/// and the answer's signed timestamp (how old the download is).
pub fn validate_stored_download(
    headers: &WechatpayHeaders,
    body: &[u8],
    apiv3_key: &ApiV3Key,
    trusted: &CertificateSet,
    public_key: Option<&PublicKeyVerifier>,
    now: i64,
) -> Result<(DownloadedCertificates, i64)> {
    let signed_at = headers
        .timestamp
        .as_deref()
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| {
            Error::Certificate(
                "a stored certificate download has no valid Wechatpay-Timestamp".into(),
            )
        })?;
    let at_signing = VerificationPolicy::new(
        crate::verify::MaxSkew::DEFAULT,
        Arc::new(crate::clock::ManualClock::new(signed_at)),
    );
    let downloaded = parse_certificates_response(body, apiv3_key, now)?;
    let union = UnionVerifier {
        certificates: CertificateVerifier::new(trusted.union(&downloaded.certificates)),
        public_key,
    };
    verify_signed(&union, &at_signing, headers, body)?;
    Ok((downloaded, signed_at))
}

#[derive(Debug)]
struct UnionVerifier<'a> {
    certificates: CertificateVerifier,
    public_key: Option<&'a PublicKeyVerifier>,
}

impl Verifier for UnionVerifier<'_> {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()> {
        match self.public_key {
            Some(pk) if pk.key_id() == serial => pk.verify(serial, message, signature),
            _ => self.certificates.verify(serial, message, signature),
        }
    }

    fn accept_serial(&self) -> Option<String> {
        self.public_key
            .and_then(|pk| pk.accept_serial())
            .or_else(|| self.certificates.accept_serial())
    }
}

/// Encrypts a certificate list entry the way WeChat Pay does (used by the sandbox and tests).
pub fn encrypt_certificate_entry(
    cert: &Certificate,
    apiv3_key: &ApiV3Key,
    nonce: &str,
    effective_time: &str,
    expire_time: &str,
) -> Result<serde_json::Value> {
    let ciphertext = aead::encrypt(
        apiv3_key,
        b"certificate",
        nonce.as_bytes(),
        cert.pem().as_bytes(),
    )?;
    Ok(serde_json::json!({
        "serial_no": cert.serial_hex(),
        "effective_time": effective_time,
        "expire_time": expire_time,
        "encrypt_certificate": {
            "algorithm": aead::AEAD_AES_256_GCM,
            "nonce": nonce,
            "associated_data": "certificate",
            "ciphertext": ciphertext,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_without_associated_data_is_rejected() {
        let body = br#"{"data":[{"serial_no":"AB","effective_time":"x","expire_time":"y","encrypt_certificate":{"algorithm":"AEAD_AES_256_GCM","nonce":"abcdefghijkl","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}}]}"#;
        let key = ApiV3Key::new("0123456789abcdefghijklmnopqrstuv").unwrap();
        let err = parse_certificates_response(body, &key, 0).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
    }
}
