//! Request signing (spec §1): the canonical URL, the string to sign, nonce and timestamp, the
//! `Authorization` header, and the [`Signer`] plug-in point.

use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::clock::Clock;
use crate::credentials::{MerchantCredentials, PrivateKey};
use crate::error::{Error, Result};

/// The `Authorization` scheme token.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Length of generated nonces.
pub const NONCE_LEN: usize = 32;

const NONCE_ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Largest multiple of 62 that fits in a byte: bytes at or above it are rejected so that every
/// character is equally likely.
const NONCE_REJECT_FROM: u8 = 248;

/// The HTTP methods WeChat Pay APIv3 uses.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Whether `b` may appear unencoded in a path: RFC 3986 `pchar` and `/`.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// Whether `b` may appear unencoded in a query. Like a path plus `?`, but without `'`, which
/// URL parsers percent-encode in the query of http(s) URLs.
fn is_query_byte(b: u8) -> bool {
    b != b'\'' && (is_path_byte(b) || b == b'?')
}

fn has_valid_percent_escapes(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

fn is_dot_segment(segment: &str) -> bool {
    matches!(
        segment.to_ascii_lowercase().as_str(),
        "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
    )
}

/// Builds the canonical URL line from a request-target in origin form (`/path?query`), exactly
/// as it will be sent. A bare trailing `?` is removed (Go and Java would disagree on it), and
/// the same string must then be used on the wire.
///
/// Only targets that HTTP libraries send unchanged are accepted: percent-encoded ASCII without
/// characters a URL parser would re-encode (`"`, `<`, `>`, `` ` ``, `{`, `}`, `\`, spaces, `'`
/// in the query), valid `%XX` escapes, and no `.`/`..` segments (which would be resolved away).
/// Otherwise the signed URL and the sent one would differ and WeChat Pay would answer
/// `401 SIGN_ERROR`.
pub fn canonical_url(path_and_query: &str) -> Result<String> {
    let invalid = |why: &str| {
        Error::InvalidInput(format!(
            "the request path ({}) cannot be sent as signed: {why}",
            crate::redact::Rejected(path_and_query)
        ))
    };
    if !path_and_query.starts_with('/') {
        return Err(invalid("it must start with '/'"));
    }
    let target = path_and_query.strip_suffix('?').unwrap_or(path_and_query);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    if !path.bytes().all(is_path_byte) || !query.unwrap_or("").bytes().all(is_query_byte) {
        return Err(invalid(
            "percent-encode it (no spaces, non-ASCII, '#', '\"', '<', '>', '{', '}', '\\', or ' in the query)",
        ));
    }
    if !has_valid_percent_escapes(target) {
        return Err(invalid("a '%' is not followed by two hex digits"));
    }
    if path.split('/').any(is_dot_segment) {
        return Err(invalid(
            "'.' and '..' segments would be resolved before sending",
        ));
    }
    Ok(target.to_owned())
}

/// Upper-cases and checks an HTTP method.
pub fn normalize_method(method: &str) -> Result<String> {
    let upper = method.trim().to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(Error::InvalidInput(format!(
            "unsupported HTTP method ({}); expected one of {METHODS:?}",
            crate::redact::Rejected(method)
        )))
    }
}

