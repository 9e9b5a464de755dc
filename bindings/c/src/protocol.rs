//! The sans-IO helpers, for users who keep their own HTTP stack: `goldplan_signer` (sign
//! messages and requests, decrypt sensitive fields), `goldplan_verifier` (verify responses and
//! callbacks, encrypt sensitive fields), the strings to sign and verify, the `Authorization`
//! header, AEAD, the `/v3/certificates` download, and the merchant-receipt `check_code`.

use std::ffi::c_void;
use std::os::raw::c_char;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use goldplan::client::Operation;
use goldplan::clock::{Clock, ManualClock, SystemClock};
use goldplan::config::ClientConfig;
use goldplan::credentials::ApiV3Key;
use goldplan::notification::NotificationParser;
use goldplan::redact::redact_quoted;
use goldplan::sensitive::EncryptionKey;
use goldplan::sign::{self, Authorization, RsaSigner};
use goldplan::verify::{
    self, ConfiguredVerifier, PublicKeyVerifier, VerificationPolicy, Verifier, VerifierConfig,
    WechatpayHeaders,
};
use goldplan::x509::CertificateSet;
use goldplan::{Error, ErrorKind, VerificationError, aead};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::args::Arguments;
use crate::client::{GoldplanResponse, headers_from_json, notification_value, write_value};
use crate::error::{FfiResult, GoldplanStatus, guard, guard_keep};
use crate::memory::{
    Handle, borrow, bytes_arg, out_arg, register, release, str_arg, write_bytes, write_out,
    write_string,
};
use crate::replay::{GoldplanReplayGuard, GoldplanReplayHook, call_guard};

/// The merchant identity that signs requests (mchid, certificate serial, private key), for
/// users who send requests with their own HTTP stack. Thread-safe.
pub struct GoldplanSigner {
    signer: RsaSigner,
}

impl Handle for GoldplanSigner {}

/// Verifies WeChat Pay signatures of responses and callbacks with the WeChat Pay public key,
/// platform certificates, or both (routed by serial). Thread-safe.
pub struct GoldplanVerifier {
    verifier: Arc<dyn Verifier>,
    public_key: Option<Arc<PublicKeyVerifier>>,
    certificates: CertificateSet,
}

impl Handle for GoldplanVerifier {}

/// A core result as JSON, by the core's own serialisation.
fn encode<T: serde::Serialize>(value: &T, what: &str) -> FfiResult<Value> {
    Ok(serde_json::to_value(value)
        .map_err(|e| Error::Decode(format!("cannot encode the {what}: {e}")))?)
}

/// `now == 0` means the system clock; anything else freezes the clock there (tests, replays).
fn clock(now: i64) -> Arc<dyn Clock> {
    if now == 0 {
        Arc::new(SystemClock)
    } else {
        Arc::new(ManualClock::new(now))
    }
}

/// `max_skew_secs <= 0` means the default window (300 s); otherwise the core's validated
/// window (1 to 86 400 s, a configuration error beyond), so no caller can switch it off.
fn policy(now: i64, max_skew_secs: i64) -> goldplan::Result<VerificationPolicy> {
    let max_skew = if max_skew_secs > 0 {
        verify::MaxSkew::from_secs(max_skew_secs)?
    } else {
        verify::MaxSkew::DEFAULT
    };
    Ok(VerificationPolicy::new(max_skew, clock(now)))
}

/// Creates a signer from a JSON configuration with the client configuration's names: `mchid`,
/// `serial_no`, `private_key` (PEM text or a path; `private_key_pem` and `private_key_path` are
/// also accepted), and optionally `merchant_certificate` (which must match). Other fields of a
/// client configuration are ignored.
///
/// # Safety
/// `config_json` must point to `config_json_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_signer_new(
    config_json: *const c_char,
    config_json_len: usize,
    out: *mut *mut GoldplanSigner,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let text = unsafe { str_arg(config_json, config_json_len, "config_json") }?;
        let text = Zeroizing::new(text.to_owned());
        let credentials = ClientConfig::from_json(&text, None)?.credentials()?;
        let signer = GoldplanSigner {
            signer: RsaSigner::new(credentials),
        };
        // SAFETY: `out` was checked.
        unsafe { write_out(out, register(signer)?) };
        Ok(())
    })
}

