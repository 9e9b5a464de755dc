//! X.509 certificates as the protocol uses them: parsing PEM, serial numbers compared by
//! value, validity windows, and the immutable [`CertificateSet`] a verifier reads. A leaf
//! module: it depends on nothing else in the crate but the error type, so both the platform
//! certificate download ([`crate::certificates`]) and the merchant's own certificate check
//! ([`crate::credentials`]) build on it.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rsa::PublicEncryptingKey;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use crate::error::{Error, Result};

/// Tolerance applied to certificate validity windows (spec §3.3 rule 4).
pub const VALIDITY_TOLERANCE_SECS: i64 = 300;

/// A certificate serial number, compared by numeric value: SDKs disagree on leading zeros
/// (`0ABC…` from Go/PHP, `ABC…` from Java/Python), so `0ABC` and `ABC` are the same serial.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialNumber {
    /// Upper-case hex without leading zeros ("0" for zero): the comparison key.
    canonical: String,
}

impl SerialNumber {
    /// Parses a hexadecimal serial (either case, leading zeros allowed, surrounding spaces
    /// ignored).
    pub fn parse(text: &str) -> Result<SerialNumber> {
        let t = text.trim();
        if t.is_empty() || t.len() > 128 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidInput(format!(
                "a certificate serial must be hexadecimal; got {}",
                crate::redact::Rejected(t)
            )));
        }
        let stripped = t.trim_start_matches('0');
        let canonical = if stripped.is_empty() {
            "0".to_owned()
        } else {
            stripped.to_ascii_uppercase()
        };
        Ok(SerialNumber { canonical })
    }

    /// Whether `text` (any hex rendering) denotes this serial.
    pub fn matches(&self, text: &str) -> bool {
        SerialNumber::parse(text).is_ok_and(|other| other == *self)
    }

    /// Upper-case hex without leading zeros.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Debug for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SerialNumber({})", self.canonical)
    }
}

/// A parsed X.509 certificate holding an RSA public key: a WeChat Pay platform certificate, or
/// the merchant's own API certificate when a configuration is checked.
pub struct Certificate {
    serial: SerialNumber,
    serial_hex: String,
    not_before: i64,
    not_after: i64,
    pem: String,
    public_key_der: Vec<u8>,
    verifying_key: ParsedPublicKey,
    encrypting_key: PublicEncryptingKey,
}

impl Certificate {
    /// Parses one PEM `CERTIFICATE` block. The key must be RSA (2048 to 8192 bits).
    pub fn from_pem(pem_text: &str) -> Result<Certificate> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem_text.trim().as_bytes())
            .map_err(|e| Error::Certificate(format!("not a PEM certificate: {e}")))?;
        if block.label != "CERTIFICATE" {
            return Err(Error::Certificate(format!(
                "expected a PEM block `CERTIFICATE`, found {}",
                crate::redact::PemLabel(&block.label)
            )));
        }
        let cert = block
            .parse_x509()
            .map_err(|e| Error::Certificate(format!("invalid X.509 certificate: {e}")))?;
        let raw_serial = cert.tbs_certificate.raw_serial();
        // DER integers carry a 0x00 sign byte when the top bit is set; it is not part of the
        // serial as WeChat renders it.
        let serial_bytes = match raw_serial {
            [0, rest @ ..] if !rest.is_empty() => rest,
            all => all,
        };
        let serial_hex = hex::encode_upper(serial_bytes);
        let serial = SerialNumber::parse(&serial_hex)?;
        let validity = cert.validity();
        let public_key_der = cert.public_key().raw.to_vec();
        let verifying_key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public_key_der)
            .map_err(|e| {
                Error::Certificate(format!(
                    "certificate {serial_hex} does not hold an RSA 2048-8192 public key: {e}"
                ))
            })?;
        let encrypting_key = PublicEncryptingKey::from_der(&public_key_der).map_err(|e| {
            Error::Certificate(format!("certificate {serial_hex} key cannot encrypt: {e}"))
        })?;
        Ok(Certificate {
            serial,
            serial_hex,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            pem: pem_text.trim().to_owned(),
            public_key_der,
            verifying_key,
            encrypting_key,
        })
    }

    /// The serial, compared numerically.
    pub fn serial(&self) -> &SerialNumber {
        &self.serial
    }

    /// The serial as upper-case hex of its bytes (keeps a leading zero nibble, like Go/PHP):
    /// the form sent in `Wechatpay-Serial` and used in file names.
    pub fn serial_hex(&self) -> &str {
        &self.serial_hex
    }

    /// NotBefore, Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// NotAfter, Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether `now` lies in `[NotBefore − tolerance, NotAfter + tolerance]`.
    pub fn is_valid_at(&self, now: i64, tolerance: i64) -> bool {
        now >= self.not_before.saturating_sub(tolerance)
            && now <= self.not_after.saturating_add(tolerance)
    }

    /// The certificate as PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// SubjectPublicKeyInfo DER of the certificate's key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    pub(crate) fn verifying_key(&self) -> &ParsedPublicKey {
        &self.verifying_key
    }

    pub(crate) fn encrypting_key(&self) -> &PublicEncryptingKey {
        &self.encrypting_key
    }
}

