//! Sensitive fields (spec §5) with the client's keys: RSA-OAEP encryption to WeChat Pay's
//! key, decryption with the merchant private key.

use serde::Serialize;
use zeroize::Zeroizing;

use super::Client;
use crate::error::{Error, Result};
use crate::sensitive::{self, EncryptionKey};

/// An encrypted sensitive field and the key it was encrypted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SensitiveCiphertext {
    /// Base64 RSA-OAEP ciphertext, to put in the request body.
    pub ciphertext: String,
    /// The serial (or `PUB_KEY_ID_…`) to send in `Wechatpay-Serial` with that request, so
    /// WeChat Pay knows which private key decrypts it.
    pub wechatpay_serial: String,
}

impl Client {
    /// The key to encrypt sensitive fields with: the public key when configured, else the
    /// newest platform certificate. Its `wechatpay_serial()` must go into `Wechatpay-Serial`.
    pub async fn encryption_key(&self) -> Result<EncryptionKey> {
        if let Some(pk) = &self.settings.public_key {
            return EncryptionKey::from_public_key(pk);
        }
        self.ensure_certificates().await?;
        let set = self.platform_certificates();
        let newest = set
            .newest()
            .ok_or_else(|| Error::Certificate("no platform certificate to encrypt with".into()))?;
        EncryptionKey::from_certificate(newest)
    }

    /// Encrypts a sensitive field; returns the ciphertext and the `Wechatpay-Serial` the
    /// request carrying it must be sent with.
    pub async fn encrypt_sensitive(&self, plaintext: &str) -> Result<SensitiveCiphertext> {
        let key = self.encryption_key().await?;
        Ok(SensitiveCiphertext {
            ciphertext: key.encrypt(plaintext)?,
            wechatpay_serial: key.wechatpay_serial().to_owned(),
        })
    }

    /// Decrypts a sensitive field of a response with the merchant private key.
    pub fn decrypt_sensitive(&self, ciphertext: &str) -> Result<Zeroizing<String>> {
        let key = self.settings.private_key.as_ref().ok_or_else(|| {
            Error::Configuration(
                "decrypting sensitive fields needs the merchant private key (not a remote signer)"
                    .into(),
            )
        })?;
        sensitive::decrypt(key, ciphertext)
    }
}