/// The five-line string to sign: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
///
/// The body is taken byte for byte; a body that ends in `\n` makes the message end in `\n\n`.
/// A line break in the method, URL or nonce would move the boundary between lines (and sign
/// another request than the one sent), so it is refused.
pub fn message_to_sign(
    method: &str,
    canonical_url: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Result<Vec<u8>> {
    for (field, value) in [
        ("method", method),
        ("canonical_url", canonical_url),
        ("nonce", nonce),
    ] {
        if value.contains(['\r', '\n']) {
            return Err(Error::InvalidInput(format!(
                "the {field} of a string to sign must not hold a line break ({})",
                crate::redact::Rejected(value)
            )));
        }
    }
    let mut m =
        Vec::with_capacity(method.len() + canonical_url.len() + nonce.len() + body.len() + 24);
    m.extend_from_slice(method.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(canonical_url.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(timestamp.to_string().as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    Ok(m)
}

/// A fresh nonce: 32 characters of `[0-9A-Za-z]` from the OS CSPRNG.
pub fn generate_nonce() -> Result<String> {
    nonce_from(|buf| {
        aws_lc_rs::rand::fill(buf)
            .map_err(|_| Error::Signing("the OS random generator failed".into()))
    })
}

/// Builds a nonce from a caller-supplied random source (for tests), using rejection sampling so
/// that every character is equally likely.
pub fn nonce_from(mut fill: impl FnMut(&mut [u8]) -> Result<()>) -> Result<String> {
    let mut out = String::with_capacity(NONCE_LEN);
    let mut buf = [0u8; 48];
    // Each byte is accepted with probability 248/256; 64 rounds of 48 bytes failing to yield
    // 32 characters means the source is broken, not unlucky.
    for _ in 0..64 {
        fill(&mut buf)?;
        for &b in &buf {
            if b < NONCE_REJECT_FROM {
                out.push(char::from(NONCE_ALPHABET[usize::from(b % 62)]));
                if out.len() == NONCE_LEN {
                    return Ok(out);
                }
            }
        }
    }
    Err(Error::Signing(
        "the random source keeps returning rejected bytes".into(),
    ))
}

/// The five `Authorization` parameters, emitted in the Go/Java order.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Caller merchant id (the service provider for Gold Plan).
    pub mchid: String,
    /// The nonce that was signed.
    pub nonce_str: String,
    /// The timestamp that was signed.
    pub timestamp: i64,
    /// Merchant certificate serial.
    pub serial_no: String,
    /// base64 signature.
    pub signature: String,
}

impl Authorization {
    /// The header value:
    /// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`.
    ///
    /// The values are quoted with no escape mechanism (spec §1.3): a field holding `"`, CR,
    /// LF or another control character would end its quotes or the header (or hide in a log),
    /// and one holding `,` would be split there by the gateway's parser (and [`Self::parse`]);
    /// such fields are refused.
    pub fn header_value(&self) -> Result<String> {
        for (field, value) in [
            ("mchid", &self.mchid),
            ("nonce_str", &self.nonce_str),
            ("serial_no", &self.serial_no),
            ("signature", &self.signature),
        ] {
            if value.contains(|c: char| c == '"' || c == ',' || c.is_ascii_control()) {
                return Err(Error::InvalidInput(format!(
                    "the Authorization {field} must not hold '\"', ',' or a control character ({})",
                    crate::redact::Rejected(value)
                )));
            }
        }
        Ok(format!(
            "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
            self.mchid, self.nonce_str, self.timestamp, self.serial_no, self.signature
        ))
    }

    /// Parses a header value (any parameter order, as the gateway accepts), for servers such as
    /// the sandbox.
    pub fn parse(header: &str) -> Result<Authorization> {
        let bad = |why: &str| Error::InvalidInput(format!("malformed Authorization header: {why}"));
        let rest = header
            .trim()
            .strip_prefix(AUTH_SCHEME)
            .ok_or_else(|| bad("unknown scheme"))?;
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| bad("missing parameters"))?;
        let (mut mchid, mut nonce, mut ts, mut serial, mut sig) = (None, None, None, None, None);
        for part in rest.split(',') {
            let (k, v) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| bad("parameter without '='"))?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| bad("value not quoted"))?;
            let slot = match k {
                "mchid" => &mut mchid,
                "nonce_str" => &mut nonce,
                "timestamp" => &mut ts,
                "serial_no" => &mut serial,
                "signature" => &mut sig,
                _ => return Err(bad("unknown parameter")),
            };
            if slot.replace(v.to_owned()).is_some() {
                return Err(bad("duplicated parameter"));
            }
        }
        let timestamp = ts
            .ok_or_else(|| bad("missing timestamp"))?
            .parse::<i64>()
            .map_err(|_| bad("timestamp is not a number"))?;
        Ok(Authorization {
            mchid: mchid.ok_or_else(|| bad("missing mchid"))?,
            nonce_str: nonce.ok_or_else(|| bad("missing nonce_str"))?,
            timestamp,
            serial_no: serial.ok_or_else(|| bad("missing serial_no"))?,
            signature: sig.ok_or_else(|| bad("missing signature"))?,
        })
    }
}

impl Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature is not secret, but there is no reason for it to end up in logs.
        f.debug_struct("Authorization")
            .field("mchid", &self.mchid)
            .field("timestamp", &self.timestamp)
            .field("serial_no", &self.serial_no)
            .finish_non_exhaustive()
    }
}

/// The future a [`Signer`] returns.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<String>> + Send + 'a>>;

/// Produces request signatures. Implement it to keep the private key outside the process (KMS,
/// HSM, a signing service): `sign` returns a future, so a remote signer never blocks the async
/// runtime.
pub trait Signer: Send + Sync + Debug {
    /// Caller merchant id.
    fn mchid(&self) -> &str;
    /// Merchant certificate serial, sent as `serial_no`.
    fn serial_no(&self) -> &str;
    /// base64 of RSASSA-PKCS1-v1_5/SHA-256 over `message`.
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a>;
}

/// The built-in signer over an in-memory private key.
#[derive(Debug, Clone)]
pub struct RsaSigner {
    credentials: MerchantCredentials,
}

impl RsaSigner {
    /// A signer for these credentials.
    pub fn new(credentials: MerchantCredentials) -> RsaSigner {
        RsaSigner { credentials }
    }

