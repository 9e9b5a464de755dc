//! The sans-IO protocol helpers, for users who keep their own HTTP stack: keys and signing,
//! the `Authorization` header, response/callback verification, platform certificates, AEAD,
//! sensitive fields, callbacks and the merchant-receipt check code. Keys and certificates arrive
//! as the caller gave them (a string of PEM text or a path, or a Buffer of PEM text) and the core
//! decides which it is and reads the file (`pem_text`); other bytes arrive as Buffers.

use std::sync::Arc;

use goldplan::certificates;
use goldplan::clock::{Clock, ManualClock, SystemClock};
use goldplan::credentials::{ApiV3Key, KeySource, MerchantCredentials, PrivateKey};
use goldplan::notification::{Acknowledgement, Notification, NotificationParser};
use goldplan::sensitive::{self, EncryptionKey};
use goldplan::sign::{self, Authorization, RsaSigner};
use goldplan::verify::{
    self, CertificateVerifier, CombinedVerifier, PublicKeyVerifier, VerificationPolicy, Verifier,
    WechatpayHeaders,
};
use goldplan::x509::{Certificate, CertificateSet};
use goldplan::{ErrorKind, aead, receipt};
use napi::Either;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::error::{check, guard, invalid_input};

/// Header pairs from the facade's two parallel arrays.
pub(crate) fn header_pairs(
    names: Vec<String>,
    values: Vec<String>,
) -> napi::Result<Vec<(String, String)>> {
    if names.len() != values.len() {
        return Err(invalid_input(
            "header names and values must have the same length",
        ));
    }
    Ok(names.into_iter().zip(values).collect())
}

fn clock(now: Option<i64>) -> Arc<dyn Clock> {
    match now {
        Some(t) => Arc::new(ManualClock::new(t)),
        None => Arc::new(SystemClock),
    }
}

/// The verification policy of a sans-IO helper: the same validated window as the client
/// (1 to 86 400 s; anything else is a configuration error, so no caller can switch it off).
fn policy(now: Option<i64>, max_skew_secs: Option<i64>) -> napi::Result<VerificationPolicy> {
    let max_skew = guard(|| {
        verify::MaxSkew::from_secs(max_skew_secs.unwrap_or(verify::DEFAULT_MAX_SKEW_SECS))
    })?;
    Ok(VerificationPolicy::new(max_skew, clock(now)))
}

/// The PEM text of a key or certificate argument: a string is PEM text or a path by the core's
/// one rule ([`KeySource::from_pem_or_path`]), a Buffer is PEM text. The core reads the file
/// (bounded) and words every error: it names `what` and never shows the value, which may be a
/// key given where a path was expected.
fn pem_text(value: Either<String, Buffer>, what: &str) -> napi::Result<Zeroizing<String>> {
    let source = match value {
        Either::A(text) => KeySource::from_pem_or_path(text),
        Either::B(bytes) => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| invalid_input(format!("{what} is not UTF-8 PEM text")))?;
            KeySource::Pem(Zeroizing::new(text.to_owned()))
        }
    };
    guard(|| source.load(what))
}

fn apiv3_key(key: &Buffer) -> napi::Result<ApiV3Key> {
    guard(|| ApiV3Key::new(key.as_ref()))
}

fn certificate(value: Either<String, Buffer>, what: &str) -> napi::Result<Certificate> {
    let pem = pem_text(value, what)?;
    guard(|| Certificate::from_pem(&pem))
}

/// `what` names the list; an entry is `what[i]` in errors.
fn certificate_set(list: Vec<Either<String, Buffer>>, what: &str) -> napi::Result<CertificateSet> {
    let mut certs = Vec::with_capacity(list.len());
    for (i, value) in list.into_iter().enumerate() {
        certs.push(Arc::new(certificate(value, &format!("{what}[{i}]"))?));
    }
    Ok(CertificateSet::new(certs))
}

fn public_key_verifier(
    key_id: &str,
    public_key: Either<String, Buffer>,
) -> napi::Result<PublicKeyVerifier> {
    let pem = pem_text(public_key, "publicKey")?;
    guard(|| PublicKeyVerifier::from_pem(key_id, &pem))
}

/// A platform certificate as plain data.
#[napi(object)]
pub struct JsCertificate {
    /// Serial as upper-case hex (as sent in `Wechatpay-Serial`).
    pub serial_no: String,
    /// NotBefore, Unix seconds.
    pub not_before: i64,
    /// NotAfter, Unix seconds.
    pub not_after: i64,
    /// The certificate as PEM.
    pub pem: String,
}

