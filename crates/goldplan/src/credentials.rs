//! Merchant identity and secrets: merchant id, merchant certificate serial, the merchant API
//! private key (PKCS#8 or PKCS#1 PEM) and the APIv3 key.
//!
//! Secrets are never shown by `Debug` and are wiped from memory when dropped: the APIv3 key by
//! `zeroize`, PEM/DER intermediates by `Zeroizing` buffers, and the parsed RSA key by AWS-LC,
//! which cleanses key material when it frees it.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::files::{MAX_PEM_FILE, ReadFailure, read_bounded};
use crate::redact::Rejected;
use crate::x509::{Certificate, SerialNumber};

/// PEM text, or the file that holds it: how every binding and tool takes a key or certificate
/// (`private_key` in Python, `GOLDPLAN_PRIVATE_KEY` and `--private-key` in the CLI, a
/// `*_pem` / `*_path` pair in a configuration file).
///
/// Loading is bounded ([`crate::files::MAX_PEM_FILE`]; devices, FIFOs and directories are
/// refused) and never echoes the value: when key content is given where a path is expected
/// (the base64 body of a key without its `-----BEGIN` line, a common way to pass keys through
/// environment variables), a naive "cannot read file `<value>`" would print the key. Errors say
/// which field failed and, at most, how long its value is. `Debug` shows neither the text nor
/// the path, and both are wiped from memory on drop.
#[derive(Clone)]
pub enum KeySource {
    /// The PEM text itself.
    Pem(Zeroizing<String>),
    /// A file holding the PEM text.
    Path(PathBuf),
}

impl KeySource {
    /// The marker that tells PEM text from a path.
    pub const PEM_MARKER: &'static str = crate::redact::PEM_MARKER;

    /// One value that may be either, as a user types it (an environment variable, a flag, a
    /// keyword argument): PEM text when it holds `-----BEGIN`, a path otherwise.
    pub fn from_pem_or_path(value: impl Into<OsString>) -> KeySource {
        match value.into().into_string() {
            Ok(text) if text.contains(KeySource::PEM_MARKER) => {
                KeySource::Pem(Zeroizing::new(text))
            }
            Ok(text) => KeySource::Path(PathBuf::from(text)),
            // Not UTF-8, so not PEM text: a path in the platform's encoding.
            Err(os) => KeySource::Path(PathBuf::from(os)),
        }
    }

    /// The PEM text, reading the file when this is a path. `what` names the field in errors
    /// (e.g. `"merchant private key"`); the value itself is never shown.
    pub fn load(&self, what: &str) -> Result<Zeroizing<String>> {
        match self {
            KeySource::Pem(text) => Ok(text.clone()),
            KeySource::Path(path) => {
                let bytes = Zeroizing::new(
                    read_bounded(path, MAX_PEM_FILE)
                        .map_err(|e| Error::Configuration(unreadable_path(what, path, &e)))?,
                );
                match std::str::from_utf8(&bytes) {
                    Ok(text) => Ok(Zeroizing::new(text.to_owned())),
                    Err(_) => Err(Error::Configuration(format!(
                        "the {what} file is not UTF-8 PEM text"
                    ))),
                }
            }
        }
    }

    /// Whether this is a path.
    pub fn is_path(&self) -> bool {
        matches!(self, KeySource::Path(_))
    }
}

/// What went wrong with a path field, without the path: it may be a secret given by mistake.
fn unreadable_path(what: &str, path: &Path, failure: &ReadFailure) -> String {
    let text = path.as_os_str().to_string_lossy();
    let mut message = format!(
        "the {what} path {failure} (given {}; expected PEM text with its {} line, or the path \
         of a PEM file)",
        Rejected(&text),
        KeySource::PEM_MARKER
    );
    // Paths are short and single-line; key content is neither.
    if text.len() > 255 || text.contains('\n') || text.starts_with("MII") {
        message.push_str(
            "; the value looks like key content rather than a path: pass the whole PEM, \
             -----BEGIN and -----END lines included",
        );
    }
    message
}