    /// Signs synchronously (the work is local CPU only: ~0.3 ms for RSA-2048).
    pub fn sign_blocking(&self, message: &[u8]) -> Result<String> {
        sign_base64(self.credentials.private_key(), message)
    }

    /// The credentials.
    pub fn credentials(&self) -> &MerchantCredentials {
        &self.credentials
    }
}

impl Signer for RsaSigner {
    fn mchid(&self) -> &str {
        self.credentials.mchid()
    }
    fn serial_no(&self) -> &str {
        self.credentials.serial_no()
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        let result = self.sign_blocking(message);
        Box::pin(std::future::ready(result))
    }
}

impl<S: Signer + ?Sized> Signer for Arc<S> {
    fn mchid(&self) -> &str {
        (**self).mchid()
    }
    fn serial_no(&self) -> &str {
        (**self).serial_no()
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        (**self).sign(message)
    }
}

/// base64 RSASSA-PKCS1-v1_5/SHA-256 signature of `message`.
pub fn sign_base64(key: &PrivateKey, message: &[u8]) -> Result<String> {
    Ok(STANDARD.encode(key.sign_sha256(message)?))
}

/// Everything about one signed request: the exact values that went into the signature.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// Upper-case method.
    pub method: String,
    /// Canonical URL (path + raw query) to put on the wire.
    pub canonical_url: String,
    /// The Authorization parameters.
    pub authorization: Authorization,
}

impl serde::Serialize for SignedRequest {
    /// `{method, canonical_url, timestamp, nonce_str, signature, authorization}` where
    /// `authorization` is the whole header value.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeStruct};
        let header = self
            .authorization
            .header_value()
            .map_err(S::Error::custom)?;
        let mut out = s.serialize_struct("SignedRequest", 6)?;
        out.serialize_field("method", &self.method)?;
        out.serialize_field("canonical_url", &self.canonical_url)?;
        out.serialize_field("timestamp", &self.authorization.timestamp)?;
        out.serialize_field("nonce_str", &self.authorization.nonce_str)?;
        out.serialize_field("signature", &self.authorization.signature)?;
        out.serialize_field("authorization", &header)?;
        out.end()
    }
}

/// A request with its fresh nonce and timestamp, ready for a signature.
struct Unsigned {
    method: String,
    canonical_url: String,
    nonce: String,
    timestamp: i64,
    message: Vec<u8>,
}

impl Unsigned {
    fn new(clock: &dyn Clock, method: &str, path_and_query: &str, body: &[u8]) -> Result<Unsigned> {
        let method = normalize_method(method)?;
        let canonical_url = canonical_url(path_and_query)?;
        let nonce = generate_nonce()?;
        let timestamp = clock.now();
        let message = message_to_sign(&method, &canonical_url, timestamp, &nonce, body)?;
        Ok(Unsigned {
            method,
            canonical_url,
            nonce,
            timestamp,
            message,
        })
    }

    fn finish(self, signer: &dyn Signer, signature: String) -> Result<SignedRequest> {
        // Header values are quoted with no escape mechanism (spec §1.3): a plug-in signer's
        // ids must not break out of their quotes.
        for (name, value) in [("mchid", signer.mchid()), ("serial_no", signer.serial_no())] {
            if value.is_empty() || value.contains(['"', ',', '\r', '\n']) {
                return Err(Error::Signing(format!(
                    "the signer's {name} ({}) cannot go into an Authorization header",
                    crate::redact::Rejected(value)
                )));
            }
        }
        Ok(SignedRequest {
            method: self.method,
            canonical_url: self.canonical_url,
            authorization: Authorization {
                mchid: signer.mchid().to_owned(),
                nonce_str: self.nonce,
                timestamp: self.timestamp,
                serial_no: signer.serial_no().to_owned(),
                signature,
            },
        })
    }
}

