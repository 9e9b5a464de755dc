//! One error type for the whole SDK, with a stable [`ErrorKind`] that bindings map to their own
//! error classes, and the retry classification of spec §7.4.

use std::fmt;

// Re-exported: the escaping lived here before it had a module of its own.
pub use crate::untrusted::{Untrusted, escape_untrusted};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Boxed source error carried by transport failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

closed_enum! {
    /// Stable classification of an [`Error`].
    ///
    /// The string form ([`ErrorKind::as_str`]) is part of the public contract: bindings expose it as
    /// an error code and the shared test vectors name expected failures with it.
    #[non_exhaustive]
    ErrorKind {
        /// The SDK was configured with something unusable (bad key, wrong APIv3 key length, ...).
        Configuration = "configuration",
        /// A caller-supplied argument is invalid (empty sub_mchid, too many filters, ...).
        InvalidInput = "invalid_input",
        /// A header required for verification is absent (or empty).
        MissingHeader = "missing_header",
        /// A verification header is present but malformed: a non-numeric timestamp, a header given
        /// more than once, a value that is not UTF-8 or is oversized.
        InvalidHeader = "invalid_header",
        /// `|now − Wechatpay-Timestamp|` is at least the allowed skew (300 s by default).
        ClockSkew = "clock_skew",
        /// `Wechatpay-Serial` names no key this verifier holds.
        UnknownSerial = "unknown_serial",
        /// The signature does not verify (or is not valid base64).
        SignatureInvalid = "signature_invalid",
        /// The signature is a WeChat Pay probe (`WECHATPAY/SIGNTEST/…`); it is never valid.
        SignatureProbe = "signature_probe",
        /// `Wechatpay-Signature-Type` names an algorithm other than `WECHATPAY2-SHA256-RSA2048`.
        UnsupportedSignatureType = "unsupported_signature_type",
        /// AEAD or RSA-OAEP decryption failed (wrong APIv3 key, tampering, wrong private key).
        Decryption = "decryption",
        /// RSA-OAEP encryption failed (plaintext too long, unusable key).
        Encryption = "encryption",
        /// Producing a request signature failed (for example a remote signer failed).
        Signing = "signing",
        /// A platform certificate is unusable or no valid certificate remains.
        Certificate = "certificate",
        /// The merchant has no platform certificate (`404 RESOURCE_NOT_EXISTS`): use public-key mode.
        NoPlatformCertificate = "no_platform_certificate",
        /// A notification id was already processed (reported by the caller's replay guard).
        Replay = "replay",
        /// A payload could not be decoded (invalid JSON, missing field, invalid UTF-8, ...).
        Decode = "decode",
        /// WeChat Pay answered with a non-2xx status.
        Api = "api",
        /// The HTTP exchange failed.
        Transport = "transport",
        /// The HTTP exchange timed out.
        Timeout = "timeout",
        /// A bug of this library: a panic caught at a binding boundary. Never produced by the core
        /// on its own; bindings report it so that callers get a typed error, not a crash.
        Internal = "internal",
    }
}

impl ErrorKind {
    /// The family this kind belongs to. Every binding groups kinds by family (Python base
    /// classes, Node error classes, C status codes, CLI exit codes), so they all agree.
    pub fn family(self) -> ErrorFamily {
        match self {
            ErrorKind::Configuration => ErrorFamily::Configuration,
            ErrorKind::InvalidInput => ErrorFamily::InvalidInput,
            ErrorKind::MissingHeader
            | ErrorKind::InvalidHeader
            | ErrorKind::ClockSkew
            | ErrorKind::UnknownSerial
            | ErrorKind::SignatureInvalid
            | ErrorKind::SignatureProbe
            | ErrorKind::UnsupportedSignatureType => ErrorFamily::Signature,
            ErrorKind::Decryption => ErrorFamily::Decryption,
            ErrorKind::Encryption => ErrorFamily::Encryption,
            ErrorKind::Signing => ErrorFamily::Signing,
            ErrorKind::Certificate | ErrorKind::NoPlatformCertificate => ErrorFamily::Certificate,
            ErrorKind::Replay => ErrorFamily::Replay,
            ErrorKind::Decode => ErrorFamily::Decode,
            ErrorKind::Api => ErrorFamily::Api,
            ErrorKind::Transport | ErrorKind::Timeout => ErrorFamily::Transport,
            ErrorKind::Internal => ErrorFamily::Internal,
        }
    }

