//! The sans-IO protocol helpers, for users who keep their own HTTP stack: keys and signing,
//! the `Authorization` header, response/callback verification, platform certificates,
//! AEAD, sensitive fields, callbacks and the merchant-receipt check code.

use std::sync::Arc;

use goldplan::certificates;
use goldplan::clock::{Clock, ManualClock, SystemClock};
use goldplan::credentials::{ApiV3Key, MerchantCredentials, PrivateKey};
use goldplan::notification::{Acknowledgement, Notification, NotificationParser};
use goldplan::sensitive::{self, EncryptionKey};
use goldplan::sign::{self, Authorization, RsaSigner, SignedRequest};
use goldplan::verify::{
    self, CertificateVerifier, CombinedVerifier, MaxSkew, PublicKeyVerifier, VerificationPolicy,
    Verified, Verifier, WechatpayHeaders,
};
use goldplan::x509::{self, Certificate, CertificateSet};
use goldplan::{ErrorKind, aead, receipt};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

use crate::convert::{bytes_arg, headers_arg, pem_or_path, pem_text};
use crate::error::{guard, guard_detached, pyclass_to_py, to_pyerr};

/// A clock frozen at `now`, or the system clock.
pub(crate) fn clock(now: Option<i64>) -> Arc<dyn Clock> {
    match now {
        Some(t) => Arc::new(ManualClock::new(t)),
        None => Arc::new(SystemClock),
    }
}

/// The verification policy of a sans-IO helper: the skew window goes through the core's
/// validated [`MaxSkew`], exactly as for `Client`, so no helper can switch the check off.
fn policy(py: Python<'_>, now: Option<i64>, max_skew_secs: i64) -> PyResult<VerificationPolicy> {
    let max_skew = guard(py, || MaxSkew::from_secs(max_skew_secs))?;
    Ok(VerificationPolicy::new(max_skew, clock(now)))
}

/// The APIv3 key from `str` or `bytes`.
pub(crate) fn apiv3_key(value: &Bound<'_, PyAny>) -> PyResult<ApiV3Key> {
    let bytes = Zeroizing::new(bytes_arg(value, "apiv3_key")?);
    guard(value.py(), || ApiV3Key::new(&*bytes))
}

/// A private key from PEM text or a path.
fn private_key(value: &Bound<'_, PyAny>) -> PyResult<PrivateKey> {
    let source = pem_or_path(value, "private_key")?;
    guard(value.py(), || PrivateKey::from_source(&source))
}

fn bytes_out<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, data)
}

/// The merchant API private key (RSA). Signs and decrypts sensitive fields; its `repr()`
/// never shows key material.
#[pyclass(module = "goldplan._goldplan", name = "PrivateKey", frozen)]
pub(crate) struct PyPrivateKey {
    inner: PrivateKey,
}

#[pymethods]
impl PyPrivateKey {
    /// Parses PEM text (PKCS#8 or PKCS#1).
    #[staticmethod]
    fn from_pem(pem: &Bound<'_, PyAny>) -> PyResult<PyPrivateKey> {
        let text = Zeroizing::new(bytes_arg(pem, "pem")?);
        guard(pem.py(), || {
            let text = std::str::from_utf8(&text).map_err(|_| {
                goldplan::Error::Configuration("the private key PEM is not UTF-8 text".into())
            })?;
            PrivateKey::from_pem(text)
        })
        .map(|inner| PyPrivateKey { inner })
    }

