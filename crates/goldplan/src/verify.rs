//! Verifying WeChat Pay's signatures on responses and callbacks (spec §2): header extraction,
//! the clock-skew policy, the string to verify, and the [`Verifier`] plug-in point with its
//! public-key, certificate and combined implementations.

use std::fmt::{self, Debug};
use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock};
use crate::credentials::KeySource;
use crate::error::{Error, ErrorKind, Result};
use crate::sign::AUTH_SCHEME;
use crate::x509::{Certificate, CertificateSet};

/// Prefix of WeChat Pay's deliberately invalid probe signatures (spec §2.7).
pub const SIGNATURE_PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Prefix that identifies a WeChat Pay public key id.
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// Default maximum clock skew in seconds; a difference of this much or more is rejected.
pub const DEFAULT_MAX_SKEW_SECS: i64 = 300;

/// The accepted clock-skew window of responses and callbacks: a whole number of seconds from
/// [`MaxSkew::MIN_SECS`] to [`MaxSkew::MAX_SECS`] (one day), 300 s by default.
///
/// It is a type rather than a plain integer so that no caller can switch the timestamp check
/// off: a huge window would accept a 1970 timestamp (and with it any replayed message), and a
/// negative one used to be silently made positive. The client, the callback parser, the
/// certificate download check and every binding take the window through this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaxSkew(u32);

impl MaxSkew {
    /// The smallest window, in seconds.
    pub const MIN_SECS: i64 = 1;
    /// The largest window, in seconds (one day).
    pub const MAX_SECS: i64 = 86_400;
    /// The default window: 300 s.
    pub const DEFAULT: MaxSkew = MaxSkew(300);

    /// Checks `secs` against `1..=86400`; anything else is an [`ErrorKind::Configuration`]
    /// error naming the allowed range.
    pub fn from_secs(secs: i64) -> Result<MaxSkew> {
        if !(MaxSkew::MIN_SECS..=MaxSkew::MAX_SECS).contains(&secs) {
            return Err(Error::Configuration(format!(
                "max_skew_secs must be between {} and {}, got {secs}",
                MaxSkew::MIN_SECS,
                MaxSkew::MAX_SECS
            )));
        }
        // In range 1..=86400 checked just above, so the conversion cannot fail.
        u32::try_from(secs)
            .map(MaxSkew)
            .map_err(|_| Error::Configuration("max_skew_secs is out of range".into()))
    }

    /// The window in seconds.
    pub fn secs(self) -> u32 {
        self.0
    }
}

impl Default for MaxSkew {
    fn default() -> MaxSkew {
        MaxSkew::DEFAULT
    }
}

impl fmt::Display for MaxSkew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

impl TryFrom<i64> for MaxSkew {
    type Error = Error;
    fn try_from(secs: i64) -> Result<MaxSkew> {
        MaxSkew::from_secs(secs)
    }
}

/// Longest header value accepted (an RSA-8192 signature is 1368 base64 characters).
const MAX_HEADER_LEN: usize = 2048;

/// Resolves a `Wechatpay-Serial` to a WeChat Pay key and checks a signature with it.
pub trait Verifier: Send + Sync + Debug {
    /// Checks `signature` (raw bytes) over `message` with the key named by `serial`.
    ///
    /// Fails with [`ErrorKind::UnknownSerial`] when no key has that serial and with
    /// [`ErrorKind::SignatureInvalid`] when the signature does not verify.
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()>;

    /// The serial or public key id to advertise in the request header `Wechatpay-Serial`
    /// (spec §1.4); `None` when no key is known yet.
    fn accept_serial(&self) -> Option<String>;
}

impl<V: Verifier + ?Sized> Verifier for Arc<V> {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()> {
        (**self).verify(serial, message, signature)
    }
    fn accept_serial(&self) -> Option<String> {
        (**self).accept_serial()
    }
}

fn check(key: &ParsedPublicKey, message: &[u8], signature: &[u8]) -> Result<()> {
    key.verify_sig(message, signature).map_err(|_| {
        Error::verification(ErrorKind::SignatureInvalid, "the signature does not verify")
    })
}

fn unknown_serial(serial: &str) -> Error {
    Error::verification(
        ErrorKind::UnknownSerial,
        format!("no WeChat Pay key with serial {serial:?} is configured"),
    )
}