/// Frees a signer, like `goldplan_client_free`: NULL is a no-op, a freed handle is reported
/// (`GOLDPLAN_STATUS_INVALID_HANDLE`) and frees nothing, calls in flight on other threads
/// finish normally and later calls are refused.
#[unsafe(no_mangle)]
pub extern "C" fn goldplan_signer_free(signer: *mut GoldplanSigner) -> GoldplanStatus {
    guard_keep(|| release(signer, "signer"))
}

/// Signs `message` (RSASSA-PKCS1-v1_5 with SHA-256); `*out` is the base64 signature.
///
/// # Safety
/// `message` must point to `message_len` readable bytes; `out` and `out_len` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_signer_sign(
    signer: *const GoldplanSigner,
    message: *const u8,
    message_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        let signer = borrow(signer, "signer")?;
        // SAFETY: caller's contract.
        let message = unsafe { bytes_arg(message, message_len, "message") }?;
        let signature = signer.signer.sign_blocking(message)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, signature.as_bytes()) };
        Ok(())
    })
}

/// Signs a request with a fresh nonce and `timestamp` (0 = now). The result is JSON:
/// `method`, `canonical_url` (send exactly this path and query, and exactly `body`),
/// `timestamp`, `nonce_str`, `signature` and `authorization` (the header value).
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_signer_sign_request(
    signer: *const GoldplanSigner,
    method: *const c_char,
    method_len: usize,
    path_and_query: *const c_char,
    path_and_query_len: usize,
    body: *const u8,
    body_len: usize,
    timestamp: i64,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let signer = borrow(signer, "signer")?;
        // SAFETY: caller's contract.
        let (method, path, body) = unsafe {
            (
                str_arg(method, method_len, "method")?,
                str_arg(path_and_query, path_and_query_len, "path_and_query")?,
                bytes_arg(body, body_len, "body")?,
            )
        };
        let clock = clock(timestamp);
        let signed =
            sign::sign_request_blocking(&signer.signer, clock.as_ref(), method, path, body)?;
        let value = encode(&signed, "signed request")?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, None) }
    })
}

/// Decrypts a sensitive field (RSA-OAEP) with the signer's private key; the plaintext is a
/// string freed (and wiped) by `goldplan_string_free`.
///
/// # Safety
/// `ciphertext` must point to `ciphertext_len` readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_signer_decrypt_sensitive(
    signer: *const GoldplanSigner,
    ciphertext: *const c_char,
    ciphertext_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        let signer = borrow(signer, "signer")?;
        // SAFETY: caller's contract.
        let ciphertext = unsafe { str_arg(ciphertext, ciphertext_len, "ciphertext") }?;
        let key = signer.signer.credentials().private_key();
        let plaintext = goldplan::sensitive::decrypt(key, ciphertext)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, plaintext.as_bytes()) };
        Ok(())
    })
}

/// One platform certificate in a verifier's configuration: its PEM, or an object with a
/// `pem` member (as listed in a sandbox's `sandbox.json`).
#[derive(Deserialize)]
#[serde(untagged)]
enum CertificateText {
    Pem(String),
    Listed { pem: String },
}

/// Creates a verifier from JSON: `public_key_id` + `public_key` (PEM text or a path, as in a
/// client configuration; `public_key_pem` is also accepted; public-key mode),
/// `platform_certificates` (an array of PEM strings or of objects with `pem`; certificate
/// mode), or both (combined mode, routed by serial). Unknown fields are refused.
///
/// # Safety
/// `config_json` must point to `config_json_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verifier_new(
    config_json: *const c_char,
    config_json_len: usize,
    out: *mut *mut GoldplanVerifier,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let text = unsafe { bytes_arg(config_json.cast::<u8>(), config_json_len, "config_json") }?;
        let ConfiguredVerifier {
            verifier,
            public_key,
            certificates,
        } = VerifierConfig::from_json(text)?.build()?;
        let handle = GoldplanVerifier {
            verifier,
            public_key,
            certificates,
        };
        // SAFETY: `out` was checked.
        unsafe { write_out(out, register(handle)?) };
        Ok(())
    })
}