impl From<PathBuf> for KeySource {
    fn from(path: PathBuf) -> KeySource {
        KeySource::Path(path)
    }
}

impl From<&Path> for KeySource {
    fn from(path: &Path) -> KeySource {
        KeySource::Path(path.to_owned())
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Pem(text) => write!(f, "KeySource::Pem(<{} bytes>)", text.len()),
            KeySource::Path(path) => {
                write!(f, "KeySource::Path(<{} bytes>)", path.as_os_str().len())
            }
        }
    }
}

impl Drop for KeySource {
    fn drop(&mut self) {
        // The text wipes itself (Zeroizing); a "path" may be key content given by mistake.
        if let KeySource::Path(path) = self {
            let path = std::mem::take(path);
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStringExt;
                path.into_os_string().into_vec().zeroize();
            }
            #[cfg(not(unix))]
            {
                if let Ok(mut text) = path.into_os_string().into_string() {
                    text.zeroize();
                }
            }
        }
    }
}

/// Length of an APIv3 key in bytes.
pub use crate::redact::APIV3_KEY_LEN;

/// The 32-byte APIv3 key, used as its raw ASCII bytes as the AES-256-GCM key (spec §3.2).
#[derive(Clone)]
pub struct ApiV3Key(Zeroizing<[u8; APIV3_KEY_LEN]>);

impl ApiV3Key {
    /// Accepts exactly 32 bytes (the key is used as-is, never hex- or base64-decoded).
    pub fn new(key: impl AsRef<[u8]>) -> Result<ApiV3Key> {
        let bytes = key.as_ref();
        if bytes.len() != APIV3_KEY_LEN {
            return Err(Error::Configuration(format!(
                "the APIv3 key must be exactly {APIV3_KEY_LEN} bytes, got {} bytes (use the \
                 32-character key set in the merchant portal as-is)",
                bytes.len()
            )));
        }
        let mut key = Zeroizing::new([0u8; APIV3_KEY_LEN]);
        key.copy_from_slice(bytes);
        Ok(ApiV3Key(key))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; APIV3_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

/// The merchant API private key (RSA), able to sign requests and decrypt sensitive fields.
///
/// Safe to use in a child process after `fork()`, even when other threads of the parent were
/// signing at that moment: aws-lc's key objects carry mutable state (RSA blinding) that a fork
/// can copy mid-update, so a process never uses key objects made by another process. The key
/// keeps its PKCS#8 encoding (wiped on drop) and parses it again, once, in each process that
/// uses it.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    keys: ArcSwap<ProcessKeys>,
    public_key_der: Vec<u8>,
    bits: usize,
}

/// The aws-lc objects of one key, made in (and only used by) the process `pid`.
struct ProcessKeys {
    pid: u32,
    signing: KeyPair,
    decrypting: OaepPrivateDecryptingKey,
}

impl ProcessKeys {
    fn parse(pkcs8: &[u8]) -> Result<ProcessKeys> {
        let signing = KeyPair::from_pkcs8(pkcs8).map_err(|e| {
            Error::Configuration(format!(
                "the merchant private key is not a usable RSA PKCS#8 key: {e}"
            ))
        })?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8)
            .ok()
            .and_then(|k| OaepPrivateDecryptingKey::new(k).ok())
            .ok_or_else(|| {
                Error::Configuration("the merchant private key cannot decrypt RSA-OAEP".into())
            })?;
        Ok(ProcessKeys {
            pid: std::process::id(),
            signing,
            decrypting,
        })
    }
}