/// Whether `key_id` looks like a WeChat Pay public key id (`PUB_KEY_ID_…`, at most 64 bytes).
pub(crate) fn is_valid_public_key_id(key_id: &str) -> bool {
    key_id.starts_with(PUBLIC_KEY_ID_PREFIX) && key_id.len() <= 64
}

/// Verifies with the WeChat Pay public key (微信支付公钥) identified by a `PUB_KEY_ID_…` id.
/// Any other serial is unknown.
pub struct PublicKeyVerifier {
    key_id: String,
    key: ParsedPublicKey,
    spki_der: Vec<u8>,
}

impl PublicKeyVerifier {
    /// From the key id and the `-----BEGIN PUBLIC KEY-----` PEM downloaded from the portal.
    pub fn from_pem(key_id: impl Into<String>, pem_text: &str) -> Result<PublicKeyVerifier> {
        let key_id = key_id.into().trim().to_owned();
        if !is_valid_public_key_id(&key_id) {
            return Err(Error::Configuration(format!(
                "a WeChat Pay public key id looks like PUB_KEY_ID_0123…; got {}",
                crate::redact::Rejected(&key_id)
            )));
        }
        let block = pem::parse(pem_text.trim()).map_err(|e| {
            Error::Configuration(format!(
                "the WeChat Pay public key is not valid PEM: {}",
                crate::credentials::pem_error_reason(&e)
            ))
        })?;
        if block.tag() != "PUBLIC KEY" {
            return Err(Error::Configuration(format!(
                "expected a PEM block `PUBLIC KEY`, found {}",
                crate::redact::PemLabel(block.tag())
            )));
        }
        PublicKeyVerifier::from_der(key_id, block.contents())
    }

    /// From the key id and SubjectPublicKeyInfo DER.
    /// The key must be RSA of 2048 to 8192 bits: a smaller key is refused here, with that
    /// reason, rather than failing every verification later as "signature does not verify".
    pub fn from_der(key_id: impl Into<String>, spki_der: &[u8]) -> Result<PublicKeyVerifier> {
        check_rsa_key_size(spki_der, "the WeChat Pay public key")?;
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki_der).map_err(|e| {
            Error::Configuration(format!(
                "the WeChat Pay public key is not an RSA 2048-8192 key: {e}"
            ))
        })?;
        Ok(PublicKeyVerifier {
            key_id: key_id.into(),
            key,
            spki_der: spki_der.to_vec(),
        })
    }

    /// The `PUB_KEY_ID_…` id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// SubjectPublicKeyInfo DER of the key (for RSA-OAEP encryption).
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }
}

/// Refuses an RSA public key outside 2048..=8192 bits, saying which bound it misses.
/// (`ParsedPublicKey` accepts any size and only fails when verifying.)
fn check_rsa_key_size(spki_der: &[u8], what: &str) -> Result<()> {
    match aws_lc_rs::rsa::PublicEncryptingKey::from_der(spki_der) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Configuration(match e.description_() {
            "TooSmall" => {
                format!("{what} is an RSA key under 2048 bits; WeChat Pay keys are 2048 bits")
            }
            "TooLarge" => format!("{what} is an RSA key over 8192 bits"),
            _ => format!("{what} is not an RSA public key (SubjectPublicKeyInfo)"),
        })),
    }
}

impl Debug for PublicKeyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKeyVerifier")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl Verifier for PublicKeyVerifier {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()> {
        // Key ids are compared as exact strings (spec §2.4).
        if serial != self.key_id {
            return Err(unknown_serial(serial));
        }
        check(&self.key, message, signature)
    }

    fn accept_serial(&self) -> Option<String> {
        Some(self.key_id.clone())
    }
}

/// Verifies with a fixed set of platform certificates, selected by serial (compared
/// numerically). The set never changes; a client that downloads and rotates certificates keeps
/// its trusted set in its certificate manager, which is a [`Verifier`] too.
#[derive(Default, Clone)]
pub struct CertificateVerifier {
    set: Arc<CertificateSet>,
}

impl CertificateVerifier {
    /// A verifier over `set`.
    pub fn new(set: CertificateSet) -> CertificateVerifier {
        CertificateVerifier { set: Arc::new(set) }
    }

    /// The certificates.
    pub fn certificates(&self) -> Arc<CertificateSet> {
        Arc::clone(&self.set)
    }
}