impl From<&Certificate> for JsCertificate {
    fn from(c: &Certificate) -> JsCertificate {
        JsCertificate {
            serial_no: c.serial_hex().to_owned(),
            not_before: c.not_before(),
            not_after: c.not_after(),
            pem: c.pem().to_owned(),
        }
    }
}

pub(crate) fn certificate_list(set: &CertificateSet) -> Vec<JsCertificate> {
    set.iter()
        .map(|c| JsCertificate::from(c.as_ref()))
        .collect()
}

/// Parses one platform certificate (PEM text, its path, or a Buffer of PEM text).
#[napi(js_name = "parseCertificate")]
pub fn parse_certificate(certificate: Either<String, Buffer>) -> napi::Result<JsCertificate> {
    self::certificate(certificate, "certificate").map(|c| JsCertificate::from(&c))
}

/// A verified, decrypted callback.
#[napi(object)]
pub struct JsNotification {
    /// Notification id (de-duplicate on it).
    pub id: String,
    /// `create_time` as sent.
    pub create_time: String,
    /// e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// e.g. `encrypt-resource`.
    pub resource_type: String,
    /// Summary, when sent.
    pub summary: Option<String>,
    /// `resource.original_type`, when sent.
    pub original_type: Option<String>,
    /// `Request-ID`, when sent.
    pub request_id: Option<String>,
    /// The serial or key id that signed it.
    pub serial: String,
    /// The decrypted resource (JSON text).
    pub plaintext: String,
}

impl From<Notification> for JsNotification {
    fn from(n: Notification) -> JsNotification {
        JsNotification {
            plaintext: n.plaintext().to_owned(),
            id: n.id,
            create_time: n.create_time,
            event_type: n.event_type,
            resource_type: n.resource_type,
            summary: n.summary,
            original_type: n.original_type,
            request_id: n.request_id,
            serial: n.serial,
        }
    }
}

/// The string to sign: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
#[napi(js_name = "messageToSign")]
pub fn message_to_sign(
    method: String,
    canonical_url: String,
    timestamp: i64,
    nonce: String,
    body: Buffer,
) -> napi::Result<Buffer> {
    check(sign::message_to_sign(
        &method,
        &canonical_url,
        timestamp,
        &nonce,
        &body,
    ))
    .map(Into::into)
}

/// The string to verify: `TIMESTAMP\nNONCE\nBODY\n`.
#[napi(js_name = "messageToVerify")]
pub fn message_to_verify(timestamp: String, nonce: String, body: Buffer) -> Buffer {
    verify::message_to_verify(&timestamp, &nonce, &body).into()
}

/// The canonical URL line of a request-target (`/path?query`).
#[napi(js_name = "canonicalUrl")]
pub fn canonical_url(path_and_query: String) -> napi::Result<String> {
    guard(|| sign::canonical_url(&path_and_query))
}

/// A fresh 32-character nonce from the OS CSPRNG.
#[napi(js_name = "generateNonce")]
pub fn generate_nonce() -> napi::Result<String> {
    guard(sign::generate_nonce)
}

fn private_key_from(value: Either<String, Buffer>) -> napi::Result<PrivateKey> {
    let pem = pem_text(value, "privateKey")?;
    guard(|| PrivateKey::from_pem(&pem))
}

/// The merchant API private key (RSA).
#[napi]
pub struct NativePrivateKey {
    inner: PrivateKey,
}

#[napi]
impl NativePrivateKey {
    /// Parses the key (PKCS#8 or PKCS#1) from PEM text, its path, or a Buffer of PEM text.
    #[napi(factory)]
    pub fn load(private_key: Either<String, Buffer>) -> napi::Result<NativePrivateKey> {
        private_key_from(private_key).map(|inner| NativePrivateKey { inner })
    }

    /// Key size in bits.
    #[napi(getter)]
    pub fn bits(&self) -> u32 {
        u32::try_from(self.inner.bits()).unwrap_or(u32::MAX)
    }

    /// The public half as SubjectPublicKeyInfo DER.
    #[napi(getter, js_name = "publicKeyDer")]
    pub fn public_key_der(&self) -> Buffer {
        self.inner.public_key_der().to_vec().into()
    }