/// Frees a verifier, like `goldplan_client_free`: NULL is a no-op, a freed handle is reported
/// (`GOLDPLAN_STATUS_INVALID_HANDLE`) and frees nothing, calls in flight on other threads
/// finish normally and later calls are refused.
#[unsafe(no_mangle)]
pub extern "C" fn goldplan_verifier_free(verifier: *mut GoldplanVerifier) -> GoldplanStatus {
    guard_keep(|| release(verifier, "verifier"))
}

/// Verifies a signed response or callback over its raw body. `headers_json` is a JSON object
/// of header values or an array of `[name, value]` pairs (names match case-insensitively);
/// `now` freezes the clock (0 = system clock); `max_skew_secs` <= 0 means 300. The result is
/// JSON: `serial`, `timestamp`, `request_id`. A failure is `GOLDPLAN_STATUS_SIGNATURE` with
/// the precise kind (`clock_skew`, `unknown_serial`, …) in the last error.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verifier_verify(
    verifier: *const GoldplanVerifier,
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    now: i64,
    max_skew_secs: i64,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let verifier = borrow(verifier, "verifier")?;
        // SAFETY: caller's contract.
        let (headers, body) = unsafe {
            (
                bytes_arg(headers_json.cast::<u8>(), headers_json_len, "headers_json")?,
                bytes_arg(body, body_len, "body")?,
            )
        };
        let pairs = headers_from_json(headers)?;
        let headers = WechatpayHeaders::from_pairs(pairs.iter().map(|(n, v)| (n, v)))?;
        let verified = verify::verify_signed(
            verifier.verifier.as_ref(),
            &policy(now, max_skew_secs)?,
            &headers,
            body,
        )?;
        let value = encode(&verified, "verification")?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, verified.request_id.clone()) }
    })
}

/// Checks a base64 `signature` over `message` with the key named `serial` (a certificate
/// serial or a `PUB_KEY_ID_…`). OK means it verifies.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verifier_check_signature(
    verifier: *const GoldplanVerifier,
    serial: *const c_char,
    serial_len: usize,
    message: *const u8,
    message_len: usize,
    signature_base64: *const c_char,
    signature_base64_len: usize,
) -> GoldplanStatus {
    guard(|| {
        let verifier = borrow(verifier, "verifier")?;
        // SAFETY: caller's contract.
        let (serial, message, signature) = unsafe {
            (
                str_arg(serial, serial_len, "serial")?,
                bytes_arg(message, message_len, "message")?,
                str_arg(signature_base64, signature_base64_len, "signature_base64")?,
            )
        };
        let raw = STANDARD.decode(signature.trim()).map_err(|_| {
            Error::Verification(Box::new(VerificationError {
                kind: ErrorKind::SignatureInvalid,
                reason: "the signature is not valid base64".to_owned(),
                serial: Some(serial.to_owned()),
                request_id: None,
                body: None,
            }))
        })?;
        verifier.verifier.verify(serial, message, &raw)?;
        Ok(())
    })
}

/// Verifies and decrypts a callback with this verifier and the 32-character APIv3 key (like
/// `goldplan_client_parse_notification`, with the clock and window of
/// `goldplan_verifier_verify`). No replay check: see
/// `goldplan_verifier_parse_notification_with_guard`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verifier_parse_notification(
    verifier: *const GoldplanVerifier,
    apiv3_key: *const c_char,
    apiv3_key_len: usize,
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    now: i64,
    max_skew_secs: i64,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    // SAFETY: forwarded contract; no guard and no hook.
    unsafe {
        goldplan_verifier_parse_notification_with_guard(
            verifier,
            apiv3_key,
            apiv3_key_len,
            headers_json,
            headers_json_len,
            body,
            body_len,
            now,
            max_skew_secs,
            std::ptr::null(),
            None,
            std::ptr::null_mut(),
            out,
        )
    }
}

