//! AEAD_AES_256_GCM with the APIv3 key: what callback resources and downloaded certificates
//! are encrypted with.

use goldplan::aead;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

use crate::convert::{bytes_arg, bytes_out};
use crate::error::guard;

/// AEAD_AES_256_GCM decryption with the APIv3 key.
#[pyfunction]
pub(crate) fn aead_decrypt<'py>(
    apiv3_key: &Bound<'py, PyAny>,
    associated_data: &Bound<'_, PyAny>,
    nonce: &Bound<'_, PyAny>,
    ciphertext: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = apiv3_key.py();
    let key = crate::keys::apiv3_key(apiv3_key)?;
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
    let key = crate::keys::apiv3_key(apiv3_key)?;
    let aad = bytes_arg(associated_data, "associated_data")?;
    let nonce = bytes_arg(nonce, "nonce")?;
    let plain = Zeroizing::new(bytes_arg(plaintext, "plaintext")?);
    guard(py, || aead::encrypt(&key, &aad, &nonce, &plain))
}
