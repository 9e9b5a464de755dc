//! The provider's request rate, shared: the [`RateLimiter`] plug-in point and the in-process
//! [`MemoryRateLimiter`].
//!
//! WeChat Pay limits each service provider across its Gold Plan endpoints and answers
//! `400 INVALID_REQUEST` "命中频率限制" beyond. Processes that each keep their own pace
//! together exceed it; a limiter that all of them ask (Redis, see `goldplan-redis`) keeps the
//! sum at the configured rate, and its state outlives any one of them. A client with a limiter
//! takes a token before every request it sends, retries included.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::store::{Schemes, StoreFuture};
use crate::error::{Error, Result};
use crate::redact::Rejected;

/// A token bucket shared by whoever uses the same limiter and key.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Takes one token of the bucket `key` if there is one (`Duration::ZERO`), or says how
    /// long until the next one is due (nothing is taken then). Bounded in time.
    fn try_acquire<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Duration>;
}

/// The `rate_limit` setting: requests per second for this provider (every process that uses
/// the same store shares them), the burst, and where the bucket lives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Requests per second, shared (e.g. `50`).
    pub per_second: f64,
    /// Requests that may go at once after a quiet spell (default 1: an even pace).
    #[serde(default)]
    pub burst: Option<u32>,
    /// Where the bucket lives: `memory` (this process) or a store URL such as
    /// `redis://127.0.0.1:6379/0`. Default: the `certificate_store` when one is set, else
    /// `memory`.
    #[serde(default)]
    pub store: Option<String>,
}

impl RateLimitSettings {
    /// Checks the numbers: a positive rate of at most 100 000/s, a burst of 1 to 10 000.
    pub fn validate(&self) -> Result<()> {
        if !(self.per_second.is_finite() && self.per_second > 0.0 && self.per_second <= 100_000.0) {
            return Err(Error::Configuration(
                "rate_limit.per_second must be a number above 0 and at most 100000".into(),
            ));
        }
        if self.burst.is_some_and(|b| b == 0 || b > 10_000) {
            return Err(Error::Configuration(
                "rate_limit.burst must be from 1 to 10000".into(),
            ));
        }
        Ok(())
    }

    /// The burst in force.
    pub fn burst(&self) -> u32 {
        self.burst.unwrap_or(1)
    }
}

/// A limiter and what it allows: what a client holds.
#[derive(Debug, Clone)]
pub(crate) struct SharedRate {
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) key: String,
}

/// How long a request may wait for its token before the call fails (a limit far below the
/// demand, or a stuck store, must not hold callers forever).
pub const MAX_RATE_WAIT: Duration = Duration::from_secs(30);

impl SharedRate {
    /// Waits for a token. A limiter that fails lets the request go: the gateway's own limit
    /// still protects it, and a call never fails because a store did.
    pub(crate) async fn wait_for_token(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + MAX_RATE_WAIT;
        loop {
            let wait = match tokio::time::timeout(
                Duration::from_millis(500),
                self.limiter.try_acquire(&self.key),
            )
            .await
            {
                Ok(Ok(wait)) => wait,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "rate limiter unavailable; sending without it");
                    return Ok(());
                }
                Err(_) => {
                    tracing::warn!("rate limiter did not answer within 500 ms; sending without it");
                    return Ok(());
                }
            };
            if wait.is_zero() {
                return Ok(());
            }
            if tokio::time::Instant::now() + wait > deadline {
                return Err(Error::Timeout(format!(
                    "no request token within {} s: the shared rate limit is far below the demand",
                    MAX_RATE_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// A token bucket in this process (the default store of a `rate_limit`).
#[derive(Debug)]
pub struct MemoryRateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl MemoryRateLimiter {
    /// `per_second` tokens a second, at most `burst` at once.
    pub fn new(per_second: f64, burst: u32) -> MemoryRateLimiter {
        MemoryRateLimiter {
            per_second,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn try_acquire<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Duration> {
        let now = Instant::now();
        let outcome = self
            .buckets
            .lock()
            .map_err(|_| Error::Internal("the rate limiter's lock was poisoned".into()))
            .map(|mut buckets| {
                let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
                let refilled = (*tokens
                    + now.saturating_duration_since(*last).as_secs_f64() * self.per_second)
                    .min(self.burst);
                *last = now;
                if refilled >= 1.0 {
                    *tokens = refilled - 1.0;
                    Duration::ZERO
                } else {
                    *tokens = refilled;
                    Duration::from_secs_f64((1.0 - refilled) / self.per_second)
                }
            });
        Box::pin(async move { outcome })
    }
}

/// Makes a limiter from a store URL, a rate and a burst.
pub type RateLimiterFactory = fn(&str, f64, u32) -> Result<Arc<dyn RateLimiter>>;

static FACTORIES: Schemes<RateLimiterFactory> = Schemes::new();

/// Makes shared limiters of URL scheme `scheme` available to the `rate_limit` setting (a host
/// plugs in an engine, as for certificate stores). A second registration replaces the first.
pub fn register_rate_limiter_scheme(scheme: &'static str, factory: RateLimiterFactory) {
    FACTORIES.register(scheme, factory);
}

/// The limiter a `rate_limit` setting describes; `fallback_store` is the `certificate_store`
/// setting, used when the limit names no store of its own.
pub fn open_rate_limiter(
    settings: &RateLimitSettings,
    fallback_store: Option<&str>,
) -> Result<Arc<dyn RateLimiter>> {
    settings.validate()?;
    let store = settings
        .store
        .as_deref()
        .or(fallback_store)
        .unwrap_or("memory");
    if store == "memory" {
        return Ok(Arc::new(MemoryRateLimiter::new(
            settings.per_second,
            settings.burst(),
        )));
    }
    match FACTORIES.find(store) {
        Some(factory) => factory(store, settings.per_second, settings.burst()),
        None => Err(Error::Configuration(format!(
            "rate_limit.store must be `memory` or the URL of a registered store; got {}",
            Rejected(store)
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn the_memory_bucket_spends_its_burst_then_paces() {
        let limiter = MemoryRateLimiter::new(10.0, 2);
        assert_eq!(limiter.try_acquire("a").await.unwrap(), Duration::ZERO);
        assert_eq!(limiter.try_acquire("a").await.unwrap(), Duration::ZERO);
        let wait = limiter.try_acquire("a").await.unwrap();
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // Buckets are per key.
        assert_eq!(limiter.try_acquire("b").await.unwrap(), Duration::ZERO);
    }

    #[test]
    fn settings_are_checked_and_an_unknown_store_is_not_echoed() {
        let bad = RateLimitSettings {
            per_second: 0.0,
            burst: None,
            store: None,
        };
        assert_eq!(
            bad.validate().unwrap_err().kind(),
            crate::ErrorKind::Configuration
        );
        let unknown = RateLimitSettings {
            per_second: 10.0,
            burst: Some(5),
            store: Some("memcached://:hunter2@127.0.0.1/".into()),
        };
        let e = open_rate_limiter(&unknown, None).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(
            open_rate_limiter(
                &RateLimitSettings {
                    store: None,
                    ..unknown
                },
                None
            )
            .is_ok()
        );
    }
}