    /// Reads a PEM file such as `apiclient_key.pem`.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<PyPrivateKey> {
        guard(py, || PrivateKey::from_pem_file(&path)).map(|inner| PyPrivateKey { inner })
    }

    /// Key size in bits.
    #[getter]
    fn bits(&self) -> usize {
        self.inner.bits()
    }

    /// The public half as SubjectPublicKeyInfo DER.
    #[getter]
    fn public_key_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes_out(py, self.inner.public_key_der())
    }

    /// base64 RSASSA-PKCS1-v1_5/SHA-256 signature of `message`.
    fn sign(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<String> {
        let message = bytes_arg(message, "message")?;
        guard_detached(py, || sign::sign_base64(&self.inner, &message))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// The merchant identity that signs requests: mchid, certificate serial and private key.
#[pyclass(module = "goldplan._goldplan", name = "Signer", frozen)]
pub(crate) struct PySigner {
    inner: RsaSigner,
}

#[pymethods]
impl PySigner {
    /// `private_key` is PEM text or a path; `certificate` (the merchant's
    /// `apiclient_cert.pem`, text or path), when given, must match the key and serial.
    #[new]
    #[pyo3(signature = (mchid, serial_no, private_key, *, certificate=None))]
    fn new(
        mchid: &str,
        serial_no: &str,
        private_key: &Bound<'_, PyAny>,
        certificate: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PySigner> {
        let py = private_key.py();
        let key = self::private_key(private_key)?;
        let credentials = match certificate {
            Some(cert) => {
                let cert = pem_text(cert, "merchant certificate")?;
                guard(py, || {
                    MerchantCredentials::with_certificate(mchid, serial_no, key, &cert)
                })?
            }
            None => guard(py, || MerchantCredentials::new(mchid, serial_no, key))?,
        };
        Ok(PySigner {
            inner: RsaSigner::new(credentials),
        })
    }

    /// Caller merchant id.
    #[getter]
    fn mchid(&self) -> &str {
        self.inner.credentials().mchid()
    }

    /// Merchant certificate serial (upper-case hex).
    #[getter]
    fn serial_no(&self) -> &str {
        self.inner.credentials().serial_no()
    }

    /// base64 signature of `message`.
    fn sign(&self, py: Python<'_>, message: &Bound<'_, PyAny>) -> PyResult<String> {
        let message = bytes_arg(message, "message")?;
        guard_detached(py, || self.inner.sign_blocking(&message))
    }

    /// Signs a request with a fresh nonce and the current (or the given) timestamp. Send
    /// `canonical_url` and `body` exactly as signed, with the `authorization` header.
    #[pyo3(signature = (method, path, body=None, *, timestamp=None))]
    fn sign_request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        body: Option<&Bound<'_, PyAny>>,
        timestamp: Option<i64>,
    ) -> PyResult<PySignedRequest> {
        let body = body
            .map(|b| bytes_arg(b, "body"))
            .transpose()?
            .unwrap_or_default();
        let clock = clock(timestamp);
        guard_detached(py, || {
            sign::sign_request_blocking(&self.inner, clock.as_ref(), method, path, &body)
        })
        .map(|inner| PySignedRequest { inner })
    }

    fn __repr__(&self) -> String {
        format!(
            "Signer(mchid={:?}, serial_no={:?})",
            self.mchid(),
            self.serial_no()
        )
    }
}

/// A signed request: the exact method and URL to send, and the `Authorization` parameters.
#[pyclass(module = "goldplan._goldplan", name = "SignedRequest", frozen)]
pub(crate) struct PySignedRequest {
    inner: SignedRequest,
}

#[pymethods]
impl PySignedRequest {
    /// Upper-case method.
    #[getter]
    fn method(&self) -> &str {
        &self.inner.method
    }

    /// The path and query to put on the wire.
    #[getter]
    fn canonical_url(&self) -> &str {
        &self.inner.canonical_url
    }

    /// The `Authorization` parameters.
    #[getter]
    fn authorization(&self) -> PyAuthorization {
        PyAuthorization {
            inner: self.inner.authorization.clone(),
        }
    }

    /// The `Authorization` header value.
    #[getter]
    fn authorization_header(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || self.inner.authorization.header_value())
    }

    fn __repr__(&self) -> String {
        format!(
            "SignedRequest(method={:?}, canonical_url={:?})",
            self.inner.method, self.inner.canonical_url
        )
    }
}

/// The five `Authorization` parameters (`WECHATPAY2-SHA256-RSA2048 mchid="…",…`).
#[pyclass(module = "goldplan._goldplan", name = "Authorization", frozen, eq)]
#[derive(PartialEq)]
pub(crate) struct PyAuthorization {
    inner: Authorization,
}

#[pymethods]
impl PyAuthorization {
    #[new]
    fn new(
        mchid: String,
        nonce_str: String,
        timestamp: i64,
        serial_no: String,
        signature: String,
    ) -> PyAuthorization {
        PyAuthorization {
            inner: Authorization {
                mchid,
                nonce_str,
                timestamp,
                serial_no,
                signature,
            },
        }
    }

    /// Parses a header value (parameters in any order).
    #[staticmethod]
    fn parse(py: Python<'_>, header: &str) -> PyResult<PyAuthorization> {
        guard(py, || Authorization::parse(header)).map(|inner| PyAuthorization { inner })
    }

    /// The header value, parameters in the Go/Java order.
    fn header_value(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || self.inner.header_value())
    }

    #[getter]
    fn mchid(&self) -> &str {
        &self.inner.mchid
    }
    #[getter]
    fn nonce_str(&self) -> &str {
        &self.inner.nonce_str
    }
    #[getter]
    fn timestamp(&self) -> i64 {
        self.inner.timestamp
    }
    #[getter]
    fn serial_no(&self) -> &str {
        &self.inner.serial_no
    }
    #[getter]
    fn signature(&self) -> &str {
        &self.inner.signature
    }

    fn __repr__(&self) -> String {
        format!(
            "Authorization(mchid={:?}, timestamp={}, serial_no={:?})",
            self.inner.mchid, self.inner.timestamp, self.inner.serial_no
        )
    }
}