/// A certificate as data, the same in every language: what [`Certificate`] serialises to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct CertificateInfo {
    /// Upper-case hex serial (the `Wechatpay-Serial` form).
    pub serial_no: String,
    /// NotBefore, RFC 3339 (UTC).
    pub not_before: String,
    /// NotAfter, RFC 3339 (UTC).
    pub not_after: String,
    /// NotBefore, Unix seconds.
    pub not_before_unix: i64,
    /// NotAfter, Unix seconds.
    pub not_after_unix: i64,
    /// The certificate, PEM.
    pub pem: String,
}

impl Certificate {
    /// The certificate as data.
    pub fn info(&self) -> CertificateInfo {
        CertificateInfo {
            serial_no: self.serial_hex.clone(),
            not_before: format_unix_rfc3339(self.not_before),
            not_after: format_unix_rfc3339(self.not_after),
            not_before_unix: self.not_before,
            not_after_unix: self.not_after,
            pem: self.pem.clone(),
        }
    }
}

impl serde::Serialize for Certificate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.info().serialize(s)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("serial", &self.serial_hex)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// An immutable set of platform certificates. Replaced as a whole on refresh, so readers never
/// see a half-filled set.
#[derive(Debug, Clone, Default)]
pub struct CertificateSet {
    certificates: Vec<Arc<Certificate>>,
}

impl CertificateSet {
    /// A set holding `certificates`; later duplicates of a serial are dropped.
    pub fn new(certificates: impl IntoIterator<Item = Arc<Certificate>>) -> CertificateSet {
        let mut out: Vec<Arc<Certificate>> = Vec::new();
        for cert in certificates {
            if !out.iter().any(|c| c.serial == cert.serial) {
                out.push(cert);
            }
        }
        CertificateSet { certificates: out }
    }

    /// Parses a set from PEM text holding one or more certificates.
    pub fn from_pem_bundle(text: &str) -> Result<CertificateSet> {
        let blocks = pem::parse_many(text)
            .map_err(|e| Error::Certificate(format!("invalid PEM bundle: {e}")))?;
        if blocks.is_empty() {
            return Err(Error::Certificate("no certificate in the PEM text".into()));
        }
        let certs = blocks
            .iter()
            .map(|b| Certificate::from_pem(&pem::encode(b)).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(CertificateSet::new(certs))
    }

    /// Looks up a certificate by serial (numeric comparison).
    pub fn get(&self, serial: &str) -> Option<&Arc<Certificate>> {
        let wanted = SerialNumber::parse(serial).ok()?;
        self.certificates.iter().find(|c| c.serial == wanted)
    }

    /// The newest certificate (spec §3.4): largest NotBefore, ties broken by largest NotAfter.
    /// Used for encryption and for the `Wechatpay-Serial` request header.
    pub fn newest(&self) -> Option<&Arc<Certificate>> {
        self.certificates
            .iter()
            .max_by_key(|c| (c.not_before, c.not_after))
    }

    /// All certificates.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Certificate>> {
        self.certificates.iter()
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// The certificates still valid at `now` (± tolerance).
    pub fn retain_valid(&self, now: i64) -> CertificateSet {
        CertificateSet::new(
            self.certificates
                .iter()
                .filter(|c| c.is_valid_at(now, VALIDITY_TOLERANCE_SECS))
                .cloned(),
        )
    }

    /// This set plus the certificates of `other` it does not hold yet.
    pub fn union(&self, other: &CertificateSet) -> CertificateSet {
        CertificateSet::new(self.iter().chain(other.iter()).cloned())
    }
}

/// Formats Unix seconds as RFC 3339 in UTC (e.g. `2029-01-01T00:00:00Z`).
pub fn format_unix_rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_numerically() {
        let a = SerialNumber::parse("0ABC1234").unwrap();
        let b = SerialNumber::parse("abc1234").unwrap();
        assert_eq!(a, b);
        assert!(a.matches("000ABC1234"));
        assert!(!a.matches("ABC1235"));
        assert_eq!(SerialNumber::parse("000").unwrap().as_str(), "0");
        assert!(SerialNumber::parse("PUB_KEY_ID_1").is_err());
        assert!(SerialNumber::parse("").is_err());
        assert!(SerialNumber::parse("12 34").is_err());
    }

    #[test]
    fn rfc3339_formatting() {
        assert_eq!(format_unix_rfc3339(1_861_920_000), "2029-01-01T00:00:00Z");
    }

    #[test]
    fn garbage_pem_is_a_typed_error() {
        let err = Certificate::from_pem("not a certificate").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Certificate);
        let err =
            Certificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Certificate);
    }
}