    /// base64 RSASSA-PKCS1-v1_5/SHA-256 signature of `message`.
    #[napi]
    pub fn sign(&self, message: Buffer) -> napi::Result<String> {
        guard(|| sign::sign_base64(&self.inner, &message))
    }

    /// Decrypts a sensitive field (RSA-OAEP) with this key.
    #[napi(js_name = "decryptSensitive")]
    pub fn decrypt_sensitive(&self, ciphertext: String) -> napi::Result<String> {
        guard(|| sensitive::decrypt(&self.inner, &ciphertext)).map(|s| s.to_string())
    }
}

/// The five `Authorization` parameters.
#[napi(object)]
pub struct JsAuthorization {
    /// Caller merchant id.
    pub mchid: String,
    /// The signed nonce.
    pub nonce_str: String,
    /// The signed timestamp.
    pub timestamp: i64,
    /// Merchant certificate serial.
    pub serial_no: String,
    /// base64 signature.
    pub signature: String,
}

impl From<Authorization> for JsAuthorization {
    fn from(a: Authorization) -> JsAuthorization {
        JsAuthorization {
            mchid: a.mchid,
            nonce_str: a.nonce_str,
            timestamp: a.timestamp,
            serial_no: a.serial_no,
            signature: a.signature,
        }
    }
}

/// Parses an `Authorization` header value (parameters in any order).
#[napi(js_name = "parseAuthorization")]
pub fn parse_authorization(header: String) -> napi::Result<JsAuthorization> {
    guard(|| Authorization::parse(&header)).map(JsAuthorization::from)
}

/// The `Authorization` header value of these parameters (Go/Java order).
#[napi(js_name = "authorizationHeader")]
pub fn authorization_header(authorization: JsAuthorization) -> napi::Result<String> {
    check(
        Authorization {
            mchid: authorization.mchid,
            nonce_str: authorization.nonce_str,
            timestamp: authorization.timestamp,
            serial_no: authorization.serial_no,
            signature: authorization.signature,
        }
        .header_value(),
    )
}

/// A signed request: what to put on the wire.
#[napi(object)]
pub struct JsSignedRequest {
    /// Upper-case method.
    pub method: String,
    /// The path and query to send.
    pub canonical_url: String,
    /// The `Authorization` parameters.
    pub authorization: JsAuthorization,
    /// The `Authorization` header value.
    pub authorization_header: String,
}

/// The merchant identity that signs requests.
#[napi]
pub struct NativeSigner {
    inner: RsaSigner,
}

#[napi]
impl NativeSigner {
    /// `certificate` (the merchant's `apiclient_cert.pem`), when given, must match. Both are
    /// PEM text, a path, or a Buffer of PEM text.
    #[napi(constructor)]
    pub fn new(
        mchid: String,
        serial_no: String,
        private_key: Either<String, Buffer>,
        certificate: Option<Either<String, Buffer>>,
    ) -> napi::Result<NativeSigner> {
        let key = private_key_from(private_key)?;
        let credentials = match certificate {
            Some(cert) => {
                let cert = pem_text(cert, "certificate")?;
                guard(|| MerchantCredentials::with_certificate(&mchid, &serial_no, key, &cert))?
            }
            None => guard(|| MerchantCredentials::new(&mchid, &serial_no, key))?,
        };
        Ok(NativeSigner {
            inner: RsaSigner::new(credentials),
        })
    }

    /// Caller merchant id.
    #[napi(getter)]
    pub fn mchid(&self) -> String {
        self.inner.credentials().mchid().to_owned()
    }

    /// Merchant certificate serial.
    #[napi(getter, js_name = "serialNo")]
    pub fn serial_no(&self) -> String {
        self.inner.credentials().serial_no().to_owned()
    }

    /// base64 signature of `message`.
    #[napi]
    pub fn sign(&self, message: Buffer) -> napi::Result<String> {
        guard(|| self.inner.sign_blocking(&message))
    }

    /// Signs a request with a fresh nonce and the current (or the given) timestamp.
    #[napi(js_name = "signRequest")]
    pub fn sign_request(
        &self,
        method: String,
        path: String,
        body: Option<Buffer>,
        timestamp: Option<i64>,
    ) -> napi::Result<JsSignedRequest> {
        let body = body.map(|b| b.to_vec()).unwrap_or_default();
        let clock = clock(timestamp);
        let signed = guard(|| {
            sign::sign_request_blocking(&self.inner, clock.as_ref(), &method, &path, &body)
        })?;
        Ok(JsSignedRequest {
            authorization_header: check(signed.authorization.header_value())?,
            method: signed.method,
            canonical_url: signed.canonical_url,
            authorization: JsAuthorization::from(signed.authorization),
        })
    }
}