/// The string to sign: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
#[pyfunction]
pub(crate) fn message_to_sign<'py>(
    py: Python<'py>,
    method: &str,
    canonical_url: &str,
    timestamp: i64,
    nonce: &str,
    body: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let body = bytes_arg(body, "body")?;
    let message = guard(py, || {
        sign::message_to_sign(method, canonical_url, timestamp, nonce, &body)
    })?;
    Ok(bytes_out(py, &message))
}

/// The string to verify: `TIMESTAMP\nNONCE\nBODY\n`.
#[pyfunction]
pub(crate) fn message_to_verify<'py>(
    py: Python<'py>,
    timestamp: &str,
    nonce: &str,
    body: &Bound<'_, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let body = bytes_arg(body, "body")?;
    Ok(bytes_out(
        py,
        &verify::message_to_verify(timestamp, nonce, &body),
    ))
}

/// The canonical URL line of a request-target (`/path?query`).
#[pyfunction]
pub(crate) fn canonical_url(py: Python<'_>, path_and_query: &str) -> PyResult<String> {
    guard(py, || sign::canonical_url(path_and_query))
}

/// A fresh 32-character nonce from the OS CSPRNG.
#[pyfunction]
pub(crate) fn generate_nonce(py: Python<'_>) -> PyResult<String> {
    guard(py, sign::generate_nonce)
}

/// Verifies WeChat Pay signatures of responses and callbacks with the public key, platform
/// certificates, or both.
#[pyclass(module = "goldplan._goldplan", name = "Verifier", frozen)]
pub(crate) struct PyVerifier {
    pub(crate) inner: Arc<dyn Verifier>,
}

fn certificate_set(pems: Vec<Bound<'_, PyAny>>) -> PyResult<CertificateSet> {
    let mut certs = Vec::with_capacity(pems.len());
    for pem in pems {
        let py = pem.py();
        let text = pem_text(&pem, "platform certificate")?;
        certs.push(Arc::new(guard(py, || Certificate::from_pem(&text))?));
    }
    Ok(CertificateSet::new(certs))
}

fn public_key_verifier(key_id: &str, pem: &Bound<'_, PyAny>) -> PyResult<PublicKeyVerifier> {
    let text = pem_text(pem, "WeChat Pay public key")?;
    guard(pem.py(), || PublicKeyVerifier::from_pem(key_id, &text))
}

#[pymethods]
impl PyVerifier {
    /// Public-key mode: the `PUB_KEY_ID_…` id and the public key (PEM text or path).
    #[staticmethod]
    fn public_key(key_id: &str, public_key: &Bound<'_, PyAny>) -> PyResult<PyVerifier> {
        Ok(PyVerifier {
            inner: Arc::new(public_key_verifier(key_id, public_key)?),
        })
    }

    /// Platform certificates (PEM text or paths).
    #[staticmethod]
    fn certificates(certificates: Vec<Bound<'_, PyAny>>) -> PyResult<PyVerifier> {
        Ok(PyVerifier {
            inner: Arc::new(CertificateVerifier::new(certificate_set(certificates)?)),
        })
    }

