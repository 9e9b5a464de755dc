//! The HTTP exchange behind the client: the [`Transport`] plug-in point and its default
//! implementation on reqwest with rustls.

use std::fmt::{self, Debug};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::redact::Rejected;

/// One HTTP request, fully formed: the body bytes are exactly the signed bytes.
#[derive(Clone)]
pub struct HttpRequest {
    /// Upper-case method.
    pub method: String,
    /// Absolute URL (scheme, host, port, path and query).
    pub url: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// Entity body (empty for none).
    pub body: Vec<u8>,
}

impl Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Authorization carries a signature and the merchant serial; keep it out of logs.
        let headers: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// One HTTP response with its complete body.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header name/value pairs as received (names in any case).
    pub headers: Vec<(String, String)>,
    /// Raw entity body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Request-ID`, with control characters escaped
    /// ([`crate::verify::request_id_text`]).
    pub fn request_id(&self) -> Option<String> {
        self.header("Request-ID")
            .map(crate::verify::request_id_text)
    }
}

/// The future a [`Transport`] returns.
pub type TransportFuture<'a> = Pin<Box<dyn Future<Output = Result<HttpResponse>> + Send + 'a>>;

/// Performs HTTP exchanges. The default is [`ReqwestTransport`]; plug in your own for unusual
/// deployments or tests.
///
/// Implementations report a failure before any response with
/// [`Error::Transport`]`{ before_response: true, .. }` (safe to send again), an ambiguous one
/// with `before_response: false`, and timeouts with [`Error::Timeout`].
pub trait Transport: Send + Sync + Debug {
    /// Sends `request` and reads the whole response.
    fn send(&self, request: HttpRequest) -> TransportFuture<'_>;
}

