//! Sensitive-field encryption (敏感信息加解密, spec §5): RSA-OAEP with SHA-1 and MGF1-SHA-1,
//! empty label, base64 output.

use std::fmt;

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::credentials::PrivateKey;
use crate::error::{Error, Result};
use crate::verify::PublicKeyVerifier;
use crate::x509::Certificate;

/// Longest plaintext (UTF-8 bytes) one RSA-2048 OAEP-SHA1 block holds: 256 − 2·20 − 2.
pub const MAX_PLAINTEXT_LEN_RSA2048: usize = 214;

/// A WeChat Pay key that sensitive fields are encrypted to, with the serial (certificate serial
/// or `PUB_KEY_ID_…`) that the request must carry in `Wechatpay-Serial`.
pub struct EncryptionKey {
    wechatpay_serial: String,
    key: OaepPublicEncryptingKey,
}

impl EncryptionKey {
    /// Encrypt to a platform certificate (use the newest one, spec §3.4).
    pub fn from_certificate(cert: &Certificate) -> Result<EncryptionKey> {
        EncryptionKey::new(cert.serial_hex().to_owned(), cert.encrypting_key().clone())
    }

    /// Encrypt to the WeChat Pay public key.
    pub fn from_public_key(public_key: &PublicKeyVerifier) -> Result<EncryptionKey> {
        let key = PublicEncryptingKey::from_der(public_key.public_key_der())
            .map_err(|e| Error::Configuration(format!("unusable WeChat Pay public key: {e}")))?;
        EncryptionKey::new(public_key.key_id().to_owned(), key)
    }

    fn new(wechatpay_serial: String, key: PublicEncryptingKey) -> Result<EncryptionKey> {
        let key = OaepPublicEncryptingKey::new(key)
            .map_err(|_| Error::Configuration("the key cannot be used for RSA-OAEP".into()))?;
        Ok(EncryptionKey {
            wechatpay_serial,
            key,
        })
    }

    /// The value for the `Wechatpay-Serial` request header.
    pub fn wechatpay_serial(&self) -> &str {
        &self.wechatpay_serial
    }

    /// Largest plaintext this key can encrypt, in bytes.
    pub fn max_plaintext_len(&self) -> usize {
        self.key.max_plaintext_size(&OAEP_SHA1_MGF1SHA1)
    }

    /// Encrypts one field. An empty string stays empty (it is not encrypted); a plaintext longer
    /// than [`EncryptionKey::max_plaintext_len`] is an error.
    pub fn encrypt(&self, plaintext: &str) -> Result<String> {
        if plaintext.is_empty() {
            return Ok(String::new());
        }
        let max = self.max_plaintext_len();
        if plaintext.len() > max {
            return Err(Error::InvalidInput(format!(
                "a sensitive field may hold at most {max} UTF-8 bytes, got {}",
                plaintext.len()
            )));
        }
        let mut out = vec![0u8; self.key.ciphertext_size()];
        let ct = self
            .key
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext.as_bytes(), &mut out, None)
            .map_err(|_| Error::Encryption("RSA-OAEP encryption failed".into()))?;
        Ok(STANDARD.encode(ct))
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("wechatpay_serial", &self.wechatpay_serial)
            .finish()
    }
}

/// Decrypts a sensitive field from a response with the merchant private key. An empty string
/// stays empty.
pub fn decrypt(private_key: &PrivateKey, ciphertext_b64: &str) -> Result<Zeroizing<String>> {
    if ciphertext_b64.is_empty() {
        return Ok(Zeroizing::new(String::new()));
    }
    if ciphertext_b64.len() > 2048 {
        return Err(Error::InvalidInput(
            "a sensitive-field ciphertext is at most 1368 base64 characters".into(),
        ));
    }
    let ct = STANDARD
        .decode(ciphertext_b64.trim())
        .map_err(|e| Error::Decryption(format!("the ciphertext is not valid base64: {e}")))?;
    let plain = private_key.decrypt_oaep_sha1(&ct)?;
    // Validate in place so that no unwiped copy of the plaintext exists on the error path.
    let text = std::str::from_utf8(&plain)
        .map_err(|_| Error::Decryption("the decrypted field is not UTF-8".into()))?;
    Ok(Zeroizing::new(text.to_owned()))
}