    /// Both, routed by serial (migration from certificates to the public key).
    #[staticmethod]
    fn combined(
        key_id: &str,
        public_key: &Bound<'_, PyAny>,
        certificates: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<PyVerifier> {
        let pk = Arc::new(public_key_verifier(key_id, public_key)?);
        let certs = Arc::new(CertificateVerifier::new(certificate_set(certificates)?));
        Ok(PyVerifier {
            inner: Arc::new(CombinedVerifier::new(pk, certs)),
        })
    }

    /// The serial or key id to send in `Wechatpay-Serial`.
    #[getter]
    fn accept_serial(&self) -> Option<String> {
        self.inner.accept_serial()
    }

    /// Verifies a signed response or callback over its raw body; `now` freezes the clock.
    #[pyo3(signature = (headers, body, *, now=None, max_skew_secs=verify::DEFAULT_MAX_SKEW_SECS))]
    fn verify(
        &self,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
        now: Option<i64>,
        max_skew_secs: i64,
    ) -> PyResult<PyVerified> {
        let py = headers.py();
        let pairs = headers_arg(headers)?;
        let body = bytes_arg(body, "body")?;
        let policy = policy(py, now, max_skew_secs)?;
        guard(py, || {
            let h = WechatpayHeaders::from_pairs(pairs.iter().map(|(n, v)| (n, v)))?;
            verify::verify_signed(self.inner.as_ref(), &policy, &h, &body)
        })
        .map(|inner| PyVerified { inner })
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// What a successful verification establishes.
#[pyclass(module = "goldplan._goldplan", name = "Verified", frozen)]
pub(crate) struct PyVerified {
    inner: Verified,
}

#[pymethods]
impl PyVerified {
    /// The serial or key id that signed.
    #[getter]
    fn serial(&self) -> &str {
        &self.inner.serial
    }
    /// The signed timestamp.
    #[getter]
    fn timestamp(&self) -> i64 {
        self.inner.timestamp
    }
    /// The `Request-ID`, when present.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "Verified(serial={:?}, timestamp={}, request_id={:?})",
            self.inner.serial, self.inner.timestamp, self.inner.request_id
        )
    }
}

/// A WeChat Pay platform certificate.
#[pyclass(module = "goldplan._goldplan", name = "PlatformCertificate", frozen)]
pub(crate) struct PyPlatformCertificate {
    pub(crate) inner: Arc<Certificate>,
}

#[pymethods]
impl PyPlatformCertificate {
    /// Parses one PEM certificate (text or path).
    #[staticmethod]
    fn from_pem(pem: &Bound<'_, PyAny>) -> PyResult<PyPlatformCertificate> {
        let text = pem_text(pem, "certificate")?;
        guard(pem.py(), || Certificate::from_pem(&text))
            .map(|c| PyPlatformCertificate { inner: Arc::new(c) })
    }
    /// Serial as upper-case hex of its bytes (as sent in `Wechatpay-Serial`).
    #[getter]
    fn serial_no(&self) -> &str {
        self.inner.serial_hex()
    }
    /// NotBefore, Unix seconds.
    #[getter]
    fn not_before(&self) -> i64 {
        self.inner.not_before()
    }
    /// NotAfter, Unix seconds.
    #[getter]
    fn not_after(&self) -> i64 {
        self.inner.not_after()
    }
    /// The certificate as PEM.
    #[getter]
    fn pem(&self) -> &str {
        self.inner.pem()
    }
    /// SubjectPublicKeyInfo DER of its key.
    #[getter]
    fn public_key_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes_out(py, self.inner.public_key_der())
    }
    /// Whether `now` lies in the validity window (± `tolerance` seconds).
    #[pyo3(signature = (now, tolerance=x509::VALIDITY_TOLERANCE_SECS))]
    fn is_valid_at(&self, now: i64, tolerance: i64) -> bool {
        self.inner.is_valid_at(now, tolerance)
    }
    fn __repr__(&self) -> String {
        format!(
            "PlatformCertificate(serial_no={:?}, not_before={}, not_after={})",
            self.inner.serial_hex(),
            self.inner.not_before(),
            self.inner.not_after()
        )
    }
}

pub(crate) fn certificate_list(set: &CertificateSet) -> Vec<PyPlatformCertificate> {
    set.iter()
        .map(|c| PyPlatformCertificate { inner: c.clone() })
        .collect()
}

/// The outcome of [`decrypt_certificates`].
#[pyclass(module = "goldplan._goldplan", name = "DownloadedCertificates", frozen)]
pub(crate) struct PyDownloadedCertificates {
    set: CertificateSet,
    dropped: Vec<(String, String)>,
}

#[pymethods]
impl PyDownloadedCertificates {
    /// Certificates that decrypted, matched their listing and are valid now.
    #[getter]
    fn certificates(&self) -> Vec<PyPlatformCertificate> {
        certificate_list(&self.set)
    }
    /// `(serial_no, reason)` of the entries that were listed but not kept.
    #[getter]
    fn dropped(&self) -> Vec<(String, String)> {
        self.dropped.clone()
    }
    /// The certificate to encrypt with and to advertise (spec §3.4).
    #[getter]
    fn newest(&self) -> Option<PyPlatformCertificate> {
        self.set
            .newest()
            .map(|c| PyPlatformCertificate { inner: c.clone() })
    }
    fn __repr__(&self) -> String {
        let serials: Vec<&str> = self.set.iter().map(|c| c.serial_hex()).collect();
        format!(
            "DownloadedCertificates(certificates={serials:?}, dropped={})",
            self.dropped.len()
        )
    }
}