impl Debug for CertificateVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateVerifier")
            .field(
                "serials",
                &self.set.iter().map(|c| c.serial_hex()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Verifier for CertificateVerifier {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()> {
        verify_with_set(&self.set, serial, message, signature)
    }

    fn accept_serial(&self) -> Option<String> {
        self.set.newest().map(|c| c.serial_hex().to_owned())
    }
}

/// Checks a signature with the certificate of `set` named by `serial`.
pub fn verify_with_set(
    set: &CertificateSet,
    serial: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let cert = set.get(serial).ok_or_else(|| unknown_serial(serial))?;
    check(cert.verifying_key(), message, signature)
}

/// Both a public key and platform certificates, routed by serial: for merchants migrating from
/// certificates to the public key, when responses and callbacks may be signed by either.
#[derive(Debug, Clone)]
pub struct CombinedVerifier {
    public_key: Arc<PublicKeyVerifier>,
    certificates: Arc<dyn Verifier>,
}

impl CombinedVerifier {
    /// Routes `PUB_KEY_ID_…` serials to `public_key` and everything else to `certificates`
    /// (a [`CertificateVerifier`], or a client's rotating certificate manager).
    pub fn new(
        public_key: Arc<PublicKeyVerifier>,
        certificates: Arc<dyn Verifier>,
    ) -> CombinedVerifier {
        CombinedVerifier {
            public_key,
            certificates,
        }
    }

    /// The certificate half.
    pub fn certificates(&self) -> &Arc<dyn Verifier> {
        &self.certificates
    }

    /// The public-key half.
    pub fn public_key(&self) -> &Arc<PublicKeyVerifier> {
        &self.public_key
    }
}

impl Verifier for CombinedVerifier {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<()> {
        if serial == self.public_key.key_id() {
            self.public_key.verify(serial, message, signature)
        } else {
            self.certificates.verify(serial, message, signature)
        }
    }

    /// Requests advertise the public key, so that responses are signed with it (spec §2.6).
    fn accept_serial(&self) -> Option<String> {
        self.public_key.accept_serial()
    }
}

/// The verification headers of a response or callback, found case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WechatpayHeaders {
    /// `Wechatpay-Timestamp`.
    pub timestamp: Option<String>,
    /// `Wechatpay-Nonce`.
    pub nonce: Option<String>,
    /// `Wechatpay-Signature`.
    pub signature: Option<String>,
    /// `Wechatpay-Serial`.
    pub serial: Option<String>,
    /// `Wechatpay-Signature-Type`.
    pub signature_type: Option<String>,
    /// `Request-ID`.
    pub request_id: Option<String>,
}

/// Folds a header name to lower-case with dashes, accepting CGI/Django spellings such as
/// `HTTP_WECHATPAY_SIGNATURE`.
fn fold_header_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase().replace('_', "-");
    match lower.strip_prefix("http-") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

impl WechatpayHeaders {
    /// Collects the verification headers from `(name, value)` pairs, matching names
    /// case-insensitively (and the `HTTP_WECHATPAY_…` spelling). Values are trimmed. A header
    /// given twice, a non-UTF-8 value or an oversized value is an error.
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Result<WechatpayHeaders>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let mut h = WechatpayHeaders::default();
        for (name, value) in pairs {
            let folded = fold_header_name(name.as_ref());
            let slot = match folded.as_str() {
                "wechatpay-timestamp" => &mut h.timestamp,
                "wechatpay-nonce" => &mut h.nonce,
                "wechatpay-signature" => &mut h.signature,
                "wechatpay-serial" => &mut h.serial,
                "wechatpay-signature-type" => &mut h.signature_type,
                "request-id" => &mut h.request_id,
                _ => continue,
            };
            let value = value.as_ref();
            if value.len() > MAX_HEADER_LEN {
                return Err(Error::verification(
                    ErrorKind::InvalidHeader,
                    format!("header {folded} is longer than {MAX_HEADER_LEN} bytes"),
                ));
            }
            let text = std::str::from_utf8(value).map_err(|_| {
                Error::verification(
                    ErrorKind::InvalidHeader,
                    format!("header {folded} is not valid UTF-8"),
                )
            })?;
            // Optional whitespace around a value is not part of it (RFC 9110 §5.5); anything
            // else that is not visible is refused below.
            let text = text.trim_matches([' ', '\t']);
            let text = if folded == "request-id" {
                request_id_text(text)
            } else {
                check_signed_header_value(&folded, text)?;
                text.to_owned()
            };
            if slot.replace(text).is_some() {
                return Err(Error::verification(
                    ErrorKind::InvalidHeader,
                    format!("header {folded} appears more than once"),
                ));
            }
        }
        Ok(h)
    }
}