    /// True for the kinds that mean "this response or callback is not authentic" (spec §2.6's
    /// `ValidationError`): the business outcome of a call that fails this way is unknown.
    pub fn is_verification_failure(self) -> bool {
        matches!(
            self,
            ErrorKind::MissingHeader
                | ErrorKind::InvalidHeader
                | ErrorKind::ClockSkew
                | ErrorKind::UnknownSerial
                | ErrorKind::SignatureInvalid
                | ErrorKind::SignatureProbe
                | ErrorKind::UnsupportedSignatureType
        )
    }
}

closed_enum! {
    /// A group of [`ErrorKind`]s that callers handle alike: one exception base class in Python,
    /// one error class in Node, one status code in C, one exit code in the CLI.
    #[non_exhaustive]
    ErrorFamily {
        /// The configuration is unusable.
        Configuration = "configuration",
        /// A caller-supplied argument is invalid.
        InvalidInput = "invalid_input",
        /// A response or callback is not authentic (headers, clock skew, serial, signature).
        Signature = "signature",
        /// Producing a request signature failed.
        Signing = "signing",
        /// Encrypting a sensitive field failed.
        Encryption = "encryption",
        /// Decrypting a callback, certificate or sensitive field failed.
        Decryption = "decryption",
        /// No usable platform certificate.
        Certificate = "certificate",
        /// A callback was already processed.
        Replay = "replay",
        /// A payload could not be decoded.
        Decode = "decode",
        /// WeChat Pay answered with an error status.
        Api = "api",
        /// The HTTP exchange failed or timed out.
        Transport = "transport",
        /// A bug of this library.
        Internal = "internal",
    }
}

impl ErrorFamily {
    /// The kinds of this family.
    pub fn kinds(self) -> impl Iterator<Item = ErrorKind> {
        ErrorKind::ALL
            .iter()
            .copied()
            .filter(move |k| k.family() == self)
    }
}

/// Why a signed response or callback was rejected, with what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationError {
    /// The precise reason; always one of the verification kinds.
    pub kind: ErrorKind,
    /// Human-readable explanation (never contains secret material).
    pub reason: String,
    /// The `Wechatpay-Serial` the message claimed, when present.
    pub serial: Option<String>,
    /// The `Request-ID` of the response, when present.
    pub request_id: Option<String>,
    /// The start of the rejected body (lossy UTF-8, at most 4 KiB), for diagnosis. Callback
    /// bodies carry only ciphertext, never decrypted data.
    pub body: Option<String>,
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason)?;
        // Both come from the unauthenticated message: escaped and bounded, so that a header
        // cannot forge log lines or flood a log.
        if let Some(serial) = &self.serial {
            write!(f, " (serial {})", Untrusted(serial, MAX_SHOWN_ID))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (Request-ID {})", Untrusted(id, MAX_SHOWN_ID))?;
        }
        Ok(())
    }
}

/// A non-2xx answer from WeChat Pay (spec §7.2). The body of an error response is not signed:
/// treat it as an unauthenticated diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// WeChat error code such as `PARAM_ERROR`; empty when the body was not a JSON error object.
    pub code: String,
    /// WeChat error message; empty when absent.
    pub message: String,
    /// The `detail` member as arbitrary JSON (its shape differs between products).
    pub detail: Option<serde_json::Value>,
    /// The `Request-ID` response header.
    pub request_id: Option<String>,
    /// The raw body as text (lossy UTF-8), truncated to 4 KiB.
    pub raw_body: String,
}

/// How much of an error body is kept for diagnostics.
const MAX_RAW_BODY: usize = 4096;

/// How much of a serial or Request-ID a message shows (real ones are under 64 characters).
const MAX_SHOWN_ID: usize = 128;
/// How much of an error code a message shows.
const MAX_SHOWN_CODE: usize = 128;
/// How much of an error message, or of the JSON of `detail`, a message shows. The whole
/// `detail` stays available as data in [`ApiError::detail`].
const MAX_SHOWN_TEXT: usize = 1024;