/// Whether a URL host is the loopback interface (plain http is allowed only there).
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks a base URL: `https://host[:port]`, or `http://` for a loopback host only; no path
/// beyond `/`, no query. Returns it without a trailing slash.
/// Credentials (`user:password@`) are refused: requests are authenticated by their signature,
/// and a password in the URL would be shown wherever the URL is (a `repr`, an error message).
/// Messages never quote the URL (see [`crate::redact`]).
pub fn validate_base_url(base_url: &str) -> Result<String> {
    let shown = Rejected(base_url);
    let url = reqwest::Url::parse(base_url.trim())
        .map_err(|e| Error::Configuration(format!("invalid base URL ({shown}): {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Configuration(
            "the base URL must not carry credentials (user:password@): WeChat Pay \
             authenticates each request by its signature"
                .into(),
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| Error::Configuration(format!("the base URL ({shown}) has no host")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(Error::Configuration(format!(
                "plain http is only allowed for a loopback sandbox; use https (base URL: \
                 {shown})"
            )));
        }
        _ => {
            return Err(Error::Configuration(format!(
                "the base URL must use https ({shown})"
            )));
        }
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Configuration(format!(
            "the base URL must be scheme://host[:port] only ({shown})"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Default cap on a response body: 4 MiB. WeChat Pay's API answers are a few KiB; the largest,
/// a certificate list, stays far below this.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;

/// Settings of the default transport.
#[derive(Clone)]
pub struct TransportConfig {
    /// Time allowed to establish a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for the whole exchange (default 30 s).
    pub timeout: Duration,
    /// Proxy URL for every request (none by default; environment variables are not read).
    pub proxy: Option<String>,
    /// Largest response body read, in bytes (default [`DEFAULT_MAX_RESPONSE_BODY`]). A
    /// `Content-Length` above it is refused before any of the body is read; a longer body is
    /// cut off as soon as it passes the cap.
    pub max_response_body: usize,
}

impl Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .field("max_response_body", &self.max_response_body)
            .finish()
    }
}

impl Default for TransportConfig {
    fn default() -> TransportConfig {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            proxy: None,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
        }
    }
}

/// reqwest + rustls (certificate verification always on), HTTP/1.1 and HTTP/2.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_body: usize,
    /// The whole exchange, headers and body, must end within this (reqwest's own timeout
    /// too, but this one also bounds the time spent copying a body).
    deadline: Option<Duration>,
}

impl ReqwestTransport {
    /// Builds a reqwest client from `config`.
    pub fn new(config: &TransportConfig) -> Result<ReqwestTransport> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // Redirects are not part of the protocol; a redirect would change the signed URL.
            .redirect(reqwest::redirect::Policy::none());
        builder = match &config.proxy {
            // The proxy URL may carry a password: neither it nor reqwest's message (which may
            // quote it) is shown.
            Some(proxy) => {
                let invalid = || {
                    // Not even described beyond its length: it may hold a password.
                    Error::Configuration(format!(
                        "invalid proxy URL ({} characters, withheld: it may hold a password); \
                         expected http://, https:// or socks5:// and host[:port]",
                        proxy.chars().count()
                    ))
                };
                // reqwest takes a bare word for an http:// host, so a key pasted here would
                // only fail later, at the first call: the scheme is required.
                let scheme = proxy.split_once("://").map(|(scheme, _)| scheme);
                if !matches!(scheme, Some("http" | "https" | "socks5" | "socks5h")) {
                    return Err(invalid());
                }
                builder.proxy(reqwest::Proxy::all(proxy).map_err(|_| invalid())?)
            }
            None => builder.no_proxy(),
        };
        if config.max_response_body == 0 {
            return Err(Error::Configuration(
                "max_response_body must be at least 1 byte".into(),
            ));
        }
        let client = builder
            .build()
            .map_err(|e| Error::Configuration(format!("cannot build the HTTP client: {e}")))?;
        Ok(ReqwestTransport {
            client,
            max_response_body: config.max_response_body,
            deadline: Some(config.timeout),
        })
    }

    /// Wraps a caller-built reqwest client (its TLS, proxy and timeout settings apply).
    /// Response bodies are capped at [`DEFAULT_MAX_RESPONSE_BODY`]; see
    /// [`ReqwestTransport::with_max_response_body`].
    pub fn from_client(client: reqwest::Client) -> ReqwestTransport {
        ReqwestTransport {
            client,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            deadline: None,
        }
    }

    /// The same transport with another cap on response bodies (at least 1 byte).
    pub fn with_max_response_body(mut self, max: usize) -> ReqwestTransport {
        self.max_response_body = max.max(1);
        self
    }

    /// The cap on response bodies, in bytes.
    pub fn max_response_body(&self) -> usize {
        self.max_response_body
    }
}

/// The error for a body over the cap: a response was received, so not safe to send again.
fn body_too_large(max: usize, declared: Option<u64>) -> Error {
    let message = match declared {
        Some(len) => format!(
            "the response declares a {len}-byte body, over the {max}-byte limit \
             (max_response_body); nothing of it was read"
        ),
        None => format!(
            "the response body exceeds the {max}-byte limit (max_response_body); reading stopped \
             there"
        ),
    };
    Error::Transport {
        message,
        before_response: false,
        source: None,
    }
}

/// A response body being read under a cap: a declared length over the cap is refused before
/// the first chunk, and the chunk that would pass the cap is refused, so at most `max` bytes
/// are ever held, in one buffer (no second copy).
#[derive(Debug)]
pub(crate) struct CappedBody {
    body: Vec<u8>,
    max: usize,
}

impl CappedBody {
    /// Starts a body whose `Content-Length` (if any) is `declared`.
    pub(crate) fn new(declared: Option<u64>, max: usize) -> Result<CappedBody> {
        if let Some(len) = declared
            && len > max as u64
        {
            return Err(body_too_large(max, Some(len)));
        }
        // The declared length is at most `max` here; it is only a hint for the allocation.
        let capacity = declared.map_or(0, |len| usize::try_from(len).unwrap_or(0));
        Ok(CappedBody {
            body: Vec::with_capacity(capacity),
            max,
        })
    }

    /// Appends a chunk, or fails when it would take the body past the cap.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<()> {
        // `body.len() <= max` always holds (checked on every push), so this cannot underflow.
        if chunk.len() > self.max - self.body.len() {
            return Err(body_too_large(self.max, None));
        }
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    /// The complete body.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.body
    }
}

