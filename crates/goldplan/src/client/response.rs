//! What calls return: a verified [`Response`], a typed [`Reply`], and per-call
//! [`RequestOptions`].

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Per-call options for [`Client::request_with`](super::Client::request_with).
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Whether the call may be sent again after an ambiguous failure (5xx, timeout, reset).
    /// `None`: GET, PUT and DELETE are, POST and PATCH are not.
    pub idempotent: Option<bool>,
    /// Overrides `Wechatpay-Serial` (set it to the key used for encrypted fields).
    pub wechatpay_serial: Option<String>,
}

/// A verified 2xx response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status (200, 202 or 204 in practice).
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
    /// `Request-ID`.
    pub request_id: Option<String>,
    /// The serial or key id whose signature was verified.
    pub serial: String,
}

impl Response {
    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body)
            .map_err(|_| Error::Decode("the response body is not UTF-8".into()))
    }

    /// Decodes the JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Decode(format!(
                "unexpected response body{}: {e}",
                self.request_id
                    .as_deref()
                    .map(|id| format!(" (Request-ID {})", crate::error::Untrusted(id, 128)))
                    .unwrap_or_default()
            ))
        })
    }

    /// First value of a header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The result of a typed call, with the `Request-ID` to quote to WeChat Pay support
/// (serialises as `{data, request_id}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reply<T> {
    /// The decoded result.
    pub data: T,
    /// `Request-ID`.
    pub request_id: Option<String>,
}