impl ApiError {
    /// Builds the error from a response's status, Request-ID and raw body, tolerating bodies
    /// that are empty or not JSON (proxies, gateway error pages).
    pub fn from_response(status: u16, request_id: Option<String>, body: &[u8]) -> ApiError {
        // Read field by field from any JSON object, so that one odd field (a number for a
        // code, a key given twice — the last one wins, as in every JSON library the peers use)
        // does not cost the others.
        let (code, message, detail) = match serde_json::from_slice(body) {
            Ok(serde_json::Value::Object(mut o)) => {
                let mut text = |key: &str| match o.remove(key) {
                    Some(serde_json::Value::String(s)) => s,
                    _ => String::new(),
                };
                let (code, message) = (text("code"), text("message"));
                (code, message, o.remove("detail").filter(|d| !d.is_null()))
            }
            _ => (String::new(), String::new(), None),
        };
        ApiError {
            status,
            code,
            message,
            detail,
            request_id,
            raw_body: truncate_lossy(body, MAX_RAW_BODY),
        }
    }

    /// The best-effort typed view of `detail` (`field`, `value`, `issue`, `location`).
    pub fn detail_field(&self, name: &str) -> Option<&serde_json::Value> {
        self.detail.as_ref().and_then(|d| d.get(name))
    }

    /// Whether WeChat Pay reports rate limiting, whichever way it says it (429, the rate-limit
    /// codes, or Gold Plan's `400 INVALID_REQUEST` "命中频率限制").
    pub fn is_rate_limited(&self) -> bool {
        self.status == 429
            || matches!(
                self.code.as_str(),
                "RATELIMIT_EXCEEDED" | "FREQUENCY_LIMITED" | "RATE_LIMITED"
            )
            || (self.status == 400
                && self.code == "INVALID_REQUEST"
                && self.message.contains("命中频率限制"))
    }

    /// Whether WeChat Pay says the order does not exist (`404 ORDER_NOT_EXIST`, or the older
    /// spelling `ORDERNOTEXIST`, PAYMENTS.md §9 D8): an answer, never retried, never "closed".
    pub fn is_not_found(&self) -> bool {
        matches!(self.code.as_str(), "ORDER_NOT_EXIST" | "ORDERNOTEXIST")
    }

    /// Spec §7.4: whether repeating the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        self.status == 202
            || self.status >= 500
            || self.is_rate_limited()
            || (self.status == 400
                && self.code == "INVALID_REQUEST"
                && self.message.contains("操作失败"))
    }
}

impl fmt::Display for ApiError {
    /// The body of an error response is not signed: every part taken from it is escaped and
    /// bounded here (the full values stay in the fields).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WeChat Pay answered HTTP {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", Untrusted(&self.code, MAX_SHOWN_CODE))?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", Untrusted(&self.message, MAX_SHOWN_TEXT))?;
        }
        if let Some(detail) = &self.detail {
            // Serialised into a buffer no larger than what is shown, so a 10 MB `detail` costs
            // no 10 MB string.
            let mut shown = BoundedWriter::new(MAX_SHOWN_TEXT * 4);
            let complete = serde_json::to_writer(&mut shown, detail).is_ok();
            let text = String::from_utf8_lossy(&shown.buf);
            write!(f, " (detail: {}", Untrusted(&text, MAX_SHOWN_TEXT))?;
            if !complete && text.chars().count() <= MAX_SHOWN_TEXT {
                f.write_str("…")?;
            }
            f.write_str(")")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [Request-ID {}]", Untrusted(id, MAX_SHOWN_ID))?;
        }
        Ok(())
    }
}

/// An `io::Write` that keeps the first `max` bytes and then refuses more.
struct BoundedWriter {
    buf: Vec<u8>,
    max: usize,
}

impl BoundedWriter {
    fn new(max: usize) -> BoundedWriter {
        BoundedWriter {
            buf: Vec::new(),
            max,
        }
    }
}

