//! Key material from Python arguments: the APIv3 key, the merchant private key (and its
//! `PrivateKey` class), the WeChat Pay public key and trusted platform certificates. Every
//! other helper module reads its keys through here, so each kind of key has one parser.

use std::sync::Arc;

use goldplan::credentials::{ApiV3Key, PrivateKey};
use goldplan::sign;
use goldplan::verify::PublicKeyVerifier;
use goldplan::x509::{Certificate, CertificateSet};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

use crate::convert::{bytes_arg, bytes_out, pem_or_path, pem_text};
use crate::error::{guard, guard_detached};

/// The APIv3 key from `str` or `bytes`.
pub(crate) fn apiv3_key(value: &Bound<'_, PyAny>) -> PyResult<ApiV3Key> {
    let bytes = Zeroizing::new(bytes_arg(value, "apiv3_key")?);
    guard(value.py(), || ApiV3Key::new(&*bytes))
}

/// A private key from PEM text or a path.
pub(crate) fn private_key(value: &Bound<'_, PyAny>) -> PyResult<PrivateKey> {
    let source = pem_or_path(value, "private_key")?;
    guard(value.py(), || PrivateKey::from_source(&source))
}

/// The merchant API private key (RSA). Signs and decrypts sensitive fields; its `repr()`
/// never shows key material.
#[pyclass(module = "goldplan._goldplan", name = "PrivateKey", frozen)]
pub(crate) struct PyPrivateKey {
    pub(crate) inner: PrivateKey,
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

/// Platform certificates (PEM text or paths) as the core's set.
pub(crate) fn certificate_set(pems: Vec<Bound<'_, PyAny>>) -> PyResult<CertificateSet> {
    let mut certs = Vec::with_capacity(pems.len());
    for pem in pems {
        let py = pem.py();
        let text = pem_text(&pem, "platform certificate")?;
        certs.push(Arc::new(guard(py, || Certificate::from_pem(&text))?));
    }
    Ok(CertificateSet::new(certs))
}

/// The WeChat Pay public key (PEM text or path) with its `PUB_KEY_ID_…` id.
pub(crate) fn public_key_verifier(
    key_id: &str,
    pem: &Bound<'_, PyAny>,
) -> PyResult<PublicKeyVerifier> {
    let text = pem_text(pem, "WeChat Pay public key")?;
    guard(pem.py(), || PublicKeyVerifier::from_pem(key_id, &text))
}