/// The error with its causes: reqwest's own message only says "error sending request for url",
/// the reason (a refused certificate, a refused connection) is in its sources.
fn with_causes(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn map_reqwest_error(e: reqwest::Error) -> Error {
    if e.is_builder() {
        // A header or URL the HTTP layer refuses (e.g. a line break in a header value): the
        // input is wrong, sending again cannot help.
        return Error::InvalidInput(format!("the request cannot be built: {}", with_causes(&e)));
    }
    if e.is_connect() {
        return Error::Transport {
            message: format!("cannot connect: {}", with_causes(&e)),
            before_response: true,
            source: Some(Box::new(e)),
        };
    }
    if e.is_timeout() {
        return Error::Timeout(format!("the HTTP exchange timed out: {}", with_causes(&e)));
    }
    Error::Transport {
        message: with_causes(&e),
        before_response: false,
        source: Some(Box::new(e)),
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let method = reqwest::Method::from_bytes(request.method.as_bytes())
                .map_err(|_| Error::InvalidInput(format!("bad method {}", request.method)))?;
            let mut builder = self.client.request(method, &request.url);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            if !request.body.is_empty() {
                builder = builder.body(request.body);
            }
            let exchange = async {
                let mut response = builder.send().await.map_err(map_reqwest_error)?;
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect();
                let mut body = CappedBody::new(response.content_length(), self.max_response_body)?;
                while let Some(chunk) = response.chunk().await.map_err(map_reqwest_error)? {
                    body.push(&chunk)?;
                }
                let body = body.finish();
                Ok(HttpResponse {
                    status,
                    headers,
                    body,
                })
            };
            match self.deadline {
                Some(limit) => tokio::time::timeout(limit, exchange).await.map_err(|_| {
                    Error::Timeout(format!(
                        "the HTTP exchange did not complete within {limit:?}"
                    ))
                })?,
                None => exchange.await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_canonical_urls_are_sent_unchanged_by_the_url_parser() {
        for target in [
            "/v3/goldplan/merchants/changegoldplanstatus",
            "/v3/certificates?algorithm_type=RSA",
            "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109",
            "/v3/a'b/%E7%82%B9;x=1?x=%20&y=a:b@c/d?e&z=!$()*+,;=",
        ] {
            let signed = crate::sign::canonical_url(target).unwrap();
            let url =
                reqwest::Url::parse(&format!("https://api.mch.weixin.qq.com{signed}")).unwrap();
            let sent = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            assert_eq!(sent, signed);
        }
    }

    #[test]
    fn an_endless_body_is_cut_at_the_cap_by_construction() {
        // An endless source: count what is pulled from it.
        let max = 64 * 1024;
        let chunk = [7u8; 1000];
        let mut body = CappedBody::new(None, max).unwrap();
        let mut pulled = 0usize;
        let error = loop {
            pulled += chunk.len();
            if let Err(e) = body.push(&chunk) {
                break e;
            }
        };
        assert_eq!(error.kind(), crate::ErrorKind::Transport);
        assert!(error.to_string().contains("65536-byte limit"), "{error}");
        // Nothing past the chunk that crossed the cap was read, and nothing past the cap kept.
        assert!(pulled <= max + chunk.len());
        assert!(body.finish().len() <= max);

        // A declared length over the cap is refused before any chunk.
        let e = CappedBody::new(Some(2_147_483_648), max).unwrap_err();
        assert!(
            e.to_string().contains("declares a 2147483648-byte body"),
            "{e}"
        );

        // Exactly the cap is fine.
        let mut body = CappedBody::new(Some(max as u64), max).unwrap();
        body.push(&vec![1u8; max]).unwrap();
        assert_eq!(body.finish().len(), max);
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert_eq!(
            validate_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(validate_base_url("http://localhost:1").is_ok());
        assert!(validate_base_url("http://[::1]:1").is_ok());
        assert!(validate_base_url("https://api.mch.weixin.qq.com").is_ok());
        for bad in [
            "http://api.mch.weixin.qq.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://api.mch.weixin.qq.com/v3",
            "https://x?y=1",
            "not a url",
        ] {
            assert_eq!(
                validate_base_url(bad).unwrap_err().kind(),
                crate::ErrorKind::Configuration,
                "{bad}"
            );
        }
    }
}
