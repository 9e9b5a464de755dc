//! One verified call: build what is signed and sent, send it (see `retry`), and verify the
//! 2xx answer, refreshing platform certificates once when it names a serial not held yet.

use serde::Serialize;
use tracing::Instrument;

use super::certificate_manager::RefreshTrigger;
use super::retry::Outgoing;
use super::{CertificateManager, Client, RequestOptions, Response};
use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpResponse;
use crate::sign::{canonical_url, normalize_method};
use crate::verify::{Verified, WechatpayHeaders, verify_signed};

impl Client {
    /// Sends a signed request to any APIv3 endpoint and returns the verified response.
    /// `body` is sent (and signed) byte for byte; `path_and_query` is the origin-form target.
    pub async fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        self.request_with(method, path_and_query, body, &RequestOptions::default())
            .await
    }

    /// [`Client::request`] with per-call options.
    pub async fn request_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&[u8]>,
        options: &RequestOptions,
    ) -> Result<Response> {
        let method = normalize_method(method)?;
        let body = body.unwrap_or_default();
        let idempotent = options
            .idempotent
            .unwrap_or(matches!(method.as_str(), "GET" | "PUT" | "DELETE"));
        let outgoing = Outgoing {
            canonical_url: canonical_url(path_and_query)?,
            method,
            signed_body: body,
            wire_body: body,
            content_type: (!body.is_empty()).then_some("application/json"),
            wechatpay_serial: options.wechatpay_serial.clone(),
            idempotent,
            verify: true,
        };
        self.execute(outgoing).await
    }

    /// Serialises `body` once, then signs and sends exactly those bytes.
    pub async fn request_json<B: Serialize + ?Sized>(
        &self,
        method: &str,
        path_and_query: &str,
        body: &B,
        options: &RequestOptions,
    ) -> Result<Response> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the body: {e}")))?;
        self.request_with(method, path_and_query, Some(&bytes), options)
            .await
    }

    /// Sends with retries, then verifies the 2xx response (verification failures are never
    /// retried: the outcome of the call is unknown).
    pub(super) async fn execute(&self, out: Outgoing<'_>) -> Result<Response> {
        let span = tracing::info_span!(
            "wechatpay.request",
            method = %out.method,
            path = %out.canonical_url,
            mchid = %self.mchid(),
        );
        async move {
            if out.verify && out.wechatpay_serial.is_none() {
                self.ensure_certificates().await?;
            }
            let response = self.send_with_retries(&out).await?;
            let request_id = response.request_id();
            let serial = if out.verify {
                self.verify_response(&response).await?.serial
            } else {
                String::new()
            };
            Ok(Response {
                status: response.status,
                headers: response.headers,
                body: response.body,
                request_id,
                serial,
            })
        }
        .instrument(span)
        .await
    }

    /// Verifies a 2xx response (spec §2), refreshing certificates once on an unknown
    /// certificate serial. The outcome of a call whose response fails here is unknown.
    async fn verify_response(&self, response: &HttpResponse) -> Result<Verified> {
        let headers = WechatpayHeaders::from_pairs(
            response
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        )?;
        let verified = self.verify_with_refresh(&headers, &response.body).await?;
        if !response.body.is_empty() {
            let ct = response.header("Content-Type").unwrap_or("");
            if !ct
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
            {
                return Err(Error::Decode(format!(
                    "a signed response has Content-Type {ct:?}, expected application/json{}",
                    verified
                        .request_id
                        .as_deref()
                        .map(|id| format!(" (Request-ID {})", crate::error::Untrusted(id, 128)))
                        .unwrap_or_default()
                )));
            }
        }
        Ok(verified)
    }

    async fn verify_with_refresh(
        &self,
        headers: &WechatpayHeaders,
        body: &[u8],
    ) -> Result<Verified> {
        let policy = &self.settings.policy;
        match verify_signed(self.process.verifier.as_ref(), policy, headers, body) {
            Err(e) if self.should_refresh_for(&e, headers.serial.as_deref()) => {
                if let Err(refresh) = self.refresh_if_allowed(RefreshTrigger::UnknownSerial).await {
                    tracing::warn!(error = %refresh, "certificate refresh after an unknown serial failed");
                }
                verify_signed(self.process.verifier.as_ref(), policy, headers, body)
            }
            other => other,
        }
    }

    pub(super) fn should_refresh_for(&self, e: &Error, serial: Option<&str>) -> bool {
        // Only a well-formed certificate serial can be cured by downloading certificates.
        e.kind() == ErrorKind::UnknownSerial
            && self.process.certificates.is_some()
            && CertificateManager::may_cure(serial)
    }
}

/// The serial a verification failure names.
pub(super) fn serial_of(e: &Error) -> Option<&str> {
    match e {
        Error::Verification(v) => v.serial.as_deref(),
        _ => None,
    }
}