/// What a successful verification establishes.
#[napi(object)]
pub struct JsVerified {
    /// The serial or key id that signed.
    pub serial: String,
    /// The signed timestamp.
    pub timestamp: i64,
    /// The `Request-ID`, when present.
    pub request_id: Option<String>,
}

/// Verifies WeChat Pay signatures with the public key, platform certificates, or both.
#[napi]
pub struct NativeVerifier {
    inner: Arc<dyn Verifier>,
}

#[napi]
impl NativeVerifier {
    /// Public-key mode: the `PUB_KEY_ID_…` id and the public key.
    #[napi(factory, js_name = "publicKey")]
    pub fn public_key(
        key_id: String,
        public_key: Either<String, Buffer>,
    ) -> napi::Result<NativeVerifier> {
        Ok(NativeVerifier {
            inner: Arc::new(public_key_verifier(&key_id, public_key)?),
        })
    }

    /// Platform certificates.
    #[napi(factory)]
    pub fn certificates(certificates: Vec<Either<String, Buffer>>) -> napi::Result<NativeVerifier> {
        Ok(NativeVerifier {
            inner: Arc::new(CertificateVerifier::new(certificate_set(
                certificates,
                "certificates",
            )?)),
        })
    }

    /// Both, routed by serial (migration from certificates to the public key).
    #[napi(factory)]
    pub fn combined(
        key_id: String,
        public_key: Either<String, Buffer>,
        certificates: Vec<Either<String, Buffer>>,
    ) -> napi::Result<NativeVerifier> {
        let pk = Arc::new(public_key_verifier(&key_id, public_key)?);
        let certs = Arc::new(CertificateVerifier::new(certificate_set(
            certificates,
            "certificates",
        )?));
        Ok(NativeVerifier {
            inner: Arc::new(CombinedVerifier::new(pk, certs)),
        })
    }

    /// The serial or key id to send in `Wechatpay-Serial`.
    #[napi(getter, js_name = "acceptSerial")]
    pub fn accept_serial(&self) -> Option<String> {
        self.inner.accept_serial()
    }

    /// Verifies a signed response or callback over its raw body; `now` freezes the clock.
    #[napi]
    pub fn verify(
        &self,
        names: Vec<String>,
        values: Vec<String>,
        body: Buffer,
        now: Option<i64>,
        max_skew_secs: Option<i64>,
    ) -> napi::Result<JsVerified> {
        let pairs = header_pairs(names, values)?;
        let policy = policy(now, max_skew_secs)?;
        let v = guard(|| {
            let h = WechatpayHeaders::from_pairs(pairs.iter().map(|(n, v)| (n, v)))?;
            verify::verify_signed(self.inner.as_ref(), &policy, &h, &body)
        })?;
        Ok(JsVerified {
            serial: v.serial,
            timestamp: v.timestamp,
            request_id: v.request_id,
        })
    }

    /// A callback parser with this verifier and the APIv3 key.
    #[napi(js_name = "notificationParser")]
    pub fn notification_parser(
        &self,
        apiv3_key: Buffer,
        now: Option<i64>,
        max_skew_secs: Option<i64>,
    ) -> napi::Result<NativeNotificationParser> {
        let key = self::apiv3_key(&apiv3_key)?;
        Ok(NativeNotificationParser {
            inner: NotificationParser::new(self.inner.clone(), key)
                .with_policy(policy(now, max_skew_secs)?),
        })
    }
}

/// Verifies and decrypts callbacks for one merchant, without a client.
#[napi]
pub struct NativeNotificationParser {
    inner: NotificationParser,
}

#[napi]
impl NativeNotificationParser {
    /// Verifies the raw body and headers, then decrypts the resource.
    #[napi]
    pub fn parse(
        &self,
        names: Vec<String>,
        values: Vec<String>,
        body: Buffer,
    ) -> napi::Result<JsNotification> {
        let pairs = header_pairs(names, values)?;
        guard(|| self.inner.parse(pairs.iter().map(|(n, v)| (n, v)), &body))
            .map(JsNotification::from)
    }
}