/// `goldplan_verifier_parse_notification` with a replay check, as
/// `goldplan_client_parse_notification_with_guard`: a callback `replay_guard` holds or `hook`
/// reports as processed fails with `GOLDPLAN_STATUS_REPLAY`. Either may be NULL.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable;
/// `hook`, when not NULL, must be callable with `hook_context` during this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verifier_parse_notification_with_guard(
    verifier: *const GoldplanVerifier,
    apiv3_key: *const c_char,
    apiv3_key_len: usize,
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    now: i64,
    max_skew_secs: i64,
    replay_guard: *const GoldplanReplayGuard,
    hook: GoldplanReplayHook,
    hook_context: *mut c_void,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let verifier = borrow(verifier, "verifier")?;
        // SAFETY: caller's contract.
        let (key, headers, body) = unsafe {
            (
                bytes_arg(apiv3_key.cast::<u8>(), apiv3_key_len, "apiv3_key")?,
                bytes_arg(headers_json.cast::<u8>(), headers_json_len, "headers_json")?,
                bytes_arg(body, body_len, "body")?,
            )
        };
        let mut parser = NotificationParser::new(verifier.verifier.clone(), ApiV3Key::new(key)?)
            .with_policy(policy(now, max_skew_secs)?);
        if let Some(replay) = call_guard(replay_guard, hook, hook_context)? {
            parser = parser.with_replay_guard(replay);
        }
        let pairs = headers_from_json(headers)?;
        let notification = parser.parse(pairs.iter().map(|(n, v)| (n, v)), body)?;
        let value = notification_value(&notification)?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, notification.request_id.clone()) }
    })
}

/// Encrypts a sensitive field (RSA-OAEP) to the verifier's WeChat Pay public key, else to its
/// newest platform certificate: `{"ciphertext", "wechatpay_serial"}`.
///
/// # Safety
/// `plaintext` must point to `plaintext_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verifier_encrypt_sensitive(
    verifier: *const GoldplanVerifier,
    plaintext: *const c_char,
    plaintext_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let verifier = borrow(verifier, "verifier")?;
        // SAFETY: caller's contract.
        let plaintext = unsafe { str_arg(plaintext, plaintext_len, "plaintext") }?;
        let key = match (&verifier.public_key, verifier.certificates.newest()) {
            (Some(pk), _) => EncryptionKey::from_public_key(pk)?,
            (None, Some(cert)) => EncryptionKey::from_certificate(cert)?,
            (None, None) => {
                return Err(Error::Certificate("no key to encrypt with".into()).into());
            }
        };
        let sealed = goldplan::client::SensitiveCiphertext {
            ciphertext: key.encrypt(plaintext)?,
            wechatpay_serial: key.wechatpay_serial().to_owned(),
        };
        let value = encode(&sealed, "ciphertext")?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, None) }
    })
}

/// The string to sign of a request: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_message_to_sign(
    method: *const c_char,
    method_len: usize,
    canonical_url: *const c_char,
    canonical_url_len: usize,
    timestamp: i64,
    nonce: *const c_char,
    nonce_len: usize,
    body: *const u8,
    body_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let (method, url, nonce, body) = unsafe {
            (
                str_arg(method, method_len, "method")?,
                str_arg(canonical_url, canonical_url_len, "canonical_url")?,
                str_arg(nonce, nonce_len, "nonce")?,
                bytes_arg(body, body_len, "body")?,
            )
        };
        let message = sign::message_to_sign(method, url, timestamp, nonce, body)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, &message) };
        Ok(())
    })
}