/// A `Request-ID` as the SDK keeps it: the header is not signed and users log it, so control
/// characters (CR, LF, ESC, …) and the marks that reorder text are escaped (`\u{…}`) here,
/// once, and every error, notification and reply carries the escaped text.
pub fn request_id_text(value: &str) -> String {
    crate::error::escape_untrusted(value, MAX_HEADER_LEN)
}

/// Refuses a `Wechatpay-*` value holding anything but visible ASCII (`!` to `~`).
///
/// The signed text is `timestamp\nnonce\nbody\n`, so a line break inside a header value moves
/// the boundary between fields: nonce `N\nB1` with body `B2` is signed by the very signature of
/// nonce `N` with body `B1\nB2`, and a callback envelope that is only the tail of an authentic
/// body would verify. Every value WeChat Pay sends (digits, base64, hex serials, `PUB_KEY_ID_…`,
/// alphanumeric nonces, the scheme name) is visible ASCII. The error names the header and the
/// offending position, never the value (it is unauthenticated and may forge log lines).
fn check_signed_header_value(name: &str, value: &str) -> Result<()> {
    match value.bytes().position(|b| !b.is_ascii_graphic()) {
        None => Ok(()),
        Some(at) => Err(Error::verification(
            ErrorKind::InvalidHeader,
            format!(
                "header {name} holds a control, space or non-ASCII character at byte {at}; \
                 only visible ASCII is allowed (treat as forged)"
            ),
        )),
    }
}

/// How strictly timestamps are checked, and against which clock.
#[derive(Debug, Clone)]
pub struct VerificationPolicy {
    /// Reject when `|now − timestamp| >= max_skew` (a validated window, 1 s to one day).
    pub max_skew: MaxSkew,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

impl Default for VerificationPolicy {
    fn default() -> VerificationPolicy {
        VerificationPolicy {
            max_skew: MaxSkew::DEFAULT,
            clock: Arc::new(SystemClock),
        }
    }
}

impl VerificationPolicy {
    /// A policy with this window and clock.
    pub fn new(max_skew: MaxSkew, clock: Arc<dyn Clock>) -> VerificationPolicy {
        VerificationPolicy { max_skew, clock }
    }

