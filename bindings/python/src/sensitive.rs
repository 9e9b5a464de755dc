//! Sensitive fields (RSA-OAEP): encrypting to a WeChat Pay key and decrypting with the
//! merchant private key.

use goldplan::sensitive::{self, EncryptionKey};
use goldplan::x509::Certificate;
use pyo3::prelude::*;

use crate::convert::pem_text;
use crate::error::guard;
use crate::keys::{PyPrivateKey, public_key_verifier};

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
    let key = crate::keys::private_key(private_key)?;
    guard(py, || sensitive::decrypt(&key, ciphertext)).map(|s| s.to_string())
}