/// An entry that was listed but not kept.
#[napi(object)]
pub struct JsDroppedCertificate {
    /// The serial as listed.
    pub serial_no: String,
    /// Why it was dropped.
    pub reason: String,
}

/// The outcome of [`decrypt_certificates`].
#[napi(object)]
pub struct JsDownloadedCertificates {
    /// Certificates that decrypted, matched their listing and are valid now.
    pub certificates: Vec<JsCertificate>,
    /// Entries listed but not kept.
    pub dropped: Vec<JsDroppedCertificate>,
    /// The certificate to encrypt with and to advertise.
    pub newest: Option<JsCertificate>,
}

/// Decrypts, matches and verifies a `GET /v3/certificates` response (spec §3.3).
#[napi(js_name = "decryptCertificates")]
#[allow(clippy::too_many_arguments)]
pub fn decrypt_certificates(
    names: Vec<String>,
    values: Vec<String>,
    body: Buffer,
    apiv3_key: Buffer,
    trusted: Vec<Either<String, Buffer>>,
    public_key_id: Option<String>,
    public_key: Option<Either<String, Buffer>>,
    now: Option<i64>,
    max_skew_secs: Option<i64>,
) -> napi::Result<JsDownloadedCertificates> {
    let pairs = header_pairs(names, values)?;
    let key = self::apiv3_key(&apiv3_key)?;
    let trusted = certificate_set(trusted, "trusted")?;
    let pk = match (public_key_id, public_key) {
        (Some(id), Some(key)) => Some(public_key_verifier(&id, key)?),
        (None, None) => None,
        _ => return Err(invalid_input("publicKeyId and publicKey go together")),
    };
    let policy = policy(now, max_skew_secs)?;
    let downloaded = guard(|| {
        let h = WechatpayHeaders::from_pairs(pairs.iter().map(|(n, v)| (n, v)))?;
        certificates::validate_download(&h, &body, &key, &trusted, pk.as_ref(), &policy)
    })?;
    Ok(JsDownloadedCertificates {
        certificates: certificate_list(&downloaded.certificates),
        newest: downloaded
            .certificates
            .newest()
            .map(|c| JsCertificate::from(c.as_ref())),
        dropped: downloaded
            .dropped
            .into_iter()
            .map(|d| JsDroppedCertificate {
                serial_no: d.serial_no,
                reason: d.reason,
            })
            .collect(),
    })
}

/// AEAD_AES_256_GCM decryption with the APIv3 key.
#[napi(js_name = "aeadDecrypt")]
pub fn aead_decrypt(
    apiv3_key: Buffer,
    associated_data: Buffer,
    nonce: Buffer,
    ciphertext: String,
) -> napi::Result<Buffer> {
    let key = self::apiv3_key(&apiv3_key)?;
    let plain = guard(|| aead::decrypt(&key, &associated_data, &nonce, &ciphertext))?;
    Ok(plain.to_vec().into())
}

/// AEAD_AES_256_GCM encryption with the APIv3 key; base64(ciphertext ‖ tag).
#[napi(js_name = "aeadEncrypt")]
pub fn aead_encrypt(
    apiv3_key: Buffer,
    associated_data: Buffer,
    nonce: Buffer,
    plaintext: Buffer,
) -> napi::Result<String> {
    let key = self::apiv3_key(&apiv3_key)?;
    guard(|| aead::encrypt(&key, &associated_data, &nonce, &plaintext))
}

/// A WeChat Pay key that sensitive fields are encrypted to (RSA-OAEP).
#[napi]
pub struct NativeEncryptionKey {
    inner: EncryptionKey,
}

#[napi]
impl NativeEncryptionKey {
    /// The WeChat Pay public key and its id.
    #[napi(factory, js_name = "fromPublicKey")]
    pub fn from_public_key(
        key_id: String,
        public_key: Either<String, Buffer>,
    ) -> napi::Result<NativeEncryptionKey> {
        let pk = public_key_verifier(&key_id, public_key)?;
        guard(|| EncryptionKey::from_public_key(&pk)).map(|inner| NativeEncryptionKey { inner })
    }

    /// A platform certificate (use the newest one).
    #[napi(factory, js_name = "fromCertificate")]
    pub fn from_certificate(
        certificate: Either<String, Buffer>,
    ) -> napi::Result<NativeEncryptionKey> {
        let cert = self::certificate(certificate, "certificate")?;
        guard(|| EncryptionKey::from_certificate(&cert)).map(|inner| NativeEncryptionKey { inner })
    }

