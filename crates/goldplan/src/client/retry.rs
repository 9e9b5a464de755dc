//! Sending one call until it gets an answer worth returning: bounded retries with back-off
//! and jitter (spec §7.4), `Retry-After`, and one fail-over to the backup host (spec §1.5).
//! Every attempt is signed anew, so a retry never reuses a stale timestamp.

use std::time::{Duration, Instant};

use super::Client;
use crate::error::{ApiError, Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::sign::sign_request;

/// Bounded retries with exponential back-off and full jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts per call, the first included (default 3; 1 disables retries).
    pub max_attempts: u32,
    /// First back-off delay (default 200 ms); doubles per attempt.
    pub base_delay: Duration,
    /// Longest back-off delay (default 5 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_delay);
        // Full jitter: uniform in [cap/2, cap], so concurrent clients spread out.
        cap / 2 + cap.mul_f64(random_unit() / 2.0)
    }
}

/// A uniform number in [0, 1) from the OS generator (0.5 if it fails: jitter is best-effort).
pub(crate) fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    match aws_lc_rs::rand::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

/// A call about to be sent: what is signed, what goes on the wire, and how to treat failures.
pub(super) struct Outgoing<'a> {
    pub(super) method: String,
    pub(super) canonical_url: String,
    pub(super) signed_body: &'a [u8],
    pub(super) wire_body: &'a [u8],
    pub(super) content_type: Option<&'a str>,
    pub(super) wechatpay_serial: Option<String>,
    pub(super) idempotent: bool,
    pub(super) verify: bool,
}

/// What one attempt to send ended with, when it was not a verified success.
enum AttemptFailure {
    /// Try again (after back-off, possibly on the backup host), not sooner than the server's
    /// `Retry-After` when it gave one.
    Retry(Error, Option<Duration>),
    /// Give up with this error.
    Fail(Error),
}

impl Client {
    /// Sends until a 2xx response arrives or the retry rules say stop.
    pub(super) async fn send_with_retries(&self, out: &Outgoing<'_>) -> Result<HttpResponse> {
        let max = self.settings.retry.max_attempts;
        let mut host = 0usize;
        let mut attempt = 0u32;
        let mut failed_over = false;
        loop {
            attempt += 1;
            if let Some(rate) = &self.settings.rate {
                rate.wait_for_token().await?;
            }
            match self.attempt(out, host, attempt).await {
                Ok(response) => return Ok(response),
                Err(AttemptFailure::Fail(e)) => return Err(e),
                Err(AttemptFailure::Retry(e, retry_after)) => {
                    let unreachable = matches!(
                        e,
                        Error::Transport {
                            before_response: true,
                            ..
                        }
                    );
                    if unreachable && !failed_over && self.settings.hosts.len() > 1 {
                        // Spec §1.5: once, to the backup host, re-signed.
                        failed_over = true;
                        host = 1;
                        tracing::warn!(attempt, error = %e, "primary host unreachable; failing over to the backup host");
                        continue;
                    }
                    if attempt >= max {
                        return Err(e);
                    }
                    let delay = match retry_after {
                        // The server asks for more patience than the retry budget allows:
                        // hand the (retryable) error back instead of hammering it.
                        Some(wait) if wait > self.settings.retry.max_delay => return Err(e),
                        Some(wait) => wait.max(self.settings.retry.delay(attempt - 1)),
                        None => self.settings.retry.delay(attempt - 1),
                    };
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %e,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// The HTTP request for `out` to host number `host`, signed now (so a retry never reuses a
    /// stale timestamp), and the `Wechatpay-Serial` it advertises.
    pub(super) async fn signed_request(
        &self,
        out: &Outgoing<'_>,
        host: usize,
    ) -> Result<(HttpRequest, Option<String>)> {
        let signed = sign_request(
            self.settings.signer.as_ref(),
            self.settings.clock.as_ref(),
            &out.method,
            &out.canonical_url,
            out.signed_body,
        )
        .await?;
        let mut user_agent = self.settings.user_agent.clone();
        if host > 0 {
            user_agent.push_str(" (Retried-V1)");
        }
        let mut headers = vec![
            ("Accept".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), user_agent),
            (
                "Authorization".to_owned(),
                signed.authorization.header_value()?,
            ),
        ];
        if let Some(ct) = out.content_type {
            headers.push(("Content-Type".to_owned(), ct.to_owned()));
        }
        let serial = out
            .wechatpay_serial
            .clone()
            .or_else(|| self.process.verifier.accept_serial());
        if let Some(serial) = &serial {
            headers.push(("Wechatpay-Serial".to_owned(), serial.clone()));
        }
        let base = self.settings.hosts.get(host).map_or("", String::as_str);
        let request = HttpRequest {
            method: out.method.clone(),
            url: format!("{base}{}", signed.canonical_url),
            headers,
            body: out.wire_body.to_vec(),
        };
        Ok((request, serial))
    }

    async fn attempt(
        &self,
        out: &Outgoing<'_>,
        host: usize,
        attempt: u32,
    ) -> std::result::Result<HttpResponse, AttemptFailure> {
        let fail = AttemptFailure::Fail;
        let (request, serial) = self.signed_request(out, host).await.map_err(fail)?;
        let started = Instant::now();
        let result = self.process.transport.send(request).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(attempt, latency_ms, error = %e, "exchange failed");
                let safe = e.is_retryable() || (out.idempotent && is_ambiguous(&e));
                return Err(if safe {
                    AttemptFailure::Retry(e, None)
                } else {
                    AttemptFailure::Fail(e)
                });
            }
        };
        let request_id = response.request_id();
        tracing::debug!(
            attempt,
            status = response.status,
            request_id = request_id.as_deref().unwrap_or(""),
            wechatpay_serial = serial.as_deref().unwrap_or(""),
            latency_ms,
            "response received"
        );
        if response.status == 202 && out.idempotent {
            // Spec §7.1: accepted but not processed yet; repeat the same request (re-signed).
            let retry_after = retry_after(&response);
            return Err(AttemptFailure::Retry(
                Error::from(ApiError::from_response(202, request_id, &response.body)),
                retry_after,
            ));
        }
        if (200..300).contains(&response.status) {
            return Ok(response);
        }
        let api = ApiError::from_response(response.status, request_id, &response.body);
        if api.status == 404
            && api.code == "RESOURCE_NOT_EXISTS"
            && out.canonical_url.starts_with("/v3/certificates")
        {
            return Err(fail(Error::NoPlatformCertificate {
                request_id: api.request_id,
            }));
        }
        // Rate limiting means "not accepted": safe to repeat whatever the operation.
        let retry = api.is_rate_limited() || (out.idempotent && api.is_retryable());
        let e = Error::from(api);
        Err(if retry {
            AttemptFailure::Retry(e, retry_after(&response))
        } else {
            AttemptFailure::Fail(e)
        })
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by WeChat Pay and is ignored).
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    response
        .header("Retry-After")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn is_ambiguous(e: &Error) -> bool {
    matches!(
        e,
        Error::Timeout(_)
            | Error::Transport {
                before_response: false,
                ..
            }
    )
}
