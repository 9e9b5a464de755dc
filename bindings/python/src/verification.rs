//! Verification of WeChat Pay's signatures on responses and callbacks: the `Verifier` (public
//! key, platform certificates or both), what it establishes, the message it checks, and the
//! skew policy every sans-IO helper shares.

use std::sync::Arc;

use goldplan::verify::{
    self, CertificateVerifier, CombinedVerifier, MaxSkew, VerificationPolicy, Verified, Verifier,
    WechatpayHeaders,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{bytes_arg, bytes_out, clock, headers_arg};
use crate::error::guard;
use crate::keys::{certificate_set, public_key_verifier};

/// The verification policy of a sans-IO helper: the skew window goes through the core's
/// validated [`MaxSkew`], exactly as for `Client`, so no helper can switch the check off.
pub(crate) fn policy(
    py: Python<'_>,
    now: Option<i64>,
    max_skew_secs: i64,
) -> PyResult<VerificationPolicy> {
    let max_skew = guard(py, || MaxSkew::from_secs(max_skew_secs))?;
    Ok(VerificationPolicy::new(max_skew, clock(now)))
}

/// The string to verify: `TIMESTAMP\nNONCE\nBODY\n`. The body is optional, as in the
/// registry: a `204 No Content` answer has none, and its line is then empty.
#[pyfunction]
#[pyo3(signature = (timestamp, nonce, body=None))]
pub(crate) fn message_to_verify<'py>(
    py: Python<'py>,
    timestamp: &str,
    nonce: &str,
    body: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let body = body
        .map(|b| bytes_arg(b, "body"))
        .transpose()?
        .unwrap_or_default();
    Ok(bytes_out(
        py,
        &verify::message_to_verify(timestamp, nonce, &body),
    ))
}

/// Verifies WeChat Pay signatures of responses and callbacks with the public key, platform
/// certificates, or both.
#[pyclass(module = "goldplan._goldplan", name = "Verifier", frozen)]
pub(crate) struct PyVerifier {
    pub(crate) inner: Arc<dyn Verifier>,
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