    /// The value for the `Wechatpay-Serial` request header.
    #[napi(getter, js_name = "wechatpaySerial")]
    pub fn wechatpay_serial(&self) -> String {
        self.inner.wechatpay_serial().to_owned()
    }

    /// Largest plaintext in UTF-8 bytes.
    #[napi(getter, js_name = "maxPlaintextLen")]
    pub fn max_plaintext_len(&self) -> u32 {
        u32::try_from(self.inner.max_plaintext_len()).unwrap_or(u32::MAX)
    }

    /// Encrypts one field (base64); an empty string stays empty.
    #[napi]
    pub fn encrypt(&self, plaintext: String) -> napi::Result<String> {
        let plaintext = Zeroizing::new(plaintext);
        guard(|| self.inner.encrypt(&plaintext))
    }
}

/// The HTTP answer to give WeChat Pay for a callback (spec §4.3).
#[napi(object)]
pub struct JsAcknowledgement {
    /// HTTP status.
    pub status: u16,
    /// JSON body (empty on success).
    pub body: String,
}

/// The acknowledgement for a callback: success without an error kind; for an error kind, the
/// answer it calls for (a replay is acknowledged; an unknown kind is a 500).
#[napi(js_name = "acknowledgement")]
pub fn acknowledgement(kind: Option<String>) -> JsAcknowledgement {
    let ack = match kind {
        None => Acknowledgement::success(),
        Some(k) => match ErrorKind::from_name(&k) {
            Some(kind) => Acknowledgement::for_kind(kind),
            None => Acknowledgement::failure(500, "internal"),
        },
    };
    JsAcknowledgement {
        status: ack.status,
        body: ack.body,
    }
}

/// The exact string whose MD5 is the receipt `check_code`.
#[napi(js_name = "checkCodeInput")]
pub fn check_code_input(
    configured_link: String,
    sub_mch_id: String,
    out_trade_no: String,
    transaction_id: String,
) -> String {
    receipt::check_code_input(
        &configured_link,
        &sub_mch_id,
        &out_trade_no,
        &transaction_id,
    )
}

/// The expected receipt `check_code` (lower-case hex MD5).
#[napi(js_name = "expectedCheckCode")]
pub fn expected_check_code(
    configured_link: String,
    sub_mch_id: String,
    out_trade_no: String,
    transaction_id: String,
) -> String {
    receipt::expected_check_code(
        &configured_link,
        &sub_mch_id,
        &out_trade_no,
        &transaction_id,
    )
}

/// Whether `check_code` is the one WeChat computed (constant time, case-insensitive): the
/// registry's `verify_check_code`. The facade's deprecated `verifyReceiptCheckCode` calls this
/// too, so the addon exports one name per concept.
#[napi(js_name = "verifyCheckCode")]
pub fn verify_check_code(
    configured_link: String,
    sub_mch_id: String,
    out_trade_no: String,
    transaction_id: String,
    check_code: String,
) -> bool {
    receipt::verify_check_code(
        &configured_link,
        &sub_mch_id,
        &out_trade_no,
        &transaction_id,
        &check_code,
    )
}

/// One query parameter as received (`raw`) and percent-decoded (`decoded`).
#[napi(object)]
pub struct JsQueryValue {
    /// Exactly as in the URL (use this for the check code).
    pub raw: String,
    /// Percent-decoded.
    pub decoded: String,
}

/// The three parameters WeChat appends to the receipt link.
#[napi(object)]
pub struct JsReceiptParams {
    /// `sub_mch_id`.
    pub sub_mch_id: JsQueryValue,
    /// `out_trade_no`.
    pub out_trade_no: JsQueryValue,
    /// `check_code`.
    pub check_code: JsQueryValue,
}

fn query_value(v: receipt::QueryValue) -> JsQueryValue {
    JsQueryValue {
        raw: v.raw,
        decoded: v.decoded,
    }
}

/// Parses a received receipt URL (or its query string).
#[napi(js_name = "parseReceiptQuery")]
pub fn parse_receipt_query(url: String) -> napi::Result<JsReceiptParams> {
    let p = guard(|| receipt::parse_receipt_query(&url))?;
    Ok(JsReceiptParams {
        sub_mch_id: query_value(p.sub_mch_id),
        out_trade_no: query_value(p.out_trade_no),
        check_code: query_value(p.check_code),
    })
}