/// Signs a request with fresh nonce and timestamp: the sans-IO entry point for users who keep
/// their own HTTP stack. Send `canonical_url` and `body` exactly as given.
pub async fn sign_request(
    signer: &dyn Signer,
    clock: &dyn Clock,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<SignedRequest> {
    let unsigned = Unsigned::new(clock, method, path_and_query, body)?;
    let signature = signer.sign(&unsigned.message).await?;
    unsigned.finish(signer, signature)
}

/// Blocking twin of [`sign_request`] for the built-in signer.
pub fn sign_request_blocking(
    signer: &RsaSigner,
    clock: &dyn Clock,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<SignedRequest> {
    let unsigned = Unsigned::new(clock, method, path_and_query, body)?;
    let signature = signer.sign_blocking(&unsigned.message)?;
    unsigned.finish(signer, signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_url_drops_a_bare_question_mark_only() {
        assert_eq!(
            canonical_url("/v3/certificates?").unwrap(),
            "/v3/certificates"
        );
        assert_eq!(
            canonical_url("/v3/certificates?algorithm_type=RSA").unwrap(),
            "/v3/certificates?algorithm_type=RSA"
        );
        assert_eq!(canonical_url("/a?b=%20c&a=1").unwrap(), "/a?b=%20c&a=1");
        assert!(canonical_url("v3/x").is_err());
        assert!(canonical_url("/v3/x#frag").is_err());
        assert!(canonical_url("/v3/x y").is_err());
        assert!(canonical_url("/v3/点金").is_err());
        for rewritten_by_url_parsers in [
            "/v3/\"a\"",
            "/v3/<a>",
            "/v3/{a}",
            "/v3/`a`",
            "/v3\\a",
            "/v3/a/../b",
            "/v3/./b",
            "/v3/%2E%2e/b",
            "/v3/a?q='x'",
            "/v3/a?q=<x>",
            "/v3/a%zz",
            "/v3/a%2",
        ] {
            assert!(
                canonical_url(rewritten_by_url_parsers).is_err(),
                "{rewritten_by_url_parsers}"
            );
        }
        assert_eq!(
            canonical_url("/v3/a'b/%E7%82%B9?x=%20&y=a:b@c/d?e").unwrap(),
            "/v3/a'b/%E7%82%B9?x=%20&y=a:b@c/d?e"
        );
    }

    #[derive(Debug)]
    struct RemoteSigner(&'static str);

    impl Signer for RemoteSigner {
        fn mchid(&self) -> &str {
            self.0
        }
        fn serial_no(&self) -> &str {
            "ABC"
        }
        fn sign<'a>(&'a self, _message: &'a [u8]) -> SignFuture<'a> {
            Box::pin(std::future::ready(Ok("c2ln".to_owned())))
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        // The futures here are ready at once.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn plug_in_signers_work_and_cannot_break_the_header() {
        let clock = crate::clock::ManualClock::new(1_700_000_000);
        let ok = block_on(sign_request(
            &RemoteSigner("1900000100"),
            &clock,
            "post",
            "/v3/x",
            b"{}",
        ))
        .unwrap();
        assert_eq!(ok.authorization.signature, "c2ln");
        assert_eq!(ok.method, "POST");
        for bad in ["1\",evil=\"", "", "1,2"] {
            let err = block_on(sign_request(
                &RemoteSigner(bad),
                &clock,
                "GET",
                "/v3/x",
                b"",
            ))
            .unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Signing, "{bad}");
        }
    }

    #[test]
    fn methods_are_checked_and_upper_cased() {
        assert_eq!(normalize_method("patch").unwrap(), "PATCH");
        assert!(normalize_method("TRACE").is_err());
    }

    #[test]
    fn rejection_sampling_skips_biased_bytes() {
        // A source that yields only 255 (rejected) and then 61 ('z').
        let mut calls = 0;
        let n = nonce_from(|buf| {
            calls += 1;
            buf.fill(if calls == 1 { 255 } else { 61 });
            Ok(())
        })
        .unwrap();
        assert_eq!(n, "z".repeat(32));
        assert_eq!(calls, 2);
        let err = nonce_from(|buf| {
            buf.fill(250);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Signing);
    }

    #[test]
    fn authorization_parses_any_order_and_rejects_junk() {
        let a = Authorization::parse(
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",serial_no="AB",timestamp="5",nonce_str="n",signature="s""#,
        )
        .unwrap();
        assert_eq!(
            a.header_value().unwrap(),
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",timestamp="5",serial_no="AB",signature="s""#
        );
        for (field, value) in [
            ("mchid", "1\",x=\"y"),
            ("serial_no", "AB\r\nX: y"),
            ("signature", "s\n"),
            ("signature", "a,signature=\"forged"),
        ] {
            let mut forged = a.clone();
            match field {
                "mchid" => forged.mchid = value.into(),
                "serial_no" => forged.serial_no = value.into(),
                _ => forged.signature = value.into(),
            }
            let e = forged.header_value().unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
            assert!(e.to_string().contains(field), "{e}");
        }
        for (method, url, nonce) in [
            ("GET\n", "/v3/x", "n"),
            ("GET", "/v3/x\r\n", "n"),
            ("GET", "/v3/x", "n\nbody"),
        ] {
            let e = message_to_sign(method, url, 1, nonce, b"").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        }
        for bad in [
            "Bearer x",
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",timestamp="5",serial_no="AB",signature="s""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",timestamp="5",serial_no="AB",signature="s""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",timestamp="x",serial_no="AB",signature="s""#,
        ] {
            assert!(Authorization::parse(bad).is_err(), "{bad}");
        }
    }
}