impl std::io::Write for BoundedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.max.saturating_sub(self.buf.len());
        if room == 0 {
            return Err(std::io::Error::other("bound reached"));
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every failure the SDK reports.
///
/// Messages never contain private keys, the APIv3 key, Authorization headers or decrypted
/// payloads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::Configuration`].
    #[error("configuration error: {0}")]
    Configuration(String),
    /// See [`ErrorKind::InvalidInput`].
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A response or callback failed verification; `kind()` tells the precise reason.
    #[error("verification failed: {0}")]
    Verification(Box<VerificationError>),
    /// See [`ErrorKind::Decryption`].
    #[error("decryption failed: {0}")]
    Decryption(String),
    /// See [`ErrorKind::Encryption`].
    #[error("encryption failed: {0}")]
    Encryption(String),
    /// See [`ErrorKind::Signing`].
    #[error("signing failed: {0}")]
    Signing(String),
    /// See [`ErrorKind::Certificate`].
    #[error("certificate error: {0}")]
    Certificate(String),
    /// See [`ErrorKind::NoPlatformCertificate`].
    #[error(
        "this merchant has no platform certificate (404 RESOURCE_NOT_EXISTS): configure the \
         WeChat Pay public key and its PUB_KEY_ID_… id instead (public-key mode){}",
        request_id.as_deref().map(|id| format!(" [Request-ID {}]", Untrusted(id, MAX_SHOWN_ID))).unwrap_or_default()
    )]
    NoPlatformCertificate {
        /// The `Request-ID` of the failed download.
        request_id: Option<String>,
    },
    /// See [`ErrorKind::Replay`].
    #[error("notification {id} was already processed")]
    Replay {
        /// The notification id.
        id: String,
    },
    /// See [`ErrorKind::Decode`].
    #[error("malformed data: {0}")]
    Decode(String),
    /// See [`ErrorKind::Api`].
    #[error("{0}")]
    Api(Box<ApiError>),
    /// See [`ErrorKind::Transport`].
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
        /// True when no HTTP response was received and the request may not have left the
        /// process (connection refused, DNS, TLS handshake): safe to send again.
        before_response: bool,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// See [`ErrorKind::Timeout`].
    #[error("timed out: {0}")]
    Timeout(String),
    /// See [`ErrorKind::Internal`].
    #[error("internal error in goldplan (please report it): {0}")]
    Internal(String),
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Configuration(_) => ErrorKind::Configuration,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Verification(v) => v.kind,
            Error::Decryption(_) => ErrorKind::Decryption,
            Error::Encryption(_) => ErrorKind::Encryption,
            Error::Signing(_) => ErrorKind::Signing,
            Error::Certificate(_) => ErrorKind::Certificate,
            Error::NoPlatformCertificate { .. } => ErrorKind::NoPlatformCertificate,
            Error::Replay { .. } => ErrorKind::Replay,
            Error::Decode(_) => ErrorKind::Decode,
            Error::Api(_) => ErrorKind::Api,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Spec §7.4: whether sending the same request again may succeed. The client still only
    /// re-sends operations that are safe to repeat.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => api.is_retryable(),
            Error::Transport {
                before_response, ..
            } => *before_response,
            _ => false,
        }
    }

    /// Whether WeChat Pay answered that the order does not exist ([`ApiError::is_not_found`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(api) if api.is_not_found())
    }

    /// True when the signature was a WeChat Pay probe (`WECHATPAY/SIGNTEST/…`), so that
    /// applications can log it quietly instead of raising an alarm. It is still a failure.
    pub fn is_signature_probe(&self) -> bool {
        self.kind() == ErrorKind::SignatureProbe
    }

    /// The WeChat `Request-ID` attached to this error, when there is one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Verification(v) => v.request_id.as_deref(),
            Error::Api(api) => api.request_id.as_deref(),
            Error::NoPlatformCertificate { request_id } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The API error details, when WeChat Pay answered with a non-2xx status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    pub(crate) fn verification(kind: ErrorKind, reason: impl Into<String>) -> Error {
        Error::Verification(Box::new(VerificationError {
            kind,
            reason: reason.into(),
            serial: None,
            request_id: None,
            body: None,
        }))
    }

    /// Attaches the serial, Request-ID and start of the body of the message being verified.
    pub(crate) fn with_message_context(
        mut self,
        serial: Option<&str>,
        request_id: Option<&str>,
        body: &[u8],
    ) -> Error {
        if let Error::Verification(v) = &mut self {
            if v.body.is_none() {
                v.body = Some(truncate_lossy(body, MAX_RAW_BODY));
            }
            if v.serial.is_none() {
                v.serial = serial.map(str::to_owned);
            }
            if v.request_id.is_none() {
                v.request_id = request_id.map(str::to_owned);
            }
        }
        self
    }
}