/// The string to verify of a response or callback: `TIMESTAMP\nNONCE\nBODY\n`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_message_to_verify(
    timestamp: *const c_char,
    timestamp_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    body: *const u8,
    body_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let (timestamp, nonce, body) = unsafe {
            (
                str_arg(timestamp, timestamp_len, "timestamp")?,
                str_arg(nonce, nonce_len, "nonce")?,
                bytes_arg(body, body_len, "body")?,
            )
        };
        let message = verify::message_to_verify(timestamp, nonce, body);
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, &message) };
        Ok(())
    })
}

/// The canonical URL line of a request-target (`/path?query`): what is signed and sent.
///
/// # Safety
/// `path_and_query` must point to `path_and_query_len` readable bytes; `out` and `out_len`
/// must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_canonical_url(
    path_and_query: *const c_char,
    path_and_query_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let path = unsafe { str_arg(path_and_query, path_and_query_len, "path_and_query") }?;
        let url = sign::canonical_url(path)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, url.as_bytes()) };
        Ok(())
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizationFields {
    mchid: String,
    nonce_str: String,
    timestamp: i64,
    serial_no: String,
    signature: String,
}

/// Assembles the `Authorization` header value from JSON
/// `{"mchid", "nonce_str", "timestamp", "serial_no", "signature"}` (parameters in the Go/Java
/// order).
///
/// # Safety
/// `fields_json` must point to `fields_json_len` readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_authorization_header(
    fields_json: *const c_char,
    fields_json_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let text = unsafe { bytes_arg(fields_json.cast::<u8>(), fields_json_len, "fields_json") }?;
        let f: AuthorizationFields = serde_json::from_slice(text).map_err(|e| {
            Error::InvalidInput(format!(
                "invalid Authorization fields: {}",
                redact_quoted(&e.to_string())
            ))
        })?;
        let header = Authorization {
            mchid: f.mchid,
            nonce_str: f.nonce_str,
            timestamp: f.timestamp,
            serial_no: f.serial_no,
            signature: f.signature,
        }
        .header_value()?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, header.as_bytes()) };
        Ok(())
    })
}

/// AEAD_AES_256_GCM decryption of base64(ciphertext ‖ tag) with the 32-character APIv3 key;
/// the plaintext is bytes freed (and wiped) by `goldplan_bytes_free`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_aead_decrypt(
    apiv3_key: *const c_char,
    apiv3_key_len: usize,
    associated_data: *const u8,
    associated_data_len: usize,
    nonce: *const u8,
    nonce_len: usize,
    ciphertext_base64: *const c_char,
    ciphertext_base64_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let (key, aad, nonce, ciphertext) = unsafe {
            (
                bytes_arg(apiv3_key.cast::<u8>(), apiv3_key_len, "apiv3_key")?,
                bytes_arg(associated_data, associated_data_len, "associated_data")?,
                bytes_arg(nonce, nonce_len, "nonce")?,
                str_arg(
                    ciphertext_base64,
                    ciphertext_base64_len,
                    "ciphertext_base64",
                )?,
            )
        };
        let plaintext = aead::decrypt(&ApiV3Key::new(key)?, aad, nonce, ciphertext)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_bytes(out, out_len, &plaintext) };
        Ok(())
    })
}

/// AEAD_AES_256_GCM encryption; `*out` is base64(ciphertext ‖ tag). The caller owns nonce
/// uniqueness.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_aead_encrypt(
    apiv3_key: *const c_char,
    apiv3_key_len: usize,
    associated_data: *const u8,
    associated_data_len: usize,
    nonce: *const u8,
    nonce_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract.
        let (key, aad, nonce, plaintext) = unsafe {
            (
                bytes_arg(apiv3_key.cast::<u8>(), apiv3_key_len, "apiv3_key")?,
                bytes_arg(associated_data, associated_data_len, "associated_data")?,
                bytes_arg(nonce, nonce_len, "nonce")?,
                bytes_arg(plaintext, plaintext_len, "plaintext")?,
            )
        };
        let sealed = aead::encrypt(&ApiV3Key::new(key)?, aad, nonce, plaintext)?;
        // SAFETY: both out-pointers were checked.
        unsafe { write_string(out, out_len, sealed.as_bytes()) };
        Ok(())
    })
}

