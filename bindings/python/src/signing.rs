//! Request signing: the `Signer` identity, the signed request and its `Authorization`
//! header, and the pieces a hand-rolled HTTP stack needs (the message to sign, the canonical
//! URL, a nonce).

use goldplan::credentials::MerchantCredentials;
use goldplan::sign::{self, Authorization, RsaSigner, SignedRequest};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{bytes_arg, bytes_out, clock, pem_text};
use crate::error::{guard, guard_detached};

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
        let key = crate::keys::private_key(private_key)?;
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

/// The string to sign: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`. The body is optional, as
/// in the registry: a `GET` has none, and its line is then empty.
#[pyfunction]
#[pyo3(signature = (method, canonical_url, timestamp, nonce, body=None))]
pub(crate) fn message_to_sign<'py>(
    py: Python<'py>,
    method: &str,
    canonical_url: &str,
    timestamp: i64,
    nonce: &str,
    body: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let body = body
        .map(|b| bytes_arg(b, "body"))
        .transpose()?
        .unwrap_or_default();
    let message = guard(py, || {
        sign::message_to_sign(method, canonical_url, timestamp, nonce, &body)
    })?;
    Ok(bytes_out(py, &message))
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
