//! The HTTP exchange behind the client: the [`Transport`] plug-in point and its default
//! implementation on reqwest with rustls.

use std::fmt::{self, Debug};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use crate::error::{Error, Result};

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
pub fn validate_base_url(base_url: &str) -> Result<String> {
    let url = reqwest::Url::parse(base_url.trim())
        .map_err(|e| Error::Configuration(format!("invalid base URL {base_url:?}: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::Configuration(format!("base URL {base_url:?} has no host")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(Error::Configuration(format!(
                "plain http is only allowed for a loopback sandbox; use https for {host}"
            )));
        }
        other => {
            return Err(Error::Configuration(format!(
                "unsupported URL scheme {other:?} in {base_url:?}"
            )));
        }
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Configuration(format!(
            "the base URL must be scheme://host[:port] only, got {base_url:?}"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Settings of the default transport.
#[derive(Clone)]
pub struct TransportConfig {
    /// Time allowed to establish a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for the whole exchange (default 30 s).
    pub timeout: Duration,
    /// Proxy URL for every request (none by default; environment variables are not read).
    pub proxy: Option<String>,
}

impl Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("proxy", &self.proxy.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Default for TransportConfig {
    fn default() -> TransportConfig {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            proxy: None,
        }
    }
}

/// reqwest + rustls (certificate verification always on), HTTP/1.1 and HTTP/2.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Builds a reqwest client from `config`.
    pub fn new(config: &TransportConfig) -> Result<ReqwestTransport> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // Redirects are not part of the protocol; a redirect would change the signed URL.
            .redirect(reqwest::redirect::Policy::none());
        builder =
            match &config.proxy {
                Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy).map_err(|e| {
                    Error::Configuration(format!("invalid proxy URL {proxy:?}: {e}"))
                })?),
                None => builder.no_proxy(),
            };
        let client = builder
            .build()
            .map_err(|e| Error::Configuration(format!("cannot build the HTTP client: {e}")))?;
        Ok(ReqwestTransport { client })
    }

    /// Wraps a caller-built reqwest client (its TLS, proxy and timeout settings apply).
    pub fn from_client(client: reqwest::Client) -> ReqwestTransport {
        ReqwestTransport { client }
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
            let response = builder.send().await.map_err(map_reqwest_error)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = response.bytes().await.map_err(map_reqwest_error)?.to_vec();
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
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