/// Decrypts and validates a `GET /v3/certificates` response (spec §3.3) and verifies its
/// signature against the trusted certificates plus the downloaded ones: the registry helper
/// `decrypt_certificates`. `headers_json` is a JSON object of header values or an array of
/// `[name, value]` pairs; `now` freezes the clock (0 = system clock); the trusted certificates
/// are `trusted_certificates_count` PEM strings (`trusted_certificates[i]` of
/// `trusted_certificates_lens[i]` bytes; none on a first download, when both arrays may be
/// NULL). The result is JSON: `certificates` (`serial_no`, `not_before`, `not_after`,
/// `not_before_unix`, `not_after_unix`, `pem`), `dropped` (`serial_no`, `reason`) and
/// `newest_serial`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; the arrays must hold
/// `trusted_certificates_count` elements; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_decrypt_certificates(
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    apiv3_key: *const c_char,
    apiv3_key_len: usize,
    now: i64,
    trusted_certificates: *const *const c_char,
    trusted_certificates_lens: *const usize,
    trusted_certificates_count: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let mut args = Arguments::new();
        // SAFETY: caller's contract.
        unsafe {
            args.text_list(
                "trusted_certificates",
                trusted_certificates,
                trusted_certificates_lens,
                trusted_certificates_count,
            )?;
        }
        // SAFETY: caller's contract; `out` was checked.
        unsafe {
            decrypt_certificates(
                args,
                (headers_json, headers_json_len),
                (body, body_len),
                (apiv3_key, apiv3_key_len),
                now,
                out,
            )
        }
    })
}

/// The registry helper `decrypt_certificates` with `args` holding the trusted certificates.
///
/// # Safety
/// Each pointer must point to its length of readable bytes; `out` must come from `out_arg`.
unsafe fn decrypt_certificates(
    mut args: Arguments,
    headers_json: (*const c_char, usize),
    body: (*const u8, usize),
    apiv3_key: (*const c_char, usize),
    now: i64,
    out: *mut *mut GoldplanResponse,
) -> FfiResult<()> {
    // SAFETY: caller's contract.
    let headers = unsafe {
        args.text("body", body.0.cast::<c_char>(), body.1)?;
        args.text("apiv3_key", apiv3_key.0, apiv3_key.1)?;
        bytes_arg(headers_json.0.cast::<u8>(), headers_json.1, "headers_json")?
    };
    // The core takes `[name, value]` pairs; a C caller may also give an object.
    args.value("headers", json!(headers_from_json(headers)?));
    if now != 0 {
        args.integer("now", now);
    }
    let value = args.call_local(Operation::DecryptCertificates)?;
    // SAFETY: forwarded contract.
    unsafe { write_value(out, &value, None) }
}

/// Deprecated: `goldplan_decrypt_certificates` (the registry's name), with the trusted
/// certificates as a JSON array of PEM strings (or of objects with `pem`). Same behaviour.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_certificates_validate(
    headers_json: *const c_char,
    headers_json_len: usize,
    body: *const u8,
    body_len: usize,
    apiv3_key: *const c_char,
    apiv3_key_len: usize,
    trusted_json: *const c_char,
    trusted_json_len: usize,
    now: i64,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: caller's contract.
        let trusted =
            unsafe { bytes_arg(trusted_json.cast::<u8>(), trusted_json_len, "trusted_json") }?;
        let trusted: Vec<CertificateText> = serde_json::from_slice(trusted).map_err(|e| {
            Error::InvalidInput(format!(
                "trusted_json is not an array of PEM strings: {}",
                redact_quoted(&e.to_string())
            ))
        })?;
        let pems: Vec<String> = trusted
            .into_iter()
            .map(|item| match item {
                CertificateText::Pem(pem) | CertificateText::Listed { pem } => pem,
            })
            .collect();
        let mut args = Arguments::new();
        args.value("trusted_certificates", json!(pems));
        // SAFETY: caller's contract; `out` was checked.
        unsafe {
            decrypt_certificates(
                args,
                (headers_json, headers_json_len),
                (body, body_len),
                (apiv3_key, apiv3_key_len),
                now,
                out,
            )
        }
    })
}