impl PrivateKey {
    /// Parses a PEM private key: PKCS#8 (PEM label `PRIVATE KEY`, as in `apiclient_key.pem`)
    /// or PKCS#1 (label `RSA PRIVATE KEY`). The key must be RSA, 2048 to 8192 bits.
    pub fn from_pem(pem_text: &str) -> Result<PrivateKey> {
        let parsed = pem::parse(pem_text.trim()).map_err(|e| {
            Error::Configuration(format!(
                "the merchant private key is not valid PEM: {}",
                pem_error_reason(&e)
            ))
        })?;
        let tag = parsed.tag().to_owned();
        let der = Zeroizing::new(parsed.into_contents());
        match tag.as_str() {
            "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&der),
            "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&der),
            "ENCRYPTED PRIVATE KEY" => Err(Error::Configuration(
                "the merchant private key is encrypted; decrypt it first (openssl pkcs8)".into(),
            )),
            other => Err(Error::Configuration(format!(
                "expected a PEM block `PRIVATE KEY` or `RSA PRIVATE KEY`, found {}",
                crate::redact::PemLabel(other)
            ))),
        }
    }

    /// Reads and parses a PEM private key file (e.g. `apiclient_key.pem`). The file must be a
    /// regular file of at most [`crate::files::MAX_PEM_FILE`] bytes; errors never show the
    /// path (see [`KeySource`]).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<PrivateKey> {
        PrivateKey::from_source(&KeySource::from(path.as_ref()))
    }

    /// Parses the key from PEM text or a file, whichever `source` holds.
    pub fn from_source(source: &KeySource) -> Result<PrivateKey> {
        PrivateKey::from_pem(&source.load("merchant private key")?)
    }

    /// Parses an unencrypted PKCS#8 DER RSA private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey> {
        let keys = ProcessKeys::parse(der)?;
        let public_key_der = keys
            .signing
            .public_key()
            .as_der()
            .map_err(|_| Error::Configuration("cannot encode the merchant public key".into()))?
            .as_ref()
            .to_vec();
        Ok(PrivateKey {
            pkcs8: Zeroizing::new(der.to_vec()),
            bits: keys.signing.public_modulus_len() * 8,
            keys: ArcSwap::from_pointee(keys),
            public_key_der,
        })
    }

    /// This process's key objects, made from the kept encoding on first use after a fork.
    fn keys(&self) -> Result<Arc<ProcessKeys>> {
        let current = self.keys.load_full();
        if current.pid == std::process::id() {
            return Ok(current);
        }
        let fresh = Arc::new(ProcessKeys::parse(&self.pkcs8)?);
        let previous = self.keys.swap(Arc::clone(&fresh));
        if previous.pid != fresh.pid {
            // The parent's objects may hold a lock or a half-updated blinding cache that
            // another parent thread was using at fork time; freeing them would touch that
            // state. They are leaked instead: one key's worth of memory once per process.
            std::mem::forget(previous);
        }
        Ok(fresh)
    }

    /// Parses a PKCS#1 `RSAPrivateKey` DER key.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey> {
        let key = KeyPair::from_der(der).map_err(|e| {
            Error::Configuration(format!(
                "the merchant private key is not a usable RSA PKCS#1 key: {e}"
            ))
        })?;
        // One code path for both encodings: re-encode as PKCS#8 and parse that.
        let pkcs8 = key
            .as_der()
            .map_err(|_| Error::Configuration("cannot re-encode the PKCS#1 key".into()))?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        PrivateKey::from_pkcs8_der(&pkcs8)
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 / SHA-256 (deterministic).
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>> {
        let keys = self.keys()?;
        let mut signature = vec![0u8; keys.signing.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        keys.signing
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
            .map_err(|_| Error::Signing("RSA signing failed".into()))?;
        Ok(signature)
    }

    /// Decrypts an RSA-OAEP (SHA-1, MGF1-SHA-1) ciphertext.
    pub(crate) fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let keys = self.keys()?;
        let mut out = Zeroizing::new(vec![0u8; keys.decrypting.min_output_size()]);
        let len = keys
            .decrypting
            .decrypt(
                &aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1,
                ciphertext,
                &mut out,
                None,
            )
            .map_err(|_| {
                Error::Decryption(
                    "RSA-OAEP decryption failed (wrong merchant key or corrupted ciphertext)"
                        .into(),
                )
            })?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// The public half as X.509 SubjectPublicKeyInfo DER.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    /// Key size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(RSA-{}, <redacted>)", self.bits())
    }
}