/// Decrypts, matches and verifies a `GET /v3/certificates` response (spec §3.3): the
/// signature is checked against `trusted` plus the downloaded certificates (or the public key
/// when given).
#[pyfunction]
#[pyo3(signature = (headers, body, apiv3_key, *, trusted=Vec::new(), public_key_id=None, public_key=None, now=None, max_skew_secs=verify::DEFAULT_MAX_SKEW_SECS))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn decrypt_certificates(
    headers: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    apiv3_key: &Bound<'_, PyAny>,
    trusted: Vec<Bound<'_, PyAny>>,
    public_key_id: Option<&str>,
    public_key: Option<&Bound<'_, PyAny>>,
    now: Option<i64>,
    max_skew_secs: i64,
) -> PyResult<PyDownloadedCertificates> {
    let py = headers.py();
    let pairs = headers_arg(headers)?;
    let body = bytes_arg(body, "body")?;
    let key = self::apiv3_key(apiv3_key)?;
    let trusted = certificate_set(trusted)?;
    let pk = match (public_key_id, public_key) {
        (Some(id), Some(pem)) => Some(public_key_verifier(id, pem)?),
        (None, None) => None,
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "public_key_id and public_key go together",
            ));
        }
    };
    let policy = policy(py, now, max_skew_secs)?;
    let downloaded = guard(py, || {
        let h = WechatpayHeaders::from_pairs(pairs.iter().map(|(n, v)| (n, v)))?;
        certificates::validate_download(&h, &body, &key, &trusted, pk.as_ref(), &policy)
    })?;
    Ok(PyDownloadedCertificates {
        set: downloaded.certificates,
        dropped: downloaded
            .dropped
            .into_iter()
            .map(|d| (d.serial_no, d.reason))
            .collect(),
    })
}

/// AEAD_AES_256_GCM decryption with the APIv3 key.
#[pyfunction]
pub(crate) fn aead_decrypt<'py>(
    apiv3_key: &Bound<'py, PyAny>,
    associated_data: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    ciphertext: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = apiv3_key.py();
    let key = self::apiv3_key(apiv3_key)?;
    let aad = bytes_arg(associated_data, "associated_data")?;
    let nonce = bytes_arg(nonce, "nonce")?;
    let plain = guard(py, || aead::decrypt(&key, &aad, &nonce, ciphertext))?;
    Ok(bytes_out(py, &plain))
}

/// AEAD_AES_256_GCM encryption with the APIv3 key; returns base64(ciphertext ‖ tag).
#[pyfunction]
pub(crate) fn aead_encrypt(
    apiv3_key: &Bound<'_, PyAny>,
    associated_data: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    plaintext: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let py = apiv3_key.py();
    let key = self::apiv3_key(apiv3_key)?;
    let aad = bytes_arg(associated_data, "associated_data")?;
    let nonce = bytes_arg(nonce, "nonce")?;
    let plain = Zeroizing::new(bytes_arg(plaintext, "plaintext")?);
    guard(py, || aead::encrypt(&key, &aad, &nonce, &plain))
}

/// A WeChat Pay key that sensitive fields are encrypted to (RSA-OAEP).
#[pyclass(module = "goldplan._goldplan", name = "EncryptionKey", frozen)]
pub(crate) struct PyEncryptionKey {
    inner: EncryptionKey,
}

#[pymethods]
impl PyEncryptionKey {
    /// The WeChat Pay public key (PEM text or path) and its id.
    #[staticmethod]
    fn from_public_key(key_id: &str, public_key: &Bound<'_, PyAny>) -> PyResult<PyEncryptionKey> {
        let pk = public_key_verifier(key_id, public_key)?;
        guard(public_key.py(), || EncryptionKey::from_public_key(&pk))
            .map(|inner| PyEncryptionKey { inner })
    }

    /// A platform certificate (PEM text or path); use the newest one.
    #[staticmethod]
    fn from_certificate(certificate: &Bound<'_, PyAny>) -> PyResult<PyEncryptionKey> {
        let py = certificate.py();
        let text = pem_text(certificate, "certificate")?;
        guard(py, || {
            EncryptionKey::from_certificate(&Certificate::from_pem(&text)?)
        })
        .map(|inner| PyEncryptionKey { inner })
    }