/// The four receipt values as the arguments of a `check_code` helper.
///
/// # Safety
/// Each pointer must point to its length of readable bytes.
unsafe fn check_code_args(
    configured_link: (*const c_char, usize),
    sub_mch_id: (*const c_char, usize),
    out_trade_no: (*const c_char, usize),
    transaction_id: (*const c_char, usize),
) -> FfiResult<Arguments> {
    let mut args = Arguments::new();
    // SAFETY: caller's contract.
    unsafe {
        args.text("configured_link", configured_link.0, configured_link.1)?;
        args.text("sub_mch_id", sub_mch_id.0, sub_mch_id.1)?;
        args.text("out_trade_no", out_trade_no.0, out_trade_no.1)?;
        args.text("transaction_id", transaction_id.0, transaction_id.1)?;
    }
    Ok(args)
}

/// Runs a helper whose result is a JSON string and hands out the string.
///
/// # Safety
/// `out` and `out_len` must come from `out_arg`.
unsafe fn helper_string(
    args: Arguments,
    operation: Operation,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> FfiResult<()> {
    let value = args.call_local(operation)?;
    let text = value
        .as_str()
        .ok_or_else(|| Error::Internal(format!("{operation} did not answer a string")))?;
    // SAFETY: forwarded contract.
    unsafe { write_string(out, out_len, text.as_bytes()) };
    Ok(())
}

/// The string whose MD5 is a merchant receipt's (商家小票) `check_code`:
/// `<configured_link>?sub_mch_id=…&out_trade_no=…&transaction_id=…`, values exactly as
/// received (raw, not percent-decoded). For logs and support; compare codes with
/// `goldplan_verify_check_code`.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_check_code_input(
    configured_link: *const c_char,
    configured_link_len: usize,
    sub_mch_id: *const c_char,
    sub_mch_id_len: usize,
    out_trade_no: *const c_char,
    out_trade_no_len: usize,
    transaction_id: *const c_char,
    transaction_id_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract; both out-pointers were checked.
        unsafe {
            let args = check_code_args(
                (configured_link, configured_link_len),
                (sub_mch_id, sub_mch_id_len),
                (out_trade_no, out_trade_no_len),
                (transaction_id, transaction_id_len),
            )?;
            helper_string(args, Operation::CheckCodeInput, out, out_len)
        }
    })
}

/// The merchant-receipt (商家小票) `check_code` expected for an order: lower-case hex MD5 of
/// `<configured_link>?sub_mch_id=…&out_trade_no=…&transaction_id=…`, values exactly as
/// received (raw, not percent-decoded).
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `out` and `out_len` must be
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_expected_check_code(
    configured_link: *const c_char,
    configured_link_len: usize,
    sub_mch_id: *const c_char,
    sub_mch_id_len: usize,
    out_trade_no: *const c_char,
    out_trade_no_len: usize,
    transaction_id: *const c_char,
    transaction_id_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    guard(|| {
        let (out, out_len) = (out_arg(out, "out")?, out_arg(out_len, "out_len")?);
        // SAFETY: caller's contract; both out-pointers were checked.
        unsafe {
            let args = check_code_args(
                (configured_link, configured_link_len),
                (sub_mch_id, sub_mch_id_len),
                (out_trade_no, out_trade_no_len),
                (transaction_id, transaction_id_len),
            )?;
            helper_string(args, Operation::ExpectedCheckCode, out, out_len)
        }
    })
}

