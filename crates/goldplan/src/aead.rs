//! AEAD_AES_256_GCM as WeChat Pay uses it for platform certificates and callback resources
//! (spec §3.2): key = the 32 raw bytes of the APIv3 key, a 12-byte nonce taken as its UTF-8
//! bytes, optional associated data, and base64(ciphertext ‖ 16-byte tag).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::ApiV3Key;
use crate::error::{Error, Result};

/// The algorithm name WeChat Pay puts in `algorithm`.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// Length of the GCM tag appended to the ciphertext.
pub const TAG_LEN: usize = 16;

/// Largest ciphertext accepted (base64 characters); callbacks and certificates are far smaller.
const MAX_CIPHERTEXT_B64: usize = 4 * 1024 * 1024;

fn key(apiv3_key: &ApiV3Key) -> Result<LessSafeKey> {
    let unbound = UnboundKey::new(&AES_256_GCM, apiv3_key.as_bytes())
        .map_err(|_| Error::Configuration("the APIv3 key is not a valid AES-256 key".into()))?;
    Ok(LessSafeKey::new(unbound))
}

fn nonce(nonce: &[u8]) -> Result<Nonce> {
    Nonce::try_assume_unique_for_key(nonce).map_err(|_| {
        Error::Decryption(format!(
            "the AEAD nonce must be {NONCE_LEN} bytes, got {}",
            nonce.len()
        ))
    })
}

/// Decrypts base64(ciphertext ‖ tag). A wrong key, nonce, associated data or any altered byte
/// is a [`Error::Decryption`].
pub fn decrypt(
    apiv3_key: &ApiV3Key,
    associated_data: &[u8],
    nonce_bytes: &[u8],
    ciphertext_b64: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    if ciphertext_b64.len() > MAX_CIPHERTEXT_B64 {
        return Err(Error::InvalidInput(format!(
            "AEAD ciphertext of {} characters exceeds the {MAX_CIPHERTEXT_B64} limit",
            ciphertext_b64.len()
        )));
    }
    let nonce = nonce(nonce_bytes)?;
    let mut in_out = Zeroizing::new(
        STANDARD
            .decode(ciphertext_b64.trim())
            .map_err(|e| Error::Decryption(format!("the ciphertext is not valid base64: {e}")))?,
    );
    if in_out.len() < TAG_LEN {
        return Err(Error::Decryption(format!(
            "the ciphertext is {} bytes, shorter than the {TAG_LEN}-byte tag",
            in_out.len()
        )));
    }
    let plaintext_len = key(apiv3_key)?
        .open_in_place(nonce, Aad::from(associated_data), &mut in_out)
        .map_err(|_| {
            Error::Decryption(
                "AES-256-GCM tag check failed: wrong APIv3 key, or the nonce, associated data or \
                 ciphertext was altered"
                    .into(),
            )
        })?
        .len();
    in_out.truncate(plaintext_len);
    Ok(in_out)
}

/// Encrypts `plaintext`, returning base64(ciphertext ‖ tag). The caller owns nonce uniqueness
/// (WeChat Pay and the sandbox draw a fresh random 12-character nonce per message).
pub fn encrypt(
    apiv3_key: &ApiV3Key,
    associated_data: &[u8],
    nonce_bytes: &[u8],
    plaintext: &[u8],
) -> Result<String> {
    let nonce = nonce(nonce_bytes).map_err(|e| Error::Encryption(e.to_string()))?;
    let mut in_out = plaintext.to_vec();
    key(apiv3_key)?
        .seal_in_place_append_tag(nonce, Aad::from(associated_data), &mut in_out)
        .map_err(|_| Error::Encryption("AES-256-GCM encryption failed".into()))?;
    Ok(STANDARD.encode(&in_out))
}

/// An encrypted object as WeChat Pay sends it (`encrypt_certificate`, callback `resource`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// Must be `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// base64(ciphertext ‖ tag).
    pub ciphertext: String,
    /// Associated data; absent, null and empty all mean "no associated data".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_data: Option<String>,
    /// The 12-character nonce.
    pub nonce: String,
    /// Informative type of the plaintext (`transaction`, `refund`, ...), callbacks only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_type: Option<String>,
}

impl EncryptedResource {
    /// Checks the algorithm and decrypts.
    pub fn decrypt(&self, apiv3_key: &ApiV3Key) -> Result<Zeroizing<Vec<u8>>> {
        if self.algorithm != AEAD_AES_256_GCM {
            return Err(Error::Decryption(format!(
                "unsupported encryption algorithm {:?} (expected {AEAD_AES_256_GCM})",
                self.algorithm
            )));
        }
        decrypt(
            apiv3_key,
            self.associated_data.as_deref().unwrap_or("").as_bytes(),
            self.nonce.as_bytes(),
            &self.ciphertext,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k() -> ApiV3Key {
        ApiV3Key::new("0123456789abcdefghijklmnopqrstuv").unwrap()
    }

    #[test]
    fn wrong_nonce_length_and_short_ciphertext_are_decryption_errors() {
        let e = decrypt(&k(), b"", b"short", "AAAA").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Decryption);
        let e = decrypt(&k(), b"", b"ZZZZZZZZZZZZ", "AAAA").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Decryption);
        let e = decrypt(&k(), b"", b"ZZZZZZZZZZZZ", "not base64!").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Decryption);
    }

    #[test]
    fn wrong_algorithm_name_is_rejected_before_decrypting() {
        let ct = encrypt(&k(), b"x", b"ZZZZZZZZZZZZ", b"{}").unwrap();
        let mut r = EncryptedResource {
            algorithm: AEAD_AES_256_GCM.into(),
            ciphertext: ct,
            associated_data: Some("x".into()),
            nonce: "ZZZZZZZZZZZZ".into(),
            original_type: None,
        };
        assert_eq!(&**r.decrypt(&k()).unwrap(), b"{}");
        r.algorithm = "AEAD_AES_128_GCM".into();
        assert_eq!(
            r.decrypt(&k()).unwrap_err().kind(),
            crate::ErrorKind::Decryption
        );
    }
}