/// Why a PEM block failed to parse, without quoting any of it: `pem`'s own messages embed
/// input lines, and a blank line inside a key makes it report the key's base64 (possibly the
/// whole key, when it sits on one line) as an "invalid header".
pub(crate) fn pem_error_reason(e: &pem::PemError) -> &'static str {
    use pem::PemError as E;
    match e {
        E::MismatchedTags(..) => "the BEGIN and END labels differ",
        E::MalformedFraming | E::MissingBeginTag | E::MissingEndTag => {
            "the -----BEGIN ...----- / -----END ...----- lines are missing or malformed"
        }
        E::MissingData => "the block is empty",
        E::InvalidData(_) => "the body is not valid base64",
        E::InvalidHeader(_) => {
            "a line inside the block is not base64 (is there a blank line inside the key?)"
        }
        E::NotUtf8(_) => "the text is not UTF-8",
    }
}

/// Whether `mchid` is a merchant id: 1 to 32 decimal digits.
pub(crate) fn is_valid_mchid(mchid: &str) -> bool {
    !mchid.is_empty() && mchid.len() <= 32 && mchid.bytes().all(|b| b.is_ascii_digit())
}

/// Who the caller is: merchant id (the service provider for Gold Plan), the serial of its
/// merchant API certificate, and its private key.
#[derive(Clone)]
pub struct MerchantCredentials {
    mchid: String,
    serial_no: String,
    private_key: Arc<PrivateKey>,
}

impl MerchantCredentials {
    /// Checks the merchant id (decimal digits) and serial (hex), and keeps the key.
    pub fn new(
        mchid: impl Into<String>,
        serial_no: impl Into<String>,
        private_key: PrivateKey,
    ) -> Result<MerchantCredentials> {
        let mchid = mchid.into();
        let serial_no = serial_no.into().trim().to_owned();
        if !is_valid_mchid(&mchid) {
            return Err(Error::Configuration(format!(
                "the merchant id must be 1 to 32 decimal digits; got {}",
                Rejected(&mchid)
            )));
        }
        SerialNumber::parse(&serial_no).map_err(|_| {
            Error::Configuration(format!(
                "the merchant certificate serial must be hexadecimal; got {}",
                Rejected(&serial_no)
            ))
        })?;
        Ok(MerchantCredentials {
            mchid,
            serial_no: serial_no.to_ascii_uppercase(),
            private_key: Arc::new(private_key),
        })
    }

    /// Like [`MerchantCredentials::new`], and also checks the merchant certificate
    /// (`apiclient_cert.pem`): its serial must equal `serial_no` and its public key must match
    /// the private key. A mismatch is a configuration error, caught before WeChat answers
    /// `401 SIGN_ERROR`.
    pub fn with_certificate(
        mchid: impl Into<String>,
        serial_no: impl Into<String>,
        private_key: PrivateKey,
        certificate_pem: &str,
    ) -> Result<MerchantCredentials> {
        let creds = MerchantCredentials::new(mchid, serial_no, private_key)?;
        let cert = Certificate::from_pem(certificate_pem).map_err(|e| {
            Error::Configuration(format!("the merchant certificate is unusable: {e}"))
        })?;
        if !cert.serial().matches(&creds.serial_no) {
            return Err(Error::Configuration(format!(
                "serial_no (a value of {} characters) does not match the merchant \
                 certificate's serial {}",
                creds.serial_no.chars().count(),
                cert.serial()
            )));
        }
        if cert.public_key_der() != creds.private_key.public_key_der() {
            return Err(Error::Configuration(
                "the merchant private key does not belong to the merchant certificate".into(),
            ));
        }
        Ok(creds)
    }

    /// The merchant id used in `Authorization`.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant certificate serial (upper-case hex) used in `Authorization`.
    pub fn serial_no(&self) -> &str {
        &self.serial_no
    }

    /// The private key.
    pub fn private_key(&self) -> &Arc<PrivateKey> {
        &self.private_key
    }
}

impl fmt::Debug for MerchantCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantCredentials")
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("private_key", &"<redacted>")
            .finish()
    }
}