    /// The value for the `Wechatpay-Serial` request header.
    #[getter]
    fn wechatpay_serial(&self) -> &str {
        self.inner.wechatpay_serial()
    }

    /// Largest plaintext in UTF-8 bytes.
    #[getter]
    fn max_plaintext_len(&self) -> usize {
        self.inner.max_plaintext_len()
    }

    /// Encrypts one field (base64); an empty string stays empty.
    fn encrypt(&self, py: Python<'_>, plaintext: &str) -> PyResult<String> {
        guard(py, || self.inner.encrypt(plaintext))
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// Decrypts a sensitive field with the merchant private key (PEM text, path or `PrivateKey`).
#[pyfunction]
pub(crate) fn decrypt_sensitive(
    private_key: &Bound<'_, PyAny>,
    ciphertext: &str,
) -> PyResult<String> {
    let py = private_key.py();
    if let Ok(key) = private_key.cast::<PyPrivateKey>() {
        return guard(py, || sensitive::decrypt(&key.get().inner, ciphertext))
            .map(|s| s.to_string());
    }
    let key = self::private_key(private_key)?;
    guard(py, || sensitive::decrypt(&key, ciphertext)).map(|s| s.to_string())
}

/// A Python callable `(notification_id) -> bool` that reports ids already processed.
///
/// It is asked here, with the GIL held on the caller's thread (the event loop's for
/// `AsyncClient`), after the core has verified and decrypted the callback, instead of being
/// handed to the core as a [`goldplan::notification::ReplayGuard`]: that trait answers only
/// `bool`, so an exception in the guard could only become "not seen" (the callback accepted
/// although nobody checked it) or "seen" (a `ReplayError`, which callers acknowledge as success,
/// so WeChat Pay would never re-deliver a callback that was never processed).
pub(crate) struct PyReplayGuard(Py<PyAny>);

impl PyReplayGuard {
    /// Accepts `notification` only when the guard answers a falsy value. A duplicate is the
    /// core's `ReplayError`; a guard that raises (or answers an awaitable, or something without
    /// a truth value) fails the parse with `InvalidInputError`, whose `__cause__` is the guard's
    /// exception, as in Node: its acknowledgement is a failure, so WeChat Pay re-delivers. An
    /// exception that is not an `Exception` (`KeyboardInterrupt`, `SystemExit`) propagates.
    pub(crate) fn check(&self, py: Python<'_>, notification: &Notification) -> PyResult<()> {
        let id = notification.id.as_str();
        let answer = match self.0.call1(py, (id,)) {
            Ok(answer) => answer,
            Err(e) => return Err(guard_failed(py, e)),
        };
        let answer = answer.bind(py);
        if answer.hasattr(pyo3::intern!(py, "__await__"))? {
            // An `async def` guard: its coroutine is truthy, which would report every callback
            // as a replay. Closed so that Python does not warn that it was never awaited.
            if answer.hasattr(pyo3::intern!(py, "close"))? {
                answer.call_method0(pyo3::intern!(py, "close"))?;
            }
            return Err(to_pyerr(
                py,
                &goldplan::Error::InvalidInput(
                    "the replay guard returned an awaitable; it must be a plain function \
                     returning a bool"
                        .into(),
                ),
            ));
        }
        match answer.is_truthy() {
            Ok(false) => Ok(()),
            Ok(true) => Err(to_pyerr(py, &goldplan::Error::Replay { id: id.to_owned() })),
            Err(e) => Err(guard_failed(py, e)),
        }
    }
}

/// The error for a replay guard that raised `cause`.
fn guard_failed(py: Python<'_>, cause: PyErr) -> PyErr {
    if !cause.is_instance_of::<pyo3::exceptions::PyException>(py) {
        return cause;
    }
    let err = to_pyerr(
        py,
        // The guard's own message may hold what it connects to (a database URL): it stays on
        // `__cause__`, out of a message that gets logged.
        &goldplan::Error::InvalidInput(format!(
            "the replay guard raised {}; see __cause__",
            cause
                .get_type(py)
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )),
    );
    err.set_cause(py, Some(cause));
    err
}

/// The replay guard argument: `None` or a callable.
pub(crate) fn replay_guard(guard: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PyReplayGuard>> {
    match guard {
        None => Ok(None),
        Some(g) if g.is_callable() => Ok(Some(PyReplayGuard(g.clone().unbind()))),
        Some(_) => Err(pyo3::exceptions::PyTypeError::new_err(
            "replay_guard must be a callable taking the notification id and returning a bool",
        )),
    }
}

/// Verifies and decrypts callbacks for one merchant, without a client.
#[pyclass(module = "goldplan._goldplan", name = "NotificationParser", frozen)]
pub(crate) struct PyNotificationParser {
    inner: NotificationParser,
    replay_guard: Option<PyReplayGuard>,
}

#[pymethods]
impl PyNotificationParser {
    /// `now` freezes the clock (tests); `max_skew_secs` is the accepted age of a callback;
    /// `replay_guard(notification_id) -> bool` reports ids already processed (`True` raises
    /// `ReplayError`; a guard that raises fails the parse with `InvalidInputError` chained to
    /// its exception).
    #[new]
    #[pyo3(signature = (verifier, apiv3_key, *, now=None, max_skew_secs=verify::DEFAULT_MAX_SKEW_SECS, replay_guard=None))]
    fn new(
        verifier: &PyVerifier,
        apiv3_key: &Bound<'_, PyAny>,
        now: Option<i64>,
        max_skew_secs: i64,
        replay_guard: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyNotificationParser> {
        let py = apiv3_key.py();
        let key = self::apiv3_key(apiv3_key)?;
        let inner = NotificationParser::new(verifier.inner.clone(), key).with_policy(policy(
            py,
            now,
            max_skew_secs,
        )?);
        Ok(PyNotificationParser {
            inner,
            replay_guard: self::replay_guard(replay_guard)?,
        })
    }

    /// Verifies the raw body and headers, then decrypts the resource.
    fn parse(
        &self,
        headers: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
    ) -> PyResult<PyNotification> {
        let py = headers.py();
        let pairs = headers_arg(headers)?;
        let body = bytes_arg(body, "body")?;
        let notification = guard(py, || {
            self.inner.parse(pairs.iter().map(|(n, v)| (n, v)), &body)
        })?;
        if let Some(replay_guard) = &self.replay_guard {
            replay_guard.check(py, &notification)?;
        }
        Ok(PyNotification::from(notification))
    }
}

/// A verified, decrypted callback. `repr()` omits the decrypted resource.
#[pyclass(module = "goldplan._goldplan", name = "Notification", frozen)]
pub(crate) struct PyNotification {
    inner: Notification,
}

impl From<Notification> for PyNotification {
    fn from(inner: Notification) -> PyNotification {
        PyNotification { inner }
    }
}

#[pymethods]
impl PyNotification {
    /// Notification id (de-duplicate on it).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// `create_time` as sent.
    #[getter]
    fn create_time(&self) -> &str {
        &self.inner.create_time
    }
    /// e.g. `TRANSACTION.SUCCESS`.
    #[getter]
    fn event_type(&self) -> &str {
        &self.inner.event_type
    }
    /// e.g. `encrypt-resource`.
    #[getter]
    fn resource_type(&self) -> &str {
        &self.inner.resource_type
    }
    /// Summary, when sent.
    #[getter]
    fn summary(&self) -> Option<&str> {
        self.inner.summary.as_deref()
    }
    /// `resource.original_type`, when sent.
    #[getter]
    fn original_type(&self) -> Option<&str> {
        self.inner.original_type.as_deref()
    }
    /// `Request-ID`, when sent.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    /// The serial or key id that signed it.
    #[getter]
    fn serial(&self) -> &str {
        &self.inner.serial
    }
    /// The decrypted resource (JSON text).
    #[getter]
    fn plaintext(&self) -> &str {
        self.inner.plaintext()
    }
    /// The decrypted resource, parsed.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.inner.plaintext(),))
    }
    fn __repr__(&self) -> String {
        format!(
            "Notification(id={:?}, event_type={:?}, create_time={:?}, serial={:?})",
            self.inner.id, self.inner.event_type, self.inner.create_time, self.inner.serial
        )
    }
}

/// The HTTP answer to give WeChat Pay for a callback (spec §4.3).
#[pyclass(
    module = "goldplan._goldplan",
    name = "Acknowledgement",
    frozen,
    get_all
)]
pub(crate) struct PyAcknowledgement {
    /// HTTP status.
    status: u16,
    /// JSON body (empty on success).
    body: String,
}

#[pymethods]
impl PyAcknowledgement {
    fn __repr__(&self) -> String {
        format!(
            "Acknowledgement(status={}, body={:?})",
            self.status, self.body
        )
    }
}

/// The acknowledgement for a callback: success without an error; for a `GoldPlanError`, the
/// answer its kind calls for (a replay is acknowledged; anything else is a failure).
#[pyfunction]
#[pyo3(signature = (error=None))]
pub(crate) fn acknowledgement(error: Option<&Bound<'_, PyAny>>) -> PyResult<PyAcknowledgement> {
    let ack = match error {
        None => Acknowledgement::success(),
        Some(e) => {
            let kind = e
                .getattr("kind")
                .ok()
                .and_then(|k| k.extract::<String>().ok())
                .and_then(|k| ErrorKind::from_name(&k));
            match kind {
                Some(kind) => Acknowledgement::for_kind(kind),
                None => Acknowledgement::failure(500, "internal"),
            }
        }
    };
    Ok(PyAcknowledgement {
        status: ack.status,
        body: ack.body,
    })
}

/// The exact string whose MD5 is the receipt `check_code`.
#[pyfunction]
pub(crate) fn check_code_input(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
) -> String {
    receipt::check_code_input(configured_link, sub_mch_id, out_trade_no, transaction_id)
}

/// The expected receipt `check_code` (lower-case hex MD5).
#[pyfunction]
pub(crate) fn expected_check_code(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
) -> String {
    receipt::expected_check_code(configured_link, sub_mch_id, out_trade_no, transaction_id)
}

/// Whether `check_code` is the one WeChat computed (constant time, case-insensitive). Pass the
/// values exactly as they appear in the received URL.
#[pyfunction]
pub(crate) fn verify_receipt_check_code(
    configured_link: &str,
    sub_mch_id: &str,
    out_trade_no: &str,
    transaction_id: &str,
    check_code: &str,
) -> bool {
    receipt::verify_check_code(
        configured_link,
        sub_mch_id,
        out_trade_no,
        transaction_id,
        check_code,
    )
}

/// One query parameter as received (`raw`) and percent-decoded (`decoded`).
#[pyclass(module = "goldplan._goldplan", name = "QueryValue", frozen, get_all)]
#[derive(Clone)]
pub(crate) struct PyQueryValue {
    raw: String,
    decoded: String,
}

impl From<&receipt::QueryValue> for PyQueryValue {
    fn from(v: &receipt::QueryValue) -> PyQueryValue {
        PyQueryValue {
            raw: v.raw.clone(),
            decoded: v.decoded.clone(),
        }
    }
}

#[pymethods]
impl PyQueryValue {
    fn __repr__(&self) -> String {
        format!("QueryValue(raw={:?}, decoded={:?})", self.raw, self.decoded)
    }
}

/// The three parameters WeChat appends to the receipt link.
#[pyclass(module = "goldplan._goldplan", name = "ReceiptParams", frozen)]
pub(crate) struct PyReceiptParams {
    inner: receipt::ReceiptParams,
}

#[pymethods]
impl PyReceiptParams {
    #[getter]
    fn sub_mch_id(&self) -> PyQueryValue {
        PyQueryValue::from(&self.inner.sub_mch_id)
    }
    #[getter]
    fn out_trade_no(&self) -> PyQueryValue {
        PyQueryValue::from(&self.inner.out_trade_no)
    }
    #[getter]
    fn check_code(&self) -> PyQueryValue {
        PyQueryValue::from(&self.inner.check_code)
    }
    /// Checks the received `check_code` against the order's `transaction_id`.
    fn verify(&self, configured_link: &str, transaction_id: &str) -> bool {
        self.inner.verify(configured_link, transaction_id)
    }
    fn __repr__(&self) -> String {
        format!(
            "ReceiptParams(sub_mch_id={:?}, out_trade_no={:?})",
            self.inner.sub_mch_id.raw, self.inner.out_trade_no.raw
        )
    }
}

/// Parses a received receipt URL (or its query string).
#[pyfunction]
pub(crate) fn parse_receipt_query(py: Python<'_>, url: &str) -> PyResult<PyReceiptParams> {
    guard(py, || receipt::parse_receipt_query(url)).map(|inner| PyReceiptParams { inner })
}

pyclass_to_py!(PyNotification, PyPlatformCertificate);

impl crate::error::ToPy for Vec<PyPlatformCertificate> {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list = pyo3::types::PyList::empty(py);
        for c in self {
            list.append(Py::new(py, c)?)?;
        }
        Ok(list.into_any().unbind())
    }
}