/// Deprecated: `goldplan_expected_check_code` (the registry's name). Same behaviour.
///
/// # Safety
/// As `goldplan_expected_check_code`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_receipt_check_code(
    configured_link: *const c_char,
    configured_link_len: usize,
    sub_mch_id: *const c_char,
    sub_mch_id_len: usize,
    out_trade_no: *const c_char,
    out_trade_no_len: usize,
    transaction_id: *const c_char,
    transaction_id_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> GoldplanStatus {
    // SAFETY: forwarded contract; the canonical function clears and sets the last error.
    unsafe {
        goldplan_expected_check_code(
            configured_link,
            configured_link_len,
            sub_mch_id,
            sub_mch_id_len,
            out_trade_no,
            out_trade_no_len,
            transaction_id,
            transaction_id_len,
            out,
            out_len,
        )
    }
}

/// Whether a received `check_code` is the one WeChat computed for this order (constant time,
/// case-insensitive); `*valid` is written on success.
///
/// # Safety
/// Pointers with lengths must point to that many readable bytes; `valid` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_verify_check_code(
    configured_link: *const c_char,
    configured_link_len: usize,
    sub_mch_id: *const c_char,
    sub_mch_id_len: usize,
    out_trade_no: *const c_char,
    out_trade_no_len: usize,
    transaction_id: *const c_char,
    transaction_id_len: usize,
    check_code: *const c_char,
    check_code_len: usize,
    valid: *mut bool,
) -> GoldplanStatus {
    guard(|| {
        let valid = out_arg(valid, "valid")?;
        // SAFETY: caller's contract.
        let args = unsafe {
            let mut args = check_code_args(
                (configured_link, configured_link_len),
                (sub_mch_id, sub_mch_id_len),
                (out_trade_no, out_trade_no_len),
                (transaction_id, transaction_id_len),
            )?;
            args.text("check_code", check_code, check_code_len)?;
            args
        };
        let ok = args
            .call_local(Operation::VerifyCheckCode)?
            .as_bool()
            .ok_or_else(|| Error::Internal("verify_check_code did not answer a boolean".into()))?;
        // SAFETY: `valid` was checked.
        unsafe { write_out(valid, ok) };
        Ok(())
    })
}

/// Deprecated: `goldplan_verify_check_code` (the registry's name). Same behaviour.
///
/// # Safety
/// As `goldplan_verify_check_code`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_receipt_verify_check_code(
    configured_link: *const c_char,
    configured_link_len: usize,
    sub_mch_id: *const c_char,
    sub_mch_id_len: usize,
    out_trade_no: *const c_char,
    out_trade_no_len: usize,
    transaction_id: *const c_char,
    transaction_id_len: usize,
    check_code: *const c_char,
    check_code_len: usize,
    valid: *mut bool,
) -> GoldplanStatus {
    // SAFETY: forwarded contract; the canonical function clears and sets the last error.
    unsafe {
        goldplan_verify_check_code(
            configured_link,
            configured_link_len,
            sub_mch_id,
            sub_mch_id_len,
            out_trade_no,
            out_trade_no_len,
            transaction_id,
            transaction_id_len,
            check_code,
            check_code_len,
            valid,
        )
    }
}

/// Parses a received receipt URL (or its query) into `sub_mch_id`, `out_trade_no` and
/// `check_code`, each `{"raw", "decoded"}`; use the raw values for the check code.
///
/// # Safety
/// `url` must point to `url_len` readable bytes; `out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_parse_receipt_query(
    url: *const c_char,
    url_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    guard(|| {
        let out = out_arg(out, "out")?;
        let mut args = Arguments::new();
        // SAFETY: caller's contract.
        unsafe { args.text("url", url, url_len) }?;
        let value = args.call_local(Operation::ParseReceiptQuery)?;
        // SAFETY: `out` was checked.
        unsafe { write_value(out, &value, None) }
    })
}

/// Deprecated: `goldplan_parse_receipt_query` (the registry's name). Same behaviour.
///
/// # Safety
/// As `goldplan_parse_receipt_query`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn goldplan_receipt_parse_url(
    url: *const c_char,
    url_len: usize,
    out: *mut *mut GoldplanResponse,
) -> GoldplanStatus {
    // SAFETY: forwarded contract; the canonical function clears and sets the last error.
    unsafe { goldplan_parse_receipt_query(url, url_len, out) }
}