    /// The default 300 s window with a custom clock.
    pub fn with_clock(clock: Arc<dyn Clock>) -> VerificationPolicy {
        VerificationPolicy {
            clock,
            ..VerificationPolicy::default()
        }
    }
}

/// The string to verify: `timestamp\nnonce\nbody\n` (an empty body gives `ts\nnonce\n\n`).
pub fn message_to_verify(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// What a successful verification establishes (serialises as `{serial, timestamp,
/// request_id}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// The serial or key id that signed.
    pub serial: String,
    /// The signed timestamp.
    pub timestamp: i64,
    /// The `Request-ID`, when present.
    pub request_id: Option<String>,
}

/// Verifies a signed response or callback: signature type, required headers, probe signatures,
/// the clock-skew window, then the signature over the raw `body` with the key named by
/// `Wechatpay-Serial`. Every failure carries the serial and Request-ID when known.
pub fn verify_signed(
    verifier: &dyn Verifier,
    policy: &VerificationPolicy,
    headers: &WechatpayHeaders,
    body: &[u8],
) -> Result<Verified> {
    verify_inner(verifier, policy, headers, body).map_err(|e| {
        e.with_message_context(
            headers.serial.as_deref(),
            headers.request_id.as_deref(),
            body,
        )
    })
}

fn verify_inner(
    verifier: &dyn Verifier,
    policy: &VerificationPolicy,
    headers: &WechatpayHeaders,
    body: &[u8],
) -> Result<Verified> {
    // Absent means RSA (Go and Java default to it); anything else is unsupported.
    if let Some(t) = headers.signature_type.as_deref()
        && t != AUTH_SCHEME
    {
        return Err(Error::verification(
            ErrorKind::UnsupportedSignatureType,
            format!("unsupported Wechatpay-Signature-Type {t:?} (expected {AUTH_SCHEME})"),
        ));
    }
    let required = |v: &Option<String>, name: &str| -> Result<String> {
        match v.as_deref() {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => Err(Error::verification(
                ErrorKind::MissingHeader,
                format!("the signed message lacks the {name} header (treat as forged)"),
            )),
        }
    };
    let timestamp_text = required(&headers.timestamp, "Wechatpay-Timestamp")?;
    let nonce = required(&headers.nonce, "Wechatpay-Nonce")?;
    let signature_text = required(&headers.signature, "Wechatpay-Signature")?;
    let serial = required(&headers.serial, "Wechatpay-Serial")?;

    if signature_text.starts_with(SIGNATURE_PROBE_PREFIX) {
        return Err(Error::verification(
            ErrorKind::SignatureProbe,
            "WeChat Pay signature probe (WECHATPAY/SIGNTEST/): deliberately invalid, rejected",
        ));
    }

    let timestamp = parse_timestamp(&timestamp_text)?;
    let now = policy.clock.now();
    let skew = now.abs_diff(timestamp);
    if skew >= u64::from(policy.max_skew.secs()) {
        return Err(Error::verification(
            ErrorKind::ClockSkew,
            format!(
                "Wechatpay-Timestamp {timestamp} is {skew} s away from now ({now}); the limit is \
                 {} (check this host's clock, or a replayed message)",
                policy.max_skew
            ),
        ));
    }

    let signature = STANDARD.decode(&signature_text).map_err(|_| {
        Error::verification(
            ErrorKind::SignatureInvalid,
            "Wechatpay-Signature is not valid base64",
        )
    })?;
    let message = message_to_verify(&timestamp_text, &nonce, body);
    verifier.verify(&serial, &message, &signature)?;
    Ok(Verified {
        serial,
        timestamp,
        request_id: headers.request_id.clone(),
    })
}

fn parse_timestamp(text: &str) -> Result<i64> {
    let invalid = || {
        Error::verification(
            ErrorKind::InvalidHeader,
            format!("Wechatpay-Timestamp {text:?} is not a Unix time in seconds"),
        )
    };
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse::<i64>().map_err(|_| invalid())
}

/// One platform certificate of a [`VerifierConfig`]: its PEM text, or an object with a `pem`
/// member (how a sandbox's `sandbox.json` and a certificate download list them).
#[derive(Deserialize)]
#[serde(untagged)]
enum CertificateText {
    Pem(Zeroizing<String>),
    Listed { pem: Zeroizing<String> },
}

/// What a sans-IO verifier trusts, from JSON under the client configuration's names: the
/// WeChat Pay public key (`public_key_id` + `public_key`, PEM text or a path; the older
/// `public_key_pem` is also accepted), `platform_certificates` (PEM strings or `{pem}`
/// objects), or both (combined mode, routed by serial). Unknown fields are refused: a
/// verifier silently built without the key a caller misspelt would reject every answer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifierConfig {
    #[serde(default)]
    public_key_id: Option<String>,
    #[serde(default)]
    public_key: Option<Zeroizing<String>>,
    #[serde(default)]
    public_key_pem: Option<Zeroizing<String>>,
    #[serde(default)]
    platform_certificates: Vec<CertificateText>,
}

/// A verifier built from a [`VerifierConfig`], with the keys it holds (what a binding's
/// verifier also hands out: the public key for sensitive fields, the certificates to list).
pub struct ConfiguredVerifier {
    /// The verifier: public key, certificates or both.
    pub verifier: Arc<dyn Verifier>,
    /// The WeChat Pay public key, when configured.
    pub public_key: Option<Arc<PublicKeyVerifier>>,
    /// The platform certificates, possibly none.
    pub certificates: CertificateSet,
}

impl VerifierConfig {
    /// Reads the configuration from JSON; a rejected value is described, never quoted (a key
    /// put in the wrong member must not come back in the error).
    pub fn from_json(json: &[u8]) -> Result<VerifierConfig> {
        serde_json::from_slice(json).map_err(|e| {
            Error::Configuration(format!(
                "invalid verifier configuration: {}",
                crate::redact::redact_quoted(&e.to_string())
            ))
        })
    }