impl From<ApiError> for Error {
    fn from(api: ApiError) -> Error {
        Error::Api(Box::new(api))
    }
}

/// An error as plain data, the same in every language: what the CLI prints with `--json`, what
/// Python exceptions, Node errors and the C library's error object carry. Optional members are
/// left out when they do not apply.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ErrorReport {
    /// The stable kind name, e.g. `"signature_invalid"`.
    pub kind: ErrorKind,
    /// The family of the kind, e.g. `"signature"`.
    pub family: ErrorFamily,
    /// Human-readable explanation; never contains secrets.
    pub message: String,
    /// The WeChat Pay `Request-ID`, when known.
    pub request_id: Option<String>,
    /// Whether sending the same request again may succeed (spec §7.4).
    pub retryable: bool,
    /// HTTP status of an API error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// WeChat's error code of an API error, e.g. `PARAM_ERROR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// WeChat's message of an API error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_message: Option<String>,
    /// The `detail` member of an API error, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    /// Whether an API error reports rate limiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<bool>,
    /// The start of an API error's unsigned body (diagnostic text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
    /// The `Wechatpay-Serial` a rejected message claimed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// For transport errors: true when the request cannot have reached WeChat Pay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_response: Option<bool>,
    /// For replays: the notification id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
}

impl ErrorReport {
    /// The report as JSON text.
    pub fn to_json(&self) -> String {
        // Serialising this struct cannot fail: every member is a string, number, bool or an
        // already-valid JSON value.
        serde_json::to_string(self)
            .unwrap_or_else(|_| format!(r#"{{"kind":"{}","family":"{}"}}"#, self.kind, self.family))
    }
}

impl Error {
    /// This error as plain data (see [`ErrorReport`]).
    pub fn report(&self) -> ErrorReport {
        let kind = self.kind();
        let mut report = ErrorReport {
            kind,
            family: kind.family(),
            message: self.to_string(),
            request_id: self.request_id().map(str::to_owned),
            retryable: self.is_retryable(),
            status: None,
            code: None,
            api_message: None,
            detail: None,
            rate_limited: None,
            raw_body: None,
            serial: None,
            before_response: None,
            notification_id: None,
        };
        match self {
            Error::Verification(v) => report.serial = v.serial.clone(),
            Error::Api(api) => {
                report.status = Some(api.status);
                report.code = Some(api.code.clone());
                report.api_message = Some(api.message.clone());
                report.detail = api.detail.clone();
                report.rate_limited = Some(api.is_rate_limited());
                report.raw_body = Some(api.raw_body.clone());
            }
            Error::Transport {
                before_response, ..
            } => report.before_response = Some(*before_response),
            Error::Replay { id } => report.notification_id = Some(id.clone()),
            _ => {}
        }
        report
    }
}

/// Lossy UTF-8 of at most `max` bytes, cut on a character boundary.
pub(crate) fn truncate_lossy(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= max {
        return text.into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> ApiError {
        ApiError::from_response(status, Some("req-1".into()), body.as_bytes())
    }

    #[test]
    fn retry_classification_follows_spec_7_4() {
        assert!(api(500, r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#).is_retryable());
        assert!(api(502, "<html>bad gateway</html>").is_retryable());
        assert!(api(503, "").is_retryable());
        assert!(api(429, r#"{"code":"RATELIMIT_EXCEEDED","message":"x"}"#).is_retryable());
        assert!(api(202, "").is_retryable());
        assert!(
            api(
                400,
                r#"{"code":"INVALID_REQUEST","message":"命中频率限制"}"#
            )
            .is_retryable()
        );
        assert!(api(400, r#"{"code":"INVALID_REQUEST","message":"操作失败"}"#).is_retryable());
        assert!(
            !api(
                400,
                r#"{"code":"INVALID_REQUEST","message":"特约商户未开通点金计划"}"#
            )
            .is_retryable()
        );
        assert!(!api(400, r#"{"code":"PARAM_ERROR","message":"参数错误"}"#).is_retryable());
        assert!(!api(401, r#"{"code":"SIGN_ERROR","message":"签名错误"}"#).is_retryable());
        assert!(!api(404, r#"{"code":"RESOURCE_NOT_EXISTS","message":"x"}"#).is_retryable());
    }

    /// Found by the `error_body` fuzz target: a key given twice made the whole body unreadable
    /// (the code was lost with it), and so did a number where a string was expected.
    #[test]
    fn one_odd_field_does_not_cost_the_others() {
        let e = api(
            400,
            r#"{"code":"INVALID_REQUEST","message":"参数错误","message":"命中频率限制"}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("INVALID_REQUEST", "命中频率限制")
        );
        assert!(e.is_rate_limited());
        let e = api(
            400,
            r#"{"code":40001,"message":"参数错误","detail":{"field":"/x"}}"#,
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("", "参数错误"));
        assert_eq!(e.detail_field("field"), Some(&serde_json::json!("/x")));
        let e = api(400, r#"["INVALID_REQUEST"]"#);
        assert_eq!((e.code.as_str(), e.message.as_str()), ("", ""));
    }

    #[test]
    fn api_error_keeps_detail_and_tolerates_non_json() {
        let e = api(
            400,
            r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/sub_mchid","issue":"x"}}"#,
        );
        assert_eq!(e.code, "PARAM_ERROR");
        assert_eq!(
            e.detail_field("field").and_then(|v| v.as_str()),
            Some("/sub_mchid")
        );
        let e = api(502, "<html>oops</html>");
        assert_eq!(e.code, "");
        assert_eq!(e.raw_body, "<html>oops</html>");
        let shown = Error::from(e).to_string();
        assert!(shown.contains("502") && shown.contains("req-1"), "{shown}");
    }

    #[test]
    fn transport_retry_depends_on_whether_a_response_may_exist() {
        let before = Error::Transport {
            message: "connection refused".into(),
            before_response: true,
            source: None,
        };
        let after = Error::Transport {
            message: "connection reset while reading".into(),
            before_response: false,
            source: None,
        };
        assert!(before.is_retryable());
        assert!(!after.is_retryable());
        assert!(!Error::Timeout("30 s".into()).is_retryable());
    }

    #[test]
    fn kind_names_are_unique_and_snake_case() {
        let mut names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        for &kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::from_name("Configuration"), None);
    }

    #[test]
    fn every_kind_has_one_family_and_every_family_a_kind() {
        for &family in ErrorFamily::ALL {
            assert!(family.kinds().next().is_some(), "{family} has no kind");
        }
        let grouped: usize = ErrorFamily::ALL.iter().map(|f| f.kinds().count()).sum();
        assert_eq!(grouped, ErrorKind::ALL.len());
        assert_eq!(ErrorKind::ClockSkew.family(), ErrorFamily::Signature);
        assert_eq!(ErrorKind::Timeout.family(), ErrorFamily::Transport);
        assert_eq!(
            ErrorKind::NoPlatformCertificate.family(),
            ErrorFamily::Certificate
        );
    }

    #[test]
    fn the_report_carries_the_api_fields_and_leaves_out_the_rest() {
        let e = Error::from(api(
            400,
            r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/sub_mchid"}}"#,
        ));
        let v: serde_json::Value = serde_json::from_str(&e.report().to_json()).unwrap();
        assert_eq!(v["kind"], "api");
        assert_eq!(v["family"], "api");
        assert_eq!(v["status"], 400);
        assert_eq!(v["code"], "PARAM_ERROR");
        assert_eq!(v["api_message"], "参数错误");
        assert_eq!(v["detail"]["field"], "/sub_mchid");
        assert_eq!(v["request_id"], "req-1");
        assert_eq!(v["retryable"], false);
        assert!(v.get("serial").is_none() && v.get("before_response").is_none());

        let e = Error::Transport {
            message: "connection refused".into(),
            before_response: true,
            source: None,
        };
        let v: serde_json::Value = serde_json::from_str(&e.report().to_json()).unwrap();
        assert_eq!(v["kind"], "transport");
        assert_eq!(v["before_response"], true);
        assert_eq!(v["retryable"], true);
        assert!(v.get("status").is_none() && v["request_id"].is_null());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "点金计划".repeat(2000);
        let t = truncate_lossy(s.as_bytes(), 10);
        assert!(t.starts_with("点金计"));
        assert!(t.ends_with('…'));
    }
}