    /// Loads the keys and builds the verifier.
    pub fn build(self) -> Result<ConfiguredVerifier> {
        let pem = match (self.public_key, self.public_key_pem) {
            (Some(_), Some(_)) => {
                return Err(Error::Configuration(
                    "give public_key (PEM text or a path) or its older name public_key_pem, \
                     not both"
                        .into(),
                ));
            }
            (Some(source), None) => {
                Some(KeySource::from_pem_or_path(source.as_str()).load("public_key")?)
            }
            (None, Some(pem)) => Some(pem),
            (None, None) => None,
        };
        let public_key = match (self.public_key_id, pem) {
            (Some(id), Some(pem)) => Some(Arc::new(PublicKeyVerifier::from_pem(id, &pem)?)),
            (None, None) => None,
            _ => {
                return Err(Error::Configuration(
                    "public_key_id and public_key go together".into(),
                ));
            }
        };
        let mut certificates = Vec::with_capacity(self.platform_certificates.len());
        for item in self.platform_certificates {
            let (CertificateText::Pem(pem) | CertificateText::Listed { pem }) = item;
            certificates.push(Arc::new(Certificate::from_pem(&pem)?));
        }
        let certificates = CertificateSet::new(certificates);
        let verifier: Arc<dyn Verifier> = match (&public_key, certificates.is_empty()) {
            (Some(key), true) => key.clone(),
            (Some(key), false) => Arc::new(CombinedVerifier::new(
                key.clone(),
                Arc::new(CertificateVerifier::new(certificates.clone())),
            )),
            (None, false) => Arc::new(CertificateVerifier::new(certificates.clone())),
            (None, true) => {
                return Err(Error::Configuration(
                    "a verifier needs public_key_id + public_key, platform_certificates, or both"
                        .into(),
                ));
            }
        };
        Ok(ConfiguredVerifier {
            verifier,
            public_key,
            certificates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_fold_case_and_django_spelling() {
        let h = WechatpayHeaders::from_pairs([
            ("WECHATPAY-TIMESTAMP", "1"),
            ("http_wechatpay_nonce", " n "),
            ("HTTP_WECHATPAY_SIGNATURE", "s"),
            ("wechatpay-serial", "S"),
            ("Request-Id", "r"),
            ("Content-Type", "application/json"),
        ])
        .unwrap();
        assert_eq!(h.timestamp.as_deref(), Some("1"));
        assert_eq!(h.nonce.as_deref(), Some("n"));
        assert_eq!(h.signature.as_deref(), Some("s"));
        assert_eq!(h.request_id.as_deref(), Some("r"));
    }

    #[test]
    fn a_request_id_keeps_no_control_character() {
        let raw = "08F1\r\nWechatpay-Serial: forged\u{1b}[2J\u{202e}";
        let h = WechatpayHeaders::from_pairs([("Request-ID", raw)]).unwrap();
        let kept = h.request_id.unwrap();
        assert!(
            !kept.contains(['\r', '\n', '\u{1b}', '\u{202e}']),
            "{kept:?}"
        );
        assert!(kept.starts_with("08F1\\u{d}\\u{a}"), "{kept:?}");
        #[cfg(feature = "client")]
        {
            let response = crate::http::HttpResponse {
                status: 500,
                headers: vec![("request-id".into(), raw.into())],
                body: Vec::new(),
            };
            assert_eq!(response.request_id().as_deref(), Some(kept.as_str()));
        }
    }

    #[test]
    fn duplicated_and_non_utf8_headers_are_rejected() {
        let e = WechatpayHeaders::from_pairs([("Wechatpay-Nonce", "a"), ("wechatpay-nonce", "b")])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidHeader);
        let e =
            WechatpayHeaders::from_pairs([("Wechatpay-Nonce", &[0xff_u8, 0xfe][..])]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidHeader);
    }

    #[test]
    fn timestamps_must_be_plain_digits() {
        assert_eq!(parse_timestamp("1700000000").unwrap(), 1_700_000_000);
        for bad in ["", "-1", "+5", "1.5", "17e8", "9999999999999"] {
            assert_eq!(
                parse_timestamp(bad).unwrap_err().kind(),
                ErrorKind::InvalidHeader
            );
        }
    }

    #[test]
    fn empty_body_message_layout() {
        assert_eq!(message_to_verify("1", "n", b""), b"1\nn\n\n");
    }
}
